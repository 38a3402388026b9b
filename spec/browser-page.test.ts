/**
 * The playground page (web/) in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. The page is built (`buildWeb`) and served (`serveStatic`, with the cross-origin
 * isolation headers); for every preset × sign convention × blend (0 and 0.5) × backend the page
 * offers, its `window.playground.results()` are checked against the same numbers computed here in
 * Node, independently, with the library (the masks from `presetMasks`): bit for bit (`===`) on
 * `cpu` and `wasm`, within {@link GPU_TOLERANCE} (relative) on the gpu.js modes (float32 on the
 * GPU: other summation orders). The disk preset's continuum value must lie between the contour
 * values of the two conventions and within {@link CONTINUUM_TOLERANCE} of the interface
 * convention's. Screenshots are kept as test artefacts (`$BOUNDARY_SEG_ARTEFACTS` or
 * spec/artefacts/: the whole page, and its geometry part) and, with UPDATE_SCREENSHOT=1, the
 * geometry part is written to docs/images/playground.png.
 * Without /usr/bin/chromium (or `$BOUNDARY_SEG_CHROMIUM`) the file is skipped, except with CI=true,
 * where it fails.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  boundaryLoss, crossEntropy, diceLoss, dispose, generalizedDiceLoss, scope, setBackend, signedDistanceMaps, tensor,
  valueAndGrad, type Tensor,
} from '../index.js';
import { buildWeb, serveStatic, type StaticServer } from '../web/build.js';
import type { PlaygroundApi, PlaygroundConvention, PlaygroundResults, PresetName } from '../web/src/api.js';
import { PRESET_NAMES, presetMasks } from '../web/src/presets.js';
import { artefactsDir, chromiumProblem, inCi, launchChromium } from './helpers/browser.js';

/** Relative tolerance of the gpu.js modes against Node's `cpu` (|page − node| ≤ 1e-5 · scale). */
const GPU_TOLERANCE = 1e-5;

/**
 * Relative distance allowed between the disk preset's continuum value and its contour value under
 * the interface convention (6.2 % at N = 96: see the test).
 */
const CONTINUUM_TOLERANCE = 0.07;

/** The backends whose numbers must equal Node's bit for bit (the same JavaScript / WebAssembly code). */
const EXACT_BACKENDS = ['cpu', 'wasm'] as const;

const CONVENTIONS: readonly PlaygroundConvention[] = ['reference', 'interface'];
const BLENDS = [0, 0.5] as const;

/** How long the page may take to install `window.playground` (Chromium on 2 shared cores). */
const READY_TIMEOUT_MS = 30_000;

/** The whole file's limit (it takes about 40 s on 2 shared cores): a page that hangs fails instead. */
const FILE_TIMEOUT_MS = 180_000;

