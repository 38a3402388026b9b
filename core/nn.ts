/**
 * Neural-network operations composed of primitives: the convolution family with its option
 * handling, pooling, up-sampling, softmax, one-hot, batch norm and dropout.
 */
import { runPrim, scoped } from './engine.js';
import { InputError, ShapeError, showShape } from './errors.js';
import { checkOptionKeys } from './options.js';
import { add, alias, concat, div, equal, exp, expandDims, greaterEqual, log, max, mean, mul, range, reshape, slice, sqrt, square, stopGradient, sub, sum, pad as padOp, broadcastTo } from './ops.js';
import type { ConvParams } from './primitives.js';
import { uniform, type RandomKey } from './random.js';
import { normalizeAxis } from './shape.js';
import { Tensor } from './tensor.js';

/** A number for both axes, or [along H, along W]. */
export type Pair = number | readonly [number, number];

/**
 * Convolution padding: a number or [padH, padW] (symmetric), [top, bottom, left, right],
 * `'valid'` (none) or `'same'` (TensorFlow's: output = ceil(input / stride), the odd extra row or
 * column at the bottom/right).
 */
export type Padding = Pair | readonly [number, number, number, number] | 'same' | 'valid';

/** Options of `conv2d` and its backprops. */
export interface Conv2dOptions {
  readonly stride?: Pair;
  readonly padding?: Padding;
  readonly dilation?: Pair;
  readonly groups?: number;
}

const CONV2D_KEYS: readonly string[] = ['stride', 'padding', 'dilation', 'groups'];
const BACKPROP_INPUT_KEYS: readonly string[] = [...CONV2D_KEYS, 'inputShape'];
const BACKPROP_FILTER_KEYS: readonly string[] = [...CONV2D_KEYS, 'filterShape'];

function pair(op: string, argument: string, v: Pair | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0]!, v[1]!];
  throw new InputError(op, argument, `expected a number or a pair of numbers, got ${JSON.stringify(v)}`);
}

/**
 * Resolves conv options for an input of spatial size [h, w] and kernel [kh, kw].
 *
 * @throws InputError naming an unknown option key or a malformed option.
 */
export function convParams(op: string, options: Conv2dOptions, h: number, w: number, kh: number, kw: number): ConvParams {
  checkOptionKeys(op, options, CONV2D_KEYS);
  return resolveConv(op, options, h, w, kh, kw);
}

/** `convParams` without the key check (its callers have checked the keys of their own options). */
function resolveConv(op: string, options: Conv2dOptions, h: number, w: number, kh: number, kw: number): ConvParams {
  const stride = pair(op, 'options.stride', options.stride, 1);
  const dilation = pair(op, 'options.dilation', options.dilation, 1);
  const groups = options.groups ?? 1;
  const p = options.padding ?? 0;
  let padding: [number, number, number, number];
  if (p === 'valid') padding = [0, 0, 0, 0];
  else if (p === 'same') {
    const total = (size: number, k: number, s: number, d: number) => Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
    const th = total(h, kh, stride[0], dilation[0]);
    const tw = total(w, kw, stride[1], dilation[1]);
    padding = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (typeof p === 'number') padding = [p, p, p, p];
  else if (Array.isArray(p) && p.length === 2) padding = [p[0]!, p[0]!, p[1]!, p[1]!];
  else if (Array.isArray(p) && p.length === 4) padding = [p[0]!, p[1]!, p[2]!, p[3]!];
  else throw new InputError(op, 'options.padding', `expected a number, [padH, padW], [top, bottom, left, right], 'same' or 'valid', got ${JSON.stringify(p)}`);
  return { stride, padding, dilation, groups };
}

function rank4(op: string, argument: string, t: Tensor): [number, number, number, number] {
  if (!(t instanceof Tensor)) throw new InputError(op, argument, 'expected a Tensor');
  if (t.rank !== 4) throw new ShapeError(op, argument, `expected rank 4, got ${showShape(t.shape)}`);
  return t.shape as [number, number, number, number];
}

/**
 * 2-D convolution (cross-correlation): x [N, C, H, W] ⋆ w [O, C/groups, kh, kw] → [N, O, H', W'].
 *
 * @throws InputError naming an unknown option key (`options.pading`).
 */
export const conv2d = scoped(function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  checkOptionKeys('conv2d', options, CONV2D_KEYS);
  const [, , h, wd] = rank4('conv2d', 'x', x);
  const [, , kh, kw] = rank4('conv2d', 'w', w);
  return runPrim('conv2d', [x, w], resolveConv('conv2d', options, h, wd, kh, kw), ['x', 'w']);
});

/**
 * The gradient of `conv2d` with respect to its input, for an input of shape `inputShape`.
 *
 * @throws InputError naming an unknown option key.
 */
