/**
 * Fusion: which primitives can share a kernel, the grouping of a traced graph's elementwise nodes
 * into fused kernels, batches of groups that run one program, and sibling fusion.
 *
 * A group computes values element by element over one iteration shape. An elementwise node joins
 * the groups of its users when every user belongs to a group it can be computed in (the same
 * elements, possibly seen through a reshape); in each of them its value is then computed inline,
 * per element, and never stored (unless it is also a result of the graph, when one group stores it
 * as an extra output). A node only joins groups that hold one of its users, so every member flows
 * to its group's root and grouping can never make a cycle.
 */
import { broadcastStrides, sameShape, sizeOf, stridesOf, type Shape } from '../shape.js';
import type { PrimName, PrimParams } from '../primitives.js';
import { isContiguousInput, type FusedInput, type FusedKernel, type FusedOp } from './fused.js';
import type { Graph, GraphNode } from './graph.js';

/** How the fuser treats a primitive. */
export type PrimClass = 'elementwise' | 'reduce' | 'movement' | 'opaque';

/** Every primitive's class: a new primitive does not compile until it is classified here. */
export const PRIM_CLASS: { readonly [P in PrimName]: PrimClass } = {
  neg: 'elementwise', exp: 'elementwise', log: 'elementwise', sqrt: 'elementwise', abs: 'elementwise', sign: 'elementwise',
  add: 'elementwise', sub: 'elementwise', mul: 'elementwise', div: 'elementwise', pow: 'elementwise',
  compare: 'elementwise', where: 'elementwise',
  // NOTE: broadcast is elementwise for the fuser: a load through stride-0 axes.
  broadcast: 'elementwise',
  sum: 'reduce', max: 'reduce', argmax: 'reduce',
  reshape: 'movement', permute: 'movement', pad: 'movement', slice: 'movement', concat: 'movement',
  matmul: 'opaque', conv2d: 'opaque', conv2dBackpropInput: 'opaque', conv2dBackpropFilter: 'opaque',
};

/**
 * Largest number of inputs and of instructions of one fused kernel, and of groups one
 * elementwise node may be recomputed in.
 */
export const FUSION_LIMITS = { inputs: 12, ops: 96, duplicates: 4 } as const;

/** A fused group of a plan. */
export type FusedStep = Extract<PlannedStep, { kind: 'fused' }>;

/** One step of a plan before it meets a backend: a primitive, a fused group, or a batch of them. */
export type PlannedStep =
  | { readonly kind: 'node'; readonly node: number }
  | {
      /** Fused groups with one program, run as the segments of one launch (see `FusedBatch`). */
      readonly kind: 'batch';
      /** The program over a 1-D shape (every input in element order or a single value). */
      readonly kernel: FusedKernel;
      readonly sizes: readonly number[];
      /** The groups, one per segment, in graph order. */
      readonly members: readonly FusedStep[];
    }
  | {
      readonly kind: 'fused';
      readonly kernel: FusedKernel;
      /** The graph node read by each kernel input. */
      readonly inputs: readonly number[];
      /** The graph node stored by each kernel output. */
      readonly outputs: readonly number[];
      /** The member nodes, in graph order (for replaying the group primitive by primitive). */
      readonly members: readonly number[];
    };

/**
 * Nodes a group can hold: elementwise primitives, reshapes (a row-major reshape keeps the element
 * order, so inside a group it is no instruction at all) and slices (a read at an offset).
 */
function isElementwise(n: GraphNode): n is Extract<GraphNode, { kind: 'prim' }> {
  return n.kind === 'prim' && (PRIM_CLASS[n.prim] === 'elementwise' || n.prim === 'reshape' || n.prim === 'slice');
}

/**
 * The coarsest shape whose row-major order refines both `a` and `b` (every axis of either is a run
 * of its consecutive axes), extent-1 axes dropped; undefined when the sizes differ or no such
 * shape exists (e.g. [4, 6] and [6, 4]). A group iterates over such a shape, so that members seen
 * through reshapes still read their operands through strides.
 */
