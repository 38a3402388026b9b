/**
 * Training diagnostics read from a run's per-epoch rows (`EpochRow`, `metrics.csv`): whether the
 * run has collapsed to predicting no foreground, the epochs where the softmax is saturated (the
 * foreground probability underflows, so every gradient through it is exactly 0 and the run can no
 * longer leave the empty prediction), and whether the run learns the lesions at all.
 *
 * Definitions:
 * - collapsed from epoch k: the argmax predicts no foreground on any validation image at epoch k
 *   and at every later epoch; k is the first epoch of the final run of such epochs. Not collapsed
 *   when the last epoch predicts some foreground.
 * - saturated at an epoch: the foreground probability (the largest softmax probability of the
 *   foreground classes 1 … K − 1; class 0 for K = 1) is below {@link SATURATION_THRESHOLD} on every
 *   validation pixel.
 * - learns: the best lesion-slice Dice over the epochs (Dice averaged over the validation slices
 *   whose ground truth has foreground) is at least {@link LEARNS_THRESHOLD}.
 *
 * A row whose diagnostic fields are NaN (not recorded: a `metrics.csv` written before they
 * existed) counts as predicting foreground, unsaturated, and without a lesion-slice Dice.
 */
import { InputError } from '../core/errors.js';
import { describeValue } from './codecs.js';
import type { EpochRow } from './metrics-log.js';

/** Below this foreground probability on every validation pixel, an epoch is saturated. */
export const SATURATION_THRESHOLD = 1e-30;

/** A run learns when its best lesion-slice Dice is at least this. */
export const LEARNS_THRESHOLD = 0.3;

/** The row fields the diagnostics read. */
export type DiagnosticRow = Pick<EpochRow, 'epoch' | 'valPredForeground' | 'valMaxForegroundProb' | 'valLesionDice'>;

/** What {@link diagnose} returns. */
export interface Diagnosis {
  /** The 0-based epoch the run has collapsed from (see {@link collapsedFrom}); absent when it has not. */
  readonly collapsedFrom?: number;
  /** The 0-based epochs that are saturated (see {@link isSaturated}), in order. */
  readonly saturatedEpochs: number[];
  /** The best lesion-slice Dice reaches {@link LEARNS_THRESHOLD}. */
  readonly learns: boolean;
  /** The highest `valLesionDice` over the epochs (NaN values skipped; NaN when none is recorded). */
  readonly bestLesionDice: number;
}

function readRows(op: string, rows: unknown, fields: readonly (keyof DiagnosticRow)[]): readonly DiagnosticRow[] {
  if (!Array.isArray(rows)) throw new InputError(op, 'rows', `expected an array of epoch rows, got ${describeValue(rows)}`);
  rows.forEach((r: unknown, i) => {
    if (r === null || typeof r !== 'object') throw new InputError(op, `rows[${i}]`, `expected an epoch row, got ${describeValue(r)}`);
    for (const f of fields) {
      const v = (r as Record<string, unknown>)[f];
      if (typeof v !== 'number') throw new InputError(op, `rows[${i}].${f}`, `expected a number, got ${describeValue(v)}`);
    }
  });
  return rows as DiagnosticRow[];
}

/**
 * The epoch (the row's `epoch`, 0-based) from which the run has collapsed: the first row of the
 * trailing run of rows with `valPredForeground` 0. Undefined when there are no rows or the last
 * row predicts some foreground (or has it unrecorded, NaN).
 *
 * @throws InputError naming `rows` (not an array) or `rows[i].<field>` (not a number).
 */
export function collapsedFrom(rows: readonly Pick<EpochRow, 'epoch' | 'valPredForeground'>[]): number | undefined {
  const list = readRows('collapsedFrom', rows, ['epoch', 'valPredForeground']);
  let from: number | undefined;
  for (let i = list.length - 1; i >= 0 && list[i]!.valPredForeground === 0; i--) from = list[i]!.epoch;
  return from;
}

/**
 * Whether an epoch is saturated: its largest validation foreground probability is below
 * {@link SATURATION_THRESHOLD} (false for NaN, not recorded).
 *
 * @throws InputError naming `row` or `row.valMaxForegroundProb` (not a number).
 */
export function isSaturated(row: Pick<EpochRow, 'valMaxForegroundProb'>): boolean {
  if (row === null || typeof row !== 'object') throw new InputError('isSaturated', 'row', `expected an epoch row, got ${describeValue(row)}`);
  const p: unknown = row.valMaxForegroundProb;
  if (typeof p !== 'number') throw new InputError('isSaturated', 'row.valMaxForegroundProb', `expected a number, got ${describeValue(p)}`);
  return p < SATURATION_THRESHOLD;
}

/** The highest lesion-slice Dice of the rows, NaN skipped (NaN when none is a number). */
function bestOf(rows: readonly DiagnosticRow[]): number {
  let best = NaN;
  for (const r of rows) if (!Number.isNaN(r.valLesionDice) && !(r.valLesionDice <= best)) best = r.valLesionDice;
  return best;
}

/**
 * Whether a run learns: its best lesion-slice Dice (the highest `valLesionDice` of `rows`, or the
 * number given) is at least {@link LEARNS_THRESHOLD}. NaN (nothing recorded, no lesion slice)
 * does not learn.
 *
 * @throws InputError naming `rows` (neither an array nor a number) or `rows[i].valLesionDice`.
 */
export function learns(rows: readonly Pick<EpochRow, 'valLesionDice'>[] | number): boolean {
  const best = typeof rows === 'number' ? rows : bestOf(readRows('learns', rows, ['valLesionDice']) as DiagnosticRow[]);
  return best >= LEARNS_THRESHOLD;
}

/**
 * The diagnostics of a run's rows: where it has collapsed from, its saturated epochs, its best
 * lesion-slice Dice and whether that learns (see the module comment for the definitions).
 *
 * @throws InputError naming `rows` (not an array) or `rows[i].<field>` (not a number).
 */
export function diagnose(rows: readonly EpochRow[]): Diagnosis {
  const list = readRows('diagnose', rows, ['epoch', 'valPredForeground', 'valMaxForegroundProb', 'valLesionDice']);
  const from = collapsedFrom(list);
  const bestLesionDice = bestOf(list);
  return {
    ...(from !== undefined ? { collapsedFrom: from } : {}),
    saturatedEpochs: list.filter((r) => r.valMaxForegroundProb < SATURATION_THRESHOLD).map((r) => r.epoch),
    learns: learns(bestLesionDice),
    bestLesionDice,
  };
}
