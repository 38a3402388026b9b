/**
 * The gpu.js runtime of one backend instance: loads gpu.js (and, for WebGPU, `navigator.gpu` from
 * the pinned `webgpu@0.4.0`), resolves the mode, and moves values between the host and the
 * device. Only this file and `kernels.ts` talk to gpu.js; the settings come from `settings.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BackendError } from '../../core/errors.js';
import { ADAPTER_OPTIONS, DAWN_FLAGS, GPUJS_MODES, KERNEL_SETTINGS, SOFTWARE_RENDERERS, UPLOAD_KERNEL_SETTINGS, type GpujsMode, type GpujsRunMode } from './settings.js';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// The parts of gpu.js this backend uses (gpu.js's own typings do not cover its newer modes).

/** gpu.js's kernel object (behind the callable shortcut). */
export interface GpujsKernelObject {
  readonly constructor: { readonly name: string };
  readonly fallbackReason?: string | null;
  readonly context?: unknown;
  readonly compiledFragmentShader?: string;
  readonly compiledSource?: string;
}

/** A compiled kernel: callable, with the kernel that actually runs behind it. */
export interface GpujsKernel {
  (...args: unknown[]): unknown;
  readonly kernel: GpujsKernelObject;
  setOutput(output: number[]): GpujsKernel;
  destroy(removeCanvasReferences?: boolean): void;
}

/** A `GPU` instance. */
export interface GpujsGpu {
  createKernel(source: string, settings: Record<string, unknown>): GpujsKernel;
  destroy(): Promise<void>;
}

/** A GL texture or a WebGPU buffer handed out by a pipeline kernel. */
export interface DeviceResult {
  toArray(): unknown;
  delete(): void;
}

interface WebGpuAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly device?: string;
  readonly isFallbackAdapter?: boolean;
}
interface WebGpuAdapter {
  readonly info?: WebGpuAdapterInfo;
}
interface WebGpuContext {
  readonly adapter: WebGpuAdapter;
  readonly device: unknown;
}

interface GpujsModule {
  readonly GPU: new (settings: { mode: string }) => GpujsGpu;
  readonly HeadlessGLKernel: { readonly isSupported: boolean; readonly testContext: GlContext | null };
  readonly WebAssemblyKernel: { readonly isSupported: boolean; readonly isSIMDSupported?: boolean };
  readonly WebGPUContext: { acquire(): Promise<WebGpuContext>; destroy(): Promise<void> };
}

interface GlContext {
  readonly RENDERER: number;
  readonly VERSION: number;
  getParameter(p: number): unknown;
}

let gpujsModule: GpujsModule | undefined;

/** The gpu.js and Dawn versions this backend is built and tested against (peer dependencies of the package). */
export const GPUJS_VERSION = '2.24.1';
export const WEBGPU_VERSION = '0.4.0';

/** Whether `e` says that `name` itself (not something it needs) is not installed. */
function isMissingPackage(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code === 'MODULE_NOT_FOUND' || err?.code === 'ERR_MODULE_NOT_FOUND') && new RegExp(`['"]${name.replace('.', '\\.')}['"]`).test(err.message);
}

/**
 * gpu.js, loaded on first use (it loads the optional `gl` build as it starts). gpu.js is an
 * optional peer dependency of the package: without it, a BackendError says what to install.
 */
export function loadGpujs(): GpujsModule {
  if (gpujsModule) return gpujsModule;
  try {
    gpujsModule = require('gpu.js') as GpujsModule;
  } catch (e) {
    if (!isMissingPackage(e, 'gpu.js')) throw e;
    throw new BackendError('setBackend', 'name', `the gpujs backend needs the gpu.js package, which is not installed: run \`npm install gpu.js@${GPUJS_VERSION}\` (and \`npm install webgpu@${WEBGPU_VERSION}\` for WebGPU)`);
  }
  return gpujsModule;
}

// ---------------------------------------------------------------------------------------------
// Probes

/** Why headless GL cannot run here, or `undefined` when it can. */
export function headlessGlProblem(): string | undefined {
  try {
    require.resolve('gl');
    require('gl');
  } catch (e) {
    return `the optional dependency gl@8.1.6 is not built (${(e as Error).message.split('\n')[0]}): ` +
      'install libxi-dev libxext-dev libx11-dev libglu1-mesa-dev pkg-config, then `npm ci` (or `npm rebuild gl`)';
  }
  if (!loadGpujs().HeadlessGLKernel.isSupported) {
    return `gl@8.1.6 is built but no GL context could be created${process.env['DISPLAY'] ? ` on DISPLAY=${process.env['DISPLAY']}` : ' (no DISPLAY: run under `xvfb-run -a`)'}`;
  }
  return undefined;
}

