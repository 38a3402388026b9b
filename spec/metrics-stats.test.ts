/**
 * Paired statistics: Wilcoxon's signed-rank test against scipy.stats.wilcoxon (the example of its
 * documentation, exact and normal with and without continuity correction; tied and zero
 * differences) and against the brute-force null distribution over every sign pattern; erfc
 * against reference values; the paired bootstrap against its definition (the documented key
 * scheme), its determinism, empty cases and the normal-theory interval on a large sample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { foldIn, key, randomBits } from '../core/random.js';
import { BOOTSTRAP_DEFAULTS, erfc, normalCdf, pairedBootstrap, percentile, wilcoxonSignedRank } from '../metrics/index.js';

const close = (a: number, b: number, rel = 1e-12, what = '') => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what} ${a} vs ${b}`);

/** scipy.stats.wilcoxon's documentation example (differences of paired heights). */
const SCIPY_EXAMPLE = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75];

describe('wilcoxonSignedRank', () => {
  test('scipy\'s documented example: statistic 24, exact two-sided p = 0.041259765625', () => {
    const r = wilcoxonSignedRank(SCIPY_EXAMPLE);
    assert.equal(r.statistic, 24);
    assert.equal(r.wMinus, 24, 'ranks of −48 and −67: 10 + 14');
    assert.equal(r.wPlus, 15 * 16 / 2 - 24);
    assert.equal(r.p, 0.041259765625);
    assert.equal(r.method, 'exact');
    assert.equal(r.n, 15);
    assert.equal(r.ties, false);
  });

  test('normal approximation as scipy computes it (method approx, correction False / True)', () => {
    // scipy.stats.wilcoxon(d, method='approx') and (…, correction=True)
    close(wilcoxonSignedRank(SCIPY_EXAMPLE, { method: 'normal', correction: false }).p, 0.04088813291185591, 1e-12, 'no correction');
    close(wilcoxonSignedRank(SCIPY_EXAMPLE, { method: 'normal' }).p, 0.043772323763041174, 1e-12, 'continuity correction');
    // by hand: z = (24 − 60 + 0.5)/√310
    close(wilcoxonSignedRank(SCIPY_EXAMPLE, { method: 'normal' }).p, 2 * normalCdf((24 - 60 + 0.5) / Math.sqrt(310)), 1e-15, 'the formula');
  });

  test('ties and zeros: zeros dropped, average ranks, tie-corrected variance (scipy values)', () => {
    const d = [1.5, -2, 2, 3, 0, -0.5, 4, 4, 1.5, 7, -8, 2, 3.25, 1, 1, 9, -1];
    const r = wilcoxonSignedRank(d);
    assert.equal(r.method, 'normal', 'ties: the normal approximation');
    assert.equal(r.zeros, 1);
    assert.equal(r.n, 16);
    assert.equal(r.ties, true);
    assert.equal(r.statistic, 27);
    // scipy.stats.wilcoxon(d, method='approx', correction=True) and correction=False
    close(r.p, 0.03593045135498508, 1e-12, 'corrected');
    close(wilcoxonSignedRank(d, { correction: false }).p, 0.03370265861956164, 1e-12, 'uncorrected');
    // the average ranks by hand: |d| = 0.5 → 1; the three 1s → 3; 1.5, 1.5 → 5.5; the three 2s → 8; …
    assert.equal(wilcoxonSignedRank([0.5, -1, 1, 1]).wMinus, 3, 'average rank of a tie group');
  });

  test('n > 25 uses the normal approximation (scipy value)', () => {
    const d = Array.from({ length: 30 }, (_, i) => ((i * 7) % 11) - 3.5 + i / 10);
    const r = wilcoxonSignedRank(d);
    assert.equal(r.method, 'normal');
    assert.equal(r.statistic, 54);
    close(r.p, 0.0002510715764699505, 1e-12, 'scipy approx, correction=True');
    assert.equal(wilcoxonSignedRank(d, { method: 'exact' }).method, 'exact', 'exact on request');
  });

  test('by hand: five positive differences give p = 2/32; a symmetric sample gives 1', () => {
    assert.equal(wilcoxonSignedRank([1, 2, 3, 4, 5]).p, 0.0625);
    assert.equal(wilcoxonSignedRank([1, 2, 3, 4, 5]).statistic, 0);
    // n = 3, W− = 1 (only −1 negative): patterns with W ≤ 1 are {} and {1}: p = 2·2/8
    assert.equal(wilcoxonSignedRank([-1, 2, 3]).p, 0.5);
    assert.equal(wilcoxonSignedRank([1, -2, -3, 4]).p, 1, 'W+ = W− = 5: p capped at 1');
  });

  test('exact p matches the null distribution counted over every sign pattern', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), (n, signs) => {
      const d = Array.from({ length: n }, (_, i) => (signs[i] ? 1 : -1) * (i + 1));
      const r = wilcoxonSignedRank(d);
      let below = 0;
      for (let mask = 0; mask < 2 ** n; mask++) {
        let w = 0;
        for (let i = 0; i < n; i++) if (mask & (1 << i)) w += i + 1;
        if (w <= r.statistic) below++;
      }
      assert.equal(r.p, Math.min(1, (2 * below) / 2 ** n));
    }), { seed: 42, numRuns: 100 });
  });

  test('NaN and zero differences are dropped; infinities rank last; n = 0 is NaN', () => {
    const r = wilcoxonSignedRank([NaN, 0, 3, -1, Infinity, 2]);
    assert.deepEqual([r.nan, r.zeros, r.n], [1, 1, 4]);
    assert.equal(r.wMinus, 1, '−1 has rank 1');
    assert.equal(r.wPlus, 2 + 3 + 4, 'Infinity has the top rank');
    const none = wilcoxonSignedRank([0, 0, NaN]);
    assert.ok(Number.isNaN(none.statistic) && Number.isNaN(none.p) && none.n === 0);
  });

  test('bad input is named', () => {
    const named = (f: () => unknown, argument: string, pattern = /./) => assert.throws(f, (e: Error) => e instanceof InputError && e.argument === argument && pattern.test(e.message), argument);
    named(() => wilcoxonSignedRank('1,2' as unknown as number[]), 'differences');
    named(() => wilcoxonSignedRank([1, '2'] as unknown as number[]), 'differences[1]');
    named(() => wilcoxonSignedRank([1, 1, 2], { method: 'exact' }), 'options.method', /ties/);
    named(() => wilcoxonSignedRank([1, 2], { method: 'fast' as 'exact' }), 'options.method');
    named(() => wilcoxonSignedRank([1, 2], { correction: 1 as unknown as boolean }), 'options.correction');
    named(() => wilcoxonSignedRank([1, 2], { corection: true } as never), 'options.corection', /did you mean 'correction'/);
  });
});

