/**
 * What a U-Net and its training take in memory, estimated from the flags before anything is
 * allocated, so that a model no backend can hold (`--base 100000`) is a flag error naming the
 * flag instead of a failed allocation in the middle of a run.
 */
import type { UNetConfig } from '../models/unet.js';

/**
 * Float32 values kept alive by a training step per pixel of one slice and per channel of the
 * first level (activations saved for the backward pass, their gradients, the skips): a
 * conservative lower bound (the UNet-d3-b16 steps of the README measure 60–70), so that a refusal
 * is certain to be right.
 */
export const ACTIVATION_VALUES_PER_PIXEL_AND_CHANNEL = 40;

/**
 * Float32 values alive at once in an evaluation-mode forward pass, per pixel of one slice and per
 * channel of the first level: a conservative lower bound (UNet-d3-b16 on one 1024 × 1024 slice
 * peaked at 2.26 GB of resident memory on `wasm`, about 31).
 */
export const INFERENCE_VALUES_PER_PIXEL_AND_CHANNEL = 24;

/** Bytes a forward pass of a U-Net of `base` channels takes on one slice of `pixels` (a lower bound). */
export function inferenceBytes(base: number, pixels: number): number {
  return 4 * INFERENCE_VALUES_PER_PIXEL_AND_CHANNEL * base * pixels;
}

/** The parameter count of `unet(config)`, computed from the architecture alone (no tensors). */
export function unetParameterCount(config: Pick<UNetConfig, 'inChannels' | 'classes' | 'base' | 'depth' | 'batchNorm'>): number {
  const { inChannels, classes, base, depth, batchNorm } = config;
  const width = (level: number) => base * 2 ** level;
  const double = (cin: number, cout: number) => 9 * cin * cout + cout + 9 * cout * cout + cout + (batchNorm ? 4 * cout : 0);
  let n = 0;
  for (let i = 0; i < depth; i++) n += double(i === 0 ? inChannels : width(i - 1), width(i));
  n += double(width(depth - 1), width(depth));
  for (let level = depth - 1; level >= 0; level--) n += 4 * width(level + 1) * width(level) + width(level) + double(2 * width(level), width(level));
  return n + width(0) * classes + classes;
}

/** The estimate of one training run's memory. */
export interface TrainingMemory {
  readonly parameters: number;
  /** Parameters, gradients, the optimizer's state and the best epoch's copy, in bytes. */
  readonly weightBytes: number;
  /** A training step's activations (a lower bound), in bytes. */
  readonly activationBytes: number;
}

/** Estimates the memory of training `model` on `batch` slices of `height × width` with `optimizer`. */
export function trainingMemory(model: Pick<UNetConfig, 'inChannels' | 'classes' | 'base' | 'depth' | 'batchNorm'>, optimizer: 'adam' | 'sgd', batch: number, height: number, width: number): TrainingMemory {
  const parameters = unetParameterCount(model);
  const copies = optimizer === 'adam' ? 5 : 4;
  return {
    parameters,
    weightBytes: 4 * copies * parameters,
    activationBytes: 4 * ACTIVATION_VALUES_PER_PIXEL_AND_CHANNEL * batch * height * width * model.base,
  };
}

/** Bytes in words: `4.0 GiB`, `312 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 40) return `${(bytes / 2 ** 40).toPrecision(3)} TiB`;
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
