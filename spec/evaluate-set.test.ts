/**
 * `evaluateSet` on small hand-made masks against brute-force definitions: two volumes of three
 * 4×4 slices (given out of order, one with a slice thickness) and a lone slice, binary; one
 * three-class volume. Dice by counting, HD95 from surface voxels and all pairwise distances
 * (MONAI's per-direction 95th percentile), lesion counts worked out by hand; the slice split;
 * the summaries; errors; and the results.md / results.json sections.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { percentile } from '../metrics/index.js';
import { evaluateSet, imageMetrics, type LabelledImage } from '../models/index.js';
import { writeEvalResults } from '../cli/report.js';

const H = 4;
const W = 4;

/** A 4×4 label map with `value` at the given (y, x) pixels. */
function plane(pixels: readonly (readonly [number, number, number?])[]): Uint8Array {
  const out = new Uint8Array(H * W);
  for (const [y, x, v] of pixels) out[y * W + x] = v ?? 1;
  return out;
}

interface Case { readonly slice: LabelledImage; readonly pred: Uint8Array }

function slice(id: string, label: Uint8Array, pred: Uint8Array, volume?: LabelledImage['volume'], spacing: readonly [number, number] = [0.5, 1]): Case {
  return { slice: { id, label, height: H, width: W, spacing, ...(volume ? { volume } : {}) }, pred };
}

/** Voxels of class k in stacked planes, as [z, y, x]. */
function voxels(planes: readonly Uint8Array[], k: number): number[][] {
  const out: number[][] = [];
  planes.forEach((p, z) => p.forEach((v, i) => { if (v === k) out.push([z, Math.floor(i / W), i % W]); }));
  return out;
}

function bruteDice(p: number[][], g: number[][]): number {
  if (p.length + g.length === 0) return 1;
  const key = (v: number[]) => v.join(',');
  const gs = new Set(g.map(key));
  return (2 * p.filter((v) => gs.has(key(v))).length) / (p.length + g.length);
}

/** Surface voxels: some face neighbour outside the mask (outside the volume counts as background). */
function bruteSurface(set: number[][], shape: readonly number[]): number[][] {
  const inside = new Set(set.map((v) => v.join(',')));
  return set.filter((v) => v.some((_, a) => [-1, 1].some((s) => {
    const u = [...v];
    u[a]! += s;
    return u[a]! < 0 || u[a]! >= shape[a]! || !inside.has(u.join(','));
  })));
}

/** MONAI's per-direction HD95 by brute force over all surface-voxel pairs. */
function bruteHd95(p: number[][], g: number[][], shape: readonly number[], spacing: readonly number[]): number {
  if (p.length === 0 && g.length === 0) return NaN;
  if (p.length === 0 || g.length === 0) return Infinity;
  const [sp, sg] = [bruteSurface(p, shape), bruteSurface(g, shape)];
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + ((v - b[i]!) * spacing[i]!) ** 2, 0));
  const directed = (from: number[][], to: number[][]) => from.map((a) => Math.min(...to.map((b) => dist(a, b))));
  return Math.max(percentile(directed(sp, sg), 95), percentile(directed(sg, sp), 95));
}

/** Volume A (thickness 2): a lesion over z 0–1 and one on z 2; B: one lesion on z 1; S: a lone empty slice. */
const A = [
  { label: plane([[1, 1], [1, 2]]), pred: plane([[1, 1]]) },
  { label: plane([[1, 1], [1, 2]]), pred: plane([]) },
  { label: plane([[3, 3]]), pred: plane([[0, 0]]) },
];
const B = [
  { label: plane([]), pred: plane([]) },
  { label: plane([[2, 2]]), pred: plane([[2, 2], [2, 3]]) },
  { label: plane([]), pred: plane([[0, 3]]) },
];
// out of order on purpose: stacking A as given (z 1, 2, 0) would split its first lesion in two
const binary: Case[] = [
  slice('a1', A[1]!.label, A[1]!.pred, { id: 'A', index: 1, thickness: 2 }),
  slice('a2', A[2]!.label, A[2]!.pred, { id: 'A', index: 2, thickness: 2 }),
  slice('b0', B[0]!.label, B[0]!.pred, { id: 'B', index: 0 }),
  slice('a0', A[0]!.label, A[0]!.pred, { id: 'A', index: 0, thickness: 2 }),
  slice('b1', B[1]!.label, B[1]!.pred, { id: 'B', index: 1 }),
  slice('s', plane([]), plane([])),
  slice('b2', B[2]!.label, B[2]!.pred, { id: 'B', index: 2 }),
];
const run = (cases: readonly Case[], classes = 2) => evaluateSet(cases.map((c) => c.slice), cases.map((c) => c.pred), classes);

