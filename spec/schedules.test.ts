/**
 * Loss-weight schedules: the paper's and the reference's formulas at given epochs, the floor of
 * `rebalance` with `floorAtEpoch`, monotonicity, the registry and invalid epochs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { constant, increase, isScheduleName, rebalance, scheduleNames, schedules, steal, type Schedule } from '../losses/tensor-losses.js';

const FC = { seed: 42, numRuns: 50 } as const;
const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, msg ?? `${a} vs ${b}`);
const pair = (s: Schedule, e: number, epochs = 1000) => s(e, epochs) as readonly [number, number];

describe('rebalance (paper Eq. 6)', () => {
  test('α = max(0.01, 1 − 0.01e) and weights [α, 1 − α]', () => {
    const s = rebalance();
    for (const [e, alpha] of [[0, 1], [1, 0.99], [10, 0.9], [50, 0.5], [98, 0.02], [99, 0.01], [100, 0.01], [500, 0.01]] as const) {
      const [a, b] = pair(s, e);
      close(a, alpha, `epoch ${e}: α = ${a}`);
      close(a + b, 1);
    }
    assert.equal(pair(s, 99)[0], 0.01, 'the floor is exactly 0.01');
  });

  test('floorAtEpoch F: linear from 1 at e = 0 to exactly 0.01 at e = F, then constant', () => {
    for (const f of [1, 3, 10, 37, 99]) {
      const s = rebalance({ floorAtEpoch: f });
      assert.equal(pair(s, 0)[0], 1);
      assert.equal(pair(s, f)[0], 0.01, `F = ${f}`);
      assert.equal(pair(s, f + 5)[0], 0.01);
      if (f > 1) assert.ok(pair(s, f - 1)[0] > 0.01, `F = ${f}: α(F − 1) = ${pair(s, f - 1)[0]}`);
      // linear: equal steps before F
      if (f >= 3) close(pair(s, 1)[0] - pair(s, 2)[0], 0.99 / f);
    }
    // F = 99 is the paper's schedule
    for (let e = 0; e < 120; e++) close(pair(rebalance({ floorAtEpoch: 99 }), e)[0], pair(rebalance(), e)[0]);
  });

  test('α is non-increasing and the weights sum to 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }), (e, f) => {
        const s = rebalance({ floorAtEpoch: f });
        const [a0, b0] = pair(s, e);
        const [a1] = pair(s, e + 1);
        assert.ok(a1 <= a0, `α(${e + 1}) = ${a1} > α(${e}) = ${a0}`);
        assert.ok(a0 >= 0.01 && a0 <= 1, `α(${e}) = ${a0}`);
        close(a0 + b0, 1);
      }),
      FC,
    );
  });
});

describe('steal (the reference code)', () => {
  test('w_GD = max(0.1, 1 − 0.01e), w_B = 0.01(e + 1), uncapped', () => {
    const s = steal();
    for (const [e, gd, b] of [[0, 1, 0.01], [1, 0.99, 0.02], [49, 0.51, 0.5], [89, 0.11, 0.9], [90, 0.1, 0.91], [150, 0.1, 1.51]] as const) {
      const [w0, w1] = pair(s, e);
      close(w0, gd, `epoch ${e}: w_GD = ${w0}`);
      close(w1, b, `epoch ${e}: w_B = ${w1}`);
    }
    assert.deepEqual(pair(s, 0), [1, 0.01]);
  });

  test('w_GD non-increasing, w_B increasing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), (e) => {
        const [g0, b0] = pair(steal(), e);
        const [g1, b1] = pair(steal(), e + 1);
        assert.ok(g1 <= g0 && b1 > b0, `epoch ${e}: [${g0}, ${b0}] → [${g1}, ${b1}]`);
      }),
      FC,
    );
  });
});

describe('constant and increase', () => {
  test('constant returns its weights at every epoch', () => {
    const s = constant(1, 0.5, 2);
    assert.deepEqual(s(0, 10), [1, 0.5, 2]);
    assert.deepEqual(s(9, 10), [1, 0.5, 2]);
    assert.throws(() => constant(), (e: unknown) => e instanceof InputError && e.argument === 'weights');
    assert.throws(() => constant(1, NaN), (e: unknown) => e instanceof InputError && e.argument === 'weights[1]');
  });

  test('increase: [1, min(max, step·e)], non-decreasing', () => {
    const s = increase();
    assert.deepEqual(pair(s, 0), [1, 0]);
    close(pair(s, 7)[1], 0.07);
    close(pair(s, 100)[1], 1);
    close(pair(s, 250)[1], 1);
    const capped = increase({ step: 0.1, max: 0.25 });
    close(pair(capped, 2)[1], 0.2);
    close(pair(capped, 3)[1], 0.25);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), (e) => {
        assert.ok(pair(s, e + 1)[1] >= pair(s, e)[1], `epoch ${e}`);
        assert.equal(pair(s, e)[0], 1);
      }),
      FC,
    );
    assert.throws(() => increase({ step: -0.1 }), (e: unknown) => e instanceof InputError && e.argument === 'options.step');
  });
});

describe('registry and validation', () => {
  test('schedules by name', () => {
    assert.deepEqual([...scheduleNames].sort(), ['constant', 'increase', 'rebalance', 'steal']);
    for (const name of scheduleNames) {
      assert.ok(isScheduleName(name), name);
      const w = schedules[name]()(0, 10);
      assert.equal(w.length, 2, name);
      assert.ok(w.every(Number.isFinite), `${name}: ${w}`);
    }
    assert.equal(isScheduleName('linear'), false);
    assert.deepEqual(schedules.constant({ weights: [0.3, 0.7] })(4, 10), [0.3, 0.7]);
    assert.equal(schedules.rebalance({ floorAtEpoch: 4 })(4, 10)[0], 0.01);
    close(schedules.increase({ step: 0.05 })(2, 10)[1]!, 0.1);
  });

  test('invalid epochs, run lengths and options throw InputError naming the argument', () => {
    for (const s of [rebalance(), rebalance({ floorAtEpoch: 5 }), steal(), constant(1), increase()]) {
      for (const e of [-1, 0.5, NaN, Infinity, '1' as unknown as number]) {
        assert.throws(() => s(e, 10), (err: unknown) => err instanceof InputError && err.argument === 'epoch', String(e));
      }
      assert.throws(() => s(10, 10), (err: unknown) => err instanceof InputError && err.argument === 'epoch');
      for (const n of [0, -3, 2.5, NaN]) assert.throws(() => s(0, n), (err: unknown) => err instanceof InputError && err.argument === 'epochs');
      assert.doesNotThrow(() => s(12345, Infinity));
    }
    for (const f of [0, -1, 1.5, NaN]) {
      assert.throws(() => rebalance({ floorAtEpoch: f }), (err: unknown) => err instanceof InputError && err.argument === 'options.floorAtEpoch');
    }
  });
});
