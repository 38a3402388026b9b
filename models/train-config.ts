/**
 * The configuration of a training run, with its io-ts codec (it travels in checkpoints and is
 * decoded from them) and defaults: the paper's protocol (Adam, lr 1e-3, batch 8, GDL + boundary
 * loss with the rebalance schedule, halving after 20 epochs without improvement).
 */
import * as t from 'io-ts';
import { AUGMENT_NAMES, type AugmentName } from '../data/augment.js';
import { scheduleNames, type ScheduleName } from '../losses/schedules.js';
import { closed, describeValue, NonNegativeInt, NonNegativeNumber, PositiveInt, PositiveNumber, UnitInterval } from './codecs.js';
import type { GeneralizedDiceWeights } from '../losses/dice.js';
import type { LrRule } from './lr-schedule.js';
import { lossNames, type LossName, type ScheduleSpec } from './objective.js';
import type { NetworkConfig, ReferenceUNetConfigTagged } from './networks.js';
import type { UNetConfig } from './unet.js';

/** A complete training configuration. */
export interface TrainConfig {
  /** The network: a U-Net (`arch` absent or `'unet'`) or the reference network (`arch: 'reference'`). */
  readonly model: NetworkConfig;
  /** All randomness (initialisation, shuffling, dropout, augmentation) derives from `key(seed)`. */
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly optimizer: 'adam' | 'sgd';
  /** Adam's β₁ / β₂ (0.9 / 0.99, the reference's); SGD's momentum is `momentum`. */
  readonly beta1: number;
  readonly beta2: number;
  readonly momentum: number;
  readonly losses: readonly LossName[];
  readonly schedule: ScheduleSpec;
  /**
   * The class weights of the `gdl` term (`'reference'` when absent; see `ObjectiveOptions`).
   * Optional so that configs written before it existed keep their meaning.
   */
  readonly gdlWeights?: GeneralizedDiceWeights;
  readonly lrRule: LrRule;
  /** Epochs without improvement before the rate is halved (20). */
  readonly lrPatience: number;
  /** Shuffle the training slices each epoch (true). */
  readonly shuffle: boolean;
  /**
   * On-the-fly augmentation of the training slices (`data/augment.ts`; validation is never
   * augmented), applied in the fixed order of `AUGMENT_NAMES` whatever the order here. Absent or
   * empty: none (the paper's protocol). Optional so that configs written before it existed keep
   * their meaning.
   */
  readonly augment?: readonly AugmentName[];
}

/** The defaults of everything but the model. */
export const trainDefaults: Omit<TrainConfig, 'model'> = Object.freeze<Omit<TrainConfig, 'model'>>({
  seed: 0,
  epochs: 20,
  batchSize: 8,
  learningRate: 1e-3,
  optimizer: 'adam',
  beta1: 0.9,
  beta2: 0.99,
  momentum: 0.9,
  losses: ['gdl', 'boundary'],
  schedule: { name: 'rebalance' },
  lrRule: 'plateau',
  lrPatience: 20,
  shuffle: true,
});

const keyof = <K extends string>(values: readonly K[], name: string) =>
  t.keyof(Object.fromEntries(values.map((v) => [v, null])) as { [k in K]: null }, name);

/** Codec of `UNetConfig` (`arch` absent or `'unet'`). */
export const UNetConfigCodec: t.Type<UNetConfig, unknown, unknown> = closed(
  'UNetConfig',
  { inChannels: PositiveInt, classes: PositiveInt, base: PositiveInt, depth: PositiveInt, batchNorm: t.boolean },
  { arch: t.literal('unet'), dropout: UnitInterval, activation: keyof(['relu', 'leakyRelu'] as const, 'Activation'), init: keyof(['he', 'xavier'] as const, 'InitScheme') },
);

/** Codec of the reference network's config (`arch: 'reference'`). */
export const ReferenceUNetConfigCodec: t.Type<ReferenceUNetConfigTagged, unknown, unknown> = closed(
  'ReferenceUNetConfig',
  { arch: t.literal('reference'), inChannels: PositiveInt, classes: PositiveInt },
  { base: PositiveInt },
);

/**
 * Codec of `NetworkConfig`: by `arch`, the U-Net's (absent or `'unet'`) or the reference
 * network's (`'reference'`) closed codec; another `arch` fails at `arch`, naming the networks.
 */
export const NetworkConfigCodec: t.Type<NetworkConfig, unknown, unknown> = new t.Type<NetworkConfig, unknown, unknown>(
  'NetworkConfig',
  (u): u is NetworkConfig => UNetConfigCodec.is(u) || ReferenceUNetConfigCodec.is(u),
  (u, c) => {
    const arch: unknown = u !== null && typeof u === 'object' && !Array.isArray(u) ? (u as { arch?: unknown }).arch : undefined;
    if (arch === 'reference') return ReferenceUNetConfigCodec.validate(u, c);
    if (arch === undefined || arch === 'unet') return UNetConfigCodec.validate(u, c);
    return t.failure(arch, t.appendContext(c, 'arch', t.unknown, undefined), `unknown network ${describeValue(arch)} (expected 'unet', 'reference', or no arch for 'unet')`);
  },
  (a) => (a.arch === 'reference' ? ReferenceUNetConfigCodec.encode(a) : UNetConfigCodec.encode(a)),
);

/** Codec of a loss name. */
export const LossNameCodec = keyof(lossNames, 'LossName');
/** Codec of a schedule name. */
export const ScheduleNameCodec = keyof(scheduleNames as readonly ScheduleName[], 'ScheduleName');

/** Codec of an augmentation name. */
export const AugmentNameCodec = keyof(AUGMENT_NAMES, 'AugmentName');

/** Codec of `ScheduleSpec`. */
export const ScheduleSpecCodec: t.Type<ScheduleSpec, unknown, unknown> = closed(
  'ScheduleSpec',
  { name: ScheduleNameCodec },
  { floorAtEpoch: PositiveInt, weights: t.readonlyArray(t.number), step: NonNegativeNumber, max: NonNegativeNumber, span: PositiveInt },
);

/** Codec of `TrainConfig` (every field required but `gdlWeights` and `augment`, which configs written before them lack). */
export const TrainConfigCodec: t.Type<TrainConfig, unknown, unknown> = closed('TrainConfig', {
  model: NetworkConfigCodec,
  seed: NonNegativeInt,
  epochs: PositiveInt,
  batchSize: PositiveInt,
  learningRate: PositiveNumber,
  optimizer: keyof(['adam', 'sgd'] as const, 'Optimizer'),
  beta1: UnitInterval,
  beta2: UnitInterval,
  momentum: UnitInterval,
  losses: t.readonlyArray(LossNameCodec),
  schedule: ScheduleSpecCodec,
  lrRule: keyof(['plateau', 'reference', 'none'] as const, 'LrRule'),
  lrPatience: PositiveInt,
  shuffle: t.boolean,
}, {
  gdlWeights: keyof(['reference', 'monai'] as const, 'GdlWeights'),
  augment: t.readonlyArray(AugmentNameCodec),
});
