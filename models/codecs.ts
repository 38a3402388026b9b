/**
 * io-ts building blocks for the models' configs and checkpoint headers: closed objects (an
 * unknown key is an error that names it), bounded numbers, and JSON-safe non-finite floats.
 */
import * as t from 'io-ts';

/** Describes a value in a decoding error. */
export function describeValue(u: unknown): string {
  if (u === null) return 'null';
  if (Array.isArray(u)) return 'an array';
  if (typeof u === 'string') return JSON.stringify(u);
  if (typeof u === 'number' || typeof u === 'boolean') return String(u);
  return typeof u;
}

/**
 * An object codec with `required` and `optional` fields that rejects keys it does not know
 * (`t.exact` would strip them silently): the error's path names the unknown key.
 */
export function closed<R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional?: O,
): t.Type<t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>, unknown, unknown> {
  const inner = t.intersection([t.type(required), t.partial(optional ?? ({} as O))]);
  const known = [...Object.keys(required), ...Object.keys(optional ?? {})];
  return new t.Type<t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>, unknown, unknown>(
    name,
    (u): u is t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>> => inner.is(u),
    (u, c) => {
      if (u === null || typeof u !== 'object' || Array.isArray(u)) return t.failure(u, c, `expected an object, got ${describeValue(u)}`);
      const unknownKeys = Object.keys(u).filter((k) => !known.includes(k));
      if (unknownKeys.length > 0) {
        return t.failures(unknownKeys.map((k) => ({
          value: (u as Record<string, unknown>)[k],
          context: t.appendContext(c, k, t.unknown, undefined),
          message: `unknown field (expected one of: ${known.join(', ')})`,
        })));
      }
      return inner.validate(u, c);
    },
    (a) => inner.encode(a),
  );
}

/** A number that satisfies `ok`, with a message naming the expectation. */
export function numberWhere(name: string, expectation: string, ok: (n: number) => boolean): t.Type<number, number, unknown> {
  return new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && ok(u),
    (u, c) => (typeof u === 'number' && ok(u) ? t.success(u) : t.failure(u, c, `expected ${expectation}, got ${describeValue(u)}`)),
    t.identity,
  );
}

/** A positive integer. */
export const PositiveInt = numberWhere('PositiveInt', 'a positive integer', (n) => Number.isInteger(n) && n >= 1);
/** A non-negative safe integer. */
export const NonNegativeInt = numberWhere('NonNegativeInt', 'a non-negative integer', (n) => Number.isSafeInteger(n) && n >= 0);
/** A finite positive number. */
export const PositiveNumber = numberWhere('PositiveNumber', 'a positive number', (n) => Number.isFinite(n) && n > 0);
/** A finite number ≥ 0. */
export const NonNegativeNumber = numberWhere('NonNegativeNumber', 'a finite number ≥ 0', (n) => Number.isFinite(n) && n >= 0);
/** A number in [0, 1). */
export const UnitInterval = numberWhere('UnitInterval', 'a number in [0, 1)', (n) => n >= 0 && n < 1);
/** A finite number. */
export const Finite = numberWhere('Finite', 'a finite number', (n) => Number.isFinite(n));

/**
 * A float that may be NaN or ±Infinity, stored in JSON as a number or one of the strings
 * "NaN", "Infinity", "-Infinity" (JSON has no literal for them).
 */
export const JsonFloat = new t.Type<number, number | string, unknown>(
  'JsonFloat',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u);
    if (u === 'NaN') return t.success(NaN);
    if (u === 'Infinity') return t.success(Infinity);
    if (u === '-Infinity') return t.success(-Infinity);
    return t.failure(u, c, `expected a number, got ${describeValue(u)}`);
  },
  (n) => (Number.isFinite(n) ? n : String(n)),
);
