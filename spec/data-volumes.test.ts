/**
 * Slices' `volume` field (NIfTI slices, the synthetic `wmh` set; none for PNG) and `groupVolumes`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { loadDataset, loadImageFile } from '../data/folders.js';
import { syntheticWmh } from '../data/synthetic-wmh.js';
import type { Slice } from '../data/types.js';
import { groupVolumes } from '../data/volumes.js';
import { niftiDataset, pngDataset, removeDir, tempDir } from './helpers/fixtures.js';

let root: string;
before(() => {
  root = tempDir();
});
after(() => removeDir(root));

const slice = (id: string, volume?: Slice['volume']): Slice => ({
  id, image: new Float32Array(1), label: new Uint8Array(1), channels: 1, height: 1, width: 1, spacing: [1, 1], ...(volume ? { volume } : {}),
});

describe('the volume field of loaded slices', () => {
  test('NIfTI slices: the case name, the plane index and the voxel size along the slicing axis', async () => {
    const dir = niftiDataset(join(root, 'nifti'));
    const data = await loadDataset(dir);
    assert.deepEqual(data.train.map((s) => s.volume), [0, 1, 2, 0, 1, 2].map((index, i) => ({ id: i < 3 ? 'vol0' : 'vol1', index, thickness: 2.5 })));
    assert.deepEqual(data.val.map((s) => s.volume?.id), ['vol2', 'vol2', 'vol2']);
    const alongY = await loadDataset(dir, { axis: 1, size: 16 });
    assert.deepEqual(alongY.train[4]!.volume, { id: 'vol0', index: 4, thickness: 0.800000011920929 }, 'pixdim of y, unchanged by resizing');
    const volumes = groupVolumes(data.train);
    assert.deepEqual(volumes, [{ id: 'vol0', indices: [0, 1, 2], thickness: 2.5 }, { id: 'vol1', indices: [3, 4, 5], thickness: 2.5 }]);
    const file = await loadImageFile(join(dir, 'train/img/vol1.nii.gz'), { axis: 2 });
    assert.deepEqual(file.slices[11]!.volume, { id: 'vol1', index: 11, thickness: 0.8999999761581421 });
  });

  test('PNG slices have none: each is its own volume', async () => {
    const data = await loadDataset(pngDataset(join(root, 'png')));
    assert.ok(data.train.every((s) => s.volume === undefined));
    assert.deepEqual(groupVolumes(data.train), data.train.map((s, i) => ({ id: s.id, indices: [i], thickness: undefined })));
  });
});

describe('groupVolumes', () => {
  test('orders each volume by its slice index, volumes by their first slice; slices without volume stand alone', () => {
    const wmh = syntheticWmh({ trainSlices: 12, valSlices: 0, slicesPerVolume: 4, size: 16 });
    const order = [5, 0, 11, 2, 9, 1, 3, 10, 4, 8, 7, 6];
    const shuffled = order.map((i) => wmh.train[i]!);
    const volumes = groupVolumes(shuffled);
    assert.deepEqual(volumes.map((v) => v.id), ['wmh-train-v01', 'wmh-train-v00', 'wmh-train-v02']);
    for (const v of volumes) {
      const ids = v.indices.map((k) => shuffled[k]!.id);
      assert.deepEqual(ids, [0, 1, 2, 3].map((z) => `${v.id}_z00${z}`));
      assert.equal(v.thickness, wmh.stats.thickness.train[0]);
    }
    const mixed = groupVolumes([slice('a', { id: 'v', index: 1 }), slice('b'), slice('c', { id: 'v', index: 0 })]);
    assert.deepEqual(mixed, [{ id: 'v', indices: [2, 0], thickness: undefined }, { id: 'b', indices: [1], thickness: undefined }]);
    assert.deepEqual(groupVolumes([]), []);
  });

  test('refuses inconsistent volumes, naming the slice', () => {
    const refuses = (slices: Slice[], argument: string, pattern: RegExp) =>
      assert.throws(() => groupVolumes(slices), (e: unknown) => e instanceof InputError && e.argument === argument && pattern.test(e.message));
    refuses([slice('a', { id: 'v', index: 0 }), slice('b', { id: 'v', index: 0 })], 'slices[1]', /'b' and slice 0 \('a'\) are both at index 0 of volume 'v'/);
    refuses([slice('a', { id: 'v', index: 0, thickness: 3 }), slice('b', { id: 'v', index: 1, thickness: 2 })], 'slices[1].volume.thickness', /thickness 3 and 2/);
    refuses([slice('a', { id: 'v', index: 0 }), slice('v')], 'slices[1]', /'v' is already the id of a volume/);
    refuses([slice('v'), slice('a', { id: 'v', index: 0 })], 'slices[1]', /has the id of slice 0/);
    refuses([slice('a', { id: 'v', index: -1 })], 'slices[0].volume.index', /non-negative integer, got -1/);
    refuses([slice('a', { id: 'v', index: 0, thickness: 0 })], 'slices[0].volume.thickness', /positive/);
  });
});
