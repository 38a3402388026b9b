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

/** Counts live handles and the bytes of the distinct arrays they hold. */
export class CpuStorage {
  #buffers = 0;
  #bytes = 0;
  readonly #refs = new Map<FloatArray, number>();

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
    } else this.#refs.set(h.data, refs);
  }

  memory(): MemoryInfo {
    return { buffers: this.#buffers, bytes: this.#bytes };
  }
}
