/**
 * io-ts codecs for values that cross the library boundary untyped (JSON, user arrays). Decoders
 * return `Either<Errors, T>`; `formatErrors` turns the left side into readable lines.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { upload } from './engine.js';
import { sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

/** A finite float. */
export const FiniteNumber = new t.Type<number, number, unknown>(
  'FiniteNumber',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && Number.isFinite(u) ? t.success(u) : t.failure(u, c, typeof u === 'number' ? `non-finite value ${u}` : `expected a number, got ${describe(u)}`)),
  t.identity,
);

/** A non-negative integer. */
export const Extent = new t.Type<number, number, unknown>(
  'Extent',
  (u): u is number => Number.isInteger(u) && (u as number) >= 0,
  (u, c) => (Number.isInteger(u) && (u as number) >= 0 ? t.success(u as number) : t.failure(u, c, `expected a non-negative integer extent, got ${describe(u)}`)),
  t.identity,
);

/** A shape. */
export const ShapeCodec = t.array(Extent, 'Shape');

/** Host values with a shape, checked for nesting, size and finiteness. */
export interface DecodedArray {
  readonly values: Float64Array;
  readonly shape: number[];
}

function describe(u: unknown): string {
  if (u === null) return 'null';
  if (Array.isArray(u)) return `an array of length ${u.length}`;
  if (typeof u === 'string') return JSON.stringify(u.length > 20 ? `${u.slice(0, 20)}…` : u);
  return typeof u === 'number' ? String(u) : typeof u;
}

/** Walks nested arrays, checking rectangular nesting and finite numbers. */
function flattenChecked(u: unknown, c: t.Context): t.Validation<DecodedArray> {
  const shape: number[] = [];
  let level: unknown = u;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const values = new Float64Array(sizeOf(shape));
  let k = 0;
  const errors: t.ValidationError[] = [];
  const walk = (x: unknown, depth: number, path: string): void => {
    if (errors.length >= 5) return;
    if (depth === shape.length) {
      if (typeof x !== 'number') errors.push({ value: x, context: c, message: `ragged nesting at data${path}: expected a number, got ${describe(x)}` });
      else if (!Number.isFinite(x)) errors.push({ value: x, context: c, message: `non-finite value ${x} at data${path}` });
      else values[k++] = x;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      errors.push({ value: x, context: c, message: `ragged nesting at data${path}: expected an array of length ${shape[depth]}, got ${describe(x)}` });
      return;
    }
    x.forEach((v, i) => walk(v, depth + 1, `${path}[${i}]`));
  };
  walk(u, 0, '');
  return errors.length ? t.failures(errors) : t.success({ values, shape });
}

/**
 * Untyped tensor input: either nested number arrays, or `{ data: number[] (flat), shape }`.
 * Ragged nesting, a data length that does not fill the shape, and non-finite values are errors.
 */
export const ArrayInput = new t.Type<DecodedArray, unknown, unknown>(
  'TensorInput',
  (u): u is DecodedArray => typeof u === 'object' && u !== null && (u as DecodedArray).values instanceof Float64Array,
  (u, c) => {
    if (u !== null && typeof u === 'object' && !Array.isArray(u) && 'shape' in u) {
      const obj = u as { data?: unknown; shape?: unknown };
      return pipe(
        ShapeCodec.validate(obj.shape, t.appendContext(c, 'shape', ShapeCodec, obj.shape)),
        E.chain((shape) => {
          const data = ArrayBuffer.isView(obj.data) ? Array.from(obj.data as unknown as ArrayLike<number>) : obj.data;
          if (!Array.isArray(data)) return t.failure(obj.data, t.appendContext(c, 'data', t.unknown, obj.data), `expected a flat array of numbers, got ${describe(obj.data)}`);
          const nested = data.findIndex((v) => Array.isArray(v));
          if (nested >= 0) {
            return t.failure(data, t.appendContext(c, 'data', t.unknown, data), `expected a flat array of numbers, got an array at data[${nested}]`);
          }
          if (data.length !== sizeOf(shape)) {
            return t.failure(data, t.appendContext(c, 'data', t.unknown, data), `${data.length} values do not fill shape [${shape.join(', ')}] (${sizeOf(shape)} elements)`);
          }
          return pipe(
            flattenChecked(data, t.appendContext(c, 'data', t.unknown, data)),
            E.map((flat) => ({ values: flat.values, shape })),
          );
        }),
      );
    }
    if (typeof u === 'number') return Number.isFinite(u) ? t.success({ values: Float64Array.of(u), shape: [] }) : t.failure(u, c, `non-finite value ${u}`);
    if (!Array.isArray(u)) return t.failure(u, c, `expected nested number arrays or { data, shape }, got ${describe(u)}`);
    return flattenChecked(u, c);
  },
  (a) => a,
);

/** Renders io-ts errors as one line each: `at <path>: <message>`. */
export function formatErrors(errors: t.Errors): string[] {
  return errors.map((e) => {
    const path = e.context.map((c) => c.key).filter((k) => k !== '').join('.');
    const msg = e.message ?? `invalid value ${describe(e.value)} (expected ${e.context[e.context.length - 1]?.type.name ?? 'a value'})`;
    return path ? `at ${path}: ${msg}` : msg;
  });
}

/** Decodes untyped input into a tensor on the selected backend, or the reasons it cannot. */
export function decodeTensor(u: unknown): E.Either<t.Errors, Tensor> {
  return pipe(
    ArrayInput.decode(u),
    E.map((a) => upload(a.values, a.shape)),
  );
}
