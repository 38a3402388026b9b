/**
 * The command line's defaults (signed-map convention, schedule, GDL weights) on thin structures:
 * on the synthetic retina-like vessel set (trees 1–3 px wide at 128×128, most pixels without a
 * negative reference signed map), GDL + boundary loss must not collapse and must keep at least 0.9×
 * GDL's best validation DSC. A deterministic run (one seed, 30 epochs of a small U-Net): the same
 * numbers on every machine with the same backend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'bseg-thin-'));
after(() => rmSync(root, { recursive: true, force: true }));

const common = ['train', '--synthetic', '--synthetic-set', 'vessels', '--train-slices', '24', '--val-slices', '8', '--epochs', '30', '--batch-size', '4', '--base', '8', '--overlays', '0', '--quiet'];

/** Per-epoch validation lesion-slice DSC (every vessel image has foreground) and predicted-foreground counts. */
function curve(dir: string): { dice: number[]; predicted: number[] } {
  const [header, ...lines] = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const at = (name: string) => cols.indexOf(name);
  const rows = lines.map((l) => l.split(',').map(Number));
  return { dice: rows.map((r) => r[at('val_lesion_dice')]!), predicted: rows.map((r) => r[at('val_pred_fg_images')]!) };
}

describe('thin structures with the command line\'s defaults', () => {
  test('GDL + boundary loss keeps at least 0.9× the best DSC of GDL alone and never predicts nothing', async () => {
    const gdl = await cli([...common, '--losses', 'gdl', '--out', join(root, 'gdl')]);
    assert.equal(gdl.code, 0, gdl.stderr);
    const both = await cli([...common, '--out', join(root, 'both')]);
    assert.equal(both.code, 0, both.stderr);
    const run = JSON.parse(readFileSync(join(root, 'both', 'run.json'), 'utf8')) as { config: { losses: string[] }; flags: { convention: string } };
    assert.deepEqual(run.config.losses, ['gdl', 'boundary'], 'the default losses');
    const g = curve(join(root, 'gdl'));
    const b = curve(join(root, 'both'));
    const bestG = Math.max(...g.dice);
    const bestB = Math.max(...b.dice);
    assert.ok(bestG > 0.3, `GDL learns the vessels (best DSC ${bestG})`);
    assert.ok(bestB >= 0.9 * bestG, `GDL + boundary (${run.flags.convention} maps): best DSC ${bestB.toFixed(3)} < 0.9 × GDL's ${bestG.toFixed(3)}`);
    assert.ok(b.predicted.every((n) => n > 0), `some foreground predicted on every epoch: ${b.predicted.join(', ')}`);
  });
});
