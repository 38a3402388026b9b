/**
 * Loss-weight schedules: pure functions of the 0-based epoch e and the run length E that give one
 * weight per loss, in the order of the training's losses list (GDL first, boundary loss second for
 * the paper's pair). The total loss of epoch e is Σ_i w_i(e, E)·L_i.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';

/**
 * A schedule: `(epoch, epochs) → weights`, one weight per loss in the order of the losses list.
 * `epoch` is 0-based and must be a non-negative integer below `epochs` (a positive integer, or
 * `Infinity` for an open-ended run); otherwise it throws an InputError. The epoch is 0-based;
 * files and messages count from 1 (`metrics.csv`'s epoch e + 1 has the weights of epoch e).
 */
export type Schedule = (epoch: number, epochs: number) => readonly number[];

/** Options of `rebalance`. */
export interface RebalanceOptions {
  /**
   * The epoch F at which α reaches its floor 0.01 (a positive integer): α falls linearly from 1
   * at e = 0 to exactly 0.01 at e = F and stays there. Without it, the paper's α = max(0.01,
   * 1 − 0.01e), which reaches the floor at e = 99 — for short runs give F, e.g. E − 1.
   */
  readonly floorAtEpoch?: number;
}

/** Options of `increase`. */
export interface IncreaseOptions {
  /** Growth of the second weight per epoch (0.01). */
  readonly step?: number;
  /** Cap of the second weight (1). */
  readonly max?: number;
}

/** Options of `steal`. */
export interface StealOptions {
  /**
   * The number of epochs S over which the reference's 100-epoch course runs (a positive integer):
   * epoch e reads the weights of the reference's epoch e' = 100·e/S, so w_B reaches 1 at e = 0.99·S.
   * Without it, S = 100: the reference's weights per epoch. For a short run, e.g. S = E.
   */
  readonly span?: number;
}

/** Options accepted by the registry's factories (each reads the fields it knows). */
export interface ScheduleOptions extends RebalanceOptions, IncreaseOptions, StealOptions {
  /** The weights of `constant` ([1, 1] when not given). */
  readonly weights?: readonly number[];
}

/** The floor of the paper's α. */
const FLOOR = 0.01;

function checkEpoch(op: string, epoch: unknown, epochs: unknown): number {
  if (typeof epochs !== 'number' || !(epochs === Infinity || (Number.isInteger(epochs) && epochs >= 1))) {
    throw new InputError(op, 'epochs', `expected a positive integer (or Infinity), got ${String(epochs)}`);
  }
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
    throw new InputError(op, 'epoch', `expected a non-negative integer (0-based), got ${String(epoch)}`);
  }
  if (epoch >= epochs) throw new InputError(op, 'epoch', `epoch ${epoch} is outside a run of ${epochs} epochs (0-based, expected < ${epochs})`);
  return epoch;
}

/** Every key a registry factory takes (each reads the ones it knows). */
const SCHEDULE_OPTION_KEYS = ['floorAtEpoch', 'weights', 'step', 'max', 'span'] as const;

function checkOptionsObject(op: string, options: unknown, known: readonly string[] = SCHEDULE_OPTION_KEYS): void {
  checkOptionKeys(op, options, known);
}

function finiteNonNegative(op: string, argument: string, value: unknown, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InputError(op, argument, `expected a finite number ≥ 0, got ${String(value)}`);
  }
  return value;
}

/**
 * The paper's rebalancing (Eq. 6): weights `[α, 1 − α]` for `[GDL, boundary loss]` with
 *
 *   α(e) = max(0.01, 1 − 0.01e)                      (paper, default), or
 *   α(e) = max(0.01, 1 − 0.99·e/F)                   with `floorAtEpoch` F,
 *
 * so α = 1 at e = 0 and exactly 0.01 from e = 99 (paper) or from e = F on; the default is
 * `floorAtEpoch: 99`. Non-increasing in e. The epoch e is 0-based; files and messages count from 1.
 *
 * @example
 * import { rebalance } from 'boundary-seg';
 *
 * const schedule = rebalance();        // the paper's: α falls by 0.01 per epoch
 * console.log(schedule(0, 100));       // [1, 0]: GDL alone in the first epoch
 * console.log(schedule(50, 100));      // [0.5, 0.5]
 * console.log(rebalance({ floorAtEpoch: 9 })(9, 10)); // [0.01, 0.99]: the floor reached within a 10-epoch run
 */
export function rebalance(options: RebalanceOptions = {}): Schedule {
  const op = 'rebalance';
  checkOptionsObject(op, options, ['floorAtEpoch']);
  const f = options.floorAtEpoch;
  if (f !== undefined && (typeof f !== 'number' || !Number.isInteger(f) || f < 1)) {
    throw new InputError(op, 'options.floorAtEpoch', `expected a positive integer, got ${String(f)}`);
  }
  return (epoch, epochs) => {
    const e = checkEpoch(op, epoch, epochs);
    // NOTE: (100 − e)/100 and (F − 0.99e)/F are exact at the ends, where 1 − 0.01e is not (1 − 0.99 ≠ 0.01).
    const alpha = f === undefined ? Math.max(FLOOR, (100 - e) / 100) : e >= f ? FLOOR : Math.max(FLOOR, (f - 0.99 * e) / f);
    return [alpha, 1 - alpha];
  };
}