export const conv2dBackpropInput = scoped(function conv2dBackpropInput(dy: Tensor, w: Tensor, options: Conv2dOptions & { readonly inputShape: readonly number[] }): Tensor {
  checkOptionKeys('conv2dBackpropInput', options, BACKPROP_INPUT_KEYS);
  rank4('conv2dBackpropInput', 'dy', dy);
  const [, , kh, kw] = rank4('conv2dBackpropInput', 'w', w);
  const s = options.inputShape;
  if (!Array.isArray(s) || s.length !== 4) throw new ShapeError('conv2dBackpropInput', 'options.inputShape', `expected [N, C, H, W], got ${JSON.stringify(s)}`);
  const p = resolveConv('conv2dBackpropInput', options, s[2]!, s[3]!, kh, kw);
  return runPrim('conv2dBackpropInput', [dy, w], { ...p, inputShape: [s[0]!, s[1]!, s[2]!, s[3]!] }, ['dy', 'w']);
});

/**
 * The gradient of `conv2d` with respect to its filter, for a filter of shape `filterShape`.
 *
 * @throws InputError naming an unknown option key.
 */
export const conv2dBackpropFilter = scoped(function conv2dBackpropFilter(x: Tensor, dy: Tensor, options: Conv2dOptions & { readonly filterShape: readonly number[] }): Tensor {
  checkOptionKeys('conv2dBackpropFilter', options, BACKPROP_FILTER_KEYS);
  const [, , h, wd] = rank4('conv2dBackpropFilter', 'x', x);
  rank4('conv2dBackpropFilter', 'dy', dy);
  const f = options.filterShape;
  if (!Array.isArray(f) || f.length !== 4) throw new ShapeError('conv2dBackpropFilter', 'options.filterShape', `expected [O, C/groups, kh, kw], got ${JSON.stringify(f)}`);
  const p = resolveConv('conv2dBackpropFilter', options, h, wd, f[2]!, f[3]!);
  return runPrim('conv2dBackpropFilter', [x, dy], { ...p, filterShape: [f[0]!, f[1]!, f[2]!, f[3]!] }, ['x', 'dy']);
});

/** Options of `conv2dTranspose` (PyTorch's ConvTranspose2d). */
export interface Conv2dTransposeOptions {
  readonly stride?: Pair;
  readonly padding?: Pair;
  readonly outputPadding?: Pair;
  readonly dilation?: Pair;
  readonly groups?: number;
}

const CONV2D_TRANSPOSE_KEYS: readonly string[] = ['stride', 'padding', 'outputPadding', 'dilation', 'groups'];

/**
 * Transposed convolution, PyTorch's layout: x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw] →
 * [N, Cout, H', W'] with H' = (H − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1.
 * It is `conv2dBackpropInput` of the convolution that maps the output back to x.
 *
 * @throws InputError naming an unknown option key (`options.outputPading`).
 */
export const conv2dTranspose = scoped(function conv2dTranspose(x: Tensor, w: Tensor, options: Conv2dTransposeOptions = {}): Tensor {
  const op = 'conv2dTranspose';
  checkOptionKeys(op, options, CONV2D_TRANSPOSE_KEYS);
  const [n, cin, h, wd] = rank4(op, 'x', x);
  const [wi, coutG, kh, kw] = rank4(op, 'w', w);
  const groups = options.groups ?? 1;
  if (wi !== cin) throw new ShapeError(op, 'x, w', `x ${showShape(x.shape)} has ${cin} channels but w ${showShape(w.shape)} expects ${wi} (layout [Cin, Cout/groups, kh, kw])`);
  if (!Number.isInteger(groups) || groups < 1 || cin % groups !== 0) {
    throw new ShapeError(op, 'options.groups', `input channels ${cin} of x ${showShape(x.shape)} (w ${showShape(w.shape)}) are not divisible by groups ${groups}`);
  }
  const stride = pair(op, 'options.stride', options.stride, 1);
  const padding = pair(op, 'options.padding', options.padding, 0);
  const outPad = pair(op, 'options.outputPadding', options.outputPadding, 0);
  const dilation = pair(op, 'options.dilation', options.dilation, 1);
  for (let i = 0; i < 2; i++) {
    if (!(Number.isInteger(outPad[i]) && outPad[i]! >= 0 && outPad[i]! < stride[i]!)) {
      throw new InputError(op, 'options.outputPadding', `must be a non-negative integer smaller than the stride, got ${outPad[i]} (stride ${stride[i]})`);
    }
  }
  const ho = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outPad[0] + 1;
  const wo = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outPad[1] + 1;
  if (ho < 1 || wo < 1) throw new ShapeError(op, 'x, w', `output would be ${ho}×${wo} for x ${showShape(x.shape)} and w ${showShape(w.shape)}`);
  // The forward convolution with symmetric padding maps [N, Cout, H', W'] back to x's H × W
  // (outputPadding < stride adds rows it never reads): this is its input gradient.
  const p: ConvParams = { stride, padding: [padding[0], padding[0], padding[1], padding[1]], dilation, groups };
  return runPrim('conv2dBackpropInput', [x, w], { ...p, inputShape: [n, coutG * groups, ho, wo] }, ['x', 'w']);
});

