/** Aggregation of per-image (or per-class) metric values. */

/** What {@link summarize} returns. */
export interface Summary {
  /** Mean of the finite values (NaN when there are none). */
  readonly mean: number;
  /** Sample standard deviation of the finite values (n − 1 divisor); 0 for one value, NaN for none. */
  readonly std: number;
  /** Number of finite values used. */
  readonly count: number;
  /** Number of values skipped: NaN, +Infinity and −Infinity (the empty-case results). */
  readonly skipped: number;
}

/**
 * Mean and sample standard deviation (divisor n − 1) of the finite values, skipping NaN and
 * ±Infinity and reporting how many were skipped. Never throws on empty input.
 */
export function summarize(values: ArrayLike<number>): Summary {
  let count = 0;
  let skipped = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) {
      skipped++;
      continue;
    }
    // Welford's update: stable for values far from zero.
    count++;
    const delta = x - mean;
    mean += delta / count;
    m2 += delta * (x - mean);
  }
  if (count === 0) return { mean: NaN, std: NaN, count, skipped };
  return { mean, std: count === 1 ? 0 : Math.sqrt(m2 / (count - 1)), count, skipped };
}
