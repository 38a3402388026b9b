/**
 * Pictures of single slices: a prediction over its image with both contours and a legend (the
 * paper's Fig. 1 and 4), class-index label maps (the output of `predict`), and signed distance map
 * previews with a colour bar. Colours are colour-blind safe (see `colour.ts`): ground truth blue
 * `#0072B2`, prediction vermillion `#D55E00`, agreeing outlines bluish green `#009E73` (Okabe–Ito);
 * distance maps blue `#2166AC` (φ < 0, inside) – white (0, the boundary) – orange `#B35806` (φ > 0,
 * outside).
 */
import { InputError, ShapeError } from '../../core/errors.js';
import { checkOptionKeys } from '../../core/options.js';
import { encodePng } from '../../data/png.js';
import { OVERLAY_COLOURS, PREDICTION_FILL_ALPHA, divergingColour, drawColourBar, formatDistance, mix, paintOverlay } from './colour.js';
import { textWidth } from './font.js';
import { Canvas, type Rgb } from './raster.js';

/** Options of {@link overlayPng}. */
export interface OverlayOptions {
  /** Integer upscaling factor (nearest neighbour), default 4. */
  readonly scale?: number;
}

/** Legend strip of an overlay: background, text, paddings, row height, swatch size and gaps, in pixels. */
const LEGEND_BACKGROUND: Rgb = [32, 32, 32];
const LEGEND_INK: Rgb = [235, 235, 235];
/** The gray a legend swatch shows the prediction's fill over. */
const SWATCH_GRAY: Rgb = [128, 128, 128];
const LEGEND_PAD_X = 6;
const LEGEND_PAD_Y = 4;
const LEGEND_ROW = 16;
const SWATCH = 10;
const SWATCH_GAP = 4;
const ITEM_GAP = 12;

function checkPlane(op: string, name: string, length: number, height: number, width: number): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new InputError(op, 'height, width', `expected positive integers, got ${height}×${width}`);
  }
  if (length !== height * width) throw new ShapeError(op, name, `expected ${height}×${width} = ${height * width} values, got ${length}`);
}

function readScale(op: string, scale: unknown): number {
  if (scale === undefined) return 4;
  if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 1 || scale > 64) throw new InputError(op, 'options.scale', `expected an integer in [1, 64], got ${String(scale)}`);
  return scale;
}

/** One entry of an overlay's legend: a swatch (none for a text-only line) and its label. */
interface LegendItem {
  readonly label: string;
  /** The outline colour; with `fill`, the swatch's middle shows the fill over gray. */
  readonly swatch?: Rgb;
  readonly fill?: boolean;
  /** Starts a row of its own. */
  readonly ownRow?: boolean;
}

/** Where the items of a legend go: `x` and row index per item, and the number of rows. */
function layoutLegend(items: readonly LegendItem[], widths: readonly number[], canvasWidth: number): { x: number[]; row: number[]; rows: number } {
  const x: number[] = [];
  const row: number[] = [];
  let cx = LEGEND_PAD_X;
  let r = 0;
  items.forEach((item, i) => {
    const wraps = cx > LEGEND_PAD_X && (item.ownRow === true || cx + widths[i]! > canvasWidth - LEGEND_PAD_X);
    if (wraps) {
      r++;
      cx = LEGEND_PAD_X;
    }
    x.push(cx);
    row.push(r);
    cx += widths[i]! + ITEM_GAP;
  });
  return { x, row, rows: items.length === 0 ? 0 : r + 1 };
}

/**
 * The image in gray, the prediction filled in translucent vermillion with a vermillion contour, the
 * ground truth's contour in blue, and contour pixels of both in bluish green, upscaled by `scale`;
 * below it a legend strip (dark gray) with a swatch and a label for each: "ground truth",
 * "prediction", "both". Foreground is any label > 0: classes are not told apart, and when a label
 * ≥ 2 occurs the legend adds the line "foreground: classes 1-M together" (M the largest label).
 *
 * Size: the picture is `(W·scale) × (H·scale)` at the top left. The legend's items run left to right
 * from x = 6, 12 px apart (each a 10 px swatch, 4 px, then its label in the 5 × 7 font), and wrap
 * to a new 16 px row where the next would come closer than 6 px to the right edge; the classes line
 * has a row of its own. The PNG is `max(W·scale, widest item + 12)` wide and
 * `H·scale + 8 + 16·rows` high: one row at 256 px (a 64 × 64 slice at the default scale 4, giving
 * 256 × 280), two at 192 px.
 *
 * @param image `[H, W]` values in [0, 1] (clamped).
 * @param pred, gt `[H, W]` class indices.
 * @returns an 8-bit RGB PNG.
 * @throws ShapeError when an array does not hold H·W values; InputError for a bad size, scale or option.
 */
