/**
 * Data movement on the `wasm` backend: broadcast, permute, slice, pad and concat as strided
 * copies (`copy4`, f32x4 where both inner strides are contiguous or the source is a splat) and
 * fills, split among the threads by rows when large. Each returns false when the shapes need more
 * than four strided axes (the caller falls back to the reference kernels).
 */
import { sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { Runtime } from './runtime.js';
import { split } from './threads.js';

const PARALLEL_MIN = 32768;

/**
 * Copies the strided view `src` (element strides `ss`) of extents `shape` into the strided view
 * `dst` (element strides `ds`); addresses in bytes.
 */
export function stridedCopy(rt: Runtime, dst: number, ds: readonly number[], src: number, ss: readonly number[], shape: Shape): boolean {
  const n = sizeOf(shape);
  if (n === 0) return true;
  const dims: number[] = [];
  const dstr: number[] = [];
  const sstr: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const e = shape[d]!;
    if (e === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && dstr[last] === ds[d]! * e && sstr[last] === ss[d]! * e) {
      dims[last] = dims[last]! * e;
      dstr[last] = ds[d]!;
      sstr[last] = ss[d]!;
    } else {
      dims.push(e);
      dstr.push(ds[d]!);
      sstr.push(ss[d]!);
    }
  }
  if (dims.length > 4) return false;
  while (dims.length < 4) {
    dims.unshift(1);
    dstr.unshift(0);
    sstr.unshift(0);
  }
  const rows = dims[0]! * dims[1]! * dims[2]!;
  const nth = n >= PARALLEL_MIN ? Math.min(rt.threads, rows) : 1;
  rt.pool.run('copy4', split(rows, nth).map(([r0, r1]) => [dst, src, ...dims, ...dstr.map((v) => v * 4), ...sstr.map((v) => v * 4), r0, r1]));
  return true;
}

/** dst[0..n) = value. */
export function fill(rt: Runtime, dst: number, n: number, value: number): void {
  const nth = n >= PARALLEL_MIN ? rt.threads : 1;
  rt.pool.run('fill', split(n, nth, 4).map(([a, b]) => [dst, value, a, b]));
}

/** out = broadcast(x) to outShape (same rank). */
export function broadcast(rt: Runtime, x: number, inShape: Shape, out: number, outShape: Shape): boolean {
  const xs = stridesOf(inShape);
  return stridedCopy(rt, out, stridesOf(outShape), x, inShape.map((d, i) => (d === 1 ? 0 : xs[i]!)), outShape);
}

/** out = permute(x, perm). */
export function permute(rt: Runtime, x: number, inShape: Shape, perm: readonly number[], out: number): boolean {
  const xs = stridesOf(inShape);
  const outShape = perm.map((a) => inShape[a]!);
  return stridedCopy(rt, out, stridesOf(outShape), x, perm.map((a) => xs[a]!), outShape);
}

/** out = x[begin : begin + outShape]. */
export function slice(rt: Runtime, x: number, inShape: Shape, begin: readonly number[], out: number, outShape: Shape): boolean {
  const xs = stridesOf(inShape);
  const offset = begin.reduce((acc, b, i) => acc + b * xs[i]!, 0);
  return stridedCopy(rt, out, stridesOf(outShape), x + offset * 4, xs, outShape);
}

/** out = pad(x, widths, value). */
export function pad(rt: Runtime, x: number, inShape: Shape, widths: ReadonlyArray<readonly [number, number]>, value: number, out: number, outShape: Shape): boolean {
  const os = stridesOf(outShape);
  const offset = widths.reduce((acc, w, i) => acc + w[0] * os[i]!, 0);
  fill(rt, out, sizeOf(outShape), value);
  return stridedCopy(rt, out + offset * 4, os, x, stridesOf(inShape), inShape);
}

/** out = concat(xs, axis). */
export function concat(rt: Runtime, xs: readonly { addr: number; shape: Shape }[], axis: number, out: number, outShape: Shape): boolean {
  const os = stridesOf(outShape);
  let start = 0;
  for (const x of xs) {
    if (!stridedCopy(rt, out + start * os[axis]! * 4, os, x.addr, stridesOf(x.shape), x.shape)) return false;
    start += x.shape[axis]!;
  }
  return true;
}