export function refineShapes(a: Shape, b: Shape): number[] | undefined {
  const n = sizeOf(a);
  if (n !== sizeOf(b)) return undefined;
  if (n === 0) return sameShape(a, b) ? [...a] : undefined;
  const bounds = (s: Shape): number[] => {
    const out: number[] = [];
    let p = 1;
    for (let i = s.length - 1; i >= 0; i--) out.push((p *= s[i]!));
    return out;
  };
  const all = [...new Set([...bounds(a), ...bounds(b)])].sort((x, y) => x - y);
  const dims: number[] = [];
  let prev = 1;
  for (const q of all) {
    if (q % prev !== 0) return undefined;
    if (q !== prev) dims.unshift(q / prev);
    prev = q;
  }
  return dims;
}

/**
 * Strides over the refined shape `fine` of a value read with `strides` over the coarser `shape`
 * (same element order): each axis of `shape` is a run of axes of `fine`.
 */
function refineStrides(shape: Shape, strides: readonly number[], fine: Shape): number[] {
  const out = new Array<number>(fine.length).fill(0);
  let f = fine.length - 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    let extent = shape[d]!;
    let inner = 1;
    while (extent > 1) {
      const e = fine[f]!;
      out[f] = strides[d]! * inner;
      inner *= e;
      extent /= e;
      f--;
    }
  }
  return out;
}

/** True when node `n` can be computed at the element index of a group iterating over `g`. */
function fitsGroup(n: Extract<GraphNode, { kind: 'prim' }>, g: Shape): boolean {
  return sameShape(n.shape, g) || refineShapes(n.shape, g) !== undefined;
}

/** A size-1 constant: folded into a fused program as an immediate. */
function scalarConst(n: GraphNode): number | undefined {
  return n.kind === 'const' && n.values.length === 1 ? n.values[0] : undefined;
}

/**
 * Groups the live elementwise nodes of `graph` and orders the plan's steps: every non-elementwise
 * live node is a step of its own; every group of two or more members (or with several outputs)
 * is one fused step; a group of a single primitive stays a plain step.
 */
export function fuseGraph(graph: Graph, live: readonly boolean[], users: readonly (readonly number[])[]): PlannedStep[] {
  const nodes = graph.nodes;
  const isOutput = new Set(graph.outputs);
  /** The groups each node is computed in (several when it is recomputed in each of its users' groups). */
  const groupsOf: number[][] = nodes.map(() => []);
  const groupShape: Shape[] = [];
  const members: number[][] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!live[i] || !isElementwise(n)) continue;
    const us = users[i]!;
    const target = new Set<number>();
    let fits = us.length > 0;
    for (const u of us) {
      if (groupsOf[u]!.length === 0) fits = false;
      for (const g of groupsOf[u]!) target.add(g);
    }
    fits &&= target.size <= FUSION_LIMITS.duplicates && [...target].every((g) => fitsGroup(n, groupShape[g]!) && members[g]!.length < FUSION_LIMITS.ops);
    if (fits) {
      for (const g of target) {
        if (!sameShape(groupShape[g]!, n.shape)) groupShape[g] = refineShapes(groupShape[g]!, n.shape)!;
        groupsOf[i]!.push(g);
        members[g]!.push(i);
      }
    } else if (n.prim !== 'reshape' && n.prim !== 'slice') {
      groupsOf[i]!.push(groupShape.length);
      groupShape.push(n.shape);
      members.push([i]);
    }
  }
  for (const ms of members) ms.reverse();

  // A member is stored when it is its group's root (its last member), or a result of the graph
  // (stored by the first group it belongs to).
  const stored = (g: number) => (m: number) => m === members[g]![members[g]!.length - 1] || (isOutput.has(m) && groupsOf[m]![0] === g);

  // Emit steps in graph order: a group where its root stands.
  const rootOf = new Map<number, number>();
  members.forEach((ms, g) => rootOf.set(ms[ms.length - 1]!, g));
  const steps: PlannedStep[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (!live[i] || n.kind !== 'prim') continue;
    if (groupsOf[i]!.length === 0) {
      steps.push({ kind: 'node', node: i });
      continue;
    }
    const g = rootOf.get(i);
    if (g === undefined) continue;
    const built = buildKernel(nodes, members[g]!, groupShape[g]!, stored(g));
    // A group that does not fuse (a single primitive, or over the limits) runs as its members,
    // each of which must then be stored: only groups without duplicated members may do that.
    if (built) steps.push(built);
    else for (const m of members[g]!) steps.push({ kind: 'node', node: m });
  }
  return dedupe(steps);
}

