/**
 * The U-Net (Ronneberger et al. 2015) as the paper trains it, parameterised: `depth` 2×
 * down-samplings, `base` channels at the first level doubling per level, two 3×3 convolutions
 * (bias, padding 1, activation, optional batch norm before the activation) per level, 2×2 max
 * pooling, 2×2 stride-2 transposed convolutions (with bias) up, concatenation [up, skip], and a
 * 1×1 convolution head giving the class logits.
 *
 * The paper's network is `unet({ inChannels, classes, base: 64, depth: 4, batchNorm: true })`;
 * UNet-d3-b16 (`base: 16, depth: 3, batchNorm: false`, one input channel, two classes) has
 * 481,762 parameters.
 */
import { InputError, ShapeError, showShape } from '../core/errors.js';
import { type BatchNormParams, type BatchNormState } from '../core/nn.js';
import { concat, ones, zeros } from '../core/ops.js';
import { checkOptionKeys } from '../core/options.js';
import { foldIn, type RandomKey } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { initConv, initConvTranspose, type InitScheme } from './init.js';
import { activate, conv, convTranspose, drop, norm, pool2, type Activation, type ConvLayerParams, type ConvTransposeLayerParams } from './layers.js';
import { configPositiveInt, countScalars, type ApplyOptions, type Model } from './model.js';

/**
 * The U-Net's architecture (stored in checkpoints; two nets are compatible when these agree).
 * `arch` tags it among the networks (`NetworkConfig`); absent means the U-Net, so configs and
 * checkpoints written before there was a choice keep their meaning.
 */
export interface UNetConfig {
  /** The network: absent or `'unet'`. */
  readonly arch?: 'unet';
  /** Image channels (modalities). */
  readonly inChannels: number;
  /** Output classes (background included). */
  readonly classes: number;
  /** Channels of the first level; level i has base·2^i, the bottleneck base·2^depth. */
  readonly base: number;
  /** Number of 2× down-samplings (≥ 1); inputs must have H and W divisible by 2^depth. */
  readonly depth: number;
  /** Batch norm after each 3×3 convolution. */
  readonly batchNorm: boolean;
  /** Dropout rate at the bottleneck in training (0). */
  readonly dropout?: number;
  /** Activation after each 3×3 convolution ('relu'). */
  readonly activation?: Activation;
  /** Filter initialisation ('he'). */
  readonly init?: InitScheme;
}

/** The keys of `UNetConfig`, in its order. */
export const UNET_CONFIG_KEYS: readonly (keyof UNetConfig)[] = Object.freeze(['arch', 'inChannels', 'classes', 'base', 'depth', 'batchNorm', 'dropout', 'activation', 'init'] as const);

/** The keys of `ApplyOptions`. */
const APPLY_KEYS: readonly (keyof ApplyOptions)[] = ['training', 'key'];

/** Two 3×3 convolutions (with their batch norms when enabled). */
export interface DoubleConvParams {
  readonly conv1: ConvLayerParams;
  readonly conv2: ConvLayerParams;
  readonly bn1?: BatchNormParams;
  readonly bn2?: BatchNormParams;
}

/** Running statistics of a double convolution's batch norms (empty without batch norm). */
export interface DoubleConvState {
  readonly bn1?: BatchNormState;
  readonly bn2?: BatchNormState;
}

/** A decoder level: the transposed convolution up, then a double convolution. */
export interface UpParams extends DoubleConvParams {
  readonly up: ConvTransposeLayerParams;
}

/** The U-Net's parameters. `up[0]` is the deepest decoder level. */
export interface UNetParams {
  readonly down: readonly DoubleConvParams[];
  readonly bottleneck: DoubleConvParams;
  readonly up: readonly UpParams[];
  readonly head: ConvLayerParams;
}

/** The U-Net's state: batch-norm running statistics, one entry per double convolution. */
export interface UNetState {
  readonly down: readonly DoubleConvState[];
  readonly bottleneck: DoubleConvState;
  readonly up: readonly DoubleConvState[];
}

/** A U-Net model. */
export type UNet = Model<UNetConfig, UNetParams, UNetState>;

