/**
 * Hardening of checkpoints (issue 12, items 3 and 9): format version 2 ends with a SHA-256 digest
 * of everything before it; a flipped byte (1 or 1000), trailing bytes, a truncated file and
 * non-finite weights are refused naming the file; version-1 files still load, with a warning;
 * `last.ckpt` keeps no metrics rows (they live in `metrics.csv`), and a run killed between writing
 * `last.ckpt` and `metrics.csv` still resumes bit-identically.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { InputError } from '../core/errors.js';
import { trainingData } from '../models/data-source.js';
import { syntheticDataset } from '../data/index.js';
import { CHECKPOINT_VERSION, decodeCheckpoint, loadCheckpoint, readCheckpointFile, restoreCheckpoint } from '../models/checkpoint.js';
import { parseMetricsCsv } from '../models/metrics-log.js';
import { paramBytes } from './helpers/stand-in.js';
import { train, trainDefaults, type TrainConfig, type UNetParams } from '../models/index.js';

const root = mkdtempSync(join(tmpdir(), 'bseg-hardening-ckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...trainDefaults,
  model: { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false },
  epochs: 3,
  batchSize: 4,
  learningRate: 1e-2,
  schedule: { name: 'rebalance', floorAtEpoch: 2 },
  ...over,
});


/** The header JSON of a checkpoint's bytes. */
function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return JSON.parse(Buffer.from(bytes.subarray(12, 12 + length)).toString('utf8')) as Record<string, unknown>;
}

/** Re-signs edited version-2 bytes (a valid digest over changed content). */
function resign(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(createHash('sha256').update(out.subarray(0, out.length - 32)).digest(), out.length - 32);
  return out;
}

