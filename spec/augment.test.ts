/**
 * Data augmentation (`data/augment.ts`): each transform against hand-computed results on tiny
 * arrays, `augmentSlice` pure and seeded (property test), augmented batches with the distance maps
 * of the augmented labels, the training loop (deterministic per seed, bit-identical without
 * augmentation, resumable, keys from the seed, epoch and slice; validation never augmented), and
 * `--augment` on the command line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import '../backends/register.js';
import * as core from '../core/index.js';
import { foldIn, key, type RandomKey } from '../core/random.js';
import {
  AUGMENT_NAMES, affineSlice, augmentSlice, checkAugmentList, flipSlice, gammaSlice, intensitySlice, isGeometric, noiseSlice, rot90Slice,
  type AugmentName, type AugmentedSlice, type BatchAugment, type SliceShape,
} from '../data/augment.js';
import { makeBatch } from '../data/batches.js';
import { DistanceMapCache } from '../data/distance-cache.js';
import type { Dataset, Slice } from '../data/types.js';
import { signedDistanceMaps } from '../losses/signed-distance.js';
import { configDifferences, loadCheckpoint, train, trainDefaults, TrainConfigCodec, type TrainConfig, type TrainingData } from '../models/index.js';
import { trainingData } from '../models/data-source.js';
import { cli } from './helpers/cli.js';
import { fcParams } from './helpers/numeric.js';
import { paramBytes, standIn } from './helpers/stand-in.js';

const f32 = (v: readonly number[]) => Float32Array.from(v);
const u8 = (v: readonly number[]) => Uint8Array.from(v);
const one = (h: number, w: number): SliceShape => ({ channels: 1, height: h, width: w });

describe('the transforms, with explicit parameters', () => {
  // [[1, 2, 3], [4, 5, 6]]
  const image23 = f32([1, 2, 3, 4, 5, 6]);
  const label23 = u8([0, 1, 2, 0, 0, 1]);

  test('flipSlice: a 2×3 slice mirrored left–right, top–bottom and both; two channels move together', () => {
    const h = flipSlice(image23, label23, one(2, 3), { horizontal: true, vertical: false });
    assert.deepEqual([...h.image], [3, 2, 1, 6, 5, 4]);
    assert.deepEqual([...h.label], [2, 1, 0, 1, 0, 0]);
    const v = flipSlice(image23, label23, one(2, 3), { horizontal: false, vertical: true });
    assert.deepEqual([...v.image], [4, 5, 6, 1, 2, 3]);
    assert.deepEqual([...v.label], [0, 0, 1, 0, 1, 2]);
    const both = flipSlice(image23, label23, one(2, 3), { horizontal: true, vertical: true });
    assert.deepEqual([...both.image], [6, 5, 4, 3, 2, 1]);
    const none = flipSlice(image23, label23, one(2, 3), { horizontal: false, vertical: false });
    assert.deepEqual([...none.image], [...image23]);
    assert.notEqual(none.image, image23, 'new arrays');
    const two = flipSlice(f32([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]), label23, { channels: 2, height: 2, width: 3 }, { horizontal: true, vertical: false });
    assert.deepEqual([...two.image], [3, 2, 1, 6, 5, 4, 30, 20, 10, 60, 50, 40]);
    assert.deepEqual([...image23], [1, 2, 3, 4, 5, 6], 'input unchanged');
    assert.throws(() => flipSlice(image23, label23, one(2, 3), { horizontal: 1 as unknown as boolean, vertical: false }), /flips\.horizontal: expected a boolean/);
    assert.throws(() => flipSlice(image23, label23, one(2, 3), { horizontal: true, vertical: false, diagonal: true } as never), /unknown option 'diagonal'/);
  });

  test('rot90Slice: 3×3 quarter turns as numpy rot90; odd k refused on a non-square slice', () => {
    const img = f32([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const lab = u8([1, 0, 0, 0, 0, 0, 0, 0, 2]);
    const r1 = rot90Slice(img, lab, one(3, 3), 1);
    assert.deepEqual([...r1.image], [3, 6, 9, 2, 5, 8, 1, 4, 7]);
    assert.deepEqual([...r1.label], [0, 0, 2, 0, 0, 0, 1, 0, 0]);
    assert.deepEqual([...rot90Slice(img, lab, one(3, 3), 2).image], [9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert.deepEqual([...rot90Slice(img, lab, one(3, 3), 3).image], [7, 4, 1, 8, 5, 2, 9, 6, 3]);
    assert.deepEqual([...rot90Slice(img, lab, one(3, 3), 0).image], [...img]);
    let s: AugmentedSlice = { image: img, label: lab };
    for (let i = 0; i < 4; i++) s = rot90Slice(s.image, s.label, one(3, 3), 1);
    assert.deepEqual([...s.image], [...img], 'four quarter turns are the identity');
    assert.deepEqual([...rot90Slice(image23, label23, one(2, 3), 2).image], [6, 5, 4, 3, 2, 1], 'a half turn of a 2×3 slice');
    assert.throws(() => rot90Slice(image23, label23, one(2, 3), 1), (e: Error) => e instanceof core.ShapeError && /2×3 slice would make it 3×2/.test(e.message));
    assert.throws(() => rot90Slice(img, lab, one(3, 3), 4), (e: Error) => e instanceof core.InputError && /k: expected an integer in 0 … 3/.test(e.message));
  });

  test('affineSlice: angle 0 and scale 1 is the identity, exactly; 90° is rot90 k = 1; outside is 0', () => {
    const rng = (i: number) => ((i * 2654435761) >>> 0) / 2 ** 32;
    const shape: SliceShape = { channels: 2, height: 5, width: 4 };
    const img = Float32Array.from({ length: 40 }, (_, i) => rng(i));
    const lab = Uint8Array.from({ length: 20 }, (_, i) => i % 3);
    const id = affineSlice(img, lab, shape, { angle: 0, scale: 1 });
    assert.deepEqual(id.image, img);
    assert.deepEqual(id.label, lab);
    assert.notEqual(id.image, img);

    const sq = Float32Array.from({ length: 16 }, (_, i) => rng(i + 7));
    const sqLab = Uint8Array.from({ length: 16 }, (_, i) => (i * 5) % 3);
    const turned = affineSlice(sq, sqLab, one(4, 4), { angle: 90, scale: 1 });
    const r1 = rot90Slice(sq, sqLab, one(4, 4), 1);
    assert.deepEqual(turned.label, r1.label, 'labels: nearest pixel of a quarter turn');
    turned.image.forEach((v, i) => assert.ok(Math.abs(v - r1.image[i]!) < 1e-6, `pixel ${i}: ${v} vs ${r1.image[i]}`));

    // a 3×3 slice of ones shrunk by half: every pixel but the centre samples outside the slice
    const shrunk = affineSlice(new Float32Array(9).fill(1), new Uint8Array(9).fill(1), one(3, 3), { angle: 0, scale: 0.5 });
    assert.deepEqual([...shrunk.image], [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert.deepEqual([...shrunk.label], [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    // enlarged by 2 about the centre of a 1×3 row [0, 1, 2]: x = 0 samples x = 0.5 (bilinear 0.5), the label rounds up to 1
    const grown = affineSlice(f32([0, 1, 2]), u8([0, 1, 2]), one(1, 3), { angle: 0, scale: 2 });
    assert.deepEqual([...grown.image], [0.5, 1, 1.5]);
    assert.deepEqual([...grown.label], [1, 1, 2]);
    assert.throws(() => affineSlice(img, lab, shape, { angle: 0, scale: 0 }), /transform\.scale: expected a positive finite scale, got 0/);
    assert.throws(() => affineSlice(img, lab, shape, { angle: NaN, scale: 1 }), /transform\.angle/);
  });

  test('affineSlice: nearest labels only take values of the input (and 0 outside)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.double({ min: -15, max: 15, noNaN: true }), fc.double({ min: 0.85, max: 1.15, noNaN: true }), fc.integer({ min: 0, max: 1000 }),
      (h, w, angle, scale, seed) => {
        const lab = Uint8Array.from({ length: h * w }, (_, i) => [3, 5, 7][(i * 7 + seed) % 3]!);
        const out = affineSlice(new Float32Array(h * w), lab, one(h, w), { angle, scale }).label;
        const allowed = new Set([0, ...lab]);
        assert.ok([...out].every((v) => allowed.has(v)), `labels ${[...new Set(out)]} of ${[...allowed]}`);
      },
    ), fcParams(60));
  });

  test('intensitySlice: per-channel a·v + b; the label is unchanged and shapes are kept', () => {
    const out = intensitySlice(f32([0, 0.5, 1, 0, 0.5, 1]), u8([1, 0, 1]), { channels: 2, height: 1, width: 3 }, { scale: [1.1, 0.9], shift: [-0.1, 0.05] });
    const expected = [-0.1, 0.45, 1.0, 0.05, 0.5, 0.95];
    assert.equal(out.image.length, 6);
    out.image.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `${i}: ${v}`));
    assert.deepEqual([...out.label], [1, 0, 1]);
    assert.throws(() => intensitySlice(f32([0, 1]), u8([0, 1]), one(1, 2), { scale: [1, 1], shift: [0] }), /params\.scale: expected 1 value\(s\), one per channel, got 2/);
  });

  test('gammaSlice: γ = 1 is the identity; γ = 2 on the channel\'s own [min, max]; constant channels unchanged', () => {
    const img = f32([0.2, 0.6, 1.0, 0.3, 0.3, 0.3]);
    const shape: SliceShape = { channels: 2, height: 1, width: 3 };
    const id = gammaSlice(img, u8([0, 1, 0]), shape, { gamma: [1, 1] });
    assert.deepEqual(id.image, img);
    const sq = gammaSlice(img, u8([0, 1, 0]), shape, { gamma: [2, 0.5] });
    // 0.2 + 0.8·((0.6 − 0.2)/0.8)² = 0.4; min and max stay; the constant channel is left alone
    [0.2, 0.4, 1.0].forEach((v, i) => assert.ok(Math.abs(sq.image[i]! - v) < 1e-6, `${i}: ${sq.image[i]}`));
    assert.deepEqual([...sq.image.subarray(3)], [...img.subarray(3)]);
    assert.deepEqual([...sq.label], [0, 1, 0]);
    assert.throws(() => gammaSlice(img, u8([0, 1, 0]), shape, { gamma: [1, -1] }), /params\.gamma\[1\]: expected a positive finite exponent/);
  });

  test('noiseSlice: σ = 0 is the identity, the noise is the key\'s, the label is unchanged', () => {
    const img = f32([0.1, 0.2, 0.3, 0.4]);
    const lab = u8([0, 1, 1, 0]);
    assert.deepEqual(noiseSlice(img, lab, one(2, 2), { sigma: 0, key: key(1) }).image, img);
    const a = noiseSlice(img, lab, one(2, 2), { sigma: 0.05, key: key(1) });
    const z = core.normalArray(key(1), 4);
    a.image.forEach((v, i) => assert.ok(Math.abs(v - (img[i]! + 0.05 * z[i]!)) < 1e-7));
    assert.notDeepEqual(a.image, img);
    assert.deepEqual(a.image, noiseSlice(img, lab, one(2, 2), { sigma: 0.05, key: key(1) }).image, 'same key, same noise');
    assert.deepEqual(a.label, lab);
    assert.throws(() => noiseSlice(img, lab, one(2, 2), { sigma: -1, key: key(1) }), /params\.sigma/);
  });

  test('shape and type errors name the argument', () => {
    assert.throws(() => flipSlice(f32([1, 2, 3]), label23, one(2, 3), { horizontal: true, vertical: true }), (e: Error) => e instanceof core.ShapeError && /image: 3 values do not fill \[1, 2, 3\]/.test(e.message));
    assert.throws(() => rot90Slice(image23, u8([0]), one(2, 3), 0), /label: 1 values do not fill \[2, 3\]/);
    assert.throws(() => augmentSlice(image23, label23, { channels: 0, height: 2, width: 3 }, [], key(0)), /shape\.channels: expected a positive integer, got 0/);
    assert.throws(() => augmentSlice(Array.from(image23) as unknown as Float32Array, label23, one(2, 3), [], key(0)), /image: expected a Float32Array, got Array/);
    assert.throws(() => augmentSlice(image23, label23, one(2, 3), ['flip'], 7 as unknown as RandomKey), /augmentSlice: key: expected a random key/);
  });
});

describe('checkAugmentList and isGeometric', () => {
  test('valid names come back in the order of application; unknown and repeated names are refused by name', () => {
    assert.deepEqual(checkAugmentList(['noise', 'flip', 'affine'], 'op', 'list'), ['flip', 'affine', 'noise']);
    assert.deepEqual(checkAugmentList([], 'op', 'list'), []);
    assert.throws(() => checkAugmentList(['flip', 'flop'], 'train', 'config.augment'),
      (e: Error) => e instanceof core.InputError && e.message === "train: config.augment[1]: unknown augmentation 'flop' (did you mean 'flip'?); expected some of flip, rot90, affine, intensity, gamma, noise");
    assert.throws(() => checkAugmentList(['gamma', 'gamma'], 'op', 'list'), /list\[1\]: 'gamma' is listed twice/);
    assert.throws(() => checkAugmentList('flip', 'op', 'list'), /list: expected an array of augmentation names/);
    assert.equal(isGeometric(['intensity', 'gamma', 'noise']), false);
    assert.equal(isGeometric([]), false);
    for (const g of ['flip', 'rot90', 'affine'] as const) assert.equal(isGeometric(['noise', g]), true);
  });
});

describe('augmentSlice', () => {
  const slice = (h: number, w: number, c = 1) => ({
    image: Float32Array.from({ length: c * h * w }, (_, i) => ((i * 37) % 101) / 100),
    label: Uint8Array.from({ length: h * w }, (_, i) => (i % 5 === 0 ? 2 : i % 3 === 0 ? 1 : 0)),
    shape: { channels: c, height: h, width: w },
  });

  test('pure and seeded: inputs unchanged, same key → same output, labels within the input\'s classes, shapes kept', () => {
    const names = fc.subarray([...AUGMENT_NAMES]);
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), names, fc.nat(1 << 30), fc.nat(255),
      (c, h, w, list, seed, labelSeed) => {
        const image = Float32Array.from({ length: c * h * w }, (_, i) => ((i * 53 + labelSeed) % 97) / 96);
        const label = Uint8Array.from({ length: h * w }, (_, i) => ((i * 31 + labelSeed) % 7 < 2 ? 1 : (i + labelSeed) % 11 === 0 ? 2 : 0));
        const [image0, label0] = [Float32Array.from(image), Uint8Array.from(label)];
        const shape = { channels: c, height: h, width: w };
        const a = augmentSlice(image, label, shape, list as AugmentName[], key(seed));
        const b = augmentSlice(image, label, shape, list as AugmentName[], key(seed));
        assert.deepEqual(image, image0, 'image unchanged');
        assert.deepEqual(label, label0, 'label unchanged');
        assert.deepEqual(a, b, 'same key, same output');
        assert.ok(a.image !== image && a.label !== label, 'new arrays');
        assert.equal(a.image.length, c * h * w);
        assert.equal(a.label.length, h * w);
        const classes = new Set([0, ...label]);
        assert.ok([...a.label].every((v) => classes.has(v)), 'labels within the input\'s classes');
        if (!isGeometric(list as AugmentName[])) assert.deepEqual(a.label, label, 'intensity transforms keep the label');
        if (list.length === 0) assert.deepEqual(a.image, image, 'no transform: the input');
      },
    ), fcParams(150));
  });

  test('different keys give different slices; the order of the names does not matter', () => {
    const { image, label, shape } = slice(8, 8, 2);
    const all = [...AUGMENT_NAMES];
    const outs = Array.from({ length: 6 }, (_, s) => augmentSlice(image, label, shape, all, key(s)));
    for (let i = 1; i < outs.length; i++) assert.notDeepEqual(outs[i]!.image, outs[0]!.image, `key ${i} vs key 0`);
    assert.deepEqual(augmentSlice(image, label, shape, ['noise', 'gamma', 'flip'], key(3)), augmentSlice(image, label, shape, ['flip', 'gamma', 'noise'], key(3)));
    // a transform's draws do not depend on the others listed: flip alone flips as flip with noise does
    const flipOnly = augmentSlice(image, label, shape, ['flip'], key(5));
    assert.deepEqual(augmentSlice(image, label, shape, ['flip', 'noise'], key(5)).label, flipOnly.label);
  });

  test('probabilities: each flip about half the time; rot90 k uniform in 0 … 3, on non-square slices 0 or 2 only', () => {
    const { image, label, shape } = slice(4, 4);
    const n = 400;
    let horizontal = 0;
    let vertical = 0;
    const turns = [0, 0, 0, 0];
    for (let s = 0; s < n; s++) {
      const f = augmentSlice(image, label, shape, ['flip'], key(s)).image;
      const [h, v] = [flipSlice(image, label, shape, { horizontal: true, vertical: false }).image, flipSlice(image, label, shape, { horizontal: false, vertical: true }).image];
      const both = flipSlice(image, label, shape, { horizontal: true, vertical: true }).image;
      if (String(f) === String(h) || String(f) === String(both)) horizontal++;
      if (String(f) === String(v) || String(f) === String(both)) vertical++;
      const r = augmentSlice(image, label, shape, ['rot90'], key(s)).image;
      turns[[0, 1, 2, 3].find((k) => String(rot90Slice(image, label, shape, k).image) === String(r))!]++;
    }
    for (const [what, count] of [['horizontal', horizontal], ['vertical', vertical]] as const) assert.ok(count > 0.4 * n && count < 0.6 * n, `${what} flips: ${count} of ${n}`);
    turns.forEach((c, k) => assert.ok(c > 0.18 * n && c < 0.32 * n, `k = ${k}: ${c} of ${n}`));

    const rect = slice(2, 3);
    const half = rot90Slice(rect.image, rect.label, rect.shape, 2).image;
    let halfTurns = 0;
    for (let s = 0; s < 100; s++) {
      const r = augmentSlice(rect.image, rect.label, rect.shape, ['rot90'], key(s)).image;
      if (String(r) === String(half)) halfTurns++;
      else assert.deepEqual(r, rect.image, 'a non-square slice turns by 0 or 180° only');
    }
    assert.ok(halfTurns > 30 && halfTurns < 70, `half turns: ${halfTurns} of 100`);
  });

  test('affine, intensity, gamma and noise each fire about half the time', () => {
    const { image, label, shape } = slice(6, 6);
    for (const name of ['affine', 'intensity', 'gamma', 'noise'] as const) {
      let fired = 0;
      for (let s = 0; s < 200; s++) if (String(augmentSlice(image, label, shape, [name], key(s)).image) !== String(image)) fired++;
      assert.ok(fired > 70 && fired < 130, `${name}: ${fired} of 200`);
    }
  });
});

/** A tiny dataset of 16×16 disks (every fourth slice empty), as `data/` loaders give it. */
function disks(trainSize: number, valSize: number): Dataset {
  const make = (count: number, split: string): Slice[] => Array.from({ length: count }, (_, i) => {
    const u = core.uniformArray(foldIn(key(11), (split === 'train' ? 0 : 1000) + i), 3 + 256);
    const [cy, cx, r] = [4 + u[0]! * 8, 4 + u[1]! * 8, 2 + u[2]! * 2];
    const label = new Uint8Array(256);
    const image = new Float32Array(256);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const k = y * 16 + x;
      label[k] = i % 4 !== 3 && (y - cy) ** 2 + (x - cx) ** 2 <= r * r ? 1 : 0;
      image[k] = 0.2 + 0.6 * label[k]! + 0.2 * u[3 + k]!;
    }
    return { id: `${split}${i}`, image, label, channels: 1, height: 16, width: 16, spacing: [1, 1] };
  });
  return { name: 'disks', classes: 2, channels: 1, height: 16, width: 16, train: make(trainSize, 'train'), val: make(valSize, 'val'), notes: [] };
}

