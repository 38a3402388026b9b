/**
 * Hardening of the data side (issue 12, items 2, 8 and 9): decompression bombs in PNG and NIfTI
 * are refused from what the header declares, without inflating them; unknown option keys are
 * InputErrors naming the key in every loss, loader, codec and metric that takes options; label
 * values that are not contiguous class indices are refused unless the class count is given.
 * Fixtures are built here.
 */
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { InputError } from '../core/errors.js';
import { decodePng, DistanceMapCache, loadDataset, loadLabels, makeBatch, readNifti, syntheticDataset } from '../data/index.js';
import { MAX_INFLATED_BYTES } from '../data/limits.js';
import type { Slice } from '../data/types.js';
import { boundaryLoss, checkOneHot, crossEntropy, diceLoss, edt, focalLoss, generalizedDiceLoss, rebalance, schedules, signedDistanceMap, tverskyLoss } from '../losses/index.js';
import { averageSurfaceDistance, hausdorff, hausdorff95, surfaceDice } from '../metrics/index.js';
import { assertDataError, buildNifti, grayPng, pngChunk, pngDataset, put, removeDir, tempDir } from './helpers/fixtures.js';

const root = tempDir('bseg-hardening-data-');
after(() => removeDir(root));

/** A 16×16 gray PNG whose IDAT carries `extra` zero bytes beyond its 16 rows. */
function bombPng(extra: number): Uint8Array {
  const rows = 16 * (16 + 1);
  const zdata = deflateSync(Buffer.alloc(rows + extra), { level: 9 });
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 16);
  new DataView(ihdr.buffer).setUint32(4, 16);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Uint8Array.from(Buffer.concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', zdata), pngChunk('IEND', new Uint8Array(0))]));
}

/** A `.nii.gz` whose header declares 4×4×4 uint8 voxels, followed by `extra` zero bytes. */
function bombNifti(extra: number): Uint8Array {
  const nii = buildNifti({ dims: [4, 4, 4], datatype: 2, values: new Array(64).fill(1) });
  return new Uint8Array(gzipSync(Buffer.concat([nii, Buffer.alloc(extra)]), { level: 9 }));
}

