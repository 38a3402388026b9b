import assert from 'node:assert/strict';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InputError, ShapeError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { loadDataset, loadImageFile, loadLabels } from '../data/folders.js';
import { readNifti, writeNifti } from '../data/nifti.js';
import { encodePng } from '../data/png.js';
import { resizeBilinear, resizeNearest } from '../data/resize.js';
import { slicePlane, stackPlanes } from '../data/volume-slices.js';
import { assertDataError, buildNifti, buildPng, grayPng, niftiDataset, pngDataset, put, removeDir, tempDir } from './helpers/fixtures.js';

let root: string;
before(() => {
  root = tempDir();
});
after(() => removeDir(root));

/** A fresh PNG dataset folder under the temp root. */
let counter = 0;
const freshPng = (options?: Parameters<typeof pngDataset>[1]) => pngDataset(join(root, `png${counter++}`), options);

describe('loadDataset on PNG slice folders', () => {
  test('binary255 masks, auto-detected: slices, ids, normalisation, notes', async () => {
    const dir = freshPng();
    const data = await loadDataset(dir);
    assert.equal(data.classes, 2);
    assert.deepEqual([data.channels, data.height, data.width], [1, 16, 16]);
    assert.deepEqual(data.train.map((s) => s.id), ['case0', 'case1', 'case2']);
    assert.deepEqual(data.val.map((s) => s.id), ['case10', 'case11']);
    for (const s of [...data.train, ...data.val]) {
      assert.ok(s.label.every((v) => v <= 1), 'labels 0/1');
      assert.ok(s.label.some((v) => v === 1), 'disk present');
      const lo = Math.min(...s.image);
      const hi = Math.max(...s.image);
      assert.ok(lo === 0 && hi === 1, `min-max normalised per slice, got [${lo}, ${hi}]`);
      assert.deepEqual(s.spacing, [1, 1]);
      assert.equal(s.source?.file, join(dir, s.id.startsWith('case1') && s.id.length === 6 ? 'val' : 'train', 'img', `${s.id}.png`));
    }
    assert.match(data.notes.join('\n'), /binary255 \(auto-detected\)/);
    assert.match(data.notes.join('\n'), /foreground fraction/);
  });

  test('label formats: indices, binary255 forced, auto on 0/1 labels', async () => {
    const dir = freshPng({ foreground: 1 });
    const auto = await loadDataset(dir);
    assert.match(auto.notes.join('\n'), /labels: indices/);
    assert.ok(auto.train[0]!.label.some((v) => v === 1), 'indices kept');
    await assertDataError(() => loadDataset(dir, { labelFormat: 'binary255' }), InputError, join(dir, 'train/gt/case0.png'), /label value 1 at \(\d+, \d+, \d+\) is neither 0 nor 255/);
    const dir255 = freshPng();
    await assertDataError(() => loadDataset(dir255, { labelFormat: 'indices' }), InputError, dir255, /label values 0, 255 would make 256 classes: pass classes explicitly/);
    await assertDataError(() => loadDataset(dir255, { labelFormat: 'indices', classes: 2 }), InputError, join(dir255, 'train/gt/case0.png'), /label value 255 at .* outside the 2 classes \[0, 2\)/);
  });

  test('three classes from indices; labels above classes are refused naming the file', async () => {
    const dir = join(root, 'three');
    for (const split of ['train', 'val']) {
      put(dir, `${split}/img/a.png`, grayPng([0, 50, 100, 150], 2, 2));
      put(dir, `${split}/gt/a.png`, grayPng([0, 1, 2, split === 'val' ? 2 : 0], 2, 2));
    }
    const data = await loadDataset(dir);
    assert.equal(data.classes, 3);
    assert.equal(data.val[0]!.id, 'val-a', 'val ids are prefixed when they clash with train ids');
    await assertDataError(() => loadDataset(dir, { classes: 2 }), InputError, join(dir, 'train/gt/a.png'), /label value 2 at \(0, 1, 0\) is outside the 2 classes/);
  });

  test('colour PNG images give 3 channels (gray ones copied), gray saved as RGB gives 1; palette labels read as indices', async () => {
    const dir = join(root, 'colour');
    const rgb = (pixels: number[][]) => buildPng({ width: 2, height: 1, colorType: 2, bitDepth: 8, samples: pixels.flat() });
    put(dir, 'train/img/a.png', rgb([[10, 20, 30], [200, 100, 0]]));
    put(dir, 'train/gt/a.png', buildPng({ width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [0, 1], palette: [[0, 0, 0], [255, 0, 0]] }));
    put(dir, 'val/img/b.png', rgb([[7, 7, 7], [9, 9, 9]]));
    put(dir, 'val/gt/b.png', grayPng([1, 0], 1, 2));
    const data = await loadDataset(dir);
    assert.equal(data.channels, 3);
    assert.deepEqual([...data.train[0]!.label], [0, 1]);
    assert.deepEqual([...data.val[0]!.image], [0, 1, 0, 1, 0, 1], 'gray copied to 3 channels');
    const gray = await loadDataset(dir, { channels: 1 });
    assert.equal(gray.channels, 1);
    const single = await loadImageFile(join(dir, 'val/img/b.png'));
    assert.equal(single.slices[0]!.channels, 1, 'a gray picture saved as RGB is gray');
  });

  test('resizing to size×size: images bilinear, labels nearest, spacing multiplied by n/m', async () => {
    const dir = freshPng({ size: 16 });
    const data = await loadDataset(dir, { size: 8 });
    assert.deepEqual([data.height, data.width], [8, 8]);
    assert.deepEqual(data.train[0]!.spacing, [2, 2]);
    assert.match(data.notes.join('\n'), /resized to 8×8/);
  });

  test('inconsistent slice sizes without size are refused; with size they load', async () => {
    const dir = freshPng({ size: 16 });
    const { image, mask } = { image: new Uint8Array(12 * 10).fill(9), mask: new Uint8Array(12 * 10) };
    put(dir, 'val/img/odd.png', grayPng(image, 12, 10));
    put(dir, 'val/gt/odd.png', grayPng(mask, 12, 10));
    await assertDataError(() => loadDataset(dir), ShapeError, join(dir, 'val/img/odd.png'), /slices are 12×10 but .* 16×16: pass size/);
    const resized = await loadDataset(dir, { size: 16 });
    assert.deepEqual(resized.val.find((s) => s.id === 'odd')!.spacing, [12 / 16, 10 / 16]);
  });

  test('bad input: one-line errors naming the file or folder', async () => {
    await assertDataError(() => loadDataset(join(root, 'nowhere')), InputError, join(root, 'nowhere'), /missing folder/);
    const noVal = freshPng();
    rmSync(join(noVal, 'val/gt'), { recursive: true });
    await assertDataError(() => loadDataset(noVal), InputError, join(noVal, 'val/gt'), /missing folder/);
    const empty = freshPng();
    for (const f of readdirSync(join(empty, 'train/img'))) rmSync(join(empty, 'train/img', f));
    writeFileSync(join(empty, 'train/img/notes.txt'), 'not an image');
    await assertDataError(() => loadDataset(empty), InputError, join(empty, 'train/img'), /empty folder/);
    const mismatch = freshPng();
    renameSync(join(mismatch, 'train/gt/case1.png'), join(mismatch, 'train/gt/case7.png'));
    await assertDataError(() => loadDataset(mismatch), InputError, join(mismatch, 'train/img'), /img\/gt name mismatch: no label .* for case1\.png/);
    const sizes = freshPng();
    put(sizes, 'train/gt/case2.png', grayPng(new Uint8Array(15 * 16), 15, 16));
    await assertDataError(() => loadDataset(sizes), ShapeError, join(sizes, 'train/gt/case2.png'), /label is 1×15×16 but its image .* is 1×16×16/);
    const corrupt = freshPng();
    const bytes = readFileSync(join(corrupt, 'val/img/case11.png'));
    bytes[45] ^= 0xff; // inside the IDAT data
    writeFileSync(join(corrupt, 'val/img/case11.png'), bytes);
    await assertDataError(() => loadDataset(corrupt), InputError, join(corrupt, 'val/img/case11.png'), /CRC mismatch/);
    const truncated = freshPng();
    const whole = readFileSync(join(truncated, 'train/gt/case0.png'));
    writeFileSync(join(truncated, 'train/gt/case0.png'), whole.subarray(0, whole.length - 20));
    await assertDataError(() => loadDataset(truncated), InputError, join(truncated, 'train/gt/case0.png'), /truncated/);
    const colourLabel = freshPng();
    put(colourLabel, 'train/gt/case0.png', buildPng({ width: 16, height: 16, colorType: 2, bitDepth: 8, samples: new Array(16 * 16 * 3).fill(0).map((_, i) => (i === 4 ? 255 : 0)) }));
    await assertDataError(() => loadDataset(colourLabel), InputError, join(colourLabel, 'train/gt/case0.png'), /label image is in colour/);
    await assertDataError(() => loadDataset(freshPng(), { size: 0 }), InputError, 'options.size', /expected an integer/);
  });
});

