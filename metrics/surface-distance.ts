/** Average surface distance and surface Dice, between mask surfaces. */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type MaskArray } from '../losses/array.js';
import { emptyCase } from './hausdorff.js';
import { type SpacingOptions, surfaceDistancesFor } from './surface.js';

/**
 * How `averageSurfaceDistance` averages the two directions.
 * - `pooled` (default, MONAI `compute_average_surface_distance(symmetric=True)`): the mean of all
 *   directed distances of both surfaces together, `(Σ d(∂P→∂G) + Σ d(∂G→∂P)) / (|∂P| + |∂G|)`.
 * - `mean-of-means` (medpy `assd`): the mean of the two directed means.
 */
export type AverageSurfaceDistanceVariant = 'pooled' | 'mean-of-means';

/** Options of {@link averageSurfaceDistance}. */
export interface AverageSurfaceDistanceOptions extends SpacingOptions {
  readonly variant?: AverageSurfaceDistanceVariant;
}

/** Options of {@link surfaceDice}. */
export interface SurfaceDiceOptions extends SpacingOptions {
  /** Largest distance (physical units, finite, ≥ 0) at which a surface voxel counts as matched. */
  readonly tolerance: number;
}

/**
 * Average symmetric surface distance (ASSD), physical units, between surface-voxel centres (see
 * {@link AverageSurfaceDistanceVariant}). Empty cases never throw: both empty → NaN; one empty →
 * +Infinity.
 *
 * @throws ShapeError / InputError naming `pred`, `gt`, `options.spacing` or `options.variant`.
 */
export function averageSurfaceDistance(
  pred: MaskArray,
  gt: MaskArray,
  options: AverageSurfaceDistanceOptions = {},
): number {
  const op = 'averageSurfaceDistance';
  checkOptionKeys(op, options, ['spacing', 'variant']);
  const variant = options?.variant ?? 'pooled';
  if (variant !== 'pooled' && variant !== 'mean-of-means') {
    throw new InputError(op, 'options.variant', `expected 'pooled' or 'mean-of-means', got ${String(variant)}`);
  }
  const d = surfaceDistancesFor(op, pred, gt, options, ['spacing', 'variant']);
  const empty = emptyCase(d);
  if (empty !== undefined) return empty;
  const a = sumOf(d.predToGt);
  const b = sumOf(d.gtToPred);
  if (variant === 'pooled') return (a + b) / (d.predToGt.length + d.gtToPred.length);
  return (a / d.predToGt.length + b / d.gtToPred.length) / 2;
}

/**
 * Surface Dice (normalised surface distance) at a tolerance τ, counted in surface voxels (MONAI
 * `compute_surface_dice` without sub-voxels; DeepMind's library weights by surface area instead):
 * `(|{p ∈ ∂P : d(p, ∂G) ≤ τ}| + |{g ∈ ∂G : d(g, ∂P) ≤ τ}|) / (|∂P| + |∂G|)`, in [0, 1].
 * Empty cases never throw: both empty → NaN; one empty → 0.
 *
 * @throws ShapeError / InputError naming `pred`, `gt`, `options.spacing` or `options.tolerance`.
 */
export function surfaceDice(pred: MaskArray, gt: MaskArray, options: SurfaceDiceOptions): number {
  const op = 'surfaceDice';
  checkOptionKeys(op, options, ['spacing', 'tolerance']);
  const tolerance: unknown = options?.tolerance;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new InputError(op, 'options.tolerance', `expected a finite number ≥ 0, got ${String(tolerance)}`);
  }
  const d = surfaceDistancesFor(op, pred, gt, options, ['spacing', 'tolerance']);
  const empty = emptyCase(d);
  if (empty !== undefined) return Number.isNaN(empty) ? NaN : 0;
  const within = countAtMost(d.predToGt, tolerance) + countAtMost(d.gtToPred, tolerance);
  return within / (d.predToGt.length + d.gtToPred.length);
}

function sumOf(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

function countAtMost(values: Float64Array, limit: number): number {
  let c = 0;
  for (let i = 0; i < values.length; i++) if (values[i] <= limit) c++;
  return c;
}
