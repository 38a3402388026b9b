/**
 * Signed distance maps φ of masks and of class-index label maps, the `distMaps` input of the
 * boundary loss: positive outside the region, ≤ 0 inside (for the reference convention: with unit
 * spacing), in physical units of `spacing`.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { distanceTransform } from './edt.js';
import {
  type Float32NdArray,
  type MaskArray,
  type NdArray,
  checkLabels,
  readMask,
  readSpacing,
  sizeOf,
} from './array.js';

/**
 * Where the zero level of φ lies.
 * - `reference` (default; LIVIAETS/boundary-loss): `φ = EDT(¬m)·¬m − (EDT(m) − 1)·m`, distances
 *   between voxel centres. With unit spacing the inner boundary voxels are 0; the "−1" is in physical
 *   units, so with other spacings it does not vanish (spacing 0.5 makes them +0.5).
 * - `interface`: the boundary lies between voxels. |φ| is the exact Euclidean distance from the voxel
 *   centre to the union of the cells (boxes of size `spacing`) of the opposite voxels, i.e. to the
 *   voxelised boundary surface; positive outside, negative inside, never 0. Where the opposite region
 *   near a voxel is a face perpendicular to axis `a` this is `EDT − spacing[a]/2`: a
 *   flat face moved by δ gives exactly `L·δ²` in the contour-distance identity. At oblique boundaries
 *   it is the distance to the staircase surface, at most `EDT − min(spacing)/2`, and it converges to
 *   the continuous distance as the spacing h shrinks (error O(h); `spec/boundary-identity.test.ts`).
 *   No nearest-voxel feature or tie-break is involved: the value is a minimum over voxels, computed
 *   by the same separable transform as the EDT.
 */
export type DistanceConvention = 'reference' | 'interface';

/** Options of {@link signedDistanceMap}. */
export interface SignedDistanceOptions {
  /** Physical voxel size per axis, default all 1 (voxel units, the reference's training maps). */
  readonly spacing?: readonly number[];
  /** Default `'reference'`; see {@link DistanceConvention}. */
  readonly convention?: DistanceConvention;
  /**
   * Apply `Math.trunc` to φ (the reference's int32 2-D maps); default false. Truncation acts on the
   * float64 φ before it is stored as float32, as the reference's float64 → int32 assignment does.
   */
  readonly truncate?: boolean;
}

/** Options of {@link signedDistanceMaps}. */
export interface SignedDistanceMapsOptions extends SignedDistanceOptions {
  /** Number of classes K; labels must be integers in `[0, K)`. */
  readonly classes: number;
  /**
   * Whether axis 0 of the labels is a batch axis. When omitted: if `spacing` is given, its length
   * decides (labels rank = spacing length: no batch; one more: batched); otherwise false.
   */
  readonly batched?: boolean;
}

/**
 * Signed distance map of one binary mask.
 *
 * A mask that is empty or full has no boundary and gets φ ≡ 0 (the reference's ramp on full masks
 * is an artefact of scipy's all-true case).
 *
 * @param mask 0/1 or boolean values, any rank.
 * @returns float32 φ, same shape.
 * @throws ShapeError / InputError naming `mask`, `options.spacing` or `options.convention`.
 */
export function signedDistanceMap(mask: MaskArray, options: SignedDistanceOptions = {}): Float32NdArray {
  const op = 'signedDistanceMap';
  // The options of `signedDistanceMaps` (a subtype) are accepted too: their `classes` and `batched` do not apply here.
  checkOptionKeys(op, options, ['spacing', 'convention', 'truncate', 'classes', 'batched']);
  const values = readMask(op, 'mask', mask);
  const shape = [...mask.shape];
  const spacing = readSpacing(op, 'options.spacing', options.spacing, shape.length);
  const convention = readConvention(op, options.convention);
  const out = new Float32Array(values.length);
  signedInto(values, shape, spacing, convention, options.truncate === true, out, 0);
  return { data: out, shape };
}

