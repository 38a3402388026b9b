/**
 * What a run leaves for people to read: `metrics.csv` counts epochs from 1 (a file written before
 * that, counting from 0, reads into the same rows), per-class columns for data of K ≥ 3 classes
 * (written, read back, resumed from), `results.json`'s best epoch counted from 1 and equal to the
 * `metrics.csv` row of the best score, per-class counts in the results and the experiment table,
 * whole-number epoch ticks and a sensible range around a single value in the charts, and the
 * package, Node and backend versions in `run.json`, `experiment.json` and `results.json`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import '../backends/register.js';
import * as core from '../core/index.js';
import { InputError } from '../core/errors.js';
import { axisTicks, dataRange, layoutChart } from '../cli/render/chart-layout.js';
import { perClassTable, type RunOutcome } from '../cli/commands/experiment.js';
import { epochLine } from '../cli/commands/train.js';
import { classLabel, perClassMarkdown } from '../cli/report.js';
import { parseSetting } from '../cli/settings.js';
import { packageVersion } from '../cli/runtime.js';
import { EpochRowCodec, metricsCsv, parseMetricsCsv, sameRow, type EpochRow } from '../models/metrics-log.js';
import { evaluateSet, imageClassMetrics, summarizeClasses } from '../models/evaluate.js';
import { cli } from './helpers/cli.js';
import { grayPng, put, removeDir, tempDir } from './helpers/fixtures.js';

/** A row (the rest arbitrary but fixed); `perClass` only when given. */
const row = (epoch: number, valDice: number, perClass?: EpochRow['perClass']): EpochRow => ({
  epoch, lr: 1e-3, weights: [0.5, 0.5], trainLoss: 0.5 - epoch / 100, trainTerms: [0.25, 0.75], valLoss: 0.4, valDice, valHd: NaN, valHd95: Infinity,
  missed: 1, falseAlarms: 0, valPredForeground: 3, valMaxForegroundProb: 0.75, valLesionDice: 0.4, ...(perClass ? { perClass } : {}),
});
const classes = (e: number): EpochRow['perClass'] => [
  { class: 1, dice: 0.5 + e / 10, hd95: 2.5, missed: 1, falseAlarms: 0 },
  { class: 2, dice: 1 / 3, hd95: NaN, missed: 0, falseAlarms: 2 },
];
const losses = ['gdl', 'boundary'];
const BINARY_HEADER = 'epoch,lr,w_gdl,w_boundary,train_loss,train_gdl,train_boundary,val_loss,val_dice,val_hd,val_hd95,val_missed,val_false_alarms,val_pred_fg_images,val_max_fg_prob,val_lesion_dice,saturated,collapsed';
/** The text with the `epoch` cell of every data line lowered by one: a file written before epochs counted from 1. */
const zeroBased = (csv: string) => csv.split('\n').map((l, i) => (i === 0 || l === '' ? l : l.replace(/^\d+/, (e) => String(Number(e) - 1)))).join('\n');
const refused = (f: () => unknown, argument: string, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof InputError && e.argument === argument && pattern.test(e.message), String(pattern));

