/**
 * The reference network: the `UNet` class of the authors' `networks.py` (repository
 * LIVIAETS/boundary-loss, with its blocks from `models/unet.py`), rebuilt from pure layers.
 *
 * Blocks (g = `base`, 64 in the reference):
 * - `convBatch(cin, cout, stride)`: 3×3 convolution without bias (padding 1, stride 1 or 2), batch
 *   norm, PReLU. PyTorch's `nn.PReLU()` there has its default `num_parameters = 1`: one learnable
 *   slope per block (shared by its channels), initialised to 0.25.
 * - `residualConv(c, c)`: `convBatch(c, c)`, then a 3×3 convolution *with* bias and a batch norm;
 *   the input is added (identity: in = out channels) and leaky ReLU with slope 0.2 applied.
 * - up-sampling: nearest-neighbour ×2.
 *
 * Layers, in order (parameter names as in PyTorch's module tree):
 * | name      | layers                                                     | resolution |
 * |-----------|------------------------------------------------------------|------------|
 * | `conv0`   | convBatch(in, g), convBatch(g, g)                           | 1          |
 * | `conv1`   | convBatch(g, 2g, stride 2), convBatch(2g, 2g)               | 1/2        |
 * | `conv2`   | convBatch(2g, 4g, stride 2), convBatch(4g, 4g)              | 1/4        |
 * | `bridge`  | convBatch(4g, 8g, stride 2), residualConv(8g, 8g), convBatch(8g, 8g) | 1/8 |
 * | `deconv1` | nearest ×2, convBatch(8g, 8g), convBatch(8g, 8g)            | 1/4        |
 * | `conv5`   | on [deconv1, conv2] (12g): convBatch(12g, 4g), convBatch(4g, 4g) | 1/4   |
 * | `deconv2` | nearest ×2, convBatch(4g, 4g), convBatch(4g, 4g)            | 1/2        |
 * | `conv6`   | on [deconv2, conv1] (6g): convBatch(6g, 2g), convBatch(2g, 2g) | 1/2     |
 * | `deconv3` | nearest ×2, convBatch(2g, 2g), convBatch(2g, 2g)            | 1          |
 * | `conv7`   | on [deconv3, conv0] (3g): convBatch(3g, g), convBatch(g, g) | 1          |
 * | `final`   | 1×1 convolution with bias, g → classes                     | 1          |
 *
 * Each convBatch(a, b) holds 9ab + 2b + 1 parameters (filter, batch-norm γ and β, one slope); the
 * residual's second convolution 9c² + c, its batch norm 2c; the head g·K + K. For 1 input channel,
 * 2 classes and g = 64 that is 18,702,551 parameters, PyTorch's count of the authors' `UNet(1, 2)`
 * (a slope per channel would give 18,707,650; a residual convolution without bias 18,702,039).
 *
 * Initialisation (the reference's `random_weights_init`): Xavier-normal convolution filters (std
 * √(2 / (fan-in + fan-out)), fans C·k² and O·k²), batch-norm γ ~ N(1, 0.02) and β = 0, PReLU
 * slopes 0.25. The two biases (residual convolution, head) start at zero here (PyTorch leaves them
 * at its default uniform ±1/√fan-in). Running statistics start at mean 0, variance 1; batch norm
 * uses momentum 0.1 and ε = 1e-5, as PyTorch.
 *
 * Inputs must have H and W divisible by 8.
 */
import { InputError, ShapeError, showShape } from '../core/errors.js';
import { conv2d, upsampleNearest, type BatchNormParams, type BatchNormState } from '../core/nn.js';
import { add, concat, full, greater, leakyRelu, mul, ones, reshape, where, zeros } from '../core/ops.js';
import { checkOptionKeys } from '../core/options.js';
import { foldIn, normal, type RandomKey } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { conv, norm, type ConvLayerParams } from './layers.js';
import { configPositiveInt, countScalars, type ApplyOptions, type Model } from './model.js';

