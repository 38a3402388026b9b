/**
 * The playground page's Node-side parts (`web/`): the preset masks, the geometry computation against
 * values worked out by hand on an 8×8 grid, the disk's continuum formula against numeric
 * integration, the page's build (esbuild bundles and copied files) and the static server (COOP/COEP
 * headers, content types, refused `..` paths), the `npm run web` arguments, and a typecheck of
 * `web/` with the DOM types (the root typecheck does not include `web/`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { InputError } from '../core/index.js';
import { edt } from '../losses/edt.js';
import { signedDistanceMap } from '../losses/signed-distance.js';
import { connectedComponents } from '../metrics/lesions.js';
import { buildWeb, serveStatic } from '../web/build.js';
import { DEFAULT_PORT, parseServeArgs } from '../web/serve.js';
import { boundaryLossCurve, computeGeometry, diskContinuum, identitySides } from '../web/src/geometry.js';
import { PRESET_NAMES, presetMasks } from '../web/src/presets.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function count(mask: Uint8Array): number {
  return mask.reduce((a, v) => a + v, 0);
}

/** An InputError naming `argument` (and, optionally, with a message matching `message`). */
function inputError(argument: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.equal(e.argument, argument);
    if (message) assert.match(e.message, message);
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// Presets

describe('presetMasks', () => {
  test('every preset: N·N binary masks, both non-empty, deterministic', () => {
    for (const size of [16, 96]) {
      for (const name of PRESET_NAMES) {
        const a = presetMasks(name, size);
        const b = presetMasks(name, size);
        for (const mask of [a.gt, a.pred]) {
          assert.equal(mask.length, size * size, `${name} ${size}`);
          assert.ok(mask.every((v) => v === 0 || v === 1), `${name} ${size}: binary`);
          assert.ok(count(mask) > 0, `${name} ${size}: non-empty`);
        }
        assert.deepEqual(a, b, `${name} ${size}: deterministic`);
        assert.notDeepEqual(a.gt, a.pred, `${name} ${size}: S differs from G`);
      }
    }
  });

  test('disk: concentric disks of radii 0.25·N and 0.3·N centred at ((N−1)/2, (N−1)/2)', () => {
    for (const size of [16, 96, 97]) {
      const { gt, pred, radii } = presetMasks('disk', size);
      assert.deepEqual(radii, { gt: 0.25 * size, pred: 0.3 * size });
      const c = (size - 1) / 2;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const d = Math.hypot(x - c, y - c);
          assert.equal(gt[y * size + x], d <= 0.25 * size ? 1 : 0, `gt (${x}, ${y})`);
          assert.equal(pred[y * size + x], d <= 0.3 * size ? 1 : 0, `pred (${x}, ${y})`);
        }
      }
    }
    const { gt, pred } = presetMasks('disk', 96);
    assert.ok(Math.abs(count(gt) - Math.PI * 24 ** 2) < 0.02 * Math.PI * 24 ** 2);
    assert.ok(Math.abs(count(pred) - Math.PI * 28.8 ** 2) < 0.02 * Math.PI * 28.8 ** 2);
    assert.equal(presetMasks('ring', 96).radii, undefined);
  });

  test('ring: an annulus (one component with a hole); S the same annulus moved', () => {
    const size = 96;
    const { gt, pred } = presetMasks('ring', size);
    assert.equal(connectedComponents({ data: gt, shape: [size, size] }).count, 1);
    const centre = Math.round((size - 1) / 2) * size + Math.round((size - 1) / 2);
    assert.equal(gt[centre], 0, 'the hole');
    const background = connectedComponents({ data: gt.map((v) => 1 - v), shape: [size, size] });
    assert.equal(background.count, 2, 'outside and the hole');
    assert.equal(count(pred), count(gt), 'moved without leaving the grid');
    const dx = Math.round(0.05 * size);
    const dy = Math.round(0.03 * size);
    for (let y = dy; y < size; y++) for (let x = dx; x < size; x++) assert.equal(pred[y * size + x], gt[(y - dy) * size + x - dx]);
  });

  test('vessel: one thin curved component 2–3 px wide; S the same 2 px lower', () => {
    for (const size of [48, 96]) {
      const { gt, pred } = presetMasks('vessel', size);
      assert.equal(connectedComponents({ data: gt, shape: [size, size] }).count, 1, 'one vessel');
      // At most 3 px across: no pixel is more than 2 px from the background.
      const inner = edt({ data: gt, shape: [size, size] }).data;
      assert.ok(Math.max(...inner) <= 2, `max distance to the background ${Math.max(...inner)}`);
      // At least 2 px across: every column it crosses has ≥ 2 of its pixels (vertical ≥ normal width).
      const rows = new Set<number>();
      for (let x = Math.ceil(0.12 * size); x <= Math.floor(0.88 * size); x++) {
        let column = 0;
        for (let y = 0; y < size; y++) {
          column += gt[y * size + x]!;
          if (gt[y * size + x]) rows.add(y);
        }
        assert.ok(column >= 2, `column ${x}: ${column} px`);
      }
      assert.ok(rows.size > 0.25 * size, 'curved: it spans many rows');
      assert.equal(count(pred), count(gt), 'moved without leaving the grid');
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) assert.equal(pred[y * size + x], y >= 2 ? gt[(y - 2) * size + x] : 0, `(${x}, ${y})`);
      }
    }
  });

  test('lesions: five small lesions; S misses one, adds one false one, moves the others', () => {
    const size = 96;
    const { gt, pred } = presetMasks('lesions', size);
    const g = connectedComponents({ data: gt, shape: [size, size] });
    const s = connectedComponents({ data: pred, shape: [size, size] });
    assert.equal(g.count, 5);
    assert.equal(s.count, 5);
    assert.ok(g.sizes.every((n) => n > 0 && n < 0.015 * size * size), `small: ${g.sizes.join(', ')}`);
    const overlaps = (a: typeof g, b: Uint8Array, label: number) => a.labels.some((l, q) => l === label && b[q] === 1);
    const missed = [...Array(g.count).keys()].filter((k) => !overlaps(g, pred, k + 1));
    const falseLesions = [...Array(s.count).keys()].filter((k) => !overlaps(s, gt, k + 1));
    assert.equal(missed.length, 1, 'one lesion missed');
    assert.equal(falseLesions.length, 1, 'one false lesion');
    // The four found lesions are moved, not copied.
    for (let k = 0; k < g.count; k++) {
      if (missed.includes(k)) continue;
      assert.ok(g.labels.some((l, q) => l === k + 1 && pred[q] === 0), `lesion ${k + 1} moved`);
    }
  });

  test('bad names and sizes are InputErrors naming the argument', () => {
    assert.throws(() => presetMasks('square' as never, 96), inputError('name', /disk, ring, vessel, lesions/));
    for (const size of [15, 16.5, 2000, Number.NaN, '96' as unknown as number]) {
      assert.throws(() => presetMasks('disk', size), inputError('size'), String(size));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Geometry on an 8×8 grid: G a 2×2 square (rows 3–4, columns 3–4), S the same moved right by 1.

const N = 8;
const gt8 = new Uint8Array(N * N);
const pred8 = new Uint8Array(N * N);
for (const y of [3, 4]) {
  for (const x of [3, 4]) gt8[y * N + x] = 1;
  for (const x of [4, 5]) pred8[y * N + x] = 1;
}

/**
 * φ_G by hand. Outside G: `reference` is the distance to the nearest pixel centre of G, `interface`
 * the distance to the square [2.5, 4.5]² that G's cells cover. Inside: `reference` −(EDT − 1) = 0
 * (every pixel of a 2×2 square touches the background), `interface` −0.5 (half a pixel to the edge).
 */
function handPhi(convention: 'reference' | 'interface'): number[] {
  const out: number[] = [];
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      if (gt8[y * N + x]) {
        out.push(convention === 'reference' ? 0 : -0.5);
      } else if (convention === 'reference') {
        out.push(Math.min(...[3, 4].flatMap((gy) => [3, 4].map((gx) => Math.hypot(x - gx, y - gy)))));
      } else {
        const dx = Math.max(2.5 - x, 0, x - 4.5);
        const dy = Math.max(2.5 - y, 0, y - 4.5);
        out.push(Math.hypot(dx, dy));
      }
    }
  }
  return out.map(Math.fround);
}

const close = (actual: number, expected: number, rel = 1e-6, what = '') =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

describe('computeGeometry (8×8 by hand)', () => {
  test('φ_G of both conventions, cell by cell', async () => {
    for (const convention of ['reference', 'interface'] as const) {
      const r = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: 0, convention });
      assert.deepEqual(r.phi, handPhi(convention), convention);
    }
    // A few cells spelt out: row 3 and the corner (0, 0).
    const ref = handPhi('reference');
    assert.deepEqual(ref.slice(24, 32), [3, 2, 1, 0, 0, 1, 2, 3]);
    close(ref[0]!, Math.sqrt(18), 1e-7, 'corner');
    assert.deepEqual(handPhi('interface').slice(24, 32), [2.5, 1.5, 0.5, -0.5, -0.5, 0.5, 1.5, 2.5]);
  });

  test('reference: the losses, the identity, the contour and the gradient', async () => {
    const r = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: 0, convention: 'reference' });
    assert.equal(r.size, N);
    assert.equal(r.blend, 0);
    assert.equal(r.convention, 'reference');
    // S covers φ = 0, 0 (overlap) and 1, 1 (column 5): L_B = 2/64.
    close(r.boundaryLoss, 2 / 64, 1e-7, 'boundary loss');
    // ΔS: the column left behind (φ = 0, 0) and the column gained (φ = 1, 1).
    assert.deepEqual(r.identity, { lhs: 2, rhs: 2 });
    assert.equal(r.contour, 4);
    assert.equal(r.continuum, undefined);
    // ∂L_B/∂s = φ/N² on class 1.
    assert.deepEqual(r.grad, handPhi('reference').map((v) => Math.fround(v / 64)));
    // The overlap losses on both classes: class 1 has |G| = |S| = 4, |G ∩ S| = 2; class 0 has 60, 60 and 58.
    const w1 = 1 / 16;
    const w0 = 1 / 3600;
    close(r.gdl, 1 - (2 * (w0 * 58 + w1 * 2 + 1e-10)) / (w0 * 120 + w1 * 8 + 1e-10), 1e-6, 'GDL');
    const dice = (i: number, total: number) => 1 - (2 * i + 1e-5) / (total + 1e-5);
    close(r.dice, (dice(2, 8) + dice(58, 120)) / 2, 1e-6, 'Dice');
    // Four pixels have probability 0 for their true class: −log(0 + 1e-10) each, over 64 labelled pixels.
    close(r.ce, (4 * -Math.log(Math.fround(1e-10))) / 64, 1e-6, 'CE');
  });

  test('interface: φ never 0, the identity equals the flat-face value L·δ² / 2 per face', async () => {
    const r = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: 0, convention: 'interface' });
    // S covers φ = −0.5, −0.5, 0.5, 0.5: L_B = 0.
    assert.equal(r.boundaryLoss, 0);
    // ΔS: |φ| = 0.5 on 4 pixels. Two faces of length 2 move by 1: Dist = 2·(2·1²) = 4.
    assert.deepEqual(r.identity, { lhs: 2, rhs: 2 });
    assert.equal(r.contour, 4);
    assert.deepEqual(r.grad, handPhi('interface').map((v) => Math.fround(v / 64)));
  });

  test('the blend: s = (1 − t)·S + t·G scales the left side by 1 − t; t = 1 is the ground truth', async () => {
    const half = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: 0.5, convention: 'reference' });
    assert.deepEqual(half.identity, { lhs: 1, rhs: 2 });
    close(half.boundaryLoss, 1 / 64, 1e-7, 'L_B at t = 0.5');
    const full = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: 1, convention: 'interface' });
    assert.equal(full.identity.lhs, 0);
    close(full.boundaryLoss, (4 * -0.5) / 64, 1e-7, 'L_B at the ground truth');
    close(full.dice, 0, 1e-6, 'Dice at the ground truth');
    close(full.gdl, 0, 1e-6, 'GDL at the ground truth');
  });

  test('radii give the continuum value', async () => {
    const r = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: 0, convention: 'reference', radii: { gt: 2, pred: 3 } });
    assert.equal(r.continuum, diskContinuum(2, 3));
  });

  test('boundaryLossCurve: 11 blends from S to G, the ends equal computeGeometry, linear between', async () => {
    const curve = await boundaryLossCurve({ gt: gt8, pred: pred8, size: N, convention: 'reference' });
    assert.equal(curve.blends.length, 11);
    assert.equal(curve.blends[0], 0);
    assert.equal(curve.blends[10], 1);
    for (const [i, t] of [[0, 0], [5, 0.5], [10, 1]] as const) {
      const r = await computeGeometry({ gt: gt8, pred: pred8, size: N, blend: t, convention: 'reference' });
      assert.equal(curve.losses[i], r.boundaryLoss, `t = ${t}`);
    }
    curve.losses.forEach((v, i) => close(v, (2 / 64) * (1 - i / 10), 1e-6, `t = ${i / 10}`));
    assert.equal((await boundaryLossCurve({ gt: gt8, pred: pred8, size: N, convention: 'interface' }, 3)).losses.length, 3);
    await assert.rejects(boundaryLossCurve({ gt: gt8, pred: pred8, size: N, convention: 'reference' }, 1), inputError('points'));
  });

  test('bad input is an InputError naming what was wrong and where', async () => {
    const ok = { gt: gt8, pred: pred8, size: N, blend: 0, convention: 'reference' as const };
    const bad = Array.from(gt8);
    bad[13] = 2;
    await assert.rejects(computeGeometry({ ...ok, gt: bad }), inputError('input.gt', /index 13 \(row 1, column 5\)/));
    await assert.rejects(computeGeometry({ ...ok, pred: new Uint8Array(63) }), inputError('input.pred', /64 values.*got 63/));
    await assert.rejects(computeGeometry({ ...ok, blend: 1.5 }), inputError('input.blend', /\[0, 1\]/));
    await assert.rejects(computeGeometry({ ...ok, blend: Number.NaN }), inputError('input.blend'));
    await assert.rejects(computeGeometry({ ...ok, convention: 'edge' as never }), inputError('input.convention'));
    await assert.rejects(computeGeometry({ ...ok, size: 0 }), inputError('input.size'));
    await assert.rejects(computeGeometry({ ...ok, radii: { gt: -1, pred: 2 } }), inputError('input.radii'));
    await assert.rejects(computeGeometry({ ...ok, blnd: 0 } as never), inputError('input.blnd', /unknown key/));
    await assert.rejects(computeGeometry(null as never), inputError('input'));
  });
});

