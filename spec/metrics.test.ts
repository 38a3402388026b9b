import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError, ShapeError } from '../core/errors.js';
import {
  averageSurfaceDistance,
  dice,
  hausdorff,
  hausdorff95,
  perClass,
  summarize,
  surface,
  surfaceDice,
  surfaceDistances,
} from '../metrics/index.js';
import { unravel } from './helpers/brute-distance.js';

type Mask = { data: number[]; shape: number[] };

/** Two random masks of one random 1–3-D shape, with random spacing. */
const pairs = fc
  .array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const mask = fc
      .double({ min: 0, max: 1, noNaN: true })
      .chain((density) => fc.array(fc.double({ min: 0, max: 1, noNaN: true }).map((u) => (u < density ? 1 : 0)), { minLength: n, maxLength: n }));
    return fc.record({
      shape: fc.constant(shape),
      a: mask,
      b: mask,
      spacing: fc.array(fc.double({ min: 0.2, max: 3, noNaN: true }), { minLength: shape.length, maxLength: shape.length }),
    });
  });

/** Surface voxels by definition: true, with a face neighbour that is false or outside the image. */
function bruteSurface(data: number[], shape: number[]): number[][] {
  const at = (i: number[]) => (i.every((v, a) => v >= 0 && v < shape[a]) ? data[i.reduce((acc, v, a) => acc * shape[a] + v, 0)] : 0);
  const out: number[][] = [];
  for (let p = 0; p < data.length; p++) {
    if (data[p] !== 1) continue;
    const i = unravel(p, shape);
    const border = shape.some((_, a) => [-1, 1].some((step) => at(i.map((v, b) => (b === a ? v + step : v))) === 0));
    if (border) out.push(i);
  }
  return out;
}

/** Directed distances between surface voxel lists, pairwise (O(n²)). */
function bruteDirected(from: number[][], to: number[][], spacing: number[]): number[] {
  return from.map((p) => Math.min(...to.map((q) => Math.sqrt(p.reduce((s, v, a) => s + ((v - q[a]) * spacing[a]) ** 2, 0)))));
}

/** numpy.percentile(x, q) with linear interpolation. */
function numpyPercentile(x: number[], q: number): number {
  const s = [...x].sort((a, b) => a - b);
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const close = (a: number, b: number, tol = 1e-12) => a === b || Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));

