/**
 * Optimizers as pure state transforms over parameter trees: `init(params)` makes the state,
 * `update(params, grads, state)` returns new parameters and state and changes nothing. The caller
 * owns (and disposes) the old trees.
 */
import { InputError } from '../core/errors.js';
import { add, div, mul, sqrt, square, sub, zerosLike } from '../core/ops.js';
import { scope } from '../core/engine.js';
import type { Tensor } from '../core/tensor.js';
import { treeLeaves, treeMap, treeUnflatten } from '../core/tree.js';

/** An optimizer over parameter trees of type P with state S. */
export interface Optimizer<P, S> {
  readonly name: string;
  init(params: P): S;
  /** One step. `learningRate` overrides the configured one (learning-rate schedules). */
  update(params: P, grads: P, state: S, options?: { readonly learningRate?: number }): [P, S];
}

/** Adam's state: step count and first and second moments. */
export interface AdamState<P> {
  readonly step: number;
  readonly m: P;
  readonly v: P;
}

/** Options of `adam` (the reference's betas 0.9 / 0.99 by default). */
export interface AdamOptions {
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

function positive(op: string, argument: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new InputError(op, argument, `expected a positive number, got ${v}`);
  return v;
}

function unit(op: string, argument: string, v: number): number {
  if (!(v >= 0 && v < 1)) throw new InputError(op, argument, `expected a number in [0, 1), got ${v}`);
  return v;
}

function checkSameTree(op: string, params: unknown, grads: unknown): [Tensor[], Tensor[]] {
  const p = treeLeaves(params, op, 'params');
  const g = treeLeaves(grads, op, 'grads');
  if (p.length !== g.length) throw new InputError(op, 'grads', `expected ${p.length} gradients (one per parameter), got ${g.length}`);
  return [p, g];
}

/**
 * Adam (Kingma & Ba) with bias correction, as PyTorch:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂/(√v̂ + ε).
 */
export function adam<P>(options: AdamOptions): Optimizer<P, AdamState<P>> {
  const lr0 = positive('adam', 'options.learningRate', options.learningRate);
  const b1 = unit('adam', 'options.beta1', options.beta1 ?? 0.9);
  const b2 = unit('adam', 'options.beta2', options.beta2 ?? 0.99);
  const eps = positive('adam', 'options.epsilon', options.epsilon ?? 1e-8);
  return {
    name: 'adam',
    init: (params) => scope(() => ({ step: 0, m: treeMap(params, zerosLike), v: treeMap(params, zerosLike) })),
    update: (params, grads, state, o = {}) =>
      scope(() => {
        const lr = o.learningRate === undefined ? lr0 : positive('adam', 'options.learningRate', o.learningRate);
        const [p, g] = checkSameTree('adam', params, grads);
        const m = treeLeaves(state.m);
        const v = treeLeaves(state.v);
        const step = state.step + 1;
        const c1 = 1 - b1 ** step;
        const c2 = 1 - b2 ** step;
        const m2 = g.map((gi, i) => add(mul(m[i]!, b1), mul(gi, 1 - b1)));
        const v2 = g.map((gi, i) => add(mul(v[i]!, b2), mul(square(gi), 1 - b2)));
        const p2 = p.map((pi, i) => sub(pi, mul(div(m2[i]!, add(sqrt(div(v2[i]!, c2)), eps)), lr / c1)));
        return [treeUnflatten(params, p2), { step, m: treeUnflatten(state.m, m2), v: treeUnflatten(state.v, v2) }];
      }),
  };
}

/** SGD's state: step count and the momentum buffer. */
export interface SgdState<P> {
  readonly step: number;
  readonly velocity: P;
}

/** Options of `sgd`. */
export interface SgdOptions {
  readonly learningRate: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

/**
 * SGD with momentum, as PyTorch: g ← g + λp, b ← μb + g (b₀ = 0), p ← p − lr·(nesterov ? g + μb : b).
 */
export function sgd<P>(options: SgdOptions): Optimizer<P, SgdState<P>> {
  const lr0 = positive('sgd', 'options.learningRate', options.learningRate);
  const mu = unit('sgd', 'options.momentum', options.momentum ?? 0);
  const wd = options.weightDecay ?? 0;
  if (!(wd >= 0)) throw new InputError('sgd', 'options.weightDecay', `expected a non-negative number, got ${wd}`);
  return {
    name: 'sgd',
    init: (params) => scope(() => ({ step: 0, velocity: treeMap(params, zerosLike) })),
    update: (params, grads, state, o = {}) =>
      scope(() => {
        const lr = o.learningRate === undefined ? lr0 : positive('sgd', 'options.learningRate', o.learningRate);
        const [p, g0] = checkSameTree('sgd', params, grads);
        const vel = treeLeaves(state.velocity);
        const g = wd ? g0.map((gi, i) => add(gi, mul(p[i]!, wd))) : g0;
        const b = g.map((gi, i) => add(mul(vel[i]!, mu), gi));
        const dir = options.nesterov ? g.map((gi, i) => add(gi, mul(b[i]!, mu))) : b;
        const p2 = p.map((pi, i) => sub(pi, mul(dir[i]!, lr)));
        return [treeUnflatten(params, p2), { step: state.step + 1, velocity: treeUnflatten(state.velocity, b) }];
      }),
  };
}
