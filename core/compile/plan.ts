/**
 * Plans: a traced graph made executable on one backend. Building a plan runs the graph passes
 * (dead-code elimination, fusion), compiles each fused group with the backend where it can, uploads
 * the graph's constants once, and computes a static release schedule: every intermediate buffer
 * goes back to the backend (whose pool hands it to a later output) right after its last use, and
 * donated arguments after theirs. Replaying a plan runs its steps with no shape checks, tapes or
 * scopes: only kernels, uploads of the call's numbers and random draws, and releases.
 */
import type { Backend, KernelInput } from '../backend.js';
import { BackendError, BoundarySegError } from '../errors.js';
import type { PrimName, PrimParams } from '../primitives.js';
import type { RandomKey } from '../random.js';
import type { Shape } from '../shape.js';
import type { FusedBatchRunner, FusedRunner } from './fused.js';
import { batchGroups, fuseGraph, mergeSiblings, type FusedStep, type PlannedStep } from './fuse.js';
import { liveNodes, usersOf, type Graph } from './graph.js';

/** One executable step. Slots are graph node ids. */
type ExecStep =
  | { readonly kind: 'prim'; readonly prim: PrimName; readonly params: PrimParams[PrimName]; readonly ins: readonly number[]; readonly out: number; release: number[] }
  | { readonly kind: 'fused'; readonly run: FusedRunner<unknown>; readonly ins: readonly number[]; readonly outs: readonly number[]; release: number[] }
  | {
      readonly kind: 'batch';
      readonly run: FusedBatchRunner<unknown>;
      readonly segments: readonly { readonly ins: readonly number[]; readonly outs: readonly number[] }[];
      /** Every segment's inputs (for liveness). */
      readonly ins: readonly number[];
      release: number[];
    }
  | { readonly kind: 'host'; readonly compute: (keys: readonly RandomKey[]) => ArrayLike<number>; readonly out: number; release: number[] };

/** What a plan is called with. */
export interface PlanArguments {
  /** Handles of the tensor and number inputs, by input index (numbers already uploaded). */
  readonly inputs: readonly unknown[];
  /** Input indices whose buffers the plan owns and releases after their last use. */
  readonly owned: ReadonlySet<number>;
  /** Key arguments, by key index. */
  readonly keys: readonly RandomKey[];
}

/** Counts of a plan's shape, for tests and diagnostics. */
export interface PlanSummary {
  /** Kernel launches one replay makes (primitives and fused groups). */
  readonly kernels: number;
  readonly fusedGroups: number;
  /** Live graph nodes (after dead-code elimination). */
  readonly nodes: number;
  /** Kernel launches by primitive (`fused` for fused groups). */
  readonly launches: Readonly<Record<string, number>>;
}

/** Options of a `Plan`. */
export interface PlanOptions {
  /** Fuse elementwise chains where the backend compiles fused kernels (default true). */
  readonly fuse?: boolean;
}

/** A graph compiled for one backend. */
export class Plan {
  readonly #backend: Backend;
  readonly #graph: Graph;
  #steps: ExecStep[] = [];
  readonly #shapes: Shape[];
  /** Constant handles (uploaded constants and aliases of captured tensors), by slot. */
  readonly #constants = new Map<number, unknown>();
  /** The slot of each input node, and its input index. */
  readonly #inputNodes: (readonly [slot: number, index: number])[] = [];
  /** The inputs each step reads last (released after it when the call owns them), by step. */
  readonly #inputsLastReadAt = new Map<number, number[]>();
  readonly #outputShapes: Shape[];
  readonly summary: PlanSummary;
  #disposed = false;

