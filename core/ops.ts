/**
 * The public operations: thin wrappers around primitives (with argument checks that name the
 * public op) and compositions of them. Everything here is differentiable through the primitives'
 * rules unless stated otherwise.
 */
import { detach, runPrim, scope, scoped, upload } from './engine.js';
import { InputError, ShapeError, showShape } from './errors.js';
import { checkOptionKeys } from './options.js';
import type { CompareOp } from './primitives.js';
import { broadcastShapes, checkShape, normalizeAxes, normalizeAxis, sameShape, sizeOf, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';

/** A tensor, or a number used as a scalar tensor. */
export type TensorLike = Tensor | number;

/** @internal converts a number argument to a scalar tensor. */
export function asTensor(x: TensorLike, op: string, argument: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return upload([x], []);
  throw new InputError(op, argument, `expected a Tensor or a number, got ${x === null ? 'null' : typeof x}`);
}

/**
 * @internal a new tensor with `x`'s values (sharing storage where the backend can), for ops that
 * would otherwise hand back their input: the caller may dispose the result without losing `x`.
 */
export function alias(x: Tensor, op: string, argument = 'x'): Tensor {
  if (!(x instanceof Tensor)) throw new InputError(op, argument, `expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  x.assertLive(op, argument);
  return runPrim('reshape', [x], { shape: x.shape }, [argument]);
}

// ---------------------------------------------------------------------------------------------
// Creation

function inferShape(data: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

function flattenNested(data: NestedArray, shape: Shape, op: string): number[] {
  const out: number[] = [];
  const walk = (x: NestedArray, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof x !== 'number') throw new ShapeError(op, `data${path}`, `ragged nesting: expected a number at depth ${axis}, got ${Array.isArray(x) ? 'an array' : typeof x}`);
      out.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis]) {
      throw new ShapeError(op, `data${path}`, `ragged nesting: expected an array of length ${shape[axis]} at depth ${axis}, got ${Array.isArray(x) ? `length ${x.length}` : typeof x}`);
    }
    x.forEach((v, i) => walk(v, axis + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return out;
}

function isArrayLikeOfNumbers(x: unknown): x is ArrayLike<number> {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/**
 * Makes a tensor from values. `data` is a typed array or flat number array (then `shape`
 * defaults to `[length]`), nested number arrays (shape inferred; ragged nesting is a
 * ShapeError), or a number (a scalar).
 */
export function tensor(data: ArrayLike<number> | NestedArray, shape?: readonly number[]): Tensor {
  const op = 'tensor';
  if (shape !== undefined) checkShape(op, 'shape', shape);
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (isArrayLikeOfNumbers(data)) {
    flat = data;
    inferred = [data.length];
  } else if (Array.isArray(data)) {
    inferred = inferShape(data as NestedArray, op);
    flat = flattenNested(data as NestedArray, inferred, op);
  } else {
    throw new InputError(op, 'data', `expected a number, a typed array or nested number arrays, got ${data === null ? 'null' : typeof data}`);
  }
  const finalShape = shape ?? inferred;
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(op, 'shape', `${flat.length} values do not fill shape ${showShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  return upload(flat, finalShape);
}

/** A rank-0 tensor. */
export function scalar(value: number): Tensor {
  return upload([value], []);
}

/** Above this many elements `full` broadcasts one value on the backend instead of uploading. */
const FULL_BROADCAST_MIN = 4096;

/**
 * A tensor filled with `value`.
 * NOTE: large ones are made on the backend by broadcasting one uploaded value, not by uploading a
 * host array of the full size (zeros of activation size are common in derivative rules).
 */
export function full(shape: readonly number[], value: number): Tensor {
  checkShape('full', 'shape', shape);
  if (sizeOf(shape) < FULL_BROADCAST_MIN) return upload(new Float64Array(sizeOf(shape)).fill(value), shape);
  return scope(() => runPrim('broadcast', [upload([value], shape.map(() => 1))], { shape }));
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  return full(shape, 0);
}

/** A tensor of ones. */
export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

/** Zeros of `x`'s shape. */
export function zerosLike(x: Tensor): Tensor {
  return zeros(x.shape);
}

/** Ones of `x`'s shape. */
export function onesLike(x: Tensor): Tensor {
  return ones(x.shape);
}

/** `[0, 1, …, n − 1]`. */
export function range(n: number): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new InputError('range', 'n', `expected a non-negative integer, got ${n}`);
  return upload(Float64Array.from({ length: n }, (_, i) => i), [n]);
}

// ---------------------------------------------------------------------------------------------
// Elementwise

/** −x */
export const neg = (x: Tensor): Tensor => runPrim('neg', [x], {}, ['x']);
/** eˣ */
export const exp = (x: Tensor): Tensor => runPrim('exp', [x], {}, ['x']);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => runPrim('log', [x], {}, ['x']);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => runPrim('sqrt', [x], {}, ['x']);
/** |x| */
export const abs = (x: Tensor): Tensor => runPrim('abs', [x], {}, ['x']);
/** −1, 0 or 1 (zero derivative). */
export const sign = (x: Tensor): Tensor => runPrim('sign', [x], {}, ['x']);

function binary(prim: 'add' | 'sub' | 'mul' | 'div' | 'pow', a: TensorLike, b: TensorLike): Tensor {
  return runPrim(prim, [asTensor(a, prim, 'a'), asTensor(b, prim, 'b')], {}, ['a', 'b']);
}

/** a + b (broadcasting). */
export const add = scoped((a: TensorLike, b: TensorLike): Tensor => binary('add', a, b));
/** a − b (broadcasting). */
export const sub = scoped((a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b));
/** a · b (broadcasting). */
export const mul = scoped((a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b));
/** a / b (broadcasting). */
export const div = scoped((a: TensorLike, b: TensorLike): Tensor => binary('div', a, b));
/** aᵇ (broadcasting; a > 0 where b is differentiated). */
export const pow = scoped((a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b));
/** x² */
export const square = scoped((x: Tensor): Tensor => mul(x, x));

function compare(op: CompareOp, a: TensorLike, b: TensorLike): Tensor {
  return runPrim('compare', [asTensor(a, op, 'a'), asTensor(b, op, 'b')], { op }, ['a', 'b']);
}

/** 1 where a < b, else 0 (not differentiable). */
export const less = scoped((a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b));
/** 1 where a ≤ b, else 0. */
export const lessEqual = scoped((a: TensorLike, b: TensorLike): Tensor => compare('le', a, b));
/** 1 where a > b, else 0. */
export const greater = scoped((a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b));
/** 1 where a ≥ b, else 0. */
export const greaterEqual = scoped((a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b));
/** 1 where a = b, else 0. */
export const equal = scoped((a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b));
/** 1 where a ≠ b, else 0. */
export const notEqual = scoped((a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b));

/** `a` where `cond` ≠ 0, else `b` (all three broadcast). */
export const where = scoped(function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  return runPrim('where', [asTensor(cond, 'where', 'cond'), asTensor(a, 'where', 'a'), asTensor(b, 'where', 'b')], {}, ['cond', 'a', 'b']);
});

/** Elementwise maximum; at ties the gradient goes to `a`. */
export const maximum = scoped((a: TensorLike, b: TensorLike): Tensor => minMax('maximum', a, b));
/** Elementwise minimum; at ties the gradient goes to `a`. */
export const minimum = scoped((a: TensorLike, b: TensorLike): Tensor => minMax('minimum', a, b));

function minMax(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a, op, 'a');
  const tb = asTensor(b, op, 'b');
  broadcastShapes(op, ta.shape, tb.shape);
  return where(op === 'maximum' ? greaterEqual(ta, tb) : lessEqual(ta, tb), ta, tb);
}

