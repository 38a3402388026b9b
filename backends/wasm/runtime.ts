/**
 * One instance of the `wasm` backend's machinery: the compiled kernel module, the memory and its
 * allocator, the main thread's instance and the worker pool. With more than one thread the memory
 * is shared (workers run on it); with one it is an ordinary memory, which any page can make (a
 * shared one needs a cross-origin isolated page), and the kernels are the same either way.
 */
import { Heap, type Block } from './heap.js';
import { buildKernelModule, GEMM_SCRATCH_BYTES, MEMORY_PAGES, relaxedSimdSupported } from './kernels.js';
import { checkThreads, ThreadPool, MAX_THREADS } from './threads.js';
import { Wasm, type WasmMemory, type WasmModule } from './wasm-api.js';

const compiled = new Map<string, WasmModule>();

/**
 * The kernel module (with or without FMA, importing a shared memory or an ordinary one),
 * generated and compiled once per process.
 */
export function kernelModule(fma: boolean, shared = true): WasmModule {
  const key = `${fma}:${shared}`;
  let m = compiled.get(key);
  if (!m) compiled.set(key, (m = new Wasm.Module(buildKernelModule({ fma, shared }))));
  return m;
}

let fmaSupport: boolean | undefined;
/** Whether the runtime has relaxed-SIMD FMA (checked once). */
export function fmaAvailable(): boolean {
  return (fmaSupport ??= relaxedSimdSupported());
}

/** Exported kernels (all arguments are numbers). */
export type KernelExports = Record<string, (...args: number[]) => number | void>;

/** The machinery of one backend instance. */
export class Runtime {
  readonly memory: WasmMemory;
  readonly heap: Heap;
  readonly pool: ThreadPool;
  readonly k: KernelExports;
  readonly threads: number;
  /** Whether the memory is shared (more than one thread). */
  readonly shared: boolean;
  /** Per-thread GEMM scratch (packed panels), allocated once. */
  readonly gemmScratch: readonly number[];
  /** Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (else the direct convolution). */
  readonly winograd: boolean;
  /** Fused multiply-add (relaxed SIMD) in the compute-bound kernels. */
  readonly fma: boolean;

  /**
   * @throws BackendError (`threads`) for more than one thread where the host has no worker
   * threads (`checkThreads`).
   */
  constructor(threads: number, options: { readonly winograd?: boolean; readonly fma?: boolean } = {}) {
    this.winograd = options.winograd ?? true;
    if (options.fma && !fmaAvailable()) throw new Error('fma: this runtime has no relaxed SIMD (Node ≥ 22, or node --experimental-wasm-relaxed-simd)');
    this.fma = options.fma ?? fmaAvailable();
    this.threads = Math.max(1, Math.min(MAX_THREADS, Math.floor(threads)));
    checkThreads(this.threads);
    this.shared = this.threads > 1;
    const module = kernelModule(this.fma, this.shared);
    this.memory = new Wasm.Memory({ initial: MEMORY_PAGES.min, maximum: MEMORY_PAGES.max, shared: this.shared });
    const instance = new Wasm.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as KernelExports;
    this.heap = new Heap(this.memory, MEMORY_PAGES.max);
    this.gemmScratch = Array.from({ length: this.threads }, () => this.heap.alloc(GEMM_SCRATCH_BYTES).ptr);
    // the pool's control block sits at address 0, below the heap (heap.ts reserves CONTROL_BYTES)
    this.pool = new ThreadPool(module, this.memory, instance.exports, 0, this.threads);
  }

  /** Temporary block for a kernel (give it back with `free`). */
  temp(bytes: number): Block {
    return this.heap.alloc(bytes);
  }

  free(b: Block): void {
    this.heap.free(b);
  }

  /** Threads to use for a job of about `work` multiply-adds (small jobs stay on one thread). */
  threadsFor(work: number): number {
    return work < 50_000 ? 1 : this.threads;
  }
}
