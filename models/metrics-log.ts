/**
 * The per-epoch record of a run (`metrics.csv`): one row per epoch with the learning rate, the
 * loss weights, the training loss and its terms, the validation loss and metrics, and the
 * diagnostics of `diagnostics.ts` (predicted foreground, the largest foreground probability,
 * Dice over lesion slices; saturated and collapsed flags derived from them), and for data of
 * K ≥ 3 classes the validation metrics of each foreground class. No wall times, so two runs with
 * one seed write identical files.
 *
 * Epochs: the library counts them from 0 (`EpochRow.epoch`, `TrainResult.best.epoch`, the
 * schedules, the checkpoints' rows); the `epoch` column of `metrics.csv`, like every file and
 * message a person reads, counts from 1. Files written before that count from 0: a `metrics.csv`
 * always starts at its run's first epoch, so its first row tells which (0: such a file, 1: the
 * current count), and both read into 0-based rows.
 *
 * Files written before the diagnostic columns existed (their header ends at `val_false_alarms`)
 * still read: their rows have `valPredForeground`, `valMaxForegroundProb` and `valLesionDice` NaN
 * ("not recorded"), so they are neither saturated nor collapsed. A run resumed from such a folder
 * rewrites the file with the current header, NaN in those cells. Likewise a file of a K ≥ 3 run
 * without the per-class columns reads with `perClass` absent, and is rewritten with the columns,
 * NaN in the cells of those rows.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { InputError } from '../core/errors.js';
import { describeValue, JsonFloat, NonNegativeInt, PositiveInt } from './codecs.js';
import { SATURATION_THRESHOLD } from './diagnostics.js';

/** One foreground class's validation metrics in an epoch (data of K ≥ 3 classes). */
export interface EpochClassRow {
  /** The class index, 1 … K − 1. */
  readonly class: number;
  /** Mean over the validation images of the class's Dice (empty/empty = 1). */
  readonly dice: number;
  /** Mean HD95 (mm) of the class over the images where both masks have it (NaN if none). */
  readonly hd95: number;
  /** Validation images whose ground truth has the class and whose prediction has none of it. */
  readonly missed: number;
  /** Validation images whose ground truth lacks the class and whose prediction has some of it. */
  readonly falseAlarms: number;
}

