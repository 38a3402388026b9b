/**
 * nnU-Net v2 raw datasets: `loadNnunetDataset` on a generated `Dataset001_Tiny` (two modalities,
 * three classes, 4×16×16 volumes): channels in `_0000`, `_0001` order, classes from `labels`, the
 * seeded 80/20 split and the folds of `splits_final.json`, what `dataset.json` and the splits may
 * not say; `groupImageCases`; and the command line: `train` records the split in `run.json`, `eval`
 * validates on the same cases, `predict` on `imagesTs` writes one `case.nii.gz` per case, and the
 * nnU-Net flags are refused elsewhere.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { InputError } from '../core/errors.js';
import { groupImageCases, loadDataset } from '../data/folders.js';
import { isNnunetFolder, loadNnunetDataset, readSplits } from '../data/nnunet.js';
import { readNifti, writeNifti } from '../data/nifti.js';
import type { Dataset } from '../data/types.js';
import { cli } from './helpers/cli.js';
import { assertDataError, pngDataset, put, removeDir, tempDir } from './helpers/fixtures.js';

const [Z, Y, X] = [4, 16, 16];
const CHANNELS = { 0: 'T1', 1: 'FLAIR' };
const LABELS = { background: 0, lesion: 1, edema: 2 };

/** Modality 0 rises along x, modality 1 along y: after min-max normalisation x/15 and y/15. */
function modality(m: number, k: number): Float32Array {
  const v = new Float32Array(Z * Y * X);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) v[(z * Y + y) * X + x] = m === 0 ? 10 * x + k : 7 * y + 300;
  return v;
}

/** Class 1 in a disk, class 2 in a 2×2 block beside it, moving with the case. */
function labelVolume(k: number): Uint8Array {
  const v = new Uint8Array(Z * Y * X);
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const inDisk = (y - 6 - (k % 3)) ** 2 + (x - 6) ** 2 <= 9;
        const inBlock = y >= 11 && y < 13 && x >= 10 + (k % 2) && x < 12 + (k % 2);
        v[(z * Y + y) * X + x] = inBlock ? 2 : inDisk ? 1 : 0;
      }
    }
  }
  return v;
}

const caseId = (k: number) => `case_${String(k).padStart(3, '0')}`;
const volume = (data: Float32Array | Uint8Array) => writeNifti({ data, shape: [Z, Y, X], spacing: [2, 1, 1] }, true);

/** An nnU-Net raw dataset folder of `cases` training cases (case_001 …) and 2 test cases (case_101, case_102). */
function nnunetDataset(dir: string, cases = 5, json: Record<string, unknown> = {}): string {
  for (let k = 1; k <= cases; k++) {
    for (const m of [0, 1]) put(dir, `imagesTr/${caseId(k)}_000${m}.nii.gz`, volume(modality(m, k)));
    put(dir, `labelsTr/${caseId(k)}.nii.gz`, volume(labelVolume(k)));
  }
  for (const k of [101, 102]) for (const m of [0, 1]) put(dir, `imagesTs/${caseId(k)}_000${m}.nii.gz`, volume(modality(m, k)));
  put(dir, 'dataset.json', JSON.stringify({ channel_names: CHANNELS, labels: LABELS, numTraining: cases, file_ending: '.nii.gz', name: 'Tiny', ...json }));
  return dir;
}

let root: string;
let counter = 0;
const fresh = (cases?: number, json?: Record<string, unknown>) => nnunetDataset(join(root, `Dataset${String(++counter).padStart(3, '0')}_Tiny`), cases, json);
const caseIds = (slices: Dataset['val']) => [...new Set(slices.map((s) => s.volume!.id))].sort();

before(() => {
  root = tempDir('boundary-seg-nnunet-');
});
after(() => removeDir(root));

