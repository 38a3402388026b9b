/**
 * The per-epoch record of a run (`metrics.csv`): one row per epoch with the learning rate, the
 * loss weights, the training loss and its terms, the validation loss and metrics, and the
 * diagnostics of `diagnostics.ts` (predicted foreground, the largest foreground probability,
 * Dice over lesion slices; saturated and collapsed flags derived from them). No wall times, so two
 * runs with one seed write identical files.
 *
 * Files written before the diagnostic columns existed (their header ends at `val_false_alarms`)
 * still read: their rows have `valPredForeground`, `valMaxForegroundProb` and `valLesionDice` NaN
 * ("not recorded"), so they are neither saturated nor collapsed. A run resumed from such a folder
 * rewrites the file with the current header, NaN in those cells.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { InputError } from '../core/errors.js';
import { describeValue, JsonFloat, NonNegativeInt } from './codecs.js';
import { SATURATION_THRESHOLD } from './diagnostics.js';

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
  /**
   * Validation images where the argmax predicts some foreground (0: the epoch predicts nothing).
   * NaN when not recorded (a row of a `metrics.csv` or checkpoint written before this field).
   */
  readonly valPredForeground: number;
  /**
   * The largest foreground probability over every validation pixel: the softmax probability of
   * classes 1 … K − 1 (class 0 for K = 1), computed in float32 by the validation forward. Below
   * {@link SATURATION_THRESHOLD} the epoch is saturated (`isSaturated`). NaN when not recorded.
   */
  readonly valMaxForegroundProb: number;
  /**
   * Mean Dice over the validation images whose ground truth has foreground (the lesion slices):
   * NaN when there is none, or when not recorded.
   */
  readonly valLesionDice: number;
}

/** The fields added after the first format, with their value in a row that predates them. */
const ADDED_FIELDS = { valPredForeground: NaN, valMaxForegroundProb: NaN, valLesionDice: NaN } as const;

/** A count, or NaN for "not recorded" (stored in JSON as the string "NaN"). */
const CountOrNaN = new t.Type<number, number | string, unknown>(
  'CountOrNaN',
  (u): u is number => typeof u === 'number' && (Number.isNaN(u) || (Number.isSafeInteger(u) && u >= 0)),
  (u, c) => E.chain((n: number): t.Validation<number> => (Number.isNaN(n) || (Number.isSafeInteger(n) && n >= 0) ? t.success(n) : t.failure(u, c, `expected a non-negative integer or NaN, got ${describeValue(u)}`)))(JsonFloat.validate(u, c)),
  (n) => JsonFloat.encode(n),
);

const EpochRowFields = t.type({
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
  valPredForeground: CountOrNaN,
  valMaxForegroundProb: JsonFloat,
  valLesionDice: JsonFloat,
});

/**
 * Codec of `EpochRow` (non-finite values travel as strings). A row without the fields added
 * later (`valPredForeground`, `valMaxForegroundProb`, `valLesionDice`: the `lastRow` of a
 * checkpoint written before them) decodes with them NaN.
 */
export const EpochRowCodec: t.Type<EpochRow, unknown, unknown> = new t.Type<EpochRow, unknown, unknown>(
  'EpochRow',
  (u): u is EpochRow => EpochRowFields.is(u),
  (u, c) => {
    const filled = u !== null && typeof u === 'object' && !Array.isArray(u)
      ? { ...u as Record<string, unknown>, ...Object.fromEntries(Object.entries(ADDED_FIELDS).filter(([k]) => !(k in u))) }
      : u;
    return EpochRowFields.validate(filled, c) as t.Validation<EpochRow>;
  },
  (a) => EpochRowFields.encode(a),
);

/** A number as a CSV cell: the shortest text that reads back to the same double. */
function cell(n: number): string {
  return String(n);
}

/** The columns before the diagnostics (the whole header of files written before them). */
function baseHeader(losses: readonly string[]): string[] {
  return [
    'epoch', 'lr',
    ...losses.map((l) => `w_${l}`),
    'train_loss',
    ...losses.map((l) => `train_${l}`),
    'val_loss', 'val_dice', 'val_hd', 'val_hd95', 'val_missed', 'val_false_alarms',
  ];
}

/**
 * The diagnostic columns, after `val_false_alarms`: `val_pred_fg_images` (`valPredForeground`),
 * `val_max_fg_prob` (`valMaxForegroundProb`), `val_lesion_dice` (`valLesionDice`), and two flags
 * derived from them when the file is written (1 or 0): `saturated` (`isSaturated`: the largest
 * foreground probability is below {@link SATURATION_THRESHOLD}) and `collapsed` (collapsed as of
 * that epoch: no validation image has predicted foreground, so the row belongs to the trailing
 * run of such epochs of the rows up to it; `collapsedFrom` gives where the final run starts).
 */
