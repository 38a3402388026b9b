/** Deterministic host values for conformance cases, by kind, from a seed. */

/** How an input's values are drawn (keeps inputs away from kinks and poles). */
export type ValueKind =
  | 'any' // uniform in [−2, 2]
  | 'positive' // uniform in [0.1, 2] (log, sqrt, div, pow bases)
  | 'awayFromZero' // |x| in [0.1, 2], random sign (relu, abs, sign)
  | 'distinct' // a shuffled ladder of well-separated values (max, pooling, argmax)
  | 'small' // uniform in [−0.5, 0.5]
  | 'binary' // 0 or 1 (where's condition)
  | 'smallInt'; // integers in [−2, 2] (comparisons with ties)

/** The seeded generator for test data (mulberry32, shared with the other specs). */
export { mulberry32 as rng } from '../helpers/numeric.js';

/** `n` values of a kind. */
export function values(kind: ValueKind, n: number, rand: () => number): Float64Array {
  const out = new Float64Array(n);
  switch (kind) {
    case 'any':
      for (let i = 0; i < n; i++) out[i] = rand() * 4 - 2;
      break;
    case 'positive':
      for (let i = 0; i < n; i++) out[i] = 0.1 + rand() * 1.9;
      break;
    case 'awayFromZero':
      for (let i = 0; i < n; i++) out[i] = (0.1 + rand() * 1.9) * (rand() < 0.5 ? -1 : 1);
      break;
    case 'distinct': {
      for (let i = 0; i < n; i++) out[i] = (i - n / 2) * 0.05;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      break;
    }
    case 'small':
      for (let i = 0; i < n; i++) out[i] = rand() - 0.5;
      break;
    case 'binary':
      for (let i = 0; i < n; i++) out[i] = rand() < 0.5 ? 0 : 1;
      break;
    case 'smallInt':
      for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 5) - 2;
      break;
  }
  return out;
}