export function overlayPng(image: Float32Array, height: number, width: number, pred: Uint8Array, gt: Uint8Array, options: OverlayOptions = {}): Uint8Array {
  const op = 'overlayPng';
  checkPlane(op, 'image', image.length, height, width);
  checkPlane(op, 'pred', pred.length, height, width);
  checkPlane(op, 'gt', gt.length, height, width);
  checkOptionKeys(op, options, ['scale']);
  const scale = readScale(op, options.scale);
  const outW = width * scale;
  const outH = height * scale;

  let largest = 0;
  for (const v of pred) if (v > largest) largest = v;
  for (const v of gt) if (v > largest) largest = v;
  const items: LegendItem[] = [
    { label: 'ground truth', swatch: OVERLAY_COLOURS.groundTruth },
    { label: 'prediction', swatch: OVERLAY_COLOURS.prediction, fill: true },
    { label: 'both', swatch: OVERLAY_COLOURS.both },
  ];
  if (largest >= 2) items.push({ label: `foreground: classes 1-${largest} together`, ownRow: true });
  const widths = items.map((item) => (item.swatch ? SWATCH + SWATCH_GAP : 0) + textWidth(item.label));
  const canvasW = Math.max(outW, Math.max(...widths) + 2 * LEGEND_PAD_X);
  const layout = layoutLegend(items, widths, canvasW);
  const canvas = new Canvas(canvasW, outH + 2 * LEGEND_PAD_Y + LEGEND_ROW * layout.rows, LEGEND_BACKGROUND);

  paintOverlay(image, height, width, pred, gt, scale, (x, y, rgb) => canvas.data.set(rgb, 3 * (y * canvasW + x)));
  items.forEach((item, i) => {
    const top = outH + LEGEND_PAD_Y + LEGEND_ROW * layout.row[i]!;
    let x = layout.x[i]!;
    if (item.swatch) {
      const y0 = top + (LEGEND_ROW - SWATCH) / 2;
      canvas.fillRect(x, y0, x + SWATCH, y0 + SWATCH, item.swatch);
      if (item.fill) canvas.fillRect(x + 2, y0 + 2, x + SWATCH - 2, y0 + SWATCH - 2, mix(SWATCH_GRAY, item.swatch, PREDICTION_FILL_ALPHA));
      x += SWATCH + SWATCH_GAP;
    }
    canvas.text(item.label, x, top + 4, LEGEND_INK);
  });
  return canvas.toPng();
}

/**
 * Class indices as an 8-bit grayscale PNG, values as they are (0, 1, …), the format `predict`
 * writes and `loadDataset` reads back with label format `indices`.
 *
 * @throws ShapeError when `labels` does not hold H·W values.
 */
export function labelsPng(labels: Uint8Array, height: number, width: number): Uint8Array {
  checkPlane('labelsPng', 'labels', labels.length, height, width);
  return encodePng({ width, height, channels: 1, bitDepth: 8, data: Uint8Array.from(labels) });
}

/** Options of {@link mapPreviewPng}. */
export interface MapPreviewOptions {
  /** Integer upscaling factor of the map, default 1. */
  readonly scale?: number;
  /** A title line above the map (e.g. the class and the convention); none by default. */
  readonly title?: string;
  /** Units of φ, written after the colour bar's end values (e.g. `mm`, `voxels`); none by default. */
  readonly units?: string;
  /** The text shown in place of the colour bar when the map is 0 everywhere; default `φ = 0 everywhere`. */
  readonly zeroNote?: string;
}

