/**
 * CPU peers of the engine workloads and the UNet-d3-b16 training step: TensorFlow.js (`cpu` and
 * `wasm` backends, `tfjs-peers.ts`) and PyTorch (Debian's `python3-torch` through
 * `/usr/bin/python3`, `python/peers.py`, timing itself), on the same inputs as the project's
 * backends. PyTorch gets as many threads as the `wasm` backend's default, with its thread pools
 * pinned (`python.ts`); the configuration it ran with is printed (`peer config: ...`).
 *
 * The UNet step runs in each of the project's configurations (`UNET_CONFIGURATIONS` of
 * `unet-d3-b16.ts`: `wasm`, `wasm 1t`, `cpu`) and on the peers (PyTorch on the default threads and
 * on one thread) at 64×64 and 128×128, batch 8; `gpujs.bench.ts` adds gpu.js's modes. Under each
 * project line: kernels (and allocations) per step from `Backend.stats()`, and for `wasm` where a
 * step's time goes (`step-metrics.ts`).
 *
 * Peers too slow for the 10-minute budget are skipped with the reason (set
 * `BOUNDARY_SEG_BENCH_SLOW=1` to run them anyway).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as TF from '@tensorflow/tfjs';
import '../backends/register.js';
import { defaultThreads, type WasmBackend } from '../backends/wasm/backend.js';
import * as core from '../core/index.js';
import { PYTHON, pythonEnv, writeFloat32File } from './python.js';
import { profileSteps, splitLine, StepCounter } from './step-metrics.js';
import { TFJS_WASM_NOTE, toNhwc, tfjsUNet, useTfjs, type TfjsUNet } from './tfjs-peers.js';
import { UNET_CONFIGURATIONS, unetBatch, unetStepFlops, type UNetBatch, type UNetConfiguration, type UNetTrainer } from './unet-d3-b16.js';
import type { Contestant, Workload } from './workload.js';

const SCRIPT = fileURLToPath(new URL('./python/peers.py', import.meta.url));
const SLOW = process.env['BOUNDARY_SEG_BENCH_SLOW'] === '1';

/** PyTorch's threads in the `pytorch` contestants: the `wasm` backend's default thread count. */
const TORCH_THREADS = defaultThreads();

let pythonProblem: string | undefined | null = null;
/** Why PyTorch cannot run here (undefined when it can). */
function torchProblem(): string | undefined {
  if (pythonProblem !== null) return pythonProblem;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', env: pythonEnv(1) });
  pythonProblem = r.error ? `${PYTHON} not found` : r.status !== 0 ? 'PyTorch is not installed (apt-get install -y python3-torch libopenblas0-pthread)' : undefined;
  return pythonProblem;
}

let lastPeerConfig: string | undefined;
/**
 * Prints the `config:` line of a PyTorch run as `peer config: ...` when it differs from the last one
 * printed, with a note when PyTorch runs on the reference BLAS.
 */
function reportPeerConfig(line: string | undefined): void {
  if (!line || line === lastPeerConfig) return;
  lastPeerConfig = line;
  console.log(`peer ${line}`);
  if (line.includes('blas=reference')) {
    console.log('note: PyTorch runs on the reference BLAS here: its transposed convolutions and single-channel convolutions (im2col + gemm) ' +
      'are several times slower than with OpenBLAS (apt-get install -y libopenblas0-pthread); its ratios flatter the project');
  }
}

let scratchDir: string | undefined;
function scratchFile(name: string, arrays: readonly Float32Array[]): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), 'boundary-seg-bench-'));
  return writeFloat32File(join(scratchDir, name), arrays);
}

/** Removes the scratch files of the PyTorch runs. */
export function cleanupCpuPeers(): void {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = undefined;
}

/**
 * PyTorch timing itself on `args` (ms per iteration) with `threads` threads: `[pytorch]` on the
 * default thread count, `[pytorch Nt]` otherwise.
 */
function pytorch(args: () => string[], threads = TORCH_THREADS): Contestant {
  const backend = threads === TORCH_THREADS ? 'pytorch' : `pytorch ${threads}t`;
  const problem = torchProblem();
  if (problem) return { backend, project: false, skip: problem };
  return {
    backend,
    project: false,
    selfTimed: async () => {
      const argv = [SCRIPT, ...args(), '--threads', String(threads), '--time', '3'];
      const { stdout } = await promisify(execFile)(PYTHON, argv, { maxBuffer: 1 << 20, env: pythonEnv(threads) });
      const lines = stdout.trim().split('\n');
      reportPeerConfig(lines.find((l) => l.startsWith('config: ')));
      const ms = Number(lines.pop());
      if (!Number.isFinite(ms)) throw new Error(`unexpected output: ${stdout.trim().slice(0, 80)}`);
      return ms;
    },
  };
}

type Tf = Awaited<ReturnType<typeof useTfjs>>;

