/**
 * The `wasm` backend's kernels at sizes the conformance suite does not reach: GEMM edge sizes
 * (1, 3, 7, 31, 513; K not a multiple of 4; every transpose; batches), convolutions large enough
 * to be split among threads (strides, dilations, groups, asymmetric padding, row tails), and the
 * SIMD elementwise, reduction and movement paths — each against the float64 reference `cpu64`.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import '../backends/register.js';
import type { WasmBackend } from '../backends/wasm/backend.js';
import * as core from '../core/index.js';

const TOL = 1e-4;

/** Values in [-1, 1) from a seed (host side, backend independent). */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from(core.uniformArray(core.key(seed), n), (v) => v * 2 - 1);
}

/** Runs `f` on a backend with host inputs; returns the host result(s). */
async function on(backend: string, options: Record<string, unknown>, inputs: { data: Float32Array; shape: number[] }[], f: (xs: core.Tensor[]) => core.Tensor | core.Tensor[]): Promise<Float64Array[]> {
  await core.setBackend(backend, options);
  const outs = core.scope(() => {
    const xs = inputs.map((i) => core.tensor(i.data, i.shape));
    const y = f(xs);
    return Array.isArray(y) ? y : [y];
  });
  const res = await Promise.all(outs.map((t) => t.dataFloat64()));
  core.dispose(outs);
  return res;
}

function relErr(got: Float64Array, ref: Float64Array): number {
  let scale = 1;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(ref[i]!) && Number.isNaN(got[i]!)) continue;
    err = Math.max(err, Math.abs(got[i]! - ref[i]!) / scale);
  }
  return err;
}

/** Compares wasm (2 threads and 1 thread: bit-identical to each other) with cpu64. */
async function check(label: string, inputs: { data: Float32Array; shape: number[] }[], f: (xs: core.Tensor[]) => core.Tensor | core.Tensor[]): Promise<void> {
  const ref = await on('cpu64', {}, inputs, f);
  const two = await on('wasm', { threads: 2 }, inputs, f);
  const one = await on('wasm', { threads: 1 }, inputs, f);
  ref.forEach((r, i) => {
    assert.equal(two[i]!.length, r.length, `${label}: output ${i} length`);
    const e = relErr(two[i]!, r);
    assert.ok(e <= TOL, `${label}: output ${i} error ${e} > ${TOL}`);
    assert.ok(two[i]!.every((v, j) => Object.is(v, one[i]![j])), `${label}: output ${i} differs between 1 and 2 threads`);
  });
}

