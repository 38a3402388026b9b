/**
 * Label maps as stored in files → class indices: the label formats, their automatic detection,
 * and the checks that name the file and the first offending pixel.
 */
import { InputError } from '../core/errors.js';

/**
 * How label files store classes:
 * - `indices`: the pixel value is the class index;
 * - `binary255`: binary masks saved as 0 / 255 (0 → class 0, 255 → class 1);
 * - `auto`: `binary255` when the values are a subset of {0, 255} that includes 255, else `indices`.
 */
export type LabelFormat = 'indices' | 'binary255' | 'auto';

/** Largest stored label value accepted before conversion (16-bit PNG). */
const MAX_STORED = 65535;
/** Stored values this close to an integer count as that integer (float NIfTI label volumes). */
const INTEGER_TOLERANCE = 1e-3;

/** `(z, y, x)`-style position of flat index `i` in a row-major `shape`. */
export function formatPosition(i: number, shape: readonly number[]): string {
  const index = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    index[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return `(${index.join(', ')})`;
}

/**
 * The distinct values of a stored label map, sorted.
 *
 * @throws InputError (op `op`, argument `file`) at the first value that is not an integer in
 *   [0, 65535], with its position.
 */
export function distinctLabelValues(op: string, file: string, values: ArrayLike<number>, shape: readonly number[]): number[] {
  const seen = new Uint8Array(MAX_STORED + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const r = Math.round(v);
    if (!(Math.abs(v - r) <= INTEGER_TOLERANCE) || r < 0 || r > MAX_STORED) {
      throw new InputError(op, file, `label value ${v} at ${formatPosition(i, shape)} is not a class index (a non-negative integer)`);
    }
    seen[r] = 1;
  }
  const out: number[] = [];
  seen.forEach((s, v) => {
    if (s) out.push(v);
  });
  return out;
}

/** The format `auto` resolves to for the given distinct stored values (see {@link LabelFormat}). */
export function resolveLabelFormat(format: LabelFormat, distinct: readonly number[]): 'indices' | 'binary255' {
  if (format !== 'auto') return format;
  return distinct.includes(255) && distinct.every((v) => v === 0 || v === 255) ? 'binary255' : 'indices';
}

/** Checks a `labelFormat` option. */
export function readLabelFormat(op: string, format: unknown): LabelFormat {
  if (format === undefined) return 'auto';
  if (format === 'indices' || format === 'binary255' || format === 'auto') return format;
  throw new InputError(op, 'options.labelFormat', `expected 'indices', 'binary255' or 'auto', got ${String(format)}`);
}

/**
 * Stored label values → class indices in [0, classes).
 *
 * @throws InputError (op `op`, argument `file`) at the first value that is not 0 or 255
 *   (`binary255`) or whose class is not below `classes`, with its position.
 */
export function toClassIndices(
  op: string,
  file: string,
  values: ArrayLike<number>,
  shape: readonly number[],
  format: 'indices' | 'binary255',
  classes: number,
): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]!);
    let k = v;
    if (format === 'binary255') {
      if (v !== 0 && v !== 255) throw new InputError(op, file, `label value ${v} at ${formatPosition(i, shape)} is neither 0 nor 255 (label format binary255)`);
      k = v === 255 ? 1 : 0;
    }
    if (!(k >= 0 && k < classes)) {
      throw new InputError(op, file, `label value ${v} at ${formatPosition(i, shape)} is outside the ${classes} classes [0, ${classes})`);
    }
    out[i] = k;
  }
  return out;
}
