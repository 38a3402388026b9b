/**
 * On-the-fly data augmentation of training slices, as pure seeded functions of (image, label, key):
 * geometric transforms (`flip`, `rot90`, `affine`) move image and label together, intensity
 * transforms (`intensity`, `gamma`, `noise`) change the image only. The same key always gives the
 * same output; the inputs are never modified. Training applies them when asked (`TrainConfig.augment`,
 * `--augment`); validation never. Each transform also exists with explicit parameters
 * (`flipSlice`, `rot90Slice`, …), which `augmentSlice` calls with parameters drawn from its key.
 */
import { InputError, ShapeError } from '../core/errors.js';
import { checkOptionKeys, closestName } from '../core/options.js';
import { foldIn, normalArray, uniformArray, type RandomKey } from '../core/random.js';

/** The transforms, in the order `augmentSlice` applies them: geometric first, then intensity. */
export const AUGMENT_NAMES = ['flip', 'rot90', 'affine', 'intensity', 'gamma', 'noise'] as const;

/** One transform of {@link AUGMENT_NAMES}. */
export type AugmentName = (typeof AUGMENT_NAMES)[number];

/** The transforms that move pixels (and so change the label). */
const GEOMETRIC: readonly AugmentName[] = ['flip', 'rot90', 'affine'];

/** `flip`: the probability of each of the horizontal and the vertical flip (independent). */
export const FLIP_PROBABILITY = 0.5;
/** `affine`: the probability that a slice is rotated and scaled. */
export const AFFINE_PROBABILITY = 0.5;
/** `affine`: the largest rotation, in degrees (the angle is uniform in ±this). */
export const AFFINE_MAX_ANGLE_DEGREES = 15;
/** `affine`: the range of the isotropic scale factor (uniform). */
export const AFFINE_SCALE_RANGE: readonly [number, number] = [0.85, 1.15];
/** `intensity`: the probability that a slice's intensities are scaled and shifted. */
export const INTENSITY_PROBABILITY = 0.5;
/** `intensity`: the range of the per-channel scale factor (uniform). */
export const INTENSITY_SCALE_RANGE: readonly [number, number] = [0.9, 1.1];
/** `intensity`: the range of the per-channel shift, in normalised intensity units (uniform). */
export const INTENSITY_SHIFT_RANGE: readonly [number, number] = [-0.1, 0.1];
/** `gamma`: the probability that a slice gets a gamma correction. */
export const GAMMA_PROBABILITY = 0.5;
/** `gamma`: the range of the per-channel exponent γ (uniform). */
export const GAMMA_RANGE: readonly [number, number] = [0.7, 1.5];
/** `noise`: the probability that a slice gets additive Gaussian noise. */
export const NOISE_PROBABILITY = 0.5;
/** `noise`: the range of the noise's standard deviation σ, in normalised intensity units (uniform). */
export const NOISE_SIGMA_RANGE: readonly [number, number] = [0, 0.05];

/** The geometry of a slice: image `[channels, height, width]`, label `[height, width]`. */
export interface SliceShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** An augmented slice: new arrays, of the input's shape. */
export interface AugmentedSlice {
  /** `[C, H, W]` image values. */
  readonly image: Float32Array;
  /** `[H, W]` class indices (only values of the input label, and 0 where `affine` brings in outside pixels). */
  readonly label: Uint8Array;
}

/**
 * What a batch of training slices is augmented with: the transforms, and one key per slice of the
 * batch (in the order of the batch's indices).
 */
export interface BatchAugment {
  readonly names: readonly AugmentName[];
  readonly keys: readonly RandomKey[];
}

/**
 * Checks a list of transform names and returns it in the order of application
 * ({@link AUGMENT_NAMES}), whatever the order given. An empty list means no augmentation.
 *
 * @param op the function's name, for the error; `argument` the list's name.
 * @throws InputError naming the argument when `list` is not an array of strings, an unknown name
 *   (with the nearest known one and the valid names), or a name listed twice.
 */
