/**
 * The gpu.js backend for a browser (`backends/gpujs/browser.ts`), tested in Node: its esbuild
 * browser bundle imports nothing of Node and carries gpu.js's browser build; that bundle, run
 * here in `cpu` mode, and browser.ts imported directly give the `cpu` backend's values on a few
 * ops, a boundary loss and its gradient (1e-5); the mode probes and `auto`'s choice over fake
 * `navigator.gpu` adapters and fake WebGL test contexts. The page itself (WebGL and WebGPU on
 * SwiftShader) is tested in headless Chromium by spec/browser-page.test.ts.
 */
import assert from 'node:assert/strict';
import { maxRelErr } from './helpers/numeric.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import type { Metafile } from 'esbuild';
import { bundleForBrowser, isNodeModule } from './helpers/bundle.js';
import '../backends/register.js';
import * as core from '../core/index.js';
import { withBackend, type Backend } from '../core/backend.js';
import { createCpuBackend } from '../backends/cpu/backend.js';
import {
  chosenRenderer,
  createGpujsBrowserBackend,
  describeWebGlContext,
  gpujsLibraryOf,
  probeBrowserWebGl,
  probeBrowserWebGpu,
  resolveBrowserMode,
  type BrowserGpuAdapter,
  type BrowserProbes,
  type DeviceProbe,
  type GlKernelClass,
  type WebGlProbe,
} from '../backends/gpujs/browser.js';
import type { GlContext } from '../backends/gpujs/runtime-shared.js';
import { ADAPTER_OPTIONS, UNMASKED_RENDERER_WEBGL, UNMASKED_VENDOR_WEBGL } from '../backends/gpujs/settings.js';
import { boundaryLoss, signedDistanceMaps } from '../losses/index.js';

type T = core.Tensor;

const ROOT = new URL('..', import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------
// The bundle

/**
 * Bundles an entry for a browser (`bundleForBrowser`): its code, inputs and the Node modules it
 * imports that a browser cannot resolve, as `path (from importer)`.
 */
async function bundle(entry: string): Promise<{ code: string; inputs: Metafile['inputs']; builtins: string[] }> {
  const b = await bundleForBrowser(ROOT, { entryPoints: [entry] });
  return { code: b.code, inputs: b.metafile.inputs, builtins: b.nodeImports.map((i) => `${i.path} (from ${i.importer})`) };
}

// ---------------------------------------------------------------------------------------------
// Values against the cpu backend

/** Deterministic values in [-1, 1). */
const vals = (n: number, seed: number): Float32Array => Float32Array.from(core.uniformArray(core.key(seed), n), (v) => v * 2 - 1);
const input = (shape: number[], seed: number): T => core.tensor(vals(core.sizeOf(shape), seed), shape);

/** Runs `f` on a backend and reads its result. */
async function runOn<H>(b: Backend<H>, f: () => T): Promise<{ data: Float32Array; shape: readonly number[] }> {
  return withBackend(b as unknown as Backend, async () => {
    const y = core.scope(f);
    const out = { data: await y.data(), shape: y.shape };
    y.dispose();
    return out;
  });
}

/** A ring mask [1, 12, 12] (ground truth) for the boundary loss. */
function ringMask(): Uint8Array {
  const m = new Uint8Array(144);
  for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) {
    const r = Math.hypot(y - 5.5, x - 5.5);
    m[y * 12 + x] = r > 2 && r < 4.5 ? 1 : 0;
  }
  return m;
}

/** The cases every cpu-mode backend is compared on: a few primitives, a boundary loss, its gradient. */
function cases(): Record<string, () => T> {
  const phi = signedDistanceMaps({ data: ringMask(), shape: [1, 12, 12] }, { classes: 2, batched: true });
  const maps = (): T => core.tensor(phi.data, phi.shape);
  const probs = (logits: T): T => core.softmax(logits, 1);
  return {
    'broadcast add and mul': () => core.mul(core.add(input([3, 4, 5], 1), input([5], 2)), input([4, 1], 3)),
    'exp, log, sigmoid': () => core.log(core.add(core.exp(input([7, 9], 4)), core.sigmoid(input([7, 9], 5)))),
    matmul: () => core.matmul(input([9, 13], 6), input([13, 5], 7)),
    conv2d: () => core.conv2d(input([2, 3, 10, 10], 8), input([4, 3, 3, 3], 9), { stride: 1, padding: 1 }),
    'sum over an axis (3,000 terms)': () => core.sum(input([2, 3000], 10), 1),
    'boundary loss': () => boundaryLoss(probs(input([1, 2, 12, 12], 11)), maps(), { idc: [1] }),
    'boundary loss gradient': () => {
      const [, g] = core.valueAndGrad((z: T) => boundaryLoss(probs(z), maps(), { idc: [1] }))(input([1, 2, 12, 12], 11));
      return g;
    },
  };
}