  constructor(backend: Backend, graph: Graph, options: PlanOptions = {}) {
    this.#backend = backend;
    this.#graph = graph;
    this.#shapes = graph.nodes.map((n) => n.shape);
    const live = liveNodes(graph);
    const users = usersOf(graph, live);
    const fuse = options.fuse !== false && backend.compileFused !== undefined;
    const fused: PlannedStep[] = fuse
      ? fuseGraph(graph, live, users)
      : graph.nodes.flatMap((n, i) => (live[i] && n.kind === 'prim' ? [{ kind: 'node', node: i } as const] : []));
    const batched = fuse && backend.compileFusedBatch ? batchGroups(fused, users) : fused;
    const planned = fuse ? mergeSiblings(batched, users) : batched;

    // Host-computed values first (they read only the call's keys).
    graph.nodes.forEach((n, i) => {
      if (live[i] && n.kind === 'host') this.#steps.push({ kind: 'host', compute: n.compute, out: i, release: [] });
    });
    let fusedGroups = 0;
    const pushNode = (m: number): void => {
      const n = graph.nodes[m]!;
      if (n.kind === 'prim') this.#steps.push({ kind: 'prim', prim: n.prim, params: n.params, ins: n.inputs, out: m, release: [] });
    };
    const pushFused = (s: FusedStep): void => {
      let run: FusedRunner<unknown> | undefined;
      try {
        run = backend.compileFused!(s.kernel);
      } catch {
        run = undefined; // NOTE: a group the backend cannot compile runs primitive by primitive.
      }
      if (!run) {
        s.members.forEach(pushNode);
        return;
      }
      fusedGroups++;
      this.#steps.push({ kind: 'fused', run, ins: s.inputs, outs: s.outputs, release: [] });
    };
    for (const s of planned) {
      if (s.kind === 'node') pushNode(s.node);
      else if (s.kind === 'fused') pushFused(s);
      else {
        let run: FusedBatchRunner<unknown> | undefined;
        try {
          run = backend.compileFusedBatch!({ kernel: s.kernel, sizes: s.sizes });
        } catch {
          run = undefined; // NOTE: a batch the backend cannot compile runs group by group.
        }
        if (!run) {
          s.members.forEach(pushFused);
          continue;
        }
        fusedGroups += s.members.length;
        const segments = s.members.map((m) => ({ ins: m.inputs, outs: m.outputs }));
        this.#steps.push({ kind: 'batch', run, segments, ins: segments.flatMap((g) => g.ins), release: [] });
      }
    }

    // Constants: upload what a step reads (scalars inlined into fused programs need nothing).
    const readByStepsOrCaller = (): Set<number> => {
      const read = new Set<number>(graph.outputs);
      for (const s of this.#steps) if (s.kind !== 'host') for (const j of s.ins) read.add(j);
      return read;
    };
    const read = readByStepsOrCaller();
    graph.nodes.forEach((n, i) => {
      if (!read.has(i)) return;
      if (n.kind === 'const') this.#constants.set(i, backend.upload(n.values, n.shape));
      else if (n.kind === 'capture') this.#constants.set(i, backend.kernels.reshape([{ handle: n.tensor.handle, shape: n.shape }], n.shape, { shape: n.shape }));
    });

    // Constant folding: a step that reads only constants runs once, now, and its results become
    // constants (the same kernels, so the same bits).
    const constantHandles: unknown[] = new Array(graph.nodes.length);
    for (const [slot, handle] of this.#constants) constantHandles[slot] = handle;
    const dropped = new Set<number>();
    this.#steps = this.#steps.filter((s) => {
      if (s.kind === 'host' || !s.ins.every((j) => this.#constants.has(j))) return true;
      let slots: number[];
      try {
        slots = this.#exec(s, constantHandles, []);
      } catch {
        return true; // NOTE: a step that fails now fails at the call, which cleans up and names it.
      }
      for (const slot of slots) {
        this.#constants.set(slot, constantHandles[slot]);
      }
      for (const j of s.ins) dropped.add(j);
      return false;
    });
    // Constants that only folded steps read are no longer needed.
    const stillRead = readByStepsOrCaller();
    for (const j of dropped) {
      if (stillRead.has(j) || !this.#constants.has(j)) continue;
      backend.release(this.#constants.get(j));
      this.#constants.delete(j);
    }

    // Liveness: release each plan-owned buffer after the step that reads it last.
    const lastUse = new Map<number, number>();
    this.#steps.forEach((s, k) => {
      if (s.kind !== 'host') for (const j of s.ins) lastUse.set(j, k);
    });
    const outputs = new Set(graph.outputs);
    for (const [slot, k] of lastUse) {
      const n = graph.nodes[slot]!;
      if (outputs.has(slot) || this.#constants.has(slot)) continue;
      if (n.kind !== 'input') this.#steps[k]!.release.push(slot);
      else {
        const list = this.#inputsLastReadAt.get(k) ?? [];
        list.push(n.index);
        this.#inputsLastReadAt.set(k, list);
      }
    }
    graph.nodes.forEach((n, i) => {
      if (n.kind === 'input') this.#inputNodes.push([i, n.index]);
    });
    this.#outputShapes = graph.outputs.map((o) => this.#shapes[o]!);
    const launches: Record<string, number> = {};
    for (const s of this.#steps) {
      if (s.kind === 'host' || (s.kind === 'prim' && s.prim === 'reshape')) continue;
      const name = s.kind === 'prim' ? s.prim : s.kind === 'batch' ? 'batch' : 'fused';
      launches[name] = (launches[name] ?? 0) + 1;
    }
    this.summary = {
      kernels: Object.values(launches).reduce((a, b) => a + b, 0),
      fusedGroups,
      nodes: live.filter(Boolean).length,
      launches,
    };
  }

  /** The shape of each result. */
  get outputShapes(): readonly Shape[] {
    return this.#outputShapes;
  }

  /**
   * Runs the plan and returns one new handle per graph output (the caller wraps them). Owned
   * inputs are released by the plan (after their last use, or at the end).
   */
  run(args: PlanArguments): unknown[] {
    if (this.#disposed) throw new BackendError('jit', 'plan', 'this compiled plan was disposed (its jit cache was cleared)');
    const b = this.#backend;
    const h: unknown[] = new Array(this.#graph.nodes.length);
    const made: number[] = [];
    for (const [slot, handle] of this.#constants) h[slot] = handle;
    for (const [slot, index] of this.#inputNodes) h[slot] = args.inputs[index];
    const released = new Set<number>();
    const releasedInputs = new Set<number>();
    let k = 0;
    try {
      for (; k < this.#steps.length; k++) {
        const s = this.#steps[k]!;
        made.push(...this.#exec(s, h, args.keys));
        for (const j of s.release) {
          b.release(h[j]);
          released.add(j);
        }
        for (const index of this.#inputsLastReadAt.get(k) ?? []) {
          if (!args.owned.has(index)) continue;
          b.release(args.inputs[index]);
          releasedInputs.add(index);
        }
      }
    } catch (e) {
      // Nothing of a failed call stays alive: its intermediates, and the inputs it owns (the
      // call's numbers, donated tensors) that no step had released yet.
      for (const j of made) if (!released.has(j)) b.release(h[j]);
      for (const index of args.owned) if (!releasedInputs.has(index)) b.release(args.inputs[index]);
      const step = this.#steps[k]!;
      if (e instanceof BoundarySegError) throw e;
      const what = step.kind === 'prim' ? step.prim : step.kind === 'fused' ? 'a fused elementwise kernel' : step.kind === 'batch' ? 'a batch of fused kernels' : 'a random draw';
      throw new BackendError('jit', 'plan', `backend '${b.name}' failed in ${what} (step ${k + 1} of ${this.#steps.length}): ${(e as Error).message}`);
    }
    // Results: a fresh handle each; a result that is an input or a constant (or repeats another
    // result) becomes an alias, so that disposing it never frees what the caller or plan holds.
    const fresh = new Set(made);
    const results = this.#graph.outputs.map((o) => {
      if (fresh.delete(o)) return h[o];
      return b.kernels.reshape([{ handle: h[o], shape: this.#shapes[o]! }], this.#shapes[o]!, { shape: this.#shapes[o]! });
    });
    // Owned inputs that no step released (unused, or results themselves: aliased above).
    for (const index of args.owned) if (!releasedInputs.has(index)) b.release(args.inputs[index]);
    return results;
  }

  /** Runs one step, reading and writing handles by slot in `h`; returns the slots it wrote. */
  #exec(s: ExecStep, h: unknown[], keys: readonly RandomKey[]): number[] {
    const b = this.#backend;
    const ins = (slots: readonly number[]): KernelInput<unknown>[] => slots.map((j) => ({ handle: h[j], shape: this.#shapes[j]! }));
    switch (s.kind) {
      case 'prim':
        h[s.out] = b.kernels[s.prim](ins(s.ins), this.#shapes[s.out]!, s.params as never);
        return [s.out];
      case 'fused': {
        const outs = s.run(ins(s.ins));
        s.outs.forEach((o, j) => (h[o] = outs[j]));
        return [...s.outs];
      }
      case 'batch': {
        const outs = s.run(s.segments.map((g) => ins(g.ins)));
        s.segments.forEach((g, i) => g.outs.forEach((o, j) => (h[o] = outs[i]![j])));
        return s.segments.flatMap((g) => g.outs);
      }
      case 'host':
        h[s.out] = b.upload(s.compute(keys), this.#shapes[s.out]!);
        return [s.out];
    }
  }

  /** Releases the plan's constants. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const handle of this.#constants.values()) this.#backend.release(handle);
    this.#constants.clear();
  }
}