// ---------------------------------------------------------------------------------------------
// The disk's continuum value

/** 2∫_ΔS D_G dA by the midpoint rule on a square grid of step h: ΔS is the annulus between the circles. */
function numericContinuum(rGt: number, rPred: number, h: number): number {
  const outer = Math.max(rGt, rPred);
  const inner = Math.min(rGt, rPred);
  let total = 0;
  for (let x = -outer + h / 2; x < outer; x += h) {
    for (let y = -outer + h / 2; y < outer; y += h) {
      const r = Math.hypot(x, y);
      if (r > inner && r <= outer) total += Math.abs(r - rGt);
    }
  }
  return 2 * total * h * h;
}

describe('diskContinuum', () => {
  test('matches numeric integration over the annulus, S outside or inside G', () => {
    for (const [rGt, rPred] of [[24, 28.8], [28.8, 24], [10, 13]]) {
      const exact = diskContinuum(rGt!, rPred!);
      const numeric = numericContinuum(rGt!, rPred!, 0.02);
      close(exact, numeric, 2e-3, `R_G = ${rGt}, R_S = ${rPred}`);
    }
    assert.equal(diskContinuum(5, 5), 0);
    // The closed form as the contract writes it: 4π·|R_S³/3 − R_G·R_S²/2 + R_G³/6|.
    close(diskContinuum(24, 28.8), 4 * Math.PI * Math.abs(28.8 ** 3 / 3 - (24 * 28.8 ** 2) / 2 + 24 ** 3 / 6), 1e-12, 'closed form');
  });

  test('for a thin annulus it is the perimeter times δ² (the flat-face value)', () => {
    const rGt = 30;
    const delta = 0.01;
    close(diskContinuum(rGt, rGt + delta), 2 * Math.PI * rGt * delta ** 2, 1e-3, 'thin annulus');
  });

  test('the disk preset: the discrete interface estimate approaches it as the grid refines', () => {
    const errors = [96, 192].map((size) => {
      const { gt, pred, radii } = presetMasks('disk', size);
      const phi = signedDistanceMap({ data: gt, shape: [size, size] }, { convention: 'interface' }).data;
      const { rhs } = identitySides(phi, pred, gt, pred);
      // In units of the grid: divide by N³ to compare grids (the continuum scales as R³).
      return Math.abs(2 * rhs - diskContinuum(radii!.gt, radii!.pred)) / diskContinuum(radii!.gt, radii!.pred);
    });
    assert.ok(errors[0]! < 0.08, `N = 96: relative error ${errors[0]}`);
    assert.ok(errors[1]! < errors[0]!, `N = 192 (${errors[1]}) better than N = 96 (${errors[0]})`);
  });

  test('bad radii are InputErrors', () => {
    assert.throws(() => diskContinuum(-1, 2), inputError('gt'));
    assert.throws(() => diskContinuum(1, Number.POSITIVE_INFINITY), inputError('pred'));
  });
});

