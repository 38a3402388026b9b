/**
 * `--synthetic-set`: which synthetic set `--synthetic` loads (wmh by default, wmh-v1 as before,
 * vessels), each set's own defaults, and the refusal with `--data`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { checkDataChoice, loadData } from '../cli/datasets.js';
import { UsageError } from '../cli/errors.js';
import { syntheticDataset } from '../data/synthetic.js';
import { syntheticVessels } from '../data/synthetic-vessels.js';
import { syntheticWmh } from '../data/synthetic-wmh.js';
import { cli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'bseg-cli-sets-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('loadData with --synthetic-set', () => {
  test('wmh is the default; wmh-v1 gives the first set\'s arrays and defaults; vessels its own', async () => {
    const small = { synthetic: true, trainSlices: 5, valSlices: 3, size: 16, dataSeed: 4 } as const;
    const wmh = await loadData(small);
    assert.equal(wmh.stats?.set, 'wmh');
    assert.deepEqual(wmh.train.map((s) => s.label), syntheticWmh({ seed: 4, trainSlices: 5, valSlices: 3, size: 16 }).train.map((s) => s.label));
    assert.ok(wmh.train.every((s) => s.volume !== undefined));
    const v1 = await loadData({ ...small, syntheticSet: 'wmh-v1' });
    const direct = syntheticDataset({ seed: 4, trainSlices: 5, valSlices: 3, size: 16 });
    assert.equal(v1.stats, undefined);
    assert.deepEqual(v1.train.map((s) => s.image), direct.train.map((s) => s.image));
    assert.deepEqual(v1.notes, direct.notes);
    const vessels = await loadData({ ...small, syntheticSet: 'vessels', modalities: 2 });
    assert.equal(vessels.stats?.set, 'vessels');
    assert.equal(vessels.channels, 2);
    assert.deepEqual(vessels.val.map((s) => s.label), syntheticVessels({ seed: 4, trainSlices: 5, valSlices: 3, size: 16, modalities: 2 }).val.map((s) => s.label));
    // Each set's defaults when the counts and size are not given.
    const v1Defaults = await loadData({ synthetic: true, syntheticSet: 'wmh-v1' });
    assert.deepEqual([v1Defaults.train.length, v1Defaults.val.length, v1Defaults.height], [150, 30, 64]);
    const vesselDefaults = await loadData({ synthetic: true, syntheticSet: 'vessels', trainSlices: 1, valSlices: 1 });
    assert.equal(vesselDefaults.height, 128);
  });

  test('--synthetic-set applies to --synthetic only', () => {
    assert.throws(() => checkDataChoice({ data: 'dir', syntheticSet: 'vessels' }), (e: unknown) => e instanceof UsageError && e.message === '--synthetic-set applies to --synthetic only');
    assert.doesNotThrow(() => checkDataChoice({ synthetic: true, syntheticSet: 'vessels' }));
  });
});

describe('the command line', () => {
  before(async () => core.setBackend('cpu'));
  const TINY = ['--size', '16', '--train-slices', '2', '--val-slices', '1', '--epochs', '1', '--base', '2', '--depth', '1', '--batch-size', '2', '--losses', 'gdl', '--overlays', '0'];

  test('refuses --synthetic-set with --data, and an unknown set (exit 2)', async () => {
    const withData = await cli(['train', '--data', join(root, 'none'), '--synthetic-set', 'wmh', '--out', join(root, 'a')]);
    assert.equal(withData.code, 2, withData.stderr);
    assert.match(withData.stderr, /--synthetic-set applies to --synthetic only/);
    const unknown = await cli(['train', '--synthetic', '--synthetic-set', 'retina', '--out', join(root, 'b')]);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /--synthetic-set: expected one of wmh, wmh-v1, vessels/);
    assert.match((await cli(['train', '--help'])).stdout, /--synthetic-set NAME/);
  });

  test('trains on the vessels set and on the default wmh set; the notes say which', async () => {
    for (const [set, pattern] of [[['--synthetic-set', 'vessels'], /^data: synthetic retina-like vessel trees \(set vessels\)/], [[], /^data: synthetic WMH-like volumes \(set wmh\)/]] as const) {
      const out = join(root, `run-${set.length > 0 ? 'vessels' : 'default'}`);
      const r = await cli(['train', '--synthetic', ...set, ...TINY, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr.split('\n')[0]!, pattern);
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { flags: { syntheticSet?: string }; data: string[] };
      assert.equal(run.flags.syntheticSet, set.length > 0 ? 'vessels' : undefined);
      assert.match(run.data[0]!, pattern.source.includes('vessel') ? /vessel/ : /WMH-like volumes/);
    }
  });
});
