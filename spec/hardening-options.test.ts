/**
 * Hardening of the library's options and of what `train` takes from a dataset (issue 12, items 7
 * and 8): an unknown option key is an InputError naming it in the core ops (`matmul`, the
 * convolution family, pooling, batch norm), `jit`, `valueAndGrad`, the U-Net config and forward,
 * the optimizers, the learning-rate schedule, the objective, the layers, the checkpoint functions
 * and `train` (its config and its options); `train` refuses a user-supplied dataset whose targets
 * are not one-hot, or whose labels leave the class range, naming the image, before any step; and
 * the gpujs backend's `auto` mode passes over WebGPU without starting Dawn where there is no Vulkan
 * loader, so nothing native is printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../backends/register.js';
import * as core from '../core/index.js';
import { InputError } from '../core/errors.js';
import { vulkanLoaderPresent } from '../backends/gpujs/runtime.js';
import {
  adam, checkArchitecture, conv, convTranspose, loadCheckpoint, lrStart, lrStep, objective, restoreCheckpoint, sgd, train, trainDefaults, unet,
  type CheckpointFile, type TrainConfig, type TrainingBatch, type TrainingData,
} from '../models/index.js';
import { removeDir, tempDir } from './helpers/fixtures.js';
import { SIZE, standIn } from './helpers/stand-in.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The error `fn` throws or rejects with (undefined when it returns). */
async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/**
 * Asserts an InputError of `op` whose argument is `argument` (`options.<key>`, `config.<key>`, …)
 * and whose message names the unknown key (and the `hint`, when given).
 */
async function refuses(fn: () => unknown, op: string, argument: string, hint?: string): Promise<void> {
  const e = await errorOf(fn);
  const key = argument.slice(argument.lastIndexOf('.') + 1);
  assert.ok(e instanceof InputError, `expected an InputError for ${argument}, got ${String(e)}`);
  assert.equal(e.op, op, e.message);
  assert.equal(e.argument, argument, e.message);
  assert.match(e.message, new RegExp(`unknown option '${key}'`));
  if (hint !== undefined) assert.match(e.message, new RegExp(`did you mean '${hint}'\\?`));
}