/** A tfjs contestant: `make` builds inputs on the selected tfjs backend and returns one iteration. */
function tfjs(backend: 'cpu' | 'wasm', make: (tf: Tf) => { run: () => Promise<void>; dispose: () => void }, skip?: string): Contestant {
  let state: { run: () => Promise<void>; dispose: () => void } | undefined;
  const c: Contestant = {
    backend: `tfjs-${backend}`,
    project: false,
    setup: async () => {
      state = make(await useTfjs(backend));
    },
    fn: () => state!.run(),
    teardown: () => state?.dispose(),
  };
  return skip && !SLOW ? { ...c, skip } : c;
}

function filled(n: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from(core.uniformArray(core.key(seed), n), (v) => (v * 2 - 1) * scale);
}

/** [O, C, kh, kw] → tfjs's [kh, kw, C, O]. */
function toHwio(w: Float32Array, o: number, c: number, k: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let oi = 0; oi < o; oi++) for (let ci = 0; ci < c; ci++) for (let t = 0; t < k * k; t++) out[(t * c + ci) * o + oi] = w[(oi * c + ci) * k * k + t]!;
  return out;
}

const TFJS_CPU_BACKPROP = 'measured here: ~47 s per iteration (its Conv2DBackpropFilter); over the 10-minute budget';

/**
 * Adds the CPU peers to the engine workloads (`engine.bench.ts`: matmul 512³ and the 3×3
 * convolution 8×32×64×64→32, same inputs: the same seeded arrays).
 */
export function withCpuPeers(workloads: readonly Workload[]): Workload[] {
  const M = 512;
  const [N, C, H, W, O, K] = [8, 32, 64, 64, 32, 3];
  const lazy = <T>(f: () => T) => { let v: T | undefined; return () => (v ??= f()); };
  const matA = lazy(() => filled(M * M, 1));
  const matB = lazy(() => filled(M * M, 2));
  const convX = lazy(() => filled(N * C * H * W, 3));
  const convW = lazy(() => filled(O * C * K * K, 4).map((v) => v * 0.1));
  const nhwcX = lazy(() => toNhwc(convX(), N, C, H, W));
  const hwioW = lazy(() => toHwio(convW(), O, C, K));
  const matFile = lazy(() => scratchFile('matmul.bin', [matA(), matB()]));
  const convFile = lazy(() => scratchFile('conv.bin', [convX(), convW()]));
  const peers: Record<string, Contestant[]> = {
    [`matmul ${M}x${M}x${M}`]: [
      ...(['cpu', 'wasm'] as const).map((b) => tfjs(b, (tf) => {
        const a = tf.tensor2d(matA(), [M, M]);
        const bb = tf.tensor2d(matB(), [M, M]);
        return { run: async () => { const c = tf.matMul(a, bb); await c.data(); c.dispose(); }, dispose: () => tf.dispose([a, bb]) };
      })),
      pytorch(() => ['matmul', String(M), matFile()]),
    ],
    [`conv2d 3x3 ${N}x${C}x${H}x${W}->${O} forward`]: [
      ...(['cpu', 'wasm'] as const).map((b) => tfjs(b, (tf) => {
        const x = tf.tensor4d(nhwcX(), [N, H, W, C]);
        const w = tf.tensor4d(hwioW(), [K, K, C, O]);
        return { run: async () => { const y = tf.conv2d(x, w, 1, 'same'); await y.data(); y.dispose(); }, dispose: () => tf.dispose([x, w]) };
      })),
      pytorch(() => ['conv', ...[N, C, H, W, O].map(String), convFile()]),
    ],
    [`conv2d 3x3 ${N}x${C}x${H}x${W}->${O} forward+backward`]: [
      ...(['cpu', 'wasm'] as const).map((b) => tfjs(b, (tf) => {
        const x = tf.tensor4d(nhwcX(), [N, H, W, C]);
        const w = tf.tensor4d(hwioW(), [K, K, C, O]);
        const grads = tf.grads((a: TF.Tensor, f: TF.Tensor) => tf.sum(tf.conv2d(a as TF.Tensor4D, f as TF.Tensor4D, 1, 'same')));
        return {
          run: async () => {
            const [gx, gw] = grads([x, w]);
            await Promise.all([gx!.data(), gw!.data()]);
            tf.dispose([gx!, gw!]);
          },
          dispose: () => tf.dispose([x, w]),
        };
      }, b === 'cpu' ? TFJS_CPU_BACKPROP : undefined)),
      pytorch(() => ['convtrain', ...[N, C, H, W, O].map(String), convFile()]),
    ],
  };
  return workloads.map((w) => {
    const extra = peers[w.name];
    if (!extra) return w;
    return {
      ...w,
      contestants: [...w.contestants, ...extra],
      ratios: [...(w.ratios ?? []), ['wasm', 'pytorch'], ['wasm', 'tfjs-wasm'], ['cpu', 'wasm']],
    };
  });
}

