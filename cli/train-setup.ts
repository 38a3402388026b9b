/**
 * From decoded `train`/`experiment` flags to a complete `TrainConfig`, with the command line's
 * defaults: UNet-d3-b16 with batch norm (or `--arch reference`: the authors' network at base 64),
 * Adam 1e-3, batch 8, 20 epochs, GDL + boundary loss with the rebalance
 * schedule reaching its floor by mid-run in runs shorter than 100 epochs.
 */
import { AUGMENT_NAMES, checkAugmentList, type AugmentName } from '../data/augment.js';
import type { Dataset } from '../data/types.js';
import { objective, type LossName, type ScheduleSpec } from '../models/objective.js';
import { checkConfigFitsData } from '../models/train.js';
import { trainDefaults, type TrainConfig } from '../models/train-config.js';
import { checkNetworkConfig, isReferenceConfig, NETWORK_ARCHS, type NetworkArch, type NetworkConfig } from '../models/networks.js';
import type { GeneralizedDiceWeights } from '../losses/dice.js';
import { scheduleSpec, type CliScheduleName } from './schedules.js';
import type { LrRule } from '../models/lr-schedule.js';
import type { DataOptions } from './datasets.js';
import { asUsage, DataError, UsageError } from './errors.js';
import { InputError } from '../core/errors.js';
import { BACKEND_MEMORY_BYTES, MAX_SLICE_PIXELS } from './limits.js';
import { formatBytes, networkInferenceBytes, trainingMemory } from './model-size.js';

/** The decoded model and training flags. */
export interface TrainFlags extends DataOptions {
  readonly out?: string;
  readonly backend?: string;
  readonly debug?: boolean;
  readonly quiet?: boolean;
  /** The network: `unet` (the default) or `reference`. */
  readonly arch?: NetworkArch;
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
  readonly schedule?: CliScheduleName;
  readonly floorAtEpoch?: number;
  readonly weights?: readonly number[];
  readonly gdlWeights?: GeneralizedDiceWeights;
  /** `--augment`: transforms of the training slices, or `['none']` (the default: no augmentation). */
  readonly augment?: readonly (AugmentName | 'none')[];
}

/**
 * The command line's default schedule of a pair of losses (GDL + boundary loss): the paper's
 * rebalance as published (α lowered by 0.01 per epoch), whatever the run's length. In a short run
 * the boundary loss therefore keeps a small weight; `rebalance-stretched` moves the whole course
 * into the run. (On thin structures the stretched schedules cost GDL + boundary loss about 10 % of
 * GDL's best DSC; see the README.)
 */
export const DEFAULT_PAIR_SCHEDULE: CliScheduleName = 'rebalance';

/**
 * The command line's default class weights of the GDL term: MONAI's. With the reference's weights
 * a lesion-free slice gives the foreground class a weight of ~1e20, so its loss is ≈ 1 whatever is
 * predicted there and false positives on such slices get no gradient (see the README).
 */
export const DEFAULT_GDL_WEIGHTS: GeneralizedDiceWeights = 'monai';

/** The command line's default signed-distance convention of the boundary loss. */
export const DEFAULT_CONVENTION: 'reference' | 'interface' = 'interface';

/**
 * The training config of `flags` for `data` (channels and classes come from the data).
 *
 * @throws UsageError naming the problem: a schedule whose weight count differs from the losses',
 * images not divisible by 2^depth (by 8 for `--arch reference`), a model flag the network does not
 * take (`networkFromFlags`), …
 */
export function buildTrainConfig(flags: TrainFlags, data: Pick<Dataset, 'channels' | 'classes' | 'height' | 'width' | 'train' | 'val'>, losses?: readonly LossName[], schedule?: ScheduleSpec): TrainConfig {
  const epochs = flags.epochs ?? trainDefaults.epochs;
  const lossList = losses ?? flags.losses ?? trainDefaults.losses;
  // --floor-at-epoch implies the paper's rebalance and --weights constant weights, unless --schedule says otherwise.
  const implied: CliScheduleName | undefined = flags.floorAtEpoch !== undefined ? 'rebalance' : flags.weights ? 'constant' : undefined;
  const name: CliScheduleName = flags.schedule ?? implied ?? (lossList.length === 2 ? DEFAULT_PAIR_SCHEDULE : 'constant');
  const spec: ScheduleSpec = schedule ?? asUsage(() => scheduleSpec(name, epochs, { ...(flags.floorAtEpoch !== undefined ? { floorAtEpoch: flags.floorAtEpoch } : {}), ...(flags.weights ? { weights: flags.weights } : {}) }));
  let config: TrainConfig = {
    ...trainDefaults,
    model: networkFromFlags(flags, data),
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
    gdlWeights: flags.gdlWeights ?? DEFAULT_GDL_WEIGHTS,
  };
  const augment = augmentFromFlags(flags.augment);
  if (augment.length > 0) config = { ...config, augment };
  checkModelFits(config, flags, data);
  asUsage(() => {
    objective(config.losses, config.schedule, data.classes, { gdlWeights: config.gdlWeights ?? 'reference' });
    checkConfigFitsData(config, { ...data, trainSize: data.train.length });
  });
  return config;
}

