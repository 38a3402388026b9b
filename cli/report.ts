/**
 * What a run leaves for people to read: results tables (Markdown and JSON, per image and
 * summarised), learning curves (validation DSC and HD95 per epoch, one line per loss setting: the
 * paper's Fig. 3) as SVG and PNG, and overlays of predictions on images (Fig. 1/4).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../data/index.js';
import type { Slice } from '../data/types.js';
import type { EvalSummary, ImageMetrics, SetEvaluation } from '../models/evaluate.js';
import type { EpochRow } from '../models/metrics-log.js';
import { lineChartPng, lineChartSvg } from './render/chart.js';
import { overlayPng } from './render/overlay.js';

/** A number for tables: `n/a` for NaN and infinities. */
export function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

/** `1 epoch`, `12 epochs`: a count with its noun. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `mean (std)`. */
export function meanStd(s: { readonly mean: number; readonly std: number }, digits = 3): string {
  return `${fmt(s.mean, digits)} (${fmt(s.std, digits)})`;
}

/** JSON with NaN and infinities as null (JSON has no literal for them). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** A Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The summary lines of an evaluation, in Markdown. */
export function summaryMarkdown(s: EvalSummary): string {
  return markdownTable(
    ['images', 'DSC mean (std)', 'HD mm mean (std)', 'HD95 mm mean (std)', 'HD images', 'missed', 'false alarms'],
    [[String(s.images), meanStd(s.dice), meanStd(s.hd), meanStd(s.hd95), String(s.hd.count), String(s.missed), String(s.falseAlarms)]],
  );
}

/** Per-image metrics in Markdown. */
export function perImageMarkdown(images: readonly ImageMetrics[]): string {
  return markdownTable(
    ['image', 'DSC', 'HD mm', 'HD95 mm', 'lesion', 'predicted'],
    images.map((m) => [m.id, fmt(m.dice), fmt(m.hd), fmt(m.hd95), m.gtForeground ? 'yes' : 'no', m.predForeground ? 'yes' : 'no']),
  );
}

/** A count and its share: `3 (12.5 %)`; `0` alone when the share is undefined. */
function countOf(count: number, rate: number): string {
  return Number.isFinite(rate) ? `${count} (${fmt(100 * rate, 1)} %)` : String(count);
}

/** The lesion-slice / empty-slice split of an evaluation, in Markdown. */
export function sliceSplitMarkdown(set: SetEvaluation): string {
  const s = set.slices;
  return markdownTable(
    ['lesion slices', 'empty slices', 'lesion-slice DSC mean (std)', 'missed lesion slices', 'false alarms (empty slices)'],
    [[String(s.lesionSlices), String(s.emptySlices), meanStd(s.lesionDice), String(s.missed), countOf(s.falseAlarms, s.falseAlarmRate)]],
  );
}

/** The per-volume summary and table of an evaluation, in Markdown. */
export function perVolumeMarkdown(set: SetEvaluation): string {
  const v = set.volumeSummary;
  const summary = markdownTable(
    ['volumes', 'DSC mean (std)', 'HD95 mm mean (std)', 'HD95 volumes', 'lesion recall', 'lesion precision', 'lesion F1'],
    [[String(v.volumes), meanStd(v.dice), meanStd(v.hd95), String(v.hd95.count), meanStd(v.recall), meanStd(v.precision), meanStd(v.f1)]],
  );
  const table = markdownTable(
    ['volume', 'slices', 'DSC', 'HD95 mm', 'lesions', 'predicted lesions', 'detected', 'false positives', 'recall', 'precision', 'F1'],
    set.volumes.map((x) => [x.id, String(x.slices), fmt(x.dice), x.hd95 === Infinity ? '∞' : fmt(x.hd95), String(x.lesion.gtLesions), String(x.lesion.predLesions),
      String(x.lesion.detected), String(x.lesion.falsePositives), fmt(x.lesion.recall), fmt(x.lesion.precision), fmt(x.lesion.f1)]),
  );
  return `${summary}\n\n${table}`;
}

