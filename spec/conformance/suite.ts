/**
 * The conformance suite, written once and run per backend: every case of `cases.ts` is evaluated
 * on the backend under test and on `cpu64` (float64 reference kernels), values and gradients
 * compared at the tolerance the backend states.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import '../../backends/register.js';
import * as core from '../../core/index.js';
import { PRIM_NAMES, type PrimName } from '../../core/primitives.js';
import type { Tensor } from '../../core/tensor.js';
import { cases, type Case, type Draw } from './cases.js';
import { rng, values } from './values.js';

/** A backend under test. */
export interface ConformanceTarget {
  /** Backend name and options for `setBackend`. */
  readonly backend: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Largest allowed |got − ref| / max(1, max |ref|), for values and gradients. */
  readonly tolerance: number;
  /** fast-check runs per case (random shapes), or a fixed pool of draws per case (`pool` > 0). */
  readonly numRuns: number;
  /** When > 0, each case draws its shapes from a fixed pool of this many (one compile each). */
  readonly pool?: number;
  /** Called after each case with the backend, e.g. to assert which kernel class ran. */
  readonly afterCase?: (c: Case, backend: core.Backend) => void | Promise<void>;
}

/** Values and gradients of one case on one backend. */
interface Outcome {
  readonly value: Float64Array;
  readonly shape: readonly number[];
  readonly grads: Float64Array[];
}

async function evaluate(backend: string, options: Readonly<Record<string, unknown>>, c: Case, draw: Draw<unknown>, seed: number): Promise<Outcome> {
  await core.setBackend(backend, options);
  const rand = rng(seed);
  const host = draw.shapes.map((s, i) => values(c.kinds[i]!, core.sizeOf(s), rand));
  const weights = (shape: readonly number[]) => values('any', core.sizeOf(shape), rng(seed ^ 0x5bd1e995));
  const diff = c.diff ?? c.kinds.map((k) => k !== 'binary' && k !== 'smallInt');
  const live = core.memory().buffers;
  const tensors: Tensor[] = [];
  const result = core.scope(() => {
    const xs = host.map((v, i) => core.tensor(v, draw.shapes[i]!));
    const y = c.run(xs, draw.params);
    if (c.grad === false) return { y, grads: [] as Tensor[] };
    const r = core.tensor(weights(y.shape), y.shape);
    const wrt = xs.filter((_, i) => diff[i]);
    const [, g] = core.valueAndGrad((ps: Tensor[]) => {
      const all = xs.map((x) => (wrt.includes(x) ? ps[wrt.indexOf(x)]! : x));
      return core.sum(core.mul(c.run(all, draw.params), r));
    })(wrt);
    return { y, grads: g };
  });
  tensors.push(result.y, ...result.grads);
  const out: Outcome = {
    value: await result.y.dataFloat64(),
    shape: result.y.shape,
    grads: await Promise.all(result.grads.map((g) => g.dataFloat64())),
  };
  core.dispose(tensors);
  assert.equal(core.memory().buffers, live, `${c.name} on ${backend}: buffers leaked`);
  return out;
}

function maxRelErr(got: Float64Array, ref: Float64Array): number {
  let scale = 1;
  for (const v of ref) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = got[i]!;
    const b = ref[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      if (a !== b) return Infinity;
      continue;
    }
    err = Math.max(err, Math.abs(a - b) / scale);
  }
  return err;
}

/** Registers the suite for one backend with node:test. */
export function conformanceSuite(target: ConformanceTarget): void {
  const label = `${target.backend}${target.options?.['mode'] ? `:${String(target.options['mode'])}` : ''}`;
  const options = target.options ?? {};
  describe(`conformance on ${label} (against cpu64, tolerance ${target.tolerance})`, () => {
    test('the cases exercise every primitive', () => {
      const covered = new Set<PrimName>(cases.flatMap((c) => c.prims));
      assert.deepEqual(PRIM_NAMES.filter((p) => !covered.has(p)), []);
    });
    for (const c of cases) {
      test(c.name, async () => {
        const arb = target.pool ? fc.constantFrom(...fc.sample(c.arb, { seed: 1234, numRuns: target.pool })) : c.arb;
        await fc.assert(
          fc.asyncProperty(arb, fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (draw, seed) => {
            const ref = await evaluate('cpu64', {}, c, draw, seed);
            const got = await evaluate(target.backend, options, c, draw, seed);
            assert.deepEqual(got.shape, ref.shape, `${c.name}: output shape`);
            const ev = maxRelErr(got.value, ref.value);
            assert.ok(ev <= target.tolerance, `${c.name}: value error ${ev} > ${target.tolerance} for shapes ${JSON.stringify(draw.shapes)}`);
            got.grads.forEach((g, i) => {
              const eg = maxRelErr(g, ref.grads[i]!);
              assert.ok(eg <= target.tolerance, `${c.name}: gradient ${i} error ${eg} > ${target.tolerance} for shapes ${JSON.stringify(draw.shapes)}`);
            });
          }),
          { seed: 20261126, numRuns: target.numRuns },
        );
        if (target.afterCase) {
          await core.setBackend(target.backend, options);
          await target.afterCase(c, core.getBackend());
        }
      });
    }
  });
}