describe('metrics.csv: epochs counted from 1', () => {
  const rows = [row(0, 0.5), row(1, 0.7), row(2, 0.6)];

  test('written from 1, read back into 0-based rows; a file counting from 0 reads the same', () => {
    const csv = metricsCsv(losses, rows);
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines[0], BINARY_HEADER, 'the binary header is unchanged');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['1', '2', '3']);
    const back = parseMetricsCsv(csv, losses, 'metrics.csv');
    assert.deepEqual(back.map((r) => r.epoch), [0, 1, 2]);
    back.forEach((r, i) => assert.ok(sameRow(r, rows[i]!), `row ${i}`));
    const legacy = zeroBased(csv);
    assert.match(legacy, /\n0,0\.001,/, 'the legacy text counts from 0');
    const old = parseMetricsCsv(legacy, losses, 'old.csv');
    old.forEach((r, i) => assert.ok(sameRow(r, rows[i]!), `legacy row ${i}`));
    // the first format (no diagnostic columns) counted from 0 as well
    const first = legacy.split('\n').map((l) => (l === '' ? l : l.split(',').slice(0, -5).join(','))).join('\n');
    assert.deepEqual(parseMetricsCsv(first, losses, 'first.csv').map((r) => [r.epoch, r.valDice]), [[0, 0.5], [1, 0.7], [2, 0.6]]);
  });

  test('a first epoch other than 1 (or 0), or a gap, is refused naming the file and the line', () => {
    const lines = metricsCsv(losses, rows).trimEnd().split('\n');
    const withEpochs = (epochs: number[]) => [lines[0], ...lines.slice(1).map((l, i) => l.replace(/^\d+/, String(epochs[i])))].join('\n');
    refused(() => parseMetricsCsv(withEpochs([2, 3, 4]), losses, 'run/metrics.csv'), 'run/metrics.csv', /line 2: the first epoch must be 1 \(or 0 in a file written before epochs were counted from 1\), got 2/);
    refused(() => parseMetricsCsv(withEpochs([1, 3, 4]), losses, 'run/metrics.csv'), 'run/metrics.csv', /line 3: expected epoch 2, got 3/);
    refused(() => parseMetricsCsv(withEpochs([0, 1, 3]), losses, 'run/metrics.csv'), 'run/metrics.csv', /line 4: expected epoch 2, got 3/);
  });
});

