/**
 * The geometry of a line chart, shared by its SVG and PNG renderings: plot area, axis ranges, "nice"
 * ticks (1, 2, 5 × 10^k), the series as pixel polylines split at gaps, and the legend's place.
 * Text is measured with the bitmap font's metrics (6 px a character at 11 px font size in SVG).
 */
import { InputError, ShapeError } from '../../core/errors.js';
import { ADVANCE } from './font.js';

/** One line of a chart. */
export interface Series {
  readonly label: string;
  readonly x: readonly number[];
  /** Same length as `x`; NaN (or any non-finite value) leaves a gap. */
  readonly y: readonly number[];
}

/** Titles, size and range of a chart. */
export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Default 640. */
  readonly width?: number;
  /** Default 400. */
  readonly height?: number;
  /** Fixed y range (values outside are clipped); default: the data's range, widened to nice ticks. */
  readonly yRange?: readonly [number, number];
}

/** A tick: value, pixel position along its axis, label. */
export interface Tick {
  readonly value: number;
  readonly at: number;
  readonly label: string;
}

/** A series placed on the chart. */
export interface PlacedSeries {
  readonly label: string;
  readonly color: string;
  /** Runs of consecutive finite points, in pixels; runs of one point are drawn as dots. */
  readonly runs: (readonly [number, number])[][];
}

/** Everything a renderer draws, in pixels. */
export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly plot: { readonly left: number; readonly top: number; readonly right: number; readonly bottom: number };
  readonly xTicks: readonly Tick[];
  readonly yTicks: readonly Tick[];
  readonly series: readonly PlacedSeries[];
  /** Top-left corner of the legend; one row of {@link LEGEND_ROW} pixels per series. */
  readonly legend: { readonly x: number; readonly y: number };
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
}

/** Distinct colours (Tableau 10), cycled. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;
/** Height of a legend row in pixels; the swatch is {@link LEGEND_SWATCH} wide. */
export const LEGEND_ROW = 14;
export const LEGEND_SWATCH = 16;
/** Pixel sizes of the text: character advance of tick labels and of the title (twice as large). */
export const CHAR = ADVANCE;
export const TITLE_SCALE = 2;

/** A nice step (1, 2 or 5 × 10^k) giving about `count` intervals over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** Tick values of a nice step inside [lo, hi]. */
function tickValues(lo: number, hi: number, count: number): { values: number[]; step: number } {
  const step = niceStep(hi - lo, count);
  const values: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { values, step };
}

/** A tick label with as many decimals as the step needs (exponent form for very large or small steps). */
export function formatTick(value: number, step: number): string {
  if (step >= 1e6 || step < 1e-4) return value === 0 ? '0' : value.toExponential(Math.max(0, -Math.floor(Math.log10(step)) + Math.floor(Math.log10(Math.abs(value)))));
  return value.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/** [lo, hi] of the finite values, or undefined. */
function finiteRange(values: Iterable<number>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** Widens an empty or degenerate range so that it has a span. */
function widen(range: [number, number] | undefined): [number, number] {
  if (range === undefined) return [0, 1];
  const [lo, hi] = range;
  if (hi > lo) return [lo, hi];
  const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - pad, hi + pad];
}

/**
 * Lays out a chart.
 *
 * @throws ShapeError when a series' `x` and `y` differ in length; InputError for a size below
 *   240 × 160 or a y range that is not `[lo, hi]` with lo < hi.
 */
export function layoutChart(series: readonly Series[], options: ChartOptions): ChartLayout {
  const op = 'lineChart';
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  if (!Number.isInteger(width) || width < 240 || width > 8192) throw new InputError(op, 'options.width', `expected an integer in [240, 8192], got ${width}`);
  if (!Number.isInteger(height) || height < 160 || height > 8192) throw new InputError(op, 'options.height', `expected an integer in [160, 8192], got ${height}`);
  if (options.yRange !== undefined && !(options.yRange.length === 2 && options.yRange.every(Number.isFinite) && options.yRange[0] < options.yRange[1])) {
    throw new InputError(op, 'options.yRange', `expected two finite numbers [lo, hi] with lo < hi, got ${JSON.stringify(options.yRange)}`);
  }
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new ShapeError(op, `series '${s.label}'`, `${s.x.length} x values but ${s.y.length} y values`);
  }
  const xRange = widen(finiteRange(series.flatMap((s) => s.x.filter((_, i) => Number.isFinite(s.y[i]!)))));
  let yRange: [number, number];
  if (options.yRange !== undefined) {
    yRange = [options.yRange[0], options.yRange[1]];
  } else {
    const [lo, hi] = widen(finiteRange(series.flatMap((s) => s.y.filter((_, i) => Number.isFinite(s.x[i]!)))));
    const step = niceStep(hi - lo, 5);
    yRange = [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
  }
  const yTickInfo = tickValues(yRange[0], yRange[1], 5);
  const xTickInfo = tickValues(xRange[0], xRange[1], Math.max(2, Math.min(8, Math.floor(width / 90))));
  const yLabelWidth = Math.max(...yTickInfo.values.map((v) => formatTick(v, yTickInfo.step).length)) * CHAR;
  const legendWidth = series.length === 0 ? 0 : LEGEND_SWATCH + 6 + Math.max(...series.map((s) => s.label.length)) * CHAR + 12;
  const plot = {
    left: 14 + 10 + yLabelWidth + 8,
    top: 12 + 7 * TITLE_SCALE + 12,
    right: width - 16 - legendWidth,
    bottom: height - (8 + 7 + 6 + 7 + 12),
  };
  const sx = (v: number) => plot.left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * (plot.right - plot.left);
  const sy = (v: number) => plot.bottom - ((v - yRange[0]) / (yRange[1] - yRange[0])) * (plot.bottom - plot.top);
  const placed = series.map((s, k) => {
    const runs: (readonly [number, number])[][] = [];
    let run: (readonly [number, number])[] = [];
    s.x.forEach((x, i) => {
      const y = s.y[i]!;
      if (Number.isFinite(x) && Number.isFinite(y)) {
        run.push([sx(x), sy(y)]);
      } else if (run.length > 0) {
        runs.push(run);
        run = [];
      }
    });
    if (run.length > 0) runs.push(run);
    return { label: s.label, color: PALETTE[k % PALETTE.length]!, runs };
  });
  return {
    width,
    height,
    plot,
    xTicks: xTickInfo.values.map((v) => ({ value: v, at: sx(v), label: formatTick(v, xTickInfo.step) })),
    yTicks: yTickInfo.values.map((v) => ({ value: v, at: sy(v), label: formatTick(v, yTickInfo.step) })),
    series: placed,
    legend: { x: plot.right + 12, y: plot.top },
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
  };
}
