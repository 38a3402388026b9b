/** Data movement: broadcast, permute, pad, slice, concat. */
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { FloatArray } from './storage.js';

/**
 * Copies a strided view of `x` (starting at `offset`, with `strides` per output axis) into `out`
 * in row-major order.
 */
export function gather(out: FloatArray, outShape: Shape, x: FloatArray, offset: number, strides: readonly number[]): void {
  const n = sizeOf(outShape);
  if (n === 0) return;
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = x[offset]!;
    return;
  }
  const inner = outShape[rank - 1]!;
  const is = strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  let o = 0;
  for (let outer = n / inner; outer > 0; outer--) {
    for (let j = 0; j < inner; j++) out[o++] = x[off + j * is]!;
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < outShape[d]!) break;
      off -= strides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/** Writes `x` (row-major, shape `inShape`) into `out` at offset `offset` with the given strides. */
export function scatter(out: FloatArray, offset: number, strides: readonly number[], x: FloatArray, inShape: Shape): void {
  const n = sizeOf(inShape);
  if (n === 0) return;
  const rank = inShape.length;
  if (rank === 0) {
    out[offset] = x[0]!;
    return;
  }
  const inner = inShape[rank - 1]!;
  const os = strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  let i = 0;
  for (let outer = n / inner; outer > 0; outer--) {
    for (let j = 0; j < inner; j++) out[off + j * os] = x[i++]!;
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < inShape[d]!) break;
      off -= strides[d]! * inShape[d]!;
      idx[d] = 0;
    }
  }
}

export function broadcastKernel(out: FloatArray, outShape: Shape, x: FloatArray, inShape: Shape): void {
  gather(out, outShape, x, 0, broadcastStrides(inShape, outShape));
}

export function permuteKernel(out: FloatArray, x: FloatArray, inShape: Shape, perm: readonly number[]): void {
  const s = stridesOf(inShape);
  gather(out, perm.map((a) => inShape[a]!), x, 0, perm.map((a) => s[a]!));
}

export function padKernel(out: FloatArray, outShape: Shape, x: FloatArray, inShape: Shape, widths: ReadonlyArray<readonly [number, number]>, value: number): void {
  out.fill(value);
  const os = stridesOf(outShape);
  const offset = widths.reduce((acc, w, i) => acc + w[0] * os[i]!, 0);
  scatter(out, offset, os, x, inShape);
}

export function sliceKernel(out: FloatArray, outShape: Shape, x: FloatArray, inShape: Shape, begin: readonly number[]): void {
  const s = stridesOf(inShape);
  gather(out, outShape, x, begin.reduce((acc, b, i) => acc + b * s[i]!, 0), s);
}

export function concatKernel(out: FloatArray, outShape: Shape, xs: readonly { data: FloatArray; shape: Shape }[], axis: number): void {
  const os = stridesOf(outShape);
  let start = 0;
  for (const x of xs) {
    scatter(out, start * os[axis]!, os, x.data, x.shape);
    start += x.shape[axis]!;
  }
}