export function checkAugmentList(list: unknown, op: string, argument: string): AugmentName[] {
  if (!Array.isArray(list)) throw new InputError(op, argument, `expected an array of augmentation names (${AUGMENT_NAMES.join(', ')}), got ${list === null ? 'null' : typeof list}`);
  const seen = new Set<AugmentName>();
  list.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || !(AUGMENT_NAMES as readonly string[]).includes(name)) {
      const near = typeof name === 'string' ? closestName(name, AUGMENT_NAMES) : undefined;
      const shown = typeof name === 'string' ? `'${name}'` : String(name);
      throw new InputError(op, `${argument}[${i}]`, `unknown augmentation ${shown}${near !== undefined ? ` (did you mean '${near}'?)` : ''}; expected some of ${AUGMENT_NAMES.join(', ')}`);
    }
    if (seen.has(name as AugmentName)) throw new InputError(op, `${argument}[${i}]`, `'${name}' is listed twice`);
    seen.add(name as AugmentName);
  });
  return AUGMENT_NAMES.filter((n) => seen.has(n));
}

/** True when `names` holds a transform that moves pixels (`flip`, `rot90`, `affine`), i.e. one that can change the label. */
export function isGeometric(names: readonly AugmentName[]): boolean {
  return names.some((n) => GEOMETRIC.includes(n));
}

function checkSlice(op: string, image: unknown, label: unknown, shape: SliceShape): void {
  if (shape === null || typeof shape !== 'object') throw new InputError(op, 'shape', 'expected { channels, height, width }');
  for (const k of ['channels', 'height', 'width'] as const) {
    const v = shape[k];
    if (!Number.isInteger(v) || v < 1) throw new InputError(op, `shape.${k}`, `expected a positive integer, got ${String(v)}`);
  }
  const { channels: c, height: h, width: w } = shape;
  if (!(image instanceof Float32Array)) throw new InputError(op, 'image', `expected a Float32Array, got ${Object.prototype.toString.call(image).slice(8, -1)}`);
  if (!(label instanceof Uint8Array)) throw new InputError(op, 'label', `expected a Uint8Array, got ${Object.prototype.toString.call(label).slice(8, -1)}`);
  if (image.length !== c * h * w) throw new ShapeError(op, 'image', `${image.length} values do not fill [${c}, ${h}, ${w}]`);
  if (label.length !== h * w) throw new ShapeError(op, 'label', `${label.length} values do not fill [${h}, ${w}]`);
}

function checkFinite(op: string, argument: string, v: unknown, ok: (n: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InputError(op, argument, `expected ${expected}, got ${String(v)}`);
  return v;
}

function checkPerChannel(op: string, argument: string, v: unknown, channels: number, ok: (n: number) => boolean, expected: string): readonly number[] {
  if (!Array.isArray(v) || v.length !== channels) throw new InputError(op, argument, `expected ${channels} value(s), one per channel, got ${Array.isArray(v) ? `${v.length}` : String(v)}`);
  v.forEach((x: unknown, i) => checkFinite(op, `${argument}[${i}]`, x, ok, expected));
  return v as number[];
}

/** A permutation of the pixels of image and label: output pixel `(y, x)` takes input pixel `from(y, x)` (a flat index). */
function remap(image: Float32Array, label: Uint8Array, shape: SliceShape, from: (y: number, x: number) => number): AugmentedSlice {
  const { channels: c, height: h, width: w } = shape;
  const plane = h * w;
  const outImage = new Float32Array(image.length);
  const outLabel = new Uint8Array(plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = from(y, x);
      const dst = y * w + x;
      outLabel[dst] = label[src]!;
      for (let ch = 0; ch < c; ch++) outImage[ch * plane + dst] = image[ch * plane + src]!;
    }
  }
  return { image: outImage, label: outLabel };
}

/**
 * Flips image and label: `horizontal` mirrors the columns (x → W − 1 − x), `vertical` the rows
 * (y → H − 1 − y); both, a rotation by 180°. Returns new arrays.
 *
 * @throws InputError / ShapeError naming the argument (arrays that do not fill `shape`, a flag that is not a boolean).
 */
export function flipSlice(image: Float32Array, label: Uint8Array, shape: SliceShape, flips: { readonly horizontal: boolean; readonly vertical: boolean }): AugmentedSlice {
  const op = 'flipSlice';
  checkSlice(op, image, label, shape);
  checkOptionKeys(op, flips, ['horizontal', 'vertical'], 'flips');
  for (const k of ['horizontal', 'vertical'] as const) if (typeof flips?.[k] !== 'boolean') throw new InputError(op, `flips.${k}`, `expected a boolean, got ${String(flips?.[k])}`);
  const { height: h, width: w } = shape;
  return remap(image, label, shape, (y, x) => (flips.vertical ? h - 1 - y : y) * w + (flips.horizontal ? w - 1 - x : x));
}

