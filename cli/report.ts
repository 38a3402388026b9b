/**
 * What a run leaves for people to read: results tables (Markdown and JSON, per image and
 * summarised), learning curves (validation DSC and HD95 per epoch, one line per loss setting: the
 * paper's Fig. 3) as SVG and PNG, and overlays of predictions on images (Fig. 1/4).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../data/index.js';
import type { Slice } from '../data/types.js';
import type { EvalSummary, ImageMetrics } from '../models/evaluate.js';
import type { EpochRow } from '../models/metrics-log.js';
import { lineChartPng, lineChartSvg } from './render/chart.js';
import { overlayPng } from './render/overlay.js';

/** A number for tables: `n/a` for NaN and infinities. */
export function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
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

/** Writes `results.md` and `results.json` of one evaluation. */
export async function writeEvalResults(dir: string, title: string, notes: readonly string[], summary: EvalSummary, images: readonly ImageMetrics[], extra: Record<string, unknown> = {}): Promise<void> {
  const md = [
    `# ${title}`, '',
    ...notes.map((n) => `- ${n}`), '',
    'DSC per image (empty prediction of an empty mask = 1); HD and HD95 (MONAI per-direction) in mm over images where both masks are non-empty; NaN and infinities never enter a mean.', '',
    '## Summary', '', summaryMarkdown(summary), '',
    '## Per image', '', perImageMarkdown(images), '',
  ].join('\n');
  await writeFileAtomic(join(dir, 'results.md'), md);
  await writeFileAtomic(join(dir, 'results.json'), toJson({ title, notes, ...extra, summary, images }));
}

/** One learning curve per setting: the per-epoch rows (averaged over seeds by the caller). */
export interface CurveSeries {
  readonly label: string;
  readonly epochs: readonly number[];
  readonly dice: readonly number[];
  readonly hd95: readonly number[];
}

/** Writes `curve-dice.svg/.png` and `curve-hd95.svg/.png`. */
export async function writeCurves(dir: string, series: readonly CurveSeries[], subtitle: string): Promise<string[]> {
  const files: string[] = [];
  const charts = [
    { name: 'curve-dice', title: `Validation DSC per epoch${subtitle}`, yLabel: 'DSC', pick: (s: CurveSeries) => s.dice, yRange: [0, 1] as const },
    { name: 'curve-hd95', title: `Validation HD95 per epoch${subtitle}`, yLabel: 'HD95 (mm)', pick: (s: CurveSeries) => s.hd95, yRange: undefined },
  ];
  for (const c of charts) {
    const lines = series.map((s) => ({ label: s.label, x: [...s.epochs], y: [...c.pick(s)] }));
    const options = { title: c.title, xLabel: 'epoch', yLabel: c.yLabel, ...(c.yRange ? { yRange: c.yRange } : {}) };
    await writeFileAtomic(join(dir, `${c.name}.svg`), lineChartSvg(lines, options));
    await writeFileAtomic(join(dir, `${c.name}.png`), lineChartPng(lines, options));
    files.push(`${c.name}.svg`, `${c.name}.png`);
  }
  return files;
}

/** The curve of one run. */
export function curveOf(label: string, rows: readonly EpochRow[]): CurveSeries {
  return { label, epochs: rows.map((r) => r.epoch), dice: rows.map((r) => r.valDice), hd95: rows.map((r) => r.valHd95) };
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
    await writeFileAtomic(join(dir, name), overlayPng(plane, s.height, s.width, predictions[i]!, s.label, { scale: Math.max(1, Math.round(256 / Math.max(s.height, s.width))) }));
    files.push(name);
  }
  return files;
}
