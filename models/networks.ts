/**
 * The networks a run can train, behind one config tagged by `arch`: the U-Net (`arch` absent or
 * `'unet'`, so every config and checkpoint written before there was a choice still means the
 * U-Net) and the reference network of the authors' code (`arch: 'reference'`). Training,
 * evaluation, checkpoints and the command line build their model with `modelFor`.
 */
import { InputError } from '../core/errors.js';
import { describeValue } from './codecs.js';
import type { Model } from './model.js';
import {
  checkReferenceUNetConfig, referenceParameterCount, referenceUNet, REFERENCE_UNET_CONFIG_KEYS,
  type ReferenceUNetConfig, type ReferenceUNetParams, type ReferenceUNetState,
} from './reference-unet.js';
import { checkUNetConfig, unet, unetParameterCount, UNET_CONFIG_KEYS, type FullUNetConfig, type UNetConfig, type UNetParams, type UNetState } from './unet.js';

/** The names of the networks, as `arch` (and the command line's `--arch`) spells them. */
export type NetworkArch = 'unet' | 'reference';

/** Every `NetworkArch`, the default (`unet`) first. */
export const NETWORK_ARCHS: readonly NetworkArch[] = Object.freeze(['unet', 'reference'] as const);

/** The reference network's config with its tag, as `NetworkConfig` holds it. */
export type ReferenceUNetConfigTagged = ReferenceUNetConfig & { readonly arch: 'reference' };

/** The architecture of any network: a U-Net (`arch` absent or `'unet'`) or the reference network. */
export type NetworkConfig = UNetConfig | ReferenceUNetConfigTagged;

/**
 * A network config with every default filled in: the U-Net's without `arch` (its canonical form,
 * the one checkpoints store), the reference network's with `arch` and `base`.
 */
export type FullNetworkConfig = FullUNetConfig | Required<ReferenceUNetConfig>;

/** The parameters of a network of `NetworkConfig`. */
export type NetworkParams = UNetParams | ReferenceUNetParams;

/** The non-learned state (batch-norm running statistics) of a network of `NetworkConfig`. */
export type NetworkState = UNetState | ReferenceUNetState;

/**
 * A network as the training loop, the checkpoints and the command line see it. Its `apply` takes
 * the parameters and state that its own `init` made (or a checkpoint of the same config holds).
 */
export type Network = Model<NetworkConfig, NetworkParams, NetworkState>;

/** Every key a `NetworkConfig` may have, whatever its network. */
export const NETWORK_CONFIG_KEYS: readonly string[] = Object.freeze([...new Set<string>([...UNET_CONFIG_KEYS, ...REFERENCE_UNET_CONFIG_KEYS])]);

/**
 * The network a config names: `'unet'` when `arch` is absent.
 *
 * @throws InputError naming `config` (not an object) or `config.arch` (an unknown network).
 */
export function networkArch(config: NetworkConfig, op = 'modelFor'): NetworkArch {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new InputError(op, 'config', `expected a network config object, got ${describeValue(config)}`);
  const arch: unknown = config.arch;
  if (arch === undefined) return 'unet';
  if (!NETWORK_ARCHS.includes(arch as NetworkArch)) {
    throw new InputError(op, 'config.arch', `unknown network ${JSON.stringify(arch)}: expected one of ${NETWORK_ARCHS.map((a) => `'${a}'`).join(', ')} (no arch: 'unet')`);
  }
  return arch as NetworkArch;
}

/** Whether a config is the reference network's (`arch: 'reference'`). */
export function isReferenceConfig(config: NetworkConfig): config is ReferenceUNetConfigTagged {
  return config.arch === 'reference';
}

/**
 * Checks a network config and fills its defaults (see `FullNetworkConfig`).
 *
 * @throws InputError naming `config.arch` for an unknown network, and as `checkUNetConfig` /
 * `checkReferenceUNetConfig` for the network's fields (an unknown key included).
 */
export function checkNetworkConfig(config: NetworkConfig): FullNetworkConfig {
  return networkArch(config, 'checkNetworkConfig') === 'reference' ? checkReferenceUNetConfig(config as ReferenceUNetConfigTagged) : checkUNetConfig(config as UNetConfig);
}

/**
 * The network of a config: `unet(config)` or `referenceUNet(config)`. `init`, `apply` and
 * `parameterCount` are pure.
 *
 * @throws InputError naming `config.arch` for an unknown network, and as `unet` /
 * `referenceUNet` for the network's fields (an unknown key included).
 */
export function modelFor(config: NetworkConfig): Network {
  return networkArch(config) === 'reference' ? referenceUNet(config as ReferenceUNetConfigTagged) : unet(config as UNetConfig);
}

/**
 * One line saying what a network is: `U-Net base 16, depth 3, batch norm`, `U-Net base 16,
 * depth 3, no batch norm, dropout 0.2`, `reference U-Net (LIVIAETS) base 64`.
 *
 * @throws InputError as `checkNetworkConfig`.
 */
export function describeNetwork(config: NetworkConfig): string {
  const c = checkNetworkConfig(config);
  if ('arch' in c) return `reference U-Net (LIVIAETS) base ${c.base}`;
  const extras = [
    c.batchNorm ? 'batch norm' : 'no batch norm',
    ...(c.dropout > 0 ? [`dropout ${c.dropout}`] : []),
    ...(c.activation !== 'relu' ? ['leaky ReLU'] : []),
    ...(c.init !== 'he' ? ['Xavier initialisation'] : []),
  ];
  return `U-Net base ${c.base}, depth ${c.depth}, ${extras.join(', ')}`;
}

/**
 * What the height and width of the network's inputs must be multiples of: 2^depth for the U-Net,
 * 8 for the reference network (three stride-2 steps).
 *
 * @throws InputError as `checkNetworkConfig`.
 */
export function networkInputMultiple(config: NetworkConfig): number {
  const c = checkNetworkConfig(config);
  return 'arch' in c ? 8 : 2 ** c.depth;
}

/**
 * The number of learned scalars of `modelFor(config)`, from the architecture alone (no tensor is
 * allocated; the reference network at base 64 has 18,702,551).
 *
 * @throws InputError as `checkNetworkConfig`.
 */
export function networkParameterCount(config: NetworkConfig): number {
  const c = checkNetworkConfig(config);
  return 'arch' in c ? referenceParameterCount(c) : unetParameterCount(c);
}

/**
 * @internal the form in which two network configs are compared (`configDifferences`): defaults
 * filled in and `arch: 'unet'` dropped, so `{ arch: 'unet', dropout: 0, … }` equals `{ … }`. A
 * config that does not check is returned as it is (it then differs from every valid one).
 */
export function comparableNetworkConfig(config: NetworkConfig): NetworkConfig {
  try {
    return checkNetworkConfig(config);
  } catch {
    return config;
  }
}
