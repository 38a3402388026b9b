/**
 * Lesion statistics of a binary-foreground label map: connected lesions (8-connectivity) and how many
 * are at least 3 pixels across (vertically and horizontally through one pixel), i.e. hold a pixel
 * whose 4 neighbours are all lesion. Exactly those lesions have negative values in their reference
 * signed distance map (unit spacing: the nearest background pixel is at least √2 away there, so
 * φ = 1 − EDT < 0; REFERENCE §1): the boundary loss can reward finding them.
 */

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
