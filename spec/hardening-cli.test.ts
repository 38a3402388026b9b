/**
 * Hardening of the command line (issue 12, items 1, 3, 5, 6, 7, 8, 9 and 10): no hang on `--out
 * /proc/x` (child processes with a time limit), output paths that cannot be folders are exit 2
 * naming the path, a full disk is exit 1 naming the file (an injected writer fails with ENOSPC),
 * every flag and environment variable is checked before the run folder exists, interrupted runs
 * resume (no `last.ckpt` yet, temporary files left behind, SIGINT/SIGTERM), damaged checkpoints
 * are exit 3, relative paths in `--config` are relative to the file, large images are refused.
 * Fixtures are made here in a temporary folder.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import '../backends/register.js';
import * as core from '../core/index.js';
import { listTemporaryFilesSync, nodeFileSystem, setFileSystem, writeFileAtomic, type AtomicFileSystem } from '../core/files.js';
import { main } from '../cli/main.js';
import { cli } from './helpers/cli.js';
import { vulkanLoaderPresent } from '../backends/gpujs/runtime.js';
import { encodePng } from '../data/index.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'bseg-hardening-cli-'));
const at = (...p: string[]) => join(root, ...p);
after(() => rmSync(root, { recursive: true, force: true }));


/** Runs the CLI in a child process with a time limit; `status` is null when it was killed. */
function child(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'cli/main.ts'), ...args], { cwd: repo, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** Asserts a one-line error with `code` naming `where`, and (when given) that `out` was not created. */
function assertError(r: { code: number | null; stderr: string }, code: number, where: string | RegExp, out?: string): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^boundary-seg: error: /);
  if (typeof where === 'string') assert.ok(lines[0]!.includes(where), `names ${where}: ${lines[0]}`);
  else assert.match(lines[0]!, where);
  if (out !== undefined) assert.equal(existsSync(out), false, `nothing created at ${out}`);
}

/** `args` without the given flags and their values. */
const without = (args: readonly string[], ...flags: string[]) => args.filter((a, i) => !flags.includes(a) && !flags.includes(args[i - 1]!));

const TINY = ['--synthetic', '--train-slices', '4', '--val-slices', '2', '--size', '16', '--base', '2', '--depth', '1', '--batch-size', '2', '--losses', 'gdl', '--overlays', '0', '--quiet'];

