/**
 * The kernel cache: one compiled gpu.js kernel per (primitive, shapes, params, argument kinds),
 * or per (fused program, extents, strides, argument kinds), bounded, least recently used first out. An evicted kernel is destroyed once no output it made is
 * still alive (a GL texture is read through its kernel's framebuffer).
 */
import type { KernelSpec } from './codegen.js';
import { kernelSettings, type GpujsGpu, type GpujsKernel } from './runtime-shared.js';

/** A compiled kernel and the outputs of it still alive. */
export interface CacheEntry {
  readonly key: string;
  readonly kernel: GpujsKernel;
  /** Outputs made by this kernel whose device values were not freed yet. */
  liveOutputs: number;
  evicted: boolean;
  destroyed: boolean;
}

/** Counters of a cache. */
export interface CacheStats {
  /** Kernels compiled (created) since the backend started. */
  readonly compiles: number;
  readonly evictions: number;
  readonly size: number;
}

export class KernelCache {
  readonly #gpu: GpujsGpu;
  readonly #limit: number;
  readonly #entries = new Map<string, CacheEntry>();
  #compiles = 0;
  #evictions = 0;

  readonly #destroy: (kernel: GpujsKernel) => void;

  /**
   * `destroy`: how a kernel the cache lets go of is destroyed (default: at once; the WebGPU queue
   * waits until no recorded run of it is still to be encoded).
   */
  constructor(gpu: GpujsGpu, limit: number, destroy: (kernel: GpujsKernel) => void = (k) => k.destroy()) {
    this.#gpu = gpu;
    this.#limit = limit;
    this.#destroy = destroy;
  }

  /** The kernel of a spec, compiled on first use. */
  get(spec: KernelSpec): CacheEntry {
    const hit = this.#entries.get(spec.key);
    if (hit) {
      this.#entries.delete(spec.key);
      this.#entries.set(spec.key, hit);
      return hit;
    }
    const kernel = this.#gpu.createKernel(spec.source, kernelSettings(spec.threads ?? spec.size, spec.constants));
    this.#compiles++;
    const entry: CacheEntry = { key: spec.key, kernel, liveOutputs: 0, evicted: false, destroyed: false };
    this.#entries.set(spec.key, entry);
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.values().next().value as CacheEntry;
      this.#entries.delete(oldest.key);
      oldest.evicted = true;
      this.#evictions++;
      this.#maybeDestroy(oldest);
    }
    return entry;
  }

  /** Called when an output of `entry` is freed. */
  outputFreed(entry: CacheEntry): void {
    entry.liveOutputs--;
    this.#maybeDestroy(entry);
  }

  #maybeDestroy(entry: CacheEntry): void {
    if (!entry.evicted || entry.destroyed || entry.liveOutputs > 0) return;
    entry.destroyed = true;
    this.#destroy(entry.kernel);
  }

  /** The keys of the kernels in the cache, least recently used first. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  stats(): CacheStats {
    return { compiles: this.#compiles, evictions: this.#evictions, size: this.#entries.size };
  }

  /** Destroys every kernel (backend shutdown). */
  clear(): void {
    for (const e of this.#entries.values()) {
      e.evicted = true;
      if (!e.destroyed) {
        e.destroyed = true;
        this.#destroy(e.kernel);
      }
    }
    this.#entries.clear();
  }
}