describe('wasm kernels beyond the conformance shapes (against cpu64; 1 and 2 threads bit-identical)', () => {
  before(async () => {
    await core.setBackend('wasm', { threads: 2 });
    assert.ok((core.getBackend() as WasmBackend).waitForThreads(10_000), 'the worker thread did not start');
  });

  test('GEMM edge sizes, K not a multiple of 4, every transpose', async () => {
    const sizes: [number, number, number][] = [[1, 1, 1], [3, 7, 5], [7, 31, 3], [31, 3, 513], [513, 7, 31], [5, 513, 9], [33, 65, 257], [513, 513, 3]];
    let seed = 10;
    for (const [m, n, k] of sizes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = { data: values(m * k, seed++), shape: ta ? [k, m] : [m, k] };
          const b = { data: values(k * n, seed++), shape: tb ? [n, k] : [k, n] };
          await check(`matmul ${m}x${n}x${k} ta=${ta} tb=${tb}`, [a, b], ([x, y]) => core.matmul(x!, y!, { transA: ta, transB: tb }));
        }
      }
    }
  });

  test('batched GEMM (split by batch, by columns and by rows)', async () => {
    for (const [b, m, n, k] of [[6, 9, 5, 13], [2, 130, 3, 70], [3, 4, 260, 33]] as const) {
      const x = { data: values(b * m * k, b + m), shape: [b, m, k] };
      const y = { data: values(b * k * n, n + k), shape: [b, k, n] };
      await check(`matmul batch ${b} ${m}x${n}x${k}`, [x, y], ([p, q]) => core.matmul(p!, q!));
    }
  });

  const convCases: { x: number[]; w: number[]; o: core.Conv2dOptions }[] = [
    { x: [3, 5, 17, 19], w: [6, 5, 3, 3], o: { padding: 1 } },
    { x: [2, 4, 23, 21], w: [7, 4, 3, 3], o: { padding: [0, 2, 1, 0], stride: 2 } },
    { x: [2, 6, 20, 13], w: [4, 3, 3, 2], o: { dilation: [2, 1], groups: 2, padding: 'same' } },
    { x: [4, 16, 12, 12], w: [32, 16, 3, 3], o: { padding: 1 } },
    { x: [2, 3, 16, 16], w: [5, 3, 2, 2], o: { stride: 2 } },
    { x: [2, 8, 9, 11], w: [3, 8, 1, 1], o: {} },
  ];
  for (const c of convCases) {
    test(`conv2d family on x ${c.x} w ${c.w} ${JSON.stringify(c.o)}: forward, input and filter gradients`, async () => {
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const x = { data: values(n(c.x), 1), shape: c.x };
      const w = { data: values(n(c.w), 2), shape: c.w };
      await check('conv2d', [x, w], ([a, b]) => {
        const [y, back] = core.vjp((p: core.Tensor[]) => core.conv2d(p[0]!, p[1]!, c.o), [a!, b!]);
        // a cotangent that varies over the output
        const grads = back(core.add(core.mul(y, 0.25), 0.5));
        return [y, ...grads];
      });
    });
  }

  test('Winograd F(2×2, 3×3) (forward, input and filter gradients) against cpu64 and the direct kernels', async () => {
    const shapes: { x: number[]; w: number[]; o: core.Conv2dOptions }[] = [
      { x: [2, 32, 13, 11], w: [40, 32, 3, 3], o: { padding: 1 } },
      { x: [3, 48, 9, 16], w: [32, 48, 3, 3], o: { padding: [0, 2, 1, 0] } },
      { x: [2, 8, 10, 12], w: [8, 8, 3, 3], o: {} },
    ];
    for (const c of shapes) {
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const inputs = [{ data: values(n(c.x), 21), shape: c.x }, { data: values(n(c.w), 22), shape: c.w }];
      const f = ([a, b]: core.Tensor[]) => {
        const [y, back] = core.vjp((p: core.Tensor[]) => core.conv2d(p[0]!, p[1]!, c.o), [a!, b!]);
        return [y, ...back(core.add(core.mul(y, 0.25), 0.5))];
      };
      await check(`winograd x ${c.x} w ${c.w}`, inputs, f);
      const direct = await on('wasm', { threads: 2, winograd: false }, inputs, f);
      const wino = await on('wasm', { threads: 2 }, inputs, f);
      direct.forEach((d, i) => assert.ok(relErr(wino[i]!, d) <= TOL, `winograd vs direct, output ${i}`));
    }
  });

  test('transposed convolution (the U-Net decoder: 2×2, stride 2; and 3×3 stride 2 with output padding)', async () => {
    const x = { data: values(2 * 6 * 9 * 7, 3), shape: [2, 6, 9, 7] };
    const w1 = { data: values(6 * 4 * 2 * 2, 4), shape: [6, 4, 2, 2] };
    const w2 = { data: values(6 * 4 * 3 * 3, 5), shape: [6, 4, 3, 3] };
    await check('conv2dTranspose', [x, w1, w2], ([a, b, c]) => [
      core.conv2dTranspose(a!, b!, { stride: 2 }),
      core.conv2dTranspose(a!, c!, { stride: 2, padding: 1, outputPadding: 1 }),
    ]);
  });

  test('broadcasting elementwise ops, comparisons and where on large tensors', async () => {
    const big = { data: values(8 * 16 * 32 * 32, 6), shape: [8, 16, 32, 32] };
    const bias = { data: values(16, 7), shape: [1, 16, 1, 1] };
    const row = { data: values(32, 8), shape: [32] };
    const odd = { data: values(8 * 3 * 5 * 7, 9), shape: [8, 3, 5, 7] };
    const col = { data: values(8 * 1 * 5 * 1, 10), shape: [8, 1, 5, 1] };
    await check('elementwise', [big, bias, row, odd, col], ([x, b, r, o, c]) => [
      core.add(x!, b!), core.sub(b!, x!), core.mul(x!, r!), core.div(x!, core.add(core.abs(r!), 0.5)),
      core.greater(x!, 0), core.lessEqual(x!, b!), core.equal(o!, o!), core.notEqual(o!, c!),
      core.where(core.greater(x!, 0.2), x!, b!), core.relu(x!), core.where(core.less(o!, c!), c!, 3),
      core.mul(o!, c!), core.neg(x!), core.sqrt(core.abs(x!)), core.square(o!), core.exp(o!),
    ]);
  });

  test('reductions over every axis pattern, pooling, softmax', async () => {
    const x = { data: values(8 * 16 * 32 * 32, 11), shape: [8, 16, 32, 32] };
    const y = { data: values(4 * 3 * 10 * 6, 12), shape: [4, 3, 10, 6] };
    await check('reductions', [x, y], ([a, b]) => [
      core.sum(a!, [0, 2, 3]), core.sum(a!, [2, 3]), core.sum(a!, 0), core.sum(a!, [1, 3]), core.sum(a!),
      core.max(a!, [0, 2, 3]), core.max(a!, 1, true), core.max(b!, [0, 2]), core.mean(b!, [1, 3]), core.sum(b!, [3]),
      core.maxPool2d(a!, { size: 2 }), core.maxPool2d(b!, { size: 2 }), core.softmax(a!, 1), core.logSoftmax(b!, 3),
    ]);
  });

  test('special values (NaN, ±Infinity, −0) as the reference treats them', async () => {
    const special = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 3.5, 1e-30, -2e30];
    const n = 40_000;
    const a = Float32Array.from({ length: n }, (_, i) => special[i % special.length]!);
    const b = Float32Array.from({ length: n }, (_, i) => special[(i * 7 + 3) % special.length]!);
    const inputs = [{ data: a, shape: [100, 400] }, { data: b, shape: [100, 400] }];
    const f = ([x, y]: core.Tensor[]) => [
      core.add(x!, y!), core.mul(x!, y!), core.div(x!, y!), core.sub(x!, y!), core.greater(x!, y!), core.equal(x!, y!), core.notEqual(x!, y!),
      core.where(x!, y!, 7), core.max(x!, 1), core.max(core.reshape(x!, [100, 2, 100, 2]), [1, 3]), core.abs(x!), core.neg(y!),
    ];
    const ref = await on('cpu', {}, inputs, f);
    const got = await on('wasm', { threads: 2 }, inputs, f);
    ref.forEach((r, i) => assert.ok(r.every((v, j) => (Number.isNaN(v) ? Number.isNaN(got[i]![j]!) : v === got[i]![j])), `output ${i} differs from the reference`));
  });

  test('the two-thread backend did split work among its threads', async () => {
    await core.setBackend('wasm', { threads: 2 });
    const counts = (core.getBackend() as WasmBackend).runtime.pool.counts;
    assert.ok(counts.parallel > 10, `only ${counts.parallel} of ${counts.jobs} jobs ran on both threads`);
  });

  test('movement: broadcast, transpose, pad, slice, concat on large tensors', async () => {
    const x = { data: values(4 * 16 * 24 * 24, 13), shape: [4, 16, 24, 24] };
    const z = { data: values(4 * 8 * 24 * 24, 14), shape: [4, 8, 24, 24] };
    const r = { data: values(24, 15), shape: [1, 1, 1, 24] };
    await check('movement', [x, z, r], ([a, b, c]) => [
      core.broadcastTo(c!, [4, 16, 24, 24]), core.transpose(a!, [0, 2, 3, 1]), core.transpose(b!, [3, 1, 0, 2]),
      core.pad(a!, [[0, 0], [1, 2], [3, 0], [2, 2]], -1.5), core.slice(a!, [1, 3, 5, 2], [2, 9, 11, 20]),
      core.concat([a!, b!], 1), core.concat([b!, b!], 3), core.upsampleNearest(b!, 2),
    ]);
  });
});
