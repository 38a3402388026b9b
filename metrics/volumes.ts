/**
 * Slices grouped back into the volumes they were cut from (their `volume` field), e.g. for per-volume
 * metrics (the WMH challenge ranks per volume) or a split by volume. Structural: any record with an
 * `id` and an optional `volume` reference (the data loaders' `Slice`, evaluation's `LabelledImage`).
 */
import { InputError } from '../core/errors.js';

/** Where a slice sits in the volume it was cut from. */
export interface VolumeRef {
  /** The volume's id (e.g. the NIfTI case name). */
  readonly id: string;
  /** Position along the stacking axis (a non-negative integer); slices stack in increasing `index`. */
  readonly index: number;
  /** Spacing along the stacking axis, in mm, when known. */
  readonly thickness?: number;
}

/** What {@link groupVolumes} reads of a slice. */
export interface VolumeMember {
  readonly id: string;
  readonly volume?: VolumeRef;
}

/** One volume of {@link groupVolumes}. */
export interface VolumeGroup {
  /** The volume's id (`slice.volume.id`), or the slice id of a slice without `volume`. */
  readonly id: string;
  /** Positions in the `slices` array given to `groupVolumes`, ordered by `volume.index`. */
  readonly indices: number[];
  /** Slice thickness in mm (spacing across slices), when the slices give it. */
  readonly thickness: number | undefined;
}

/**
 * The volumes of `slices`, in the order of their first slice: slices with the same `volume.id`
 * form one volume, their positions sorted by `volume.index`; a slice without `volume` (a PNG slice)
 * forms a one-slice volume named by its slice id.
 *
 * @param op names the caller in errors.
 * @throws InputError naming `slices[i]` when two slices of a volume have the same `volume.index`,
 *   when they give different thicknesses, when a slice without `volume` has the id of a volume, or
 *   when a `volume` field is malformed (index not a non-negative integer, thickness not positive).
 */
export function groupVolumes(slices: readonly VolumeMember[], op = 'groupVolumes'): VolumeGroup[] {
  const groups = new Map<string, { members: { at: number; index: number }[]; thickness: number | undefined; whole: boolean }>();
  if (!Array.isArray(slices)) throw new InputError(op, 'slices', 'expected an array of slices');
  slices.forEach((s, at) => {
    const v: unknown = s.volume;
    if (v === undefined) {
      if (groups.has(s.id)) throw new InputError(op, `slices[${at}]`, `slice '${s.id}' has no volume but '${s.id}' is already the id of ${groups.get(s.id)!.whole ? 'a volume' : 'another slice'}`);
      groups.set(s.id, { members: [{ at, index: 0 }], thickness: undefined, whole: false });
      return;
    }
    if (v === null || typeof v !== 'object') throw new InputError(op, `slices[${at}].volume`, `expected { id, index, thickness? }, got ${v === null ? 'null' : typeof v}`);
    const { id, index, thickness } = v as { id: unknown; index: unknown; thickness?: unknown };
    if (typeof id !== 'string') throw new InputError(op, `slices[${at}].volume.id`, `expected a string, got ${id === null ? 'null' : typeof id}`);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new InputError(op, `slices[${at}].volume.index`, `expected a non-negative integer, got ${String(index)}`);
    if (thickness !== undefined && !(typeof thickness === 'number' && Number.isFinite(thickness) && thickness > 0)) {
      throw new InputError(op, `slices[${at}].volume.thickness`, `expected a positive number of mm, got ${String(thickness)}`);
    }
    const group = groups.get(id);
    if (group === undefined) {
      groups.set(id, { members: [{ at, index }], thickness, whole: true });
      return;
    }
    if (!group.whole) throw new InputError(op, `slices[${at}]`, `volume '${id}' has the id of slice ${group.members[0]!.at}, which has no volume`);
    const twin = group.members.find((m) => m.index === index);
    if (twin !== undefined) throw new InputError(op, `slices[${at}]`, `slice '${s.id}' and slice ${twin.at} ('${slices[twin.at]!.id}') are both at index ${index} of volume '${id}'`);
    if (thickness !== group.thickness) {
      throw new InputError(op, `slices[${at}].volume.thickness`, `volume '${id}' has slices of thickness ${String(group.thickness)} and ${String(thickness)}`);
    }
    group.members.push({ at, index });
  });
  return [...groups.entries()].map(([id, g]) => ({
    id,
    indices: [...g.members].sort((a, b) => a.index - b.index).map((m) => m.at),
    thickness: g.thickness,
  }));
}
