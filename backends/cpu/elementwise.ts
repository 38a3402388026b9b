/** Elementwise kernels with NumPy broadcasting. */
import type { BinaryPrim, CompareOp, UnaryPrim } from '../../core/primitives.js';
import { broadcastStrides, sameShape, sizeOf, type Shape } from '../../core/shape.js';
import type { FloatArray } from './storage.js';

export type UnaryFn = (x: number) => number;
export type BinaryFn = (a: number, b: number) => number;

/** out[i] = f(x[i]). */
export function mapUnary(out: FloatArray, x: FloatArray, f: UnaryFn): void {
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]!);
}

/**
 * Visits the output in row-major order and calls `body(o, offsets)` with each input's offset
 * under broadcasting. The innermost axis runs as a plain loop.
 */
function forEachBroadcast(outShape: Shape, inShapes: readonly Shape[], body: (o: number, offs: Int32Array | number[]) => void): void {
  const rank = outShape.length;
  const n = sizeOf(outShape);
  if (n === 0) return;
  const strides = inShapes.map((s) => broadcastStrides(s, outShape));
  const offs = new Array<number>(inShapes.length).fill(0);
  if (rank === 0) {
    body(0, offs);
    return;
  }
  const inner = outShape[rank - 1]!;
  const innerStride = strides.map((s) => s[rank - 1]!);
  const idx = new Array<number>(rank).fill(0);
  const base = new Array<number>(inShapes.length).fill(0);
  let o = 0;
  for (let outer = n / inner; outer > 0; outer--) {
    for (let k = 0; k < offs.length; k++) base[k] = offs[k]!;
    for (let j = 0; j < inner; j++) {
      for (let k = 0; k < offs.length; k++) offs[k] = base[k]! + j * innerStride[k]!;
      body(o++, offs);
    }
    for (let k = 0; k < offs.length; k++) offs[k] = base[k]!;
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < offs.length; k++) offs[k] = offs[k]! + strides[k]![d]!;
      if (idx[d]! < outShape[d]!) break;
      for (let k = 0; k < offs.length; k++) offs[k] = offs[k]! - strides[k]![d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/** out = f(a, b) with broadcasting. */
export function mapBinary(out: FloatArray, outShape: Shape, a: FloatArray, aShape: Shape, b: FloatArray, bShape: Shape, f: BinaryFn): void {
  if (sameShape(aShape, outShape) && sameShape(bShape, outShape)) {
    for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, b[i]!);
  } else if (sameShape(aShape, outShape) && b.length === 1) {
    const bv = b[0]!;
    for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, bv);
  } else if (sameShape(bShape, outShape) && a.length === 1) {
    const av = a[0]!;
    for (let i = 0; i < out.length; i++) out[i] = f(av, b[i]!);
  } else {
    forEachBroadcast(outShape, [aShape, bShape], (o, offs) => {
      out[o] = f(a[offs[0]!]!, b[offs[1]!]!);
    });
  }
}

/** out = cond ≠ 0 ? a : b with broadcasting. */
export function mapWhere(out: FloatArray, outShape: Shape, c: FloatArray, cShape: Shape, a: FloatArray, aShape: Shape, b: FloatArray, bShape: Shape): void {
  forEachBroadcast(outShape, [cShape, aShape, bShape], (o, offs) => {
    out[o] = c[offs[0]!] !== 0 ? a[offs[1]!]! : b[offs[2]!]!;
  });
}

/** The unary functions, by primitive. */
export const unaryFns: { readonly [P in UnaryPrim]: UnaryFn } = {
  neg: (x: number) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
};

/** The binary functions, by primitive. */
export const binaryFns: { readonly [P in BinaryPrim]: BinaryFn } = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: Math.pow,
};

/** Comparison functions (1 or 0). */
export const compareFns: { readonly [K in CompareOp]: BinaryFn } = {
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
};