describe('metrics.csv: per-class columns (K ≥ 3)', () => {
  const rows = [row(0, 0.5, classes(0)), row(1, 0.7, classes(1))];

  test('written after the diagnostics for classes 1 … K − 1 and read back exactly', () => {
    const csv = metricsCsv(losses, rows, 3);
    const [header, ...lines] = csv.trimEnd().split('\n');
    assert.equal(header, `${BINARY_HEADER},val_dice_1,val_hd95_1,val_missed_1,val_false_alarms_1,val_dice_2,val_hd95_2,val_missed_2,val_false_alarms_2`);
    assert.deepEqual(lines[0]!.split(',').slice(-8), ['0.5', '2.5', '1', '0', String(1 / 3), 'NaN', '0', '2']);
    assert.equal(metricsCsv(losses, rows), csv, 'K − 1 from the rows when classes is not given');
    const back = parseMetricsCsv(csv, losses, 'metrics.csv', 3);
    back.forEach((r, i) => assert.ok(sameRow(r, rows[i]!), `row ${i}`));
    assert.deepEqual(back[1]!.perClass!.map((c) => c.dice), [0.6, 1 / 3]);
    assert.ok(sameRow(parseMetricsCsv(zeroBased(csv), losses, 'old.csv', 3)[1]!, rows[1]!), 'a per-class file counting from 0 reads too');
    assert.equal(sameRow(rows[0]!, { ...rows[0]!, perClass: classes(1) }), false, 'sameRow compares the classes');
    assert.equal(sameRow(rows[0]!, row(0, 0.5)), false, 'and their absence');
  });

  test('the column set must match the classes; old files and rows without per-class metrics still read', () => {
    const csv = metricsCsv(losses, rows, 3);
    refused(() => parseMetricsCsv(csv, losses, 'run/metrics.csv', 4), 'run/metrics.csv', /line 1: the per-class columns are those of classes 1 … 2, but the run has 4 classes \(expected classes 1 … 3\)/);
    refused(() => parseMetricsCsv(csv, losses, 'run/metrics.csv', 2), 'run/metrics.csv', /line 1: .* but the run has 2 classes \(a binary run has none\)/);
    const [header, ...lines] = csv.trimEnd().split('\n');
    refused(() => parseMetricsCsv([header!.replace('val_hd95_2', 'val_hd_2'), ...lines].join('\n'), losses, 'run/metrics.csv'), 'run/metrics.csv', /line 1: expected the header/);
    refused(() => parseMetricsCsv([header!.split(',').slice(0, -4).join(','), ...lines.map((l) => l.split(',').slice(0, -4).join(','))].join('\n'), losses, 'one.csv'), 'one.csv', /line 1: expected the header/);
    refused(() => parseMetricsCsv([header, lines[0]!.replace(/,2$/, ',2.5'), lines[1]].join('\n'), losses, 'run/metrics.csv', 3), 'run/metrics.csv', /line 2: val_missed_2 and val_false_alarms_2 must be non-negative integers/);
    // a file of a 3-class run written before the per-class columns: rows without perClass
    const binary = metricsCsv(losses, [row(0, 0.5), row(1, 0.7)]);
    assert.ok(parseMetricsCsv(binary, losses, 'old.csv', 3).every((r) => r.perClass === undefined));
    // resumed from such a file: the rows before get NaN cells, which read back as "not recorded"
    const mixed = metricsCsv(losses, [row(0, 0.5), row(1, 0.7, classes(1))], 3);
    assert.match(mixed.split('\n')[1]!, /(,NaN){8}$/);
    const read = parseMetricsCsv(mixed, losses, 'mixed.csv', 3);
    assert.equal(read[0]!.perClass, undefined);
    assert.ok(sameRow(read[1]!, row(1, 0.7, classes(1))));
  });

  test('rows whose classes do not fit are refused when written; the checkpoint codec carries perClass', () => {
    refused(() => metricsCsv(losses, [row(0, 0.5, classes(0))], 4), 'rows[0].perClass', /expected the classes 1 … 3 in order, got classes \[1, 2\]/);
    refused(() => metricsCsv(losses, [row(0, 0.5, classes(0))], 2), 'rows[0].perClass', /per-class columns are written for 3 classes or more/);
    refused(() => metricsCsv(losses, [row(0, 0.5, [...classes(0)!].reverse())]), 'rows[0].perClass', /got classes \[2, 1\]/);
    refused(() => metricsCsv(losses, [], 0), 'classes', /expected an integer in 1 … 256, got 0/);
    for (const x of rows) {
      const back = EpochRowCodec.decode(JSON.parse(JSON.stringify(EpochRowCodec.encode(x))));
      assert.ok(E.isRight(back) && sameRow(back.right, x), `row ${x.epoch} round-trips with its classes`);
    }
    const plain = EpochRowCodec.decode(JSON.parse(JSON.stringify(EpochRowCodec.encode(row(0, 0.5)))));
    assert.ok(E.isRight(plain) && !('perClass' in plain.right), 'a row without classes stays without');
    assert.ok(E.isLeft(EpochRowCodec.decode(JSON.parse(JSON.stringify(EpochRowCodec.encode({ ...rows[0]!, perClass: [...classes(0)!].reverse() }))))), 'classes out of order are refused');
  });

  test('summarizeClasses: per class mean Dice, HD95 over images with both, missed and false alarms', () => {
    // image a: class 1 found, class 2 missed; image b: no class 1 but predicted (false alarm), class 2 absent from both
    const perImage = [[[1, 1, 2, 0], [1, 1, 0, 0]], [[0, 0, 0, 0], [1, 0, 0, 0]]].map(([label, pred], i) =>
      imageClassMetrics({ id: `i${i}`, label: Uint8Array.from(label!), height: 2, width: 2, spacing: [1, 1] }, Uint8Array.from(pred!), 3));
    const s = summarizeClasses(perImage);
    assert.deepEqual(s.map((c) => [c.class, c.dice, c.missed, c.falseAlarms]), [[1, 0.5, 0, 1], [2, 0.5, 1, 0]]);
    assert.equal(s[0]!.hd95, 0, 'class 1: only image a has it on both sides, where the masks agree');
    assert.ok(Number.isNaN(s[1]!.hd95), 'class 2 is never on both sides');
    refused(() => summarizeClasses([perImage[0]!, perImage[1]!.slice(0, 1)]), 'perImage[1]', /lists the classes \[1\] but perImage\[0\] lists \[1, 2\]/);
  });
});