/**
 * The GL renderer behind headless-gl. headless-gl reports only "ANGLE" and lacks
 * WEBGL_debug_renderer_info, so the driver is read from the libraries loaded into this process.
 */
export function glRenderer(): { renderer: string; software: boolean } {
  const ctx = loadGpujs().HeadlessGLKernel.testContext;
  const reported = ctx ? `${String(ctx.getParameter(ctx.RENDERER))} (${String(ctx.getParameter(ctx.VERSION))})` : 'unknown';
  let libs: string[] = [];
  try {
    libs = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '').filter((p) => /_dri\.so|libgallium|libGLX_|libEGL_|nvidia-glcore|nvidia-eglcore/i.test(p)))];
  } catch {
    // not Linux: only the reported name is known
  }
  const names = libs.map((p) => p.split('/').pop()!);
  const forced = process.env['LIBGL_ALWAYS_SOFTWARE'] === '1' || process.env['LIBGL_ALWAYS_SOFTWARE'] === 'true';
  const hardware = names.some((n) => /nvidia|radeonsi|iris|i965|amdgpu|nouveau|crocus|zink/i.test(n));
  const softwareLib = names.some((n) => /swrast|llvmpipe|softpipe|swiftshader/i.test(n));
  const gallium = process.env['GALLIUM_DRIVER'];
  const driver = names.length > 0 ? names.join(', ') : 'driver unknown';
  const renderer = `${reported} on ${driver}${softwareLib ? ` (Mesa ${gallium ?? 'llvmpipe'})` : ''}`;
  // NOTE: a renderer that cannot be shown to be hardware counts as software: it must never pass
  // as a GPU run.
  const software = forced || softwareLib || SOFTWARE_RENDERERS.test(reported) || !hardware;
  return { renderer, software };
}

interface WebGpuProbe {
  readonly adapter: WebGpuAdapter | null;
  readonly problem?: string;
  /** Dawn was not started: there is no Vulkan loader. */
  readonly noLoader?: boolean;
}

/** The Vulkan loader Dawn opens on Linux. */
const VULKAN_LOADER = 'libvulkan.so.1';

/**
 * Whether the Vulkan loader (`libvulkan.so.1`), which Dawn needs for WebGPU, can be found on this
 * Linux machine: in `LD_LIBRARY_PATH`, the usual library folders or the loader's cache. Other
 * platforms answer true (Dawn then decides). Without it Dawn prints its own multi-line warning
 * ("Couldn't load Vulkan") on stderr before failing, so the backend does not start Dawn at all:
 * `webgpu` mode is refused and `auto` passes over WebGPU, saying why in `autoReasons`.
 */
export function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' }[process.arch as string] ?? '';
  const dirs = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== ''), '/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib', `/lib/${triplet}`, `/usr/lib/${triplet}`];
  if (dirs.some((d) => existsSync(join(d, VULKAN_LOADER)))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes(VULKAN_LOADER);
  } catch {
    return false;
  }
}

let navigatorInstalled = false;

/**
 * Defines `navigator.gpu` from the pinned `webgpu@0.4.0` (Dawn) before any gpu.js WebGPU kernel
 * exists. gpu.js's own nested webgpu@0.2.9 is never loaded (npm override).
 */
async function installNavigatorGpu(): Promise<string | undefined> {
  if (navigatorInstalled) return undefined;
  let dawn: { create(flags: readonly string[]): unknown; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    if (isMissingPackage(e, 'webgpu')) return `the webgpu package (Dawn) is not installed: run \`npm install webgpu@${WEBGPU_VERSION}\``;
    return `webgpu@${WEBGPU_VERSION} (Dawn) did not load: ${(e as Error).message.split('\n')[0]}`;
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  const gpu = dawn.create(DAWN_FLAGS);
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  navigatorInstalled = true;
  return undefined;
}

/** Open WebGPU runtimes: they share gpu.js's one device (`WebGPUContext`). */
let webGpuUsers = 0;

/**
 * Drops `navigator.gpu` and the WebGPU device once no runtime uses them: Dawn keeps Node alive
 * while either is referenced.
 */
export async function releaseWebGpu(): Promise<void> {
  if (!navigatorInstalled || webGpuUsers > 0) return;
  await loadGpujs().WebGPUContext.destroy();
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator) delete g.navigator.gpu;
  navigatorInstalled = false;
}

