/**
 * The playground's train panel without a browser: its training function (`web/src/train-run.ts`,
 * what the worker runs) in Node on `wasm` with one thread at the panel's sizes — the messages'
 * shape, two runs of one seed posting identical messages, the schedules' weights, stopping — the
 * validation predictions `train` hands `onEpoch`, and the panel's drawing (`web/src/charts.ts`):
 * the overlay pixels against the CLI's overlay, integer epoch ticks, the chart on a recording
 * context.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { getBackend } from '../core/backend.js';
import { OVERLAY_COLOURS, PREDICTION_FILL_ALPHA } from '../cli/render/colour.js';
import { overlayPng } from '../cli/render/overlay.js';
import { decodePng } from '../data/png.js';
import { syntheticWmh } from '../data/synthetic-wmh.js';
import { imageMetrics } from '../models/evaluate.js';
import { trainingData } from '../models/data-source.js';
import { train } from '../models/train.js';
import { trainDefaults, type TrainConfig } from '../models/train-config.js';
import { rebalance } from '../losses/schedules.js';
import {
  OVERLAY_PALETTE, PREDICTION_FILL_ALPHA as WEB_FILL_ALPHA, drawCurves, epochTicks, overlayRgba, type Context2D,
} from '../web/src/charts.js';
import {
  OVERLAY_SLICES, TRAIN_DATA, checkTrainSettingOptions, compareSettings, overlayIndices, scheduleNote, selectTrainBackend, trainSetting,
  type EpochMessage, type TrainReady, type TrainSettingOptions, type TrainSummary,
} from '../web/src/train-run.js';

const HW = TRAIN_DATA.size * TRAIN_DATA.size;

/** Everything a run reports, in order. */
async function record(options: TrainSettingOptions, stopAfter = Infinity): Promise<{ ready: TrainReady[]; epochs: EpochMessage[]; summary: TrainSummary }> {
  const ready: TrainReady[] = [];
  const epochs: EpochMessage[] = [];
  const summary = await trainSetting(options, (m) => {
    epochs.push(m);
    return m.epoch >= stopAfter ? 'stop' : undefined;
  }, (m) => void ready.push(m));
  return { ready, epochs, summary };
}

/** A message without its wall times. */
function timeless<T extends { seconds?: number; secondsPerEpoch?: number }>(m: T): Omit<T, 'seconds' | 'secondsPerEpoch'> {
  const { seconds: _s, secondsPerEpoch: _p, ...rest } = m;
  return rest;
}

