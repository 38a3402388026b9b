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
import { adam, type AdamState, type Slots } from '../models/optim.js';
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
 * FLOPs of one training step by the benchmarks' rule (2·N·O·H'·W'·(C/groups)·kh·kw per convolution
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

/** The batch as tensors on the selected backend: what a step reads besides its parameters. */
export interface UNetInputs {
  /** Images [B, 1, S, S]. */
  readonly x: core.Tensor;
  /** One-hot targets [B, 2, S, S]. */
  readonly target: core.Tensor;
  /** Signed distance maps [B, 2, S, S]. */
  readonly dist: core.Tensor;
}

/**
 * One pure training step: parameters, Adam's slots (moments), the inputs and Adam's host scalars
 * for this step (`opt.scalars(step)`) in; the loss, the new parameters and the new slots out (the
 * caller disposes the old ones). This is what a `StepCompiler` transforms.
 */
export type UNetStep = (params: UNetParams, slots: Slots<AdamState<UNetParams>>, inputs: UNetInputs, scalars: readonly number[]) => [core.Tensor, UNetParams, Slots<AdamState<UNetParams>>];

/**
 * Turns the eager step into the function a configuration runs, with the same signature and
 * results: `eagerStep` for the eager configurations; a compiled one would be e.g.
 * ``jitStep` below (`core/jit.ts`; inputs it donated and the trainer then
 * disposes are already released: disposing is idempotent).
 */
export type StepCompiler = (step: UNetStep) => UNetStep;

/** Runs the step as written, one primitive at a time. */
export const eagerStep: StepCompiler = (step) => step;

/** Compiles the step with `jit`, donating the parameters and slots (the trainer replaces them). */
export const jitStep: StepCompiler = (step) => core.jit(step, { donate: [0, 1] });

/** A training step bound to the selected backend. */
export interface UNetTrainer {
  /** One step (forward, loss, backward, Adam); resolves when the loss value has been read. */
  step(): Promise<number>;
  /** Releases every tensor it holds. */
  dispose(): void;
  readonly parameterCount: number;
}

/** Options of `unetTrainer`. */
export interface UNetTrainerOptions {
  /** How the step runs (default `eagerStep`). */
  readonly compile?: StepCompiler;
  /**
   * Called after the step function returned and before its loss is read (the device script times
   * the submission and the GPU's work there).
   */
  readonly afterCall?: () => void | Promise<void>;
}

/**
 * Builds the model, optimizer and inputs on the selected backend; `seed` picks the initial
 * parameters.
 */
export function unetTrainer(data: UNetBatch, seed = 1, options: UNetTrainerOptions = {}): UNetTrainer {
  const model = unet(UNET_D3_B16);
  const { params: p0, state } = model.init(core.key(seed));
  const { batch, size } = data;
  const inputs: UNetInputs = {
    x: core.tensor(data.x, [batch, 1, size, size]),
    target: core.tensor(data.target, [batch, 2, size, size]),
    dist: core.tensor(data.dist, [batch, 2, size, size]),
  };
  const opt = adam<UNetParams>({ learningRate: LEARNING_RATE });
  const eager: UNetStep = (p, slots, { x, target, dist }, scalars) => {
    const loss = (q: UNetParams): core.Tensor => {
      const [logits] = model.apply(q, state, x, { training: true });
      const probs = core.softmax(logits, 1);
      return core.add(generalizedDiceLoss(probs, target), core.mul(boundaryLoss(probs, dist), BOUNDARY_WEIGHT));
    };
    const [value, grads] = core.valueAndGrad(loss)(p);
    const [p2, s2] = opt.apply(p, grads, slots, scalars);
    core.dispose(grads);
    return [value, p2, s2];
  };
  const run = (options.compile ?? eagerStep)(eager);
  let params = p0;
  let optState: AdamState<UNetParams> = opt.init(params);
  const count = model.parameterCount(params);
  return {
    parameterCount: count,
    step: async () => {
      const { step: n, ...slots } = optState;
      const [value, p2, s2] = run(params, slots, inputs, opt.scalars(n));
      core.dispose([params, optState]);
      params = p2;
      optState = { ...s2, step: n + 1 };
      await options.afterCall?.();
      const v = (await value.data())[0]!;
      value.dispose();
      return v;
    },
    dispose: () => core.dispose([params, optState, state, inputs]),
  };
}

/**
 * One way of running the project's UNet step: a backend (with its options) and how the trainer is
 * built. `bench/cpu-peers.bench.ts` times each at 64×64 and 128×128; the fastest ends in the
 * `summary:` line. A compiled configuration is one more entry, e.g.
 *
 * ```ts
 * { label: 'wasm+jit', backend: 'wasm', peer: 'pytorch', profile: true,
 *   trainer: (data) => unetTrainer(data, 1, { compile: jitStep }) },
 * ```
 *
 * (or a `trainer` that wraps a training-step factory of `models/` as a `UNetTrainer`: any
 * `(data) => UNetTrainer` will do).
 */
export interface UNetConfiguration {
  /** Printed in brackets: `wasm`, `wasm 1t`. */
  readonly label: string;
  /** The backend to select, and its options (a new set of options makes a new instance). */
  readonly backend: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Builds the trainer on the selected backend. */
  readonly trainer: (data: UNetBatch) => UNetTrainer;
  /** The peer contestant to print a ratio line against (`<label> / <peer>`). */
  readonly peer?: string;
  /** Also prints where a step's time goes (`bench/step-metrics.ts`; synchronous backends only). */
  readonly profile?: boolean;
}

/**
 * The project's configurations of the UNet step. `wasm` uses the default thread count
 * (`BOUNDARY_SEG_THREADS`, else the machine's cores); `wasm 1t` is one thread, against PyTorch on
 * one thread.
 */
export const UNET_CONFIGURATIONS: readonly UNetConfiguration[] = [
  { label: 'wasm', backend: 'wasm', trainer: (data) => unetTrainer(data), peer: 'pytorch', profile: true },
  { label: 'wasm 1t', backend: 'wasm', options: { threads: 1 }, trainer: (data) => unetTrainer(data), peer: 'pytorch 1t', profile: true },
  { label: 'wasm+jit', backend: 'wasm', trainer: (data) => unetTrainer(data, 1, { compile: jitStep }), peer: 'pytorch', profile: true },
  { label: 'wasm+jit 1t', backend: 'wasm', options: { threads: 1 }, trainer: (data) => unetTrainer(data, 1, { compile: jitStep }), peer: 'pytorch 1t', profile: true },
  { label: 'cpu', backend: 'cpu', trainer: (data) => unetTrainer(data) },
  { label: 'cpu+jit', backend: 'cpu', trainer: (data) => unetTrainer(data, 1, { compile: jitStep }) },
];
