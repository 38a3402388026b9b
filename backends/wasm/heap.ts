/**
 * The `wasm` backend's storage: one `WebAssembly.Memory` (shared when workers see it too, ordinary
 * with one thread), carved by a coalescing allocator. Growing an ordinary memory detaches its old
 * buffer: views are taken afresh after every allocation (`f32`, `i32`).
 *
 * Requests are rounded up to a size class (4 classes per power of two, multiples of 64 bytes).
 * Released blocks are merged with free neighbours at once (so the free space never splinters into
 * pieces that no later request fits), and kept in bins by size: a request takes a free block of
 * exactly its class if there is one, else one from the smallest non-empty bin whose blocks all fit
 * (splitting off the rest), and only when no free block fits does it carve new space at the top of
 * the heap (growing the memory when needed; memory never shrinks). A training loop that makes the
 * same tensors every step therefore stops growing after its first steps, and a mix of sizes keeps
 * the top near the most bytes in use at once. Every operation is O(1) (a bounded scan of about a
 * hundred bins at most).
 *
 * A failed allocation (the memory cannot grow that far) throws a `BackendError` and leaves the
 * allocator exactly as it was.
 */

import { BackendError } from '../../core/errors.js';
import type { WasmMemory } from './wasm-api.js';

/** Bytes reserved at the bottom of the memory (the thread pool's control block). */
export const CONTROL_BYTES = 4096;
/** Alignment of every block (a cache line). */
const ALIGN = 64;
/** Bytes kept readable above the highest block: kernels may over-read a vector past an end. */
const GUARD = 1024;
const PAGE = 65536;
/** Pages of a memory without a declared maximum (the 32-bit address space). */
const DEFAULT_MAX_PAGES = 65536;

/** Rounds a byte count up to its size class: 4 classes per power of two, multiples of 64. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const e = Math.floor(Math.log2(bytes - 1));
  const step = Math.max(ALIGN, 2 ** (e - 2));
  return Math.ceil(bytes / step) * step;
}

/**
 * The bin of a free block of `size` bytes (a multiple of 64): 4 bins per power of two, bin b
 * holding sizes in [binFloor(b), binFloor(b + 1)). Every size class is the floor of its own bin,
 * so every block of bin(sizeClass(n)) or above fits a request of n bytes.
 */
export function binOf(size: number): number {
  const e = Math.floor(Math.log2(size));
  const quarter = Math.floor(((size - 2 ** e) * 4) / 2 ** e);
  return 4 * (e - 6) + quarter;
}

/** The smallest size of bin `b` (see `binOf`). */
export function binFloor(b: number): number {
  const e = Math.floor(b / 4) + 6;
  return 2 ** e + (b % 4) * 2 ** (e - 2);
}

/** Bins: sizes from 64 bytes up to past the 32-bit address space. */
const BINS = binOf(2 ** 33) + 1;

/** A block of the heap. */
export interface Block {
  /** Byte address in the memory. */
  readonly ptr: number;
  /** Bytes asked for. */
  readonly bytes: number;
  /** Bytes of its size class. */
  readonly size: number;
  /** True when it was carved at the top of the heap, false when it reused released space. */
  readonly fresh: boolean;
}

/** What `Heap.stats()` reports. */
export interface HeapStats {
  /** Bytes of the memory. */
  readonly memoryBytes: number;
  /** Bytes of the blocks in use. */
  readonly inUse: number;
  /** The most bytes in use at once. */
  readonly peakInUse: number;
  /** The top of the heap: the highest byte ever carved (in use plus free blocks below it). */
  readonly top: number;
  /** Bytes of the free blocks below the top. */
  readonly freeBytes: number;
  /** Free blocks (after merging neighbours). */
  readonly freeBlocks: number;
}

/** The allocator over the memory. */
export class Heap {
  #top = CONTROL_BYTES;
  readonly #maxBytes: number;
  /** Free blocks: start → size, and end → start (for merging with neighbours). */
  readonly #freeAt = new Map<number, number>();
  readonly #freeEnding = new Map<number, number>();
  /** Free blocks by exact size (start addresses). */
  readonly #exact = new Map<number, Set<number>>();
  /** Free blocks by bin (start addresses) and a bitmap of the non-empty bins. */
  readonly #bins: Set<number>[] = Array.from({ length: BINS }, () => new Set<number>());
  readonly #binMask = new Uint32Array(Math.ceil(BINS / 32));
  #freeBytes = 0;
  #f32: Float32Array;
  #i32: Int32Array;
  #reserved = 0;
  #peak = 0;

  /** `maxPages`: the memory's declared maximum (64 KiB pages). */
  constructor(readonly memory: WasmMemory, maxPages = DEFAULT_MAX_PAGES) {
    this.#maxBytes = maxPages * PAGE;
    this.#f32 = new Float32Array(memory.buffer);
    this.#i32 = new Int32Array(memory.buffer);
  }

  /**
   * A block of at least `bytes` bytes (contents unspecified). Throws a `BackendError` when the
   * memory cannot grow to hold it; the heap is then unchanged.
   */
  alloc(bytes: number): Block {
    const size = sizeClass(Math.max(bytes, 1));
    let ptr = this.#takeExact(size) ?? this.#takeFit(size);
    const fresh = ptr === undefined;
    if (ptr === undefined) ptr = this.#carve(bytes, size);
    this.#reserved += size;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
    return { ptr, bytes, size, fresh };
  }

