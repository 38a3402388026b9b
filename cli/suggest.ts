/**
 * "Did you mean": the known name a mistyped command or flag most likely meant, for the one-line
 * usage errors (`unknown command 'trian' (did you mean 'train'?; …)`).
 */
import { closestName } from '../core/options.js';

/** Most edits (insertions, deletions, substitutions) between a word and the name it suggests. */
export const SUGGEST_MAX_DISTANCE = 2;

/**
 * The name of `known` that `word` most likely meant: the nearest within `SUGGEST_MAX_DISTANCE`
 * edits (letters compared without case), else the only name that `word` begins (`--ep` for
 * `--epochs`), else undefined (no suggestion for a far-off word, nor for an empty one).
 */
export function suggestName(word: string, known: readonly string[]): string | undefined {
  if (word === '') return undefined;
  const near = closestName(word, known, SUGGEST_MAX_DISTANCE);
  if (near !== undefined) return near;
  const lower = word.toLowerCase();
  const prefixed = known.filter((n) => n.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
