/**
 * The data model shared by loaders, the training loop and the CLI: 2-D slices with class-index
 * labels, grouped into train and validation splits.
 */
import type { VolumeRef } from '../metrics/volumes.js';

/** One 2-D slice: image channels and its label map, row-major. */
export interface Slice {
  /** Stable identifier, used in file names of predictions and overlays (e.g. `case01_z042`). */
  readonly id: string;
  /** Image values [channels, height, width], normalised to [0, 1]. */
  readonly image: Float32Array;
  /** Class indices [height, width], each in [0, classes). */
  readonly label: Uint8Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Physical size of a pixel [along height, along width], in mm (1 when unknown). */
  readonly spacing: readonly [number, number];
  /** Where the slice came from (file path, and the volume's slice index for NIfTI). */
  readonly source?: { readonly file: string; readonly index?: number; readonly axis?: number };
  /**
   * The volume the slice was cut from, when it was: its `id` (a NIfTI file's case name, a synthetic
   * volume's name), the slice's position `index` along the slicing axis, and the slice `thickness`
   * in mm (the spacing across slices) when known. PNG slices have none. See `groupVolumes`.
   */
  readonly volume?: VolumeRef;
}

/**
 * How a dataset's cases were split into train and validation: by a given split (`splits`: a fold of
 * nnU-Net's `splits_final.json`) or by a seeded random split of the cases (`seeded`).
 */
export interface DatasetSplit {
  readonly source: 'splits' | 'seeded';
  /** The splits file, when the split came from one. */
  readonly file?: string;
  /** The fold of the splits (0-based). */
  readonly fold?: number;
  /** The seed of a seeded split. */
  readonly seed?: number;
  /** The case ids of each split, sorted. */
  readonly train: readonly string[];
  readonly val: readonly string[];
}

/** A dataset: train and validation slices of one geometry. */
export interface Dataset {
  readonly name: string;
  readonly classes: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly train: readonly Slice[];
  readonly val: readonly Slice[];
  /** Human-readable facts to print (foreground fraction, lesion counts, files read, …). */
  readonly notes: readonly string[];
  /** How the cases were split into train and val, when the loader chose it (an nnU-Net dataset). */
  readonly split?: DatasetSplit;
  /** The class names, index = class (an nnU-Net dataset's `labels`). */
  readonly classNames?: readonly string[];
  /** The image channel names, index = channel (an nnU-Net dataset's `channel_names`). */
  readonly channelNames?: readonly string[];
}
