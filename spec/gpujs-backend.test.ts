/**
 * The gpu.js backend on every mode available here: selection and `describe()`, the traps of
 * the gpu.js traps found on these machines as regression tests (a reduction longer than 1,000 terms, two calls of one kernel,
 * rank > 3, odd sizes 3/7/31, zero-size outputs), scalars answered without kernels, synchronous
 * dispatch with deferred release, lifetimes as on the CPU backend, and the bounded kernel cache.
 * Runs under `xvfb-run -a` (spec/run.mjs) so the GL path is tested on Mesa's llvmpipe.
 */
import assert from 'node:assert/strict';
import { maxRelErr } from './helpers/numeric.js';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { createGpujsBackend, type GpujsBackend } from '../backends/gpujs/backend.js';
import type { GpujsRunMode } from '../backends/gpujs/settings.js';
import { adam } from '../models/optim.js';
import { requireMode } from './conformance-gpujs.js';

type T = core.Tensor;

/** Deterministic values in [-1, 1). */
const vals = (n: number, seed: number): Float32Array => Float32Array.from(core.uniformArray(core.key(seed), n), (v) => v * 2 - 1);
const input = (shape: number[], seed: number): T => core.tensor(vals(core.sizeOf(shape), seed), shape);

/** Runs `f` on a backend and reads its result. */
async function runOn(name: string, options: Record<string, unknown>, f: () => T): Promise<{ data: Float32Array; shape: readonly number[] }> {
  await core.setBackend(name, options);
  const y = core.scope(f);
  const out = { data: await y.data(), shape: y.shape };
  y.dispose();
  return out;
}