/**
 * The reference network's architecture (stored in checkpoints, tagged `arch: 'reference'` there:
 * see `NetworkConfig`).
 */
export interface ReferenceUNetConfig {
  /** The network's tag among the networks: `'reference'` (optional here, filled in by the check). */
  readonly arch?: 'reference';
  /** Image channels (modalities). */
  readonly inChannels: number;
  /** Output classes (background included). */
  readonly classes: number;
  /** Channels at full resolution (`nG`, 64); the levels below have 2, 4 and 8 times as many. */
  readonly base?: number;
}

/** The keys of `ReferenceUNetConfig`, in its order. */
export const REFERENCE_UNET_CONFIG_KEYS: readonly (keyof ReferenceUNetConfig)[] = Object.freeze(['arch', 'inChannels', 'classes', 'base'] as const);

/** The keys of `ApplyOptions`. */
const APPLY_KEYS: readonly (keyof ApplyOptions)[] = ['training', 'key'];

/** A `convBatch`: 3×3 filter `w` [O, C, 3, 3] (no bias), batch norm `bn`, PReLU `slope` [1]. */
export interface ConvBatchParams {
  readonly w: Tensor;
  readonly bn: BatchNormParams;
  readonly slope: Tensor;
}

/** A `convBatch`'s running statistics. */
export interface ConvBatchState {
  readonly bn: BatchNormState;
}

/** The bridge's residual block: a convBatch, then a 3×3 convolution with bias and a batch norm. */
export interface ResidualParams {
  readonly conv: ConvBatchParams;
  readonly conv2: ConvLayerParams;
  readonly bn2: BatchNormParams;
}

/** The residual block's running statistics. */
export interface ResidualState {
  readonly conv: ConvBatchState;
  readonly bn2: BatchNormState;
}

/** The bridge: a stride-2 convBatch, the residual block, a convBatch. */
export interface BridgeParams {
  readonly down: ConvBatchParams;
  readonly residual: ResidualParams;
  readonly out: ConvBatchParams;
}

/** The bridge's running statistics. */
export interface BridgeState {
  readonly down: ConvBatchState;
  readonly residual: ResidualState;
  readonly out: ConvBatchState;
}

/** Two convBatch blocks in sequence. */
export type ConvPairParams = readonly [ConvBatchParams, ConvBatchParams];

/** Two convBatch blocks' running statistics. */
export type ConvPairState = readonly [ConvBatchState, ConvBatchState];

/** The reference network's parameters, named as the PyTorch modules. */
export interface ReferenceUNetParams {
  readonly conv0: ConvPairParams;
  readonly conv1: ConvPairParams;
  readonly conv2: ConvPairParams;
  readonly bridge: BridgeParams;
  readonly deconv1: ConvPairParams;
  readonly conv5: ConvPairParams;
  readonly deconv2: ConvPairParams;
  readonly conv6: ConvPairParams;
  readonly deconv3: ConvPairParams;
  readonly conv7: ConvPairParams;
  readonly final: ConvLayerParams;
}

/** The reference network's state: the running statistics of every batch norm. */
export interface ReferenceUNetState {
  readonly conv0: ConvPairState;
  readonly conv1: ConvPairState;
  readonly conv2: ConvPairState;
  readonly bridge: BridgeState;
  readonly deconv1: ConvPairState;
  readonly conv5: ConvPairState;
  readonly deconv2: ConvPairState;
  readonly conv6: ConvPairState;
  readonly deconv3: ConvPairState;
  readonly conv7: ConvPairState;
}

/** The reference network as a model. */
export type ReferenceUNet = Model<Required<ReferenceUNetConfig>, ReferenceUNetParams, ReferenceUNetState>;

/** The names of the convBatch pairs, in forward order (the bridge sits between `conv2` and `deconv1`). */
const PAIRS = ['conv0', 'conv1', 'conv2', 'deconv1', 'conv5', 'deconv2', 'conv6', 'deconv3', 'conv7'] as const;
type PairName = (typeof PAIRS)[number];

