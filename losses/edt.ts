/**
 * Exact Euclidean distance transform, `scipy.ndimage.distance_transform_edt` semantics, any rank,
 * anisotropic spacing, linear time.
 *
 * Algorithm (separable, Felzenszwalb & Huttenlocher 2012, "Distance transforms of sampled
 * functions"): squared distances decompose over axes, `D(x) = min_q Σ_i s_i²(x_i − q_i)²`, so the
 * transform is one 1-D pass per axis.
 * - Axis 0: the 1-D distance to the nearest target voxel, by a forward and a backward sweep over
 *   whole planes (contiguous memory, no per-line work).
 * - Every other axis: the lower envelope of the parabolas `f(q) + s²(x − q)²` of each line, built
 *   and evaluated in two linear scans. Lines are copied into a contiguous scratch buffer first;
 *   scratch buffers are allocated once per call, never per line.
 * Squared distances are kept in float64 throughout (`+Infinity` where a line has no target yet);
 * the square root is taken in the last pass.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type Float64NdArray, type MaskArray, readMask, readSpacing, sizeOf } from './array.js';

/** Options of {@link edt}. */
export interface EdtOptions {
  /** Physical size of a voxel along each axis (`spacing[i]` belongs to `shape[i]`); default all 1. */
  readonly spacing?: readonly number[];
}

/**
 * Exact Euclidean distance transform of a binary mask, as `scipy.ndimage.distance_transform_edt`.
 *
 * Every true (1) voxel gets the Euclidean distance, in physical units (`spacing`), from its centre to
 * the centre of the nearest false (0) voxel; false voxels get exactly 0.
 *
 * A mask with no false voxel at all (all true, non-empty) follows scipy: distances are measured to a
 * single virtual false voxel at index `(−1, 0, …, 0)`, i.e. voxel `(i0, i1, …)` gets
 * `sqrt(((i0 + 1)·s0)² + (i1·s1)² + …)`. A 0-d mask (shape `[]`) is treated as the 1-D mask of
 * length 1 (as scipy does): 1 if true, 0 if false. Zero-size masks give zero-size results.
 *
 * @param mask 0/1 or boolean values, row-major.
 * @param options `spacing`: one finite positive entry per axis (default all 1).
 * @returns float64 distances, same shape as the mask.
 * @throws ShapeError if `mask.data.length` is not the product of `mask.shape` (argument `mask`).
 * @throws InputError for a non-binary mask (`mask`) or a bad spacing (`options.spacing`).
 */
export function edt(mask: MaskArray, options: EdtOptions = {}): Float64NdArray {
  checkOptionKeys('edt', options, ['spacing']);
  const values = readMask('edt', 'mask', mask);
  const shape = [...mask.shape];
  const spacing = readSpacing('edt', 'options.spacing', options.spacing, shape.length);
  const n = values.length;
  if (n === 0) return { data: new Float64Array(0), shape };
  if (shape.length === 0) return { data: Float64Array.of(values[0]), shape };
  if (values.indexOf(0) < 0) return { data: allTrueDistances(shape, spacing), shape };
  return { data: distanceTransform(values, 0, shape, spacing, 'centre', true), shape };
}

