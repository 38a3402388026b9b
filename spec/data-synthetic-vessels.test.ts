/**
 * The thin-structure set (`syntheticVessels`): shapes, determinism, vessel widths against the
 * generator's centre lines, foreground share, the statistics against brute-force counts, options.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { crc32 } from '../data/crc32.js';
import { syntheticVessels, vesselCentreLines } from '../data/synthetic-vessels.js';

/** Distance from (px, py) to the segment s of `seg` and the width interpolated there. */
function toSegment(seg: Float64Array, s: number, px: number, py: number): { d: number; w: number } {
  const [x0, y0, x1, y1, w0, w1] = [seg[s]!, seg[s + 1]!, seg[s + 2]!, seg[s + 3]!, seg[s + 4]!, seg[s + 5]!];
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0;
  return { d: Math.hypot(px - x0 - t * dx, py - y0 - t * dy), w: w0 + t * (w1 - w0) };
}

describe('syntheticVessels', () => {
  const data = syntheticVessels({ seed: 0 });
  const slices = [...data.train, ...data.val];
  const size = 128;

  test('defaults: 48 train and 16 val images of 128×128, 1 channel, 2 classes, no volume, images in [0, 1]', () => {
    assert.deepEqual([data.train.length, data.val.length, data.height, data.width, data.channels, data.classes], [48, 16, 128, 128, 1, 2]);
    for (const s of slices) {
      assert.deepEqual([s.image.length, s.label.length, s.channels], [size * size, size * size, 1]);
      assert.deepEqual(s.spacing, [1, 1]);
      assert.equal(s.volume, undefined);
      assert.ok(s.image.every((v) => v >= 0 && v <= 1), `image of ${s.id} outside [0, 1]`);
      assert.ok(s.label.every((v) => v === 0 || v === 1), `labels of ${s.id} not 0/1`);
    }
    assert.equal(new Set(slices.map((s) => s.id)).size, slices.length, 'ids unique');
  });

  test('vessels are 1–3 px wide: every vessel pixel lies within half the local width (≤ 1.5 px) of a centre line, and each centre line is labelled', () => {
    for (const [split, list] of [['train', data.train], ['val', data.val]] as const) {
      for (const i of [0, 7, list.length - 1]) {
        const s = list[i]!;
        const seg = vesselCentreLines({ seed: 0 }, split, i);
        assert.ok(seg.length > 0 && seg.length % 6 === 0);
        for (let k = 0; k < seg.length; k += 6) {
          for (const w of [seg[k + 4]!, seg[k + 5]!]) assert.ok(w >= 1 && w <= 3, `width ${w}`);
        }
        // Per pixel, the nearest segments (bucketed by cell for speed).
        const cell = 4;
        const cells = new Map<number, number[]>();
        for (let k = 0; k < seg.length; k += 6) {
          const cx = Math.floor(seg[k]! / cell);
          const cy = Math.floor(seg[k + 1]! / cell);
          const list2 = cells.get(cy * 1000 + cx) ?? [];
          list2.push(k);
          cells.set(cy * 1000 + cx, list2);
        }
        s.label.forEach((v, p) => {
          const px = (p % size) + 0.5;
          const py = Math.floor(p / size) + 0.5;
          let inside = false;
          let nearest = Infinity;
          for (let gy = Math.floor(py / cell) - 2; gy <= Math.floor(py / cell) + 2; gy++) {
            for (let gx = Math.floor(px / cell) - 2; gx <= Math.floor(px / cell) + 2; gx++) {
              for (const k of cells.get(gy * 1000 + gx) ?? []) {
                const { d, w } = toSegment(seg, k, px, py);
                nearest = Math.min(nearest, d);
                if (d < w / 2) inside = true;
              }
            }
          }
          if (v === 1) {
            assert.ok(inside, `${s.id}: vessel pixel ${p} is not within half a width of a centre line`);
            assert.ok(nearest < 1.5, `${s.id}: vessel pixel ${p} is ${nearest} px from the centre line`);
          } else if (Math.hypot(px - size / 2, py - size / 2) < 0.4 * size) {
            assert.ok(!inside, `${s.id}: pixel ${p} inside a vessel but not labelled`);
          }
        });
      }
    }
  });

  test('foreground 5–12 %, no image without vessels, few interior pixels; statistics match brute-force counts', () => {
    let fg = 0;
    let interior = 0;
    const at = (l: Uint8Array, y: number, x: number) => y >= 0 && y < size && x >= 0 && x < size && l[y * size + x] === 1;
    for (const s of slices) {
      const here = s.label.reduce((a, v) => a + v, 0);
      assert.ok(here > 0.02 * size * size, `${s.id} has ${here} vessel pixels`);
      fg += here;
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        if (at(s.label, y, x) && at(s.label, y - 1, x) && at(s.label, y + 1, x) && at(s.label, y, x - 1) && at(s.label, y, x + 1)) interior++;
      }
    }
    const st = data.stats;
    assert.equal(st.foregroundShare, fg / (slices.length * size * size));
    assert.ok(st.foregroundShare >= 0.05 && st.foregroundShare <= 0.12, `foreground share ${st.foregroundShare}`);
    assert.equal(st.emptySliceShare, 0);
    assert.equal(st.interiorShare, interior / fg);
    assert.ok(st.interiorShare < 0.3, `interior share ${st.interiorShare}`);
    // Width histogram: centre-line length per width bin, from the segments.
    const widths = [0, 0, 0, 0];
    for (const [split, count] of [['train', 48], ['val', 16]] as const) {
      for (let i = 0; i < count; i++) {
        const seg = vesselCentreLines({ seed: 0 }, split, i);
        for (let k = 0; k < seg.length; k += 6) {
          const w = (seg[k + 4]! + seg[k + 5]!) / 2;
          widths[Math.min(3, Math.floor((w - 1) / 0.5))]! += Math.hypot(seg[k + 2]! - seg[k]!, seg[k + 3]! - seg[k + 1]!);
        }
      }
    }
    const total = widths.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(st.centreLineLength - total) < 1e-6 * total);
    st.widthHistogram.forEach((b, j) => {
      assert.deepEqual([b.min, b.max], [1 + 0.5 * j, 1.5 + 0.5 * j]);
      assert.ok(Math.abs(b.length - widths[j]!) < 1e-6 * total, `bin ${j}: ${b.length} vs ${widths[j]}`);
    });
    assert.ok(st.widthHistogram[0]!.share > st.widthHistogram[3]!.share, 'thin vessels dominate');
    assert.ok(st.widthHistogram.every((b) => b.length > 0), 'every width occurs');
    const notes = data.notes.join('\n');
    assert.match(notes, /mean foreground fraction \d+\.\d+ %; images without vessels 0\.00 %/);
    assert.match(notes, /centre-line length by vessel width: 1–1\.5 px \d+\.\d+ %, 1\.5–2 px/);
  });

  test('deterministic: same seed gives identical arrays, another seed differs; labels pinned across machines', () => {
    const a = syntheticVessels({ seed: 2, trainSlices: 2, valSlices: 1, size: 64, modalities: 2 });
    const b = syntheticVessels({ seed: 2, trainSlices: 2, valSlices: 1, size: 64, modalities: 2 });
    [...a.train, ...a.val].forEach((s, i) => {
      const t = [...b.train, ...b.val][i]!;
      assert.deepEqual(t.image, s.image);
      assert.deepEqual(t.label, s.label);
      assert.ok(s.image.every((v) => v >= 0 && v <= 1));
    });
    assert.equal(a.train[0]!.image.length, 2 * 64 * 64);
    const other = syntheticVessels({ seed: 3, trainSlices: 2, valSlices: 1, size: 64 });
    assert.notDeepEqual(other.train[0]!.label, a.train[0]!.label);
    // The first image of the defaults: the same labels on every machine (re-pin when the tree generator changes on purpose).
    assert.equal(crc32(data.train[0]!.label).toString(16), PINNED_CRC);
  });

  test('bad options are refused, naming the option', () => {
    const refuses = (options: object, argument: string, pattern: RegExp) =>
      assert.throws(() => syntheticVessels(options as never), (e: unknown) => e instanceof InputError && e.argument === argument && pattern.test(e.message));
    refuses({ modalities: 0 }, 'options.modalities', /got 0/);
    refuses({ size: 2000 }, 'options.size', /\[16, 1024\]/);
    refuses({ trainSlices: -3 }, 'options.trainSlices', /got -3/);
    refuses({ seed: 0.5 }, 'options.seed', /got 0.5/);
    refuses({ slicesPerVolume: 4 }, 'options.slicesPerVolume', /unknown option/);
    assert.throws(() => vesselCentreLines({}, 'val', 16), (e: unknown) => e instanceof InputError && e.argument === 'index');
  });
});

/** CRC-32 of the labels of the defaults' first training image. */
const PINNED_CRC = '867bde42';
