/**
 * The boundary loss (Kervadec et al. 2019, Eq. 5): the integral of the ground truth's signed
 * distance map weighted by the predicted probabilities.
 */
import { scoped } from '../core/engine.js';
import { mean, mul, sum } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { checkClassTensor, checkOptions, checkReduction, checkSameShape, resolveIdc, selectClasses, type Reduction } from './loss-args.js';

/** Options of `boundaryLoss`. */
export interface BoundaryLossOptions {
  /** Classes the loss covers (default: all). Binary tasks use `[1]`, the foreground only. */
  readonly idc?: readonly number[];
  /**
   * `'mean'` (default, the reference's): mean over batch, selected classes and voxels, a scalar;
   * `'sum'`: the sum over the same, a scalar; `'none'`: one value per image, `[B]`, each the
   * mean over the selected classes and voxels of that image (so `'mean'` is the mean of `'none'`).
   */
  readonly reduction?: Reduction;
}

/**
 * Boundary loss, paper Eq. 5 with the reference's reduction:
 *
 *   L_B = 1/(B·|idc|·N) · Σ_b Σ_{k∈idc} Σ_q φ_{b,k}(q) · p_{b,k}(q)
 *
 * with p = probabilities `[B, K, ...spatial]` (N voxels per image) and φ = `distMaps`, the signed
 * distance maps of the target for all K classes (same shape; negative inside, positive outside).
 * Negative values are expected; the minimum over binary predictions is reached at the ground
 * truth (up to voxels where φ = 0). Linear in p: ∂L_B/∂p = φ/(B·|idc|·N) on the selected classes
 * (φ for `'sum'`), 0 elsewhere. Never reads values.
 *
 * @example
 * import { tensor, softmax, boundaryLoss, signedDistanceMaps } from 'boundary-seg';
 *
 * const maps = signedDistanceMaps({ data: [0, 0, 1, 1, 1, 0], shape: [1, 6] }, { classes: 2, batched: true });
 * const phi = tensor(maps.data, maps.shape);
 * const probs = softmax(tensor([[[0, 0, 0, 0, 0, 0], [-2, -1, 1, 2, 1, -1]]]), 1);
 * const loss = boundaryLoss(probs, phi, { idc: [1] }); // a scalar; lower is better, negative at the truth
 * console.log((await loss.data())[0]);
 *
 * @throws ShapeError (`probs`, `distMaps`) on a rank below 2 or differing shapes; InputError
 * (`options.idc`, `options.reduction`) on a bad option.
 */
export const boundaryLoss = scoped(function boundaryLoss(probs: Tensor, distMaps: Tensor, options: BoundaryLossOptions = {}): Tensor {
  const op = 'boundaryLoss';
  const classes = checkClassTensor(op, 'probs', probs);
  checkSameShape(op, 'distMaps', distMaps, probs, 'probs');
  checkOptions(op, options, ['idc', 'reduction']);
  const idc = resolveIdc(op, options.idc, classes);
  const reduction = checkReduction(op, options.reduction);
  const weighted = mul(selectClasses(probs, idc), selectClasses(distMaps, idc));
  if (reduction === 'sum') return sum(weighted);
  if (reduction === 'none') return mean(weighted, weighted.shape.slice(1).map((_, i) => i + 1));
  return mean(weighted);
});