describe('surface', () => {
  test('face-connected erosion; outside the image is background', () => {
    const square = { data: new Array(25).fill(0), shape: [5, 5] };
    for (const p of [6, 7, 8, 11, 12, 13, 16, 17, 18]) square.data[p] = 1;
    assert.deepEqual([...surface(square).data], square.data.map((v, p) => (v === 1 && p !== 12 ? 1 : 0)));
    const cube = surface({ data: new Array(27).fill(1), shape: [3, 3, 3] }).data;
    assert.equal(cube.reduce((a, b) => a + b), 26); // all but the centre: the image border is surface
    // Diagonal neighbours do not matter (face-connected element): a plus sign's centre is interior.
    const plus = [0, 1, 0, 1, 1, 1, 0, 1, 0];
    assert.deepEqual([...surface({ data: plus, shape: [3, 3] }).data], [0, 1, 0, 1, 0, 1, 0, 1, 0]);
  });

  test('matches the definition on random masks', () => {
    fc.assert(
      fc.property(pairs, ({ shape, a }) => {
        const expected = new Array(a.length).fill(0);
        for (const i of bruteSurface(a, shape)) expected[i.reduce((acc, v, k) => acc * shape[k] + v, 0)] = 1;
        assert.deepEqual([...surface({ data: a, shape }).data], expected);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('distance metrics against pairwise brute force', () => {
  test('HD, HD95 (both variants), ASSD (both variants), surface Dice', () => {
    fc.assert(
      fc.property(pairs, fc.double({ min: 0, max: 4, noNaN: true }), ({ shape, a, b, spacing }, tolerance) => {
        const sa = bruteSurface(a, shape);
        const sb = bruteSurface(b, shape);
        fc.pre(sa.length > 0 && sb.length > 0);
        const ab = bruteDirected(sa, sb, spacing);
        const ba = bruteDirected(sb, sa, spacing);
        const pred = { data: a, shape };
        const gt = { data: b, shape };
        const opts = { spacing };
        const d = surfaceDistances(pred, gt, opts);
        assert.ok(d.predToGt.every((x, i) => close(x, ab[i])) && d.predToGt.length === ab.length);
        assert.ok(close(hausdorff(pred, gt, opts), Math.max(...ab, ...ba)));
        assert.ok(close(hausdorff95(pred, gt, opts), Math.max(numpyPercentile(ab, 95), numpyPercentile(ba, 95))));
        assert.ok(close(hausdorff95(pred, gt, { spacing, variant: 'pooled' }), numpyPercentile([...ab, ...ba], 95)));
        const sum = (x: number[]) => x.reduce((s, v) => s + v, 0);
        assert.ok(close(averageSurfaceDistance(pred, gt, opts), (sum(ab) + sum(ba)) / (ab.length + ba.length)));
        const mom = (sum(ab) / ab.length + sum(ba) / ba.length) / 2;
        assert.ok(close(averageSurfaceDistance(pred, gt, { spacing, variant: 'mean-of-means' }), mom));
        // Away from ties at the tolerance (brute force and transform may round differently there).
        fc.pre([...ab, ...ba].every((x) => Math.abs(x - tolerance) > 1e-9));
        const within = [...ab, ...ba].filter((x) => x <= tolerance).length;
        assert.equal(surfaceDice(pred, gt, { spacing, tolerance }), within / (ab.length + ba.length));
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('metric properties', () => {
  test('HD is symmetric; HD ≥ HD95 ≥ 0 in both variants; ASSD between 0 and HD', () => {
    fc.assert(
      fc.property(pairs, ({ shape, a, b, spacing }) => {
        fc.pre(a.includes(1) && b.includes(1));
        const pred = { data: a, shape };
        const gt = { data: b, shape };
        const hd = hausdorff(pred, gt, { spacing });
        assert.equal(hd, hausdorff(gt, pred, { spacing }));
        for (const variant of ['per-direction', 'pooled'] as const) {
          const hd95 = hausdorff95(pred, gt, { spacing, variant });
          assert.ok(hd95 >= 0 && hd95 <= hd, `${variant}: ${hd95} vs ${hd}`);
        }
        for (const variant of ['pooled', 'mean-of-means'] as const) {
          const assd = averageSurfaceDistance(pred, gt, { spacing, variant });
          assert.ok(assd >= 0 && assd <= hd);
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  test('a mask against itself: HD = HD95 = ASSD = 0, Dice = surface Dice = 1', () => {
    fc.assert(
      fc.property(pairs, ({ shape, a, spacing }) => {
        fc.pre(a.includes(1));
        const m = { data: a, shape };
        assert.equal(hausdorff(m, m, { spacing }), 0);
        assert.equal(hausdorff95(m, m, { spacing }), 0);
        assert.equal(hausdorff95(m, m, { spacing, variant: 'pooled' }), 0);
        assert.equal(averageSurfaceDistance(m, m, { spacing }), 0);
        assert.equal(dice(m, m), 1);
        assert.equal(surfaceDice(m, m, { spacing, tolerance: 0 }), 1);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  test('scaling the spacing by c scales HD, HD95 and ASSD by c', () => {
    fc.assert(
      fc.property(pairs, fc.double({ min: 0.1, max: 10, noNaN: true }), ({ shape, a, b, spacing }, c) => {
        fc.pre(a.includes(1) && b.includes(1));
        const pred = { data: a, shape };
        const gt = { data: b, shape };
        const scaled = spacing.map((s) => s * c);
        const metrics = [
          (o: { spacing: number[] }) => hausdorff(pred, gt, o),
          (o: { spacing: number[] }) => hausdorff95(pred, gt, o),
          (o: { spacing: number[] }) => hausdorff95(pred, gt, { ...o, variant: 'pooled' }),
          (o: { spacing: number[] }) => averageSurfaceDistance(pred, gt, o),
          (o: { spacing: number[] }) => averageSurfaceDistance(pred, gt, { ...o, variant: 'mean-of-means' }),
        ];
        for (const metric of metrics) assert.ok(close(metric({ spacing: scaled }), c * metric({ spacing }), 1e-9));
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  test('Dice is symmetric and in [0, 1]', () => {
    fc.assert(
      fc.property(pairs, ({ shape, a, b }) => {
        const value = dice({ data: a, shape }, { data: b, shape });
        assert.ok(value >= 0 && value <= 1);
        assert.equal(value, dice({ data: b, shape }, { data: a, shape }));
      }),
      { seed: 42, numRuns: 100 },
    );
  });
});

describe('hand-computed cases', () => {
  test('two single voxels at a known distance', () => {
    const shape = [5, 5];
    const a: Mask = { data: new Array(25).fill(0), shape };
    const b: Mask = { data: new Array(25).fill(0), shape };
    a.data[1 * 5 + 1] = 1;
    b.data[4 * 5 + 3] = 1;
    const spacing = [2, 0.5];
    const d = Math.sqrt(37); // (3·2)² + (2·0.5)²
    assert.equal(hausdorff(a, b, { spacing }), d);
    assert.equal(hausdorff95(a, b, { spacing }), d);
    assert.equal(hausdorff95(a, b, { spacing, variant: 'pooled' }), d);
    assert.equal(averageSurfaceDistance(a, b, { spacing }), d);
    assert.equal(averageSurfaceDistance(a, b, { spacing, variant: 'mean-of-means' }), d);
    assert.equal(surfaceDice(a, b, { spacing, tolerance: 6 }), 0);
    assert.equal(surfaceDice(a, b, { spacing, tolerance: 6.1 }), 1);
    assert.equal(dice(a, b), 0);
  });

  test('a voxel against a line: percentiles interpolate, variants differ', () => {
    const shape = [3, 6];
    const pred: Mask = { data: new Array(18).fill(0), shape };
    const gt: Mask = { data: new Array(18).fill(0), shape };
    pred.data[0] = 1;
    for (let j = 0; j < 5; j++) gt.data[j] = 1;
    // pred → gt: [0]; gt → pred: [0, 1, 2, 3, 4].
    assert.equal(hausdorff(pred, gt), 4);
    assert.ok(close(hausdorff95(pred, gt), 3.8)); // max(0, percentile([0..4], 95) = 3.8)
    assert.ok(close(hausdorff95(pred, gt, { variant: 'pooled' }), 3.75)); // percentile([0,0,1,2,3,4], 95)
    assert.ok(close(averageSurfaceDistance(pred, gt), 10 / 6));
    assert.equal(averageSurfaceDistance(pred, gt, { variant: 'mean-of-means' }), 1);
    assert.equal(surfaceDice(pred, gt, { tolerance: 1 }), 3 / 6);
    assert.equal(dice(pred, gt), 1 / 3);
    // Spacing 0.5 along the line halves every distance.
    assert.ok(close(hausdorff95(pred, gt, { spacing: [1, 0.5] }), 1.9));
  });

  test('a square against the same square shifted by two columns', () => {
    const shape = [8, 8];
    const square = (c0: number): Mask => ({
      data: Array.from({ length: 64 }, (_, p) => (Math.floor(p / 8) >= 1 && Math.floor(p / 8) <= 3 && p % 8 >= c0 && p % 8 <= c0 + 2 ? 1 : 0)),
      shape,
    });
    const pred = square(1);
    const gt = square(3);
    // Each surface (8 voxels, the centre is interior) is at distances [0,0,0,1,1,2,2,2] from the other.
    assert.deepEqual([...surfaceDistances(pred, gt).predToGt].sort(), [0, 0, 0, 1, 1, 2, 2, 2]);
    assert.equal(hausdorff(pred, gt), 2);
    assert.equal(hausdorff95(pred, gt), 2);
    assert.equal(averageSurfaceDistance(pred, gt), 1);
    assert.equal(surfaceDice(pred, gt, { tolerance: 1 }), 10 / 16);
    assert.equal(dice(pred, gt), 1 / 3);
    assert.equal(hausdorff(pred, gt, { spacing: [1, 3] }), 6);
  });
});

describe('empty cases never throw', () => {
  const shape = [4, 5];
  const masks: Record<string, Mask> = {
    empty: { data: new Array(20).fill(0), shape },
    full: { data: new Array(20).fill(1), shape },
    some: { data: [0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], shape },
  };
  for (const [pn, pred] of Object.entries(masks)) {
    for (const [gn, gt] of Object.entries(masks)) {
      test(`pred ${pn}, gt ${gn}`, () => {
        const both = pn === 'empty' && gn === 'empty';
        const one = !both && (pn === 'empty' || gn === 'empty');
        const spacing = [0.5, 2];
        const distances = [
          hausdorff(pred, gt, { spacing }),
          hausdorff95(pred, gt, { spacing }),
          hausdorff95(pred, gt, { spacing, variant: 'pooled' }),
          averageSurfaceDistance(pred, gt, { spacing }),
          averageSurfaceDistance(pred, gt, { spacing, variant: 'mean-of-means' }),
        ];
        const sd = surfaceDice(pred, gt, { spacing, tolerance: 1 });
        if (both) {
          assert.equal(dice(pred, gt), 1);
          assert.ok(distances.every(Number.isNaN));
          assert.ok(Number.isNaN(sd));
        } else if (one) {
          assert.equal(dice(pred, gt), 0);
          assert.ok(distances.every((x) => x === Infinity));
          assert.equal(sd, 0);
        } else {
          assert.ok(distances.every((x) => Number.isFinite(x) && x >= 0));
          assert.ok(sd >= 0 && sd <= 1);
          if (pn === gn) assert.ok(distances.every((x) => x === 0));
        }
      });
    }
  }

  test('zero-size masks count as empty', () => {
    const none = { data: [], shape: [0, 3] };
    assert.equal(dice(none, none), 1);
    assert.ok(Number.isNaN(hausdorff(none, none)));
  });
});

describe('perClass and summarize', () => {
  const pred = { data: [0, 1, 1, 2, 2, 0, 0, 1, 1, 0, 0, 0], shape: [3, 4] };
  const gt = { data: [0, 1, 1, 1, 2, 0, 0, 0, 1, 0, 0, 0], shape: [3, 4] };
  const binary = (m: { data: number[]; shape: number[] }, k: number) => ({ data: m.data.map((v) => (v === k ? 1 : 0)), shape: m.shape });

  test('perClass applies the metric to each class mask, background included', () => {
    const diceValues = perClass(pred, gt, 4, dice);
    assert.deepEqual(diceValues, [0, 1, 2, 3].map((k) => dice(binary(pred, k), binary(gt, k))));
    assert.equal(diceValues[3], 1); // absent from both
    const hd = perClass(pred, gt, 4, hausdorff, { spacing: [1, 2] });
    assert.deepEqual(hd, [0, 1, 2, 3].map((k) => hausdorff(binary(pred, k), binary(gt, k), { spacing: [1, 2] })));
    assert.ok(Number.isNaN(hd[3]));
    const sd = perClass(pred, gt, 3, surfaceDice, { tolerance: 1 });
    assert.equal(sd.length, 3);
  });

  test('summarize: mean, sample std, count, skipped', () => {
    assert.deepEqual(summarize([1, 2, 3, NaN, Infinity, -Infinity]), { mean: 2, std: 1, count: 3, skipped: 3 });
    assert.deepEqual(summarize([5]), { mean: 5, std: 0, count: 1, skipped: 0 });
    const none = summarize([NaN]);
    assert.ok(Number.isNaN(none.mean) && Number.isNaN(none.std));
    assert.equal(none.skipped, 1);
    assert.equal(summarize([]).count, 0);
    const s = summarize(Float64Array.of(2, 4, 4, 4, 5, 5, 7, 9));
    assert.equal(s.mean, 5);
    assert.ok(close(s.std, Math.sqrt(32 / 7)));
  });
});

describe('bad inputs name the argument', () => {
  const ok = { data: [0, 1, 1, 0], shape: [2, 2] };
  const check = (f: () => unknown, type: typeof ShapeError | typeof InputError, argument: string, message?: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof type && e.argument === argument && (!message || message.test(e.message)));
  const metrics = {
    dice: (p: Mask, g: Mask) => dice(p, g),
    hausdorff: (p: Mask, g: Mask, spacing?: number[]) => hausdorff(p, g, { spacing }),
    hausdorff95: (p: Mask, g: Mask, spacing?: number[]) => hausdorff95(p, g, { spacing }),
    averageSurfaceDistance: (p: Mask, g: Mask, spacing?: number[]) => averageSurfaceDistance(p, g, { spacing }),
    surfaceDice: (p: Mask, g: Mask, spacing?: number[]) => surfaceDice(p, g, { spacing, tolerance: 1 }),
  };
  for (const [name, metric] of Object.entries(metrics)) {
    test(name, () => {
      check(() => metric({ data: [0, 1, 1], shape: [2, 2] }, ok), ShapeError, 'pred');
      check(() => metric(ok, { data: [0, 1, 1, 0, 1], shape: [2, 2] }), ShapeError, 'gt');
      check(() => metric({ data: [0, 2, 1, 0], shape: [2, 2] }, ok), InputError, 'pred', /got 2 at index 1/);
      check(() => metric(ok, { data: [0, 1, 0.5, 0], shape: [2, 2] }), InputError, 'gt', /index 2/);
      check(() => metric(ok, { data: [0, 1, 1, 0], shape: [4] }), ShapeError, 'gt', /\[2, 2\].*\[4\]/);
      check(() => metric(ok, { data: [0, 1, 1, 0, 0, 0], shape: [2, 3] }), ShapeError, 'gt', /\[2, 2\].*\[2, 3\]/);
      if (name !== 'dice') {
        check(() => metric(ok, ok, [1]), InputError, 'options.spacing');
        check(() => metric(ok, ok, [1, 0]), InputError, 'options.spacing');
        check(() => metric(ok, ok, [-1, 1]), InputError, 'options.spacing');
        check(() => metric(ok, ok, [1, NaN]), InputError, 'options.spacing');
      }
    });
  }

  test('options and perClass arguments', () => {
    check(() => surfaceDice(ok, ok, { tolerance: -1 }), InputError, 'options.tolerance');
    // @ts-expect-error: tolerance is required
    check(() => surfaceDice(ok, ok, {}), InputError, 'options.tolerance');
    // @ts-expect-error: not a variant
    check(() => hausdorff95(ok, ok, { variant: 'medpy' }), InputError, 'options.variant');
    // @ts-expect-error: not a variant
    check(() => averageSurfaceDistance(ok, ok, { variant: 'max' }), InputError, 'options.variant');
    check(() => perClass({ data: [0, 3], shape: [2] }, { data: [0, 1], shape: [2] }, 3, dice), InputError, 'pred', /got 3 at index 1/);
    check(() => perClass({ data: [0, 1], shape: [2] }, { data: [0, 1], shape: [1, 2] }, 3, dice), ShapeError, 'gt');
    check(() => perClass({ data: [0, 1], shape: [2] }, { data: [0, 1], shape: [2] }, 0, dice), InputError, 'classes');
  });
});
