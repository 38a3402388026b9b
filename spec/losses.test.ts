/**
 * The tensor losses and their value checks: the paper's and the reference's worked numbers,
 * properties (range, perfect prediction, class permutation, linearity, minimum at the ground
 * truth), plain-JS references, derivative checks on cpu64, argument errors and lifetimes.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import { InputError, ShapeError, dispose, memory, scope, setBackend, softmax, sum, tensor, valueAndGrad, type Tensor } from '../core/index.js';
import {
  boundaryLoss, checkFinite, checkOneHot, checkProbabilities, crossEntropy, crossEntropyWithLogits, diceLoss, focalLoss,
  generalizedDiceLoss, steal, tverskyLoss,
} from '../losses/tensor-losses.js';
import { mulberry32 } from './helpers/numeric.js';

const FC = { seed: 42, numRuns: 15 } as const;

// ---------------------------------------------------------------------------------------------
// Helpers


const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * |actual − expected| ≤ tol. NOTE: every assertion here carries a message: without one,
 * `assert.ok` parses this (tsx-compiled) file to describe a failure, about 10 s each.
 */
function near(actual: number, expected: number, tol: number, label = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${label ? `${label}: ` : ''}${actual} vs ${expected} (tolerance ${tol})`);
}

async function value(x: Tensor): Promise<number> {
  const v = await x.dataFloat64();
  assert.equal(v.length, 1, `expected one value, got shape [${x.shape.join(', ')}]`);
  return v[0]!;
}

async function values(x: Tensor): Promise<number[]> {
  return Array.from(await x.dataFloat64());
}

/** A `[B, K, ...spatial]` problem: softmax probabilities, one-hot target, labels, random maps. */
interface Problem {
  readonly shape: number[];
  readonly probs: Float64Array;
  readonly target: Float64Array;
  readonly labels: number[];
  readonly maps: Float64Array;
  /** Independent values in [0.2, 0.9] (not normalised), for derivative checks. */
  readonly inner: Float64Array;
  readonly direction: Float64Array;
}

function makeProblem(b: number, k: number, spatial: number[], seed: number, present: number = k): Problem {
  const next = mulberry32(seed);
  const n = size(spatial);
  const shape = [b, k, ...spatial];
  const probs = new Float64Array(size(shape));
  const target = new Float64Array(size(shape));
  const labels: number[] = [];
  for (let i = 0; i < b; i++) {
    for (let q = 0; q < n; q++) {
      const logits = Array.from({ length: k }, () => 6 * next() - 3);
      const m = Math.max(...logits);
      const e = logits.map((z) => Math.exp(z - m));
      const total = e.reduce((s, v) => s + v, 0);
      const label = Math.floor(next() * present);
      labels.push(label);
      for (let c = 0; c < k; c++) {
        probs[(i * k + c) * n + q] = e[c]! / total;
        target[(i * k + c) * n + q] = c === label ? 1 : 0;
      }
    }
  }
  const maps = Float64Array.from({ length: probs.length }, () => Math.round(10 * next() - 5) / 2);
  const inner = Float64Array.from({ length: probs.length }, () => 0.2 + 0.7 * next());
  const direction = Float64Array.from({ length: probs.length }, () => 2 * next() - 1);
  return { shape, probs, target, labels, maps, inner, direction };
}

const problemArb = fc
  .record({
    b: fc.integer({ min: 1, max: 2 }),
    k: fc.integer({ min: 2, max: 4 }),
    spatial: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    presentFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ b, k, spatial, seed, presentFraction }) => makeProblem(b, k, spatial, seed, 1 + Math.floor(presentFraction * k * 0.999)));

/** Plain-JS generalized Dice (per image, then mean), the reference's or MONAI's weights. */
function gdlRef(p: ArrayLike<number>, t: ArrayLike<number>, shape: readonly number[], idc: readonly number[], kind: 'reference' | 'monai'): number {
  const [b, k] = [shape[0]!, shape[1]!];
  const n = size(shape.slice(2));
  let total = 0;
  for (let i = 0; i < b; i++) {
    const sums = idc.map((c) => {
      let pt = 0, ps = 0, ts = 0;
      for (let q = 0; q < n; q++) {
        const j = (i * k + c) * n + q;
        pt += p[j]! * t[j]!;
        ps += p[j]!;
        ts += t[j]!;
      }
      return { pt, ps, ts };
    });
    let w: number[];
    if (kind === 'reference') w = sums.map(({ ts }) => 1 / (ts + 1e-10) ** 2);
    else {
      const finite = sums.filter(({ ts }) => ts > 0).map(({ ts }) => 1 / ts ** 2);
      const fill = finite.length ? Math.max(...finite) : 1;
      w = sums.map(({ ts }) => (ts > 0 ? 1 / ts ** 2 : fill));
    }
    const inter = sums.reduce((s, { pt }, c) => s + w[c]! * pt, 0);
    const union = sums.reduce((s, { ps, ts }, c) => s + w[c]! * (ps + ts), 0);
    total += 1 - (2 * (inter + 1e-10)) / (union + 1e-10);
  }
  return total / b;
}

/** Plain-JS soft Dice loss, mean over images and classes. */
function diceRef(p: ArrayLike<number>, t: ArrayLike<number>, shape: readonly number[], smooth = 1e-5): number {
  const [b, k] = [shape[0]!, shape[1]!];
  const n = size(shape.slice(2));
  let total = 0;
  for (let i = 0; i < b; i++) {
    for (let c = 0; c < k; c++) {
      let pt = 0, ps = 0, ts = 0;
      for (let q = 0; q < n; q++) {
        const j = (i * k + c) * n + q;
        pt += p[j]! * t[j]!;
        ps += p[j]!;
        ts += t[j]!;
      }
      total += 1 - (2 * pt + smooth) / (ps + ts + smooth);
    }
  }
  return total / (b * k);
}

/** Permutes axis 1 of a `[B, K, ...]` flat array: output class c is input class perm[c]. */
function permuteClasses(x: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float64Array {
  const [b, k] = [shape[0]!, shape[1]!];
  const n = size(shape.slice(2));
  const out = new Float64Array(x.length);
  for (let i = 0; i < b; i++) for (let c = 0; c < k; c++) for (let q = 0; q < n; q++) out[(i * k + c) * n + q] = x[(i * k + perm[c]!) * n + q]!;
  return out;
}

/**
 * Central-difference check of ∂f/∂x along a direction v, on cpu64: step 1e-4, relative
 * tolerance 1e-6 (of the larger of the two directional derivatives, at least 1e-3).
 */
async function checkDerivative(f: (x: Tensor) => Tensor, x0: Float64Array, v: Float64Array, shape: number[], label: string): Promise<void> {
  const h = 1e-4;
  const x = tensor(x0, shape);
  const [, g] = valueAndGrad(f)(x);
  const grad = await g.dataFloat64();
  const analytic = grad.reduce((s, gi, i) => s + gi * v[i]!, 0);
  const at = async (sign: number) => value(scope(() => f(tensor(x0.map((xi, i) => xi + sign * h * v[i]!), shape))));
  const numeric = ((await at(1)) - (await at(-1))) / (2 * h);
  dispose([x, g]);
  const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3);
  assert.ok(Math.abs(analytic - numeric) <= 1e-6 * scale, `${label}: analytic ${analytic} vs central difference ${numeric}`);
}

/** The reference-convention signed distance map of a binary mask on a grid, by brute force. */
function bruteForceSdm(mask: readonly number[], dims: readonly number[]): number[] {
  const coords = (i: number) => {
    const c: number[] = [];
    for (let a = dims.length - 1, r = i; a >= 0; a--) {
      c.unshift(r % dims[a]!);
      r = Math.floor(r / dims[a]!);
    }
    return c;
  };
  const dist = (i: number, j: number) => Math.hypot(...coords(i).map((ci, a) => ci - coords(j)[a]!));
  const inside = mask.filter(Boolean).length;
  if (inside === 0 || inside === mask.length) return mask.map(() => 0);
  return mask.map((m, i) => {
    let best = Infinity;
    mask.forEach((o, j) => {
      if (o !== m) best = Math.min(best, dist(i, j));
    });
    // φ = EDT(¬m)·¬m − (EDT(m) − 1)·m
    return m ? 1 - best : best;
  });
}

// The 1-D worked example of docs/conventions.md.
const MASK = [0, 0, 1, 1, 1, 0];
const P1 = [0.1, 0.2, 0.8, 0.9, 0.7, 0.3];
const PHI1 = [2, 1, 0, -1, 0, 1];
const PHI0 = [-1, 0, 1, 2, 1, 0];
const worked = () => ({
  probs: tensor([[P1.map((p) => 1 - p), P1]]),
  target: tensor([[MASK.map((m) => 1 - m), MASK]]),
  maps: tensor([[PHI0, PHI1]]),
});

before(async () => {
  await setBackend('cpu64');
});

// ---------------------------------------------------------------------------------------------

describe('boundaryLoss', () => {
  test('brute-force maps of the worked example (docs/conventions.md) match', () => {
    assert.deepEqual(bruteForceSdm(MASK, [6]), PHI1);
    assert.deepEqual(bruteForceSdm(MASK.map((m) => 1 - m), [6]), PHI0);
  });

  test('worked example: −0.0333333 on class 1 (mean), −1/6 at a perfect prediction', async () => {
    const { probs, target, maps } = worked();
    near(await value(boundaryLoss(probs, maps, { idc: [1] })), -0.2 / 6, 1e-12);
    near(await value(boundaryLoss(target, maps, { idc: [1] })), -1 / 6, 1e-12);
    // both classes: mean over 2·6 values; the sum
    const both = (PHI0.reduce((s, f, q) => s + f * (1 - P1[q]!), 0) + PHI1.reduce((s, f, q) => s + f * P1[q]!, 0));
    near(await value(boundaryLoss(probs, maps)), both / 12, 1e-12);
    near(await value(boundaryLoss(probs, maps, { reduction: 'sum' })), both, 1e-12);
  });

  test('the gradient with respect to p is φ divided by the reduction\'s count (exact on cpu64)', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom('mean', 'sum', 'none'), async (pr, pick, reduction) => {
        const [b, k] = [pr.shape[0]!, pr.shape[1]!];
        const n = size(pr.shape.slice(2));
        const idc = Array.from({ length: k }, (_, c) => c).filter((c) => c === pick % k || ((pick >> (c + 3)) & 1) === 1);
        const maps = tensor(pr.maps, pr.shape);
        const f = (p: Tensor) => {
          const l = boundaryLoss(p, maps, { idc, reduction: reduction as 'mean' | 'sum' | 'none' });
          // 'none' gives [B]: differentiate their sum (each image's mean)
          return reduction === 'none' ? sum(l) : l;
        };
        const [, g] = valueAndGrad(f)(tensor(pr.probs, pr.shape));
        const grad = await g.dataFloat64();
        const count = reduction === 'sum' ? 1 : reduction === 'none' ? idc.length * n : b * idc.length * n;
        for (let i = 0; i < grad.length; i++) {
          const c = Math.floor(i / n) % k;
          const expected = idc.includes(c) ? pr.maps[i]! / count : 0;
          assert.ok(Math.abs(grad[i]! - expected) <= 1e-15 * Math.max(1, Math.abs(expected)), `element ${i}: ${grad[i]} vs ${expected}`);
        }
      }),
      FC,
    );
  });

  test("'none' gives one value per image, whose mean is 'mean'", async () => {
    const pr = makeProblem(3, 3, [2, 3], 7);
    const p = tensor(pr.probs, pr.shape);
    const maps = tensor(pr.maps, pr.shape);
    const none = boundaryLoss(p, maps, { idc: [2, 0], reduction: 'none' });
    assert.deepEqual(none.shape, [3]);
    const perImage = await values(none);
    const m = await value(boundaryLoss(p, maps, { idc: [0, 2] }));
    near(perImage.reduce((s, v) => s + v, 0) / 3, m, 1e-14);
  });

  test('linear in p: L(a·p + b·q) = a·L(p) + b·L(q)', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), async (pr, a, bb) => {
        const p = tensor(pr.probs, pr.shape);
        const q = tensor(pr.inner, pr.shape);
        const maps = tensor(pr.maps, pr.shape);
        const mixed = tensor(pr.probs.map((v, i) => a * v + bb * pr.inner[i]!), pr.shape);
        const lhs = await value(boundaryLoss(mixed, maps));
        const rhs = a * (await value(boundaryLoss(p, maps))) + bb * (await value(boundaryLoss(q, maps)));
        assert.ok(Math.abs(lhs - rhs) <= 1e-12 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
      }),
      FC,
    );
  });

  // Every binary s on a small grid, as one batch with reduction 'none'.
  for (const { name, dims, g } of [
    { name: '1-D worked mask', dims: [6], g: MASK },
    { name: '1-D, a 4-voxel object', dims: [8], g: [0, 1, 1, 1, 1, 0, 0, 0] },
    { name: '2-D 3×4, a 3×3 block', dims: [3, 4], g: [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0] },
  ]) {
    test(`minimal at s = g among all binary s (${name}), ties only where φ = 0`, async () => {
      const n = g.length;
      const phi = bruteForceSdm(g, dims);
      assert.ok(phi.some((v) => v < 0), 'the case should have negative distances');
      const count = 2 ** n;
      const s = new Float64Array(count * n);
      for (let m = 0; m < count; m++) for (let q = 0; q < n; q++) s[m * n + q] = (m >> q) & 1;
      const maps = tensor(Array.from({ length: count }, () => phi).flat(), [count, 1, ...dims]);
      const losses = await values(boundaryLoss(tensor(s, [count, 1, ...dims]), maps, { reduction: 'none' }));
      const gIndex = g.reduce((acc, v, q) => acc + (v << q), 0);
      const atG = losses[gIndex]!;
      near(atG, phi.reduce((acc, v, q) => acc + v * g[q]!, 0) / n, 1e-12);
      for (let m = 0; m < count; m++) {
        assert.ok(losses[m]! >= atG - 1e-12, `s = ${m.toString(2)} scores ${losses[m]} < ${atG}`);
        if (Math.abs(losses[m]! - atG) < 1e-12) {
          for (let q = 0; q < n; q++) if (((m >> q) & 1) !== g[q]) assert.equal(phi[q], 0, `tie at s = ${m.toString(2)} differs from g where φ = ${phi[q]}`);
        }
      }
    });
  }

  test('shape and option errors name the argument', () => {
    const p = tensor(new Float64Array(12), [1, 2, 6]);
    const expectError = (fn: () => unknown, type: typeof ShapeError | typeof InputError, argument: string) =>
      assert.throws(fn, (e: unknown) => e instanceof type && e.argument === argument && e.op === 'boundaryLoss');
    expectError(() => boundaryLoss(p, tensor(new Float64Array(6), [1, 1, 6])), ShapeError, 'distMaps');
    expectError(() => boundaryLoss(p, tensor(new Float64Array(12), [2, 6])), ShapeError, 'distMaps');
    expectError(() => boundaryLoss(tensor([1, 2]), tensor([1, 2])), ShapeError, 'probs');
    expectError(() => boundaryLoss([1] as unknown as Tensor, p), InputError, 'probs');
    expectError(() => boundaryLoss(p, p, { idc: [2] }), InputError, 'options.idc');
    expectError(() => boundaryLoss(p, p, { idc: [-1] }), InputError, 'options.idc');
    expectError(() => boundaryLoss(p, p, { idc: [1, 1] }), InputError, 'options.idc');
    expectError(() => boundaryLoss(p, p, { idc: [0.5] }), InputError, 'options.idc');
    expectError(() => boundaryLoss(p, p, { idc: [] }), InputError, 'options.idc');
    expectError(() => boundaryLoss(p, p, { reduction: 'max' as 'mean' }), InputError, 'options.reduction');
  });

  test('with the signed distance maps of losses/signed-distance.ts (reference convention)', async () => {
    const { signedDistanceMaps } = await import('../losses/signed-distance.js');
    const maps = signedDistanceMaps({ data: MASK, shape: [6] }, { classes: 2 });
    assert.deepEqual(Array.from(maps.data), [...PHI0, ...PHI1]);
    const { probs } = worked();
    near(await value(boundaryLoss(probs, tensor(maps.data, [1, 2, 6]), { idc: [1] })), -1 / 30, 1e-7);
  });
});


// ---------------------------------------------------------------------------------------------

describe('generalizedDiceLoss, diceLoss, tverskyLoss', () => {
  test('worked example: the reference GDL is 0.2 (both weightings), 0 at a perfect prediction', async () => {
    const { probs, target } = worked();
    for (const weights of ['reference', 'monai'] as const) {
      // the 1e-10 smoothing moves the values by ~1e-10
      assert.ok(Math.abs((await value(generalizedDiceLoss(probs, target, { weights }))) - 0.2) < 1e-9, weights);
      assert.ok(Math.abs(await value(generalizedDiceLoss(target, target, { weights }))) < 1e-9, weights);
    }
  });

  test("epoch-0 total with steal(): 1·0.2 + 0.01·(−0.0333333) = 0.1996667", async () => {
    const { probs, target, maps } = worked();
    const [wGd, wB] = steal()(0, 100) as [number, number];
    const total = wGd * (await value(generalizedDiceLoss(probs, target))) + wB * (await value(boundaryLoss(probs, maps, { idc: [1] })));
    assert.ok(Math.abs(total - 0.1996667) < 1e-7, String(total));
  });

  test('GDL matches a plain-JS reference, both weightings, absent classes included', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, fc.boolean(), async (pr, subset) => {
        const k = pr.shape[1]!;
        const idc = subset ? [k - 1, 0] : Array.from({ length: k }, (_, c) => c);
        const p = tensor(pr.probs, pr.shape);
        const t = tensor(pr.target, pr.shape);
        for (const weights of ['reference', 'monai'] as const) {
          const got = await value(generalizedDiceLoss(p, t, { idc, weights }));
          const want = gdlRef(pr.probs, pr.target, pr.shape, idc, weights);
          assert.ok(Number.isFinite(got), `${weights}: ${got}`);
          assert.ok(Math.abs(got - want) <= 1e-12, `${weights}: ${got} vs ${want}`);
        }
      }),
      FC,
    );
  });

  test('MONAI weights: an image with every selected class absent uses weight 1', async () => {
    const shape = [2, 2, 3];
    // image 0: labels all class 0; image 1: classes 0 and 1; idc [1] makes image 0 all-absent
    const target = [1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0];
    const probs = [0.7, 0.6, 0.8, 0.3, 0.4, 0.2, 0.9, 0.3, 0.6, 0.1, 0.7, 0.4];
    const got = await value(generalizedDiceLoss(tensor(probs, shape), tensor(target, shape), { idc: [1], weights: 'monai' }));
    // image 0: w = 1: 1 − 2·(0 + ε)/(0.9 + ε); image 1: w = 1: 1 − 2·(0.7 + ε)/(1.2 + 1 + ε)
    const want = (1 - (2 * 1e-10) / (0.9 + 1e-10) + 1 - (2 * (0.7 + 1e-10)) / (2.2 + 1e-10)) / 2;
    assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
    assert.ok(Math.abs(got - gdlRef(probs, target, shape, [1], 'monai')) < 1e-12);
  });

  test('Dice matches a plain-JS reference; Tversky with α = β = 0.5 is Dice with twice the smoothing', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, async (pr) => {
        const p = tensor(pr.probs, pr.shape);
        const t = tensor(pr.target, pr.shape);
        const dice = await value(diceLoss(p, t));
        near(dice, diceRef(pr.probs, pr.target, pr.shape), 1e-12, 'Dice');
        // (TP + s)/(TP + FP/2 + FN/2 + s) = (2TP + 2s)/(Σp + Σt + 2s)
        near(await value(tverskyLoss(p, t)), await value(diceLoss(p, t, { smooth: 2e-5 })), 1e-12, 'Tversky');
      }),
      FC,
    );
  });

  test('GDL, Dice and Tversky lie in [−1e-6, 1] for random probabilities and targets', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, fc.double({ min: 0, max: 1, noNaN: true }), async (pr, alpha) => {
        const p = tensor(pr.probs, pr.shape);
        const t = tensor(pr.target, pr.shape);
        const all = [
          await value(generalizedDiceLoss(p, t)),
          await value(generalizedDiceLoss(p, t, { weights: 'monai' })),
          await value(diceLoss(p, t)),
          await value(tverskyLoss(p, t, { alpha, beta: 1 - alpha })),
          ...(await values(diceLoss(p, t, { reduction: 'none' }))),
        ];
        for (const v of all) assert.ok(v >= -1e-6 && v <= 1 + 1e-12, String(v));
      }),
      FC,
    );
  });

  test('≈ 0 at a perfect prediction, absent classes included', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, async (pr) => {
        const t = tensor(pr.target, pr.shape);
        for (const v of [
          await value(generalizedDiceLoss(t, t)),
          await value(generalizedDiceLoss(t, t, { weights: 'monai' })),
          await value(diceLoss(t, t)),
          await value(tverskyLoss(t, t, { alpha: 0.3, beta: 0.7 })),
        ]) assert.ok(Math.abs(v) < 1e-6, String(v));
      }),
      FC,
    );
  });

  test('invariant under permuting the classes of both inputs', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, fc.integer({ min: 0, max: 1000 }), async (pr, r) => {
        const k = pr.shape[1]!;
        const perm = Array.from({ length: k }, (_, c) => c);
        for (let i = k - 1; i > 0; i--) {
          const j = (r * (i + 7)) % (i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        const p = tensor(pr.probs, pr.shape);
        const t = tensor(pr.target, pr.shape);
        const pp = tensor(permuteClasses(pr.probs, pr.shape, perm), pr.shape);
        const tp = tensor(permuteClasses(pr.target, pr.shape, perm), pr.shape);
        for (const [name, f] of [
          ['GDL reference', (a: Tensor, b: Tensor) => generalizedDiceLoss(a, b)],
          ['GDL monai', (a: Tensor, b: Tensor) => generalizedDiceLoss(a, b, { weights: 'monai' })],
          ['Dice', (a: Tensor, b: Tensor) => diceLoss(a, b)],
        ] as const) {
          const x = await value(f(p, t));
          const y = await value(f(pp, tp));
          assert.ok(Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x)), `${name}: ${x} vs ${y}`);
        }
      }),
      FC,
    );
  });

  test('finite when classes are absent (both weightings), also on float32', async () => {
    // every voxel labelled 0: classes 1 and 2 absent in every image
    const pr = makeProblem(2, 3, [4, 4], 11, 1);
    for (const backend of ['cpu64', 'cpu']) {
      await setBackend(backend);
      const p = tensor(pr.probs, pr.shape);
      const t = tensor(pr.target, pr.shape);
      for (const weights of ['reference', 'monai'] as const) {
        const [v, g] = valueAndGrad((x: Tensor) => generalizedDiceLoss(x, t, { weights }))(p);
        const vv = await value(v);
        assert.ok(Number.isFinite(vv) && vv >= -1e-6 && vv <= 1, `${backend} ${weights}: ${vv}`);
        assert.ok((await values(g)).every(Number.isFinite), `${backend} ${weights}: gradient`);
      }
      const dice = await value(diceLoss(p, t));
      assert.ok(Number.isFinite(dice), `${backend} Dice: ${dice}`);
    }
    await setBackend('cpu64');
  });

  test('shape and option errors name the argument', () => {
    const p = tensor(new Float64Array(12), [1, 2, 6]);
    for (const [op, fn] of [
      ['generalizedDiceLoss', generalizedDiceLoss],
      ['diceLoss', diceLoss],
      ['tverskyLoss', tverskyLoss],
    ] as const) {
      const check = (f: () => unknown, type: typeof ShapeError | typeof InputError, argument: string) =>
        assert.throws(f, (e: unknown) => e instanceof type && e.argument === argument && e.op === op, `${op} ${argument}`);
      check(() => fn(p, tensor(new Float64Array(12), [1, 3, 4])), ShapeError, 'target');
      check(() => fn(tensor([0.5]), tensor([0.5])), ShapeError, 'probs');
      check(() => fn(p, p, { idc: [0, 2] }), InputError, 'options.idc');
      check(() => fn(p, p, { idc: [0, 0] }), InputError, 'options.idc');
    }
    assert.throws(() => generalizedDiceLoss(p, p, { weights: 'uniform' as 'monai' }), (e: unknown) => e instanceof InputError && e.argument === 'options.weights');
    assert.throws(() => diceLoss(p, p, { smooth: -1 }), (e: unknown) => e instanceof InputError && e.argument === 'options.smooth');
    assert.throws(() => tverskyLoss(p, p, { alpha: NaN }), (e: unknown) => e instanceof InputError && e.argument === 'options.alpha');
    assert.throws(() => diceLoss(p, p, null as never), (e: unknown) => e instanceof InputError && e.argument === 'options');
  });
});

// ---------------------------------------------------------------------------------------------

describe('crossEntropy, crossEntropyWithLogits, focalLoss', () => {
  // The probability of the true class at each voxel of the worked example.
  const TRUE_P = [0.9, 0.8, 0.8, 0.9, 0.7, 0.7];

  test('cross-entropy: hand-computed values, normalised by the labelled voxels', async () => {
    const { probs, target } = worked();
    const all = -TRUE_P.reduce((s, p) => s + Math.log(p + 1e-10), 0) / (6 + 1e-10);
    near(await value(crossEntropy(probs, target)), all, 1e-12);
    near(all, 0.228393, 1e-6);
    const fg = -(Math.log(0.8 + 1e-10) + Math.log(0.9 + 1e-10) + Math.log(0.7 + 1e-10)) / (3 + 1e-10);
    near(await value(crossEntropy(probs, target, { idc: [1] })), fg, 1e-12);
    // no labelled voxel in the selection: 0, not NaN
    const empty = tensor([[[1, 1], [0, 0]]]);
    near(await value(crossEntropy(empty, empty, { idc: [1] })), 0, 0);
  });

  test('focal loss: hand-computed values; γ = 0 is cross-entropy; per-class α', async () => {
    const { probs, target } = worked();
    const fl = (gamma: number) => -TRUE_P.reduce((s, p) => s + (1 - p) ** gamma * Math.log(p + 1e-10), 0) / (6 + 1e-10);
    near(await value(focalLoss(probs, target)), fl(2), 1e-12);
    near(await value(focalLoss(probs, target, { gamma: 1.5 })), fl(1.5), 1e-12);
    near(await value(focalLoss(probs, target, { gamma: 0 })), await value(crossEntropy(probs, target)), 1e-15);
    // α = [0.25, 0.75]: background voxels 0, 1, 5, foreground 2, 3, 4
    const weighted = -TRUE_P.reduce((s, p, q) => s + (MASK[q] ? 0.75 : 0.25) * (1 - p) ** 2 * Math.log(p + 1e-10), 0) / (6 + 1e-10);
    near(await value(focalLoss(probs, target, { alpha: [0.25, 0.75] })), weighted, 1e-12);
    assert.throws(() => focalLoss(probs, target, { alpha: [1] }), (e: unknown) => e instanceof InputError && e.argument === 'options.alpha');
    assert.throws(() => focalLoss(probs, target, { gamma: -1 }), (e: unknown) => e instanceof InputError && e.argument === 'options.gamma');
  });

  test('crossEntropyWithLogits equals crossEntropy(softmax(logits)) for moderate logits', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb, fc.boolean(), async (pr, subset) => {
        const logits = tensor(pr.maps.map((v, i) => v + pr.direction[i]!), pr.shape);
        const t = tensor(pr.target, pr.shape);
        const idc = subset ? [0] : undefined;
        const a = await value(crossEntropyWithLogits(logits, t, { idc }));
        const b = await value(crossEntropy(softmax(logits, 1), t, { idc, epsilon: 0 }));
        assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)), `${a} vs ${b}`);
      }),
      FC,
    );
  });

  test('crossEntropyWithLogits stays finite for ±1e4 logits (float32 and float64)', async () => {
    for (const backend of ['cpu', 'cpu64']) {
      await setBackend(backend);
      // voxel 0 confidently right, voxel 1 confidently wrong, voxel 2 undecided
      const logits = tensor([[[1e4, -1e4, 0], [-1e4, 1e4, 0]]]);
      const target = tensor([[[1, 1, 0], [0, 0, 1]]]);
      const [v, g] = valueAndGrad((z: Tensor) => crossEntropyWithLogits(z, target))(logits);
      const expected = (0 + 2e4 + Math.log(2)) / 3;
      assert.ok(Math.abs((await value(v)) - expected) <= 1e-6 * expected, `${backend}: ${await value(v)}`);
      const grad = await values(g);
      assert.ok(grad.every(Number.isFinite), `${backend}: ${grad}`);
      // ∂/∂z = (softmax(z) − t)/3
      const want = [0, -1, 0.5, 0, 1, -0.5].map((x) => x / 3);
      grad.forEach((gi, i) => assert.ok(Math.abs(gi - want[i]!) < 1e-6, `${backend}: ${grad}`));
    }
    await setBackend('cpu64');
  });

  test('shape and option errors name the argument', () => {
    const p = tensor(new Float64Array(12), [1, 2, 6]);
    const q = tensor(new Float64Array(12), [1, 6, 2]);
    assert.throws(() => crossEntropy(p, q), (e: unknown) => e instanceof ShapeError && e.argument === 'target' && e.op === 'crossEntropy');
    assert.throws(() => crossEntropyWithLogits(q, p), (e: unknown) => e instanceof ShapeError && e.argument === 'target');
    assert.throws(() => crossEntropyWithLogits(tensor([1]), tensor([1])), (e: unknown) => e instanceof ShapeError && e.argument === 'logits');
    assert.throws(() => focalLoss(p, q), (e: unknown) => e instanceof ShapeError && e.argument === 'target');
    assert.throws(() => crossEntropy(p, p, { idc: [5] }), (e: unknown) => e instanceof InputError && e.argument === 'options.idc');
    assert.throws(() => crossEntropy(p, p, { epsilon: -1 }), (e: unknown) => e instanceof InputError && e.argument === 'options.epsilon');
  });
});

// ---------------------------------------------------------------------------------------------

describe('derivatives against central differences (cpu64, step 1e-4, rel tol 1e-6)', () => {
  const cases: ReadonlyArray<readonly [string, (p: Tensor, pr: Problem) => Tensor]> = [
    ['boundaryLoss', (p, pr) => boundaryLoss(p, tensor(pr.maps, pr.shape), { idc: [1] })],
    ['generalizedDiceLoss reference', (p, pr) => generalizedDiceLoss(p, tensor(pr.target, pr.shape))],
    ['generalizedDiceLoss monai', (p, pr) => generalizedDiceLoss(p, tensor(pr.target, pr.shape), { weights: 'monai', idc: [0, 1] })],
    ['diceLoss', (p, pr) => diceLoss(p, tensor(pr.target, pr.shape))],
    ['tverskyLoss', (p, pr) => tverskyLoss(p, tensor(pr.target, pr.shape), { alpha: 0.3, beta: 0.7 })],
    ['crossEntropy', (p, pr) => crossEntropy(p, tensor(pr.target, pr.shape))],
    ['crossEntropyWithLogits', (p, pr) => crossEntropyWithLogits(p, tensor(pr.target, pr.shape), { idc: [0] })],
    ['focalLoss', (p, pr) => focalLoss(p, tensor(pr.target, pr.shape), { gamma: 1.5, alpha: Array.from({ length: pr.shape[1]! }, (_, k) => 1 + k) })],
  ];
  for (const [name, loss] of cases) {
    test(name, async () => {
      await fc.assert(
        fc.asyncProperty(problemArb, async (pr) => {
          await checkDerivative((p) => loss(p, pr), pr.inner, pr.direction, pr.shape, name);
        }),
        { ...FC, numRuns: 8 },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('value checks', () => {
  test('checkProbabilities accepts softmax outputs and rejects with the first offending index', async () => {
    const pr = makeProblem(2, 3, [2, 2], 5);
    await checkProbabilities(tensor(pr.probs, pr.shape));
    await checkProbabilities(tensor(Float64Array.from(pr.probs, (v) => v + 2e-5), pr.shape));
    const bad = Float64Array.from(pr.probs);
    bad[7] = 1.5;
    await assert.rejects(checkProbabilities(tensor(bad, pr.shape)), (e: unknown) =>
      e instanceof InputError && e.argument === 'p' && e.op === 'checkProbabilities' && /1\.5 at index \[0, 1, 1, 1\]/.test(e.message));
    await assert.rejects(checkProbabilities(tensor([[[0.5, 0.4], [0.5, 0.5]]])), (e: unknown) =>
      e instanceof InputError && /index \[0, :, 1\]/.test(e.message) && /0\.9/.test(e.message));
    await assert.rejects(checkProbabilities(tensor([[0.5, NaN]]), { name: 'probs' }), (e: unknown) => e instanceof InputError && e.argument === 'probs' && /NaN/.test(e.message));
    // axis and tolerance
    await checkProbabilities(tensor([[0.5, 0.25], [0.5, 0.75]]), { axis: 0 });
    await checkProbabilities(tensor([[0.5, 0.51]]), { tolerance: 0.02 });
    await assert.rejects(checkProbabilities(tensor([[0.5, 0.5]]), { axis: 2 }), (e: unknown) => e instanceof ShapeError && e.argument === 'options.axis');
    await assert.rejects(checkProbabilities('x' as unknown as Tensor), (e: unknown) => e instanceof InputError && e.argument === 'p');
  });

  test('checkOneHot accepts one-hot targets and rejects non-binary values and wrong counts', async () => {
    const pr = makeProblem(2, 3, [3], 9);
    await checkOneHot(tensor(pr.target, pr.shape));
    await assert.rejects(checkOneHot(tensor([[[1, 0.5], [0, 0.5]]])), (e: unknown) =>
      e instanceof InputError && e.argument === 't' && /0\.5 at index \[0, 0, 1\]/.test(e.message));
    await assert.rejects(checkOneHot(tensor([[[1, 1], [0, 1]]])), (e: unknown) => e instanceof InputError && /\[0, :, 1\] has 2 ones/.test(e.message));
    await assert.rejects(checkOneHot(tensor([[[1, 0], [0, 0]]])), (e: unknown) => e instanceof InputError && /\[0, :, 1\] has 0 ones/.test(e.message));
    await checkOneHot(tensor([[0, 1], [1, 0]]), { axis: -1 });
  });

  test('checkFinite rejects NaN and ±Infinity with the index', async () => {
    await checkFinite(tensor([1, -2, 3e30]));
    await assert.rejects(checkFinite(tensor([[0, 1], [Infinity, 0]])), (e: unknown) => e instanceof InputError && e.argument === 'x' && /Infinity at index \[1, 0\]/.test(e.message));
    await assert.rejects(checkFinite(tensor([0, NaN]), { name: 'logits' }), (e: unknown) => e instanceof InputError && e.argument === 'logits' && /NaN at index \[1\]/.test(e.message));
  });
});

describe('lifetimes', () => {
  test('the losses leave no buffers behind', async () => {
    const pr = makeProblem(2, 3, [4, 4], 3);
    const p = tensor(pr.probs, pr.shape);
    const t = tensor(pr.target, pr.shape);
    const maps = tensor(pr.maps, pr.shape);
    const base = memory().buffers;
    const results = [
      boundaryLoss(p, maps, { idc: [2, 1] }),
      generalizedDiceLoss(p, t, { weights: 'monai', idc: [0, 2] }),
      diceLoss(p, t),
      tverskyLoss(p, t),
      crossEntropy(p, t),
      crossEntropyWithLogits(p, t),
      focalLoss(p, t, { alpha: [1, 2, 3] }),
    ];
    assert.equal(memory().buffers, base + results.length);
    dispose(results);
    assert.equal(memory().buffers, base);
  });
});
