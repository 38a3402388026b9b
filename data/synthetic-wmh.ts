/**
 * Benchmark v2 (`wmh`): a seeded synthetic WMH-like dataset in the paper's regime, 2-D FLAIR-like
 * slices cut from synthetic 3-D volumes, split into train and validation by volume.
 *
 * Each volume is a continuous 3-D phantom sampled on `size × size` pixels (1 mm, lesions and anatomy
 * scale with `size`) in slices spanning the brain from bottom to top, thickness = brain height /
 * slices. Anatomy: an ellipsoidal head (bright scalp, dark skull), a cortex of gray matter with
 * gyri and dark sulci, white matter, lateral ventricles present in the middle slices (their size
 * varies per volume), 3-D texture and a smooth multiplicative bias field.
 *
 * Lesions are 3-D: each is a union of ellipsoids with a noisy border (a smooth 3-D noise field
 * scales its implicit function), so consecutive slices are correlated. Three kinds, counts scaled
 * by a per-volume lesion load (heavy-tailed: some volumes have almost none): many punctate deep
 * white-matter lesions (often 1–2 px, some too small to hit a pixel centre: visible but unlabelled),
 * medium ones, and a few large confluent periventricular ones at the ventricles' horns that hold
 * most of the lesion volume. Their FLAIR contrast above white matter is drawn from `CONTRAST`
 * (at the low end no brighter than gray matter); the image has partial volume in-plane (a 1.2 px
 * ramp, so small lesions are dimmer) and across the slice (three samples through the slab), the
 * label is the lesion at the pixel and slice centre, inside the brain and outside the ventricles and
 * sulci.
 *
 * Unlabelled bright distractors (strength `DISTRACTORS`): periventricular caps (a thin halo at the
 * ventricles' horns, where lesions also sit), flow-artefact spots (small, bright, one slice each),
 * and gray matter itself. Rician-like noise |I + n| with σ drawn from `NOISE` (per volume, in units
 * of the intensity range of the tissues), then min-max normalisation per volume and modality, as the
 * NIfTI loader does. Channel 0 is FLAIR-like; an optional channel 1 is T1-like (white matter bright,
 * lesions dark, no caps or flow artefacts).
 *
 * Difficulty: `CONTRAST` (lower = harder), `NOISE` (higher = harder) and `DISTRACTORS` (higher =
 * harder) are the knobs; `LOAD` sizes the lesion counts (foreground share). Everything is drawn from
 * `core/random` keys: one seed gives the same arrays everywhere.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type RandomKey, foldIn, key, normalArray, split, uniformArray } from '../core/random.js';
import { connectedComponents } from '../metrics/lesions.js';
import { type SizeBin, formatPercent, formatSizeHistogram, lesionStats, sizeHistogram } from './lesion-stats.js';
import { minMaxNormalise } from './normalise.js';
import { TISSUE } from './synthetic.js';
import type { Dataset, Slice } from './types.js';

/** Options of {@link syntheticWmh}. */
export interface SyntheticWmhOptions {
  /** Default 0. */
  readonly seed?: number;
  /** Training slices, default 144 (cut from round(144 / slicesPerVolume) volumes). */
  readonly trainSlices?: number;
  /** Validation slices, default 48 (from other volumes than the training slices). */
  readonly valSlices?: number;
  /**
   * Slices per volume, default 16: a split of N slices has max(1, round(N / slicesPerVolume))
   * volumes, sharing the N slices as evenly as possible (so N is kept exactly).
   */
  readonly slicesPerVolume?: number;
  /** Slice side in pixels, default 64 (anatomy and lesions scale with it). */
  readonly size?: number;
  /** 1 (FLAIR-like) or 2 (FLAIR- and T1-like), default 1. */
  readonly modalities?: 1 | 2;
}

/** Lesion statistics of a set of slices (2-D) or volumes (3-D). */
export interface LesionSizeStats {
  /** Connected lesions (8-connectivity per slice in 2-D, 26-connectivity per volume in 3-D). */
  readonly count: number;
  /** Sizes in voxels: 1–2, 3–9, 10–29, 30–99, ≥ 100. */
  readonly histogram: readonly SizeBin[];
}