/** Asks Dawn for an adapter; without a Vulkan loader, answers without starting Dawn. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  if (!navigatorInstalled && !vulkanLoaderPresent()) {
    return { adapter: null, noLoader: true, problem: `no WebGPU adapter: this machine has no Vulkan loader (${VULKAN_LOADER}), which WebGPU needs` };
  }
  const problem = await installNavigatorGpu();
  if (problem) return { adapter: null, problem };
  const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(o: object): Promise<WebGpuAdapter | null> } } }).navigator.gpu;
  const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  if (!adapter) {
    await releaseWebGpu();
    return { adapter: null, problem: 'no WebGPU adapter answered (Dawn found no Vulkan device; on a CPU-only machine, bench/device/lavapipe.sh provides a software Vulkan driver)' };
  }
  return { adapter };
}

function describeAdapter(info: WebGpuAdapterInfo | undefined): { renderer: string; software: boolean } {
  const renderer = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s && s.length > 0).join(' ') || 'WebGPU adapter';
  const software = Boolean(info?.isFallbackAdapter) || SOFTWARE_RENDERERS.test(renderer);
  return { renderer: `Dawn: ${renderer}`, software };
}

// ---------------------------------------------------------------------------------------------
// The runtime

/** What `describe()` reports about the device. */
export interface RuntimeInfo {
  readonly mode: GpujsRunMode;
  readonly kernelClass: string;
  readonly renderer: string;
  readonly software: boolean;
}

/** One gpu.js instance in one mode, with host ↔ device transfers. */
export interface Runtime {
  readonly info: RuntimeInfo;
  readonly gpu: GpujsGpu;
  /** Kernels return Promises (WebGPU): handles may be pending. */
  readonly async: boolean;
  /** Device values are plain Float32Arrays (webasm, cpu): uploads and fills need no kernel. */
  readonly hostMemory: boolean;
  /** Host values to a device value (a pending one on WebGPU). */
  upload(values: Float32Array): unknown;
  /** A device value back to the host. */
  read(value: unknown): Promise<Float32Array>;
  /** Synchronous read where the mode allows it. */
  readSync?(value: unknown): Float32Array;
  /** Frees a device value. */
  free(value: unknown): void;
  /**
   * Whether a device value that a kernel or an upload just returned occupies storage created for
   * it, rather than storage gpu.js reused (GL kernels render into their own texture again once
   * the previous result on it was deleted). Call once per value.
   */
  fresh(value: unknown): boolean;
  /** WebGPU queue submissions made by uploads and reads (kernel runs are counted by the store). */
  transferSubmits(): number;
  /** Releases the gpu.js instance (and, for WebGPU, the device: Node cannot exit while it lives). */
  dispose(): Promise<void>;
}

function asFloat32(v: unknown, n: number): Float32Array {
  if (v instanceof Float32Array) return v.length === n ? v : v.slice(0, n);
  if (ArrayBuffer.isView(v)) return Float32Array.from(v as unknown as ArrayLike<number>).slice(0, n);
  throw new BackendError('read', 'handle', `gpu.js returned ${Object.prototype.toString.call(v)} where a flat Float32Array was expected`);
}

/**
 * `fresh` over the storage objects that `storageOf` finds behind device values: a storage object
 * not seen before was created for this value.
 */
function freshnessBy(storageOf: (value: unknown) => unknown): (value: unknown) => boolean {
  const seen = new WeakSet<object>();
  return (value) => {
    const storage = storageOf(value);
    if (typeof storage !== 'object' || storage === null) return true;
    if (seen.has(storage)) return false;
    seen.add(storage);
    return true;
  };
}

function isDeviceResult(v: unknown): v is DeviceResult {
  return typeof v === 'object' && v !== null && typeof (v as DeviceResult).toArray === 'function' && typeof (v as DeviceResult).delete === 'function';
}

