/**
 * Lesion statistics of a binary-foreground label map: connected lesions (8-connectivity) and how many
 * are at least 3 pixels across (vertically and horizontally through one pixel), i.e. hold a pixel
 * whose 4 neighbours are all lesion. Exactly those lesions have negative values in their signed
 * distance map of the `reference` convention (losses/signed-distance.ts: inside a lesion
 * φ = 1 − EDT, EDT being the distance to the nearest background pixel; with unit spacing it is at
 * least √2 at such a pixel, so φ < 0 there, and 1 at every other lesion pixel, so φ = 0): the
 * boundary loss can reward finding them. Also: a histogram of lesion sizes (in voxels) for the
 * synthetic sets' statistics.
 */
import { InputError } from '../core/errors.js';

/** Counts of {@link lesionStats}. */
export interface LesionStats {
  /** Connected foreground components (label > 0, 8-connectivity). */
  readonly lesions: number;
  /** Components holding a pixel with all 4 neighbours in the foreground (negative φ). */
  readonly thick: number;
  /** Foreground pixels. */
  readonly pixels: number;
}

/** Lesion statistics of a row-major `height × width` label map (foreground: label > 0). */
export function lesionStats(label: Uint8Array, height: number, width: number): LesionStats {
  const component = new Int32Array(height * width).fill(-1);
  const thick: boolean[] = [];
  const stack: number[] = [];
  const inside = (y: number, x: number) => y >= 0 && y < height && x >= 0 && x < width && label[y * width + x]! > 0;
  let pixels = 0;
  for (let start = 0; start < label.length; start++) {
    if (label[start] === 0 || component[start]! >= 0) continue;
    const id = thick.length;
    thick.push(false);
    component[start] = id;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      pixels++;
      const y = Math.floor(p / width);
      const x = p % width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((dy === 0 && dx === 0) || !inside(y + dy, x + dx)) continue;
          const q = (y + dy) * width + x + dx;
          if (component[q]! < 0) {
            component[q] = id;
            stack.push(q);
          }
        }
      }
      if (inside(y - 1, x) && inside(y + 1, x) && inside(y, x - 1) && inside(y, x + 1)) thick[id] = true;
    }
  }
  return { lesions: thick.length, thick: thick.filter(Boolean).length, pixels };
}

/** One bin of {@link sizeHistogram}: lesions of `min` … `max` voxels (`max` null: no upper end). */
export interface SizeBin {
  readonly min: number;
  readonly max: number | null;
  /** Lesions in the bin. */
  readonly count: number;
  /** Voxels of those lesions. */
  readonly voxels: number;
  /** `voxels` as a share of all lesion voxels (0 when there are none). */
  readonly voxelShare: number;
}

/** The default lower ends of the size bins: 1–2, 3–9, 10–29, 30–99 and ≥ 100 voxels. */
export const LESION_SIZE_BINS: readonly number[] = [1, 3, 10, 30, 100];

/**
 * A histogram of lesion sizes (voxel counts, integers ≥ 1): bin `i` holds sizes in
 * `[edges[i], edges[i + 1] − 1]`, the last bin every size from its edge up.
 *
 * @throws InputError naming `sizes[i]` for a size that is not an integer ≥ `edges[0]`, or `edges`
 *   unless they are increasing positive integers (at least one).
 */
export function sizeHistogram(sizes: readonly number[], edges: readonly number[] = LESION_SIZE_BINS): SizeBin[] {
  const op = 'sizeHistogram';
  if (edges.length === 0 || edges.some((e, i) => !Number.isInteger(e) || e < 1 || (i > 0 && e <= edges[i - 1]!))) {
    throw new InputError(op, 'edges', `expected increasing integers ≥ 1, got [${edges.join(', ')}]`);
  }
  const counts = edges.map(() => 0);
  const voxels = edges.map(() => 0);
  let total = 0;
  sizes.forEach((size, i) => {
    if (!Number.isInteger(size) || size < edges[0]!) throw new InputError(op, `sizes[${i}]`, `expected an integer ≥ ${edges[0]}, got ${String(size)}`);
    let bin = edges.length - 1;
    while (size < edges[bin]!) bin--;
    counts[bin]!++;
    voxels[bin]! += size;
    total += size;
  });
  return edges.map((min, i) => ({
    min,
    max: i + 1 < edges.length ? edges[i + 1]! - 1 : null,
    count: counts[i]!,
    voxels: voxels[i]!,
    voxelShare: total > 0 ? voxels[i]! / total : 0,
  }));
}

/** A share as the dataset notes print it: `0.39 %` (two decimals). */
export function formatPercent(share: number): string {
  return `${(100 * share).toFixed(2)} %`;
}

/** A histogram as one line: `1–2: 40 (5 %), 3–9: …, ≥100: 2 (61 %)` (count, share of voxels). */
export function formatSizeHistogram(bins: readonly SizeBin[], unit = ''): string {
  return bins.map((b) => `${b.max === null ? `≥${b.min}` : b.max === b.min ? `${b.min}` : `${b.min}–${b.max}`}${unit}: ${b.count} (${(100 * b.voxelShare).toFixed(0)} % of voxels)`).join(', ');
}
