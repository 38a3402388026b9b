/**
 * The command line's contract for help and bad input: every command has --help; bad
 * flags and config fields exit 2 naming the flag or field; bad data (missing or empty folders,
 * image/label size mismatch, labels out of range, corrupt PNG or NIfTI, a checkpoint of another
 * architecture) exits 3 naming the file; errors are one line; no run folder is left behind.
 * Fixtures are generated here with the data side's encoders.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { main } from '../cli/main.js';
import { cli } from './helpers/cli.js';
import { encodePng, writeNifti } from '../data/index.js';


const root = mkdtempSync(join(tmpdir(), 'bseg-cli-errors-'));
const at = (...p: string[]) => join(root, ...p);

function put(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** A gray 8-bit PNG. */
const png = (values: ArrayLike<number>, h: number, w: number) => encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: Uint8Array.from(values) });

/** A disk of radius r in an h×w image: image 0–255 and mask 0/1. */
function disk(h: number, w: number, r: number): { image: Uint8Array; mask: Uint8Array } {
  const image = new Uint8Array(h * w);
  const mask = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inside = (y - h / 2) ** 2 + (x - w / 2) ** 2 <= r * r;
    mask[y * w + x] = inside ? 1 : 0;
    image[y * w + x] = 30 + (inside ? 160 : 0) + ((x * 7 + y * 3) % 13);
  }
  return { image, mask };
}

/** A PNG dataset folder with class-index labels; `edit` may break files. */
function pngDataset(dir: string, size = 16): string {
  for (const split of ['train', 'val']) {
    for (let i = 0; i < 2; i++) {
      const { image, mask } = disk(size, size, 3 + i);
      put(join(dir, split, 'img', `c${i}.png`), png(image, size, size));
      put(join(dir, split, 'gt', `c${i}.png`), png(mask, size, size));
    }
  }
  return dir;
}

/** A NIfTI dataset folder of [4, 16, 16] volumes. */
function niftiDataset(dir: string): string {
  for (const split of ['train', 'val']) {
    const image = new Float32Array(4 * 256);
    const label = new Uint8Array(4 * 256);
    for (let z = 0; z < 4; z++) {
      const d = disk(16, 16, 2 + z);
      image.set(d.image, z * 256);
      label.set(d.mask, z * 256);
    }
    put(join(dir, split, 'img', 'v.nii.gz'), writeNifti({ data: image, shape: [4, 16, 16], spacing: [2, 1, 1] }, true));
    put(join(dir, split, 'gt', 'v.nii.gz'), writeNifti({ data: label, shape: [4, 16, 16], spacing: [2, 1, 1] }, true));
  }
  return dir;
}

const BASE = ['--base', '2', '--batch-size', '2', '--quiet'];
const TINY = [...BASE, '--depth', '1', '--epochs', '1'];

