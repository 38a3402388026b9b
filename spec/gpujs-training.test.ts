/**
 * A small conv net's training steps give the same losses on every backend (every registered
 * backend and every gpu.js mode available here) within tolerance, with no change to its code:
 * the model below names no backend. The same steps compiled with `jit` give the eager losses on
 * each of them (bit for bit on the CPU backends).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import type { GpujsBackend } from '../backends/gpujs/backend.js';
import type { GpujsRunMode } from '../backends/gpujs/settings.js';
import { adam } from '../models/optim.js';
import { unavailable } from './conformance-gpujs.js';
import { unetStep } from './helpers/unet-step.js';
import type { UNetParams } from '../models/index.js';

type Params = { w1: core.Tensor; b1: core.Tensor; w2: core.Tensor; w3: core.Tensor; b3: core.Tensor };
const SIZE = 12;
const BATCH = 2;
const STEPS = 3;

const host = (n: number, seed: number, scale: number): Float32Array => Float32Array.from(core.normalArray(core.key(seed), n), (v) => v * scale);

/** The model: conv → relu → max-pool → conv → relu → upsample → concat skip → 1×1 conv. */
function logits(p: Params, x: core.Tensor): core.Tensor {
  const h1 = core.relu(core.add(core.conv2d(x, p.w1, { padding: 1 }), p.b1));
  const h2 = core.relu(core.conv2d(core.maxPool2d(h1, { size: 2 }), p.w2, { padding: 'same' }));
  const up = core.upsampleNearest(h2, 2);
  return core.add(core.conv2d(core.concat([h1, up], 1), p.w3), p.b3);
}

function loss(p: Params, x: core.Tensor, target: core.Tensor): core.Tensor {
  return core.neg(core.mean(core.sum(core.mul(core.logSoftmax(logits(p, x), 1), target), 1)));
}

/** Losses of STEPS Adam steps on the selected backend, eager or with the step compiled by jit. */
async function train(compiled = false): Promise<number[]> {
  let params: Params = {
    w1: core.tensor(host(6 * 1 * 9, 1, 0.4), [6, 1, 3, 3]),
    b1: core.tensor(host(6, 2, 0.1), [1, 6, 1, 1]),
    w2: core.tensor(host(6 * 6 * 9, 3, 0.2), [6, 6, 3, 3]),
    w3: core.tensor(host(2 * 12, 4, 0.3), [2, 12, 1, 1]),
    b3: core.zeros([1, 2, 1, 1]),
  };
  const images = host(BATCH * SIZE * SIZE, 5, 1);
  const labels = Float32Array.from(images, (v, i) => (v + 0.3 * Math.sin(i) > 0.2 ? 1 : 0));
  const opt = adam<Params>({ learningRate: 1e-2 });
  let state = opt.init(params);
  const losses: number[] = [];
  const step1 = (p: Params, slots: { m: Params; v: Params }, x: core.Tensor, target: core.Tensor, scalars: number[]) => {
    const [v, grads] = core.valueAndGrad(loss)(p, x, target);
    const [np, ns] = opt.apply(p, grads, slots, scalars);
    return [v, np, ns] as const;
  };
  const jitted = core.jit(step1, { donate: true });
  for (let step = 0; step < STEPS; step++) {
    const [value, p2, s2] = core.scope(() => {
      const x = core.tensor(images, [BATCH, 1, SIZE, SIZE]);
      const target = core.oneHot(core.tensor(labels, [BATCH, SIZE, SIZE]), 2);
      const { step: n, ...slots } = state;
      const [v, np, ns] = (compiled ? jitted : step1)(params, slots, x, target, opt.scalars(n));
      return [v, np, { ...ns, step: n + 1 }] as const;
    });
    core.dispose([params, state]);
    params = p2;
    state = s2;
    losses.push((await value.data())[0]!);
    value.dispose();
  }
  core.dispose([params, state]);
  if (compiled) assert.equal(jitted.stats().traces, 1, 'one trace for every step');
  jitted.clear();
  return losses;
}

