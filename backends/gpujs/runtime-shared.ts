/**
 * The part of the gpu.js runtime that Node and a browser share: the parts of gpu.js the backend
 * uses, the `Runtime` of one backend instance, and the runtime built over one gpu.js instance in a
 * mode (host ↔ device transfers). Nothing here imports Node: `runtime.ts` (Node: headless GL,
 * Dawn) and `browser.ts` (a page's WebGL and WebGPU) load gpu.js, probe the modes, and call
 * `runtimeOn`. The settings come from `settings.ts`.
 */
import { BackendError } from '../../core/errors.js';
import { WebGpuQueue, type GpuDeviceLike, type WebGpuKernelLike, type WebGpuQueueStats, type WebGpuValue } from './webgpu-queue.js';
import { KERNEL_SETTINGS, SOFTWARE_RENDERERS, UPLOAD_KERNEL_SETTINGS, type GpujsRuntimeMode } from './settings.js';

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

/** A WebGPU adapter's `info` (Dawn and browsers alike; browsers may leave fields empty). */
export interface WebGpuAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly device?: string;
  readonly isFallbackAdapter?: boolean;
}

/** A WebGPU adapter, as far as the backend reads it. */
export interface WebGpuAdapter {
  readonly info?: WebGpuAdapterInfo;
  /** Older browsers: the adapter's own flag (later moved into `info`). */
  readonly isFallbackAdapter?: boolean;
}

/** gpu.js's shared WebGPU device and the adapter it came from. */
export interface WebGpuContext {
  readonly adapter: WebGpuAdapter;
  readonly device: unknown;
  /** Set by gpu.js once the device is lost. */
  readonly isLost?: boolean;
}

/** gpu.js's `WebGPUContext`: one device shared by every WebGPU kernel of the process or page. */
export interface WebGpuContextClass {
  acquire(): Promise<WebGpuContext>;
  destroy(): Promise<void>;
}

/** A GL context, as far as the backend reads it. */
export interface GlContext {
  readonly RENDERER: number;
  readonly VERSION: number;
  getParameter(p: number): unknown;
  /** Absent from headless-gl's test context; browsers have it (`WEBGL_debug_renderer_info`). */
  getExtension?(name: string): unknown;
}

/** The gpu.js and Dawn versions this backend is built and tested against (peer dependencies of the package). */
export const GPUJS_VERSION = '2.24.1';
export const WEBGPU_VERSION = '0.4.0';

/**
 * A WebGPU adapter's name and whether it is a software adapter (the fallback adapter, or a name
 * such as SwiftShader or lavapipe); `label` names the WebGPU implementation (`Dawn`, `WebGPU`).
 */
export function describeWebGpuAdapter(info: WebGpuAdapterInfo | undefined, label: string): { renderer: string; software: boolean } {
  const renderer = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s && s.length > 0).join(' ') || 'WebGPU adapter';
  const software = Boolean(info?.isFallbackAdapter) || SOFTWARE_RENDERERS.test(renderer);
  return { renderer: `${label}: ${renderer}`, software };
}

// ---------------------------------------------------------------------------------------------
// The runtime

/** What `describe()` reports about the device. */
export interface RuntimeInfo {
  readonly mode: GpujsRuntimeMode;
  readonly kernelClass: string;
  readonly renderer: string;
  readonly software: boolean;
  /**
   * gpu.js's kernel classes by identity, with their names (a bundler may have minified
   * `constructor.name`); a class not in it is named by `constructor.name`.
   */
  readonly classNames?: ReadonlyMap<unknown, string>;
}

/** The name of the gpu.js class of a kernel object (see `RuntimeInfo.classNames`). */
export function kernelClassName(info: RuntimeInfo, kernel: { readonly constructor: { readonly name: string } }): string {
  return info.classNames?.get(kernel.constructor) ?? kernel.constructor.name;
}