/** The statistics of a {@link syntheticWmh} dataset (train and validation together unless named). */
export interface SyntheticWmhStats {
  readonly set: 'wmh';
  readonly seed: number;
  readonly size: number;
  readonly modalities: 1 | 2;
  readonly volumes: { readonly train: number; readonly val: number };
  readonly slices: { readonly train: number; readonly val: number };
  /** Slices per volume of each split (one entry per volume). */
  readonly slicesPerVolume: { readonly train: readonly number[]; readonly val: readonly number[] };
  /** Slice thickness (mm, with 1 mm pixels) per volume. */
  readonly thickness: { readonly train: readonly number[]; readonly val: readonly number[] };
  /** Lesion pixels / all pixels. */
  readonly foregroundShare: number;
  /** Slices without lesion pixels / all slices. */
  readonly emptySliceShare: number;
  /** Mean over volumes of the FLAIR noise σ as a share of the volume's intensity range (what min-max normalisation maps to [0, 1]). */
  readonly noiseShare: number;
  /** Per-slice connected lesions, and how many are ≥ 3 px across (negative reference signed map). */
  readonly lesions2d: LesionSizeStats & { readonly thick: number; readonly thickShare: number };
  /** Per-volume connected lesions. */
  readonly lesions3d: LesionSizeStats;
  /** The generator's difficulty constants. */
  readonly difficulty: { readonly contrast: readonly [number, number]; readonly noise: readonly [number, number]; readonly distractors: number };
}

/** A {@link syntheticWmh} dataset: a `Dataset` with its statistics. */
export interface SyntheticWmhDataset extends Dataset {
  readonly stats: SyntheticWmhStats;
}

/**
 * FLAIR contrast of a lesion above white matter (white matter 0.40, gray matter 0.55 before bias,
 * texture and noise): drawn in this range (large lesions in its upper two thirds, the others
 * anywhere above its first fifth). Partial volume dims small lesions further. Lower = harder.
 */
const CONTRAST: readonly [number, number] = [0.25, 0.5];
/** Noise σ per volume, uniform in this range (tissue intensities span about 0 … 0.75). Higher = harder. */
const NOISE: readonly [number, number] = [0.04, 0.055];
/** Strength of the unlabelled bright distractors (periventricular caps, flow artefacts); 0 turns them off. */
const DISTRACTORS = 1;
/** Scales every lesion count (the foreground share grows about linearly with it). */
const LOAD = 1;
/** Strength of the multiplicative bias field (± this at the image corners). */
const BIAS = 0.18;
/** Half-width (pixels) of the partial-volume ramp across a lesion's border in the image. */
const RAMP = 0.6;
/** Slices span this fraction of the brain's height on each side of its centre (top and bottom slices are small). */
const EXTENT = 0.92;
/** Brain half-height as a fraction of the slice side. */
const HALF_HEIGHT = 0.4;


type Tissue = keyof (typeof TISSUE)['flair'] | 'air';

/** One ellipsoid of a lesion, pixel units (x, y in-plane, z across slices). */
interface Blob {
  readonly cx: number;
  readonly cy: number;
  readonly cz: number;
  /** In-plane semi-axes (a ≥ b) and the semi-axis across slices. */
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly cos: number;
  readonly sin: number;
}

/** A lesion: a union of blobs with a noisy border. */
interface Lesion {
  readonly blobs: readonly Blob[];
  /** FLAIR brightness above white matter. */
  readonly contrast: number;
  /** Border noise amplitude: the implicit function is scaled by a factor in [1 − rough, 1 + rough]. */
  readonly rough: number;
  /** Smallest in-plane semi-axis, for the partial-volume ramp in pixels. */
  readonly radius: number;
  /** Bounding box (pixel units) of every voxel the lesion labels or brightens (border noise and ramp included). */
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly z0: number;
  readonly z1: number;
}

/** A plane wave of a 3-D noise or texture field. */
interface Wave {
  readonly kx: number;
  readonly ky: number;
  readonly kz: number;
  readonly phase: number;
}