const gpujsModes: GpujsRunMode[] = ['cpu', 'webasm', 'headlessgl', 'webgpu'];
const targets: { label: string; name: string; options: Record<string, unknown>; tolerance: number }[] = [];
for (const name of core.listBackends()) {
  if (name === 'cpu64') continue;
  if (name !== 'gpujs') {
    targets.push({ label: name, name, options: {}, tolerance: 1e-4 });
    continue;
  }
  for (const mode of gpujsModes) {
    const problem = await unavailable(mode);
    if (problem === undefined) targets.push({ label: `gpujs:${mode}`, name, options: { mode }, tolerance: 1e-4 });
    else if ((mode === 'headlessgl' || mode === 'webgpu') && (process.env['CI'] === 'true' || process.env['CI'] === '1')) {
      test(`gpujs:${mode} is available for the training steps (CI=true)`, () => assert.fail(`gpujs:${mode}: ${problem}`));
    } else console.log(`gpujs:${mode} training step SKIPPED: ${problem}`);
  }
}

const reference = await (async () => {
  await core.setBackend('cpu64');
  return train();
})();

for (const t of targets) {
  test(`${t.label}: ${STEPS} training steps give cpu64's losses within ${t.tolerance}`, async () => {
    await core.setBackend(t.name, t.options);
    const got = await train();
    const err = Math.max(...got.map((v, i) => Math.abs(v - reference[i]!) / Math.max(1, Math.abs(reference[i]!))));
    console.log(`${t.label}: losses ${got.map((v) => v.toFixed(6)).join(', ')} (cpu64 ${reference.map((v) => v.toFixed(6)).join(', ')}), error ${err.toExponential(2)}`);
    assert.ok(err <= t.tolerance, `${t.label}: losses ${got.join(', ')} vs cpu64 ${reference.join(', ')}`);
    assert.ok(reference[STEPS - 1]! < reference[0]!, 'the loss falls');
  });

  test(`${t.label}: the jit-compiled training step gives the eager losses${t.name === 'gpujs' ? ` within ${t.tolerance}` : ' bit for bit'}`, async () => {
    await core.setBackend(t.name, t.options);
    const eager = await train(false);
    const compiled = await train(true);
    if (t.name !== 'gpujs') assert.deepEqual(compiled, eager);
    const err = Math.max(...compiled.map((v, i) => Math.abs(v - eager[i]!) / Math.max(1, Math.abs(eager[i]!))));
    assert.ok(err <= t.tolerance, `${t.label}: jit ${compiled.join(', ')} vs eager ${eager.join(', ')}`);
  });
}

test('cpu64: the jit-compiled training step gives the eager losses bit for bit', async () => {
  await core.setBackend('cpu64');
  assert.deepEqual(await train(true), reference);
});

after(async () => {
  for (const t of targets.filter((x) => x.name === 'gpujs')) {
    await core.setBackend(t.name, t.options);
    await (core.getBackend() as GpujsBackend).dispose();
  }
});

