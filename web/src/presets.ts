/**
 * The playground's preset shapes: a ground truth G and a prediction S on an N×N grid, pure and
 * deterministic (no randomness: the same name and size give the same masks). Pixel q = (row y,
 * column x) has its centre at (x, y) in pixels, row-major index y·N + x; a pixel is inside a disk
 * when its centre is within the radius (distance ≤ radius).
 */
import { InputError } from '../../browser.js';
import type { PresetName } from './api.js';

/** The presets, in the page's button order. */
export const PRESET_NAMES: readonly PresetName[] = ['disk', 'ring', 'vessel', 'lesions'];

/** The smallest grid side the presets are drawn on (room for every shape). */
export const MIN_PRESET_SIZE = 16;

/** The largest grid side the presets are drawn on. */
export const MAX_PRESET_SIZE = 1024;

/** What {@link presetMasks} returns. */
export interface PresetMasks {
  /** G: N·N values 0/1, row-major. */
  readonly gt: Uint8Array;
  /** S: N·N values 0/1, row-major. */
  readonly pred: Uint8Array;
  /** For `disk` only: the radii of the concentric disks G and S, pixels. */
  readonly radii?: { readonly gt: number; readonly pred: number };
}

/** True for the name of a preset. */
export function isPresetName(name: unknown): name is PresetName {
  return typeof name === 'string' && (PRESET_NAMES as readonly string[]).includes(name);
}

/**
 * The masks of a preset on an N×N grid:
 * - `disk`: G a disk of radius 0.25·N, S a disk of radius 0.3·N, both centred at ((N−1)/2, (N−1)/2)
 *   (`radii` gives both);
 * - `ring`: G an annulus (radii 0.17·N and 0.3·N, centred); S the same annulus moved by
 *   (round(0.05·N), round(0.03·N)) pixels (x, y);
 * - `vessel`: G a thin curved vessel (a sine wave one and a half periods long, the pixels within
 *   1.25 px of the curve: 2–3 px wide); S the same moved down by 2 px;
 * - `lesions`: G five small disks; S misses the first, has the other four moved by 1 px and adds
 *   one false lesion where G has none.
 *
 * @param name one of {@link PRESET_NAMES}.
 * @param size grid side N, an integer in [{@link MIN_PRESET_SIZE}, {@link MAX_PRESET_SIZE}].
 * @throws InputError naming `name` (an unknown preset) or `size`.
 */