/**
 * Rotates image and label by k·90° counter-clockwise as displayed (row 0 at the top), as numpy's
 * `rot90(plane, k)`: for k = 1, output pixel (y, x) is input pixel (x, W − 1 − y). An odd k swaps
 * height and width, so it takes square slices only. Returns new arrays.
 *
 * @throws InputError for k not an integer in 0 … 3; ShapeError for an odd k on a non-square slice
 *   or arrays that do not fill `shape`.
 */
export function rot90Slice(image: Float32Array, label: Uint8Array, shape: SliceShape, k: number): AugmentedSlice {
  const op = 'rot90Slice';
  checkSlice(op, image, label, shape);
  if (!Number.isInteger(k) || k < 0 || k > 3) throw new InputError(op, 'k', `expected an integer in 0 … 3 (quarter turns), got ${k}`);
  const { height: h, width: w } = shape;
  if (k % 2 === 1 && h !== w) throw new ShapeError(op, 'k', `a quarter turn (k = ${k}) of a ${h}×${w} slice would make it ${w}×${h}: odd k takes square slices only`);
  const n = h;
  const from: (y: number, x: number) => number = k === 0 ? (y, x) => y * w + x
    : k === 1 ? (y, x) => x * w + (n - 1 - y)
      : k === 2 ? (y, x) => (h - 1 - y) * w + (w - 1 - x)
        : (y, x) => (n - 1 - x) * w + y;
  return remap(image, label, shape, from);
}

/**
 * Rotates by `angle` degrees (counter-clockwise as displayed, as {@link rot90Slice}) and scales by
 * `scale` (> 1 enlarges) about the slice's centre ((H − 1)/2, (W − 1)/2). Each output pixel samples
 * the input at its inverse image: the image bilinearly, with 0 for the neighbours outside the
 * slice; the label by its nearest pixel (rounding), background 0 outside. Angle 0 and scale 1 give
 * the input back exactly. Returns new arrays.
 *
 * @throws InputError for a non-finite angle or a scale that is not a positive finite number;
 *   ShapeError for arrays that do not fill `shape`.
 */
export function affineSlice(image: Float32Array, label: Uint8Array, shape: SliceShape, transform: { readonly angle: number; readonly scale: number }): AugmentedSlice {
  const op = 'affineSlice';
  checkSlice(op, image, label, shape);
  checkOptionKeys(op, transform, ['angle', 'scale'], 'transform');
  const angle = checkFinite(op, 'transform.angle', transform?.angle, () => true, 'a finite angle in degrees');
  const scale = checkFinite(op, 'transform.scale', transform?.scale, (s) => s > 0, 'a positive finite scale');
  const { channels: c, height: h, width: w } = shape;
  const plane = h * w;
  const theta = (angle * Math.PI) / 180;
  const cos = angle === 0 ? 1 : Math.cos(theta);
  const sin = angle === 0 ? 0 : Math.sin(theta);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const outImage = new Float32Array(image.length);
  const outLabel = new Uint8Array(plane);
  const at = (ch: number, y: number, x: number): number => (y >= 0 && y < h && x >= 0 && x < w ? image[ch * plane + y * w + x]! : 0);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dy = y - cy;
      const dx = x - cx;
      const sx = cx + (cos * dx - sin * dy) / scale;
      const sy = cy + (sin * dx + cos * dy) / scale;
      const dst = y * w + x;
      const ny = Math.round(sy);
      const nx = Math.round(sx);
      outLabel[dst] = ny >= 0 && ny < h && nx >= 0 && nx < w ? label[ny * w + nx]! : 0;
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const ty = sy - y0;
      const tx = sx - x0;
      for (let ch = 0; ch < c; ch++) {
        // with tx = ty = 0 (angle 0, scale 1) this is the input value exactly
        const a = at(ch, y0, x0);
        const b = at(ch, y0 + 1, x0);
        const top = a + (at(ch, y0, x0 + 1) - a) * tx;
        const bottom = b + (at(ch, y0 + 1, x0 + 1) - b) * tx;
        outImage[ch * plane + dst] = top + (bottom - top) * ty;
      }
    }
  }
  return { image: outImage, label: outLabel };
}

