/**
 * The training loop on a tiny stand-in dataset (16×16 disks): the loss falls, one seed gives
 * bit-identical parameters and metrics.csv, a run interrupted after epoch 1 of 3 and resumed ends
 * bit-identical to an uninterrupted one (also from a run folder written before the diagnostic
 * columns), checkpoints round-trip exactly and refuse another architecture, and live buffers stay
 * flat across epochs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { SIZE, standIn, paramBytes } from './helpers/stand-in.js';
import {
  decodeCheckpoint, encodeCheckpoint, loadCheckpoint, restoreCheckpoint, train, trainDefaults,
  type TrainingBatch, type LabelledImage, type TrainConfig, type TrainingData, type UNetParams,
} from '../models/index.js';

const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...trainDefaults,
  model: { inChannels: 1, classes: 2, base: 4, depth: 2, batchNorm: false },
  epochs: 3,
  batchSize: 4,
  learningRate: 1e-2,
  schedule: { name: 'rebalance', floorAtEpoch: 2 },
  ...over,
});


const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bseg-train-'));
  dirs.push(d);
  return d;
}

describe('training loop', () => {
  before(async () => core.setBackend('cpu'));
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const data = standIn(12, 4);

  test('the training loss falls on a tiny synthetic set', async () => {
    const r = await train(config({ epochs: 6, losses: ['gdl'], schedule: { name: 'constant' } }), data);
    const first = r.rows[0]!.trainLoss;
    const last = r.rows[r.rows.length - 1]!.trainLoss;
    assert.ok(last < first * 0.9, `training loss ${first} → ${last}`);
    assert.equal(r.rows.length, 6, 'one row per epoch');
    assert.ok(r.best.epoch >= 0 && r.best.score === Math.max(...r.rows.map((x) => x.valDice)), 'best = highest validation Dice');
    core.dispose(r);
  });

  test('one seed gives bit-identical parameters and metrics.csv; another seed differs; no buffer growth', async () => {
    const [d1, d2, d3] = [tempDir(), tempDir(), tempDir()];
    const live: number[] = [];
    const a = await train(config(), data, { dir: d1, onEpoch: () => void live.push(core.memory().buffers) });
    const b = await train(config(), data, { dir: d2 });
    const c = await train(config({ seed: 1 }), data, { dir: d3 });
    assert.deepEqual(await paramBytes(a.params), await paramBytes(b.params), 'same seed: same parameters');
    const csv = (d: string) => readFileSync(join(d, 'metrics.csv'), 'utf8');
    assert.equal(csv(d1), csv(d2), 'same seed: same metrics.csv');
    assert.notDeepEqual(await paramBytes(a.params), await paramBytes(c.params), 'another seed: other parameters');
    assert.notEqual(csv(d1), csv(d3), 'another seed: another metrics.csv');
    assert.equal(csv(d1).split('\n')[0], 'epoch,lr,w_gdl,w_boundary,train_loss,train_gdl,train_boundary,val_loss,val_dice,val_hd,val_hd95,val_missed,val_false_alarms,val_pred_fg_images,val_max_fg_prob,val_lesion_dice,saturated,collapsed', 'csv header');
    assert.ok(live[2]! <= live[1]!, `live buffers after epochs 2 and 3: ${live.join(', ')}`);
    core.dispose([a, b, c]);
  });

  for (const variant of [
    { name: 'Adam, no batch norm', over: {} },
    { name: 'Adam, batch norm and dropout', over: { model: { inChannels: 1, classes: 2, base: 4, depth: 2, batchNorm: true, dropout: 0.2 } } },
    { name: 'SGD with momentum, reference lr rule', over: { optimizer: 'sgd', lrRule: 'reference', lrPatience: 1 } },
  ] as const) {
    test(`resume after epoch 1 of 3 ends bit-identical (${variant.name})`, async () => {
      const cfg = config(variant.over as Partial<TrainConfig>);
      const [full, part] = [tempDir(), tempDir()];
      const whole = await train(cfg, data, { dir: full });
      const first = await train(cfg, data, { dir: part, onEpoch: () => 'stop' });
      assert.equal(first.completed, false, 'stopped after epoch 1');
      assert.equal(first.rows.length, 1, 'one epoch done');
      core.dispose(first);
      const ckpt = await loadCheckpoint(join(part, 'last.ckpt'));
      assert.equal(ckpt.epoch, 1, 'last checkpoint after epoch 1');
      const resumed = await train(cfg, data, { dir: part, resume: ckpt });
      assert.deepEqual(await paramBytes(resumed.params), await paramBytes(whole.params), 'final parameters');
      assert.deepEqual(await paramBytes(resumed.best.params), await paramBytes(whole.best.params), 'best parameters');
      for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) {
        assert.ok(readFileSync(join(part, f)).equals(readFileSync(join(full, f))), `${f} identical`);
      }
      core.dispose([whole, resumed]);
    });
  }

  test('a run folder written before the diagnostic columns resumes: old rows read NaN, the run ends bit-identical', async () => {
    const cfg = config();
    const [full, part] = [tempDir(), tempDir()];
    const whole = await train(cfg, data, { dir: full });
    core.dispose(await train(cfg, data, { dir: part, onEpoch: () => 'stop' }));
    // metrics.csv as the first format wrote it: the header ends at val_false_alarms
    const lines = readFileSync(join(part, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    const legacy = lines.map((l) => l.split(',').slice(0, -5).join(','));
    assert.equal(legacy[0]!.split(',').at(-1), 'val_false_alarms', 'legacy header');
    writeFileSync(join(part, 'metrics.csv'), `${legacy.join('\n')}\n`);
    // last.ckpt whose lastRow predates the fields: blank them out (JSON whitespace), then re-sign
    const bytes = readFileSync(join(part, 'last.ckpt'));
    const text = bytes.toString('latin1');
    const added = /,"valPredForeground":[^,]*,"valMaxForegroundProb":[^,]*,"valLesionDice":[^,}]*/.exec(text);
    assert.ok(added, 'the checkpoint header holds the new fields');
    const edited = Buffer.from(text.replace(added[0], ' '.repeat(added[0].length)), 'latin1');
    edited.set(createHash('sha256').update(edited.subarray(0, edited.length - 32)).digest(), edited.length - 32);
    writeFileSync(join(part, 'last.ckpt'), edited);

    const ckpt = await loadCheckpoint(join(part, 'last.ckpt'));
    const old = ckpt.resume!.rows![0]!;
    assert.ok([old.valPredForeground, old.valMaxForegroundProb, old.valLesionDice].every(Number.isNaN), 'fields not recorded read NaN');
    const resumed = await train(cfg, data, { dir: part, resume: ckpt });
    assert.deepEqual(await paramBytes(resumed.params), await paramBytes(whole.params), 'final parameters');
    for (const f of ['last.ckpt', 'best.ckpt']) assert.ok(readFileSync(join(part, f)).equals(readFileSync(join(full, f))), `${f} identical`);
    const csvOf = (d: string) => readFileSync(join(d, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    const [a, b] = [csvOf(part), csvOf(full)];
    assert.equal(a[0], b[0], 'rewritten with the current header');
    assert.deepEqual(a.slice(2), b.slice(2), 'rows of the epochs run after the resume');
    assert.equal(a[1], `${b[1]!.split(',').slice(0, -5).join(',')},NaN,NaN,NaN,0,0`, 'the old row: diagnostics NaN, neither saturated nor collapsed');
    core.dispose([whole, resumed]);
  });

  test('checkpoints round-trip exactly and refuse another architecture, with the file named', async () => {
    const dir = tempDir();
    const r = await train(config({ epochs: 1 }), data, { dir });
    const file = join(dir, 'best.ckpt');
    const bytes = readFileSync(file);
    const restored = restoreCheckpoint(decodeCheckpoint(bytes, file));
    assert.deepEqual(await paramBytes(restored.params), await paramBytes(r.best.params), 'exact float32 values');
    assert.ok(Buffer.from(await encodeCheckpoint(restored)).equals(bytes), 're-encoding gives the same bytes');
    await assert.rejects(loadCheckpoint(file, { base: 8 }), (e: Error) => e instanceof core.InputError && e.message.includes(file) && /another architecture: base 4 \(expected 8\)/.test(e.message));
    // a header that claims another architecture than its tensors
    const other = join(dir, 'other.ckpt');
    const edited = Buffer.from(bytes.toString('latin1').replace('"base":4', '"base":8'), 'latin1');
    // the edit is re-signed (SHA-256 of everything before the 32-byte digest), so the shape check speaks
    edited.set(createHash('sha256').update(edited.subarray(0, edited.length - 32)).digest(), edited.length - 32);
    writeFileSync(other, edited);
    await assert.rejects(loadCheckpoint(other), (e: Error) => e.message.includes(other) && /another architecture: tensor params\.\S+ has shape/.test(e.message));
    const cut = join(dir, 'cut.ckpt');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await assert.rejects(loadCheckpoint(cut), (e: Error) => e.message.includes(cut) && /truncated/.test(e.message));
    writeFileSync(cut, 'hello');
    await assert.rejects(loadCheckpoint(cut), (e: Error) => /not a boundary-seg checkpoint/.test(e.message));
    await assert.rejects(loadCheckpoint(join(dir, 'missing.ckpt')), (e: Error) => /missing\.ckpt: no such file/.test(e.message));
    core.dispose([r, restored]);
  });
});
