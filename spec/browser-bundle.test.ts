/**
 * The library in a browser: every browser entry point (each `browser` condition of package.json's
 * `exports`, mapped back to its source) bundles with esbuild for the browser platform with no
 * `node:` import and no Node built-in (a failure names the chain of importers from the entry), and
 * keeps its backend registration (a registration dropped for want of a `sideEffects` entry is a
 * failure). The bundles then run in a fresh `vm` context holding only a browser's globals (no
 * `process`, `require`, `Buffer`): the boundary loss and its gradient on `cpu` and on `wasm` (which
 * reports one thread there, refuses more, and runs over an ordinary memory) are bit-identical to the
 * Node build's; a training run there refuses a run folder, and without one gives the Node run's rows
 * and parameters bit for bit; its checkpoint bytes decode in Node, and their checksum is
 * `node:crypto`'s SHA-256.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import type { BuildOptions } from 'esbuild';
import type { WasmBackend } from '../backends/wasm/backend.js';
import * as lib from '../index.js';
import { sha256 } from '../models/sha256.js';
import { bundleForBrowser, nodeImportChains } from './helpers/bundle.js';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; sideEffects: string[] };

/** The browser entry points: subpath → source file (the `browser` target `./dist/X.js` is built from `X.ts`). */
const entries: [subpath: string, source: string][] = Object.entries(pkg.exports).flatMap(([subpath, target]) => {
  const browser = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)['browser'] : undefined;
  if (typeof browser !== 'string') return [];
  const source = browser.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
  return [[subpath, source] as [string, string]];
});

const bundle = (options: BuildOptions) => bundleForBrowser(root, options);

/** The source of a subpath's Node entry (its `default` target `./dist/X.js` is built from `X.ts`). */
const nodeSource = (subpath: string): string => ((pkg.exports[subpath] as Record<string, string>)['default']!).replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');

/** What needs Node: the exports of a Node entry that its browser entry leaves out (as the README's "In the browser" lists them). */
const CHECKPOINT_FILES = ['readCheckpointFile', 'readRunRows', 'loadCheckpoint', 'saveCheckpoint'];
const DATA_FILES = [
  'decodePng', 'encodePng', 'readNifti', 'writeNifti', 'writeFileAtomic', 'FileWriteError',
  'MAX_INFLATED_BYTES', 'MAX_PNG_SAMPLES', 'MAX_VOXELS', 'PNG_INFLATE_SLACK', 'NIFTI_INFLATE_SLACK',
  'MAX_INFERRED_CLASSES', 'groupImageCases', 'listImageFiles', 'loadDataset', 'loadImageFile', 'loadLabels',
  'NNUNET_FILE_ENDINGS', 'isNnunetFolder', 'loadNnunetDataset', 'parseDatasetJson', 'parseSplits', 'readSplits',
];
const NODE_ONLY: Readonly<Record<string, readonly string[]>> = { '.': [...CHECKPOINT_FILES, ...DATA_FILES], './models': CHECKPOINT_FILES, './data': DATA_FILES };

/** The globals of a browser page that the library may use (and no `process`, `require`, `Buffer`, `global`). */
function browserContext(): vm.Context {
  const context = vm.createContext({
    console, TextEncoder, TextDecoder, performance, queueMicrotask, structuredClone, setTimeout, clearTimeout, setInterval, clearInterval,
    crypto: globalThis.crypto,
  });
  vm.runInContext('globalThis.self = globalThis; globalThis.window = globalThis;', context);
  return context;
}

/** Runs an IIFE bundle that sets `globalThis.lib` in a fresh browser-like context; returns what it set. */
function runInBrowserContext<T>(code: string): T {
  const context = browserContext();
  vm.runInContext(code, context, { filename: 'bundle.js' });
  for (const name of ['process', 'require', 'Buffer', 'global', 'module']) {
    assert.equal(vm.runInContext(`typeof ${name}`, context), 'undefined', `the context has no ${name}`);
  }
  return (context as { lib: T }).lib;
}