/**
 * The transforms of `--augment` in the order of application: none for an absent flag or `none`.
 *
 * @throws UsageError naming `--augment`: `none` together with a transform, a transform listed
 * twice, or an unknown name (the flag's decoding refuses those first).
 */
export function augmentFromFlags(list: readonly string[] | undefined): AugmentName[] {
  if (list === undefined) return [];
  if (list.includes('none')) {
    if (list.length > 1) throw new UsageError(`--augment ${list.join(',')}: 'none' turns augmentation off and cannot be combined with transforms`);
    return [];
  }
  try {
    return checkAugmentList(list, 'train', 'augment');
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new UsageError(`--augment ${list.join(',')}: ${e.message.slice(`${e.op}: ${e.argument}: `.length)}`);
  }
}

/** The run's augmentation for the start line: `; augment flip, affine`, or '' without. */
export function describeAugment(config: Pick<TrainConfig, 'augment'>): string {
  const names = AUGMENT_NAMES.filter((n) => config.augment?.includes(n));
  return names.length > 0 ? `; augment ${names.join(', ')}` : '';
}

/** The U-Net's first-level channels on the command line (UNet-d3-b16). */
export const DEFAULT_UNET_BASE = 16;
/** The U-Net's down-samplings on the command line. */
export const DEFAULT_UNET_DEPTH = 3;
/** The reference network's channels at full resolution on the command line (the authors' 64). */
export const DEFAULT_REFERENCE_BASE = 64;

/** The model flags (`--arch`, `--base`, `--depth`, `--batch-norm`, `--dropout`). */
export type ModelFlags = Pick<TrainFlags, 'arch' | 'base' | 'depth' | 'batchNorm' | 'dropout'>;

/** The flags only the U-Net takes. */
const UNET_ONLY_FLAGS = ['depth', 'batchNorm', 'dropout'] as const;

/**
 * The network of the model flags for data of `channels` and `classes`: `--arch unet` (the
 * default) is a U-Net of `--base` 16, `--depth` 3, batch norm on (off with `--no-batch-norm`) and
 * `--dropout` 0; `--arch reference` the reference network of `--base` 64.
 *
 * @throws UsageError naming `--arch` (an unknown network), or `--depth`, `--batch-norm`,
 * `--no-batch-norm` or `--dropout` with `--arch reference` (its depth and batch norm are fixed).
 */
export function networkFromFlags(flags: ModelFlags, data: Pick<Dataset, 'channels' | 'classes'>): NetworkConfig {
  const arch = flags.arch ?? 'unet';
  if (!NETWORK_ARCHS.includes(arch)) throw new UsageError(`--arch: expected one of ${NETWORK_ARCHS.join(', ')}, got ${JSON.stringify(arch)}`);
  if (arch === 'reference') {
    const given = UNET_ONLY_FLAGS.find((k) => flags[k] !== undefined);
    if (given !== undefined) {
      const flag = given === 'batchNorm' ? (flags.batchNorm ? '--batch-norm' : '--no-batch-norm') : `--${given}`;
      throw new UsageError(`${flag}: the reference network (--arch reference) has a fixed depth of 3 with batch norm and no dropout: leave out --depth, --batch-norm, --no-batch-norm and --dropout`);
    }
    return { arch: 'reference', inChannels: data.channels, classes: data.classes, base: flags.base ?? DEFAULT_REFERENCE_BASE };
  }
  return {
    inChannels: data.channels, classes: data.classes, base: flags.base ?? DEFAULT_UNET_BASE, depth: flags.depth ?? DEFAULT_UNET_DEPTH,
    batchNorm: flags.batchNorm ?? true, ...(flags.dropout ? { dropout: flags.dropout } : {}),
  };
}

/**
 * The model flags that rebuild `model` with `networkFromFlags` (`activation` and `init`, which
 * no flag sets, aside).
 *
 * @throws InputError as `checkNetworkConfig`.
 */