describe('evaluateSet: binary, two volumes and a lone slice', () => {
  const r = run(binary);

  test('images and summary are the per-slice metrics of today', () => {
    assert.deepEqual(r.images, binary.map((c) => imageMetrics(c.slice, c.pred, 2)));
    assert.equal(r.summary.images, 7);
    assert.equal(r.summary.missed, 1, 'a1: lesion, nothing predicted');
  });

  test('volumes: grouped by id in first-appearance order, stacked by index, spacing [thickness ?? 1, …]', () => {
    assert.deepEqual(r.volumes.map((v) => [v.id, v.slices, v.sliceIds, v.spacing]), [
      ['A', 3, ['a0', 'a1', 'a2'], [2, 0.5, 1]],
      ['B', 3, ['b0', 'b1', 'b2'], [1, 0.5, 1]],
      ['s', 1, ['s'], [1, 0.5, 1]],
    ]);
  });

  test('3-D Dice and HD95 equal the brute-force definitions', () => {
    for (const [v, planes] of [[r.volumes[0]!, A], [r.volumes[1]!, B]] as const) {
      const p = voxels(planes.map((x) => x.pred), 1);
      const g = voxels(planes.map((x) => x.label), 1);
      assert.equal(v.dice, bruteDice(p, g), `${v.id} Dice`);
      const hd = bruteHd95(p, g, [3, H, W], v.spacing);
      assert.ok(Math.abs(v.hd95 - hd) < 1e-12, `${v.id} HD95 ${v.hd95} vs ${hd}`);
    }
    assert.equal(r.volumes[0]!.dice, 2 / 7, 'A by hand: 2·1/(2 + 5)');
    assert.equal(r.volumes[1]!.dice, 0.5, 'B by hand: 2·1/(3 + 1)');
    assert.equal(r.volumes[2]!.dice, 1, 'nothing in either: 1');
    assert.ok(Number.isNaN(r.volumes[2]!.hd95), 'HD95 of two empty volumes: NaN');
  });

  test('lesion-wise detection over 3-D components (by hand)', () => {
    const pick = (i: number) => { const l = r.volumes[i]!.lesion; return [l.gtLesions, l.predLesions, l.detected, l.falsePositives, l.recall, l.precision, l.f1]; };
    assert.deepEqual(pick(0), [2, 2, 1, 1, 0.5, 0.5, 0.5], 'A: the z 0–1 lesion is one component, found; z 2 missed; a false positive');
    assert.deepEqual(pick(1), [1, 2, 1, 1, 1, 0.5, 2 / 3], 'B: found, plus a false positive on z 2');
    const s = r.volumes[2]!.lesion;
    assert.ok([s.recall, s.precision, s.f1].every(Number.isNaN), 'no lesion either side: rates NaN');
  });

  test('volume summary: NaN and infinities never enter a mean', () => {
    const v = r.volumeSummary;
    assert.equal(v.volumes, 3);
    assert.equal(v.dice.count, 3);
    assert.ok(Math.abs(v.dice.mean - (2 / 7 + 0.5 + 1) / 3) < 1e-15);
    assert.deepEqual([v.hd95.count, v.hd95.skipped], [2, 1]);
    assert.deepEqual([v.recall.mean, v.recall.count], [0.75, 2]);
    assert.deepEqual([v.precision.mean, v.f1.count], [0.5, 2]);
  });

  test('slices: lesion-slice DSC, missed, false alarms on empty slices', () => {
    const s = r.slices;
    assert.deepEqual([s.lesionSlices, s.emptySlices, s.missed, s.falseAlarms], [4, 3, 1, 1]);
    assert.ok(Math.abs(s.lesionDice.mean - (2 / 3 + 0 + 0 + 2 / 3) / 4) < 1e-15, 'a0 2/3, a1 0, a2 0, b1 2/3');
    assert.equal(s.falseAlarmRate, 1 / 3, 'b2 of b0, b2, s');
  });

  test('perClass for K = 2: the single foreground class, equal to the volumes', () => {
    assert.equal(r.perClass.length, 1);
    const c = r.perClass[0]!;
    assert.equal(c.class, 1);
    assert.deepEqual(c.volumes.map((m) => m.dice), r.volumes.map((v) => v.dice));
    assert.deepEqual(c.volumes.map((m) => m.lesion), r.volumes.map((v) => v.lesion));
    assert.deepEqual(c.lesionDice, r.slices.lesionDice);
    assert.deepEqual(c.volumeDice, r.volumeSummary.dice);
    assert.deepEqual(c.lesionF1, r.volumeSummary.f1);
  });
});

