/**
 * A command's configuration: the flags, over an optional `--config FILE.json` whose keys are the
 * camelCase flag names (flags override the file), decoded with io-ts against the command's flag
 * declarations. An unknown key or a value of the wrong type is a usage error (exit 2) naming the
 * flag, or the file and the field. Relative paths in the file (the fields of the path flags: `data`, `out`,
 * `resume`, `checkpoint`, `input`, `splits`) are relative to the file's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { describeValue } from '../models/codecs.js';
import { camelCase, kebabCase, parseDecimal, type FlagSpec, type FlagValue } from './args.js';
import { UsageError } from './errors.js';
import { suggestName } from './suggest.js';

/** Keys that configure the parsing itself and are never part of a config. */
const META = new Set(['help', 'config']);

function numberCodec(spec: FlagSpec): t.Type<number, number, unknown> {
  const int = spec.kind === 'int';
  const bounds = [
    spec.min !== undefined ? `${spec.exclusiveMin ? '>' : '≥'} ${spec.min}` : '',
    spec.max !== undefined ? `≤ ${spec.max}` : '',
  ].filter(Boolean).join(' and ');
  const expectation = `${int ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}`;
  const ok = (n: unknown): n is number =>
    typeof n === 'number' && Number.isFinite(n) && (!int || Number.isSafeInteger(n))
    && (spec.min === undefined || (spec.exclusiveMin ? n > spec.min : n >= spec.min))
    && (spec.max === undefined || n <= spec.max);
  return new t.Type<number, number, unknown>(expectation, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c, `expected ${expectation}, got ${describeValue(u)}`)), t.identity);
}

function stringCodec(spec: FlagSpec): t.Type<string, string, unknown> {
  const values = spec.values;
  const ok = (u: unknown): u is string => typeof u === 'string' && u !== '' && (!values || values.includes(u));
  const expectation = values ? `one of ${values.join(', ')}` : 'a non-empty string';
  const near = (u: unknown): string => {
    const guess = values && typeof u === 'string' ? suggestName(u, values) : undefined;
    return guess !== undefined ? ` (did you mean ${guess}?)` : '';
  };
  return new t.Type<string, string, unknown>(expectation, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c, `expected ${expectation}, got ${describeValue(u)}${near(u)}`)), t.identity);
}

/** A list: a JSON array, or (in a config file too) a comma-separated string. */
function listCodec<A>(item: t.Type<A, A, unknown>, numbers: boolean): t.Type<A[], A[], unknown> {
  return new t.Type<A[], A[], unknown>(
    `list of ${item.name}`,
    (u): u is A[] => Array.isArray(u) && u.every((x) => item.is(x)),
    (u, c) => {
      const raw = typeof u === 'string' ? u.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => (numbers ? parseDecimal(s) : s)) : u;
      if (!Array.isArray(raw) || raw.length === 0) return t.failure(u, c, `expected a non-empty list of ${item.name}, got ${describeValue(u)}`);
      const out: A[] = [];
      for (const x of raw) {
        const r = item.validate(x, c);
        if (E.isLeft(r)) return r;
        out.push(r.right);
      }
      return t.success(out);
    },
    t.identity,
  );
}

/** The io-ts codec of one flag's value. */
export function flagCodec(spec: FlagSpec): t.Type<FlagValue, FlagValue, unknown> {
  switch (spec.kind) {
    case 'string':
      return stringCodec(spec) as t.Type<FlagValue, FlagValue, unknown>;
    case 'int':
    case 'number':
      return numberCodec(spec) as t.Type<FlagValue, FlagValue, unknown>;
    case 'boolean':
      return t.boolean as unknown as t.Type<FlagValue, FlagValue, unknown>;
    case 'list':
      return listCodec(stringCodec(spec), false) as unknown as t.Type<FlagValue, FlagValue, unknown>;
    case 'numbers':
      return listCodec(numberCodec({ ...spec, kind: 'number' }), true) as unknown as t.Type<FlagValue, FlagValue, unknown>;
  }
}

/** Reads a `--config` file: a JSON object. */
async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : `cannot read (${code ?? (e as Error).message})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`--config ${path}: expected a JSON object of flag names (camelCase) to values`);
  return json as Record<string, unknown>;
}

/**
 * Merges `--config FILE` (when given) and the parsed flags, and decodes the result against
 * `specs`. Returns the decoded values keyed by camelCase flag names (absent flags are absent).
 *
 * @throws UsageError naming the flag (`--epochs: expected an integer ≥ 1, got 0`) or the file and
 * field (`config.json: field epochs: …`, `config.json: unknown field 'foo'`).
 */
export async function resolveConfig(flags: Readonly<Record<string, FlagValue>>, specs: readonly FlagSpec[]): Promise<Record<string, FlagValue>> {
  const file = typeof flags['config'] === 'string' ? (flags['config'] as string) : undefined;
  const fromFile = file ? await readConfigFile(file) : {};
  const byKey = new Map(specs.filter((s) => !META.has(s.name)).map((s) => [camelCase(s.name), s]));
  for (const k of Object.keys(fromFile)) {
    if (!byKey.has(k)) throw new UsageError(`${file}: unknown field '${k}' (keys are the camelCase flag names of this command: ${[...byKey.keys()].join(', ')})`);
  }
  // Paths in the file are relative to the file's folder, as a reader of the file expects.
  const base = file !== undefined ? dirname(file) : '.';
  const relocated = Object.fromEntries(Object.entries(fromFile).map(([k, v]) => [k, byKey.get(k)!.path && typeof v === 'string' && v !== '' && !isAbsolute(v) ? join(base, v) : v]));
  const merged: Record<string, unknown> = { ...relocated };
  for (const [k, v] of Object.entries(flags)) if (!META.has(k)) merged[k] = v;
  const out: Record<string, FlagValue> = {};
  for (const [k, v] of Object.entries(merged)) {
    const spec = byKey.get(k)!;
    const r = flagCodec(spec).decode(v);
    if (E.isLeft(r)) {
      const message = r.left[0]?.message ?? `invalid value ${describeValue(v)}`;
      throw new UsageError(k in flags ? `--${spec.name}: ${message}` : `${file}: field ${k}: ${message}`);
    }
    out[k] = r.right;
  }
  return out;
}

/** The flag name of a config key, for messages: `batchSize` → `--batch-size`. */
export function flagName(key: string): string {
  return `--${kebabCase(key)}`;
}
