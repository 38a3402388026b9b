/**
 * Surfaces of masks and the distances between them, the ingredients of the distance metrics.
 */
import { distanceTransform } from '../losses/edt.js';
import { checkOptionKeys } from '../core/options.js';
import {
  type MaskArray,
  type NdArray,
  checkSameShape,
  readMask,
  readSpacing,
  stridesOf,
} from '../losses/array.js';

/** Options of the surface-distance metrics. */
export interface SpacingOptions {
  /** Physical voxel size per axis (`spacing[i]` belongs to `shape[i]`); default all 1. */
  readonly spacing?: readonly number[];
}

/**
 * The surface of a mask: `mask ∧ ¬erode(mask)` with the face-connected structuring element
 * (2·rank neighbours: 4 in 2-D, 6 in 3-D); voxels outside the image count as background, so true
 * voxels on the image border are surface voxels. A non-empty mask always has a non-empty surface.
 *
 * @returns 0/1 `Uint8Array` data, same shape.
 * @throws ShapeError / InputError naming `mask`.
 */
export function surface(mask: MaskArray): NdArray<Uint8Array> {
  const values = readMask('surface', 'mask', mask);
  return { data: surfaceOf(values, mask.shape), shape: [...mask.shape] };
}

/** Surface of validated 0/1 values (see {@link surface}). */
export function surfaceOf(values: Uint8Array, shape: readonly number[]): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n);
  const rank = shape.length;
  const strides = stridesOf(shape);
  const index = new Array<number>(rank).fill(0);
  for (let p = 0; p < n; p++) {
    if (values[p] === 1) {
      let border = rank === 0; // a 0-d true mask: its only voxel touches the outside
      for (let a = 0; a < rank && !border; a++) {
        const i = index[a];
        const s = strides[a];
        border = i === 0 || i === shape[a] - 1 || values[p - s] === 0 || values[p + s] === 0;
      }
      if (border) out[p] = 1;
    }
    for (let a = rank - 1; a >= 0; a--) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

/**
 * Directed surface distances between two masks of the same shape: for every surface voxel of one,
 * the distance (physical units) from its centre to the nearest surface-voxel centre of the other,
 * in row-major order of the voxels. Computed with one distance transform per direction (linear time),
 * never pairwise. A direction whose target surface is empty gives `+Infinity` for every voxel.
 */
export interface SurfaceDistances {
  /** One entry per surface voxel of `pred`: its distance to the surface of `gt`. */
  readonly predToGt: Float64Array;
  /** One entry per surface voxel of `gt`: its distance to the surface of `pred`. */
  readonly gtToPred: Float64Array;
}

/**
 * Validates a pair of masks and their spacing (shared by every surface metric) and returns the
 * directed surface distances (see {@link SurfaceDistances}).
 *
 * @throws ShapeError naming `pred` / `gt` (bad shapes, or shapes that differ: argument `gt`, both
 *   shapes in the message); InputError naming `pred`, `gt` (non-binary) or `options.spacing`.
 */
export function surfaceDistances(pred: MaskArray, gt: MaskArray, options: SpacingOptions = {}): SurfaceDistances {
  return surfaceDistancesFor('surfaceDistances', pred, gt, options);
}

/**
 * {@link surfaceDistances} with the name of the calling metric in its errors; `known` lists the
 * calling metric's option keys (any other key is an InputError naming it).
 * @internal
 */
export function surfaceDistancesFor(
  op: string,
  pred: MaskArray,
  gt: MaskArray,
  options: SpacingOptions | undefined,
  known: readonly string[] = ['spacing'],
): SurfaceDistances {
  checkOptionKeys(op, options, known);
  const p = readMask(op, 'pred', pred);
  const g = readMask(op, 'gt', gt);
  checkSameShape(op, ['pred', 'gt'], pred.shape, gt.shape);
  const spacing = readSpacing(op, 'options.spacing', options?.spacing, pred.shape.length);
  const shape = pred.shape;
  const ps = surfaceOf(p, shape);
  const gs = surfaceOf(g, shape);
  return { predToGt: directed(ps, gs, shape, spacing), gtToPred: directed(gs, ps, shape, spacing) };
}

/** Distance from each `from` surface voxel to the nearest `to` surface voxel. */
function directed(
  from: Uint8Array,
  to: Uint8Array,
  shape: readonly number[],
  spacing: readonly number[],
): Float64Array {
  let count = 0;
  for (let i = 0; i < from.length; i++) count += from[i];
  const out = new Float64Array(count);
  if (count === 0) return out;
  if (to.indexOf(1) < 0) return out.fill(Infinity);
  if (shape.length === 0) return out; // both 0-d surfaces are the same voxel: distance 0
  const dist = distanceTransform(to, 1, shape, spacing, 'centre', true);
  for (let i = 0, k = 0; i < from.length; i++) if (from[i] === 1) out[k++] = dist[i];
  return out;
}