describe('augmented batches', () => {
  before(async () => core.setBackend('cpu'));
  const ds = disks(6, 2);

  test('the target, labels and distance maps are those of the augmented labels; the cache keeps the slices\' own maps', async () => {
    const cache = new DistanceMapCache(2, { convention: 'interface' });
    const indices = [3, 0, 5, 1];
    let changed = 0;
    for (let trial = 0; trial < 3; trial++) {
      const augment: BatchAugment = { names: ['flip', 'affine', 'noise'], keys: indices.map((i) => foldIn(key(trial), i)) };
      const b = makeBatch(ds.train, indices, 2, cache, augment);
      const [images, target, maps] = await Promise.all([b.images.data(), b.target.data(), b.distMaps.data()]);
      core.dispose([b.images, b.target, b.distMaps]);
      indices.forEach((i, n) => {
        const s = ds.train[i]!;
        const aug = augmentSlice(s.image, s.label, s, augment.names, augment.keys[n]!);
        const plane = 256;
        assert.deepEqual(images.subarray(n * plane, (n + 1) * plane), aug.image);
        assert.deepEqual(b.labels.subarray(n * plane, (n + 1) * plane), aug.label);
        for (let p = 0; p < plane; p++) assert.equal(target[(n * 2 + aug.label[p]!) * plane + p], 1);
        assert.deepEqual(maps.subarray(n * 2 * plane, (n + 1) * 2 * plane), signedDistanceMaps({ data: aug.label, shape: [16, 16] }, { classes: 2, spacing: [1, 1], convention: 'interface' }).data);
        if (String(aug.label) !== String(s.label)) changed++;
      });
    }
    assert.ok(changed > 0, 'some labels were moved');
    for (const s of ds.train) assert.deepEqual(cache.get(s), signedDistanceMaps({ data: s.label, shape: [16, 16] }, { classes: 2, spacing: [1, 1], convention: 'interface' }).data, `cached maps of ${s.id} are its own`);
  });

  test('intensity transforms only: labels unchanged, maps from the cache (computed once per slice)', async () => {
    const cache = new DistanceMapCache(2);
    const indices = [0, 1, 2];
    const first = makeBatch(ds.train, indices, 2, cache, { names: ['intensity', 'gamma', 'noise'], keys: indices.map((i) => key(i)) });
    const again = makeBatch(ds.train, indices, 2, cache, { names: ['intensity', 'gamma', 'noise'], keys: indices.map((i) => key(i + 9)) });
    assert.equal(cache.computed, 3, 'each slice\'s maps once');
    assert.deepEqual(first.labels, Uint8Array.from(indices.flatMap((i) => [...ds.train[i]!.label])));
    assert.deepEqual(await first.distMaps.data(), await again.distMaps.data());
    assert.notDeepEqual(await first.images.data(), await again.images.data(), 'other keys, other images');
    core.dispose([first.images, first.target, first.distMaps, again.images, again.target, again.distMaps]);
  });

  test('makeBatch refuses a key count that differs from the indices, unknown names, and geometric transforms of non-square physical pixels', () => {
    const cache = new DistanceMapCache(2);
    assert.throws(() => makeBatch(ds.train, [0, 1], 2, cache, { names: ['flip'], keys: [key(0)] }), /augment\.keys: expected one key per index \(2\), got 1/);
    assert.throws(() => makeBatch(ds.train, [0], 2, cache, { names: ['twirl' as AugmentName], keys: [key(0)] }), /augment\.names\[0\]: unknown augmentation 'twirl'/);
    const physical = new DistanceMapCache(2, { spacing: 'physical' });
    const thick: Slice = { ...ds.train[0]!, spacing: [1, 3] };
    assert.throws(() => makeBatch([thick], [0], 2, physical, { names: ['rot90'], keys: [key(0)] }), /pixels of 1×3 mm: the geometric transforms \(rot90\)/);
    const b = makeBatch([thick], [0], 2, physical, { names: ['noise'], keys: [key(0)] });
    core.dispose([b.images, b.target, b.distMaps]);
  });
});

