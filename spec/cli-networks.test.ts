/**
 * The network on the command line: `--arch reference` trains the authors' network (base 64 by
 * default; `--depth`, `--batch-norm`, `--no-batch-norm`, `--dropout` refused; sides divisible by
 * 8) and its checkpoint evaluates and predicts; the U-Net has batch norm unless
 * `--no-batch-norm`; memory estimates of both networks; a run recorded before batch norm was on
 * by default resumes with the network it trained.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { cli } from './helpers/cli.js';
import { decodePng, encodePng } from '../data/index.js';
import { readCheckpointFile } from '../models/checkpoint.js';
import { buildTrainConfig, modelFlagsOf, networkFromFlags, recordedFlags, resumeFlags, type TrainFlags } from '../cli/train-setup.js';
import { referenceFeatureValuesPerPixel, trainingMemory } from '../cli/model-size.js';
import type { Dataset } from '../data/types.js';

const root = mkdtempSync(join(tmpdir(), 'bseg-cli-networks-'));
const at = (...p: string[]) => join(root, ...p);

/** Synthetic flags of a tiny reference run. */
const REF = ['--synthetic', '--arch', 'reference', '--base', '4', '--size', '32', '--epochs', '1', '--train-slices', '4', '--val-slices', '2', '--batch-size', '2', '--overlays', '0', '--quiet'];
/** Synthetic flags of a tiny U-Net run. */
const UNET = ['--synthetic', '--base', '2', '--depth', '1', '--size', '16', '--epochs', '1', '--train-slices', '4', '--val-slices', '2', '--batch-size', '2', '--overlays', '0', '--quiet'];

