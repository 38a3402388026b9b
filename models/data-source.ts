/**
 * What the training loop and evaluation need from a dataset, as a structural interface: the
 * loaders of `data/` (slices, batching, one-hot targets, cached distance maps) satisfy it through
 * a thin adapter, and tests can pass small hand-made stand-ins. The checks at the end are what
 * `train` verifies of the batches a user-supplied dataset hands it.
 */
import { scope } from '../core/engine.js';
import { InputError, showShape } from '../core/errors.js';
import { reshape, slice } from '../core/ops.js';
import type { RandomKey } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { checkOneHot } from '../losses/checks.js';
import type { BatchAugment } from '../data/augment.js';
import { batchOrder, makeBatch } from '../data/batches.js';
import { DistanceMapCache, type DistanceMapCacheOptions } from '../data/distance-cache.js';
import type { Dataset } from '../data/types.js';
import { checkOptionKeys } from '../core/options.js';
import type { VolumeRef } from '../metrics/volumes.js';

/** One batch, as `data/`'s `makeBatch` makes it. */
export interface TrainingBatch {
  /** Images [B, C, H, W]. */
  readonly images: Tensor;
  /** One-hot target [B, K, H, W]. */
  readonly target: Tensor;
  /** Signed distance maps of the target, all classes [B, K, H, W]. */
  readonly distMaps: Tensor;
  /** Class-index labels [B, H, W], on the host. */
  readonly labels: Uint8Array;
}

/** A labelled image as evaluation sees it (a structural subset of `data/`'s `Slice`). */
export interface LabelledImage {
  readonly id: string;
  readonly label: Uint8Array;
  readonly height: number;
  readonly width: number;
  /** Pixel size [along H, along W] in mm, for the distance metrics. */
  readonly spacing: readonly [number, number];
  /**
   * The volume the slice belongs to, for per-volume evaluation (`evaluateSet`): its id, the
   * slice's position in it, and the slice thickness in mm (the spacing along the stacking axis,
   * 1 when absent). A slice without it is a volume of its own.
   */
  readonly volume?: VolumeRef;
}

/** Where a slice sits in its volume (see `LabelledImage.volume`). */
export type { VolumeRef } from '../metrics/volumes.js';

/** A training set with its validation split. */
export interface TrainingData {
  readonly classes: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Number of training images. */
  readonly trainSize: number;
  /** The validation images (in a fixed order). */
  readonly val: readonly LabelledImage[];
  /** Batches of indices in [0, count) for one epoch: shuffled by `key` when `shuffle`. */
  batchOrder(count: number, batchSize: number, key: RandomKey, shuffle: boolean): number[][];
  /**
   * True when `batch` honours its `augment` argument; `train` refuses a config with `augment` for
   * data without it (a stand-in that ignores the argument would train unaugmented unnoticed).
   */
  readonly canAugment?: boolean;
  /**
   * The batch of the given training or validation indices. Tensors belong to the caller. With
   * `augment` (training batches only; validation is never augmented), slice `indices[n]` is
   * augmented with `augment.names` and `augment.keys[n]` (`augmentSlice`), and the target, labels
   * and distance maps are those of the augmented label.
   */
  batch(split: 'train' | 'val', indices: readonly number[], augment?: BatchAugment): TrainingBatch;
}

/**
 * The training loop's view of a `Dataset` (a loaded folder, an nnU-Net dataset, a synthetic set):
 * batches made by `makeBatch`, with each slice's signed distance maps computed once and cached
 * (`DistanceMapCache`; `options` as its options: `convention` default `'reference'`, `spacing`
 * default `'voxel'`, the maps in pixel units as the reference code trains), augmentation of
 * training batches on request (`canAugment`).
 *
 * @example
 * import { syntheticWmh, trainingData, dispose } from 'boundary-seg';
 *
 * const ds = syntheticWmh({ seed: 0, trainSlices: 8, valSlices: 4, size: 32 });
 * const data = trainingData(ds, { convention: 'interface' }); // what `train(config, data)` takes
 * const batch = data.batch('train', [0, 1]);
 * console.log(batch.images.shape, batch.distMaps.shape); // [2, 1, 32, 32] [2, 2, 32, 32]
 * dispose([batch.images, batch.target, batch.distMaps]);
 *
 * @throws InputError naming an unknown option or a bad `convention` / `spacing`.
 */
