/**
 * A seeded synthetic dataset of 2-D brain-MRI-like slices with small bright lesions, shaped like the
 * paper's WMH task: highly unbalanced (foreground ≈ 0.1–2 % of a slice), several lesions per slice,
 * some slices without any, most lesions at least 3 pixels across (so that their signed distance
 * maps have negative values; see docs/conventions.md).
 *
 * Each slice: an elliptical head (scalp, dark skull, cortex of gray matter with a wavy inner border,
 * white matter, two dark ventricles), a low-frequency texture, a smooth multiplicative bias field,
 * lesions (rotated ellipses, periventricular more often than not, with a soft partial-volume rim in
 * the image; the label is the ellipse), then Rician-like noise |I + n| and min-max normalisation per
 * channel. Channel 0 is FLAIR-like (lesions and gray matter bright); an optional channel 1 is
 * T1-like (white matter bright, lesions slightly darker than white matter). Everything is drawn from
 * `core/random` keys: one seed gives the same arrays everywhere.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type RandomKey, foldIn, key, normalArray, split, uniformArray } from '../core/random.js';
import { formatPercent, lesionStats } from './lesion-stats.js';
import { minMaxNormalise } from './normalise.js';
import type { Dataset, Slice } from './types.js';

/** Options of {@link syntheticDataset}. */
export interface SyntheticOptions {
  /** Default 0. */
  readonly seed?: number;
  /** Default 150. */
  readonly trainSlices?: number;
  /** Default 30. */
  readonly valSlices?: number;
  /** Slice side in pixels, default 64 (lesions scale with it). */
  readonly size?: number;
  /** 1 (FLAIR-like) or 2 (FLAIR- and T1-like), default 1. */
  readonly modalities?: 1 | 2;
}

/** Share of slices drawn without lesions. */
const EMPTY_SHARE = 0.2;
/** Most lesions in a slice. */
const MAX_LESIONS = 6;

/** Tissue intensities per modality (before bias and noise); the `wmh` set uses the same. */
export const TISSUE = {
  flair: { scalp: 0.45, skull: 0.04, csf: 0.1, gm: 0.55, wm: 0.4 },
  t1: { scalp: 0.7, skull: 0.04, csf: 0.12, gm: 0.45, wm: 0.72 },
} as const;

interface Lesion {
  readonly cy: number;
  readonly cx: number;
  /** Semi-axes in pixels. */
  readonly a: number;
  readonly b: number;
  /** Cosine and sine of the rotation of axis `a`. */
  readonly cos: number;
  readonly sin: number;
  /** FLAIR brightness above white matter. */
  readonly contrast: number;
}

