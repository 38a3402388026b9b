/**
 * Drawing for the train panel, without the DOM's types: a line chart of validation curves over
 * epochs (integer epoch ticks, a legend) on anything shaped like a canvas 2-D context
 * ({@link Context2D}), and the overlay of a prediction on its slice as RGBA pixels, in the palette
 * of the CLI's overlays (`cli/render/colour.ts`): ground truth outline blue `#0072B2`, prediction
 * vermillion `#D55E00` (filled translucent, outlined), outline pixels of both bluish green
 * `#009E73` (Okabe–Ito, colour-blind safe).
 */
import { InputError } from '../../browser.js';
import { axisTicks } from '../../cli/render/chart-layout.js';
import { OVERLAY_COLOURS, PREDICTION_FILL_ALPHA, paintOverlay } from '../../cli/render/colour.js';
import type { Rgb } from '../../cli/render/raster.js';

/** An RGB colour, components 0 … 255 (the CLI pictures' type). */
export type { Rgb } from '../../cli/render/raster.js';

/** The overlay colours: the CLI's (`OVERLAY_COLOURS`). */
export const OVERLAY_PALETTE = OVERLAY_COLOURS;

/** Opacity of the prediction's fill in an overlay (the CLI's). */
export { PREDICTION_FILL_ALPHA };