/** One epoch's record. */
export interface EpochRow {
  /** 0-based epoch (`metrics.csv` writes it counted from 1). */
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
  /** Mean validation Dice per image (empty/empty = 1), averaged over the foreground classes. */
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
  /**
   * For data of K ≥ 3 classes, the validation metrics of each foreground class 1 … K − 1, in
   * order. Absent for binary data, and in rows written before per-class metrics were recorded.
   */
  readonly perClass?: readonly EpochClassRow[];
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

const EpochClassRowFields = t.type({
  class: PositiveInt,
  dice: JsonFloat,
  hd95: JsonFloat,
  missed: NonNegativeInt,
  falseAlarms: NonNegativeInt,
});

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

// NOTE: not t.intersection with a t.partial: its encode merges the parts by `!==`, so a NaN
// left raw by the partial part would replace the "NaN" string of the other.
const PerClassField = t.readonlyArray(EpochClassRowFields);

/** Whether `perClass` lists the classes 1 … n in order. */
function classesInOrder(perClass: readonly { readonly class: number }[]): boolean {
  return perClass.every((c, j) => c.class === j + 1);
}

/**
 * Codec of `EpochRow` (non-finite values travel as strings). A row without the fields added
 * later (`valPredForeground`, `valMaxForegroundProb`, `valLesionDice`: the `lastRow` of a
 * checkpoint written before them) decodes with them NaN; `perClass` is optional and, when
 * present, must list the classes 1 … n in order.
 */
export const EpochRowCodec: t.Type<EpochRow, unknown, unknown> = new t.Type<EpochRow, unknown, unknown>(
  'EpochRow',
  (u): u is EpochRow => EpochRowFields.is(u) && (!('perClass' in u) || u.perClass === undefined || (PerClassField.is(u.perClass) && classesInOrder(u.perClass))),
  (u, c) => {
    const filled = u !== null && typeof u === 'object' && !Array.isArray(u)
      ? { ...u as Record<string, unknown>, ...Object.fromEntries(Object.entries(ADDED_FIELDS).filter(([k]) => !(k in u))) }
      : u;
    return E.chain((row: t.TypeOf<typeof EpochRowFields>): t.Validation<EpochRow> => {
      const given = (filled as Record<string, unknown>)['perClass'];
      if (given === undefined) return t.success(row);
      return E.chain((perClass: readonly EpochClassRow[]): t.Validation<EpochRow> => (classesInOrder(perClass)
        ? t.success({ ...row, perClass })
        : t.failure(given, t.appendContext(c, 'perClass', PerClassField, given), `expected the classes 1 … ${perClass.length} in order, got classes [${perClass.map((p) => p.class).join(', ')}]`)))(PerClassField.validate(given, t.appendContext(c, 'perClass', PerClassField, given)));
    })(EpochRowFields.validate(filled, c));
  },
  (a) => ({ ...EpochRowFields.encode(a), ...(a.perClass !== undefined ? { perClass: PerClassField.encode(a.perClass) } : {}) }),
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

/**
 * The columns of foreground class `c` (data of K ≥ 3 classes), after the diagnostics, for c = 1 …
 * K − 1 in turn: `val_dice_<c>`, `val_hd95_<c>`, `val_missed_<c>`, `val_false_alarms_<c>` (the
 * fields of {@link EpochClassRow}).
 */
export function classColumns(c: number): string[] {
  return [`val_dice_${c}`, `val_hd95_${c}`, `val_missed_${c}`, `val_false_alarms_${c}`];
}

/** Cells per foreground class. */
const CLASS_WIDTH = 4;

/** The per-class columns of `foreground` classes (none for binary data: `foreground` 0). */
function classHeader(foreground: number): string[] {
  return Array.from({ length: foreground }, (_, j) => classColumns(j + 1)).flat();
}

/** The foreground classes that get per-class columns for data of `classes` classes (0 when K < 3). */
function perClassCount(classes: number): number {
  return classes >= 3 ? classes - 1 : 0;
}

/** The `saturated` flag of a row (as `isSaturated`; NaN, not recorded, is not saturated). */
function saturatedFlag(r: EpochRow): number {
  return r.valMaxForegroundProb < SATURATION_THRESHOLD ? 1 : 0;
}

/** The `collapsed` flag of a row: nothing predicted on any validation image (NaN: not recorded, 0). */
function collapsedFlag(r: EpochRow): number {
  return r.valPredForeground === 0 ? 1 : 0;
}

/** Checks a class count argument (an integer from 1 to 256). */
function checkClasses(op: string, classes: unknown): void {
  if (classes !== undefined && (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 1 || classes > 256)) {
    throw new InputError(op, 'classes', `expected an integer in 1 … 256, got ${describeValue(classes)}`);
  }
}

/**
 * `metrics.csv` for `rows`, with one weight and one training-term column per loss, then the
 * validation metrics, the {@link DIAGNOSTIC_COLUMNS} and, for data of K ≥ 3 classes, the
 * {@link classColumns} of each foreground class. The `epoch` column counts from 1 (`row.epoch + 1`).
 *
 * @param classes K, the data's number of classes; without it, K − 1 is the longest `perClass` of
 *   the rows (binary when no row has one). A row without `perClass` gets NaN per-class cells.
 * @throws InputError naming `classes` (not an integer in 1 … 256) or `rows[i].perClass` (not the
 *   classes 1 … K − 1 in order, or present for K < 3).
 */
export function metricsCsv(losses: readonly string[], rows: readonly EpochRow[], classes?: number): string {
  const op = 'metricsCsv';
  checkClasses(op, classes);
  const foreground = classes !== undefined ? perClassCount(classes) : perClassCount(1 + Math.max(1, ...rows.map((r) => r.perClass?.length ?? 0)));
  rows.forEach((r, i) => {
    if (r.perClass === undefined) return;
    if (foreground === 0) throw new InputError(op, `rows[${i}].perClass`, `per-class columns are written for 3 classes or more, but the data has ${classes ?? 2}`);
    if (r.perClass.length !== foreground || !classesInOrder(r.perClass)) {
      throw new InputError(op, `rows[${i}].perClass`, `expected the classes 1 … ${foreground} in order, got classes [${r.perClass.map((c) => c.class).join(', ')}]`);
    }
  });
  const header = [...baseHeader(losses), ...DIAGNOSTIC_COLUMNS, ...classHeader(foreground)];
  const classCells = (r: EpochRow): number[] => (r.perClass
    ? r.perClass.flatMap((c) => [c.dice, c.hd95, c.missed, c.falseAlarms])
    : new Array<number>(CLASS_WIDTH * foreground).fill(NaN));
  const lines = rows.map((r) => [
    r.epoch + 1, r.lr, ...r.weights, r.trainLoss, ...r.trainTerms, r.valLoss, r.valDice, r.valHd, r.valHd95, r.missed, r.falseAlarms,
    r.valPredForeground, r.valMaxForegroundProb, r.valLesionDice, saturatedFlag(r), collapsedFlag(r), ...classCells(r),
  ].map(cell).join(','));
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

/** Whether two rows are equal, NaN equal to NaN (a resumed run's rows must match bit for bit). */
export function sameRow(a: EpochRow, b: EpochRow): boolean {
  const same = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y));
  const list = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => same(v, y[i]!));
  const classes = (x: readonly EpochClassRow[] | undefined, y: readonly EpochClassRow[] | undefined) => (x === undefined || y === undefined
    ? x === y
    : x.length === y.length && x.every((c, i) => {
      const d = y[i]!;
      return c.class === d.class && same(c.dice, d.dice) && same(c.hd95, d.hd95) && c.missed === d.missed && c.falseAlarms === d.falseAlarms;
    }));
  return a.epoch === b.epoch && same(a.lr, b.lr) && list(a.weights, b.weights) && same(a.trainLoss, b.trainLoss)
    && list(a.trainTerms, b.trainTerms) && same(a.valLoss, b.valLoss) && same(a.valDice, b.valDice) && same(a.valHd, b.valHd)
    && same(a.valHd95, b.valHd95) && a.missed === b.missed && a.falseAlarms === b.falseAlarms
    && same(a.valPredForeground, b.valPredForeground) && same(a.valMaxForegroundProb, b.valMaxForegroundProb) && same(a.valLesionDice, b.valLesionDice)
    && classes(a.perClass, b.perClass);
}

