/**
 * Engine workloads: matmul 512³ and a 3×3 convolution on 8×32×64×64 → 32 channels, forward and
 * forward + backward, on the project's CPU backends, with a naive i-k-j JavaScript loop as the
 * in-run peer.
 */
import '../backends/register.js';
import * as core from '../core/index.js';
import type { Contestant, Workload } from './workload.js';

/** Project backends compared by the engine workloads. */
const BACKENDS = ['wasm', 'cpu'] as const;

function filled(n: number, seed: number): Float32Array {
  const u = core.uniformArray(core.key(seed), n);
  return Float32Array.from(u, (v) => v * 2 - 1);
}

/** C = A·B with the textbook i-k-j loop over Float32Arrays. */
function naiveMatmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      const crow = i * n;
      const brow = p * n;
      for (let j = 0; j < n; j++) c[crow + j] += aip * b[brow + j]!;
    }
  }
}

/** Direct convolution with seven nested loops (stride 1, padding 1), the naive peer. */
function naiveConv(x: Float32Array, w: Float32Array, y: Float32Array, n: number, c: number, h: number, wd: number, o: number, k: number): void {
  y.fill(0);
  const p = (k - 1) / 2;
  for (let b = 0; b < n; b++) for (let oc = 0; oc < o; oc++) for (let ci = 0; ci < c; ci++) for (let a = 0; a < k; a++) for (let bb = 0; bb < k; bb++) {
    const wv = w[((oc * c + ci) * k + a) * k + bb]!;
    for (let i = 0; i < h; i++) {
      const ih = i - p + a;
      if (ih < 0 || ih >= h) continue;
      const yr = ((b * o + oc) * h + i) * wd;
      const xr = ((b * c + ci) * h + ih) * wd;
      for (let j = 0; j < wd; j++) {
        const iw = j - p + bb;
        if (iw >= 0 && iw < wd) y[yr + j] += wv * x[xr + iw]!;
      }
    }
  }
}

function projectContestant(backend: string, make: () => { run: () => core.Tensor; inputs: core.Tensor[] }): Contestant {
  let state: { run: () => core.Tensor; inputs: core.Tensor[] } | undefined;
  return {
    backend,
    project: true,
    setup: async () => {
      await core.setBackend(backend);
      state = make();
    },
    fn: async () => {
      const out = core.scope(state!.run);
      await out.data();
      out.dispose();
    },
    teardown: () => core.dispose(state?.inputs),
  };
}

/** The engine workloads. */
export function engineWorkloads(): Workload[] {
  const M = 512;
  const matA = filled(M * M, 1);
  const matB = filled(M * M, 2);
  const [N, C, H, W, O, K] = [8, 32, 64, 64, 32, 3];
  const convX = filled(N * C * H * W, 3);
  const convW = filled(O * C * K * K, 4).map((v) => v * 0.1);
  const convFlops = 2 * N * O * H * W * C * K * K;
  const matmulC = new Float32Array(M * M);
  const convY = new Float32Array(N * O * H * W);

  const matmul: Workload = {
    name: `matmul ${M}x${M}x${M}`,
    flops: 2 * M * M * M,
    headline: true,
    contestants: [
      ...BACKENDS.map((b) =>
        projectContestant(b, () => {
          const a = core.tensor(matA, [M, M]);
          const bb = core.tensor(matB, [M, M]);
          return { run: () => core.matmul(a, bb), inputs: [a, bb] };
        }),
      ),
      { backend: 'naive-js', project: false, fn: () => naiveMatmul(matA, matB, matmulC, M, M, M) },
    ],
    ratios: BACKENDS.map((b) => ['naive-js', b] as const),
  };

  const convInputs = () => {
    const x = core.tensor(convX, [N, C, H, W]);
    const w = core.tensor(convW, [O, C, K, K]);
    return { x, w };
  };
  const convFwd: Workload = {
    name: `conv2d 3x3 ${N}x${C}x${H}x${W}->${O} forward`,
    flops: convFlops,
    headline: true,
    contestants: [
      ...BACKENDS.map((b) =>
        projectContestant(b, () => {
          const { x, w } = convInputs();
          return { run: () => core.conv2d(x, w, { padding: 1 }), inputs: [x, w] };
        }),
      ),
      { backend: 'naive-js', project: false, fn: () => naiveConv(convX, convW, convY, N, C, H, W, O, K) },
    ],
    ratios: BACKENDS.map((b) => ['naive-js', b] as const),
  };

  // forward + both gradients: three convolution passes.
  const convTrain: Workload = {
    name: `conv2d 3x3 ${N}x${C}x${H}x${W}->${O} forward+backward`,
    flops: 3 * convFlops,
    headline: true,
    contestants: BACKENDS.map((b) =>
      projectContestant(b, () => {
        const { x, w } = convInputs();
        const lossOf = (p: { x: core.Tensor; w: core.Tensor }) => core.sum(core.conv2d(p.x, p.w, { padding: 1 }));
        return {
          run: () => {
            const [v, g] = core.valueAndGrad(lossOf)({ x, w });
            return core.add(core.add(v, core.sum(g.x)), core.sum(g.w));
          },
          inputs: [x, w],
        };
      }),
    ),
  };
  return [matmul, convFwd, convTrain];
}
