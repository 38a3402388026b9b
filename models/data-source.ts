/**
 * What the training loop and evaluation need from a dataset, as a structural interface: the
 * loaders of `data/` (slices, batching, one-hot targets, cached distance maps) satisfy it through
 * a thin adapter, and tests can pass small hand-made stand-ins.
 */
import type { RandomKey } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';

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
}

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
  /** The batch of the given training or validation indices. Tensors belong to the caller. */
  batch(split: 'train' | 'val', indices: readonly number[]): TrainingBatch;
}