describe('hardening: unknown option keys in core (item 8)', () => {
  before(async () => core.setBackend('cpu'));

  test('matmul, the convolution family, pooling and batch norm name the misspelt key; correct keys still work', async () => {
    const a = core.ones([2, 2]);
    const x = core.ones([1, 1, 4, 4]);
    const w = core.ones([1, 1, 3, 3]);
    const wt = core.ones([1, 1, 2, 2]);
    const dy = core.ones([1, 1, 4, 4]);
    const bn = { gamma: core.ones([1]), beta: core.zeros([1]) };
    const stats = { mean: core.zeros([1]), variance: core.ones([1]) };
    await refuses(() => core.matmul(a, a, { transposeA: true } as never), 'matmul', 'options.transposeA');
    await refuses(() => core.matmul(a, a, { transa: true } as never), 'matmul', 'options.transa', 'transA');
    await refuses(() => core.conv2d(x, w, { pading: 1 } as never), 'conv2d', 'options.pading', 'padding');
    await refuses(() => core.conv2dBackpropInput(dy, w, { inputShape: [1, 1, 4, 4], padding: 1, strides: 1 } as never), 'conv2dBackpropInput', 'options.strides', 'stride');
    await refuses(() => core.conv2dBackpropFilter(x, dy, { filterShape: [1, 1, 3, 3], padding: 1, dilations: 1 } as never), 'conv2dBackpropFilter', 'options.dilations', 'dilation');
    await refuses(() => core.conv2dBackpropInput(dy, w, { inputshape: [1, 1, 4, 4] } as never), 'conv2dBackpropInput', 'options.inputshape', 'inputShape');
    await refuses(() => core.conv2dTranspose(x, wt, { stride: 2, outputPading: 1 } as never), 'conv2dTranspose', 'options.outputPading', 'outputPadding');
    await refuses(() => core.convParams('conv2d', { group: 1 } as never, 4, 4, 3, 3), 'conv2d', 'options.group', 'groups');
    await refuses(() => core.maxPool2d(x, { size: 2, strides: 2 } as never), 'maxPool2d', 'options.strides', 'stride');
    await refuses(() => core.avgPool2d(x, { sise: 2 } as never), 'avgPool2d', 'options.sise', 'size');
    await refuses(() => core.batchNorm(x, bn, stats, { training: true, eps: 1e-3 } as never), 'batchNorm', 'options.eps');
    await refuses(() => core.batchNorm(x, bn, stats, { trainig: true } as never), 'batchNorm', 'options.trainig', 'training');

    // not an options object at all
    const notObject = await errorOf(() => core.conv2d(x, w, 1 as never));
    assert.ok(notObject instanceof InputError && notObject.argument === 'options', String(notObject));
    // required options that are missing are InputErrors, not TypeErrors
    const noPool = await errorOf(() => core.maxPool2d(x, undefined as never));
    assert.ok(noPool instanceof InputError && noPool.argument === 'options', String(noPool));
    const noTraining = await errorOf(() => core.batchNorm(x, bn, stats, {} as never));
    assert.ok(noTraining instanceof InputError && noTraining.argument === 'options.training', String(noTraining));

    // the right keys still work
    const kept = [
      core.matmul(a, a, { transA: true, transB: false }),
      core.conv2d(x, w, { padding: 1, stride: 1, dilation: 1, groups: 1 }),
      core.conv2dBackpropInput(dy, w, { inputShape: [1, 1, 4, 4], padding: 1 }),
      core.conv2dBackpropFilter(x, dy, { filterShape: [1, 1, 3, 3], padding: 1 }),
      core.conv2dTranspose(x, wt, { stride: 2, padding: 0, outputPadding: 1 }),
      core.maxPool2d(x, { size: 2, stride: 2, padding: 0 }),
      core.avgPool2d(x, { size: 2 }),
      core.batchNorm(x, bn, stats, { training: false, momentum: 0.1, epsilon: 1e-5 })[0],
    ];
    assert.deepEqual(kept.map((t) => t.shape), [[2, 2], [1, 1, 4, 4], [1, 1, 4, 4], [1, 1, 3, 3], [1, 1, 9, 9], [1, 1, 2, 2], [1, 1, 2, 2], [1, 1, 4, 4]]);
    assert.deepEqual(core.convParams('conv2d', { padding: 'same' }, 4, 4, 3, 3).padding, [1, 1, 1, 1]);
    core.dispose([a, x, w, wt, dy, bn, stats, kept]);
  });

  test('jit and valueAndGrad name the misspelt key; a failed call leaves no tensor behind', async () => {
    const before = core.memory().buffers;
    await refuses(() => core.jit((t: core.Tensor) => t, { donates: true } as never), 'jit', 'options.donates', 'donate');
    await refuses(() => core.jit((t: core.Tensor) => t, { cachesize: 2 } as never), 'jit', 'options.cachesize', 'cacheSize');
    await refuses(() => core.jit((t: core.Tensor) => t, { fuze: false } as never), 'jit', 'options.fuze', 'fuse');
    const e = await errorOf(() => core.jit((t: core.Tensor) => t, { bogus: 1 } as never));
    assert.match((e as Error).message, /known options: static, donate, cacheSize, fuse/, 'the message lists the options jit takes');
    const untypedValueAndGrad = core.valueAndGrad as unknown as (f: (t: core.Tensor) => core.Tensor, options: object) => unknown;
    await refuses(() => untypedValueAndGrad((t) => core.sum(t), { hasaux: true }), 'valueAndGrad', 'options.hasaux', 'hasAux');
    await refuses(() => untypedValueAndGrad((t) => core.sum(t), { aux: true }), 'valueAndGrad', 'options.aux');
    assert.equal(core.memory().buffers, before, 'no tensor left behind');
    // the right keys still work
    const f = core.jit((t: core.Tensor) => core.mul(t, 2), { cacheSize: 2, fuse: true, static: [], donate: false });
    const x = core.tensor([1, 2]);
    const y = f(x);
    assert.deepEqual(Array.from(await y.data()), [2, 4]);
    const [[v, aux], g] = core.valueAndGrad((t: core.Tensor) => [core.sum(t), 'aux'] as const, { hasAux: true })(x);
    assert.equal(aux, 'aux');
    assert.deepEqual(Array.from(await g.data()), [1, 1]);
    core.dispose([x, y, v, g]);
    f.clear();
  });
});

const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...trainDefaults,
  model: { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false },
  epochs: 2,
  batchSize: 4,
  losses: ['gdl'],
  schedule: { name: 'constant' },
  ...over,
});

