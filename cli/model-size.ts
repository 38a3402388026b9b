/**
 * What a network and its training take in memory, estimated from the flags before anything is
 * allocated, so that a model no backend can hold (`--base 100000`) is a flag error naming the
 * flag instead of a failed allocation in the middle of a run.
 */
import { checkNetworkConfig, networkParameterCount, type NetworkConfig } from '../models/networks.js';
import type { ReferenceUNetConfig } from '../models/reference-unet.js';
import { unetParameterCount as countUNetParameters, type UNetConfig } from '../models/unet.js';

/**
 * Float32 values kept alive by a U-Net's training step per pixel of one slice and per channel of
 * the first level (activations saved for the backward pass, their gradients, the skips): a
 * conservative lower bound (the UNet-d3-b16 steps of the README measure 60–70), so that a refusal
 * is certain to be right.
 */
export const ACTIVATION_VALUES_PER_PIXEL_AND_CHANNEL = 40;

/**
 * Float32 values alive at once in a U-Net's evaluation-mode forward pass, per pixel of one slice
 * and per channel of the first level: a conservative lower bound (UNet-d3-b16 on one 1024 × 1024
 * slice peaked at 2.26 GB of resident memory on `wasm`, about 31).
 */
export const INFERENCE_VALUES_PER_PIXEL_AND_CHANNEL = 24;

/** Bytes a forward pass of a U-Net of `base` channels takes on one slice of `pixels` (a lower bound). */
export function inferenceBytes(base: number, pixels: number): number {
  return 4 * INFERENCE_VALUES_PER_PIXEL_AND_CHANNEL * base * pixels;
}

/**
 * The float32 values of the feature maps the reference network's forward pass makes, per pixel of
 * its input: every convBatch's convolution, batch norm and PReLU outputs, the bridge's residual
 * convolution, batch norm, sum and leaky ReLU, the three up-samplings, the three concatenations
 * and the logits, each at its resolution (1, 1/4, 1/16 or 1/64 of the pixels). About 52.4 × `base`
 * (+ classes). A forward pass holds them all until it ends (it runs in one scope), and a training
 * step keeps them for the backward pass.
 */
export function referenceFeatureValuesPerPixel(config: Pick<ReferenceUNetConfig, 'base' | 'classes'>): number {
  const g = config.base ?? 64;
  const block = (channels: number, resolution: number) => 3 * channels * resolution; // convolution, batch norm, PReLU
  const pair = (channels: number, resolution: number) => 2 * block(channels, resolution);
  const [r0, r1, r2, r3] = [1, 1 / 4, 1 / 16, 1 / 64];
  const encoder = pair(g, r0) + pair(2 * g, r1) + pair(4 * g, r2);
  const bridge = 3 * block(8 * g, r3) + 4 * 8 * g * r3;
  const decoder = (8 * g * r2 + pair(8 * g, r2)) + (12 * g * r2 + pair(4 * g, r2))
    + (4 * g * r1 + pair(4 * g, r1)) + (6 * g * r1 + pair(2 * g, r1))
    + (2 * g * r0 + pair(2 * g, r0)) + (3 * g * r0 + pair(g, r0));
  return encoder + bridge + decoder + config.classes;
}

/**
 * Bytes an evaluation-mode forward pass of `model` takes on one slice of `pixels` (a lower bound):
 * `inferenceBytes` for the U-Net, the feature maps of `referenceFeatureValuesPerPixel` for the
 * reference network.
 *
 * @throws InputError as `checkNetworkConfig`.
 */
export function networkInferenceBytes(model: NetworkConfig, pixels: number): number {
  const c = checkNetworkConfig(model);
  return 'arch' in c ? 4 * referenceFeatureValuesPerPixel(c) * pixels : inferenceBytes(c.base, pixels);
}

/** The parameter count of `unet(config)`, computed from the architecture alone (no tensors). */
export function unetParameterCount(config: Pick<UNetConfig, 'inChannels' | 'classes' | 'base' | 'depth' | 'batchNorm'>): number {
  return countUNetParameters(config);
}

/** The estimate of one training run's memory. */
export interface TrainingMemory {
  readonly parameters: number;
  /** Parameters, gradients, the optimizer's state and the best epoch's copy, in bytes. */
  readonly weightBytes: number;
  /** A training step's activations (a lower bound), in bytes. */
  readonly activationBytes: number;
}

/**
 * Estimates the memory of training `model` on `batch` slices of `height × width` with `optimizer`.
 * Activations: `ACTIVATION_VALUES_PER_PIXEL_AND_CHANNEL` per pixel and base channel for the U-Net;
 * for the reference network its feature maps (`referenceFeatureValuesPerPixel`) and at least as
 * many gradient values.
 *
 * @throws InputError as `checkNetworkConfig`.
 */
export function trainingMemory(model: NetworkConfig, optimizer: 'adam' | 'sgd', batch: number, height: number, width: number): TrainingMemory {
  const c = checkNetworkConfig(model);
  const parameters = networkParameterCount(c);
  const copies = optimizer === 'adam' ? 5 : 4;
  const perPixel = 'arch' in c ? 2 * referenceFeatureValuesPerPixel(c) : ACTIVATION_VALUES_PER_PIXEL_AND_CHANNEL * c.base;
  return {
    parameters,
    weightBytes: 4 * copies * parameters,
    activationBytes: 4 * perPixel * batch * height * width,
  };
}

/** Bytes in words: `4.0 GiB`, `312 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 40) return `${(bytes / 2 ** 40).toPrecision(3)} TiB`;
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