function checkCount(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError('syntheticDataset', `options.${name}`, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** The lesions of one slice, in pixel coordinates. */
function drawLesions(k: RandomKey, size: number, head: { cy: number; cx: number; ry: number; rx: number }): Lesion[] {
  const [kCount, kShape] = split(k, 2) as [RandomKey, RandomKey];
  const [u0, u1] = uniformArray(kCount, 2) as unknown as [number, number];
  if (u0 < EMPTY_SHARE) return [];
  const count = 1 + Math.floor(u1 * MAX_LESIONS);
  const u = uniformArray(kShape, count * 6);
  const unit = size / 64;
  return Array.from({ length: count }, (_, i) => {
    const [r, t, sa, sb, angle, contrast] = u.subarray(6 * i, 6 * i + 6) as unknown as number[];
    // Periventricular more often than not: radius (as a fraction of the brain) skewed to small values.
    const rho = 0.12 + 0.5 * r! * r!;
    const theta = 2 * Math.PI * t!;
    const a = unit * (1.2 + 2.4 * sa!);
    return {
      cy: head.cy + rho * head.ry * Math.sin(theta),
      cx: head.cx + rho * head.rx * Math.cos(theta),
      a,
      b: a * (0.65 + 0.35 * sb!),
      cos: Math.cos(Math.PI * angle!),
      sin: Math.sin(Math.PI * angle!),
      contrast: 0.3 + 0.25 * contrast!,
    };
  });
}

/** One synthetic slice. */
function synthSlice(k: RandomKey, id: string, size: number, modalities: 1 | 2): Slice {
  const [kHead, kTexture, kLesions, kNoise, kBias] = split(k, 5) as [RandomKey, RandomKey, RandomKey, RandomKey, RandomKey];
  const g = uniformArray(kHead, 8);
  const level = 0.8 + 0.2 * g[4]!; // smaller heads for slices far from the centre of the volume
  const head = {
    cy: size * (0.5 + 0.04 * (g[0]! - 0.5)),
    cx: size * (0.5 + 0.04 * (g[1]! - 0.5)),
    ry: size * level * (0.42 + 0.04 * g[2]!),
    rx: size * level * (0.34 + 0.04 * g[3]!),
  };
  const tilt = 0.3 * (g[5]! - 0.5);
  const ventricle = 0.1 + 0.06 * g[6]!;
  const gyrusPhase = 2 * Math.PI * g[7]!;
  const waves = uniformArray(kTexture, 24);
  const bias = uniformArray(kBias, 8);
  const lesions = drawLesions(kLesions, size, head);
  const noise = normalArray(kNoise, modalities * size * size);
  const noiseLevel = 0.025 + 0.015 * bias[7]!;

  const n = size * size;
  const label = new Uint8Array(n);
  const image = new Float32Array(modalities * n);
  const cos = Math.cos(tilt);
  const sin = Math.sin(tilt);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const dy = y + 0.5 - head.cy;
      const dx = x + 0.5 - head.cx;
      const u = (cos * dx + sin * dy) / head.rx;
      const v = (-sin * dx + cos * dy) / head.ry;
      const r = Math.hypot(u, v); // 1 on the head's outline
      const angle = Math.atan2(v, u);
      const inVentricle = Math.hypot((Math.abs(u) - 0.13) / (ventricle * 0.9), (v + 0.05) / (ventricle * 1.8)) < 1;
      const cortex = 0.68 + 0.05 * Math.sin(7 * angle + gyrusPhase) + 0.02 * Math.sin(13 * angle);
      type Tissue = keyof (typeof TISSUE)['flair'] | 'air';
      const tissue: Tissue = r > 1 ? 'air' : r > 0.92 ? 'scalp' : r > 0.85 ? 'skull' : inVentricle ? 'csf' : r > cortex ? 'gm' : 'wm';
      // Lesion membership (label) and partial-volume weight (image).
      let weight = 0;
      let contrast = 0;
      if (r < 0.84) {
        for (const l of lesions) {
          const ly = y + 0.5 - l.cy;
          const lx = x + 0.5 - l.cx;
          if (Math.abs(ly) > 1.2 * l.a || Math.abs(lx) > 1.2 * l.a) continue; // outside the rim (a ≥ b)
          const q = Math.hypot((l.cos * lx + l.sin * ly) / l.a, (-l.sin * lx + l.cos * ly) / l.b);
          if (q <= 1) label[p] = 1;
          const w = Math.min(1, Math.max(0, (1.2 - q) / 0.4));
          if (w > weight) {
            weight = w;
            contrast = l.contrast;
          }
        }
      }
      const X = (2 * x) / size - 1;
      const Y = (2 * y) / size - 1;
      for (let m = 0; m < modalities; m++) {
        const tissues = m === 0 ? TISSUE.flair : TISSUE.t1;
        let value = tissue === 'air' ? 0 : tissues[tissue];
        if (tissue !== 'air' && tissue !== 'skull') {
          let texture = 0;
          for (let j = 0; j < 4; j++) {
            const [fy, fx, phase] = [waves[6 * j + 3 * m]!, waves[6 * j + 3 * m + 1]!, waves[6 * j + 3 * m + 2]!];
            texture += Math.cos(Math.PI * ((1 + 4 * fy) * Y + (1 + 4 * fx) * X) + 2 * Math.PI * phase);
          }
          value += 0.025 * texture;
        }
        if (weight > 0) {
          const lesionValue = m === 0 ? tissues.wm + contrast : tissues.wm - 0.4 * contrast;
          value += weight * (lesionValue - value);
        }
        const field = 1 + 0.12 * ((bias[2 * m]! - 0.5) * X + (bias[2 * m + 1]! - 0.5) * Y + (bias[4 + m]! - 0.5) * X * Y);
        image[m * n + p] = Math.abs(value * field + noiseLevel * noise[m * n + p]!);
      }
    }
  }
  for (let m = 0; m < modalities; m++) image.set(minMaxNormalise([image.subarray(m * n, (m + 1) * n)])[0]!, m * n);
  return { id, image, label, channels: modalities, height: size, width: size, spacing: [1, 1] };
}

/**
 * A seeded synthetic WMH-like dataset of 2-D slices: 2 classes (background, lesion), spacing [1, 1].
 * `notes` report the mean foreground fraction, the share of slices without lesions and the share of
 * lesions at least 3 pixels across (see `lesion-stats.ts`).
 *
 * @throws InputError naming the option for a bad seed, count, size or modality count.
 */
export function syntheticDataset(options: SyntheticOptions = {}): Dataset {
  checkOptionKeys('syntheticDataset', options, ['seed', 'trainSlices', 'valSlices', 'size', 'modalities']);
  const seed = checkCount('seed', options.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const trainSlices = checkCount('trainSlices', options.trainSlices ?? 150, 1, 100_000);
  const valSlices = checkCount('valSlices', options.valSlices ?? 30, 0, 100_000);
  const size = checkCount('size', options.size ?? 64, 16, 1024);
  const modalities = checkCount('modalities', options.modalities ?? 1, 1, 2) as 1 | 2;
  const [trainKey, valKey] = split(key(seed), 2) as [RandomKey, RandomKey];
  const make = (k: RandomKey, count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => synthSlice(foldIn(k, i), `${prefix}-${String(i).padStart(4, '0')}`, size, modalities));
  const train = make(trainKey, trainSlices, 'synth-train');
  const val = make(valKey, valSlices, 'synth-val');

  let foreground = 0;
  let lesions = 0;
  let thick = 0;
  let empty = 0;
  for (const s of [...train, ...val]) {
    const stats = lesionStats(s.label, size, size);
    foreground += stats.pixels / (size * size);
    lesions += stats.lesions;
    thick += stats.thick;
    if (stats.lesions === 0) empty++;
  }
  const slices = train.length + val.length;
  return {
    name: `synthetic-wmh-seed${seed}`,
    classes: 2,
    channels: modalities,
    height: size,
    width: size,
    train,
    val,
    notes: [
      `synthetic WMH-like slices: ${trainSlices} train, ${valSlices} val, ${size}×${size}, ${modalities} modality(ies), seed ${seed}`,
      `mean foreground fraction ${formatPercent(foreground / slices)}`,
      `slices without lesions ${formatPercent(empty / slices)}`,
      `lesions ≥ 3 px across (negative signed map inside) ${formatPercent(thick / Math.max(1, lesions))} of ${lesions}`,
    ],
  };
}
