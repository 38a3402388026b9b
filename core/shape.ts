/** Shape arithmetic shared by the core and the backends. Shapes are row-major. */
import { ShapeError, showShape } from './errors.js';

/** A tensor's shape: one non-negative integer per axis. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar, 0 when any axis is 0). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when both shapes have the same rank and extents. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks that `shape` is a list of non-negative integers. */
export function checkShape(op: string, argument: string, shape: unknown): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(op, argument, `expected a shape of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

/**
 * NumPy broadcasting: shapes are aligned at the right; each pair of extents must be equal or one
 * of them 1.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape, names: readonly [string, string] = ['a', 'b']): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `${names[0]}, ${names[1]}`, `shapes ${showShape(a)} and ${showShape(b)} do not broadcast (axis ${i} from the left of the result: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides with which an input of shape `inShape` is read when broadcast to `outShape`:
 * aligned at the right, 0 on broadcast axes.
 */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const inStrides = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < inShape.length; i++) {
    out[i + offset] = inShape[i] === 1 && outShape[i + offset] !== 1 ? 0 : inStrides[i]!;
  }
  return out;
}

/**
 * Normalises axes (negative counts from the end), checks range and duplicates, sorts ascending.
 * `undefined` means every axis. Pass the tensor's shape (or, for a new axis, a rank) so errors can
 * name it.
 */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, shapeOrRank: Shape | number, argument = 'axes'): number[] {
  const rank = typeof shapeOrRank === 'number' ? shapeOrRank : shapeOrRank.length;
  const what = typeof shapeOrRank === 'number' ? `rank ${rank}` : `shape ${showShape(shapeOrRank)} (rank ${rank})`;
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ShapeError(op, argument, `axis ${a} is out of range for ${what}`);
    }
    const n = a < 0 ? a + rank : a;
    if (out.includes(n)) throw new ShapeError(op, argument, `axis ${a} appears twice in ${JSON.stringify(list)} for ${what}`);
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/** Normalises one axis (negative counts from the end). */
export function normalizeAxis(op: string, axis: number, shapeOrRank: Shape | number, argument = 'axis'): number {
  return normalizeAxes(op, axis, shapeOrRank, argument)[0]!;
}
