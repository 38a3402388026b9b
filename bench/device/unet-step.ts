/**
 * The UNet-d3-b16 training step compiled by `jit` on `gpujs:webgpu`, against PyTorch on the same
 * machine, in one run: at each size (default 64², 128², 256², batch 8) the step is split into
 *
 * - host: the JavaScript of one replay (the plan's steps recorded into the WebGPU queue),
 * - submit: encoding the recorded dispatches into one command buffer and `queue.submit`,
 * - gpu: from the submission until `queue.onSubmittedWorkDone()` resolves (the device's work,
 *   plus the wake-up latency of that promise), and, where the device has `timestamp-query` (the
 *   backend asks for it in Node), the device time of the step's compute passes from timestamps,
 * - read: mapping the loss back,
 *
 * and the per-replay counts (kernels, dispatches, submissions, fresh buffers, new bind groups) come
 * from the backend's `stats()`. PyTorch runs `bench/python/peers.py unet B S FILE --device cuda` on
 * the same arrays (skipped, with the reason, when no Python has CUDA PyTorch). Ends with a summary
 * table, each row with the ratio to PyTorch measured in this run.
 *
 * Two variants of the convolution kernels run: `blocked` (four output pixels per thread, the
 * default on WebGPU) and `plain` (one output per thread, what they replaced), so that each keeps
 * its place only where it wins on the device.
 *
 *   node bench/device/unet-step.js [--sizes 64,128,256] [--batch 8] [--seconds 4]
 *     [--variants blocked,plain] [--python PATH]
 *
 * On a machine without a GPU it runs on whatever adapter answers (lavapipe: `eval "$(bash
 * bench/device/lavapipe.sh)"`), and says so: a software adapter is never reported as a GPU run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../backends/register.js';
import * as core from '../../core/index.js';
import { createGpujsBackend, type GpujsBackend } from '../../backends/gpujs/backend.js';
import { writeFloat32File } from '../python.js';
import { jitStep, unetBatch, unetStepFlops, unetTrainer } from '../unet-d3-b16.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
};
const sizes = option('--sizes', '64,128,256').split(',').map(Number);
const batch = Number(option('--batch', '8'));
const seconds = Number(option('--seconds', '4'));
const variants = option('--variants', 'blocked,plain').split(',');
for (const v of variants) if (v !== 'blocked' && v !== 'plain') throw new Error(`--variants: expected blocked and/or plain, got ${v}`);
const here = dirname(fileURLToPath(import.meta.url));
const peerScript = join(here, '../python/peers.py');

interface Row {
  readonly variant: string;
  readonly size: number;
  readonly steps: number;
  readonly host: number;
  readonly submit: number;
  readonly gpu: number;
  readonly gpuTs: number | undefined;
  readonly read: number;
  readonly total: number;
  readonly counts: string;
  readonly torch: number | undefined;
  readonly torchNote: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A Python with CUDA PyTorch: `--python`, else the first of python3 / /usr/bin/python3 that has it. */
