/** Counter-based randomness: known answers, determinism, independence, distributions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';

const hex = (x: readonly number[]) => x.map((v) => v.toString(16).padStart(8, '0')).join(' ');

describe('random', () => {
  test('threefry2x32 matches the Random123 known-answer vectors', () => {
    assert.equal(hex(core.threefry2x32({ k0: 0, k1: 0 }, 0, 0)), '6b200159 99ba4efe');
    assert.equal(hex(core.threefry2x32({ k0: 0xffffffff, k1: 0xffffffff }, 0xffffffff, 0xffffffff)), '1cb996fc bb002be7');
    assert.equal(hex(core.threefry2x32({ k0: 0x13198a2e, k1: 0x03707344 }, 0x243f6a88, 0x85a308d3)), 'c4923a9c 483df7a0');
  });

  test('one seed gives the same numbers on every backend; another seed differs', async () => {
    await core.setBackend('cpu');
    const a = await core.uniform(core.key(42), [64]).data();
    await core.setBackend('cpu64');
    const b = await core.uniform(core.key(42), [64]).data();
    assert.deepEqual(a, b);
    const c = await core.uniform(core.key(43), [64]).data();
    assert.notDeepEqual(a, c);
  });

  test('split and foldIn give distinct keys, deterministically', () => {
    const k = core.key(7);
    const s = core.split(k, 4);
    assert.deepEqual(s, core.split(k, 4));
    const all = [k, ...s, core.foldIn(k, 0), core.foldIn(k, 1)].map((x) => `${x.k0}:${x.k1}`);
    assert.equal(new Set(all).size, all.length);
  });

  test('uniform and normal have the expected moments', () => {
    const u = core.uniformArray(core.key(1), 100_000);
    const n = core.normalArray(core.key(2), 100_001);
    const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
    const variance = (x: Float64Array) => {
      const m = mean(x);
      return mean(x.map((v) => (v - m) ** 2));
    };
    assert.ok(Math.abs(mean(u) - 0.5) < 0.01);
    assert.ok(Math.abs(variance(u) - 1 / 12) < 0.005);
    assert.ok(u.every((v) => v >= 0 && v < 1));
    assert.ok(Math.abs(mean(n)) < 0.01);
    assert.ok(Math.abs(variance(n) - 1) < 0.02);
  });

  test('dropout masks are reproducible from the key and keep the expectation', async () => {
    await core.setBackend('cpu64');
    const x = core.ones([10_000]);
    const a = await core.dropout(x, 0.25, core.key(3)).data();
    const b = await core.dropout(x, 0.25, core.key(3)).data();
    assert.deepEqual(a, b);
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(m - 1) < 0.03, `mean ${m}`);
    assert.throws(() => core.dropout(x, 1, core.key(3)), core.InputError);
  });

  test('bad seeds are InputErrors', () => {
    assert.throws(() => core.key(-1), (e: unknown) => e instanceof core.InputError && e.argument === 'seed');
    assert.throws(() => core.key(1.5), core.InputError);
  });
});
