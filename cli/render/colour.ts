/**
 * Colours of the slice pictures, chosen to stay apart under deuteranopia and protanopia (checked by
 * simulating both, Machado et al. 2009, severity 1): the overlay palette is taken from Okabe & Ito's
 * colour-blind-safe set, and the distance map is a blue–white–orange diverging map (the ends of
 * ColorBrewer's RdBu blue and PuOr orange), whose two sides differ along the blue–yellow axis that
 * red–green colour blindness keeps. Also the colour bar of a distance map.
 */
import { type Canvas, type Rgb } from './raster.js';

/** Okabe–Ito colours used by the overlays. */
export const OKABE_ITO = {
  blue: [0x00, 0x72, 0xb2],
  vermillion: [0xd5, 0x5e, 0x00],
  bluishGreen: [0x00, 0x9e, 0x73],
} as const satisfies Record<string, Rgb>;

/**
 * What an overlay draws: the ground truth's outline in blue, the prediction filled translucent and
 * outlined in vermillion, and the outline pixels where both agree in bluish green. Blue and
 * vermillion differ in hue for every viewer and have a contrast ratio of 2.5–5 against both bright
 * (lesion) and dark (background) gray; against mid gray they stand out by hue alone. Bluish green
 * differs from both under deuteranopia and protanopia (yellow, the other Okabe–Ito choice for
 * agreement, all but vanishes on bright lesions).
 */
export const OVERLAY_COLOURS = {
  groundTruth: OKABE_ITO.blue,
  prediction: OKABE_ITO.vermillion,
  both: OKABE_ITO.bluishGreen,
} as const satisfies Record<string, Rgb>;

/** Opacity of the prediction's fill in an overlay. */
export const PREDICTION_FILL_ALPHA = 0.3;

/**
 * Whether upscaled pixel (x, y) lies on the contour of `mask` (label > 0): inside, with a 4-neighbour
 * outside the mask or outside the image. Contours are one output pixel wide, drawn inside the region.
 */
function onContour(mask: ArrayLike<number>, width: number, height: number, scale: number, x: number, y: number): boolean {
  const at = (xx: number, yy: number) => {
    if (xx < 0 || yy < 0 || xx >= width * scale || yy >= height * scale) return false;
    return mask[Math.floor(yy / scale) * width + Math.floor(xx / scale)]! > 0;
  };
  return at(x, y) && !(at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1));
}

/**
 * The colours of an overlay of `pred` on `image` (`[height, width]` row-major; `gt` and `pred` class
 * indices) upscaled by `scale`: `put(x, y, rgb)` for every pixel of the (width·scale) ×
 * (height·scale) picture, row by row. The image in gray (clamped to [0, 1]; NaN black), the
 * prediction (label > 0) filled translucent in its colour, then the contours (`onContour`) of the
 * ground truth and of the prediction, `both` where they coincide. The CLI's overlay PNGs and the
 * playground's overlays both paint with it. Inputs are not checked (the callers do).
 */
export function paintOverlay(image: ArrayLike<number>, height: number, width: number, pred: ArrayLike<number>, gt: ArrayLike<number>, scale: number, put: (x: number, y: number, rgb: Rgb) => void): void {
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const p = Math.floor(y / scale) * width + Math.floor(x / scale);
      const v = Math.min(1, Math.max(0, Number(image[p])));
      const gray = Number.isNaN(v) ? 0 : Math.round(255 * v);
      let rgb: Rgb = [gray, gray, gray];
      if (pred[p]! > 0) rgb = mix(rgb, OVERLAY_COLOURS.prediction, PREDICTION_FILL_ALPHA);
      const inPred = onContour(pred, width, height, scale, x, y);
      const inGt = onContour(gt, width, height, scale, x, y);
      if (inPred && inGt) rgb = OVERLAY_COLOURS.both;
      else if (inGt) rgb = OVERLAY_COLOURS.groundTruth;
      else if (inPred) rgb = OVERLAY_COLOURS.prediction;
      put(x, y, rgb);
    }
  }
}

/** Ends and centre of the distance-map colours: φ < 0 (inside) blue, 0 white, φ > 0 (outside) orange. */
export const DIVERGING = {
  negative: [0x21, 0x66, 0xac],
  zero: [255, 255, 255],
  positive: [0xb3, 0x58, 0x06],
} as const satisfies Record<string, Rgb>;

/** `color` blended over `under` with weight `alpha` in [0, 1], rounded to whole components. */
export function mix(under: Rgb, color: Rgb, alpha: number): Rgb {
  const at = (c: 0 | 1 | 2) => Math.round(under[c] + (color[c] - under[c]) * alpha);
  return [at(0), at(1), at(2)];
}

/**
 * The colour of value `v` of a signed map whose negative side reaches `-inside` and positive side
 * `outside` (both ≥ 0): white at 0, the side's end colour at its extent, intensity ∝ √(|v| / extent)
 * so that values near the boundary stand out; values beyond the extent take the end colour, and a side
 * with extent 0 stays white. Non-finite values are black.
 */
export function divergingColour(v: number, inside: number, outside: number): Rgb {
  if (!Number.isFinite(v)) return [0, 0, 0];
  const extent = v < 0 ? inside : outside;
  if (v === 0 || extent === 0) return DIVERGING.zero;
  return mix(DIVERGING.zero, v < 0 ? DIVERGING.negative : DIVERGING.positive, Math.sqrt(Math.min(1, Math.abs(v) / extent)));
}

/**
 * Draws the colour bar of {@link divergingColour} with extents `inside` and `outside` into
 * `[x, x + width) × [y, y + height)`: the left end column is the colour of `-inside`, the right end
 * column that of `outside`, and the middle column (at `x + (width − 1) / 2`; `width` must be odd)
 * that of 0. Each half is scaled by its own extent, as the map is. `width` is at least 3.
 */
export function drawColourBar(canvas: Canvas, x: number, y: number, width: number, height: number, inside: number, outside: number): void {
  for (let i = 0; i < width; i++) canvas.fillRect(x + i, y, x + i + 1, y + height, colourBarColour(i, width, inside, outside));
}

/**
 * The colour of column `i` of a colour bar `width` columns wide (odd, at least 3) for extents
 * `inside` and `outside` (see {@link drawColourBar}): `-inside` at 0, 0 in the middle, `outside` at
 * the right end, each half scaled by its own extent.
 */
export function colourBarColour(i: number, width: number, inside: number, outside: number): Rgb {
  const half = (width - 1) / 2;
  const f = (i - half) / half; // -1 … 1
  return divergingColour(f < 0 ? f * inside : f * outside, inside, outside);
}

/** A distance for a colour-bar label: 3 significant digits, no exponent for everyday sizes. */
export function formatDistance(v: number): string {
  if (v === 0) return '0';
  return String(Number(v.toPrecision(3)));
}
