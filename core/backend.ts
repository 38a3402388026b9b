/**
 * The backend contract and the backend registry. The core dispatches every primitive through the
 * selected backend and imports no backend itself: backends register here (the package root and
 * `boundary-seg/backends` register the built-in ones).
 *
 * NOTE: the contract lives in `core/` (not `backends/`) because the core must call it and imports
 * nothing of ours outside `core/`; `backends/` implements it.
 */
import { BackendError, BoundarySegError } from './errors.js';
import type { FusedBatch, FusedBatchRunner, FusedKernel, FusedRunner } from './compile/fused.js';
import type { PrimName, PrimParams } from './primitives.js';
import type { Shape } from './shape.js';

/** An input of a kernel: the backend's own handle and the logical shape. */
export interface KernelInput<H> {
  readonly handle: H;
  readonly shape: Shape;
}

/** One kernel: inputs (already shape-checked by the core), the output shape, the parameters. */
export type Kernel<P extends PrimName, H> = (inputs: readonly KernelInput<H>[], outShape: Shape, params: PrimParams[P]) => H;

/** One kernel per primitive; a backend missing one does not compile. */
export type KernelTable<H> = { readonly [P in PrimName]: Kernel<P, H> };

/** What `describe()` reports. */
export interface BackendDescription {
  readonly name: string;
  /** e.g. gpu.js mode (`webgpu`, `headlessgl`, `webasm`, `cpu`). */
  readonly mode?: string;
  /** The class that ran the kernels (e.g. gpu.js's `WebGLKernel`). */
  readonly kernelClass?: string;
  /** GL/WebGPU renderer or adapter name. */
  readonly renderer?: string;
  /** True for software rasterisers (llvmpipe, softpipe, SwiftShader): never a GPU run. */
  readonly software?: boolean;
  /** Storage precision of the kernels. */
  readonly precision?: 'float32' | 'float64';
}

/** Live-buffer accounting. */
export interface MemoryInfo {
  readonly buffers: number;
  readonly bytes: number;
}

/**
 * Execution counters, since the backend was created.
 * - `kernels`: executions of a primitive or of a fused group, however many phases or threads each
 *   takes (a reshape that only relabels a buffer runs nothing and is not counted);
 * - `submits`: queue submissions, where the backend has a queue;
 * - `allocations`: buffers created fresh rather than taken from the backend's pool of released
 *   buffers.
 */
export interface BackendStats {
  readonly kernels: number;
  readonly submits?: number;
  readonly allocations?: number;
}

/**
 * A backend: storage plus one kernel per primitive. Handles are opaque to the core.
 * Kernels must not mutate their inputs.
 */
export interface Backend<H = unknown> {
  readonly name: string;
  /** Stores values (given in row-major order) as a new buffer. */
  upload(values: ArrayLike<number>, shape: Shape): H;
  /** Reads a buffer back; resolves after every pending kernel writing it has run. */
  read(handle: H): Promise<Float32Array | Float64Array>;
  /** Synchronous read where the backend can honour it. Library code does not use it. */
  readSync?(handle: H): Float32Array | Float64Array;
  /** Releases a buffer (deferred by the backend until pending kernels reading it have run). */
  release(handle: H): void;
  /** Live buffers and their bytes. */
  memory(): MemoryInfo;
  /** What runs the kernels. */
  describe(): Promise<BackendDescription>;
  /** Execution counters (see `BackendStats`). */
  stats(): BackendStats;
  /** The kernels. */
  readonly kernels: KernelTable<H>;
  /**
   * Optional: compiles a fused elementwise kernel (the IR of `core/compile/fused.ts`) that `jit`
   * made from a chain of primitives. The runner must give bit-identical results to running those
   * primitives one by one with `kernels`. A backend without it replays them one by one.
   */
  compileFused?(kernel: FusedKernel): FusedRunner<H>;
  /**
   * Optional: compiles one fused program applied to several independent groups in one launch
   * (`FusedBatch`). Each segment's outputs must be bit-identical to running `compileFused` on it
   * alone. A backend without it runs the groups one by one.
   */
  compileFusedBatch?(batch: FusedBatch): FusedBatchRunner<H>;
  /** @internal true for the recorder `jit` traces with: its tensors have no values to read. */
  readonly traceOnly?: boolean;
}