/** Declares the comparison of a backend (made by `make`) with the cpu backend on every case. */
function matchesCpu(label: string, make: () => Promise<Backend & { dispose(): Promise<void> }>): void {
  describe(label, () => {
    const cpu = createCpuBackend();
    let b: (Backend & { dispose(): Promise<void> }) | undefined;
    const backend = async (): Promise<Backend> => (b ??= await make());
    after(async () => {
      await b?.dispose();
    });
    for (const [name, f] of Object.entries(cases())) {
      test(`${name}: the cpu backend's values within 1e-5`, async () => {
        const ref = await runOn(cpu, f);
        const got = await runOn(await backend(), f);
        assert.deepEqual(got.shape, ref.shape, `${name}: shape`);
        const e = maxRelErr(got.data, ref.data);
        assert.ok(e <= 1e-5, `${name}: error ${e} > 1e-5`);
      });
    }
    test('describe(): gpujs, cpu mode, CPUKernel, software', async () => {
      const d = await (await backend()).describe();
      assert.equal(d.name, 'gpujs');
      assert.equal(d.mode, 'cpu');
      assert.equal(d.kernelClass, 'CPUKernel');
      assert.equal(d.software, true);
      assert.equal(d.precision, 'float32');
    });
  });
}

describe('the browser bundle of backends/gpujs/browser.ts', () => {
  let built: Awaited<ReturnType<typeof bundle>> | undefined;
  const browserBundle = async (): Promise<Awaited<ReturnType<typeof bundle>>> => (built ??= await bundle('backends/gpujs/browser.ts'));

  test('imports no Node built-in (node: or bare) and none of the Node-only files', async () => {
    const { inputs, builtins } = await browserBundle();
    assert.deepEqual(builtins, [], 'Node built-ins imported');
    const files = Object.keys(inputs);
    for (const nodeOnly of ['backends/gpujs/runtime.ts', 'backends/gpujs/backend.ts']) assert.ok(!files.includes(nodeOnly), `${nodeOnly} is in the bundle`);
    for (const [file, { imports }] of Object.entries(inputs)) {
      // every import as written, so that one a browser field maps away counts too
      for (const i of imports) assert.ok(!isNodeModule(i.original ?? i.path) && !i.external, `${file} imports ${i.original ?? i.path}`);
    }
  });

  test('carries gpu.js\'s browser build, not its Node build', async () => {
    const files = Object.keys((await browserBundle()).inputs);
    assert.ok(files.includes('node_modules/gpu.js/dist/gpu-browser.js'), 'gpu-browser.js bundled');
    assert.ok(!files.some((f) => f.startsWith('node_modules/gpu.js/src/')), 'gpu.js sources bundled');
    assert.ok(!files.some((f) => f.startsWith('node_modules/gl/') || f.startsWith('node_modules/webgpu/')), 'headless-gl or Dawn bundled');
  });

  test('the check finds the Node imports of the Node backend (backend.ts)', async () => {
    const { builtins } = await bundle('backends/gpujs/backend.ts');
    assert.ok(builtins.some((b) => b.startsWith('node:fs')), `found: ${builtins.join(', ')}`);
  });

  // the bundle, written out and imported: gpu.js's browser build (a UMD module behind esbuild's
  // CommonJS wrapper) runs the kernels in cpu mode here
  const dir = mkdtempSync(join(tmpdir(), 'gpujs-browser-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  matchesCpu('the bundle run in Node, cpu mode', async () => {
    const file = join(dir, 'browser.mjs');
    writeFileSync(file, (await browserBundle()).code);
    const mod = (await import(pathToFileURL(file).href)) as { createGpujsBrowserBackend: typeof createGpujsBrowserBackend };
    return mod.createGpujsBrowserBackend({ mode: 'cpu' });
  });
});

