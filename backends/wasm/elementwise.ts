/**
 * Dispatch of the memory-bound primitives to the SIMD kernels of `elementwise-kernels.ts`: shapes
 * are collapsed to at most four strided axes; large outputs are split among the threads by rows
 * (each output element is computed the same way whichever thread runs it). Each function returns
 * false when it has no fast path (the caller falls back to the reference kernels).
 */
import type { CompareOp } from '../../core/primitives.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { Runtime } from './runtime.js';
import { split } from './threads.js';

/** Elements below which a kernel runs on the calling thread only. */
const PARALLEL_MIN = 32768;

/** A 4-D strided plan: output extents and each input's byte strides. */
interface Plan {
  readonly dims: [number, number, number, number];
  readonly strides: [number, number, number, number][];
}

/**
 * Collapses an output shape and the inputs broadcast to it into at most 4 axes (dropping extent-1
 * axes, merging axes that are contiguous in every input). Undefined when more than 4 remain.
 */
export function planBroadcast(outShape: Shape, inShapes: readonly Shape[]): Plan | undefined {
  const rank = outShape.length;
  const ins = inShapes.map((s) => {
    const st = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let d = s.length - 1; d >= 0; d--) {
      const od = d + rank - s.length;
      st[od] = s[d] === 1 ? 0 : acc;
      acc *= s[d]!;
    }
    return st;
  });
  const dims: number[] = [];
  const strides: number[][] = ins.map(() => []);
  for (let d = 0; d < rank; d++) {
    const e = outShape[d]!;
    if (e === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && ins.every((st, k) => strides[k]![last] === st[d]! * e)) {
      dims[last] = dims[last]! * e;
      ins.forEach((st, k) => (strides[k]![last] = st[d]!));
    } else {
      dims.push(e);
      ins.forEach((st, k) => strides[k]!.push(st[d]!));
    }
  }
  if (dims.length > 4) return undefined;
  while (dims.length < 4) {
    dims.unshift(1);
    strides.forEach((s) => s.unshift(0));
  }
  return { dims: dims as Plan['dims'], strides: strides.map((s) => s.map((v) => v * 4) as Plan['strides'][number]) };
}

function rowShares(rt: Runtime, plan: Plan, n: number): [number, number][] {
  const rows = plan.dims[0] * plan.dims[1] * plan.dims[2];
  const nth = n >= PARALLEL_MIN ? rt.threads : 1;
  return split(rows, Math.min(nth, rows));
}

const BINARY: Readonly<Record<string, string>> = { add: 'bin_add', sub: 'bin_sub', mul: 'bin_mul', div: 'bin_div' };
const UNARY: Readonly<Record<string, string>> = { neg: 'un_neg', abs: 'un_abs', sqrt: 'un_sqrt' };

/**
 * Whether the unary primitive `op` runs as a SIMD kernel (`fastUnary` takes it); the others run
 * the reference JS kernel. The fused kernels (`fused.ts`) make the same choice per operation.
 */
export function hasSimdUnary(op: string): boolean {
  return Object.hasOwn(UNARY, op);
}

/** Whether the binary primitive `op` runs as a SIMD kernel (`fastBinary` takes it, up to 4 axes). */
export function hasSimdBinary(op: string): boolean {
  return Object.hasOwn(BINARY, op);
}

/** out = op(x) for the contiguous unary ops (neg, abs, sqrt). */
export function fastUnary(rt: Runtime, op: string, x: number, out: number, n: number): boolean {
  const kernel = UNARY[op];
  if (!kernel) return false;
  const nth = n >= PARALLEL_MIN ? rt.threads : 1;
  rt.pool.run(kernel, split(n, nth, 4).map(([a, b]) => [out, x, a, b]));
  return true;
}