describe('loadNnunetDataset', () => {
  test('two modalities and three classes: channels in _0000, _0001 order, classes and names from dataset.json', async () => {
    const dir = fresh();
    assert.equal(await isNnunetFolder(dir), true);
    assert.equal(await isNnunetFolder(join(dir, 'imagesTr')), false);
    const data = await loadNnunetDataset(dir);
    assert.deepEqual([data.channels, data.classes, data.height, data.width], [2, 3, 16, 16]);
    assert.deepEqual(data.classNames, ['background', 'lesion', 'edema']);
    assert.deepEqual(data.channelNames, ['T1', 'FLAIR']);
    assert.equal(data.name, 'Dataset001_Tiny');
    assert.deepEqual([data.train.length, data.val.length], [4 * Z, 1 * Z], 'four train cases and one val case of 4 slices');
    const s = data.train[0]!;
    for (const [y, x] of [[0, 0], [3, 9], [15, 15], [12, 2]] as const) {
      assert.ok(Math.abs(s.image[y * X + x]! - x / 15) < 1e-6, `channel 0 is _0000 (rises along x) at (${y}, ${x})`);
      assert.ok(Math.abs(s.image[Y * X + y * X + x]! - y / 15) < 1e-6, `channel 1 is _0001 (rises along y) at (${y}, ${x})`);
    }
    assert.deepEqual([...new Set([...data.train, ...data.val].flatMap((sl) => [...sl.label]))].sort(), [0, 1, 2], 'labels are the class indices 0, 1, 2');
    assert.equal(s.volume?.id, s.id.replace(/_z\d{3}$/, ''), 'volume ids are the case ids');
    assert.deepEqual(s.spacing, [1, 1]);
    const notes = data.notes.join('\n');
    assert.match(notes, /nnU-Net raw dataset Dataset001_Tiny: channels 0 T1, 1 FLAIR; classes 0 background, 1 lesion, 2 edema/);
    assert.match(notes, /split: seeded 80\/20 of the 5 cases \(seed 0; no splits_final\.json\): 4 train and 1 val case \(val: case_00\d\)/);
    assert.match(notes, /labels: indices, stored values 0, 1, 2, 3 classes/, "labelFormat auto reads nnU-Net labels as indices");
  });

  test('the seeded split: 80/20 of the cases, deterministic, different for another seed', async () => {
    const dir = fresh();
    const a = await loadNnunetDataset(dir);
    const b = await loadNnunetDataset(dir, { seed: 0 });
    assert.deepEqual(a.split, b.split, 'seed 0 is the default, and the same seed gives the same split');
    assert.equal(a.split?.source, 'seeded');
    assert.equal(a.split?.seed, 0);
    assert.deepEqual([...a.split!.train, ...a.split!.val].sort(), [1, 2, 3, 4, 5].map(caseId), 'every case in exactly one split');
    assert.deepEqual(caseIds(a.val), a.split!.val, 'the val slices are those of the val cases');
    assert.deepEqual(caseIds(a.train), a.split!.train);
    const vals = new Set<string>();
    for (let seed = 0; seed < 6; seed++) vals.add((await loadNnunetDataset(dir, { seed })).split!.val.join());
    assert.ok(vals.size > 1, `seeds 0 … 5 give different val cases, got ${[...vals].join(' | ')}`);
    const ten = await loadNnunetDataset(fresh(10), { seed: 3 });
    assert.deepEqual([ten.split!.train.length, ten.split!.val.length], [8, 2], '10 cases: 8 train, 2 val');
    const two = await loadNnunetDataset(fresh(2));
    assert.deepEqual([two.split!.train.length, two.split!.val.length], [1, 1], 'at least one case on each side');
    const one = fresh(1);
    await assertDataError(() => loadNnunetDataset(one), InputError, one, /has 1 case: a train\/val split needs at least 2/);
  });

  test('splits and fold pick the cases; the folder\'s splits_final.json is the default', async () => {
    const dir = fresh();
    const folds = [
      { train: ['case_001', 'case_002', 'case_003', 'case_004'], val: ['case_005'] },
      { train: ['case_005', 'case_003', 'case_004'], val: ['case_002', 'case_001'] },
    ];
    const file = put(root, 'splits/splits_final.json', JSON.stringify(folds));
    const splits = await readSplits(file);
    const data = await loadNnunetDataset(dir, { splits, splitsFile: file, fold: 1 });
    assert.deepEqual(data.split, { source: 'splits', file, fold: 1, train: ['case_003', 'case_004', 'case_005'], val: ['case_001', 'case_002'] });
    assert.deepEqual(caseIds(data.val), ['case_001', 'case_002']);
    assert.deepEqual(caseIds(data.train), ['case_003', 'case_004', 'case_005']);
    assert.match(data.notes.join('\n'), new RegExp(`split: fold 1 of ${file}: 3 train and 2 val cases \\(val: case_001, case_002\\)`));
    const fold0 = await loadNnunetDataset(dir, { splits });
    assert.deepEqual(fold0.split?.val, ['case_005'], 'fold 0 by default');

    put(dir, 'splits_final.json', JSON.stringify(folds));
    const inFolder = await loadNnunetDataset(dir, { fold: 1 });
    assert.deepEqual(inFolder.split, { source: 'splits', file: join(dir, 'splits_final.json'), fold: 1, train: ['case_003', 'case_004', 'case_005'], val: ['case_001', 'case_002'] });
    await assertDataError(() => loadNnunetDataset(dir, { seed: 2 }), InputError, 'options.seed', /sets the seeded 80\/20 split, but the split here comes from .*splits_final\.json \(fold 0\)/);
    await assertDataError(() => loadNnunetDataset(fresh(), { fold: 1 }), InputError, 'fold 1', /no splits: give them \(--splits FILE\) or put a splits_final\.json in the folder/);
  });

  test('bad splits: fold out of range, unknown case ids, a case in both lists or in neither, not an array of folds', async () => {
    const dir = fresh();
    const all = ['case_001', 'case_002', 'case_003', 'case_004'];
    const refused = async (folds: unknown, fold: number, pattern: RegExp) => {
      const file = put(root, `splits/bad${++counter}.json`, JSON.stringify(folds));
      const read = () => readSplits(file).then((splits) => loadNnunetDataset(dir, { splits, splitsFile: file, fold }));
      await assertDataError(read, InputError, file, pattern);
    };
    const good = { train: all, val: ['case_005'] };
    await refused([good, good], 2, /fold 2 is out of range: 2 folds \(0 … 1\)/);
    await refused([good, { train: [...all, 'case_009'], val: ['case_005'] }], 1, /fold 1 names case_009 in train, not a case of the dataset \(imagesTr\/labelsTr\)/);
    await refused([{ train: all, val: ['case_005', 'case_004'] }], 0, /fold 0 has case_004 in both train and val/);
    await refused([{ train: all.slice(1), val: ['case_005'] }], 0, /fold 0 leaves out case_001: a case in neither train nor val/);
    await refused([{ train: all, val: [] }], 0, /fold 0 has no val cases/);
    await refused([{ train: all, val: 'case_005' }], 0, /fold 0: val: expected an array of case ids/);
    await refused({ train: all, val: ['case_005'] }, 0, /expected a non-empty array of folds/);
    const notJson = put(root, 'splits/not.json', '[{"train": [');
    await assertDataError(() => readSplits(notJson), InputError, notJson, /not valid JSON/);
    await assertDataError(() => readSplits(join(root, 'splits/none.json')), InputError, join(root, 'splits/none.json'), /no such file/);
  });

  test('dataset.json: region labels, gaps in the class indices, the ignore label, other endings and a v1 file are refused', async () => {
    const refused = async (json: Record<string, unknown>, pattern: RegExp) => {
      const dir = fresh(2, json);
      await assertDataError(() => loadNnunetDataset(dir), InputError, join(dir, 'dataset.json'), pattern);
    };
    await refused({ labels: { background: 0, 'whole tumor': [1, 2], edema: 1, core: 2 } }, /labels: 'whole tumor' is the region \[1,2\]: region-based training \(nnU-Net's regions_class_order\) is not supported/);
    await refused({ regions_class_order: [1, 2] }, /regions_class_order: region-based training .* is not supported/);
    await refused({ labels: { background: 0, lesion: 1, edema: 3 } }, /labels: the class indices must be 0 … K − 1 without gaps, but 2 is missing/);
    await refused({ labels: { lesion: 1, edema: 2 } }, /labels: no class 0: the background must be 0/);
    await refused({ labels: { background: 0, lesion: 1, scar: 1 } }, /labels: 'lesion' and 'scar' are both class 1/);
    await refused({ labels: { background: 0, lesion: 1, ignore: 2 } }, /'ignore' \(2\), nnU-Net's ignore label, is not supported/);
    await refused({ labels: { background: 0, lesion: 1.5 } }, /labels: 'lesion' is 1\.5, expected a class index/);
    await refused({ file_ending: '.mha' }, /file_ending: ".mha" is not read here: expected one of \.nii\.gz, \.nii, \.png/);
    await refused({ channel_names: { 0: 'T1', 2: 'FLAIR' } }, /channel_names has the channels 0, 2: expected 0 … 1 without gaps/);
    await refused({ channel_names: undefined, modality: { 0: 'T1' } }, /no channel_names: this is an nnU-Net v1 dataset\.json/);
    await refused({ numTraining: 3 }, /numTraining is 3 but imagesTr\/labelsTr hold 2 cases/);
    const notJson = fresh(2);
    writeFileSync(join(notJson, 'dataset.json'), '{"labels": ');
    await assertDataError(() => loadNnunetDataset(notJson), InputError, join(notJson, 'dataset.json'), /not valid JSON/);
    const classes = fresh(2);
    await assertDataError(() => loadNnunetDataset(classes, { classes: 2 }), InputError, join(classes, 'dataset.json'), /its labels give 3 classes \(background, lesion, edema\), not the 2 asked for/);
  });

  test('case files: a missing or extra modality, a file without its channel suffix, another ending, a label outside the classes', async () => {
    const missing = fresh();
    rmSync(join(missing, 'imagesTr/case_003_0001.nii.gz'));
    await assertDataError(() => loadNnunetDataset(missing), InputError, join(missing, 'imagesTr'), /case case_003 has no case_003_0001\.nii\.gz \(channel 1, "FLAIR" in dataset\.json\)/);
    const extra = fresh();
    put(extra, 'imagesTr/case_002_0002.nii.gz', volume(modality(0, 2)));
    await assertDataError(() => loadNnunetDataset(extra), InputError, join(extra, 'imagesTr'), /case case_002 has case_002_0002\.nii\.gz but dataset\.json's channel_names has 2 channels \(0 T1, 1 FLAIR\)/);
    const unsuffixed = fresh();
    rmSync(join(unsuffixed, 'imagesTr/case_001_0000.nii.gz'));
    put(unsuffixed, 'imagesTr/case_001.nii.gz', volume(modality(0, 1)));
    await assertDataError(() => loadNnunetDataset(unsuffixed), InputError, join(unsuffixed, 'imagesTr'), /case case_001: case_001\.nii\.gz should be named case_001_0000\.nii\.gz/);
    const ending = fresh();
    put(ending, 'labelsTr/case_006.nii', readFileSync(join(ending, 'labelsTr/case_001.nii.gz')));
    await assertDataError(() => loadNnunetDataset(ending), InputError, join(ending, 'labelsTr'), /case_006\.nii: not of dataset\.json's file_ending \.nii\.gz/);
    const unlabelled = fresh();
    rmSync(join(unlabelled, 'labelsTr/case_004.nii.gz'));
    await assertDataError(() => loadNnunetDataset(unlabelled), InputError, join(unlabelled, 'imagesTr'), /no label in .* for case_004_0000\.nii\.gz/);
    const outside = fresh();
    const label = labelVolume(2);
    label[5] = 3;
    put(outside, 'labelsTr/case_002.nii.gz', volume(label));
    await assertDataError(() => loadNnunetDataset(outside), InputError, join(outside, 'labelsTr/case_002.nii.gz'), /label value 3 at \(0, 0, 5\) is outside the 3 classes/);
  });

  test('loadDataset names both layouts, and points an nnU-Net folder to loadNnunetDataset', async () => {
    await assertDataError(() => loadDataset(join(root, 'nowhere')), InputError, join(root, 'nowhere'), /missing folder: a dataset folder holds train\/img, train\/gt, val\/img and val\/gt, or is an nnU-Net raw dataset \(dataset\.json, imagesTr, labelsTr\)/);
    const dir = fresh(2);
    await assertDataError(() => loadDataset(dir), InputError, join(dir, 'train/img'), /holds a dataset\.json, an nnU-Net raw dataset: read it with loadNnunetDataset/);
  });
});

describe('groupImageCases', () => {
  test('case_0000, case_0001 are one case; other names stay cases of their own; gaps and twins are refused', () => {
    const cases = groupImageCases(['d/a_0001.png', 'd/a_0000.png', 'd/b.png', 'd/photo_2021.png', 'd/c_0000.nii.gz']);
    assert.deepEqual(cases, [
      { id: 'a', files: ['d/a_0000.png', 'd/a_0001.png'] },
      { id: 'b', files: ['d/b.png'] },
      { id: 'c', files: ['d/c_0000.nii.gz'] },
      { id: 'photo_2021', files: ['d/photo_2021.png'] },
    ]);
    assert.throws(() => groupImageCases(['d/a_0000.png', 'd/a_0002.png']), (e: unknown) => e instanceof InputError && /case a has modality files _0000, _0002: expected _0000, _0001, … without gaps/.test(e.message));
    assert.throws(() => groupImageCases(['d/a.png', 'd/a_0000.png']), (e: unknown) => e instanceof InputError && /two image files for case a: a\.png and a_0000\.png/.test(e.message));
  });
});

describe('the command line on an nnU-Net dataset', () => {
  before(async () => core.setBackend('cpu'));
  const TINY = ['--size', '16', '--base', '4', '--depth', '1', '--batch-size', '4', '--losses', 'gdl', '--overlays', '0', '--quiet'];
  let dir: string;
  let splitsFile: string;
  const folds = [
    { train: ['case_001', 'case_002', 'case_003', 'case_004'], val: ['case_005'] },
    { train: ['case_001', 'case_003', 'case_005'], val: ['case_002', 'case_004'] },
  ];

  test('train --splits --fold records the split in run.json; eval validates on the same cases', async () => {
    dir = fresh();
    splitsFile = put(root, 'preprocessed/splits_final.json', JSON.stringify(folds));
    const run = join(root, 'run');
    const r = await cli(['train', '--data', dir, '--splits', splitsFile, '--fold', '1', '--epochs', '1', ...TINY, '--out', run]);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { split: unknown; data: string[]; flags: Record<string, unknown> };
    assert.deepEqual(record.split, { source: 'splits', file: splitsFile, fold: 1, train: ['case_001', 'case_003', 'case_005'], val: ['case_002', 'case_004'] });
    assert.ok(record.data.some((n) => n.startsWith(`split: fold 1 of ${splitsFile}`)), `the data notes name the split: ${record.data.join(' | ')}`);
    assert.deepEqual([record.flags['splits'], record.flags['fold']], [splitsFile, 1], 'the flags are recorded for --resume');
    const trained = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')) as { volumes: { id: string }[] };
    assert.deepEqual(trained.volumes.map((v) => v.id).sort(), ['case_002', 'case_004'], 'validated on the val cases of fold 1');

    const e = await cli(['eval', '--checkpoint', join(run, 'best.ckpt'), '--data', dir, '--splits', splitsFile, '--fold', '1', '--size', '16', '--overlays', '0', '--quiet', '--out', join(root, 'eval')]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /8 val slices: DSC/);
    const evaluated = JSON.parse(readFileSync(join(root, 'eval', 'results.json'), 'utf8')) as { volumes: { id: string }[] };
    assert.deepEqual(evaluated.volumes.map((v) => v.id).sort(), ['case_002', 'case_004'], 'eval --split val: the same cases as training');

    // without --splits: the seeded split of --data-seed, the same in eval as in the library
    const seeded = await cli(['eval', '--checkpoint', join(run, 'best.ckpt'), '--data', dir, '--data-seed', '3', '--overlays', '0', '--quiet', '--out', join(root, 'eval-seeded')]);
    assert.equal(seeded.code, 0, seeded.stderr);
    const expected = (await loadNnunetDataset(dir, { seed: 3 })).split!.val;
    const got = JSON.parse(readFileSync(join(root, 'eval-seeded', 'results.json'), 'utf8')) as { volumes: { id: string }[]; notes: string[] };
    assert.deepEqual(got.volumes.map((v) => v.id).sort(), [...expected]);
    assert.ok(got.notes.some((n) => /split: seeded 80\/20 .*seed 3/.test(n)), got.notes.join(' | '));
  });

  test('predict --input imagesTs writes one case.nii.gz per case; a lone modality file or a gap is refused', async () => {
    const ckpt = join(root, 'run', 'best.ckpt');
    const out = join(root, 'pred');
    const r = await cli(['predict', '--checkpoint', ckpt, '--input', join(dir, 'imagesTs'), '--quiet', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 2 label file\(s\)/);
    assert.deepEqual(readdirSync(out).sort(), ['case_101.nii.gz', 'case_102.nii.gz']);
    for (const name of readdirSync(out)) {
      const labels = readNifti(readFileSync(join(out, name)), name);
      assert.deepEqual(labels.shape, [Z, Y, X], `${name}: the input's shape`);
      assert.deepEqual(labels.spacing.map((s) => +s.toFixed(4)), [2, 1, 1]);
      assert.ok([...labels.data].every((v) => v === 0 || v === 1 || v === 2), `${name}: class indices`);
    }

    const lone = join(dir, 'imagesTs', 'case_101_0000.nii.gz');
    const single = await cli(['predict', '--checkpoint', ckpt, '--input', lone, '--quiet', '--out', join(root, 'never1')]);
    assert.equal(single.code, 3, single.stderr);
    assert.match(single.stderr, /case case_101 .*has 1 channel\(s\) but the network .* takes 2: pass the folder holding the case's modality files/);
    assert.ok(!existsSync(join(root, 'never1')), 'nothing written');

    const gap = join(root, 'gap');
    put(gap, 'case_201_0000.nii.gz', readFileSync(lone));
    put(gap, 'case_201_0002.nii.gz', readFileSync(lone));
    const gapped = await cli(['predict', '--checkpoint', ckpt, '--input', gap, '--quiet', '--out', join(root, 'never2')]);
    assert.equal(gapped.code, 3, gapped.stderr);
    assert.match(gapped.stderr, /case case_201 has modality files _0000, _0002: expected _0000, _0001, … without gaps/);

    const three = join(root, 'three');
    for (const m of [0, 1, 2]) put(three, `case_301_000${m}.nii.gz`, readFileSync(lone));
    const tooMany = await cli(['predict', '--checkpoint', ckpt, '--input', three, '--quiet', '--out', join(root, 'never3')]);
    assert.equal(tooMany.code, 3, tooMany.stderr);
    assert.match(tooMany.stderr, /case case_301 \(case_301_0000\.nii\.gz, case_301_0001\.nii\.gz, case_301_0002\.nii\.gz in .*\): its 3 modality files give 3 channel\(s\) but the network .* takes 2/);
  });

  test('--splits, --fold and --data-seed with a folder that is not an nnU-Net dataset, or --splits with --synthetic, are usage errors', async () => {
    const png = pngDataset(join(root, 'png'));
    const usage = async (args: string[], pattern: RegExp) => {
      const r = await cli(['train', ...args, '--epochs', '1', ...TINY, '--out', join(root, `never-${++counter}`)]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
    };
    await usage(['--data', png, '--splits', splitsFile], /--splits applies to an nnU-Net dataset folder \(one holding dataset\.json\) only, not to .*png/);
    await usage(['--data', png, '--fold', '1'], /--fold applies to an nnU-Net dataset folder/);
    await usage(['--data', png, '--data-seed', '2'], /--data-seed applies to an nnU-Net dataset folder \(one holding dataset\.json\) or --synthetic only/);
    await usage(['--synthetic', '--splits', splitsFile], /--splits applies to an nnU-Net dataset folder \(--data DIR holding dataset\.json\) only/);
    const badFold = await cli(['train', '--data', dir, '--splits', splitsFile, '--fold', '2', '--epochs', '1', ...TINY, '--out', join(root, 'never-fold')]);
    assert.equal(badFold.code, 3, badFold.stderr);
    assert.match(badFold.stderr, new RegExp(`${splitsFile}: fold 2 is out of range: 2 folds`));
  });
});