/** Distance-map preview layout, in pixels: margin, title block, gap above the bar, bar height, text rows. */
const PREVIEW_PAD = 8;
const TITLE_BLOCK = 14;
const BAR_GAP = 8;
const BAR_HEIGHT = 10;
const TEXT_ROW = 12;
/** Height of the strip under the map: bar, 3 px, two text rows of 12 px (the last 9 px tall). */
const BAR_STRIP = BAR_HEIGHT + 3 + TEXT_ROW + 9;
/** Narrowest colour bar (odd, so that 0 has a column of its own). */
const MIN_BAR = 161;
const PREVIEW_INK: Rgb = [34, 34, 34];
const FRAME: Rgb = [160, 160, 160];
const ZERO_NOTE = 'φ = 0 everywhere';

/**
 * The geometry of a {@link mapPreviewPng} picture: canvas size, where the map and the colour bar go
 * (the bar's middle column, at `barX + (barWidth − 1) / 2`, is φ = 0).
 */
export interface MapPreviewLayout {
  readonly width: number;
  readonly height: number;
  readonly mapX: number;
  readonly mapY: number;
  readonly barX: number;
  readonly barY: number;
  readonly barWidth: number;
  readonly barHeight: number;
}

function previewLayout(mapW: number, mapH: number, hasTitle: boolean, textWidths: readonly number[]): MapPreviewLayout {
  const content = Math.max(mapW, MIN_BAR, ...textWidths);
  const mapY = PREVIEW_PAD + (hasTitle ? TITLE_BLOCK : 0);
  const barY = mapY + mapH + BAR_GAP;
  return {
    width: content + 2 * PREVIEW_PAD,
    height: barY + BAR_STRIP + PREVIEW_PAD,
    mapX: PREVIEW_PAD,
    mapY,
    barX: PREVIEW_PAD,
    barY,
    barWidth: content % 2 === 1 ? content : content - 1,
    barHeight: BAR_HEIGHT,
  };
}

/** The extents of a map's sides: the largest |φ| of its finite negative and of its finite positive values. */
function extents(map: Float32Array): { inside: number; outside: number; allZero: boolean } {
  let inside = 0;
  let outside = 0;
  let allZero = true;
  for (const v of map) {
    if (v !== 0) allZero = false;
    if (v < 0 && v > -Infinity) inside = Math.max(inside, -v);
    if (v > 0 && v < Infinity) outside = Math.max(outside, v);
  }
  return { inside, outside, allZero };
}

/** The texts of a preview: the colour bar's end labels (empty for a side without values), and the note of a map without a colour scale. */
function previewTexts(map: Float32Array, options: MapPreviewOptions): { lo: string; hi: string; note?: string } {
  const { inside, outside, allZero } = extents(map);
  if (inside === 0 && outside === 0) return { lo: '', hi: '', note: allZero ? (options.zeroNote ?? ZERO_NOTE) : 'no finite value other than 0' };
  const unit = options.units ? ` ${options.units}` : '';
  return { lo: inside > 0 ? `${formatDistance(-inside)}${unit}` : '', hi: outside > 0 ? `${formatDistance(outside)}${unit}` : '' };
}

/**
 * Where the parts of {@link mapPreviewPng}'s picture go, for the same arguments: content width
 * `max(W·scale, 161, title, colour-bar labels, note)` plus 8 px margins each side; from the top an
 * 8 px margin, the title (14 px, when given), the map (`(W·scale) × (H·scale)`, framed in gray
 * just outside), 8 px, the colour bar (10 px high, as wide as the content, made odd), 3 px, two
 * 12 px text rows (the second 9 px tall) and an 8 px margin: `H·scale + 58` (+ 14 with a title) high.
 *
 * @throws as {@link mapPreviewPng}.
 */