export function trainingData(ds: Dataset, options: DistanceMapCacheOptions = {}): TrainingData {
  checkOptionKeys('trainingData', options, ['convention', 'spacing']);
  const cache = new DistanceMapCache(ds.classes, options);
  return {
    classes: ds.classes,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    trainSize: ds.train.length,
    val: ds.val,
    canAugment: true,
    batchOrder,
    batch: (split, indices, augment) => (split === 'train'
      ? makeBatch(ds.train, indices, ds.classes, cache, augment)
      : makeBatch(ds.val, indices, ds.classes, cache)),
  };
}

/** Where a batch sits in a run, for the messages of the batch checks. */
export interface BatchPlace {
  readonly split: 'train' | 'val';
  /** The indices the batch was asked for. */
  readonly indices: readonly number[];
  /** 0-based epoch, and batch within the epoch. */
  readonly epoch: number;
  readonly batch: number;
}

type BatchGeometry = Pick<TrainingData, 'classes' | 'height' | 'width' | 'val'>;

function imageName(data: BatchGeometry, place: BatchPlace, j: number): string {
  const index = place.indices[j]!;
  const id = place.split === 'val' ? data.val[index]?.id : undefined;
  return place.split === 'val' ? `validation image ${index}${id !== undefined ? ` (${id})` : ''}` : `training image ${index}`;
}

function batchName(place: BatchPlace): string {
  return `batch ${place.batch + 1} of epoch ${place.epoch + 1}, data.batch('${place.split}', [${place.indices.join(', ')}])`;
}

/**
 * Checks a batch's host labels on the host, cheaply (one pass over the bytes): every value is a
 * class index below `data.classes`. A batch without labels (an empty array) passes.
 *
 * @throws InputError (`data`) naming the image, the pixel and the value, or a labels array of the
 * wrong length or type.
 */
export function checkBatchLabels(batch: TrainingBatch, data: BatchGeometry, place: BatchPlace, op = 'train'): void {
  const labels: unknown = batch.labels;
  if (labels === undefined || (ArrayBuffer.isView(labels) && (labels as Uint8Array).length === 0)) return;
  const hw = data.height * data.width;
  const n = place.indices.length;
  if (!(labels instanceof Uint8Array) || labels.length !== n * hw) {
    const got = labels instanceof Uint8Array ? `${labels.length} values` : `a ${Object.prototype.toString.call(labels).slice(8, -1)}`;
    throw new InputError(op, 'data', `${batchName(place)}: labels must be a Uint8Array of ${n}×${data.height}×${data.width} = ${n * hw} class indices, got ${got}`);
  }
  const k = data.classes;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! < k) continue;
    const j = Math.floor(i / hw);
    const p = i - j * hw;
    throw new InputError(op, 'data', `${imageName(data, place, j)} (${batchName(place)}): label ${labels[i]} at (y, x) = (${Math.floor(p / data.width)}, ${p % data.width}) is not one of the ${k} classes 0 … ${k - 1}`);
  }
}

/**
 * Checks a batch's target: shape [B, K, H, W] for the B indices asked and the data's K classes,
 * and one-hot along the class axis, image by image (`checkOneHot`). It reads the target back, so
 * `train` runs it on the first batch of a run only.
 *
 * @throws InputError (`data`) naming the image and the first value or pixel that is not one-hot.
 */
export async function checkBatchTarget(batch: TrainingBatch, data: BatchGeometry, place: BatchPlace, op = 'train'): Promise<void> {
  const t: unknown = batch.target;
  const k = data.classes;
  const n = place.indices.length;
  const expected = [n, k, data.height, data.width];
  if (!(t instanceof Tensor) || t.rank !== 4 || t.shape.some((d, i) => d !== expected[i])) {
    const got = t instanceof Tensor ? showShape(t.shape) : t === null ? 'null' : typeof t;
    throw new InputError(op, 'data', `${batchName(place)}: the target must be one-hot of shape ${showShape(expected)}, got ${got}`);
  }
  for (let j = 0; j < n; j++) {
    const one = scope(() => reshape(slice(t, [j, 0, 0, 0], [1, k, data.height, data.width]), [k, data.height, data.width]));
    try {
      await checkOneHot(one, { axis: 0, name: 'target' });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const detail = e.message.slice(`${e.op}: ${e.argument}: `.length);
      throw new InputError(op, 'data', `${imageName(data, place, j)} (${batchName(place)}): the target is not one-hot over the ${k} classes: ${detail} (index [class, y, x])`);
    } finally {
      one.dispose();
    }
  }
}
