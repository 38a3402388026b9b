/**
 * Benchmark v2 (`syntheticWmh`): shapes, determinism, the split by volume, the `volume` field, the
 * statistics against brute-force counts on the generated labels, and the regime (foreground share,
 * empty slices, heavy-tailed lesion sizes, intensity overlap of lesion and tissue).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { crc32 } from '../data/crc32.js';
import { sizeHistogram } from '../data/lesion-stats.js';
import { syntheticWmh } from '../data/synthetic-wmh.js';
import type { Slice } from '../data/types.js';
import { groupVolumes } from '../data/volumes.js';

/** Sizes of the connected components of a binary mask of shape `dims` (full connectivity), by flood fill. */
function bruteComponents(mask: Uint8Array, dims: readonly number[]): { sizes: number[]; thick: number } {
  const [d, h, w] = dims.length === 3 ? (dims as [number, number, number]) : [1, dims[0]!, dims[1]!];
  const seen = new Uint8Array(mask.length);
  const sizes: number[] = [];
  let thick = 0;
  const at = (z: number, y: number, x: number) => z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w && mask[(z * h + y) * w + x] === 1;
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (!at(z, y, x) || seen[(z * h + y) * w + x]) continue;
    const todo: [number, number, number][] = [[z, y, x]];
    seen[(z * h + y) * w + x] = 1;
    let size = 0;
    let hasInterior = false;
    while (todo.length > 0) {
      const [cz, cy, cx] = todo.pop()!;
      size++;
      if (at(cz, cy - 1, cx) && at(cz, cy + 1, cx) && at(cz, cy, cx - 1) && at(cz, cy, cx + 1)) hasInterior = true;
      for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const [nz, ny, nx] = [cz + dz, cy + dy, cx + dx];
        if (at(nz, ny, nx) && !seen[(nz * h + ny) * w + nx]) {
          seen[(nz * h + ny) * w + nx] = 1;
          todo.push([nz, ny, nx]);
        }
      }
    }
    sizes.push(size);
    if (hasInterior) thick++;
  }
  return { sizes, thick };
}

const fgCount = (s: Slice) => s.label.reduce((a, v) => a + v, 0);