describe('the train panel\'s run (web/src/train-run.ts) in Node on wasm, one thread', () => {
  before(async () => {
    const chosen = await selectTrainBackend('wasm');
    assert.deepEqual(chosen, { backend: 'wasm (1 thread)' });
  });

  test('two epochs of GDL + boundary: the messages\' shape; two runs of one seed post identical messages', async () => {
    const options: TrainSettingOptions = { setting: 'gdl+boundary', epochs: 2, seed: 3, schedule: 'rebalance-stretched' };
    const a = await record(options);
    assert.equal(a.ready.length, 1, 'one ready message');
    const ready = a.ready[0]!;
    assert.equal(ready.type, 'ready');
    assert.equal(ready.backend, 'wasm (1 thread)');
    assert.deepEqual([ready.setting, ready.epochs, ready.seed, ready.size, ready.trainSlices, ready.valSlices], ['gdl+boundary', 2, 3, 64, 96, 32]);
    assert.ok(ready.foregroundShare > 0 && ready.foregroundShare < 0.05, `an unbalanced set: lesions ${ready.foregroundShare} of the pixels`);
    assert.match(ready.schedule, /^rebalance-stretched.*boundary weight 0 at epoch 1, 0\.99 at epoch 2$/);
    assert.equal(ready.slices.length, OVERLAY_SLICES);
    const ds = syntheticWmh({ seed: 3, ...TRAIN_DATA });
    for (const s of ready.slices) {
      const original = ds.val.find((v) => v.id === s.id);
      assert.ok(original, `overlay slice ${s.id} is a validation slice`);
      assert.ok(s.image instanceof Float32Array && s.image.length === HW && s.image.every((v) => v >= 0 && v <= 1), 'the image: 64×64 values in [0, 1]');
      assert.deepEqual(s.image, original.image.subarray(0, HW));
      assert.deepEqual(s.label, original.label);
      assert.ok(s.lesionPixels > 0 && s.lesionPixels === s.label.reduce((n, v) => n + v, 0), `slice ${s.id} has lesions`);
    }

    assert.deepEqual(a.epochs.map((m) => m.epoch), [1, 2], 'epochs are 1-based');
    for (const m of a.epochs) {
      assert.equal(m.type, 'epoch');
      assert.equal(m.setting, 'gdl+boundary');
      assert.equal(m.epochs, 2);
      assert.ok(Number.isFinite(m.trainLoss), `epoch ${m.epoch}: train loss ${m.trainLoss}`);
      assert.ok(m.valDice >= 0 && m.valDice <= 1, `epoch ${m.epoch}: DSC ${m.valDice}`);
      assert.ok(m.valLesionDice >= 0 && m.valLesionDice <= 1, `epoch ${m.epoch}: lesion-slice DSC ${m.valLesionDice}`);
      assert.ok(Number.isNaN(m.valHd95) || m.valHd95 >= 0, `epoch ${m.epoch}: HD95 ${m.valHd95}`);
      assert.ok(m.seconds > 0 && Number.isFinite(m.seconds));
      assert.equal(m.overlays.length, OVERLAY_SLICES);
      for (const o of m.overlays) {
        assert.ok(o instanceof Uint8Array && o.length === HW && o.every((v) => v === 0 || v === 1), 'a prediction: 64×64 class indices');
        assert.equal(o.byteOffset, 0);
        assert.equal(o.buffer.byteLength, HW, 'each overlay owns its buffer (transferable alone)');
      }
    }
    const stretched = rebalance({ floorAtEpoch: 1 });
    assert.deepEqual(a.epochs.map((m) => m.weights), [stretched(0, 2), stretched(1, 2)], 'the weights of rebalance({ floorAtEpoch: epochs − 1 })');
    assert.deepEqual(a.summary.type, 'done');
    assert.equal(a.summary.epochs, 2);
    assert.equal(a.summary.completed, true);
    const best = Math.max(...a.epochs.map((m) => m.valDice));
    assert.deepEqual(a.summary.best, { epoch: a.epochs.findIndex((m) => m.valDice === best) + 1, valDice: best });
    const mean = (a.epochs[0]!.seconds + a.epochs[1]!.seconds) / 2;
    assert.ok(Math.abs(a.summary.secondsPerEpoch - mean) < 1e-9);

    const b = await record(options);
    assert.deepEqual(b.ready, a.ready, 'the same ready message');
    assert.deepEqual(b.epochs.map(timeless), a.epochs.map(timeless), 'the same epoch messages, overlays included');
    assert.deepEqual(timeless(b.summary), timeless(a.summary));
  });

  test('GDL alone weighs GDL 1 every epoch; onEpoch returning stop after epoch 1 of 3 ends the run there', async () => {
    const r = await record({ setting: 'gdl', epochs: 3, seed: 0 }, 1);
    assert.match(r.ready[0]!.schedule, /^GDL alone/);
    assert.deepEqual(r.epochs.map((m) => [m.epoch, m.weights]), [[1, [1]]]);
    assert.equal(r.summary.completed, false);
    assert.equal(r.summary.epochs, 1);
    assert.equal(r.summary.best.epoch, 1);
  });

  test('train() hands onEpoch the validation predictions whose metrics it reports', async () => {
    const ds = syntheticWmh({ seed: 1, trainSlices: 8, valSlices: 5, size: 32 });
    const config: TrainConfig = {
      ...trainDefaults, epochs: 1, batchSize: 4, losses: ['gdl'], schedule: { name: 'constant' },
      model: { inChannels: ds.channels, classes: ds.classes, base: 4, depth: 2, batchNorm: true },
    };
    let seen = 0;
    const result = await train(config, trainingData(ds), {
      onEpoch: (_row, info) => {
        seen++;
        assert.equal(info.predictions.length, ds.val.length, 'one label map per validation slice');
        info.predictions.forEach((p, i) => {
          assert.ok(p instanceof Uint8Array && p.length === 32 * 32);
          assert.deepEqual(imageMetrics(ds.val[i]!, p, ds.classes), info.images[i], `validation slice ${i}: the metrics of its prediction`);
        });
      },
    });
    assert.equal(seen, 1);
    const { dispose } = await import('../core/engine.js');
    dispose(result);
  });

  test('options are checked, naming the option', () => {
    const base: TrainSettingOptions = { setting: 'gdl', epochs: 2, seed: 0 };
    assert.deepEqual(checkTrainSettingOptions(base), { ...base, schedule: 'rebalance-stretched' });
    const refused = (options: unknown, argument: string, message: RegExp) =>
      assert.throws(() => checkTrainSettingOptions(options as TrainSettingOptions), (e: unknown) => e instanceof InputError && e.argument === argument && message.test(e.message), argument);
    refused(null, 'options', /expected \{ setting, epochs, seed/);
    refused({ ...base, epoch: 3 }, 'options.epoch', /unknown option/);
    refused({ ...base, setting: 'boundary' }, 'options.setting', /"gdl", "gdl\+boundary", got "boundary"/);
    refused({ ...base, epochs: 0 }, 'options.epochs', /1 … 100, got 0/);
    refused({ ...base, epochs: 2.5 }, 'options.epochs', /got 2\.5/);
    refused({ ...base, seed: -1 }, 'options.seed', /got -1/);
    refused({ ...base, schedule: 'steal' }, 'options.schedule', /"rebalance", "rebalance-stretched", got "steal"/);
    return assert.rejects(trainSetting({ ...base, epochs: 1000 }, () => undefined), (e: unknown) => e instanceof InputError && e.argument === 'options.epochs');
  });

  test('the schedule note gives the boundary weights of the library\'s rebalance at the first and last epoch', () => {
    assert.equal(scheduleNote('gdl+boundary', 'rebalance', 12),
      'rebalance (the paper\'s α = max(0.01, 1 − 0.01·e)): weights [α, 1 − α] for [GDL, boundary]; boundary weight 0 at epoch 1, 0.11 at epoch 12');
    assert.equal(scheduleNote('gdl+boundary', 'rebalance-stretched', 12),
      'rebalance-stretched (α falls linearly to 0.01 at epoch 12): weights [α, 1 − α] for [GDL, boundary]; boundary weight 0 at epoch 1, 0.99 at epoch 12');
    assert.equal(scheduleNote('gdl', 'rebalance', 12), 'GDL alone, weight 1 every epoch');
    assert.throws(() => scheduleNote('gdl+boundary', 'rebalance', 0), (e: unknown) => e instanceof InputError && e.argument === 'options.epochs');
  });

  test('the overlay slices: the largest lesion load, the upper quartile, the median, apart, in validation order', () => {
    const label = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (i < n ? 1 : 0));
    // lesion pixels per slice; ranked: slice 5 (9 px), 6 (8), 2 (6), 1 (5), 10 (3), 9 (2), 11 (1)
    const labels = [0, 5, 6, 0, 0, 9, 8, 0, 0, 2, 3, 1].map(label);
    // ranks round(r · 6 / 4) = 0, 2 (1.5 rounds up), 3 → slices 5, 2, 1; slice 1 is within 2 of
    // slice 2, so the next rank far enough from both picked ones, slice 10, comes instead
    assert.deepEqual(overlayIndices(labels), [2, 5, 10]);
    assert.deepEqual(overlayIndices([0, 3, 4, 5, 0].map(label)), [1, 2, 3], 'neighbours when no lesion slice is far enough');
    assert.deepEqual(overlayIndices([label(0), label(3), label(0), label(0)]), [0, 1, 2], 'too few lesion slices: the first others fill in');
    assert.deepEqual(overlayIndices([label(1), label(1)]), [0, 1], 'fewer slices than overlays');
    const ds = syntheticWmh({ seed: 0, ...TRAIN_DATA });
    const picked = overlayIndices(ds.val.map((s) => s.label));
    assert.equal(picked.length, OVERLAY_SLICES);
    assert.ok(picked.every((i, k) => ds.val[i]!.label.some((v) => v > 0) && (k === 0 || i - picked[k - 1]! > 2)), `lesion slices apart in the panel's set: ${picked}`);
  });

  test('the closing line states each setting\'s best values and the difference, as measured', () => {
    const a = { setting: 'gdl' as const, epochs: [{ epoch: 1, valDice: 0.2, valLesionDice: 0.1 }, { epoch: 2, valDice: 0.39, valLesionDice: NaN }] };
    const b = { setting: 'gdl+boundary' as const, epochs: [{ epoch: 1, valDice: 0.387, valLesionDice: 0.3 }, { epoch: 2, valDice: 0.1, valLesionDice: 0.2 }] };
    assert.equal(compareSettings(a, b, 32),
      'Best validation DSC: GDL 0.390 (epoch 2), GDL + boundary 0.387 (epoch 1), difference −0.003; best lesion-slice DSC: GDL 0.100 (epoch 1), GDL + boundary 0.300 (epoch 1). One seed, 32 validation slices, 2 epochs.');
    assert.match(compareSettings(a, { setting: 'gdl+boundary', epochs: [] }, 32), /GDL \+ boundary n\/a; best/);
  });

  test('backend choice: cpu runs cpu; an unknown choice is refused naming it; the wasm backend is back afterwards', async () => {
    assert.deepEqual(await selectTrainBackend('cpu'), { backend: 'cpu' });
    assert.equal(getBackend().name, 'cpu');
    await assert.rejects(selectTrainBackend('webgl' as never), (e: unknown) => e instanceof InputError && e.argument === 'choice' && /"auto", "wasm", "cpu", "gpujs", got "webgl"/.test(e.message));
    assert.deepEqual(await selectTrainBackend('auto'), { backend: 'wasm (1 thread)' });
  });
});

