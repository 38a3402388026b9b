/**
 * Buffers and handles of the gpu.js backend, their lifetimes, and kernel launches.
 *
 * A buffer holds either host values (scalars and zero-size tensors, answered without launching
 * a kernel) or a device value (GL texture, WebGPU buffer, or a Float32Array on webasm/cpu). On
 * WebGPU every kernel call returns a Promise: the buffer then holds it as `pending`, kernels that
 * read it chain on it, and only `read()` awaits. Dispatch stays synchronous for the core.
 *
 * Lifetimes: handles count references (reshape shares a buffer); a buffer is freed when its last
 * handle is released and no scheduled kernel or read still needs it (`readers`), so releasing a
 * tensor right after using it is always safe.
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
  /** The device value, once it exists. */
  value: unknown;
  /** WebGPU: the device value while its kernel has not run. */
  pending: Promise<unknown> | undefined;
  /** Why the kernel making it failed (read() rethrows). */
  error: unknown;
  /** Handles on this buffer. */
  refs: number;
  /** Scheduled kernels and reads that still need the buffer. */
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

const noop = (): void => undefined;

export class Store {
  readonly #rt: Runtime;
  readonly #cache: KernelCache;
  #handles = 0;
  #bytes = 0;
  #deviceValues = 0;
  #allocations = 0;
  #runs = 0;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(rt: Runtime, cache: KernelCache) {
    this.#rt = rt;
    this.#cache = cache;
  }

  /** A host buffer (size ≤ 1). */
  host(values: Float32Array): Buffer {
    return { size: values.length, host: values, value: undefined, pending: undefined, error: undefined, refs: 0, readers: 0, freed: false, producer: undefined };
  }

  /** A device buffer from a device value or the Promise of one. */
  device(result: unknown, size: number, producer?: CacheEntry): Buffer {
    const b: Buffer = { size, host: undefined, value: undefined, pending: undefined, error: undefined, refs: 0, readers: 0, freed: false, producer };
    this.#deviceValues++;
    if (this.#rt.fresh(result)) this.#allocations++;
    if (producer) producer.liveOutputs++;
    if (result instanceof Promise) {
      const p = result.then(
        (v) => {
          b.value = v;
          b.pending = undefined;
          return v;
        },
        (e: unknown) => {
          b.error = e;
          b.pending = undefined;
          throw e;
        },
      );
      b.pending = p;
      p.catch(noop);
      this.#track(p);
    } else {
      if (result === undefined || result === null) throw new BackendError('kernel', 'output', 'gpu.js returned no result');
      b.value = result;
    }
    return b;
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    p.then(noop, noop).finally(() => this.#pending.delete(p));
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
    const done = (): void => {
      this.#deviceValues--;
      if (b.producer) this.#cache.outputFreed(b.producer);
    };
    const free = (v: unknown): void => {
      try {
        this.#rt.free(v);
      } finally {
        done();
      }
    };
    if (b.pending) b.pending.then(free, done);
    else if (b.error !== undefined) done();
    else free(b.value);
  }

  /**
   * Runs a compiled kernel on its arguments and returns the output buffer. Synchronous modes run
   * now; on WebGPU the call is chained on pending inputs and the inputs stay alive until it ran.
   */
  launch(entry: CacheEntry, args: readonly Arg[], size: number): Buffer {
    const buffers = args.filter((a): a is Buffer => typeof a !== 'number');
    for (const b of buffers) {
      if (b.freed) throw new BackendError('kernel', 'input', 'a kernel input was already freed');
      if (b.host) throw new BackendError('kernel', 'input', 'a host buffer must be passed as a number');
    }
    if (!this.#rt.async) {
      const out = entry.kernel(...args.map((a) => (typeof a === 'number' ? a : a.value)));
      this.#runs++;
      return this.device(out, size, entry);
    }
    if (this.#rt.dispatch) {
      // WebGPU: the backend's queue records the run and hands out its output at once.
      for (const b of buffers) if (b.pending !== undefined) throw new BackendError('kernel', 'input', 'a WebGPU input is still pending');
      const out = this.#rt.dispatch(entry.kernel, args.map((a) => (typeof a === 'number' ? a : a.value)), size);
      this.#runs++;
      return this.device(out, size, entry);
    }
    // counted when dispatched: the run itself may wait for pending inputs
    this.#runs++;
    for (const b of buffers) b.readers++;
    const finish = (): void => {
      for (const b of buffers) {
        b.readers--;
        this.#maybeFree(b);
      }
    };
    let result: Promise<unknown>;
    try {
      if (buffers.every((b) => b.pending === undefined)) {
        for (const b of buffers) if (b.error !== undefined) throw b.error;
        result = Promise.resolve(entry.kernel(...args.map((a) => (typeof a === 'number' ? a : a.value))));
      } else {
        result = Promise.all(args.map((a) => (typeof a === 'number' ? a : a.pending ?? (a.error !== undefined ? Promise.reject(a.error) : a.value)))).then((vals) => entry.kernel(...vals));
      }
    } catch (e) {
      finish();
      throw e;
    }
    result.then(finish, finish);
    return this.device(result, size, entry);
  }

  /** Reads a buffer back (awaits the kernel that makes it). */
  async read(b: Buffer): Promise<Float32Array> {
    if (b.host) return b.host.slice();
    if (b.freed) throw new BackendError('read', 'handle', 'the buffer was already freed');
    b.readers++;
    try {
      const v = b.pending ? await b.pending : b.value;
      if (b.error !== undefined) throw b.error;
      const out = await this.#rt.read(v);
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
    if (!this.#rt.readSync || b.pending) throw new BackendError('dataSync', 'tensor', `gpujs:${this.#rt.info.mode} has no synchronous read: use await t.data()`);
    if (b.error !== undefined) throw b.error;
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

  /** Resolves when every scheduled kernel has run (and deferred frees happened). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    if (this.#rt.settle) await this.#rt.settle();
    // NOTE: one macrotask for the deferred frees; pages have no setImmediate (Node's is kept).
    await new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
  }
}
