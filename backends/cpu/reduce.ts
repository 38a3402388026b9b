/** Reductions over axes (kept as extent 1), in a fixed order with float64 accumulation. */
import { sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { FloatArray } from './storage.js';

/**
 * Output offset of every input element when `axes` are reduced (their stride is 0), visited in
 * input order: the reduction order is fixed.
 */
function reduceOffsets(inShape: Shape, axes: readonly number[]): Int32Array {
  const outShape = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = stridesOf(outShape).map((s, i) => (axes.includes(i) ? 0 : s));
  const n = sizeOf(inShape);
  const offsets = new Int32Array(n);
  const rank = inShape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += outStrides[d]!;
      if (idx[d]! < inShape[d]!) break;
      off -= outStrides[d]! * inShape[d]!;
      idx[d] = 0;
    }
  }
  return offsets;
}

/** Sum over `axes` into `out`. */
export function reduceSum(out: FloatArray, x: FloatArray, inShape: Shape, axes: readonly number[]): void {
  const acc = new Float64Array(out.length);
  const offsets = reduceOffsets(inShape, axes);
  for (let i = 0; i < x.length; i++) acc[offsets[i]!] += x[i]!;
  out.set(acc);
}

/** Maximum over `axes` into `out` (NaN propagates). */
export function reduceMax(out: FloatArray, x: FloatArray, inShape: Shape, axes: readonly number[]): void {
  out.fill(-Infinity);
  const offsets = reduceOffsets(inShape, axes);
  for (let i = 0; i < x.length; i++) {
    const o = offsets[i]!;
    const v = x[i]!;
    if (v > out[o]! || Number.isNaN(v)) out[o] = v;
  }
}

/** Index of the first maximum along `axis` into `out` (NaN counts as the maximum). */
export function reduceArgmax(out: FloatArray, x: FloatArray, inShape: Shape, axis: number): void {
  const n = inShape[axis]!;
  const inner = sizeOf(inShape.slice(axis + 1));
  const outer = sizeOf(inShape.slice(0, axis));
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const base = a * n * inner + b;
      let best = 0;
      let bestV = x[base]!;
      for (let k = 1; k < n && !Number.isNaN(bestV); k++) {
        const v = x[base + k * inner]!;
        if (v > bestV || Number.isNaN(v)) {
          best = k;
          bestV = v;
        }
      }
      out[a * inner + b] = best;
    }
  }
}