/** A convBatch's input and output channels, and stride. */
interface ConvBatchShape {
  readonly cin: number;
  readonly cout: number;
  readonly stride: 1 | 2;
}

/** The convBatch pairs' geometry for a config. */
function pairShapes(c: Required<ReferenceUNetConfig>): Record<PairName, readonly [ConvBatchShape, ConvBatchShape]> {
  const g = c.base;
  const pair = (cin: number, cout: number, stride: 1 | 2 = 1): readonly [ConvBatchShape, ConvBatchShape] => [{ cin, cout, stride }, { cin: cout, cout, stride: 1 }];
  return {
    conv0: pair(c.inChannels, g),
    conv1: pair(g, 2 * g, 2),
    conv2: pair(2 * g, 4 * g, 2),
    deconv1: pair(8 * g, 8 * g),
    conv5: pair(12 * g, 4 * g),
    deconv2: pair(4 * g, 4 * g),
    conv6: pair(6 * g, 2 * g),
    deconv3: pair(2 * g, 2 * g),
    conv7: pair(3 * g, g),
  };
}

/**
 * Checks a config and fills its defaults (`base` 64, `arch` `'reference'`).
 *
 * @throws InputError naming the field that is missing or out of range, or an unknown key;
 * `config.arch` when it is given and is not `'reference'`.
 */
export function checkReferenceUNetConfig(config: ReferenceUNetConfig): Required<ReferenceUNetConfig> {
  if (config === null || typeof config !== 'object') throw new InputError('referenceUNet', 'config', 'expected an object');
  checkOptionKeys('referenceUNet', config, REFERENCE_UNET_CONFIG_KEYS, 'config');
  if (config.arch !== undefined && config.arch !== 'reference') throw new InputError('referenceUNet', 'config.arch', `expected 'reference' or no arch, got ${JSON.stringify(config.arch)}`);
  return {
    arch: 'reference',
    inChannels: configPositiveInt('referenceUNet', 'inChannels', config.inChannels),
    classes: configPositiveInt('referenceUNet', 'classes', config.classes),
    base: configPositiveInt('referenceUNet', 'base', config.base ?? 64),
  };
}

/**
 * The names and shapes of the reference network's parameters, in `namedLeaves` order of its
 * `init`, computed without allocating any tensor (the count of `base` 64 is 18.7M scalars).
 *
 * @throws InputError as `checkReferenceUNetConfig`.
 */
export function referenceParameterShapes(config: ReferenceUNetConfig): Array<[string, number[]]> {
  const c = checkReferenceUNetConfig(config);
  const out: Array<[string, number[]]> = [];
  const convBatch = (prefix: string, s: ConvBatchShape) => {
    out.push([`${prefix}.w`, [s.cout, s.cin, 3, 3]], [`${prefix}.bn.gamma`, [s.cout]], [`${prefix}.bn.beta`, [s.cout]], [`${prefix}.slope`, [1]]);
  };
  const shapes = pairShapes(c);
  const g8 = 8 * c.base;
  for (const name of PAIRS) {
    if (name === 'deconv1') {
      convBatch('bridge.down', { cin: 4 * c.base, cout: g8, stride: 2 });
      convBatch('bridge.residual.conv', { cin: g8, cout: g8, stride: 1 });
      out.push(['bridge.residual.conv2.w', [g8, g8, 3, 3]], ['bridge.residual.conv2.b', [g8]], ['bridge.residual.bn2.gamma', [g8]], ['bridge.residual.bn2.beta', [g8]]);
      convBatch('bridge.out', { cin: g8, cout: g8, stride: 1 });
    }
    shapes[name].forEach((s, i) => convBatch(`${name}.${i}`, s));
  }
  out.push(['final.w', [c.classes, c.base, 1, 1]], ['final.b', [c.classes]]);
  return out;
}

