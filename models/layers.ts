/**
 * Layers as pure functions of parameter trees: each takes its parameters (and state, for batch
 * norm) explicitly and returns new tensors, never mutating anything. The U-Net is composed of
 * these; other models can be too.
 */
import { batchNorm, conv2d, conv2dTranspose, dropout, maxPool2d, softmax, type BatchNormParams, type BatchNormState } from '../core/nn.js';
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { add, leakyRelu, relu, reshape } from '../core/ops.js';
import type { RandomKey } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';

/** A convolution's parameters: filter `w` [O, C, kh, kw] and bias `b` [O]. */
export interface ConvLayerParams {
  readonly w: Tensor;
  readonly b: Tensor;
}

/** A transposed convolution's parameters: filter `w` [Cin, Cout, kh, kw] (PyTorch's layout) and bias `b` [Cout]. */
export interface ConvTransposeLayerParams {
  readonly w: Tensor;
  readonly b: Tensor;
}

/** The activations the layers offer. */
export type Activation = 'relu' | 'leakyRelu';

/** Adds a per-channel bias [C] to x [N, C, H, W]. */
function addBias(x: Tensor, b: Tensor): Tensor {
  return add(x, reshape(b, [1, b.shape[0]!, 1, 1]));
}

const CONV_LAYER_KEYS: readonly string[] = ['padding'];
const CONV_TRANSPOSE_LAYER_KEYS: readonly string[] = ['stride'];

/**
 * Convolution with bias: x [N, C, H, W] → [N, O, H', W'] (`padding` as `conv2d`, default 0).
 *
 * @throws InputError naming an unknown option key.
 */
export function conv(p: ConvLayerParams, x: Tensor, options: { readonly padding?: number } = {}): Tensor {
  checkOptionKeys('conv', options, CONV_LAYER_KEYS);
  return addBias(conv2d(x, p.w, { padding: options.padding ?? 0 }), p.b);
}

/**
 * Transposed convolution with bias (e.g. 2×2, stride 2: doubles H and W).
 *
 * @throws InputError naming an unknown option key.
 */
export function convTranspose(p: ConvTransposeLayerParams, x: Tensor, options: { readonly stride?: number } = {}): Tensor {
  checkOptionKeys('convTranspose', options, CONV_TRANSPOSE_LAYER_KEYS);
  return addBias(conv2dTranspose(x, p.w, { stride: options.stride ?? 1 }), p.b);
}

/**
 * Batch normalisation over channels: batch statistics and updated running statistics in
 * training, running statistics (state unchanged) in evaluation.
 */
export function norm(p: BatchNormParams, state: BatchNormState, x: Tensor, training: boolean): [Tensor, BatchNormState] {
  return batchNorm(x, p, state, { training });
}

/** The activation `kind` (leaky ReLU with slope 0.01). */
export function activate(x: Tensor, kind: Activation = 'relu'): Tensor {
  return kind === 'relu' ? relu(x) : leakyRelu(x, 0.01);
}

/** 2×2 max pooling with stride 2 (the U-Net's down-sampling). */
export function pool2(x: Tensor): Tensor {
  return maxPool2d(x, { size: 2 });
}

/**
 * Inverted dropout in training; the identity in evaluation.
 *
 * @throws InputError (`key`) in training with `rate` > 0 and no key: randomness is never implicit.
 */
export function drop(x: Tensor, rate: number, training: boolean, key: RandomKey | undefined): Tensor {
  if (!training || rate === 0) return x;
  if (key === undefined) throw new InputError('dropout', 'key', `training with dropout rate ${rate} needs a random key (apply(..., { training: true, key }))`);
  return dropout(x, rate, key);
}

/** The segmentation head's class probabilities: softmax over the class axis 1 of logits [N, K, H, W]. */
export function classProbabilities(logits: Tensor): Tensor {
  return softmax(logits, 1);
}