function runBinary(rt: Runtime, kernel: string, a: number, aShape: Shape, b: number, bShape: Shape, out: number, outShape: Shape): boolean {
  const n = sizeOf(outShape);
  if (n === 0) return true;
  const plan = planBroadcast(outShape, [aShape, bShape]);
  if (!plan) return false;
  const [as, bs] = plan.strides as [Plan['strides'][number], Plan['strides'][number]];
  rt.pool.run(kernel, rowShares(rt, plan, n).map(([r0, r1]) => [out, a, b, ...plan.dims, ...as, ...bs, r0, r1]));
  return true;
}

/** out = a op b with broadcasting (add, sub, mul, div). */
export function fastBinary(rt: Runtime, op: string, a: number, aShape: Shape, b: number, bShape: Shape, out: number, outShape: Shape): boolean {
  const kernel = BINARY[op];
  return kernel !== undefined && runBinary(rt, kernel, a, aShape, b, bShape, out, outShape);
}

/** out = (a op b) ? 1 : 0 with broadcasting. */
export function fastCompare(rt: Runtime, op: CompareOp, a: number, aShape: Shape, b: number, bShape: Shape, out: number, outShape: Shape): boolean {
  return runBinary(rt, `bin_${op}`, a, aShape, b, bShape, out, outShape);
}

/** out = c ≠ 0 ? a : b with broadcasting. */
export function fastWhere(rt: Runtime, c: number, cShape: Shape, a: number, aShape: Shape, b: number, bShape: Shape, out: number, outShape: Shape): boolean {
  const n = sizeOf(outShape);
  if (n === 0) return true;
  const plan = planBroadcast(outShape, [cShape, aShape, bShape]);
  if (!plan) return false;
  const [cs, as, bs] = plan.strides as [Plan['strides'][number], Plan['strides'][number], Plan['strides'][number]];
  rt.pool.run('where', rowShares(rt, plan, n).map(([r0, r1]) => [out, c, a, b, ...plan.dims, ...cs, ...as, ...bs, r0, r1]));
  return true;
}

/** Sum or maximum over `axes` (kept as extent 1) of a contiguous x. */
export function fastReduce(rt: Runtime, op: 'sum' | 'max', x: number, shape: Shape, axes: readonly number[], out: number): boolean {
  const n = sizeOf(shape);
  if (n === 0) return false;
  // collapse: drop extent-1 axes, merge neighbours with the same flag
  const e: number[] = [];
  const fl: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const r = axes.includes(i) ? 1 : 0;
    if (fl.length && fl[fl.length - 1] === r) e[e.length - 1] = e[e.length - 1]! * d;
    else {
      e.push(d);
      fl.push(r);
    }
  });
  if (e.length > 4) return false;
  if (e.length === 0) {
    e.push(1);
    fl.push(1);
  }
  while (e.length < 4) {
    e.unshift(1);
    fl.unshift(0);
  }
  const rows = (fl[0] ? 1 : e[0]!) * (fl[1] ? 1 : e[1]!) * (fl[2] ? 1 : e[2]!);
  const nth0 = n >= PARALLEL_MIN ? rt.threads : 1;
  if (op === 'max' && e[1] === 2 && e[3] === 2 && fl.join() === '0,1,0,1') {
    // 2×2 max pooling: [A, 2, B, 2] → [A, B]
    rt.pool.run('pairMax', split(e[0]!, Math.min(nth0, e[0]!)).map(([a0, a1]) => [out, x, e[2]!, a0, a1]));
    return true;
  }
  const kernel = `red_${op}`;
  const nth = n >= PARALLEL_MIN ? rt.threads : 1;
  const args = (o0: number, o1: number, j0: number, j1: number) => [out, x, ...e, ...fl, o0, o1, j0, j1];
  if (rows >= 2 * nth || fl[3] === 1) {
    rt.pool.run(kernel, split(rows, Math.min(nth, rows)).map(([o0, o1]) => args(o0, o1, 0, e[3]!)));
  } else {
    rt.pool.run(kernel, split(e[3]!, Math.min(nth, Math.ceil(e[3]! / 4)), 4).map(([j0, j1]) => args(0, rows, j0, j1)));
  }
  return true;
}