/** Opens a runtime in an explicit mode. Throws a BackendError naming what is missing. */
export async function openRuntime(mode: GpujsRunMode): Promise<Runtime> {
  const gpujs = loadGpujs();
  let info: { renderer: string; software: boolean };
  switch (mode) {
    case 'cpu':
      info = { renderer: 'JavaScript (gpu.js CPUKernel)', software: true };
      break;
    case 'webasm':
      if (!gpujs.WebAssemblyKernel.isSupported) throw new BackendError('setBackend', 'options.mode', 'webasm: WebAssembly is not available in this runtime');
      info = { renderer: `WebAssembly${gpujs.WebAssemblyKernel.isSIMDSupported ? ' f32x4 SIMD' : ''} on the CPU`, software: true };
      break;
    case 'headlessgl': {
      const problem = headlessGlProblem();
      if (problem) throw new BackendError('setBackend', 'options.mode', `headlessgl: ${problem}`);
      info = glRenderer();
      break;
    }
    case 'webgpu': {
      const probe = await probeWebGpu();
      if (!probe.adapter) {
        const advice = probe.noLoader ? ` (install the GPU's Vulkan driver, or choose another mode: ${GPUJS_MODES.join(', ')})` : '';
        throw new BackendError('setBackend', 'options.mode', `webgpu: ${probe.problem}${advice}`);
      }
      // the device gpu.js's kernels share, acquired once now (and its adapter described)
      const ctx = await gpujs.WebGPUContext.acquire();
      info = describeAdapter(ctx.adapter.info);
      webGpuUsers++;
      break;
    }
  }
  const gpu = new gpujs.GPU({ mode });
  const kernelClass = { cpu: 'CPUKernel', webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel', webgpu: 'WebGPUKernel' }[mode];
  const runtimeInfo: RuntimeInfo = { mode, kernelClass, ...info };

  if (mode === 'cpu' || mode === 'webasm') {
    return {
      info: runtimeInfo,
      gpu,
      async: false,
      hostMemory: true,
      upload: (values) => values,
      read: async (v) => (v as Float32Array).slice(),
      readSync: (v) => (v as Float32Array).slice(),
      free: () => undefined,
      fresh: freshnessBy((v) => (ArrayBuffer.isView(v) ? v.buffer : v)),
      transferSubmits: () => 0,
      dispose: () => gpu.destroy(),
    };
  }

  // GL and WebGPU: host arrays go up through one identity kernel with dynamic sizes.
  const uploader = gpu.createKernel('function(a) { return a[this.thread.x]; }', { ...UPLOAD_KERNEL_SETTINGS, output: [1] });
  const upload = (values: Float32Array): unknown => {
    uploader.setOutput([values.length]);
    return uploader(values);
  };
  // NOTE: build the upload kernel now. On WebGPU a kernel's first call compiles asynchronously and
  // runs later with whatever output size was set by then; once built, a call submits at once.
  const warm = (await upload(new Float32Array([0, 0]))) as DeviceResult;
  warm.delete();
  if (mode === 'headlessgl') {
    const readSync = (v: unknown): Float32Array => {
      if (!isDeviceResult(v)) throw new BackendError('read', 'handle', 'not a GL texture');
      const out = v.toArray();
      return out instanceof Float32Array ? out.slice() : asFloat32(out, (out as ArrayLike<number>).length);
    };
    return {
      info: runtimeInfo,
      gpu,
      async: false,
      hostMemory: false,
      upload,
      read: async (v) => readSync(v),
      readSync,
      free: (v) => (v as DeviceResult).delete(),
      // a gpu.js GLTexture result wraps a WebGLTexture (`texture`) that clones share
      fresh: freshnessBy((v) => (typeof v === 'object' && v !== null ? (v as { texture?: unknown }).texture : undefined)),
      transferSubmits: () => 0,
      dispose: async () => {
        uploader.destroy();
        await gpu.destroy();
      },
    };
  }
  // NOTE: gpu.js submits once per WebGPU kernel run (the uploads included) and once per read of a
  // pipeline buffer (`readBufferResult`).
  let submits = 0;
  return {
    info: runtimeInfo,
    gpu,
    async: true,
    hostMemory: false,
    upload: (values) => {
      submits++;
      return upload(values);
    },
    read: async (v) => {
      submits++;
      const out = await (v as DeviceResult).toArray();
      return out instanceof Float32Array ? out : asFloat32(out, (out as ArrayLike<number>).length);
    },
    free: (v) => (v as DeviceResult).delete(),
    // NOTE: an immutable pipeline kernel creates a new GPUBuffer for every run (gpu.js
    // `_ensureOutputBuffer`), so every WebGPU result is fresh storage.
    fresh: () => true,
    transferSubmits: () => submits,
    dispose: async () => {
      uploader.destroy();
      await gpu.destroy();
      webGpuUsers--;
      await releaseWebGpu();
    },
  };
}

/**
 * Resolves `auto`: a WebGPU adapter that is not software, else a GL context that is not
 * software, else `webasm`. Software renderers are never chosen. Without a Vulkan loader WebGPU is
 * passed over without starting Dawn (so nothing native is printed), the reason in `reasons`.
 */
export async function resolveMode(mode: GpujsMode): Promise<{ mode: GpujsRunMode; reasons: string[] }> {
  if (mode !== 'auto') return { mode, reasons: [] };
  const reasons: string[] = [];
  const probe = await probeWebGpu();
  if (probe.adapter) {
    const d = describeAdapter(probe.adapter.info);
    if (!d.software) return { mode: 'webgpu', reasons };
    reasons.push(`webgpu: ${d.renderer} is a software adapter`);
    await releaseWebGpu();
  } else reasons.push(`webgpu: ${probe.problem}`);
  const gl = headlessGlProblem();
  if (gl === undefined) {
    const r = glRenderer();
    if (!r.software) return { mode: 'headlessgl', reasons };
    reasons.push(`headlessgl: ${r.renderer} is a software renderer`);
  } else reasons.push(`headlessgl: ${gl}`);
  return { mode: 'webasm', reasons };
}

/** The settings of every compute kernel, with its output size and constants. */
export function kernelSettings(output: number, constants: Readonly<Record<string, number>>): Record<string, unknown> {
  return { ...KERNEL_SETTINGS, output: [output], constants: { ...constants } };
}
