/**
 * The gpu.js backend over an open runtime (`assembleGpujsBackend`), shared by Node's
 * `createGpujsBackend` (`backend.ts`) and the browser's `createGpujsBrowserBackend`
 * (`browser.ts`): the kernel cache, the store, the kernels, the fused compilers, `describe()` and
 * the counters. Nothing here imports Node.
 */
import { countKernels } from '../../core/compile/count.js';
import type { Backend, BackendDescription, BackendStats } from '../../core/backend.js';
import type { FusedBatch, FusedBatchRunner, FusedKernel, FusedRunner } from '../../core/compile/fused.js';
import { BackendError } from '../../core/errors.js';
import { sizeOf } from '../../core/shape.js';
import { createCpuBackend } from '../cpu/backend.js';
import { Store, type GpujsHandle } from './buffers.js';
import { KernelCache } from './cache.js';
import { makeFusedBatchCompiler, makeFusedCompiler } from './fused.js';
import { makeKernels, makeLauncher, PrimStats } from './kernels.js';
import type { Runtime, RuntimeInfo } from './runtime-shared.js';
import { KERNEL_CACHE_SIZE, MAX_ELEMENTS, type GpujsRunMode, type GpujsRuntimeMode } from './settings.js';

/**
 * Counters of a gpu.js backend instance (tests and benchmarks). The `BackendStats` counters, since
 * the backend started:
 * - `kernels`: executions of a primitive (answered on the host or not), a fused group or a fused
 *   batch, however many gpu.js kernels each launches (`launches`); a reshape, which only relabels
 *   a buffer, is not counted;
 * - `submits`: WebGPU only: `queue.submit` calls. The backend's queue records kernel runs and
 *   submits them together (a `jit` replay is one submission; a read submits what is queued with
 *   its copy); uploads are `queue.writeBuffer` calls and submit nothing. Absent in the other modes;
 * - `allocations`: device values (kernel outputs and uploads) that took storage created for them;
 *   GL kernels render into their own texture again once the previous result on it was deleted,
 *   which is not counted.
 */
export interface GpujsStats extends BackendStats {
  /** Executions of a primitive, a fused group or a fused batch (a reshape, which only relabels, aside). */
  readonly kernels: number;
  /** gpu.js kernels launched (a staged reduction or a fused group of N outputs launches several). */
  readonly launches: number;
  readonly allocations: number;
  /** WebGPU only: bind groups created since the backend started (a replayed plan creates none). */
  readonly bindGroups?: number;
  /** WebGPU only: released buffers waiting in the pool for the next output or upload of their size. */
  readonly pooledBuffers?: number;
  /** Kernels compiled since the backend started (the upload kernel included on GL). */
  readonly compiles: number;
  readonly evictions: number;
  readonly cachedKernels: number;
  /** Device values (textures, buffers, arrays) not freed yet. */
  readonly deviceValues: number;
  /** Per primitive (and `fused`): kernel class (or `host` / `view`) → launches, since the last reset. */
  readonly byPrim: Record<string, Record<string, number>>;
  /** Kernels that gpu.js degraded to another class, with its reason. */
  readonly fallbacks: readonly string[];
}

/**
 * The gpu.js backend: a Backend plus introspection and shutdown. `M`: the modes it runs on (Node's
 * by default; `GpujsBrowserRunMode` for the browser's backend).
 */
export interface GpujsBackend<M extends GpujsRuntimeMode = GpujsRunMode> extends Backend<GpujsHandle> {
  /** The mode that runs (`auto` resolved). */
  readonly mode: M;
  /** The kernel class every launch is expected to report (`WebGPUKernel`, `HeadlessGLKernel`, …). */
  readonly expectedKernelClass: string;
  /** Why `auto` passed over the faster modes. */
  readonly autoReasons: readonly string[];
  stats(): GpujsStats;
  /** Compiles a fused elementwise kernel (see `fused.ts`). */
  compileFused(kernel: FusedKernel): FusedRunner<GpujsHandle>;
  /**
   * Compiles a batch of one fused program over independent segments: each segment runs the fused
   * kernels of the program over it alone (see `fused.ts`); one `kernels` execution per call, its
   * gpu.js kernels counted in `launches`.
   */
  compileFusedBatch(batch: FusedBatch): FusedBatchRunner<GpujsHandle>;
  /** Clears the per-primitive launch record. */
  resetPrimStats(): void;
  /**
   * The keys of the compiled kernels in the cache (template, shapes, parameters, argument kinds),
   * least recently used first: which kernel variants ran (e.g. `conv2dBlocked|…`).
   */
  compiledKernels(): readonly string[];
  /** Resolves when every scheduled kernel has run. */
  settle(): Promise<void>;
  /**
   * WebGPU: submits the recorded kernel runs now rather than when the current synchronous code
   * returns (resolves once submitted), and `gpuDone()` resolves once the device has run them: for
   * timing a step's phases. Elsewhere both resolve at once (kernels run when called).
   */
  flush(): Promise<void>;
  gpuDone(): Promise<void>;
  /**
   * WebGPU: switches GPU timing on (timestamp queries around every compute pass); false where the
   * device lacks `timestamp-query` (and in the other modes). `lastGpuTime()` then resolves with the
   * device milliseconds of the last submitted batch (undefined while timing is off).
   */
  timeGpu(): boolean;
  lastGpuTime(): Promise<number | undefined>;
  /**
   * Destroys the kernels and the gpu.js instance; for WebGPU also the device, without which Node
   * cannot exit (Dawn keeps the process alive while a device or `navigator.gpu` is referenced).
   */
  dispose(): Promise<void>;
}

