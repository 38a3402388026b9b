/**
 * A seeded synthetic thin-structure dataset (`vessels`): retina-like 2-D images with curvilinear
 * vessel trees 1–3 px wide, the regime where a boundary (distance) loss has little interior to work
 * with: almost every vessel pixel lies on the boundary.
 *
 * Each image: a circular field of view on black, a smooth background with illumination variation
 * (vignetting, a linear gradient, low-frequency texture), a bright optic disc and a darker fovea.
 * Vessel trees grow from the optic disc: six trunks (two pairs of arcades curving around the
 * fovea, above and below it, and two nasal trunks pointing away from it), each a curve with a
 * smoothly wandering direction whose width tapers along its length and drops at every branching; a
 * branch stops when it is thinner than 1 px or leaves the field of view. The label is every pixel whose centre lies
 * closer to a centre-line segment than half its (interpolated) width, so every vessel pixel is
 * within 1.5 px of a centre line. The image darkens vessels by `CONTRAST` (a fraction of the local
 * background) with a Gaussian profile, weaker for thin vessels (partial volume), then Gaussian noise
 * of σ from `NOISE` (so thin vessels have a contrast-to-noise ratio near 1) and min-max
 * normalisation per image. Channel 0 is green-like; an optional channel 1 is red-like (brighter
 * background, vessels at 40 % of the contrast). Widths are in pixels and do not scale with `size`;
 * lengths and the field of view do. Images are 2-D: slices have no `volume`.
 *
 * Difficulty knobs: `CONTRAST` (lower = harder), `NOISE` (higher = harder).
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type RandomKey, foldIn, key, normalArray, split, uniformArray } from '../core/random.js';
import { formatPercent } from './lesion-stats.js';
import { minMaxNormalise } from './normalise.js';
import type { Dataset, Slice } from './types.js';

/** Options of {@link syntheticVessels}. */
export interface SyntheticVesselsOptions {
  /** Default 0. */
  readonly seed?: number;
  /** Default 48. */
  readonly trainSlices?: number;
  /** Default 16. */
  readonly valSlices?: number;
  /** Image side in pixels, default 128 (the field of view and vessel lengths scale with it, widths do not). */
  readonly size?: number;
  /** 1 (green-like) or 2 (green- and red-like), default 1. */
  readonly modalities?: 1 | 2;
}

/** One bin of the vessel width histogram: centre-line length of widths in [min, max). */
export interface WidthBin {
  readonly min: number;
  /** Upper end (exclusive; the last bin includes 3 px). */
  readonly max: number;
  /** Centre-line length in pixels. */
  readonly length: number;
  /** `length` as a share of all centre-line length. */
  readonly share: number;
}

/** The statistics of a {@link syntheticVessels} dataset (train and validation together). */
export interface SyntheticVesselsStats {
  readonly set: 'vessels';
  readonly seed: number;
  readonly size: number;
  readonly modalities: 1 | 2;
  readonly slices: { readonly train: number; readonly val: number };
  /** Vessel pixels / all pixels. */
  readonly foregroundShare: number;
  /** Images without vessel pixels / all images (0 by construction). */
  readonly emptySliceShare: number;
  /** Vessel branches (trunks and their side branches), over all images. */
  readonly branches: number;
  /** Centre-line length in pixels, over all images. */
  readonly centreLineLength: number;
  /** Centre-line length per width: 1–1.5, 1.5–2, 2–2.5, 2.5–3 px. */
  readonly widthHistogram: readonly WidthBin[];
  /**
   * Vessel pixels whose 4 neighbours are all vessel (negative reference signed map there) / all
   * vessel pixels: the thin-structure regime has few.
   */
  readonly interiorShare: number;
  /** The generator's difficulty constants. */
  readonly difficulty: { readonly contrast: readonly [number, number]; readonly noise: readonly [number, number] };
}

/** A {@link syntheticVessels} dataset: a `Dataset` with its statistics. */
export interface SyntheticVesselsDataset extends Dataset {
  readonly stats: SyntheticVesselsStats;
}