describe('hardening: unknown option keys in models (item 8)', () => {
  before(async () => core.setBackend('cpu'));
  const modelConfig = { inChannels: 1, classes: 2, base: 2, depth: 1, batchNorm: false } as const;

  test('the U-Net config and forward, the layers, the optimizers, the lr schedule and the objective', async () => {
    await refuses(() => unet({ ...modelConfig, batchnorm: true } as never), 'unet', 'config.batchnorm', 'batchNorm');
    await refuses(() => unet({ ...modelConfig, dropuot: 0.1 } as never), 'unet', 'config.dropuot', 'dropout');
    const net = unet(modelConfig);
    const { params, state } = net.init(core.key(0));
    const x = core.zeros([1, 1, 4, 4]);
    await refuses(() => net.apply(params, state, x, { trainig: true } as never), 'unet', 'options.trainig', 'training');
    const noMode = await errorOf(() => net.apply(params, state, x, {} as never));
    assert.ok(noMode instanceof InputError && noMode.argument === 'options.training', String(noMode));
    await refuses(() => conv(params.head, x, { pad: 1 } as never), 'conv', 'options.pad');
    await refuses(() => convTranspose(params.up[0]!.up, x, { strid: 2 } as never), 'convTranspose', 'options.strid', 'stride');

    await refuses(() => adam({ learningRate: 1e-3, beta: 0.9 } as never), 'adam', 'options.beta', 'beta1');
    await refuses(() => adam({ learningrate: 1e-3 } as never), 'adam', 'options.learningrate', 'learningRate');
    await refuses(() => sgd({ learningRate: 1e-3, momentun: 0.9 } as never), 'sgd', 'options.momentun', 'momentum');
    const opt = adam<typeof params>({ learningRate: 1e-3 });
    const optState = opt.init(params);
    await refuses(() => opt.update(params, params, optState, { lr: 1e-2 } as never), 'adam', 'options.lr');
    await refuses(() => opt.scalars(0, { learningrate: 1e-2 } as never), 'adam', 'options.learningrate', 'learningRate');
    await refuses(() => sgd({ learningRate: 1e-3 }).scalars(0, { learningRat: 1 } as never), 'sgd', 'options.learningRat', 'learningRate');
    assert.equal(opt.scalars(0, { learningRate: 0.5 })[0], 0.5 / (1 - 0.9), 'the right key still works');

    await refuses(() => lrStep({ rule: 'plateau', patients: 3 } as never, lrStart(1e-3), 0, 0.5), 'lrStep', 'options.patients', 'patience');
    await refuses(() => objective(['gdl'], { name: 'constant', weight: [1] } as never, 2), 'objective', 'schedule.weight', 'weights');
    await refuses(() => objective(['gdl', 'boundary'], { name: 'rebalance', floorAtEpch: 5 } as never, 2), 'objective', 'schedule.floorAtEpch', 'floorAtEpoch');
    const unknownSchedule = await errorOf(() => objective(['gdl'], { name: 'cosine' } as never, 2));
    assert.ok(unknownSchedule instanceof InputError && unknownSchedule.argument === 'schedule.name', String(unknownSchedule));
    assert.match((unknownSchedule as Error).message, /unknown schedule "cosine"; expected one of rebalance, steal, constant, increase/);
    core.dispose([params, state, x, optState]);
  });

  test('checkpoint functions name an unknown key of `expected` (loadCheckpoint before reading the file)', async () => {
    const file: CheckpointFile = { file: 'none.ckpt' } as never;
    await refuses(() => loadCheckpoint('/nonexistent/best.ckpt', { clases: 2 } as never), 'loadCheckpoint', 'expected.clases', 'classes');
    await refuses(() => restoreCheckpoint(file, { bas: 16 } as never), 'restoreCheckpoint', 'expected.bas', 'base');
    await refuses(() => checkArchitecture(file, { depht: 3 } as never), 'checkArchitecture', 'expected.depht', 'depth');
  });

  test('train: an unknown key of its options or its config, before anything runs', async () => {
    const data = standIn(4, 2);
    const before = core.memory().buffers;
    await refuses(() => train(config(), data, { dirr: '/tmp/x' } as never), 'train', 'options.dirr', 'dir');
    await refuses(() => train(config(), data, { onstep: () => undefined } as never), 'train', 'options.onstep', 'onStep');
    await refuses(() => train({ ...config(), learningrate: 0.1 } as never, data), 'train', 'config.learningrate', 'learningRate');
    await refuses(() => train({ ...config(), model: { ...config().model, classess: 2 } } as never, data), 'unet', 'config.classess', 'classes');
    assert.equal(core.memory().buffers, before, 'nothing allocated');
  });
});