describe('charts: whole-number epoch ticks, a range around a single value', () => {
  const epochs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  test('ticks of an epoch axis are whole numbers with a step of at least 1', () => {
    const expected: Record<number, number[]> = { 1: [1], 2: [1, 2], 7: [1, 2, 3, 4, 5, 6, 7], 12: [1, 2, 4, 6, 8, 10, 12], 100: [1, 20, 40, 60, 80, 100] };
    for (const n of [1, 2, 7, 12, 100]) {
      const [lo, hi] = dataRange(epochs(n), { integer: true });
      const { values, step } = axisTicks(lo, hi, 7, true);
      assert.ok(step >= 1 && Number.isInteger(step), `N = ${n}: step ${step}`);
      assert.deepEqual(values, expected[n], `N = ${n}`);
      // and so in a laid-out chart, labels without decimals
      const c = layoutChart([{ label: 'run', x: epochs(n), y: epochs(n).map((e) => e / (n + 1)) }], { title: 't', xLabel: 'epoch', yLabel: 'DSC', xIntegers: true });
      assert.deepEqual(c.xTicks.map((t) => t.label), expected[n]!.map(String), `N = ${n}: labels`);
    }
    assert.deepEqual(axisTicks(1, 2, 7).values.map((v) => +v.toFixed(6)), [1, 1.2, 1.4, 1.6, 1.8, 2], 'an axis of measurements still gets fractional ticks');
    const lone = layoutChart([{ label: 'run', x: [1], y: [0.4] }], { title: 't', xLabel: 'epoch', yLabel: 'DSC', xIntegers: true });
    assert.ok(Math.abs(lone.xTicks[0]!.at - (lone.plot.left + lone.plot.right) / 2) < 1e-9, 'a single epoch sits in the middle');
  });

  test('a single finite value (or all equal) gets a range around it, inside the bounds', () => {
    assert.deepEqual(dataRange([NaN, 0.3, NaN]).map((v) => +v.toFixed(12)), [0.27, 0.33], '±10 %');
    assert.deepEqual(dataRange([-20, -20]), [-22, -18]);
    assert.deepEqual(dataRange([0]), [-0.5, 0.5], '±0.5 around 0');
    assert.deepEqual(dataRange([0], { bounds: [0, Infinity] }), [0, 0.5], 'a distance never goes below 0');
    assert.deepEqual(dataRange([1, 1], { bounds: [0, 1] }).map((v) => +v.toFixed(12)), [0.9, 1], 'a DSC never above 1');
    assert.deepEqual(dataRange([3], { integer: true }), [2.5, 3.5]);
    assert.deepEqual(dataRange([NaN, Infinity]), [0, 1], 'nothing finite');
    assert.deepEqual(dataRange([2, 5, 3]), [2, 5], 'a spread is kept as it is');
    const c = layoutChart([{ label: 'HD95', x: [1, 2], y: [NaN, 0] }], { title: 't', xLabel: 'epoch', yLabel: 'HD95', yBounds: [0, Infinity], xIntegers: true });
    assert.deepEqual([c.yTicks[0]!.value, c.yTicks.at(-1)!.value], [0, 0.5], 'not −1 … 1');
    const free = layoutChart([{ label: 'x', x: [1], y: [7] }], { title: 't', xLabel: 'x', yLabel: 'y' });
    assert.deepEqual(free.yTicks.map((t) => t.label), ['6.0', '6.5', '7.0', '7.5', '8.0'], '7 ± 0.7, widened to whole ticks');
    refused(() => layoutChart([], { title: 't', xLabel: 'x', yLabel: 'y', yBounds: [1, 0] }), 'options.yBounds', /expected two numbers \[lo, hi\] with lo < hi/);
  });
});