/** Vessel darkening at 3 px width, as a fraction of the local background, per image. Lower = harder. */
const CONTRAST: readonly [number, number] = [0.1, 0.18];
/** Noise σ per image (the background is about 0.3 … 0.6 before normalisation). Higher = harder. */
const NOISE: readonly [number, number] = [0.025, 0.04];
/** Width limits in pixels: trunks start at most `MAX_WIDTH` wide, branches stop below `MIN_WIDTH`. */
const MIN_WIDTH = 1;
const MAX_WIDTH = 3;
/** Centre-line step in pixels. */
const STEP = 1;
/** Most branches per image (a guard; trees stay well below it). */
const MAX_BRANCHES = 600;
const WIDTH_EDGES = [1, 1.5, 2, 2.5, 3] as const;

/** Segments of a tree: x0, y0, x1, y1, w0, w1 (pixels) per segment. */
interface Tree {
  readonly segments: Float64Array;
  readonly branches: number;
}

/** Geometry of one image. */
interface Fundus {
  readonly cx: number;
  readonly cy: number;
  /** Field-of-view radius. */
  readonly radius: number;
  readonly disc: { readonly x: number; readonly y: number; readonly r: number };
  readonly fovea: { readonly x: number; readonly y: number; readonly r: number };
}

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError('syntheticVessels', `options.${name}`, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** An unbounded stream of uniforms from a key (blocks of 1024 folded in). */
function stream(k: RandomKey): () => number {
  let block = 0;
  let u = uniformArray(foldIn(k, block), 1024);
  let i = 0;
  return () => {
    if (i === u.length) {
      u = uniformArray(foldIn(k, ++block), 1024);
      i = 0;
    }
    return u[i++]!;
  };
}

function fundusOf(next: () => number, size: number): Fundus {
  const cx = size * (0.5 + 0.03 * (next() - 0.5));
  const cy = size * (0.5 + 0.03 * (next() - 0.5));
  const radius = size * (0.44 + 0.03 * next());
  const side = next() < 0.5 ? -1 : 1; // left or right eye: the disc is on the nasal side
  const disc = { x: cx + side * radius * (0.45 + 0.08 * next()), y: cy + radius * 0.1 * (next() - 0.5), r: radius * (0.1 + 0.03 * next()) };
  const fovea = { x: cx - side * radius * (0.08 + 0.06 * next()), y: cy + radius * 0.08 * (next() - 0.5), r: radius * (0.13 + 0.04 * next()) };
  return { cx, cy, radius, disc, fovea };
}

/** Grows the vessel tree of one image. */
function growTree(next: () => number, f: Fundus, size: number): Tree {
  const unit = size / 128;
  const out: number[] = [];
  const toFovea = Math.atan2(f.fovea.y - f.disc.y, f.fovea.x - f.disc.x);
  const gauss = () => 2 * (next() + next() + next() - 1.5);
  // Trunks: [angle from the disc→fovea direction, curvature (per px of unit 1), start width].
  const trunks: [number, number, number][] = [
    [-1.0 - 0.2 * next(), 0.011, 2.6 + 0.4 * next()], [-0.7 - 0.2 * next(), 0.009, 2.2 + 0.5 * next()],
    [1.0 + 0.2 * next(), -0.011, 2.6 + 0.4 * next()], [0.7 + 0.2 * next(), -0.009, 2.2 + 0.5 * next()],
    [Math.PI - 0.8 - 0.3 * next(), 0.002 * gauss(), 1.8 + 0.5 * next()], [Math.PI + 0.8 + 0.3 * next(), 0.002 * gauss(), 1.8 + 0.5 * next()],
  ];
  const stack = trunks.map(([angle, curvature, width]) => ({
    x: f.disc.x + 0.5 * f.disc.r * Math.cos(toFovea + angle),
    y: f.disc.y + 0.5 * f.disc.r * Math.sin(toFovea + angle),
    theta: toFovea + angle,
    curvature: curvature / unit,
    width: Math.min(MAX_WIDTH, width),
    generation: 0,
  }));
  let branches = 0;
  while (stack.length > 0 && branches < MAX_BRANCHES) {
    const b = stack.pop()!;
    branches++;
    let { x, y, theta, width } = b;
    let length = 0;
    let nextBranch = unit * (10 + 20 * next());
    const maxLength = f.radius * (b.generation === 0 ? 2.2 : 1.2);
    for (;;) {
      const w0 = width;
      theta += b.curvature * STEP + 0.08 * Math.sqrt(STEP) * gauss();
      // Keep clear of the fovea: turn away when heading into it.
      const fx = f.fovea.x - x;
      const fy = f.fovea.y - y;
      const fd = Math.hypot(fx, fy);
      if (fd < 1.4 * f.fovea.r) {
        const away = Math.sin(theta - Math.atan2(fy, fx)) >= 0 ? 1 : -1;
        theta += away * 0.08;
      }
      const nx = x + STEP * Math.cos(theta);
      const ny = y + STEP * Math.sin(theta);
      width *= Math.exp(-STEP / (unit * 260));
      length += STEP;
      if (Math.hypot(nx - f.cx, ny - f.cy) > f.radius - 1 || length > maxLength || width < MIN_WIDTH) break;
      out.push(x, y, nx, ny, w0, width);
      x = nx;
      y = ny;
      if (length >= nextBranch) {
        nextBranch = length + unit * (12 + 22 * next());
        const childWidth = width * (0.55 + 0.25 * next());
        width *= 0.88 + 0.08 * next();
        const sideSign = next() < 0.5 ? -1 : 1;
        if (childWidth >= MIN_WIDTH) {
          stack.push({ x, y, theta: theta + sideSign * (0.5 + 0.6 * next()), curvature: (0.006 * gauss()) / unit, width: childWidth, generation: b.generation + 1 });
        }
        theta -= sideSign * (0.1 + 0.1 * next()); // the parent bends away from its child
      }
    }
  }
  return { segments: Float64Array.from(out), branches };
}

/** Renders one image (not yet normalised) and its label from its tree. */
function render(k: RandomKey, next: () => number, f: Fundus, tree: Tree, size: number, modalities: 1 | 2): { image: Float32Array; label: Uint8Array } {
  const n = size * size;
  const unit = size / 128;
  const label = new Uint8Array(n);
  const profile = new Float32Array(n); // vessel darkening profile in [0, 1]
  const seg = tree.segments;
  for (let s = 0; s < seg.length; s += 6) {
    const [x0, y0, x1, y1, w0, w1] = [seg[s]!, seg[s + 1]!, seg[s + 2]!, seg[s + 3]!, seg[s + 4]!, seg[s + 5]!];
    const reach = Math.max(w0, w1) + 2;
    const xa = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
    const xb = Math.min(size - 1, Math.ceil(Math.max(x0, x1) + reach));
    const ya = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
    const yb = Math.min(size - 1, Math.ceil(Math.max(y0, y1) + reach));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const px = x + 0.5 - x0;
        const py = y + 0.5 - y0;
        const t = len2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / len2)) : 0;
        const d = Math.hypot(px - t * dx, py - t * dy);
        const w = w0 + t * (w1 - w0);
        const p = y * size + x;
        if (d < w / 2) label[p] = 1;
        const spread = 0.42 * w + 0.25;
        const value = Math.min(1, 0.45 + 0.25 * w) * Math.exp(-0.5 * (d / spread) ** 2);
        if (value > profile[p]!) profile[p] = value;
      }
    }
  }
  const contrast = CONTRAST[0] + (CONTRAST[1] - CONTRAST[0]) * next();
  const sigma = NOISE[0] + (NOISE[1] - NOISE[0]) * next();
  const level = 0.45 + 0.15 * next();
  const gradient = [next() - 0.5, next() - 0.5];
  const texture = Array.from({ length: 5 }, () => {
    const lambda = unit * (12 + 30 * next());
    const a = 2 * Math.PI * next();
    return { kx: (2 * Math.PI * Math.cos(a)) / lambda, ky: (2 * Math.PI * Math.sin(a)) / lambda, phase: 2 * Math.PI * next() };
  });
  const noise = normalArray(k, modalities * n);
  const image = new Float32Array(modalities * n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const px = x + 0.5;
      const py = y + 0.5;
      const rho = Math.hypot(px - f.cx, py - f.cy) / f.radius;
      if (rho > 1) {
        label[p] = 0;
        for (let m = 0; m < modalities; m++) image[m * n + p] = Math.abs(0.3 * sigma * noise[m * n + p]!);
        continue;
      }
      const edge = Math.min(1, (1 - rho) * f.radius); // a 1 px soft rim
      let tex = 0;
      for (const t of texture) tex += Math.cos(t.kx * px + t.ky * py + t.phase);
      const illumination = (1 - 0.4 * rho * rho) * (1 + 0.5 * (gradient[0]! * (px - f.cx) + gradient[1]! * (py - f.cy)) / f.radius);
      const dd = Math.hypot(px - f.disc.x, py - f.disc.y) / f.disc.r;
      const df = Math.hypot(px - f.fovea.x, py - f.fovea.y) / f.fovea.r;
      for (let m = 0; m < modalities; m++) {
        const base = (m === 0 ? level : level + 0.25) * illumination * (1 + 0.03 * tex / 2.2);
        const disc = (m === 0 ? 0.3 : 0.12) * Math.exp(-(dd ** 4));
        const fovea = (m === 0 ? -0.1 : -0.04) * Math.exp(-(df * df));
        const background = Math.max(0, base + disc + fovea);
        const value = background * (1 - (m === 0 ? 1 : 0.4) * contrast * profile[p]!) * edge;
        image[m * n + p] = Math.abs(value + sigma * noise[m * n + p]!);
      }
    }
  }
  for (let m = 0; m < modalities; m++) image.set(minMaxNormalise([image.subarray(m * n, (m + 1) * n)])[0]!, m * n);
  return { image, label };
}