/** `args` with the value of `--name` replaced by `value`. */
function withFlag(args: readonly string[], name: string, value: string): string[] {
  const i = args.indexOf(name);
  assert.ok(i >= 0 && i + 1 < args.length, `${name} in ${args.join(' ')}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

async function ok(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cli(args);
  assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
  return r;
}

/** Asserts the exit code and a one-line error matching `pattern`, and that `--out` was not created. */
async function refused(args: readonly string[], code: number, pattern: RegExp): Promise<void> {
  const out = at('never');
  const r = await cli([...args, '--out', out]);
  assert.equal(r.code, code, `exit code of ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(existsSync(out), false, 'no run folder');
}

/** Data of `n` training slices of `side`² for buildTrainConfig (only the counts and sizes are read). */
function shape(side: number, n: number): Pick<Dataset, 'channels' | 'classes' | 'height' | 'width' | 'train' | 'val'> {
  return { channels: 1, classes: 2, height: side, width: side, train: new Array(n).fill({}), val: new Array(2).fill({}) } as never;
}

const headerModel = async (file: string) => (await readCheckpointFile(file)).header.model;

describe('command line: --arch and --batch-norm', () => {
  before(async () => core.setBackend('cpu'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('train --arch reference works; its checkpoint evaluates with eval and predicts with predict', async () => {
    const run = at('ref');
    const r = await ok(['train', ...REF, '--out', run]);
    assert.match(r.stdout, /trained 1 epoch in/);
    assert.deepEqual(await headerModel(join(run, 'best.ckpt')), { arch: 'reference', inChannels: 1, classes: 2, base: 4 }, 'the checkpoint names the network');
    const recorded = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { flags: TrainFlags; config: { model: unknown } };
    assert.equal(recorded.flags.arch, 'reference');
    assert.deepEqual(recorded.config.model, { arch: 'reference', inChannels: 1, classes: 2, base: 4 });

    const ev = await ok(['eval', '--checkpoint', join(run, 'best.ckpt'), '--synthetic', '--size', '32', '--val-slices', '2', '--overlays', '0', '--quiet', '--out', at('ref-eval')]);
    assert.match(ev.stdout, /2 val slices: DSC/);
    assert.ok(existsSync(at('ref-eval', 'results.json')));

    // a 30×20 slice: padded to 32×24 for the network, the labels cropped back
    const input = at('in', 'slice.png');
    mkdirSync(at('in'));
    writeFileSync(input, encodePng({ width: 20, height: 30, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: 600 }, (_, i) => (i * 37) % 251) }));
    await ok(['predict', '--checkpoint', join(run, 'last.ckpt'), '--input', input, '--quiet', '--out', at('ref-pred')]);
    const labels = decodePng(readFileSync(at('ref-pred', 'slice.png')));
    assert.deepEqual([labels.width, labels.height], [20, 30], 'the input geometry');
    assert.ok([...labels.data].every((v) => v === 0 || v === 1), 'class indices');

    // resumed: the run's network comes from its checkpoint
    const resumed = await ok(['train', '--resume', run, '--epochs', '2']);
    assert.match(resumed.stdout, /trained 2 epochs/);
  });

  test('--arch reference refuses --depth, --batch-norm, --no-batch-norm and --dropout, and sides not divisible by 8', async () => {
    for (const flag of [['--depth', '4'], ['--batch-norm'], ['--no-batch-norm'], ['--dropout', '0.1']]) {
      await refused(['train', ...REF, ...flag], 2, new RegExp(`error: ${flag[0]}: the reference network \\(--arch reference\\) has a fixed depth of 3 with batch norm`));
    }
    await refused(['train', ...withFlag(REF, '--size', '20')], 2, /images of 20×20 are not divisible by 8 \(the reference network halves them three times\)/);
    await refused(['train', ...UNET, '--arch', 'resnet'], 2, /--arch: expected one of unet, reference/);
  });

  test('--help names --arch, the reference base of 64, and batch norm on by default', async () => {
    const help = (await ok(['train', '--help'])).stdout;
    assert.match(help, /--arch unet\|reference/);
    assert.match(help, /--base N .*\(default 16; --arch reference: 64\)/);
    assert.match(help, /--batch-norm .*on by default; --no-batch-norm turns it off/);
    assert.match((await ok(['experiment', '--help'])).stdout, /--arch unet\|reference/);
  });

  test('the U-Net has batch norm by default and none with --no-batch-norm; the reference network defaults to base 64', async () => {
    const data = shape(64, 8);
    assert.equal((buildTrainConfig({}, data).model as { batchNorm: boolean }).batchNorm, true, 'default');
    assert.equal((buildTrainConfig({ batchNorm: false }, data).model as { batchNorm: boolean }).batchNorm, false, '--no-batch-norm');
    assert.deepEqual(buildTrainConfig({}, data).model, { inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: true });
    assert.deepEqual(buildTrainConfig({ arch: 'reference' }, data).model, { arch: 'reference', inChannels: 1, classes: 2, base: 64 }, '--arch reference at 64×64, batch 8: accepted, base 64');
    // the command line parses --no-batch-norm into batchNorm: false
    const run = at('no-bn');
    await ok(['train', ...UNET, '--no-batch-norm', '--out', run]);
    assert.equal((await headerModel(join(run, 'last.ckpt')) as { batchNorm: boolean }).batchNorm, false);
    const bn = at('bn');
    await ok(['train', ...UNET, '--out', bn]);
    assert.equal((await headerModel(join(bn, 'last.ckpt')) as { batchNorm: boolean }).batchNorm, true);
  });

  test('memory: the reference network at 64×64 batch 8 fits; a huge --base or a batch of large slices is refused naming the flag', async () => {
    const g = referenceFeatureValuesPerPixel({ base: 1, classes: 0 });
    assert.ok(Math.abs(g - 52.375) < 1e-9, `feature maps per pixel and base channel: ${g}`);
    const mem = trainingMemory({ arch: 'reference', inChannels: 1, classes: 2, base: 64 }, 'adam', 8, 64, 64);
    assert.equal(mem.parameters, 18_702_551);
    assert.ok(mem.weightBytes + mem.activationBytes < 2 ** 31, `${mem.weightBytes} + ${mem.activationBytes} bytes`);
    assert.throws(() => buildTrainConfig({ arch: 'reference', base: 1024 }, shape(64, 8)), /--base 1024: the reference network of base 1024 has [\d.]+e\+\d+ parameters \(.* with gradients and optimizer state\), more than the 4\.0 GiB a backend can hold: lower --base/);
    assert.throws(() => buildTrainConfig({ arch: 'reference', batchSize: 8 }, shape(1024, 8)), /--batch-size 8: a training step of the reference network of base 64 on 8 slices of 1024×1024 needs at least [\d.]+ GiB of activations/);
    await refused(['train', ...withFlag(REF, '--base', '2048')], 2, /--base 2048: the reference network of base 2048/);
  });

  test('a run recorded before batch norm was on by default resumes and restarts with the network it trained', async () => {
    const run = at('legacy');
    await ok(['train', ...UNET, '--no-batch-norm', '--out', run]);
    // the record as this version's predecessor wrote it: no arch, no batchNorm among the flags
    const file = join(run, 'run.json');
    const record = JSON.parse(readFileSync(file, 'utf8')) as { flags: Record<string, unknown> };
    delete record.flags['arch'];
    delete record.flags['batchNorm'];
    writeFileSync(file, JSON.stringify(record));
    await ok(['train', '--resume', run, '--epochs', '2']);
    assert.equal((await headerModel(join(run, 'last.ckpt')) as { batchNorm: boolean }).batchNorm, false, 'resumed without batch norm');
    // killed before its first last.ckpt: started again from run.json, whose config names the network
    for (const f of ['last.ckpt', 'best.ckpt', 'metrics.csv']) rmSync(join(run, f));
    await ok(['train', '--resume', run]);
    assert.equal((await headerModel(join(run, 'last.ckpt')) as { batchNorm: boolean }).batchNorm, false, 'restarted without batch norm');
    // a model flag given explicitly is checked against the checkpoint (exit 3, the file named)
    const bn = await cli(['train', '--resume', run, '--epochs', '2', '--batch-norm']);
    assert.equal(bn.code, 3, bn.stderr);
    assert.match(bn.stderr, /last\.ckpt: checkpoint of another architecture: batchNorm false \(expected true\)/);
    const other = await cli(['train', '--resume', run, '--epochs', '2', '--arch', 'reference']);
    assert.equal(other.code, 3, other.stderr);
    assert.match(other.stderr, /checkpoint of another architecture: the U-Net base 2, depth 1, no batch norm, 1 channel\(s\), 2 classes \(expected the reference network\)/);
  });

  test('resumeFlags, recordedFlags, modelFlagsOf and networkFromFlags', () => {
    const unet = { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false } as const;
    assert.deepEqual(modelFlagsOf(unet), { arch: 'unet', base: 2, depth: 1, batchNorm: false });
    assert.deepEqual(modelFlagsOf({ ...unet, dropout: 0.3 }), { arch: 'unet', base: 2, depth: 1, batchNorm: false, dropout: 0.3 });
    assert.deepEqual(modelFlagsOf({ arch: 'reference', inChannels: 1, classes: 2 }), { arch: 'reference', base: 64 });
    assert.deepEqual(networkFromFlags(modelFlagsOf(unet), { channels: 1, classes: 2 }), unet, 'modelFlagsOf rebuilds the network');
    assert.deepEqual(recordedFlags({ base: 2 }), { base: 2, arch: 'unet' });
    // the trained network fills the model flags not given; a given one wins
    assert.deepEqual(resumeFlags({ base: 2, epochs: 1 }, { epochs: 3 }, unet), { base: 2, epochs: 3, arch: 'unet', depth: 1, batchNorm: false });
    assert.deepEqual(resumeFlags({}, { base: 4 }, unet).base, 4);
    assert.deepEqual(resumeFlags({}, { arch: 'reference' }, unet), { arch: 'reference' }, 'another arch given: the trained network adds nothing');
    // without the trained network: a record without arch predates batch norm on by default
    assert.deepEqual(resumeFlags({ base: 2 }, {}), { base: 2, batchNorm: false });
    assert.deepEqual(resumeFlags({ base: 2 }, { batchNorm: true }), { base: 2, batchNorm: true });
    assert.deepEqual(resumeFlags({ base: 2, arch: 'unet' }, {}), { base: 2, arch: 'unet' }, 'a record naming arch is taken as it is');
    assert.deepEqual(resumeFlags({ base: 2 }, { arch: 'reference' }), { base: 2, arch: 'reference' });
  });
});
