/**
 * A tiny RGB rasteriser for the CLI's pictures: filled rectangles, anti-aliased polylines and dots
 * (coverage from the distance of each pixel centre to the shape), and bitmap text, on an 8-bit RGB
 * canvas that encodes to PNG.
 */
import { encodePng } from '../../data/png.js';
import { ADVANCE, GLYPH_WIDTH, glyphRows } from './font.js';

/** An sRGB colour, components 0–255. */
export type Rgb = readonly [number, number, number];

/** `#rrggbb` → components. */
export function parseHex(hex: string): Rgb {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** A clip rectangle in pixels: `[left, top, right, bottom)`. */
export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** An RGB canvas, row-major, 3 bytes a pixel. Coordinates are in pixels; pixel (x, y) has its centre at (x + ½, y + ½). */
export class Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;

  constructor(width: number, height: number, background: Rgb = [255, 255, 255]) {
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) this.data.set(background, 3 * p);
  }

  /** Mixes `color` into pixel (x, y) with weight `alpha` in [0, 1]; outside pixels are ignored. */
  blend(x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const at = 3 * (y * this.width + x);
    const a = Math.min(1, alpha);
    for (let c = 0; c < 3; c++) this.data[at + c] = Math.round(this.data[at + c]! + (color[c]! - this.data[at + c]!) * a);
  }

  /** Fills the pixels of `[x0, x1) × [y0, y1)` (rounded to whole pixels). */
  fillRect(x0: number, y0: number, x1: number, y1: number, color: Rgb, alpha = 1): void {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(this.height, Math.round(y1)); y++) {
      for (let x = Math.max(0, Math.round(x0)); x < Math.min(this.width, Math.round(x1)); x++) this.blend(x, y, color, alpha);
    }
  }

  /**
   * Strokes a polyline of `width` pixels, anti-aliased: each pixel takes the largest coverage over
   * the segments, so joints are not drawn twice. Only pixels inside `clip` are touched.
   */
  polyline(points: readonly (readonly [number, number])[], color: Rgb, width: number, clip: Rect = this.bounds()): void {
    const half = width / 2;
    const coverage = new Map<number, number>();
    const segments = points.length === 1 ? [[points[0]!, points[0]!]] : points.slice(1).map((p, i) => [points[i]!, p]);
    for (const [[ax, ay], [bx, by]] of segments as [[number, number], [number, number]][]) {
      const x0 = Math.max(clip.left, Math.floor(Math.min(ax, bx) - half - 1));
      const x1 = Math.min(clip.right, Math.ceil(Math.max(ax, bx) + half + 1));
      const y0 = Math.max(clip.top, Math.floor(Math.min(ay, by) - half - 1));
      const y1 = Math.min(clip.bottom, Math.ceil(Math.max(ay, by) + half + 1));
      const dx = bx - ax;
      const dy = by - ay;
      const length2 = dx * dx + dy * dy;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const px = x + 0.5 - ax;
          const py = y + 0.5 - ay;
          const t = length2 === 0 ? 0 : Math.min(1, Math.max(0, (px * dx + py * dy) / length2));
          const distance = Math.hypot(px - t * dx, py - t * dy);
          const c = Math.min(1, Math.max(0, half + 0.5 - distance));
          const key = y * this.width + x;
          if (c > (coverage.get(key) ?? 0)) coverage.set(key, c);
        }
      }
    }
    for (const [key, c] of coverage) this.blend(key % this.width, Math.floor(key / this.width), color, c);
  }

  /** A filled, anti-aliased dot of radius `r`. */
  dot(cx: number, cy: number, r: number, color: Rgb, clip: Rect = this.bounds()): void {
    this.polyline([[cx, cy]], color, 2 * r, clip);
  }

  /**
   * Draws text with the bitmap font, each font pixel a `scale × scale` block. `(x, y)` is the
   * top-left corner; `vertical` turns the text 90° counter-clockwise (reading upwards), `(x, y)` then
   * being the bottom-left corner of the turned text.
   */
  text(text: string, x: number, y: number, color: Rgb, scale = 1, vertical = false): void {
    [...text].forEach((ch, i) => {
      const rows = glyphRows(ch);
      for (let r = 0; r < rows.length; r++) {
        for (let c = 0; c < GLYPH_WIDTH; c++) {
          if (!((rows[r]! >> (GLYPH_WIDTH - 1 - c)) & 1)) continue;
          const u = (i * ADVANCE + c) * scale; // along the text
          const v = r * scale; // across it, from the top of the glyphs
          if (vertical) this.fillRect(x + v, y - u - scale, x + v + scale, y - u, color);
          else this.fillRect(x + u, y + v, x + u + scale, y + v + scale, color);
        }
      }
    });
  }

  /** The whole canvas as a clip rectangle. */
  bounds(): Rect {
    return { left: 0, top: 0, right: this.width, bottom: this.height };
  }

  /** The canvas as an 8-bit RGB PNG. */
  toPng(): Uint8Array {
    return encodePng({ width: this.width, height: this.height, channels: 3, bitDepth: 8, data: this.data });
  }
}
