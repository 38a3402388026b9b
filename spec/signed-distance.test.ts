import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError, ShapeError } from '../core/errors.js';
import { signedDistanceMap, signedDistanceMaps } from '../losses/signed-distance.js';
import { bruteDistance } from './helpers/brute-distance.js';

const example = [0, 0, 1, 1, 1, 0]; // the worked example of docs/conventions.md

/** float32 rounding of expected values, so that exact comparisons are fair. */
const f32 = (values: number[]) => [...Float32Array.from(values)];

/** A random 1–3-D mask with random spacing (small: the brute force is quadratic). */
const maskWithSpacing = fc
  .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.record({
      shape: fc.constant(shape),
      data: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      spacing: fc.array(fc.double({ min: 0.2, max: 3, noNaN: true }), { minLength: shape.length, maxLength: shape.length }),
    });
  });

describe('signedDistanceMap, reference convention', () => {
  test('the worked example of docs/conventions.md, unit spacing', () => {
    assert.deepEqual([...signedDistanceMap({ data: example, shape: [6] }).data], [2, 1, 0, -1, 0, 1]);
  });

  test('the "−1" is in physical units: spacing 0.5, 1.5, 2', () => {
    const phi = (s: number) => [...signedDistanceMap({ data: example, shape: [6] }, { spacing: [s] }).data];
    // Outside: distance to the nearest inside voxel. Inside: 1 − distance to the nearest outside voxel.
    assert.deepEqual(phi(0.5), [1, 0.5, 0.5, 0, 0.5, 0.5]); // nothing negative (open upstream issue)
    assert.deepEqual(phi(1.5), [3, 1.5, -0.5, -2, -0.5, 1.5]);
    assert.deepEqual(phi(2), [4, 2, -1, -3, -1, 2]);
  });

  test('φ₀ = 1 − φ₁ in the binary case with both classes present (unit spacing)', () => {
    fc.assert(
      fc.property(maskWithSpacing, ({ shape, data }) => {
        fc.pre(data.includes(0) && data.includes(1));
        const maps = signedDistanceMaps({ data, shape }, { classes: 2 }).data;
        const n = data.length;
        // Both maps are float32: compare at float32 precision.
        for (let p = 0; p < n; p++) assert.ok(Math.abs(maps[p] - (1 - maps[n + p])) <= 1e-6 * Math.max(1, Math.abs(maps[p])));
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  test('matches an independent brute force: EDT(¬m)·¬m − (EDT(m) − 1)·m', () => {
    fc.assert(
      fc.property(maskWithSpacing, ({ shape, data, spacing }) => {
        fc.pre(data.includes(0) && data.includes(1));
        const phi = signedDistanceMap({ data, shape }, { spacing }).data;
        const toInside = bruteDistance(data, shape, spacing, 1);
        const toOutside = bruteDistance(data, shape, spacing, 0);
        const expected = data.map((m, p) => (m === 1 ? 1 - toOutside[p] : toInside[p]));
        assert.deepEqual([...phi], f32(expected));
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});

describe('signedDistanceMap, interface convention', () => {
  test('worked example: the boundary lies halfway between voxel centres', () => {
    const phi = signedDistanceMap({ data: example, shape: [6] }, { convention: 'interface' }).data;
    assert.deepEqual([...phi], [1.5, 0.5, -0.5, -1.5, -0.5, 0.5]);
    const scaled = signedDistanceMap({ data: example, shape: [6] }, { convention: 'interface', spacing: [0.5] });
    assert.deepEqual([...scaled.data], [0.75, 0.25, -0.25, -0.75, -0.25, 0.25]);
  });

  test('|φ| is the distance to the union of the opposite voxels\' cells; φ(¬m) = −φ(m)', () => {
    fc.assert(
      fc.property(maskWithSpacing, ({ shape, data, spacing }) => {
        fc.pre(data.includes(0) && data.includes(1));
        const options = { spacing, convention: 'interface' } as const;
        const phi = signedDistanceMap({ data, shape }, options).data;
        const toInside = bruteDistance(data, shape, spacing, 1, 'cell');
        const toOutside = bruteDistance(data, shape, spacing, 0, 'cell');
        assert.deepEqual([...phi], f32(data.map((m, p) => (m === 1 ? -toOutside[p] : toInside[p]))));
        const complement = signedDistanceMap({ data: data.map((m) => 1 - m), shape }, options).data;
        assert.deepEqual([...complement], [...phi].map((x) => -x));
        for (let p = 0; p < data.length; p++) assert.ok(data[p] === 1 ? phi[p] < 0 : phi[p] > 0);
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  test('a face perpendicular to an axis: EDT − spacing/2', () => {
    // 2-D, spacing (0.5, 2): the region is the bottom rows; above it φ = (k − ½)·0.5.
    const shape = [6, 3];
    const data = Array.from({ length: 18 }, (_, p) => (p >= 9 ? 1 : 0));
    const phi = signedDistanceMap({ data, shape }, { spacing: [0.5, 2], convention: 'interface' }).data;
    assert.deepEqual([...phi], f32([1.25, 1.25, 1.25, 0.75, 0.75, 0.75, 0.25, 0.25, 0.25, -0.25, -0.25, -0.25, -0.75, -0.75, -0.75, -1.25, -1.25, -1.25]));
  });
});

describe('signedDistanceMap, both conventions', () => {
  for (const convention of ['reference', 'interface'] as const) {
    test(`${convention}: empty and full masks have no boundary: φ ≡ 0`, () => {
      for (const fill of [0, 1]) {
        for (const shape of [[7], [3, 4], [2, 3, 2]]) {
          const n = shape.reduce((a, b) => a * b, 1);
          const got = signedDistanceMap({ data: new Array(n).fill(fill), shape }, { convention, spacing: shape.map(() => 0.7) });
          assert.deepEqual(got, { data: new Float32Array(n), shape });
        }
      }
      assert.deepEqual(signedDistanceMap({ data: [], shape: [0, 5] }, { convention }).shape, [0, 5]);
      assert.deepEqual([...signedDistanceMap({ data: [1], shape: [] }, { convention }).data], [0]);
    });

    test(`${convention}: truncate equals Math.trunc of the float map`, () => {
      // Dyadic spacings: no φ lies within float32 rounding of an integer without being one, where
      // truncating the float64 φ (what the library does) and the float32 map could differ.
      const dyadic = fc.constantFrom(0.25, 0.5, 0.75, 1, 1.5, 2, 3);
      const masks = maskWithSpacing.chain((m) =>
        fc.array(dyadic, { minLength: m.shape.length, maxLength: m.shape.length }).map((spacing) => ({ ...m, spacing })),
      );
      fc.assert(
        fc.property(masks, ({ shape, data, spacing }) => {
          const float = signedDistanceMap({ data, shape }, { spacing, convention }).data;
          const truncated = signedDistanceMap({ data, shape }, { spacing, convention, truncate: true }).data;
          // + 0: no −0 in the truncated map, as in the reference's int32 maps.
          assert.deepEqual([...truncated], [...float].map((x) => Math.trunc(x) + 0));
        }),
        { seed: 42, numRuns: 100 },
      );
    });
  }
});

describe('signedDistanceMaps', () => {
  const labels = [0, 2, 2, 1, 0, 0]; // shape [2, 3]

  test('unbatched labels [...spatial] → [K, ...spatial]; absent classes are zeros', () => {
    const got = signedDistanceMaps({ data: labels, shape: [2, 3] }, { classes: 4 });
    assert.deepEqual(got.shape, [4, 2, 3]);
    assert.ok(got.data instanceof Float32Array);
    for (let k = 0; k < 3; k++) {
      const single = signedDistanceMap({ data: labels.map((l) => (l === k ? 1 : 0)), shape: [2, 3] }).data;
      assert.deepEqual([...got.data.slice(6 * k, 6 * k + 6)], [...single]);
    }
    assert.deepEqual([...got.data.slice(18)], new Array(6).fill(0));
  });

  test('batched labels [B, ...spatial] → [B, K, ...spatial], by option or by spacing length', () => {
    const batch = [...labels, 1, 1, 1, 1, 1, 1]; // image 1 is all class 1: every map zero
    const byOption = signedDistanceMaps({ data: batch, shape: [2, 2, 3] }, { classes: 3, batched: true });
    const bySpacing = signedDistanceMaps({ data: batch, shape: [2, 2, 3] }, { classes: 3, spacing: [1, 1] });
    assert.deepEqual(byOption.shape, [2, 3, 2, 3]);
    assert.deepEqual(bySpacing, byOption);
    const first = signedDistanceMaps({ data: labels, shape: [2, 3] }, { classes: 3 });
    assert.deepEqual([...byOption.data.slice(0, 18)], [...first.data]);
    assert.deepEqual([...byOption.data.slice(18)], new Array(18).fill(0));
    // Without batch: spacing as long as the labels' rank means spatial only.
    assert.deepEqual(signedDistanceMaps({ data: batch, shape: [2, 2, 3] }, { classes: 3, spacing: [1, 1, 1] }).shape, [3, 2, 2, 3]);
    assert.deepEqual(signedDistanceMaps({ data: batch, shape: [2, 2, 3] }, { classes: 3 }).shape, [3, 2, 2, 3]);
  });

  test('passes spacing, convention and truncate through', () => {
    const options = { classes: 3, spacing: [0.5, 1.5], convention: 'interface', truncate: true } as const;
    const got = signedDistanceMaps({ data: labels, shape: [2, 3] }, options).data;
    const single = signedDistanceMap({ data: labels.map((l) => (l === 2 ? 1 : 0)), shape: [2, 3] }, options).data;
    assert.deepEqual([...got.slice(12)], [...single]);
  });

  test('bad labels and options throw errors naming the argument', () => {
    const check = (f: () => unknown, type: typeof ShapeError | typeof InputError, argument: string, message?: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof type && e.argument === argument && (!message || message.test(e.message)));
    check(() => signedDistanceMaps({ data: [0, 1, 3, 0], shape: [4] }, { classes: 3 }), InputError, 'labels', /got 3 at index 2/);
    check(() => signedDistanceMaps({ data: [0, 1, -1, 0], shape: [4] }, { classes: 3 }), InputError, 'labels', /index 2/);
    check(() => signedDistanceMaps({ data: [0, 1.5, 0, 0], shape: [4] }, { classes: 3 }), InputError, 'labels', /1\.5 at index 1/);
    check(() => signedDistanceMaps({ data: [0, 1, 0], shape: [4] }, { classes: 3 }), ShapeError, 'labels');
    check(() => signedDistanceMaps({ data: [0, 1], shape: [2] }, { classes: 0 }), InputError, 'options.classes');
    check(() => signedDistanceMaps({ data: [0, 1], shape: [2] }, { classes: 2.5 }), InputError, 'options.classes');
    check(() => signedDistanceMaps({ data: [0, 1], shape: [2] }, { classes: 2, spacing: [1, 1, 1] }), InputError, 'options.spacing');
    check(() => signedDistanceMaps({ data: [0, 1], shape: [1, 2] }, { classes: 2, batched: true, spacing: [1, 1] }), InputError, 'options.spacing');
    check(() => signedDistanceMap({ data: [0, 1], shape: [2] }, { spacing: [0] }), InputError, 'options.spacing');
    check(() => signedDistanceMap({ data: [0, 3], shape: [2] }), InputError, 'mask');
    check(
      // @ts-expect-error: not a convention
      () => signedDistanceMap({ data: [0, 1], shape: [2] }, { convention: 'centre' }),
      InputError,
      'options.convention',
    );
  });
});