describe('evaluateSet: three classes', () => {
  // one volume, slices given z 2, 1, 0; class 1 over z 0–1 at (0, 0); class 2 at (3, 3) on z 2
  const V = [
    { label: plane([[0, 0, 1]]), pred: plane([[0, 0, 1], [3, 0, 2]]) },
    { label: plane([[0, 0, 1]]), pred: plane([[0, 0, 2]]) },
    { label: plane([[3, 3, 2]]), pred: plane([[3, 3, 2]]) },
  ];
  const cases = [2, 1, 0].map((z) => slice(`v${z}`, V[z]!.label, V[z]!.pred, { id: 'V', index: z, thickness: 3 }, [1, 1]));
  const r = run(cases, 3);

  test('per class: brute-force Dice and HD95 per volume, lesion counts by hand', () => {
    assert.deepEqual(r.perClass.map((c) => c.class), [1, 2]);
    for (const c of r.perClass) {
      const p = voxels(V.map((x) => x.pred), c.class);
      const g = voxels(V.map((x) => x.label), c.class);
      assert.equal(c.volumes[0]!.dice, bruteDice(p, g), `class ${c.class} Dice`);
      const hd = bruteHd95(p, g, [3, H, W], [3, 1, 1]);
      assert.ok(Math.abs(c.volumes[0]!.hd95 - hd) < 1e-12, `class ${c.class} HD95 ${c.volumes[0]!.hd95} vs ${hd}`);
    }
    assert.equal(r.perClass[0]!.volumes[0]!.dice, 2 / 3);
    assert.equal(r.perClass[1]!.volumes[0]!.dice, 0.5);
    const l = (k: number) => { const d = r.perClass[k]!.volumes[0]!.lesion; return [d.gtLesions, d.predLesions, d.detected, d.falsePositives]; };
    assert.deepEqual(l(0), [1, 1, 1, 0]);
    assert.deepEqual(l(1), [1, 3, 1, 2]);
  });

  test('the volume: Dice and HD95 averaged over classes, lesions pooled', () => {
    const v = r.volumes[0]!;
    assert.equal(v.dice, (2 / 3 + 0.5) / 2);
    assert.ok(Math.abs(v.hd95 - (r.perClass[0]!.volumes[0]!.hd95 + r.perClass[1]!.volumes[0]!.hd95) / 2) < 1e-12);
    assert.deepEqual([v.lesion.gtLesions, v.lesion.predLesions, v.lesion.detected, v.lesion.falsePositives, v.lesion.recall, v.lesion.precision], [2, 4, 2, 2, 1, 0.5]);
    assert.equal(v.lesion.f1, 2 / 3);
  });

  test('per-class slice split: a slice is a lesion slice of the classes its ground truth has', () => {
    const [c1, c2] = [r.perClass[0]!.slices, r.perClass[1]!.slices];
    assert.deepEqual([c1.lesionSlices, c1.emptySlices, c1.lesionDice.mean, c1.missed, c1.falseAlarms], [2, 1, 0.5, 1, 0]);
    assert.deepEqual([c2.lesionSlices, c2.emptySlices, c2.lesionDice.mean, c2.missed, c2.falseAlarms, c2.falseAlarmRate], [1, 2, 1, 0, 2, 1]);
    assert.deepEqual([r.slices.lesionSlices, r.slices.emptySlices], [3, 0], 'any foreground: every slice is a lesion slice');
  });
});

