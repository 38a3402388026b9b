/**
 * The data side of the commands: the dataset a command asked for (a folder or the synthetic
 * benchmark), loaded and checked before any output is written, and its adapter to the training
 * loop's `TrainingData`.
 */
import { batchOrder, DistanceMapCache, loadDataset, makeBatch, syntheticDataset, syntheticVessels, syntheticWmh, type SyntheticVesselsStats, type SyntheticWmhStats } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import type { TrainingData } from '../models/data-source.js';
import { asData, UsageError } from './errors.js';

/** The data flags, decoded. */
export interface DataOptions {
  readonly data?: string;
  readonly synthetic?: boolean;
  /** Which synthetic set (`--synthetic-set`); default `wmh`. */
  readonly syntheticSet?: SyntheticSetName;
  readonly labelFormat?: 'indices' | 'binary255' | 'auto';
  readonly size?: number;
  readonly axis?: 0 | 1 | 2;
  readonly classes?: number;
  readonly trainSlices?: number;
  readonly valSlices?: number;
  readonly modalities?: 1 | 2;
  readonly dataSeed?: number;
}

/** The synthetic sets of `--synthetic-set`: benchmark v2 (`wmh`, the default), the first WMH-like set (`wmh-v1`), vessel trees. */
export type SyntheticSetName = 'wmh' | 'wmh-v1' | 'vessels';

/** A loaded dataset; the synthetic `wmh` and `vessels` sets also give their statistics (for results.json). */
export type LoadedDataset = Dataset & { readonly stats?: SyntheticWmhStats | SyntheticVesselsStats };

/**
 * Checks that exactly one of `--data` and `--synthetic` is given (usage error otherwise) and that
 * the synthetic-only flags are not combined with `--data`.
 */
export function checkDataChoice(o: DataOptions): void {
  if (o.data !== undefined && o.synthetic) throw new UsageError('give either --data DIR or --synthetic, not both');
  if (o.data === undefined && !o.synthetic) throw new UsageError('no data: give --data DIR or --synthetic');
  if (o.data !== undefined) {
    for (const [k, flag] of [['syntheticSet', '--synthetic-set'], ['trainSlices', '--train-slices'], ['valSlices', '--val-slices'], ['modalities', '--modalities'], ['dataSeed', '--data-seed']] as const) {
      if (o[k] !== undefined) throw new UsageError(`${flag} applies to --synthetic only`);
    }
  }
}

/**
 * Loads the dataset: a synthetic set (`--synthetic-set`, default `wmh`; each set's own defaults for
 * the slice counts and size), or a folder. Bad data is a DataError naming the file or folder (exit 3).
 */
export async function loadData(o: DataOptions): Promise<LoadedDataset> {
  checkDataChoice(o);
  if (o.synthetic) {
    const options = {
      seed: o.dataSeed ?? 0, modalities: o.modalities ?? 1,
      ...(o.trainSlices !== undefined ? { trainSlices: o.trainSlices } : {}),
      ...(o.valSlices !== undefined ? { valSlices: o.valSlices } : {}),
      ...(o.size !== undefined ? { size: o.size } : {}),
    };
    const set = o.syntheticSet ?? 'wmh';
    return asData(() => (set === 'wmh-v1' ? syntheticDataset(options) : set === 'vessels' ? syntheticVessels(options) : syntheticWmh(options)));
  }
  const dir = o.data!;
  return asData(() => loadDataset(dir, {
    labelFormat: o.labelFormat ?? 'auto', axis: o.axis ?? 0, ...(o.size !== undefined ? { size: o.size } : {}), ...(o.classes !== undefined ? { classes: o.classes } : {}),
  }));
}

/** The training loop's view of a dataset, with signed distance maps computed once per slice (voxel units). */
export function trainingData(ds: Dataset, convention: 'reference' | 'interface' = 'reference'): TrainingData {
  const cache = new DistanceMapCache(ds.classes, { convention, spacing: 'voxel' });
  return {
    classes: ds.classes,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    trainSize: ds.train.length,
    val: ds.val,
    batchOrder,
    batch: (split, indices) => makeBatch(split === 'train' ? ds.train : ds.val, indices, ds.classes, cache),
  };
}