type Lib = typeof lib;

/** Float32 bits of values, for exact comparisons across realms. */
const bits = (values: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(values).buffer));

/** G (a disk) and a prediction s (a shifted disk, blended), as the playground computes them, 24×24. */
function masks(n = 24): { gt: Uint8Array; probs: Float32Array } {
  const gt = new Uint8Array(n * n);
  const s = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      gt[y * n + x] = Math.hypot(x - 11.5, y - 11.5) <= 6 ? 1 : 0;
      s[y * n + x] = Math.hypot(x - 13, y - 11) <= 7 ? 0.9 : 0.05;
    }
  }
  const probs = new Float32Array(2 * n * n);
  for (let q = 0; q < n * n; q++) {
    probs[q] = Math.fround(1 - s[q]!);
    probs[n * n + q] = s[q]!;
  }
  return { gt, probs };
}

/** The boundary loss of `masks()` and its gradient, with the library `l` on backend `name`: float32 bits. */
async function boundaryOn(l: Pick<Lib, 'setBackend' | 'tensor' | 'signedDistanceMaps' | 'boundaryLoss' | 'valueAndGrad' | 'dispose'>, name: string): Promise<{ loss: number[]; grad: number[]; phi: number[] }> {
  await l.setBackend(name);
  const n = 24;
  const { gt, probs } = masks(n);
  const maps = l.signedDistanceMaps({ data: gt, shape: [1, n, n] }, { classes: 2, batched: true, convention: 'interface' });
  const phi = l.tensor(maps.data, maps.shape);
  const p = l.tensor(probs, [1, 2, n, n]);
  const [loss, grad] = l.valueAndGrad((q: typeof p) => l.boundaryLoss(q, phi, { idc: [1] }))(p);
  const out = { loss: bits(await loss.data()), grad: bits(await grad.data()), phi: bits(maps.data) };
  l.dispose([phi, p, loss, grad]);
  return out;
}

