/**
 * The five commands end to end on tiny inputs generated here (16×16 slices, U-Net base 2):
 * `train` on a PNG folder leaves the documented run folder and resumes bit-identically,
 * `eval` writes the metrics table, `predict` writes labels readable back in the input's format
 * (PNG indices; NIfTI with the input's geometry), `distmap` writes float32 NIfTI maps equal to
 * `signedDistanceMaps` and PNG previews, and `experiment` compares the three loss settings.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { main } from '../cli/main.js';
import { cli } from './helpers/cli.js';
import { decodePng, encodePng, readNifti, writeNifti } from '../data/index.js';
import { signedDistanceMaps } from '../losses/index.js';


async function ok(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cli(args);
  assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
  return r;
}

const root = mkdtempSync(join(tmpdir(), 'bseg-cli-'));
const at = (...p: string[]) => join(root, ...p);
function put(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}
const png = (values: ArrayLike<number>, h: number, w: number) => encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: Uint8Array.from(values) });

function disk(h: number, w: number, cy: number, cx: number, r: number): { image: Uint8Array; mask: Uint8Array } {
  const image = new Uint8Array(h * w);
  const mask = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inside = (y - cy) ** 2 + (x - cx) ** 2 <= r * r;
    mask[y * w + x] = inside ? 1 : 0;
    image[y * w + x] = 30 + (inside ? 160 : 0) + ((x * 7 + y * 3) % 13);
  }
  return { image, mask };
}

const TINY = ['--base', '2', '--depth', '2', '--batch-size', '2', '--quiet'];

describe('command line: the commands', () => {
  before(async () => core.setBackend('cpu'));
  after(() => rmSync(root, { recursive: true, force: true }));

  const data = at('pngdata');
  for (const split of ['train', 'val']) {
    for (let i = 0; i < 3; i++) {
      const { image, mask } = disk(16, 16, 6 + i, 8, 3 + (i % 2));
      put(join(data, split, 'img', `c${i}.png`), png(image, 16, 16));
      put(join(data, split, 'gt', `c${i}.png`), png(mask.map((m) => m * 255), 16, 16));
    }
  }

  test('train on a PNG folder leaves the run folder; an interrupted run resumes bit-identically (with or without jit)', async () => {
    const r = await ok(['train', '--data', data, '--label-format', 'binary255', ...TINY, '--epochs', '2', '--losses', 'gdl,boundary', '--out', at('run')]);
    assert.match(r.stdout, /trained 2 epochs/, r.stdout);
    const files = readdirSync(at('run'));
    for (const f of ['run.json', 'metrics.csv', 'best.ckpt', 'last.ckpt', 'results.md', 'results.json', 'curve-dice.svg', 'curve-dice.png', 'curve-hd95.svg', 'curve-hd95.png']) {
      assert.ok(files.includes(f), `run folder holds ${f}: ${files.join(', ')}`);
    }
    assert.ok(files.some((f) => f.startsWith('overlay-') && f.endsWith('.png')), 'overlays');
    assert.equal(readFileSync(at('run', 'metrics.csv'), 'utf8').trim().split('\n').length, 3, 'header + 2 epochs');
    const results = JSON.parse(readFileSync(at('run', 'results.json'), 'utf8')) as { summary: { images: number }; images: unknown[] };
    assert.equal(results.summary.images, 3, 'three validation images');
    assert.ok(decodePng(readFileSync(at('run', 'curve-dice.png'))).width > 0, 'curve PNG decodes');
    assert.match(readFileSync(at('run', 'curve-dice.svg'), 'utf8'), /<svg/, 'curve SVG');

    // interrupted after epoch 1 of 2 (simulated by a 1-epoch run: the default schedule, the paper's
    // rebalance as published, does not depend on the run's length), then resumed without jit: jit
    // is an execution option, so the bytes are the same
    await ok(['train', '--data', data, '--label-format', 'binary255', ...TINY, '--epochs', '1', '--losses', 'gdl,boundary', '--out', at('part')]);
    await ok(['train', '--resume', at('part'), '--epochs', '2', '--no-jit']);
    for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) {
      assert.ok(readFileSync(at('part', f)).equals(readFileSync(at('run', f))), `${f} identical after resume`);
    }
  });

  test('eval writes the metrics table; predict writes PNG labels readable back', async () => {
    const ckpt = at('run', 'best.ckpt');
    const e = await ok(['eval', '--checkpoint', ckpt, '--data', data, '--label-format', 'binary255', '--split', 'all', '--quiet', '--out', at('eval')]);
    assert.match(e.stdout, /6 all slices: DSC/, e.stdout);
    const md = readFileSync(at('eval', 'results.md'), 'utf8');
    assert.match(md, /\| image \| DSC \| HD mm \| HD95 mm \|/, 'per-image table');
    assert.equal(JSON.parse(readFileSync(at('eval', 'results.json'), 'utf8')).images.length, 6, 'six images in JSON');

    // a 20×12 image: not a multiple of 2^depth, padded and cropped back
    const { image } = disk(20, 12, 10, 6, 4);
    put(at('in', 'odd.png'), png(image, 20, 12));
    put(at('in', 'c0.png'), readFileSync(join(data, 'val', 'img', 'c0.png')));
    await ok(['predict', '--checkpoint', ckpt, '--input', at('in'), '--quiet', '--out', at('pred')]);
    const back = decodePng(readFileSync(at('pred', 'odd.png')));
    assert.deepEqual([back.height, back.width, back.channels, back.bitDepth], [20, 12, 1, 8], 'PNG labels keep the input size');
    assert.ok([...back.data].every((v) => v === 0 || v === 1), 'class indices');
    assert.ok(existsSync(at('pred', 'c0.png')), 'one output per input');
  });

  test('predict on a NIfTI volume writes uint8 labels with the input geometry', async () => {
    // a 2-channel-free NIfTI: the network takes 1 channel; [z, y, x] = [3, 16, 16], anisotropic spacing
    const vol = new Float32Array(3 * 256);
    for (let z = 0; z < 3; z++) vol.set(disk(16, 16, 8, 8, 2 + z).image, z * 256);
    const src = writeNifti({ data: vol, shape: [3, 16, 16], spacing: [2.5, 0.8, 0.9] }, true);
    put(at('vol', 'scan.nii.gz'), src);
    await ok(['predict', '--checkpoint', at('run', 'best.ckpt'), '--input', at('vol', 'scan.nii.gz'), '--quiet', '--out', at('predvol')]);
    const out = readNifti(readFileSync(at('predvol', 'scan.nii.gz')), 'scan.nii.gz');
    assert.deepEqual(out.shape, [3, 16, 16], 'shape');
    assert.deepEqual(out.spacing.map((s) => +s.toFixed(4)), [2.5, 0.8, 0.9], 'spacing');
    assert.equal(out.datatype, 2, 'uint8 labels');
    assert.ok([...out.data].every((v) => v === 0 || v === 1), 'class indices');
  });

  test('distmap writes float32 NIfTI maps equal to signedDistanceMaps, and PNG previews', async () => {
    const { mask } = disk(16, 16, 8, 7, 4);
    put(at('lab', 'mask.png'), png(mask, 16, 16));
    await ok(['distmap', '--input', at('lab', 'mask.png'), '--label-format', 'indices', '--out', at('dm')]);
    const expected = signedDistanceMaps({ data: mask, shape: [16, 16] }, { classes: 2, batched: false });
    for (const k of [0, 1]) {
      const v = readNifti(readFileSync(at('dm', `mask_class${k}.nii.gz`)));
      assert.equal(v.datatype, 16, 'float32');
      assert.deepEqual(v.shape, [1, 16, 16], 'one plane');
      assert.deepEqual([...v.data], [...expected.data.subarray(k * 256, (k + 1) * 256)], `class ${k} map`);
      assert.equal(decodePng(readFileSync(at('dm', `mask_class${k}.png`))).width, 256 + 16, 'preview: the map upscaled to 256 px, 8 px margins');
    }
    // a NIfTI label volume with physical spacing, overridden by --spacing
    const labels = new Uint8Array(3 * 256);
    for (let z = 0; z < 3; z++) labels.set(disk(16, 16, 8, 8, 3).mask, z * 256);
    put(at('lab', 'vol.nii'), writeNifti({ data: labels, shape: [3, 16, 16], spacing: [3, 1, 1] }, false));
    await ok(['distmap', '--input', at('lab', 'vol.nii'), '--spacing', '1,2,2', '--convention', 'interface', '--out', at('dm3')]);
    const v = readNifti(readFileSync(at('dm3', 'vol_class1.nii.gz')));
    const e3 = signedDistanceMaps({ data: labels, shape: [3, 16, 16] }, { classes: 2, spacing: [1, 2, 2], convention: 'interface', batched: false });
    assert.deepEqual([...v.data], [...e3.data.subarray(3 * 256)], 'class 1 map of the volume in mm');
    assert.deepEqual(v.spacing, [1, 2, 2], 'spacing written');
  });

  test('experiment compares the four settings of the quick protocol over seeds, with paired statistics', async () => {
    const r = await ok(['experiment', '--synthetic', '--size', '16', '--train-slices', '4', '--val-slices', '3', '--epochs', '2', '--seeds', '2', '--base', '2', '--depth', '1', '--batch-size', '4', '--overlays', '1', '--quiet', '--out', at('exp')]);
    const labels = ['GDL', 'GDL + boundary (rebalance)', 'GDL + boundary (steal)', 'boundary alone'];
    for (const label of labels) assert.ok(r.stdout.includes(`| ${label} |`), `table row ${label}: ${r.stdout}`);
    assert.match(r.stdout, /\| setting \| lesion-slice DSC \| volume DSC \| volume HD95 \(mm\) \| lesion F1 \| false alarms \(empty slices\) \| DSC per slice \| DSC std, last quarter \| collapsed \| learn \|/, 'table header');
    for (const label of labels.slice(1)) assert.ok(r.stdout.includes(`| ${label} − GDL |`), `comparison row ${label}: ${r.stdout}`);
    assert.match(r.stdout, /ΔDSC per volume \[95 % CI\] \| p \(Wilcoxon\)/, 'comparison header');
    assert.match(r.stdout, /protocol quick: 2 epochs/, 'the protocol and duration line');
    const results = JSON.parse(readFileSync(at('exp', 'results.json'), 'utf8')) as { settings: { seeds: number; collapsed: number }[]; comparisons: { dice: { pairs: number } }[]; seconds: number };
    assert.deepEqual(results.settings.map((s) => s.seeds), [2, 2, 2, 2], 'two seeds per setting');
    assert.equal(results.comparisons.length, 3);
    assert.ok(results.seconds > 0);
    for (const f of ['results.md', 'curve-dice.svg', 'curve-dice.png', 'curve-hd95.svg', 'curve-hd95.png', 'gdl-boundary-steal/seed-1/metrics.csv', 'boundary/seed-0/best.ckpt', 'gdl/seed-0/outcome.json']) {
      assert.ok(existsSync(at('exp', f)), `experiment folder holds ${f}`);
    }
    assert.equal(readdirSync(at('exp', 'overlays')).length, 4, 'one overlay per setting');
    assert.match(readFileSync(at('exp', 'gdl-boundary-rebalance', 'seed-0', 'metrics.csv'), 'utf8'), /^epoch,lr,w_gdl,w_boundary,/, 'per-run metrics.csv');
    const outcome = JSON.parse(readFileSync(at('exp', 'gdl', 'seed-0', 'outcome.json'), 'utf8')) as { bestEpoch: number; rows: { epoch: number }[] };
    assert.deepEqual(outcome.rows.map((x) => x.epoch), [1, 2], 'epochs are numbered from 1 in the outcome');
    assert.ok(outcome.bestEpoch >= 1 && outcome.bestEpoch <= 2);
  });
});