/** Asserts the exit code, a one-line error naming `where`, and no run folder. */
async function expectError(args: readonly string[], code: number, where: string | RegExp, out: string | null = at('never')): Promise<void> {
  const r = await cli(out === null ? args : [...args, '--out', out]);
  assert.equal(r.code, code, `exit code of ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^boundary-seg: error: /, 'prefix');
  if (typeof where === 'string') assert.ok(lines[0]!.includes(where), `names ${where}: ${lines[0]}`);
  else assert.match(lines[0]!, where, 'message');
  if (out !== null) assert.equal(existsSync(out), false, `no run folder left behind (${out})`);
}

describe('command line: help', () => {
  test('top-level help and each command\'s --help', async () => {
    const top = await cli(['--help']);
    assert.equal(top.code, 0, 'top-level --help exits 0');
    for (const c of ['train', 'eval', 'predict', 'experiment', 'distmap']) {
      assert.ok(top.stdout.includes(c), `lists ${c}`);
      const r = await cli([c, '--help']);
      assert.equal(r.code, 0, `${c} --help exits 0`);
      assert.match(r.stdout, new RegExp(`^boundary-seg ${c}: `), `${c} help title`);
      assert.ok(r.stdout.includes('--out DIR') && r.stdout.includes('--config FILE.json'), `${c} help lists --out and --config`);
    }
    const train = (await cli(['train', '--help'])).stdout;
    for (const f of ['--data DIR', '--synthetic', '--backend', '--seed', '--epochs', '--batch-size', '--learning-rate', '--losses', '--schedule', '--resume', '--label-format']) {
      assert.ok(train.includes(f), `train --help lists the shared flag ${f}`);
    }
    assert.equal((await cli([])).code, 2, 'no command: usage, exit 2');
  });
});

describe('command line: bad arguments and config (exit 2)', () => {
  before(async () => core.setBackend('cpu'));

  test('unknown command, unknown flag, bad values', async () => {
    await expectError(['fly'], 2, "unknown command 'fly'");
    await expectError(['train', '--synthetic', '--epoch', '3'], 2, '--epoch');
    await expectError(['train', '--synthetic', '--epochs', 'ten'], 2, "--epochs: expected a number, got 'ten'");
    await expectError(['train', '--synthetic', '--epochs', '0'], 2, '--epochs: expected an integer ≥ 1, got 0');
    await expectError(['train', '--synthetic', '--losses', 'gdl,hinge'], 2, '--losses: expected one of gdl, boundary, dice, ce, focal, got "hinge"');
    await expectError(['train', '--synthetic', '--label-format', 'rgb'], 2, '--label-format');
    await expectError(['train', '--synthetic', '--batch-size'], 2, '--batch-size needs a value');
    await expectError(['train', '--synthetic', '--backend', 'quantum'], 2, "unknown backend 'quantum'");
  });

  test('conflicting or missing inputs', async () => {
    await expectError(['train'], 2, 'no data: give --data DIR or --synthetic');
    await expectError(['train', '--synthetic', '--data', at('x')], 2, 'not both');
    await expectError(['train', '--synthetic', '--losses', 'boundary', '--schedule', 'rebalance', ...TINY], 2, "schedule 'rebalance' gives 2 weights but there are 1 losses");
    await expectError(['train', '--synthetic', '--size', '20', '--depth', '3', ...BASE], 2, 'not divisible by 2^depth = 8');
    await expectError(['eval', '--synthetic'], 2, '--checkpoint FILE is required');
    await expectError(['predict', '--checkpoint', at('c.ckpt')], 2, '--input FILE|DIR is required');
    await expectError(['distmap'], 2, '--input LABELS is required');
    put(at('full', 'x.txt'), 'occupied');
    const r = await cli(['train', '--synthetic', ...TINY, '--out', at('full')]);
    assert.equal(r.code, 2, 'a non-empty --out is refused');
    assert.match(r.stderr, /--out .*full: folder exists and is not empty/, r.stderr);
  });

  test('config files: unknown field, wrong type, bad JSON, missing file; flags override the file', async () => {
    const cfg = (name: string, body: string) => put(at('cfg', name), body);
    await expectError(['train', '--config', cfg('a.json', '{"synthetic": true, "epoch": 3}')], 2, /a\.json: unknown field 'epoch'/);
    await expectError(['train', '--config', cfg('b.json', '{"synthetic": true, "epochs": "3"}')], 2, /b\.json: field epochs: expected an integer ≥ 1, got "3"/);
    await expectError(['train', '--config', cfg('c.json', '{"synthetic": true, "learningRate": -1}')], 2, /c\.json: field learningRate: expected a number > 0/);
    await expectError(['train', '--config', cfg('d.json', '{"synthetic": tru')], 2, /d\.json: not valid JSON/);
    await expectError(['train', '--config', at('cfg', 'none.json')], 2, /none\.json: no such file/);
    await expectError(['train', '--config', cfg('e.json', '{"synthetic": true, "epochs": 0}'), '--epochs', 'x'], 2, "--epochs: expected a number, got 'x'");
    // flags override the file: the file's bad value is never decoded.
    const ok = await cli(['train', '--config', cfg('f.json', '{"synthetic": true, "epochs": 0, "size": 16, "trainSlices": 2, "valSlices": 2, "losses": "gdl"}'), '--epochs', '1', '--depth', '1', ...BASE, '--out', at('cfg-run')]);
    assert.equal(ok.code, 0, `config + overriding flag trains: ${ok.stderr}`);
    assert.ok(existsSync(at('cfg-run', 'metrics.csv')), 'metrics.csv written');
  });
});

describe('command line: bad data (exit 3)', () => {
  before(async () => core.setBackend('cpu'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('missing and empty folders', async () => {
    await expectError(['train', '--data', at('nowhere'), ...TINY], 3, at('nowhere'));
    const d = pngDataset(at('empty-val'));
    rmSync(join(d, 'val', 'gt'), { recursive: true });
    mkdirSync(join(d, 'val', 'gt'));
    await expectError(['train', '--data', d, ...TINY], 3, join(d, 'val', 'gt'));
  });

  test('image/label size mismatch, labels outside the class range', async () => {
    const d1 = pngDataset(at('mismatch'));
    put(join(d1, 'train', 'gt', 'c1.png'), png(new Uint8Array(12 * 12), 12, 12));
    await expectError(['train', '--data', d1, ...TINY], 3, 'c1.png');
    const d2 = pngDataset(at('range'));
    const labels = new Uint8Array(256);
    labels[5] = 7;
    put(join(d2, 'train', 'gt', 'c0.png'), png(labels, 16, 16));
    await expectError(['train', '--data', d2, '--classes', '2', '--label-format', 'indices', ...TINY], 3, join(d2, 'train', 'gt', 'c0.png'));
  });

  test('corrupt or truncated PNG and NIfTI', async () => {
    const d1 = pngDataset(at('badpng'));
    const good = readFileSync(join(d1, 'val', 'img', 'c1.png'));
    put(join(d1, 'val', 'img', 'c1.png'), good.subarray(0, good.length - 20));
    await expectError(['train', '--data', d1, ...TINY], 3, 'c1.png');
    const d2 = niftiDataset(at('badnii'));
    const vol = readFileSync(join(d2, 'train', 'gt', 'v.nii.gz'));
    put(join(d2, 'train', 'gt', 'v.nii.gz'), vol.subarray(0, 40));
    await expectError(['train', '--data', d2, ...TINY], 3, 'v.nii.gz');
    put(at('junk.nii'), 'not a volume at all');
    await expectError(['distmap', '--input', at('junk.nii')], 3, 'junk.nii');
    await expectError(['predict', '--checkpoint', at('nope.ckpt'), '--input', at('junk.nii')], 3, 'nope.ckpt');
  });

  test('a checkpoint of another architecture or a corrupt checkpoint', async () => {
    const run = at('arch-run');
    const first = await cli(['train', '--synthetic', '--size', '16', '--train-slices', '2', '--val-slices', '2', ...TINY, '--out', run]);
    assert.equal(first.code, 0, first.stderr);
    const last = join(run, 'last.ckpt');
    // resume with another architecture
    const before = readdirSync(run).sort();
    await expectError(['train', '--resume', run, '--base', '4', '--epochs', '2'], 3, /last\.ckpt: checkpoint of another architecture: base 2 \(expected 4\)/, null);
    assert.deepEqual(readdirSync(run).sort(), before, 'the run folder is untouched');
    await expectError(['train', '--resume', run, '--epochs', '2'], 2, 'a resumed run continues in its own folder');
    // evaluation data with other channels than the network
    await expectError(['eval', '--checkpoint', last, '--synthetic', '--size', '16', '--val-slices', '2', '--modalities', '2'], 3, /takes 1 channel\(s\) but the images have 2/);
    const broken = put(at('broken.ckpt'), readFileSync(last).subarray(0, 100));
    await expectError(['eval', '--checkpoint', broken, '--synthetic', '--size', '16'], 3, 'broken.ckpt');
    assert.ok(!existsSync(join(run, 'last.ckpt.tmp')), 'no temporary files left');
  });

  test('the installed entry point exits with the code (a real process)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'train', '--epochs', 'x'], { encoding: 'utf8' });
    assert.equal(r.status, 2, `exit status: ${r.stderr}`);
    assert.equal(r.stderr, "boundary-seg: error: --epochs: expected a number, got 'x'\n", 'one line on stderr');
    assert.ok(readFileSync('cli/main.ts', 'utf8').startsWith('#!/usr/bin/env node\n'), 'shebang');
  });
});
