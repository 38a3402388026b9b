/**
 * The per-epoch record of a run (`metrics.csv`): one row per epoch with the learning rate, the
 * loss weights, the training loss and its terms, and the validation loss and metrics. No wall
 * times, so two runs with one seed write identical files.
 */
import * as t from 'io-ts';
import { InputError } from '../core/errors.js';
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

/** Whether two rows are equal, NaN equal to NaN (a resumed run's rows must match bit for bit). */
export function sameRow(a: EpochRow, b: EpochRow): boolean {
  const same = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y));
  const list = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => same(v, y[i]!));
  return a.epoch === b.epoch && same(a.lr, b.lr) && list(a.weights, b.weights) && same(a.trainLoss, b.trainLoss)
    && list(a.trainTerms, b.trainTerms) && same(a.valLoss, b.valLoss) && same(a.valDice, b.valDice) && same(a.valHd, b.valHd)
    && same(a.valHd95, b.valHd95) && a.missed === b.missed && a.falseAlarms === b.falseAlarms;
}

/**
 * Reads `metrics.csv` back (the inverse of {@link metricsCsv}: every number was written as the
 * shortest text that reads back to the same double, so the rows come back exactly).
 *
 * @param file names the file in errors.
 * @throws InputError naming `file` and the line: another header than `losses` gives, a row with
 * the wrong number of cells, a cell that is not a number, epochs out of order.
 */
export function parseMetricsCsv(text: string, losses: readonly string[], file: string): EpochRow[] {
  const fail = (line: number, message: string) => new InputError('metrics', file, `line ${line}: ${message}`);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = metricsCsv(losses, []).trimEnd();
  if (lines[0] !== header) throw fail(1, `expected the header '${header}', got '${(lines[0] ?? '').slice(0, 120)}'`);
  const k = losses.length;
  const width = 2 + k + 1 + k + 6;
  const rows: EpochRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    if (cells.length !== width) throw fail(i + 1, `expected ${width} cells, got ${cells.length}`);
    const v = cells.map((c, j) => {
      const n = c === 'NaN' ? NaN : c === 'Infinity' ? Infinity : c === '-Infinity' ? -Infinity : /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(c) ? Number(c) : undefined;
      if (n === undefined) throw fail(i + 1, `cell ${j + 1} is not a number: '${c.slice(0, 40)}'`);
      return n;
    });
    const count = (n: number) => Number.isSafeInteger(n) && n >= 0;
    const row: EpochRow = {
      epoch: v[0]!,
      lr: v[1]!,
      weights: v.slice(2, 2 + k),
      trainLoss: v[2 + k]!,
      trainTerms: v.slice(3 + k, 3 + 2 * k),
      valLoss: v[3 + 2 * k]!,
      valDice: v[4 + 2 * k]!,
      valHd: v[5 + 2 * k]!,
      valHd95: v[6 + 2 * k]!,
      missed: v[7 + 2 * k]!,
      falseAlarms: v[8 + 2 * k]!,
    };
    if (row.epoch !== i - 1) throw fail(i + 1, `expected epoch ${i - 1}, got ${cells[0]}`);
    if (!count(row.missed) || !count(row.falseAlarms)) throw fail(i + 1, 'the missed and false-alarm counts must be non-negative integers');
    rows.push(row);
  }
  return rows;
}
