/**
 * The GEMM driver: splits C among the threads (by batch, by columns or by rows — always along
 * whole micro-tiles) and runs the packed, register-blocked kernel of `kernels.ts`. Each element of
 * C is summed over K in the same order whichever thread computes it.
 */
import { MR, NR } from './kernels.js';
import type { Runtime } from './runtime.js';
import { split } from './threads.js';

/**
 * C[b] (+)= op(A[b])·op(B[b]) for b < batch: A is M×K (K×M when `ta`), B is K×N (N×K when `tb`),
 * C is M×N, all row-major at byte addresses a, b, c, batches contiguous.
 */
export function gemm(rt: Runtime, batch: number, m: number, n: number, k: number, a: number, ta: boolean, b: number, tb: boolean, c: number, accumulate = false): void {
  if (batch === 0 || m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) rt.heap.f32.fill(0, c / 4, c / 4 + batch * m * n);
    return;
  }
  const aBS = m * k * 4;
  const bBS = k * n * 4;
  const cBS = m * n * 4;
  const nth = rt.threadsFor(batch * m * n * k);
  const share = (t: number, bb: number, bCount: number, i0: number, i1: number, j0: number, j1: number): number[] =>
    [bCount, m, n, k, a + bb * aBS, aBS, ta ? 1 : 0, b + bb * bBS, bBS, tb ? 1 : 0, c + bb * cBS, cBS, i0, i1, j0, j1, accumulate ? 1 : 0, rt.gemmScratch[t]!];
  if (nth === 1) {
    rt.pool.run('gemm', [share(0, 0, batch, 0, m, 0, n)]);
    return;
  }
  const colTiles = Math.ceil(n / NR);
  const rowTiles = Math.ceil(m / MR);
  if (batch >= 2 * nth && colTiles < 4 * nth) {
    rt.pool.run('gemm', split(batch, nth).map(([b0, b1], t) => share(t, b0, b1 - b0, 0, m, 0, n)));
  } else if (colTiles >= 2 * nth || colTiles >= rowTiles) {
    rt.pool.run('gemm', split(n, nth, NR).map(([j0, j1], t) => share(t, 0, batch, 0, m, j0, j1)));
  } else {
    rt.pool.run('gemm', split(m, nth, MR).map(([i0, i1], t) => share(t, 0, batch, i0, i1, 0, n)));
  }
}