function findTorch(): { python?: string; why: string } {
  const candidates = [option('--python', ''), 'python3', '/usr/bin/python3', 'python'].filter((c) => c !== '');
  const reasons: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) {
      reasons.push(`${py}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
      continue;
    }
    const out = (r.stdout ?? '').trim().split('\n').pop() ?? '';
    if (r.status !== 0) reasons.push(`${py}: no torch (${(r.stderr ?? '').trim().split('\n').pop()})`);
    else if (!/ True$/.test(out)) reasons.push(`${py}: torch ${out.split(' ')[0]} without CUDA`);
    else return { python: py, why: `${py}: torch ${out.split(' ')[0]}` };
  }
  return { why: reasons.join('; ') };
}

function torchStep(python: string, size: number, file: string): { ms?: number; note: string } {
  const r = spawnSync(python, [peerScript, 'unet', String(batch), String(size), file, '--device', 'cuda', '--time', String(seconds)], { encoding: 'utf8', timeout: 180_000 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const ms = Number(lines[lines.length - 1]);
  if (r.status !== 0 || !Number.isFinite(ms)) return { note: `PyTorch failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-2).join(' ')}` };
  return { ms, note: lines[0] ?? '' };
}

const started = Date.now();
console.log(`boundary-seg UNet-d3-b16 jit step on gpujs:webgpu (node ${process.version}); sizes ${sizes.join(', ')}, batch ${batch}, ${seconds} s per size; convolution variants ${variants.join(', ')}`);
core.registerBackend({ name: 'gpujs-plain-convolutions', priority: -10, create: async () => (await createGpujsBackend({ mode: 'webgpu' }, { blockedConvolutions: false })) as never });
const torch = findTorch();
console.log(`PyTorch peer: ${torch.python ? torch.why : `skipped (${torch.why})`}`);
const scratch = mkdtempSync(join(tmpdir(), 'boundary-seg-unet-step-'));
const torchBySize = new Map<number, { ms?: number; note: string }>();

const rows: Row[] = [];
let adapter = '';
for (const variant of variants) {
  await core.setBackend(variant === 'blocked' ? 'gpujs' : 'gpujs-plain-convolutions', variant === 'blocked' ? { mode: 'webgpu' } : {});
  const b = core.getBackend() as GpujsBackend;
  const d = await b.describe();
  adapter = `${d.renderer}${d.software ? ' (a software adapter: not a GPU run)' : ''}`;
  const timed = b.timeGpu();
  if (!timed) console.log(`[${variant}] no timestamp-query on this device: GPU time only from onSubmittedWorkDone`);
  console.log(`[${variant}] adapter: ${adapter}`);
  for (const size of sizes) {
    const data = unetBatch(batch, size);
    const phases = { host: [] as number[], submit: [] as number[], gpu: [] as number[], gpuTs: [] as number[], read: [] as number[], total: [] as number[] };
    let t1 = 0;
    let t2 = 0;
    let t3 = 0;
    const trainer = unetTrainer(data, 1, {
      compile: jitStep,
      afterCall: async () => {
        t1 = performance.now();
        await b.flush();
        t2 = performance.now();
        await b.gpuDone();
        t3 = performance.now();
      },
    });
    // the first call traces and builds every kernel; the next ones settle the pool and bind groups
    const warm0 = performance.now();
    await trainer.step();
    const compileMs = performance.now() - warm0;
    for (let i = 0; i < 3; i++) await trainer.step();
    let counts = '';
    const until = performance.now() + seconds * 1000;
    let steps = 0;
    while (steps < 5 || performance.now() < until) {
      const s0 = b.stats();
      const t0 = performance.now();
      const loss = await trainer.step();
      const t4 = performance.now();
      if (!Number.isFinite(loss)) throw new Error(`UNet step ${size}²: loss ${loss}`);
      phases.host.push(t1 - t0);
      phases.submit.push(t2 - t1);
      phases.gpu.push(t3 - t2);
      phases.read.push(t4 - t3);
      const ts = timed ? await b.lastGpuTime() : undefined;
      if (ts !== undefined) phases.gpuTs.push(ts);
      phases.total.push(t4 - t0);
      const s1 = b.stats();
      counts = `${s1.kernels - s0.kernels} kernels, ${s1.launches - s0.launches} dispatches, ${(s1.submits ?? 0) - (s0.submits ?? 0)} submits, ${s1.allocations - s0.allocations} fresh buffers, ${(s1.bindGroups ?? 0) - (s0.bindGroups ?? 0)} new bind groups`;
      steps++;
    }
    trainer.dispose();
    await b.settle();
    if (torch.python && !torchBySize.has(size)) {
      const file = writeFloat32File(join(scratch, `unet${size}.bin`), [data.x, data.target, data.dist]);
      torchBySize.set(size, torchStep(torch.python, size, file));
    }
    const peer = torchBySize.get(size) ?? { note: torch.why };
    const row: Row = { variant, size, steps, host: median(phases.host), submit: median(phases.submit), gpu: median(phases.gpu), gpuTs: phases.gpuTs.length > 0 ? median(phases.gpuTs) : undefined, read: median(phases.read), total: median(phases.total), counts, torch: peer.ms, torchNote: peer.note };
    rows.push(row);
    const gflops = unetStepFlops(batch, size) / (row.total * 1e6);
    console.log(`[${variant}] ${size}x${size} b${batch}: ${row.total.toFixed(2)} ms per step (median of ${steps}; host ${row.host.toFixed(2)}, submit ${row.submit.toFixed(2)}, gpu ${row.gpu.toFixed(2)}${row.gpuTs !== undefined ? ` (timestamps ${row.gpuTs.toFixed(2)})` : ''}, read ${row.read.toFixed(2)}), ${gflops.toFixed(1)} GFLOP/s; first call ${(compileMs / 1000).toFixed(1)} s; per replay: ${counts}`);
    console.log(`  PyTorch: ${peer.ms !== undefined ? `${peer.ms.toFixed(2)} ms per step; ${peer.note}` : `skipped (${peer.note})`}`);
  }
  await b.dispose();
}
rmSync(scratch, { recursive: true, force: true });

console.log('\nsummary: UNet-d3-b16 jit training step, gpujs:webgpu vs PyTorch (medians, ms)');
console.log('| convolutions | size | steps | host JS | submit | GPU (until done) | GPU (timestamps) | read | total | PyTorch | ratio |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ratio = r.torch !== undefined ? `${(r.total / r.torch).toFixed(1)}×` : '–';
  console.log(`| ${r.variant} | ${r.size}×${r.size} b${batch} | ${r.steps} | ${r.host.toFixed(2)} | ${r.submit.toFixed(2)} | ${r.gpu.toFixed(2)} | ${r.gpuTs !== undefined ? r.gpuTs.toFixed(2) : '–'} | ${r.read.toFixed(2)} | ${r.total.toFixed(2)} | ${r.torch !== undefined ? r.torch.toFixed(2) : 'skipped'} | ${ratio} |`);
}
console.log(`adapter: ${adapter}; per replay at ${rows.at(-1)?.size}²: ${rows.at(-1)?.counts}`);
if (torchBySize.size > 0) console.log(`PyTorch: ${[...torchBySize.values()][0]!.note}`);
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