  /** Returns a block to the free space, merged with its free neighbours. */
  free(b: Block): void {
    if (this.#freeAt.has(b.ptr)) throw new Error(`heap: block at ${b.ptr} freed twice`);
    this.#reserved -= b.size;
    let start = b.ptr;
    let end = b.ptr + b.size;
    const below = this.#freeEnding.get(start);
    if (below !== undefined) {
      this.#removeFree(below);
      start = below;
    }
    const above = this.#freeAt.get(end);
    if (above !== undefined) {
      this.#removeFree(end);
      end += above;
    }
    this.#addFree(start, end - start);
  }

  /** Float32 view of the whole memory (refreshed after growth). */
  get f32(): Float32Array {
    return this.#f32;
  }

  /** Int32 view of the whole memory (refreshed after growth). */
  get i32(): Int32Array {
    return this.#i32;
  }

  /** Bytes of the memory, of the blocks in use (now and at most), the top and the free space. */
  stats(): HeapStats {
    return {
      memoryBytes: this.memory.buffer.byteLength,
      inUse: this.#reserved,
      peakInUse: this.#peak,
      top: this.#top,
      freeBytes: this.#freeBytes,
      freeBlocks: this.#freeAt.size,
    };
  }

  /** A free block of exactly `size` bytes, taken out of the free space. */
  #takeExact(size: number): number | undefined {
    const set = this.#exact.get(size);
    if (!set || set.size === 0) return undefined;
    const ptr = firstOf(set);
    this.#removeFree(ptr);
    return ptr;
  }

  /** The start of `size` bytes split off a free block of the smallest bin that fits. */
  #takeFit(size: number): number | undefined {
    const bin = this.#firstBin(binOf(size));
    if (bin < 0) return undefined;
    const ptr = firstOf(this.#bins[bin]!);
    const have = this.#freeAt.get(ptr)!;
    this.#removeFree(ptr);
    // the rest has no free neighbour: the block was merged with its neighbours when freed
    if (have > size) this.#addFree(ptr + size, have - size);
    return ptr;
  }

  /** Carves `size` bytes at the top (extending a free block that ends there). */
  #carve(bytes: number, size: number): number {
    const tail = this.#freeEnding.get(this.#top);
    const ptr = tail ?? this.#top;
    const top = ptr + size;
    // grow first: on failure nothing has changed
    this.#ensure(top + GUARD, bytes);
    if (tail !== undefined) this.#removeFree(tail);
    this.#top = top;
    return ptr;
  }

  /** The first non-empty bin at or above `from`, or −1. */
  #firstBin(from: number): number {
    const mask = this.#binMask;
    for (let w = from >>> 5; w < mask.length; w++) {
      let bits = mask[w]!;
      if (w === from >>> 5) bits &= ~0 << (from & 31);
      if (bits !== 0) return w * 32 + (31 - Math.clz32(bits & -bits));
    }
    return -1;
  }

  #addFree(start: number, size: number): void {
    this.#freeAt.set(start, size);
    this.#freeEnding.set(start + size, start);
    let set = this.#exact.get(size);
    if (!set) this.#exact.set(size, (set = new Set()));
    set.add(start);
    const bin = binOf(size);
    this.#bins[bin]!.add(start);
    this.#binMask[bin >>> 5]! |= 1 << (bin & 31);
    this.#freeBytes += size;
  }

  #removeFree(start: number): void {
    const size = this.#freeAt.get(start)!;
    this.#freeAt.delete(start);
    this.#freeEnding.delete(start + size);
    const set = this.#exact.get(size)!;
    set.delete(start);
    if (set.size === 0) this.#exact.delete(size);
    const bin = binOf(size);
    const members = this.#bins[bin]!;
    members.delete(start);
    if (members.size === 0) this.#binMask[bin >>> 5]! &= ~(1 << (bin & 31));
    this.#freeBytes -= size;
  }

  /** Grows the memory to at least `end` bytes for a request of `bytes` bytes. */
  #ensure(end: number, bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const refuse = (why: string): never => {
      throw new BackendError('wasm', 'memory', `cannot allocate ${bytes} bytes (${gib(bytes)}): the memory would need ${end} bytes (it has ${have}); ${why}`);
    };
    if (end > this.#maxBytes) refuse(`its limit is ${this.#maxBytes} bytes (${gib(this.#maxBytes)})`);
    // grow by at least 1/8 of the current size to keep the number of growths small
    const need = Math.ceil((end - have) / PAGE);
    const room = this.#maxBytes / PAGE - have / PAGE;
    const pages = Math.min(Math.max(need, Math.ceil(have / PAGE / 8)), room);
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(need);
      } catch (e) {
        refuse(`growing it failed below its limit of ${this.#maxBytes} bytes (${gib(this.#maxBytes)}): ${(e as Error).message}`);
      }
    }
    this.#f32 = new Float32Array(this.memory.buffer);
    this.#i32 = new Int32Array(this.memory.buffer);
  }
}

/** Bytes in GiB, for messages. */
function gib(bytes: number): string {
  return `${+(bytes / 2 ** 30).toFixed(3)} GiB`;
}

function firstOf(set: Set<number>): number {
  return set.values().next().value as number;
}
