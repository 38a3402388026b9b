/**
 * The conformance suite on one gpu.js mode (used by `conformance-gpujs-<mode>.test.ts`): every
 * case against cpu64 at the mode's tolerance, shapes from a small fixed pool (each distinct shape
 * is one kernel compile), and after every case an assertion of the kernel class that ran each
 * primitive, forward and backward. Prints the mode's time and kernel compile count.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { PRIM_NAMES } from '../core/primitives.js';
import type { GpujsBackend } from '../backends/gpujs/backend.js';
import { headlessGlProblem, probeWebGpu, releaseWebGpu } from '../backends/gpujs/runtime.js';
import type { GpujsRunMode } from '../backends/gpujs/settings.js';
import { conformanceSuite } from './conformance/suite.js';

/** Per-mode settings of the suite. */
export interface GpujsConformanceOptions {
  readonly tolerance: number;
  readonly pool: number;
  readonly numRuns: number;
}

const inCi = (): boolean => process.env['CI'] === 'true' || process.env['CI'] === '1';

/**
 * Why `mode` cannot run here, or undefined. GL: a missing gl build or display. WebGPU: no
 * adapter (skipped visibly; CI machines have no GPU).
 */
export async function unavailable(mode: GpujsRunMode): Promise<string | undefined> {
  if (mode === 'headlessgl') return headlessGlProblem();
  if (mode === 'webgpu') {
    const probe = await probeWebGpu();
    await releaseWebGpu();
    return probe.adapter ? undefined : probe.problem;
  }
  return undefined;
}

/**
 * Registers a test that fails (CI, or a mode that must run) or a visibly skipped test when the
 * mode is unavailable; returns true when the mode can run.
 */
export async function requireMode(mode: GpujsRunMode, what: string): Promise<boolean> {
  const problem = await unavailable(mode);
  if (problem === undefined) return true;
  // NOTE: CI installs a software Vulkan driver (lavapipe) for the WebGPU files: a missing adapter
  // there fails instead of skipping.
  const mustRun = (mode === 'headlessgl' || mode === 'webgpu') && inCi();
  const message = `gpujs:${mode} ${what} ${mustRun ? 'cannot run' : 'SKIPPED'}: ${problem}`;
  console.log(message);
  if (mustRun) test(`gpujs:${mode} is available (CI=true requires ${mode === 'webgpu' ? 'a WebGPU adapter: bench/device/lavapipe.sh' : 'the gl build and xvfb'})`, () => assert.fail(message));
  else test(`gpujs:${mode} ${what}`, { skip: message }, () => undefined);
  if (mode === 'webgpu') {
    // what does run without an adapter: the probe answers and lets go of Dawn (or Node would not exit)
    test('without an adapter the WebGPU probe answers and releases navigator.gpu', () => {
      assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined, 'navigator.gpu released');
    });
  }
  return false;
}

/** Registers the conformance suite on a gpu.js mode. */
export async function gpujsConformance(mode: GpujsRunMode, opts: GpujsConformanceOptions): Promise<void> {
  if (!(await requireMode(mode, 'conformance'))) return;
  const options = { mode };
  let backend: GpujsBackend | undefined;
  let started = 0;
  const ranOn = new Map<string, Set<string>>();

  before(async () => {
    await core.setBackend('gpujs', options);
    backend = core.getBackend() as GpujsBackend;
    backend.resetPrimStats();
    started = performance.now();
  });

  conformanceSuite({
    backend: 'gpujs',
    options,
    tolerance: opts.tolerance,
    numRuns: opts.numRuns,
    pool: opts.pool,
    afterCase: (c, b) => {
      const g = b as GpujsBackend;
      const s = g.stats();
      assert.deepEqual(s.fallbacks, [], `${c.name}: gpu.js degraded kernels`);
      for (const [prim, classes] of Object.entries(s.byPrim)) {
        for (const cls of Object.keys(classes)) {
          assert.ok(cls === g.expectedKernelClass || cls === 'host' || cls === 'view', `${c.name}: primitive ${prim} ran on ${cls}, expected ${g.expectedKernelClass}`);
          let set = ranOn.get(prim);
          if (!set) ranOn.set(prim, (set = new Set()));
          set.add(cls);
        }
      }
      for (const p of c.prims) assert.ok(p in s.byPrim, `${c.name}: primitive ${p} never ran`);
      g.resetPrimStats();
    },
  });

  describe(`gpujs:${mode} kernel classes`, () => {
    test('every primitive ran a kernel of the expected class (values and gradients)', () => {
      const expected = backend!.expectedKernelClass;
      const missing = PRIM_NAMES.filter((p) => p !== 'reshape' && !ranOn.get(p)?.has(expected));
      assert.deepEqual(missing, [], `primitives that never ran on ${expected}: ${missing.join(', ')}`);
      assert.deepEqual([...(ranOn.get('reshape') ?? [])], ['view'], 'reshape is a view: no kernel');
    });
  });

  after(async () => {
    const s = backend?.stats();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (s) console.log(`gpujs:${mode} conformance: ${seconds} s, ${s.compiles} kernel compiles, ${s.evictions} evictions, tolerance ${opts.tolerance}`);
    await backend?.dispose();
  });
}
