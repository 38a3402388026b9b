/**
 * Brute-force distances for the tests: O(n²) over all voxel pairs, written independently of
 * `losses/edt.ts` (no separable passes, no envelopes), so that agreeing with it means something.
 */

/** Multi-index of flat index `p` in a row-major `shape`. */
export function unravel(p: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    index[a] = p % shape[a];
    p = Math.floor(p / shape[a]);
  }
  return index;
}

/**
 * For every voxel, the distance to the nearest voxel whose value is `target` (0 on such voxels,
 * +Infinity when there is none), measured to its centre (`centre`) or to its cell, the box of size
 * `spacing` around its centre (`cell`).
 */
export function bruteDistance(
  values: ArrayLike<number | boolean>,
  shape: readonly number[],
  spacing: readonly number[],
  target: 0 | 1,
  measure: 'centre' | 'cell' = 'centre',
): Float64Array {
  const n = values.length;
  const indices = Array.from({ length: n }, (_, p) => unravel(p, shape));
  const targets = indices.filter((_, p) => Number(values[p]) === target);
  const out = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    if (Number(values[p]) === target) continue;
    let best = Infinity;
    for (const q of targets) {
      let d2 = 0;
      for (let a = 0; a < shape.length; a++) {
        let offset = Math.abs(indices[p][a] - q[a]);
        if (measure === 'cell') offset = Math.max(0, offset - 0.5);
        d2 += (offset * spacing[a]) ** 2;
      }
      if (d2 < best) best = d2;
    }
    out[p] = Math.sqrt(best);
  }
  return out;
}

/** Relative difference `|a − b| / max(|a|, |b|)`, 0 when both are equal (including ±Infinity). */
export function relativeDifference(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}
