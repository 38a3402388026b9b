import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import { InputError, ShapeError } from '../core/errors.js';
import { key, foldIn } from '../core/random.js';
import { batchOrder, makeBatch } from '../data/batches.js';
import { DistanceMapCache } from '../data/distance-cache.js';
import { syntheticDataset } from '../data/synthetic.js';
import type { Slice } from '../data/types.js';
import { signedDistanceMaps } from '../losses/signed-distance.js';

describe('batchOrder', () => {
  test('every index once per epoch, batches of batchSize with the remainder last, deterministic from the key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 9 }), fc.nat(1000), fc.boolean(), (count, size, seed, shuffle) => {
        const batches = batchOrder(count, size, key(seed), shuffle);
        assert.deepEqual(batches.flat().sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i));
        assert.equal(batches.length, Math.ceil(count / size));
        batches.slice(0, -1).forEach((b) => assert.equal(b.length, size));
        assert.deepEqual(batchOrder(count, size, key(seed), shuffle), batches);
        if (!shuffle) assert.deepEqual(batches.flat(), Array.from({ length: count }, (_, i) => i));
      }),
      { seed: 6, numRuns: 100 },
    );
  });

  test('different epochs give different orders', () => {
    const k = key(7);
    const a = batchOrder(50, 8, foldIn(k, 0), true).flat();
    const b = batchOrder(50, 8, foldIn(k, 1), true).flat();
    assert.notDeepEqual(a, b);
    assert.throws(() => batchOrder(5, 0, k, true), InputError);
    assert.throws(() => batchOrder(-1, 2, k, true), InputError);
  });
});

describe('DistanceMapCache and makeBatch', () => {
  const data = syntheticDataset({ seed: 2, trainSlices: 6, valSlices: 0, size: 24, modalities: 2 });

  test('the cache computes each slice once and returns the signed maps', () => {
    const cache = new DistanceMapCache(2);
    const s = data.train[0]!;
    const first = cache.get(s);
    assert.equal(cache.get(s), first);
    assert.equal(cache.get({ ...s, label: Uint8Array.from(s.label) }), first, 'same id, same labels');
    assert.equal(cache.computed, 1);
    assert.deepEqual(first, signedDistanceMaps({ data: s.label, shape: [24, 24] }, { classes: 2, spacing: [1, 1] }).data);
    const changed = Uint8Array.from(s.label);
    changed[0] = 1 - changed[0]!;
    assert.throws(() => cache.get({ ...s, label: changed }), /share the id/);
  });

  test("physical spacing and the interface convention are passed on", () => {
    const s: Slice = { ...data.train[1]!, id: 'scaled', spacing: [2, 0.5] };
    const maps = new DistanceMapCache(2, { spacing: 'physical', convention: 'interface' }).get(s);
    assert.deepEqual(maps, signedDistanceMaps({ data: s.label, shape: [24, 24] }, { classes: 2, spacing: [2, 0.5], convention: 'interface' }).data);
  });

  test('makeBatch: shapes, images, one-hot target, maps from the cache (each slice computed once)', async () => {
    const cache = new DistanceMapCache(2);
    const indices = [4, 1, 3];
    const batch = makeBatch(data.train, indices, 2, cache);
    assert.deepEqual(batch.images.shape, [3, 2, 24, 24]);
    assert.deepEqual(batch.target.shape, [3, 2, 24, 24]);
    assert.deepEqual(batch.distMaps.shape, [3, 2, 24, 24]);
    assert.deepEqual(batch.slices.map((s) => s.id), indices.map((i) => data.train[i]!.id));
    const [images, target, maps] = await Promise.all([batch.images.data(), batch.target.data(), batch.distMaps.data()]);
    const plane = 24 * 24;
    indices.forEach((i, n) => {
      const s = data.train[i]!;
      assert.deepEqual(images.subarray(n * 2 * plane, (n + 1) * 2 * plane), s.image);
      assert.deepEqual(batch.labels.subarray(n * plane, (n + 1) * plane), s.label);
      for (let p = 0; p < plane; p++) {
        assert.equal(target[(n * 2 + s.label[p]!) * plane + p], 1);
        assert.equal(target[(n * 2 + 1 - s.label[p]!) * plane + p], 0);
      }
      assert.deepEqual(maps.subarray(n * 2 * plane, (n + 1) * 2 * plane), cache.get(s));
    });
    makeBatch(data.train, [1, 4], 2, cache);
    assert.equal(cache.computed, 3, 'each slice once');
  });

  test('makeBatch refuses bad indices, mismatched classes, labels out of range and mixed sizes', () => {
    const cache = new DistanceMapCache(2);
    assert.throws(() => makeBatch(data.train, [], 2, cache), InputError);
    assert.throws(() => makeBatch(data.train, [6], 2, cache), InputError);
    assert.throws(() => makeBatch(data.train, [0], 3, cache), /distance map cache has 2/);
    const bad: Slice = { ...data.train[0]!, id: 'bad', label: new Uint8Array(24 * 24).fill(2) };
    assert.throws(() => makeBatch([bad], [0], 2, cache), /slice bad has label 2/);
    const small: Slice = { ...data.train[0]!, id: 'small', height: 12, width: 48 };
    assert.throws(() => makeBatch([data.train[0]!, small], [0, 1], 2, cache), ShapeError);
  });
});
