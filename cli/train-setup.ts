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
import { asUsage, DataError, UsageError } from './errors.js';
import { BACKEND_MEMORY_BYTES, MAX_SLICE_PIXELS } from './limits.js';
import { formatBytes, inferenceBytes, trainingMemory } from './model-size.js';

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
  /** False with --no-jit. */
  readonly jit?: boolean;
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
  checkModelFits(config, flags, data);
  asUsage(() => {
    if (flags.weights && name !== 'constant') throw new UsageError('--weights applies to --schedule constant only');
    if (flags.floorAtEpoch !== undefined && name !== 'rebalance') throw new UsageError('--floor-at-epoch applies to --schedule rebalance only');
    objective(config.losses, config.schedule, data.classes);
    checkConfigFitsData(config, { ...data, trainSize: data.train.length });
  });
  return config;
}

/**
 * Checks that the model and a training step fit in `BACKEND_MEMORY_BYTES`, before anything is
 * allocated.
 *
 * @throws UsageError naming `--base` (or `--depth`) when the weights alone do not fit, and
 * `--batch-size` (with `--size` and `--base` as the other levers) when a step's activations do not.
 */
export function checkModelFits(config: TrainConfig, flags: Pick<TrainFlags, 'base' | 'depth' | 'batchSize' | 'size'>, data: Pick<Dataset, 'height' | 'width' | 'train'>): void {
  const m = config.model;
  const batch = Math.max(1, Math.min(config.batchSize, data.train.length));
  const mem = trainingMemory(m, config.optimizer, batch, data.height, data.width);
  const limit = formatBytes(BACKEND_MEMORY_BYTES);
  if (mem.weightBytes > BACKEND_MEMORY_BYTES) {
    const flag = flags.base !== undefined || flags.depth === undefined ? `--base ${m.base}` : `--depth ${m.depth}`;
    throw new UsageError(`${flag}: a U-Net of base ${m.base} and depth ${m.depth} has ${mem.parameters.toPrecision(3)} parameters (${formatBytes(mem.weightBytes)} with gradients and optimizer state), more than the ${limit} a backend can hold: lower --base or --depth`);
  }
  if (mem.weightBytes + mem.activationBytes > BACKEND_MEMORY_BYTES) {
    throw new UsageError(`--batch-size ${config.batchSize}: a training step of a U-Net of base ${m.base} on ${batch} slices of ${data.height}×${data.width} needs at least ${formatBytes(mem.activationBytes)} of activations, more than the ${limit} a backend can hold: lower --batch-size, --size or --base`);
  }
}

/**
 * Checks that the slices are no larger than the network takes (`MAX_SLICE_PIXELS`).
 *
 * @throws DataError naming the file of the slices (exit 3).
 */
export function checkSliceSize(data: Pick<Dataset, 'height' | 'width' | 'train' | 'val'>, where?: string): void {
  if (data.height * data.width <= MAX_SLICE_PIXELS) return;
  const source = where ?? data.train[0]?.source?.file ?? data.val[0]?.source?.file ?? 'the data';
  throw new DataError(`${source}: slices of ${data.height}×${data.width} pixels are larger than the network takes (at most ${MAX_SLICE_PIXELS} pixels, 1024×1024): resize them with --size, or cut the images into tiles`);
}

/**
 * Checks that one forward pass of a U-Net of `base` channels on a `height × width` slice fits in
 * `BACKEND_MEMORY_BYTES` (eval and predict run large slices one at a time).
 *
 * @throws DataError naming `where` (the image file) when it does not.
 */
export function checkPredictionFits(base: number, height: number, width: number, where: string): void {
  const bytes = inferenceBytes(base, height * width);
  if (bytes <= BACKEND_MEMORY_BYTES) return;
  throw new DataError(`${where}: predicting a slice of ${height}×${width} with a U-Net of base ${base} needs at least ${formatBytes(bytes)}, more than the ${formatBytes(BACKEND_MEMORY_BYTES)} a backend can hold: downsample the image or cut it into tiles first`);
}
