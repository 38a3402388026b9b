/**
 * Tracing: a function of tensors runs once against a recorder backend whose kernels record
 * graph nodes instead of computing. Everything the core does on the way (shape rules, scopes,
 * tapes, derivative rules) runs as in eager mode, so shape errors surface at the call that made
 * them and `valueAndGrad` inside a traced function records its backward pass as primitives.
 */
import type { Backend, KernelTable } from '../backend.js';
import { withTracer } from '../engine.js';
import { InputError } from '../errors.js';
import { PRIM_NAMES, type PrimName, type PrimParams } from '../primitives.js';
import type { RandomKey } from '../random.js';
import type { Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { Graph, GraphNode } from './graph.js';

/** A handle of the recorder: the node that computes the value. */
export interface TraceHandle {
  readonly node: number;
}

/** The recorder backend of one trace. */
export class TraceRecorder {
  readonly nodes: GraphNode[] = [];
  readonly #captured = new Map<Tensor, number>();
  readonly backend: Backend;

  constructor(readonly target: Backend) {
    const kernels = Object.fromEntries(PRIM_NAMES.map((prim) => [prim, (inputs: readonly { handle: TraceHandle }[], outShape: Shape, params: PrimParams[PrimName]) =>
      this.#add({ kind: 'prim', id: this.nodes.length, shape: outShape, prim, params, inputs: inputs.map((x) => x.handle.node) })]));
    const refuse = (): never => {
      throw new InputError('jit', 'f', 'cannot read tensor values inside a function traced by jit: a traced function computes with tensors only (read its results after the call)');
    };
    this.backend = {
      name: `jit trace of '${target.name}'`,
      traceOnly: true,
      upload: (values, shape) => this.#add({ kind: 'const', id: this.nodes.length, shape, values: Float64Array.from(values) }),
      read: refuse,
      readSync: refuse,
      release: () => undefined,
      memory: () => ({ buffers: 0, bytes: 0 }),
      stats: () => ({ kernels: 0 }),
      describe: async () => ({ name: `jit trace of '${target.name}'` }),
      kernels: kernels as unknown as KernelTable<TraceHandle>,
    } satisfies Backend<TraceHandle> as unknown as Backend;
  }

  #add(node: GraphNode): TraceHandle {
    this.nodes.push(node);
    return { node: node.id };
  }

  /** A node for a tensor argument (`index` = its position among the inputs). */
  input(shape: Shape, index: number): TraceHandle {
    return this.#add({ kind: 'input', id: this.nodes.length, shape, index });
  }

  /** A node for a real tensor the traced function closed over (one per tensor). */
  capture(t: Tensor): TraceHandle {
    const known = this.#captured.get(t);
    if (known !== undefined) return { node: known };
    const h = this.#add({ kind: 'capture', id: this.nodes.length, shape: t.shape, tensor: t });
    this.#captured.set(t, h.node);
    return h;
  }

  /** A node whose values the host computes afresh on every call from the key arguments. */
  host(shape: Shape, compute: (keys: readonly RandomKey[]) => ArrayLike<number>): TraceHandle {
    return this.#add({ kind: 'host', id: this.nodes.length, shape, compute });
  }

  /** Runs `fn` with this recorder selected and tracing active. */
  run<T>(fn: () => T): T {
    return withTracer({ recorder: this.backend, target: this.target, capture: (t) => this.capture(t), host: (shape, compute) => this.host(shape, compute) }, fn);
  }

  /** The graph, with `results` (tensors of this trace or of the target backend) as outputs. */
  graph(results: readonly Tensor[]): Graph {
    const outputs = results.map((t) => (t.backend === this.backend ? (t.handle as TraceHandle).node : this.capture(t).node));
    return { nodes: this.nodes, outputs };
  }
}