/** Runs `fn`, returns its error and the milliseconds it took. */
function timed(fn: () => unknown): { error: unknown; ms: number } {
  const t0 = performance.now();
  try {
    fn();
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
  return { error: undefined, ms: performance.now() - t0 };
}

describe('hardening: decompression bombs (item 2)', () => {
  test('a 16×16 PNG carrying 200 MB of zeros is refused from its header, quickly, naming the file', () => {
    const bytes = bombPng(200e6);
    assert.ok(bytes.length < 1e6, `the bomb is small: ${bytes.length} bytes`);
    const { error, ms } = timed(() => decodePng(bytes, 'bomb.png'));
    assert.ok(error instanceof InputError, String(error));
    assert.match((error as Error).message, /bomb\.png: image data inflates to more than \d+ bytes, but the header declares 16×16 \(272 bytes\)/);
    assert.ok(ms < 1000, `refused in ${ms.toFixed(0)} ms`);
    process.stdout.write(`# PNG bomb (${bytes.length} bytes → 200 MB) refused in ${ms.toFixed(1)} ms\n`);
  });

  test('a PNG with a little trailing image data (within the slack) still decodes', () => {
    const image = decodePng(bombPng(100), 'slack.png');
    assert.deepEqual([image.width, image.height, image.data.length], [16, 16, 256]);
  });

  test('a .nii.gz that inflates far beyond its header is refused, quickly, naming the file', () => {
    const bytes = bombNifti(200e6);
    const { error, ms } = timed(() => readNifti(bytes, 'bomb.nii.gz'));
    assert.ok(error instanceof InputError, String(error));
    assert.match((error as Error).message, /bomb\.nii\.gz: gzip data inflates to more than \d+ bytes, but the header declares 416/);
    assert.ok(ms < 1000, `refused in ${ms.toFixed(0)} ms`);
    process.stdout.write(`# NIfTI bomb (${bytes.length} bytes → 200 MB) refused in ${ms.toFixed(1)} ms\n`);
    // the same volume without the padding reads
    const ok = readNifti(bombNifti(0), 'ok.nii.gz');
    assert.deepEqual(ok.shape, [4, 4, 4]);
  });

  test('a header declaring more than the documented maximum is refused before inflating', () => {
    const nii = buildNifti({ dims: [2048, 2048, 2048], datatype: 2, values: [] });
    const { error } = timed(() => readNifti(new Uint8Array(gzipSync(nii)), 'huge.nii.gz'));
    assert.ok(error instanceof InputError);
    assert.match((error as Error).message, new RegExp(`huge\\.nii\\.gz: .*(more than the ${MAX_INFLATED_BYTES} allowed|too large)`));
  });

  test('training data with a bomb is a data error naming the file', async () => {
    const dir = pngDataset(`${root}/bomb-ds`, { foreground: 1 });
    const file = put(dir, 'val/img/case10.png', bombPng(50e6));
    await assertDataError(() => loadDataset(dir), InputError, file, /inflates to more than/);
  });
});

describe('hardening: unknown option keys (item 8)', () => {
  before(async () => core.setBackend('cpu'));

  /** Asserts an InputError whose argument is `options.<key>`. */
  const refuses = async (fn: () => unknown, key: string, hint?: string) => {
    let caught: unknown;
    try {
      await fn();
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof InputError, `expected InputError for '${key}', got ${String(caught)}`);
    assert.equal((caught as InputError).argument, `options.${key}`);
    assert.match((caught as Error).message, new RegExp(`unknown option '${key}'`));
    if (hint) assert.match((caught as Error).message, new RegExp(`did you mean '${hint}'`));
  };

  test('losses: boundaryLoss(p, φ, { idcs: [1] }) and the others name the misspelt key', async () => {
    const p = core.tensor([[[0.5, 0.5], [0.5, 0.5]]]);
    const t = core.tensor([[[1, 0], [0, 1]]]);
    await refuses(() => boundaryLoss(p, t, { idcs: [1] } as never), 'idcs', 'idc');
    await refuses(() => generalizedDiceLoss(p, t, { weight: 'monai' } as never), 'weight', 'weights');
    await refuses(() => diceLoss(p, t, { smoth: 1 } as never), 'smoth', 'smooth');
    await refuses(() => tverskyLoss(p, t, { alfa: 1 } as never), 'alfa', 'alpha');
    await refuses(() => crossEntropy(p, t, { eps: 1 } as never), 'eps');
    await refuses(() => focalLoss(p, t, { gama: 1 } as never), 'gama', 'gamma');
    await refuses(() => checkOneHot(t, { axes: 1 } as never), 'axes', 'axis');
    // the correct key still works
    assert.equal(boundaryLoss(p, t, { idc: [1] }).shape.length, 0);
    core.dispose([p, t]);
  });

  test('distance maps, schedules, metrics', async () => {
    const mask = { data: [0, 1, 1, 0], shape: [4] };
    await refuses(() => edt(mask, { spacings: [1] } as never), 'spacings', 'spacing');
    await refuses(() => signedDistanceMap(mask, { convension: 'interface' } as never), 'convension', 'convention');
    await refuses(() => rebalance({ floorAtEpch: 3 } as never), 'floorAtEpch', 'floorAtEpoch');
    await refuses(() => schedules.constant({ weigths: [1] } as never), 'weigths', 'weights');
    await refuses(() => hausdorff(mask, mask, { spacng: [1] } as never), 'spacng', 'spacing');
    await refuses(() => hausdorff95(mask, mask, { varaint: 'pooled' } as never), 'varaint', 'variant');
    await refuses(() => averageSurfaceDistance(mask, mask, { variants: 'pooled' } as never), 'variants', 'variant');
    await refuses(() => surfaceDice(mask, mask, { tolerance: 1, tol: 1 } as never), 'tol');
  });

  test('loaders and codecs', async () => {
    const dir = pngDataset(`${root}/opts-ds`, { foreground: 1 });
    await refuses(() => loadDataset(dir, { sizes: 16 } as never), 'sizes', 'size');
    await refuses(() => loadLabels(`${dir}/train/gt/case0.png`, { labelformat: 'indices' } as never), 'labelformat', 'labelFormat');
    await refuses(() => decodePng(grayPng([0], 1, 1), 'x.png', { keepPalette: true } as never), 'keepPalette');
    await refuses(() => syntheticDataset({ trainSlice: 2 } as never), 'trainSlice', 'trainSlices');
    await refuses(() => new DistanceMapCache(2, { spacing: 'voxel', convention: 'reference', units: 'mm' } as never), 'units');
  });

  test('a target that is not one-hot is refused where the loader builds it (makeBatch)', () => {
    const slice: Slice = { id: 's7', image: new Float32Array(4), label: Uint8Array.of(0, 1, 7, 0), channels: 1, height: 2, width: 2, spacing: [1, 1] };
    assert.throws(() => makeBatch([slice], [0], 2, new DistanceMapCache(2)), (e: unknown) => e instanceof InputError && /slice s7 has label 7 .* outside \[0, 2\)/.test((e as Error).message));
  });
});

describe('hardening: label values (item 9)', () => {
  test('one stray label 7 in 0/1 masks is refused without --classes, naming the values; accepted with classes 8', async () => {
    const dir = pngDataset(`${root}/stray`, { foreground: 1 });
    const labels = new Uint8Array(256);
    labels[20] = 1;
    labels[40] = 7;
    put(dir, 'train/gt/case1.png', grayPng(labels, 16, 16));
    await assertDataError(() => loadDataset(dir), InputError, dir, /label values 0, 1, 7 would make 8 classes: pass classes explicitly \(--classes K\) if they are class indices \(2, 3, 4 and 2 more never occur\)/);
    await assertDataError(() => loadDataset(dir, { classes: 2 }), InputError, `${dir}/train/gt/case1.png`, /label value 7 at .* outside the 2 classes/);
    const data = await loadDataset(dir, { classes: 8 });
    assert.equal(data.classes, 8);
  });

  test('a grayscale picture read as labels is refused (it would make 256 classes); explicit classes allow it', async () => {
    const values = Array.from({ length: 256 }, (_, i) => i);
    const file = put(root, 'gray/photo.png', grayPng(values, 16, 16));
    await assertDataError(() => loadLabels(file), InputError, file, /would make 256 classes: pass classes explicitly .*more than 32 classes are never inferred/);
    const labels = await loadLabels(file, { classes: 256, labelFormat: 'indices' });
    assert.equal(labels.labels[255], 255);
    // contiguous class indices are inferred as before
    const three = put(root, 'gray/three.png', grayPng([0, 1, 2, 2], 2, 2));
    assert.deepEqual([...(await loadLabels(three)).labels], [0, 1, 2, 2]);
  });
});