/** A class for people: its index, and its name when the dataset has one (`1 (edema)`). */
export function classLabel(c: number, classNames?: readonly string[]): string {
  const name = classNames?.[c];
  return name !== undefined && name !== '' ? `${c} (${name})` : String(c);
}

/**
 * One row per foreground class, in Markdown: the class (with its name from `classNames`, by class
 * index, when given), its lesion slices (slices whose ground truth has it), their DSC, the missed
 * ones (nothing of the class predicted), the false alarms on the slices without the class (and
 * their share), the volumes with the class, and per volume DSC, HD95 (with the number of volumes
 * where it is finite) and lesion-wise F1.
 */
export function perClassMarkdown(set: SetEvaluation, classNames?: readonly string[]): string {
  return markdownTable(
    ['class', 'lesion slices', 'lesion-slice DSC mean (std)', 'missed lesion slices', 'false alarms (slices without the class)', 'volumes with the class',
      'volume DSC mean (std)', 'volume HD95 mm mean (std)', 'HD95 volumes', 'lesion F1 mean (std)'],
    set.perClass.map((c) => [classLabel(c.class, classNames), String(c.slices.lesionSlices), meanStd(c.lesionDice), String(c.slices.missed), countOf(c.slices.falseAlarms, c.slices.falseAlarmRate),
      String(c.lesionVolumes), meanStd(c.volumeDice), meanStd(c.volumeHd95), String(c.volumeHd95.count), meanStd(c.lesionF1)]),
  );
}

/**
 * Writes `results.md` and `results.json` of one evaluation. With `set` (`evaluateSet` of the same
 * slices) both also get the lesion-slice / empty-slice split, the per-volume metrics and, for more
 * than one foreground class, the per-class results (JSON keys `slices`, `volumeSummary`,
 * `volumes`, `perClass`), each class with its name from `classNames` (by class index) when given.
 */
export async function writeEvalResults(dir: string, title: string, notes: readonly string[], summary: EvalSummary, images: readonly ImageMetrics[], extra: Record<string, unknown> = {}, set?: SetEvaluation, classNames?: readonly string[]): Promise<void> {
  const setMd = set ? [
    '## Lesion slices / empty slices', '',
    'DSC over the slices whose ground truth has foreground only (empty/empty = 1 cannot inflate it); missed: lesion slices with nothing predicted; false alarms: empty slices with some prediction.', '',
    sliceSplitMarkdown(set), '',
    '## Per volume', '',
    'Slices stacked by volume (a slice without one is its own volume), spacing [thickness, …pixel spacing] mm: 3-D DSC (1 for a volume without lesions and nothing predicted), HD95 (MONAI per-direction; ∞ when one side is empty, n/a when both are), and lesion-wise detection: lesions are 3-D face-connected components, a lesion is detected when the prediction overlaps it, a predicted lesion without ground truth under it is a false positive. Means are over volumes; NaN and infinities never enter a mean.', '',
    perVolumeMarkdown(set), '',
    ...(set.perClass.length > 1 ? ['## Per class', '', 'Each foreground class on its own: a slice or volume is a lesion slice or volume of the classes its ground truth has; missed: lesion slices of the class with none of it predicted; false alarms: slices without the class with some of it predicted.', '', perClassMarkdown(set, classNames), ''] : []),
  ] : [];
  const md = [
    `# ${title}`, '',
    ...notes.map((n) => `- ${n}`), '',
    'DSC per image (empty prediction of an empty mask = 1); HD and HD95 (MONAI per-direction) in mm over images where both masks are non-empty; NaN and infinities never enter a mean.', '',
    '## Summary', '', summaryMarkdown(summary), '',
    ...setMd,
    '## Per image', '', perImageMarkdown(images), '',
  ].join('\n');
  await writeFileAtomic(join(dir, 'results.md'), md);
  const named = ({ class: k, ...rest }: SetEvaluation['perClass'][number]) => ({ class: k, ...(classNames?.[k] !== undefined ? { name: classNames[k] } : {}), ...rest });
  const setJson = set ? { slices: set.slices, volumeSummary: set.volumeSummary, volumes: set.volumes, perClass: set.perClass.map(named) } : {};
  await writeFileAtomic(join(dir, 'results.json'), toJson({ title, notes, ...extra, summary, ...setJson, images }));
}

