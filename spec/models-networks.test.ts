/**
 * The networks behind one config tagged by `arch` (`modelFor`): parameter counts from the config
 * of both networks, `describeNetwork`, errors of `modelFor` and the `NetworkConfig` codec, a
 * forward/backward of each network against central differences (cpu64, 16×16), and a reference
 * network trained, checkpointed, restored and resumed bit-identically.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import '../backends/register.js';
import * as core from '../core/index.js';
import { formatErrors } from '../core/codecs.js';
import {
  checkArchitecture, checkNetworkConfig, decodeCheckpoint, describeNetwork, loadCheckpoint, modelFor, namedLeaves, NetworkConfigCodec, networkInputMultiple,
  networkParameterCount, readCheckpointFile, referenceParameterCount, train, trainDefaults, TrainConfigCodec, unetParameterCount,
  type NetworkConfig, type TrainConfig,
} from '../models/index.js';
import { checkDerivative, values, type HostTensor } from './helpers/numeric.js';
import { paramBytes, standIn } from './helpers/stand-in.js';

const reference = (base: number): NetworkConfig => ({ arch: 'reference', inChannels: 1, classes: 2, base });

describe('networks: modelFor, counts, descriptions, errors', () => {
  before(async () => core.setBackend('cpu'));

  test('parameter counts from the config: UNet-d3-b16 481,762 without batch norm, the reference network 18,702,551 at base 64', () => {
    assert.equal(networkParameterCount({ inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false }), 481_762, 'UNet-d3-b16');
    assert.equal(networkParameterCount({ arch: 'unet', inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false }), 481_762, "arch: 'unet' is the same U-Net");
    // batch norm adds γ and β to both convolutions of the 2·depth + 1 double convolutions
    const widths = [16, 32, 64, 128, 64, 32, 16];
    assert.equal(networkParameterCount({ inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: true }), 481_762 + widths.reduce((n, w) => n + 4 * w, 0), 'with batch norm');
    assert.equal(networkParameterCount({ arch: 'reference', inChannels: 1, classes: 2 }), 18_702_551, 'reference, base 64 by default');
    assert.equal(networkParameterCount(reference(64)), referenceParameterCount({ inChannels: 1, classes: 2 }), 'the same as referenceParameterCount');
  });

  test('small bases, really initialised by modelFor: parameterCount equals the count from the config', () => {
    for (const config of [
      { inChannels: 2, classes: 3, base: 2, depth: 2, batchNorm: true },
      { inChannels: 1, classes: 2, base: 3, depth: 1, batchNorm: false, dropout: 0.1 },
      { arch: 'reference', inChannels: 2, classes: 3, base: 2 },
    ] as const satisfies readonly NetworkConfig[]) {
      const net = modelFor(config);
      const { params, state } = net.init(core.key(1));
      assert.equal(net.parameterCount(params), networkParameterCount(config), `count of ${describeNetwork(config)}`);
      core.dispose([params, state]);
    }
    assert.equal(unetParameterCount({ inChannels: 2, classes: 3, base: 2, depth: 2, batchNorm: true }), networkParameterCount({ inChannels: 2, classes: 3, base: 2, depth: 2, batchNorm: true }));
  });

  test('modelFor builds the network its arch names; its config is the filled-in one', () => {
    const u = modelFor({ inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: true });
    assert.equal(u.config.arch, undefined, 'a U-Net config carries no arch');
    assert.equal((u.config as { depth?: number }).depth, 1);
    const r = modelFor({ arch: 'reference', inChannels: 1, classes: 2 });
    assert.deepEqual(r.config, { arch: 'reference', inChannels: 1, classes: 2, base: 64 }, 'reference: arch kept, base 64 filled in');
    assert.equal(networkInputMultiple({ inChannels: 1, classes: 2, base: 2, depth: 3, batchNorm: true }), 8);
    assert.equal(networkInputMultiple({ inChannels: 1, classes: 2, base: 2, depth: 4, batchNorm: true }), 16);
    assert.equal(networkInputMultiple(reference(4)), 8);
    assert.deepEqual(checkNetworkConfig({ arch: 'unet', inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false }), { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false, dropout: 0, activation: 'relu', init: 'he' }, "checkNetworkConfig drops arch: 'unet'");
  });

  test('describeNetwork: one line per network', () => {
    assert.equal(describeNetwork({ inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: true }), 'U-Net base 16, depth 3, batch norm');
    assert.equal(describeNetwork({ inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false, dropout: 0.2 }), 'U-Net base 16, depth 3, no batch norm, dropout 0.2');
    assert.equal(describeNetwork({ arch: 'reference', inChannels: 1, classes: 2 }), 'reference U-Net (LIVIAETS) base 64');
    assert.equal(describeNetwork(reference(4)), 'reference U-Net (LIVIAETS) base 4');
  });

  test('an unknown arch is an InputError naming config.arch; unknown keys are refused per network', () => {
    const refuses = (f: () => unknown, argument: string, pattern: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof core.InputError && e.argument === argument && pattern.test((e as Error).message), `${argument} ${String(pattern)}`);
    refuses(() => modelFor({ arch: 'resnet', inChannels: 1, classes: 2 } as never), 'config.arch', /unknown network "resnet": expected one of 'unet', 'reference'/);
    refuses(() => modelFor(null as never), 'config', /expected a network config object, got null/);
    refuses(() => modelFor({ arch: 'reference', inChannels: 1, classes: 2, depth: 3 } as never), 'config.depth', /unknown option 'depth'/);
    refuses(() => modelFor({ arch: 'reference', inChannels: 1, classes: 2, batchNorm: true } as never), 'config.batchNorm', /unknown option 'batchNorm'/);
    refuses(() => modelFor({ inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: true, bsae: 2 } as never), 'config.bsae', /did you mean 'base'/);
    refuses(() => modelFor({ inChannels: 1, classes: 2, base: 2, batchNorm: true } as never), 'config.depth', /positive integer/);
    refuses(() => modelFor(reference(0)), 'config.base', /positive integer/);
    refuses(() => describeNetwork({ arch: 'vit' } as never), 'config.arch', /unknown network "vit"/);
  });

  test('the NetworkConfig codec: arch absent or unet is the U-Net, reference the reference network; another arch fails at model.arch', () => {
    const decode = (u: unknown) => NetworkConfigCodec.decode(u);
    const ok = (u: unknown) => {
      const d = decode(u);
      assert.ok(E.isRight(d), `decodes ${JSON.stringify(u)}: ${E.isLeft(d) ? formatErrors(d.left).join('; ') : ''}`);
      return d.right;
    };
    const fails = (u: unknown, pattern: RegExp) => {
      const d = decode(u);
      assert.ok(E.isLeft(d), `refuses ${JSON.stringify(u)}`);
      assert.match(formatErrors(d.left)[0]!, pattern);
    };
    ok({ inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: true });
    ok({ arch: 'unet', inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: true });
    assert.deepEqual(ok({ arch: 'reference', inChannels: 1, classes: 2, base: 4 }), { arch: 'reference', inChannels: 1, classes: 2, base: 4 });
    fails({ arch: 'resnet', inChannels: 1, classes: 2 }, /at arch: unknown network "resnet"/);
    fails({ arch: 'reference', inChannels: 1, classes: 2, depth: 3 }, /at depth: unknown field/);
    fails({ arch: 'reference', inChannels: 1, classes: 2, base: 0 }, /base/);
    fails({ inChannels: 1, classes: 2, base: 2, depth: 1 }, /batchNorm/);
    const config: TrainConfig = { ...trainDefaults, model: reference(4) };
    const d = TrainConfigCodec.decode(JSON.parse(JSON.stringify({ ...config, model: { ...config.model, arch: 'transformer' } })));
    assert.ok(E.isLeft(d) && /model\.arch: unknown network "transformer"/.test(formatErrors(d.left)[0]!), 'inside a TrainConfig, the path is model.arch');
  });
});

describe('networks: forward/backward against central differences (cpu64, 16×16)', () => {
  before(async () => core.setBackend('cpu64'));
  after(async () => core.setBackend('cpu'));

  // NOTE: the steps are small because of the ReLU/PReLU kinks: along a whole tensor a step of 2h
  // can move a pre-activation across 0 (a step that is not smooth, not a wrong gradient). With 21
  // PReLU layers on 2 × 16 × 16 pixels, the reference network's conv0.0.w crosses one at
  // h = 1e-5 (seed 1: truncation estimate 2.5e-3 of the scale) and none at 1e-6 or 1e-7.
  for (const [name, config, picked, h] of [
    ['U-Net base 2, depth 2, batch norm', { inChannels: 1, classes: 2, base: 2, depth: 2, batchNorm: true }, ['down.0.conv1.w', 'down.1.bn2.gamma', 'bottleneck.conv2.b', 'up.0.up.w', 'up.1.bn1.beta', 'head.w'], 1e-5],
    ['reference network base 2', reference(2), ['conv0.0.w', 'conv2.1.bn.gamma', 'bridge.residual.conv2.w', 'bridge.down.slope', 'conv6.0.w', 'final.b'], 1e-6],
  ] as const) {
    test(`${name}: gradients of the training-mode logits along 6 parameter tensors`, async () => {
      const net = modelFor(config);
      const { params, state } = net.init(core.key(21));
      const x = core.uniform(core.key(22), [2, 1, 16, 16], -1, 1);
      const named = namedLeaves(params);
      const hosts: HostTensor[] = await Promise.all(named.map(async ([, t]) => ({ shape: [...t.shape], data: await values(t) })));
      const wrt = picked.map((n) => {
        const i = named.findIndex(([m]) => m === n);
        assert.ok(i >= 0, `parameter ${n} exists in ${named.map(([m]) => m).join(', ')}`);
        return i;
      });
      const forward = (xs: core.Tensor[]) => net.apply(core.treeUnflatten(params, xs), state, x, { training: true })[0];
      for (const seed of [1, 2]) await checkDerivative(`${name} (seed ${seed})`, forward, hosts, { seed, wrt, rtol: 1e-6, h });
      core.dispose([params, state, x]);
    });
  }
});

describe('networks: a reference network trained, checkpointed and resumed', () => {
  const root = mkdtempSync(join(tmpdir(), 'bseg-networks-'));
  before(async () => core.setBackend('cpu'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const data = standIn(8, 4);
  const config: TrainConfig = { ...trainDefaults, model: reference(2), epochs: 2, batchSize: 4, learningRate: 1e-2, schedule: { name: 'rebalance', floorAtEpoch: 1 } };

  test('the checkpoint stores arch reference and round-trips exactly; a run resumed after epoch 1 ends bit-identical', async () => {
    const [full, part] = [join(root, 'full'), join(root, 'part')];
    const { mkdirSync } = await import('node:fs');
    mkdirSync(full);
    mkdirSync(part);
    const whole = await train(config, data, { dir: full });
    const header = (await readCheckpointFile(join(full, 'last.ckpt'))).header;
    assert.deepEqual(header.model, { arch: 'reference', inChannels: 1, classes: 2, base: 2 }, 'header model');
    assert.deepEqual(header.resume?.config.model, config.model, 'the run config keeps the network');
    const best = await loadCheckpoint(join(full, 'best.ckpt'), { arch: 'reference', base: 2 });
    assert.equal(best.epoch, whole.best.epoch + 1);
    assert.deepEqual(namedLeaves(best.params).map(([n]) => n), namedLeaves(whole.best.params).map(([n]) => n), 'same tensor names');
    assert.deepEqual(await paramBytes(best.params), await paramBytes(whole.best.params), 'exact float32 values');
    assert.equal(namedLeaves(best.state).length, 44, 'the running statistics of 22 batch norms');
    core.dispose(best);

    const first = await train(config, data, { dir: part, onEpoch: () => 'stop' });
    core.dispose(first);
    const ckpt = await loadCheckpoint(join(part, 'last.ckpt'));
    const resumed = await train(config, data, { dir: part, resume: ckpt });
    assert.deepEqual(await paramBytes(resumed.params), await paramBytes(whole.params), 'final parameters');
    for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) assert.ok(readFileSync(join(part, f)).equals(readFileSync(join(full, f))), `${f} identical`);
    core.dispose([whole, resumed]);
  });

  test('a reference checkpoint refuses a U-Net and another base; a U-Net checkpoint refuses the reference network', async () => {
    const file = join(root, 'full', 'best.ckpt');
    const parsed = decodeCheckpoint(readFileSync(file), file);
    const refused = (expected: Partial<NetworkConfig>, pattern: RegExp) =>
      assert.throws(() => checkArchitecture(parsed, expected), (e: unknown) => e instanceof core.InputError && (e as Error).message.includes(file) && pattern.test((e as Error).message), String(pattern));
    refused({ inChannels: 1, classes: 2, base: 2, depth: 3, batchNorm: true }, /another architecture: the reference U-Net \(LIVIAETS\) base 2, 1 channel\(s\), 2 classes \(expected a U-Net\)/);
    refused({ depth: 3 }, /expected a U-Net/);
    refused({ arch: 'reference', base: 4 }, /another architecture: base 2 \(expected 4\)/);
    assert.throws(() => checkArchitecture(parsed, { arch: 'mlp' } as never), (e: unknown) => e instanceof core.InputError && e.argument === 'expected.arch');
    checkArchitecture(parsed, { arch: 'reference', inChannels: 1, classes: 2, base: 2 });
    checkArchitecture(parsed, { classes: 2 });

    const unetDir = join(root, 'unet');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(unetDir);
    core.dispose(await train({ ...config, model: { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: true }, epochs: 1 }, data, { dir: unetDir }));
    const unetFile = join(unetDir, 'best.ckpt');
    const unetParsed = decodeCheckpoint(readFileSync(unetFile), unetFile);
    assert.equal('arch' in (unetParsed.header.model as object), false, 'a U-Net checkpoint stores no arch (readers before it read the file as ever)');
    assert.throws(() => checkArchitecture(unetParsed, reference(2)), (e: unknown) => e instanceof core.InputError && /the U-Net base 2, depth 1, batch norm, 1 channel\(s\), 2 classes \(expected the reference network\)/.test((e as Error).message));
  });
});
