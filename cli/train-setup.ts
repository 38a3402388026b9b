/**
 * From decoded `train`/`experiment` flags to a complete `TrainConfig`, with the command line's
 * defaults: UNet-d3-b16, Adam 1e-3, batch 8, 20 epochs, GDL + boundary loss with the rebalance
 * schedule reaching its floor by mid-run in runs shorter than 100 epochs.
 */
import type { Dataset } from '../data/types.js';
import { objective, type LossName, type ScheduleSpec } from '../models/objective.js';
import { checkConfigFitsData } from '../models/train.js';
import { trainDefaults, type TrainConfig } from '../models/train-config.js';
import type { ScheduleName } from '../losses/schedules.js';
import type { LrRule } from '../models/lr-schedule.js';
import type { DataOptions } from './datasets.js';
import { asUsage, UsageError } from './errors.js';

/** The decoded model and training flags. */
export interface TrainFlags extends DataOptions {
  readonly out?: string;
  readonly backend?: string;
  readonly debug?: boolean;
  readonly quiet?: boolean;
  readonly base?: number;
  readonly depth?: number;
  readonly batchNorm?: boolean;
  readonly dropout?: number;
  readonly seed?: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly optimizer?: 'adam' | 'sgd';
  readonly momentum?: number;
  readonly lrRule?: LrRule;
  readonly lrPatience?: number;
  readonly convention?: 'reference' | 'interface';
  readonly resume?: string;
  readonly overlays?: number;
  readonly losses?: readonly LossName[];
  readonly schedule?: ScheduleName;
  readonly floorAtEpoch?: number;
  readonly weights?: readonly number[];
}

/** The default α floor epoch of `rebalance`: half the run when it is shorter than 100 epochs. */
export function defaultFloorAtEpoch(epochs: number): number | undefined {
  return epochs < 100 ? Math.max(1, Math.floor(epochs / 2)) : undefined;
}

/**
 * The training config of `flags` for `data` (channels and classes come from the data).
 *
 * @throws UsageError naming the problem: a schedule whose weight count differs from the losses',
 * images not divisible by 2^depth, …
 */
export function buildTrainConfig(flags: TrainFlags, data: Pick<Dataset, 'channels' | 'classes' | 'height' | 'width' | 'train' | 'val'>, losses?: readonly LossName[], schedule?: ScheduleSpec): TrainConfig {
  const epochs = flags.epochs ?? trainDefaults.epochs;
  const lossList = losses ?? flags.losses ?? trainDefaults.losses;
  const name: ScheduleName = schedule?.name ?? flags.schedule ?? (lossList.length === 2 ? 'rebalance' : 'constant');
  const floor = flags.floorAtEpoch ?? (name === 'rebalance' ? defaultFloorAtEpoch(epochs) : undefined);
  const spec: ScheduleSpec = schedule ?? {
    name,
    ...(name === 'rebalance' && floor !== undefined ? { floorAtEpoch: floor } : {}),
    ...(name === 'constant' && flags.weights ? { weights: flags.weights } : {}),
  };
  const config: TrainConfig = {
    ...trainDefaults,
    model: {
      inChannels: data.channels, classes: data.classes, base: flags.base ?? 16, depth: flags.depth ?? 3,
      batchNorm: flags.batchNorm ?? false, ...(flags.dropout ? { dropout: flags.dropout } : {}),
    },
    seed: flags.seed ?? trainDefaults.seed,
    epochs,
    batchSize: flags.batchSize ?? trainDefaults.batchSize,
    learningRate: flags.learningRate ?? trainDefaults.learningRate,
    optimizer: flags.optimizer ?? trainDefaults.optimizer,
    momentum: flags.momentum ?? trainDefaults.momentum,
    losses: [...lossList],
    schedule: spec,
    lrRule: flags.lrRule ?? trainDefaults.lrRule,
    lrPatience: flags.lrPatience ?? trainDefaults.lrPatience,
  };
  asUsage(() => {
    if (flags.weights && name !== 'constant') throw new UsageError('--weights applies to --schedule constant only');
    if (flags.floorAtEpoch !== undefined && name !== 'rebalance') throw new UsageError('--floor-at-epoch applies to --schedule rebalance only');
    objective(config.losses, config.schedule, data.classes);
    checkConfigFitsData(config, { ...data, trainSize: data.train.length });
  });
  return config;
}
