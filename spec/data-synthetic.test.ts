import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { crc32 } from '../data/crc32.js';
import { lesionStats } from '../data/lesion-stats.js';
import { syntheticDataset } from '../data/synthetic.js';
import { signedDistanceMaps } from '../losses/signed-distance.js';

describe('syntheticDataset', () => {
  const data = syntheticDataset({ seed: 0 });
  const slices = [...data.train, ...data.val];

  test('defaults: 150 train and 30 val slices of 64×64, 1 channel, 2 classes, spacing [1, 1], images in [0, 1]', () => {
    assert.deepEqual([data.train.length, data.val.length, data.height, data.width, data.channels, data.classes], [150, 30, 64, 64, 1, 2]);
    for (const s of slices) {
      assert.deepEqual([s.image.length, s.label.length, s.channels], [64 * 64, 64 * 64, 1]);
      assert.deepEqual(s.spacing, [1, 1]);
      assert.ok(s.image.every((v) => v >= 0 && v <= 1), `image of ${s.id} outside [0, 1]`);
      assert.ok(s.label.every((v) => v === 0 || v === 1), `labels of ${s.id} not 0/1`);
    }
    assert.equal(new Set(slices.map((s) => s.id)).size, slices.length, 'ids unique');
  });

  test('deterministic: same seed gives identical arrays, another seed differs', () => {
    const again = syntheticDataset({ seed: 0, trainSlices: 10, valSlices: 5 });
    data.train.slice(0, 10).forEach((s, i) => {
      assert.deepEqual(again.train[i]!.image, s.image);
      assert.deepEqual(again.train[i]!.label, s.label);
    });
    data.val.slice(0, 5).forEach((s, i) => assert.deepEqual(again.val[i]!.image, s.image));
    const other = syntheticDataset({ seed: 1, trainSlices: 10, valSlices: 0 });
    assert.notDeepEqual(other.train[0]!.image, data.train[0]!.image);
    assert.ok(other.train.some((s, i) => s.label.some((v, p) => v !== data.train[i]!.label[p])), 'labels differ too');
  });

  test('highly unbalanced: mean foreground fraction within [0.1 %, 2 %], some slices without lesions', () => {
    const fraction = slices.reduce((a, s) => a + s.label.reduce((n, v) => n + v, 0) / s.label.length, 0) / slices.length;
    assert.ok(fraction >= 0.001 && fraction <= 0.02, `mean foreground fraction ${fraction}`);
    const empty = slices.filter((s) => s.label.every((v) => v === 0)).length / slices.length;
    assert.ok(empty > 0.05 && empty < 0.5, `share of empty slices ${empty}`);
    assert.match(data.notes.join('\n'), /mean foreground fraction \d+\.\d+ %/);
    assert.match(data.notes.join('\n'), /slices without lesions \d+\.\d+ %/);
  });

  test('most lesions are at least 3 px across, and their signed maps have negative values', () => {
    let lesions = 0;
    let thick = 0;
    for (const s of slices) {
      const stats = lesionStats(s.label, s.height, s.width);
      lesions += stats.lesions;
      thick += stats.thick;
      const maps = signedDistanceMaps({ data: s.label, shape: [s.height, s.width] }, { classes: 2 }).data;
      const foreground = maps.subarray(s.height * s.width);
      if (stats.thick > 0) assert.ok(foreground.some((v) => v < 0), `slice ${s.id}: a thick lesion but no negative φ`);
      else assert.ok(foreground.every((v) => v >= 0), `slice ${s.id}: negative φ without a thick lesion`);
    }
    assert.ok(lesions > 200, `${lesions} lesions`);
    assert.ok(thick / lesions >= 0.5, `${thick} of ${lesions} lesions ≥ 3 px across`);
    assert.match(data.notes.join('\n'), /lesions ≥ 3 px across .* \d+\.\d+ % of \d+/);
  });

  test('the first set is kept bit for bit (`--synthetic-set wmh-v1`): labels and images of seed 0 pinned', () => {
    const labels = new Uint8Array(slices.length * 64 * 64);
    const images = new Float32Array(slices.length * 64 * 64);
    slices.forEach((s, i) => {
      labels.set(s.label, i * 64 * 64);
      images.set(s.image, i * 64 * 64);
    });
    assert.equal(crc32(labels).toString(16), '23cd9efc');
    assert.equal(crc32(new Uint8Array(images.buffer)).toString(16), '1440ae10');
  });

  test('lesionStats on a hand-made map', () => {
    const label = new Uint8Array(8 * 8);
    // a plus (3 px across: one negative φ), a diagonal pair, a 2×2 square (nothing negative)
    for (const [y, x] of [[0, 2], [1, 1], [1, 2], [1, 3], [2, 2], [6, 6], [7, 7], [4, 0], [4, 1], [5, 0], [5, 1]]) label[y! * 8 + x!] = 1;
    assert.deepEqual(lesionStats(label, 8, 8), { lesions: 3, thick: 1, pixels: 11 });
  });

  test('two modalities and other sizes; bad options refused', () => {
    const two = syntheticDataset({ seed: 3, trainSlices: 4, valSlices: 2, size: 32, modalities: 2 });
    assert.equal(two.channels, 2);
    assert.equal(two.train[0]!.image.length, 2 * 32 * 32);
    assert.throws(() => syntheticDataset({ modalities: 3 as 1 }), InputError);
    assert.throws(() => syntheticDataset({ seed: -1 }), InputError);
    assert.throws(() => syntheticDataset({ size: 8 }), InputError);
  });
});