/** A U-Net config with every default filled in; without `arch` (absent means the U-Net). */
export type FullUNetConfig = Required<Omit<UNetConfig, 'arch'>>;

/**
 * Checks a config and fills its defaults. The result has no `arch` (the U-Net's canonical form,
 * as checkpoints store it).
 *
 * @throws InputError naming the field that is missing or out of range, or an unknown key
 * (`config.batchnorm`: unknown option 'batchnorm' (did you mean 'batchNorm'?)); `config.arch`
 * when it is given and is not `'unet'`.
 */
export function checkUNetConfig(config: UNetConfig): FullUNetConfig {
  if (config === null || typeof config !== 'object') throw new InputError('unet', 'config', 'expected an object');
  checkOptionKeys('unet', config, UNET_CONFIG_KEYS, 'config');
  if (config.arch !== undefined && config.arch !== 'unet') throw new InputError('unet', 'config.arch', `expected 'unet' or no arch, got ${JSON.stringify(config.arch)}`);
  const dropout = config.dropout ?? 0;
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) throw new InputError('unet', 'config.dropout', `expected a rate in [0, 1), got ${String(dropout)}`);
  const activation = config.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'leakyRelu') throw new InputError('unet', 'config.activation', `expected 'relu' or 'leakyRelu', got ${JSON.stringify(activation)}`);
  const init = config.init ?? 'he';
  if (init !== 'he' && init !== 'xavier') throw new InputError('unet', 'config.init', `expected 'he' or 'xavier', got ${JSON.stringify(init)}`);
  if (typeof config.batchNorm !== 'boolean') throw new InputError('unet', 'config.batchNorm', `expected a boolean, got ${String(config.batchNorm)}`);
  const depth = configPositiveInt('unet', 'depth', config.depth);
  if (depth > 8) throw new InputError('unet', 'config.depth', `expected at most 8 down-samplings, got ${depth}`);
  return {
    inChannels: configPositiveInt('unet', 'inChannels', config.inChannels),
    classes: configPositiveInt('unet', 'classes', config.classes),
    base: configPositiveInt('unet', 'base', config.base),
    depth,
    batchNorm: config.batchNorm,
    dropout,
    activation,
    init,
  };
}

/**
 * The number of learned scalars of `unet(config)`, from the architecture alone (no tensor is
 * allocated): UNet-d3-b16 without batch norm, one channel and two classes has 481,762.
 *
 * @throws InputError as `checkUNetConfig`.
 */
export function unetParameterCount(config: UNetConfig): number {
  const { inChannels, classes, base, depth, batchNorm } = checkUNetConfig(config);
  const width = (level: number) => base * 2 ** level;
  const double = (cin: number, cout: number) => 9 * cin * cout + cout + 9 * cout * cout + cout + (batchNorm ? 4 * cout : 0);
  let n = 0;
  for (let i = 0; i < depth; i++) n += double(i === 0 ? inChannels : width(i - 1), width(i));
  n += double(width(depth - 1), width(depth));
  for (let level = depth - 1; level >= 0; level--) n += 4 * width(level + 1) * width(level) + width(level) + double(2 * width(level), width(level));
  return n + width(0) * classes + classes;
}

/**
 * Builds a U-Net; `init`, `apply` and `parameterCount` are pure.
 *
 * @example
 * import { unet, key, zeros } from 'boundary-seg';
 *
 * const net = unet({ inChannels: 1, classes: 2, base: 4, depth: 2, batchNorm: false });
 * const { params, state } = net.init(key(0));
 * const [logits] = net.apply(params, state, zeros([1, 1, 16, 16]), { training: false });
 * console.log(logits.shape, net.parameterCount(params)); // [1, 2, 16, 16] …
 *
 * @throws InputError as `checkUNetConfig` (an unknown config key included).
 */
