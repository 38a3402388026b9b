/**
 * The `wasm` backend's storage: one shared `WebAssembly.Memory` (seen by the main thread and the
 * workers), carved by a size-class allocator. Freed blocks go to a free list of their class and are
 * reused by the next allocation of that class, so a training loop that makes the same tensors
 * every step stops growing after its first step. Memory grows (never shrinks) when no free block
 * fits.
 */

import type { WasmMemory } from './wasm-api.js';

/** Bytes reserved at the bottom of the memory (the thread pool's control block). */
export const CONTROL_BYTES = 4096;
/** Alignment of every block (a cache line). */
const ALIGN = 64;
/** Bytes kept readable above the highest block: kernels may over-read a vector past an end. */
const GUARD = 1024;
const PAGE = 65536;

/** Rounds a byte count up to its size class: 4 classes per power of two, multiples of 64. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const e = Math.floor(Math.log2(bytes - 1));
  const step = Math.max(ALIGN, 2 ** (e - 2));
  return Math.ceil(bytes / step) * step;
}

/** A block of the heap. */
export interface Block {
  /** Byte address in the shared memory. */
  readonly ptr: number;
  /** Bytes asked for. */
  readonly bytes: number;
  /** Bytes of its size class. */
  readonly size: number;
}

/** The allocator over the shared memory. */
export class Heap {
  #top = CONTROL_BYTES;
  readonly #free = new Map<number, number[]>();
  #f32: Float32Array;
  #i32: Int32Array;
  #reserved = 0;
  #peak = 0;

  constructor(readonly memory: WasmMemory) {
    this.#f32 = new Float32Array(memory.buffer);
    this.#i32 = new Int32Array(memory.buffer);
  }

  /** A block of at least `bytes` bytes (contents unspecified). */
  alloc(bytes: number): Block {
    const size = sizeClass(Math.max(bytes, 1));
    const list = this.#free.get(size);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.#top;
      this.#top += size;
      this.#ensure(this.#top + GUARD);
    }
    this.#reserved += size;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
    return { ptr, bytes, size };
  }

  /** Returns a block to its free list. */
  free(b: Block): void {
    let list = this.#free.get(b.size);
    if (!list) this.#free.set(b.size, (list = []));
    list.push(b.ptr);
    this.#reserved -= b.size;
  }

  /** Float32 view of the whole memory (refreshed after growth). */
  get f32(): Float32Array {
    return this.#f32;
  }

  /** Int32 view of the whole memory (refreshed after growth). */
  get i32(): Int32Array {
    return this.#i32;
  }

  /**
   * Bytes of the memory, of its blocks in use (and the most ever in use at once), and the top of
   * the heap (the bytes ever carved: in use plus free lists).
   */
  stats(): { memoryBytes: number; inUse: number; peakInUse: number; top: number } {
    return { memoryBytes: this.memory.buffer.byteLength, inUse: this.#reserved, peakInUse: this.#peak, top: this.#top };
  }

  #ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // grow by at least 1/8 of the current size to keep the number of growths small
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, Math.ceil(have / PAGE / 8));
    try {
      this.memory.grow(pages);
    } catch {
      this.memory.grow(need);
    }
    this.#f32 = new Float32Array(this.memory.buffer);
    this.#i32 = new Int32Array(this.memory.buffer);
  }
}