describe('evaluateSet: errors and reports', () => {
  const slices = binary.map((c) => c.slice);
  const preds = binary.map((c) => c.pred);
  const named = (f: () => unknown, argument: string, pattern = /./) => assert.throws(f, (e: Error) => e instanceof InputError && e.op === 'evaluateSet' && e.argument === argument && pattern.test(e.message), argument);

  test('bad input is named', () => {
    named(() => evaluateSet(slices, preds.slice(1), 2), 'predictions', /one label map per slice \(7\), got 6/);
    named(() => evaluateSet(slices, preds.map((p, i) => (i === 3 ? p.subarray(1) : p)), 2), 'predictions[3]', /16 class indices .*got 15 values/);
    named(() => evaluateSet(slices, preds.map((p, i) => (i === 4 ? plane([[1, 1, 2]]) : p)), 2), 'predictions[4]', /value 2 at \(y, x\) = \(1, 1\)/);
    named(() => evaluateSet(slices, preds, 0), 'classes');
    named(() => evaluateSet(slices.map((s, i) => (i === 3 ? { ...s, volume: { id: 'A', index: 1, thickness: 2 } } : s)), preds, 2), 'slices[3]', /and slice 0 \('[^']+'\) are both at index 1 of volume 'A'/);
    named(() => evaluateSet(slices.map((s, i) => (i === 1 ? { ...s, volume: { id: 'A', index: 2 } } : s)), preds, 2), 'slices[1].volume.thickness', /has slices of thickness/);
    named(() => evaluateSet(slices.map((s, i) => (i === 1 ? { ...s, spacing: [1, 1] as const } : s)), preds, 2), 'slices[1].spacing');
    named(() => evaluateSet(slices.map((s, i) => (i === 2 ? { ...s, volume: { id: 'B', index: 0.5 } } : s)), preds, 2), 'slices[2].volume.index');
    named(() => evaluateSet(slices, preds, 2, { connectivity: 'edge' as 'face' }), 'options.connectivity');
    named(() => evaluateSet(slices, preds, 2, { minOverlap: 0 }), 'options.minOverlap');
  });

  test('connectivity and minOverlap reach the lesion detection', () => {
    const strict = evaluateSet(slices, preds, 2, { minOverlap: 2 });
    assert.equal(strict.volumes[0]!.lesion.detected, 0, 'A\'s lesion shares one voxel with the prediction');
  });

  test('results.md and results.json gain the lesion-slice and per-volume sections', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bseg-evalset-'));
    try {
      const r = run(binary);
      await writeEvalResults(dir, 'Evaluation', ['a note'], r.summary, r.images, { split: 'val' }, r);
      const md = readFileSync(join(dir, 'results.md'), 'utf8');
      for (const heading of ['## Summary', '## Lesion slices / empty slices', '## Per volume', '## Per image']) assert.ok(md.includes(heading), heading);
      assert.ok(!md.includes('## Per class'), 'no per-class section for one foreground class');
      assert.match(md, /\| A \| 3 \| 0\.286 \|/, 'volume A row');
      assert.match(md, /\| 4 \| 3 \| 0\.333 \(0\.385\) \| 1 \| 1 \(33\.3 %\) \|/, 'slice split row');
      const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Record<string, unknown> & { volumes: { id: string; hd95: number | null }[] };
      for (const k of ['summary', 'images', 'slices', 'volumeSummary', 'volumes', 'perClass', 'split']) assert.ok(k in json, k);
      assert.equal(json.volumes[2]!.hd95, null, 'NaN as null');
      const three = run([2, 1, 0].map((z) => slice(`v${z}`, plane([[0, 0, 1]]), plane([[0, 0, 2]]), { id: 'V', index: z })), 3);
      await writeEvalResults(dir, 'Evaluation', [], three.summary, three.images, {}, three);
      assert.ok(readFileSync(join(dir, 'results.md'), 'utf8').includes('## Per class'), 'per-class section for K = 3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