/** The number of learned scalars of the reference network for `config`, from the shapes alone. */
export function referenceParameterCount(config: ReferenceUNetConfig): number {
  return referenceParameterShapes(config).reduce((n, [, shape]) => n + shape.reduce((a, d) => a * d, 1), 0);
}

/** A Xavier-normal filter [O, C, k, k]: std √(2 / (C·k² + O·k²)). */
function xavierNormal(key: RandomKey, cout: number, cin: number, k: number): Tensor {
  return normal(key, [cout, cin, k, k], 0, Math.sqrt(2 / ((cin + cout) * k * k)));
}

/** Batch-norm parameters as the reference initialises them: γ ~ N(1, 0.02), β = 0. */
function initBatchNorm(key: RandomKey, c: number): BatchNormParams {
  return { gamma: normal(key, [c], 1, 0.02), beta: zeros([c]) };
}

/** Fresh running statistics: mean 0, variance 1. */
function initStats(c: number): BatchNormState {
  return { mean: zeros([c]), variance: ones([c]) };
}

function initConvBatch(key: RandomKey, s: ConvBatchShape): { params: ConvBatchParams; state: ConvBatchState } {
  return {
    params: { w: xavierNormal(foldIn(key, 1), s.cout, s.cin, 3), bn: initBatchNorm(foldIn(key, 2), s.cout), slope: full([1], 0.25) },
    state: { bn: initStats(s.cout) },
  };
}

/** PReLU with one slope [1] for all channels: x where x > 0, slope·x elsewhere. */
function prelu(x: Tensor, slope: Tensor): Tensor {
  return where(greater(x, 0), x, mul(x, reshape(slope, [1, 1, 1, 1])));
}

/**
 * Builds the reference network; `init`, `apply` and `parameterCount` are pure.
 *
 * @throws InputError as `checkReferenceUNetConfig` (an unknown config key included).
 */
