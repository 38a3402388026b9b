/**
 * Overlap losses: the generalized Dice loss (Sudre et al. 2017; the paper's Eq. 1) with the
 * reference's or MONAI's class weights, the plain soft Dice loss and the Tversky loss (MONAI's
 * conventions). All are computed per image from sums over the spatial axes; none reads values.
 */
import { scoped } from '../core/engine.js';
import { InputError } from '../core/errors.js';
import { add, div, equal, max, mean, mul, square, sub, sum, where } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import {
  checkClassTensor, checkOptions, checkReduction, checkSameShape, nonNegative, resolveIdc, selectClasses, spatialAxes, type Reduction,
} from './loss-args.js';

/** Per-image sums over the spatial axes of the selected classes, each `[B, |idc|]`. */
interface OverlapSums {
  /** Σ_q p·t */
  readonly intersection: Tensor;
  /** Σ_q p */
  readonly predicted: Tensor;
  /** Σ_q t */
  readonly labelled: Tensor;
}

function overlapSums(op: string, probs: Tensor, target: Tensor, idc: unknown): OverlapSums {
  const classes = checkClassTensor(op, 'probs', probs);
  checkSameShape(op, 'target', target, probs, 'probs');
  const selected = resolveIdc(op, idc, classes);
  const p = selectClasses(probs, selected);
  const t = selectClasses(target, selected);
  const axes = spatialAxes(p);
  return { intersection: sum(mul(p, t), axes), predicted: sum(p, axes), labelled: sum(t, axes) };
}

function reduce(values: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return values;
  return reduction === 'sum' ? sum(values) : mean(values);
}

// ---------------------------------------------------------------------------------------------
// Generalized Dice

/** Class weights of the generalized Dice loss. */
export type GeneralizedDiceWeights = 'reference' | 'monai';

/** Options of `generalizedDiceLoss`. */
export interface GeneralizedDiceOptions {
  /** Classes the loss covers (default: all). */
  readonly idc?: readonly number[];
  /**
   * `'reference'` (default): w_k = 1/(Σt_k + 1e-10)², so an absent class weighs ~1e20 and the
   * image's loss is ~1 unless that class is predicted empty too. `'monai'`: w_k = 1/(Σt_k)², the
   * infinite weights of absent classes replaced by the largest finite weight of the same image
   * (1 when every selected class is absent).
   */
  readonly weights?: GeneralizedDiceWeights;
  /** `'mean'` over images (default, the reference's), `'sum'`, or `'none'`: one value per image, `[B]`. */
  readonly reduction?: Reduction;
}

/** w_k = 1/(Σt_k)² with infinite weights replaced by the image's largest finite one (MONAI). */
function monaiWeights(labelled: Tensor): Tensor {
  const absent = equal(labelled, 0);
  // NOTE: the absent classes divide 1 by 1, not 0, so no infinity reaches a derivative rule.
  const finite = div(1, square(where(absent, 1, labelled)));
  const largest = max(where(absent, 0, finite), 1, true);
  const fill = where(equal(largest, 0), 1, largest);
  return where(absent, fill, finite);
}

/**
 * Generalized Dice loss, the reference's formula (per image b, over the selected classes k):
 *
 *   GDL_b = 1 − 2·(Σ_k w_k Σ_q p t + 1e-10) / (Σ_k w_k Σ_q (p + t) + 1e-10),
 *   w_k = 1/(Σ_q t_k + 1e-10)²   (or MONAI's weights, see `options.weights`),
 *
 * then the mean over the batch. p = probabilities and t = one-hot target, both `[B, K, ...]`.
 * In [0, 1] for p, t ∈ [0, 1], except that an image whose selected p and t are all 0 scores −1
 * (the reference's smoothing). 0 at p = t.
 *
 * @example
 * import { tensor, softmax, generalizedDiceLoss } from 'boundary-seg';
 *
 * const target = tensor([[[1, 1, 0, 0, 0, 1], [0, 0, 1, 1, 1, 0]]]); // one-hot [B, K, 6]
 * const probs = softmax(tensor([[[0, 0, 0, 0, 0, 0], [-2, -1, 1, 2, 1, -1]]]), 1);
 * console.log((await generalizedDiceLoss(probs, target, { weights: 'monai' }).data())[0]);
 *
 * @throws ShapeError (`probs`, `target`); InputError (`options.idc`, `options.weights`,
 * `options.reduction`).
 */
