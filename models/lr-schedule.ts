/**
 * Learning-rate schedules driven by validation: pure transforms of a small state, applied once
 * after each epoch's validation, so the state can be checkpointed and a resumed run continues
 * exactly.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';

/**
 * - `plateau` (default): halve the rate (× `factor`) once `patience` epochs in a row brought no
 *   improvement of the validation score, then count afresh (PyTorch's ReduceLROnPlateau with
 *   mode 'max' and cooldown 0).
 * - `reference`: the reference code's rule, halving after epoch e when e % (bestEpoch + patience)
 *   == 0, which also halves after epoch 0.
 * - `none`: a constant rate.
 */
export type LrRule = 'plateau' | 'reference' | 'none';

/** Options of the learning-rate schedule. */
export interface LrScheduleOptions {
  readonly rule: LrRule;
  /** Epochs without improvement before halving (20, the reference's). */
  readonly patience?: number;
  /** Multiplier applied at each decay (0.5). */
  readonly factor?: number;
}

const LR_SCHEDULE_KEYS: readonly (keyof LrScheduleOptions)[] = ['rule', 'patience', 'factor'];

/** The schedule's state after some epochs. */
export interface LrState {
  readonly lr: number;
  /** Best validation score so far (−Infinity before the first epoch). */
  readonly bestScore: number;
  /** 0-based epoch of the best score (−1 before the first epoch). */
  readonly bestEpoch: number;
  /** Epochs since the last improvement or decay. */
  readonly stale: number;
}

/** The initial state for a starting rate. */
export function lrStart(lr: number): LrState {
  if (!(Number.isFinite(lr) && lr > 0)) throw new InputError('lrStart', 'lr', `expected a positive number, got ${lr}`);
  return { lr, bestScore: -Infinity, bestEpoch: -1, stale: 0 };
}

/**
 * The state after the 0-based `epoch` whose validation score (higher is better) was `score`.
 * NaN scores count as no improvement.
 *
 * @throws InputError naming an out-of-range or unknown option (`options.patients`).
 */
export function lrStep(options: LrScheduleOptions, state: LrState, epoch: number, score: number): LrState {
  checkOptionKeys('lrStep', options, LR_SCHEDULE_KEYS);
  const patience = options.patience ?? 20;
  const factor = options.factor ?? 0.5;
  if (!(Number.isInteger(patience) && patience >= 1)) throw new InputError('lrStep', 'options.patience', `expected a positive integer, got ${patience}`);
  if (!(factor > 0 && factor <= 1)) throw new InputError('lrStep', 'options.factor', `expected a number in (0, 1], got ${factor}`);
  const improved = score > state.bestScore;
  const bestScore = improved ? score : state.bestScore;
  const bestEpoch = improved ? epoch : state.bestEpoch;
  switch (options.rule) {
    case 'none':
      return { lr: state.lr, bestScore, bestEpoch, stale: 0 };
    case 'reference': {
      const decay = epoch % (Math.max(bestEpoch, 0) + patience) === 0;
      return { lr: decay ? state.lr * factor : state.lr, bestScore, bestEpoch, stale: 0 };
    }
    case 'plateau': {
      const stale = improved ? 0 : state.stale + 1;
      return stale >= patience ? { lr: state.lr * factor, bestScore, bestEpoch, stale: 0 } : { lr: state.lr, bestScore, bestEpoch, stale };
    }
    default:
      throw new InputError('lrStep', 'options.rule', `expected 'plateau', 'reference' or 'none', got ${JSON.stringify(options.rule)}`);
  }
}
