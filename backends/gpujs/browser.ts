/**
 * The gpu.js backend in a browser (`createGpujsBrowserBackend`, options `{ mode }`), the
 * counterpart of `backend.ts`'s `createGpujsBackend`: the same kernels, store and fused compilers
 * (`instance.ts`) over gpu.js's browser build, loaded with `import('gpu.js')` (a bundler picks the
 * package's `browser` build). Modes:
 * - `webgpu`: WGSL compute shaders through the page's own `navigator.gpu`;
 * - `webgl`: GLSL through gpu.js's `webgl2` mode, else its `webgl` mode (WebGL 1 with float textures);
 * - `cpu`: gpu.js's JavaScript kernels;
 * - `auto` (default): a hardware WebGPU adapter, else a hardware WebGL renderer, else a software
 *   one (WebGPU, then WebGL: the page wants something that runs, so unlike Node's `auto` it takes a
 *   software renderer, and `describe()` says so), else `cpu`.
 * Software renderers (SwiftShader, llvmpipe, …: `WEBGL_debug_renderer_info`, the adapter's info)
 * are reported as `software: true`. Neither this file nor anything it imports imports Node.
 */
import type { Backend } from '../../core/backend.js';
import { BackendError } from '../../core/errors.js';
import { assembleGpujsBackend, decodeMode, type GpujsBackend, type GpujsInternals } from './instance.js';
import { describeWebGpuAdapter, GPUJS_VERSION, runtimeOn, type GlContext, type GpujsGpu, type Runtime, type RuntimeInfo, type WebGpuAdapter, type WebGpuAdapterInfo, type WebGpuContext, type WebGpuContextClass } from './runtime-shared.js';
import {
  ADAPTER_OPTIONS,
  GPUJS_BROWSER_MODES,
  SOFTWARE_RENDERERS,
  UNMASKED_RENDERER_WEBGL,
  UNMASKED_VENDOR_WEBGL,
  WEBGL_GPUJS_MODES,
  type GpujsBrowserMode,
  type GpujsBrowserRunMode,
} from './settings.js';

// ---------------------------------------------------------------------------------------------
// The page's APIs and gpu.js's browser build, as far as the backend reads them (the project's
// typings have no DOM).

/** A browser's WebGPU adapter: `info` (newer browsers) or `requestAdapterInfo()` (older ones). */
export interface BrowserGpuAdapter extends WebGpuAdapter {
  requestAdapterInfo?(): Promise<WebGpuAdapterInfo>;
}

/** `navigator.gpu`. */
export interface BrowserGpu {
  requestAdapter(options?: object): Promise<BrowserGpuAdapter | null>;
}

/** The part of `navigator` (window or worker) the backend reads. */
export interface BrowserNavigator {
  readonly gpu?: BrowserGpu;
}

/** gpu.js's features of a GL kernel class (measured on its test context). */
export interface GlFeatures {
  readonly isFloatRead?: boolean;
  readonly isTextureFloat?: boolean;
}

/** gpu.js's `WebGL2Kernel` / `WebGLKernel`: a test context on a canvas or an OffscreenCanvas. */
export interface GlKernelClass {
  readonly name: string;
  readonly isSupported: boolean;
  readonly testContext: GlContext | null;
  readonly features: GlFeatures | null;
}

/** The parts of gpu.js (browser or Node build) this file uses. */
export interface GpujsBrowserLibrary {
  readonly GPU: new (settings: { mode: string }) => GpujsGpu;
  readonly CPUKernel: { readonly name: string };
  readonly WebGLKernel: GlKernelClass;
  readonly WebGL2Kernel: GlKernelClass;
  readonly WebGPUKernel: { readonly name: string };
  readonly WebGPUContext: WebGpuContextClass;
}

function isLibrary(v: unknown): v is GpujsBrowserLibrary {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  const lib = v as Partial<Record<keyof GpujsBrowserLibrary, unknown>>;
  return typeof lib.GPU === 'function' && typeof lib.WebGPUContext === 'function' && typeof lib.WebGL2Kernel === 'function' && typeof lib.WebGLKernel === 'function';
}