/**
 * The stand-in dataset with its batches changed by `edit`, recording the indices of each batch
 * handed out.
 */
function edited(data: TrainingData, edit: (split: 'train' | 'val', indices: readonly number[], b: TrainingBatch) => TrainingBatch): TrainingData & { readonly asked: Array<[string, readonly number[]]> } {
  const asked: Array<[string, readonly number[]]> = [];
  return {
    ...data,
    batch: (split, indices) => {
      asked.push([split, [...indices]]);
      return edit(split, indices, data.batch(split, indices));
    },
    asked,
  };
}

/** `b` with its target [B, K, H, W] replaced by a copy that `change` edits (row-major values). */
function changeTarget(b: TrainingBatch, change: (v: Float32Array) => void, shape: readonly number[] = b.target.shape): TrainingBatch {
  const v = new Float32Array(shape.reduce((n, d) => n * d, 1));
  v.set(b.target.dataSync().subarray(0, v.length));
  change(v);
  const target = core.tensor(v, shape);
  b.target.dispose();
  return { ...b, target };
}

describe('hardening: train checks the batches of a user-supplied dataset (item 8)', () => {
  before(async () => core.setBackend('cpu'));
  const hw = SIZE * SIZE;
  const K = 2;

  /** Trains on `data`, expecting a refusal; returns the error and the steps that ran. */
  async function refused(data: TrainingData, over: Partial<TrainConfig> = {}): Promise<{ error: InputError; steps: number }> {
    let steps = 0;
    const error = await errorOf(() => train(config(over), data, { onStep: () => void steps++, jit: false }));
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.op, 'train');
    assert.equal(error.argument, 'data');
    return { error, steps };
  }

  test('a target that is not one-hot in the first training batch is refused before any step, naming the image', async () => {
    const data = edited(standIn(8, 2), (split, _indices, b) =>
      split === 'train' ? changeTarget(b, (v) => void (v[(1 * K + 1) * hw + 3 * SIZE + 4] = 7)) : b); // image 1 of the batch, class 1, pixel (3, 4)
    const live = core.memory().buffers;
    const { error, steps } = await refused(data);
    const [split, first] = data.asked[0]!;
    assert.equal(split, 'train', 'the first training batch is the first one asked for');
    assert.equal(error.message, `train: data: training image ${first[1]} (batch 1 of epoch 1, data.batch('train', [${first.join(', ')}])): the target is not one-hot over the 2 classes: value 7 at index [1, 3, 4] is not 0 or 1 (index [class, y, x])`);
    assert.equal(steps, 0, 'no step ran');
    assert.equal(core.memory().buffers, live, 'the refused batch was released and nothing else allocated');
  });

  test('a pixel with no class (all zeros) and a target of the wrong shape are refused before any step', async () => {
    const empty = edited(standIn(8, 2), (split, _indices, b) =>
      split === 'train' ? changeTarget(b, (v) => { v[0 * hw + 5] = 0; v[1 * hw + 5] = 0; }) : b); // image 0, pixel (0, 5)
    const a = await refused(empty);
    assert.match(a.error.message, /: the target is not one-hot over the 2 classes: the line along axis 0 at index \[:, 0, 5\] has 0 ones \(expected exactly 1\)/);
    assert.equal(a.steps, 0);
    const wrongShape = edited(standIn(8, 2), (split, _indices, b) => (split === 'train' ? changeTarget(b, () => undefined, [b.target.shape[0]!, 3, SIZE, SIZE]) : b));
    const s = await refused(wrongShape);
    assert.match(s.error.message, /^train: data: batch 1 of epoch 1, data\.batch\('train', \[[\d, ]+\]\): the target must be one-hot of shape \[4, 2, 16, 16\], got \[4, 3, 16, 16\]$/);
    assert.equal(s.steps, 0);
  });

  test('a target that is not one-hot in the first validation batch is refused before any step, naming the image', async () => {
    const data = edited(standIn(8, 2), (split, _indices, b) => (split === 'val' ? changeTarget(b, (v) => void (v[0] = 0.5)) : b));
    const { error, steps } = await refused(data);
    assert.match(error.message, /^train: data: validation image 0 \(img2_0\) \(batch 1 of epoch 1, data\.batch\('val', \[0, 1\]\)\): the target is not one-hot over the 2 classes: value 0\.5 at index \[0, 0, 0\] is not 0 or 1/);
    assert.equal(steps, 0);
  });

  test('labels outside the classes are refused on the host in any batch, naming the image and the pixel', async () => {
    // unshuffled: batches [0, 1, 2, 3] and [4, 5, 6, 7]; image 5 is in the second batch
    const data = edited(standIn(8, 2), (split, indices, b) => {
      const j = indices.indexOf(5);
      if (split !== 'train' || j < 0) return b;
      const labels = Uint8Array.from(b.labels);
      labels[j * hw + 2 * SIZE + 3] = 9;
      return { ...b, labels };
    });
    const { error, steps } = await refused(data, { shuffle: false });
    assert.equal(error.message, "train: data: training image 5 (batch 2 of epoch 1, data.batch('train', [4, 5, 6, 7])): label 9 at (y, x) = (2, 3) is not one of the 2 classes 0 … 1");
    assert.equal(steps, 1, 'the first batch trained; the second was refused before its step');
    const short = edited(standIn(8, 2), (split, _indices, b) => (split === 'val' ? { ...b, labels: b.labels.subarray(1) } : b));
    const r = await refused(short);
    assert.match(r.error.message, /^train: data: batch 1 of epoch 1, data\.batch\('val', \[0, 1\]\): labels must be a Uint8Array of 2×16×16 = 512 class indices, got 511 values$/);
    assert.equal(r.steps, 0);
  });

  test('a dataset without host labels (an empty array) is checked by its targets only, and trains', async () => {
    const data = edited(standIn(8, 2), (_split, _indices, b) => ({ ...b, labels: new Uint8Array(0) }));
    const r = await train(config({ epochs: 1 }), data, { jit: false });
    assert.equal(r.rows.length, 1);
    core.dispose(r);
  });
});