/** Limits values to [lo, hi]; zero gradient outside. */
export const clamp = scoped(function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new InputError('clamp', 'lo, hi', `expected lo ≤ hi, got ${lo} and ${hi}`);
  return where(less(x, lo), lo, where(greater(x, hi), hi, x));
});

/**
 * max(x, 0).
 * NOTE: written as where(x > 0, x, 0), not maximum(x, 0), so the gradient at 0 is 0 and never split.
 */
export const relu = scoped((x: Tensor): Tensor => where(greater(x, 0), x, 0));
/** x for x > 0, slope·x otherwise. */
export const leakyRelu = scoped((x: Tensor, slope: number = 0.01): Tensor => where(greater(x, 0), x, mul(x, slope)));
/** 1 / (1 + e⁻ˣ) */
export const sigmoid = scoped((x: Tensor): Tensor => div(1, add(exp(neg(x)), 1)));
/** Hyperbolic tangent, as 2·sigmoid(2x) − 1. */
export const tanh = scoped((x: Tensor): Tensor => sub(mul(sigmoid(mul(x, 2)), 2), 1));

/** A value with no derivative: gradients do not flow through it. */
export function stopGradient(x: Tensor): Tensor {
  return detach(x);
}

// ---------------------------------------------------------------------------------------------
// Shapes and movement

/** New shape with the same elements; one extent may be −1 (inferred). */
export const reshape = scoped(function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const unknown = shape.filter((d) => d === -1).length;
  let target = [...shape];
  if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError('reshape', 'shape', `expected non-negative integers and at most one −1, got ${showShape(shape)}`);
  }
  if (unknown === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new ShapeError('reshape', 'shape', `cannot infer the −1 in ${showShape(shape)} for ${showShape(x.shape)}`);
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sizeOf(target) !== x.size) throw new ShapeError('reshape', 'shape', `cannot reshape ${showShape(x.shape)} (${x.size} elements) to ${showShape(shape)}`);
  return runPrim('reshape', [x], { shape: target }, ['x']);
});

