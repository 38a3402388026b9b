/** Lifetimes: live buffers rise by exactly what is held and return to their baseline. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { tinyTrainer } from './helpers/tiny-net.js';

const live = () => core.memory().buffers;

describe('lifetimes', () => {
  before(async () => core.setBackend('cpu'));

  test('the live count rises by exactly the tensors held and falls back after dispose', () => {
    const base = live();
    const held = [core.tensor([1, 2, 3]), core.zeros([2, 2]), core.scalar(4)];
    assert.equal(live(), base + 3);
    core.dispose(held);
    assert.equal(live(), base);
  });

  test('a public op leaves only its result (no intermediates, no number constants)', () => {
    const x = core.tensor([[1, -2], [3, -4]]);
    const base = live();
    // three calls, three results: the caller's own intermediates (mul, add) are the caller's.
    const m = core.mul(x, 2);
    const a = core.add(m, 1);
    const y = core.softmax(a, 1);
    assert.equal(live(), base + 3);
    const z = core.conv2d(core.ones([1, 1, 4, 4]), core.ones([1, 1, 3, 3]), { padding: 'same', stride: 2 });
    assert.equal(live(), base + 6);
    core.dispose([x, m, a, y, z]);
  });

  test('scope releases everything created inside except what it returns (any tree)', () => {
    const base = live();
    const out = core.scope(() => {
      const a = core.tensor([1, 2, 3]);
      const b = core.exp(a);
      const c = core.sum(b);
      return { c, list: [core.neg(a)], n: 3 };
    });
    assert.equal(live(), base + 2);
    assert.equal(out.n, 3);
    core.dispose(out);
    assert.equal(live(), base);
  });

  test('scope releases everything when its function throws', () => {
    const base = live();
    assert.throws(() =>
      core.scope(() => {
        core.tensor([1, 2, 3]);
        core.add(core.ones([2]), core.ones([3]));
      }),
    core.ShapeError);
    assert.equal(live(), base);
  });

  test('nested scopes hand results outward; keep() survives scopes', () => {
    const base = live();
    let kept: core.Tensor | undefined;
    const r = core.scope(() => {
      const inner = core.scope(() => {
        kept = core.keep(core.ones([2]));
        return core.zeros([3]);
      });
      core.ones([4]);
      return inner;
    });
    assert.equal(live(), base + 2);
    core.dispose([r, kept!]);
    assert.equal(live(), base);
  });

  test('valueAndGrad leaves only the value and the gradients', () => {
    const params = { w: core.tensor([[0.5, -1], [2, 1]]), b: core.tensor([0.1, 0.2]) };
    const x = core.tensor([[1, 2], [3, 4]]);
    const base = live();
    const [v, g] = core.valueAndGrad((p: typeof params) => core.mean(core.square(core.add(core.matmul(x, p.w), p.b))))(params);
    assert.equal(live(), base + 3);
    core.dispose([v, g]);
    assert.equal(live(), base);
    core.dispose([params, x]);
  });

  test('grad of grad inside a scope returns to the baseline', () => {
    const x = core.tensor([0.3, -0.7, 1.1]);
    const base = live();
    core.scope(() => {
      const f = (t: core.Tensor) => core.sum(core.mul(core.exp(t), t));
      const gg = core.grad((t: core.Tensor) => core.sum(core.grad(f)(t)))(x);
      assert.deepEqual(gg.shape, [3]);
    });
    assert.equal(live(), base);
    x.dispose();
  });

  test('using a disposed tensor is an InputError naming it', () => {
    const t = core.tensor([1]);
    t.dispose();
    assert.throws(() => core.exp(t), (e: unknown) => e instanceof core.InputError && /disposed/.test(e.message) && e.argument === 'x');
  });

  test('1,000 training steps of a tiny conv net with Adam keep the live count flat', () => {
    const trainer = tinyTrainer();
    const step = () => trainer.step();
    step();
    const after1 = live();
    for (let i = 1; i < 1000; i++) step();
    assert.equal(live(), after1);
    trainer.dispose();
  });
});
