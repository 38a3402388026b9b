/**
 * The geometry of a line chart, shared by its SVG and PNG renderings: plot area, axis ranges, "nice"
 * ticks (1, 2, 5 × 10^k; whole numbers only on an axis of counts such as epochs), the series as
 * pixel polylines split at gaps, and the legend's place. Text is measured with the bitmap font's
 * metrics (6 px a character at 11 px font size in SVG).
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
  /**
   * The interval the y values can take, e.g. `[0, Infinity]` for distances or `[0, 1]` for Dice:
   * the automatic y range (without `yRange`) stays inside it. Default: unbounded.
   */
  readonly yBounds?: readonly [number, number];
  /**
   * The x values are whole numbers (epochs): x ticks fall on integers only, a step of 1 or more
   * (1, 2, 5 × 10^k), with the first value of the range as a tick too when it is not a multiple of
   * the step (1, 5, 10 … for epochs 1 … 10). Default false.
   */
  readonly xIntegers?: boolean;
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

/**
 * Tick values of a nice step (1, 2 or 5 × 10^k, about `count` intervals) inside [lo, hi], lo < hi.
 * With `integer` (an axis of counts such as epochs) the step is at least 1, so every tick is a
 * whole number, and the first whole number of the range is a tick too when it is not a multiple of
 * the step and lies at least half a step before the first multiple (ticks 1, 5, 10 for 1 … 10).
 */
export function axisTicks(lo: number, hi: number, count: number, integer = false): { values: number[]; step: number } {
  const step = integer ? Math.max(1, niceStep(hi - lo, count)) : niceStep(hi - lo, count);
  const values: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  if (integer) {
    const first = Math.ceil(lo - 1e-9);
    if (first <= hi && (values.length === 0 || values[0]! - first >= step / 2)) values.unshift(first);
  }
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

/**
 * The range an axis shows for `values` (non-finite ones skipped): their [min, max]; [0, 1] when
 * none is finite; around a single value v (one finite point, or all equal) v ± 10 % of |v|
 * (v ± 0.5 for v = 0, or with `integer`, an axis of whole numbers). Kept inside `bounds` (the
 * interval the values can take, e.g. [0, Infinity] for distances) when that leaves a span.
 */
export function dataRange(values: Iterable<number>, options: { readonly integer?: boolean; readonly bounds?: readonly [number, number] } = {}): [number, number] {
  const range = finiteRange(values);
  let [lo, hi] = range ?? [0, 1];
  if (!(hi > lo)) {
    const pad = options.integer || lo === 0 ? 0.5 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const [low, high] = options.bounds ?? [-Infinity, Infinity];
  const [a, b] = [Math.max(lo, low), Math.min(hi, high)];
  return b > a ? [a, b] : [lo, hi];
}

/**
 * Lays out a chart.
 *
 * @throws ShapeError when a series' `x` and `y` differ in length; InputError for a size below
 *   240 × 160, or a y range or y bounds that are not `[lo, hi]` with lo < hi.
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
  if (options.yBounds !== undefined && !(Array.isArray(options.yBounds) && options.yBounds.length === 2 && options.yBounds.every((v) => typeof v === 'number' && !Number.isNaN(v)) && options.yBounds[0] < options.yBounds[1])) {
    throw new InputError(op, 'options.yBounds', `expected two numbers [lo, hi] with lo < hi (either may be infinite), got ${String(options.yBounds)}`);
  }
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new ShapeError(op, `series '${s.label}'`, `${s.x.length} x values but ${s.y.length} y values`);
  }
  const xIntegers = options.xIntegers === true;
  const xRange = dataRange(series.flatMap((s) => s.x.filter((_, i) => Number.isFinite(s.y[i]!))), { integer: xIntegers });
  let yRange: [number, number];
  if (options.yRange !== undefined) {
    yRange = [options.yRange[0], options.yRange[1]];
  } else {
    const bounds = options.yBounds ?? [-Infinity, Infinity];
    const [lo, hi] = dataRange(series.flatMap((s) => s.y.filter((_, i) => Number.isFinite(s.x[i]!))), { bounds });
    const step = niceStep(hi - lo, 5);
    // widened outwards to whole steps, but not out of the bounds
    yRange = [Math.max(bounds[0], Math.floor(lo / step + 1e-9) * step), Math.min(bounds[1], Math.ceil(hi / step - 1e-9) * step)];
  }
  const yTickInfo = axisTicks(yRange[0], yRange[1], 5);
  const xTickInfo = axisTicks(xRange[0], xRange[1], Math.max(2, Math.min(8, Math.floor(width / 90))), xIntegers);
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
