/**
 * The experiment's loss settings and protocols, the command line's schedules (as published and
 * stretched over a run), `steal`'s span, the GDL class weights of the objective and their flags.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../cli/errors.js';
import { scheduleSpec } from '../cli/schedules.js';
import { parseSetting, parseSettings, protocols } from '../cli/settings.js';
import { buildTrainConfig } from '../cli/train-setup.js';
import { withProtocol } from '../cli/commands/experiment.js';
import { InputError } from '../core/errors.js';
import { tensor } from '../core/ops.js';
import { steal, schedules } from '../losses/schedules.js';
import { objective } from '../models/objective.js';
import { configDifferences } from '../models/train.js';
import { TrainConfigCodec } from '../models/train-config.js';
import { isRight } from 'fp-ts/lib/Either.js';

const data = { channels: 1, classes: 2, height: 32, width: 32, train: new Array(8).fill(null), val: new Array(2).fill(null) } as never;

describe('steal with a span', () => {
  test('the reference per epoch without a span; the 100-epoch course compressed into S epochs with one', () => {
    assert.deepEqual(steal()(0, 100), [1, 0.01]);
    assert.deepEqual(steal()(99, 100), [0.1, 1]);
    assert.deepEqual(steal({ span: 100 })(42, 100), steal()(42, 100));
    const s = steal({ span: 10 });
    assert.deepEqual(s(0, 10), [1, 0.01]);
    // e = 5 of 10 reads the reference's epoch 50.
    assert.deepEqual(s(5, 10), steal()(50, 100));
    const last = s(9, 10);
    assert.ok(Math.abs(last[0]! - 0.1) < 1e-12 && Math.abs(last[1]! - 0.91) < 1e-12, String(last));
    assert.deepEqual(schedules.steal({ span: 10 })(5, 10), s(5, 10));
  });

  test('a bad span is refused, naming it', () => {
    for (const span of [0, -1, 2.5, Number.NaN]) assert.throws(() => steal({ span }), (e: Error) => e instanceof InputError && /options\.span/.test(e.message));
    assert.throws(() => steal({ spam: 3 } as never), /spam/);
  });
});

describe('command-line schedules', () => {
  test('as published and stretched over the run', () => {
    assert.deepEqual(scheduleSpec('rebalance', 12), { name: 'rebalance' });
    assert.deepEqual(scheduleSpec('rebalance-stretched', 12), { name: 'rebalance', floorAtEpoch: 11 });
    assert.deepEqual(scheduleSpec('rebalance-stretched', 1), { name: 'rebalance', floorAtEpoch: 1 });
    assert.deepEqual(scheduleSpec('steal', 12), { name: 'steal' });
    assert.deepEqual(scheduleSpec('steal-stretched', 12), { name: 'steal', span: 12 });
    assert.deepEqual(scheduleSpec('constant', 12, { weights: [1, 2] }), { name: 'constant', weights: [1, 2] });
    assert.deepEqual(scheduleSpec('rebalance', 12, { floorAtEpoch: 5 }), { name: 'rebalance', floorAtEpoch: 5 });
    assert.throws(() => scheduleSpec('steal', 12, { weights: [1, 1] }), /--weights applies to --schedule constant only/);
    assert.throws(() => scheduleSpec('rebalance-stretched', 12, { floorAtEpoch: 3 }), /--floor-at-epoch applies to --schedule rebalance only/);
  });

  test('a stretched rebalance reaches its floor at the last epoch; a stretched steal gives w_B ≈ 1 there', () => {
    const r = objective(['gdl', 'boundary'], scheduleSpec('rebalance-stretched', 12), 2);
    assert.deepEqual(r.weights(11, 12), [0.01, 0.99]);
    const s = objective(['gdl', 'boundary'], scheduleSpec('steal-stretched', 12), 2);
    const [g, b] = s.weights(11, 12);
    assert.ok(Math.abs(g! - 0.1) < 1e-12 && b! > 0.9, `${g}, ${b}`);
  });

  test('the train default: the paper\'s rebalance as published, whatever the run\'s length', () => {
    assert.deepEqual(buildTrainConfig({ epochs: 20 }, data).schedule, { name: 'rebalance' });
    assert.deepEqual(buildTrainConfig({ epochs: 100 }, data).schedule, { name: 'rebalance' });
    assert.deepEqual(buildTrainConfig({ epochs: 20, floorAtEpoch: 5 }, data).schedule, { name: 'rebalance', floorAtEpoch: 5 }, '--floor-at-epoch implies rebalance');
    assert.deepEqual(buildTrainConfig({ epochs: 20, weights: [1, 0.5] }, data).schedule, { name: 'constant', weights: [1, 0.5] }, '--weights implies constant');
    assert.deepEqual(buildTrainConfig({ epochs: 20, losses: ['gdl'] }, data).schedule, { name: 'constant' });
    assert.deepEqual(buildTrainConfig({ epochs: 20, schedule: 'steal-stretched' }, data).schedule, { name: 'steal', span: 20 });
  });
});

describe('experiment settings', () => {
  test('labels, folders and schedules', () => {
    const [g, r, s, b] = parseSettings(['gdl', 'gdl+boundary:rebalance-stretched', 'gdl+boundary:steal', 'boundary'], 12);
    assert.deepEqual([g!.label, r!.label, s!.label, b!.label], ['GDL', 'GDL + boundary (rebalance-stretched)', 'GDL + boundary (steal)', 'boundary alone']);
    assert.deepEqual([g!.folder, r!.folder, s!.folder, b!.folder], ['gdl', 'gdl-boundary-rebalance-stretched', 'gdl-boundary-steal', 'boundary']);
    assert.deepEqual(r!.schedule, { name: 'rebalance', floorAtEpoch: 11 });
    assert.deepEqual(s!.schedule, { name: 'steal' });
    assert.deepEqual(g!.schedule, { name: 'constant' });
    assert.deepEqual(parseSetting('gdl+boundary', 12).key, 'gdl+boundary:rebalance');
    assert.deepEqual(parseSetting('dice+boundary:steal-stretched', 12).schedule, { name: 'steal', span: 12 });
  });

  test('bad settings are usage errors naming --settings and the setting', () => {
    const cases: Array<[string[], RegExp]> = [
      [['gdl+bondary'], /--settings: 'gdl\+bondary': unknown loss 'bondary'/],
      [['gdl+boundary:stael'], /unknown schedule 'stael'; expected one of rebalance, rebalance-stretched/],
      [['gdl:steal'], /a single loss trains with weight 1/],
      [['gdl+gdl'], /appears twice/],
      [['gdl+boundary+ce'], /at most two losses/],
      [['gdl+boundary:steal:x'], /one colon at most/],
      [['gdl', 'gdl'], /'gdl' is listed twice/],
      [['gdl+boundary', 'gdl+boundary:rebalance'], /is listed twice/],
    ];
    for (const [list, re] of cases) assert.throws(() => parseSettings(list, 12), (e: Error) => e instanceof UsageError && re.test(e.message), list.join(','));
  });

  test('protocols give defaults that explicit flags override', () => {
    const q = withProtocol({});
    assert.equal(q.protocol, 'quick');
    assert.equal(q.epochs, protocols.quick.defaults['epochs']);
    assert.deepEqual(q.settings, ['gdl', 'gdl+boundary:rebalance', 'gdl+boundary:steal', 'boundary']);
    assert.equal(q.trainSlices, 96, 'the synthetic set is sized for the time budget');
    assert.equal(withProtocol({ data: 'DIR' }).trainSlices, undefined, 'not with --data');
    const r = withProtocol({ protocol: 'reference', epochs: 3 });
    assert.equal(r.epochs, 3);
    assert.equal(r.lrRule, 'reference');
    assert.deepEqual(r.settings, ['gdl', 'gdl+boundary:rebalance', 'gdl+boundary:steal', 'boundary']);
  });
});

describe('GDL class weights', () => {
  test('monai weights penalise foreground predicted on a lesion-free image; the reference weights barely do', async () => {
    // One 1×2×1×4 image without foreground; the prediction puts 0.3 on the foreground everywhere.
    const probs = tensor(new Float32Array([0.7, 0.7, 0.7, 0.7, 0.3, 0.3, 0.3, 0.3]), [1, 2, 1, 4]);
    const target = tensor(new Float32Array([1, 1, 1, 1, 0, 0, 0, 0]), [1, 2, 1, 4]);
    const dist = tensor(new Float32Array(8), [1, 2, 1, 4]);
    const value = async (w: 'reference' | 'monai') => (await objective(['gdl'], { name: 'constant' }, 2, { gdlWeights: w }).terms({ logits: probs, probs, target, distMaps: dist })[0]!.data())[0]!;
    const ref = await value('reference');
    const monai = await value('monai');
    assert.ok(Math.abs(ref - 1) < 1e-6, `reference: ≈ 1 whatever is predicted, got ${ref}`);
    assert.ok(monai > 0.1 && monai < 0.9, `monai: a graded penalty, got ${monai}`);
    assert.throws(() => objective(['gdl'], { name: 'constant' }, 2, { gdlWeights: 'mona' as never }), /options\.gdlWeights/);
    assert.throws(() => objective(['gdl'], { name: 'constant' }, 2, { gdlWeight: 'monai' } as never), /gdlWeight/);
  });

  test('a schedule field another schedule reads is refused', () => {
    assert.throws(() => objective(['gdl', 'boundary'], { name: 'rebalance', span: 3 }, 2), (e: Error) => /schedule\.span: applies to the steal schedule, not to 'rebalance'/.test(e.message));
    assert.throws(() => objective(['gdl', 'boundary'], { name: 'steal', floorAtEpoch: 3 }, 2), /schedule\.floorAtEpoch/);
  });

  test('--gdl-weights reaches the config; configs without the field mean the reference weights', () => {
    assert.equal(buildTrainConfig({ gdlWeights: 'monai' }, data).gdlWeights, 'monai');
    const c = buildTrainConfig({}, data);
    const { gdlWeights: _dropped, ...old } = c;
    assert.ok(isRight(TrainConfigCodec.decode(old)), 'an old config (no gdlWeights) decodes');
    assert.deepEqual(configDifferences({ ...old, gdlWeights: 'reference' }, old as never), []);
    assert.deepEqual(configDifferences({ ...old, gdlWeights: 'monai' }, old as never), ['gdlWeights']);
  });
});

describe('the command line flags', () => {
  test('bad values are one-line usage errors (exit 2) naming the flag', async () => {
    const { cli } = await import('./helpers/cli.js');
    const cases: Array<[string[], RegExp]> = [
      [['train', '--synthetic', '--gdl-weights', 'monia'], /--gdl-weights: expected one of reference, monai, got 'monia'|--gdl-weights.*monia/],
      [['train', '--synthetic', '--schedule', 'steal-strecthed'], /--schedule.*steal-strecthed/],
      [['train', '--synthetic', '--schedule', 'steal', '--floor-at-epoch', '3'], /--floor-at-epoch applies to --schedule rebalance only/],
      [['experiment', '--synthetic', '--settings', 'gdl,gdl+bondary'], /--settings: 'gdl\+bondary': unknown loss 'bondary'/],
      [['experiment', '--synthetic', '--protocol', 'fast'], /--protocol.*fast/],
      [['experiment', '--synthetic', '--settings', 'gdl', '--schedule', 'steal'], /--schedule does not apply to experiment \(it is a flag of train; see --help\)/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });

  test('--help of experiment names the protocols, the settings syntax and the schedules', async () => {
    const { cli } = await import('./helpers/cli.js');
    const r = await cli(['experiment', '--help']);
    assert.equal(r.code, 0);
    for (const text of ['--protocol', 'quick', 'reference', 'LOSS[+LOSS][:SCHEDULE]', 'steal-stretched', '--gdl-weights', '--arch']) assert.ok(r.stdout.includes(text), text);
  });
});