describe('syntheticWmh (benchmark v2)', () => {
  const data = syntheticWmh({ seed: 0 });
  const slices = [...data.train, ...data.val];

  test('defaults: 144 train and 48 val slices of 64×64 from 9 and 3 volumes of 16, images in [0, 1], labels 0/1', () => {
    assert.deepEqual([data.train.length, data.val.length, data.height, data.width, data.channels, data.classes], [144, 48, 64, 64, 1, 2]);
    for (const s of slices) {
      assert.deepEqual([s.image.length, s.label.length, s.channels, s.height, s.width], [64 * 64, 64 * 64, 1, 64, 64]);
      assert.deepEqual(s.spacing, [1, 1]);
      assert.ok(s.image.every((v) => v >= 0 && v <= 1), `image of ${s.id} outside [0, 1]`);
      assert.ok(s.label.every((v) => v === 0 || v === 1), `labels of ${s.id} not 0/1`);
    }
    assert.equal(new Set(slices.map((s) => s.id)).size, slices.length, 'ids unique');
    assert.deepEqual([data.stats.volumes.train, data.stats.volumes.val], [9, 3]);
    assert.deepEqual(data.stats.slicesPerVolume, { train: Array(9).fill(16), val: Array(3).fill(16) });
  });

  test('every slice has its volume: ids, indices 0 … depth − 1 in order, one positive thickness per volume; train and val volumes are disjoint', () => {
    for (const [split, list, count] of [['train', data.train, 9], ['val', data.val, 3]] as const) {
      const volumes = groupVolumes(list);
      assert.equal(volumes.length, count);
      volumes.forEach((v, i) => {
        assert.equal(v.id, `wmh-${split}-v${String(i).padStart(2, '0')}`);
        assert.deepEqual(v.indices.map((k) => list[k]!.volume!.index), Array.from({ length: 16 }, (_, j) => j));
        assert.deepEqual(v.indices, Array.from({ length: 16 }, (_, j) => 16 * i + j), 'slices of a volume are consecutive and in order');
        assert.ok(v.thickness !== undefined && v.thickness > 1 && v.thickness < 5, `thickness ${v.thickness}`);
        for (const k of v.indices) assert.equal(list[k]!.id, `${v.id}_z${String(list[k]!.volume!.index).padStart(3, '0')}`);
      });
    }
    const trainIds = new Set(data.train.map((s) => s.volume!.id));
    assert.ok(data.val.every((s) => !trainIds.has(s.volume!.id)), 'no volume in both splits');
    assert.deepEqual(data.stats.thickness.train, groupVolumes(data.train).map((v) => v.thickness));
  });

  test('deterministic: same seed and options give identical arrays, another seed differs; labels pinned across machines', () => {
    const a = syntheticWmh({ seed: 5, trainSlices: 16, valSlices: 8, size: 32 });
    const b = syntheticWmh({ seed: 5, trainSlices: 16, valSlices: 8, size: 32 });
    [...a.train, ...a.val].forEach((s, i) => {
      const t = [...b.train, ...b.val][i]!;
      assert.deepEqual(t.image, s.image);
      assert.deepEqual(t.label, s.label);
      assert.deepEqual(t.volume, s.volume);
    });
    const other = syntheticWmh({ seed: 6, trainSlices: 16, valSlices: 8, size: 32 });
    assert.notDeepEqual(other.train[8]!.image, a.train[8]!.image);
    // The labels of seed 0 (defaults), pinned: they depend on the lesion geometry and LOAD only, not on the
    // contrast, noise or distractor constants. Re-pin when the geometry is changed on purpose.
    const labels = new Uint8Array(slices.length * 64 * 64);
    slices.forEach((s, i) => labels.set(s.label, i * 64 * 64));
    assert.deepEqual({ crc: crc32(labels).toString(16), pixels: labels.reduce((x, v) => x + v, 0) }, PINNED);
  });

  test('statistics match brute-force counts on the labels (2-D per slice, 3-D per volume)', () => {
    const sizes2d: number[] = [];
    let thick = 0;
    for (const s of slices) {
      const c = bruteComponents(s.label, [64, 64]);
      sizes2d.push(...c.sizes);
      thick += c.thick;
    }
    const sizes3d: number[] = [];
    for (const list of [data.train, data.val]) {
      for (const v of groupVolumes(list)) {
        const stack = new Uint8Array(v.indices.length * 64 * 64);
        v.indices.forEach((k, z) => stack.set(list[k]!.label, z * 64 * 64));
        sizes3d.push(...bruteComponents(stack, [v.indices.length, 64, 64]).sizes);
      }
    }
    const st = data.stats;
    assert.equal(st.lesions2d.count, sizes2d.length);
    assert.equal(st.lesions2d.thick, thick);
    assert.equal(st.lesions3d.count, sizes3d.length);
    const bins = (sizes: number[]) => [[1, 2], [3, 9], [10, 29], [30, 99], [100, Infinity]].map(([lo, hi]) => sizes.filter((x) => x >= lo! && x <= hi!).length);
    assert.deepEqual(st.lesions2d.histogram.map((b) => b.count), bins(sizes2d));
    assert.deepEqual(st.lesions3d.histogram.map((b) => b.count), bins(sizes3d));
    assert.deepEqual(st.lesions3d.histogram.map((b) => [b.min, b.max]), [[1, 2], [3, 9], [10, 29], [30, 99], [100, null]]);
    const pixels = slices.reduce((a, s) => a + fgCount(s), 0);
    assert.equal(sizes3d.reduce((a, b) => a + b, 0), pixels);
    assert.equal(st.foregroundShare, pixels / (slices.length * 64 * 64));
    assert.equal(st.emptySliceShare, slices.filter((s) => fgCount(s) === 0).length / slices.length);
    const notes = data.notes.join('\n');
    assert.match(notes, /144 train slices from 9 volume\(s\) of 16 slices, 48 val slices from 3 volume\(s\) of 16 slices/);
    assert.match(notes, new RegExp(`lesions per volume \\(3-D, 26-connected\\) ${sizes3d.length}: 1–2 vx: ${bins(sizes3d)[0]} `));
    assert.match(notes, /mean foreground fraction \d+\.\d+ %; slices without lesions \d+\.\d+ %; noise σ \d+\.\d+ % of the intensity range/);
    assert.match(notes, /lesions ≥ 3 px across \(negative signed map inside\) \d+\.\d+ % of \d+/);
  });

  test("the paper's regime: 0.2–1 % foreground, 30–50 % empty slices, heavy-tailed sizes, noise 4–8 % of the range", () => {
    for (const d of [data, syntheticWmh({ seed: 1 })]) {
      const st = d.stats;
      assert.ok(st.foregroundShare >= 0.002 && st.foregroundShare <= 0.01, `foreground share ${st.foregroundShare}`);
      assert.ok(st.emptySliceShare >= 0.3 && st.emptySliceShare <= 0.5, `empty slices ${st.emptySliceShare}`);
      const h3 = st.lesions3d.histogram;
      // Most lesions are small, most lesion volume is in a few large ones.
      assert.ok(h3[0]!.count + h3[1]!.count >= 0.6 * st.lesions3d.count, `lesions < 10 voxels: ${h3[0]!.count + h3[1]!.count} of ${st.lesions3d.count}`);
      assert.ok(h3[0]!.count >= 0.25 * st.lesions3d.count, `1–2 voxel lesions: ${h3[0]!.count} of ${st.lesions3d.count}`);
      assert.ok(h3[4]!.voxelShare >= 0.5 && h3[4]!.count <= 0.15 * st.lesions3d.count, `≥ 100 voxels: ${h3[4]!.count} lesions, ${h3[4]!.voxelShare} of the voxels`);
      assert.ok(st.lesions2d.thickShare > 0.15 && st.lesions2d.thickShare < 0.6, `lesions ≥ 3 px across: ${st.lesions2d.thickShare}`);
      assert.ok(st.noiseShare >= 0.04 && st.noiseShare <= 0.08, `noise σ / range ${st.noiseShare}`);
    }
  });

  test('lesions are 3-D: most lesion pixels of a slice continue into a neighbouring slice', () => {
    let shared = 0;
    let total = 0;
    for (const v of groupVolumes(data.train)) {
      v.indices.forEach((k, z) => {
        const here = data.train[k]!.label;
        const near = [v.indices[z - 1], v.indices[z + 1]].filter((j) => j !== undefined).map((j) => data.train[j!]!.label);
        here.forEach((value, p) => {
          if (value === 0) return;
          total++;
          if (near.some((l) => l[p] === 1)) shared++;
        });
      });
    }
    assert.ok(shared / total > 0.6, `${shared} of ${total} lesion pixels continue in a neighbouring slice`);
  });

  test("a pixel's intensity alone does not separate lesion from tissue: the best threshold's Dice stays below 0.5", () => {
    const bins = 256;
    const lesion = new Float64Array(bins);
    const other = new Float64Array(bins);
    for (const s of slices) s.image.forEach((v, p) => (s.label[p] ? lesion : other)[Math.min(bins - 1, Math.floor(v * bins))]++);
    const positives = lesion.reduce((a, b) => a + b, 0);
    let best = 0;
    let tp = 0;
    let fp = 0;
    for (let b = bins - 1; b >= 0; b--) {
      tp += lesion[b]!;
      fp += other[b]!;
      best = Math.max(best, (2 * tp) / (tp + fp + positives));
    }
    assert.ok(best < 0.5, `best intensity-threshold Dice ${best}`);
  });

  test('slice counts are kept exactly, shared among round(count / slicesPerVolume) volumes; notes say so', () => {
    const d = syntheticWmh({ trainSlices: 40, valSlices: 5, slicesPerVolume: 16, size: 16 });
    assert.deepEqual([d.train.length, d.val.length], [40, 5]);
    assert.deepEqual(d.stats.slicesPerVolume, { train: [14, 13, 13], val: [5] });
    assert.deepEqual(groupVolumes(d.train).map((v) => v.indices.length), [14, 13, 13]);
    assert.ok(d.stats.thickness.val[0]! > 2.5 * d.stats.thickness.train[0]!, 'a 5-slice volume has thicker slices');
    assert.match(d.notes.join('\n'), /40 train slices from 3 volume\(s\) of 13–14 slices, 5 val slices from 1 volume\(s\) of 5 slices/);
    assert.match(d.notes.join('\n'), /slices per volume differ from 16/);
    const none = syntheticWmh({ trainSlices: 3, valSlices: 0, size: 16 });
    assert.deepEqual([none.train.length, none.val.length, none.stats.volumes.val], [3, 0, 0]);
    assert.match(none.notes[0]!, /no val slices/);
  });

  test('two modalities and other sizes; the FLAIR channel does not depend on the modality count', () => {
    const two = syntheticWmh({ seed: 3, trainSlices: 8, valSlices: 4, size: 32, modalities: 2 });
    const one = syntheticWmh({ seed: 3, trainSlices: 8, valSlices: 4, size: 32 });
    assert.equal(two.channels, 2);
    assert.equal(two.train[0]!.image.length, 2 * 32 * 32);
    two.train.forEach((s, i) => {
      assert.deepEqual(s.image.subarray(0, 32 * 32), one.train[i]!.image);
      assert.deepEqual(s.label, one.train[i]!.label);
      assert.ok(s.image.every((v) => v >= 0 && v <= 1));
    });
  });

  test('bad options are refused, naming the option', () => {
    const refuses = (options: object, argument: string, pattern: RegExp) =>
      assert.throws(() => syntheticWmh(options as never), (e: unknown) => e instanceof InputError && e.argument === argument && pattern.test(e.message));
    refuses({ modalities: 3 }, 'options.modalities', /expected an integer in \[1, 2\], got 3/);
    refuses({ seed: -1 }, 'options.seed', /got -1/);
    refuses({ size: 8 }, 'options.size', /\[16, 1024\]/);
    refuses({ trainSlices: 0 }, 'options.trainSlices', /got 0/);
    refuses({ valSlices: 1.5 }, 'options.valSlices', /got 1.5/);
    refuses({ slicesPerVolume: 0 }, 'options.slicesPerVolume', /got 0/);
    refuses({ trainSlice: 2 }, 'options.trainSlice', /did you mean 'trainSlices'/);
  });
});

describe('sizeHistogram', () => {
  test('bins, voxel shares and refusals', () => {
    const h = sizeHistogram([1, 2, 3, 9, 10, 150, 2]);
    assert.deepEqual(h.map((b) => [b.min, b.max, b.count, b.voxels]), [[1, 2, 3, 5], [3, 9, 2, 12], [10, 29, 1, 10], [30, 99, 0, 0], [100, null, 1, 150]]);
    assert.ok(Math.abs(h.reduce((a, b) => a + b.voxelShare, 0) - 1) < 1e-12);
    assert.deepEqual(sizeHistogram([], [1, 5]).map((b) => [b.count, b.voxelShare]), [[0, 0], [0, 0]]);
    assert.throws(() => sizeHistogram([0]), (e: unknown) => e instanceof InputError && e.argument === 'sizes[0]');
    assert.throws(() => sizeHistogram([1, 2.5]), (e: unknown) => e instanceof InputError && e.argument === 'sizes[1]');
    assert.throws(() => sizeHistogram([1], [3, 3]), (e: unknown) => e instanceof InputError && e.argument === 'edges');
  });
});

/** CRC-32 and count of the default seed-0 labels (all 192 slices, in order). */
const PINNED = { crc: '6267aeee', pixels: 2641 };
