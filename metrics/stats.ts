/**
 * Paired statistics for comparing two settings on the same items (volumes, seeds): the percentile
 * bootstrap confidence interval of the mean paired difference, and Wilcoxon's signed-rank test.
 * Pure functions of number arrays; deterministic (the bootstrap draws from `core/random.ts`'s
 * counter-based keys).
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { foldIn, key, randomBits } from '../core/random.js';
import { percentile } from './hausdorff.js';

/** Options of {@link pairedBootstrap}. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples, a positive integer (default 10 000). */
  readonly samples?: number;
  /** Confidence level of the interval, in (0, 1) (default 0.95). */
  readonly level?: number;
  /** Seed of the resampling, a non-negative safe integer (default 0): one seed, one interval. */
  readonly seed?: number;
}

/** What {@link pairedBootstrap} returns. */
export interface BootstrapInterval {
  /** Mean of the (non-NaN) differences; NaN when there is none. */
  readonly mean: number;
  /** Lower and upper percentile bounds of the resampled means; NaN when `n` < 2. */
  readonly low: number;
  readonly high: number;
  /** Number of differences used (NaN entries dropped). */
  readonly n: number;
  /** Number of NaN entries dropped. */
  readonly dropped: number;
  readonly samples: number;
  readonly level: number;
}

/** The defaults of {@link pairedBootstrap}. */
export const BOOTSTRAP_DEFAULTS: Readonly<Required<BootstrapOptions>> = Object.freeze({ samples: 10_000, level: 0.95, seed: 0 });

/**
 * Reads an array of numbers: `differences` must be an array whose entries are numbers; NaN entries
 * are dropped; ±Infinity is refused unless `infinite` says to keep it.
 */
function readDifferences(op: string, differences: unknown, infinite: boolean): { values: number[]; dropped: number } {
  if (!Array.isArray(differences) && !ArrayBuffer.isView(differences)) {
    throw new InputError(op, 'differences', `expected an array of numbers, got ${differences === null ? 'null' : typeof differences}`);
  }
  const list = differences as ArrayLike<unknown>;
  const values: number[] = [];
  let dropped = 0;
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (typeof d !== 'number') throw new InputError(op, `differences[${i}]`, `expected a number, got ${d === null ? 'null' : typeof d}`);
    if (Number.isNaN(d)) {
      dropped++;
      continue;
    }
    if (!infinite && !Number.isFinite(d)) throw new InputError(op, `differences[${i}]`, `expected a finite number, got ${d} (drop or cap infinite differences first)`);
    values.push(d);
  }
  return { values, dropped };
}

/**
 * The percentile bootstrap confidence interval of the mean of paired differences (e.g. per-volume
 * DSC of setting A minus setting B): `samples` resamples of the n differences with replacement,
 * the mean of each, and the `(1 − level)/2` and `(1 + level)/2` percentiles of those means (linear
 * interpolation between order statistics, numpy's default). Resample s draws its n indices from
 * `randomBits(foldIn(key(seed), s), n)` (index ⌊bits·n / 2³²⌋), so the interval is a function of
 * the differences, `samples` and `seed` only.
 *
 * NaN entries (an undefined metric, e.g. HD95 of two empty masks) are dropped and counted in
 * `dropped`; `n` counts the rest. With n < 2 there is nothing to resample: `low` and `high` are
 * NaN (and `mean` is NaN for n = 0).
 *
 * @throws InputError naming `differences` (not an array), `differences[i]` (not a number, or
 *   ±Infinity: drop or cap infinite differences first), `options.samples` (not a positive
 *   integer), `options.level` (not in (0, 1)), `options.seed` (not a non-negative safe integer) or
 *   an unknown option key.
 */
