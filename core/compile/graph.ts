/**
 * The graph `jit` traces a function into: nodes in the order they were recorded (hence
 * topologically sorted), each a plan input, a constant, a host-computed value (random draws made
 * afresh from a key argument on every call), or one primitive applied to earlier nodes.
 */
import type { PrimName, PrimParams } from '../primitives.js';
import type { RandomKey } from '../random.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** One node of a traced graph. `id` is its index in `Graph.nodes`. */
export type GraphNode =
  /** A tensor argument, or a number argument as a float32 scalar (`Graph.inputs` says which). */
  | { readonly kind: 'input'; readonly id: number; readonly shape: Shape; readonly index: number }
  /** Host values uploaded inside the traced function (e.g. a number operand): fixed in the plan. */
  | { readonly kind: 'const'; readonly id: number; readonly shape: Shape; readonly values: Float64Array }
  /** A tensor of the real backend that the traced function closed over: fixed in the plan. */
  | { readonly kind: 'capture'; readonly id: number; readonly shape: Shape; readonly tensor: Tensor }
  /** Values computed on the host from the call's key arguments (random draws), uploaded per call. */
  | { readonly kind: 'host'; readonly id: number; readonly shape: Shape; readonly compute: (keys: readonly RandomKey[]) => ArrayLike<number> }
  /** A primitive applied to earlier nodes. */
  | { readonly kind: 'prim'; readonly id: number; readonly shape: Shape; readonly prim: PrimName; readonly params: PrimParams[PrimName]; readonly inputs: readonly number[] };

/** A traced graph and which nodes are its results. */
export interface Graph {
  readonly nodes: readonly GraphNode[];
  /** The node of each result leaf, in tree order. */
  readonly outputs: readonly number[];
}

/** The nodes every output depends on (dead-code elimination), as a mask over `graph.nodes`. */
export function liveNodes(graph: Graph): boolean[] {
  const live = new Array<boolean>(graph.nodes.length).fill(false);
  for (const o of graph.outputs) live[o] = true;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (live[i] && n.kind === 'prim') for (const j of n.inputs) live[j] = true;
  }
  return live;
}

/** For each node, the nodes that use it (each user listed once per use). */
export function usersOf(graph: Graph, live: readonly boolean[]): number[][] {
  const users: number[][] = graph.nodes.map(() => []);
  graph.nodes.forEach((n, i) => {
    if (live[i] && n.kind === 'prim') for (const j of n.inputs) users[j]!.push(i);
  });
  return users;
}
