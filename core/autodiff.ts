/**
 * Reverse-mode differentiation over parameter trees. The tape lives inside each call; derivative
 * rules are written with primitives, so their own operations are recorded on any enclosing tape
 * and `grad(grad(f))` works.
 */
import { finishTape, scope, startTape, stopTape, type Tape } from './engine.js';
import { InputError, ShapeError, showShape } from './errors.js';
import { checkOptionKeys } from './options.js';
import { add, onesLike, zeros } from './ops.js';
import { rules } from './rules.js';
import { sameShape } from './shape.js';
import { Tensor } from './tensor.js';
import { treeLeaves, treeUnflatten } from './tree.js';

/** Propagates `cotangent` from `y` back to `leaves` through the tape's nodes. */
function backprop(tape: Tape, y: Tensor, cotangent: Tensor, leaves: readonly Tensor[]): Tensor[] {
  const cots = new Map<Tensor, Tensor>([[y, cotangent]]);
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i]!;
    const dy = cots.get(node.output);
    if (!dy) continue;
    const needs = node.inputs.map((t) => tape.tracked.has(t));
    if (!needs.some(Boolean)) continue;
    const rule = rules[node.prim] as (typeof rules)['add'];
    const grads = rule.vjp(dy, node.inputs, node.output, node.params as never, needs);
    node.inputs.forEach((input, k) => {
      const g = grads[k];
      if (!g || !needs[k]) return;
      if (!sameShape(g.shape, input.shape)) {
        throw new ShapeError(node.prim, 'derivative rule', `internal error: cotangent ${showShape(g.shape)} for input ${showShape(input.shape)}`);
      }
      const prev = cots.get(input);
      cots.set(input, prev ? add(prev, g) : g);
    });
  }
  return leaves.map((l) => cots.get(l) ?? zeros(l.shape));
}

function checkLeaves(op: string, x: unknown): Tensor[] {
  const leaves = treeLeaves(x, op, 'params');
  leaves.forEach((t, i) => t.assertLive(op, `params (leaf ${i})`));
  return leaves;
}

/**
 * Runs `f(x)` and returns its value with a function that maps a cotangent of the value to the
 * cotangents of `x` (same tree structure). Intermediates live in the enclosing `scope`.
 */
export function vjp<P>(f: (x: P) => Tensor, x: P): [Tensor, (cotangent: Tensor) => P] {
  const leaves = checkLeaves('vjp', x);
  const tape = startTape(leaves);
  let y: unknown;
  try {
    y = f(x);
  } finally {
    stopTape(tape);
  }
  if (!(y instanceof Tensor)) throw new InputError('vjp', 'f', `must return a Tensor, returned ${y === null ? 'null' : typeof y}`);
  const out = y;
  const backward = (cotangent: Tensor): P => {
    if (!(cotangent instanceof Tensor) || !sameShape(cotangent.shape, out.shape)) {
      throw new ShapeError('vjp', 'cotangent', `expected shape ${showShape(out.shape)}, got ${cotangent instanceof Tensor ? showShape(cotangent.shape) : typeof cotangent}`);
    }
    const grads = backprop(tape, out, cotangent, leaves);
    finishTape(tape);
    return treeUnflatten(x, grads);
  };
  return [out, backward];
}

function checkScalar(op: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw new InputError(op, 'f', `must return a scalar Tensor, returned ${y === null ? 'null' : typeof y}`);
  if (y.size !== 1) throw new ShapeError(op, 'f', `must return a single value to differentiate, returned shape ${showShape(y.shape)}`);
  return y;
}

/** Options of `valueAndGrad`. */
export interface GradOptions {
  /** `f` returns `[loss, aux]`; aux (any tree, e.g. batch-norm state) is returned, not differentiated. */
  readonly hasAux?: boolean;
}

const GRAD_KEYS: readonly string[] = ['hasAux'];

type WithAux<R> = readonly [Tensor, R];

/**
 * `valueAndGrad(f)(params, ...rest)` returns `[f(params, ...rest), ∂f/∂params]` with the gradient
 * mirroring the params tree. `f` must return a single-element tensor. Runs in its own scope: only
 * the value and the gradients survive it.
 *
 * @example
 * import { tensor, sum, mul, valueAndGrad, type Tensor } from 'boundary-seg';
 *
 * // Gradients mirror the first argument's tree.
 * const f = (p: { w: Tensor }, x: Tensor) => sum(mul(mul(p.w, p.w), x));
 * const [value, g] = valueAndGrad(f)({ w: tensor([1, 2]) }, tensor([3, 4]));
 * console.log((await value.data())[0], await g.w.data()); // 19, [6, 16]
 *
 * @throws InputError when `f` is not a function or `options` has an unknown key (`options.aux`).
 */
export function valueAndGrad<P, A extends unknown[]>(f: (params: P, ...rest: A) => Tensor): (params: P, ...rest: A) => [Tensor, P];
export function valueAndGrad<P, A extends unknown[], R>(f: (params: P, ...rest: A) => WithAux<R>, options: { hasAux: true }): (params: P, ...rest: A) => [[Tensor, R], P];
export function valueAndGrad<P, A extends unknown[], R>(
  f: (params: P, ...rest: A) => Tensor | WithAux<R>,
  options: GradOptions = {},
): (params: P, ...rest: A) => [Tensor, P] | [[Tensor, R], P] {
  if (typeof f !== 'function') throw new InputError('valueAndGrad', 'f', 'expected a function');
  checkOptionKeys('valueAndGrad', options, GRAD_KEYS);
  return (params: P, ...rest: A) =>
    scope(() => {
      let aux: R | undefined;
      const [y, back] = vjp((p: P) => {
        const r = f(p, ...rest);
        if (options.hasAux) {
          if (!Array.isArray(r) || r.length !== 2) throw new InputError('valueAndGrad', 'f', 'with hasAux, f must return [loss, aux]');
          aux = r[1] as R;
          return checkScalar('valueAndGrad', r[0]);
        }
        return checkScalar('valueAndGrad', r);
      }, params);
      const grads = back(onesLike(y));
      return options.hasAux ? ([[y, aux as R], grads] as [[Tensor, R], P]) : ([y, grads] as [Tensor, P]);
    });
}

/** `grad(f)(params, ...rest)` is the gradient of a scalar-valued `f` with respect to `params`. */
export function grad<P, A extends unknown[]>(f: (params: P, ...rest: A) => Tensor): (params: P, ...rest: A) => P {
  const vg = valueAndGrad(f);
  return (params: P, ...rest: A) =>
    scope(() => vg(params, ...rest)[1]);
}

