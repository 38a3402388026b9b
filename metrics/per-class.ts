/** Any two-mask metric applied to each class of two class-index label maps. */
import { InputError } from '../core/errors.js';
import { type MaskArray, type NdArray, checkLabels, checkSameShape } from '../losses/array.js';

/** A metric of two binary masks, e.g. `dice`, `hausdorff`, `surfaceDice`. */
export type MaskMetric<O> = (pred: MaskArray, gt: MaskArray, options: O) => number;

/**
 * Evaluates `metric(pred == k, gt == k, options)` for every class k in `[0, classes)`, background
 * (class 0) included: entry k of the result belongs to class k. Empty classes give the metric's
 * the documented empty-case values (e.g. Dice 1 and HD NaN for a class absent from both), which `summarize` skips or
 * keeps as documented there.
 *
 * @param pred class-index labels, integers in `[0, classes)`.
 * @param gt class-index labels, same shape as `pred`.
 * @param metric e.g. `hausdorff`; its own errors name `options.*`.
 * @param options passed unchanged to `metric` (e.g. `{ spacing }`).
 * @throws InputError naming `classes`, or `pred` / `gt` with the first bad index and value;
 *   ShapeError naming `gt` when the shapes differ.
 */
export function perClass<O>(
  pred: NdArray,
  gt: NdArray,
  classes: number,
  metric: MaskMetric<O>,
  options?: O,
): number[] {
  const op = 'perClass';
  if (!Number.isInteger(classes) || classes < 1) {
    throw new InputError(op, 'classes', `expected a positive integer, got ${String(classes)}`);
  }
  if (typeof metric !== 'function') {
    throw new InputError(op, 'metric', `expected a function, got ${typeof metric}`);
  }
  checkLabels(op, 'pred', pred, classes);
  checkLabels(op, 'gt', gt, classes);
  checkSameShape(op, ['pred', 'gt'], pred.shape, gt.shape);
  const n = pred.data.length;
  const shape = [...pred.shape];
  const result: number[] = [];
  for (let k = 0; k < classes; k++) {
    const p = new Uint8Array(n);
    const g = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = pred.data[i] === k ? 1 : 0;
      g[i] = gt.data[i] === k ? 1 : 0;
    }
    result.push(metric({ data: p, shape }, { data: g, shape }, options as O));
  }
  return result;
}