export function referenceUNet(config: ReferenceUNetConfig): ReferenceUNet {
  const c = checkReferenceUNetConfig(config);
  const shapes = pairShapes(c);
  const g8 = 8 * c.base;

  const convBatch = (p: ConvBatchParams, s: ConvBatchState, x: Tensor, stride: 1 | 2, training: boolean): [Tensor, ConvBatchState] => {
    const [h, bn] = norm(p.bn, s.bn, conv2d(x, p.w, { stride, padding: 1 }), training);
    return [prelu(h, p.slope), { bn }];
  };

  const pair = (name: PairName, p: ConvPairParams, s: ConvPairState, x: Tensor, training: boolean): [Tensor, ConvPairState] => {
    const [a, sa] = convBatch(p[0], s[0], x, shapes[name][0].stride, training);
    const [b, sb] = convBatch(p[1], s[1], a, 1, training);
    return [b, [sa, sb]];
  };

  const bridge = (p: BridgeParams, s: BridgeState, x: Tensor, training: boolean): [Tensor, BridgeState] => {
    const [d, sd] = convBatch(p.down, s.down, x, 2, training);
    const [r1, sr1] = convBatch(p.residual.conv, s.residual.conv, d, 1, training);
    const [r2, sbn2] = norm(p.residual.bn2, s.residual.bn2, conv(p.residual.conv2, r1, { padding: 1 }), training);
    const r = leakyRelu(add(r2, d), 0.2);
    const [o, so] = convBatch(p.out, s.out, r, 1, training);
    return [o, { down: sd, residual: { conv: sr1, bn2: sbn2 }, out: so }];
  };

  return {
    config: c,
    init(key) {
      const pairs = {} as Record<PairName, { params: ConvPairParams; state: ConvPairState }>;
      PAIRS.forEach((name, i) => {
        const k = foldIn(key, 100 + i);
        const a = initConvBatch(foldIn(k, 0), shapes[name][0]);
        const b = initConvBatch(foldIn(k, 1), shapes[name][1]);
        pairs[name] = { params: [a.params, b.params], state: [a.state, b.state] };
      });
      const kb = foldIn(key, 200);
      const down = initConvBatch(foldIn(kb, 0), { cin: 4 * c.base, cout: g8, stride: 2 });
      const rconv = initConvBatch(foldIn(kb, 1), { cin: g8, cout: g8, stride: 1 });
      const conv2 = { w: xavierNormal(foldIn(kb, 2), g8, g8, 3), b: zeros([g8]) };
      const bn2 = initBatchNorm(foldIn(kb, 3), g8);
      const out = initConvBatch(foldIn(kb, 4), { cin: g8, cout: g8, stride: 1 });
      const final = { w: xavierNormal(foldIn(key, 300), c.classes, c.base, 1), b: zeros([c.classes]) };
      const p = (name: PairName) => pairs[name].params;
      const s = (name: PairName) => pairs[name].state;
      return {
        params: {
          conv0: p('conv0'), conv1: p('conv1'), conv2: p('conv2'),
          bridge: { down: down.params, residual: { conv: rconv.params, conv2, bn2 }, out: out.params },
          deconv1: p('deconv1'), conv5: p('conv5'), deconv2: p('deconv2'), conv6: p('conv6'), deconv3: p('deconv3'), conv7: p('conv7'),
          final,
        },
        state: {
          conv0: s('conv0'), conv1: s('conv1'), conv2: s('conv2'),
          bridge: { down: down.state, residual: { conv: rconv.state, bn2: initStats(g8) }, out: out.state },
          deconv1: s('deconv1'), conv5: s('conv5'), deconv2: s('deconv2'), conv6: s('conv6'), deconv3: s('deconv3'), conv7: s('conv7'),
        },
      };
    },
    apply(params, state, x, options: ApplyOptions) {
      checkOptionKeys('referenceUNet', options, APPLY_KEYS);
      if (typeof options?.training !== 'boolean') throw new InputError('referenceUNet', 'options.training', `expected a boolean, got ${options === undefined ? 'no options' : String(options.training)}`);
      if (x.rank !== 4 || x.shape[1] !== c.inChannels) {
        throw new ShapeError('referenceUNet', 'x', `expected images [N, ${c.inChannels}, H, W], got ${showShape(x.shape)}`);
      }
      if (x.shape[2]! % 8 !== 0 || x.shape[3]! % 8 !== 0) {
        throw new ShapeError('referenceUNet', 'x', `H and W must be multiples of 8 (three stride-2 steps), got ${showShape(x.shape)}`);
      }
      const t = options.training;
      const up = (h: Tensor) => upsampleNearest(h, 2);
      const [x0, s0] = pair('conv0', params.conv0, state.conv0, x, t);
      const [x1, s1] = pair('conv1', params.conv1, state.conv1, x0, t);
      const [x2, s2] = pair('conv2', params.conv2, state.conv2, x1, t);
      const [b, sb] = bridge(params.bridge, state.bridge, x2, t);
      const [y0, sd1] = pair('deconv1', params.deconv1, state.deconv1, up(b), t);
      const [z0, s5] = pair('conv5', params.conv5, state.conv5, concat([y0, x2], 1), t);
      const [y1, sd2] = pair('deconv2', params.deconv2, state.deconv2, up(z0), t);
      const [z1, s6] = pair('conv6', params.conv6, state.conv6, concat([y1, x1], 1), t);
      const [y2, sd3] = pair('deconv3', params.deconv3, state.deconv3, up(z1), t);
      const [y3, s7] = pair('conv7', params.conv7, state.conv7, concat([y2, x0], 1), t);
      const next: ReferenceUNetState = { conv0: s0, conv1: s1, conv2: s2, bridge: sb, deconv1: sd1, conv5: s5, deconv2: sd2, conv6: s6, deconv3: sd3, conv7: s7 };
      return [conv(params.final, y3), next];
    },
    parameterCount: (params) => countScalars(params),
  };
}
