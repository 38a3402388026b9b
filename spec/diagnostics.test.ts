/**
 * Training diagnostics: the definitions on hand-made rows (collapse = the final run of epochs
 * without predicted foreground, saturation = p_fg < 1e-30 on every validation pixel, learning =
 * best lesion-slice DSC ≥ 0.3), a provoked collapse (a tiny U-Net without batch norm at a learning
 * rate that saturates the softmax within the first epoch: rows, metrics.csv, progress line and
 * summary say so), a healthy run that is not reported, and metrics.csv / checkpoint-row reading
 * of the new fields, old files included.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import '../backends/register.js';
import * as core from '../core/index.js';
import { standIn } from './helpers/stand-in.js';
import {
  collapsedFrom, diagnose, EpochRowCodec, isSaturated, learns, LEARNS_THRESHOLD, metricsCsv, parseMetricsCsv, SATURATION_THRESHOLD, sameRow, train, trainDefaults,
  type EpochRow, type TrainConfig,
} from '../models/index.js';
import { diagnosisLines, epochLine } from '../cli/commands/train.js';

/** A row with the given diagnostics (the rest arbitrary but fixed). */
const row = (epoch: number, valPredForeground: number, valMaxForegroundProb = 0.5, valLesionDice = 0.1): EpochRow => ({
  epoch, lr: 1e-3, weights: [1], trainLoss: 0.5, trainTerms: [0.5], valLoss: 0.4, valDice: 0.6, valHd: NaN, valHd95: Infinity,
  missed: 1, falseAlarms: 0, valPredForeground, valMaxForegroundProb, valLesionDice,
});

describe('diagnostics: definitions', () => {
  test('collapsedFrom: the first epoch of the final run of epochs without predicted foreground', () => {
    assert.equal(collapsedFrom([]), undefined, 'no rows');
    assert.equal(collapsedFrom([row(0, 0), row(1, 0), row(2, 3)]), undefined, 'the last epoch predicts foreground: recovered');
    assert.equal(collapsedFrom([row(0, 0), row(1, 0), row(2, 0)]), 0, 'empty from the start');
    assert.equal(collapsedFrom([row(0, 0), row(1, 2), row(2, 0), row(3, 0)]), 2, 'an earlier empty run does not count');
    assert.equal(collapsedFrom([row(0, 2), row(1, NaN), row(2, 0)]), 2, 'NaN (not recorded) breaks the run');
    assert.equal(collapsedFrom([row(5, 1), row(6, 0)]), 6, 'the row\'s epoch, not its position');
  });

  test('isSaturated: below 1e-30, NaN never', () => {
    assert.equal(SATURATION_THRESHOLD, 1e-30);
    assert.equal(isSaturated(row(0, 0, 0)), true, 'exactly 0');
    assert.equal(isSaturated(row(0, 0, 9.99e-31)), true);
    assert.equal(isSaturated(row(0, 0, 1e-30)), false, 'the threshold itself is not below it');
    assert.equal(isSaturated(row(0, 0, 1e-10)), false, 'small but alive');
    assert.equal(isSaturated(row(0, 0, NaN)), false, 'not recorded');
  });

  test('learns: the best lesion-slice DSC reaches 0.3', () => {
    assert.equal(LEARNS_THRESHOLD, 0.3);
    assert.equal(learns(0.3), true);
    assert.equal(learns(0.2999), false);
    assert.equal(learns(NaN), false);
    assert.equal(learns([row(0, 1, 0.5, 0.1), row(1, 1, 0.5, 0.45), row(2, 0, 0.5, 0)]), true, 'the best epoch counts, not the last');
    assert.equal(learns([row(0, 1, 0.5, NaN), row(1, 1, 0.5, 0.2)]), false);
    assert.equal(learns([]), false);
  });

  test('diagnose: collapse, saturated epochs, best lesion-slice DSC', () => {
    const rows = [row(0, 4, 0.9, 0.35), row(1, 0, 1e-20, 0), row(2, 0, 0, 0), row(3, 0, 1e-40, 0)];
    assert.deepEqual(diagnose(rows), { collapsedFrom: 1, saturatedEpochs: [2, 3], learns: true, bestLesionDice: 0.35 });
    const healthy = diagnose([row(0, 4, 0.9, 0.1), row(1, 3, 0.99, 0.2)]);
    assert.deepEqual(healthy, { saturatedEpochs: [], learns: false, bestLesionDice: 0.2 });
    assert.equal('collapsedFrom' in healthy, false, 'absent, not undefined-valued');
    assert.ok(Number.isNaN(diagnose([row(0, 1, 0.5, NaN)]).bestLesionDice), 'nothing recorded');
  });

  test('bad input is named', () => {
    const named = (f: () => unknown, op: string, argument: string) => assert.throws(f, (e: Error) => e instanceof core.InputError && e.op === op && e.argument === argument, `${op} ${argument}`);
    named(() => diagnose('rows' as unknown as EpochRow[]), 'diagnose', 'rows');
    named(() => diagnose([row(0, 1), { ...row(1, 1), valMaxForegroundProb: '0' } as unknown as EpochRow]), 'diagnose', 'rows[1].valMaxForegroundProb');
    named(() => collapsedFrom([null as unknown as EpochRow]), 'collapsedFrom', 'rows[0]');
    named(() => isSaturated({} as EpochRow), 'isSaturated', 'row.valMaxForegroundProb');
    named(() => learns([{ valLesionDice: undefined } as unknown as EpochRow]), 'learns', 'rows[0].valLesionDice');
  });
});