/**
 * gpu.js's exports from what `import('gpu.js')` gave: the module itself (Node build, named
 * exports), its `default` (`module.exports`: the Node build's object, or the browser build's
 * `GPU` class, which carries every export as a static property) or their `GPU`. Throws a
 * BackendError when none of them is gpu.js.
 */
export function gpujsLibraryOf(mod: unknown): GpujsBrowserLibrary {
  const m = (typeof mod === 'object' || typeof mod === 'function') && mod !== null ? (mod as { default?: unknown; GPU?: unknown }) : {};
  const d = (typeof m.default === 'object' || typeof m.default === 'function') && m.default !== null ? (m.default as { GPU?: unknown }) : {};
  for (const candidate of [mod, m.default, m.GPU, d.GPU]) if (isLibrary(candidate)) return candidate;
  throw new BackendError('setBackend', 'name', `import('gpu.js') gave no gpu.js ${GPUJS_VERSION} exports (GPU, WebGPUContext, WebGL2Kernel, WebGLKernel on the module, its default or its GPU): is the bundle's gpu.js another version?`);
}

let library: Promise<GpujsBrowserLibrary> | undefined;

/** gpu.js, loaded on first use. Without the package, a BackendError says what to install. */
export function loadGpujsBrowser(): Promise<GpujsBrowserLibrary> {
  library ??= import('gpu.js').then(
    (mod: unknown) => gpujsLibraryOf(mod),
    (e: unknown) => {
      library = undefined;
      throw new BackendError('setBackend', 'name', `the gpujs backend needs the gpu.js package, which did not load (${String((e as Error)?.message ?? e).split('\n')[0]}): run \`npm install gpu.js@${GPUJS_VERSION}\` and bundle it with the page`);
    },
  );
  return library;
}

// ---------------------------------------------------------------------------------------------
// Probes (functions of what they are given: tests pass fakes)

/** A device the page offers (its name, and whether it is a software renderer), or why there is none. */
export type DeviceProbe = { readonly ok: true; readonly renderer: string; readonly software: boolean } | { readonly ok: false; readonly problem: string };

/** A WebGL probe: which gpu.js GL mode runs (`webgl2` before `webgl`). */
export type WebGlProbe = (DeviceProbe & { readonly ok: false }) | (DeviceProbe & { readonly ok: true; readonly gpujsMode: (typeof WEBGL_GPUJS_MODES)[number] });

/** An adapter's info: `info`, else `requestAdapterInfo()`, with the adapter's own fallback flag. */
async function adapterInfo(adapter: BrowserGpuAdapter): Promise<WebGpuAdapterInfo | undefined> {
  let info = adapter.info;
  if (info === undefined && typeof adapter.requestAdapterInfo === 'function') {
    try {
      info = await adapter.requestAdapterInfo();
    } catch {
      // the name stays unknown
    }
  }
  return adapter.isFallbackAdapter ? { ...info, isFallbackAdapter: true } : info;
}

/** A browser's WebGPU adapter described (`software` for the fallback adapter and software drivers). */
export async function describeBrowserAdapter(adapter: BrowserGpuAdapter): Promise<{ renderer: string; software: boolean }> {
  return describeWebGpuAdapter(await adapterInfo(adapter), 'WebGPU');
}

/** Whether `navigator.gpu` gives an adapter, and which. Never throws. */
export async function probeBrowserWebGpu(nav: BrowserNavigator | undefined): Promise<DeviceProbe> {
  const gpu = nav?.gpu;
  if (gpu === undefined || gpu === null || typeof gpu.requestAdapter !== 'function') return { ok: false, problem: 'this browser has no WebGPU (navigator.gpu is missing; it needs a secure context: https or localhost)' };
  let adapter: BrowserGpuAdapter | null;
  try {
    adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  } catch (e) {
    return { ok: false, problem: `navigator.gpu.requestAdapter() failed: ${String((e as Error)?.message ?? e)}` };
  }
  if (!adapter) return { ok: false, problem: 'navigator.gpu gave no adapter (WebGPU is disabled or blocklisted here; headless Chromium has none by default)' };
  return { ok: true, ...(await describeBrowserAdapter(adapter)) };
}