/** A new image: `f(channel, value)` of every value; the label copied. */
function perValue(image: Float32Array, label: Uint8Array, shape: SliceShape, f: (ch: number, plane: Float32Array, out: Float32Array) => void): AugmentedSlice {
  const plane = shape.height * shape.width;
  const out = new Float32Array(image.length);
  for (let ch = 0; ch < shape.channels; ch++) f(ch, image.subarray(ch * plane, (ch + 1) * plane), out.subarray(ch * plane, (ch + 1) * plane));
  return { image: out, label: Uint8Array.from(label) };
}

/**
 * Scales and shifts each channel's values: v → scale[c]·v + shift[c] (on the loaders' min-max
 * normalised images, shift is in those units; nothing is clipped). The label is copied unchanged.
 *
 * @throws InputError for `scale`/`shift` that are not one finite number per channel (scale > 0);
 *   ShapeError for arrays that do not fill `shape`.
 */
export function intensitySlice(image: Float32Array, label: Uint8Array, shape: SliceShape, params: { readonly scale: readonly number[]; readonly shift: readonly number[] }): AugmentedSlice {
  const op = 'intensitySlice';
  checkSlice(op, image, label, shape);
  checkOptionKeys(op, params, ['scale', 'shift'], 'params');
  const scale = checkPerChannel(op, 'params.scale', params?.scale, shape.channels, (s) => s > 0, 'a positive finite number');
  const shift = checkPerChannel(op, 'params.shift', params?.shift, shape.channels, () => true, 'a finite number');
  return perValue(image, label, shape, (ch, src, out) => {
    for (let i = 0; i < src.length; i++) out[i] = scale[ch]! * src[i]! + shift[ch]!;
  });
}

/**
 * Gamma correction per channel: the channel is rescaled from its own [min, max] to [0, 1], raised
 * to gamma[c] and mapped back, v → min + (max − min)·((v − min)/(max − min))^γ, so min and max stay
 * where they are. A constant channel is unchanged; γ = 1 gives the input back. The label is copied
 * unchanged.
 *
 * @throws InputError for `gamma` that is not one positive finite number per channel; ShapeError for
 *   arrays that do not fill `shape`.
 */
export function gammaSlice(image: Float32Array, label: Uint8Array, shape: SliceShape, params: { readonly gamma: readonly number[] }): AugmentedSlice {
  const op = 'gammaSlice';
  checkSlice(op, image, label, shape);
  checkOptionKeys(op, params, ['gamma'], 'params');
  const gamma = checkPerChannel(op, 'params.gamma', params?.gamma, shape.channels, (g) => g > 0, 'a positive finite exponent');
  return perValue(image, label, shape, (ch, src, out) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < src.length; i++) {
      lo = Math.min(lo, src[i]!);
      hi = Math.max(hi, src[i]!);
    }
    const range = hi - lo;
    if (!(range > 0)) {
      out.set(src);
      return;
    }
    const g = gamma[ch]!;
    for (let i = 0; i < src.length; i++) out[i] = lo + range * ((src[i]! - lo) / range) ** g;
  });
}

/**
 * Adds Gaussian noise of standard deviation `sigma` to every image value, drawn from `key`
 * (`normalArray(key, C·H·W)`, in the image's order). The label is copied unchanged.
 *
 * @throws InputError for a sigma that is not a non-negative finite number or a key that is not a
 *   random key; ShapeError for arrays that do not fill `shape`.
 */
export function noiseSlice(image: Float32Array, label: Uint8Array, shape: SliceShape, params: { readonly sigma: number; readonly key: RandomKey }): AugmentedSlice {
  const op = 'noiseSlice';
  checkSlice(op, image, label, shape);
  checkOptionKeys(op, params, ['sigma', 'key'], 'params');
  const sigma = checkFinite(op, 'params.sigma', params?.sigma, (s) => s >= 0, 'a non-negative finite standard deviation');
  checkKey(op, 'params.key', params.key);
  const z = normalArray(params.key, image.length);
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = image[i]! + sigma * z[i]!;
  return { image: out, label: Uint8Array.from(label) };
}

function checkKey(op: string, argument: string, k: unknown): void {
  const ok = k !== null && typeof k === 'object' && Number.isInteger((k as RandomKey).k0) && Number.isInteger((k as RandomKey).k1);
  if (!ok) throw new InputError(op, argument, 'expected a random key { k0, k1 } (core/random.ts key, split, foldIn)');
}

