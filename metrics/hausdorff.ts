/** Hausdorff distance and its 95th-percentile variants, between mask surfaces. */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type MaskArray } from '../losses/array.js';
import { type SpacingOptions, type SurfaceDistances, surfaceDistancesFor } from './surface.js';

/**
 * How `hausdorff95` combines the two directions.
 * - `per-direction` (default, MONAI `compute_hausdorff_distance(percentile=95)`): the 95th percentile
 *   of each directed distance set, then the larger of the two.
 * - `pooled` (medpy `hd95`): the 95th percentile of both directed sets pooled together.
 * Percentiles interpolate linearly between order statistics (numpy's default).
 */
export type Hausdorff95Variant = 'per-direction' | 'pooled';

/** Options of {@link hausdorff95}. */
export interface Hausdorff95Options extends SpacingOptions {
  readonly variant?: Hausdorff95Variant;
}

/**
 * Symmetric Hausdorff distance between the surfaces of two masks (the larger directed maximum), in
 * physical units, distances between surface-voxel centres (surface: see `surface`).
 * Empty cases never throw: both empty → NaN; one empty → +Infinity.
 *
 * @throws ShapeError / InputError naming `pred`, `gt` or `options.spacing`.
 */
export function hausdorff(pred: MaskArray, gt: MaskArray, options: SpacingOptions = {}): number {
  const d = surfaceDistancesFor('hausdorff', pred, gt, options);
  const empty = emptyCase(d);
  if (empty !== undefined) return empty;
  return Math.max(maxOf(d.predToGt), maxOf(d.gtToPred));
}

/**
 * 95th-percentile Hausdorff distance (see {@link Hausdorff95Variant}); never above `hausdorff`.
 * Empty cases as `hausdorff`.
 *
 * @example
 * import { hausdorff95 } from 'boundary-seg';
 *
 * const gt = { data: [0, 1, 1, 0, 0, 0, 0, 0], shape: [2, 4] };
 * const pred = { data: [0, 0, 1, 1, 0, 0, 0, 0], shape: [2, 4] };
 * console.log(hausdorff95(pred, gt, { spacing: [1, 0.5] })); // in mm: pixels 0.5 mm wide
 *
 * @throws ShapeError / InputError naming `pred`, `gt`, `options.spacing` or `options.variant`.
 */
export function hausdorff95(pred: MaskArray, gt: MaskArray, options: Hausdorff95Options = {}): number {
  checkOptionKeys('hausdorff95', options, ['spacing', 'variant']);
  const variant = options?.variant ?? 'per-direction';
  if (variant !== 'per-direction' && variant !== 'pooled') {
    throw new InputError('hausdorff95', 'options.variant', `expected 'per-direction' or 'pooled', got ${String(variant)}`);
  }
  const d = surfaceDistancesFor('hausdorff95', pred, gt, options, ['spacing', 'variant']);
  const empty = emptyCase(d);
  if (empty !== undefined) return empty;
  if (variant === 'pooled') {
    const all = new Float64Array(d.predToGt.length + d.gtToPred.length);
    all.set(d.predToGt);
    all.set(d.gtToPred, d.predToGt.length);
    return percentile(all, 95);
  }
  return Math.max(percentile(d.predToGt, 95), percentile(d.gtToPred, 95));
}

/**
 * The documented value when a surface is empty (both → NaN, one → +Infinity), or undefined when both
 * surfaces have voxels. Shared by the distance metrics.
 * @internal
 */
export function emptyCase(d: SurfaceDistances): number | undefined {
  const predEmpty = d.predToGt.length === 0;
  const gtEmpty = d.gtToPred.length === 0;
  if (predEmpty && gtEmpty) return NaN;
  if (predEmpty || gtEmpty) return Infinity;
  return undefined;
}

function maxOf(values: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/**
 * The q-th percentile (0–100) of a non-empty sample with linear interpolation between order
 * statistics (numpy's default): position `(n − 1)·q/100` in the sorted sample.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const position = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}