export function modelFlagsOf(model: NetworkConfig): ModelFlags {
  const c = checkNetworkConfig(model);
  if ('arch' in c) return { arch: 'reference', base: c.base };
  return { arch: 'unet', base: c.base, depth: c.depth, batchNorm: c.batchNorm, ...(c.dropout > 0 ? { dropout: c.dropout } : {}) };
}

/**
 * The flags a run records (its `run.json` or `experiment.json`): `flags` with `arch` always
 * named, so that a record without `arch` is known to predate `--arch` (see `resumeFlags`).
 */
export function recordedFlags<F extends TrainFlags>(flags: F): F {
  return { ...flags, arch: flags.arch ?? 'unet' };
}

/**
 * The flags a resumed run is rebuilt from: what it recorded when it started (`stored`), then the
 * model flags of the network it trained (`trained`: its checkpoint's model, or its recorded
 * config's), then what this command line and its `--config` file give (`given`), so that a model
 * flag given explicitly wins (and is then checked against the checkpoint). When `given` names
 * another `--arch` than the run's, `trained` adds nothing (and for `--arch reference` the U-Net
 * flags of the record are dropped), so that the checkpoint's check names the other network.
 * Without `trained`, a record that names no `arch` predates `--arch` and the command line's batch
 * norm by default: its U-Net had none, so it gets `batchNorm: false` unless it or `given` names
 * `batchNorm`.
 *
 * @throws InputError as `checkNetworkConfig` for a `trained` config that does not check.
 */
export function resumeFlags<F extends TrainFlags>(stored: F, given: F, trained?: NetworkConfig): F {
  const fromModel = trained === undefined ? undefined : modelFlagsOf(trained);
  const switched = given.arch !== undefined && given.arch !== (fromModel?.arch ?? stored.arch ?? 'unet');
  // Another --arch than the run's: the U-Net flags it recorded are not the new network's to refuse.
  const kept = switched && given.arch === 'reference' ? withoutUNetFlags(stored) : stored;
  if (fromModel !== undefined) return { ...kept, ...(switched ? {} : fromModel), ...given };
  const legacy = stored.arch === undefined && stored.batchNorm === undefined && !switched;
  return { ...kept, ...(legacy ? { batchNorm: false } : {}), ...given };
}

/** `flags` without the flags only the U-Net takes. */
function withoutUNetFlags<F extends TrainFlags>(flags: F): F {
  return Object.fromEntries(Object.entries(flags).filter(([k]) => !(UNET_ONLY_FLAGS as readonly string[]).includes(k))) as F;
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
  const base = checkNetworkConfig(m).base;
  if (mem.weightBytes > BACKEND_MEMORY_BYTES) {
    const weights = `has ${mem.parameters.toPrecision(3)} parameters (${formatBytes(mem.weightBytes)} with gradients and optimizer state), more than the ${limit} a backend can hold`;
    if (isReferenceConfig(m)) throw new UsageError(`--base ${base}: the reference network of base ${base} ${weights}: lower --base`);
    const flag = flags.base !== undefined || flags.depth === undefined ? `--base ${m.base}` : `--depth ${m.depth}`;
    throw new UsageError(`${flag}: a U-Net of base ${m.base} and depth ${m.depth} ${weights}: lower --base or --depth`);
  }
  if (mem.weightBytes + mem.activationBytes > BACKEND_MEMORY_BYTES) {
    const network = isReferenceConfig(m) ? `the reference network of base ${base}` : `a U-Net of base ${base}`;
    throw new UsageError(`--batch-size ${config.batchSize}: a training step of ${network} on ${batch} slices of ${data.height}×${data.width} needs at least ${formatBytes(mem.activationBytes)} of activations, more than the ${limit} a backend can hold: lower --batch-size, --size or --base`);
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
 * Checks that one forward pass of the network `model` on a `height × width` slice fits in
 * `BACKEND_MEMORY_BYTES` (eval and predict run large slices one at a time).
 *
 * @throws DataError naming `where` (the image file) when it does not.
 */
export function checkPredictionFits(model: NetworkConfig, height: number, width: number, where: string): void {
  const bytes = networkInferenceBytes(model, height * width);
  if (bytes <= BACKEND_MEMORY_BYTES) return;
  const base = checkNetworkConfig(model).base;
  const network = isReferenceConfig(model) ? `the reference network of base ${base}` : `a U-Net of base ${base}`;
  throw new DataError(`${where}: predicting a slice of ${height}×${width} with ${network} needs at least ${formatBytes(bytes)}, more than the ${formatBytes(BACKEND_MEMORY_BYTES)} a backend can hold: downsample the image or cut it into tiles first`);
}
