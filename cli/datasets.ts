/**
 * The data side of the commands: the dataset a command asked for (a folder, an nnU-Net dataset or
 * a synthetic set), loaded and checked before any output is written. The training loop's view of
 * it is the library's `trainingData` (models/data-source.ts).
 */
import { isNnunetFolder, loadDataset, loadNnunetDataset, readSplits, syntheticDataset, syntheticVessels, syntheticWmh, type SyntheticVesselsStats, type SyntheticWmhStats } from '../data/index.js';
import type { Dataset } from '../data/types.js';
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
  /** Synthetic: the seed of the generated data; an nnU-Net folder without splits: the seed of its 80/20 case split. */
  readonly dataSeed?: number;
  /** An nnU-Net folder: a `splits_final.json` (`--splits`). */
  readonly splits?: string;
  /** An nnU-Net folder: the fold of the splits (`--fold`). */
  readonly fold?: number;
}

/** The synthetic sets of `--synthetic-set`: benchmark v2 (`wmh`, the default), the first WMH-like set (`wmh-v1`), vessel trees. */
export type SyntheticSetName = 'wmh' | 'wmh-v1' | 'vessels';

/** A loaded dataset; the synthetic `wmh` and `vessels` sets also give their statistics (for results.json). */
export type LoadedDataset = Dataset & { readonly stats?: SyntheticWmhStats | SyntheticVesselsStats };

/** The flags that apply to an nnU-Net dataset folder only. */
const NNUNET_ONLY = [['splits', '--splits'], ['fold', '--fold']] as const;

/**
 * Checks that exactly one of `--data` and `--synthetic` is given (usage error otherwise), that
 * the synthetic-only flags are not combined with `--data`, and that the nnU-Net-only flags
 * (`--splits`, `--fold`) are not combined with `--synthetic`. (`--data-seed` and the nnU-Net flags
 * with a `--data` folder that is not an nnU-Net dataset are refused by {@link loadData}.)
 */
export function checkDataChoice(o: DataOptions): void {
  if (o.data !== undefined && o.synthetic) throw new UsageError('give either --data DIR or --synthetic, not both');
  if (o.data === undefined && !o.synthetic) throw new UsageError('no data: give --data DIR or --synthetic');
  if (o.data !== undefined) {
    for (const [k, flag] of [['syntheticSet', '--synthetic-set'], ['trainSlices', '--train-slices'], ['valSlices', '--val-slices'], ['modalities', '--modalities']] as const) {
      if (o[k] !== undefined) throw new UsageError(`${flag} applies to --synthetic only`);
    }
  } else {
    for (const [k, flag] of NNUNET_ONLY) {
      if (o[k] !== undefined) throw new UsageError(`${flag} applies to an nnU-Net dataset folder (--data DIR holding dataset.json) only`);
    }
  }
}

/**
 * Loads the dataset: a synthetic set (`--synthetic-set`, default `wmh`; each set's own defaults for
 * the slice counts and size), an nnU-Net raw dataset (a `--data` folder holding `dataset.json`;
 * `--splits`, `--fold`, and `--data-seed` for the seeded split), or a `DIR/{train,val}/{img,gt}`
 * folder. Bad data is a DataError naming the file or folder (exit 3); `--splits`, `--fold` or
 * `--data-seed` with a folder that is not an nnU-Net dataset is a UsageError.
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
  const common = {
    labelFormat: o.labelFormat ?? 'auto', axis: o.axis ?? 0, ...(o.size !== undefined ? { size: o.size } : {}), ...(o.classes !== undefined ? { classes: o.classes } : {}),
  } as const;
  if (await isNnunetFolder(dir)) {
    const file = o.splits;
    const splits = file !== undefined ? { splits: await asData(() => readSplits(file)), splitsFile: file } : {};
    return asData(() => loadNnunetDataset(dir, {
      ...common, ...splits, ...(o.fold !== undefined ? { fold: o.fold } : {}), ...(o.dataSeed !== undefined ? { seed: o.dataSeed } : {}),
    }));
  }
  for (const [k, flag] of [...NNUNET_ONLY, ['dataSeed', '--data-seed']] as const) {
    if (o[k] !== undefined) throw new UsageError(`${flag} applies to an nnU-Net dataset folder (one holding dataset.json)${k === 'dataSeed' ? ' or --synthetic' : ''} only, not to ${dir}`);
  }
  return asData(() => loadDataset(dir, common));
}