export function mapPreviewLayout(map: Float32Array, height: number, width: number, options: MapPreviewOptions = {}): MapPreviewLayout {
  const op = 'mapPreviewPng';
  checkPlane(op, 'map', map.length, height, width);
  checkOptionKeys(op, options, ['scale', 'title', 'units', 'zeroNote']);
  for (const key of ['title', 'units', 'zeroNote'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') throw new InputError(op, `options.${key}`, `expected a string, got ${typeof options[key]}`);
  }
  const scale = options.scale === undefined ? 1 : readScale(op, options.scale);
  const texts = previewTexts(map, options);
  const labelWidth = Math.max(textWidth(texts.lo), textWidth(texts.hi));
  const widths = [
    textWidth(options.title ?? ''),
    2 * (labelWidth + 6) + textWidth('boundary') + 1,
    texts.note === undefined ? 0 : textWidth(texts.note),
  ];
  return previewLayout(width * scale, height * scale, options.title !== undefined, widths);
}

/**
 * A signed distance map in diverging colours with a colour bar: 0 white, negative (inside) towards
 * blue, positive (outside) towards orange, each side scaled by its own largest |φ| (inside values
 * are small next to outside ones in unbalanced tasks), intensity ∝ √(|φ| / max); non-finite values
 * show black. Under the map the colour bar runs from the most negative value (left end, full blue)
 * through 0 (its middle column, white) to the largest (right end, full orange), each half on its
 * own side's scale, labelled under it with those two values (plus `units`) and 0, and on the row
 * below with "inside", "boundary" and "outside". A map that is 0 everywhere (an empty or full mask)
 * has no colour scale: its white map is framed, `φ = 0 everywhere` is written in gray in its middle
 * (when it fits) and `zeroNote` in place of the bar.
 * The layout is {@link mapPreviewLayout}'s.
 *
 * @returns an 8-bit RGB PNG.
 * @throws ShapeError when `map` does not hold H·W values; InputError for a bad size, scale or option.
 */
export function mapPreviewPng(map: Float32Array, height: number, width: number, options: MapPreviewOptions = {}): Uint8Array {
  const layout = mapPreviewLayout(map, height, width, options);
  const scale = options.scale ?? 1;
  const { inside, outside, allZero } = extents(map);
  const texts = previewTexts(map, options);
  const canvas = new Canvas(layout.width, layout.height);
  const mapW = width * scale;
  const mapH = height * scale;
  canvas.fillRect(layout.mapX - 1, layout.mapY - 1, layout.mapX + mapW + 1, layout.mapY + mapH + 1, FRAME);
  for (let y = 0; y < mapH; y++) {
    for (let x = 0; x < mapW; x++) {
      const v = map[Math.floor(y / scale) * width + Math.floor(x / scale)]!;
      canvas.data.set(divergingColour(v, inside, outside), 3 * ((layout.mapY + y) * layout.width + layout.mapX + x));
    }
  }
  if (options.title !== undefined) canvas.text(options.title, PREVIEW_PAD, PREVIEW_PAD, PREVIEW_INK);
  const { barX, barY, barWidth } = layout;
  if (texts.note !== undefined) {
    canvas.text(texts.note, barX, barY + 1, PREVIEW_INK);
    const fits = textWidth(ZERO_NOTE) + 8 <= mapW && mapH >= 15;
    if (allZero && fits) canvas.text(ZERO_NOTE, layout.mapX + Math.floor((mapW - textWidth(ZERO_NOTE)) / 2), layout.mapY + Math.floor((mapH - 7) / 2), FRAME);
    return canvas.toPng();
  }
  canvas.fillRect(barX - 1, barY - 1, barX + barWidth + 1, barY + BAR_HEIGHT + 1, FRAME);
  drawColourBar(canvas, barX, barY, barWidth, BAR_HEIGHT, inside, outside);
  const middle = barX + (barWidth - 1) / 2;
  canvas.fillRect(middle, barY + BAR_HEIGHT, middle + 1, barY + BAR_HEIGHT + 2, PREVIEW_INK);
  const row1 = barY + BAR_HEIGHT + 3;
  const row2 = row1 + TEXT_ROW;
  const centred = (text: string, y: number) => canvas.text(text, middle + 1 - Math.ceil(textWidth(text) / 2), y, PREVIEW_INK);
  const right = (text: string, y: number) => canvas.text(text, barX + barWidth - textWidth(text), y, PREVIEW_INK);
  canvas.text(texts.lo, barX, row1, PREVIEW_INK);
  centred('0', row1);
  right(texts.hi, row1);
  canvas.text('inside', barX, row2, PREVIEW_INK);
  centred('boundary', row2);
  right('outside', row2);
  return canvas.toPng();
}
