/**
 * Runs benchmark workloads and prints the benchmark lines:
 *   `<workload> [<backend>]: <ms> ms (<GFLOP/s> GFLOP/s)`
 * (each followed by the contestant's notes, if any), ratio lines, and one `summary:` line per
 * headline workload for the fastest project contestant.
 * Every timed iteration awaits its result (benchmark.js `defer: true`). A contestant slower than
 * 2 s per iteration gets one warm-up and two timed runs instead.
 */
import Benchmark from 'benchmark';
import type { Contestant, Workload } from './workload.js';

/** A measured contestant. */
export interface Measurement {
  readonly workload: string;
  readonly backend: string;
  readonly project: boolean;
  readonly ms: number;
}

const SLOW_MS = 2000;

async function once(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Mean milliseconds per iteration of `fn`. */
async function timeIt(fn: () => Promise<void> | void, maxTime: number): Promise<number> {
  const first = await once(fn);
  if (first > SLOW_MS) {
    const a = await once(fn);
    const b = await once(fn);
    return (a + b) / 2;
  }
  return new Promise<number>((resolve, reject) => {
    const bench = new Benchmark({
      defer: true,
      maxTime,
      minSamples: 3,
      fn: (deferred: { resolve(): void }) => {
        Promise.resolve(fn()).then(() => deferred.resolve(), reject);
      },
      onComplete: () => resolve(bench.stats.mean * 1000),
      onError: (e: unknown) => reject(e),
    });
    bench.run({ async: true });
  });
}

function format(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3);
}

async function measure(w: Workload, c: Contestant, maxTime: number): Promise<number> {
  await c.setup?.();
  try {
    if (c.selfTimed) return await c.selfTimed();
    if (!c.fn) throw new Error('contestant has neither fn nor selfTimed');
    return await timeIt(c.fn, maxTime);
  } finally {
    await c.teardown?.();
  }
}

/** Runs the workloads whose names match `only` (a case-insensitive regular expression). */
export async function runWorkloads(workloads: readonly Workload[], options: { only?: string; maxTime?: number; log?: (line: string) => void } = {}): Promise<Measurement[]> {
  const log = options.log ?? ((l: string) => console.log(l));
  const pattern = options.only ? new RegExp(options.only, 'i') : undefined;
  const results: Measurement[] = [];
  const headline: Workload[] = [];
  for (const w of workloads) {
    if (pattern && !pattern.test(w.name)) continue;
    if (w.headline) headline.push(w);
    for (const c of w.contestants) {
      if (c.skip) {
        log(`${w.name} [${c.backend}]: skipped (${c.skip})`);
        continue;
      }
      try {
        const ms = await measure(w, c, options.maxTime ?? 3);
        const rate = w.flops ? ` (${(w.flops / (ms * 1e6)).toFixed(1)} GFLOP/s)` : '';
        log(`${w.name} [${c.backend}]: ${format(ms)} ms${rate}`);
        for (const line of c.notes?.() ?? []) log(line);
        results.push({ workload: w.name, backend: c.backend, project: c.project, ms });
      } catch (e) {
        log(`${w.name} [${c.backend}]: skipped (failed: ${(e as Error).message.split('\n')[0]})`);
      }
    }
    for (const [num, den] of w.ratios ?? []) {
      const a = results.find((r) => r.workload === w.name && r.backend === num);
      const b = results.find((r) => r.workload === w.name && r.backend === den);
      if (a && b) log(`ratio ${w.name}: ${num} / ${den} = ${(a.ms / b.ms).toFixed(2)}x`);
    }
  }
  for (const w of headline) {
    const best = results.filter((r) => r.workload === w.name && r.project).sort((a, b) => a.ms - b.ms)[0];
    if (best) log(`summary: ${w.name}: ${format(best.ms)} ms [${best.backend}]`);
  }
  return results;
}
