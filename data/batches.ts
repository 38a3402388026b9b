/**
 * Mini-batches: a deterministic order of slice indices per epoch, and the tensors of one batch.
 */
import { InputError, ShapeError } from '../core/errors.js';
import { tensor } from '../core/ops.js';
import { type RandomKey, uniformArray } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
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
  /** `[B, K, H, W]` signed distance maps, from the cache. */
  readonly distMaps: Tensor;
  /** `[B, H, W]` class indices. */
  readonly labels: Uint8Array;
  /** The batch's slices, in order. */
  readonly slices: Slice[];
}

/**
 * Builds the batch of `slices[indices]`. The three tensors are new (the caller disposes of them,
 * or builds the batch inside a `scope`).
 *
 * @throws InputError for empty or out-of-range indices, `classes` that differ from the cache's, or
 *   a label outside [0, classes) (naming the slice id); ShapeError when the slices' channels or
 *   sizes differ.
 */
export function makeBatch(slices: readonly Slice[], indices: readonly number[], classes: number, cache: DistanceMapCache): Batch {
  const op = 'makeBatch';
  if (indices.length === 0) throw new InputError(op, 'indices', 'expected at least one index');
  const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= slices.length);
  if (bad !== undefined) throw new InputError(op, 'indices', `index ${bad} is outside [0, ${slices.length})`);
  if (classes !== cache.classes) throw new InputError(op, 'classes', `${classes} classes but the distance map cache has ${cache.classes}`);
  const chosen = indices.map((i) => slices[i]!);
  const { channels: c, height: h, width: w } = chosen[0]!;
  for (const s of chosen) {
    if (s.channels !== c || s.height !== h || s.width !== w) {
      throw new ShapeError(op, 'slices', `slice ${s.id} is ${s.channels}×${s.height}×${s.width} but ${chosen[0]!.id} is ${c}×${h}×${w}`);
    }
  }
  const b = chosen.length;
  const plane = h * w;
  const images = new Float32Array(b * c * plane);
  const target = new Float32Array(b * classes * plane);
  const maps = new Float32Array(b * classes * plane);
  const labels = new Uint8Array(b * plane);
  chosen.forEach((s, n) => {
    images.set(s.image, n * c * plane);
    labels.set(s.label, n * plane);
    for (let p = 0; p < plane; p++) {
      const k = s.label[p]!;
      if (k >= classes) throw new InputError(op, 'slices', `slice ${s.id} has label ${k} at pixel ${p}, outside [0, ${classes})`);
      target[(n * classes + k) * plane + p] = 1;
    }
    maps.set(cache.get(s), n * classes * plane);
  });
  return {
    images: tensor(images, [b, c, h, w]),
    target: tensor(target, [b, classes, h, w]),
    distMaps: tensor(maps, [b, classes, h, w]),
    labels,
    slices: chosen,
  };
}
