/** Buffers of the CPU backends: typed arrays with live-buffer accounting. */
import type { MemoryInfo } from '../../core/backend.js';

/** Float32Array for `cpu`, Float64Array for `cpu64`. */
export type FloatArray = Float32Array | Float64Array;

/** Allocates a zero-filled array of the backend's precision. */
export type Alloc = (n: number) => FloatArray;

/** A CPU buffer. Several handles may share one immutable array (reshape is free). */
export interface CpuHandle {
  readonly data: FloatArray;
  released: boolean;
}

/** Bytes of released arrays a storage keeps for reuse, at most. */
const POOL_BYTES = 256 * 2 ** 20;

/**
 * Counts live handles and the bytes of the distinct arrays they hold, and keeps released arrays
 * in a pool (by length, bounded) from which new outputs are taken.
 */
export class CpuStorage {
  #buffers = 0;
  #bytes = 0;
  #allocations = 0;
  #pooledBytes = 0;
  readonly #refs = new Map<FloatArray, number>();
  readonly #pool = new Map<number, FloatArray[]>();
  readonly #alloc: Alloc;

  constructor(alloc: Alloc) {
    this.#alloc = alloc;
  }

  /**
   * A zero-filled array of `n` elements: a released one from the pool when there is one, else a
   * fresh allocation (counted in `allocations`).
   */
  take(n: number): FloatArray {
    const free = this.#pool.get(n);
    const reused = free?.pop();
    if (reused) {
      this.#pooledBytes -= reused.byteLength;
      reused.fill(0);
      return reused;
    }
    this.#allocations++;
    return this.#alloc(n);
  }

  /** Arrays created fresh by `take`. */
  get allocations(): number {
    return this.#allocations;
  }

  /** Wraps an array as a new live handle. */
  wrap(data: FloatArray): CpuHandle {
    this.#buffers++;
    const refs = this.#refs.get(data) ?? 0;
    if (refs === 0) this.#bytes += data.byteLength;
    this.#refs.set(data, refs + 1);
    return { data, released: false };
  }

  /** Releases a handle once (later calls do nothing). */
  release(h: CpuHandle): void {
    if (h.released) return;
    h.released = true;
    this.#buffers--;
    const refs = this.#refs.get(h.data)! - 1;
    if (refs === 0) {
      this.#refs.delete(h.data);
      this.#bytes -= h.data.byteLength;
      this.#recycle(h.data);
    } else this.#refs.set(h.data, refs);
  }

  /** Keeps a no longer referenced array for reuse while the pool has room. */
  #recycle(data: FloatArray): void {
    if (data.length === 0 || this.#pooledBytes + data.byteLength > POOL_BYTES) return;
    const list = this.#pool.get(data.length);
    if (list) list.push(data);
    else this.#pool.set(data.length, [data]);
    this.#pooledBytes += data.byteLength;
  }

  memory(): MemoryInfo {
    return { buffers: this.#buffers, bytes: this.#bytes };
  }
}