export function pairedBootstrap(differences: readonly number[], options: BootstrapOptions = {}): BootstrapInterval {
  const op = 'pairedBootstrap';
  checkOptionKeys(op, options, Object.keys(BOOTSTRAP_DEFAULTS));
  const samples: unknown = options.samples ?? BOOTSTRAP_DEFAULTS.samples;
  const level: unknown = options.level ?? BOOTSTRAP_DEFAULTS.level;
  const seed: unknown = options.seed ?? BOOTSTRAP_DEFAULTS.seed;
  if (typeof samples !== 'number' || !Number.isSafeInteger(samples) || samples < 1) throw new InputError(op, 'options.samples', `expected a positive integer, got ${String(samples)}`);
  if (typeof level !== 'number' || !(level > 0 && level < 1)) throw new InputError(op, 'options.level', `expected a number in (0, 1), got ${String(level)}`);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) throw new InputError(op, 'options.seed', `expected a non-negative safe integer, got ${String(seed)}`);
  const { values, dropped } = readDifferences(op, differences, false);
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = n === 0 ? NaN : sum / n;
  if (n < 2) return { mean, low: NaN, high: NaN, n, dropped, samples, level };
  const root = key(seed);
  const means = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const bits = randomBits(foldIn(root, s), n);
    let total = 0;
    for (let i = 0; i < n; i++) total += values[Math.floor((bits[i]! * n) / 2 ** 32)]!;
    means[s] = total / n;
  }
  return {
    mean,
    low: percentile(means, (100 * (1 - level)) / 2),
    high: percentile(means, (100 * (1 + level)) / 2),
    n, dropped, samples, level,
  };
}

/** How {@link wilcoxonSignedRank} computes its p-value. */
export type WilcoxonMethod = 'exact' | 'normal';

/** Options of {@link wilcoxonSignedRank}. */
export interface WilcoxonOptions {
  /**
   * `auto` (default): `exact` for n ≤ {@link WILCOXON_EXACT_MAX_N} non-zero differences without
   * ties, else `normal`. `exact` with ties among the |differences| is refused.
   */
  readonly method?: 'auto' | WilcoxonMethod;
  /** Continuity correction of the normal approximation (default true). */
  readonly correction?: boolean;
}

/** What {@link wilcoxonSignedRank} returns. */
export interface WilcoxonResult {
  /** min(W+, W−): the smaller of the two rank sums (scipy's two-sided statistic); NaN when n = 0. */
  readonly statistic: number;
  /** Sum of the ranks of the positive differences. */
  readonly wPlus: number;
  /** Sum of the ranks of the negative differences. */
  readonly wMinus: number;
  /** Two-sided p-value; NaN when n = 0. */
  readonly p: number;
  /** Number of non-zero (and non-NaN) differences: the sample the test ranks. */
  readonly n: number;
  /** Differences dropped: zeros (Wilcoxon's method) and NaN. */
  readonly zeros: number;
  readonly nan: number;
  readonly method: WilcoxonMethod;
  /** Whether some |differences| were tied (average ranks, and the tie-corrected variance). */
  readonly ties: boolean;
}

/** The largest n for which `auto` uses the exact distribution (when there are no ties). */
export const WILCOXON_EXACT_MAX_N = 25;

/** The largest n the exact distribution is computed for on request (`method: 'exact'`). */
export const WILCOXON_EXACT_MAX_EXACT_N = 50;

/**
 * Wilcoxon's signed-rank test of paired differences against a distribution symmetric about 0,
 * two-sided. Zeros are dropped (Wilcoxon's method, scipy's `zero_method='wilcox'`) and NaN entries
 * too (both counted); the |differences| are ranked 1 … n with average ranks for ties; W+ and W−
 * are the rank sums of the positive and negative differences and the statistic is min(W+, W−).
 *
 * - `exact`: P(W ≤ statistic) under the null distribution of the rank sum (every sign pattern of
 *   ranks 1 … n equally likely, counted by dynamic programming over the achievable sums), p =
 *   min(1, 2·P).
 * - `normal`: z = (statistic − μ + c)/σ with μ = n(n + 1)/4, σ² = n(n + 1)(2n + 1)/24 − Σ(t³ − t)/48
 *   over groups of t tied |differences|, c = 0.5 with the continuity correction (0 without, and
 *   never past μ), p = min(1, 2·Φ(z)).
 *
 * ±Infinity differences are ranked like any other (the largest magnitudes). n = 0 (no non-zero
 * difference) gives statistic and p NaN.
 *
 * @throws InputError naming `differences` (not an array), `differences[i]` (not a number),
 *   `options.method` (unknown, or `exact` with ties or n > {@link WILCOXON_EXACT_MAX_EXACT_N}),
 *   `options.correction` (not a boolean) or an unknown option key.
 */
