/**
 * Pictures of single slices: a prediction over its image with both contours (the paper's Fig. 1 and
 * 4), class-index label maps (the output of `predict`), and signed distance map previews.
 */
import { InputError, ShapeError } from '../../core/errors.js';
import { encodePng } from '../../data/png.js';
import { type Rgb } from './raster.js';

/** Options of {@link overlayPng}. */
export interface OverlayOptions {
  /** Integer upscaling factor (nearest neighbour), default 4. */
  readonly scale?: number;
}

const GREEN: Rgb = [40, 220, 60];
const RED: Rgb = [235, 40, 40];
/** Opacity of the prediction's fill. */
const FILL_ALPHA = 0.3;

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

/**
 * Whether upscaled pixel (x, y) lies on the contour of `mask` (label > 0): inside, with a 4-neighbour
 * outside the mask or outside the image. Contours are one output pixel wide, drawn inside the region.
 */
function onContour(mask: Uint8Array, width: number, height: number, scale: number, x: number, y: number): boolean {
  const at = (xx: number, yy: number) => {
    if (xx < 0 || yy < 0 || xx >= width * scale || yy >= height * scale) return false;
    return mask[Math.floor(yy / scale) * width + Math.floor(xx / scale)]! > 0;
  };
  return at(x, y) && !(at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1));
}

/**
 * The image in gray, the prediction filled in translucent red with a red contour, the ground truth's
 * contour in green on top, upscaled by `scale`. Foreground is any label > 0.
 *
 * @param image `[H, W]` values in [0, 1] (clamped).
 * @param pred, gt `[H, W]` class indices.
 * @returns an 8-bit RGB PNG of `(W·scale) × (H·scale)`.
 * @throws ShapeError when an array does not hold H·W values; InputError for a bad size or scale.
 */
export function overlayPng(image: Float32Array, height: number, width: number, pred: Uint8Array, gt: Uint8Array, options: OverlayOptions = {}): Uint8Array {
  const op = 'overlayPng';
  checkPlane(op, 'image', image.length, height, width);
  checkPlane(op, 'pred', pred.length, height, width);
  checkPlane(op, 'gt', gt.length, height, width);
  const scale = readScale(op, options.scale);
  const outW = width * scale;
  const outH = height * scale;
  const data = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const p = Math.floor(y / scale) * width + Math.floor(x / scale);
      const gray = Math.round(255 * Math.min(1, Math.max(0, image[p]!)));
      let rgb: Rgb = [gray, gray, gray];
      if (pred[p]! > 0) rgb = rgb.map((v, c) => v + (RED[c]! - v) * FILL_ALPHA) as unknown as Rgb;
      if (onContour(pred, width, height, scale, x, y)) rgb = RED;
      if (onContour(gt, width, height, scale, x, y)) rgb = GREEN;
      data.set(rgb.map(Math.round), 3 * (y * outW + x));
    }
  }
  return encodePng({ width: outW, height: outH, channels: 3, bitDepth: 8, data });
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
  /** Integer upscaling factor, default 1. */
  readonly scale?: number;
}

/**
 * A signed distance map in diverging colours: 0 white, negative (inside) towards blue, positive
 * (outside) towards red, each side scaled by its own largest |φ| (inside values are small next to
 * outside ones in unbalanced tasks), intensity ∝ √(|φ| / max). An all-zero map is white; non-finite
 * values show black.
 *
 * @returns an 8-bit RGB PNG of `(W·scale) × (H·scale)`.
 * @throws ShapeError when `map` does not hold H·W values.
 */
export function mapPreviewPng(map: Float32Array, height: number, width: number, options: MapPreviewOptions = {}): Uint8Array {
  const op = 'mapPreviewPng';
  checkPlane(op, 'map', map.length, height, width);
  const scale = options.scale === undefined ? 1 : readScale(op, options.scale);
  let inside = 0;
  let outside = 0;
  for (const v of map) {
    if (v < 0 && v > -Infinity) inside = Math.max(inside, -v);
    if (v > 0 && v < Infinity) outside = Math.max(outside, v);
  }
  const blue: Rgb = [33, 102, 172];
  const red: Rgb = [178, 24, 43];
  const outW = width * scale;
  const outH = height * scale;
  const data = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const v = map[Math.floor(y / scale) * width + Math.floor(x / scale)]!;
      const at = 3 * (y * outW + x);
      if (!Number.isFinite(v)) continue; // black
      const extent = v < 0 ? inside : outside;
      const t = extent === 0 ? 0 : Math.abs(v) / extent;
      const end = v < 0 ? blue : red;
      for (let c = 0; c < 3; c++) data[at + c] = Math.round(255 + (end[c]! - 255) * Math.sqrt(t));
    }
  }
  return encodePng({ width: outW, height: outH, channels: 3, bitDepth: 8, data });
}
