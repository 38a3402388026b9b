/**
 * The training objective: a list of named losses combined with per-epoch weights,
 * L = Σ_i w_i(e)·L_i, the weights from a loss-weight schedule (`losses/schedules.ts`).
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { logSoftmax } from '../core/nn.js';
import { add, mean, mul, neg, sum, type TensorLike } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { boundaryLoss } from '../losses/boundary.js';
import { focalLoss } from '../losses/cross-entropy.js';
import { diceLoss, generalizedDiceLoss, type GeneralizedDiceWeights } from '../losses/dice.js';
import { scheduleNames, schedules, type Schedule, type ScheduleName } from '../losses/schedules.js';

/** The losses the objective can combine, by their `--losses` names. */
export type LossName = 'gdl' | 'boundary' | 'dice' | 'ce' | 'focal';

/** The loss names, in the order documented by `--help`. */
export const lossNames: readonly LossName[] = Object.freeze(['gdl', 'boundary', 'dice', 'ce', 'focal']);

/** What every loss term sees for one batch. */
export interface LossInputs {
  /** Logits [B, K, H, W]. */
  readonly logits: Tensor;
  /** Softmax probabilities [B, K, H, W]. */
  readonly probs: Tensor;
  /** One-hot target [B, K, H, W]. */
  readonly target: Tensor;
  /** Signed distance maps of the target, all K classes [B, K, H, W]. */
  readonly distMaps: Tensor;
}

/** The foreground classes 1 … K − 1 (class 0 is background); [0] for a single class. */
function foreground(classes: number): number[] {
  return classes > 1 ? Array.from({ length: classes - 1 }, (_, i) => i + 1) : [0];
}

/**
 * One loss term by name, for K classes:
 * - `gdl`: generalized Dice over all classes, with the reference's class weights (default) or
 *   MONAI's (`options.gdlWeights`);
 * - `boundary`: the boundary loss on the foreground classes (idc [1] for binary tasks, the paper);
 * - `dice`: soft Dice over the foreground classes;
 * - `ce`: cross-entropy over all classes, from the logits (log-softmax, stable), mean per voxel;
 * - `focal`: focal loss (γ = 2) over all classes.
 */
export function lossTerm(name: LossName, classes: number, options: ObjectiveOptions = {}): (inputs: LossInputs) => Tensor {
  switch (name) {
    case 'gdl': {
      const weights = options.gdlWeights ?? 'reference';
      return ({ probs, target }) => generalizedDiceLoss(probs, target, { weights });
    }
    case 'boundary': {
      const idc = foreground(classes);
      return ({ probs, distMaps }) => boundaryLoss(probs, distMaps, { idc });
    }
    case 'dice': {
      const idc = foreground(classes);
      return ({ probs, target }) => diceLoss(probs, target, { idc });
    }
    case 'ce':
      // −mean over voxels of Σ_k t_k·log p_k, with log p from the logits (no log of a rounded 0).
      return ({ logits, target }) => neg(mean(sum(mul(logSoftmax(logits, 1), target), 1)));
    case 'focal':
      return ({ probs, target }) => focalLoss(probs, target);
    default:
      throw new InputError('lossTerm', 'name', `unknown loss ${JSON.stringify(name)}; expected one of ${lossNames.join(', ')}`);
  }
}

/** Options of the loss terms. */
export interface ObjectiveOptions {
  /**
   * The class weights of `gdl`: `'reference'` (default, w_k = 1/(Σt_k + 1e-10)²: a class absent
   * from an image weighs ~1e20, so on a lesion-free image the loss is ≈ 1 whatever is predicted and
   * false positives there get no gradient) or `'monai'` (absent classes take the image's largest
   * finite weight, so false positives on lesion-free images are penalised).
   */
  readonly gdlWeights?: GeneralizedDiceWeights;
}

/** The schedule options each schedule reads (any other is refused). */
const SCHEDULE_FIELDS: { readonly [N in ScheduleName]: readonly (keyof ScheduleSpec)[] } = {
  rebalance: ['floorAtEpoch'],
  steal: ['span'],
  constant: ['weights'],
  increase: ['step', 'max'],
};

