/**
 * Min-max normalisation of image intensities to [0, 1] (the reference's per-volume preprocessing).
 */

/**
 * Scales all `channels` together so that their joint minimum becomes 0 and maximum 1; a constant
 * image becomes all zeros. Returns new arrays. Values must be finite (loaders check this first).
 */
export function minMaxNormalise(channels: readonly Float32Array[]): Float32Array[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of channels) {
    for (let i = 0; i < c.length; i++) {
      const v = c[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const range = hi - lo;
  return channels.map((c) => {
    const out = new Float32Array(c.length);
    if (range > 0) for (let i = 0; i < c.length; i++) out[i] = (c[i]! - lo) / range;
    return out;
  });
}