/** scipy's all-true case: the distance to a virtual false voxel at `(−1, 0, …, 0)`. */
function allTrueDistances(shape: readonly number[], spacing: readonly number[]): Float64Array {
  const out = new Float64Array(sizeOf(shape));
  const index = new Array<number>(shape.length).fill(0);
  for (let p = 0; p < out.length; p++) {
    let d2 = 0;
    for (let a = 0; a < shape.length; a++) {
      const offset = (a === 0 ? index[a] + 1 : index[a]) * spacing[a];
      d2 += offset * offset;
    }
    out[p] = Math.sqrt(d2);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

/**
 * What a distance is measured to:
 * - `centre`: the centre of the nearest target voxel (the EDT).
 * - `cell`: the nearest point of the union of the target voxels' cells (boxes of size `spacing`
 *   centred on the voxels), i.e. the boundary between voxels. Per axis the cost of an index offset
 *   `m` is `s²·max(0, |m| − ½)²`; it is still separable.
 */
export type DistanceMeasure = 'centre' | 'cell';

/**
 * The separable transform behind {@link edt} and the signed distance maps. For every voxel, the
 * (squared, unless `root`) distance to the nearest voxel whose value equals `target`, measured to its
 * centre or to its cell (see {@link DistanceMeasure}); 0 on target voxels, `+Infinity` everywhere when
 * there is no target voxel. Inputs are trusted (validated by the caller); `shape` has rank ≥ 1.
 *
 * @internal shared by `edt` and `signedDistanceMap`; not part of the public API.
 */
export function distanceTransform(
  values: Uint8Array,
  target: 0 | 1,
  shape: readonly number[],
  spacing: readonly number[],
  measure: DistanceMeasure,
  root: boolean,
): Float64Array {
  const n = values.length;
  const rank = shape.length;
  if (rank === 0) throw new InputError('distanceTransform', 'shape', 'expected rank ≥ 1');
  const out = new Float64Array(n);
  if (n === 0) return out;
  firstAxisPass(values, target, shape[0], n / shape[0], spacing[0], measure, out);
  if (rank === 1) {
    if (root) for (let p = 0; p < n; p++) out[p] = Math.sqrt(out[p]);
    return out;
  }
  let longest = 0;
  for (let a = 1; a < rank; a++) longest = Math.max(longest, shape[a]);
  const scratch = new EnvelopeScratch(longest);
  let stride = n;
  for (let a = 0; a < rank; a++) {
    stride /= shape[a];
    if (a === 0) continue;
    const outer = n / (shape[a] * stride);
    envelopePass(out, outer, shape[a], stride, spacing[a] * spacing[a], measure, root && a === rank - 1, scratch);
  }
  return out;
}

/**
 * Axis 0: 1-D distance (in voxels) to the nearest target along axis 0, by a forward and a backward
 * sweep over whole planes of `plane` contiguous voxels; written as squared physical distance.
 */
function firstAxisPass(
  values: Uint8Array,
  target: number,
  length: number,
  plane: number,
  spacing: number,
  measure: DistanceMeasure,
  out: Float64Array,
): void {
  // Forward: voxels since the last target on axis 0 (Infinity before the first).
  for (let j = 0; j < plane; j++) out[j] = values[j] === target ? 0 : Infinity;
  for (let i = 1; i < length; i++) {
    const row = i * plane;
    const prev = row - plane;
    for (let j = 0; j < plane; j++) {
      out[row + j] = values[row + j] === target ? 0 : out[prev + j] + 1;
    }
  }
  // Backward: min with the next row's count + 1, kept in `next` as counts; `out` gets squares.
  const next = new Float64Array(plane);
  const w = spacing * spacing;
  const shift = measure === 'cell' ? 0.5 : 0;
  for (let i = length - 1; i >= 0; i--) {
    const row = i * plane;
    const last = i === length - 1;
    for (let j = 0; j < plane; j++) {
      let count = out[row + j];
      if (!last) {
        const below = next[j] + 1;
        if (below < count) count = below;
      }
      next[j] = count;
      const d = count === 0 ? 0 : count - shift;
      out[row + j] = w * d * d;
    }
  }
}

/** Reusable buffers of the envelope passes (sized for the longest line). */
class EnvelopeScratch {
  /** The line being transformed (contiguous copy). */
  readonly f: Float64Array;
  /** Positions of the parabolas on the lower envelope. */
  readonly v: Int32Array;
  /** `f(v) + w·v²` of those parabolas. */
  readonly g: Float64Array;
  /** Boundaries between envelope parabolas: parabola k is lowest on `[z[k], z[k+1]]`. */
  readonly z: Float64Array;
  constructor(length: number) {
    this.f = new Float64Array(length);
    this.v = new Int32Array(length);
    this.g = new Float64Array(length);
    this.z = new Float64Array(length + 1);
  }
}

/**
 * One envelope pass over every line of an axis of `length` voxels at `stride`; lines are indexed by
 * `outer` (the axes before) and the `stride` offsets (the axes after).
 */
function envelopePass(
  out: Float64Array,
  outer: number,
  length: number,
  stride: number,
  w: number,
  measure: DistanceMeasure,
  root: boolean,
  scratch: EnvelopeScratch,
): void {
  const { f } = scratch;
  const block = length * stride;
  for (let o = 0; o < outer; o++) {
    const base = o * block;
    for (let j = 0; j < stride; j++) {
      const start = base + j;
      if (stride === 1) f.set(out.subarray(start, start + length));
      else for (let x = 0, p = start; x < length; x++, p += stride) f[x] = out[p];
      if (buildEnvelope(length, w, scratch) < 0) continue; // no target on this line yet: stays +Infinity
      if (measure === 'centre') centreLine(out, start, stride, length, w, root, scratch);
      else cellLine(out, start, stride, length, w, root, scratch);
    }
  }
}

/**
 * Builds the lower envelope of `f(q) + w(x − q)²` over the finite `f(q)` of the scratch line and
 * returns the index of its last parabola (−1 when every `f(q)` is infinite).
 * NOTE: inside a run of zeros (target voxels) only the run's ends can be lowest anywhere outside
 * the run, and inside it the answer is 0 anyway: interior zeros are left out of the envelope, and
 * the evaluations return 0 wherever `f(x) = 0`. Most voxels of a typical mask are in such runs.
 */
function buildEnvelope(length: number, w: number, scratch: EnvelopeScratch): number {
  const { f, v, g, z } = scratch;
  const twoW = 2 * w;
  const end = length - 1;
  let k = -1;
  for (let q = 0; q < length; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    if (fq === 0 && q > 0 && q < end && f[q - 1] === 0 && f[q + 1] === 0) continue;
    const gq = fq + w * q * q;
    let s = -Infinity;
    while (k >= 0) {
      // Where parabola q overtakes the envelope's last parabola v[k].
      s = (gq - g[k]) / (twoW * (q - v[k]));
      if (s > z[k]) break;
      k--;
      s = -Infinity;
    }
    k++;
    v[k] = q;
    g[k] = gq;
    z[k] = s;
  }
  z[k + 1] = Infinity;
  return k;
}

/** Evaluates the envelope just built at the voxel centres (EDT). */
function centreLine(
  out: Float64Array,
  start: number,
  stride: number,
  length: number,
  w: number,
  root: boolean,
  scratch: EnvelopeScratch,
): void {
  const { f, v, z } = scratch;
  let k = 0;
  for (let x = 0, p = start; x < length; x++, p += stride) {
    if (f[x] === 0) {
      out[p] = 0;
      continue;
    }
    while (z[k + 1] < x) k++;
    const q = v[k];
    const d = x - q;
    const value = w * d * d + f[q];
    out[p] = root ? Math.sqrt(value) : value;
  }
}

/**
 * Evaluates the envelope just built for the cell measure: `D(x) = min(f(x), E(x − ½), E(x + ½))` where `E` is the parabola envelope. The
 * offset cost `s²(|m| − ½)²` equals `s²(x ∓ ½ − q)²` on either side of `q`, and the unrestricted
 * envelopes only add candidates that are never below the true cost.
 */
function cellLine(
  out: Float64Array,
  start: number,
  stride: number,
  length: number,
  w: number,
  root: boolean,
  scratch: EnvelopeScratch,
): void {
  const { f, v, z } = scratch;
  let k = 0;
  for (let x = 0, p = start; x < length; x++, p += stride) {
    let value = f[x];
    if (value === 0) {
      out[p] = 0;
      continue;
    }
    const left = x - 0.5;
    while (z[k + 1] < left) k++;
    let d = left - v[k];
    const atLeft = w * d * d + f[v[k]];
    const right = x + 0.5;
    let kr = k;
    while (z[kr + 1] < right) kr++;
    d = right - v[kr];
    const atRight = w * d * d + f[v[kr]];
    if (atLeft < value) value = atLeft;
    if (atRight < value) value = atRight;
    out[p] = root ? Math.sqrt(value) : value;
  }
}
