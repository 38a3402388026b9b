/**
 * Optimizers as pure state transforms over parameter trees: `init(params)` makes the state,
 * `update(params, grads, state)` returns new parameters and state and changes nothing. The caller
 * owns (and disposes) the old trees.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { add, div, mul, sqrt, square, sub, zerosLike, type TensorLike } from '../core/ops.js';
import { scope } from '../core/engine.js';
import type { Tensor } from '../core/tensor.js';
import { treeLeaves, treeMap, treeUnflatten } from '../core/tree.js';

/** An optimizer's state without its step count: the tensors it carries from step to step. */
export type Slots<S> = Omit<S, 'step'>;

/**
 * An optimizer over parameter trees of type P with state S (a step count and tensor slots).
 *
 * `update` is one eager step. For `jit`, the step splits in two: `scalars` computes on the host
 * what depends on the step count (e.g. Adam's step size and bias correction), and `apply` is the
 * tensor part, taking those scalars as arguments, so one compiled plan serves every step. `update`
 * is exactly `apply` with `scalars`, so both give the same bits.
 */
export interface Optimizer<P, S extends { readonly step: number }> {
  readonly name: string;
  init(params: P): S;
  /** One step. `learningRate` overrides the configured one (learning-rate schedules). */
  update(params: P, grads: P, state: S, options?: { readonly learningRate?: number }): [P, S];
  /** The host scalars of the step that follows `step` steps (the learning rate overridable). */
  scalars(step: number, options?: { readonly learningRate?: number }): number[];
  /** The tensor part of one step, with `scalars` (numbers or scalar tensors) given. */
  apply(params: P, grads: P, slots: Slots<S>, scalars: readonly TensorLike[]): [P, Slots<S>];
}

/** The keys of the per-step options of `update` and `scalars`. */
const STEP_KEYS: readonly string[] = ['learningRate'];
const ADAM_KEYS: readonly (keyof AdamOptions)[] = ['learningRate', 'beta1', 'beta2', 'epsilon'];
const SGD_KEYS: readonly (keyof SgdOptions)[] = ['learningRate', 'momentum', 'nesterov', 'weightDecay'];

/** Builds `update` from `scalars` and `apply`. */
function stepWith<P, S extends { readonly step: number }>(o: Pick<Optimizer<P, S>, 'scalars' | 'apply'>): Optimizer<P, S>['update'] {
  return (params, grads, state, options = {}) =>
    scope(() => {
      const { step, ...slots } = state;
      const [p, next] = o.apply(params, grads, slots as Slots<S>, o.scalars(step, options));
      return [p, { ...next, step: step + 1 } as unknown as S];
    });
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
 *
 * @throws InputError naming an out-of-range or unknown option (`options.beta`: did you mean
 * 'beta1'?), here and in `update`/`scalars` for their `learningRate` option.
 */
export function adam<P>(options: AdamOptions): Optimizer<P, AdamState<P>> {
  if (options === undefined) throw new InputError('adam', 'options', 'expected { learningRate, beta1?, beta2?, epsilon? }');
  checkOptionKeys('adam', options, ADAM_KEYS);
  const lr0 = positive('adam', 'options.learningRate', options.learningRate);
  const b1 = unit('adam', 'options.beta1', options.beta1 ?? 0.9);
  const b2 = unit('adam', 'options.beta2', options.beta2 ?? 0.99);
  const eps = positive('adam', 'options.epsilon', options.epsilon ?? 1e-8);
  const scalars = (step: number, o: { readonly learningRate?: number } = {}): number[] => {
    checkOptionKeys('adam', o, STEP_KEYS);
    const lr = o.learningRate === undefined ? lr0 : positive('adam', 'options.learningRate', o.learningRate);
    const t = step + 1;
    // NOTE: step size lr/(1 − β₁ᵗ) and bias correction 1 − β₂ᵗ are computed in doubles on the host
    // and enter the step as float32 scalars, in eager mode and under jit alike.
    return [lr / (1 - b1 ** t), 1 - b2 ** t];
  };
  const apply = (params: P, grads: P, slots: Slots<AdamState<P>>, [stepSize, c2]: readonly TensorLike[]): [P, Slots<AdamState<P>>] =>
    scope(() => {
      const [p, g] = checkSameTree('adam', params, grads);
      const m = treeLeaves(slots.m);
      const v = treeLeaves(slots.v);
      const m2 = g.map((gi, i) => add(mul(m[i]!, b1), mul(gi, 1 - b1)));
      const v2 = g.map((gi, i) => add(mul(v[i]!, b2), mul(square(gi), 1 - b2)));
      const p2 = p.map((pi, i) => sub(pi, mul(div(m2[i]!, add(sqrt(div(v2[i]!, c2!)), eps)), stepSize!)));
      return [treeUnflatten(params, p2), { m: treeUnflatten(slots.m, m2), v: treeUnflatten(slots.v, v2) }];
    });
  return {
    name: 'adam',
    init: (params) => scope(() => ({ step: 0, m: treeMap(params, zerosLike), v: treeMap(params, zerosLike) })),
    update: stepWith({ scalars, apply }),
    scalars,
    apply,
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
 *
 * @throws InputError naming an out-of-range or unknown option (`options.momentun`), here and in
 * `update`/`scalars` for their `learningRate` option.
 */
export function sgd<P>(options: SgdOptions): Optimizer<P, SgdState<P>> {
  if (options === undefined) throw new InputError('sgd', 'options', 'expected { learningRate, momentum?, nesterov?, weightDecay? }');
  checkOptionKeys('sgd', options, SGD_KEYS);
  const lr0 = positive('sgd', 'options.learningRate', options.learningRate);
  const mu = unit('sgd', 'options.momentum', options.momentum ?? 0);
  const wd = options.weightDecay ?? 0;
  if (!(wd >= 0)) throw new InputError('sgd', 'options.weightDecay', `expected a non-negative number, got ${wd}`);
  const scalars = (_step: number, o: { readonly learningRate?: number } = {}): number[] => {
    checkOptionKeys('sgd', o, STEP_KEYS);
    return [o.learningRate === undefined ? lr0 : positive('sgd', 'options.learningRate', o.learningRate)];
  };
  const apply = (params: P, grads: P, slots: Slots<SgdState<P>>, [lr]: readonly TensorLike[]): [P, Slots<SgdState<P>>] =>
    scope(() => {
      const [p, g0] = checkSameTree('sgd', params, grads);
      const vel = treeLeaves(slots.velocity);
      const g = wd ? g0.map((gi, i) => add(gi, mul(p[i]!, wd))) : g0;
      const b = g.map((gi, i) => add(mul(vel[i]!, mu), gi));
      const dir = options.nesterov ? g.map((gi, i) => add(gi, mul(b[i]!, mu))) : b;
      const p2 = p.map((pi, i) => sub(pi, mul(dir[i]!, lr!)));
      return [treeUnflatten(params, p2), { velocity: treeUnflatten(slots.velocity, b) }];
    });
  return {
    name: 'sgd',
    init: (params) => scope(() => ({ step: 0, velocity: treeMap(params, zerosLike) })),
    update: stepWith({ scalars, apply }),
    scalars,
    apply,
  };
}
