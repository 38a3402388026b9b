/**
 * The per-epoch record of a run (`metrics.csv`): one row per epoch with the learning rate, the
 * loss weights, the training loss and its terms, and the validation loss and metrics. No wall
 * times, so two runs with one seed write identical files.
 */
import * as t from 'io-ts';
import { JsonFloat, NonNegativeInt } from './codecs.js';

/** One epoch's record. */
export interface EpochRow {
  /** 0-based epoch. */
  readonly epoch: number;
  /** Learning rate used during the epoch. */
  readonly lr: number;
  /** Loss weights of the epoch, one per loss. */
  readonly weights: readonly number[];
  /** Mean over the epoch's steps of the weighted training loss. */
  readonly trainLoss: number;
  /** Mean over the epoch's steps of each unweighted loss term. */
  readonly trainTerms: readonly number[];
  /** Weighted loss on the validation set (mean over images). */
  readonly valLoss: number;
  /** Mean validation Dice per image (empty/empty = 1). */
  readonly valDice: number;
  /** Mean validation HD and HD95 (mm) over images where both masks are non-empty (NaN if none). */
  readonly valHd: number;
  readonly valHd95: number;
  /** Validation images with a lesion and an empty prediction. */
  readonly missed: number;
  /** Validation images without a lesion and some predicted. */
  readonly falseAlarms: number;
}

/** Codec of `EpochRow` (non-finite values travel as strings). */
export const EpochRowCodec: t.Type<EpochRow, unknown, unknown> = t.type({
  epoch: NonNegativeInt,
  lr: JsonFloat,
  weights: t.readonlyArray(JsonFloat),
  trainLoss: JsonFloat,
  trainTerms: t.readonlyArray(JsonFloat),
  valLoss: JsonFloat,
  valDice: JsonFloat,
  valHd: JsonFloat,
  valHd95: JsonFloat,
  missed: NonNegativeInt,
  falseAlarms: NonNegativeInt,
}) as t.Type<EpochRow, unknown, unknown>;

/** A number as a CSV cell: the shortest text that reads back to the same double. */
function cell(n: number): string {
  return String(n);
}

/** `metrics.csv` for `rows`, with one weight and one training-term column per loss. */
export function metricsCsv(losses: readonly string[], rows: readonly EpochRow[]): string {
  const header = [
    'epoch', 'lr',
    ...losses.map((l) => `w_${l}`),
    'train_loss',
    ...losses.map((l) => `train_${l}`),
    'val_loss', 'val_dice', 'val_hd', 'val_hd95', 'val_missed', 'val_false_alarms',
  ];
  const lines = rows.map((r) => [
    r.epoch, r.lr, ...r.weights, r.trainLoss, ...r.trainTerms, r.valLoss, r.valDice, r.valHd, r.valHd95, r.missed, r.falseAlarms,
  ].map(cell).join(','));
  return `${[header.join(','), ...lines].join('\n')}\n`;
}