/**
 * Drops repeated plain steps of one node (a member recomputed in several groups that did not
 * fuse runs once).
 */
function dedupe(steps: readonly PlannedStep[]): PlannedStep[] {
  const seen = new Set<number>();
  return steps.filter((s) => {
    if (s.kind !== 'node') return true;
    if (seen.has(s.node)) return false;
    seen.add(s.node);
    return true;
  });
}

/**
 * The fused program of a group, or undefined when it is a single member (run as itself) or
 * exceeds the limits (then its members run one by one).
 */
function buildKernel(nodes: readonly GraphNode[], ms: readonly number[], shape: Shape, stored: (m: number) => boolean): FusedStep | undefined {
  const ops: FusedOp[] = [];
  const inputs: FusedInput[] = [];
  /** The graph node read by each kernel input. */
  const inputNodes: number[] = [];
  /** The instruction holding each member's value. */
  const value = new Map<number, number>();
  /** One load per read of a node (see `loadKey`). */
  const loads = new Map<string, number>();

  /**
   * The instruction that gives node `j` at the group's element index, read by a member of shape
   * `at` (broadcast to it, as the primitive does; a reshape reads its operand in element order:
   * `inOrder`), through strides over the group's shape, which refines every member's.
   */
  const operand = (j: number, at: Shape, read: 'broadcast' | 'inOrder' | { begin: readonly number[] }): number => {
    const inGroup = value.get(j);
    if (inGroup !== undefined) return inGroup;
    const n = nodes[j]!;
    const c = scalarConst(n);
    if (c !== undefined) {
      ops.push({ kind: 'const', value: c });
      return ops.length - 1;
    }
    let offset = 0;
    let strides: number[];
    if (sizeOf(n.shape) === 1) strides = shape.map(() => 0);
    else if (read === 'inOrder') strides = stridesOf(shape);
    else if (read === 'broadcast') strides = refineStrides(at, broadcastStrides(n.shape, at), shape);
    else {
      // A slice reads its operand's elements at `begin` onwards, with the operand's strides.
      const full = stridesOf(n.shape);
      offset = read.begin.reduce((a, b, d) => a + b * full[d]!, 0);
      strides = refineStrides(at, full, shape);
    }
    const input: FusedInput = offset === 0 ? { shape: n.shape, strides } : { shape: n.shape, strides, offset };
    const key = loadKey(j, input);
    const known = loads.get(key);
    if (known !== undefined) return known;
    inputs.push(input);
    inputNodes.push(j);
    ops.push({ kind: 'load', input: inputs.length - 1 });
    loads.set(key, ops.length - 1);
    return ops.length - 1;
  };

  for (const m of ms) {
    const n = nodes[m] as Extract<GraphNode, { kind: 'prim' }>;
    const read = n.prim === 'reshape' ? 'inOrder' : n.prim === 'slice' ? { begin: (n.params as PrimParams['slice']).begin } : 'broadcast';
    const args = n.inputs.map((j) => operand(j, n.shape, read));
    if (n.prim === 'broadcast' || n.prim === 'reshape' || n.prim === 'slice') {
      // NOTE: a broadcast member is its operand read through stride-0 axes, a reshape member its
      // operand in the same element order, a slice its operand read at an offset: none is an
      // instruction.
      value.set(m, args[0]!);
      continue;
    }
    ops.push(instruction(n.prim, n.params, args));
    value.set(m, ops.length - 1);
  }
  if (inputs.length > FUSION_LIMITS.inputs) return undefined;
  const outputs = ms.filter(stored);
  if (ms.length < 2 && outputs.length === 1) return undefined;
  return {
    kind: 'fused',
    kernel: { shape, inputs, ops, outputs: outputs.map((m) => value.get(m)!) },
    inputs: inputNodes,
    outputs,
    members: [...ms],
  };
}