/** How a backend is created and ranked. */
export interface BackendFactory {
  readonly name: string;
  /**
   * Higher wins when no backend was chosen (explicitly or by `BOUNDARY_SEG_BACKEND`). Only
   * synchronous, deterministic CPU backends should have a positive priority.
   */
  readonly priority: number;
  /** Creates the backend; may be asynchronous (GPU adapters). */
  create(options: Readonly<Record<string, unknown>>): Backend | Promise<Backend>;
}

const factories = new Map<string, BackendFactory>();
/** Backends already created, by name and options: selecting one again reuses it. */
const instances = new Map<string, Backend>();
let current: Backend | undefined;

function instanceKey(name: string, options: Readonly<Record<string, unknown>>): string {
  return `${name}:${JSON.stringify(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/** Registers a backend under its name (re-registering a name replaces it). */
export function registerBackend(factory: BackendFactory): void {
  factories.set(factory.name, factory);
  for (const k of [...instances.keys()]) if (k.startsWith(`${factory.name}:`)) instances.delete(k);
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...factories.keys()];
}

function factoryFor(op: string, name: string): BackendFactory {
  if (factories.size === 0) {
    throw new BackendError(op, 'name', 'no backend registered: import the package root or `boundary-seg/backends`');
  }
  const factory = factories.get(name);
  if (!factory) {
    throw new BackendError(op, 'name', `unknown backend '${name}'; registered: ${[...factories.keys()].join(', ')}`);
  }
  return factory;
}

/** Parses `name[:mode]` as used by `BOUNDARY_SEG_BACKEND` and `--backend`. */
export function parseBackendSpec(spec: string): { name: string; options: Record<string, unknown> } {
  const [name, mode] = spec.split(':', 2) as [string, string | undefined];
  return { name: name.trim(), options: mode ? { mode: mode.trim() } : {} };
}

/**
 * Selects the backend by name, creating it with `options` the first time (later calls with the
 * same name and options reuse it, tensors included). Tensors made on another backend cannot be
 * mixed with tensors of this one.
 *
 * @example
 * import { setBackend, getBackend, tensor, add } from 'boundary-seg';
 *
 * await setBackend('cpu64');                 // float64 kernels, for derivative checks
 * console.log(getBackend().name, await add(tensor([1]), tensor([2])).data());
 * await setBackend('wasm');                  // back to the default
 */
export async function setBackend(name: string, options: Readonly<Record<string, unknown>> = {}): Promise<void> {
  const factory = factoryFor('setBackend', name);
  const k = instanceKey(name, options);
  const existing = instances.get(k);
  if (existing) {
    current = existing;
    return;
  }
  try {
    current = await factory.create(options);
    instances.set(k, current);
  } catch (e) {
    if (e instanceof BoundarySegError) throw e;
    throw new BackendError('setBackend', 'name', `backend '${name}' failed to start: ${(e as Error).message}`);
  }
}

/**
 * The backend `getBackend` creates when none was selected and `BOUNDARY_SEG_BACKEND` is unset: the
 * registered backend of highest priority (the first registered of those when several tie), or
 * undefined when none is registered.
 */
export function defaultBackendName(): string | undefined {
  return [...factories.values()].sort((a, b) => b.priority - a.priority)[0]?.name;
}

function defaultSpec(): { name: string; options: Record<string, unknown> } {
  const env = typeof process !== 'undefined' ? process.env['BOUNDARY_SEG_BACKEND'] : undefined;
  if (env && env.trim() !== '') return parseBackendSpec(env);
  const best = defaultBackendName();
  if (best === undefined) throw new BackendError('getBackend', 'name', 'no backend registered: import the package root or `boundary-seg/backends`');
  return { name: best, options: {} };
}

/**
 * The selected backend. When none was selected, creates the one named by `BOUNDARY_SEG_BACKEND`
 * or else the registered backend of highest priority; that must start synchronously (GPU backends
 * need `await setBackend(...)` first).
 */
export function getBackend(): Backend {
  if (current) return current;
  const { name, options } = defaultSpec();
  const k = instanceKey(name, options);
  const existing = instances.get(k);
  if (existing) return (current = existing);
  const made = factoryFor('getBackend', name).create(options);
  if (made instanceof Promise) {
    made.catch(() => undefined);
    throw new BackendError('getBackend', 'name', `backend '${name}' starts asynchronously: call \`await setBackend('${name}')\` before using tensors`);
  }
  instances.set(k, made);
  current = made;
  return made;
}

/**
 * @internal runs `fn` with `backend` selected in place of the current one (the `jit` tracer),
 * restoring the selection afterwards.
 */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const saved = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/** Live buffers of the selected backend. */
export function memory(): MemoryInfo {
  return getBackend().memory();
}
