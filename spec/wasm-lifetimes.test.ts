/**
 * Lifetimes on the `wasm` backend: its storage counts handles and the bytes of distinct buffers
 * (reshape shares a buffer), frees a buffer with its last handle, reuses freed blocks, and scopes
 * and gradients return the live count to its baseline.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import '../backends/register.js';
import type { WasmBackend } from '../backends/wasm/backend.js';
import * as core from '../core/index.js';

const live = () => core.memory().buffers;
const top = () => (core.getBackend() as WasmBackend).runtime.heap.stats().top;

describe('wasm lifetimes', () => {
  before(async () => core.setBackend('wasm'));

  test('handles and bytes: reshape shares its buffer; the last release frees it', async () => {
    const base = core.memory();
    const x = core.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = core.reshape(x, [3, 2]);
    assert.deepEqual(core.memory(), { buffers: base.buffers + 2, bytes: base.bytes + 24 });
    x.dispose();
    assert.deepEqual([...(await y.data())], [1, 2, 3, 4, 5, 6], 'the shared buffer was freed too early');
    assert.deepEqual(core.memory(), { buffers: base.buffers + 1, bytes: base.bytes + 24 });
    y.dispose();
    y.dispose();
    assert.deepEqual(core.memory(), base);
  });

  test('freed blocks are reused: repeating the same work does not grow the heap', () => {
    const run = () => core.scope(() => core.sum(core.conv2d(core.ones([2, 3, 40, 40]), core.ones([4, 3, 3, 3]), { padding: 1 })));
    run().dispose();
    const t = top();
    for (let i = 0; i < 20; i++) run().dispose();
    assert.equal(top(), t, 'the heap grew');
  });

  test('scopes, valueAndGrad and grad of grad return to the baseline', () => {
    const params = { w: core.tensor([[0.5, -1], [2, 1]]), b: core.tensor([0.1, 0.2]) };
    const x = core.tensor([[1, 2], [3, 4]]);
    const base = live();
    const [v, g] = core.valueAndGrad((p: typeof params) => core.mean(core.square(core.add(core.matmul(x, p.w), p.b))))(params);
    assert.equal(live(), base + 3);
    core.dispose([v, g]);
    core.scope(() => {
      const f = (t: core.Tensor) => core.sum(core.mul(core.exp(t), t));
      core.grad((t: core.Tensor) => core.sum(core.grad(f)(t)))(x);
    });
    assert.equal(live(), base);
    core.dispose([params, x]);
  });

  test('a kernel that throws leaks nothing', () => {
    const base = core.memory();
    assert.throws(() => core.scope(() => core.add(core.ones([2, 3]), core.ones([4]))), core.ShapeError);
    assert.deepEqual(core.memory(), base);
  });
});