describe('browser entry points', () => {
  test('package.json names a browser entry for the package root and every subpath, each built from a source beside its Node entry', () => {
    const subpaths = entries.map(([s]) => s);
    for (const s of ['.', './core', './backends', './losses', './metrics', './models', './data']) assert.ok(subpaths.includes(s), `exports["${s}"] has a browser condition`);
    for (const [subpath, source] of entries) {
      assert.ok(existsSync(join(root, source)), `exports["${subpath}"].browser is built from ${source}, which exists`);
      const keys = Object.keys(pkg.exports[subpath] as object);
      assert.deepEqual([keys[0], keys[keys.length - 1]], ['types', 'default'], `exports["${subpath}"]: types first, default last`);
      // an entry that registers backends must be declared as having side effects, source and build alike
      if (source !== 'core/index.ts') {
        for (const f of [`./${source}`, `./dist/${source.replace(/\.ts$/, '.js')}`]) assert.ok(pkg.sideEffects.includes(f), `sideEffects lists ${f}`);
      }
    }
    assert.ok(pkg.sideEffects.includes('./backends/register-browser.ts') && pkg.sideEffects.includes('./dist/backends/register-browser.js'));
  });

  for (const [subpath, source] of entries) {
    test(`${subpath} (${source}) bundles for the browser without Node's modules`, async () => {
      const b = await bundle({ entryPoints: [source] });
      const problems = nodeImportChains(b, source);
      assert.deepEqual(problems, [], `Node modules in the browser bundle of ${subpath}:\n${problems.join('\n')}`);
      const dropped = b.warnings.filter((w) => w.id === 'ignored-bare-import').map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`);
      assert.deepEqual(dropped, [], `imports dropped from the bundle (a module with side effects missing from sideEffects):\n${dropped.join('\n')}`);
      // everything of the Node entry but what needs Node
      const exported = Object.values(b.metafile.outputs)[0]!.exports;
      const nodeExports = Object.keys(await import(join(root, nodeSource(subpath))) as object);
      assert.deepEqual(nodeExports.filter((n) => !exported.includes(n)).sort(), [...(NODE_ONLY[subpath] ?? [])].sort(), `what ${subpath} leaves out in a browser`);
      assert.deepEqual(exported.filter((n) => !nodeExports.includes(n)), [], `${subpath} exports nothing more in a browser`);
      const inputs = Object.keys(b.metafile.inputs);
      if (source !== 'core/index.ts') assert.ok(inputs.includes('backends/register-browser.ts'), `${source} registers the browser backends`);
      assert.ok(!inputs.includes('backends/register.ts') && !inputs.includes('core/host-node.ts'), `${source} reaches no Node registration`);
    });
  }

  test('the check names the chain of importers of a Node module (the Node entry fails it)', async () => {
    const b = await bundle({ entryPoints: ['index.ts'] });
    const chains = nodeImportChains(b, 'index.ts');
    assert.ok(chains.some((c) => /^index\.ts → .*core\/host-node\.ts → node:worker_threads$/.test(c)), chains.join('\n'));
    assert.ok(chains.some((c) => c.endsWith('models/checkpoint.ts → node:fs/promises')), chains.join('\n'));
  });
});

describe('the browser bundles run without Node', () => {
  const entry = (subpath: string) => join(root, entries.find(([s]) => s === subpath)![1]);
  const iife = async (contents: string) => (await bundle({ stdin: { contents, resolveDir: root, sourcefile: 'entry.js' }, format: 'iife' })).code;

  test('./core + ./losses: the boundary loss and its gradient on cpu and wasm equal the Node build\'s bit for bit; wasm runs on 1 thread and refuses more', async () => {
    const code = await iife(`import * as core from ${JSON.stringify(entry('./core'))}; import * as losses from ${JSON.stringify(entry('./losses'))}; globalThis.lib = { ...core, ...losses };`);
    const b = runInBrowserContext<Lib>(code);
    assert.deepEqual([...b.listBackends()], ['cpu', 'cpu64', 'wasm', 'gpujs']);
    assert.equal(b.getHost().files, undefined);
    assert.equal(b.getHost().workers, undefined);
    for (const name of ['cpu', 'wasm']) {
      const inPage = await boundaryOn(b, name);
      const inNode = await boundaryOn(lib, name);
      assert.deepEqual(inPage, inNode, `${name}: the bundle's boundary loss, gradient and distance map equal Node's`);
      assert.ok(inPage.grad.some((x) => x !== 0));
    }
    await b.setBackend('wasm');
    const d = await b.getBackend().describe();
    assert.equal(d.mode, '1 thread');
    assert.match(d.kernelClass ?? '', /on the calling thread/);
    const memory = (b.getBackend() as unknown as WasmBackend).runtime.memory.buffer;
    assert.equal(Object.prototype.toString.call(memory), '[object ArrayBuffer]', 'an ordinary memory, which a page that is not cross-origin isolated can make');
    await assert.rejects(b.setBackend('wasm', { threads: 2 }), (e: Error) => {
      assert.ok(e instanceof b.BackendError, String(e));
      assert.match(e.message, /2 threads need Node's worker threads, which this host lacks/);
      return true;
    });
  });

  test('the package root: train refuses a run folder, and without one gives the Node run\'s rows and parameters; checkpoints are bytes', async () => {
    const b = runInBrowserContext<Lib>(await iife(`import * as lib from ${JSON.stringify(entry('.'))}; globalThis.lib = lib;`));
    for (const nodeOnly of ['loadCheckpoint', 'saveCheckpoint', 'readCheckpointFile', 'readRunRows', 'writeFileAtomic', 'decodePng', 'readNifti', 'loadDataset', 'loadNnunetDataset']) {
      assert.equal((b as unknown as Record<string, unknown>)[nodeOnly], undefined, `the browser root does not export ${nodeOnly}`);
    }
    const run = async (l: Lib, dir?: string) => {
      await l.setBackend('wasm');
      const ds = l.syntheticWmh({ seed: 3, trainSlices: 4, valSlices: 2, size: 16 });
      const config: lib.TrainConfig = {
        ...l.trainDefaults, epochs: 2, batchSize: 2, losses: ['gdl', 'boundary'], schedule: { name: 'rebalance' },
        model: { inChannels: ds.channels, classes: ds.classes, base: 4, depth: 2, batchNorm: true },
      };
      return l.train(config, l.trainingData(ds, { convention: 'interface' }), dir === undefined ? {} : { dir });
    };
    await assert.rejects(run(b, '/tmp/run'), (e: Error) => {
      assert.ok(e instanceof b.InputError, String(e));
      assert.equal((e as lib.InputError).argument, 'options.dir');
      assert.match(e.message, /needs a file system, which only Node provides here: omit dir/);
      return true;
    });
    const inPage = await run(b);
    const inNode = await run(lib);
    assert.equal(inPage.rows.length, 2);
    assert.deepEqual(JSON.parse(JSON.stringify(inPage.rows)), JSON.parse(JSON.stringify(inNode.rows)), 'the same rows');
    const leaves = async (l: Lib, r: typeof inNode) => Promise.all(l.treeLeaves(r.params).map(async (t) => bits(await t.data())));
    assert.deepEqual(await leaves(b, inPage), await leaves(lib, inNode), 'the same parameters, bit for bit');

    const ckpt = { kind: 'best', epoch: 2, model: inPage.model.config, params: inPage.params, state: inPage.state } as const;
    const bytes = await b.encodeCheckpoint(ckpt);
    const decoded = lib.decodeCheckpoint(Uint8Array.from(bytes), 'page.ckpt');
    assert.equal(decoded.header.kind, 'best');
    assert.deepEqual(Buffer.from(bytes.subarray(bytes.length - 32)).toString('hex'), createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest('hex'));
    assert.deepEqual(Buffer.from(await lib.encodeCheckpoint({ ...ckpt, params: inNode.params, state: inNode.state })), Buffer.from(bytes), 'the Node build writes the same bytes');
    assert.equal(b.decodeCheckpoint(bytes, 'page.ckpt').arrays.size, decoded.arrays.size);
    b.dispose(inPage);
    lib.dispose(inNode);
  });

  test('the host seam: setHost checks what it is given; Node\'s host can be swapped out and back', async () => {
    assert.throws(() => lib.setHost({ file: {} } as never), (e: Error) => e instanceof lib.InputError && /host\.file.*did you mean 'files'/.test(e.message));
    assert.throws(() => lib.setHost({ workers: { defaultThreads: () => 1 } } as never), /host\.workers: expected an object with the functions defaultThreads, channel, start; missing: channel, start/);
    const node = lib.setHost({});
    try {
      assert.equal(lib.getHost().files, undefined);
      await assert.rejects(lib.setBackend('wasm', { threads: 3, tag: 'no host' }), /3 threads need Node's worker threads/);
      await lib.setBackend('wasm', { tag: 'no host' });
      assert.equal((await lib.getBackend().describe()).mode, '1 thread', 'without worker threads the default is 1');
    } finally {
      lib.setHost(node);
    }
    assert.ok(lib.getHost().files && lib.getHost().workers, "Node's host is back");
  });

  test('the checkpoint checksum, SHA-256 in JavaScript, is node:crypto\'s on every length around a block', () => {
    for (const n of [0, 1, 31, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537]) {
      const bytes = new Uint8Array(randomBytes(n));
      assert.equal(Buffer.from(sha256(bytes)).toString('hex'), createHash('sha256').update(bytes).digest('hex'), `${n} bytes`);
    }
  });
});
