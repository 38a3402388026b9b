/**
 * The gpu.js backend's own WebGPU queue (`backends/gpujs/webgpu-queue.ts`) on whatever adapter
 * answers (in CI: lavapipe, a software Vulkan driver; CI=true fails without one): kernel runs are
 * recorded and submitted together, buffers come back from the pool, an upload never overwrites a
 * buffer that work not submitted yet still reads, bind groups are reused, the pool lets go of sizes
 * no longer used, and the blocked convolutions (four outputs per thread) give the values of the
 * one-output kernels.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { createGpujsBackend, type GpujsBackend } from '../backends/gpujs/backend.js';
import { POOL_MAX_AGE, WebGpuQueue, type GpuDeviceLike, type WebGpuKernelLike } from '../backends/gpujs/webgpu-queue.js';
import { requireMode } from './conformance-gpujs.js';

const host = (n: number, seed: number): Float32Array => Float32Array.from(core.normalArray(core.key(seed), n));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// The queue against a stand-in device (no adapter needed): what it does when encoding fails.
test('a batch whose encoding throws fails the values it writes and the reads it holds; later batches run', async () => {
  let failBindGroups = false;
  let submits = 0;
  const buffer = (size: number) => ({ size, destroy: () => undefined, mapAsync: async () => undefined, getMappedRange: () => new ArrayBuffer(size), unmap: () => undefined });
  const device: GpuDeviceLike = {
    limits: { maxComputeWorkgroupsPerDimension: 65535 },
    queue: { submit: () => void submits++, writeBuffer: () => undefined, onSubmittedWorkDone: async () => undefined },
    createBuffer: (d) => buffer(d.size),
    createBindGroup: () => {
      if (failBindGroups) throw new Error('device error: bind group refused');
      return {};
    },
    createCommandEncoder: () => ({
      beginComputePass: () => ({ setPipeline: () => undefined, setBindGroup: () => undefined, dispatchWorkgroups: () => undefined, end: () => undefined }),
      copyBufferToBuffer: () => undefined,
      finish: () => ({}),
    }),
  };
  const kernel: WebGpuKernelLike = {
    constructor: { name: 'WebGPUKernel' } as never,
    built: true,
    build: async () => undefined,
    computePipeline: {},
    bindGroupLayout: {},
    paramsLayout: { arrayArgs: [{ index: 0, dimsOffset: 16 }], scalarArgs: [], bufferConstants: [], randomSeedOffset: null, byteLength: 32 },
    output: [4],
    _computeDispatch: () => ({ groups: [1, 1, 1], dispatchWidth: 64 }),
    outputBuffer: null,
  };
  const q = new WebGpuQueue(device);
  const x = q.upload(new Float32Array(4));
  failBindGroups = true;
  const y = q.dispatch(kernel, [x], 4);
  await assert.rejects(q.read(y), /bind group refused/);
  assert.equal(submits, 0, 'nothing of the failed batch was submitted');
  failBindGroups = false;
  const z = q.dispatch(kernel, [x], 4);
  assert.equal((await q.read(z)).length, 4, 'the next batch runs');
  assert.equal(submits, 1);
  await q.dispose();
});

if (await requireMode('webgpu', 'queue tests')) {
  const b = await createGpujsBackend({ mode: 'webgpu' });
  const up = (values: Float32Array, shape: number[]) => b.upload(values, shape);
  const ew = (h: ReturnType<typeof up>, shape: number[]) => b.kernels.exp([{ handle: h, shape }], shape, {});

  test('kernel runs are recorded and submitted once when the code that queued them returns; reads issued together share it', async () => {
    const shape = [64, 33];
    const x = up(host(64 * 33, 1), shape);
    await b.settle();
    const s0 = b.stats();
    const y = ew(x, shape);
    const z = b.kernels.add([{ handle: y, shape }, { handle: x, shape }], shape, {});
    assert.equal(b.stats().submits! - s0.submits!, 0, 'nothing submitted while the code runs');
    assert.equal(b.stats().launches - s0.launches, 2);
    const [vy, vz] = await Promise.all([b.read(y), b.read(z)]);
    assert.equal(b.stats().submits! - s0.submits!, 1, 'two kernels and two read copies: one submission');
    const vx = await b.read(x);
    for (let i = 0; i < vx.length; i++) assert.ok(Math.abs(vz[i]! - (vy[i]! + vx[i]!)) <= 1e-6 * Math.max(1, Math.abs(vz[i]!)), `element ${i}`);
    [x, y, z].forEach((h) => b.release(h));
  });

  test('released buffers come back from the pool; a repeated run creates no buffer and no bind group', async () => {
    const shape = [3, 5, 7];
    const x = up(host(105, 2), shape);
    const run = () => {
      const y = ew(x, shape);
      const z = b.kernels.mul([{ handle: y, shape }, { handle: x, shape }], shape, {});
      b.release(y);
      return z;
    };
    const first = run();
    await b.read(first);
    b.release(first);
    await b.settle();
    const s0 = b.stats();
    const again = run();
    const v = await b.read(again);
    const s1 = b.stats();
    assert.equal(s1.allocations - s0.allocations, 0, 'both outputs from the pool');
    assert.equal(s1.bindGroups! - s0.bindGroups!, 0, 'both dispatches bound their previous bind groups');
    const vx = await b.read(x);
    for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i]! - Math.exp(vx[i]!) * vx[i]!) <= 1e-5 * Math.max(1, Math.abs(v[i]!)), `element ${i}`);
    b.release(again);
    b.release(x);
  });

  test('an upload never takes a pooled buffer that unsubmitted work still reads', async () => {
    const shape = [256];
    const first = host(256, 3);
    const second = host(256, 4);
    await b.settle();
    // x is read by y's kernel, then released (back to the pool) before anything is submitted;
    // the next upload of that size must not write into x's buffer ahead of y's kernel
    const x = up(first, shape);
    const y = ew(x, shape);
    b.release(x);
    const x2 = up(second, shape);
    const y2 = ew(x2, shape);
    const [vy, vy2] = await Promise.all([b.read(y), b.read(y2)]);
    for (let i = 0; i < 256; i++) {
      assert.ok(Math.abs(vy[i]! - Math.exp(first[i]!)) <= 1e-5 * Math.exp(first[i]!), `y[${i}] read the first upload`);
      assert.ok(Math.abs(vy2[i]! - Math.exp(second[i]!)) <= 1e-5 * Math.exp(second[i]!), `y2[${i}] read the second upload`);
    }
    [y, x2, y2].forEach((h) => b.release(h));
  });

  test('the output of a run is never one of its inputs, and a released input is refused', async () => {
    const shape = [40];
    let x = up(host(40, 5), shape);
    const want = Float32Array.from(await b.read(x));
    // a chain that releases each input right after its consumer: the pool hands buffers around
    for (let k = 0; k < 6; k++) {
      const y = b.kernels.neg([{ handle: x, shape }], shape, {});
      b.release(x);
      x = y;
    }
    const got = await b.read(x);
    assert.deepEqual([...got], [...want], 'six negations give the input back');
    const dead = up(host(40, 6), shape);
    b.release(dead);
    assert.throws(() => b.kernels.neg([{ handle: dead, shape }], shape, {}), core.BackendError);
    b.release(x);
  });

  test('a kernel the cache evicts while runs of it wait in the batch is destroyed only after they are encoded', async () => {
    const small = await createGpujsBackend({ mode: 'webgpu' }, { cacheSize: 3 });
    try {
      const shape = [5, 9];
      const values = host(45, 9);
      const chain = (ops: readonly ('exp' | 'neg' | 'abs' | 'sqrt' | 'log' | 'sign')[]) => {
        let x = small.upload(values, shape);
        for (const op of ops) {
          const y = small.kernels[op]([{ handle: x, shape }], shape, {});
          small.release(x);
          x = y;
        }
        return x;
      };
      // exp and neg compiled and built; then, in one batch, exp (built, cached) and four new
      // kernels: the cache of 3 evicts exp while its run still waits to be encoded
      const built = chain(['exp', 'neg']);
      await small.read(built);
      small.release(built);
      const x = chain(['exp', 'abs', 'sqrt', 'log', 'sign']);
      const got = await small.read(x);
      const want = values.map((v) => Math.sign(Math.log(Math.sqrt(Math.abs(Math.exp(v))))));
      for (let i = 0; i < 45; i++) assert.equal(got[i], want[i], `element ${i}`);
      assert.ok(small.stats().evictions >= 3, `${small.stats().evictions} evictions`);
      small.release(x);
    } finally {
      await small.dispose();
    }
  });

  test('GPU timing: with timestamp-query (asked for where the adapter has it) a batch reports its device time', async () => {
    const on = b.timeGpu();
    const dawn = (await import('webgpu')) as unknown as { create(f: string[]): { requestAdapter(): Promise<{ features: { has(f: string): boolean } } | null> } };
    const adapter = await dawn.create([]).requestAdapter();
    assert.equal(on, adapter?.features.has('timestamp-query') ?? false, 'timing is on exactly where the adapter has timestamp-query');
    if (!on) return;
    const shape = [128, 128];
    const x = up(host(128 * 128, 13), shape);
    const y = b.kernels.matmul([{ handle: x, shape: [1, 128, 128] }, { handle: x, shape: [1, 128, 128] }], [1, 128, 128], { transA: false, transB: false });
    await b.read(y);
    const ms = await b.lastGpuTime();
    assert.ok(ms !== undefined && Number.isFinite(ms) && ms > 0, `device time ${ms} ms`);
    [x, y].forEach((h) => b.release(h));
  });

  test(`the pool destroys buffers of a size no batch used for ${POOL_MAX_AGE} batches`, async () => {
    const odd = [997];
    const x = up(host(997, 7), odd);
    const y = ew(x, odd);
    await b.read(y);
    b.release(y);
    b.release(x);
    await b.settle();
    const before = b.stats().pooledBuffers!;
    const shape = [8, 8];
    const z = up(host(64, 8), shape);
    for (let k = 0; k < POOL_MAX_AGE + 20; k++) {
      const w = ew(z, shape);
      await b.read(w);
      b.release(w);
    }
    await b.settle();
    assert.ok(b.stats().pooledBuffers! < before, `pooled buffers ${before} → ${b.stats().pooledBuffers}`);
    b.release(z);
  });

  // Convolutions at shapes whose output rows are multiples of four run the blocked kernels; a
  // backend created with `blockedConvolutions: false` runs the one-output kernels they replace.
  const plain = await createGpujsBackend({ mode: 'webgpu' }, { blockedConvolutions: false });
  const cases: { label: string; x: number[]; w: number[]; p: core.ConvParams }[] = [
    { label: '3×3 pad 1 (UNet)', x: [2, 3, 8, 12], w: [5, 3, 3, 3], p: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 } },
    { label: '3×3 stride 2', x: [1, 4, 9, 16], w: [6, 4, 3, 3], p: { stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 } },
    { label: '3×3 dilation 2, groups 2, uneven padding', x: [2, 4, 10, 12], w: [6, 2, 3, 3], p: { stride: [1, 1], padding: [2, 1, 3, 1], dilation: [2, 2], groups: 2 } },
    { label: '2×4 kernel, uneven padding', x: [2, 2, 7, 13], w: [3, 2, 2, 4], p: { stride: [1, 1], padding: [0, 1, 1, 2], dilation: [1, 1], groups: 1 } },
    { label: '1×1 head', x: [2, 16, 4, 8], w: [2, 16, 1, 1], p: { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 } },
    { label: 'a small filter over a large image (the filter gradient in many partial sums)', x: [2, 3, 48, 48], w: [4, 3, 3, 3], p: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 } },
  ];
  for (const c of cases) {
    test(`blocked convolutions give the one-output kernels' values and the cpu64 reference's: ${c.label}`, async () => {
      const [n, , h, wd] = c.x as [number, number, number, number];
      const [o, , kh, kw] = c.w as [number, number, number, number];
      const ho = Math.floor((h + c.p.padding[0] + c.p.padding[1] - c.p.dilation[0] * (kh - 1) - 1) / c.p.stride[0]) + 1;
      const wo = Math.floor((wd + c.p.padding[2] + c.p.padding[3] - c.p.dilation[1] * (kw - 1) - 1) / c.p.stride[1]) + 1;
      const yShape = [n, o, ho, wo];
      const xv = host(c.x.reduce((a, e) => a * e, 1), 10);
      const wv = host(c.w.reduce((a, e) => a * e, 1), 11);
      const dyv = host(yShape.reduce((a, e) => a * e, 1), 12);
      const dxParams = { ...c.p, inputShape: c.x as [number, number, number, number] };
      const dwParams = { ...c.p, filterShape: c.w as [number, number, number, number] };
      const results = async <H>(be: core.Backend<H>) => {
        const [x, w, dy] = [be.upload(xv, c.x), be.upload(wv, c.w), be.upload(dyv, yShape)];
        const y = be.kernels.conv2d([{ handle: x, shape: c.x }, { handle: w, shape: c.w }], yShape, c.p);
        const dx = be.kernels.conv2dBackpropInput([{ handle: dy, shape: yShape }, { handle: w, shape: c.w }], c.x, dxParams);
        const dw = be.kernels.conv2dBackpropFilter([{ handle: x, shape: c.x }, { handle: dy, shape: yShape }], c.w, dwParams);
        const out = [await be.read(y), await be.read(dx), await be.read(dw)];
        [x, w, dy, y, dx, dw].forEach((hd) => be.release(hd));
        return out;
      };
      const [yb, dxb, dwb] = await results(b);
      const [yp, dxp, dwp] = await results(plain);
      await core.setBackend('cpu64');
      const [yRef, dxRef, dwRef] = await results(core.getBackend());
      // the filter gradient sums N·H'·W' terms: in more partial sums on WebGPU (to fill the device)
      const dwTol = 1e-5 * Math.max(1, ...Array.from(dwRef, Math.abs));
      assert.ok(maxDiff(dwb, dwRef) <= 1e2 * dwTol, `conv2dBackpropFilter vs cpu64 ${maxDiff(dwb, dwRef)}`);
      assert.ok(maxDiff(dwb, dwp) <= 1e2 * dwTol, `conv2dBackpropFilter: split vs one-output backend ${maxDiff(dwb, dwp)}`);
      assert.ok(maxDiff(yb, yp) <= 1e-5, `conv2d: blocked vs one-output ${maxDiff(yb, yp)}`);
      assert.ok(maxDiff(dxb, dxp) <= 1e-5, `conv2dBackpropInput: blocked vs one-output ${maxDiff(dxb, dxp)}`);
      assert.ok(maxDiff(yb, yRef) <= 1e-4, `conv2d vs cpu64 ${maxDiff(yb, yRef)}`);
      assert.ok(maxDiff(dxb, dxRef) <= 1e-4, `conv2dBackpropInput vs cpu64 ${maxDiff(dxb, dxRef)}`);
    });
  }

  test('the blocked kernels ran where the shapes allow them (four outputs per thread)', async () => {
    const keys = b.compiledKernels();
    assert.ok(keys.some((k) => k.startsWith('conv2dBlocked|')), 'a blocked forward convolution was compiled');
    assert.ok(keys.some((k) => k.startsWith('conv2dBackpropInputBlocked|')), 'a blocked input gradient was compiled');
    assert.ok(keys.some((k) => k.startsWith('conv2dBackpropInput|')), 'the stride-2 input gradient kept the one-output kernel');
    assert.ok(!plain.compiledKernels().some((k) => /Blocked/.test(k)), 'the plain backend compiled none');
    assert.ok(keys.some((k) => k.startsWith('conv2dBackpropFilterBlocked|')), 'a blocked filter gradient was compiled');
    const parts = (be: GpujsBackend) => be.compiledKernels().filter((k) => /^conv2dBackpropFilter(Blocked)?\|/.test(k) && k.includes('"n":2,"c":3,"h":48')).map((k) => Number(k.split('|')[4]));
    assert.ok(Math.min(...parts(b)) < Math.min(...parts(plain)), `rows per partial sum: ${parts(b)} on WebGPU, ${parts(plain)} before`);
    assert.match((await b.describe()).kernelClass ?? '', /WebGPUKernel/);
  });

  // A live WebGPU device keeps Node from exiting: the program shuts the backend down as it ends.
  const root = new URL('..', import.meta.url).pathname;
  const program = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  test('boundary-seg with --backend gpujs:webgpu exits after an error and after a run', () => {
    const failed = program(['train', '--backend', 'gpujs:webgpu', '--data', join(tmpdir(), 'no-such-dataset'), '--epochs', '1']);
    assert.equal(failed.signal, null, `the failed run did not exit by itself (killed by ${failed.signal})`);
    assert.equal(failed.status, 3, failed.stderr);
    const out = mkdtempSync(join(tmpdir(), 'gpujs-cli-'));
    try {
      const ran = program(['train', '--backend', 'gpujs:webgpu', '--synthetic', '--size', '16', '--train-slices', '4', '--val-slices', '3', '--epochs', '1', '--base', '2', '--depth', '1', '--batch-size', '4', '--overlays', '1', '--quiet', '--out', join(out, 'run')]);
      assert.equal(ran.signal, null, `the run did not exit by itself (killed by ${ran.signal})`);
      assert.equal(ran.status, 0, ran.stderr);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('dispose releases the device (Node can exit)', async () => {
    await plain.dispose();
    await b.dispose();
  });
}