/** The keys of one image: tree and geometry, rendering, noise. */
function imageKeys(seed: number, splitName: 'train' | 'val', index: number): [RandomKey, RandomKey, RandomKey] {
  const [trainKey, valKey] = split(foldIn(key(seed), 0x56455353), 2) as [RandomKey, RandomKey];
  return split(foldIn(splitName === 'train' ? trainKey : valKey, index), 3) as [RandomKey, RandomKey, RandomKey];
}

function readOptions(options: SyntheticVesselsOptions) {
  checkOptionKeys('syntheticVessels', options, ['seed', 'trainSlices', 'valSlices', 'size', 'modalities']);
  return {
    seed: checkInt('seed', options.seed ?? 0, 0, Number.MAX_SAFE_INTEGER),
    trainSlices: checkInt('trainSlices', options.trainSlices ?? 48, 1, 100_000),
    valSlices: checkInt('valSlices', options.valSlices ?? 16, 0, 100_000),
    size: checkInt('size', options.size ?? 128, 16, 1024),
    modalities: checkInt('modalities', options.modalities ?? 1, 1, 2) as 1 | 2,
  };
}

/**
 * @internal the centre-line segments of image `index` of a split of `syntheticVessels(options)`:
 * `x0, y0, x1, y1, w0, w1` (pixels; widths at both ends) per segment, as the generator drew them.
 */