describe('per-class experiment table', () => {
  test('per setting and class: DSC, HD95 and the counts', () => {
    const outcome = (seed: number, missed: number): RunOutcome => ({
      seed, bestEpoch: 1, lesionDice: 0.5, sliceDice: 0.6, missed: 0, falseAlarms: 0, falseAlarmRate: 0, volumeDice: 0.5, volumeHd95: 3, lesionRecall: 1, lesionPrecision: 1, lesionF1: 1,
      volumes: [], saturatedEpochs: [], learns: true, lastQuarterStd: 0, rows: [],
      perClass: [1, 2].map((c) => ({ class: c, lesionDice: 0.5, volumeDice: 0.4, volumeHd95: 2, lesionSlices: 3 + c, missed: missed * c, falseAlarms: c, lesionVolumes: c })),
    });
    const table = perClassTable([parseSetting('gdl', 2)], [[outcome(0, 1), outcome(1, 2)]]);
    assert.match(perClassTable([parseSetting('gdl', 2)], [[outcome(0, 1)]], ['background', 'lesion', 'edema']), /\n\| GDL \| 2 \(edema\) \| 5 \| 2 \|/, 'named from the dataset');
    assert.deepEqual(table.split('\n'), [
      '| setting | class | lesion slices | volumes with the class | lesion-slice DSC | volume DSC | volume HD95 (mm) | missed lesion slices | false alarms (slices without the class) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| GDL | 1 | 4 | 1 | 0.500 (0.000) | 0.400 (0.000) | 2.00 (0.00) | 1.5 (0.7) | 1.0 (0.0) |',
      '| GDL | 2 | 5 | 2 | 0.500 (0.000) | 0.400 (0.000) | 2.00 (0.00) | 3.0 (1.4) | 2.0 (0.0) |',
    ]);
  });
});

describe('class names in the per-class headings', () => {
  const names = ['background', 'lesion', 'edema'];

  test('a class is shown with its name when the dataset has one', () => {
    assert.equal(classLabel(2, names), '2 (edema)');
    assert.equal(classLabel(2), '2', 'no names: the index');
    assert.equal(classLabel(3, names), '3', 'an index past the names');
    const line = epochLine('', 2, row(0, 0.5, classes(0)), 0.1, true, names);
    assert.match(line, /  DSC per class 1 \(lesion\): 0\.500, 2 \(edema\): 0\.333  HD95/);
    assert.match(epochLine('', 2, row(0, 0.5, classes(0)), 0.1, true), /  DSC per class 1: 0\.500, 2: 0\.333  HD95/);
    assert.doesNotMatch(epochLine('', 2, row(0, 0.5), 0.1, true), /per class/, 'binary rows have none');
    const slice = (id: string, label: number[]) => ({ id, label: Uint8Array.from(label), height: 2, width: 2, spacing: [1, 1] as const });
    const set = evaluateSet([slice('a', [1, 1, 2, 0]), slice('b', [0, 0, 0, 2])], [Uint8Array.from([1, 0, 2, 0]), Uint8Array.from([1, 0, 0, 0])], 3);
    const md = perClassMarkdown(set, names).split('\n');
    assert.deepEqual(md.slice(2).map((l) => l.split(' | ').slice(0, 6).join(' | ')), ['| 1 (lesion) | 1 | 0.667 (0.000) | 0 | 1 (100.0 %) | 1', '| 2 (edema) | 2 | 0.500 (0.707) | 1 | 0 | 2'],
      'class, lesion slices, their DSC, missed, false alarms (of the slices without the class: none for class 2), volumes with the class (each slice a volume)');
    assert.match(perClassMarkdown(set).split('\n')[2]!, /^\| 1 \| 1 \|/);
  });
});

