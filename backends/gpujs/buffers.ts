/**
 * Buffers and handles of the gpu.js backend, their lifetimes, and kernel launches.
 *
 * A buffer holds either host values (scalars and zero-size tensors, answered without launching
 * a kernel) or a device value (GL texture, WebGPU buffer, or a Float32Array on webasm/cpu). Every
 * launch returns its output at once: on WebGPU the runtime's queue records the run and hands out
 * its output buffer (its contents exist once the batch is submitted), so only `read()` awaits.
 *
 * Lifetimes: handles count references (reshape shares a buffer); a buffer is freed when its last
 * handle is released and no read still needs it (`readers`). Releasing a tensor right after using
 * it is always safe: on WebGPU the queue runs every recorded kernel before the buffer's next use.
 */
import { BackendError } from '../../core/errors.js';
import type { MemoryInfo } from '../../core/backend.js';
import type { CacheEntry, KernelCache } from './cache.js';
import type { Runtime } from './runtime-shared.js';

/** One buffer of values. */
export interface Buffer {
  /** Number of elements. */
  readonly size: number;
  /** Host values (size ≤ 1): passed to kernels as numbers. */
  readonly host: Float32Array | undefined;
  /** The device value. */
  value: unknown;
  /** Handles on this buffer. */
  refs: number;
  /** Reads that still need the buffer. */
  readers: number;
  freed: boolean;
  /** The cached kernel that made it (kept alive while the buffer is). */
  readonly producer: CacheEntry | undefined;
}

/** What the core holds: a handle on a buffer. */
export interface GpujsHandle {
  readonly buffer: Buffer;
  released: boolean;
}

/** A kernel argument: a buffer (device value) or a number (host scalar, pad value, fill value). */
export type Arg = Buffer | number;

export class Store {
  readonly #rt: Runtime;
  readonly #cache: KernelCache;
  #handles = 0;
  #bytes = 0;
  #deviceValues = 0;
  #allocations = 0;
  #runs = 0;

  constructor(rt: Runtime, cache: KernelCache) {
    this.#rt = rt;
    this.#cache = cache;
  }

  /** A host buffer (size ≤ 1). */
  host(values: Float32Array): Buffer {
    return { size: values.length, host: values, value: undefined, refs: 0, readers: 0, freed: false, producer: undefined };
  }

  /** A device buffer holding a device value. */
  device(value: unknown, size: number, producer?: CacheEntry): Buffer {
    if (value === undefined || value === null) throw new BackendError('kernel', 'output', 'gpu.js returned no result');
    const b: Buffer = { size, host: undefined, value, refs: 0, readers: 0, freed: false, producer };
    this.#deviceValues++;
    if (this.#rt.fresh(value)) this.#allocations++;
    if (producer) producer.liveOutputs++;
    return b;
  }

  /** A new handle on a buffer. */
  wrap(b: Buffer): GpujsHandle {
    if (b.refs === 0) this.#bytes += b.size * 4;
    b.refs++;
    this.#handles++;
    return { buffer: b, released: false };
  }

  /** Releases a handle once (later calls do nothing); frees the buffer when nothing needs it. */
  release(h: GpujsHandle): void {
    if (h.released) return;
    h.released = true;
    this.#handles--;
    const b = h.buffer;
    b.refs--;
    if (b.refs === 0) this.#bytes -= b.size * 4;
    this.#maybeFree(b);
  }

  /** Frees an intermediate buffer that no handle ever held, once nothing needs it. */
  discard(b: Buffer): void {
    this.#maybeFree(b);
  }

  #maybeFree(b: Buffer): void {
    if (b.freed || b.refs > 0 || b.readers > 0) return;
    b.freed = true;
    if (b.host) return;
    try {
      this.#rt.free(b.value);
    } finally {
      this.#deviceValues--;
      if (b.producer) this.#cache.outputFreed(b.producer);
    }
  }

  /**
   * Runs a compiled kernel on its arguments and returns the output buffer: called now (the
   * synchronous modes) or recorded by the runtime's queue (WebGPU, `Runtime.dispatch`).
   */
  launch(entry: CacheEntry, args: readonly Arg[], size: number): Buffer {
    for (const a of args) {
      if (typeof a === 'number') continue;
      if (a.freed) throw new BackendError('kernel', 'input', 'a kernel input was already freed');
      if (a.host) throw new BackendError('kernel', 'input', 'a host buffer must be passed as a number');
    }
    const values = args.map((a) => (typeof a === 'number' ? a : a.value));
    const out = this.#rt.dispatch ? this.#rt.dispatch(entry.kernel, values, size) : entry.kernel(...values);
    this.#runs++;
    return this.device(out, size, entry);
  }

  /** Reads a buffer back (awaits the kernel that makes it). */
  async read(b: Buffer): Promise<Float32Array> {
    if (b.host) return b.host.slice();
    if (b.freed) throw new BackendError('read', 'handle', 'the buffer was already freed');
    b.readers++;
    try {
      const out = await this.#rt.read(b.value);
      return out.length === b.size ? out : out.slice(0, b.size);
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError('data', 'tensor', `gpujs:${this.#rt.info.mode}: the kernel making this tensor failed: ${(e as Error).message}`);
    } finally {
      b.readers--;
      this.#maybeFree(b);
    }
  }

  /** Synchronous read (not on WebGPU). */
  readSync(b: Buffer): Float32Array {
    if (b.host) return b.host.slice();
    if (!this.#rt.readSync) throw new BackendError('dataSync', 'tensor', `gpujs:${this.#rt.info.mode} has no synchronous read: use await t.data()`);
    const out = this.#rt.readSync(b.value);
    return out.length === b.size ? out : out.slice(0, b.size);
  }

  memory(): MemoryInfo {
    return { buffers: this.#handles, bytes: this.#bytes };
  }

  /** Device values not freed yet (GL textures, WebGPU buffers, arrays). */
  deviceValues(): number {
    return this.#deviceValues;
  }

  /** Device values (kernel outputs and uploads) that took storage created for them. */
  allocations(): number {
    return this.#allocations;
  }

  /** gpu.js kernel runs dispatched through `launch` (uploads not included). */
  runs(): number {
    return this.#runs;
  }

  /** Resolves when every recorded kernel has run (and deferred frees happened). */
  async settle(): Promise<void> {
    if (this.#rt.settle) await this.#rt.settle();
    // NOTE: one macrotask for the deferred frees; pages have no setImmediate (Node's is kept).
    await new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
  }
}
