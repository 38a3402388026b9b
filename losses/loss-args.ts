/**
 * Argument checks shared by the tensor losses: tensors of layout `[B, K, ...spatial]`, matching
 * shapes, the class selection `idc` and numeric options. Everything here is synchronous and reads
 * shapes and options only, never tensor values.
 */
import { InputError, ShapeError, showShape } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { concat, slice } from '../core/ops.js';
import { Tensor } from '../core/tensor.js';

/** Reductions offered by the losses that have one. */
export type Reduction = 'mean' | 'sum' | 'none';

/** @internal checks that `x` is a tensor of layout `[B, K, ...spatial]` and returns K. */
export function checkClassTensor(op: string, argument: string, x: unknown): number {
  if (!(x instanceof Tensor)) throw new InputError(op, argument, `expected a Tensor, got ${describe(x)}`);
  if (x.rank < 2) throw new ShapeError(op, argument, `expected [B, K, ...spatial] (rank ≥ 2), got ${showShape(x.shape)}`);
  return x.shape[1]!;
}

/** @internal checks that `other` is a tensor of exactly the shape of `ref` (named `refName`). */
export function checkSameShape(op: string, argument: string, other: unknown, ref: Tensor, refName: string): void {
  if (!(other instanceof Tensor)) throw new InputError(op, argument, `expected a Tensor, got ${describe(other)}`);
  if (other.rank !== ref.rank || other.shape.some((d, i) => d !== ref.shape[i])) {
    throw new ShapeError(op, argument, `expected the shape of ${refName} ${showShape(ref.shape)}, got ${showShape(other.shape)}`);
  }
}

/**
 * @internal checks that `options` is undefined or a plain object whose keys are all in `known`
 * (a misspelt key is an InputError naming it).
 */
export function checkOptions(op: string, options: unknown, known: readonly string[]): void {
  checkOptionKeys(op, options, known);
}

/**
 * @internal resolves `idc` (default: every class) for K classes: a non-empty list of distinct
 * integers in [0, K).
 */
export function resolveIdc(op: string, idc: unknown, classes: number): number[] {
  if (idc === undefined) return Array.from({ length: classes }, (_, k) => k);
  if (!Array.isArray(idc)) throw new InputError(op, 'options.idc', `expected an array of class indices, got ${describe(idc)}`);
  if (idc.length === 0) throw new InputError(op, 'options.idc', 'expected at least one class index, got []');
  const seen = new Set<number>();
  for (const k of idc as unknown[]) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= classes) {
      throw new InputError(op, 'options.idc', `class index ${String(k)} is out of range for K = ${classes} classes (expected integers in [0, ${classes}))`);
    }
    if (seen.has(k)) throw new InputError(op, 'options.idc', `class index ${k} appears twice in ${JSON.stringify(idc)}`);
    seen.add(k);
  }
  return idc as number[];
}

/**
 * @internal the classes `idc` of `x` [B, K, ...] along axis 1, in the order given: `x` itself
 * when `idc` is every class in order, one slice when it is a contiguous ascending run, otherwise
 * the concatenation of one slice per class.
 */
export function selectClasses(x: Tensor, idc: readonly number[]): Tensor {
  const k = x.shape[1]!;
  const first = idc[0]!;
  const contiguous = idc.every((c, i) => c === first + i);
  if (contiguous && first === 0 && idc.length === k) return x;
  const zeros = x.shape.map(() => 0);
  const at = (start: number, count: number) => slice(x, zeros.map((_, a) => (a === 1 ? start : 0)), x.shape.map((d, a) => (a === 1 ? count : d)));
  if (contiguous) return at(first, idc.length);
  return concat(idc.map((c) => at(c, 1)), 1);
}

/** @internal the spatial axes [2, rank) of a `[B, K, ...spatial]` tensor. */
export function spatialAxes(x: Tensor): number[] {
  return x.shape.slice(2).map((_, i) => i + 2);
}

/** @internal checks a reduction option. */
export function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction === undefined) return 'mean';
  if (reduction === 'mean' || reduction === 'sum' || reduction === 'none') return reduction;
  throw new InputError(op, 'options.reduction', `expected 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
}

/** @internal checks a finite, non-negative number option (or returns its default). */
export function nonNegative(op: string, argument: string, value: unknown, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InputError(op, argument, `expected a finite number ≥ 0, got ${describe(value)}`);
  }
  return value;
}

/** @internal a short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x instanceof Tensor) return `a Tensor of shape ${showShape(x.shape)}`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return typeof x;
}