/**
 * The reference code's `StealWeight` schedule: weights `[w_GD, w_B]` with
 *
 *   w_GD(e) = max(0.1, 1 − 0.01e'),   w_B(e) = 0.01(e' + 1),   e' = 100·e/S  (S = `span`, default 100),
 *
 * uncapped and not summing to 1 (at e = 0: [1, 0.01]; with S = 100, from e = 90 on w_GD stays 0.1
 * and at e = 99 w_B = 1). `span` compresses the reference's 100-epoch course into S epochs.
 * The epoch e is 0-based; files and messages count from 1.
 */
export function steal(options: StealOptions = {}): Schedule {
  const op = 'steal';
  checkOptionsObject(op, options, ['span']);
  const span = options.span;
  if (span !== undefined && (typeof span !== 'number' || !Number.isInteger(span) || span < 1)) {
    throw new InputError(op, 'options.span', `expected a positive integer, got ${String(span)}`);
  }
  return (epoch, epochs) => {
    const e = checkEpoch(op, epoch, epochs);
    // NOTE: (100 − e)/100 and (e + 1)/100 are exact where 1 − 0.01e is not; with a span, e' = 100e/S.
    if (span === undefined || span === 100) return [Math.max(0.1, (100 - e) / 100), (e + 1) / 100];
    const scaled = (100 * e) / span;
    return [Math.max(0.1, (100 - scaled) / 100), (scaled + 1) / 100];
  };
}

/**
 * The same weights at every epoch: w_i(e) = weights[i] (finite numbers ≥ 0, at least one). The
 * epoch e is 0-based; files and messages count from 1.
 */
export function constant(...weights: number[]): Schedule {
  const op = 'constant';
  if (weights.length === 0) throw new InputError(op, 'weights', 'expected at least one weight');
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new InputError(op, `weights[${i}]`, `expected a finite number ≥ 0, got ${String(w)}`);
  });
  const frozen = Object.freeze([...weights]);
  return (epoch, epochs) => {
    checkEpoch(op, epoch, epochs);
    return frozen;
  };
}

/**
 * A growing second term on a fixed first one: weights `[1, min(max, step·e)]` — the boundary
 * loss starts at 0 and grows by `step` (0.01) per epoch up to `max` (1), while the GDL keeps
 * weight 1 (the reference's "increase" idea without stealing from the first term). The epoch e
 * is 0-based; files and messages count from 1.
 */
export function increase(options: IncreaseOptions = {}): Schedule {
  const op = 'increase';
  checkOptionsObject(op, options, ['step', 'max']);
  const step = finiteNonNegative(op, 'options.step', options.step, 0.01);
  const cap = finiteNonNegative(op, 'options.max', options.max, 1);
  return (epoch, epochs) => {
    const e = checkEpoch(op, epoch, epochs);
    return [1, Math.min(cap, step * e)];
  };
}

/** The schedules by name, for the CLI's `--schedule`. */
export type ScheduleName = 'rebalance' | 'steal' | 'constant' | 'increase';

/** The names of the built-in schedules. */
export const scheduleNames: readonly ScheduleName[] = Object.freeze(['rebalance', 'steal', 'constant', 'increase']);

/**
 * The schedule factories by name, each taking one options object: `schedules.rebalance({
 * floorAtEpoch })`, `schedules.steal()`, `schedules.constant({ weights })` (default [1, 1]),
 * `schedules.increase({ step, max })`.
 */
export const schedules: { readonly [N in ScheduleName]: (options?: ScheduleOptions) => Schedule } = Object.freeze({
  rebalance: (options: ScheduleOptions = {}) => {
    checkOptionsObject('rebalance', options);
    return rebalance({ floorAtEpoch: options.floorAtEpoch });
  },
  steal: (options: ScheduleOptions = {}) => {
    checkOptionsObject('steal', options);
    return steal({ span: options.span });
  },
  constant: (options: ScheduleOptions = {}) => {
    checkOptionsObject('constant', options);
    const weights = options.weights ?? [1, 1];
    if (!Array.isArray(weights)) throw new InputError('constant', 'options.weights', `expected an array of numbers, got ${typeof weights}`);
    return constant(...weights);
  },
  increase: (options: ScheduleOptions = {}) => {
    checkOptionsObject('increase', options);
    return increase({ step: options.step, max: options.max });
  },
});

/** True when `name` is a built-in schedule's name. */
export function isScheduleName(name: unknown): name is ScheduleName {
  return typeof name === 'string' && (scheduleNames as readonly string[]).includes(name);
}