/** The fixed anatomy of one volume. */
interface Anatomy {
  readonly cy: number;
  readonly cx: number;
  /** Semi-axes (pixels) of the head at the volume's mid-height. */
  readonly ry: number;
  readonly rx: number;
  readonly cos: number;
  readonly sin: number;
  /** Half-height of the brain (pixels) and the slice thickness (pixels). */
  readonly halfHeight: number;
  readonly thickness: number;
  /** Ventricle size (fraction of the head's radii) at its largest. */
  readonly ventricle: number;
  readonly gyri: readonly number[];
  /** Periventricular cap strength (0 … 1). */
  readonly caps: number;
}

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError('syntheticWmh', `options.${name}`, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Uniforms from a key one at a time: `n` drawn from the key, then further blocks of `n` from keys folded in. */
function stream(k: RandomKey, n: number): () => number {
  let u = uniformArray(k, n);
  let block = 0;
  let i = 0;
  return () => {
    if (i === n) {
      u = uniformArray(foldIn(k, ++block), n);
      i = 0;
    }
    return u[i++]!;
  };
}

/** Head scale of the slice at relative height w ∈ [−1, 1]: 1 in the middle, small at the top and bottom. */
const headScale = (w: number): number => Math.pow(Math.max(0, 1 - w * w), 0.4);

/** Ventricle size at relative height w: largest a little above the middle, none near the top and bottom. */
const ventricleScale = (anatomy: Anatomy, w: number): number => {
  const t = (w - 0.05) / 0.42;
  return t * t >= 1 ? 0 : anatomy.ventricle * Math.sqrt(1 - t * t);
};

function waves(next: () => number, count: number, minWavelength: number, maxWavelength: number): Wave[] {
  return Array.from({ length: count }, () => {
    const lambda = minWavelength + (maxWavelength - minWavelength) * next();
    const theta = 2 * Math.PI * next();
    const phi = Math.acos(2 * next() - 1);
    const k = (2 * Math.PI) / lambda;
    return { kx: k * Math.sin(phi) * Math.cos(theta), ky: k * Math.sin(phi) * Math.sin(theta), kz: k * Math.cos(phi), phase: 2 * Math.PI * next() };
  });
}

const field = (ws: readonly Wave[], x: number, y: number, z: number): number => {
  let s = 0;
  for (const w of ws) s += Math.cos(w.kx * x + w.ky * y + w.kz * z + w.phase);
  return s;
};

/** Pixel position of the normalised head point (u, v) at relative height w. */
function toPixels(anatomy: Anatomy, u: number, v: number, w: number): { x: number; y: number; z: number } {
  const s = headScale(w);
  const px = u * anatomy.rx * s;
  const py = v * anatomy.ry * s;
  return { x: anatomy.cx + anatomy.cos * px - anatomy.sin * py, y: anatomy.cy + anatomy.sin * px + anatomy.cos * py, z: w * anatomy.halfHeight };
}

/** The lesions of one volume. */
function drawLesions(k: RandomKey, anatomy: Anatomy, unit: number): Lesion[] {
  const next = stream(k, 4096);
  const [c0, c1] = CONTRAST;
  const load = LOAD * (0.25 + 1.75 * next() * next());
  const lesions: Lesion[] = [];
  const add = (blobs: Blob[], contrast: number, rough: number) => {
    const radius = Math.min(...blobs.map((b) => b.b));
    // The image weight is positive where q·(1 ± rough) < 1 + RAMP / max(0.5, radius) (see rasterLesions).
    const reach = (1 + RAMP / Math.max(0.5, radius)) / (1 - rough);
    lesions.push({
      blobs, contrast, rough, radius,
      x0: Math.min(...blobs.map((b) => b.cx - reach * b.a)), x1: Math.max(...blobs.map((b) => b.cx + reach * b.a)),
      y0: Math.min(...blobs.map((b) => b.cy - reach * b.a)), y1: Math.max(...blobs.map((b) => b.cy + reach * b.a)),
      z0: Math.min(...blobs.map((b) => b.cz - reach * b.c)), z1: Math.max(...blobs.map((b) => b.cz + reach * b.c)),
    });
  };
  const blob = (cx: number, cy: number, cz: number, a: number, b: number, c: number, angle: number): Blob => ({ cx, cy, cz, a, b, c, cos: Math.cos(angle), sin: Math.sin(angle) });
  const count = (mean: number) => Math.floor(load * mean * (0.5 + next()));

  // Large confluent periventricular lesions at the horns of the ventricles.
  for (let i = count(2.5); i > 0; i--) {
    const side = next() < 0.5 ? -1 : 1;
    const front = next() < 0.55 ? -1 : 1;
    const w = -0.2 + 0.5 * next();
    const vent = Math.max(0.06, ventricleScale(anatomy, w));
    const centre = toPixels(anatomy, side * (0.13 + 0.05 * next()), -0.05 + front * vent * (1.8 + 0.3 * next()), w);
    const parts = 3 + Math.floor(5 * next());
    const size = unit * (2 + 2 * next());
    const blobs: Blob[] = [];
    for (let j = 0; j < parts; j++) {
      const a = size * (0.7 + 0.6 * next());
      blobs.push(blob(
        centre.x + 2.2 * size * (next() - 0.5), centre.y + 3 * size * (next() - 0.5), centre.z + 2.5 * size * (next() - 0.5),
        a, a * (0.5 + 0.5 * next()), a * (0.8 + 0.8 * next()), Math.PI * next(),
      ));
    }
    add(blobs, c0 + (c1 - c0) * (0.35 + 0.65 * next()), 0.15 + 0.15 * next());
  }
  // Medium lesions: periventricular (along the ventricle wall) or deep white matter.
  for (let i = count(11); i > 0; i--) {
    const peri = next() < 0.5;
    const w = peri ? -0.35 + 0.75 * next() : -0.55 + 1.3 * next();
    const angle = 2 * Math.PI * next();
    const vent = ventricleScale(anatomy, w);
    const rho = peri && vent > 0.04 ? 1.15 : 0.2 + 0.4 * next();
    const centre = peri && vent > 0.04
      ? toPixels(anatomy, Math.sign(Math.cos(angle)) * 0.13 + rho * vent * 0.9 * Math.cos(angle), -0.05 + rho * vent * 1.8 * Math.sin(angle), w)
      : toPixels(anatomy, rho * Math.cos(angle), rho * Math.sin(angle), w);
    const a = unit * (1.1 + 1.7 * next());
    const blobs = [blob(centre.x, centre.y, centre.z, a, a * (0.5 + 0.5 * next()), a * (0.7 + 0.9 * next()), Math.PI * next())];
    if (next() < 0.4) {
      const a2 = a * (0.5 + 0.4 * next());
      blobs.push(blob(centre.x + 1.5 * a * (next() - 0.5), centre.y + 1.5 * a * (next() - 0.5), centre.z + a * (next() - 0.5), a2, a2 * (0.6 + 0.4 * next()), a2, Math.PI * next()));
    }
    add(blobs, c0 + (c1 - c0) * (0.2 + 0.8 * next()), 0.1 + 0.15 * next());
  }
  // Punctate deep white-matter lesions, many of 1–2 px.
  for (let i = count(15); i > 0; i--) {
    const w = -0.6 + 1.4 * next();
    const angle = 2 * Math.PI * next();
    const rho = 0.15 + 0.5 * Math.sqrt(next());
    const centre = toPixels(anatomy, rho * Math.cos(angle), rho * Math.sin(angle), w);
    const t = next();
    const a = unit * (0.6 + 1.1 * t * t);
    add([blob(centre.x, centre.y, centre.z, a, a * (0.6 + 0.4 * next()), a * (0.8 + 1.0 * next()), Math.PI * next())], c0 + (c1 - c0) * (0.2 + 0.8 * next()), 0.08);
  }
  return lesions;
}

/** Lesion label, image weight and contrast maps of one slice. */
function rasterLesions(lesions: readonly Lesion[], rough: readonly Wave[], size: number, z: number, thickness: number) {
  const n = size * size;
  const label = new Uint8Array(n);
  const weight = new Float32Array(n);
  const contrast = new Float32Array(n);
  const zs = [z - thickness / 3, z, z + thickness / 3];
  for (const l of lesions) {
    if (l.z1 < zs[0]! || l.z0 > zs[2]!) continue;
    const xa = Math.max(0, Math.floor(l.x0));
    const xb = Math.min(size - 1, Math.ceil(l.x1));
    const ya = Math.max(0, Math.floor(l.y0));
    const yb = Math.min(size - 1, Math.ceil(l.y1));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        let w = 0;
        let inside = false;
        for (let s = 0; s < 3; s++) {
          const pz = zs[s]!;
          let q = Infinity;
          for (const b of l.blobs) {
            const lx = px - b.cx;
            const ly = py - b.cy;
            const lz = (pz - b.cz) / b.c;
            const qa = (b.cos * lx + b.sin * ly) / b.a;
            const qb = (-b.sin * lx + b.cos * ly) / b.b;
            const qq = qa * qa + qb * qb + lz * lz;
            if (qq < q) q = qq;
          }
          q = Math.sqrt(q) * (1 + l.rough * Math.max(-1, Math.min(1, field(rough, px, py, pz) / 2)));
          // Approximate signed distance to the border in pixels, and a 2·RAMP px partial-volume ramp.
          const d = (q - 1) * Math.max(0.5, l.radius);
          w += Math.min(1, Math.max(0, 0.5 - d / (2 * RAMP))) / 3;
          if (s === 1 && q <= 1) inside = true;
        }
        const p = y * size + x;
        if (inside) label[p] = 1;
        if (w > weight[p]!) {
          weight[p] = w;
          contrast[p] = l.contrast;
        }
      }
    }
  }
  return { label, weight, contrast };
}