/** One gpu.js instance in one mode, with host ↔ device transfers. */
export interface Runtime {
  readonly info: RuntimeInfo;
  readonly gpu: GpujsGpu;
  /** Device values are plain Float32Arrays (webasm, cpu): uploads and fills need no kernel. */
  readonly hostMemory: boolean;
  /** Host values to a device value. */
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
  /**
   * WebGPU: runs a compiled kernel on device values and numbers through the backend's own queue
   * (`webgpu-queue.ts`), returning its output value at once. Absent elsewhere (the kernel is called).
   */
  dispatch?(kernel: GpujsKernel, args: readonly unknown[], size: number): unknown;
  /** WebGPU: the queue's counters (submissions, buffers, bind groups). */
  queueStats?(): WebGpuQueueStats;
  /** WebGPU: submits what is queued and resolves once the device ran it. */
  settle?(): Promise<void>;
  /** WebGPU: submits what is queued now (resolves once submitted: at once, unless a kernel still builds). */
  flush?(): Promise<void>;
  /** WebGPU: resolves once the device has run everything submitted so far. */
  submittedWorkDone?(): Promise<void>;
  /** WebGPU: switches timestamp queries on (false where the device has no `timestamp-query`). */
  timeGpu?(): boolean;
  /** WebGPU: the device time of the last submitted batch, in ms, when timing is on. */
  lastGpuTime?(): Promise<number | undefined>;
  /**
   * Destroys a kernel the cache lets go of (WebGPU: once every recorded run of it is encoded, and
   * with what the queue kept for it). Absent: `kernel.destroy()` at once.
   */
  destroyKernel?(kernel: GpujsKernel): void;
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

/** How a mode keeps its values: host arrays (cpu, webasm), GL textures, or WebGPU buffers. */
export function memoryKind(mode: GpujsRuntimeMode): 'host' | 'gl' | 'webgpu' {
  switch (mode) {
    case 'cpu':
    case 'webasm':
      return 'host';
    case 'headlessgl':
    case 'webgl':
      return 'gl';
    case 'webgpu':
      return 'webgpu';
  }
}

/**
 * The runtime over a gpu.js instance that `info.mode` started (the caller probed the mode and
 * described its device). `released` runs once the instance is destroyed (WebGPU: lets go of the
 * shared device when no runtime uses it); `webgpu`: gpu.js's device context, for the WebGPU mode.
 * On GL the upload kernel is built here.
 */
export async function runtimeOn(gpu: GpujsGpu, info: RuntimeInfo, released: () => Promise<void> = async () => undefined, webgpu?: WebGpuContext): Promise<Runtime> {
  const kind = memoryKind(info.mode);
  if (kind === 'host') {
    return {
      info,
      gpu,
      hostMemory: true,
      upload: (values) => values,
      read: async (v) => (v as Float32Array).slice(),
      readSync: (v) => (v as Float32Array).slice(),
      free: () => undefined,
      fresh: freshnessBy((v) => (ArrayBuffer.isView(v) ? v.buffer : v)),
      dispose: async () => {
        await gpu.destroy();
        await released();
      },
    };
  }

  if (kind === 'webgpu') {
    if (!webgpu) throw new BackendError('setBackend', 'options.mode', 'webgpu: no WebGPU device was acquired for the runtime');
    return webGpuRuntime(gpu, info, webgpu, released);
  }
  // GL: host arrays go up through one identity kernel with dynamic sizes.
  const uploader = gpu.createKernel('function(a) { return a[this.thread.x]; }', { ...UPLOAD_KERNEL_SETTINGS, output: [1] });
  const upload = (values: Float32Array): unknown => {
    uploader.setOutput([values.length]);
    return uploader(values);
  };
  (upload(new Float32Array([0, 0])) as DeviceResult).delete();
  const readSync = (v: unknown): Float32Array => {
    if (!isDeviceResult(v)) throw new BackendError('read', 'handle', 'not a GL texture');
    const out = v.toArray();
    return out instanceof Float32Array ? out.slice() : asFloat32(out, (out as ArrayLike<number>).length);
  };
  return {
    info,
    gpu,
    hostMemory: false,
    upload,
    read: async (v) => readSync(v),
    readSync,
    free: (v) => (v as DeviceResult).delete(),
    // a gpu.js GLTexture result wraps a WebGLTexture (`texture`) that clones share
    fresh: freshnessBy((v) => (typeof v === 'object' && v !== null ? (v as { texture?: unknown }).texture : undefined)),
    dispose: async () => {
      uploader.destroy();
      await gpu.destroy();
      await released();
    },
  };
}

/**
 * WebGPU: gpu.js compiles and builds the kernels; the backend's queue (`webgpu-queue.ts`) runs
 * them on gpu.js's device with pooled buffers, uniforms and bind groups made once, and one
 * submission per batch. Uploads are `queue.writeBuffer` into pooled buffers (no kernel).
 */
function webGpuRuntime(gpu: GpujsGpu, info: RuntimeInfo, ctx: WebGpuContext, released: () => Promise<void>): Runtime {
  const queue = new WebGpuQueue(ctx.device as GpuDeviceLike, () => ctx.isLost === true);
  const value = (v: unknown): WebGpuValue => v as WebGpuValue;
  return {
    info,
    gpu,
    hostMemory: false,
    upload: (values) => queue.upload(values),
    read: (v) => queue.read(value(v)),
    free: (v) => queue.release(value(v)),
    fresh: (v) => queue.takeFresh(value(v)),
    dispatch: (kernel, args, size) => {
      const k = kernel.kernel as unknown as WebGpuKernelLike;
      if (typeof k.build !== 'function' || !('computePipeline' in k)) {
        throw new BackendError('kernel', 'mode', `gpujs:webgpu: gpu.js made a ${kernelClassName(info, k)} where a WebGPUKernel was expected`);
      }
      return queue.dispatch(k, args as (WebGpuValue | number)[], size);
    },
    queueStats: () => queue.stats(),
    settle: () => queue.settle(),
    flush: () => queue.flush(),
    submittedWorkDone: () => queue.submittedWorkDone(),
    timeGpu: () => queue.timeGpu(),
    lastGpuTime: () => queue.lastGpuTime(),
    destroyKernel: (kernel) => queue.retire(kernel.kernel as unknown as WebGpuKernelLike, () => kernel.destroy()),
    dispose: async () => {
      await queue.dispose();
      await gpu.destroy();
      await released();
    },
  };
}

/** The settings of every compute kernel, with its output size and constants. */
export function kernelSettings(output: number, constants: Readonly<Record<string, number>>): Record<string, unknown> {
  return { ...KERNEL_SETTINGS, output: [output], constants: { ...constants } };
}