/**
 * A GL context's renderer: the driver's own name from `WEBGL_debug_renderer_info` (browsers mask
 * `RENDERER`). A renderer that cannot be shown to be hardware (no such extension) counts as software.
 */
export function describeWebGlContext(ctx: GlContext, version: string): { renderer: string; software: boolean } {
  const ext = ctx.getExtension?.('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL?: number; UNMASKED_VENDOR_WEBGL?: number } | null | undefined;
  const reported = `${String(ctx.getParameter(ctx.RENDERER))} (${String(ctx.getParameter(ctx.VERSION))})`;
  if (!ext) return { renderer: `${version}: ${reported}, driver unknown (no WEBGL_debug_renderer_info)`, software: true };
  const vendor = String(ctx.getParameter(ext.UNMASKED_VENDOR_WEBGL ?? UNMASKED_VENDOR_WEBGL) ?? '');
  const unmasked = String(ctx.getParameter(ext.UNMASKED_RENDERER_WEBGL ?? UNMASKED_RENDERER_WEBGL) ?? '');
  const name = [unmasked, vendor, reported].find((s) => s.length > 0 && s !== 'null')!;
  return { renderer: `${version}: ${name}`, software: SOFTWARE_RENDERERS.test(name) || SOFTWARE_RENDERERS.test(reported) };
}

/** Reads a GL class's support without letting a failing test context escape. */
function glSupport(cls: GlKernelClass): { supported: boolean; error?: string } {
  try {
    return { supported: cls.isSupported === true };
  } catch (e) {
    return { supported: false, error: String((e as Error)?.message ?? e) };
  }
}

/**
 * Whether gpu.js can run float32 GL kernels here: WebGL 2 (gpu.js `webgl2`), else WebGL 1 with
 * float textures (`webgl`), each needing float reads; which renderer. Never throws.
 */
export function probeBrowserWebGl(gpujs: Pick<GpujsBrowserLibrary, 'WebGL2Kernel' | 'WebGLKernel'>): WebGlProbe {
  const problems: string[] = [];
  const classes = [
    { gpujsMode: 'webgl2', cls: gpujs.WebGL2Kernel, version: 'WebGL 2' },
    { gpujsMode: 'webgl', cls: gpujs.WebGLKernel, version: 'WebGL 1' },
  ] as const;
  for (const { gpujsMode, cls, version } of classes) {
    const support = glSupport(cls);
    if (!support.supported || cls.testContext === null) {
      problems.push(`${version}: ${support.error ?? 'no context (no WebGL, or neither a document nor OffscreenCanvas)'}`);
      continue;
    }
    const features = cls.features;
    if (gpujsMode === 'webgl' && features?.isTextureFloat !== true) {
      problems.push(`${version}: no float textures (OES_texture_float)`);
      continue;
    }
    if (features?.isFloatRead !== true) {
      problems.push(`${version}: float32 results cannot be read back${gpujsMode === 'webgl2' ? ' (EXT_color_buffer_float)' : ''}`);
      continue;
    }
    return { ok: true, gpujsMode, ...describeWebGlContext(cls.testContext, version) };
  }
  return { ok: false, problem: problems.join('; ') };
}

/** How the modes are probed: `browserProbes` for the page, fakes in tests. */
export interface BrowserProbes {
  webgpu(): Promise<DeviceProbe>;
  webgl(): WebGlProbe;
}

/** The probes of this page (or worker) over gpu.js. */
export function browserProbes(gpujs: GpujsBrowserLibrary, nav: BrowserNavigator | undefined = (globalThis as { navigator?: BrowserNavigator }).navigator): BrowserProbes {
  return { webgpu: () => probeBrowserWebGpu(nav), webgl: () => probeBrowserWebGl(gpujs) };
}

/** A mode chosen: its probe (none for `cpu`) and, for `auto`, why the others were passed over. */
export interface BrowserModeChoice {
  readonly mode: GpujsBrowserRunMode;
  readonly reasons: readonly string[];
  readonly webgl?: WebGlProbe & { readonly ok: true };
  /** `auto` took a software renderer for want of a hardware one. */
  readonly softwareByAuto: boolean;
}

/**
 * Resolves the asked mode over the probes. `auto`: hardware WebGPU, else hardware WebGL, else
 * software WebGPU, else software WebGL, else `cpu` (WebGL is probed only when WebGPU is not
 * hardware). An explicit `webgpu` or `webgl` that the page cannot run throws a BackendError
 * naming the mode and why.
 */
export async function resolveBrowserMode(asked: GpujsBrowserMode, probes: BrowserProbes): Promise<BrowserModeChoice> {
  const refuse = (mode: string, problem: string): never => {
    throw new BackendError('setBackend', 'options.mode', `${mode}: ${problem} (modes of gpujs in a browser: ${GPUJS_BROWSER_MODES.join(', ')})`);
  };
  switch (asked) {
    case 'cpu':
      return { mode: 'cpu', reasons: [], softwareByAuto: false };
    case 'webgpu': {
      const p = await probes.webgpu();
      if (!p.ok) return refuse('webgpu', p.problem);
      return { mode: 'webgpu', reasons: [], softwareByAuto: false };
    }
    case 'webgl': {
      const p = probes.webgl();
      if (!p.ok) return refuse('webgl', p.problem);
      return { mode: 'webgl', reasons: [], webgl: p, softwareByAuto: false };
    }
    case 'auto':
      break;
  }
  const reasons: string[] = [];
  const gpu = await probes.webgpu();
  if (gpu.ok && !gpu.software) return { mode: 'webgpu', reasons, softwareByAuto: false };
  reasons.push(gpu.ok ? `webgpu: ${gpu.renderer} is a software adapter` : `webgpu: ${gpu.problem}`);
  const gl = probes.webgl();
  if (gl.ok && !gl.software) return { mode: 'webgl', reasons, webgl: gl, softwareByAuto: false };
  if (gl.ok) reasons.push(`webgl: ${gl.renderer} is a software renderer`);
  else reasons.push(`webgl: ${gl.problem}`);
  // NOTE: no hardware device: a page still wants something faster than JavaScript kernels.
  if (gpu.ok) return { mode: 'webgpu', reasons, softwareByAuto: true };
  if (gl.ok) return { mode: 'webgl', reasons, webgl: gl, softwareByAuto: true };
  return { mode: 'cpu', reasons, softwareByAuto: false };
}

/**
 * The renderer `describe()` reports for a choice: the device's name, and when `auto` took a
 * software renderer, that it did and why.
 */
export function chosenRenderer(renderer: string, choice: Pick<BrowserModeChoice, 'softwareByAuto'>): string {
  return choice.softwareByAuto ? `${renderer} (a software renderer: auto took it as no hardware GPU answered)` : renderer;
}

// ---------------------------------------------------------------------------------------------
// The runtime and the backend

/** Open WebGPU runtimes of this page: they share gpu.js's one device (`WebGPUContext`). */
let webGpuUsers = 0;

/** Opens the runtime of a chosen mode. Throws a BackendError naming what failed. */
async function openBrowserRuntime(gpujs: GpujsBrowserLibrary, choice: BrowserModeChoice): Promise<Runtime> {
  // NOTE: a page's bundler may minify gpu.js's class names (without `keepNames`): the kernel
  // classes are named by identity, not by `constructor.name`.
  const classNames = new Map<unknown, string>([
    [gpujs.CPUKernel, 'CPUKernel'],
    [gpujs.WebGLKernel, 'WebGLKernel'],
    [gpujs.WebGL2Kernel, 'WebGL2Kernel'],
    [gpujs.WebGPUKernel, 'WebGPUKernel'],
  ]);
  const start = (mode: string): GpujsGpu => {
    try {
      return new gpujs.GPU({ mode });
    } catch (e) {
      throw new BackendError('setBackend', 'options.mode', `${choice.mode}: gpu.js could not start mode '${mode}': ${String((e as Error)?.message ?? e)}`);
    }
  };
  switch (choice.mode) {
    case 'cpu': {
      const info: RuntimeInfo = { mode: 'cpu', kernelClass: 'CPUKernel', renderer: 'JavaScript (gpu.js CPUKernel)', software: true, classNames };
      return runtimeOn(start('cpu'), info);
    }
    case 'webgl': {
      const gl = choice.webgl!;
      const cls = gl.gpujsMode === 'webgl2' ? gpujs.WebGL2Kernel : gpujs.WebGLKernel;
      const info: RuntimeInfo = { mode: 'webgl', kernelClass: classNames.get(cls)!, renderer: chosenRenderer(gl.renderer, choice), software: gl.software, classNames };
      return runtimeOn(start(gl.gpujsMode), info);
    }
    case 'webgpu': {
      let described: { renderer: string; software: boolean };
      let ctx: WebGpuContext;
      try {
        // the device gpu.js's kernels share, acquired once now (and its adapter described)
        ctx = await gpujs.WebGPUContext.acquire();
        described = await describeBrowserAdapter(ctx.adapter as BrowserGpuAdapter);
      } catch (e) {
        throw new BackendError('setBackend', 'options.mode', `webgpu: gpu.js could not open a WebGPU device: ${String((e as Error)?.message ?? e)}`);
      }
      webGpuUsers++;
      const info: RuntimeInfo = { mode: 'webgpu', kernelClass: 'WebGPUKernel', renderer: chosenRenderer(described.renderer, choice), software: described.software, classNames };
      const released = async (): Promise<void> => {
        webGpuUsers--;
        if (webGpuUsers === 0) await gpujs.WebGPUContext.destroy();
      };
      try {
        return await runtimeOn(start('webgpu'), info, released, ctx);
      } catch (e) {
        await released();
        throw e;
      }
    }
  }
}

/**
 * The browser's gpu.js backend as the registry holds it: a `Backend` (opaque handles), with the
 * introspection and shutdown of `GpujsBackend`.
 */
export type GpujsBrowserBackend = Backend &
  Pick<GpujsBackend<GpujsBrowserRunMode>, 'mode' | 'expectedKernelClass' | 'autoReasons' | 'stats' | 'resetPrimStats' | 'settle' | 'dispose'>;

/**
 * Creates the gpu.js backend of a page or worker (options `{ mode }`: `auto` (default), `webgpu`,
 * `webgl`, `cpu`; see the file's comment for what `auto` picks). Awaits gpu.js's loading and, on
 * WebGPU, the adapter and device. `describe()` reports the mode, the kernel class, the renderer
 * and `software`; `autoReasons` why `auto` passed over the faster modes. Throws a BackendError for
 * an unknown option or mode, a mode this page cannot run, or a missing gpu.js.
 * `probes` replaces the page's probes (tests).
 */
export async function createGpujsBrowserBackend(
  options: Readonly<Record<string, unknown>> = {},
  internals: GpujsInternals & { readonly probes?: BrowserProbes } = {},
): Promise<GpujsBrowserBackend> {
  const asked = decodeMode(options, GPUJS_BROWSER_MODES);
  const gpujs = await loadGpujsBrowser();
  const choice = await resolveBrowserMode(asked, internals.probes ?? browserProbes(gpujs));
  const rt = await openBrowserRuntime(gpujs, choice);
  // NOTE: the core treats handles as opaque (`Backend<unknown>`): the kernels only ever receive
  // handles this backend made.
  return assembleGpujsBackend(rt, choice.mode, choice.reasons, internals) as GpujsBackend<GpujsBrowserRunMode> as unknown as GpujsBrowserBackend;
}