/**
 * Signed distance maps of every class of a class-index label map: `[...spatial]` → `[K, ...spatial]`,
 * or `[B, ...spatial]` → `[B, K, ...spatial]` when batched (see
 * {@link SignedDistanceMapsOptions.batched}). Map k is `signedDistanceMap(labels == k)`; an absent
 * class (or one filling the whole image) gets zeros.
 *
 * @example
 * import { signedDistanceMaps } from 'boundary-seg';
 *
 * // One image of 6 voxels, classes 0/1: maps for both classes, [B, K, 6].
 * const maps = signedDistanceMaps({ data: [0, 0, 1, 1, 1, 0], shape: [1, 6] }, { classes: 2, batched: true });
 * console.log(maps.shape, Array.from(maps.data.subarray(6))); // [1, 2, 6] [2, 1, 0, -1, 0, 1]
 *
 * @throws InputError naming `labels` (a value that is not an integer in `[0, K)`, with its index),
 *   `options.classes`, `options.spacing`, `options.convention` or `options.batched`;
 *   ShapeError naming `labels` for a bad shape.
 */
export function signedDistanceMaps(labels: NdArray, options: SignedDistanceMapsOptions): Float32NdArray {
  const op = 'signedDistanceMaps';
  checkOptionKeys(op, options, ['classes', 'spacing', 'convention', 'truncate', 'batched']);
  const classes = options?.classes;
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 1) {
    throw new InputError(op, 'options.classes', `expected a positive integer, got ${String(classes)}`);
  }
  checkLabels(op, 'labels', labels, classes);
  const rank = labels.shape.length;
  const batched = readBatched(op, options, rank);
  const spatialShape = labels.shape.slice(batched ? 1 : 0);
  const spacing = readSpacing(op, 'options.spacing', options.spacing, spatialShape.length);
  const convention = readConvention(op, options.convention);
  const batch = batched ? labels.shape[0] : 1;
  const voxels = sizeOf(spatialShape);
  const out = new Float32Array(batch * classes * voxels);
  const mask = new Uint8Array(voxels);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < classes; k++) {
      for (let p = 0; p < voxels; p++) mask[p] = labels.data[b * voxels + p] === k ? 1 : 0;
      signedInto(mask, spatialShape, spacing, convention, options.truncate === true, out, (b * classes + k) * voxels);
    }
  }
  const shape = batched ? [batch, classes, ...spatialShape] : [classes, ...spatialShape];
  return { data: out, shape };
}

function readConvention(op: string, convention: unknown): DistanceConvention {
  if (convention === undefined) return 'reference';
  if (convention === 'reference' || convention === 'interface') return convention;
  throw new InputError(op, 'options.convention', `expected 'reference' or 'interface', got ${String(convention)}`);
}

function readBatched(op: string, options: SignedDistanceMapsOptions, rank: number): boolean {
  const { batched, spacing } = options;
  if (batched !== undefined) {
    if (typeof batched !== 'boolean') {
      throw new InputError(op, 'options.batched', `expected a boolean, got ${String(batched)}`);
    }
    if (batched && rank < 1) {
      throw new InputError(op, 'options.batched', 'batched labels need at least one axis');
    }
    return batched;
  }
  if (spacing === undefined || !Array.isArray(spacing)) return false;
  if (spacing.length === rank) return false;
  if (spacing.length === rank - 1) return true;
  throw new InputError(
    op,
    'options.spacing',
    `expected ${rank} entries (unbatched labels) or ${rank - 1} (batched), got ${spacing.length}`,
  );
}

/** φ of a validated 0/1 mask, written as float32 into `out` from `offset`. */
function signedInto(
  values: Uint8Array,
  shape: readonly number[],
  spacing: readonly number[],
  convention: DistanceConvention,
  truncate: boolean,
  out: Float32Array,
  offset: number,
): void {
  const n = values.length;
  const inside = values.indexOf(1) >= 0;
  const outside = values.indexOf(0) >= 0;
  if (!inside || !outside) return; // no boundary: φ ≡ 0 (out is zero-filled)
  // NOTE: a 0-d mask is either empty or full, so shape has rank ≥ 1 from here on.
  const measure = convention === 'interface' ? 'cell' : 'centre';
  const toInside = distanceTransform(values, 1, shape, spacing, measure, true);
  const toOutside = distanceTransform(values, 0, shape, spacing, measure, true);
  const shift = convention === 'reference' ? 1 : 0;
  for (let p = 0; p < n; p++) {
    let phi = values[p] === 1 ? shift - toOutside[p] : toInside[p];
    if (truncate) phi = Math.trunc(phi) + 0; // + 0 turns −0 into 0, as an int32 would
    out[offset + p] = phi;
  }
}