const lerp = ([lo, hi]: readonly [number, number], u: number): number => lo + (hi - lo) * u;

/**
 * Augments one slice with the transforms `names`, applied in the fixed order of
 * {@link AUGMENT_NAMES} (geometric first, then intensity) whatever the order of `names`, each with
 * parameters drawn from `key`. Transform t draws from `foldIn(key, t's index in AUGMENT_NAMES)`,
 * so its draws do not depend on which other transforms are listed.
 *
 * - `flip`: a horizontal flip with probability 1/2 and, independently, a vertical one with 1/2.
 * - `rot90`: k·90° with k uniform in 0 … 3; on non-square slices k is 0 or 2 (1/2 each), as a
 *   quarter turn would swap height and width.
 * - `affine`: with probability 1/2, a rotation uniform in ±15° and an isotropic scale uniform in
 *   0.85 … 1.15 about the centre (image bilinear, label nearest; 0 outside).
 * - `intensity`: with probability 1/2, per channel v → a·v + b, a uniform in 0.9 … 1.1, b in ±0.1.
 * - `gamma`: with probability 1/2, per channel γ uniform in 0.7 … 1.5 on the channel's own [min, max].
 * - `noise`: with probability 1/2, additive Gaussian noise of σ uniform in 0 … 0.05.
 *
 * Pure: the inputs are not modified, the outputs are new arrays, and one key gives one output.
 *
 * @throws InputError for an unknown or repeated name, or a key that is not a random key;
 *   ShapeError for arrays that do not fill `shape`.
 */
export function augmentSlice(image: Float32Array, label: Uint8Array, shape: SliceShape, names: readonly AugmentName[], key: RandomKey): AugmentedSlice {
  const op = 'augmentSlice';
  checkSlice(op, image, label, shape);
  const list = checkAugmentList(names, op, 'names');
  checkKey(op, 'key', key);
  const c = shape.channels;
  let s: AugmentedSlice = { image: Float32Array.from(image), label: Uint8Array.from(label) };
  for (const name of list) {
    const k = foldIn(key, AUGMENT_NAMES.indexOf(name));
    switch (name) {
      case 'flip': {
        const u = uniformArray(k, 2);
        const flips = { horizontal: u[0]! < FLIP_PROBABILITY, vertical: u[1]! < FLIP_PROBABILITY };
        if (flips.horizontal || flips.vertical) s = flipSlice(s.image, s.label, shape, flips);
        break;
      }
      case 'rot90': {
        const u = uniformArray(k, 1)[0]!;
        const turns = shape.height === shape.width ? Math.floor(u * 4) : 2 * Math.floor(u * 2);
        if (turns !== 0) s = rot90Slice(s.image, s.label, shape, turns);
        break;
      }
      case 'affine': {
        const u = uniformArray(k, 3);
        if (u[0]! < AFFINE_PROBABILITY) s = affineSlice(s.image, s.label, shape, { angle: lerp([-AFFINE_MAX_ANGLE_DEGREES, AFFINE_MAX_ANGLE_DEGREES], u[1]!), scale: lerp(AFFINE_SCALE_RANGE, u[2]!) });
        break;
      }
      case 'intensity': {
        const u = uniformArray(k, 1 + 2 * c);
        if (u[0]! < INTENSITY_PROBABILITY) {
          const scale = Array.from({ length: c }, (_, ch) => lerp(INTENSITY_SCALE_RANGE, u[1 + ch]!));
          const shift = Array.from({ length: c }, (_, ch) => lerp(INTENSITY_SHIFT_RANGE, u[1 + c + ch]!));
          s = intensitySlice(s.image, s.label, shape, { scale, shift });
        }
        break;
      }
      case 'gamma': {
        const u = uniformArray(k, 1 + c);
        if (u[0]! < GAMMA_PROBABILITY) s = gammaSlice(s.image, s.label, shape, { gamma: Array.from({ length: c }, (_, ch) => lerp(GAMMA_RANGE, u[1 + ch]!)) });
        break;
      }
      case 'noise': {
        const u = uniformArray(foldIn(k, 0), 2);
        if (u[0]! < NOISE_PROBABILITY) s = noiseSlice(s.image, s.label, shape, { sigma: lerp(NOISE_SIGMA_RANGE, u[1]!), key: foldIn(k, 1) });
        break;
      }
    }
  }
  return s;
}