describe('erfc and normalCdf', () => {
  test('reference values (scipy.special.erfc; Φ(−1.96))', () => {
    const values: [number, number][] = [
      [0.1, 0.8875370839817152], [0.5, 0.4795001221869535], [1, 0.15729920705028516], [1.9, 0.007209570764742531],
      [2, 0.004677734981047266], [2.1, 0.0029794666563329845], [3, 2.2090496998585445e-05], [5, 1.5374597944280347e-12],
      [10, 2.0884875837625446e-45], [-1, 1.8427007929497148], [0, 1],
    ];
    for (const [x, y] of values) close(erfc(x), y, 1e-13, `erfc(${x})`);
    close(normalCdf(-1.96), 0.024997895148220435, 1e-13, 'Φ(−1.96)');
    assert.equal(normalCdf(0), 0.5);
  });
});

describe('pairedBootstrap', () => {
  const d = [0.1, 0.2, -0.05, 0.3, 0.12, 0, 0.08];

  test('equals its definition: resample s draws indices ⌊bits·n/2³²⌋ from foldIn(key(seed), s)', () => {
    const samples = 300;
    const r = pairedBootstrap(d, { samples, seed: 5, level: 0.9 });
    const means = Array.from({ length: samples }, (_, s) => {
      const bits = randomBits(foldIn(key(5), s), d.length);
      return [...bits].reduce((t, b) => t + d[Math.floor((b * d.length) / 2 ** 32)]!, 0) / d.length;
    });
    assert.equal(r.low, percentile(means, 5));
    assert.equal(r.high, percentile(means, 95));
    assert.equal(r.mean, d.reduce((a, b) => a + b, 0) / d.length);
    assert.deepEqual([r.n, r.dropped, r.samples, r.level], [7, 0, samples, 0.9]);
  });

  test('deterministic for a seed; another seed moves the bounds; a wider level contains a narrower one', () => {
    assert.deepEqual(pairedBootstrap(d), pairedBootstrap(d, { ...BOOTSTRAP_DEFAULTS }), 'defaults: 10 000 samples, 0.95, seed 0');
    assert.deepEqual(pairedBootstrap(d, { seed: 3 }), pairedBootstrap(d, { seed: 3 }));
    assert.notEqual(pairedBootstrap(d, { seed: 3 }).low, pairedBootstrap(d, { seed: 4 }).low);
    const wide = pairedBootstrap(d, { level: 0.99 });
    const narrow = pairedBootstrap(d, { level: 0.5 });
    assert.ok(wide.low <= narrow.low && narrow.low <= narrow.mean && narrow.mean <= narrow.high && narrow.high <= wide.high, JSON.stringify([wide, narrow]));
  });

  test('near the normal-theory interval on a large sample', () => {
    const u = randomBits(key(11), 400);
    const x = Array.from(u, (b) => b / 2 ** 32 - 0.3);
    const r = pairedBootstrap(x, { samples: 4000 });
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1));
    const half = (1.959964 * sd) / Math.sqrt(x.length);
    assert.ok(Math.abs(r.high - r.low - 2 * half) < 0.1 * 2 * half, `width ${r.high - r.low} vs ${2 * half}`);
    assert.ok(Math.abs((r.high + r.low) / 2 - mean) < 0.1 * half, 'centred on the mean');
  });

  test('NaN dropped and counted; constant differences; n < 2', () => {
    const r = pairedBootstrap([0.25, NaN, 0.25, 0.25, NaN]);
    assert.deepEqual([r.n, r.dropped, r.mean, r.low, r.high], [3, 2, 0.25, 0.25, 0.25]);
    const one = pairedBootstrap([0.4, NaN]);
    assert.equal(one.mean, 0.4);
    assert.ok(Number.isNaN(one.low) && Number.isNaN(one.high) && one.n === 1);
    const none = pairedBootstrap([]);
    assert.ok(Number.isNaN(none.mean) && none.n === 0);
  });

  test('bad input is named', () => {
    const named = (f: () => unknown, argument: string, pattern = /./) => assert.throws(f, (e: Error) => e instanceof InputError && e.op === 'pairedBootstrap' && e.argument === argument && pattern.test(e.message), argument);
    named(() => pairedBootstrap(null as unknown as number[]), 'differences');
    named(() => pairedBootstrap([1, Infinity]), 'differences[1]', /finite/);
    named(() => pairedBootstrap([1, null] as unknown as number[]), 'differences[1]');
    named(() => pairedBootstrap(d, { samples: 0 }), 'options.samples');
    named(() => pairedBootstrap(d, { samples: 2.5 }), 'options.samples');
    named(() => pairedBootstrap(d, { level: 1 }), 'options.level');
    named(() => pairedBootstrap(d, { level: NaN }), 'options.level');
    named(() => pairedBootstrap(d, { seed: -1 }), 'options.seed');
    named(() => pairedBootstrap(d, { sample: 10 } as never), 'options.sample', /did you mean 'samples'/);
    named(() => pairedBootstrap(d, 5 as never), 'options');
  });
});
