/**
 * Plain row-major arrays (`{ data, shape }`) and the checks shared by the distance transform, the
 * signed distance maps and the metrics. These functions are synchronous and work on host memory;
 * they never touch a tensor or a backend.
 */
import { InputError, ShapeError, showShape } from '../core/errors.js';
import { checkShape, sizeOf } from '../core/shape.js';

/**
 * A row-major N-D array on the host: element `(i0, …, ik)` is `data[((i0·n1 + i1)·n2 + …)]`.
 * `data` may be any array-like of numbers (typed arrays included); masks may also be `boolean[]`.
 */
export interface NdArray<D extends ArrayLike<number | boolean> = ArrayLike<number>> {
  readonly data: D;
  readonly shape: readonly number[];
}

/** A mask: 0/1 numbers or booleans, row-major. */
export type MaskArray = NdArray<ArrayLike<number> | ArrayLike<boolean>>;

/** A distance map as returned by `edt`: float64, same shape as the mask. */
export interface Float64NdArray extends NdArray<Float64Array> {}

/** A signed distance map as returned by `signedDistanceMap(s)`: float32. */
export interface Float32NdArray extends NdArray<Float32Array> {}

export { sizeOf, stridesOf, checkShape } from '../core/shape.js';

/**
 * Checks an array value: `shape` valid and `data.length` equal to the product of the shape.
 * Throws `ShapeError` naming `argument`.
 */
export function checkArray(
  op: string,
  argument: string,
  array: { readonly data: ArrayLike<unknown>; readonly shape: readonly number[] },
): void {
  if (array === null || typeof array !== 'object' || array.data === null || typeof array.data !== 'object') {
    throw new ShapeError(op, argument, 'expected an array value { data, shape }');
  }
  const shape = checkShape(op, `${argument}.shape`, array.shape);
  const n = sizeOf(shape);
  if (array.data.length !== n) {
    throw new ShapeError(
      op,
      argument,
      `data has ${array.data.length} elements but shape ${showShape(shape)} needs ${n}`,
    );
  }
}

/**
 * Checks a mask (shape, length, values exactly 0/1 or boolean) and returns its values as a fresh
 * `Uint8Array` of 0/1. Throws `ShapeError` or `InputError` naming `argument` and, for values, the
 * first bad index and value.
 */
export function readMask(op: string, argument: string, mask: MaskArray): Uint8Array {
  checkArray(op, argument, mask);
  const data = mask.data as ArrayLike<unknown>;
  const n = data.length;
  if (data instanceof Uint8Array) {
    // NOTE: the common case, kept monomorphic: check, then copy natively.
    for (let i = 0; i < n; i++) {
      if (data[i] > 1) {
        throw new InputError(op, argument, `expected 0/1 or boolean values, got ${data[i]} at index ${i}`);
      }
    }
    return data.slice();
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v === 1 || v === true) out[i] = 1;
    else if (v !== 0 && v !== false) {
      throw new InputError(op, argument, `expected 0/1 or boolean values, got ${String(v)} at index ${i}`);
    }
  }
  return out;
}

/**
 * Checks class-index labels: shape, length, and every value an integer in `[0, classes)`.
 * Throws `InputError` naming `argument`, the first bad index and its value.
 */
export function checkLabels(op: string, argument: string, labels: NdArray, classes: number): void {
  checkArray(op, argument, labels);
  const data = labels.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new InputError(
        op,
        argument,
        `expected integer class indices in [0, ${classes}), got ${String(v)} at index ${i}`,
      );
    }
  }
}

/**
 * Returns the spacing to use for an array of rank `rank`: all 1s when `spacing` is undefined,
 * otherwise `spacing` itself after checking its length equals `rank` and every entry is finite and
 * positive (`InputError` naming `argument` otherwise).
 */
export function readSpacing(
  op: string,
  argument: string,
  spacing: readonly number[] | undefined,
  rank: number,
): readonly number[] {
  if (spacing === undefined) return new Array<number>(rank).fill(1);
  if (!Array.isArray(spacing)) {
    throw new InputError(op, argument, `expected an array of ${rank} positive numbers`);
  }
  if (spacing.length !== rank) {
    throw new InputError(op, argument, `expected ${rank} entries (one per axis), got ${spacing.length}`);
  }
  for (let i = 0; i < rank; i++) {
    const s: unknown = spacing[i];
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw new InputError(op, argument, `expected finite positive entries, got ${String(s)} at axis ${i}`);
    }
  }
  return spacing;
}

/**
 * Throws `ShapeError` unless the two shapes are equal. The error's `argument` is the second name
 * (the one checked against the first); its message names both arguments and both shapes.
 */
export function checkSameShape(
  op: string,
  names: readonly [string, string],
  a: readonly number[],
  b: readonly number[],
): void {
  const same = a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same) {
    throw new ShapeError(
      op,
      names[1],
      `expected the shape of ${names[0]} ${showShape(a)}, got ${showShape(b)}`,
    );
  }
}