describe('loadDataset on NIfTI volumes', () => {
  test('slices along z: scaling applied, normalised per volume, spacing in-plane, ids', async () => {
    const dir = niftiDataset(join(root, 'nifti'));
    const data = await loadDataset(dir);
    assert.deepEqual([data.classes, data.channels, data.height, data.width], [2, 1, 10, 12]);
    assert.equal(data.train.length, 6);
    assert.equal(data.val.length, 3);
    assert.deepEqual(data.train.map((s) => s.id).slice(0, 3), ['vol0_z000', 'vol0_z001', 'vol0_z002']);
    assert.deepEqual(data.train[0]!.spacing, [0.800000011920929, 0.8999999761581421]);
    assert.deepEqual(data.train[1]!.source, { file: join(dir, 'train/img/vol0.nii.gz'), index: 1, axis: 0 });
    const volume = data.train.slice(0, 3);
    const all = volume.flatMap((s) => [...s.image]);
    assert.equal(Math.min(...all), 0);
    assert.equal(Math.max(...all), 1);
    assert.ok(Math.max(...volume[0]!.image) < 1, 'normalised per volume, not per slice');
    assert.equal(volume[2]!.label.reduce((a, b) => a + b, 0) > volume[0]!.label.reduce((a, b) => a + b, 0), true);
  });

  test('axis 2 and resizing: spacing of the sliced plane, multiplied by n/m', async () => {
    const data = await loadDataset(join(root, 'nifti'), { axis: 2, size: 6 });
    assert.equal(data.train.length, 24);
    assert.equal(data.train[0]!.id, 'vol0_x000');
    assert.deepEqual(data.train[0]!.spacing.map((s) => Number(s.toFixed(4))), [Number(((2.5 * 3) / 6).toFixed(4)), Number(((0.8 * 10) / 6).toFixed(4))]);
  });

  test('modalities as case_0000 / case_0001 files become channels', async () => {
    const dir = join(root, 'multi');
    for (const [split, name] of [['train', 'p1'], ['val', 'p2']] as const) {
      put(dir, `${split}/img/${name}_0000.nii`, buildNifti({ dims: [2, 2, 1], datatype: 2, values: [0, 1, 2, 3] }));
      put(dir, `${split}/img/${name}_0001.nii`, buildNifti({ dims: [2, 2, 1], datatype: 16, values: [5, 5, 5, 15] }));
      put(dir, `${split}/gt/${name}.nii.gz`, writeNifti({ data: Uint8Array.of(0, 0, 0, 1), shape: [1, 2, 2], spacing: [1, 1, 1] }, true));
    }
    const data = await loadDataset(dir);
    assert.equal(data.channels, 2);
    assert.deepEqual([...data.train[0]!.image].map((v) => Number(v.toFixed(3))), [0, 0.333, 0.667, 1, 0, 0, 0, 1]);
    rmSync(join(dir, 'val/img/p2_0001.nii'));
    await assertDataError(() => loadDataset(dir), InputError, 'p2', /1 modality files|1 image files/);
  });

  test('bad NIfTI data: truncated volume, image/label shape mismatch, non-integer labels, NaN voxels', async () => {
    const truncated = niftiDataset(join(root, 'nifti-truncated'));
    const label = readFileSync(join(truncated, 'train/gt/vol1.nii'));
    writeFileSync(join(truncated, 'train/gt/vol1.nii'), label.subarray(0, label.length - 5));
    await assertDataError(() => loadDataset(truncated), InputError, join(truncated, 'train/gt/vol1.nii'), /truncated/);
    const shapes = niftiDataset(join(root, 'nifti-shapes'));
    put(shapes, 'val/gt/vol2.nii', buildNifti({ dims: [12, 10, 2], datatype: 2, values: new Array(240).fill(0) }));
    await assertDataError(() => loadDataset(shapes), ShapeError, join(shapes, 'val/gt/vol2.nii'), /label is 2×10×12 but its image .* is 3×10×12/);
    const fractional = niftiDataset(join(root, 'nifti-fraction'));
    put(fractional, 'val/gt/vol2.nii', buildNifti({ dims: [12, 10, 3], datatype: 16, values: new Array(360).fill(0).map((_, i) => (i === 13 ? 0.5 : 0)) }));
    await assertDataError(() => loadDataset(fractional), InputError, join(fractional, 'val/gt/vol2.nii'), /label value 0\.5 at \(0, 1, 1\) is not a class index/);
    const nan = niftiDataset(join(root, 'nifti-nan'));
    put(nan, 'val/img/vol2.nii.gz', buildNifti({ dims: [12, 10, 3], datatype: 16, values: new Array(360).fill(1).map((v, i) => (i === 5 ? NaN : v)) }));
    await assertDataError(() => loadDataset(nan), InputError, join(nan, 'val/img/vol2.nii.gz'), /1 non-finite voxel values/);
    const mixed = niftiDataset(join(root, 'nifti-mixed'));
    put(mixed, 'val/img/extra.png', grayPng([1], 1, 1));
    put(mixed, 'val/gt/extra.png', grayPng([1], 1, 1));
    await assertDataError(() => loadDataset(mixed), InputError, join(mixed, 'val'), /mixes PNG and NIfTI/);
  });
});

