/**
 * What one training step costs besides its time: the backend's execution counters
 * (`Backend.stats()`: kernels, allocations) and, on synchronous backends, where the time goes
 * (convolution-family kernels, the other kernels, and the engine's own JavaScript between them).
 *
 * The time split wraps the backend's kernel table for a few extra steps after the timed ones: each
 * kernel call is timed with `performance.now()` (a few hundred calls per step: well under 1 % of
 * it). It is only meaningful where a kernel has finished when its call returns (`wasm`, `cpu`); a
 * GPU backend's calls only enqueue work. Kernels that do not go through the table (fused kernels
 * compiled by `jit`) are counted in "outside the convolution family" with the rest.
 */
import type { Backend, BackendStats, KernelTable } from '../core/backend.js';
import { PRIM_NAMES, type PrimName } from '../core/primitives.js';

/** The primitives of the convolution family (forward, input gradient, filter gradient). */
export const CONVOLUTION_FAMILY: readonly PrimName[] = ['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'];

/** The backend's counters, or why there are none. */
function readStats(backend: Backend): BackendStats | string {
  const stats = (backend as Partial<Pick<Backend, 'stats'>>).stats;
  if (typeof stats !== 'function') return `backend '${backend.name}' has no stats() yet`;
  try {
    return stats.call(backend);
  } catch (e) {
    return `backend '${backend.name}'.stats() failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/**
 * Counts what steps cost in `Backend.stats()` terms: call `around(step)` instead of `step()`, then
 * `lines()` describes the last step measured.
 */
export class StepCounter {
  #last: { kernels: number; allocations?: number } | string | undefined;

  /** Runs `step`, recording the difference in the backend's counters over it. */
  async around<T>(backend: Backend, step: () => Promise<T>): Promise<T> {
    const before = readStats(backend);
    const out = await step();
    const after = readStats(backend);
    if (typeof before === 'string') this.#last = before;
    else if (typeof after === 'string') this.#last = after;
    else {
      const allocations = before.allocations !== undefined && after.allocations !== undefined ? after.allocations - before.allocations : undefined;
      this.#last = { kernels: after.kernels - before.kernels, ...(allocations !== undefined ? { allocations } : {}) };
    }
    return out;
  }

  /** `kernels per step: N` and, when the backend reports them, `allocations per step: N`. */
  lines(): string[] {
    const last = this.#last;
    if (last === undefined) return ['kernels per step: not measured (no step ran)'];
    if (typeof last === 'string') return [`kernels per step: not reported (${last})`];
    return [`kernels per step: ${last.kernels}`, ...(last.allocations !== undefined ? [`allocations per step: ${last.allocations}`] : [])];
  }
}

/** Time and calls of one primitive's kernel, summed over the profiled steps. */
interface PrimTime {
  calls: number;
  ms: number;
}

/** Where the time of a step went (per step, averaged over the profiled steps). */
export interface StepSplit {
  readonly steps: number;
  /** Wall time of one step. */
  readonly stepMs: number;
  /** Kernel time and calls by primitive, per step. */
  readonly byPrim: ReadonlyMap<PrimName, { readonly calls: number; readonly ms: number }>;
}

/**
 * Runs `steps` steps with every kernel of `backend` timed (the kernel table is wrapped for the
 * duration and restored after). Returns why not when the table cannot be wrapped.
 */
export async function profileSteps(backend: Backend, steps: number, step: () => Promise<unknown>): Promise<StepSplit | string> {
  const desc = Object.getOwnPropertyDescriptor(backend, 'kernels');
  if (!desc || !('value' in desc) || !desc.writable) return `backend '${backend.name}' kernel table cannot be wrapped`;
  const table = desc.value as KernelTable<unknown>;
  const totals = new Map<PrimName, PrimTime>();
  const wrapped: Record<string, unknown> = {};
  for (const p of PRIM_NAMES) {
    const k = table[p] as (...args: unknown[]) => unknown;
    const t: PrimTime = { calls: 0, ms: 0 };
    totals.set(p, t);
    wrapped[p] = (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return k(...args);
      } finally {
        t.ms += performance.now() - t0;
        t.calls++;
      }
    };
  }
  const mutable = backend as { kernels: KernelTable<unknown> };
  mutable.kernels = wrapped as unknown as KernelTable<unknown>;
  let wall = 0;
  try {
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await step();
      wall += performance.now() - t0;
    }
  } finally {
    mutable.kernels = table;
  }
  const byPrim = new Map<PrimName, { calls: number; ms: number }>();
  for (const [p, t] of totals) if (t.calls > 0) byPrim.set(p, { calls: t.calls / steps, ms: t.ms / steps });
  return { steps, stepMs: wall / steps, byPrim };
}

/**
 * One line: `time split: <workload> [<config>]: S ms per step (...): convolution family C ms (...),
 * outside it O ms: other kernels K ms (...), engine and JavaScript between kernels E ms`.
 */
export function splitLine(workload: string, config: string, split: StepSplit | string): string {
  if (typeof split === 'string') return `time split: ${workload} [${config}]: not measured (${split})`;
  const f = (ms: number) => ms.toFixed(1);
  const pct = (ms: number) => `${((100 * ms) / split.stepMs).toFixed(0)} %`;
  let convMs = 0;
  let convCalls = 0;
  const convParts: string[] = [];
  const names: Partial<Record<PrimName, string>> = { conv2d: 'forward', conv2dBackpropInput: 'input gradient', conv2dBackpropFilter: 'filter gradient' };
  for (const p of CONVOLUTION_FAMILY) {
    const t = split.byPrim.get(p);
    if (!t) continue;
    convMs += t.ms;
    convCalls += t.calls;
    convParts.push(`${names[p]} ${f(t.ms)}`);
  }
  const others = [...split.byPrim].filter(([p]) => !CONVOLUTION_FAMILY.includes(p)).sort((a, b) => b[1].ms - a[1].ms);
  const otherMs = others.reduce((s, [, t]) => s + t.ms, 0);
  const otherCalls = others.reduce((s, [, t]) => s + t.calls, 0);
  const top = others.slice(0, 4).map(([p, t]) => `${p} ${f(t.ms)}`).join(', ');
  const outside = split.stepMs - convMs;
  return `time split: ${workload} [${config}]: ${f(split.stepMs)} ms per step (mean of ${split.steps} profiled steps): ` +
    `convolution family ${f(convMs)} ms (${pct(convMs)}; ${convParts.join(', ')}; ${convCalls} calls), ` +
    `outside it ${f(outside)} ms (${pct(outside)}): other kernels ${f(otherMs)} ms (${otherCalls} calls; most: ${top}), ` +
    `engine and JavaScript between kernels ${f(outside - otherMs)} ms`;
}
