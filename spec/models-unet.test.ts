/** The U-Net and its layers: parameter count, forward shapes, modes, initialisation, bad input. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { checkUNetConfig, countScalars, initConv, lrStart, lrStep, namedLeaves, objective, unet, unetParameterCount, type UNetConfig } from '../models/index.js';

describe('U-Net', () => {
  before(async () => core.setBackend('cpu'));

  test('UNet-d3-b16 has exactly 481,762 parameters', () => {
    const net = unet({ inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false });
    const { params, state } = net.init(core.key(0));
    assert.equal(net.parameterCount(params), 481_762, 'parameter count of UNet-d3-b16');
    assert.equal(core.treeLeaves(state).length, 0, 'no batch-norm state without batch norm');
    const names = namedLeaves(params).map(([n]) => n);
    assert.ok(names.includes('down.0.conv1.w') && names.includes('up.2.up.w') && names.includes('head.b'), `names: ${names.slice(0, 6).join(', ')} …`);
    core.dispose(params);
  });

  test("unetParameterCount counts from the config alone; arch 'unet' is the same network, another arch is refused", () => {
    assert.equal(unetParameterCount({ inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false }), 481_762, 'UNet-d3-b16');
    for (const config of [
      { inChannels: 2, classes: 3, base: 3, depth: 2, batchNorm: true },
      { arch: 'unet', inChannels: 1, classes: 4, base: 2, depth: 4, batchNorm: false },
    ] as const satisfies readonly UNetConfig[]) {
      const net = unet(config);
      const { params, state } = net.init(core.key(0));
      assert.equal(unetParameterCount(config), net.parameterCount(params), `count of ${JSON.stringify(config)}`);
      core.dispose([params, state]);
    }
    assert.equal('arch' in checkUNetConfig({ arch: 'unet', inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false }), false, 'the filled-in config has no arch');
    assert.throws(() => unet({ arch: 'reference', inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false } as never), (e: Error) => e instanceof core.InputError && e.argument === 'config.arch' && /expected 'unet' or no arch, got "reference"/.test(e.message));
  });

  for (const batchNorm of [false, true]) {
    for (const depth of [1, 2, 3, 4]) {
      test(`forward shapes, depth ${depth}, ${batchNorm ? 'with' : 'without'} batch norm`, async () => {
        const config: UNetConfig = { inChannels: 2, classes: 3, base: 2, depth, batchNorm };
        const net = unet(config);
        const { params, state } = net.init(core.key(depth));
        const x = core.uniform(core.key(9), [2, 2, 16, 16]);
        const [logits, next] = net.apply(params, state, x, { training: true });
        assert.deepEqual(logits.shape, [2, 3, 16, 16], 'logits shape');
        const bnTensors = core.treeLeaves(next).length;
        assert.equal(bnTensors, batchNorm ? 4 * (2 * depth + 1) : 0, 'running statistics: mean and variance per batch norm');
        if (batchNorm) {
          // running statistics move in training and stay in evaluation.
          const [, evalState] = net.apply(params, next, x, { training: false });
          const kept = core.treeLeaves(next);
          assert.ok(core.treeLeaves(evalState).every((t, i) => t === kept[i]), 'evaluation returns the state unchanged');
          const before0 = await core.treeLeaves(state)[0]!.data();
          const after0 = await core.treeLeaves(next)[0]!.data();
          assert.notDeepEqual(after0, before0, 'training updates the running mean');
        }
        const [, grads] = core.valueAndGrad((p: typeof params) => core.sum(net.apply(p, state, x, { training: true })[0]))(params);
        assert.equal(core.treeLeaves(grads).length, core.treeLeaves(params).length, 'one gradient per parameter');
        core.dispose([params, state, x, logits, next, grads]);
      });
    }
  }

  test('an input not divisible by 2^depth or with the wrong channels is a ShapeError naming x', () => {
    const net = unet({ inChannels: 1, classes: 2, base: 2, depth: 2, batchNorm: false });
    const { params, state } = net.init(core.key(0));
    assert.throws(() => net.apply(params, state, core.zeros([1, 1, 10, 8]), { training: false }), (e: Error) => e instanceof core.ShapeError && /multiples of 2\^depth = 4/.test(e.message));
    assert.throws(() => net.apply(params, state, core.zeros([1, 3, 8, 8]), { training: false }), (e: Error) => e instanceof core.ShapeError && /\[N, 1, H, W\]/.test(e.message));
    assert.throws(() => unet({ inChannels: 1, classes: 2, base: 0, depth: 2, batchNorm: false }), (e: Error) => e instanceof core.InputError && /config\.base/.test(e.message));
    core.dispose(params);
  });

  test('dropout in training needs a key and is reproducible with one', async () => {
    const net = unet({ inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false, dropout: 0.5 });
    const { params, state } = net.init(core.key(0));
    const x = core.uniform(core.key(1), [1, 1, 8, 8]);
    assert.throws(() => net.apply(params, state, x, { training: true }), (e: Error) => e instanceof core.InputError && /random key/.test(e.message));
    const a = await net.apply(params, state, x, { training: true, key: core.key(5) })[0].data();
    const b = await net.apply(params, state, x, { training: true, key: core.key(5) })[0].data();
    const c = await net.apply(params, state, x, { training: true, key: core.key(6) })[0].data();
    const e1 = await net.apply(params, state, x, { training: false })[0].data();
    assert.deepEqual(a, b, 'same key, same mask');
    assert.notDeepEqual(a, c, 'another key, another mask');
    assert.equal(e1.length, 128, 'evaluation needs no key');
  });

  test('initialisation: one key gives identical parameters, He std ≈ √(2/fan-in), zero biases', async () => {
    const net = unet({ inChannels: 1, classes: 2, base: 8, depth: 2, batchNorm: false });
    const a = net.init(core.key(3)).params;
    const b = net.init(core.key(3)).params;
    const c = net.init(core.key(4)).params;
    assert.deepEqual(await a.bottleneck.conv2.w.data(), await b.bottleneck.conv2.w.data(), 'same key, same weights');
    assert.notDeepEqual(await a.bottleneck.conv2.w.data(), await c.bottleneck.conv2.w.data(), 'another key differs');
    const w = await initConv('he', core.key(1), 64, 64, 3).w.data();
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 576)) < 0.05 * Math.sqrt(2 / 576), `He std ${std}`);
    assert.deepEqual([...(await a.head.b.data())], [0, 0], 'zero bias');
    assert.equal(countScalars(a), net.parameterCount(a), 'countScalars = parameterCount');
  });
});

describe('learning-rate rule and objective', () => {
  test('plateau halves after `patience` epochs without improvement, then counts afresh', () => {
    let s = lrStart(1e-3);
    const scores = [0.5, 0.6, 0.6, 0.55, 0.6, 0.59, 0.58];
    const lrs: number[] = [];
    scores.forEach((v, e) => {
      s = lrStep({ rule: 'plateau', patience: 2 }, s, e, v);
      lrs.push(s.lr);
    });
    assert.deepEqual(lrs, [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4], 'halvings after epochs 3 and 5');
    assert.equal(s.bestEpoch, 1, 'best epoch');
  });

  test("the reference's rule halves after epoch 0 and at multiples of best + patience", () => {
    let s = lrStart(1);
    const lrs: number[] = [];
    for (let e = 0; e < 5; e++) {
      s = lrStep({ rule: 'reference', patience: 2 }, s, e, e === 0 ? 1 : 0);
      lrs.push(s.lr);
    }
    assert.deepEqual(lrs, [0.5, 0.5, 0.25, 0.25, 0.125], 'epoch % (0 + 2) == 0 halves');
  });

  test('the schedule must give one weight per loss', () => {
    assert.throws(() => objective(['boundary'], { name: 'rebalance' }, 2), (e: Error) => /gives 2 weights but there are 1 losses/.test(e.message));
    assert.throws(() => objective(['gdl', 'gdl'], { name: 'constant' }, 2), (e: Error) => /appears twice/.test(e.message));
    const o = objective(['gdl', 'boundary'], { name: 'rebalance', floorAtEpoch: 2 }, 2);
    assert.deepEqual(o.weights(0, 4), [1, 0], 'epoch 0');
    assert.deepEqual(o.weights(2, 4).map((w) => +w.toFixed(6)), [0.01, 0.99], 'floor at epoch 2');
    assert.deepEqual(objective(['boundary'], { name: 'constant' }, 2).weights(3, 5), [1], 'constant defaults to ones');
  });
});