/**
 * Reads `metrics.csv` back (the inverse of {@link metricsCsv}: every number was written as the
 * shortest text that reads back to the same double, so the rows come back exactly) into rows with
 * 0-based epochs. The file's `epoch` column counts from 1, or from 0 in a file written before
 * that: the first row's epoch (1 or 0) tells which. The derived `saturated` and `collapsed` cells
 * are checked against the row and not kept. A file with the header of the first format (no
 * diagnostic columns, see the module comment) reads with the diagnostic fields NaN. Per-class
 * columns, when the header has them, give each row's `perClass` (a row whose per-class cells are
 * all NaN has none); a file of a K ≥ 3 run written without them reads with `perClass` absent.
 *
 * @param file names the file in errors.
 * @param classes K, the run's number of classes: the per-class columns, when there are any, must
 *   be those of the classes 1 … K − 1 (a binary run has none). Without it, any set of them reads.
 * @throws InputError naming `classes` (not an integer in 1 … 256), or naming `file` and the line:
 *   another header than `losses` and `classes` give (current or first format, with or without the
 *   per-class columns), per-class columns of other classes than the run's, a row with the wrong
 *   number of cells, a cell that is not a number, a first epoch other than 1 (or 0), epochs out
 *   of order, counts that are not non-negative integers, flags that are not 0/1 or disagree with
 *   the row.
 */