describe('the train panel\'s drawing (web/src/charts.ts)', () => {
  test('the overlay palette is the CLI\'s', () => {
    assert.deepEqual(OVERLAY_PALETTE, OVERLAY_COLOURS);
    assert.equal(WEB_FILL_ALPHA, PREDICTION_FILL_ALPHA);
  });

  test('overlay pixels are the CLI overlay\'s picture, pixel for pixel (gray image, fill, contours, agreement)', () => {
    const [w, h, scale] = [12, 10, 3];
    const image = Float32Array.from({ length: w * h }, (_, i) => ((i * 37) % 101) / 100 - 0.05); // a few values outside [0, 1]
    const disk = (cx: number, cy: number, r: number) => Uint8Array.from({ length: w * h }, (_, i) => ((i % w) - cx) ** 2 + (Math.floor(i / w) - cy) ** 2 <= r * r ? 1 : 0);
    const gt = disk(5, 5, 3);
    const pred = disk(6, 4, 3);
    const rgba = overlayRgba(image, gt, pred, w, h, scale);
    const png = decodePng(overlayPng(image, h, w, pred, gt, { scale }));
    assert.equal(png.channels, 3);
    const [W, H] = [w * scale, h * scale];
    assert.equal(rgba.length, W * H * 4);
    const seen = new Set<string>();
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const mine = [...rgba.subarray(4 * (y * W + x), 4 * (y * W + x) + 3)];
        const cli = [...png.data.subarray(3 * (y * png.width + x), 3 * (y * png.width + x) + 3)];
        assert.deepEqual(mine, cli, `pixel (${x}, ${y})`);
        assert.equal(rgba[4 * (y * W + x) + 3], 255, 'opaque');
        seen.add(mine.join(','));
      }
    }
    for (const c of Object.values(OVERLAY_COLOURS)) assert.ok(seen.has(c.join(',')), `the overlay shows ${c}`);
    assert.throws(() => overlayRgba(image, gt, pred.subarray(1), w, h), (e: unknown) => e instanceof InputError && e.argument === 'pred' && /10×12 = 120 values, got 119/.test(e.message));
    assert.throws(() => overlayRgba(image, gt, pred, w, h, 0), (e: unknown) => e instanceof InputError && e.argument === 'scale');
  });

  test('epoch ticks are whole epochs from 1', () => {
    assert.deepEqual(epochTicks(1), [1]);
    assert.deepEqual(epochTicks(2), [1, 2]);
    assert.deepEqual(epochTicks(3), [1, 2, 3]);
    assert.deepEqual(epochTicks(12), [1, 2, 4, 6, 8, 10, 12]);
    assert.deepEqual(epochTicks(20), [1, 5, 10, 15, 20]);
    assert.deepEqual(epochTicks(100), [1, 20, 40, 60, 80, 100]);
    for (let e = 1; e <= 100; e++) {
      const ticks = epochTicks(e);
      assert.ok(ticks[0] === 1 && ticks.every((t, i) => Number.isInteger(t) && t <= e && (i === 0 || t > ticks[i - 1]!)) && ticks.length <= 8, `${e} epochs: ${ticks}`);
    }
    assert.throws(() => epochTicks(0), (e: unknown) => e instanceof InputError && e.argument === 'last');
  });

  test('the chart draws its integer epoch ticks, y ticks, a legend entry per curve, and splits a curve at NaN', () => {
    const calls: { op: string; args: unknown[]; dash: number[] }[] = [];
    let dash: number[] = [];
    const ctx: Context2D = {
      fillStyle: '', strokeStyle: '', lineWidth: 1, font: '', textAlign: 'left', textBaseline: 'top',
      save() {}, restore() {}, setTransform() {}, translate() {}, rotate() {}, clearRect() {}, fillRect() {}, fill() {},
      beginPath: () => void calls.push({ op: 'beginPath', args: [], dash }),
      moveTo: (...args: number[]) => void calls.push({ op: 'moveTo', args, dash }),
      lineTo: (...args: number[]) => void calls.push({ op: 'lineTo', args, dash }),
      arc: (...args: number[]) => void calls.push({ op: 'arc', args, dash }),
      stroke: () => void calls.push({ op: 'stroke', args: [], dash }),
      setLineDash: (segments: number[]) => void (dash = segments),
      fillText: (...args: unknown[]) => void calls.push({ op: 'fillText', args, dash }),
      measureText: (text: string) => ({ width: 6 * text.length }),
    };
    const plot = drawCurves(ctx, 640, 300, {
      title: 'Validation DSC', yLabel: 'DSC', epochs: 12,
      curves: [
        { label: 'GDL: DSC', color: '#E69F00', points: [1, 2, 3, 4, 5].map((epoch) => ({ epoch, value: epoch === 3 ? NaN : epoch / 10 })) },
        { label: 'GDL: lesion-slice DSC', color: '#E69F00', dashed: true, points: [{ epoch: 1, value: 0.5 }] },
      ],
    });
    const texts = calls.filter((c) => c.op === 'fillText').map((c) => c.args[0]);
    for (const t of ['1', '2', '4', '6', '8', '10', '12']) assert.ok(texts.includes(t), `x tick ${t}`);
    assert.ok(!texts.includes('3') && !texts.includes('1.5'), 'no other x ticks');
    for (const t of ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']) assert.ok(texts.includes(t), `y tick ${t}`);
    for (const t of ['Validation DSC', 'epoch', 'DSC', 'GDL: DSC', 'GDL: lesion-slice DSC']) assert.ok(texts.includes(t), `text ${t}`);
    // the solid curve: epochs 1–2 and 4–5 as two polylines at x = left + (e − 1)/11 · width
    const px = (e: number) => plot.left + ((e - 1) / 11) * (plot.right - plot.left);
    const py = (v: number) => plot.bottom - v * (plot.bottom - plot.top);
    const moves = calls.filter((c) => c.op === 'moveTo' && c.args[0] === px(1) && c.args[1] === py(0.1));
    assert.equal(moves.length, 1, 'the first run starts at (1, 0.1)');
    const at = calls.indexOf(moves[0]!);
    assert.deepEqual(calls.slice(at, at + 3).map((c) => [c.op, ...c.args]), [['moveTo', px(1), py(0.1)], ['lineTo', px(2), py(0.2)], ['stroke']]);
    assert.deepEqual(calls.slice(at + 4, at + 7).map((c) => [c.op, ...c.args]), [['moveTo', px(4), py(0.4)], ['lineTo', px(5), py(0.5)], ['stroke']]);
    const dot = calls.find((c) => c.op === 'arc');
    assert.deepEqual(dot?.args.slice(0, 2), [px(1), py(0.5)], 'a lone point is a dot');
    assert.throws(() => drawCurves(ctx, 100, 300, { title: '', yLabel: '', epochs: 2, curves: [] }), (e: unknown) => e instanceof InputError && e.argument === 'width, height');
  });
});