describe('training with augmentation', () => {
  before(async () => core.setBackend('cpu'));
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'bseg-augment-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const ds = disks(8, 4);
  const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
    ...trainDefaults,
    model: { inChannels: 1, classes: 2, base: 4, depth: 2, batchNorm: false },
    epochs: 3, batchSize: 4, learningRate: 1e-2, schedule: { name: 'rebalance', floorAtEpoch: 2 },
    ...over,
  });
  const AUG: readonly AugmentName[] = ['flip', 'rot90', 'affine', 'intensity', 'gamma', 'noise'];
  const csv = (d: string) => readFileSync(join(d, 'metrics.csv'), 'utf8');

  test('one seed gives identical rows and parameters; without augmentation (absent or empty) the run is unchanged, with it it differs', async () => {
    const [d1, d2, d3, d4] = [tempDir(), tempDir(), tempDir(), tempDir()];
    const a = await train(config({ augment: AUG }), trainingData(ds), { dir: d1 });
    const b = await train(config({ augment: AUG }), trainingData(ds), { dir: d2 });
    assert.equal(csv(d1), csv(d2), 'same seed: same metrics.csv');
    assert.deepEqual(a.rows, b.rows);
    assert.deepEqual(await paramBytes(a.params), await paramBytes(b.params));
    const plain = await train(config(), trainingData(ds), { dir: d3 });
    const empty = await train(config({ augment: [] }), trainingData(ds), { dir: d4 });
    assert.equal(csv(d3), csv(d4), 'augment [] is no augmentation');
    assert.deepEqual(await paramBytes(plain.params), await paramBytes(empty.params));
    assert.notDeepEqual(await paramBytes(plain.params), await paramBytes(a.params), 'augmentation changes the run');
    assert.deepEqual(plain.rows.map((r) => r.valDice), empty.rows.map((r) => r.valDice));
    core.dispose([a, b, plain, empty]);
  });

  test('a run interrupted after epoch 1 and resumed ends bit-identical to an uninterrupted one', async () => {
    const cfg = config({ augment: ['affine', 'flip', 'noise'] });
    const [full, part] = [tempDir(), tempDir()];
    const whole = await train(cfg, trainingData(ds), { dir: full });
    core.dispose(await train(cfg, trainingData(ds), { dir: part, onEpoch: () => 'stop' }));
    const ckpt = await loadCheckpoint(join(part, 'last.ckpt'));
    assert.deepEqual(ckpt.resume!.config.augment, ['affine', 'flip', 'noise'], 'the checkpoint carries the augmentation');
    const resumed = await train(cfg, trainingData(ds), { dir: part, resume: ckpt });
    assert.deepEqual(await paramBytes(resumed.params), await paramBytes(whole.params));
    for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) assert.ok(readFileSync(join(part, f)).equals(readFileSync(join(full, f))), `${f} identical`);
    await assert.rejects(train(config({ augment: ['flip'] }), trainingData(ds), { resume: await loadCheckpoint(join(part, 'last.ckpt')) }),
      (e: Error) => e instanceof core.InputError && /another augment/.test(e.message));
    core.dispose([whole, resumed]);
  });

  test('training slice i of epoch e gets the key foldIn(foldIn(foldIn(key(seed), 3), e), i); validation batches are never augmented', async () => {
    const td = trainingData(ds);
    const calls: { split: 'train' | 'val'; indices: number[]; augment?: BatchAugment; epoch: number }[] = [];
    let epoch = 0;
    const spy: TrainingData = { ...td, batch: (split, indices, augment) => {
      calls.push({ split, indices: [...indices], ...(augment ? { augment } : {}), epoch });
      return td.batch(split, indices, augment);
    } };
    const seed = 5;
    const r = await train(config({ seed, epochs: 2, augment: ['gamma', 'flip'] }), spy, { onEpoch: () => void epoch++ });
    const root = foldIn(key(seed), 3);
    const train_ = calls.filter((c) => c.split === 'train');
    assert.equal(train_.length, 1 + 2 * 2, 'the first batch checked, then 2 steps × 2 epochs');
    for (const c of train_) {
      assert.deepEqual(c.augment?.names, ['flip', 'gamma']);
      assert.deepEqual(c.augment?.keys, c.indices.map((i) => foldIn(foldIn(root, c.epoch), i)));
    }
    assert.ok(calls.filter((c) => c.split === 'val').every((c) => c.augment === undefined), 'validation unaugmented');
    core.dispose(r);
  });

  test('config.augment is checked: unknown names, repeated names, data that cannot augment', async () => {
    await assert.rejects(train(config({ augment: ['flip', 'blur' as AugmentName] }), trainingData(ds)), /train: config\.augment\[1\]: unknown augmentation 'blur'/);
    await assert.rejects(train(config({ augment: ['noise', 'noise'] }), trainingData(ds)), /'noise' is listed twice/);
    await assert.rejects(train(config({ augment: ['flip'] }), standIn(8, 4)), (e: Error) => e instanceof core.InputError && /config\.augment: .*cannot augment.*canAugment: true/.test(e.message));
    const r = await train(config({ epochs: 1, augment: [] }), standIn(8, 4));
    core.dispose(r);
  });

  test('the codec carries augment; configDifferences sees a change, not absent vs empty nor the order', () => {
    const cfg = config({ augment: ['noise', 'flip'] });
    const decoded = TrainConfigCodec.decode(JSON.parse(JSON.stringify(cfg)));
    assert.ok(E.isRight(decoded) && decoded.right.augment?.join() === 'noise,flip');
    assert.ok(E.isLeft(TrainConfigCodec.decode({ ...cfg, augment: ['warp'] })), 'unknown name refused');
    assert.ok(E.isRight(TrainConfigCodec.decode(config())), 'a config without augment (written before it existed) decodes');
    assert.deepEqual(configDifferences(cfg, config({ augment: ['flip'] })), ['augment']);
    assert.deepEqual(configDifferences(config(), config({ augment: [] })), []);
    assert.deepEqual(configDifferences(cfg, config({ augment: ['flip', 'noise'] })), []);
  });
});

