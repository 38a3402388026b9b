/** The immutable tensor value. */
import type { Backend } from './backend.js';
import { BackendError, InputError } from './errors.js';
import { sizeOf, type Shape } from './shape.js';

let nextId = 0;

/** Nested number arrays, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

/**
 * An immutable n-dimensional float32 array living on a backend. Operations return new tensors;
 * none mutates. Read values with `await t.data()`.
 */
export class Tensor {
  /** Extents, row-major. */
  readonly shape: Shape;
  readonly dtype = 'float32' as const;
  /** Number of elements. */
  readonly size: number;
  /** Unique id, stable for the tensor's life (for debugging and maps). */
  readonly id: number;
  /** @internal the backend that holds the buffer */
  readonly backend: Backend;
  /** @internal the backend's buffer */
  readonly handle: unknown;
  #disposed = false;
  #donated = false;

  /** @internal tensors are made by ops, never constructed directly. */
  constructor(shape: Shape, handle: unknown, backend: Backend) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.handle = handle;
    this.backend = backend;
    this.id = nextId++;
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once released (by `dispose` or the end of its `scope`). */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** @internal marks the tensor released and frees its buffer. */
  release(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.backend.release(this.handle);
  }

  /**
   * @internal marks the tensor as donated to a `jit` call, which took over (and released) its
   * buffer: any later use throws `BackendError`.
   */
  markDonated(): void {
    this.#disposed = true;
    this.#donated = true;
  }

  /** @internal throws when the tensor can no longer be used. */
  assertLive(op: string, argument: string): void {
    if (this.#donated) throw new BackendError(op, argument, `tensor #${this.id} of shape [${this.shape.join(', ')}] was donated to a jit-compiled call (jit(f, { donate: true })), which reused its buffer: use the call's results instead`);
    if (this.#disposed) throw new InputError(op, argument, `tensor #${this.id} of shape [${this.shape.join(', ')}] was already disposed`);
  }

  /** @internal throws synchronously when values are asked of a tensor being traced by `jit`. */
  #guardTrace(op: string): void {
    if (this.backend.traceOnly) {
      throw new InputError(op, 'tensor', `cannot read the values of tensor #${this.id} of shape [${this.shape.join(', ')}] inside a function traced by jit: a traced function computes with tensors only (read its results after the call)`);
    }
  }

  /** The values, row-major, as float32. */
  data(): Promise<Float32Array> {
    this.#guardTrace('data');
    return this.#data();
  }

  async #data(): Promise<Float32Array> {
    this.assertLive('data', 'tensor');
    const v = await this.backend.read(this.handle);
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  /** The values at the backend's full precision (float64 on `cpu64`). */
  dataFloat64(): Promise<Float64Array> {
    this.#guardTrace('dataFloat64');
    return this.#dataFloat64();
  }

  async #dataFloat64(): Promise<Float64Array> {
    this.assertLive('dataFloat64', 'tensor');
    const v = await this.backend.read(this.handle);
    return v instanceof Float64Array ? v : Float64Array.from(v);
  }

  /**
   * Synchronous read, only on backends that can honour it (the CPU backends). Library code does
   * not use it.
   */
  dataSync(): Float32Array {
    this.#guardTrace('dataSync');
    this.assertLive('dataSync', 'tensor');
    if (!this.backend.readSync) throw new BackendError('dataSync', 'tensor', `backend '${this.backend.name}' has no synchronous read: use await t.data()`);
    const v = this.backend.readSync(this.handle);
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  /** The values as nested arrays (a number for a scalar). */
  toArray(): Promise<NestedArray> {
    this.#guardTrace('toArray');
    return this.#toArray();
  }

  async #toArray(): Promise<NestedArray> {
    const flat = await this.dataFloat64();
    const build = (axis: number, offset: number, stride: number): NestedArray => {
      if (axis === this.shape.length) return flat[offset]!;
      const n = this.shape[axis]!;
      const inner = stride / Math.max(n, 1);
      return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * inner, inner));
    };
    return build(0, 0, this.size);
  }

  /** Releases the buffer now (same as `dispose(t)`). */
  dispose(): void {
    disposeHook(this);
  }

  toString(): string {
    return `Tensor#${this.id}[${this.shape.join(', ')}]${this.#disposed ? ' (disposed)' : ''}`;
  }
}

let disposeHook: (t: Tensor) => void = (t) => t.release();

/** @internal lets the engine route `t.dispose()` through its deferral logic. */
export function setDisposeHook(hook: (t: Tensor) => void): void {
  disposeHook = hook;
}

/** True for tensors. */
export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