describe('hardening: gpujs auto without a Vulkan loader (item 7)', () => {
  test('gpujs mode auto passes over WebGPU without starting Dawn: nothing native printed, the reason in autoReasons (child process)', { skip: vulkanLoaderPresent() && 'a Vulkan loader is installed here: Dawn may be started' }, () => {
    const dir = tempDir('bseg-hardening-options-');
    try {
      const script = join(dir, 'auto.mts');
      writeFileSync(script, [
        `import { getBackend, setBackend } from ${JSON.stringify(join(repo, 'index.ts'))};`,
        "await setBackend('gpujs', { mode: 'auto' });",
        'const b = getBackend() as unknown as { mode: string; autoReasons: string[]; dispose(): Promise<void> };',
        "process.stdout.write(JSON.stringify({ mode: b.mode, reasons: b.autoReasons }));",
        'await b.dispose();',
      ].join('\n'));
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', 'nothing on stderr (no "Couldn\'t load Vulkan" from Dawn)');
      const out = JSON.parse(r.stdout) as { mode: string; reasons: string[] };
      assert.notEqual(out.mode, 'webgpu');
      assert.equal(out.reasons[0], 'webgpu: no WebGPU adapter: this machine has no Vulkan loader (libvulkan.so.1), which WebGPU needs');
    } finally {
      removeDir(dir);
    }
  });

  test('gpujs mode webgpu without a Vulkan loader is a BackendError saying so, without starting Dawn', { skip: vulkanLoaderPresent() && 'a Vulkan loader is installed here' }, async () => {
    const e = await errorOf(() => core.setBackend('gpujs', { mode: 'webgpu' }));
    assert.ok(e instanceof core.BackendError, String(e));
    assert.match(e.message, /^setBackend: options\.mode: webgpu: no WebGPU adapter: this machine has no Vulkan loader \(libvulkan\.so\.1\), which WebGPU needs \(install the GPU's Vulkan driver, or choose another mode: auto, webgpu, headlessgl, webasm, cpu\)$/);
    assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined, 'navigator.gpu was never defined');
  });
});

test('setBackend refuses an unknown option of the CPU backends, naming it', async () => {
  await assert.rejects(core.setBackend('wasm', { thread: 2 }), (e: unknown) => e instanceof InputError && /options\.thread/.test(e.message) && /did you mean 'threads'/.test(e.message));
  await assert.rejects(core.setBackend('cpu', { mode: 'fast' }), (e: unknown) => e instanceof InputError && /options\.mode/.test(e.message));
  await core.setBackend('cpu');
});
