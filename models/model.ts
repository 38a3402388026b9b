/**
 * What a segmentation model is to the training loop, the checkpoints and the CLI: a config, an
 * initialiser and a pure forward function over explicit parameter and state trees.
 */
import { InputError } from '../core/errors.js';
import type { RandomKey } from '../core/random.js';
import { Tensor } from '../core/tensor.js';

/** Options of a forward pass. */
export interface ApplyOptions {
  /** Training mode: batch statistics in batch norm, dropout active. */
  readonly training: boolean;
  /** Dropout's key; required in training when the model has dropout. */
  readonly key?: RandomKey;
}

/**
 * A model with config C, learned parameters P and non-learned state S (batch-norm running
 * statistics; an empty object when there is none). Every function is pure: `apply` returns the
 * logits and the new state and changes nothing.
 */
export interface Model<C, P, S> {
  readonly config: C;
  /** Fresh parameters and state, all randomness from `key`. */
  init(key: RandomKey): { params: P; state: S };
  /** Logits [N, classes, H, W] of images x [N, inChannels, H, W], and the next state. */
  apply(params: P, state: S, x: Tensor, options: ApplyOptions): [Tensor, S];
  /** The number of learned scalars in `params`. */
  parameterCount(params: P): number;
}

/**
 * The tensors of a tree with dotted path names (`down.0.conv1.w`), in `treeLeaves` order.
 * Checkpoints store tensors under these names.
 */
export function namedLeaves(tree: unknown, prefix = ''): Array<[string, Tensor]> {
  const out: Array<[string, Tensor]> = [];
  const walk = (x: unknown, path: string): void => {
    if (x instanceof Tensor) out.push([path, x]);
    else if (Array.isArray(x)) x.forEach((v, i) => walk(v, path ? `${path}.${i}` : String(i)));
    else if (x !== null && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(tree, prefix);
  return out;
}

/** The number of scalars in a tree of tensors. */
export function countScalars(tree: unknown): number {
  return namedLeaves(tree).reduce((n, [, t]) => n + t.size, 0);
}

/**
 * @internal a network config's positive-integer field, e.g. `config.base`.
 *
 * @throws InputError naming `config.<field>` for anything else.
 */
export function configPositiveInt(op: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError(op, `config.${field}`, `expected a positive integer, got ${String(v)}`);
  return v;
}