// ---------------------------------------------------------------------------------------------
// Build and serve

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request with the path sent as it is (no URL normalisation). */
function fetchRaw(url: string, path: string, method = 'GET'): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((done, fail) => {
    const req = request({ hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

function assertIsolated(reply: Reply, what: string): void {
  assert.equal(reply.headers['cross-origin-opener-policy'], 'same-origin', what);
  assert.equal(reply.headers['cross-origin-embedder-policy'], 'require-corp', what);
}

describe('serveStatic', () => {
  test('serves files with COOP/COEP and their content types; refuses .. paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'web-serve-'));
    const outside = mkdtempSync(join(tmpdir(), 'web-outside-'));
    try {
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
      writeFileSync(join(dir, 'main.js'), 'export {};');
      writeFileSync(join(dir, 'main.js.map'), '{}');
      writeFileSync(join(dir, 'style.css'), 'body {}');
      writeFileSync(join(dir, 'k.wasm'), Buffer.from([0, 97, 115, 109]));
      writeFileSync(join(dir, 'shot.png'), Buffer.from([137, 80, 78, 71]));
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'index.html'), 'sub');
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      const server = await serveStatic(dir);
      try {
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
        const types: Record<string, RegExp> = {
          '/': /^text\/html/,
          '/index.html': /^text\/html/,
          '/main.js': /^text\/javascript/,
          '/main.js.map': /^application\/json/,
          '/style.css': /^text\/css/,
          '/k.wasm': /^application\/wasm$/,
          '/shot.png': /^image\/png$/,
          '/sub/': /^text\/html/,
        };
        for (const [path, type] of Object.entries(types)) {
          const reply = await fetchRaw(server.url, path);
          assert.equal(reply.status, 200, path);
          assert.match(String(reply.headers['content-type']), type, path);
          assertIsolated(reply, path);
        }
        assert.equal((await fetchRaw(server.url, '/main.js')).body.toString(), 'export {};');
        assert.equal((await fetchRaw(server.url, '/main.js?v=1')).status, 200, 'a query is ignored');
        const head = await fetchRaw(server.url, '/main.js', 'HEAD');
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        const rel = join('..', outside.split('/').pop()!, 'secret.txt');
        for (const path of [`/${rel}`, '/../etc/passwd', '/sub/../../etc/passwd', '/%2e%2e/etc/passwd', '/sub/%2E%2E/%2e%2e/x', '/..%5cetc%5cpasswd']) {
          const reply = await fetchRaw(server.url, path);
          assert.equal(reply.status, 403, path);
          assert.ok(!reply.body.toString().includes('secret'), path);
          assertIsolated(reply, path);
        }
        assert.equal((await fetchRaw(server.url, '/missing.js')).status, 404);
        assert.equal((await fetchRaw(server.url, '/%E0%A4%A')).status, 400);
        assert.equal((await fetchRaw(server.url, '/main.js', 'POST')).status, 405);
      } finally {
        await server.close();
      }
      await assert.rejects(fetchRaw(server.url, '/'), 'closed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('a folder that does not exist, or a bad port, is an InputError', async () => {
    await assert.rejects(serveStatic(join(tmpdir(), 'no-such-folder-web-geometry')), inputError('dir'));
    await assert.rejects(serveStatic(tmpdir(), 70000), inputError('port'));
    await assert.rejects(serveStatic(tmpdir(), 1.5), inputError('port'));
  });
});

describe('buildWeb', () => {
  test('bundles main.js and train-worker.js for a browser and copies the page; served with COOP/COEP', async () => {
    const out = mkdtempSync(join(tmpdir(), 'web-build-'));
    try {
      await buildWeb(out);
      for (const name of ['main.js', 'main.js.map', 'train-worker.js', 'train-worker.js.map', 'index.html', 'style.css']) {
        assert.ok(existsSync(join(out, name)), name);
      }
      assert.equal(readFileSync(join(out, 'index.html'), 'utf8'), readFileSync(join(root, 'web/index.html'), 'utf8'));
      const main = readFileSync(join(out, 'main.js'), 'utf8');
      assert.doesNotMatch(main, /(from|import\(|require\()\s*["']node:/, 'no node: module in the page');
      assert.match(main, /playground/);
      // The library's backends are registered in the page: the registering imports are not dropped
      // as free of side effects (package.json's \`sideEffects\` must list the sources' registering modules).
      for (const name of ['cpu', 'wasm', 'gpujs']) assert.match(main, new RegExp(`name: "${name}"`), `backend ${name} registered`);
      const server = await serveStatic(out);
      try {
        for (const path of ['/', '/main.js', '/train-worker.js', '/style.css']) {
          const reply = await fetchRaw(server.url, path);
          assert.equal(reply.status, 200, path);
          assertIsolated(reply, path);
        }
      } finally {
        await server.close();
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('an empty output folder name is an InputError', async () => {
    await assert.rejects(buildWeb(''), inputError('outdir'));
  });
});

describe('npm run web', () => {
  test('--port N, --port=N, 0 for any port; bad values are refused', () => {
    assert.deepEqual(parseServeArgs([]), { port: DEFAULT_PORT, help: false });
    assert.equal(DEFAULT_PORT, 8080);
    assert.deepEqual(parseServeArgs(['--port', '0']), { port: 0, help: false });
    assert.deepEqual(parseServeArgs(['--port=9000']), { port: 9000, help: false });
    assert.equal(parseServeArgs(['--help']).help, true);
    for (const argv of [['--port'], ['--port', 'x'], ['--port', '70000'], ['--port=-1'], ['--prot', '1']]) {
      assert.throws(() => parseServeArgs(argv), InputError, argv.join(' '));
    }
  });

  test('package.json runs web/serve.ts', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts['web'], 'node --import tsx web/serve.ts');
  });
});

describe('web/ typecheck', () => {
  test('tsc -p web/tsconfig.json (DOM types) passes', () => {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(root, 'web/tsconfig.json')], {
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
  });
});