export function parseMetricsCsv(text: string, losses: readonly string[], file: string, classes?: number): EpochRow[] {
  checkClasses('parseMetricsCsv', classes);
  const fail = (line: number, message: string) => new InputError('metrics', file, `line ${line}: ${message}`);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const legacy = baseHeader(losses);
  const withDiagnostics = [...legacy, ...DIAGNOSTIC_COLUMNS];
  const expected = [...withDiagnostics, ...classHeader(perClassCount(classes ?? 2))].join(',');
  const headerCells = (lines[0] ?? '').split(',');
  const rest = headerCells.slice(withDiagnostics.length);
  const current = headerCells.length >= withDiagnostics.length && withDiagnostics.every((h, j) => headerCells[j] === h);
  // per-class columns: a whole number of class groups, of classes 1 … m with m ≥ 2
  const foreground = rest.length / CLASS_WIDTH;
  const classesOk = rest.length === 0 || (Number.isInteger(foreground) && foreground >= 2 && classHeader(foreground).every((h, j) => rest[j] === h));
  if (!(current && classesOk) && lines[0] !== legacy.join(',')) throw fail(1, `expected the header '${expected}', got '${(lines[0] ?? '').slice(0, 120)}'`);
  const m = current ? rest.length / CLASS_WIDTH : 0;
  if (classes !== undefined && m !== 0 && m !== perClassCount(classes)) {
    throw fail(1, `the per-class columns are those of classes 1 … ${m}, but the run has ${classes} classes (${classes >= 3 ? `expected classes 1 … ${classes - 1}` : 'a binary run has none'})`);
  }
  const k = losses.length;
  const base = 2 + k + 1 + k + 6;
  const classStart = base + DIAGNOSTIC_COLUMNS.length;
  const width = current ? classStart + CLASS_WIDTH * m : base;
  const rows: EpochRow[] = [];
  let firstEpoch = 1;
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    if (cells.length !== width) throw fail(i + 1, `expected ${width} cells, got ${cells.length}`);
    const v = cells.map((c, j) => {
      const n = c === 'NaN' ? NaN : c === 'Infinity' ? Infinity : c === '-Infinity' ? -Infinity : /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(c) ? Number(c) : undefined;
      if (n === undefined) throw fail(i + 1, `cell ${j + 1} is not a number: '${c.slice(0, 40)}'`);
      return n;
    });
    const count = (n: number) => Number.isSafeInteger(n) && n >= 0;
    if (i === 1) {
      if (v[0] !== 0 && v[0] !== 1) throw fail(2, `the first epoch must be 1 (or 0 in a file written before epochs were counted from 1), got ${cells[0]}`);
      firstEpoch = v[0]!;
    }
    if (v[0] !== i - 1 + firstEpoch) throw fail(i + 1, `expected epoch ${i - 1 + firstEpoch}, got ${cells[0]}`);
    const classCells = v.slice(classStart, classStart + CLASS_WIDTH * m);
    const perClass = m > 0 && !classCells.every(Number.isNaN)
      ? Array.from({ length: m }, (_, j): EpochClassRow => {
        const [dice, hd95, missed, falseAlarms] = classCells.slice(CLASS_WIDTH * j, CLASS_WIDTH * (j + 1)) as [number, number, number, number];
        if (!count(missed) || !count(falseAlarms)) throw fail(i + 1, `val_missed_${j + 1} and val_false_alarms_${j + 1} must be non-negative integers, got ${missed} and ${falseAlarms}`);
        return { class: j + 1, dice, hd95, missed, falseAlarms };
      })
      : undefined;
    const row: EpochRow = {
      epoch: i - 1,
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
      ...(perClass ? { perClass } : {}),
    };
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
