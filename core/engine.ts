/**
 * Dispatch, lifetimes and tapes: the engine's private state. Every primitive call goes through
 * `runPrim`, which checks shapes (rule table), runs the selected backend's kernel, registers the
 * result in the innermost `scope`, and records it on every tape that is watching one of its
 * inputs. Tapes exist only inside `vjp`/`grad`/`valueAndGrad` calls; nothing global is visible.
 */
import { getBackend, withBackend, type Backend } from './backend.js';
import { BackendError, BoundarySegError, InputError } from './errors.js';
import type { PrimName, PrimParams } from './primitives.js';
import type { RandomKey } from './random.js';
import { rules } from './rules.js';
import { setDisposeHook, Tensor } from './tensor.js';

/** One recorded primitive application. */
export interface TapeNode {
  readonly prim: PrimName;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly params: PrimParams[PrimName];
}

/** A recording of the primitives that depend on a set of watched tensors. */
export class Tape {
  readonly nodes: TapeNode[] = [];
  /** Tensors that depend on the watched inputs (the inputs included). */
  readonly tracked = new Set<Tensor>();
  /** Every tensor a node refers to: kept alive while the tape records. */
  readonly held = new Set<Tensor>();
  /** Tensors whose release was asked for while held and no scope could take them. */
  readonly deferred: Tensor[] = [];
}

const recording: Tape[] = [];
const scopes: Set<Tensor>[] = [];

/** Starts recording on a new tape watching `inputs`. */
export function startTape(inputs: readonly Tensor[]): Tape {
  const tape = new Tape();
  for (const t of inputs) tape.tracked.add(t);
  recording.push(tape);
  return tape;
}

/** Stops recording `tape` (which must be the innermost recording tape). */
export function stopTape(tape: Tape): void {
  const i = recording.lastIndexOf(tape);
  if (i >= 0) recording.splice(i, 1);
}

/** Releases what was deferred on a finished tape. */
export function finishTape(tape: Tape): void {
  stopTape(tape);
  for (const t of tape.deferred) releaseOrDefer(t);
  tape.deferred.length = 0;
}

function isHeld(t: Tensor): boolean {
  for (const tape of recording) if (tape.held.has(t)) return true;
  return false;
}

function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/**
 * Releases a tensor unless a recording tape still needs it for its backward pass; then it moves to
 * the innermost open scope (or, with none open, waits on the tape).
 */
function releaseOrDefer(t: Tensor): void {
  if (t.isDisposed) return;
  if (!isHeld(t)) {
    t.release();
    return;
  }
  const open = scopes[scopes.length - 1];
  if (open) open.add(t);
  else recording[0]!.deferred.push(t);
}

setDisposeHook((t) => {
  for (const s of scopes) s.delete(t);
  releaseOrDefer(t);
});

/** Wraps a tensor made by a backend, registering it in the innermost scope. */
export function adopt(handle: unknown, shape: readonly number[], backend: Backend): Tensor {
  const t = new Tensor(shape, handle, backend);
  track(t);
  return t;
}

/** Uploads host values as a new tensor on the selected backend. */
export function upload(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  const backend = getBackend();
  return adopt(backend.upload(values, shape), shape, backend);
}

/**
 * Runs one primitive: checks inputs and shapes, runs the kernel, records on tapes.
 * `names` are the argument names used in error messages.
 */
export function runPrim<P extends PrimName>(prim: P, inputs: readonly Tensor[], params: PrimParams[P], names?: readonly string[]): Tensor {
  const backend = getBackend();
  const handles: unknown[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    const name = names?.[i] ?? `input ${i}`;
    if (!(x instanceof Tensor)) throw new InputError(prim, name, `expected a Tensor, got ${describeValue(x)}`);
    x.assertLive(prim, name);
    if (x.backend === backend) handles[i] = x.handle;
    else if (tracer && backend === tracer.recorder && x.backend === tracer.target) handles[i] = tracer.capture(x);
    else throw new BackendError(prim, name, `tensor #${x.id} lives on backend '${x.backend.name}' but the selected backend is '${backend.name}'`);
  }
  const rule = rules[prim];
  const outShape = rule.shape(inputs.map((x) => x.shape), params);
  let handle: unknown;
  try {
    handle = backend.kernels[prim](
      inputs.map((x, i) => ({ handle: handles[i], shape: x.shape })),
      outShape,
      params,
    );
  } catch (e) {
    if (e instanceof BoundarySegError) throw e;
    throw new BackendError(prim, 'kernel', `backend '${backend.name}' failed: ${(e as Error).message}`);
  }
  const out = adopt(handle, outShape, backend);
  for (const tape of recording) {
    if (inputs.some((x) => tape.tracked.has(x))) {
      tape.nodes.push({ prim, inputs, output: out, params });
      tape.tracked.add(out);
      for (const x of inputs) tape.held.add(x);
      tape.held.add(out);
    }
  }
  return out;
}