/** Small bright flow-artefact spots of one slice (unlabelled): centres and radii in pixels. */
function flowSpots(next: () => number, anatomy: Anatomy, w: number, unit: number): { x: number; y: number; r: number; amp: number }[] {
  const count = Math.floor(DISTRACTORS * 2.5 * next());
  return Array.from({ length: count }, () => {
    const angle = 2 * Math.PI * next();
    const rho = 0.75 * Math.sqrt(next());
    const p = toPixels(anatomy, rho * Math.cos(angle), rho * Math.sin(angle), w);
    return { x: p.x, y: p.y, r: unit * (0.6 + 0.9 * next()), amp: DISTRACTORS * (0.12 + 0.2 * next()) };
  });
}

/** One volume's slices and labels, and its FLAIR noise σ as a share of the intensity range before normalisation. */
function synthVolume(k: RandomKey, id: string, depth: number, size: number, modalities: 1 | 2): { slices: Slice[]; noiseShare: number } {
  const [kAnatomy, kLesions, kSlices, kNoise] = split(k, 4) as [RandomKey, RandomKey, RandomKey, RandomKey];
  const unit = size / 64;
  const next = stream(kAnatomy, 256);
  const tilt = 0.3 * (next() - 0.5);
  const halfHeight = HALF_HEIGHT * size;
  const load0 = next();
  const anatomy: Anatomy = {
    cy: size * (0.5 + 0.04 * (next() - 0.5)),
    cx: size * (0.5 + 0.04 * (next() - 0.5)),
    ry: size * (0.42 + 0.04 * next()),
    rx: size * (0.34 + 0.04 * next()),
    cos: Math.cos(tilt),
    sin: Math.sin(tilt),
    halfHeight,
    thickness: (2 * EXTENT * halfHeight) / depth,
    ventricle: 0.09 + 0.08 * load0,
    gyri: Array.from({ length: 6 }, () => 2 * Math.PI * next()),
    caps: 0.5 + 0.5 * next(),
  };
  const texture = [waves(next, 4, 24 * unit, 64 * unit), waves(next, 4, 24 * unit, 64 * unit)];
  const fine = [waves(next, 5, 4 * unit, 9 * unit), waves(next, 5, 4 * unit, 9 * unit)];
  const rough = waves(next, 5, 2.5 * unit, 5 * unit);
  const bias = Array.from({ length: 8 }, () => next() - 0.5);
  const sigma = NOISE[0] + (NOISE[1] - NOISE[0]) * next();
  const lesions = drawLesions(kLesions, anatomy, unit);
  const n = size * size;
  const slices: Slice[] = [];
  for (let index = 0; index < depth; index++) {
    const z = (index + 0.5) * anatomy.thickness - EXTENT * halfHeight;
    const w = z / halfHeight;
    const s = headScale(w);
    const rx = anatomy.rx * s;
    const ry = anatomy.ry * s;
    const vent = ventricleScale(anatomy, w);
    const lesion = rasterLesions(lesions, rough, size, z, anatomy.thickness);
    const spots = flowSpots(stream(foldIn(kSlices, index), 64), anatomy, w, unit);
    const noise = normalArray(foldIn(kNoise, index), modalities * n);
    const label = new Uint8Array(n);
    const image = new Float32Array(modalities * n);
    const top = Math.max(0, Math.abs(w) - 0.5);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = y * size + x;
        const dy = y + 0.5 - anatomy.cy;
        const dx = x + 0.5 - anatomy.cx;
        const u = (anatomy.cos * dx + anatomy.sin * dy) / rx;
        const v = (-anatomy.sin * dx + anatomy.cos * dy) / ry;
        const r = Math.hypot(u, v);
        const angle = Math.atan2(v, u);
        const g = anatomy.gyri;
        const vq = vent > 0.02 ? Math.hypot((Math.abs(u) - 0.13) / (vent * 0.9), (v + 0.05) / (vent * 1.8)) : Infinity;
        const cortex = 0.68 - 0.3 * top + 0.05 * Math.sin(7 * angle + g[0]! + 2 * w) + 0.025 * Math.sin(13 * angle + g[1]! - 3 * w);
        const sulcus = r > cortex + 0.03 && Math.abs(Math.sin(11 * angle + g[2]! + 4 * w + 9 * r)) < 0.14;
        const tissue: Tissue = r > 1 ? 'air' : r > 0.92 ? 'scalp' : r > 0.85 ? 'skull' : vq < 1 || sulcus ? 'csf' : r > cortex ? 'gm' : 'wm';
        const brain = tissue === 'wm' || tissue === 'gm';
        if (brain && lesion.label[p] === 1) label[p] = 1;
        const weight = brain ? lesion.weight[p]! : tissue === 'csf' && r < 0.85 ? 0.5 * lesion.weight[p]! : 0;
        // Periventricular caps: a thin halo, strongest at the horns (unlabelled).
        const horn = vq < Infinity ? Math.abs(v + 0.05) / (vent * 1.8 * vq) : 0;
        const cap = tissue === 'wm' && vq > 1 && vq < 1.4 ? anatomy.caps * ((1.4 - vq) / 0.4) * horn * horn : 0;
        let flow = 0;
        for (const f of spots) {
          const d2 = ((x + 0.5 - f.x) ** 2 + (y + 0.5 - f.y) ** 2) / (f.r * f.r);
          if (d2 < 9) flow += f.amp * Math.exp(-d2);
        }
        const X = (2 * x) / size - 1;
        const Y = (2 * y) / size - 1;
        for (let m = 0; m < modalities; m++) {
          const tissues = m === 0 ? TISSUE.flair : TISSUE.t1;
          let value = tissue === 'air' ? 0 : tissues[tissue];
          if (tissue !== 'air' && tissue !== 'skull') {
            value += 0.025 * field(texture[m]!, x, y, z) / 2;
            if (brain) value += (tissue === 'gm' ? 0.03 : 0.02) * field(fine[m]!, x, y, z) / 2.2;
          }
          if (weight > 0) {
            const c = lesion.contrast[p]!;
            const lesionValue = m === 0 ? tissues.wm + c : tissues.wm - 0.9 * c;
            value += weight * (lesionValue - value);
          }
          if (m === 0 && r < 0.85) value += DISTRACTORS * 0.14 * cap + flow;
          const gain = 1 + BIAS * (bias[m]! * X + bias[2 + m]! * Y + bias[4 + m]! * X * Y + bias[6 + m]! * w);
          image[m * n + p] = Math.abs(value * gain + sigma * noise[m * n + p]!);
        }
      }
    }
    slices.push({
      id: `${id}_z${String(index).padStart(3, '0')}`,
      image, label, channels: modalities, height: size, width: size, spacing: [1, 1],
      volume: { id, index, thickness: anatomy.thickness },
    });
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of slices) {
    for (let p = 0; p < n; p++) {
      lo = Math.min(lo, s.image[p]!);
      hi = Math.max(hi, s.image[p]!);
    }
  }
  // Min-max normalisation per volume and modality, as the NIfTI loader does.
  for (let m = 0; m < modalities; m++) {
    const normalised = minMaxNormalise(slices.map((s) => s.image.subarray(m * n, (m + 1) * n)));
    slices.forEach((s, i) => s.image.set(normalised[i]!, m * n));
  }
  return { slices, noiseShare: hi > lo ? sigma / (hi - lo) : 0 };
}

