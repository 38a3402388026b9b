/**
 * Weight initialisation from the project's random keys (no hidden randomness): He (Kaiming)
 * normal for ReLU networks, Xavier (Glorot) uniform as the alternative; biases start at zero.
 */
import { InputError } from '../core/errors.js';
import { zeros } from '../core/ops.js';
import { normal, uniform, type RandomKey } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';

/** The initialisation schemes. */
export type InitScheme = 'he' | 'xavier';

/**
 * A filter of `shape` with fan-in `fanIn` and fan-out `fanOut` (the number of inputs that reach
 * one output, and of outputs one input reaches):
 * - `he`: normal with std √(2 / fanIn) (Kaiming, for ReLU);
 * - `xavier`: uniform on ±√(6 / (fanIn + fanOut)) (Glorot).
 */
export function initFilter(scheme: InitScheme, key: RandomKey, shape: readonly number[], fanIn: number, fanOut: number): Tensor {
  if (scheme === 'he') return normal(key, shape, 0, Math.sqrt(2 / fanIn));
  if (scheme === 'xavier') {
    const a = Math.sqrt(6 / (fanIn + fanOut));
    return uniform(key, shape, -a, a);
  }
  throw new InputError('initFilter', 'scheme', `expected 'he' or 'xavier', got ${JSON.stringify(scheme)}`);
}

/** A convolution filter [O, C, k, k] (fan-in C·k², fan-out O·k²) and a zero bias [O]. */
export function initConv(scheme: InitScheme, key: RandomKey, inChannels: number, outChannels: number, k: number): { w: Tensor; b: Tensor } {
  const w = initFilter(scheme, key, [outChannels, inChannels, k, k], inChannels * k * k, outChannels * k * k);
  return { w, b: zeros([outChannels]) };
}

/**
 * A transposed-convolution filter [Cin, Cout, k, k] with stride `stride` and a zero bias [Cout].
 * Each output receives Cin·k²/stride² inputs (Cin for the U-Net's 2×2, stride 2), the fan-in.
 */
export function initConvTranspose(scheme: InitScheme, key: RandomKey, inChannels: number, outChannels: number, k: number, stride: number): { w: Tensor; b: Tensor } {
  const reach = Math.max(1, (k * k) / (stride * stride));
  const w = initFilter(scheme, key, [inChannels, outChannels, k, k], inChannels * reach, outChannels * reach);
  return { w, b: zeros([outChannels]) };
}
