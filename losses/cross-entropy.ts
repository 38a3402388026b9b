/**
 * Cross-entropy losses with the reference's normalisation: the sum over the selected classes and
 * all voxels divided by the number of labelled voxels (Σ t over the selected classes), so
 * restricting `idc` to a foreground class averages over that class's voxels only. None reads
 * values.
 */
import { scoped } from '../core/engine.js';
import { InputError } from '../core/errors.js';
import { logSoftmax } from '../core/nn.js';
import { add, div, log, mul, neg, pow, relu, sub, sum, tensor } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { checkClassTensor, checkOptions, checkSameShape, describe, nonNegative, resolveIdc, selectClasses } from './loss-args.js';

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Classes the loss covers (default: all). */
  readonly idc?: readonly number[];
  /** Added to p inside the logarithm (1e-10, the reference's). */
  readonly epsilon?: number;
}

/** Options of `crossEntropyWithLogits`. */
export interface CrossEntropyWithLogitsOptions {
  /** Classes the loss covers (default: all); the softmax always runs over all K classes. */
  readonly idc?: readonly number[];
}

/** Options of `focalLoss`. */
export interface FocalLossOptions {
  /** Focusing exponent γ ≥ 0 (2); γ = 0 gives `crossEntropy`. */
  readonly gamma?: number;
  /** Per-class weights α_k, one for each of the K classes (indexed by class, not by `idc`). */
  readonly alpha?: readonly number[];
  /** Classes the loss covers (default: all). */
  readonly idc?: readonly number[];
  /** Added to p inside the logarithm (1e-10). */
  readonly epsilon?: number;
}

/** The reference's normaliser: Σ t over the selected classes and all voxels, + 1e-10. */
function labelledCount(t: Tensor): Tensor {
  return add(sum(t), 1e-10);
}

/**
 * Cross-entropy of probabilities, the reference's:
 *
 *   CE = −Σ_b Σ_{k∈idc} Σ_q t log(p + ε) / (Σ_b Σ_{k∈idc} Σ_q t + 1e-10)
 *
 * with p = probabilities and t = one-hot target, both `[B, K, ...]`, ε = `epsilon` (1e-10).
 *
 * @throws ShapeError (`probs`, `target`); InputError (`options.idc`, `options.epsilon`).
 */
export const crossEntropy = scoped(function crossEntropy(probs: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const classes = checkClassTensor(op, 'probs', probs);
  checkSameShape(op, 'target', target, probs, 'probs');
  checkOptions(op, options, ['idc', 'epsilon']);
  const idc = resolveIdc(op, options.idc, classes);
  const eps = nonNegative(op, 'options.epsilon', options.epsilon, 1e-10);
  const t = selectClasses(target, idc);
  const logP = log(add(selectClasses(probs, idc), eps));
  return div(neg(sum(mul(t, logP))), labelledCount(t));
});

/**
 * Cross-entropy of logits, with the log-probabilities from a stable `logSoftmax` over the class
 * axis (finite for logits of any magnitude):
 *
 *   CE = −Σ_b Σ_{k∈idc} Σ_q t · logSoftmax(z)_k / (Σ_b Σ_{k∈idc} Σ_q t + 1e-10)
 *
 * Equal to `crossEntropy(softmax(z, 1), t, { idc, epsilon: 0 })`.
 *
 * @throws ShapeError (`logits`, `target`); InputError (`options.idc`).
 */
export const crossEntropyWithLogits = scoped(function crossEntropyWithLogits(logits: Tensor, target: Tensor, options: CrossEntropyWithLogitsOptions = {}): Tensor {
  const op = 'crossEntropyWithLogits';
  const classes = checkClassTensor(op, 'logits', logits);
  checkSameShape(op, 'target', target, logits, 'logits');
  checkOptions(op, options, ['idc']);
  const idc = resolveIdc(op, options.idc, classes);
  const t = selectClasses(target, idc);
  const logP = selectClasses(logSoftmax(logits, 1), idc);
  return div(neg(sum(mul(t, logP))), labelledCount(t));
});

function checkAlpha(op: string, alpha: unknown, classes: number): readonly number[] | undefined {
  if (alpha === undefined) return undefined;
  if (!Array.isArray(alpha) || alpha.length !== classes || !alpha.every((a) => typeof a === 'number' && Number.isFinite(a) && a >= 0)) {
    throw new InputError(op, 'options.alpha', `expected ${classes} finite weights ≥ 0, one per class, got ${describe(alpha)}${Array.isArray(alpha) ? ` ${JSON.stringify(alpha)}` : ''}`);
  }
  return alpha as number[];
}

/**
 * Focal loss (Lin et al. 2017) with the reference's cross-entropy normalisation:
 *
 *   FL = −Σ_b Σ_{k∈idc} Σ_q α_k (1 − p)^γ t log(p + ε) / (Σ_b Σ_{k∈idc} Σ_q t + 1e-10)
 *
 * γ = `gamma` (2), α_k = `alpha[k]` (1 when not given), ε = `epsilon` (1e-10).
 * NOTE: (1 − p) is taken as max(1 − p, 0), so probabilities a rounding error above 1 stay finite.
 *
 * @throws ShapeError (`probs`, `target`); InputError (`options.idc`, `options.gamma`,
 * `options.alpha`, `options.epsilon`).
 */
export const focalLoss = scoped(function focalLoss(probs: Tensor, target: Tensor, options: FocalLossOptions = {}): Tensor {
  const op = 'focalLoss';
  const classes = checkClassTensor(op, 'probs', probs);
  checkSameShape(op, 'target', target, probs, 'probs');
  checkOptions(op, options, ['gamma', 'alpha', 'idc', 'epsilon']);
  const idc = resolveIdc(op, options.idc, classes);
  const gamma = nonNegative(op, 'options.gamma', options.gamma, 2);
  const alpha = checkAlpha(op, options.alpha, classes);
  const eps = nonNegative(op, 'options.epsilon', options.epsilon, 1e-10);
  const p = selectClasses(probs, idc);
  const t = selectClasses(target, idc);
  let terms = mul(t, log(add(p, eps)));
  // NOTE: γ = 0 skips the factor: (1 − p)⁰'s derivative rule would compute 0·(1 − p)⁻¹, NaN at p = 1.
  if (gamma !== 0) terms = mul(terms, pow(relu(sub(1, p)), gamma));
  if (alpha) {
    const weights = idc.map((k) => alpha[k]!);
    const shape = p.shape.map((d, a) => (a === 1 ? d : 1));
    terms = mul(terms, tensor(weights, shape));
  }
  return div(neg(sum(terms)), labelledCount(t));
});