export function presetMasks(name: PresetName, size: number): PresetMasks {
  const op = 'presetMasks';
  if (!isPresetName(name)) {
    throw new InputError(op, 'name', `expected one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_PRESET_SIZE || size > MAX_PRESET_SIZE) {
    throw new InputError(op, 'size', `expected an integer in [${MIN_PRESET_SIZE}, ${MAX_PRESET_SIZE}], got ${String(size)}`);
  }
  switch (name) {
    case 'disk':
      return diskPreset(size);
    case 'ring':
      return ringPreset(size);
    case 'vessel':
      return vesselPreset(size);
    case 'lesions':
      return lesionsPreset(size);
  }
}

/** A mask of the pixels whose centre (x, y) satisfies `inside`. */
function rasterize(size: number, inside: (x: number, y: number) => boolean): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = inside(x, y) ? 1 : 0;
  return out;
}

/** `mask` moved by (dx, dy) pixels; what leaves the grid is lost, what enters is 0. */
function shifted(mask: Uint8Array, size: number, dx: number, dy: number): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sx < size && sy >= 0 && sy < size) out[y * size + x] = mask[sy * size + sx]!;
    }
  }
  return out;
}

function union(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let q = 0; q < a.length; q++) out[q] = a[q]! | b[q]!;
  return out;
}

function disk(size: number, cx: number, cy: number, r: number): Uint8Array {
  return rasterize(size, (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r);
}

function diskPreset(size: number): PresetMasks {
  const c = (size - 1) / 2;
  const radii = { gt: 0.25 * size, pred: 0.3 * size };
  return { gt: disk(size, c, c, radii.gt), pred: disk(size, c, c, radii.pred), radii };
}

function ringPreset(size: number): PresetMasks {
  const c = (size - 1) / 2;
  const inner = 0.17 * size;
  const outer = 0.3 * size;
  const gt = rasterize(size, (x, y) => {
    const d2 = (x - c) ** 2 + (y - c) ** 2;
    return d2 > inner * inner && d2 <= outer * outer;
  });
  return { gt, pred: shifted(gt, size, Math.round(0.05 * size), Math.round(0.03 * size)) };
}

/** Half the vessel's width, pixels. */
const VESSEL_HALF_WIDTH = 1.25;

function vesselPreset(size: number): PresetMasks {
  const x0 = 0.12 * size;
  const x1 = 0.88 * size;
  const centre = 0.45 * (size - 1);
  const amplitude = 0.15 * size;
  const curve = (x: number) => centre + amplitude * Math.sin(2 * Math.PI * 1.5 * ((x - x0) / (x1 - x0)));
  // The curve as a polyline of steps of at most 1/8 px along x.
  const steps = Math.ceil((x1 - x0) * 8);
  const points: [number, number][] = [];
  for (let i = 0; i <= steps; i++) {
    const x = x0 + ((x1 - x0) * i) / steps;
    points.push([x, curve(x)]);
  }
  const r2 = VESSEL_HALF_WIDTH * VESSEL_HALF_WIDTH;
  const gt = rasterize(size, (x, y) => {
    if (x < x0 - VESSEL_HALF_WIDTH || x > x1 + VESSEL_HALF_WIDTH) return false;
    for (let i = 1; i < points.length; i++) if (segmentDistance2(x, y, points[i - 1]!, points[i]!) <= r2) return true;
    return false;
  });
  return { gt, pred: shifted(gt, size, 0, 2) };
}

/** Squared distance from (x, y) to the segment a–b. */
function segmentDistance2(x: number, y: number, a: readonly [number, number], b: readonly [number, number]): number {
  const ux = b[0] - a[0];
  const uy = b[1] - a[1];
  const length2 = ux * ux + uy * uy;
  const f = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - a[0]) * ux + (y - a[1]) * uy) / length2));
  return (x - a[0] - f * ux) ** 2 + (y - a[1] - f * uy) ** 2;
}

/** The lesions of G: centre (x, y) and radius as fractions of N, and the move (dx, dy) in S (none: missed). */
const LESIONS: readonly { readonly x: number; readonly y: number; readonly r: number; readonly move?: readonly [number, number] }[] = [
  { x: 0.25, y: 0.25, r: 0.05 },
  { x: 0.7, y: 0.3, r: 0.035, move: [1, 1] },
  { x: 0.3, y: 0.72, r: 0.04, move: [-1, 0] },
  { x: 0.72, y: 0.7, r: 0.06, move: [0, 1] },
  { x: 0.5, y: 0.5, r: 0.03, move: [1, -1] },
];

/** The false lesion of S. */
const FALSE_LESION = { x: 0.15, y: 0.85, r: 0.03 } as const;

/** Lesion radii are at least this many pixels, so that every blob has pixels on small grids. */
const MIN_LESION_RADIUS = 1.5;

function lesionsPreset(size: number): PresetMasks {
  const n1 = size - 1;
  const radius = (r: number) => Math.max(MIN_LESION_RADIUS, r * size);
  let gt: Uint8Array = new Uint8Array(size * size);
  let pred: Uint8Array = new Uint8Array(size * size);
  for (const l of LESIONS) {
    gt = union(gt, disk(size, l.x * n1, l.y * n1, radius(l.r)));
    if (l.move) pred = union(pred, disk(size, l.x * n1 + l.move[0], l.y * n1 + l.move[1], radius(l.r)));
  }
  pred = union(pred, disk(size, FALSE_LESION.x * n1, FALSE_LESION.y * n1, radius(FALSE_LESION.r)));
  return { gt, pred };
}