/** Inserts an extent-1 axis at `axis`. */
export const expandDims = scoped(function expandDims(x: Tensor, axis: number): Tensor {
  if (!Number.isInteger(axis) || axis < -(x.rank + 1) || axis > x.rank) {
    throw new ShapeError('expandDims', 'axis', `axis ${axis} is out of range for inserting into shape ${showShape(x.shape)} (allowed ${-(x.rank + 1)} … ${x.rank})`);
  }
  const a = normalizeAxis('expandDims', axis, x.rank + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
});

/** Removes extent-1 axes (all of them, or those given). */
export const squeeze = scoped(function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const list = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes('squeeze', axes, x.shape);
  for (const a of list) if (x.shape[a] !== 1) throw new ShapeError('squeeze', 'axes', `axis ${a} of ${showShape(x.shape)} has extent ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => !list.includes(i)));
});

/** Broadcasts to `shape` (NumPy rules; leading axes may be added). */
export const broadcastTo = scoped(function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkShape('broadcastTo', 'shape', shape);
  const target = broadcastShapes('broadcastTo', x.shape, shape, ['x', 'shape']);
  if (!sameShape(target, shape)) throw new ShapeError('broadcastTo', 'shape', `cannot broadcast ${showShape(x.shape)} to ${showShape(shape)}`);
  if (sameShape(x.shape, shape)) return alias(x, 'broadcastTo');
  const lifted = x.rank < shape.length ? reshape(x, [...new Array<number>(shape.length - x.rank).fill(1), ...x.shape]) : x;
  return runPrim('broadcast', [lifted], { shape }, ['x']);
});

/**
 * Sums `x` down to `shape`, the inverse of broadcasting: leading axes are summed away, axes of
 * extent 1 in `shape` are summed with keepDims.
 */
export const sumToShape = scoped(function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return alias(x, 'sumToShape');
  const lead = x.rank - shape.length;
  if (lead < 0) throw new ShapeError('sumToShape', 'shape', `cannot sum ${showShape(x.shape)} to the larger rank of ${showShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && x.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== x.shape[i]) throw new ShapeError('sumToShape', 'shape', `${showShape(x.shape)} is not a broadcast of ${showShape(shape)}`);
  }
  const summed = axes.length ? runPrim('sum', [x], { axes }) : x;
  return runPrim('reshape', [summed], { shape });
});

/** Permutes axes: output axis i is input axis perm[i]; default reverses them. */
export const transpose = scoped(function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  return runPrim('permute', [x], { perm: p.map((a) => (a < 0 ? a + x.rank : a)) }, ['x']);
});

/** Pads with a constant: widths[i] = [before, after] for axis i. */
export const pad = scoped(function pad(x: Tensor, widths: ReadonlyArray<readonly [number, number]>, value: number = 0): Tensor {
  return runPrim('pad', [x], { widths, value }, ['x']);
});

/** The block starting at `begin` with extents `size` (−1 means to the end of the axis). */
export const slice = scoped(function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  if (begin.length !== x.rank) throw new ShapeError('slice', 'begin', `expected ${x.rank} entries for ${showShape(x.shape)}, got ${JSON.stringify(begin)}`);
  const s = size ?? begin.map(() => -1);
  if (s.length !== x.rank) throw new ShapeError('slice', 'size', `expected ${x.rank} entries for ${showShape(x.shape)}, got ${JSON.stringify(s)}`);
  return runPrim('slice', [x], { begin, size: s.map((d, i) => (d === -1 ? x.shape[i]! - begin[i]! : d)) }, ['x']);
});

/** Joins tensors along an existing axis. */
export const concat = scoped(function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError('concat', 'xs', 'expected a non-empty array of tensors');
  const a = normalizeAxis('concat', axis, xs[0]!.shape);
  if (xs.length === 1) return alias(xs[0]!, 'concat', 'xs[0]');
  return runPrim('concat', xs, { axis: a }, xs.map((_, i) => `xs[${i}]`));
});

/** Joins tensors of equal shape along a new axis. */
export const stack = scoped(function stack(xs: readonly Tensor[], axis: number = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError('stack', 'xs', 'expected a non-empty array of tensors');
  xs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new InputError('stack', `xs[${i}]`, `expected a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (!sameShape(x.shape, xs[0]!.shape)) throw new ShapeError('stack', `xs[${i}]`, `shape ${showShape(x.shape)} differs from xs[0]'s ${showShape(xs[0]!.shape)}; stack needs equal shapes`);
  });
  const a = normalizeAxis('stack', axis, xs[0]!.rank + 1);
  return concat(xs.map((x) => expandDims(x, a)), a);
});

