/**
 * Signed distance maps of training slices, computed once per slice and kept: the boundary loss's
 * `distMaps` input for every epoch.
 */
import { InputError, ShapeError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type DistanceConvention, signedDistanceMaps } from '../losses/signed-distance.js';
import type { Slice } from './types.js';

/** Options of {@link DistanceMapCache}. */
export interface DistanceMapCacheOptions {
  /** Default `'reference'` (see `losses/signed-distance.ts`). */
  readonly convention?: DistanceConvention;
  /**
   * `'voxel'` (default): maps in pixel units, spacing 1, as the reference code trains (see docs/conventions.md);
   * `'physical'`: in the slice's `spacing` units.
   */
  readonly spacing?: 'voxel' | 'physical';
}

interface Entry {
  readonly label: Uint8Array;
  readonly maps: Float32Array;
}

function sameValues(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A cache of signed distance maps `[K, H, W]` keyed by slice id. */
export class DistanceMapCache {
  readonly classes: number;
  readonly convention: DistanceConvention;
  readonly spacing: 'voxel' | 'physical';
  readonly #entries = new Map<string, Entry>();
  #computed = 0;

  /**
   * @param classes K, the number of maps per slice.
   * @throws InputError naming `classes` or the option.
   */
  constructor(classes: number, options: DistanceMapCacheOptions = {}) {
    if (!Number.isInteger(classes) || classes < 1 || classes > 256) throw new InputError('DistanceMapCache', 'classes', `expected an integer in [1, 256], got ${classes}`);
    checkOptionKeys('DistanceMapCache', options, ['convention', 'spacing']);
    const convention = options.convention ?? 'reference';
    if (convention !== 'reference' && convention !== 'interface') throw new InputError('DistanceMapCache', 'options.convention', `expected 'reference' or 'interface', got ${String(convention)}`);
    const spacing = options.spacing ?? 'voxel';
    if (spacing !== 'voxel' && spacing !== 'physical') throw new InputError('DistanceMapCache', 'options.spacing', `expected 'voxel' or 'physical', got ${String(spacing)}`);
    this.classes = classes;
    this.convention = convention;
    this.spacing = spacing;
  }

  /** How many slices' maps have been computed (each at most once). */
  get computed(): number {
    return this.#computed;
  }

  /**
   * The maps of a slice, `[K, H, W]` row-major, computed on the first call for its id. Do not
   * modify the returned array: it is the cached one.
   *
   * @throws InputError when the slice's labels are not in [0, K), or when another slice with the
   *   same id but different labels was seen before.
   */
  get(slice: Slice): Float32Array {
    const cached = this.#entries.get(slice.id);
    if (cached !== undefined) {
      if (cached.label === slice.label || sameValues(cached.label, slice.label)) return cached.maps;
      throw new InputError('DistanceMapCache.get', 'slice', `two slices share the id ${slice.id} but have different labels: slice ids must be unique`);
    }
    const { data } = signedDistanceMaps(
      { data: slice.label, shape: [slice.height, slice.width] },
      { classes: this.classes, spacing: this.spacing === 'voxel' ? [1, 1] : slice.spacing, convention: this.convention },
    );
    this.#entries.set(slice.id, { label: slice.label, maps: data });
    this.#computed++;
    return data;
  }

  /**
   * The maps `[K, H, W]` of `label`, a label of `slice`'s size other than its own (an augmented
   * one), computed afresh with the cache's classes, convention and spacing (the slice's, for
   * `'physical'`): not kept, not counted in `computed`, and the slice's cached maps are left alone.
   *
   * @throws ShapeError when `label` does not hold `slice.height × slice.width` values; InputError
   *   when its values are not in [0, K).
   */
  mapsOf(slice: Slice, label: Uint8Array): Float32Array {
    if (!(label instanceof Uint8Array) || label.length !== slice.height * slice.width) {
      throw new ShapeError('DistanceMapCache.mapsOf', 'label', `expected a Uint8Array of ${slice.height}×${slice.width} = ${slice.height * slice.width} class indices (slice ${slice.id}), got ${label instanceof Uint8Array ? `${label.length} values` : Object.prototype.toString.call(label).slice(8, -1)}`);
    }
    return signedDistanceMaps(
      { data: label, shape: [slice.height, slice.width] },
      { classes: this.classes, spacing: this.spacing === 'voxel' ? [1, 1] : slice.spacing, convention: this.convention },
    ).data;
  }
}