/** `#rrggbb` of a colour. */
export function hex(rgb: Rgb): string {
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The overlay of `pred` on `image` as RGBA pixels of `(width·scale) × (height·scale)`, row-major:
 * the image in gray (clamped to [0, 1]; NaN black), the prediction (label > 0) filled translucent vermillion,
 * the contours (one output pixel wide, inside the region: a pixel of the mask with a 4-neighbour
 * outside it or outside the picture) of the ground truth in blue and of the prediction in
 * vermillion, and bluish green where both contours fall, all opaque.
 *
 * @param image, label, pred `[height, width]` row-major: gray values, ground-truth and predicted class indices.
 * @throws InputError naming `width`, `height` or `scale` (not a positive integer, scale above 16)
 *   or `image` / `label` / `pred` (not `height·width` values).
 */
export function overlayRgba(image: ArrayLike<number>, label: ArrayLike<number>, pred: ArrayLike<number>, width: number, height: number, scale = 1): Uint8ClampedArray<ArrayBuffer> {
  const op = 'overlayRgba';
  for (const [name, v, max] of [['width', width, 4096], ['height', height, 4096], ['scale', scale, 16]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new InputError(op, name, `expected an integer in 1 … ${max}, got ${String(v)}`);
  }
  const hw = width * height;
  for (const [name, a] of [['image', image], ['label', label], ['pred', pred]] as const) {
    if (a === null || typeof a !== 'object' || a.length !== hw) throw new InputError(op, name, `expected ${height}×${width} = ${hw} values, got ${a === null || typeof a !== 'object' ? String(a) : `${a.length}`}`);
  }
  const outW = width * scale;
  const out = new Uint8ClampedArray(outW * height * scale * 4);
  paintOverlay(image, height, width, pred, label, scale, (x, y, rgb) => {
    const o = 4 * (y * outW + x);
    out[o] = rgb[0];
    out[o + 1] = rgb[1];
    out[o + 2] = rgb[2];
    out[o + 3] = 255;
  });
  return out;
}

/**
 * Integer ticks of an epoch axis 1 … `last`: multiples of a step of 1, 2 or 5 × 10^k (at most
 * about `count` intervals, the step at least 1), with epoch 1 in front when the first multiple is
 * at least half a step after it (1, 2, 4 … 12 for 12 epochs; 1, 5, 10 … for 20).
 *
 * @throws InputError (`last`) unless a positive integer; (`count`) unless a positive integer.
 */
export function epochTicks(last: number, count = 6): number[] {
  if (!Number.isInteger(last) || last < 1) throw new InputError('epochTicks', 'last', `expected a positive integer, got ${String(last)}`);
  if (!Number.isInteger(count) || count < 1) throw new InputError('epochTicks', 'count', `expected a positive integer, got ${String(count)}`);
  if (last === 1) return [1];
  // the CLI's integer axis: a nice step of at least 1, and epoch 1 in front when the first multiple is far from it
  return axisTicks(1, last, count, true).values;
}

/**
 * What the chart needs of a canvas 2-D context (a `CanvasRenderingContext2D` is one), so that it
 * draws on a test's recorder as on a page's canvas.
 */
export interface Context2D {
  fillStyle: string | object;
  strokeStyle: string | object;
  lineWidth: number;
  font: string;
  textAlign: 'center' | 'end' | 'left' | 'right' | 'start';
  textBaseline: 'alphabetic' | 'bottom' | 'hanging' | 'ideographic' | 'middle' | 'top';
  save(): void;
  restore(): void;
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void;
  translate(x: number, y: number): void;
  rotate(angle: number): void;
  clearRect(x: number, y: number, w: number, h: number): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, radius: number, startAngle: number, endAngle: number): void;
  stroke(): void;
  fill(): void;
  setLineDash(segments: number[]): void;
  fillText(text: string, x: number, y: number): void;
  measureText(text: string): { readonly width: number };
}

/** One curve: a value per epoch (1-based); a non-finite value leaves a gap. */
export interface Curve {
  readonly label: string;
  /** A CSS colour. */
  readonly color: string;
  /** Dashed (e.g. the lesion-slice DSC), else solid. */
  readonly dashed?: boolean;
  readonly points: readonly { readonly epoch: number; readonly value: number }[];
}

/** A chart of curves over epochs 1 … `epochs`, values in `yRange`. */
export interface CurveChart {
  readonly title: string;
  readonly yLabel: string;
  /** The epochs of the run (the x axis runs 1 … epochs, at least 2 wide). */
  readonly epochs: number;
  /** Default [0, 1]. */
  readonly yRange?: readonly [number, number];
  readonly curves: readonly Curve[];
}

/** Margins of the plot inside the chart, in CSS pixels. */
const MARGIN = { left: 48, right: 12, top: 26, bottom: 40 } as const;
const LEGEND_ROW = 16;
const INK = '#222';
const GRID = '#ddd';

/**
 * Draws `chart` into the `width` × `height` (CSS pixels) area of `ctx` from (0, 0): title, axes
 * with integer epoch ticks ({@link epochTicks}) and y ticks every 0.2 of [0, 1] (or five intervals
 * of `yRange`), light grid lines, each curve as a polyline through its finite points (a lone point
 * as a dot), and a legend at the top right of the plot, one row per curve.
 *
 * @returns the plot area in CSS pixels.
 * @throws InputError (`width`, `height`) below 200 × 120, (`chart.epochs`) unless a positive
 *   integer, (`chart.yRange`) unless [lo, hi] with lo < hi.
 */
export function drawCurves(ctx: Context2D, width: number, height: number, chart: CurveChart): { left: number; top: number; right: number; bottom: number } {
  const op = 'drawCurves';
  if (!(width >= 200) || !(height >= 120)) throw new InputError(op, 'width, height', `expected at least 200 × 120, got ${width} × ${height}`);
  if (!Number.isInteger(chart.epochs) || chart.epochs < 1) throw new InputError(op, 'chart.epochs', `expected a positive integer, got ${String(chart.epochs)}`);
  const [lo, hi] = chart.yRange ?? [0, 1];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new InputError(op, 'chart.yRange', `expected [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
  const plot = { left: MARGIN.left, top: MARGIN.top, right: width - MARGIN.right, bottom: height - MARGIN.bottom };
  const lastEpoch = Math.max(2, chart.epochs);
  const px = (epoch: number) => plot.left + ((epoch - 1) / (lastEpoch - 1)) * (plot.right - plot.left);
  const py = (v: number) => plot.bottom - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (plot.bottom - plot.top);

  ctx.save();
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.font = '12px sans-serif';
  ctx.fillStyle = INK;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(chart.title, plot.left, 6);

  // grid and ticks
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  const yTicks = Array.from({ length: 6 }, (_, i) => lo + ((hi - lo) * i) / 5);
  const decimals = Math.max(0, -Math.floor(Math.log10((hi - lo) / 5) + 1e-9));
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of yTicks) {
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(plot.left, py(v));
    ctx.lineTo(plot.right, py(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(decimals), plot.left - 6, py(v));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const e of epochTicks(chart.epochs)) {
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(px(e), plot.top);
    ctx.lineTo(px(e), plot.bottom);
    ctx.stroke();
    ctx.fillText(String(e), px(e), plot.bottom + 5);
  }
  ctx.strokeStyle = INK;
  ctx.beginPath();
  ctx.moveTo(plot.left, plot.top);
  ctx.lineTo(plot.left, plot.bottom);
  ctx.lineTo(plot.right, plot.bottom);
  ctx.stroke();
  ctx.fillText('epoch', (plot.left + plot.right) / 2, plot.bottom + 22);
  ctx.save();
  ctx.translate(12, (plot.top + plot.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(chart.yLabel, 0, 0);
  ctx.restore();

  // curves: runs of consecutive finite points
  ctx.lineWidth = 2;
  for (const curve of chart.curves) {
    ctx.strokeStyle = curve.color;
    ctx.fillStyle = curve.color;
    ctx.setLineDash(curve.dashed ? [6, 4] : []);
    const points = [...curve.points].sort((a, b) => a.epoch - b.epoch);
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length === 1) {
        ctx.beginPath();
        ctx.arc(run[0]![0], run[0]![1], 2.5, 0, 2 * Math.PI);
        ctx.fill();
      } else if (run.length > 1) {
        ctx.beginPath();
        run.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
        ctx.stroke();
      }
      run = [];
    };
    for (const p of points) {
      if (Number.isFinite(p.value)) run.push([px(p.epoch), py(p.value)]);
      else flush();
    }
    flush();
  }

  // legend
  ctx.setLineDash([]);
  ctx.font = '11px sans-serif';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const widest = Math.max(0, ...chart.curves.map((c) => ctx.measureText(c.label).width));
  const lx = plot.right - widest - 34;
  chart.curves.forEach((c, i) => {
    const y = plot.top + 8 + i * LEGEND_ROW;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
    ctx.fillRect(lx - 4, y - LEGEND_ROW / 2, widest + 38, LEGEND_ROW);
    ctx.strokeStyle = c.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(c.dashed ? [6, 4] : []);
    ctx.beginPath();
    ctx.moveTo(lx, y);
    ctx.lineTo(lx + 24, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = INK;
    ctx.fillText(c.label, lx + 30, y);
  });
  ctx.restore();
  return plot;
}
