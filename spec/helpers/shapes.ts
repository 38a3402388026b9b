/** Masks of simple shapes on a grid, for the geometry tests. */

/**
 * A 0/1 mask of `shape` whose voxels are 1 where `inside(x)` holds at the voxel centre `x`, in
 * physical coordinates: centre of voxel i on axis a is `(i + ½ − shape[a]/2)·spacing[a]`, so the
 * grid is centred on the origin.
 */
export function rasterize(
  shape: readonly number[],
  spacing: readonly number[],
  inside: (x: readonly number[]) => boolean,
): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(n);
  const index = new Array<number>(shape.length).fill(0);
  const x = new Array<number>(shape.length).fill(0);
  for (let p = 0; p < n; p++) {
    for (let a = 0; a < shape.length; a++) x[a] = (index[a] + 0.5 - shape[a] / 2) * spacing[a];
    if (inside(x)) out[p] = 1;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

/** `inside` test of a ball of `radius` around `centre`. */
export function ball(centre: readonly number[], radius: number): (x: readonly number[]) => boolean {
  return (x) => {
    let d2 = 0;
    for (let a = 0; a < x.length; a++) d2 += (x[a] - centre[a]) ** 2;
    return d2 <= radius * radius;
  };
}