/** What identifies one read of a graph node in a fused kernel: the node, its strides and offset. */
function loadKey(node: number, input: FusedInput): string {
  return `${node}:${input.strides.join(',')}@${input.offset ?? 0}`;
}

/** The instruction of one elementwise primitive (broadcast aside) over operand instructions. */
function instruction(prim: PrimName, params: PrimParams[PrimName], a: readonly number[]): FusedOp {
  switch (prim) {
    case 'neg': case 'exp': case 'log': case 'sqrt': case 'abs': case 'sign':
      return { kind: 'unary', op: prim, a: a[0]! };
    case 'add': case 'sub': case 'mul': case 'div': case 'pow':
      return { kind: 'binary', op: prim, a: a[0]!, b: a[1]! };
    case 'compare':
      return { kind: 'compare', op: (params as PrimParams['compare']).op, a: a[0]!, b: a[1]! };
    case 'where':
      return { kind: 'where', c: a[0]!, a: a[1]!, b: a[2]! };
    default:
      throw new Error(`internal error: ${prim} is not an elementwise instruction`);
  }
}

/**
 * Batches fused groups that run one program over independent tensors (an optimizer's update of
 * every parameter tensor): groups whose inputs are all read in element order or are single values,
 * and whose outputs only the caller (or the group itself) reads (no other step uses them, so
 * running them later changes nothing), with the same program, become the segments of one batch
 * step where the last of them stood.
 */
export function batchGroups(steps: readonly PlannedStep[], users: readonly (readonly number[])[]): PlannedStep[] {
  const kindsOf = (s: FusedStep): string[] | undefined => {
    const k = s.kernel;
    const kinds: string[] = [];
    for (let i = 0; i < k.inputs.length; i++) {
      const inp = k.inputs[i]!;
      if ((inp.offset ?? 0) !== 0) return undefined;
      if (sizeOf(inp.shape) === 1) kinds.push('s');
      else if (isContiguousInput(k, i)) kinds.push('c');
      else return undefined;
    }
    return kinds;
  };
  const keyOf = (s: FusedStep): string | undefined => {
    const kinds = kindsOf(s);
    const inside = new Set(s.members);
    if (kinds === undefined || s.outputs.some((o) => users[o]!.some((u) => !inside.has(u)))) return undefined;
    return JSON.stringify([s.kernel.ops, s.kernel.outputs, kinds]);
  };
  const byKey = new Map<string, number[]>();
  steps.forEach((s, i) => {
    if (s.kind !== 'fused') return;
    const key = keyOf(s);
    if (key === undefined) return;
    const list = byKey.get(key) ?? [];
    list.push(i);
    byKey.set(key, list);
  });
  const placed = new Map<number, PlannedStep>();
  const dropped = new Set<number>();
  for (const list of byKey.values()) {
    if (list.length < 2) continue;
    const members = list.map((i) => steps[i] as FusedStep);
    const first = members[0]!.kernel;
    const n0 = sizeOf(first.shape);
    const kernel: FusedKernel = {
      shape: [n0],
      inputs: kindsOf(members[0]!)!.map((kind) => (kind === 's' ? { shape: [1], strides: [0] } : { shape: [n0], strides: [1] })),
      ops: first.ops,
      outputs: first.outputs,
    };
    const sizes = members.map((m) => sizeOf(m.kernel.shape));
    for (const i of list) dropped.add(i);
    placed.set(list[list.length - 1]!, { kind: 'batch', kernel, sizes, members });
  }
  return steps.flatMap((s, i) => (placed.has(i) ? [placed.get(i)!] : dropped.has(i) ? [] : [s]));
}