// ---------------------------------------------------------------------------------------------
// Reductions

function reduce(prim: 'sum' | 'max', op: string, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const list = normalizeAxes(op, axes, x.shape);
  if (prim === 'max') {
    for (const a of list) if (x.shape[a] === 0) throw new ShapeError(op, 'x', `${op} over the empty axis ${a} of ${showShape(x.shape)}`);
  }
  const kept = list.length ? runPrim(prim, [x], { axes: list }, ['x']) : alias(x, op);
  return keepDims ? kept : reshape(kept, x.shape.filter((_, i) => !list.includes(i)));
}

/** Sum over `axes` (all by default). */
export const sum = scoped((x: Tensor, axes?: number | readonly number[], keepDims: boolean = false): Tensor => reduce('sum', 'sum', x, axes, keepDims));
/** Maximum over `axes`; tied maxima share the gradient evenly. */
export const max = scoped((x: Tensor, axes?: number | readonly number[], keepDims: boolean = false): Tensor => reduce('max', 'max', x, axes, keepDims));
/** Minimum over `axes`. */
export const min = scoped((x: Tensor, axes?: number | readonly number[], keepDims: boolean = false): Tensor => neg(reduce('max', 'min', neg(x), axes, keepDims)));

/** Mean over `axes` (NaN over an empty axis). */
export const mean = scoped(function mean(x: Tensor, axes?: number | readonly number[], keepDims: boolean = false): Tensor {
  const list = normalizeAxes('mean', axes, x.shape);
  const count = list.reduce((n, a) => n * x.shape[a]!, 1);
  return div(sum(x, list, keepDims), count);
});

/** Index of the first maximum along `axis`, as float32 (not differentiable). */
export const argmax = scoped(function argmax(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('argmax', axis, x.shape);
  const kept = runPrim('argmax', [x], { axis: a }, ['x']);
  return reshape(kept, x.shape.filter((_, i) => i !== a));
});

/** log Σ exp(x) over `axes`, computed stably. */
export const logSumExp = scoped(function logSumExp(x: Tensor, axes?: number | readonly number[], keepDims: boolean = false): Tensor {
  const list = normalizeAxes('logSumExp', axes, x.shape);
  const m = stopGradient(max(x, list, true));
  const lse = add(log(sum(exp(sub(x, m)), list, true)), m);
  return keepDims ? lse : reshape(lse, x.shape.filter((_, i) => !list.includes(i)));
});

// ---------------------------------------------------------------------------------------------
// Linear algebra

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Use aᵀ (of the last two axes) instead of a. */
  readonly transA?: boolean;
  /** Use bᵀ (of the last two axes) instead of b. */
  readonly transB?: boolean;
}

const MATMUL_KEYS: readonly string[] = ['transA', 'transB'];

/**
 * Matrix product of the last two axes, batch axes broadcast: [..., M, K] × [..., K, N].
 * Rank-1 operands are not accepted (reshape them).
 *
 * @throws InputError naming an unknown option key (`options.transposeA`).
 */
export const matmul = scoped(function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkOptionKeys('matmul', options, MATMUL_KEYS);
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (!(a instanceof Tensor)) throw new InputError('matmul', 'a', 'expected a Tensor');
  if (!(b instanceof Tensor)) throw new InputError('matmul', 'b', 'expected a Tensor');
  if (a.rank < 2 || b.rank < 2) throw new ShapeError('matmul', 'a, b', `expected rank ≥ 2 operands, got ${showShape(a.shape)} and ${showShape(b.shape)}`);
  const [m, ka] = transA ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!] : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [kb, n] = transB ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!] : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (ka !== kb) throw new ShapeError('matmul', 'a, b', `inner extents differ: ${showShape(a.shape)}${transA ? 'ᵀ' : ''} × ${showShape(b.shape)}${transB ? 'ᵀ' : ''} (${ka} vs ${kb})`);
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    throw new ShapeError('matmul', 'a, b', `batch axes of ${showShape(a.shape)} and ${showShape(b.shape)} do not broadcast (${showShape(a.shape.slice(0, -2))} vs ${showShape(b.shape.slice(0, -2))})`);
  }
  const bsize = sizeOf(batch);
  const to3 = (t: Tensor) => {
    const mat = t.shape.slice(-2);
    const full = broadcastTo(t, [...batch, ...mat]);
    return reshape(full, [bsize, mat[0]!, mat[1]!]);
  };
  const y = runPrim('matmul', [to3(a), to3(b)], { transA, transB }, ['a', 'b']);
  return reshape(y, [...batch, m, n]);
});
