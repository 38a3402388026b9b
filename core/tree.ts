/** Parameter trees: tensors nested in arrays and plain objects. */
import { InputError } from './errors.js';
import { Tensor } from './tensor.js';

/** A tree of tensors: a tensor, an array of trees, or a plain object of trees. */
export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree };

/** The tensors of a tree in a fixed order (object keys in insertion order). */
export function treeLeaves(tree: unknown, op = 'treeLeaves', argument = 'tree'): Tensor[] {
  const out: Tensor[] = [];
  const walk = (x: unknown, path: string): void => {
    if (x instanceof Tensor) out.push(x);
    else if (Array.isArray(x)) x.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      for (const [k, v] of Object.entries(x)) walk(v, `${path}.${k}`);
    } else throw new InputError(op, `${argument}${path}`, `expected a Tensor, an array or a plain object, got ${x === null ? 'null' : typeof x}`);
  };
  walk(tree, '');
  return out;
}

/** A tree of the same structure with each tensor replaced by `fn(tensor, index)`. */
export function treeMap<T>(tree: T, fn: (t: Tensor, index: number) => Tensor): T {
  let i = 0;
  const walk = (x: unknown): unknown => {
    if (x instanceof Tensor) return fn(x, i++);
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
    return x;
  };
  return walk(tree) as T;
}

/** Rebuilds a tree's structure from a list of tensors in `treeLeaves` order. */
export function treeUnflatten<T>(structure: T, leaves: readonly Tensor[]): T {
  return treeMap(structure, (_, i) => leaves[i]!);
}

/** Combines trees of the same structure leaf by leaf. */
export function treeZip<T>(trees: readonly T[], fn: (leaves: Tensor[], index: number) => Tensor): T {
  const lists = trees.map((t) => treeLeaves(t));
  return treeMap(trees[0]!, (_, i) => fn(lists.map((l) => l[i]!), i));
}