export function unet(config: UNetConfig): UNet {
  const c = checkUNetConfig(config);
  const width = (level: number) => c.base * 2 ** level;

  const initDouble = (k: RandomKey, cin: number, cout: number): { params: DoubleConvParams; state: DoubleConvState } => {
    const conv1 = initConv(c.init, foldIn(k, 1), cin, cout, 3);
    const conv2 = initConv(c.init, foldIn(k, 2), cout, cout, 3);
    if (!c.batchNorm) return { params: { conv1, conv2 }, state: {} };
    const bn = () => ({ gamma: ones([cout]), beta: zeros([cout]) });
    const stats = () => ({ mean: zeros([cout]), variance: ones([cout]) });
    return { params: { conv1, bn1: bn(), conv2, bn2: bn() }, state: { bn1: stats(), bn2: stats() } };
  };

  const double = (p: DoubleConvParams, s: DoubleConvState, x: Tensor, training: boolean): [Tensor, DoubleConvState] => {
    let h = conv(p.conv1, x, { padding: 1 });
    let s1: BatchNormState | undefined;
    let s2: BatchNormState | undefined;
    if (p.bn1 && s.bn1) [h, s1] = norm(p.bn1, s.bn1, h, training);
    h = activate(h, c.activation);
    h = conv(p.conv2, h, { padding: 1 });
    if (p.bn2 && s.bn2) [h, s2] = norm(p.bn2, s.bn2, h, training);
    h = activate(h, c.activation);
    return [h, s1 && s2 ? { bn1: s1, bn2: s2 } : {}];
  };

  return {
    config: c,
    init(key) {
      const down: { params: DoubleConvParams; state: DoubleConvState }[] = [];
      for (let i = 0; i < c.depth; i++) down.push(initDouble(foldIn(key, 100 + i), i === 0 ? c.inChannels : width(i - 1), width(i)));
      const bottleneck = initDouble(foldIn(key, 200), width(c.depth - 1), width(c.depth));
      const up: { params: UpParams; state: DoubleConvState }[] = [];
      for (let j = 0; j < c.depth; j++) {
        const level = c.depth - 1 - j;
        const k = foldIn(key, 300 + j);
        const upConv = initConvTranspose(c.init, foldIn(k, 0), width(level + 1), width(level), 2, 2);
        const dbl = initDouble(k, 2 * width(level), width(level));
        up.push({ params: { up: upConv, ...dbl.params }, state: dbl.state });
      }
      const head = initConv(c.init, foldIn(key, 400), width(0), c.classes, 1);
      return {
        params: { down: down.map((d) => d.params), bottleneck: bottleneck.params, up: up.map((u) => u.params), head },
        state: { down: down.map((d) => d.state), bottleneck: bottleneck.state, up: up.map((u) => u.state) },
      };
    },
    apply(params, state, x, options: ApplyOptions) {
      checkOptionKeys('unet', options, APPLY_KEYS);
      if (typeof options?.training !== 'boolean') throw new InputError('unet', 'options.training', `expected a boolean, got ${options === undefined ? 'no options' : String(options.training)}`);
      const factor = 2 ** c.depth;
      if (x.rank !== 4 || x.shape[1] !== c.inChannels) {
        throw new ShapeError('unet', 'x', `expected images [N, ${c.inChannels}, H, W], got ${showShape(x.shape)}`);
      }
      if (x.shape[2]! % factor !== 0 || x.shape[3]! % factor !== 0) {
        throw new ShapeError('unet', 'x', `H and W must be multiples of 2^depth = ${factor} for depth ${c.depth}, got ${showShape(x.shape)}`);
      }
      const training = options.training;
      const skips: Tensor[] = [];
      const downState: DoubleConvState[] = [];
      let h = x;
      for (let i = 0; i < c.depth; i++) {
        const [y, s] = double(params.down[i]!, state.down[i]!, h, training);
        skips.push(y);
        downState.push(s);
        h = pool2(y);
      }
      const [b, bs] = double(params.bottleneck, state.bottleneck, h, training);
      h = drop(b, c.dropout, training, options.key);
      const upState: DoubleConvState[] = [];
      for (let j = 0; j < c.depth; j++) {
        const p = params.up[j]!;
        const upsampled = convTranspose(p.up, h, { stride: 2 });
        const [y, s] = double(p, state.up[j]!, concat([upsampled, skips[c.depth - 1 - j]!], 1), training);
        upState.push(s);
        h = y;
      }
      return [conv(params.head, h), { down: downState, bottleneck: bs, up: upState }];
    },
    parameterCount: (params) => countScalars(params),
  };
}