// The UNet-d3-b16 training step compiled by jit on WebGPU (in CI: lavapipe, a software adapter),
// at 32×32 b2: the values of the eager step, the kernel class that ran, and what one replayed
// step costs: at most 150 fused groups and kernels, at most 2 queue submissions (the replay and the
// loss read share one), no fresh buffer and no new bind group.
if (targets.some((t) => t.label === 'gpujs:webgpu')) {
  /** The UNet-d3-b16 step at 32×32 b2 with its initial state and a batch (`seed`: the batch's first key). */
  const webGpuStep = (init: number, seed: number) => {
    const { model, opt, step } = unetStep();
    const { params, state } = model.init(core.key(init));
    const slots = core.scope(() => {
      const s = opt.init(params);
      return { m: s.m, v: s.v };
    });
    const images = core.tensor(host(2 * 32 * 32, seed, 1), [2, 1, 32, 32]);
    const target = core.oneHot(core.tensor(Float32Array.from(host(2 * 32 * 32, seed + 1, 1), (v) => (v > 0.8 ? 1 : 0)), [2, 32, 32]), 2);
    const dist = core.tensor(host(2 * 2 * 32 * 32, seed + 2, 2), [2, 2, 32, 32]);
    return { opt, step, params, state, slots, images, target, dist };
  };

  test('gpujs:webgpu: the UNet-d3-b16 jit training step at 32×32 b2 gives the eager loss and parameters within 1e-3', async () => {
    await core.setBackend('gpujs', { mode: 'webgpu' });
    const b = core.getBackend() as GpujsBackend;
    const { opt, step, params, state, slots, images, target, dist } = webGpuStep(0, 11);
    const args = [params, state, slots, images, target, dist, [0.9, 0.1], opt.scalars(0)] as [UNetParams, typeof state, typeof slots, core.Tensor, core.Tensor, core.Tensor, number[], number[]];
    const eager = core.scope(() => step(...args));
    const jitted = core.jit(step);
    const first = jitted(...args);
    await b.settle(); // the eager step and the first call (which compiles) run before the count
    const s0 = b.stats();
    const second = jitted(...args);
    const lossJit = (await second[0].data())[0]!;
    const s1 = b.stats();
    const lossEager = (await eager[0].data())[0]!;
    const plan = jitted.lastPlan()!;
    console.log(`gpujs:webgpu UNet-d3-b16 jit step 32x32 b2: ${plan.kernels} kernels in the plan (${plan.fusedGroups} fused groups); one replay: ${s1.kernels - s0.kernels} kernels, ${s1.launches - s0.launches} dispatches, ${(s1.submits ?? 0) - (s0.submits ?? 0)} submits (read-back included), ${s1.allocations - s0.allocations} fresh buffers, ${(s1.bindGroups ?? 0) - (s0.bindGroups ?? 0)} new bind groups; ${(await b.describe()).kernelClass}`);
    assert.ok(Math.abs(lossJit - lossEager) <= 1e-3 * Math.max(1, Math.abs(lossEager)), `loss: jit ${lossJit} vs eager ${lossEager}`);
    const [pe, pj] = [core.treeLeaves(eager[1]), core.treeLeaves(second[1])];
    for (let i = 0; i < pe.length; i++) {
      const [a, c] = [await pe[i]!.data(), await pj[i]!.data()];
      let err = 0;
      for (let k = 0; k < a.length; k++) err = Math.max(err, Math.abs(a[k]! - c[k]!));
      assert.ok(err <= 1e-3, `parameter ${i}: max difference ${err}`);
    }
    assert.equal(s1.kernels - s0.kernels, plan.kernels, 'stats() counts what the plan launches');
    assert.ok(plan.kernels <= 150, `${plan.kernels} kernels (primitives and fused groups) per step`);
    assert.ok((s1.submits ?? Infinity) - (s0.submits ?? 0) <= 2, `${(s1.submits ?? 0) - (s0.submits ?? 0)} submissions per replayed step`);
    assert.equal(s1.allocations - s0.allocations, 0, 'a replayed step takes every buffer from the pool');
    assert.match((await b.describe()).kernelClass ?? '', /WebGPUKernel/);
    assert.equal((await b.describe()).software, true, 'lavapipe is a software adapter, never a GPU run');
    core.dispose([eager, first, second, params, state, slots, images, target, dist]);
    jitted.clear();
  });

  test('gpujs:webgpu: training with the state threaded through (donated) settles into replays that create no buffer and no bind group', async () => {
    await core.setBackend('gpujs', { mode: 'webgpu' });
    const b = core.getBackend() as GpujsBackend;
    const start = webGpuStep(1, 21);
    const { opt, step, images, target, dist } = start;
    let { params, state, slots } = start;
    const jitted = core.jit(step, { donate: [0, 2] });
    const rows: string[] = [];
    let settled = -1;
    // NOTE: run sites take back their own buffers; the parameters that share a size trade buffers
    // for a few steps (each step's outputs must avoid its inputs) before the bind groups repeat.
    for (let t = 0; t < 14 && settled < 0; t++) {
      await b.settle();
      const s0 = b.stats();
      const [loss, p1, s1, sl1] = jitted(params, state, slots, images, target, dist, [0.9, 0.1], opt.scalars(t));
      const value = (await loss.data())[0]!;
      const s2 = b.stats();
      loss.dispose();
      [params, state, slots] = [p1, s1, sl1];
      assert.ok(Number.isFinite(value), `step ${t + 1}: loss ${value}`);
      const [submits, fresh, groups] = [s2.submits! - s0.submits!, s2.allocations - s0.allocations, s2.bindGroups! - s0.bindGroups!];
      rows.push(`${t + 1}: ${submits} submits, ${fresh} fresh, ${groups} bind groups`);
      if (t > 0) {
        assert.ok(submits <= 2, `step ${t + 1}: ${submits} submissions`);
        assert.equal(fresh, 0, `step ${t + 1}: ${fresh} fresh buffers`);
      }
      if (t > 0 && groups === 0) settled = t + 1;
    }
    console.log(`gpujs:webgpu threaded 32x32 b2 steps: ${rows.join('; ')}`);
    assert.ok(settled > 0, `no step without new bind groups: ${rows.join('; ')}`);
    core.dispose([params, state, slots, images, target, dist]);
    jitted.clear();
  });
}