export const DIAGNOSTIC_COLUMNS: readonly string[] = Object.freeze(['val_pred_fg_images', 'val_max_fg_prob', 'val_lesion_dice', 'saturated', 'collapsed']);

/** The `saturated` flag of a row (as `isSaturated`; NaN, not recorded, is not saturated). */
function saturatedFlag(r: EpochRow): number {
  return r.valMaxForegroundProb < SATURATION_THRESHOLD ? 1 : 0;
}

/** The `collapsed` flag of a row: nothing predicted on any validation image (NaN: not recorded, 0). */
function collapsedFlag(r: EpochRow): number {
  return r.valPredForeground === 0 ? 1 : 0;
}

/**
 * `metrics.csv` for `rows`, with one weight and one training-term column per loss, then the
 * validation metrics and the {@link DIAGNOSTIC_COLUMNS}.
 */
export function metricsCsv(losses: readonly string[], rows: readonly EpochRow[]): string {
  const header = [...baseHeader(losses), ...DIAGNOSTIC_COLUMNS];
  const lines = rows.map((r) => [
    r.epoch, r.lr, ...r.weights, r.trainLoss, ...r.trainTerms, r.valLoss, r.valDice, r.valHd, r.valHd95, r.missed, r.falseAlarms,
    r.valPredForeground, r.valMaxForegroundProb, r.valLesionDice, saturatedFlag(r), collapsedFlag(r),
  ].map(cell).join(','));
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

/** Whether two rows are equal, NaN equal to NaN (a resumed run's rows must match bit for bit). */
export function sameRow(a: EpochRow, b: EpochRow): boolean {
  const same = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y));
  const list = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => same(v, y[i]!));
  return a.epoch === b.epoch && same(a.lr, b.lr) && list(a.weights, b.weights) && same(a.trainLoss, b.trainLoss)
    && list(a.trainTerms, b.trainTerms) && same(a.valLoss, b.valLoss) && same(a.valDice, b.valDice) && same(a.valHd, b.valHd)
    && same(a.valHd95, b.valHd95) && a.missed === b.missed && a.falseAlarms === b.falseAlarms
    && same(a.valPredForeground, b.valPredForeground) && same(a.valMaxForegroundProb, b.valMaxForegroundProb) && same(a.valLesionDice, b.valLesionDice);
}

/**
 * Reads `metrics.csv` back (the inverse of {@link metricsCsv}: every number was written as the
 * shortest text that reads back to the same double, so the rows come back exactly). The derived
 * `saturated` and `collapsed` cells are checked against the row and not kept. A file with the
 * header of the first format (no diagnostic columns, see the module comment) reads with the
 * diagnostic fields NaN.
 *
 * @param file names the file in errors.
 * @throws InputError naming `file` and the line: another header than `losses` gives (current or
 * first format), a row with the wrong number of cells, a cell that is not a number, epochs out of
 * order, counts that are not non-negative integers, flags that are not 0/1 or disagree with the row.
 */
export function parseMetricsCsv(text: string, losses: readonly string[], file: string): EpochRow[] {
  const fail = (line: number, message: string) => new InputError('metrics', file, `line ${line}: ${message}`);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = metricsCsv(losses, []).trimEnd();
  const legacy = baseHeader(losses).join(',');
  const current = lines[0] === header;
  if (!current && lines[0] !== legacy) throw fail(1, `expected the header '${header}', got '${(lines[0] ?? '').slice(0, 120)}'`);
  const k = losses.length;
  const base = 2 + k + 1 + k + 6;
  const width = current ? base + DIAGNOSTIC_COLUMNS.length : base;
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
      ...(current ? { valPredForeground: v[base]!, valMaxForegroundProb: v[base + 1]!, valLesionDice: v[base + 2]! } : ADDED_FIELDS),
    };
    if (row.epoch !== i - 1) throw fail(i + 1, `expected epoch ${i - 1}, got ${cells[0]}`);
    if (!count(row.missed) || !count(row.falseAlarms)) throw fail(i + 1, 'the missed and false-alarm counts must be non-negative integers');
    if (current) {
      if (!count(row.valPredForeground) && !Number.isNaN(row.valPredForeground)) throw fail(i + 1, `val_pred_fg_images must be a non-negative integer or NaN, got ${cells[base]}`);
      for (const [j, name, derived] of [[base + 3, 'saturated', saturatedFlag(row)], [base + 4, 'collapsed', collapsedFlag(row)]] as const) {
        if (v[j] !== 0 && v[j] !== 1) throw fail(i + 1, `${name} must be 0 or 1, got ${cells[j]}`);
        if (v[j] !== derived) throw fail(i + 1, `${name} is ${v[j]} but the row's values give ${derived} (the file was edited?)`);
      }
    }
    rows.push(row);
  }
  return rows;
}