/** Sets environment variables for the duration of `fn`. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('hardening: output folders (items 1 and 7)', () => {
  before(async () => core.setBackend('cpu'));

  test('--out under /proc exits 2 at once instead of hanging (child processes, 60 s limit)', { skip: !existsSync('/proc/self') && 'no /proc here' }, () => {
    for (const out of ['/proc/x', '/proc/x/y', '/proc/self/x']) {
      const r = child(['train', ...TINY, '--out', out]);
      assert.notEqual(r.status, null, `${out}: the child hung and was killed after ${r.ms} ms`);
      assertError({ code: r.status, stderr: r.stderr }, 2, `--out ${out}: cannot create a folder in /proc`);
      process.stdout.write(`# --out ${out}: exit ${r.status} after ${r.ms} ms (process start included)\n`);
    }
  });

  test('a file in the path, /sys, a dangling symbolic link, a symbolic link loop: exit 2 naming the path', async () => {
    writeFileSync(at('afile'), 'x');
    assertError(await cli(['train', ...TINY, '--out', at('afile', 'sub')]), 2, `--out ${at('afile', 'sub')}: ${at('afile')} is a file, not a folder`);
    assertError(await cli(['train', ...TINY, '--out', at('afile')]), 2, `--out ${at('afile')}: exists and is not a folder`);
    if (existsSync('/sys/kernel')) assertError(await cli(['train', ...TINY, '--out', '/sys/x']), 2, /--out \/sys\/x: cannot create a folder in \/sys: (operation not permitted|permission denied|read-only file system)/, '/sys/x');
    symlinkSync(at('nowhere'), at('dangling'));
    assertError(await cli(['train', ...TINY, '--out', at('dangling')]), 2, `--out ${at('dangling')}: a dangling symbolic link to ${at('nowhere')}`);
    assertError(await cli(['train', ...TINY, '--out', join(at('dangling'), 'sub')]), 2, /a dangling symbolic link .* to /);
    symlinkSync(at('loop'), at('loop'));
    assertError(await cli(['train', ...TINY, '--out', at('loop')]), 2, `--out ${at('loop')}: a symbolic link loop`);
    assertError(await cli(['train', ...TINY, '--out', join(at('loop'), 'sub')]), 2, /a symbolic link loop/);
    assert.equal(existsSync(at('nowhere')), false, 'the dangling link\'s target was not created');
  });

  test('a full disk is exit 1 naming the file, and leaves no temporary file (injected ENOSPC writer)', async () => {
    const out = at('enospc');
    const failing: AtomicFileSystem = {
      ...nodeFileSystem,
      async writeAndSync(path, bytes) {
        if (basename(path).startsWith('.metrics.csv.')) {
          writeFileSync(path, bytes.subarray(0, bytes.length >> 1)); // half written, then the disk is full
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        }
        return nodeFileSystem.writeAndSync(path, bytes);
      },
    };
    const previous = setFileSystem(failing);
    try {
      assertError(await cli(['train', ...TINY, '--epochs', '1', '--out', out]), 1, `cannot write ${join(out, 'metrics.csv')}: ENOSPC: no space left on device`);
    } finally {
      setFileSystem(previous);
    }
    assert.deepEqual(listTemporaryFilesSync(out), [], 'no temporary file left');
    assert.equal(existsSync(join(out, 'metrics.csv')), false, 'no half-written metrics.csv');
  });

  test('writes flush the file, rename it, then flush the folder', async () => {
    const calls: string[] = [];
    const recording: AtomicFileSystem = {
      writeAndSync: async (p, b) => { calls.push(`write+fsync ${basename(p).replace(/[0-9a-f]{12}/, 'X')}`); await nodeFileSystem.writeAndSync(p, b); },
      rename: async (a, b) => { calls.push(`rename → ${basename(b)}`); await nodeFileSystem.rename(a, b); },
      syncDirectory: async (d) => { calls.push(`fsync folder ${d === root ? 'root' : d}`); await nodeFileSystem.syncDirectory(d); },
    };
    const previous = setFileSystem(recording);
    try {
      await writeFileAtomic(at('f.txt'), 'hello');
    } finally {
      setFileSystem(previous);
    }
    assert.deepEqual(calls, ['write+fsync .f.txt.X.tmp', 'rename → f.txt', 'fsync folder root']);
    assert.equal(readFileSync(at('f.txt'), 'utf8'), 'hello');
  });
});

describe('hardening: flags and environment checked before anything is created (items 6, 7, 8)', () => {
  before(async () => core.setBackend('cpu'));

  test('numbers: hexadecimal, spaces, beyond 2^53; --seed 1e20; --size and --train-slices limits; negative --weights', async () => {
    const out = at('never');
    for (const [args, where] of [
      [['--epochs', '0x2'], "--epochs: expected a number, got '0x2'"],
      [['--epochs', ' 2'], "--epochs: expected a number, got ' 2'"],
      [['--epochs', '1e20'], '--epochs: 1e20 is beyond the integers a double holds exactly'],
      [['--seed', '1e20'], '--seed: 1e20 is beyond the integers'],
      [['--epochs', 'Infinity'], '--epochs: expected a number'],
      [['--size', '100000'], '--size: expected an integer ≥ 16 and ≤ 1024, got 100000'],
      [['--train-slices', '100000000'], '--train-slices: expected an integer ≥ 1 and ≤ 100000, got 100000000'],
      [['--losses', 'gdl,boundary', '--schedule', 'constant', '--weights', '-1,1'], '--weights: expected a number ≥ 0, got -1'],
    ] as const) {
      assertError(await cli(['train', ...without(TINY, '--size', '--losses', '--train-slices'), ...args, '--out', out]), 2, where, out);
    }
  });

  test('--base 100000 (a model no backend can hold) and a batch too large for memory are flag errors', async () => {
    const out = at('never');
    assertError(await cli(['train', ...without(TINY, '--base'), '--base', '100000', '--out', out]), 2, /--base 100000: a U-Net of base 100000 and depth 1 has [\d.]+e\+\d+ parameters \(.* with gradients and optimizer state\), more than the 4\.0 GiB a backend can hold/, out);
    assertError(await cli(['train', ...without(TINY, '--size', '--base', '--batch-size', '--train-slices'), '--train-slices', '8', '--size', '512', '--base', '64', '--batch-size', '8', '--out', out]), 2, /--batch-size 8: a training step of a U-Net of base 64 on 8 slices of 512×512 needs at least [\d.]+ GiB of activations/, out);
  });

  test('backends: unknown mode, unknown name, BOUNDARY_SEG_BACKEND, BOUNDARY_SEG_THREADS', async () => {
    const out = at('never');
    assertError(await cli(['train', ...TINY, '--backend', 'wasm:turbo', '--out', out]), 2, "--backend wasm:turbo: backend 'wasm' has no modes, got 'turbo'", out);
    assertError(await cli(['train', ...TINY, '--backend', 'gpujs:turbo', '--out', out]), 2, "unknown mode 'turbo' of backend 'gpujs' (modes: auto, webgpu, headlessgl, webasm, cpu)", out);
    await withEnv({ BOUNDARY_SEG_BACKEND: 'nonsense' }, async () => assertError(await cli(['train', ...TINY, '--out', out]), 2, "BOUNDARY_SEG_BACKEND=nonsense: unknown backend 'nonsense'", out));
    await withEnv({ BOUNDARY_SEG_BACKEND: 'gpujs:x' }, async () => assertError(await cli(['train', ...TINY, '--out', out]), 2, "BOUNDARY_SEG_BACKEND=gpujs:x: unknown mode 'x'", out));
    for (const bad of ['abc', '0', '-3', '2.5']) {
      await withEnv({ BOUNDARY_SEG_THREADS: bad }, async () => assertError(await cli(['train', ...TINY, '--out', out]), 2, `BOUNDARY_SEG_THREADS=${bad}: expected an integer from 1 to 8`, out));
    }
    await withEnv({ BOUNDARY_SEG_THREADS: '64' }, async () => {
      const r = await cli(['train', ...TINY, '--epochs', '1', '--out', at('threads64')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /boundary-seg: warning: BOUNDARY_SEG_THREADS=64 is above the maximum of 8: using 8 threads/);
      assert.equal(process.env['BOUNDARY_SEG_THREADS'], '8');
    });
  });

  test('BOUNDARY_SEG_BACKEND naming an asynchronous backend is started before the run folder is made', async () => {
    try {
      await withEnv({ BOUNDARY_SEG_BACKEND: 'gpujs:webasm' }, async () => {
        const r = await cli(['train', ...without(TINY, '--quiet'), '--epochs', '1', '--out', at('gpujs-env')]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /backend gpujs; run folder/);
      });
    } finally {
      await core.setBackend('cpu');
    }
  });

  test('--backend gpujs:webgpu without a GPU: one line, no Dawn output, no folder (child process)', { skip: vulkanLoaderPresent() && 'a Vulkan loader is installed here: a WebGPU adapter may answer' }, () => {
    const out = at('never-gpu');
    const r = child(['train', ...TINY, '--backend', 'gpujs:webgpu', '--out', out]);
    assertError({ code: r.status, stderr: r.stderr }, 2, '--backend gpujs:webgpu: webgpu: no WebGPU adapter: this machine has no Vulkan loader (libvulkan.so.1), which WebGPU needs (install', out);
    assert.doesNotMatch(r.stderr, /Vulkan: libvulkan/);
  });

  test('--backend gpujs (auto) without a Vulkan loader: WebGPU passed over quietly, no native line before the CLI\'s output (child process)', { skip: vulkanLoaderPresent() && 'a Vulkan loader is installed here: Dawn may be started' }, () => {
    const out = at('gpujs-auto');
    const r = child(['train', ...without(TINY, '--quiet'), '--epochs', '1', '--backend', 'gpujs', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Vulkan/, 'no Dawn output');
    assert.match(r.stderr.split('\n')[0]!, /^data: synthetic/, `the CLI's own output comes first: ${r.stderr.split('\n')[0]}`);
    assert.match(r.stderr, /backend gpujs; run folder/);
  });
});

describe('hardening: interrupted runs (item 5) and resume checks (item 8)', () => {
  before(async () => core.setBackend('cpu'));
  const files = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();

  test('--resume of a folder killed before its first last.ckpt starts the run from run.json', async () => {
    const reference = at('ref');
    assert.equal((await cli(['train', ...TINY, '--epochs', '2', '--out', reference])).code, 0);
    const killed = at('killed');
    assert.equal((await cli(['train', ...TINY, '--epochs', '2', '--out', killed])).code, 0);
    // as a kill during epoch 1 leaves it: run.json, maybe best.ckpt, a half-written temporary file
    for (const name of readdirSync(killed)) if (!['run.json', 'best.ckpt'].includes(name)) rmSync(join(killed, name), { recursive: true });
    writeFileSync(join(killed, '.last.ckpt.0123456789ab.tmp'), 'half');
    assert.equal((await cli(['train', ...TINY, '--out', killed])).code, 2, 'the same --out is refused: not empty');
    const r = await cli(['train', '--resume', killed]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['metrics.csv', 'last.ckpt', 'best.ckpt']) assert.ok(readFileSync(join(killed, f)).equals(readFileSync(join(reference, f))), `${f} as in an uninterrupted run`);
    assert.deepEqual(listTemporaryFilesSync(killed), [], 'the temporary file is gone');
    assertError(await cli(['train', '--resume', at('afile-not-a-run')]), 2, 'no such file or folder');
    mkdirSync(at('empty-dir'));
    assertError(await cli(['train', '--resume', at('empty-dir')]), 2, 'not a run folder (neither last.ckpt nor run.json)');
  });

  test('a successful resume removes the temporary files a killed run left; fewer --epochs than done is exit 2', async () => {
    const dir = at('tmpfiles');
    assert.equal((await cli(['train', ...TINY, '--epochs', '2', '--out', dir])).code, 0);
    assertError(await cli(['train', '--resume', dir, '--epochs', '1']), 2, `--epochs 1: the run in ${dir} has already done 2 epochs`);
    writeFileSync(join(dir, '.last.ckpt.00112233aabb.tmp'), 'half a checkpoint');
    writeFileSync(join(dir, '.metrics.csv.ffeeddccbbaa.tmp'), 'epoch,');
    const before = files(dir);
    const r = await cli(['train', '--resume', dir, '--epochs', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listTemporaryFilesSync(dir), [], 'temporary files removed');
    assert.deepEqual(files(dir), before, 'the same files');
    assert.equal(readFileSync(join(dir, 'metrics.csv'), 'utf8').trimEnd().split('\n').length, 4, 'three epochs');
  });

  test('experiment --resume removes temporary files and restarts runs that had no last.ckpt', async () => {
    const dir = at('exp');
    const args = [...without(TINY, '--losses'), '--settings', 'gdl,boundary', '--seeds', '1'];
    assert.equal((await cli(['experiment', ...args, '--epochs', '1', '--out', dir])).code, 0);
    const seed = join(dir, 'boundary', 'seed-0');
    rmSync(join(seed, 'last.ckpt'));
    writeFileSync(join(seed, '.last.ckpt.0123456789ab.tmp'), 'half');
    writeFileSync(join(dir, '.results.md.0123456789ab.tmp'), 'half');
    const r = await cli(['experiment', '--resume', dir, '--epochs', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...listTemporaryFilesSync(dir), ...listTemporaryFilesSync(seed)], [], 'temporary files removed');
    assert.equal(readFileSync(join(seed, 'metrics.csv'), 'utf8').trimEnd().split('\n').length, 3, 'the restarted run has its 2 epochs');
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    test(`${signal} removes the temporary file being written and exits ${code} (child process)`, async () => {
      const dir = mkdtempSync(join(root, 'signal-'));
      const proc = spawn(process.execPath, ['--import', 'tsx', join(repo, 'spec/helpers/signal-child.ts'), dir], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      const limit = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
      const temporary = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /writing (\S+)\n/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.on('exit', () => reject(new Error(`child ended early: ${stderr}`)));
      });
      assert.ok(existsSync(temporary), 'the temporary file exists while it is written');
      const exit = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
      proc.kill(signal);
      const status = await exit;
      clearTimeout(limit);
      assert.equal(status, code, `exit status (${stderr})`);
      assert.equal(existsSync(temporary), false, 'the temporary file was removed');
      assert.deepEqual(readdirSync(dir), [], 'nothing left');
      assert.match(stderr, new RegExp(`boundary-seg: stopped by ${signal}`));
    });
  }
});

describe('hardening: data, checkpoints and config through the command line (items 3, 9, 10)', () => {
  before(async () => core.setBackend('cpu'));
  const gray = (h: number, w: number, f: (i: number) => number) => encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: h * w }, (_, i) => f(i)) });

  test('damaged checkpoints are exit 3 naming the file: eval of a flipped best.ckpt, --resume of a flipped last.ckpt', async () => {
    const run = at('ckpt-run');
    assert.equal((await cli(['train', ...TINY, '--epochs', '1', '--out', run])).code, 0);
    const best = readFileSync(join(run, 'best.ckpt'));
    best[best.length - 50]! ^= 0x10;
    const flipped = at('flipped.ckpt');
    writeFileSync(flipped, best);
    assertError(await cli(['eval', '--checkpoint', flipped, ...TINY.slice(0, 7), '--out', at('never')]), 3, `${flipped}: corrupt: checksum mismatch`, at('never'));
    const last = join(run, 'last.ckpt');
    const bytes = readFileSync(last);
    bytes[bytes.length - 100]! ^= 0x01;
    writeFileSync(last, bytes);
    assertError(await cli(['train', '--resume', run, '--epochs', '2']), 3, `${last}: corrupt: checksum mismatch`);
  });

  test('relative paths in --config are relative to the config file\'s folder', async () => {
    const folder = at('cfg');
    mkdirSync(join(folder, 'ds', 'train', 'img'), { recursive: true });
    for (const split of ['train', 'val']) {
      for (const part of ['img', 'gt']) mkdirSync(join(folder, 'ds', split, part), { recursive: true });
      for (let i = 0; i < 2; i++) {
        writeFileSync(join(folder, 'ds', split, 'img', `c${i}.png`), gray(16, 16, (p) => (p * 7 + i) % 251));
        writeFileSync(join(folder, 'ds', split, 'gt', `c${i}.png`), gray(16, 16, (p) => (p % 16 > 5 && p % 16 < 10 + i ? 1 : 0)));
      }
    }
    writeFileSync(join(folder, 'c.json'), JSON.stringify({ data: 'ds', out: 'run', epochs: 1, base: 2, depth: 1, batchSize: 2, losses: 'gdl', overlays: 0, quiet: true }));
    const r = await cli(['train', '--config', join(folder, 'c.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(folder, 'run', 'metrics.csv')), 'the run folder is beside the config file');
  });

  test('a stray label value is exit 3 naming the values; distmap of a grayscale picture is exit 3', async () => {
    const ds = at('stray');
    for (const split of ['train', 'val']) {
      for (let i = 0; i < 2; i++) {
        mkdirSync(join(ds, split, 'img'), { recursive: true });
        mkdirSync(join(ds, split, 'gt'), { recursive: true });
        writeFileSync(join(ds, split, 'img', `c${i}.png`), gray(16, 16, (p) => p % 200));
        writeFileSync(join(ds, split, 'gt', `c${i}.png`), gray(16, 16, (p) => (split === 'train' && i === 1 && p === 9 ? 7 : p % 16 > 8 ? 1 : 0)));
      }
    }
    assertError(await cli(['train', '--data', ds, '--epochs', '1', '--base', '2', '--depth', '1', '--quiet', '--out', at('never')]), 3, /label values 0, 1, 7 would make 8 classes: pass classes explicitly \(--classes K\)/, at('never'));
    const photo = at('photo.png');
    writeFileSync(photo, gray(32, 32, (p) => p % 256));
    assertError(await cli(['distmap', '--input', photo, '--out', at('never')]), 3, /photo\.png: label values 0, 1, 2 and 253 more would make 256 classes/, at('never'));
  });

  test('an image larger than 1024×1024 pixels is refused by predict (exit 3, no folder); 1024×1024 is predicted', async () => {
    const run = at('predict-run');
    assert.equal((await cli(['train', ...TINY, '--epochs', '1', '--out', run])).code, 0);
    const big = at('big.png');
    writeFileSync(big, gray(1100, 1000, (p) => p % 97));
    assertError(await cli(['predict', '--checkpoint', join(run, 'best.ckpt'), '--input', big, '--out', at('never')]), 3, `${big}: slices of 1100×1000 pixels are larger than the network takes (at most 1048576 pixels, 1024×1024)`, at('never'));
    const ok = at('ok.png');
    writeFileSync(ok, gray(1024, 1024, (p) => p % 97));
    const r = await cli(['predict', '--checkpoint', join(run, 'best.ckpt'), '--input', ok, '--out', at('pred'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(at('pred'), 'ok.png')));
    // a wider network on the same slice would not fit in a backend's memory: refused up front
    const wide = at('predict-wide');
    assert.equal((await cli(['train', ...without(TINY, '--base'), '--base', '64', '--epochs', '1', '--out', wide])).code, 0);
    assertError(await cli(['predict', '--checkpoint', join(wide, 'best.ckpt'), '--input', ok, '--out', at('never')]), 3, /ok\.png: predicting a slice of 1024×1024 with a U-Net of base 64 needs at least 6\.0 GiB, more than the 4\.0 GiB a backend can hold/, at('never'));
  });
});