/** Declares every test on one mode. */
function battery(mode: GpujsRunMode, tolerance: number): void {
  const options = { mode };
  describe(`gpujs:${mode}`, () => {
    let b: GpujsBackend;
    before(async () => {
      await core.setBackend('gpujs', options);
      b = core.getBackend() as GpujsBackend;
    });
    after(async () => {
      await b.dispose();
    });

    /** Same values as the `cpu` backend within the mode's tolerance. */
    const matchesCpu = async (label: string, f: () => T, tol = tolerance): Promise<void> => {
      const ref = await runOn('cpu', {}, f);
      const got = await runOn('gpujs', options, f);
      assert.deepEqual(got.shape, ref.shape, `${label}: shape`);
      const e = maxRelErr(got.data, ref.data);
      assert.ok(e <= tol, `${label}: error ${e} > ${tol} on gpujs:${mode}`);
      const s = b.stats();
      assert.deepEqual(s.fallbacks, [], `${label}: gpu.js degraded a kernel`);
    };

    test('describe() reports the mode, the kernel class that ran and the renderer', async () => {
      await matchesCpu('warm-up', () => core.add(input([5], 1), 1));
      const d = await core.getBackend().describe();
      assert.equal(d.name, 'gpujs', 'name');
      assert.equal(d.mode, mode, 'mode');
      assert.equal(d.kernelClass, b.expectedKernelClass, `kernel class ${d.kernelClass}`);
      assert.ok(d.renderer && d.renderer.length > 0, 'renderer');
      assert.equal(d.precision, 'float32', 'precision');
      if (mode === 'cpu' || mode === 'webasm') assert.equal(d.software, true, 'CPU modes are never a GPU run');
      if (mode === 'headlessgl' && /llvmpipe|softpipe|swrast/i.test(d.renderer!)) assert.equal(d.software, true, `software GL reported as such: ${d.renderer}`);
      console.log(`gpujs:${mode}: ${JSON.stringify(d)}`);
    });

    describe('trap: a loop longer than gpu.js loopMaxIterations (1,000) runs to its end', () => {
      test('sums of 1,152 terms (contiguous and strided) and of 5,000 terms (two stages)', async () => {
        await matchesCpu('sum 1152', () => core.sum(input([2, 1152], 2), 1));
        await matchesCpu('sum 1152 strided', () => core.sum(input([3, 1152, 2], 3), 1));
        await matchesCpu('sum 5000', () => core.sum(input([5000], 4)));
        await matchesCpu('sum 3×1500, axes 0 and 2', () => core.sum(input([3, 4, 1500], 5), [0, 2]));
      });
      test('max and argmax over 1,500 terms find the last element', async () => {
        const ramp = () => core.tensor(Float32Array.from({ length: 1500 }, (_, i) => i / 100), [1, 1500]);
        await matchesCpu('max 1500', () => core.max(ramp(), 1));
        const got = await runOn('gpujs', options, () => core.argmax(ramp(), 1));
        assert.deepEqual(Array.from(got.data), [1499], 'argmax of a ramp of 1,500 is its last index');
      });
      test('matmul with K = 1,200', async () => {
        await matchesCpu('matmul K=1200', () => core.matmul(input([3, 1200], 6), input([1200, 2], 7)));
      });
      test('the conv family with 1,100 channels and 1,152-term windows', async () => {
        await matchesCpu('conv2d C=128 3×3 (1,152 terms)', () => core.conv2d(input([1, 128, 5, 5], 8), input([2, 128, 3, 3], 9), { padding: 1 }));
        await matchesCpu('conv2d C=1100 1×1', () => core.conv2d(input([1, 1100, 2, 2], 10), input([2, 1100, 1, 1], 11)));
        await matchesCpu('conv2dBackpropInput O=1100', () =>
          core.conv2dBackpropInput(input([1, 1100, 2, 2], 12), input([1100, 2, 1, 1], 13), { inputShape: [1, 2, 2, 2] }));
        await matchesCpu("conv2dBackpropFilter W'=1200", () =>
          core.conv2dBackpropFilter(input([1, 1, 1, 1200], 14), input([1, 1, 1, 1200], 15), { filterShape: [1, 1, 1, 1] }));
        await matchesCpu("conv2dBackpropFilter N·H'·W' = 8,192 (partial sums)", () =>
          core.conv2dBackpropFilter(input([2, 3, 64, 64], 16), input([2, 4, 64, 64], 17), { filterShape: [4, 3, 3, 3], padding: 1 }));
      });
    });

    test('trap: two calls of one kernel keep both results (immutable outputs)', async () => {
      await core.setBackend('gpujs', options);
      const [x1, y1, x2, y2] = [input([4, 6], 20), input([4, 6], 21), input([4, 6], 22), input([4, 6], 23)];
      const before = b.stats().compiles;
      const a = core.add(x1, y1);
      const mid = b.stats().compiles;
      const c = core.add(x2, y2);
      assert.equal(b.stats().compiles, mid, 'the second call reuses the kernel');
      assert.ok(mid - before <= 1, 'one compile for the first call');
      const [av, cv, x1v, y1v, x2v, y2v] = await Promise.all([a, c, x1, y1, x2, y2].map((t) => t.data()));
      assert.deepEqual(Array.from(av), Array.from(x1v).map((v, i) => Math.fround(v + y1v[i]!)), 'first result kept');
      assert.deepEqual(Array.from(cv), Array.from(x2v).map((v, i) => Math.fround(v + y2v[i]!)), 'second result');
      core.dispose([x1, y1, x2, y2, a, c]);
    });

    test('trap: tensors of rank 4, 5 and 6 (outputs are flat; gpu.js drops a 4th output dimension)', async () => {
      await matchesCpu('add rank 5 with broadcasting', () => core.add(input([2, 1, 3, 1, 4], 30), input([3, 5, 1], 31)));
      await matchesCpu('transpose rank 6', () => core.transpose(input([2, 3, 1, 2, 3, 2], 32), [5, 3, 1, 0, 4, 2]));
      await matchesCpu('sum rank 5 over axes 1, 3', () => core.sum(input([2, 3, 4, 5, 2], 33), [1, 3]));
      await matchesCpu('max rank 4 over axes 0, 2', () => core.max(input([3, 2, 4, 5], 34), [0, 2], true));
      await matchesCpu('pad rank 4', () => core.pad(input([2, 3, 2, 2], 35), [[1, 0], [0, 2], [1, 1], [0, 1]], -2));
      await matchesCpu('slice rank 5', () => core.slice(input([3, 4, 2, 5, 3], 36), [1, 1, 0, 2, 1], [2, 2, 2, 3, 1]));
      await matchesCpu('concat rank 4 on axis 2', () => core.concat([input([2, 3, 1, 4], 37), input([2, 3, 2, 4], 38)], 2));
      await matchesCpu('softmax rank 4 over axis 1', () => core.softmax(input([2, 5, 3, 4], 39), 1));
    });

    test('trap: odd sizes 3, 7 and 31', async () => {
      await matchesCpu('mul [3,7,31] × [7,1]', () => core.mul(input([3, 7, 31], 40), input([7, 1], 41)));
      await matchesCpu('sum over 31', () => core.sum(input([3, 7, 31], 42), 2));
      await matchesCpu('sum over 3 and 31', () => core.sum(input([3, 7, 31], 43), [0, 2]));
      await matchesCpu('matmul 7×31 · 31×3, batch 3', () => core.matmul(input([3, 7, 31], 44), input([3, 31, 3], 45)));
      await matchesCpu('conv2d 3×7×31×31, stride 2, same', () => core.conv2d(input([3, 7, 31, 31], 46), input([3, 7, 3, 3], 47), { stride: 2, padding: 'same' }));
      await matchesCpu('conv2dTranspose 31×31 → 7 channels', () => core.conv2dTranspose(input([1, 3, 7, 7], 48), input([3, 7, 3, 3], 49), { stride: 2, padding: 1 }));
      await matchesCpu('maxPool2d 31×31', () => core.maxPool2d(input([1, 3, 31, 31], 50), { size: 3, stride: 2, padding: 1 }));
      await matchesCpu('argmax over 7', () => core.argmax(input([3, 7, 31], 51), 1));
      await matchesCpu('grouped dilated conv 7×7 input', () => core.conv2d(input([1, 6, 7, 7], 52), input([3, 2, 3, 3], 53), { groups: 3, dilation: 2, padding: 2 }));
    });

    test('2^24 elements (the UNet-d3-b16 256×256 b8 skip concat): float32 indices stay exact; more are refused', { skip: mode === 'cpu' || mode === 'headlessgl' ? 'webasm and webgpu only (64 MiB tensors)' : false }, async () => {
      await core.setBackend('gpujs', options);
      const shape = [8, 32, 256, 256];
      const n = core.sizeOf(shape);
      const xv = Float32Array.from({ length: n }, (_, i) => i % 1000);
      const bv = Float32Array.from({ length: 32 }, (_, c) => c * 1000);
      const x = core.tensor(xv, shape);
      const b3 = core.tensor(bv, [32, 1, 1]);
      const y = core.add(x, b3);
      const tail = core.slice(y, [7, 30, 254, 253], [1, 2, 2, 3]);
      const total = core.sum(y);
      const want: number[] = [];
      for (const c of [30, 31]) for (const h of [254, 255]) for (const w of [253, 254, 255]) want.push((((7 * 32 + c) * 256 + h) * 256 + w) % 1000 + c * 1000);
      assert.deepEqual(Array.from(await tail.data()), want, 'the last elements of a 2^24-element tensor');
      let expected = 0;
      for (let i = 0; i < n; i++) expected += xv[i]! + bv[Math.floor(i / 65536) % 32]!;
      const got = (await total.data())[0]!;
      assert.ok(Math.abs(got - expected) / expected < 1e-5, `sum of 2^24 terms: ${got} vs ${expected}`);
      core.dispose([x, b3, y, tail, total]);
      assert.throws(() => core.zeros([n + 1]), core.BackendError, 'more than 2^24 elements is refused');
    });

    test('trap: zero-size outputs are answered on the host (gpu.js throws on them)', async () => {
      await core.setBackend('gpujs', options);
      const checks: [string, () => T, number[], number[]][] = [
        ['add', () => core.add(core.zeros([0, 3]), core.ones([1, 3])), [0, 3], []],
        ['sum over an empty axis', () => core.sum(core.zeros([0, 3]), 0), [3], [0, 0, 0]],
        ['matmul with K = 0', () => core.matmul(core.zeros([2, 0]), core.zeros([0, 3])), [2, 3], [0, 0, 0, 0, 0, 0]],
        ['concat with an empty part', () => core.concat([core.zeros([0, 2]), core.tensor([[1, 2], [3, 4]])], 0), [2, 2], [1, 2, 3, 4]],
        ['pad of an empty tensor', () => core.pad(core.zeros([0]), [[1, 2]], 7), [3], [7, 7, 7]],
        ['reshape of an empty tensor', () => core.reshape(core.zeros([0, 4]), [4, 0]), [4, 0], []],
      ];
      for (const [label, f, shape, expected] of checks) {
        b.resetPrimStats();
        const y = f();
        assert.deepEqual(y.shape, shape, `${label}: shape`);
        assert.deepEqual(Array.from(await y.data()), expected, `${label}: values`);
        y.dispose();
        if (shape.includes(0)) {
          for (const [prim, classes] of Object.entries(b.stats().byPrim)) {
            assert.ok(!(b.expectedKernelClass in classes), `${label}: ${prim} launched a kernel for a zero-size tensor`);
          }
        }
      }
    });

    test('scalars are answered without launching a kernel', async () => {
      await core.setBackend('gpujs', options);
      b.resetPrimStats();
      const compiles = b.stats().compiles;
      const y = core.scope(() => core.div(core.exp(core.add(core.scalar(2), core.scalar(1))), core.reshape(core.tensor([4], [1, 1]), [])));
      assert.ok(Math.abs((await y.data())[0]! - Math.exp(3) / 4) < 1e-4, 'value');
      y.dispose();
      assert.equal(b.stats().compiles, compiles, 'no kernel compiled');
      for (const [prim, classes] of Object.entries(b.stats().byPrim)) {
        assert.deepEqual(Object.keys(classes).filter((c) => c !== 'host' && c !== 'view'), [], `${prim} launched a kernel`);
      }
    });

    test('dispatch is synchronous; releasing a tensor that a pending kernel reads is deferred', async () => {
      await core.setBackend('gpujs', options);
      const base = core.memory().buffers;
      const devices = b.stats().deviceValues;
      const xv = vals(37, 60);
      // a shape no kernel has seen: on WebGPU the kernels below are still compiling when released
      const x = core.tensor(xv, [37]);
      const y = core.exp(x);
      x.dispose();
      const z = core.mul(y, y);
      y.dispose();
      const w = core.sum(z);
      z.dispose();
      assert.equal(core.memory().buffers, base + 1, 'only w is live');
      const got = (await w.data())[0]!;
      const want = Array.from(xv).reduce((a, v) => a + Math.exp(2 * v), 0);
      assert.ok(Math.abs(got - want) / want < 1e-5, `value ${got} vs ${want}`);
      w.dispose();
      await b.settle();
      assert.equal(core.memory().buffers, base, 'live buffers back to baseline');
      assert.equal(b.stats().deviceValues, devices, 'device textures/buffers freed');
      const ones = core.ones([3]);
      if (mode === 'webgpu') assert.throws(() => ones.dataSync(), core.BackendError, 'WebGPU has no synchronous read');
      else assert.deepEqual(Array.from(ones.dataSync()), [1, 1, 1], 'synchronous read');
      ones.dispose();
    });

    test('lifetimes: ops, scopes, valueAndGrad and 20 Adam steps release their buffers (as on the CPU backend)', async () => {
      await core.setBackend('gpujs', options);
      const live = () => core.memory().buffers;
      const base = live();
      const devices = b.stats().deviceValues;
      const x = input([2, 3], 70);
      const m = core.mul(x, 2);
      const a = core.add(m, 1);
      const s = core.softmax(a, 1);
      assert.equal(live(), base + 4, 'one buffer per result, no intermediates');
      core.dispose([x, m, a, s]);
      const r = core.scope(() => {
        const a = input([4, 4], 71);
        return { c: core.sum(core.exp(a)), kept: [core.neg(a)] };
      });
      assert.equal(live(), base + 2, 'scope keeps only what it returns');
      core.dispose(r);
      assert.equal(live(), base, 'back to baseline');

      let params = { w: input([4, 3, 3, 3], 72), b: core.zeros([1, 4, 1, 1]) };
      const data = input([2, 3, 8, 8], 73);
      const loss = (p: typeof params) => core.mean(core.square(core.relu(core.add(core.conv2d(data, p.w, { padding: 1 }), p.b))));
      const opt = adam<typeof params>({ learningRate: 1e-2 });
      let state = opt.init(params);
      const afterFirst: number[] = [];
      for (let step = 0; step < 20; step++) {
        const [v, p2, s2] = core.scope(() => {
          const [value, grads] = core.valueAndGrad(loss)(params);
          const [np, ns] = opt.update(params, grads, state);
          return [value, np, ns] as const;
        });
        core.dispose([params, state]);
        params = p2;
        state = s2;
        await v.data();
        v.dispose();
        if (step === 0) afterFirst.push(live());
      }
      assert.equal(live(), afterFirst[0], 'the live count stays flat over training steps');
      core.dispose([params, state, data]);
      assert.equal(live(), base, 'back to baseline after training');
      await b.settle();
      assert.equal(b.stats().deviceValues, devices, 'every texture/buffer released');
    });
  });
}