/** How N slices are shared among volumes of about `per` slices: N kept exactly. */
function volumeDepths(slices: number, per: number): number[] {
  if (slices === 0) return [];
  const volumes = Math.max(1, Math.round(slices / per));
  return Array.from({ length: volumes }, (_, i) => Math.floor(slices / volumes) + (i < slices % volumes ? 1 : 0));
}

/** The statistics of the generated slices. */
function statistics(train: readonly Slice[][], val: readonly Slice[][], size: number): Omit<SyntheticWmhStats, 'set' | 'seed' | 'size' | 'modalities' | 'difficulty' | 'noiseShare'> {
  const volumes = [...train, ...val];
  const slices = volumes.flat();
  const sizes2d: number[] = [];
  const sizes3d: number[] = [];
  let thick = 0;
  let foreground = 0;
  let empty = 0;
  for (const volume of volumes) {
    for (const s of volume) {
      const st = lesionStats(s.label, size, size);
      thick += st.thick;
      foreground += st.pixels;
      if (st.pixels === 0) empty++;
      sizes2d.push(...connectedComponents({ data: s.label, shape: [size, size] }, { connectivity: 'full' }).sizes);
    }
    const stack = new Uint8Array(volume.length * size * size);
    volume.forEach((s, i) => stack.set(s.label, i * size * size));
    sizes3d.push(...connectedComponents({ data: stack, shape: [volume.length, size, size] }, { connectivity: 'full' }).sizes);
  }
  const total = slices.length;
  return {
    volumes: { train: train.length, val: val.length },
    slices: { train: train.flat().length, val: val.flat().length },
    slicesPerVolume: { train: train.map((v) => v.length), val: val.map((v) => v.length) },
    thickness: { train: train.map((v) => v[0]!.volume!.thickness!), val: val.map((v) => v[0]!.volume!.thickness!) },
    foregroundShare: total === 0 ? 0 : foreground / (total * size * size),
    emptySliceShare: total === 0 ? 0 : empty / total,
    lesions2d: { count: sizes2d.length, thick, thickShare: sizes2d.length === 0 ? 0 : thick / sizes2d.length, histogram: sizeHistogram(sizes2d) },
    lesions3d: { count: sizes3d.length, histogram: sizeHistogram(sizes3d) },
  };
}


