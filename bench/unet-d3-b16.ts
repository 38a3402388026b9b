/**
 * The UNet-d3-b16 training step on the project's engine: `models/unet.ts`'s U-Net (depth 3, base
 * 16, no batch norm, one input channel, two classes: 481,762 parameters), softmax probabilities,
 * generalized Dice loss + 0.01 · boundary loss, Adam. Inputs are synthetic disks with their
 * one-hot targets and signed distance maps, made once per workload (identical for every
 * contestant: the peers read the same arrays).
 */
import * as core from '../core/index.js';
import { boundaryLoss } from '../losses/boundary.js';
import { generalizedDiceLoss } from '../losses/dice.js';
import { signedDistanceMaps } from '../losses/signed-distance.js';
import { adam, type AdamState } from '../models/optim.js';
import { unet, type UNetParams } from '../models/unet.js';

/** UNet-d3-b16's configuration. */
export const UNET_D3_B16 = { inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false } as const;
/** Weight of the boundary loss in the benchmark's objective. */
export const BOUNDARY_WEIGHT = 0.01;
/** Adam's learning rate in the benchmark. */
export const LEARNING_RATE = 1e-3;

/** One batch of synthetic data, as host arrays (NCHW). */
export interface UNetBatch {
  readonly batch: number;
  readonly size: number;
  /** Images [B, 1, S, S]. */
  readonly x: Float32Array;
  /** One-hot targets [B, 2, S, S]. */
  readonly target: Float32Array;
  /** Signed distance maps [B, 2, S, S]. */
  readonly dist: Float32Array;
  /** Class labels [B, S, S]. */
  readonly labels: Uint8Array;
}

/** A deterministic batch of disks on a noisy background. */
export function unetBatch(batch: number, size: number, seed = 7): UNetBatch {
  const n = size * size;
  const labels = new Uint8Array(batch * n);
  const x = new Float32Array(batch * n);
  const noise = core.uniformArray(core.key(seed), batch * n);
  const centers = core.uniformArray(core.key(seed + 1), batch * 3);
  for (let b = 0; b < batch; b++) {
    const cy = size * (0.3 + 0.4 * centers[3 * b]!), cx = size * (0.3 + 0.4 * centers[3 * b + 1]!);
    const r = size * (0.08 + 0.15 * centers[3 * b + 2]!);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const inside = (i - cy) ** 2 + (j - cx) ** 2 <= r * r ? 1 : 0;
        labels[b * n + i * size + j] = inside;
        x[b * n + i * size + j] = 0.6 * inside + 0.4 * noise[b * n + i * size + j]!;
      }
    }
  }
  const target = new Float32Array(batch * 2 * n);
  for (let b = 0; b < batch; b++) for (let q = 0; q < n; q++) target[(b * 2 + labels[b * n + q]!) * n + q] = 1;
  const dist = signedDistanceMaps({ data: labels, shape: [batch, size, size] }, { classes: 2 }).data;
  return { batch, size, x, target, dist, labels };
}

/**
 * FLOPs of one training step by the API §6 rule (2·N·O·H'·W'·(C/groups)·kh·kw per convolution
 * pass): three passes per convolution (forward, input gradient, filter gradient), two for the
 * first one (the image needs no gradient). Elementwise work is not counted.
 */
export function unetStepFlops(batch: number, size: number): number {
  const { base, depth, inChannels, classes } = UNET_D3_B16;
  let fwd = 0;
  let firstConv = 0;
  const conv = (cin: number, cout: number, s: number, k: number) => 2 * batch * cout * s * s * cin * k * k;
  let c: number = inChannels;
  let s = size;
  for (let l = 0; l < depth; l++) {
    const o = base * 2 ** l;
    const f1 = conv(c, o, s, 3);
    if (l === 0) firstConv = f1;
    fwd += f1 + conv(o, o, s, 3);
    c = o;
    s /= 2;
  }
  const bo = base * 2 ** depth;
  fwd += conv(c, bo, s, 3) + conv(bo, bo, s, 3);
  c = bo;
  for (let l = depth - 1; l >= 0; l--) {
    const o = base * 2 ** l;
    // 2×2 stride-2 transposed convolution: the convolution it transposes maps 2s×2s×o → s×s×c
    fwd += conv(o, c, s, 2);
    s *= 2;
    fwd += conv(2 * o, o, s, 3) + conv(o, o, s, 3);
    c = o;
  }
  fwd += conv(c, classes, s, 1);
  return 3 * fwd - firstConv;
}

/** A training step bound to the selected backend. */
export interface UNetTrainer {
  /** One step (forward, loss, backward, Adam); resolves when the loss value has been read. */
  step(): Promise<number>;
  /** Releases every tensor it holds. */
  dispose(): void;
  readonly parameterCount: number;
}

/** Builds the model, optimizer and inputs on the selected backend. */
export function unetTrainer(data: UNetBatch, seed = 1): UNetTrainer {
  const model = unet(UNET_D3_B16);
  const { params: p0, state } = model.init(core.key(seed));
  const { batch, size } = data;
  const x = core.tensor(data.x, [batch, 1, size, size]);
  const target = core.tensor(data.target, [batch, 2, size, size]);
  const dist = core.tensor(data.dist, [batch, 2, size, size]);
  const opt = adam<UNetParams>({ learningRate: LEARNING_RATE });
  let params = p0;
  let optState: AdamState<UNetParams> = opt.init(params);
  const loss = (p: UNetParams): core.Tensor => {
    const [logits] = model.apply(p, state, x, { training: true });
    const probs = core.softmax(logits, 1);
    return core.add(generalizedDiceLoss(probs, target), core.mul(boundaryLoss(probs, dist), BOUNDARY_WEIGHT));
  };
  const count = model.parameterCount(params);
  return {
    parameterCount: count,
    step: async () => {
      const [value, grads] = core.valueAndGrad(loss)(params);
      const [p2, s2] = opt.update(params, grads, optState);
      core.dispose([grads, params, optState]);
      params = p2;
      optState = s2;
      const v = (await value.data())[0]!;
      value.dispose();
      return v;
    },
    dispose: () => core.dispose([params, optState, state, x, target, dist]),
  };
}
