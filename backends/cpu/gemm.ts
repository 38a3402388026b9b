/**
 * Cache-blocked general matrix multiply with a 4×4 register-blocked micro-kernel:
 * C (+)= op(A)·op(B), C row-major M×N at `cOff` with row stride N.
 *
 * Blocking (the classic Goto/BLIS loop nest, simplified): for each NC-wide column block of B and
 * each KC-deep slice of K, B's block is packed into 4-column micro-panels; for each MC-tall row
 * block of A, A's block is packed into 4-row micro-panels; then every 4×4 tile of C accumulates
 * KC rank-1 updates held in 16 local variables. Packing also resolves transposition and pads
 * edges with zeros, so the micro-kernel has no edge cases.
 */
import type { Alloc, FloatArray } from './storage.js';

/** Operand description: data, element offset, and whether it is stored transposed. */
export interface GemmOperand {
  readonly data: FloatArray;
  readonly offset: number;
  /** A: stored K×M instead of M×K. B: stored N×K instead of K×N. */
  readonly trans: boolean;
}

const MR = 4;
const NR = 4;
const MC = 64;
const KC = 256;
const NC = 512;

/** Scratch panels reused across calls of one precision. */
interface Scratch {
  readonly a: FloatArray;
  readonly b: FloatArray;
}
const scratches = new WeakMap<Alloc, Scratch>();

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into 4-row micro-panels: ap[(panel·kc + p)·4 + r]. */
function packA(ap: FloatArray, a: GemmOperand, m: number, k: number, ic: number, mc: number, pc: number, kc: number): void {
  const A = a.data;
  for (let panel = 0; panel * MR < mc; panel++) {
    const base = panel * kc * MR;
    for (let r = 0; r < MR; r++) {
      const i = ic + panel * MR + r;
      if (i >= ic + mc) {
        for (let p = 0; p < kc; p++) ap[base + p * MR + r] = 0;
      } else if (a.trans) {
        for (let p = 0; p < kc; p++) ap[base + p * MR + r] = A[a.offset + (pc + p) * m + i]!;
      } else {
        const src = a.offset + i * k + pc;
        for (let p = 0; p < kc; p++) ap[base + p * MR + r] = A[src + p]!;
      }
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into 4-column micro-panels: bp[(panel·kc + p)·4 + c]. */
function packB(bp: FloatArray, b: GemmOperand, n: number, k: number, jc: number, nc: number, pc: number, kc: number): void {
  const B = b.data;
  for (let panel = 0; panel * NR < nc; panel++) {
    const base = panel * kc * NR;
    for (let c = 0; c < NR; c++) {
      const j = jc + panel * NR + c;
      if (j >= jc + nc) {
        for (let p = 0; p < kc; p++) bp[base + p * NR + c] = 0;
      } else if (b.trans) {
        const src = b.offset + j * k + pc;
        for (let p = 0; p < kc; p++) bp[base + p * NR + c] = B[src + p]!;
      } else {
        for (let p = 0; p < kc; p++) bp[base + p * NR + c] = B[b.offset + (pc + p) * n + j]!;
      }
    }
  }
}

/** C[i0:i0+rows, j0:j0+cols] += A-panel · B-panel over kc (a 4×4 tile in 16 locals). */
function microKernel(ap: FloatArray, aBase: number, bp: FloatArray, bBase: number, kc: number, c: FloatArray, cIdx: number, ldc: number, rows: number, cols: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let ai = aBase;
  let bi = bBase;
  for (let p = 0; p < kc; p++, ai += MR, bi += NR) {
    const a0 = ap[ai]!, a1 = ap[ai + 1]!, a2 = ap[ai + 2]!, a3 = ap[ai + 3]!;
    const b0 = bp[bi]!, b1 = bp[bi + 1]!, b2 = bp[bi + 2]!, b3 = bp[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === MR && cols === NR) {
    let o = cIdx;
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
    return;
  }
  const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) c[cIdx + r * ldc + q] += tile[r * NR + q]!;
}

/**
 * C = op(A)·op(B) (or C += … with `accumulate`). A is M×K after op, B is K×N after op.
 * The summation order over K is fixed (KC blocks in order), so results are reproducible.
 */
export function gemm(m: number, n: number, k: number, a: GemmOperand, b: GemmOperand, c: FloatArray, cOff: number, accumulate: boolean, alloc: Alloc): void {
  if (!accumulate) c.fill(0, cOff, cOff + m * n);
  if (m === 0 || n === 0 || k === 0) return;
  let scratch = scratches.get(alloc);
  if (!scratch) {
    scratch = { a: alloc(MC * KC), b: alloc(KC * NC) };
    scratches.set(alloc, scratch);
  }
  const { a: ap, b: bp } = scratch;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(bp, b, n, k, jc, nc, pc, kc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(ap, a, m, k, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = Math.min(MR, mc - ir);
            microKernel(ap, (ir / MR) * kc * MR, bp, (jr / NR) * kc * NR, kc, c, cOff + (ic + ir) * n + jc + jr, n, rows, cols);
          }
        }
      }
    }
  }
}