function describeSplit(name: string, slices: number, depths: readonly number[]): string {
  if (depths.length === 0) return `no ${name} slices`;
  const lo = Math.min(...depths);
  const hi = Math.max(...depths);
  const per = lo === hi ? `${lo}` : `${lo}–${hi}`;
  return `${slices} ${name} slices from ${depths.length} volume(s) of ${per} slices`;
}

/**
 * Benchmark v2: a seeded synthetic WMH-like dataset of 2-D slices cut from 3-D volumes (see the
 * module doc): 2 classes (background, lesion), spacing [1, 1] mm, every slice's `volume` set (id
 * `wmh-<split>-v<NN>`, index, thickness in mm). Train and validation slices come from different
 * volumes. `notes` and `stats` report the foreground share, the share of empty slices, volumes and
 * slices, and the 2-D (per slice) and 3-D (per volume) lesion counts and size histograms.
 *
 * @example
 * import { syntheticWmh } from 'boundary-seg';
 *
 * const ds = syntheticWmh({ seed: 0, trainSlices: 8, valSlices: 4, size: 64 });
 * console.log(ds.train.length, ds.val[0]!.id, ds.notes[0]);
 *
 * @throws InputError naming the option for a bad seed, count, size or modality count, or an unknown option.
 */
export function syntheticWmh(options: SyntheticWmhOptions = {}): SyntheticWmhDataset {
  checkOptionKeys('syntheticWmh', options, ['seed', 'trainSlices', 'valSlices', 'slicesPerVolume', 'size', 'modalities']);
  const seed = checkInt('seed', options.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const trainSlices = checkInt('trainSlices', options.trainSlices ?? 144, 1, 100_000);
  const valSlices = checkInt('valSlices', options.valSlices ?? 48, 0, 100_000);
  const per = checkInt('slicesPerVolume', options.slicesPerVolume ?? 16, 1, 1024);
  const size = checkInt('size', options.size ?? 64, 16, 1024);
  const modalities = checkInt('modalities', options.modalities ?? 1, 1, 2) as 1 | 2;
  // A key of its own (not the wmh-v1 generator's), split into train and validation volumes.
  const [trainKey, valKey] = split(foldIn(key(seed), 0x574d4832), 2) as [RandomKey, RandomKey];
  const make = (k: RandomKey, depths: readonly number[], name: string) =>
    depths.map((depth, i) => synthVolume(foldIn(k, i), `wmh-${name}-v${String(i).padStart(2, '0')}`, depth, size, modalities));
  const trainDepths = volumeDepths(trainSlices, per);
  const valDepths = volumeDepths(valSlices, per);
  const trainMade = make(trainKey, trainDepths, 'train');
  const valMade = make(valKey, valDepths, 'val');
  const trainVolumes = trainMade.map((v) => v.slices);
  const valVolumes = valMade.map((v) => v.slices);
  const made = [...trainMade, ...valMade];
  const stats: SyntheticWmhStats = {
    set: 'wmh', seed, size, modalities, ...statistics(trainVolumes, valVolumes, size),
    noiseShare: made.reduce((a, v) => a + v.noiseShare, 0) / made.length,
    difficulty: { contrast: CONTRAST, noise: NOISE, distractors: DISTRACTORS },
  };
  const uneven = [...trainDepths, ...valDepths].some((d) => d !== per);
  return {
    name: `synthetic-wmh2-seed${seed}`,
    classes: 2,
    channels: modalities,
    height: size,
    width: size,
    train: trainVolumes.flat(),
    val: valVolumes.flat(),
    stats,
    notes: [
      `synthetic WMH-like volumes (set wmh): ${describeSplit('train', trainSlices, trainDepths)}, ${describeSplit('val', valSlices, valDepths)}, ${size}×${size}, ${modalities} modality(ies), seed ${seed}; split by volume`,
      ...(uneven ? [`slices per volume differ from ${per}: each split's slice count is kept and shared among round(count / ${per}) volumes, each spanning the whole brain (thinner or thicker slices)`] : []),
      `mean foreground fraction ${formatPercent(stats.foregroundShare)}; slices without lesions ${formatPercent(stats.emptySliceShare)}; noise σ ${formatPercent(stats.noiseShare)} of the intensity range`,
      `lesions per slice (2-D, 8-connected) ${stats.lesions2d.count}: ${formatSizeHistogram(stats.lesions2d.histogram, ' px')}`,
      `lesions per volume (3-D, 26-connected) ${stats.lesions3d.count}: ${formatSizeHistogram(stats.lesions3d.histogram, ' vx')}`,
      `lesions ≥ 3 px across (negative signed map inside) ${formatPercent(stats.lesions2d.thickShare)} of ${stats.lesions2d.count}`,
    ],
  };
}
