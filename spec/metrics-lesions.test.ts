import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError, ShapeError } from '../core/errors.js';
import {
  type Connectivity,
  connectedComponents,
  dice,
  hausdorff95,
  lesionDetection,
  poolDetections,
  splitSliceScores,
  volumeMetrics,
} from '../metrics/index.js';
import { unravel } from './helpers/brute-distance.js';

type Mask = { data: number[]; shape: number[] };

/** A random mask of a random 2-D or 3-D shape (sides 1–6), with a random density. */
const maskOf = (shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .double({ min: 0, max: 1, noNaN: true })
    .chain((density) => fc.array(fc.double({ min: 0, max: 1, noNaN: true }).map((u): number => (u < density ? 1 : 0)), { minLength: n, maxLength: n }));
};
const shapes = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 3 });
const masks = shapes.chain((shape) => fc.record({ shape: fc.constant(shape), data: maskOf(shape) }));
const pairs = shapes.chain((shape) => fc.record({ shape: fc.constant(shape), a: maskOf(shape), b: maskOf(shape) }));
const connectivities = fc.constantFrom<Connectivity>('face', 'full');

/** Components by definition: flood fill from each unlabelled true voxel in raster order, comparing coordinates. */
function bruteComponents(data: number[], shape: number[], connectivity: Connectivity): { labels: number[]; sizes: number[] } {
  const coords = data.map((_, p) => unravel(p, shape));
  const adjacent = (i: number[], j: number[]) => {
    const d = i.map((v, a) => Math.abs(v - j[a]));
    if (d.some((x) => x > 1)) return false;
    const s = d.reduce((a, b) => a + b, 0);
    return connectivity === 'face' ? s === 1 : s >= 1;
  };
  const labels = data.map(() => 0);
  const sizes: number[] = [];
  for (let start = 0; start < data.length; start++) {
    if (data[start] !== 1 || labels[start] !== 0) continue;
    const label = sizes.length + 1;
    const stack = [start];
    labels[start] = label;
    let size = 0;
    while (stack.length > 0) {
      const p = stack.pop()!;
      size++;
      for (let q = 0; q < data.length; q++) {
        if (data[q] === 1 && labels[q] === 0 && adjacent(coords[p], coords[q])) {
          labels[q] = label;
          stack.push(q);
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** Detection counts by definition, from brute-force components. */
function bruteDetection(pred: number[], gt: number[], shape: number[], connectivity: Connectivity, minOverlap: number) {
  const gc = bruteComponents(gt, shape, connectivity);
  const pc = bruteComponents(pred, shape, connectivity);
  const overlapOf = (labels: number[], k: number, other: number[]) => labels.filter((l, i) => l === k && other[i] === 1).length;
  const detected = gc.sizes.filter((_, k) => overlapOf(gc.labels, k + 1, pred) >= minOverlap).length;
  const falsePositives = pc.sizes.filter((_, k) => overlapOf(pc.labels, k + 1, gt) < minOverlap).length;
  return { gtLesions: gc.sizes.length, predLesions: pc.sizes.length, detected, falsePositives };
}

function throwsNamed(f: () => unknown, type: typeof InputError | typeof ShapeError, argument: string): void {
  assert.throws(f, (e: unknown) => e instanceof type && e.argument === argument);
}

describe('connectedComponents', () => {
  test('matches a brute-force flood fill on random 2-D and 3-D masks, both connectivities', () => {
    fc.assert(
      fc.property(masks, connectivities, ({ data, shape }, connectivity) => {
        const c = connectedComponents({ data, shape }, { connectivity });
        const brute = bruteComponents(data, shape, connectivity);
        assert.deepEqual([...c.labels], brute.labels);
        assert.deepEqual(c.sizes, brute.sizes);
        assert.equal(c.count, brute.sizes.length);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test('full connectivity merges face components: never more components, same foreground', () => {
    fc.assert(
      fc.property(masks, ({ data, shape }) => {
        const face = connectedComponents({ data, shape });
        const full = connectedComponents({ data, shape }, { connectivity: 'full' });
        assert.ok(full.count <= face.count);
        assert.equal(full.sizes.reduce((a, b) => a + b, 0), data.reduce((a, b) => a + b, 0));
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  test('diagonal neighbours: 2-D (4 vs 8) and 3-D corners (6 vs 26)', () => {
    const diag = { data: [1, 0, 0, 1], shape: [2, 2] };
    assert.equal(connectedComponents(diag).count, 2);
    assert.equal(connectedComponents(diag, { connectivity: 'full' }).count, 1);
    const corner = { data: [1, 0, 0, 0, 0, 0, 0, 1], shape: [2, 2, 2] };
    assert.deepEqual([...connectedComponents(corner).labels], [1, 0, 0, 0, 0, 0, 0, 2]);
    assert.deepEqual(connectedComponents(corner, { connectivity: 'full' }).sizes, [2]);
  });

  test('labels in raster order of first voxel; booleans accepted; empty and zero-size masks', () => {
    const m = { data: [0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0], shape: [3, 4] };
    const c = connectedComponents(m);
    assert.deepEqual([...c.labels], [0, 0, 1, 1, 0, 0, 0, 1, 2, 0, 0, 0]);
    assert.deepEqual(c.sizes, [3, 1]);
    assert.equal(connectedComponents({ data: m.data.map((v) => v === 1), shape: m.shape }).count, 2);
    assert.equal(connectedComponents({ data: [0, 0, 0, 0], shape: [2, 2] }).count, 0);
    assert.equal(connectedComponents({ data: [], shape: [0, 3] }).count, 0);
  });
});

describe('lesionDetection', () => {
  test('counts match the brute-force definitions (random masks, connectivities, minOverlap)', () => {
    fc.assert(
      fc.property(pairs, connectivities, fc.integer({ min: 1, max: 3 }), ({ shape, a, b }, connectivity, minOverlap) => {
        const r = lesionDetection({ data: a, shape }, { data: b, shape }, { connectivity, minOverlap });
        const brute = bruteDetection(a, b, shape, connectivity, minOverlap);
        assert.deepEqual(
          { gtLesions: r.gtLesions, predLesions: r.predLesions, detected: r.detected, falsePositives: r.falsePositives },
          brute,
        );
        if (brute.gtLesions > 0) assert.equal(r.recall, brute.detected / brute.gtLesions);
        if (brute.predLesions > 0) assert.equal(r.precision, (brute.predLesions - brute.falsePositives) / brute.predLesions);
        if (brute.gtLesions > 0 && brute.predLesions > 0) {
          const f1 = r.precision + r.recall === 0 ? 0 : (2 * r.precision * r.recall) / (r.precision + r.recall);
          assert.equal(r.f1, f1);
        }
        for (const x of [r.recall, r.precision, r.f1]) assert.ok(Number.isNaN(x) || (x >= 0 && x <= 1));
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  test('a worked example: one lesion detected, one missed, one false positive', () => {
    const gt = { data: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], shape: [3, 4] };
    const pred = { data: [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], shape: [3, 4] };
    const r = lesionDetection(pred, gt);
    assert.deepEqual(r, { gtLesions: 2, predLesions: 2, detected: 1, falsePositives: 1, recall: 0.5, precision: 0.5, f1: 0.5 });
    // The gt lesion of 2 voxels is covered by 1 voxel only: not detected at minOverlap 2.
    const strict = lesionDetection(pred, gt, { minOverlap: 2 });
    assert.equal(strict.detected, 0);
    assert.equal(strict.falsePositives, 2);
    assert.equal(strict.f1, 0);
  });

  test('empty cases: neither → NaN; no gt lesion → recall NaN, precision 0, F1 0; no prediction → recall 0, precision NaN, F1 0', () => {
    const empty = { data: [0, 0, 0, 0, 0, 0, 0, 0], shape: [2, 2, 2] };
    const some = { data: [1, 0, 0, 0, 0, 0, 0, 1], shape: [2, 2, 2] };
    const none = lesionDetection(empty, empty);
    assert.deepEqual([none.gtLesions, none.predLesions, none.detected, none.falsePositives], [0, 0, 0, 0]);
    assert.ok([none.recall, none.precision, none.f1].every(Number.isNaN));
    const noGt = lesionDetection(some, empty);
    assert.ok(Number.isNaN(noGt.recall));
    assert.equal(noGt.precision, 0);
    assert.equal(noGt.f1, 0);
    assert.equal(noGt.falsePositives, 2);
    const noPred = lesionDetection(empty, some);
    assert.equal(noPred.recall, 0);
    assert.ok(Number.isNaN(noPred.precision));
    assert.equal(noPred.f1, 0);
    const same = lesionDetection(some, some, { connectivity: 'full' });
    assert.deepEqual([same.gtLesions, same.recall, same.precision, same.f1], [1, 1, 1, 1]);
  });
});

describe('poolDetections', () => {
  test('pooling two masks\' detections = detecting on the two side by side (a background column apart)', () => {
    const shapes2d = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }));
    const four = shapes2d.chain(([h, w]) => fc.record({ shape: fc.constant([h, w]), m: fc.array(maskOf([h, w]), { minLength: 4, maxLength: 4 }) }));
    fc.assert(
      fc.property(four, connectivities, fc.integer({ min: 1, max: 2 }), ({ shape, m }, connectivity, minOverlap) => {
        const [h, w] = shape as [number, number];
        const [pa, ga, pb, gb] = m as [number[], number[], number[], number[]];
        const beside = (x: number[], y: number[]) => Array.from({ length: h * (2 * w + 1) }, (_, i) => {
          const r = Math.floor(i / (2 * w + 1));
          const c = i % (2 * w + 1);
          return c < w ? x[r * w + c]! : c === w ? 0 : y[r * w + c - w - 1]!;
        });
        const options = { connectivity, minOverlap };
        const pooled = poolDetections([lesionDetection({ data: pa, shape }, { data: ga, shape }, options), lesionDetection({ data: pb, shape }, { data: gb, shape }, options)]);
        const joint = lesionDetection({ data: beside(pa, pb), shape: [h, 2 * w + 1] }, { data: beside(ga, gb), shape: [h, 2 * w + 1] }, options);
        assert.deepEqual(
          [pooled.gtLesions, pooled.predLesions, pooled.detected, pooled.falsePositives],
          [joint.gtLesions, joint.predLesions, joint.detected, joint.falsePositives],
        );
        for (const k of ['recall', 'precision', 'f1'] as const) assert.ok(Object.is(pooled[k], joint[k]), k);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  test('no detections: no lesions, rates NaN; bad counts are named', () => {
    const none = poolDetections([]);
    assert.deepEqual([none.gtLesions, none.predLesions], [0, 0]);
    assert.ok([none.recall, none.precision, none.f1].every(Number.isNaN));
    throwsNamed(() => poolDetections({} as never), InputError, 'detections');
    const m2 = { data: [0, 1, 1, 0], shape: [2, 2] };
    const d = lesionDetection(m2, m2);
    throwsNamed(() => poolDetections([d, { ...d, detected: -1 }]), InputError, 'detections[1].detected');
  });
});

describe('volumeMetrics', () => {
  test('Dice and HD95 of the whole volume with spacing, and the lesion detection', () => {
    fc.assert(
      fc.property(pairs, fc.array(fc.double({ min: 0.2, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 }), ({ shape, a, b }, s) => {
        const spacing = s.slice(0, shape.length);
        const pred = { data: a, shape };
        const gt = { data: b, shape };
        const v = volumeMetrics(pred, gt, { spacing, connectivity: 'full' });
        assert.equal(v.dice, dice(pred, gt));
        assert.ok(Object.is(v.hd95, hausdorff95(pred, gt, { spacing })));
        assert.deepEqual(v.lesion, lesionDetection(pred, gt, { connectivity: 'full' }));
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  test('spacing scales HD95, not Dice or detection; empty cases as the metrics', () => {
    const gt = { data: [1, 0, 0, 0, 0, 0, 0, 0], shape: [2, 2, 2] };
    const pred = { data: [0, 0, 0, 0, 0, 0, 0, 1], shape: [2, 2, 2] };
    const unit = volumeMetrics(pred, gt);
    const scaled = volumeMetrics(pred, gt, { spacing: [2, 3, 6] });
    assert.equal(unit.hd95, Math.sqrt(3));
    assert.equal(scaled.hd95, 7);
    assert.equal(scaled.dice, 0);
    assert.equal(scaled.lesion.falsePositives, 1);
    const empty = { data: new Array<number>(8).fill(0), shape: [2, 2, 2] };
    const both = volumeMetrics(empty, empty);
    assert.equal(both.dice, 1);
    assert.ok(Number.isNaN(both.hd95) && Number.isNaN(both.lesion.f1));
    const one = volumeMetrics(empty, gt);
    assert.equal(one.dice, 0);
    assert.equal(one.hd95, Infinity);
    assert.equal(one.lesion.f1, 0);
  });
});

describe('splitSliceScores', () => {
  test('Dice over lesion slices, false alarms on empty slices, apart', () => {
    const r = splitSliceScores([
      { dice: 0.5, gtForeground: true, predForeground: true },
      { dice: 0, gtForeground: true, predForeground: false },
      { dice: 1, gtForeground: false, predForeground: false },
      { dice: 0, gtForeground: false, predForeground: true },
      { dice: 0, gtForeground: false, predForeground: true },
    ]);
    assert.equal(r.lesionSlices, 2);
    assert.equal(r.emptySlices, 3);
    assert.equal(r.lesionDice.mean, 0.25);
    assert.equal(r.lesionDice.count, 2);
    assert.equal(r.missed, 1);
    assert.equal(r.falseAlarms, 2);
    assert.equal(r.falseAlarmRate, 2 / 3);
  });

  test('no slices, or no slice of one kind: NaN, never a throw', () => {
    const none = splitSliceScores([]);
    assert.ok(Number.isNaN(none.lesionDice.mean) && Number.isNaN(none.falseAlarmRate));
    const onlyLesions = splitSliceScores([{ dice: 0.8, gtForeground: true, predForeground: true }]);
    assert.equal(onlyLesions.lesionDice.mean, 0.8);
    assert.ok(Number.isNaN(onlyLesions.falseAlarmRate));
  });
});

describe('lesion metrics: errors', () => {
  const m: Mask = { data: [0, 1, 1, 0], shape: [2, 2] };
  test('unknown option keys are refused, named', () => {
    throwsNamed(() => connectedComponents(m, { conectivity: 'full' } as never), InputError, 'options.conectivity');
    throwsNamed(() => lesionDetection(m, m, { minOverlaps: 2 } as never), InputError, 'options.minOverlaps');
    throwsNamed(() => volumeMetrics(m, m, { spacings: [1, 1] } as never), InputError, 'options.spacings');
    throwsNamed(() => volumeMetrics(m, m, { variant: 'pooled' } as never), InputError, 'options.variant');
  });

  test('bad option values, masks, shapes and slice scores are named', () => {
    throwsNamed(() => connectedComponents(m, { connectivity: 8 } as never), InputError, 'options.connectivity');
    throwsNamed(() => lesionDetection(m, m, { minOverlap: 0 }), InputError, 'options.minOverlap');
    throwsNamed(() => lesionDetection(m, m, { minOverlap: 1.5 }), InputError, 'options.minOverlap');
    throwsNamed(() => connectedComponents({ data: [0, 2], shape: [2] }), InputError, 'mask');
    throwsNamed(() => lesionDetection(m, { data: [0, 1], shape: [1, 2] }), ShapeError, 'gt');
    throwsNamed(() => volumeMetrics(m, m, { spacing: [1] }), InputError, 'options.spacing');
    throwsNamed(() => volumeMetrics(m, m, { spacing: [1, -1] }), InputError, 'options.spacing');
    throwsNamed(() => splitSliceScores({} as never), InputError, 'slices');
    throwsNamed(() => splitSliceScores([{ dice: 1, gtForeground: 1, predForeground: false }] as never), InputError, 'slices[0].gtForeground');
  });
});
