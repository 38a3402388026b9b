import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError, ShapeError } from '../core/errors.js';
import { edt } from '../losses/edt.js';
import { bruteDistance, relativeDifference, unravel } from './helpers/brute-distance.js';

/** A random mask of rank 1–3 (small sizes: the brute force is quadratic) with random spacing. */
const maskWithSpacing = fc
  .integer({ min: 1, max: 3 })
  .chain((rank) =>
    fc.array(fc.integer({ min: 1, max: rank === 1 ? 24 : rank === 2 ? 9 : 5 }), { minLength: rank, maxLength: rank }),
  )
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.record({
      shape: fc.constant(shape),
      // A density per mask, so that sparse, dense, empty and full masks all occur.
      data: fc.double({ min: 0, max: 1, noNaN: true }).chain((density) =>
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }).map((u) => (u < density ? 1 : 0)), {
          minLength: n,
          maxLength: n,
        }),
      ),
      spacing: fc.array(fc.double({ min: 0.1, max: 4, noNaN: true }), { minLength: shape.length, maxLength: shape.length }),
    });
  });

/** Reverses axis `axis` of a row-major array. */
function flip(data: ArrayLike<number>, shape: number[], axis: number): number[] {
  const out = new Array<number>(data.length);
  for (let p = 0; p < data.length; p++) {
    const i = unravel(p, shape);
    i[axis] = shape[axis] - 1 - i[axis];
    out[i.reduce((acc, v, a) => acc * shape[a] + v, 0)] = data[p];
  }
  return out;
}

/** Permutes the axes: output axis k is input axis `perm[k]`. */
function permute(data: ArrayLike<number>, shape: number[], perm: number[]): { data: number[]; shape: number[] } {
  const outShape = perm.map((a) => shape[a]);
  const out = new Array<number>(data.length);
  for (let p = 0; p < data.length; p++) {
    const i = unravel(p, shape);
    out[perm.reduce((acc, a, k) => acc * outShape[k] + i[a], 0)] = data[p];
  }
  return { data: out, shape: outShape };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let p = 0; p < actual.length; p++) {
    const e = relativeDifference(actual[p], expected[p]);
    if (!(e <= tolerance)) assert.fail(`index ${p}: got ${actual[p]}, expected ${expected[p]}`);
  }
}