export const generalizedDiceLoss = scoped(function generalizedDiceLoss(probs: Tensor, target: Tensor, options: GeneralizedDiceOptions = {}): Tensor {
  const op = 'generalizedDiceLoss';
  checkOptions(op, options, ['idc', 'weights', 'reduction']);
  const kind = options.weights ?? 'reference';
  if (kind !== 'reference' && kind !== 'monai') throw new InputError(op, 'options.weights', `expected 'reference' or 'monai', got ${JSON.stringify(kind)}`);
  const reduction = checkReduction(op, options.reduction);
  const { intersection, predicted, labelled } = overlapSums(op, probs, target, options.idc);
  const w = kind === 'reference' ? div(1, square(add(labelled, 1e-10))) : monaiWeights(labelled);
  const numerator = add(sum(mul(w, intersection), 1), 1e-10);
  const denominator = add(sum(mul(w, add(predicted, labelled)), 1), 1e-10);
  return reduce(sub(1, div(mul(numerator, 2), denominator)), reduction);
});

// ---------------------------------------------------------------------------------------------
// Dice

/** Options of `diceLoss`. */
export interface DiceLossOptions {
  /** Classes the loss covers (default: all). */
  readonly idc?: readonly number[];
  /** Added to the numerator and the denominator (MONAI's smooth_nr = smooth_dr = 1e-5). */
  readonly smooth?: number;
  /** `'mean'` (default) or `'sum'` over images and classes, or `'none'`: `[B, |idc|]`. */
  readonly reduction?: Reduction;
}

/**
 * Soft Dice loss, per image b and selected class k (MONAI's DiceLoss with softmax outputs):
 *
 *   D_{b,k} = 1 − (2·Σ_q p t + s) / (Σ_q p + Σ_q t + s),   s = `smooth` (1e-5),
 *
 * reduced over images and classes (mean by default). In [0, 1] for p, t ∈ [0, 1]; an absent
 * class predicted empty scores 0.
 *
 * @throws ShapeError (`probs`, `target`); InputError (`options.idc`, `options.smooth`,
 * `options.reduction`).
 */
export const diceLoss = scoped(function diceLoss(probs: Tensor, target: Tensor, options: DiceLossOptions = {}): Tensor {
  const op = 'diceLoss';
  checkOptions(op, options, ['idc', 'smooth', 'reduction']);
  const s = nonNegative(op, 'options.smooth', options.smooth, 1e-5);
  const reduction = checkReduction(op, options.reduction);
  const { intersection, predicted, labelled } = overlapSums(op, probs, target, options.idc);
  const score = div(add(mul(intersection, 2), s), add(add(predicted, labelled), s));
  return reduce(sub(1, score), reduction);
});

// ---------------------------------------------------------------------------------------------
// Tversky

/** Options of `tverskyLoss`. */
export interface TverskyLossOptions {
  /** Weight of the false positives Σ p(1 − t) (0.5). */
  readonly alpha?: number;
  /** Weight of the false negatives Σ (1 − p)t (0.5). */
  readonly beta?: number;
  /** Classes the loss covers (default: all). */
  readonly idc?: readonly number[];
  /** Added to the numerator and the denominator (1e-5, as MONAI). */
  readonly smooth?: number;
  /** `'mean'` (default) or `'sum'` over images and classes, or `'none'`: `[B, |idc|]`. */
  readonly reduction?: Reduction;
}

/**
 * Tversky loss (Salehi et al. 2017; MONAI's TverskyLoss), per image b and selected class k:
 *
 *   T_{b,k} = 1 − (TP + s) / (TP + α·FP + β·FN + s),
 *   TP = Σ_q p t,  FP = Σ_q p(1 − t),  FN = Σ_q (1 − p)t,
 *
 * reduced over images and classes (mean by default). α = β = 0.5 gives the Dice loss.
 *
 * @throws ShapeError (`probs`, `target`); InputError (`options.idc`, `options.alpha`,
 * `options.beta`, `options.smooth`, `options.reduction`).
 */
export const tverskyLoss = scoped(function tverskyLoss(probs: Tensor, target: Tensor, options: TverskyLossOptions = {}): Tensor {
  const op = 'tverskyLoss';
  checkOptions(op, options, ['idc', 'alpha', 'beta', 'smooth', 'reduction']);
  const alpha = nonNegative(op, 'options.alpha', options.alpha, 0.5);
  const beta = nonNegative(op, 'options.beta', options.beta, 0.5);
  const s = nonNegative(op, 'options.smooth', options.smooth, 1e-5);
  const reduction = checkReduction(op, options.reduction);
  const { intersection, predicted, labelled } = overlapSums(op, probs, target, options.idc);
  // FP = Σp − TP and FN = Σt − TP: the same sums without two more products.
  const falsePositives = sub(predicted, intersection);
  const falseNegatives = sub(labelled, intersection);
  const denominator = add(add(add(intersection, mul(falsePositives, alpha)), mul(falseNegatives, beta)), s);
  return reduce(sub(1, div(add(intersection, s), denominator)), reduction);
});
