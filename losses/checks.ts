/**
 * Asynchronous value checks for loaders and the training loop: the losses check shapes only, these
 * read a tensor's values (`await x.data()`) and reject with an InputError that names the argument,
 * the first offending index and its value.
 */
import { InputError, ShapeError, showShape } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { Tensor } from '../core/tensor.js';
import { describe } from './loss-args.js';

/** Options of `checkProbabilities`. */
export interface CheckProbabilitiesOptions {
  /** The class axis (1, as in `[B, K, ...]`); negative counts from the end. */
  readonly axis?: number;
  /** Allowed deviation of each value from [0, 1] and of each sum from 1 (1e-4). */
  readonly tolerance?: number;
  /** The argument's name in error messages (`'p'`). */
  readonly name?: string;
}

/** Options of `checkOneHot`. */
export interface CheckOneHotOptions {
  /** The class axis (1); negative counts from the end. */
  readonly axis?: number;
  /** The argument's name in error messages (`'t'`). */
  readonly name?: string;
}

/** Options of `checkFinite`. */
export interface CheckFiniteOptions {
  /** The argument's name in error messages (`'x'`). */
  readonly name?: string;
}

function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new InputError(op, name, `expected a Tensor, got ${describe(x)}`);
  x.assertLive(op, name);
  return x;
}

function resolveAxis(op: string, x: Tensor, axis: unknown): number {
  const a = axis ?? 1;
  if (typeof a !== 'number' || !Number.isInteger(a) || a < -x.rank || a >= x.rank) {
    throw new ShapeError(op, 'options.axis', `axis ${String(a)} is out of range for ${showShape(x.shape)}`);
  }
  return a < 0 ? a + x.rank : a;
}

/** The multi-index of flat position `i`, optionally with `:` on `axis`: `[0, :, 3]`. */
function indexOf(shape: readonly number[], i: number, axis?: number): string {
  const idx: string[] = new Array<string>(shape.length);
  let rest = i;
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!;
    idx[a] = a === axis ? ':' : String(rest % d);
    rest = Math.floor(rest / d);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Visits each line along `axis` of a tensor of shape `shape`, in row-major order: the line's
 * elements are at `start + j·stride`, j < shape[axis]. Stops when `visit` returns false.
 */
function forEachLine(shape: readonly number[], axis: number, visit: (start: number, stride: number) => boolean): void {
  const extent = shape[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= shape[a]!;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      if (!visit(o * extent * inner + i, inner)) return;
    }
  }
}

/**
 * Checks that `p` holds probabilities along `axis`: every value in [−tol, 1 + tol] and every sum
 * over `axis` within tol of 1 (tol = `tolerance`, 1e-4). Resolves to nothing, or rejects with an
 * InputError naming the first offending index and value (NaN fails both tests).
 */
export async function checkProbabilities(p: Tensor, options: CheckProbabilitiesOptions = {}): Promise<void> {
  const op = 'checkProbabilities';
  checkOptionKeys(op, options, ['axis', 'tolerance', 'name']);
  const name = options.name ?? 'p';
  const x = checkTensor(op, name, p);
  const axis = resolveAxis(op, x, options.axis);
  const tol = options.tolerance ?? 1e-4;
  if (typeof tol !== 'number' || !(tol >= 0) || !Number.isFinite(tol)) throw new InputError(op, 'options.tolerance', `expected a finite number ≥ 0, got ${describe(tol)}`);
  const data = await x.dataFloat64();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= -tol && v <= 1 + tol)) {
      throw new InputError(op, name, `value ${v} at index ${indexOf(x.shape, i)} is not a probability (expected [0, 1] within ${tol})`);
    }
  }
  let failure: string | undefined;
  forEachLine(x.shape, axis, (start, stride) => {
    let s = 0;
    for (let j = 0; j < x.shape[axis]!; j++) s += data[start + j * stride]!;
    if (Math.abs(s - 1) <= tol) return true;
    failure = `the sum over axis ${axis} at index ${indexOf(x.shape, start, axis)} is ${s} (expected 1 within ${tol})`;
    return false;
  });
  if (failure !== undefined) throw new InputError(op, name, failure);
}

/**
 * Checks that `t` is one-hot along `axis`: every value exactly 0 or 1 and exactly one 1 in each
 * line along `axis`. Resolves to nothing, or rejects with an InputError naming the first offending
 * index and value (or count of ones).
 */
export async function checkOneHot(t: Tensor, options: CheckOneHotOptions = {}): Promise<void> {
  const op = 'checkOneHot';
  checkOptionKeys(op, options, ['axis', 'name']);
  const name = options.name ?? 't';
  const x = checkTensor(op, name, t);
  const axis = resolveAxis(op, x, options.axis);
  const data = await x.dataFloat64();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0 && v !== 1) throw new InputError(op, name, `value ${v} at index ${indexOf(x.shape, i)} is not 0 or 1`);
  }
  let failure: string | undefined;
  forEachLine(x.shape, axis, (start, stride) => {
    let ones = 0;
    for (let j = 0; j < x.shape[axis]!; j++) ones += data[start + j * stride]!;
    if (ones === 1) return true;
    failure = `the line along axis ${axis} at index ${indexOf(x.shape, start, axis)} has ${ones} ones (expected exactly 1)`;
    return false;
  });
  if (failure !== undefined) throw new InputError(op, name, failure);
}

/**
 * Checks that every value of `x` is finite. Resolves to nothing, or rejects with an InputError
 * naming the first NaN or ±Infinity and its index.
 */
export async function checkFinite(x: Tensor, options: CheckFiniteOptions = {}): Promise<void> {
  const op = 'checkFinite';
  checkOptionKeys(op, options, ['name']);
  const name = options.name ?? 'x';
  const t = checkTensor(op, name, x);
  const data = await t.dataFloat64();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new InputError(op, name, `value ${data[i]} at index ${indexOf(t.shape, i)} is not finite`);
  }
}