describe('loadLabels and loadImageFile', () => {
  test('loadLabels: a PNG mask (binary255) and a NIfTI volume with its header', async () => {
    const png = put(root, 'single/mask.png', grayPng([0, 255, 255, 0], 2, 2));
    const fromPng = await loadLabels(png);
    assert.deepEqual({ ...fromPng, labels: [...fromPng.labels] }, { labels: [0, 1, 1, 0], shape: [2, 2], spacing: [1, 1], format: 'png' });
    const nii = put(root, 'single/labels.nii.gz', writeNifti({ data: Uint8Array.of(0, 1, 2, 0, 1, 2), shape: [1, 2, 3], spacing: [2, 0.5, 0.25] }, true));
    const fromNifti = await loadLabels(nii);
    assert.deepEqual([...fromNifti.labels], [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(fromNifti.shape, [1, 2, 3]);
    assert.deepEqual(fromNifti.spacing, [2, 0.5, 0.25]);
    assert.equal(fromNifti.format, 'nifti');
    assert.equal(fromNifti.header?.length, 352);
    await assertDataError(() => loadLabels(nii, { classes: 2 }), InputError, nii, /label value 2 .* outside the 2 classes/);
    await assertDataError(() => loadLabels(join(root, 'single/missing.png')), InputError, join(root, 'single/missing.png'), /no such file/);
    const txt = put(root, 'single/labels.txt', 'x');
    await assertDataError(() => loadLabels(txt), InputError, txt, /unknown file type/);
  });

  test('loadImageFile: a NIfTI volume → slices along the axis, with the volume for writing back', async () => {
    const file = join(root, 'nifti/val/img/vol2.nii.gz');
    const loaded = await loadImageFile(file, { axis: 1, size: 8 });
    assert.equal(loaded.format, 'nifti');
    assert.equal(loaded.slices.length, 10);
    assert.deepEqual(loaded.size, [3, 12]);
    assert.deepEqual(loaded.volume?.shape, [3, 10, 12]);
    assert.deepEqual([loaded.slices[0]!.height, loaded.slices[0]!.width], [8, 8]);
    assert.ok(loaded.slices.every((s) => s.label.every((v) => v === 0)), 'no ground truth: zero labels');
  });
});

describe('resizing and volume planes', () => {
  test('bilinear (align_corners=false) and nearest: known values', () => {
    assert.deepEqual([...resizeBilinear(Float32Array.of(0, 1), 1, 2, 1, 4)], [0, 0.25, 0.75, 1]);
    assert.deepEqual([...resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 4, 1, 2)], [0.5, 2.5]);
    assert.deepEqual([...resizeNearest(Uint8Array.of(1, 2, 3), 1, 3, 1, 6)], [1, 1, 2, 2, 3, 3]);
    assert.deepEqual([...resizeNearest(Uint8Array.of(1, 2, 3, 4), 2, 2, 1, 1)], [4]);
    const same = Float32Array.of(1, 2, 3, 4);
    assert.deepEqual(resizeBilinear(same, 2, 2, 2, 2), same);
    assert.throws(() => resizeBilinear(same, 3, 2, 4, 4), ShapeError);
  });

  test('slicePlane and stackPlanes are inverse along each axis', () => {
    const shape: [number, number, number] = [2, 3, 4];
    const volume = Uint8Array.from({ length: 24 }, (_, i) => i);
    for (const axis of [0, 1, 2] as const) {
      const planes = Array.from({ length: shape[axis] }, (_, i) => slicePlane(volume, shape, axis, i));
      assert.deepEqual(stackPlanes(planes, shape, axis), volume);
    }
    assert.deepEqual([...slicePlane(volume, shape, 2, 1)], [1, 5, 9, 13, 17, 21]);
  });
});

describe('writeFileAtomic', () => {
  test('writes via a temporary file in the same folder, leaving no temporary behind', async () => {
    const dir = join(root, 'atomic');
    put(dir, 'keep.txt', 'old');
    await writeFileAtomic(join(dir, 'keep.txt'), 'new');
    await writeFileAtomic(join(dir, 'picture.png'), encodePng({ width: 1, height: 1, channels: 1, bitDepth: 8, data: Uint8Array.of(7) }));
    assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir).sort(), ['keep.txt', 'picture.png']);
    await assert.rejects(writeFileAtomic(join(dir, 'no/such/folder.txt'), 'x'), /ENOENT/);
    assert.deepEqual(readdirSync(dir).sort(), ['keep.txt', 'picture.png']);
  });

  test('NIfTI written atomically reads back', async () => {
    const path = join(root, 'atomic/map.nii.gz');
    await writeFileAtomic(path, writeNifti({ data: Float32Array.of(-1, 0, 2.5), shape: [1, 1, 3], spacing: [1, 1, 1] }, true));
    assert.deepEqual([...readNifti(new Uint8Array(readFileSync(path))).data], [-1, 0, 2.5]);
  });
});