matchesCpu('browser.ts imported in Node, cpu mode', () => createGpujsBrowserBackend({ mode: 'cpu' }));

test('a minified bundle (no keepNames) still names the kernel class that ran', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpujs-browser-min-'));
  try {
    const b = await bundleForBrowser(ROOT, { entryPoints: ['backends/gpujs/browser.ts'], minify: true, keepNames: false });
    const file = join(dir, 'browser.min.mjs');
    writeFileSync(file, b.code);
    const mod = (await import(pathToFileURL(file).href)) as { createGpujsBrowserBackend: typeof createGpujsBrowserBackend };
    const be = await mod.createGpujsBrowserBackend({ mode: 'cpu' });
    const got = await runOn(be, () => core.exp(input([3, 4], 1)));
    assert.equal(got.data.length, 12);
    const d = await be.describe();
    assert.equal(d.kernelClass, 'CPUKernel', 'named by identity, not by the minified constructor name');
    await be.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('settle() and dispose() need no setImmediate (a page has none)', async () => {
  const b = await createGpujsBrowserBackend({ mode: 'cpu' });
  const saved = globalThis.setImmediate;
  try {
    Reflect.deleteProperty(globalThis, 'setImmediate');
    assert.equal(typeof globalThis.setImmediate, 'undefined');
    const y = withBackend(b as unknown as Backend, () => core.add(input([4, 4], 12), 1));
    await b.settle();
    assert.equal((await y.data()).length, 16);
    y.dispose();
    await b.dispose();
  } finally {
    globalThis.setImmediate = saved;
  }
});

// ---------------------------------------------------------------------------------------------
// Probes and the choice of `auto`

/** A fake `navigator` whose `gpu` answers `adapter` (or throws it, when an Error), recording the options. */
function fakeNavigator(adapter: BrowserGpuAdapter | null | Error, asked: object[] = []): { gpu: { requestAdapter(o?: object): Promise<BrowserGpuAdapter | null> } } {
  return {
    gpu: {
      requestAdapter: async (o) => {
        asked.push(o ?? {});
        if (adapter instanceof Error) throw adapter;
        return adapter;
      },
    },
  };
}

/** A fake GL test context with (or without) `WEBGL_debug_renderer_info`. */
function fakeGl(unmasked: string | undefined, masked = 'WebKit WebGL'): GlContext {
  const RENDERER = 0x1f01;
  const VERSION = 0x1f02;
  const params: Record<number, string> = { [RENDERER]: masked, [VERSION]: 'WebGL 2.0 (OpenGL ES 3.0 Chromium)', [UNMASKED_VENDOR_WEBGL]: 'Google Inc.', [UNMASKED_RENDERER_WEBGL]: unmasked ?? '' };
  return {
    RENDERER,
    VERSION,
    getParameter: (p) => params[p] ?? null,
    getExtension: (name) => (name === 'WEBGL_debug_renderer_info' && unmasked !== undefined ? { UNMASKED_VENDOR_WEBGL, UNMASKED_RENDERER_WEBGL } : null),
  };
}

/** A fake gpu.js GL kernel class. */
function glClass(name: string, ctx: GlContext | null, features: GlKernelClass['features'] = { isFloatRead: true, isTextureFloat: true }): GlKernelClass {
  return { name, isSupported: ctx !== null, testContext: ctx, features: ctx ? features : null };
}

const SWIFTSHADER_GL = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const NVIDIA_GL = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 (0x00002206) Direct3D11 vs_5_0 ps_5_0, D3D11)';

describe('probes', () => {
  test('WebGPU: no navigator, or no navigator.gpu: not available, saying so', async () => {
    for (const nav of [undefined, {}]) {
      const p = await probeBrowserWebGpu(nav);
      assert.equal(p.ok, false);
      assert.match((p as { problem: string }).problem, /navigator\.gpu is missing/);
    }
  });

  test('WebGPU: no adapter, or requestAdapter throwing: not available, saying why', async () => {
    const none = await probeBrowserWebGpu(fakeNavigator(null));
    assert.deepEqual(none.ok, false);
    assert.match((none as { problem: string }).problem, /no adapter/);
    const thrown = await probeBrowserWebGpu(fakeNavigator(new Error('blocked by policy')));
    assert.match((thrown as { problem: string }).problem, /requestAdapter\(\) failed: blocked by policy/);
  });

  test('WebGPU: a hardware adapter is described from its info; asked with the adapter options', async () => {
    const asked: object[] = [];
    const p = await probeBrowserWebGpu(fakeNavigator({ info: { vendor: 'nvidia', architecture: 'ampere', device: '', description: '' } }, asked));
    assert.deepEqual(p, { ok: true, renderer: 'WebGPU: nvidia ampere', software: false });
    assert.deepEqual(asked, [ADAPTER_OPTIONS]);
  });

  test('WebGPU: SwiftShader, the fallback adapter (in info or on the adapter) and requestAdapterInfo() are software', async () => {
    const swiftshader = await probeBrowserWebGpu(fakeNavigator({ info: { vendor: 'google', architecture: 'swiftshader' } }));
    assert.deepEqual(swiftshader, { ok: true, renderer: 'WebGPU: google swiftshader', software: true });
    const fallback = await probeBrowserWebGpu(fakeNavigator({ info: { vendor: 'acme', isFallbackAdapter: true } }));
    assert.deepEqual(fallback, { ok: true, renderer: 'WebGPU: acme', software: true });
    const older = await probeBrowserWebGpu(fakeNavigator({ isFallbackAdapter: true, requestAdapterInfo: async () => ({ vendor: 'acme', architecture: 'gen-x' }) }));
    assert.deepEqual(older, { ok: true, renderer: 'WebGPU: acme gen-x', software: true });
    const hardwareOlder = await probeBrowserWebGpu(fakeNavigator({ requestAdapterInfo: async () => ({ vendor: 'amd', architecture: 'rdna-3' }) }));
    assert.deepEqual(hardwareOlder, { ok: true, renderer: 'WebGPU: amd rdna-3', software: false });
  });

  test('WebGL renderer: the unmasked name; SwiftShader and llvmpipe are software; no debug info counts as software', () => {
    assert.deepEqual(describeWebGlContext(fakeGl(NVIDIA_GL), 'WebGL 2'), { renderer: `WebGL 2: ${NVIDIA_GL}`, software: false });
    assert.deepEqual(describeWebGlContext(fakeGl(SWIFTSHADER_GL), 'WebGL 2'), { renderer: `WebGL 2: ${SWIFTSHADER_GL}`, software: true });
    assert.equal(describeWebGlContext(fakeGl('ANGLE (Mesa, llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5)'), 'WebGL 1').software, true);
    const unknown = describeWebGlContext(fakeGl(undefined), 'WebGL 2');
    assert.equal(unknown.software, true);
    assert.match(unknown.renderer, /^WebGL 2: WebKit WebGL .*driver unknown \(no WEBGL_debug_renderer_info\)/);
  });

  test('WebGL: webgl2 first, else WebGL 1 with float textures; each needs float reads', () => {
    const none = glClass('WebGLKernel', null);
    const two = probeBrowserWebGl({ WebGL2Kernel: glClass('WebGL2Kernel', fakeGl(NVIDIA_GL)), WebGLKernel: glClass('WebGLKernel', fakeGl(NVIDIA_GL)) });
    assert.deepEqual(two, { ok: true, gpujsMode: 'webgl2', renderer: `WebGL 2: ${NVIDIA_GL}`, software: false });
    const one = probeBrowserWebGl({ WebGL2Kernel: glClass('WebGL2Kernel', null), WebGLKernel: glClass('WebGLKernel', fakeGl(SWIFTSHADER_GL)) });
    assert.deepEqual(one, { ok: true, gpujsMode: 'webgl', renderer: `WebGL 1: ${SWIFTSHADER_GL}`, software: true });
    const noFloat = probeBrowserWebGl({ WebGL2Kernel: glClass('WebGL2Kernel', fakeGl(NVIDIA_GL), { isFloatRead: false }), WebGLKernel: glClass('WebGLKernel', fakeGl(NVIDIA_GL), { isFloatRead: true, isTextureFloat: false }) });
    assert.equal(noFloat.ok, false);
    assert.match((noFloat as { problem: string }).problem, /WebGL 2: float32 results cannot be read back.*WebGL 1: no float textures/);
    const throwing: GlKernelClass = {
      name: 'WebGL2Kernel',
      get isSupported(): boolean {
        throw new Error('context lost');
      },
      testContext: null,
      features: null,
    };
    const lost = probeBrowserWebGl({ WebGL2Kernel: throwing, WebGLKernel: none });
    assert.match((lost as { problem: string }).problem, /WebGL 2: context lost; WebGL 1: no context/);
  });

  test('WebGL in Node (gpu.js\'s Node build: no document, no OffscreenCanvas): not available', async () => {
    const p = probeBrowserWebGl(gpujsLibraryOf(await import('gpu.js')));
    assert.equal(p.ok, false);
    assert.match((p as { problem: string }).problem, /WebGL 2: no context.*WebGL 1: no context/);
  });

  test('gpu.js\'s exports are found on the module, its default (the browser build\'s GPU class) or their GPU', async () => {
    const node = gpujsLibraryOf(await import('gpu.js'));
    assert.equal(typeof node.GPU, 'function');
    // the browser build: module.exports is the GPU class, every export a static property of it
    const GPU = Object.assign(function GPU() {}, { WebGPUContext: class {}, WebGL2Kernel: class {}, WebGLKernel: class {}, CPUKernel: class {}, WebGPUKernel: class {} });
    Object.assign(GPU, { GPU });
    assert.equal(gpujsLibraryOf({ default: GPU }), GPU);
    assert.equal(gpujsLibraryOf({ GPU }), GPU);
    const lib = { GPU, WebGPUContext: class {}, WebGL2Kernel: class {}, WebGLKernel: class {} };
    assert.equal(gpujsLibraryOf({ default: lib }), lib);
    assert.throws(() => gpujsLibraryOf({ default: { GPU: 1 } }), (e: Error) => e instanceof core.BackendError && /gave no gpu\.js 2\.24\.1 exports/.test(e.message));
    assert.throws(() => gpujsLibraryOf(undefined), core.BackendError);
  });
});

describe('the choice of mode', () => {
  const gpuHw: DeviceProbe = { ok: true, renderer: 'WebGPU: nvidia ampere', software: false };
  const gpuSw: DeviceProbe = { ok: true, renderer: 'WebGPU: google swiftshader', software: true };
  const gpuNone: DeviceProbe = { ok: false, problem: 'no WebGPU here' };
  const glHw: WebGlProbe = { ok: true, gpujsMode: 'webgl2', renderer: `WebGL 2: ${NVIDIA_GL}`, software: false };
  const glSw: WebGlProbe = { ok: true, gpujsMode: 'webgl2', renderer: `WebGL 2: ${SWIFTSHADER_GL}`, software: true };
  const glNone: WebGlProbe = { ok: false, problem: 'no WebGL here' };

  /** Probes answering fixed results, counting their calls. */
  const probes = (webgpu: DeviceProbe, webgl: WebGlProbe): BrowserProbes & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      webgpu: async () => (calls.push('webgpu'), webgpu),
      webgl: () => (calls.push('webgl'), webgl),
    };
  };

  // label, probes, mode chosen, taken in software, probes called, reasons given
  const autoCases: [string, DeviceProbe, WebGlProbe, string, boolean, string[], number][] = [
    ['hardware WebGPU first (WebGL not probed)', gpuHw, glHw, 'webgpu', false, ['webgpu'], 0],
    ['hardware WebGL over software WebGPU', gpuSw, glHw, 'webgl', false, ['webgpu', 'webgl'], 1],
    ['hardware WebGL without WebGPU', gpuNone, glHw, 'webgl', false, ['webgpu', 'webgl'], 1],
    ['software WebGPU when nothing is hardware', gpuSw, glSw, 'webgpu', true, ['webgpu', 'webgl'], 2],
    ['software WebGL when nothing else runs', gpuNone, glSw, 'webgl', true, ['webgpu', 'webgl'], 2],
    ['cpu when neither runs', gpuNone, glNone, 'cpu', false, ['webgpu', 'webgl'], 2],
  ];
  for (const [label, webgpu, webgl, mode, softwareByAuto, calls, reasons] of autoCases) {
    test(`auto: ${label}`, async () => {
      const p = probes(webgpu, webgl);
      const choice = await resolveBrowserMode('auto', p);
      assert.equal(choice.mode, mode);
      assert.equal(choice.softwareByAuto, softwareByAuto);
      assert.deepEqual(p.calls, calls);
      assert.equal(choice.reasons.length, reasons, choice.reasons.join('; '));
      assert.equal(choice.webgl, mode === 'webgl' ? webgl : undefined, 'the WebGL probe travels with a webgl choice');
    });
  }

  test('auto\'s reasons say why each mode was passed over', async () => {
    const choice = await resolveBrowserMode('auto', probes(gpuSw, glNone));
    assert.deepEqual(choice.reasons, ['webgpu: WebGPU: google swiftshader is a software adapter', 'webgl: no WebGL here']);
    assert.equal(choice.mode, 'webgpu');
  });

  test('describe()\'s renderer says when auto took a software renderer', () => {
    assert.equal(chosenRenderer('WebGL 2: SwiftShader', { softwareByAuto: false }), 'WebGL 2: SwiftShader');
    assert.match(chosenRenderer('WebGL 2: SwiftShader', { softwareByAuto: true }), /^WebGL 2: SwiftShader \(a software renderer: auto took it as no hardware GPU answered\)$/);
  });

  test('an explicit mode: taken even in software, refused with the problem when absent, cpu without probing', async () => {
    assert.equal((await resolveBrowserMode('webgpu', probes(gpuSw, glNone))).mode, 'webgpu');
    assert.equal((await resolveBrowserMode('webgl', probes(gpuNone, glSw))).mode, 'webgl');
    const p = probes(gpuHw, glHw);
    assert.equal((await resolveBrowserMode('cpu', p)).mode, 'cpu');
    assert.deepEqual(p.calls, []);
    await assert.rejects(resolveBrowserMode('webgl', probes(gpuHw, glNone)), (e: Error) => e instanceof core.BackendError && /options\.mode.*webgl: no WebGL here \(modes of gpujs in a browser: auto, webgpu, webgl, cpu\)/.test(e.message));
    await assert.rejects(resolveBrowserMode('webgpu', probes(gpuNone, glHw)), (e: Error) => e instanceof core.BackendError && /webgpu: no WebGPU here/.test(e.message));
  });

  test('createGpujsBrowserBackend in Node: auto falls to cpu with the reasons; webgl and webgpu are refused', async () => {
    const b = await createGpujsBrowserBackend({});
    try {
      assert.equal(b.mode, 'cpu');
      assert.equal(b.autoReasons.length, 2);
      assert.match(b.autoReasons[0]!, /^webgpu: /);
      assert.match(b.autoReasons[1]!, /^webgl: WebGL 2: no context/);
    } finally {
      await b.dispose();
    }
    await assert.rejects(createGpujsBrowserBackend({ mode: 'webgl' }), (e: Error) => e instanceof core.BackendError && /webgl: WebGL 2: no context/.test(e.message));
    await assert.rejects(createGpujsBrowserBackend({ mode: 'webgpu' }), (e: Error) => e instanceof core.BackendError && /webgpu: /.test(e.message));
  });

  test('createGpujsBrowserBackend: given probes decide; bad options are refused naming them', async () => {
    const b = await createGpujsBrowserBackend({ mode: 'auto' }, { probes: probes(gpuNone, glNone) });
    assert.equal(b.mode, 'cpu');
    assert.deepEqual(b.autoReasons, ['webgpu: no WebGPU here', 'webgl: no WebGL here']);
    await b.dispose();
    await assert.rejects(createGpujsBrowserBackend({ mode: 'headlessgl' }), (e: Error) => e instanceof core.BackendError && /options\.mode.*expected one of auto, webgpu, webgl, cpu, got "headlessgl"/.test(e.message));
    await assert.rejects(createGpujsBrowserBackend({ mode: 'cpu', canvas: 1 }), (e: Error) => e instanceof core.BackendError && /unknown option\(s\) canvas/.test(e.message));
  });
});
