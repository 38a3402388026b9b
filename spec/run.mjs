#!/usr/bin/env node
// The whole test suite: typecheck, then every spec file (listed explicitly: Node 20 neither globs
// nor finds .ts test files by itself), each in its own process, two at a time. Fails when a file
// fails, when a file ran no test, or when fewer files ran than exist. Ends with the plain line
// "N passed, N failed, N skipped".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith('--'));

function listSpecs(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listSpecs(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const started = Date.now();
if (!args.includes('--no-typecheck')) {
  process.stdout.write('typecheck: tsc --noEmit … ');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
  if (tsc.status !== 0) {
    console.log('FAILED');
    console.log(tsc.stdout, tsc.stderr);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// The longest file (training runs of a few minutes) starts first, so that it does not end the run alone.
const LONG = ['thin-structures.test.ts'];
const longFirst = (f) => (LONG.some((name) => f.endsWith(name)) ? 0 : 1);
const files = listSpecs(join(root, 'spec')).sort().sort((a, b) => longFirst(a) - longFirst(b)).filter((f) => !filter || f.includes(filter));
if (files.length === 0) {
  console.log(`no spec files found${filter ? ` matching '${filter}'` : ''}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), 'boundary-seg-spec-'));

// The gpu.js files test the GL path (headless-gl on Mesa's llvmpipe): without a display they run
// under `xvfb-run -a`. With CI=true a missing xvfb fails them (a missing gl build fails inside).
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const needsDisplay = (file) => /gpujs/.test(relative(root, file)) && !process.env.DISPLAY;

// WebGPU without a GPU: where bench/device/lavapipe.sh has unpacked Mesa's software Vulkan driver
// into .cache/lavapipe, the gpu.js files see it (a software adapter: never chosen by `auto`).
const lavapipe = join(root, '.cache/lavapipe');
const lavapipeIcd = join(lavapipe, 'lvp_icd.json');
const hasLavapipe = existsSync(lavapipeIcd);
function envFor(file) {
  if (!hasLavapipe || !/gpujs/.test(relative(root, file))) return process.env;
  const lib = join(lavapipe, 'root/usr/lib/x86_64-linux-gnu');
  return { ...process.env, LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ? `${lib}:${process.env.LD_LIBRARY_PATH}` : lib, VK_DRIVER_FILES: lavapipeIcd };
}
const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).status === 0;

/** Runs one spec file; resolves with its counts and buffered output. */
function runFile(file, index) {
  return new Promise((resolve) => {
    const tap = join(tmp, `${index}.tap`);
    const t0 = Date.now();
    const nodeArgs = [
      '--import', 'tsx', '--test',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      file,
    ];
    if (needsDisplay(file) && !hasXvfb && inCi) {
      resolve({ file, code: 1, out: `${relative(root, file)}: xvfb-run is missing (apt-get install xvfb): the GL suite cannot run with CI=true\n`, seconds: 0, pass: 0, fail: 1, skipped: 0, cancelled: 0 });
      return;
    }
    const [cmd, cmdArgs] = needsDisplay(file) && hasXvfb ? ['xvfb-run', ['-a', '-n', String(100 + index), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    const child = spawn(cmd, cmdArgs, { cwd: root, env: envFor(file) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      let text = '';
      try { text = readFileSync(tap, 'utf8'); } catch { /* no report: counted as failure */ }
      const count = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      resolve({ file, code, out, seconds: (Date.now() - t0) / 1000, pass: count('pass'), fail: count('fail'), skipped: count('skipped') + count('todo'), cancelled: count('cancelled') });
    });
  });
}

const concurrency = Math.max(1, Math.min(Number(process.env.SPEC_JOBS ?? 2), files.length));
const results = [];
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < files.length) {
    const i = next++;
    const r = await runFile(files[i], i);
    results.push(r);
    const ok = r.code === 0 && r.fail === 0 && r.pass > 0;
    process.stdout.write(r.out);
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${relative(root, r.file)}: ${r.pass} passed, ${r.fail} failed, ${r.skipped} skipped (${r.seconds.toFixed(1)} s)\n`);
  }
}));
rmSync(tmp, { recursive: true, force: true });

let pass = 0, fail = 0, skipped = 0;
const problems = [];
for (const r of results) {
  pass += r.pass;
  fail += r.fail + r.cancelled;
  skipped += r.skipped;
  if (r.code !== 0 && r.fail === 0) { fail++; problems.push(`${relative(root, r.file)} exited with ${r.code}`); }
  if (r.pass === 0 && r.code === 0) { fail++; problems.push(`${relative(root, r.file)} ran no test`); }
}
if (results.length < files.length) { fail++; problems.push(`only ${results.length} of ${files.length} spec files ran`); }
console.log(`\n${files.length} spec files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const p of problems) console.log(`problem: ${p}`);
console.log(`${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(fail > 0 ? 1 : 0);