/** The wasm backend's memory across steps, printed under its UNet lines. */
function memoryNote(workload: string, label: string, steps: number, first: { buffers: number; heap: number }, last: { buffers: number; heap: number }): string {
  const flat = first.buffers === last.buffers && first.heap === last.heap;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const rt = (core.getBackend() as WasmBackend).runtime;
  const stats = rt.heap.stats();
  const how = `${rt.threads} thread${rt.threads === 1 ? '' : 's'}, ${rt.fma ? 'relaxed-SIMD FMA' : 'f32x4 mul + add (no relaxed SIMD in this runtime)'}, Winograd ${rt.winograd ? 'on' : 'off'}`;
  return `memory: ${workload} [${label}] (${how}): ${flat ? 'flat' : 'GREW'} over ${steps} steps (live buffers ${first.buffers} → ${last.buffers}, ` +
    `shared heap ${mib(first.heap)} → ${mib(last.heap)} MiB, at most ${mib(stats.peakInUse)} MiB in use at once); ` +
    `peak resident memory of the whole benchmark process so far ${mib(process.resourceUsage().maxRSS * 1024)} MiB`;
}

/** Steps timed per kernel after a configuration's timed steps (`profile`). */
const PROFILED_STEPS = 2;

/**
 * A project configuration of the UNet step as a contestant: selects its backend, builds its
 * trainer, times `trainer.step()`, and notes kernels (and allocations) per step, the time split
 * (`profile`) and, on `wasm`, whether memory stayed flat.
 */
function projectContestant(name: string, config: UNetConfiguration, batchData: () => UNetBatch): Contestant {
  let trainer: UNetTrainer | undefined;
  let steps = 0;
  let first = { buffers: 0, heap: 0 };
  let notes: string[] = [];
  const counter = new StepCounter();
  const isWasm = () => core.getBackend().name === 'wasm';
  const snapshot = () => ({ buffers: core.memory().buffers, heap: (core.getBackend() as WasmBackend).runtime.heap.stats().top });
  return {
    backend: config.label,
    project: true,
    setup: async () => {
      await core.setBackend(config.backend, config.options ?? {});
      if (isWasm()) (core.getBackend() as WasmBackend).waitForThreads();
      trainer = config.trainer(batchData());
      steps = 0;
      notes = [];
    },
    fn: async () => {
      await counter.around(core.getBackend(), () => trainer!.step());
      if (isWasm() && ++steps === 2) first = snapshot();
    },
    teardown: async () => {
      try {
        notes.push(...counter.lines());
        if (config.profile && trainer) {
          const t = trainer;
          const split = await profileSteps(core.getBackend(), PROFILED_STEPS, () => (steps++, t.step())).catch((e: unknown) => `failed: ${(e as Error).message.split('\n')[0]}`);
          notes.push(splitLine(name, config.label, split));
        }
        if (isWasm() && steps >= 2) notes.push(memoryNote(name, config.label, steps, first, snapshot()));
      } finally {
        trainer?.dispose();
        trainer = undefined;
      }
    },
    notes: () => notes,
  };
}

/**
 * The UNet-d3-b16 training-step workloads (64×64 and 128×128, batch 8): every project
 * configuration, tfjs, and PyTorch on the default threads and on one thread.
 */
export function unetWorkloads(): Workload[] {
  return ([64, 128] as const).map((size) => {
    const batch = 8;
    const name = `UNet-d3-b16 train step ${size}x${size} b${batch}`;
    let data: UNetBatch | undefined;
    const batchData = () => (data ??= unetBatch(batch, size));
    const tfjsUnet = (backend: 'cpu' | 'wasm', skip?: string): Contestant => {
      let u: TfjsUNet | undefined;
      const c: Contestant = {
        backend: `tfjs-${backend}`,
        project: false,
        setup: async () => {
          u = tfjsUNet(await useTfjs(backend), batchData());
          if (backend === 'wasm') console.log(`note: ${name} [tfjs-wasm]: ${TFJS_WASM_NOTE}`);
        },
        fn: async () => {
          await u!.step();
        },
        teardown: () => u?.dispose(),
      };
      return skip && !SLOW ? { ...c, skip } : c;
    };
    const torchArgs = () => {
      const d = batchData();
      return ['unet', String(batch), String(size), scratchFile(`unet${size}.bin`, [d.x, d.target, d.dist])];
    };
    const contestants: Contestant[] = [
      ...UNET_CONFIGURATIONS.map((c) => projectContestant(name, c, batchData)),
      tfjsUnet('wasm'),
      tfjsUnet('cpu', 'measured here: ~190 s per step at 64×64 (its Conv2DBackpropFilter); over the 10-minute budget'),
      pytorch(torchArgs),
      ...(TORCH_THREADS !== 1 ? [pytorch(torchArgs, 1)] : []),
    ];
    if (size !== 64) contestants.push({ backend: 'gpujs:webasm', project: true, skip: 'gpu.js\'s WebAssembly mode takes ~13 s per step at 64×64 (see above), ~4× that here: over the 10-minute budget' });
    const configRatios = UNET_CONFIGURATIONS.filter((c) => c.peer).map((c): [string, string] => [c.label, c.peer!]);
    return {
      name,
      flops: unetStepFlops(batch, size),
      headline: true,
      contestants,
      ratios: [...configRatios, ['wasm', 'tfjs-wasm'], ['cpu', 'wasm']],
    };
  });
}