/** A schedule and its options, as stored in configs and checkpoints. */
export interface ScheduleSpec {
  readonly name: ScheduleName;
  /** `rebalance`: the epoch at which α reaches 0.01 (the paper's 99 when absent). */
  readonly floorAtEpoch?: number;
  /** `constant`: the weights (one per loss; all 1 when absent). */
  readonly weights?: readonly number[];
  /** `steal`: the epochs over which the reference's 100-epoch course runs (100 when absent). */
  readonly span?: number;
  /** `increase`: growth per epoch and cap of the second weight. */
  readonly step?: number;
  readonly max?: number;
}

const SCHEDULE_SPEC_KEYS: readonly (keyof ScheduleSpec)[] = ['name', 'floorAtEpoch', 'weights', 'step', 'max', 'span'];

/** The objective of a run: the loss list and the schedule giving one weight per loss and epoch. */
export interface Objective {
  readonly losses: readonly LossName[];
  /** The weights of the 0-based `epoch` of a run of `epochs` epochs, one per loss. */
  weights(epoch: number, epochs: number): readonly number[];
  /** Each term's value (scalars, in the order of `losses`) for one batch. */
  terms(inputs: LossInputs): Tensor[];
  /** Σ_i w_i·L_i of the terms. */
  combine(terms: readonly Tensor[], weights: readonly TensorLike[]): Tensor;
}

/**
 * Builds the objective of `losses` under `schedule` for K classes.
 *
 * @throws InputError (`losses`) on an empty list, an unknown or repeated name; (`schedule`) when
 * the schedule gives a number of weights other than the number of losses, when it is not an
 * object or has an unknown key (`schedule.floorAt`), or names no known schedule.
 */
export function objective(losses: readonly LossName[], schedule: ScheduleSpec, classes: number, options: ObjectiveOptions = {}): Objective {
  if (!Array.isArray(losses) || losses.length === 0) throw new InputError('objective', 'losses', 'expected at least one loss');
  if (schedule === undefined) throw new InputError('objective', 'schedule', `expected { name, ... } with a name out of ${scheduleNames.join(', ')}`);
  checkOptionKeys('objective', schedule, SCHEDULE_SPEC_KEYS, 'schedule');
  if (!Object.hasOwn(schedules, schedule.name)) throw new InputError('objective', 'schedule.name', `unknown schedule ${JSON.stringify(schedule.name)}; expected one of ${scheduleNames.join(', ')}`);
  for (const field of SCHEDULE_SPEC_KEYS) {
    if (field !== 'name' && schedule[field] !== undefined && !SCHEDULE_FIELDS[schedule.name].includes(field)) {
      throw new InputError('objective', `schedule.${field}`, `applies to the ${Object.entries(SCHEDULE_FIELDS).find(([, f]) => f.includes(field))![0]} schedule, not to '${schedule.name}'`);
    }
  }
  checkOptionKeys('objective', options, ['gdlWeights']);
  if (options.gdlWeights !== undefined && options.gdlWeights !== 'reference' && options.gdlWeights !== 'monai') {
    throw new InputError('objective', 'options.gdlWeights', `expected 'reference' or 'monai', got ${JSON.stringify(options.gdlWeights)}`);
  }
  losses.forEach((l, i) => {
    if (!lossNames.includes(l)) throw new InputError('objective', 'losses', `unknown loss ${JSON.stringify(l)}; expected some of ${lossNames.join(', ')}`);
    if (losses.indexOf(l) !== i) throw new InputError('objective', 'losses', `loss ${l} appears twice`);
  });
  const weightsOption = schedule.name === 'constant' ? (schedule.weights ?? losses.map(() => 1)) : schedule.weights;
  const sched: Schedule = schedules[schedule.name]({ floorAtEpoch: schedule.floorAtEpoch, weights: weightsOption, step: schedule.step, max: schedule.max, span: schedule.span });
  const probe = sched(0, 1);
  if (probe.length !== losses.length) {
    throw new InputError('objective', 'schedule', `schedule '${schedule.name}' gives ${probe.length} weights but there are ${losses.length} losses (${losses.join(', ')})`);
  }
  const fns = losses.map((l) => lossTerm(l, classes, options));
  return {
    losses,
    weights: (epoch, epochs) => sched(epoch, epochs),
    terms: (inputs) => fns.map((f) => f(inputs)),
    combine: (terms, weights) => terms.map((t, i) => mul(t, weights[i]!)).reduce((a, b) => add(a, b)),
  };
}
