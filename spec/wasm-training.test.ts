/**
 * The `wasm` backend in training: results bit-identical run to run and whatever the number of
 * threads (static partitioning, fixed reduction order), live buffers and the shared
 * heap flat across steps (no memory growth), and worker threads that never keep a process alive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import '../backends/register.js';
import type { WasmBackend } from '../backends/wasm/backend.js';
import * as core from '../core/index.js';
import { unetBatch, unetTrainer } from '../bench/unet-d3-b16.js';
import { tinyTrainer } from './helpers/tiny-net.js';

const heapTop = () => (core.getBackend() as WasmBackend).runtime.heap.stats().top;

/** Loss values of `steps` UNet-d3-b16 training steps (batch 2, 32×32) on a fresh wasm backend. */
async function unetLosses(threads: number, steps: number, tag: string): Promise<number[]> {
  // a distinct option set per run: a fresh backend instance (memory, workers)
  await core.setBackend('wasm', { threads, tag });
  assert.ok((core.getBackend() as WasmBackend).waitForThreads(10_000), 'the worker threads did not start');
  const trainer = unetTrainer(unetBatch(2, 32, 3), 5);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(await trainer.step());
  trainer.dispose();
  return losses;
}

describe('wasm backend in training', () => {
  test('UNet-d3-b16 steps are bit-identical run to run and with 1, 2 or 3 threads', async () => {
    const a = await unetLosses(2, 3, 'a');
    const b = await unetLosses(2, 3, 'b');
    const one = await unetLosses(1, 3, 'c');
    const three = await unetLosses(3, 3, 'd');
    assert.ok(a[2]! < a[0]!, `the loss did not fall: ${a.join(', ')}`);
    assert.deepEqual(b, a, 'two runs with 2 threads differ');
    assert.deepEqual(one, a, '1 thread differs from 2');
    assert.deepEqual(three, a, '3 threads differ from 2');
  });

  test('UNet-d3-b16 steps keep live buffers and the shared heap flat', async () => {
    await core.setBackend('wasm', { threads: 2 });
    const trainer = unetTrainer(unetBatch(2, 32, 4), 6);
    await trainer.step();
    await trainer.step();
    const buffers = core.memory().buffers;
    const top = heapTop();
    for (let i = 0; i < 5; i++) await trainer.step();
    assert.equal(core.memory().buffers, buffers, 'live buffers grew');
    assert.equal(heapTop(), top, 'the shared heap grew');
    trainer.dispose();
  });

  test('1,000 steps of a tiny conv net with Adam keep the live count and the heap flat', () => {
    core.scope(() => undefined);
    const trainer = tinyTrainer();
    const step = () => trainer.step();
    step();
    const live = core.memory().buffers;
    const top = heapTop();
    for (let i = 1; i < 1000; i++) step();
    assert.equal(core.memory().buffers, live, 'live buffers grew');
    assert.equal(heapTop(), top, 'the shared heap grew');
    trainer.dispose();
  });

  test('relaxed-SIMD FMA kernels (where the runtime has them) agree with mul + add and with each other across threads', () => {
    const script = [
      "import './backends/register.ts';",
      "import * as core from './core/index.ts';",
      "const n = (s) => s.reduce((a, b) => a * b, 1);",
      "const v = (k, s) => Float32Array.from(core.uniformArray(core.key(k), n(s)), (u) => u * 2 - 1);",
      "const xs = [4, 32, 12, 12], ws = [24, 32, 3, 3], a = v(1, xs), w = v(2, ws), m1 = v(3, [70, 90]), m2 = v(4, [90, 50]);",
      "const run = async (o) => { await core.setBackend('wasm', o); core.getBackend().waitForThreads(10000);",
      "  const outs = core.scope(() => { const x = core.tensor(a, xs), f = core.tensor(w, ws);",
      "    const [y, back] = core.vjp((p) => core.conv2d(p[0], p[1], { padding: 1 }), [x, f]);",
      "    return [y, ...back(core.mul(y, 0.5)), core.matmul(core.tensor(m1, [70, 90]), core.tensor(m2, [90, 50]))]; });",
      "  return Promise.all(outs.map((t) => t.data())); };",
      "const plain = await run({ threads: 2, fma: false }), two = await run({ threads: 2, fma: true }), one = await run({ threads: 1, fma: true });",
      "let err = 0, same = true;",
      "plain.forEach((p, i) => { let s = 1; for (const x of p) s = Math.max(s, Math.abs(x)); p.forEach((x, j) => { err = Math.max(err, Math.abs(x - two[i][j]) / s); if (!Object.is(two[i][j], one[i][j])) same = false; }); });",
      "console.log(JSON.stringify({ err, same, fma: core.getBackend().runtime.fma }));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr.slice(0, 400)}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { err: number; same: boolean; fma: boolean };
    assert.ok(res.fma, 'the FMA kernels were not used under --experimental-wasm-relaxed-simd');
    assert.ok(res.err <= 1e-5, `FMA and mul + add differ by ${res.err}`);
    assert.ok(res.same, 'FMA results differ between 1 and 2 threads');
  });

  test('a process using the backend (default threads) exits by itself', () => {
    const script = [
      "import './backends/register.ts';",
      "import * as core from './core/index.ts';",
      "await core.setBackend('wasm');",
      "core.getBackend().waitForThreads(10000);",
      "const y = core.matmul(core.ones([300, 300]), core.ones([300, 300]));",
      "console.log((await y.data())[0]);",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}: ${r.stderr.slice(0, 400)}`);
    assert.equal(r.stdout.trim(), '300', 'unexpected output');
  });
});