/**
 * @internal what `jit` installs while it traces: the recorder backend, the backend whose tensors
 * the traced function may close over, and how such a tensor becomes a constant of the graph.
 */
export interface Tracer {
  readonly recorder: Backend;
  readonly target: Backend;
  capture(t: Tensor): unknown;
  /** A value the host computes afresh on every call from the call's key arguments. */
  host(shape: readonly number[], compute: (keys: readonly RandomKey[]) => ArrayLike<number>): unknown;
}

let tracer: Tracer | undefined;

/**
 * @internal runs `fn` with `t` as the active tracer and its recorder as the selected backend
 * (restoring both after).
 */
export function withTracer<T>(t: Tracer, fn: () => T): T {
  const saved = tracer;
  tracer = t;
  try {
    return withBackend(t.recorder, fn);
  } finally {
    tracer = saved;
  }
}

/** @internal the active tracer, if a `jit` trace is running. */
export function activeTracer(): Tracer | undefined {
  return tracer;
}

/**
 * @internal true when a recording tape watches a tensor of `tree` (a gradient is being taken
 * through it). Walks the tree only while some tape records.
 */
export function isWatched(tree: unknown): boolean {
  if (recording.length === 0) return false;
  for (const t of collectTensors(tree)) for (const tape of recording) if (tape.tracked.has(t)) return true;
  return false;
}

/** Makes an untracked alias of `x` (same values, not recorded on any tape). */
export function detach(x: Tensor): Tensor {
  x.assertLive('stopGradient', 'x');
  const backend = tracer && x.backend === tracer.target ? tracer.recorder : x.backend;
  const handle = backend === x.backend ? x.handle : tracer!.capture(x);
  return adopt(backend.kernels.reshape([{ handle, shape: x.shape }], x.shape, { shape: x.shape }), x.shape, backend);
}

function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

/** Collects the tensors of a tree (nested arrays and plain objects). */
export function collectTensors(tree: unknown, out: Set<Tensor> = new Set()): Set<Tensor> {
  if (tree instanceof Tensor) out.add(tree);
  else if (Array.isArray(tree)) for (const x of tree) collectTensors(x, out);
  else if (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    for (const x of Object.values(tree)) collectTensors(x, out);
  }
  return out;
}

function closeScope(created: Set<Tensor>, keep: Set<Tensor>): void {
  const parent = scopes[scopes.length - 1];
  for (const t of created) {
    if (t.isDisposed) continue;
    if (keep.has(t) || isHeld(t)) parent?.add(t);
    else t.release();
  }
}

/**
 * Runs a synchronous function and releases every tensor created inside it, except those in the
 * value it returns (any tree of arrays and plain objects), which move to the enclosing scope.
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopes.push(created);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    closeScope(created, new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    closeScope(created, new Set());
    throw new InputError('scope', 'fn', 'expected a synchronous function; it returned a Promise (await outside the scope)');
  }
  closeScope(created, collectTensors(result));
  return result;
}

/** Excludes a tensor (or every tensor of a tree) from automatic release by enclosing scopes. */
export function keep<T>(tree: T): T {
  for (const t of collectTensors(tree)) for (const s of scopes) s.delete(t);
  return tree;
}

/** Releases every tensor of a tree now. */
export function dispose(tree: unknown): void {
  for (const t of collectTensors(tree)) t.dispose();
}

/**
 * Wraps a public op so that it runs in its own scope: only its result survives, whatever
 * intermediates (and number-to-scalar conversions) it made.
 */
export function scoped<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args: A) => scope(() => fn(...args));
}
