/**
 * One instance of the `wasm` backend's machinery: the compiled kernel module, the shared memory
 * and its allocator, the main thread's instance and the worker pool.
 */
import { Heap, CONTROL_BYTES, type Block } from './heap.js';
import { buildKernelModule, GEMM_SCRATCH_BYTES, MEMORY_PAGES } from './kernels.js';
import { ThreadPool, MAX_THREADS } from './threads.js';
import { Wasm, type WasmMemory, type WasmModule } from './wasm-api.js';

let compiled: WasmModule | undefined;

/** The kernel module, generated and compiled once per process. */
export function kernelModule(): WasmModule {
  return (compiled ??= new Wasm.Module(buildKernelModule()));
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
  /** Per-thread GEMM scratch (packed panels), allocated once. */
  readonly gemmScratch: readonly number[];
  /** Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (else the direct convolution). */
  readonly winograd: boolean;

  constructor(threads: number, options: { readonly winograd?: boolean } = {}) {
    this.winograd = options.winograd ?? true;
    const module = kernelModule();
    this.memory = new Wasm.Memory({ initial: MEMORY_PAGES.min, maximum: MEMORY_PAGES.max, shared: true });
    const instance = new Wasm.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as KernelExports;
    this.heap = new Heap(this.memory);
    this.threads = Math.max(1, Math.min(MAX_THREADS, Math.floor(threads)));
    this.gemmScratch = Array.from({ length: this.threads }, () => this.heap.alloc(GEMM_SCRATCH_BYTES).ptr);
    this.pool = new ThreadPool(module, this.memory, instance.exports, 0, this.threads);
    void CONTROL_BYTES;
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