describe('diagnostics: metrics.csv and checkpoint rows', () => {
  const losses = ['gdl'];
  const rows = [row(0, 3, 0.75, 0.4), row(1, 0, 0, 0), row(2, 0, 1e-31, NaN)];

  test('the diagnostic columns round-trip exactly; the flags are derived', () => {
    const csv = metricsCsv(losses, rows);
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines[0], 'epoch,lr,w_gdl,train_loss,train_gdl,val_loss,val_dice,val_hd,val_hd95,val_missed,val_false_alarms,val_pred_fg_images,val_max_fg_prob,val_lesion_dice,saturated,collapsed');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(-5)), [['3', '0.75', '0.4', '0', '0'], ['0', '0', '0', '1', '1'], ['0', '1e-31', 'NaN', '1', '1']]);
    const back = parseMetricsCsv(csv, losses, 'metrics.csv');
    assert.equal(back.length, 3);
    back.forEach((r, i) => assert.ok(sameRow(r, rows[i]!), `row ${i}`));
    assert.equal(sameRow(rows[0]!, { ...rows[0]!, valMaxForegroundProb: 0.5 }), false, 'sameRow compares the new fields');
  });

  test('a file of the first format (no diagnostic columns) reads with the fields NaN', () => {
    const legacy = metricsCsv(losses, rows).trimEnd().split('\n').map((l) => l.split(',').slice(0, -5).join(',')).join('\n');
    const back = parseMetricsCsv(`${legacy}\n`, losses, 'old.csv');
    assert.equal(back.length, 3);
    for (const r of back) assert.ok([r.valPredForeground, r.valMaxForegroundProb, r.valLesionDice].every(Number.isNaN));
    assert.equal(back[1]!.valDice, rows[1]!.valDice, 'the old columns as before');
    assert.equal(diagnose(back).collapsedFrom, undefined, 'unrecorded rows are not collapsed');
    assert.deepEqual(diagnose(back).saturatedEpochs, [], 'nor saturated');
  });

  test('edited or malformed diagnostic cells are refused, naming the file and the line', () => {
    const lines = metricsCsv(losses, rows).trimEnd().split('\n');
    const edit = (i: number, j: number, value: string) => lines.map((l, k) => (k === i ? l.split(',').map((c, m, all) => (m === all.length + j ? value : c)).join(',') : l)).join('\n');
    const refused = (text: string, pattern: RegExp) => assert.throws(() => parseMetricsCsv(text, losses, 'run/metrics.csv'), (e: Error) => e instanceof core.InputError && e.argument === 'run/metrics.csv' && pattern.test(e.message), String(pattern));
    refused(edit(2, -1, '0'), /line 3: collapsed is 0 but the row's values give 1/);
    refused(edit(1, -2, '1'), /line 2: saturated is 1 but the row's values give 0/);
    refused(edit(1, -1, '2'), /line 2: collapsed must be 0 or 1, got 2/);
    refused(edit(1, -5, '1.5'), /line 2: val_pred_fg_images must be a non-negative integer or NaN, got 1\.5/);
    refused(lines.map((l) => l.split(',').slice(0, -1).join(',')).join('\n'), /line 1: expected the header/);
  });

  test('EpochRowCodec: a checkpoint row without the fields decodes with them NaN; rows round-trip', () => {
    const { valPredForeground: _a, valMaxForegroundProb: _b, valLesionDice: _c, ...old } = rows[0]!;
    // as a checkpoint header stores it: non-finite numbers as strings
    const stored: unknown = JSON.parse(JSON.stringify(old, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
    assert.equal((stored as Record<string, unknown>)['valHd'], 'NaN');
    const decoded = EpochRowCodec.decode(stored);
    assert.ok(E.isRight(decoded), 'decodes');
    const r = decoded.right;
    assert.ok([r.valPredForeground, r.valMaxForegroundProb, r.valLesionDice].every(Number.isNaN));
    for (const x of rows) {
      const back = EpochRowCodec.decode(JSON.parse(JSON.stringify(EpochRowCodec.encode(x))));
      assert.ok(E.isRight(back) && sameRow(back.right, x), `row ${x.epoch} round-trips`);
    }
    assert.ok(E.isLeft(EpochRowCodec.decode({ ...rows[0]!, valPredForeground: 1.5 })), 'a fractional count is refused');
  });
});

describe('diagnostics: training runs', () => {
  before(async () => core.setBackend('cpu'));
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const config = (over: Partial<TrainConfig>): TrainConfig => ({
    ...trainDefaults,
    model: { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false },
    epochs: 3,
    batchSize: 4,
    losses: ['gdl'],
    schedule: { name: 'constant' },
    ...over,
  });

  test('a provoked collapse (no batch norm, Adam at lr 30): saturated from the first epoch, reported everywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bseg-diag-'));
    dirs.push(dir);
    const cfg = config({ learningRate: 30 });
    const lines: string[] = [];
    const r = await train(cfg, standIn(8, 4), { dir, onEpoch: (x, info) => void lines.push(epochLine('', cfg.epochs, x, info.seconds, info.improved)) });
    for (const x of r.rows) {
      assert.equal(x.valPredForeground, 0, `epoch ${x.epoch}: no foreground predicted`);
      assert.ok(x.valMaxForegroundProb < SATURATION_THRESHOLD, `epoch ${x.epoch}: p_fg ${x.valMaxForegroundProb}`);
      assert.equal(x.valLesionDice, 0, 'lesion slices all missed');
      assert.ok(x.valDice > 0, 'while the per-slice DSC still counts the empty slices');
    }
    assert.equal(r.rows[1]!.trainLoss, r.rows[2]!.trainLoss, 'saturated: the gradient is exactly 0, the loss stays put');
    assert.deepEqual(diagnose(r.rows), { collapsedFrom: 0, saturatedEpochs: [0, 1, 2], learns: false, bestLesionDice: 0 });
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    const header = csv[0]!.split(',');
    for (const line of csv.slice(1)) {
      const cells = Object.fromEntries(line.split(',').map((c, i) => [header[i]!, c]));
      assert.equal(cells['val_pred_fg_images'], '0');
      assert.equal(cells['saturated'], '1');
      assert.equal(cells['collapsed'], '1');
      assert.equal(cells['val_lesion_dice'], '0');
    }
    for (const l of lines) assert.match(l, /val DSC \S+ \(lesion slices 0\.000\).*  no foreground predicted  saturated \(p_fg < 1e-30 everywhere\)$/, l);
    const summary = diagnosisLines(r.rows);
    assert.match(summary[0]!, /^collapsed from epoch 1: no foreground predicted on any validation image/, 'epochs are 1-based for people');
    assert.match(summary[1]!, /^saturated .* at epoch 1, 2, 3$/);
    assert.match(summary[2]!, /^does not learn: best lesion-slice DSC 0\.000 < 0\.3$/);
    // the largest foreground probability is the same with and without jit
    const eager = await train(cfg, standIn(8, 4), { jit: false });
    r.rows.forEach((x, i) => assert.ok(sameRow(x, eager.rows[i]!), `epoch ${i}: jit and eager rows agree`));
    core.dispose([r, eager]);
  });

  test('a healthy run (lr 1e-2) is not reported: foreground predicted, no saturation, it learns', async () => {
    const cfg = config({ model: { inChannels: 1, classes: 2, base: 4, depth: 2, batchNorm: false }, learningRate: 1e-2, epochs: 6 });
    const lines: string[] = [];
    const r = await train(cfg, standIn(12, 4), { onEpoch: (x, info) => void lines.push(epochLine('', cfg.epochs, x, info.seconds, info.improved)) });
    const d = diagnose(r.rows);
    assert.equal(d.collapsedFrom, undefined, 'not collapsed');
    assert.deepEqual(d.saturatedEpochs, [], 'never saturated');
    assert.ok(d.learns, `best lesion-slice DSC ${d.bestLesionDice}`);
    assert.ok(r.rows.every((x) => x.valMaxForegroundProb > 0.5 && x.valMaxForegroundProb <= 1), 'p_fg of a run that predicts lesions');
    assert.ok(r.rows.at(-1)!.valPredForeground > 0);
    for (const l of lines) assert.doesNotMatch(l, /no foreground|saturated/, l);
    assert.deepEqual(diagnosisLines(r.rows), [], 'nothing to say');
    core.dispose(r);
  });
});