/** The same checkpoint in format version 1: no digest, every metrics row in the header. */
function toVersion1(bytes: Uint8Array, rows: readonly unknown[]): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = headerOf(bytes) as { version: number; resume?: Record<string, unknown> };
  header.version = 1;
  if (header.resume) {
    delete header.resume['lastRow'];
    header.resume['rows'] = rows;
  }
  let json = JSON.stringify(header, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  json += ' '.repeat((8 - ((12 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const blob = bytes.subarray(12 + length, bytes.length - 32);
  const out = Buffer.alloc(12 + head.length + blob.length);
  out.write('BSEGCKPT', 0, 'ascii');
  out.writeUInt32LE(head.length, 8);
  head.copy(out, 12);
  out.set(blob, 12 + head.length);
  return new Uint8Array(out);
}

/** Version-2 bytes with the header changed by `edit`, re-padded and re-signed (a valid file of another header). */
function rewriteHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = headerOf(bytes);
  edit(header);
  let json = JSON.stringify(header, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  json += ' '.repeat((8 - ((12 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const blob = bytes.subarray(12 + length, bytes.length - 32);
  const out = Buffer.alloc(12 + head.length + blob.length + 32);
  out.write('BSEGCKPT', 0, 'ascii');
  out.writeUInt32LE(head.length, 8);
  head.copy(out, 12);
  out.set(blob, 12 + head.length);
  return resign(new Uint8Array(out));
}

const rejects = (bytes: Uint8Array, file: string, pattern: RegExp) =>
  assert.throws(() => decodeCheckpoint(bytes, file), (e: unknown) => e instanceof InputError && (e as Error).message.includes(file) && pattern.test((e as Error).message) && !(e as Error).message.includes('\n'));

describe('hardening: checkpoint integrity (item 3)', () => {
  const ds = syntheticDataset({ trainSlices: 8, valSlices: 4, size: 16 });
  const data = trainingData(ds);
  const dir = join(root, 'run');
  let best: Uint8Array;
  let last: Uint8Array;

  before(async () => {
    await core.setBackend('cpu');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    core.dispose(await train(config({ epochs: 2 }), data, { dir }));
    best = readFileSync(join(dir, 'best.ckpt'));
    last = readFileSync(join(dir, 'last.ckpt'));
  });

  test(`files are format version ${CHECKPOINT_VERSION} and end with the SHA-256 of what precedes`, () => {
    assert.equal(CHECKPOINT_VERSION, 2);
    for (const bytes of [best, last]) {
      assert.equal(headerOf(bytes)['version'], 2);
      const digest = createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest();
      assert.ok(Buffer.from(bytes.subarray(bytes.length - 32)).equals(digest), 'trailer = SHA-256 of the rest');
      const decoded = decodeCheckpoint(bytes, 'x.ckpt');
      assert.deepEqual(decoded.warnings, []);
    }
  });

  test('one flipped byte in the weights, 1000 flipped bytes, a flipped header byte: refused', () => {
    const one = Uint8Array.from(best);
    one[best.length - 40]! ^= 0x01;
    rejects(one, 'one.ckpt', /corrupt: checksum mismatch .*changed or damaged/);
    const many = Uint8Array.from(last);
    for (let i = 0; i < 1000; i++) many[last.length - 33 - i * 3]! ^= 0xff;
    rejects(many, 'many.ckpt', /checksum mismatch/);
    const head = Uint8Array.from(best);
    const at = Buffer.from(best).indexOf('"epoch":');
    head[at + 8] = head[at + 8] === 0x31 ? 0x32 : 0x31; // another epoch digit: still valid JSON
    rejects(head, 'head.ckpt', /checksum mismatch/);
  });

  test('trailing bytes and truncation are refused', () => {
    rejects(Buffer.concat([best, Buffer.from('junk')]), 'tail.ckpt', /4 trailing bytes after the checksum/);
    rejects(resign(Buffer.concat([best.subarray(0, best.length - 32), Buffer.alloc(8), best.subarray(best.length - 32)])), 'tail2.ckpt', /8 trailing bytes/);
    rejects(best.subarray(0, best.length - 10), 'cut.ckpt', /truncated/);
  });

  test('a NaN written into a weight is refused even under a valid checksum', () => {
    const bytes = Uint8Array.from(best);
    new DataView(bytes.buffer).setFloat32(bytes.length - 32 - 8, NaN, true);
    rejects(resign(bytes), 'nan.ckpt', /tensor params\.\S+ holds a non-finite value \(NaN\) at index \d+/);
    new DataView(bytes.buffer).setFloat32(bytes.length - 32 - 8, -Infinity, true);
    rejects(resign(bytes), 'inf.ckpt', /non-finite value \(-Infinity\)/);
  });

  test("the header's network: a U-Net is stored without arch (as before there was a choice); an unknown arch or a field of the other network is refused", () => {
    const model = headerOf(best)['model'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(model).sort(), ['activation', 'base', 'batchNorm', 'classes', 'depth', 'dropout', 'inChannels', 'init'], 'the fields a reader of format 2 has always known');
    assert.equal(decodeCheckpoint(rewriteHeader(best, (h) => void ((h['model'] as Record<string, unknown>)['arch'] = 'unet')), 'tagged.ckpt').header.model.arch, 'unet', "arch: 'unet' reads as the U-Net");
    rejects(rewriteHeader(best, (h) => void ((h['model'] as Record<string, unknown>)['arch'] = 'resnet')), 'resnet.ckpt', /bad header: at \S*model\.arch: unknown network "resnet"/);
    rejects(rewriteHeader(best, (h) => void (h['model'] = { ...model, arch: 'reference' })), 'mixed.ckpt', /bad header: at \S*model\.(depth|batchNorm|dropout|activation|init): unknown field/);
    // a reference header over U-Net tensors: refused naming the tensors that do not fit
    const swapped = decodeCheckpoint(rewriteHeader(best, (h) => void (h['model'] = { arch: 'reference', inChannels: 1, classes: 2, base: 2 })), 'swapped.ckpt');
    assert.throws(() => restoreCheckpoint(swapped), (e: unknown) => e instanceof InputError && /swapped\.ckpt: checkpoint of another architecture: unexpected tensor params\.\S+ for reference U-Net \(LIVIAETS\) base 2/.test((e as Error).message));
  });

  test('version-1 files still load, with a warning, and restore the same tensors; their trailing bytes are refused', async () => {
    const rows = parseMetricsCsv(readFileSync(join(dir, 'metrics.csv'), 'utf8'), ['gdl', 'boundary'], 'metrics.csv');
    const v1 = toVersion1(last, rows);
    const file = join(root, 'v1.ckpt');
    writeFileSync(file, v1);
    const ckpt = await loadCheckpoint(file);
    assert.equal(ckpt.warnings?.length, 1);
    assert.match(ckpt.warnings![0]!, /v1\.ckpt: checkpoint format version 1 has no checksum/);
    assert.equal(ckpt.resume?.rows?.length, 2, 'version 1 carries its rows');
    const current = restoreCheckpoint(decodeCheckpoint(last, 'last.ckpt'));
    assert.deepEqual(await paramBytes(ckpt.params), await paramBytes(current.params), 'same weights');
    rejects(Buffer.concat([v1, Buffer.from([0])]), 'v1tail.ckpt', /1 trailing bytes after the last tensor/);
    core.dispose([ckpt, current]);
  });
});

describe('hardening: last.ckpt without metrics rows (item 9)', () => {
  before(async () => core.setBackend('cpu'));
  const ds = syntheticDataset({ trainSlices: 8, valSlices: 4, size: 16 });
  const data = trainingData(ds);

  test('the header holds only its own epoch\'s row, whatever the number of epochs', async () => {
    const dir = mkdtempSync(join(root, 'rows-'));
    const sizes: number[] = [];
    core.dispose(await train(config({ epochs: 6, lrRule: 'none' }), data, {
      dir,
      onEpoch: () => void sizes.push(JSON.stringify(headerOf(readFileSync(join(dir, 'last.ckpt')))['resume']).length),
    }));
    const header = headerOf(readFileSync(join(dir, 'last.ckpt'))) as { resume: Record<string, unknown> };
    assert.equal('rows' in header.resume, false, 'no rows in last.ckpt');
    assert.equal((header.resume['lastRow'] as { epoch: number }).epoch, 5);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) < 100, `resume header sizes over 6 epochs: ${sizes.join(', ')}`);
  });

  test('killed after last.ckpt but before metrics.csv: the resumed run ends bit-identical', async () => {
    const [full, part] = [mkdtempSync(join(root, 'full-')), mkdtempSync(join(root, 'part-'))];
    const whole = await train(config(), data, { dir: full });
    core.dispose(await train(config(), data, { dir: part, onEpoch: (row) => (row.epoch === 1 ? 'stop' : undefined) }));
    // the kill: metrics.csv still has the rows of epoch 1 only
    const csv = readFileSync(join(part, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(part, 'metrics.csv'), `${csv.slice(0, -1).join('\n')}\n`);
    const ckpt = await loadCheckpoint(join(part, 'last.ckpt'));
    assert.equal(ckpt.resume?.rows?.length, 2, 'rows: metrics.csv + the checkpoint\'s own');
    const resumed = await train(config(), data, { dir: part, resume: ckpt });
    for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) assert.ok(readFileSync(join(part, f)).equals(readFileSync(join(full, f))), `${f} identical`);
    core.dispose([whole, resumed]);
  });

  test('without metrics.csv, or with one from another run, resuming is refused naming the file', async () => {
    const dir = mkdtempSync(join(root, 'nocsv-'));
    core.dispose(await train(config({ epochs: 2 }), data, { dir }));
    const csvPath = join(dir, 'metrics.csv');
    const csv = readFileSync(csvPath, 'utf8');
    rmSync(csvPath);
    const ckpt = await loadCheckpoint(join(dir, 'last.ckpt'));
    assert.equal(ckpt.resume?.rows, undefined);
    await assert.rejects(train(config(), data, { resume: ckpt }), (e: Error) => e instanceof InputError && /after epoch 2 but no metrics rows came with it/.test(e.message));
    core.dispose(ckpt);
    writeFileSync(csvPath, csv.replace(/\n2,[^,]*,/, '\n2,0.5,'));
    await assert.rejects(readCheckpointFile(join(dir, 'last.ckpt')).then(async (f) => (await import('../models/checkpoint.js')).readRunRows(f)),
      (e: Error) => e instanceof InputError && e.message.includes(csvPath) && /row of epoch 2 differs/.test(e.message));
    writeFileSync(csvPath, 'epoch,lr\n');
    await assert.rejects(loadCheckpoint(join(dir, 'last.ckpt')), (e: Error) => e.message.includes(csvPath) && /line 1: expected the header/.test(e.message));
  });
});
