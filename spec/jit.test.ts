/**
 * `jit` against eager execution: bit for bit on `cpu`, `cpu64` and `wasm` over random graphs
 * (elementwise chains with broadcasting, reductions, matmul and convolution neighbours) and the
 * UNet-d3-b16 training step; gradients through jit; jit of jit; the cache; static arguments;
 * numbers and keys as inputs; donation; errors at the first call; lifetimes over 1,000 steps;
 * kernel counts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import * as core from '../core/index.js';
import { BackendError, InputError, ShapeError, type Tensor } from '../core/index.js';
import { adam, objective, train, trainDefaults, unet, type TrainConfig, type UNetParams } from '../models/index.js';
import { fcParams, mulberry32, uniformValues } from './helpers/numeric.js';
import { standIn } from './helpers/stand-in.js';
import { unetStep } from './helpers/unet-step.js';

const BACKENDS = ['cpu', 'cpu64', 'wasm'] as const;

async function bits(t: Tensor): Promise<number[]> {
  const v = await t.dataFloat64();
  return Array.from(v, (x) => (Number.isNaN(x) ? NaN : x));
}

async function assertSameBits(a: unknown, b: unknown, what: string): Promise<void> {
  const la = core.treeLeaves(a);
  const lb = core.treeLeaves(b);
  assert.equal(la.length, lb.length, `${what}: number of results`);
  for (let i = 0; i < la.length; i++) {
    assert.deepEqual(la[i]!.shape, lb[i]!.shape, `${what}: shape of result ${i}`);
    const [x, y] = [await bits(la[i]!), await bits(lb[i]!)];
    for (let j = 0; j < x.length; j++) {
      if (!Object.is(x[j], y[j])) assert.fail(`${what}: result ${i} differs at ${j}: jit ${y[j]} vs eager ${x[j]}`);
    }
  }
}

// ------------------------------------------------------------------------------------------
// Random graphs. Every value has the shape S = [1, 2, 4, 4] with some axes reduced to 1, so any
// two broadcast together; neighbours (reductions, matmul, convolution) map back into that family.

const S = [1, 2, 4, 4] as const;

type OpSpec =
  | { kind: 'unary'; op: 'neg' | 'exp' | 'logAbs' | 'sqrtAbs' | 'abs' | 'sign' | 'relu' | 'square'; a: number }
  | { kind: 'binary'; op: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'powAbs'; a: number; b: number }
  | { kind: 'scalar'; op: 'add' | 'mul'; a: number; c: number }
  | { kind: 'select'; a: number; b: number }
  | { kind: 'reduce'; op: 'sum' | 'max'; a: number; axis: number }
  | { kind: 'matmul'; a: number }
  | { kind: 'conv'; a: number }
  | { kind: 'split'; a: number; b: number }
  | { kind: 'slices'; a: number; b: number; at: number };

const fcOp = (n: number): fc.Arbitrary<OpSpec> => {
  const v = fc.integer({ min: 0, max: n - 1 });
  return fc.oneof(
    fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom('neg', 'exp', 'logAbs', 'sqrtAbs', 'abs', 'sign', 'relu', 'square' as const), a: v }),
    fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom('add', 'sub', 'mul', 'div', 'maximum', 'powAbs' as const), a: v, b: v }),
    fc.record({ kind: fc.constant('scalar' as const), op: fc.constantFrom('add', 'mul' as const), a: v, c: fc.constantFrom(0.5, -2, 1e-3, 3) }),
    fc.record({ kind: fc.constant('select' as const), a: v, b: v }),
    fc.record({ kind: fc.constant('reduce' as const), op: fc.constantFrom('sum', 'max' as const), a: v, axis: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('matmul' as const), a: v }),
    fc.record({ kind: fc.constant('conv' as const), a: v }),
    fc.record({ kind: fc.constant('split' as const), a: v, b: v }),
    fc.record({ kind: fc.constant('slices' as const), a: v, b: v, at: fc.integer({ min: 0, max: 2 }) }),
  );
};

/** A random program: input shapes (members of the family) and ops over earlier values. */
const fcProgram = fc.record({
  inputs: fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
  ops: fc.integer({ min: 1, max: 14 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fcOp(i + 3)))),
  outputs: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

type Program = { inputs: boolean[][]; ops: OpSpec[]; outputs: number; seed: number };

function programFn(p: Program, weights: { w: Tensor; k: Tensor; s: Tensor }): (...xs: Tensor[]) => Tensor[] {
  return (...xs: Tensor[]) => {
    const vals: Tensor[] = [...xs];
    const pick = (i: number) => vals[i % vals.length]!;
    for (const op of p.ops) {
      let out: Tensor;
      switch (op.kind) {
        case 'unary': {
          const a = pick(op.a);
          out = op.op === 'neg' ? core.neg(a) : op.op === 'exp' ? core.exp(core.mul(a, 0.25)) : op.op === 'logAbs' ? core.log(core.add(core.abs(a), 0.5))
            : op.op === 'sqrtAbs' ? core.sqrt(core.abs(a)) : op.op === 'abs' ? core.abs(a) : op.op === 'sign' ? core.sign(a) : op.op === 'relu' ? core.relu(a) : core.square(a);
          break;
        }
        case 'binary': {
          const [a, b] = [pick(op.a), pick(op.b)];
          out = op.op === 'add' ? core.add(a, b) : op.op === 'sub' ? core.sub(a, b) : op.op === 'mul' ? core.mul(a, b)
            : op.op === 'div' ? core.div(a, core.add(core.abs(b), 0.5)) : op.op === 'maximum' ? core.maximum(a, b) : core.pow(core.add(core.abs(a), 0.5), core.clamp(b, -2, 2));
          break;
        }
        case 'scalar':
          out = op.op === 'add' ? core.add(pick(op.a), op.c) : core.mul(pick(op.a), op.c);
          break;
        case 'select': {
          const [a, b] = [pick(op.a), pick(op.b)];
          out = core.where(core.greater(a, b), a, core.mul(b, 0.5));
          break;
        }
        case 'reduce':
          out = op.op === 'sum' ? core.sum(pick(op.a), op.axis, true) : core.max(pick(op.a), op.axis, true);
          break;
        case 'matmul': {
          const a = core.broadcastTo(pick(op.a), S);
          out = core.reshape(core.matmul(core.reshape(a, [2, 4, 4]), weights.w), [...S]);
          break;
        }
        case 'conv':
          out = core.conv2d(core.broadcastTo(pick(op.a), S), weights.k, { padding: 'same' });
          break;
        case 'slices': {
          // Slices (one channel, a window) feeding elementwise work, then padded back into S.
          const a = core.broadcastTo(pick(op.a), S);
          const b = core.broadcastTo(pick(op.b), S);
          const c0 = core.slice(a, [0, 1, 0, 0], [1, 1, 4, 4]);
          const w = core.slice(b, [0, 0, op.at, 1], [1, 2, 2, 3]);
          const mixed = core.add(core.mul(core.slice(a, [0, 0, op.at, 1], [1, 2, 2, 3]), w), core.slice(c0, [0, 0, 1, 0], [1, 1, 2, 3]));
          out = core.pad(core.add(mixed, core.exp(core.mul(w, 0.5))), [[0, 0], [0, 0], [op.at, 2 - op.at], [1, 0]]);
          break;
        }
        case 'split': {
          // Elementwise work across reshapes that split axes (as 2×2 pooling does), with a
          // broadcast in the finer shape.
          const fine = [1, 2, 2, 2, 2, 2];
          const a = core.reshape(core.broadcastTo(pick(op.a), S), fine);
          const b = core.reshape(core.broadcastTo(pick(op.b), S), fine);
          out = core.reshape(core.add(core.mul(a, weights.s), core.where(core.greater(b, 0), b, a)), [...S]);
          break;
        }
      }
      vals.push(out);
    }
    return vals.slice(-p.outputs);
  };
}

function programInputs(p: Program): Tensor[] {
  const rng = mulberry32(p.seed);
  return p.inputs.map((mask) => {
    const shape: number[] = S.map((d, i) => (mask[i] ? 1 : d));
    return core.tensor(uniformValues(rng, core.sizeOf(shape), -2, 2), shape);
  });
}

for (const name of BACKENDS) {
  describe(`jit on ${name}`, () => {
    test('random graphs: jit gives the bits of eager execution', async () => {
      await core.setBackend(name);
      const rng = mulberry32(11);
      const weights = { w: core.tensor(uniformValues(rng, 32), [2, 4, 4]), k: core.tensor(uniformValues(rng, 36), [2, 2, 3, 3]), s: core.tensor(uniformValues(rng, 4), [1, 1, 2, 1, 2, 1]) };
      await fc.assert(fc.asyncProperty(fcProgram, async (p) => {
        const xs = programInputs(p);
        const f = programFn(p, weights);
        const eager = core.scope(() => f(...xs));
        const jitted = core.jit(f);
        const once = jitted(...xs);
        await assertSameBits(eager, once, 'first call');
        const again = jitted(...xs);
        await assertSameBits(eager, again, 'replay');
        assert.equal(jitted.stats().traces, 1);
        core.dispose([eager, once, again, xs]);
        jitted.clear();
      }), fcParams(name === 'cpu64' ? 25 : 60));
      core.dispose(weights);
    });

    test('elementwise chains fuse: fewer kernels, same bits', async () => {
      await core.setBackend(name);
      const x = core.tensor(uniformValues(mulberry32(3), 24), [2, 3, 4]);
      const b = core.tensor([0.5, -1, 2, 0.25], [4]);
      const f = (x: Tensor, b: Tensor) => core.relu(core.add(core.mul(core.exp(core.mul(x, 0.5)), b), core.neg(x)));
      const jf = core.jit(f);
      const eager = f(x, b);
      const stats0 = core.getBackend().stats().kernels;
      const y = jf(x, b);
      const plan = jf.lastPlan()!;
      await assertSameBits(eager, y, 'chain');
      if (core.getBackend().compileFused) {
        assert.equal(plan.kernels, 1, 'one fused kernel');
        const before = core.getBackend().stats().kernels;
        core.dispose(jf(x, b));
        assert.equal(core.getBackend().stats().kernels - before, 1, 'a replay launches one kernel');
      }
      assert.ok(core.getBackend().stats().kernels > stats0);
      core.dispose([x, b, eager, y]);
    });
  });
}

describe('jit semantics (cpu)', () => {
  test('numbers are inputs: two learning rates through one plan', async () => {
    await core.setBackend('cpu');
    const step = core.jit((p: Tensor, g: Tensor, lr: number) => core.sub(p, core.mul(g, lr)));
    const p = core.tensor([1, 2, 3]);
    const g = core.tensor([1, 1, 1]);
    const a = await step(p, g, 0.5).data();
    const b = await step(p, g, 0.25).data();
    assert.deepEqual(Array.from(a), [0.5, 1.5, 2.5]);
    assert.deepEqual(Array.from(b), [0.75, 1.75, 2.75]);
    assert.deepEqual(step.stats(), { traces: 1, hits: 1, eager: 0, cached: 1 });
  });

  test('two batches through one plan give two results; a new shape retraces', async () => {
    await core.setBackend('cpu');
    const f = core.jit((x: Tensor) => core.sum(core.square(x)));
    assert.equal((await f(core.tensor([1, 2])).data())[0], 5);
    assert.equal((await f(core.tensor([3, 4])).data())[0], 25);
    assert.equal(f.stats().traces, 1);
    assert.equal((await f(core.tensor([1, 2, 3])).data())[0], 14);
    assert.equal(f.stats().traces, 2);
    assert.equal(f.stats().hits, 1);
  });

  test('the cache is bounded: the least recently used signature is dropped', async () => {
    await core.setBackend('cpu');
    const f = core.jit((x: Tensor) => core.add(x, 1), { cacheSize: 2 });
    for (const n of [1, 2, 3, 1]) core.dispose(f(core.zeros([n])));
    assert.equal(f.stats().cached, 2);
    assert.equal(f.stats().traces, 4, 'shape [1] was evicted by [3] and traced again');
  });

  test('static arguments are part of the signature', async () => {
    await core.setBackend('cpu');
    const f = core.jit((x: Tensor, axis: number) => core.sum(x, axis), { static: [1] });
    const x = core.tensor([[1, 2], [3, 4]]);
    assert.deepEqual(Array.from(await f(x, 0).data()), [4, 6]);
    assert.deepEqual(Array.from(await f(x, 1).data()), [3, 7]);
    assert.equal(f.stats().traces, 2);
    const g = core.jit((o: { x: Tensor; mode: string; scale: number }) => (o.mode === 'double' ? core.mul(o.x, 2) : core.mul(o.x, o.scale)), { static: ['mode'] });
    assert.deepEqual(Array.from(await g({ x, mode: 'double', scale: 5 }).data()), [2, 4, 6, 8]);
    assert.deepEqual(Array.from(await g({ x, mode: 'scale', scale: 5 }).data()), [5, 10, 15, 20]);
    assert.deepEqual(Array.from(await g({ x, mode: 'scale', scale: 3 }).data()), [3, 6, 9, 12]);
    assert.equal(g.stats().traces, 2);
  });

  test('random keys are inputs: draws are made afresh from the key of each call', async () => {
    await core.setBackend('cpu');
    const f = core.jit((x: Tensor, k: core.RandomKey) => core.dropout(x, 0.5, core.foldIn(k, 3)));
    const x = core.ones([64]);
    const a = await f(x, core.key(1)).data();
    const b = await f(x, core.key(2)).data();
    const a2 = await f(x, core.key(1)).data();
    assert.equal(f.stats().traces, 1);
    assert.notDeepEqual(Array.from(a), Array.from(b));
    assert.deepEqual(Array.from(a), Array.from(a2));
    assert.deepEqual(Array.from(a), Array.from(await core.dropout(x, 0.5, core.foldIn(core.key(1), 3)).data()), 'as eager');
  });

  test('steps that read only constants run once, when the plan is built', async () => {
    await core.setBackend('cpu');
    const f = core.jit((x: Tensor) => core.mul(x, core.exp(core.sum(core.tensor([0.5, 0.25, 0.25])))));
    const x = core.tensor([1, 2]);
    const eager = core.mul(x, core.exp(core.sum(core.tensor([0.5, 0.25, 0.25]))));
    await assertSameBits(eager, f(x), 'folded');
    assert.deepEqual(f.lastPlan()!.launches, { mul: 1 }, 'the sum and exp of constants are folded');
    const before = core.getBackend().stats().kernels;
    core.dispose(f(x));
    assert.equal(core.getBackend().stats().kernels - before, 1);
    f.clear();
  });

  test('tensors closed over are constants of the plan', async () => {
    await core.setBackend('cpu');
    let w = core.tensor([2]);
    const f = core.jit((x: Tensor) => core.mul(x, w));
    assert.deepEqual(Array.from(await f(core.tensor([3])).data()), [6]);
    w = core.tensor([10]);
    assert.deepEqual(Array.from(await f(core.tensor([3])).data()), [6], 'the traced constant, not the new variable');
    f.clear();
  });

  test('gradients: jit(valueAndGrad(f)) and valueAndGrad(jit(f)) equal the eager gradients', async () => {
    await core.setBackend('cpu');
    const loss = (p: { w: Tensor; b: Tensor }, x: Tensor) => core.mean(core.square(core.relu(core.add(core.matmul(x, p.w), p.b))));
    const rng = mulberry32(5);
    const p = { w: core.tensor(uniformValues(rng, 12), [1, 4, 3]), b: core.tensor(uniformValues(rng, 3), [3]) };
    const x = core.tensor(uniformValues(rng, 20), [1, 5, 4]);
    const eager = core.valueAndGrad(loss)(p, x);
    await assertSameBits(eager, core.jit(core.valueAndGrad(loss))(p, x), 'jit(valueAndGrad(f))');
    const inner = core.jit(loss);
    await assertSameBits(eager, core.valueAndGrad(inner)(p, x), 'valueAndGrad(jit(f))');
    assert.equal(inner.stats().eager, 1, 'under a gradient the jitted function runs eagerly');
    await assertSameBits(eager, core.jit(core.jit(core.valueAndGrad(loss)))(p, x), 'jit(jit(valueAndGrad(f)))');
    const g2 = core.jit(core.grad((q: { w: Tensor; b: Tensor }) => core.sum(core.grad((r: { w: Tensor; b: Tensor }) => loss(r, x))(q).w)));
    const g2e = core.grad((q: { w: Tensor; b: Tensor }) => core.sum(core.grad((r: { w: Tensor; b: Tensor }) => loss(r, x))(q).w));
    await assertSameBits(g2e(p), g2(p), 'grad of grad under jit');
  });

  test('donation: the donated arguments are disposed and using them throws BackendError', async () => {
    await core.setBackend('cpu');
    const f = core.jit((a: Tensor, b: Tensor) => [core.add(a, b), core.mul(a, 2)], { donate: true });
    const before = core.memory();
    const a = core.tensor([1, 2, 3]);
    const b = core.tensor([4, 5, 6]);
    const [s, d] = f(a, b);
    assert.deepEqual(Array.from(await s!.data()), [5, 7, 9]);
    assert.deepEqual(Array.from(await d!.data()), [2, 4, 6]);
    assert.ok(a.isDisposed && b.isDisposed);
    assert.throws(() => core.add(a, 1), BackendError);
    assert.throws(() => core.add(a, 1), /donated/);
    core.dispose([s, d]);
    f.clear();
    assert.deepEqual(core.memory(), before, 'every buffer returned (the plan held the constant 2 until cleared)');
    // A tensor passed twice is not donated (it could not be given up early); one returned as it
    // is comes back as a new tensor.
    const g = core.jit((x: Tensor, y: Tensor) => [x, core.add(x, y)], { donate: true });
    const x = core.tensor([1, 2]);
    const [x2, sum2] = g(x, x);
    assert.deepEqual(Array.from(await x2!.data()), [1, 2]);
    assert.deepEqual(Array.from(await sum2!.data()), [2, 4]);
    assert.ok(!x.isDisposed, 'passed twice: not donated');
    core.dispose([x, x2, sum2]);
    g.clear();
    const partial = core.jit((p: Tensor, x: Tensor) => core.add(p, x), { donate: [0] });
    const [pp, xx] = [core.tensor([1]), core.tensor([2])];
    const sum3 = partial(pp, xx);
    assert.ok(pp.isDisposed && !xx.isDisposed, 'only argument 0 donated');
    core.dispose([sum3, xx]);
    assert.throws(() => core.jit((a: Tensor) => a, { donate: [-1] }), /options.donate/);
    const h = core.jit((y: Tensor) => y, { donate: true });
    const y = core.tensor([7]);
    const y2 = h(y);
    assert.ok(y.isDisposed);
    assert.deepEqual(Array.from(await y2.data()), [7]);
    y2.dispose();
    assert.deepEqual(core.memory(), before);
  });

  for (const name of ['cpu', 'wasm'] as const) {
    test(`a call that fails in the backend (${name}: an output too large) leaves nothing alive and the backend usable`, async () => {
      await core.setBackend(name);
      const x = core.tensor([1, 2]);
      const before = core.memory();
      const f = core.jit((a: Tensor, s: number) => core.add(core.mul(a, s), core.zeros([1e5, 1e5, 2])));
      assert.throws(() => f(x, 3), BackendError);
      assert.deepEqual(core.memory(), before, 'no buffer left behind');
      assert.deepEqual(Array.from(await core.add(x, 1).data()), [2, 3], 'the backend still works');
      f.clear();
      x.dispose();
    });
  }

  test('errors surface at the first call and name what was wrong', async () => {
    await core.setBackend('cpu');
    const bad = core.jit((a: Tensor, b: Tensor) => core.add(a, b));
    assert.throws(() => bad(core.zeros([2, 3]), core.zeros([4])), (e: unknown) => e instanceof ShapeError && /add/.test(e.message) && /\[2, 3\]/.test(e.message));
    const reads = core.jit((a: Tensor) => {
      void a.dataSync();
      return a;
    });
    assert.throws(() => reads(core.zeros([2])), (e: unknown) => e instanceof InputError && /inside a function traced by jit/.test(e.message));
    const readsAsync = core.jit((a: Tensor) => {
      void a.data();
      return a;
    });
    assert.throws(() => readsAsync(core.zeros([2])), InputError);
    const async = core.jit(async (a: Tensor) => a);
    assert.throws(() => async(core.zeros([2])), /synchronous/);
    assert.throws(() => core.jit((a: Tensor) => a, { donated: true } as never), /options.donated/);
    assert.throws(() => core.jit((a: Tensor) => a)(new Map() as never), /argument 0/);
  });

  test('lifetimes: 1,000 jitted Adam steps of a small network keep memory flat and allocate nothing after the first', async () => {
    await core.setBackend('cpu');
    const rng = mulberry32(9);
    const opt = adam<{ w: Tensor; b: Tensor }>({ learningRate: 1e-2 });
    let params = { w: core.tensor(uniformValues(rng, 8 * 4), [1, 8, 4]), b: core.zeros([4]) };
    let state = opt.init(params);
    const x = core.tensor(uniformValues(rng, 16 * 8), [1, 16, 8]);
    const y = core.tensor(uniformValues(rng, 16 * 4), [1, 16, 4]);
    const loss = (p: typeof params) => core.mean(core.square(core.sub(core.relu(core.add(core.matmul(x, p.w), p.b)), y)));
    const step = core.jit((p: typeof params, slots: { m: typeof params; v: typeof params }, scalars: number[]) => {
      const [l, g] = core.valueAndGrad(loss)(p);
      const [np, ns] = opt.apply(p, g, slots, scalars);
      return [l, np, ns] as const;
    }, { donate: true });
    let base = core.memory();
    let allocs = 0;
    for (let i = 0; i < 1000; i++) {
      const { step: n, ...slots } = state;
      const [l, np, ns] = step(params, slots, opt.scalars(n));
      l.dispose();
      params = np;
      state = { ...ns, step: n + 1 };
      if (i === 1) {
        base = core.memory();
        allocs = core.getBackend().stats().allocations!;
      }
    }
    assert.deepEqual(core.memory(), base, 'live buffers flat');
    assert.equal(core.getBackend().stats().allocations, allocs, 'no fresh buffer after the first replays');
    assert.equal(step.stats().traces, 1);
  });
});

// ------------------------------------------------------------------------------------------
// The UNet-d3-b16 training step (small images so that it stays quick).

for (const name of ['cpu', 'wasm'] as const) {
  test(`UNet-d3-b16 training step on ${name}: jit bit-identical to eager, at most 150 kernels (eager: about 700)`, async () => {
    await core.setBackend(name);
    const { model, opt, step } = unetStep();
    const { params, state } = model.init(core.key(0));
    const slots = core.scope(() => {
      const s = opt.init(params);
      return { m: s.m, v: s.v };
    });
    const data = standIn(4, 1);
    const b = data.batch('train', [0, 1]);
    const scalars = opt.scalars(0);
    const kEager = core.getBackend().stats().kernels;
    const eager = core.scope(() => step(params, state, slots, b.images, b.target, b.distMaps, [0.9, 0.1], scalars));
    const jitted = core.jit(step);
    const k0 = core.getBackend().stats().kernels;
    const once = jitted(params, state, slots, b.images, b.target, b.distMaps, [0.9, 0.1], scalars);
    const k1 = core.getBackend().stats().kernels;
    await assertSameBits(eager, once, 'UNet step');
    const plan = jitted.lastPlan()!;
    const eagerKernels = k0 - kEager;
    assert.ok(eagerKernels > 600, `eager step: ${eagerKernels} kernels`);
    console.log(`UNet-d3-b16 step on ${name}: ${eagerKernels} kernels eager, ${plan.kernels} under jit: ${JSON.stringify(plan.launches)}`);
    assert.ok(plan.kernels <= 150, `UNet-d3-b16 step under jit: ${plan.kernels} kernels: ${JSON.stringify(plan.launches)}`);
    void k1;
    if (core.getBackend().compileFused) {
      const before = core.getBackend().stats().kernels;
      core.dispose(jitted(params, state, slots, b.images, b.target, b.distMaps, [0.9, 0.1], scalars));
      assert.equal(core.getBackend().stats().kernels - before, plan.kernels, 'stats() counts what a replay launches');
    }
    // A second batch and other loss weights through the same plan.
    const b2 = data.batch('train', [2, 3]);
    const eager2 = core.scope(() => step(params, state, slots, b2.images, b2.target, b2.distMaps, [0.5, 0.5], opt.scalars(1)));
    await assertSameBits(eager2, jitted(params, state, slots, b2.images, b2.target, b2.distMaps, [0.5, 0.5], opt.scalars(1)), 'second batch');
    assert.equal(jitted.stats().traces, 1);
  });
}

test('train() with jit and without it gives the same bits (and resumes across the two)', async () => {
  await core.setBackend('cpu');
  const config: TrainConfig = {
    ...trainDefaults,
    model: { inChannels: 1, classes: 2, base: 4, depth: 2, batchNorm: true },
    epochs: 2, batchSize: 4, learningRate: 1e-2, schedule: { name: 'rebalance', floorAtEpoch: 1 },
  };
  const data = standIn(8, 4);
  const a = await train(config, data, { jit: true });
  const b = await train(config, data, { jit: false });
  await assertSameBits(b.params, a.params, 'parameters');
  await assertSameBits(b.state, a.state, 'batch-norm state');
  assert.deepEqual(a.rows, b.rows);
});