export function vesselCentreLines(options: SyntheticVesselsOptions, splitName: 'train' | 'val', index: number): Float64Array {
  const o = readOptions(options);
  const count = splitName === 'train' ? o.trainSlices : o.valSlices;
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new InputError('vesselCentreLines', 'index', `expected an integer in [0, ${count}), got ${index}`);
  const next = stream(imageKeys(o.seed, splitName, index)[0]);
  return growTree(next, fundusOf(next, o.size), o.size).segments;
}


/**
 * A seeded synthetic retina-like vessel dataset of 2-D images (see the module doc): 2 classes
 * (background, vessel), spacing [1, 1], no image without vessels. `notes` and `stats` report the
 * foreground share, the centre-line length per vessel width and the share of vessel pixels with a
 * negative reference signed map.
 *
 * @throws InputError naming the option for a bad seed, count, size or modality count, or an unknown option.
 */
export function syntheticVessels(options: SyntheticVesselsOptions = {}): SyntheticVesselsDataset {
  const { seed, trainSlices, valSlices, size, modalities } = readOptions(options);
  const widths = WIDTH_EDGES.slice(0, -1).map(() => 0);
  let branches = 0;
  const make = (splitName: 'train' | 'val', count: number): Slice[] => Array.from({ length: count }, (_, i) => {
    const [kTree, kRender, kNoise] = imageKeys(seed, splitName, i);
    const next = stream(kTree);
    const f = fundusOf(next, size);
    const tree = growTree(next, f, size);
    branches += tree.branches;
    const seg = tree.segments;
    for (let s = 0; s < seg.length; s += 6) {
      const w = (seg[s + 4]! + seg[s + 5]!) / 2;
      const bin = Math.min(widths.length - 1, WIDTH_EDGES.findIndex((e, j) => w >= e && (j === WIDTH_EDGES.length - 1 || w < WIDTH_EDGES[j + 1]!)));
      widths[Math.max(0, bin)]! += Math.hypot(seg[s + 2]! - seg[s]!, seg[s + 3]! - seg[s + 1]!);
    }
    const { image, label } = render(kNoise, stream(kRender), f, tree, size, modalities);
    return { id: `vessels-${splitName}-${String(i).padStart(4, '0')}`, image, label, channels: modalities, height: size, width: size, spacing: [1, 1] };
  });
  const train = make('train', trainSlices);
  const val = make('val', valSlices);
  const slices = [...train, ...val];
  let foreground = 0;
  let interior = 0;
  let empty = 0;
  for (const s of slices) {
    let here = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (s.label[y * size + x] === 0) continue;
        here++;
        const at = (yy: number, xx: number) => yy >= 0 && yy < size && xx >= 0 && xx < size && s.label[yy * size + xx] === 1;
        if (at(y - 1, x) && at(y + 1, x) && at(y, x - 1) && at(y, x + 1)) interior++;
      }
    }
    foreground += here;
    if (here === 0) empty++;
  }
  const length = widths.reduce((a, b) => a + b, 0);
  const stats: SyntheticVesselsStats = {
    set: 'vessels', seed, size, modalities,
    slices: { train: trainSlices, val: valSlices },
    foregroundShare: foreground / (slices.length * size * size),
    emptySliceShare: empty / slices.length,
    branches,
    centreLineLength: length,
    widthHistogram: widths.map((l, j) => ({ min: WIDTH_EDGES[j]!, max: WIDTH_EDGES[j + 1]!, length: l, share: length > 0 ? l / length : 0 })),
    interiorShare: foreground > 0 ? interior / foreground : 0,
    difficulty: { contrast: CONTRAST, noise: NOISE },
  };
  return {
    name: `synthetic-vessels-seed${seed}`,
    classes: 2,
    channels: modalities,
    height: size,
    width: size,
    train,
    val,
    stats,
    notes: [
      `synthetic retina-like vessel trees (set vessels): ${trainSlices} train, ${valSlices} val, ${size}×${size}, ${modalities} modality(ies), seed ${seed}`,
      `mean foreground fraction ${formatPercent(stats.foregroundShare)}; images without vessels ${formatPercent(stats.emptySliceShare)}; ${branches} branches, ${length.toFixed(0)} px of centre line`,
      `centre-line length by vessel width: ${stats.widthHistogram.map((b) => `${b.min}–${b.max} px ${formatPercent(b.share)}`).join(', ')}`,
      `vessel pixels with all 4 neighbours vessel (negative signed map) ${formatPercent(stats.interiorShare)}`,
    ],
  };
}