/**
 * The mode of the options `{ mode }` (default `auto`), one of `modes`. Throws a BackendError naming
 * an unknown option or a mode not in `modes`.
 */
export function decodeMode<M extends string>(options: Readonly<Record<string, unknown>>, modes: readonly M[]): M {
  const unknown = Object.keys(options).filter((k) => k !== 'mode');
  if (unknown.length > 0) throw new BackendError('setBackend', 'options', `gpujs takes { mode }, got unknown option(s) ${unknown.join(', ')}`);
  const mode = options['mode'] ?? 'auto';
  if (typeof mode !== 'string' || !(modes as readonly string[]).includes(mode)) {
    throw new BackendError('setBackend', 'options.mode', `expected one of ${modes.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return mode as M;
}

/**
 * Settings for tests and benchmarks: a smaller kernel cache exercises eviction; `blockedConvolutions:
 * false` keeps WebGPU's convolutions at one output per thread (the variant they replaced).
 */
export interface GpujsInternals {
  readonly cacheSize?: number;
  readonly blockedConvolutions?: boolean;
}

/**
 * The backend over an open runtime: the kernel cache, the store, the kernel table and the fused
 * compilers, the same in Node and in a browser. `mode` is `rt.info.mode`; `reasons`: why `auto`
 * passed over the faster modes.
 */
export function assembleGpujsBackend<M extends GpujsRuntimeMode>(rt: Runtime, mode: M, reasons: readonly string[], internals: GpujsInternals = {}): GpujsBackend<M> {
  const info: RuntimeInfo = rt.info;
  const cache = new KernelCache(rt.gpu, internals.cacheSize ?? KERNEL_CACHE_SIZE, rt.destroyKernel);
  const store = new Store(rt, cache);
  const stats = new PrimStats();
  const hostCpu = createCpuBackend();
  const ctx = { rt, store, cache, stats, hostCpu, blockedConvolutions: rt.dispatch !== undefined && internals.blockedConvolutions !== false };
  const launcher = makeLauncher(ctx);
  const counter = { kernels: 0 };
  const kernelTable = makeKernels(ctx, launcher);
  // NOTE: `stats().kernels` counts executions of a primitive or fused group, however many gpu.js
  // kernels each launches (those are `launches`).
  const kernels = countKernels(kernelTable, counter, ['reshape']);
  const compileFusedUncounted = makeFusedCompiler({ ...ctx, launcher, kernels: kernelTable });
  const compileFused = (k: FusedKernel): FusedRunner<GpujsHandle> => {
    const run = compileFusedUncounted(k);
    return (inputs) => {
      counter.kernels++;
      return run(inputs);
    };
  };
  // NOTE: a batch is one execution however many segments (and gpu.js launches) it runs.
  const compileFusedBatch = makeFusedBatchCompiler(compileFusedUncounted, ctx, () => counter.kernels++);
  const uploadKernels = rt.hostMemory || rt.dispatch ? 0 : 1;
  let disposed = false;

  const classesThatRan = (): string[] => {
    const seen = new Set<string>();
    for (const m of stats.byPrim.values()) for (const k of m.keys()) if (k !== 'host' && k !== 'view') seen.add(k);
    return [...seen];
  };

  const backend: GpujsBackend<M> = {
    name: 'gpujs',
    mode,
    expectedKernelClass: info.kernelClass,
    autoReasons: reasons,
    upload: (values, shape) => {
      const n = sizeOf(shape);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = values[i]!;
      if (n <= 1) return store.wrap(store.host(data));
      if (n > MAX_ELEMENTS) throw new BackendError('tensor', 'shape', `gpujs handles at most 2^24 = ${MAX_ELEMENTS} elements per tensor; got [${shape.join(', ')}]`);
      return store.wrap(store.device(rt.upload(data), n));
    },
    read: (h) => {
      if (h.released) return Promise.reject(new BackendError('read', 'handle', 'the handle was released'));
      return store.read(h.buffer);
    },
    release: (h) => store.release(h),
    memory: () => store.memory(),
    describe: async (): Promise<BackendDescription> => {
      const ran = classesThatRan();
      const kernelClass = ran.length === 0 ? info.kernelClass : ran.join(' + ');
      return {
        name: 'gpujs',
        mode,
        kernelClass: stats.fallbacks.length > 0 ? `${kernelClass} (fallbacks: ${stats.fallbacks.join('; ')})` : kernelClass,
        renderer: info.renderer,
        software: info.software,
        precision: 'float32',
      };
    },
    kernels,
    compileFused,
    compileFusedBatch,
    stats: () => {
      const c = cache.stats();
      const queue = rt.queueStats?.();
      return {
        kernels: counter.kernels,
        launches: store.runs(),
        ...(queue ? { submits: queue.submits, bindGroups: queue.bindGroupsCreated, pooledBuffers: queue.pooled } : {}),
        allocations: store.allocations(),
        compiles: c.compiles + uploadKernels,
        evictions: c.evictions,
        cachedKernels: c.size,
        deviceValues: store.deviceValues(),
        byPrim: stats.snapshot(),
        fallbacks: [...stats.fallbacks],
      };
    },
    resetPrimStats: () => stats.reset(),
    compiledKernels: () => cache.keys(),
    settle: () => store.settle(),
    flush: () => rt.flush?.() ?? Promise.resolve(),
    gpuDone: () => rt.submittedWorkDone?.() ?? Promise.resolve(),
    timeGpu: () => rt.timeGpu?.() ?? false,
    lastGpuTime: () => rt.lastGpuTime?.() ?? Promise.resolve(undefined),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await store.settle();
      cache.clear();
      await rt.dispose();
    },
  };
  if (rt.readSync) backend.readSync = (h) => store.readSync(h.buffer);
  return backend;
}