export function wilcoxonSignedRank(differences: readonly number[], options: WilcoxonOptions = {}): WilcoxonResult {
  const op = 'wilcoxonSignedRank';
  checkOptionKeys(op, options, ['method', 'correction']);
  const method: unknown = options.method ?? 'auto';
  const correction: unknown = options.correction ?? true;
  if (method !== 'auto' && method !== 'exact' && method !== 'normal') throw new InputError(op, 'options.method', `expected 'auto', 'exact' or 'normal', got ${String(method)}`);
  if (typeof correction !== 'boolean') throw new InputError(op, 'options.correction', `expected a boolean, got ${typeof correction}`);
  const { values, dropped: nan } = readDifferences(op, differences, true);
  const nonZero = values.filter((d) => d !== 0);
  const zeros = values.length - nonZero.length;
  const n = nonZero.length;
  const magnitude = nonZero.map(Math.abs);
  const order = magnitude.map((_, i) => i).sort((a, b) => (magnitude[a]! < magnitude[b]! ? -1 : magnitude[a]! > magnitude[b]! ? 1 : a - b));
  // Average ranks over groups of equal |d| (ranks 1 … n), and the tie term Σ(t³ − t).
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && magnitude[order[j]!] === magnitude[order[i]!]) j++;
    const t = j - i;
    for (let k = i; k < j; k++) ranks[order[k]!] = (i + 1 + j) / 2;
    tieTerm += t * t * t - t;
    i = j;
  }
  const ties = tieTerm > 0;
  let wPlus = 0;
  let wMinus = 0;
  nonZero.forEach((d, i) => {
    if (d > 0) wPlus += ranks[i]!;
    else wMinus += ranks[i]!;
  });
  const useExact = method === 'exact' || (method === 'auto' && !ties && n <= WILCOXON_EXACT_MAX_N);
  if (method === 'exact' && ties) throw new InputError(op, 'options.method', `the exact distribution needs differences without tied magnitudes; these have ties (use 'normal' or 'auto')`);
  if (method === 'exact' && n > WILCOXON_EXACT_MAX_EXACT_N) throw new InputError(op, 'options.method', `the exact distribution is computed for n ≤ ${WILCOXON_EXACT_MAX_EXACT_N} non-zero differences, got ${n} (use 'normal' or 'auto')`);
  const resultMethod: WilcoxonMethod = useExact ? 'exact' : 'normal';
  if (n === 0) return { statistic: NaN, wPlus, wMinus, p: NaN, n, zeros, nan, method: resultMethod, ties };
  const statistic = Math.min(wPlus, wMinus);
  let p: number;
  if (useExact) {
    p = Math.min(1, 2 * signedRankCdf(n, statistic));
  } else {
    const mu = (n * (n + 1)) / 4;
    const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
    const c = correction ? Math.min(0.5, mu - statistic) : 0;
    p = Math.min(1, 2 * normalCdf((statistic - mu + c) / sigma));
  }
  return { statistic, wPlus, wMinus, p, n, zeros, nan, method: resultMethod, ties };
}

/**
 * P(W ≤ w) for the signed-rank sum W of ranks 1 … n without ties: the number of subsets of
 * {1, …, n} with sum ≤ w, over 2ⁿ (counts by dynamic programming: integers below 2⁵³, so exact
 * in doubles for n ≤ 50; the division by a power of two is exact too).
 */
function signedRankCdf(n: number, w: number): number {
  const max = (n * (n + 1)) / 2;
  const counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (let r = 1; r <= n; r++) for (let s = (r * (r + 1)) / 2; s >= r; s--) counts[s] += counts[s - r]!;
  let below = 0;
  for (let s = 0; s <= Math.min(max, Math.floor(w)); s++) below += counts[s]!;
  return below / 2 ** n;
}

/** Φ(z), the standard normal distribution function, through `erfc` (accurate in both tails). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * The complementary error function (absolute error about 1e-16, relative below 1e-13): for 0 ≤ x < 2 the series
 * erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3···(2n+1)) (positive terms, no cancellation), for
 * x ≥ 2 the continued fraction erfc(x) = (e^(−x²)/√π)·1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
 * evaluated by the modified Lentz method; erfc(−x) = 2 − erfc(x).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
      term *= (2 * x * x) / (2 * k + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  if (x > 27) return 0;
  // Lentz: f = x + a1/(x + a2/(x + …)) with a_k = k/2.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}
