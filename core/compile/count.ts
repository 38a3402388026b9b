/** Kernel counting shared by the backends' `stats()`. */
import type { KernelTable } from '../backend.js';
import { PRIM_NAMES, type PrimName } from '../primitives.js';

/**
 * Wraps every kernel of a table so that each call adds one to `counter.kernels`, except the
 * primitives in `free` (those that only relabel a buffer and run nothing).
 */
export function countKernels<H>(table: KernelTable<H>, counter: { kernels: number }, free: readonly PrimName[] = []): KernelTable<H> {
  const out: Record<string, unknown> = {};
  for (const p of PRIM_NAMES) {
    const k = table[p] as (...args: unknown[]) => H;
    out[p] = free.includes(p) ? k : (...args: unknown[]) => {
      counter.kernels++;
      return k(...args);
    };
  }
  return out as unknown as KernelTable<H>;
}
