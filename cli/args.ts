/**
 * Command-line flags: each command declares its flags once (name, kind, help); `parseArgs` turns
 * argv into a record keyed by the camelCase flag names, converting values by kind. No
 * dependencies. Accepted forms: `--name value`, `--name=value`, `--flag` for booleans (and
 * `--no-flag` to turn one off).
 */
import { UsageError } from './errors.js';
import { suggestName } from './suggest.js';

/** How a flag's value is read. */
export type FlagKind = 'string' | 'int' | 'number' | 'boolean' | 'list' | 'numbers';

/** One flag of a command. */
export interface FlagSpec {
  /** kebab-case, without the dashes: `batch-size`. */
  readonly name: string;
  readonly kind: FlagKind;
  /** One line for `--help`. */
  readonly help: string;
  /** Shown as the value's placeholder: `N`, `DIR`, `FILE`. */
  readonly value?: string;
  /** The default, as shown in `--help`. */
  readonly default?: string;
  /** Allowed values (of the string, or of each list item). */
  readonly values?: readonly string[];
  /** Smallest allowed number (of the value, or of each list item). */
  readonly min?: number;
  /** Values must be above `min`, not equal to it. */
  readonly exclusiveMin?: boolean;
  /** Largest allowed number. */
  readonly max?: number;
  /**
   * The value is a file or folder path: in a `--config` file, a relative path is taken relative to
   * the config file's folder (on the command line, to the working directory).
   */
  readonly path?: boolean;
}

/** A parsed value. */
export type FlagValue = string | number | boolean | string[] | number[];

/** kebab-case → camelCase: `batch-size` → `batchSize`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** camelCase → kebab-case: `batchSize` → `batch-size`. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * A number as the command line accepts it: decimal digits with an optional sign, fraction and
 * exponent (`3`, `-0.5`, `1e-3`). No hexadecimal (`0x2`), no surrounding spaces (`' 2'`), no
 * `Infinity`.
 */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The number a command-line or config-list text holds (see `DECIMAL`), or NaN. */
export function parseDecimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  const flag = `--${spec.name}`;
  const number = (s: string): number => {
    const n = parseDecimal(s);
    if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got '${s}'`);
    return n;
  };
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int': {
      const n = number(raw);
      if (!Number.isInteger(n)) throw new UsageError(`${flag}: expected an integer, got '${raw}'`);
      if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: ${raw} is beyond the integers a double holds exactly (at most 2^53 − 1 = ${Number.MAX_SAFE_INTEGER})`);
      return n;
    }
    case 'number':
      return number(raw);
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new UsageError(`${flag}: expected true or false, got '${raw}'`);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'numbers':
      return raw.split(',').map((s) => number(s.trim()));
  }
}

/**
 * Parses `argv` (after the command name) against `specs`. `--help`/`-h` sets `help: true`.
 *
 * @throws UsageError naming the flag: a flag of another command (`elsewhere.takers(flag)`: the
 * commands that take it) says which commands take it; other unknown flags name the nearest known
 * flag (see `suggestName`); a missing value, a value of the wrong kind,
 * a flag given twice, or a stray positional argument.
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], elsewhere?: { readonly command: string; readonly takers: (flag: string) => readonly string[] }): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = {};
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out['help'] = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') throw new UsageError(`unexpected argument '${arg}' (flags start with --; see --help)`);
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'boolean' && inline === undefined) {
      name = name.slice(3);
      spec = byName.get(name);
      inline = 'false';
    }
    if (!spec) {
      const takers = elsewhere?.takers(name).filter((c) => c !== elsewhere.command) ?? [];
      if (takers.length > 0) throw new UsageError(`--${name} does not apply to ${elsewhere!.command} (it is a flag of ${takers.join(', ')}; see --help)`);
      const near = suggestName(name, [...specs.map((s) => s.name), 'help']);
      throw new UsageError(`unknown flag --${name} (${near !== undefined ? `did you mean --${near}?; ` : ''}see --help)`);
    }
    const key = camelCase(spec.name);
    if (key in out) throw new UsageError(`--${spec.name} is given twice`);
    if (spec.kind === 'boolean') {
      out[key] = convert(spec, inline ?? 'true');
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`--${spec.name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
      raw = next;
      i++;
    }
    out[key] = convert(spec, raw);
  }
  return out;
}

/** The `--help` text of a command. */
export function helpText(command: string, summary: string, usage: string, specs: readonly FlagSpec[]): string {
  const left = specs.map((s) => `  --${s.name}${s.kind === 'boolean' ? '' : ` ${s.value ?? 'VALUE'}`}`);
  const width = Math.min(34, Math.max(...left.map((l) => l.length)) + 2);
  const lines = specs.map((s, i) => {
    const l = left[i]!;
    const help = `${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`;
    return l.length >= width ? `${l}\n${' '.repeat(width)}${help}` : `${l.padEnd(width)}${help}`;
  });
  return [`boundary-seg ${command}: ${summary}`, '', `usage: boundary-seg ${usage}`, '', 'flags:', ...lines, '  --help                          this text', ''].join('\n');
}