/** One learning curve per setting: the per-epoch rows (averaged over seeds by the caller). */
export interface CurveSeries {
  readonly label: string;
  /** The epochs, counted from 1. */
  readonly epochs: readonly number[];
  readonly dice: readonly number[];
  readonly hd95: readonly number[];
}

/**
 * Writes `curve-dice.svg/.png` and `curve-hd95.svg/.png`: one line per series over its epochs
 * (counted from 1, see {@link curveOf}), whole-number epoch ticks, DSC on [0, 1] and HD95 on a range
 * of its values that never goes below 0.
 */
export async function writeCurves(dir: string, series: readonly CurveSeries[], subtitle: string, diceLabel = 'DSC'): Promise<string[]> {
  const files: string[] = [];
  const charts = [
    { name: 'curve-dice', title: `Validation ${diceLabel} per epoch${subtitle}`, yLabel: diceLabel, pick: (s: CurveSeries) => s.dice, yRange: [0, 1] as const },
    { name: 'curve-hd95', title: `Validation HD95 per epoch${subtitle}`, yLabel: 'HD95 (mm)', pick: (s: CurveSeries) => s.hd95, yBounds: [0, Infinity] as const },
  ];
  for (const c of charts) {
    const lines = series.map((s) => ({ label: s.label, x: [...s.epochs], y: [...c.pick(s)] }));
    const options = {
      title: c.title, xLabel: 'epoch', yLabel: c.yLabel, xIntegers: true,
      ...('yRange' in c ? { yRange: c.yRange } : {}), ...('yBounds' in c ? { yBounds: c.yBounds } : {}),
    };
    await writeFileAtomic(join(dir, `${c.name}.svg`), lineChartSvg(lines, options));
    await writeFileAtomic(join(dir, `${c.name}.png`), lineChartPng(lines, options));
    files.push(`${c.name}.svg`, `${c.name}.png`);
  }
  return files;
}

/** The curve of one run (epochs numbered from 1, as people count them). */
export function curveOf(label: string, rows: readonly EpochRow[]): CurveSeries {
  return { label, epochs: rows.map((r) => r.epoch + 1), dice: rows.map((r) => r.valDice), hd95: rows.map((r) => r.valHd95) };
}

/**
 * The slices to draw overlays of: the `count` with the most foreground, then (if fewer have any)
 * empty ones, in dataset order.
 */
export function overlayChoice(slices: readonly Slice[], count: number): number[] {
  const area = slices.map((s) => s.label.reduce((n, v) => n + (v > 0 ? 1 : 0), 0));
  return slices.map((_, i) => i).sort((a, b) => area[b]! - area[a]! || a - b).slice(0, count).sort((a, b) => a - b);
}

/** File-name-safe text. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Writes `<prefix><slice id>.png` overlays (prediction and ground truth over the first channel). */
export async function writeOverlays(dir: string, prefix: string, slices: readonly Slice[], predictions: readonly Uint8Array[], indices: readonly number[]): Promise<string[]> {
  const files: string[] = [];
  for (const i of indices) {
    const s = slices[i]!;
    const plane = s.image.subarray(0, s.height * s.width);
    const name = `${prefix}${safeName(s.id)}.png`;
    await writeFileAtomic(join(dir, name), overlayPng(plane, s.height, s.width, predictions[i]!, s.label, { scale: Math.min(64, Math.max(1, Math.round(256 / Math.max(s.height, s.width)))) }));
    files.push(name);
  }
  return files;
}