describe('runs on 3-class data, with the command line', () => {
  before(async () => core.setBackend('cpu'));
  const root = tempDir('bseg-reports-');
  after(() => removeDir(root));
  const at = (...p: string[]) => join(root, ...p);
  const TINY = ['--base', '2', '--depth', '1', '--batch-size', '2', '--label-format', 'indices', '--losses', 'gdl', '--overlays', '0', '--quiet'];

  // 16×16 slices: a bright disk of class 1 and a grey square of class 2 (some slices lack one or both)
  const data = at('three');
  const size = 16;
  for (const [split, count] of [['train', 4], ['val', 3]] as const) {
    for (let i = 0; i < count; i++) {
      const image = new Uint8Array(size * size);
      const label = new Uint8Array(size * size);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const k = y * size + x;
          const disk = i % 3 !== 2 && (y - 5 - i) ** 2 + (x - 5) ** 2 <= 9;
          const square = i % 2 === 0 && y >= 10 && y < 14 && x >= 9 + (i % 3) && x < 13 + (i % 3);
          label[k] = disk ? 1 : square ? 2 : 0;
          image[k] = 30 + (disk ? 170 : square ? 90 : 0) + ((3 * x + 5 * y) % 11);
        }
      }
      put(data, `${split}/img/c${i}.png`, grayPng(image, size, size));
      put(data, `${split}/gt/c${i}.png`, grayPng(label, size, size));
    }
  }

  test('train: per-class columns and lines, bestEpoch from 1 equal to metrics.csv, versions in run.json; resumes from a 0-based file and an old run.json', async () => {
    const r = await cli(['train', '--data', data, ...TINY, '--epochs', '2', '--out', at('run')]);
    assert.equal(r.code, 0, r.stderr);
    const csv = readFileSync(at('run', 'metrics.csv'), 'utf8');
    const [header, ...lines] = csv.trimEnd().split('\n');
    const cols = header!.split(',');
    assert.deepEqual(cols.slice(-8), ['val_dice_1', 'val_hd95_1', 'val_missed_1', 'val_false_alarms_1', 'val_dice_2', 'val_hd95_2', 'val_missed_2', 'val_false_alarms_2']);
    const cellsOf = lines.map((l) => Object.fromEntries(l.split(',').map((c, i) => [cols[i]!, c])));
    assert.deepEqual(cellsOf.map((c) => c['epoch']), ['1', '2'], 'epochs from 1');
    const rows = parseMetricsCsv(csv, ['gdl'], 'metrics.csv', 3);
    for (const x of rows) {
      assert.deepEqual(x.perClass!.map((c) => c.class), [1, 2]);
      assert.ok(Math.abs((x.perClass![0]!.dice + x.perClass![1]!.dice) / 2 - x.valDice) < 1e-12, 'valDice is the mean over the classes of the per-image means');
      for (const c of x.perClass!) assert.ok(c.missed + c.falseAlarms <= 3, 'counts over 3 validation images');
    }

    const results = JSON.parse(readFileSync(at('run', 'results.json'), 'utf8')) as {
      bestEpoch: number; diagnosis: { saturatedEpochs: number[] }; environment: { package: { name: string; version: string }; node: string; backend: { name: string } };
      perClass: { class: number; slices: { lesionSlices: number; missed: number; falseAlarms: number }; lesionVolumes: number; lesionDice: { mean: number | null } }[];
    };
    const dice = cellsOf.map((c) => Number(c['val_dice']));
    const best = dice.indexOf(Math.max(...dice));
    assert.equal(results.bestEpoch, Number(cellsOf[best]!['epoch']), 'bestEpoch is the epoch of the metrics.csv row with the best val_dice');
    assert.ok(results.bestEpoch >= 1 && results.bestEpoch <= 2);
    assert.ok(results.diagnosis.saturatedEpochs.every((e) => e >= 1), 'diagnosis epochs from 1');
    assert.match(readFileSync(at('run', 'results.md'), 'utf8'), new RegExp(`best epoch ${results.bestEpoch} of 2`));
    assert.match(r.stdout, new RegExp(`best epoch ${results.bestEpoch}\\n`));
    assert.deepEqual(results.perClass.map((c) => [c.class, c.slices.lesionSlices, c.lesionVolumes]), [[1, 2, 2], [2, 2, 2]], 'val: class 1 on c0, c1; class 2 on c0, c2');
    for (const c of results.perClass) for (const k of ['missed', 'falseAlarms'] as const) assert.ok(Number.isInteger(c.slices[k]), `${k} of class ${c.class}`);
    const md = readFileSync(at('run', 'results.md'), 'utf8');
    assert.match(md, /## Per class/);
    assert.match(md, /\| class \| lesion slices \| lesion-slice DSC mean \(std\) \| missed lesion slices \| false alarms \(slices without the class\) \| volumes with the class \| volume DSC mean \(std\) \| volume HD95 mm mean \(std\) \| HD95 volumes \| lesion F1 mean \(std\) \|/);
    assert.match(md, /\n\| 2 \| 2 \| /, 'a row for class 2');
    assert.match(r.stdout, /\nclass 1: lesion-slice DSC \S+ over 2, missed \d, false alarms \d of 1; per volume \(2 with the class\)/);
    assert.match(r.stdout, /\nclass 2: lesion-slice DSC /);

    const run = JSON.parse(readFileSync(at('run', 'run.json'), 'utf8')) as Record<string, unknown> & { environment: { package: { name: string; version: string }; node: string; platform: string; arch: string; backend: { name: string; precision?: string } } };
    const env = run.environment;
    assert.deepEqual(env.package, { name: 'boundary-seg', version: packageVersion() });
    assert.equal(env.node, process.version);
    assert.deepEqual([env.platform, env.arch], [process.platform, process.arch]);
    assert.equal(env.backend.name, 'cpu');
    assert.equal(env.backend.precision, (await core.getBackend().describe()).precision, "the backend's describe()");
    assert.equal('gpujs' in env, false, 'no gpu.js version for another backend');
    assert.deepEqual(results.environment, env, 'results.json records the same');

    // the lines of each epoch give the DSC per class
    const verbose = await cli(['train', '--data', data, ...TINY.filter((f) => f !== '--quiet'), '--epochs', '1', '--out', at('part')]);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, /epoch 1\/1 .*val DSC \S+ \(lesion slices \S+\)  DSC per class 1: \d\.\d{3}, 2: \d\.\d{3}  HD95/);
    // an interrupted run of a folder written before: 0-based metrics.csv, run.json without the environment
    writeFileSync(at('part', 'metrics.csv'), zeroBased(readFileSync(at('part', 'metrics.csv'), 'utf8')));
    const { environment: _, ...old } = JSON.parse(readFileSync(at('part', 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(at('part', 'run.json'), JSON.stringify(old));
    const resumed = await cli(['train', '--resume', at('part'), '--epochs', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) assert.ok(readFileSync(at('part', f)).equals(readFileSync(at('run', f))), `${f} as in the uninterrupted run (metrics.csv rewritten from 1)`);
  });

  test('eval and experiment record the versions; the experiment has the per-class counts in results.md and on the console', async () => {
    const e = await cli(['eval', '--checkpoint', at('run', 'best.ckpt'), '--data', data, '--label-format', 'indices', '--overlays', '0', '--quiet', '--out', at('eval')]);
    assert.equal(e.code, 0, e.stderr);
    const evalResults = JSON.parse(readFileSync(at('eval', 'results.json'), 'utf8')) as { environment: { package: { version: string }; backend: { name: string } } };
    assert.equal(evalResults.environment.package.version, packageVersion());
    assert.equal(evalResults.environment.backend.name, 'cpu');
    assert.match(readFileSync(at('eval', 'results.md'), 'utf8'), /\| class \| lesion slices \| lesion-slice DSC mean \(std\) \| missed lesion slices \|/);

    const x = await cli(['experiment', '--data', data, ...TINY.filter((f) => f !== '--losses' && f !== 'gdl'), '--settings', 'gdl', '--seeds', '1', '--epochs', '1', '--out', at('exp')]);
    assert.equal(x.code, 0, x.stderr);
    const started = JSON.parse(readFileSync(at('exp', 'experiment.json'), 'utf8')) as { environment: { package: { name: string }; node: string; backend: { name: string } } };
    assert.deepEqual([started.environment.package.name, started.environment.node, started.environment.backend.name], ['boundary-seg', process.version, 'cpu']);
    const results = JSON.parse(readFileSync(at('exp', 'results.json'), 'utf8')) as { environment: unknown; runs: { gdl: RunOutcome[] } };
    assert.deepEqual(results.environment, started.environment);
    assert.deepEqual(results.runs.gdl[0]!.perClass.map((c) => [c.class, c.lesionSlices, c.lesionVolumes]), [[1, 2, 2], [2, 2, 2]]);
    assert.equal(results.runs.gdl[0]!.bestEpoch, 1);
    const heading = '| setting | class | lesion slices | volumes with the class | lesion-slice DSC | volume DSC | volume HD95 (mm) | missed lesion slices | false alarms (slices without the class) |';
    assert.ok(readFileSync(at('exp', 'results.md'), 'utf8').includes(`## Per class\n\n${heading}`), 'results.md');
    assert.ok(x.stdout.includes(heading), 'console');
    assert.match(x.stdout, /\| GDL \| 2 \| 2 \| 2 \| /);
  });
});