describe('edt', () => {
  test('equals the brute-force transform in 1-, 2- and 3-D with random spacing', () => {
    fc.assert(
      fc.property(maskWithSpacing, ({ shape, data, spacing }) => {
        fc.pre(data.includes(0)); // the all-true case has its own test
        const got = edt({ data, shape }, { spacing });
        assert.deepEqual(got.shape, shape);
        assert.ok(got.data instanceof Float64Array);
        assertClose(got.data, bruteDistance(data, shape, spacing, 0), 1e-9);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test('is exactly 0 on false voxels and positive on true ones', () => {
    fc.assert(
      fc.property(maskWithSpacing, ({ shape, data, spacing }) => {
        const got = edt({ data, shape }, { spacing }).data;
        for (let p = 0; p < data.length; p++) {
          if (data[p] === 0) assert.ok(Object.is(got[p], 0), `index ${p}: ${got[p]}`);
          else assert.ok(got[p] > 0 && Number.isFinite(got[p]));
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  test('commutes with flips and axis permutations (spacing permuted alike)', () => {
    fc.assert(
      fc.property(maskWithSpacing, fc.nat(), fc.nat(), ({ shape, data, spacing }, axisSeed, permSeed) => {
        fc.pre(data.includes(0));
        const base = edt({ data, shape }, { spacing }).data;
        const axis = axisSeed % shape.length;
        const flipped = edt({ data: flip(data, shape, axis), shape }, { spacing }).data;
        assertClose(flipped, flip(base, shape, axis), 1e-12);
        // A permutation from the seed: repeatedly take the (seed mod remaining)-th axis left.
        const left = shape.map((_, a) => a);
        const perm: number[] = [];
        let s = permSeed;
        while (left.length > 0) {
          perm.push(left.splice(s % left.length, 1)[0]);
          s = Math.floor(s / (perm.length + 1));
        }
        const moved = permute(data, shape, perm);
        const got = edt(moved, { spacing: perm.map((a) => spacing[a]) }).data;
        assertClose(got, permute(base, shape, perm).data, 1e-12);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  test("all-true masks measure to scipy's virtual false voxel at (−1, 0, …, 0)", () => {
    // scipy.ndimage.distance_transform_edt(np.ones((3, 4), bool), sampling=(2, 3)) row 0:
    // [2, 3.60555128, 6.32455532, 9.21954446]
    const got = edt({ data: new Array(12).fill(1), shape: [3, 4] }, { spacing: [2, 3] }).data;
    assertClose(got.slice(0, 4), [2, Math.sqrt(13), Math.sqrt(40), Math.sqrt(85)], 1e-15);
    for (let p = 0; p < 12; p++) {
      const [i, j] = unravel(p, [3, 4]);
      assert.equal(got[p], Math.sqrt(((i + 1) * 2) ** 2 + (j * 3) ** 2));
    }
    assert.deepEqual([...edt({ data: [true, true, true], shape: [3] }).data], [1, 2, 3]);
    const cube = edt({ data: new Uint8Array(8).fill(1), shape: [2, 2, 2] }).data;
    assert.deepEqual([...cube], [1, Math.SQRT2, Math.SQRT2, Math.sqrt(3), 2, Math.sqrt(5), Math.sqrt(5), Math.sqrt(6)]);
  });

  test('zero-size and 0-d masks', () => {
    assert.deepEqual(edt({ data: [], shape: [0, 3] }), { data: new Float64Array(0), shape: [0, 3] });
    assert.deepEqual(edt({ data: [], shape: [4, 0, 2] }, { spacing: [1, 2, 3] }).shape, [4, 0, 2]);
    assert.deepEqual([...edt({ data: [1], shape: [] }).data], [1]);
    assert.deepEqual([...edt({ data: [0], shape: [] }).data], [0]);
  });

  test('accepts number[], boolean[], Uint8Array and Float32Array masks alike', () => {
    const bits = [0, 1, 1, 1, 0, 1, 1, 0, 1];
    const expected = edt({ data: bits, shape: [3, 3] }).data;
    for (const data of [bits.map(Boolean), Uint8Array.from(bits), Float32Array.from(bits)]) {
      assert.deepEqual(edt({ data, shape: [3, 3] }).data, expected);
    }
  });

  test('a long line with isolated zeros and a plane with a single zero (envelope edge cases)', () => {
    const line = new Array(1000).fill(1);
    line[10] = 0;
    line[700] = 0;
    const got = edt({ data: line, shape: [1000] }, { spacing: [0.5] }).data;
    for (let i = 0; i < 1000; i++) {
      assert.equal(got[i], Math.min(Math.abs(i - 10), Math.abs(i - 700)) * 0.5);
    }
    const plane = new Array(50 * 40).fill(1);
    plane[17 * 40 + 33] = 0;
    const d = edt({ data: plane, shape: [50, 40] }, { spacing: [0.7, 1.3] }).data;
    for (let p = 0; p < plane.length; p++) {
      const [i, j] = unravel(p, [50, 40]);
      assert.ok(relativeDifference(d[p], Math.hypot((i - 17) * 0.7, (j - 33) * 1.3)) <= 1e-12);
    }
  });

  test('bad inputs throw errors naming the argument', () => {
    const check = (f: () => unknown, type: typeof ShapeError | typeof InputError, argument: string) =>
      assert.throws(f, (e: unknown) => e instanceof type && e.argument === argument && e.op === 'edt');
    check(() => edt({ data: [0, 1, 0], shape: [2, 2] }), ShapeError, 'mask');
    check(() => edt({ data: [0, 1], shape: [2, -1] }), ShapeError, 'mask.shape');
    check(() => edt({ data: [0, 1], shape: [2.5] }), ShapeError, 'mask.shape');
    check(() => edt({ data: [0, 2, 1, 0], shape: [2, 2] }), InputError, 'mask');
    check(() => edt({ data: [0, 0.5], shape: [2] }), InputError, 'mask');
    check(() => edt({ data: [0, NaN], shape: [2] }), InputError, 'mask');
    check(() => edt({ data: Uint8Array.of(0, 3), shape: [2] }), InputError, 'mask');
    check(() => edt({ data: [0, 1, 1, 0], shape: [2, 2] }, { spacing: [1] }), InputError, 'options.spacing');
    check(() => edt({ data: [0, 1, 1, 0], shape: [2, 2] }, { spacing: [1, 0] }), InputError, 'options.spacing');
    check(() => edt({ data: [0, 1, 1, 0], shape: [2, 2] }, { spacing: [1, -2] }), InputError, 'options.spacing');
    check(() => edt({ data: [0, 1, 1, 0], shape: [2, 2] }, { spacing: [1, Infinity] }), InputError, 'options.spacing');
    assert.throws(() => edt({ data: [0, 2, 1, 0], shape: [2, 2] }), /got 2 at index 1/);
  });
});