const ROOT = new URL('..', import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------
// The same computation in Node, from the contract's text (not from web/src/geometry.ts)

/** Node's numbers for one case. */
interface Expected {
  readonly boundaryLoss: number;
  readonly gdl: number;
  readonly dice: number;
  readonly ce: number;
  readonly lhs: number;
  readonly rhs: number;
  readonly contour: number;
  readonly phi: Float32Array;
  readonly grad: Float32Array;
}

/** Computes a case on the backend selected in Node. */
async function expectedResults(gt: Uint8Array, pred: Uint8Array, size: number, blend: number, convention: PlaygroundConvention): Promise<Expected> {
  const n = size * size;
  const s = new Float32Array(n);
  for (let q = 0; q < n; q++) s[q] = Math.fround((1 - blend) * pred[q]! + blend * gt[q]!);
  const maps = signedDistanceMaps({ data: gt, shape: [1, size, size] }, { classes: 2, batched: true, convention });
  const phi = maps.data.slice(n, 2 * n);
  const probs = new Float32Array(2 * n);
  const onehot = new Float32Array(2 * n);
  for (let q = 0; q < n; q++) {
    probs[q] = Math.fround(1 - s[q]!);
    probs[n + q] = s[q]!;
    onehot[q] = 1 - gt[q]!;
    onehot[n + q] = gt[q]!;
  }
  const shape = [1, 2, size, size];
  const outs = scope(() => {
    const p = tensor(probs, shape);
    const dist = tensor(maps.data, shape);
    const target = tensor(onehot, shape);
    return [
      boundaryLoss(p, dist, { idc: [1] }),
      generalizedDiceLoss(p, target, { weights: 'monai' }),
      diceLoss(p, target),
      crossEntropy(p, target),
      valueAndGrad((q: Tensor) => boundaryLoss(q, dist, { idc: [1] }))(p)[1],
    ];
  });
  try {
    const [bl, gdl, dice, ce, grad] = await Promise.all(outs.map((t) => t.data()));
    let lhs = 0;
    let rhs = 0;
    for (let q = 0; q < n; q++) {
      lhs += phi[q]! * (s[q]! - gt[q]!);
      if (pred[q] !== gt[q]) rhs += Math.abs(phi[q]!);
    }
    return { boundaryLoss: bl![0]!, gdl: gdl![0]!, dice: dice![0]!, ce: ce![0]!, lhs, rhs, contour: 2 * rhs, phi, grad: grad!.slice(n, 2 * n) };
  } finally {
    dispose(outs);
  }
}

/** 2·2π·|∫_{R_G}^{R_S} (r − R_G) r dr| for concentric disks: the continuum value of the contour term, pixels². */
function continuum(rg: number, rs: number): number {
  const primitive = (r: number) => r ** 3 / 3 - (rg * r * r) / 2;
  return 4 * Math.PI * Math.abs(primitive(rs) - primitive(rg));
}

/**
 * Pixels checked by name in messages: every pixel is compared, and these (boundary pixels of G and
 * S on both sides, the centre, a corner) must be among the compared ones and are reported first.
 */
function notablePixels(gt: Uint8Array, pred: Uint8Array, size: number): number[] {
  const edge = (m: Uint8Array, q: number) => {
    const y = Math.floor(q / size);
    const x = q % size;
    return [[0, 1], [0, -1], [1, 0], [-1, 0]].some(([dy, dx]) => {
      const yy = y + dy!;
      const xx = x + dx!;
      return yy >= 0 && yy < size && xx >= 0 && xx < size && m[yy * size + xx] !== m[q];
    });
  };
  const picks: number[] = [];
  const pick = (test: (q: number) => boolean) => {
    for (let q = 0; q < size * size; q++) if (test(q) && !picks.includes(q)) return void picks.push(q);
  };
  pick((q) => gt[q] === 1 && edge(gt, q)); // inside G, on its boundary
  pick((q) => gt[q] === 0 && edge(gt, q)); // outside G, on its boundary
  pick((q) => pred[q] === 1 && edge(pred, q)); // on S's boundary, inside S
  pick((q) => pred[q] === 0 && edge(pred, q)); // on S's boundary, outside S
  pick((q) => pred[q] !== gt[q]); // in ΔS
  picks.push((size * size) >> 1, 0);
  return picks;
}

// ---------------------------------------------------------------------------------------------
// Comparing

const where = (q: number, size: number) => `pixel ${q} (row ${Math.floor(q / size)}, column ${q % size})`;

type Compare = (actual: number, expected: number, scale: number, what: string) => void;

const exact: Compare = (actual, expected, _scale, what) => {
  if (!Object.is(actual, expected)) assert.fail(`${what}: the page has ${actual}, Node ${expected} (expected bit for bit)`);
};

/** The largest relative deviation {@link close} has seen (|Δ| / max(|expected|, scale)), reported per mode. */
let worstDeviation = 0;

const close: Compare = (actual, expected, scale, what) => {
  const bound = GPU_TOLERANCE * Math.max(Math.abs(expected), scale);
  if (bound > 0) worstDeviation = Math.max(worstDeviation, (GPU_TOLERANCE * Math.abs(actual - expected)) / bound);
  else if (actual !== expected) worstDeviation = Infinity;
  if (!(Math.abs(actual - expected) <= bound)) {
    assert.fail(`${what}: the page has ${actual}, Node ${expected} (|Δ| = ${Math.abs(actual - expected)} > ${bound}, tolerance ${GPU_TOLERANCE} relative)`);
  }
};

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** Asserts every number and map of `got` against `want`; `label` names the case. */
function compareResults(got: PlaygroundResults, want: Expected, cmp: Compare, label: string, notable: readonly number[]): void {
  const size = got.size;
  for (const key of ['boundaryLoss', 'gdl', 'dice', 'ce', 'contour'] as const) cmp(got[key], want[key], 0, `${label} ${key}`);
  cmp(got.identity.lhs, want.lhs, 0, `${label} identity.lhs`);
  cmp(got.identity.rhs, want.rhs, 0, `${label} identity.rhs`);
  for (const [key, values] of [['phi', want.phi], ['grad', want.grad]] as const) {
    const page = got[key];
    assert.equal(page.length, size * size, `${label} ${key}: expected ${size * size} values, got ${page.length}`);
    const scale = maxAbs(values);
    const order = [...notable, ...Array.from({ length: size * size }, (_, q) => q)];
    for (const q of order) cmp(page[q]!, values[q]!, scale, `${label} ${key} at ${where(q, size)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The page

type PlaygroundWindow = { playground?: PlaygroundApi };

/** Drives one case in the page (selecting `backend` when it is not the current one) and reads its results. */
async function pageCase(page: Page, backend: string, name: PresetName, convention: PlaygroundConvention, blend: number): Promise<PlaygroundResults> {
  return page.evaluate(
    async ([b, n, c, t]) => {
      const api = (globalThis as PlaygroundWindow).playground!;
      if (api.results().backend !== b) await api.setBackend(b);
      await api.preset(n);
      await api.setConvention(c);
      if (t !== 0) await api.setBlend(t);
      return api.results();
    },
    [backend, name, convention, blend] as const,
  );
}

/** What the headless browser itself offers (independently of the page): WebGL 2 and a WebGPU adapter. */
async function browserFeatures(page: Page): Promise<{ webgl: boolean; webgpu: boolean }> {
  return page.evaluate(async () => {
    const g = globalThis as unknown as {
      document: { createElement(tag: string): { getContext(kind: string): unknown } };
      navigator: { gpu?: { requestAdapter(): Promise<unknown> } };
    };
    const webgl = g.document.createElement('canvas').getContext('webgl2') !== null;
    let webgpu = false;
    try {
      webgpu = (await g.navigator.gpu?.requestAdapter()) != null;
    } catch {
      webgpu = false;
    }
    return { webgl, webgpu };
  });
}

// Runs with or without a browser: the Node side's own consistency.
test("the Node side: the identity's sides agree exactly for every preset and convention (rhs at blend 0, rhs/2 at 0.5), and the disk's continuum formula matches a quadrature", async () => {
  await setBackend('cpu');
  for (const name of PRESET_NAMES) {
    const masks = presetMasks(name, 96);
    for (const convention of CONVENTIONS) {
      const at0 = await expectedResults(masks.gt, masks.pred, 96, 0, convention);
      const half = await expectedResults(masks.gt, masks.pred, 96, 0.5, convention);
      assert.ok(at0.rhs > 0, `${name} ${convention}: S and G differ`);
      assert.equal(at0.lhs, at0.rhs, `${name} ${convention}, blend 0: Σ φ(s − g) = Σ_ΔS |φ|`);
      assert.equal(half.lhs, half.rhs / 2, `${name} ${convention}, blend 0.5: Σ φ(s − g) = Σ_ΔS |φ| / 2`);
      assert.equal(half.rhs, at0.rhs, `${name} ${convention}: rhs does not depend on the blend`);
      assert.ok(Math.abs(at0.boundaryLoss - half.boundaryLoss - at0.lhs / 2 / 96 ** 2) <= 1e-5 * Math.abs(at0.boundaryLoss), `${name} ${convention}: L_B is linear in the blend`);
    }
  }
  const { radii } = presetMasks('disk', 96);
  const [rg, rs] = [radii!.gt, radii!.pred];
  const steps = 1000;
  let integral = 0;
  for (let i = 0; i <= steps; i++) {
    const r = rg + ((rs - rg) * i) / steps;
    integral += (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * (r - rg) * r;
  }
  integral *= (rs - rg) / steps / 3;
  const quadrature = 2 * 2 * Math.PI * integral;
  assert.ok(Math.abs(continuum(rg, rs) - quadrature) <= 1e-9 * quadrature, `continuum ${continuum(rg, rs)}, Simpson's rule ${quadrature}`);
});

const problem = chromiumProblem();
if (problem !== undefined) {
  const message = `the playground in headless Chromium ${inCi() ? 'cannot run' : 'SKIPPED'}: ${problem}`;
  console.log(message);
  if (inCi()) test('Chromium is installed (CI=true requires it: apt-get install chromium)', () => assert.fail(message));
  else test('the playground in headless Chromium', { skip: message }, () => undefined);
} else {
  describe('the playground page in headless Chromium', { timeout: FILE_TIMEOUT_MS }, () => {
    let dir = '';
    let server: StaticServer | undefined;
    let browser: Browser | undefined;
    let page: Page;
    let offered: string[] = [];
    const pageErrors: string[] = [];
    /** Node's results per case key, computed once on `cpu` (the gpu.js modes compare with these). */
    const nodeCpu = new Map<string, Expected>();

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'boundary-seg-web-'));
      await buildWeb(dir);
      server = await serveStatic(dir);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
      });
      await page.goto(server.url);
      try {
        await page.waitForFunction(() => (globalThis as PlaygroundWindow).playground !== undefined, undefined, { timeout: READY_TIMEOUT_MS });
        await page.evaluate(() => (globalThis as PlaygroundWindow).playground!.ready);
      } catch (e) {
        throw new Error(`the page never became ready (window.playground.ready): ${(e as Error).message}\n${pageErrors.join('\n')}`);
      }
      offered = await page.evaluate(() => (globalThis as PlaygroundWindow).playground!.backends());
      console.log(`the page offers: ${offered.join(', ')}`);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the page is cross-origin isolated, reports N = 96 and offers cpu, wasm and, where the browser has WebGL, gpu.js on WebGL', async () => {
      assert.equal(await page.evaluate(() => (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated), true, 'COOP/COEP headers');
      assert.equal(await page.evaluate(() => (globalThis as PlaygroundWindow).playground!.size), 96);
      for (const b of EXACT_BACKENDS) assert.ok(offered.includes(b), `backends() lacks '${b}': ${JSON.stringify(offered)}`);
      const features = await browserFeatures(page);
      console.log(`headless Chromium has WebGL 2: ${features.webgl}, a WebGPU adapter: ${features.webgpu}`);
      if (features.webgl) assert.ok(offered.includes('gpujs:webgl'), `the browser has WebGL 2 but backends() lacks 'gpujs:webgl': ${JSON.stringify(offered)}`);
      if (!offered.includes('gpujs:webgpu')) console.log(`the page lists no gpujs:webgpu (the browser ${features.webgpu ? 'has' : 'has no'} WebGPU adapter)`);
      for (const b of offered) assert.ok(EXACT_BACKENDS.includes(b as never) || b.startsWith('gpujs:'), `backends() lists '${b}', which this test has no rule for`);
      assert.deepEqual(pageErrors, [], 'errors in the page');
    });

    /** Runs `check` on every preset × convention × blend, computed in the page on `backend` (which it must report). */
    async function forEachCase(backend: string, check: (c: { name: PresetName; masks: ReturnType<typeof presetMasks>; notable: ReturnType<typeof notablePixels>; convention: (typeof CONVENTIONS)[number]; blend: number; label: string; got: PlaygroundResults }) => Promise<void>): Promise<void> {
      for (const name of PRESET_NAMES) {
        const masks = presetMasks(name, 96);
        const notable = notablePixels(masks.gt, masks.pred, 96);
        for (const convention of CONVENTIONS) {
          for (const blend of BLENDS) {
            const label = `${backend} ${name} ${convention} blend ${blend}:`;
            const got = await pageCase(page, backend, name, convention, blend);
            assert.equal(got.backend, backend, `${label} the page computed on '${got.backend}'`);
            await check({ name, masks, notable, convention, blend, label, got });
          }
        }
      }
    }

    for (const backend of EXACT_BACKENDS) {
      test(`${backend}: every preset × convention × blend 0 and 0.5 equals the library in Node bit for bit`, async () => {
        await setBackend(backend);
        await forEachCase(backend, async ({ name, masks, notable, convention, blend, label, got }) => {
          assert.deepEqual([got.convention, got.size, got.blend], [convention, 96, blend], `${label} convention, size and blend`);
          const want = await expectedResults(masks.gt, masks.pred, 96, blend, convention);
          compareResults(got, want, exact, label, notable);
          if (backend === 'cpu') nodeCpu.set(`${name} ${convention} ${blend}`, want);
        });
        assert.deepEqual(pageErrors, [], 'errors in the page');
      });
    }

    test(`the gpu.js modes the page offers: every preset × convention × blend within ${GPU_TOLERANCE} relative of the library in Node`, async (t) => {
      const modes = offered.filter((b) => b.startsWith('gpujs:'));
      if (modes.length === 0) return t.skip(`the page offers no gpu.js mode here (${JSON.stringify(offered)})`);
      await setBackend('cpu');
      for (const backend of modes) {
        worstDeviation = 0;
        await forEachCase(backend, async ({ name, masks, notable, convention, blend, label, got }) => {
          const want = nodeCpu.get(`${name} ${convention} ${blend}`) ?? (await expectedResults(masks.gt, masks.pred, 96, blend, convention));
          compareResults(got, want, close, label, notable);
        });
        console.log(`${backend}: largest relative deviation from Node ${worstDeviation.toExponential(2)} (tolerance ${GPU_TOLERANCE})`);
      }
      assert.deepEqual(pageErrors, [], 'errors in the page');
    });

    test('the disk preset: the continuum value 2·∫ΔS D_G of concentric disks against the contour value 2·Σ_ΔS D_G of both conventions', async () => {
      const { radii } = presetMasks('disk', 96);
      assert.ok(radii, 'presetMasks(disk) gives the radii');
      assert.deepEqual(radii, { gt: 0.25 * 96, pred: 0.3 * 96 });
      const want = continuum(radii.gt, radii.pred);
      const contour: Partial<Record<PlaygroundConvention, number>> = {};
      for (const convention of CONVENTIONS) {
        const got = await pageCase(page, 'cpu', 'disk', convention, 0);
        assert.ok(got.continuum !== undefined, `${convention}: the disk preset's results carry no continuum value`);
        assert.ok(Math.abs(got.continuum - want) <= 1e-12 * want, `${convention}: continuum ${got.continuum}, expected ${want}`);
        contour[convention] = got.contour;
        console.log(`disk, ${convention}: contour ${got.contour.toFixed(1)} px², continuum ${want.toFixed(1)} px² (${((100 * (got.contour - want)) / want).toFixed(2)} %)`);
      }
      // The rings are δ = R_S − R_G = 4.8 px wide, so a sub-pixel offset of the discrete boundary
      // weighs about offset/δ: the interface convention (distances to the cell boundary, which
      // converge to the continuous ones) lies 6.2 % below the continuum, the reference convention
      // (distances between pixel centres, the inner boundary at 0) 18.2 % above. The continuum lies
      // between the two, and within CONTINUUM_TOLERANCE of the interface convention's value.
      const [reference, iface] = [contour.reference!, contour.interface!];
      assert.ok(iface < want && want < reference, `expected interface ${iface} < continuum ${want} < reference ${reference}`);
      const off = Math.abs(iface - want) / want;
      assert.ok(off <= CONTINUUM_TOLERANCE, `interface: contour ${iface} is ${(100 * off).toFixed(2)} % from the continuum ${want} (tolerance ${100 * CONTINUUM_TOLERANCE} %)`);
      for (const name of PRESET_NAMES.filter((n) => n !== 'disk')) {
        const got = await pageCase(page, 'cpu', name, 'reference', 0);
        assert.equal(got.continuum, undefined, `${name}: a continuum value only belongs to the disk preset`);
      }
    });

    test('screenshots of the page are kept (the test artefacts; docs/images/playground.png with UPDATE_SCREENSHOT=1)', async () => {
      await page.evaluate(async () => {
        const api = (globalThis as PlaygroundWindow).playground!;
        await api.setBackend('wasm');
        await api.setConvention('reference');
        await api.preset('ring');
        await api.setBlend(0.5);
      });
      const folder = artefactsDir();
      const full = join(folder, 'playground-full.png');
      const geometry = join(folder, 'playground.png');
      await page.screenshot({ path: full, fullPage: true });
      // The geometry part: everything above the training panel.
      const top = await page.evaluate(() => {
        const g = globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { top: number } } | null }; scrollY: number };
        const train = g.document.getElementById('train');
        return train === null ? undefined : train.getBoundingClientRect().top + g.scrollY;
      });
      const height = top !== undefined && top > 200 ? Math.ceil(top) : undefined;
      await page.screenshot({ path: geometry, fullPage: true, ...(height !== undefined ? { clip: { x: 0, y: 0, width: 1280, height } } : {}) });
      for (const file of [full, geometry]) {
        const png = readFileSync(file);
        assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${file}: a PNG`);
        assert.ok(png.length > 10_000, `${file} has ${png.length} bytes: a blank page?`);
        console.log(`screenshot: ${file}`);
      }
      if (process.env['UPDATE_SCREENSHOT'] === '1') {
        mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
        copyFileSync(geometry, join(ROOT, 'docs/images/playground.png'));
        console.log('docs/images/playground.png updated');
      }
    });
  });
}