/** Options of the pooling ops. */
export interface PoolOptions {
  readonly size: Pair;
  readonly stride?: Pair;
  readonly padding?: Pair;
}

const POOL_KEYS: readonly string[] = ['size', 'stride', 'padding'];

/**
 * Window reduction over [N, C, H, W]: non-overlapping windows that tile the input reduce through
 * one reshape; other geometries stack the size² shifted views and subsample.
 */
function pool(op: string, x: Tensor, options: PoolOptions, kind: 'max' | 'avg'): Tensor {
  if (options === undefined) throw new InputError(op, 'options', 'expected { size, stride?, padding? }');
  checkOptionKeys(op, options, POOL_KEYS);
  const [n, c, h, w] = rank4(op, 'x', x);
  const [kh, kw] = pair(op, 'options.size', options.size, 1);
  const [sh, sw] = pair(op, 'options.stride', options.stride ?? options.size, 1);
  const [ph, pw] = pair(op, 'options.padding', options.padding, 0);
  if (![kh, kw, sh, sw].every((v) => Number.isInteger(v) && v >= 1) || ![ph, pw].every((v) => Number.isInteger(v) && v >= 0)) {
    throw new InputError(op, 'options', `size and stride must be positive integers and padding non-negative, got ${JSON.stringify(options)}`);
  }
  if (ph * 2 > kh || pw * 2 > kw) throw new InputError(op, 'options.padding', `padding ${ph}×${pw} must be at most half the window ${kh}×${kw}`);
  const ho = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (ho < 1 || wo < 1) throw new ShapeError(op, 'x', `window ${kh}×${kw} does not fit ${showShape(x.shape)} with padding ${ph}×${pw}`);
  const reduceWin = (t: Tensor, axes: number[]) => (kind === 'max' ? max(t, axes) : div(sum(t, axes), kh * kw));
  if (ph === 0 && pw === 0 && kh === sh && kw === sw && h === ho * kh && w === wo * kw) {
    return reduceWin(reshape(x, [n, c, ho, kh, wo, kw]), [3, 5]);
  }
  // NOTE: padded cells count as −∞ for max and as zeros in the average (PyTorch's count_include_pad).
  const padded = ph || pw ? padOp(x, [[0, 0], [0, 0], [ph, ph], [pw, pw]], kind === 'max' ? -Infinity : 0) : x;
  const fh = (ho - 1) * sh + 1;
  const fw = (wo - 1) * sw + 1;
  const views: Tensor[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) views.push(expandDims(slice(padded, [0, 0, i, j], [n, c, fh, fw]), 4));
  const dense = reduceWin(concat(views, 4), [4]);
  if (sh === 1 && sw === 1) return dense;
  const grown = padOp(dense, [[0, 0], [0, 0], [0, ho * sh - fh], [0, wo * sw - fw]]);
  const sub6 = slice(reshape(grown, [n, c, ho, sh, wo, sw]), [0, 0, 0, 0, 0, 0], [n, c, ho, 1, wo, 1]);
  return reshape(sub6, [n, c, ho, wo]);
}

/** Max pooling over [N, C, H, W]; `stride` defaults to `size`. An unknown option key is an InputError naming it. */
export const maxPool2d = scoped((x: Tensor, options: PoolOptions): Tensor => pool('maxPool2d', x, options, 'max'));
/** Average pooling over [N, C, H, W]; padded cells count as zeros. An unknown option key is an InputError naming it. */
export const avgPool2d = scoped((x: Tensor, options: PoolOptions): Tensor => pool('avgPool2d', x, options, 'avg'));

/** Nearest-neighbour up-sampling of [N, C, H, W] by an integer factor. */
export const upsampleNearest = scoped(function upsampleNearest(x: Tensor, factor: Pair): Tensor {
  const [n, c, h, w] = rank4('upsampleNearest', 'x', x);
  const [fh, fw] = pair('upsampleNearest', 'factor', factor, 1);
  if (![fh, fw].every((v) => Number.isInteger(v) && v >= 1)) throw new InputError('upsampleNearest', 'factor', `expected positive integers, got ${JSON.stringify(factor)}`);
  const grown = broadcastTo(reshape(x, [n, c, h, 1, w, 1]), [n, c, h, fh, w, fw]);
  return reshape(grown, [n, c, h * fh, w * fw]);
});

/** Softmax along `axis` (no default: name the class axis). */
export const softmax = scoped(function softmax(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('softmax', axis, x.shape);
  const e = exp(sub(x, stopGradient(max(x, a, true))));
  return div(e, sum(e, a, true));
});

