/**
 * Mini-batches: a deterministic order of slice indices per epoch, and the tensors of one batch
 * (its slices augmented, when asked).
 */
import { InputError, ShapeError } from '../core/errors.js';
import { tensor } from '../core/ops.js';
import { type RandomKey, uniformArray } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { augmentSlice, checkAugmentList, isGeometric, type BatchAugment } from './augment.js';
import type { DistanceMapCache } from './distance-cache.js';
import type { Slice } from './types.js';

/**
 * The batches of one epoch: indices `0 … count − 1` (shuffled by a Fisher–Yates pass drawn from
 * `key` when `shuffle`), cut into batches of `batchSize`; the last batch keeps the remainder. Every
 * index occurs exactly once. Same key, same order; derive one key per epoch (`foldIn(key, epoch)`).
 *
 * @throws InputError for a count that is not a non-negative integer or a batch size below 1.
 */
export function batchOrder(count: number, batchSize: number, key: RandomKey, shuffle: boolean): number[][] {
  if (!Number.isInteger(count) || count < 0) throw new InputError('batchOrder', 'count', `expected a non-negative integer, got ${count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError('batchOrder', 'batchSize', `expected a positive integer, got ${batchSize}`);
  const order = Array.from({ length: count }, (_, i) => i);
  if (shuffle) {
    const u = uniformArray(key, count);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(u[i]! * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  const batches: number[][] = [];
  for (let i = 0; i < count; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

/** The tensors of one batch, on the current backend, and the host data they came from. */
export interface Batch {
  /** `[B, C, H, W]` images. */
  readonly images: Tensor;
  /** `[B, K, H, W]` one-hot target (0/1). */
  readonly target: Tensor;
  /** `[B, K, H, W]` signed distance maps: from the cache, or of the augmented labels. */
  readonly distMaps: Tensor;
  /** `[B, H, W]` class indices (augmented, when the batch is). */
  readonly labels: Uint8Array;
  /** The batch's slices, in order. */
  readonly slices: Slice[];
}

/**
 * Builds the batch of `slices[indices]`. The three tensors are new (the caller disposes of them,
 * or builds the batch inside a `scope`).
 *
 * With `augment`, slice `slices[indices[n]]` is augmented by `augmentSlice(…, augment.names,
 * augment.keys[n])` first; the one-hot target, the labels and the distance maps are then those of
 * the augmented label. Without a geometric transform (`isGeometric`) the label is unchanged and the
 * maps come from the cache; with one, they are computed for the augmented label
 * (`cache.mapsOf`: the cache keeps the slices' own maps only), or taken from the cache when the
 * augmented label equals the slice's (no transform fired). The slices are never modified.
 *
 * @throws InputError for empty or out-of-range indices, `classes` that differ from the cache's, a
 *   label outside [0, classes) (naming the slice id), an `augment` with an unknown or repeated
 *   name or another number of keys than indices, or geometric transforms with `'physical'` maps of
 *   non-square pixels (the transforms work on the pixel grid); ShapeError when the slices'
 *   channels or sizes differ.
 */
export function makeBatch(slices: readonly Slice[], indices: readonly number[], classes: number, cache: DistanceMapCache, augment?: BatchAugment): Batch {
  const op = 'makeBatch';
  if (indices.length === 0) throw new InputError(op, 'indices', 'expected at least one index');
  const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= slices.length);
  if (bad !== undefined) throw new InputError(op, 'indices', `index ${bad} is outside [0, ${slices.length})`);
  if (classes !== cache.classes) throw new InputError(op, 'classes', `${classes} classes but the distance map cache has ${cache.classes}`);
  const names = augment === undefined ? [] : checkAugmentList(augment.names, op, 'augment.names');
  if (augment !== undefined && (!Array.isArray(augment.keys) || augment.keys.length !== indices.length)) {
    throw new InputError(op, 'augment.keys', `expected one key per index (${indices.length}), got ${Array.isArray(augment.keys) ? augment.keys.length : String(augment.keys)}`);
  }
  const geometric = isGeometric(names);
  const chosen = indices.map((i) => slices[i]!);
  const { channels: c, height: h, width: w } = chosen[0]!;
  for (const s of chosen) {
    if (s.channels !== c || s.height !== h || s.width !== w) {
      throw new ShapeError(op, 'slices', `slice ${s.id} is ${s.channels}×${s.height}×${s.width} but ${chosen[0]!.id} is ${c}×${h}×${w}`);
    }
    if (geometric && cache.spacing === 'physical' && s.spacing[0] !== s.spacing[1]) {
      throw new InputError(op, 'augment.names', `slice ${s.id} has pixels of ${s.spacing[0]}×${s.spacing[1]} mm: the geometric transforms (${names.filter((n) => isGeometric([n])).join(', ')}) work on the pixel grid, so its 'physical' distance maps would be wrong; use 'voxel' maps or intensity transforms only`);
    }
  }
  const b = chosen.length;
  const plane = h * w;
  const images = new Float32Array(b * c * plane);
  const target = new Float32Array(b * classes * plane);
  const maps = new Float32Array(b * classes * plane);
  const labels = new Uint8Array(b * plane);
  chosen.forEach((s, n) => {
    // the slice's own labels are checked: an augmented label holds only its values (and 0)
    for (let p = 0; p < plane; p++) {
      const k = s.label[p]!;
      if (k >= classes) throw new InputError(op, 'slices', `slice ${s.id} has label ${k} at pixel ${p}, outside [0, ${classes})`);
    }
    const aug = names.length > 0 ? augmentSlice(s.image, s.label, s, names, augment!.keys[n]!) : { image: s.image, label: s.label };
    images.set(aug.image, n * c * plane);
    labels.set(aug.label, n * plane);
    for (let p = 0; p < plane; p++) target[(n * classes + aug.label[p]!) * plane + p] = 1;
    maps.set(geometric && !sameValues(aug.label, s.label) ? cache.mapsOf(s, aug.label) : cache.get(s), n * classes * plane);
  });
  return {
    images: tensor(images, [b, c, h, w]),
    target: tensor(target, [b, classes, h, w]),
    distMaps: tensor(maps, [b, classes, h, w]),
    labels,
    slices: chosen,
  };
}

function sameValues(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
