/**
 * Every gpu.js setting the backend uses, in one place. The kernels, the cache, the
 * mode probes and the tests read them from here; nothing else passes settings to gpu.js.
 */

/** The gpu.js modes this backend drives, and `auto`. */
export type GpujsMode = 'auto' | 'webgpu' | 'headlessgl' | 'webasm' | 'cpu';
/** The modes a backend instance actually runs on (`auto` resolves to one of these). */
export type GpujsRunMode = Exclude<GpujsMode, 'auto'>;

export const GPUJS_MODES: readonly GpujsMode[] = ['auto', 'webgpu', 'headlessgl', 'webasm', 'cpu'];

/**
 * The modes of the backend in a browser (`browser.ts`), and `auto`: `webgpu` through the page's
 * own `navigator.gpu`, `webgl` (gpu.js's `webgl2`, else `webgl`), `cpu` (gpu.js's JavaScript kernels).
 */
export type GpujsBrowserMode = 'auto' | 'webgpu' | 'webgl' | 'cpu';
/** The modes a browser backend instance actually runs on. */
export type GpujsBrowserRunMode = Exclude<GpujsBrowserMode, 'auto'>;

export const GPUJS_BROWSER_MODES: readonly GpujsBrowserMode[] = ['auto', 'webgpu', 'webgl', 'cpu'];

/** Every mode a runtime runs on, in Node or in a browser. */
export type GpujsRuntimeMode = GpujsRunMode | GpujsBrowserRunMode;

/** The gpu.js modes tried, in order, for the browser's `webgl` mode. */
export const WEBGL_GPUJS_MODES = ['webgl2', 'webgl'] as const;

/**
 * Settings of every kernel (`gpu.createKernel(source, { ...KERNEL_SETTINGS, output, constants })`).
 *
 * - `precision: 'single'`: float32 storage and arithmetic (never the lossy 8-bit packing).
 * - `pipeline: true`: results stay on the device (GL textures, WebGPU buffers; plain arrays on
 *   webasm/cpu) and pass straight into the next kernel.
 * - `immutable: true`: every call returns a new output. NOTE: with `pipeline: true` and the default
 *   `immutable: false`, a second call of a kernel overwrote the first call's result.
 *   Outputs are deleted explicitly when the last handle on them is released.
 * - `tactic: 'precision'`: highp floats in GLSL.
 * - `fixIntegerDivisionAccuracy: false`: the generated index arithmetic corrects every quotient
 *   itself (see `codegen.ts`), so gpu.js's per-division wrapper is not needed.
 * - `strictIntegers: false`: every number is a float in the kernels; indices stay exact below 2^24.
 * - `dynamicOutput` / `dynamicArguments: false`: one kernel per (primitive, shapes, params); loop
 *   bounds and extents are `constants`, so no loop depends on `loopMaxIterations`.
 * - `loopMaxIterations`: left at gpu.js's default 1000 on purpose. Every loop bound is a constant,
 *   which gpu.js compiles as a literal bound; the trap tests (a reduction of more than 1,000 terms)
 *   fail if a bound ever becomes an argument again.
 */
export const KERNEL_SETTINGS = {
  precision: 'single',
  pipeline: true,
  immutable: true,
  tactic: 'precision',
  fixIntegerDivisionAccuracy: false,
  strictIntegers: false,
  dynamicOutput: false,
  dynamicArguments: false,
  optimizeFloatMemory: false,
} as const;

/**
 * The one kernel that uploads host arrays to the device on GL and WebGPU: its output and argument
 * sizes change per call, so it is the only kernel with dynamic sizes (no loops).
 */
export const UPLOAD_KERNEL_SETTINGS = { ...KERNEL_SETTINGS, dynamicOutput: true, dynamicArguments: true } as const;

/**
 * Whether fused kernels (`compileFused`) round every intermediate value to float32 with
 * `Math.fround`. NOTE: gpu.js's `cpu` mode runs the kernel as JavaScript in float64 and rounds
 * only when it stores an output, so a primitive run alone rounds after every operation and a fused
 * kernel must do the same to give its values. The other modes compute in float32 throughout (GLSL
 * highp, WGSL f32, wasm f32 opcodes; wasm's imported Math functions return f32).
 */
export const FUSED_ROUNDING: { readonly [M in GpujsRuntimeMode]: boolean } = { cpu: true, webasm: false, headlessgl: false, webgl: false, webgpu: false };

/** Most compiled kernels kept per backend instance; the least recently used one is destroyed. */
export const KERNEL_CACHE_SIZE = 512;

/**
 * Largest tensor (elements) a gpu.js kernel reads or writes. Index arithmetic runs in float32 in
 * every gpu.js mode (GLSL, WGSL and wasm alike), which is exact for integers below 2^24.
 */
export const MAX_ELEMENTS = 2 ** 24;

/** Reductions longer than this run in two stages (partial sums, then their sum). */
export const REDUCE_CHUNK = 2048;

/** conv2dBackpropFilter sums over N·H'·W' terms; longer sums are split into partials first. */
export const FILTER_GRAD_CHUNK = 4096;

/**
 * WebGPU: the filter gradient splits its sums further (down to rows of about this many terms) until
 * `FILL_THREADS` partial sums run at once, enough threads for a large GPU (an H100 holds about
 * 270,000 resident threads).
 */
export const FILTER_GRAD_MIN_TERMS = 256;
export const FILL_THREADS = 2 ** 18;

/**
 * At most this many inputs per concat kernel; more are joined in rounds. WebGPU's default limit is
 * 8 storage buffers per shader stage, the output included (gpu.js asks for no more); WebGL 1
 * guarantees 8 texture units.
 */
export const MAX_KERNEL_INPUTS = 6;

/**
 * Renderer names of software rasterisers: always `software: true`, never chosen by Node's `auto`
 * (a browser's `auto` takes one only when no hardware device answers). Matched against GL
 * renderer strings (`WEBGL_debug_renderer_info` in a browser), loaded GL driver libraries and
 * WebGPU adapter descriptions.
 */
export const SOFTWARE_RENDERERS = /llvmpipe|softpipe|swiftshader|lavapipe|swrast|software/i;

/**
 * `WEBGL_debug_renderer_info`'s parameters: the driver's own vendor and renderer strings, which
 * browsers report behind the masked `VENDOR` / `RENDERER` (e.g. "WebKit WebGL").
 */
export const UNMASKED_VENDOR_WEBGL = 0x9245;
export const UNMASKED_RENDERER_WEBGL = 0x9246;

/** Dawn (`webgpu@0.4.0`) options passed to `create()`. */
export const DAWN_FLAGS: readonly string[] = [];

/**
 * Device features the backend asks for in Node where the adapter has them (gpu.js asks for none):
 * `timestamp-query` lets `timeGpu()` time the compute passes on the device.
 */
export const OPTIONAL_DEVICE_FEATURES: readonly string[] = ['timestamp-query'];

/** The WebGPU adapter request. */
export const ADAPTER_OPTIONS = { powerPreference: 'high-performance' } as const;