describe('--augment on the command line', () => {
  before(async () => core.setBackend('cpu'));
  const root = mkdtempSync(join(tmpdir(), 'bseg-augment-cli-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const TINY = ['--synthetic', '--size', '16', '--train-slices', '4', '--val-slices', '2', '--base', '2', '--depth', '1', '--batch-size', '2', '--epochs', '1', '--overlays', '0'];

  test('train --augment flip,affine records it in run.json (flags and config) and says so', async () => {
    const out = join(root, 'run');
    const r = await cli(['train', ...TINY, '--augment', 'flip,affine', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\(rebalance\); augment flip, affine; backend/);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { flags: { augment?: string[] }; config: TrainConfig };
    assert.deepEqual(run.flags.augment, ['flip', 'affine']);
    assert.deepEqual(run.config.augment, ['flip', 'affine']);
    const none = join(root, 'none');
    assert.equal((await cli(['train', ...TINY, '--quiet', '--augment', 'none', '--out', none])).code, 0);
    assert.equal((JSON.parse(readFileSync(join(none, 'run.json'), 'utf8')) as { config: TrainConfig }).config.augment, undefined, '--augment none: no augmentation');
  });

  test('a bad name, none with a transform, or a repeated name is a usage error naming it (exit 2)', async () => {
    for (const [value, message] of [
      ['flip,flop', /--augment: expected one of none, flip, rot90, affine, intensity, gamma, noise, got "flop"/],
      ['none,noise', /--augment none,noise: 'none' turns augmentation off/],
      ['gamma,gamma', /--augment gamma,gamma: 'gamma' is listed twice/],
    ] as const) {
      const r = await cli(['train', ...TINY, '--quiet', '--augment', value, '--out', join(root, 'bad')]);
      assert.equal(r.code, 2, `${value}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
