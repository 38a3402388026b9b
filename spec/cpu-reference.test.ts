/**
 * The reference kernels against independent naive definitions (loops written straight from the
 * formulas, float64), since every other backend is judged against them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import * as core from '../core/index.js';
import { rng, values } from './conformance/values.js';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12) => {
  assert.equal(got.length, want.length, 'length');
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)), `element ${i}: ${got[i]} vs ${want[i]}`);
  }
};

/** y[n,o,i,j] = Σ_c,a,b x[n, g·C/G + c, i·s − pt + a·d, j·s − pl + b·d] · w[o, c, a, b]. */
function naiveConv(x: Float64Array, xs: number[], w: Float64Array, ws: number[], s: [number, number], p: [number, number, number, number], d: [number, number], groups: number) {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, cg, kh, kw] = ws as [number, number, number, number];
  const ho = Math.floor((h + p[0] + p[1] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const wo = Math.floor((wd + p[2] + p[3] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const og = o / groups;
  const y = new Float64Array(n * o * ho * wo);
  for (let b = 0; b < n; b++) for (let oc = 0; oc < o; oc++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) {
    let acc = 0;
    const g = Math.floor(oc / og);
    for (let ci = 0; ci < cg; ci++) for (let a = 0; a < kh; a++) for (let bb = 0; bb < kw; bb++) {
      const ih = i * s[0] - p[0] + a * d[0];
      const iw = j * s[1] - p[2] + bb * d[1];
      if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
      acc += x[((b * c + g * cg + ci) * h + ih) * wd + iw]! * w[((oc * cg + ci) * kh + a) * kw + bb]!;
    }
    y[((b * o + oc) * ho + i) * wo + j] = acc;
  }
  return { y, shape: [n, o, ho, wo] };
}

/** PyTorch ConvTranspose2d by scattering: out[n, g·Cout/G + co, i·s − p + a·d, j·s − p + b·d] += x[n, ci, i, j]·w[ci, co, a, b]. */
function naiveConvTranspose(x: Float64Array, xs: number[], w: Float64Array, ws: number[], s: number, p: number, d: number, op: number, groups: number) {
  const [n, cin, h, wd] = xs as [number, number, number, number];
  const [, coutg, kh, kw] = ws as [number, number, number, number];
  const cout = coutg * groups;
  const ho = (h - 1) * s - 2 * p + d * (kh - 1) + op + 1;
  const wo = (wd - 1) * s - 2 * p + d * (kw - 1) + op + 1;
  const y = new Float64Array(n * cout * ho * wo);
  const cing = cin / groups;
  for (let b = 0; b < n; b++) for (let ci = 0; ci < cin; ci++) for (let i = 0; i < h; i++) for (let j = 0; j < wd; j++) {
    const g = Math.floor(ci / cing);
    for (let co = 0; co < coutg; co++) for (let a = 0; a < kh; a++) for (let bb = 0; bb < kw; bb++) {
      const oi = i * s - p + a * d;
      const oj = j * s - p + bb * d;
      if (oi < 0 || oi >= ho || oj < 0 || oj >= wo) continue;
      y[((b * cout + g * coutg + co) * ho + oi) * wo + oj] += x[((b * cin + ci) * h + i) * wd + j]! * w[((ci * coutg + co) * kh + a) * kw + bb]!;
    }
  }
  return { y, shape: [n, cout, ho, wo] };
}

describe('reference kernels against naive definitions (cpu64)', () => {
  before(async () => core.setBackend('cpu64'));

  test('conv2d: strides, asymmetric padding, dilation, groups', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 3 }), og: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 5, max: 9 }), w: fc.integer({ min: 5, max: 9 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
          s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          p: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
          seed: fc.integer(),
        }),
        async (r) => {
          const xs = [r.n, r.cg * r.groups, r.h, r.w];
          const ws = [r.og * r.groups, r.cg, r.kh, r.kw];
          const rand = rng(r.seed);
          const x = values('any', core.sizeOf(xs), rand);
          const w = values('any', core.sizeOf(ws), rand);
          const want = naiveConv(x, xs, w, ws, r.s, r.p, r.d, r.groups);
          const y = core.conv2d(core.tensor(x, xs), core.tensor(w, ws), { stride: r.s, padding: r.p, dilation: r.d, groups: r.groups });
          assert.deepEqual(y.shape, want.shape);
          close(await y.dataFloat64(), want.y);
        },
      ),
      { seed: 11, numRuns: 40 },
    );
  });

  test("'same' padding is TensorFlow's: output ceil(H/stride), the odd extra row at the bottom/right", async () => {
    const x = core.tensor(Float64Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
    const w = core.ones([1, 1, 3, 3]);
    const y = core.conv2d(x, w, { padding: 'same', stride: 2 });
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    // total padding 1 per axis, all of it after: windows start at rows/cols 0 and 2.
    const want = naiveConv(await x.dataFloat64(), [1, 1, 4, 4], await w.dataFloat64(), [1, 1, 3, 3], [2, 2], [0, 1, 0, 1], [1, 1], 1);
    close(await y.dataFloat64(), want.y);
    assert.deepEqual(core.conv2d(core.ones([1, 1, 5, 7]), core.ones([1, 1, 3, 3]), { padding: 'same' }).shape, [1, 1, 5, 7]);
    assert.deepEqual(core.conv2d(core.ones([1, 1, 5, 7]), core.ones([1, 1, 2, 2]), { padding: 'same', stride: 3 }).shape, [1, 1, 2, 3]);
  });

  test('conv2dTranspose is PyTorch ConvTranspose2d (stride, padding, outputPadding, dilation, groups)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), cing: fc.integer({ min: 1, max: 2 }), coutg: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }),
          p: fc.integer({ min: 0, max: 1 }), d: fc.integer({ min: 1, max: 2 }), op: fc.integer({ min: 0, max: 2 }), seed: fc.integer(),
        }).filter((r) => r.op < r.s && (Math.min(r.h, r.w) - 1) * r.s - 2 * r.p + r.d * (r.k - 1) + r.op + 1 >= 1),
        async (r) => {
          const xs = [r.n, r.cing * r.groups, r.h, r.w];
          const ws = [r.cing * r.groups, r.coutg, r.k, r.k];
          const rand = rng(r.seed);
          const x = values('any', core.sizeOf(xs), rand);
          const w = values('any', core.sizeOf(ws), rand);
          const want = naiveConvTranspose(x, xs, w, ws, r.s, r.p, r.d, r.op, r.groups);
          const y = core.conv2dTranspose(core.tensor(x, xs), core.tensor(w, ws), { stride: r.s, padding: r.p, dilation: r.d, outputPadding: r.op, groups: r.groups });
          assert.deepEqual(y.shape, want.shape);
          close(await y.dataFloat64(), want.y);
        },
      ),
      { seed: 12, numRuns: 40 },
    );
  });

  test('matmul with broadcast batch axes and transposes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ b: fc.integer({ min: 1, max: 3 }), m: fc.integer({ min: 1, max: 70 }), n: fc.integer({ min: 1, max: 40 }), k: fc.integer({ min: 1, max: 300 }), ta: fc.boolean(), tb: fc.boolean(), seed: fc.integer() }),
        async (r) => {
          const rand = rng(r.seed);
          const a = values('any', r.b * r.m * r.k, rand);
          const bv = values('any', r.k * r.n, rand);
          const at = (bi: number, i: number, p: number) => (r.ta ? a[bi * r.m * r.k + p * r.m + i]! : a[bi * r.m * r.k + i * r.k + p]!);
          const bt = (p: number, j: number) => (r.tb ? bv[j * r.k + p]! : bv[p * r.n + j]!);
          const want = new Float64Array(r.b * r.m * r.n);
          for (let bi = 0; bi < r.b; bi++) for (let i = 0; i < r.m; i++) for (let j = 0; j < r.n; j++) {
            let s = 0;
            for (let p = 0; p < r.k; p++) s += at(bi, i, p) * bt(p, j);
            want[(bi * r.m + i) * r.n + j] = s;
          }
          const A = core.tensor(a, r.ta ? [r.b, r.k, r.m] : [r.b, r.m, r.k]);
          const B = core.tensor(bv, r.tb ? [1, r.n, r.k] : [1, r.k, r.n]);
          const y = core.matmul(A, B, { transA: r.ta, transB: r.tb });
          assert.deepEqual(y.shape, [r.b, r.m, r.n]);
          close(await y.dataFloat64(), want, 1e-11);
        },
      ),
      { seed: 13, numRuns: 25 },
    );
  });

  test('pooling against window loops (max with −∞ padding, average counting padding)', async () => {
    const rand = rng(5);
    for (const [h, w, k, s, p] of [[6, 6, 2, 2, 0], [7, 5, 3, 2, 1], [5, 5, 3, 1, 1], [4, 7, 2, 3, 1]] as const) {
      const x = values('distinct', 2 * h * w, rand);
      const ho = Math.floor((h + 2 * p - k) / s) + 1;
      const wo = Math.floor((w + 2 * p - k) / s) + 1;
      const wantMax = new Float64Array(2 * ho * wo);
      const wantAvg = new Float64Array(2 * ho * wo);
      for (let c = 0; c < 2; c++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) {
        let m = -Infinity;
        let sum = 0;
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
          const ii = i * s - p + a;
          const jj = j * s - p + b;
          if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
          m = Math.max(m, x[(c * h + ii) * w + jj]!);
          sum += x[(c * h + ii) * w + jj]!;
        }
        wantMax[(c * ho + i) * wo + j] = m;
        wantAvg[(c * ho + i) * wo + j] = sum / (k * k);
      }
      const t = core.tensor(x, [1, 2, h, w]);
      close(await core.maxPool2d(t, { size: k, stride: s, padding: p }).dataFloat64(), wantMax);
      close(await core.avgPool2d(t, { size: k, stride: s, padding: p }).dataFloat64(), wantAvg);
    }
  });

  test('reductions, argmax and softmax on hand-computed values', async () => {
    const x = core.tensor([[1, 5, 3], [4, 2, 6]]);
    assert.deepEqual(await core.sum(x, 0).toArray(), [5, 7, 9]);
    assert.deepEqual(await core.max(x, 1).toArray(), [5, 6]);
    assert.deepEqual(await core.min(x).toArray(), 1);
    assert.deepEqual(await core.mean(x, [0, 1]).toArray(), 3.5);
    assert.deepEqual(await core.argmax(x, 1).toArray(), [1, 2]);
    assert.deepEqual(await core.argmax(core.tensor([2, 7, 7, 1]), 0).toArray(), 1);
    const sm = await core.softmax(core.tensor([0, Math.log(3)]), 0).dataFloat64();
    close(sm, [0.25, 0.75]);
    const big = await core.logSoftmax(core.tensor([1e4, 0]), 0).dataFloat64();
    close(big, [0, -1e4]);
    assert.deepEqual(await core.oneHot(core.tensor([[0, 2], [1, 1]]), 3).toArray(), [[[1, 0], [0, 0], [0, 1]], [[0, 0], [1, 1], [0, 0]]]);
  });

  test('full, zeros and ones at every size (small ones uploaded, large ones broadcast on the backend)', async () => {
    for (const shape of [[], [3], [2, 5000], [64, 65, 3]]) {
      const f = await core.full(shape, 2.5).dataFloat64();
      assert.equal(f.length, core.sizeOf(shape), `full ${JSON.stringify(shape)}: size`);
      assert.ok(f.every((v) => v === 2.5), `full ${JSON.stringify(shape)}: values`);
      assert.ok((await core.zeros(shape).dataFloat64()).every((v) => v === 0), `zeros ${JSON.stringify(shape)}`);
    }
    const base = core.memory().buffers;
    const big = core.ones([100, 100]);
    assert.equal(core.memory().buffers, base + 1, 'a large constant leaves exactly one live buffer');
    big.dispose();
  });

  test('scalars and zero-size tensors flow through ops', async () => {
    const s = core.scalar(3);
    assert.deepEqual((await core.mul(s, s).toArray()), 9);
    const e = core.zeros([0, 3]);
    assert.deepEqual(core.add(e, core.ones([3])).shape, [0, 3]);
    assert.deepEqual(await core.sum(e, 0).toArray(), [0, 0, 0]);
    assert.deepEqual(core.matmul(core.zeros([2, 0]), core.zeros([0, 4])).shape, [2, 4]);
    assert.deepEqual(await core.matmul(core.zeros([2, 0]), core.zeros([0, 1])).toArray(), [[0], [0]]);
    assert.deepEqual(core.concat([core.zeros([0, 2]), core.ones([1, 2])], 0).shape, [1, 2]);
  });
});