/** log(softmax(x)) along `axis`, computed stably. */
export const logSoftmax = scoped(function logSoftmax(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('logSoftmax', axis, x.shape);
  const shifted = sub(x, stopGradient(max(x, a, true)));
  return sub(shifted, log(sum(exp(shifted), a, true)));
});

/**
 * One-hot encoding: class-index labels [B, ...] → [B, K, ...]. Labels outside [0, K) give an
 * all-zero row; loaders check labels with `checkOneHot` / their own validation.
 */
export const oneHot = scoped(function oneHot(labels: Tensor, classes: number): Tensor {
  if (!(labels instanceof Tensor)) throw new InputError('oneHot', 'labels', 'expected a Tensor');
  if (labels.rank < 1) throw new ShapeError('oneHot', 'labels', `expected [B, ...], got ${showShape(labels.shape)}`);
  if (!Number.isInteger(classes) || classes < 1) throw new InputError('oneHot', 'classes', `expected a positive integer, got ${classes}`);
  const spatial = labels.shape.slice(1);
  const ids = reshape(range(classes), [1, classes, ...spatial.map(() => 1)]);
  return equal(expandDims(labels, 1), ids);
});

/** Batch-norm parameters (learned). */
export interface BatchNormParams {
  readonly gamma: Tensor;
  readonly beta: Tensor;
}

/** Batch-norm running statistics (not learned). */
export interface BatchNormState {
  readonly mean: Tensor;
  readonly variance: Tensor;
}

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  readonly training: boolean;
  /** Weight of the new batch statistic in the running average (PyTorch's 0.1). */
  readonly momentum?: number;
  readonly epsilon?: number;
}

const BATCH_NORM_KEYS: readonly string[] = ['training', 'momentum', 'epsilon'];

/**
 * Batch normalisation over axis 1 of [N, C, ...]: in training, normalises with the batch
 * statistics and returns updated running statistics (unbiased variance, as PyTorch); in
 * evaluation, uses the running statistics and returns the state unchanged.
 *
 * @throws InputError naming an unknown option key, or when `options.training` is not a boolean.
 */
export const batchNorm = scoped(function batchNorm(x: Tensor, params: BatchNormParams, state: BatchNormState, options: BatchNormOptions): [Tensor, BatchNormState] {
  const op = 'batchNorm';
  checkOptionKeys(op, options, BATCH_NORM_KEYS);
  if (typeof options?.training !== 'boolean') throw new InputError(op, 'options.training', `expected a boolean, got ${options === undefined ? 'no options' : String(options.training)}`);
  if (!(x instanceof Tensor) || x.rank < 2) throw new ShapeError(op, 'x', `expected [N, C, ...], got ${x instanceof Tensor ? showShape(x.shape) : typeof x}`);
  const c = x.shape[1]!;
  for (const [name, t] of [['params.gamma', params.gamma], ['params.beta', params.beta], ['state.mean', state.mean], ['state.variance', state.variance]] as const) {
    if (!(t instanceof Tensor) || t.rank !== 1 || t.shape[0] !== c) throw new ShapeError(op, name, `expected [${c}], got ${t instanceof Tensor ? showShape(t.shape) : typeof t}`);
  }
  const momentum = options.momentum ?? 0.1;
  const eps = options.epsilon ?? 1e-5;
  const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2)];
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const col = (t: Tensor) => reshape(t, bshape);
  let mu: Tensor;
  let variance: Tensor;
  let next = state;
  if (options.training) {
    mu = mean(x, axes, true);
    variance = mean(square(sub(x, mu)), axes, true);
    const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
    const unbiased = mul(reshape(stopGradient(variance), [c]), count / Math.max(count - 1, 1));
    next = {
      mean: add(mul(state.mean, 1 - momentum), mul(reshape(stopGradient(mu), [c]), momentum)),
      variance: add(mul(state.variance, 1 - momentum), mul(unbiased, momentum)),
    };
  } else {
    mu = col(state.mean);
    variance = col(state.variance);
  }
  const y = add(mul(div(sub(x, mu), sqrt(add(variance, eps))), col(params.gamma)), col(params.beta));
  return [y, next];
});

/** Inverted dropout: zeroes each element with probability `rate` and scales the rest by 1/(1 − rate). */
export const dropout = scoped(function dropout(x: Tensor, rate: number, key: RandomKey): Tensor {
  if (!(rate >= 0 && rate < 1)) throw new InputError('dropout', 'rate', `expected 0 ≤ rate < 1, got ${rate}`);
  if (rate === 0) return alias(x, 'dropout');
  const keepMask = greaterEqual(uniform(key, x.shape), rate);
  return mul(x, mul(keepMask, 1 / (1 - rate)));
});
