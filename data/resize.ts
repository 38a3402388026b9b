/**
 * Resizing 2-D planes: bilinear for images, nearest neighbour for labels. Both map pixel centres
 * (PyTorch's `align_corners=false`): output pixel `i` samples the input at `(i + ½)·n/m − ½`.
 * Neither low-pass filters when shrinking (as PyTorch's `interpolate` without `antialias`).
 */
import { InputError, ShapeError } from '../core/errors.js';

function checkPlane(op: string, length: number, h: number, w: number, outH: number, outW: number): void {
  for (const [name, v] of [['h', h], ['w', w], ['outH', outH], ['outW', outW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(op, name, `expected a positive integer, got ${v}`);
  }
  if (length !== h * w) throw new ShapeError(op, 'src', `${length} values do not fill ${h}×${w}`);
}

/** For each output index: the two input indices and the weight of the second (bilinear). */
function bilinearTaps(n: number, m: number): { lo: Int32Array; hi: Int32Array; t: Float32Array } {
  const lo = new Int32Array(m);
  const hi = new Int32Array(m);
  const t = new Float32Array(m);
  const scale = n / m;
  for (let i = 0; i < m; i++) {
    const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), n - 1);
    lo[i] = Math.floor(x);
    hi[i] = Math.min(lo[i]! + 1, n - 1);
    t[i] = x - lo[i]!;
  }
  return { lo, hi, t };
}

/**
 * Bilinear resize of one row-major `h × w` plane to `outH × outW` (`align_corners=false`; samples
 * outside the input are clamped to its border).
 *
 * @throws InputError for non-positive sizes, ShapeError when `src` does not hold `h·w` values.
 */
export function resizeBilinear(src: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  checkPlane('resizeBilinear', src.length, h, w, outH, outW);
  if (h === outH && w === outW) return Float32Array.from(src);
  const rows = bilinearTaps(h, outH);
  const cols = bilinearTaps(w, outW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const r0 = rows.lo[y]! * w;
    const r1 = rows.hi[y]! * w;
    const ty = rows.t[y]!;
    for (let x = 0; x < outW; x++) {
      const c0 = cols.lo[x]!;
      const c1 = cols.hi[x]!;
      const tx = cols.t[x]!;
      const top = src[r0 + c0]! + (src[r0 + c1]! - src[r0 + c0]!) * tx;
      const bottom = src[r1 + c0]! + (src[r1 + c1]! - src[r1 + c0]!) * tx;
      out[y * outW + x] = top + (bottom - top) * ty;
    }
  }
  return out;
}

/**
 * Nearest-neighbour resize of a row-major `h × w` label plane: output pixel `i` takes input pixel
 * `⌊(i + ½)·n/m⌋` (the input pixel whose cell holds the output pixel's centre; PyTorch's
 * `nearest-exact`). Integer factors therefore replicate (up) or pick a centre-most sample (down).
 *
 * @throws InputError for non-positive sizes, ShapeError when `src` does not hold `h·w` values.
 */
export function resizeNearest(src: Uint8Array, h: number, w: number, outH: number, outW: number): Uint8Array {
  checkPlane('resizeNearest', src.length, h, w, outH, outW);
  if (h === outH && w === outW) return Uint8Array.from(src);
  const pick = (n: number, m: number) => Int32Array.from({ length: m }, (_, i) => Math.min(Math.floor(((i + 0.5) * n) / m), n - 1));
  const rows = pick(h, outH);
  const cols = pick(w, outW);
  const out = new Uint8Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const r = rows[y]! * w;
    for (let x = 0; x < outW; x++) out[y * outW + x] = src[r + cols[x]!]!;
  }
  return out;
}