/**
 * Sibling fusion: two fused groups over one shape that do not depend on each other become one
 * kernel with the outputs of both (their per-element programs side by side, shared inputs read
 * once). A group merges into a later one within a short window when every user of its outputs
 * comes after that later group: then no path leads from the one to the other, and computing the
 * earlier one later changes nothing but when its inputs are released.
 */
export function mergeSiblings(steps: readonly PlannedStep[], users: readonly (readonly number[])[]): PlannedStep[] {
  const WINDOW = 8;
  const out: (PlannedStep | undefined)[] = [...steps];
  // The first step that computes each node (a member recomputed in several groups: the earliest).
  const stepOf = new Map<number, number>();
  const note = (node: number, i: number) => {
    if (!stepOf.has(node)) stepOf.set(node, i);
  };
  steps.forEach((s, i) => {
    if (s.kind === 'node') note(s.node, i);
    else if (s.kind === 'fused') s.members.forEach((m) => note(m, i));
    else s.members.forEach((f) => f.members.forEach((m) => note(m, i)));
  });
  const usedAfter = (s: FusedStep, at: number) => s.outputs.every((o) => users[o]!.every((u) => (stepOf.get(u) ?? Infinity) > at));
  for (let b = 0; b < out.length; b++) {
    const B = out[b];
    if (B?.kind !== 'fused') continue;
    for (let a = Math.max(0, b - WINDOW); a < b; a++) {
      const A = out[a];
      if (A?.kind !== 'fused' || !sameShape(A.kernel.shape, B.kernel.shape) || !usedAfter(A, b)) continue;
      const merged = concatKernels(A, out[b] as FusedStep);
      if (!merged) continue;
      out[a] = undefined;
      out[b] = merged;
      for (const m of A.members) stepOf.set(m, b);
    }
  }
  return out.filter((s): s is PlannedStep => s !== undefined);
}

/** Two fused groups over one shape as one kernel (A's program, then B's), or undefined past the limits. */
function concatKernels(A: FusedStep, B: FusedStep): FusedStep | undefined {
  const inputs: FusedInput[] = [];
  const inputNodes: number[] = [];
  const index = new Map<string, number>();
  const inputIndex = (node: number, inp: FusedInput): number => {
    const key = loadKey(node, inp);
    const found = index.get(key);
    if (found !== undefined) return found;
    inputs.push(inp);
    inputNodes.push(node);
    index.set(key, inputs.length - 1);
    return inputs.length - 1;
  };
  const ops: FusedOp[] = [];
  const append = (s: FusedStep): number[] => {
    const base = ops.length;
    const shift = (i: number) => i + base;
    for (const op of s.kernel.ops) {
      switch (op.kind) {
        case 'load': ops.push({ kind: 'load', input: inputIndex(s.inputs[op.input]!, s.kernel.inputs[op.input]!) }); break;
        case 'const': ops.push(op); break;
        case 'unary': ops.push({ ...op, a: shift(op.a) }); break;
        case 'binary': case 'compare': ops.push({ ...op, a: shift(op.a), b: shift(op.b) }); break;
        case 'where': ops.push({ ...op, c: shift(op.c), a: shift(op.a), b: shift(op.b) }); break;
      }
    }
    return s.kernel.outputs.map(shift);
  };
  const outs = [...append(A), ...append(B)];
  if (inputs.length > FUSION_LIMITS.inputs || ops.length > FUSION_LIMITS.ops) return undefined;
  return {
    kind: 'fused',
    kernel: { shape: B.kernel.shape, inputs, ops, outputs: outs },
    inputs: inputNodes,
    outputs: [...A.outputs, ...B.outputs],
    members: [...A.members, ...B.members],
  };
}
