/**
 * Options objects as the library takes them: a plain object whose keys are all known. A misspelt
 * key (`{ idcs: [1] }` for `{ idc: [1] }`) is an `InputError` naming it, never silently ignored.
 */
import { InputError } from './errors.js';

/**
 * Edit distance of two short strings (for "did you mean"): the fewest insertions, deletions and
 * substitutions that turn `a` into `b`, letters compared without case.
 */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The name of `known` nearest to `word` ("did you mean"): the one of smallest `editDistance`, the
 * first of those when several tie, or undefined when none is within `maxDistance` edits.
 */
export function closestName(word: string, known: readonly string[], maxDistance = 2): string | undefined {
  return known.map((n) => [n, editDistance(word, n)] as const).filter(([, d]) => d <= maxDistance).sort((a, b) => a[1] - b[1])[0]?.[0];
}

/**
 * Checks that `options` is undefined or a plain object whose keys are all in `known`.
 *
 * @param op the function's name, for the error.
 * @param argument the parameter's name (`options`); an unknown key is named `options.<key>`.
 * @throws InputError naming the argument when it is not an object, or the unknown key (with the
 *   closest known key when one is near, and the list of known keys).
 */
export function checkOptionKeys(op: string, options: unknown, known: readonly string[], argument = 'options'): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InputError(op, argument, `expected an options object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (known.includes(k)) continue;
    const near = closestName(k, known);
    const hint = near !== undefined ? ` (did you mean '${near}'?)` : '';
    throw new InputError(op, `${argument}.${k}`, `unknown option '${k}'${hint}; ${known.length > 0 ? `known options: ${known.join(', ')}` : 'this function takes no options'}`);
  }
}