test('gpujs is registered with a negative priority: never the library default', async () => {
  assert.ok(core.listBackends().includes('gpujs'), 'registered');
  if (!process.env['BOUNDARY_SEG_BACKEND']) assert.notEqual(core.getBackend().name, 'gpujs', 'not the default');
});

test('options are checked: unknown modes and options are BackendErrors', async () => {
  await assert.rejects(core.setBackend('gpujs', { mode: 'vulkan' }), (e: unknown) => e instanceof core.BackendError && /auto, webgpu, headlessgl, webasm, cpu/.test((e as Error).message));
  await assert.rejects(core.setBackend('gpujs', { mode: 'webasm', threads: 2 }), core.BackendError);
});

test('auto picks a WebGPU adapter or a GL context that is not software, else webasm', async () => {
  const b = await createGpujsBackend({ mode: 'auto' });
  const d = await b.describe();
  console.log(`gpujs:auto resolved to ${d.mode} (${d.renderer}); passed over: ${b.autoReasons.join('; ') || 'nothing'}`);
  if (d.mode === 'webasm') assert.equal(b.autoReasons.length, 2, 'says why WebGPU and GL were passed over');
  else assert.equal(d.software, false, 'auto never picks a software renderer');
  await b.dispose();
});

test('the kernel cache is bounded: evicted kernels are destroyed once their outputs are gone', async () => {
  core.registerBackend({ name: 'gpujs-small-cache', priority: -100, create: (o) => createGpujsBackend(o, { cacheSize: 3 }) as never });
  await core.setBackend('gpujs-small-cache', { mode: 'webasm' });
  const b = core.getBackend() as GpujsBackend;
  const outs = Array.from({ length: 8 }, (_, i) => core.scope(() => core.exp(input([i + 2], 80 + i))));
  const s = b.stats();
  assert.ok(s.cachedKernels <= 3, `cache holds ${s.cachedKernels}`);
  assert.ok(s.evictions >= 5, `evictions ${s.evictions}`);
  for (let i = 0; i < outs.length; i++) {
    const want = Array.from(vals(i + 2, 80 + i), (v) => Math.fround(Math.exp(v)));
    const got = Array.from(await outs[i]!.data());
    assert.ok(got.every((v, k) => Math.abs(v - want[k]!) < 1e-5), `output ${i} of an evicted kernel is intact`);
  }
  core.dispose(outs);
  await b.dispose();
});

const modes: [GpujsRunMode, number][] = [['cpu', 2e-5], ['webasm', 1e-4], ['headlessgl', 1e-4], ['webgpu', 1e-4]];
for (const [mode, tolerance] of modes) {
  if (await requireMode(mode, 'backend tests')) battery(mode, tolerance);
}
