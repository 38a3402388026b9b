/**
 * Cache-blocked general matrix multiply: C (+)= op(A)·op(B), C row-major M×N at `cOff` with row
 * stride N. Panels of A (MC×KC) and B (KC×NC) are packed into contiguous scratch (which also
 * resolves transposition), then an i-k-j loop runs over the packed blocks so the inner loop
 * streams one row of the B panel and one row of C.
 */
import type { Alloc, FloatArray } from './storage.js';

/** Operand description: data, element offset, and whether it is stored transposed. */
export interface GemmOperand {
  readonly data: FloatArray;
  readonly offset: number;
  /** A: stored K×M instead of M×K. B: stored N×K instead of K×N. */
  readonly trans: boolean;
}

const MC = 64;
const KC = 256;
const NC = 1024;

/** Scratch panels reused across calls of one precision. */
class Scratch {
  readonly a: FloatArray;
  readonly b: FloatArray;
  constructor(alloc: Alloc) {
    this.a = alloc(MC * KC);
    this.b = alloc(KC * NC);
  }
}
const scratches = new WeakMap<Alloc, Scratch>();

/**
 * C = op(A)·op(B) (or C += … with `accumulate`). A is M×K after op, B is K×N after op.
 * The summation order over K is fixed (blocks in order), so results are reproducible.
 */
export function gemm(m: number, n: number, k: number, a: GemmOperand, b: GemmOperand, c: FloatArray, cOff: number, accumulate: boolean, alloc: Alloc): void {
  if (!accumulate) c.fill(0, cOff, cOff + m * n);
  if (m === 0 || n === 0 || k === 0) return;
  let scratch = scratches.get(alloc);
  if (!scratch) {
    scratch = new Scratch(alloc);
    scratches.set(alloc, scratch);
  }
  const ap = scratch.a;
  const bp = scratch.b;
  const A = a.data;
  const B = b.data;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // pack B[pc:pc+kc, jc:jc+nc] row-major with row stride nc
      for (let p = 0; p < kc; p++) {
        const row = p * nc;
        if (b.trans) {
          for (let j = 0; j < nc; j++) bp[row + j] = B[b.offset + (jc + j) * k + pc + p]!;
        } else {
          const src = b.offset + (pc + p) * n + jc;
          for (let j = 0; j < nc; j++) bp[row + j] = B[src + j]!;
        }
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        // pack A[ic:ic+mc, pc:pc+kc] row-major with row stride kc
        for (let i = 0; i < mc; i++) {
          const row = i * kc;
          if (a.trans) {
            for (let p = 0; p < kc; p++) ap[row + p] = A[a.offset + (pc + p) * m + ic + i]!;
          } else {
            const src = a.offset + (ic + i) * k + pc;
            for (let p = 0; p < kc; p++) ap[row + p] = A[src + p]!;
          }
        }
        for (let i = 0; i < mc; i++) {
          const crow = cOff + (ic + i) * n + jc;
          const arow = i * kc;
          for (let p = 0; p < kc; p++) {
            const aip = ap[arow + p]!;
            const brow = p * nc;
            for (let j = 0; j < nc; j++) c[crow + j] += aip * bp[brow + j]!;
          }
        }
      }
    }
  }
}
