/** The Dice similarity coefficient of two masks. */
import { type MaskArray, checkSameShape, readMask } from '../losses/array.js';

/**
 * Dice coefficient `2·|P ∩ G| / (|P| + |G|)` of two binary masks of the same shape, in [0, 1].
 * Empty cases never throw: both empty → 1; one empty → 0.
 *
 * @example
 * import { dice } from 'boundary-seg';
 *
 * console.log(dice({ data: [0, 1, 1, 0], shape: [4] }, { data: [0, 1, 0, 0], shape: [4] })); // 0.667
 *
 * @throws ShapeError naming `pred` / `gt` (shapes that differ: argument `gt`, both shapes in the
 *   message); InputError naming `pred` or `gt` for non-binary values.
 */
export function dice(pred: MaskArray, gt: MaskArray): number {
  const p = readMask('dice', 'pred', pred);
  const g = readMask('dice', 'gt', gt);
  checkSameShape('dice', ['pred', 'gt'], pred.shape, gt.shape);
  let both = 0;
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    both += p[i] & g[i];
    total += p[i] + g[i];
  }
  return total === 0 ? 1 : (2 * both) / total;
}
