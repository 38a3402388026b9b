/**
 * The gpu.js backend per mode: matmul 512³, the 3×3 convolution of the engine workloads forward
 * and forward + backward (same workload names, so the lines sit with the CPU backends' and the
 * summary picks the fastest project backend), a chain of 50 elementwise ops kept on the device,
 * and the UNet-d3-b16 training step (256×256 batch 8 on a GPU, the issue's goal: ≤ 37 ms, 5× the
 * 7.3 ms of PyTorch CUDA on an H100).
 *
 * Modes: every mode available here (`BOUNDARY_SEG_GPUJS_MODES=webgpu,webasm` picks some); a mode
 * that cannot start is skipped with its reason. GL needs a display (`xvfb-run -a npm run bench`)
 * and on Mesa's llvmpipe is a software run, labelled as such.
 */
import '../backends/register.js';
import * as core from '../core/index.js';
import type { GpujsBackend } from '../backends/gpujs/backend.js';
import { GPUJS_MODES, type GpujsRunMode } from '../backends/gpujs/settings.js';
import type { Contestant, Workload } from './workload.js';

const ALL_MODES: readonly GpujsRunMode[] = ['webgpu', 'headlessgl', 'webasm', 'cpu'];

/** The modes to benchmark (environment `BOUNDARY_SEG_GPUJS_MODES`, default all). */
function modesToRun(): GpujsRunMode[] {
  const env = process.env['BOUNDARY_SEG_GPUJS_MODES'];
  if (!env) return [...ALL_MODES];
  const asked = env.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const m of asked) if (!(GPUJS_MODES as readonly string[]).includes(m) || m === 'auto') throw new Error(`BOUNDARY_SEG_GPUJS_MODES: unknown mode '${m}'`);
  return asked as GpujsRunMode[];
}

function filled(n: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from(core.uniformArray(core.key(seed), n), (v) => (v * 2 - 1) * scale);
}

/** A mode that started (no problem) or could not, and whether it runs in software. */
interface Started {
  readonly problem: string | undefined;
  readonly software: boolean;
}

/** Starts each mode once; the reason it cannot start otherwise. */
async function startModes(modes: readonly GpujsRunMode[]): Promise<Map<GpujsRunMode, Started>> {
  const out = new Map<GpujsRunMode, Started>();
  for (const mode of modes) {
    try {
      await core.setBackend('gpujs', { mode });
      const b = core.getBackend() as GpujsBackend;
      startedBackends.push(b);
      const d = await b.describe();
      console.log(`gpujs:${mode}: ${d.renderer}${d.software ? ' (software: not a GPU run)' : ''}`);
      out.set(mode, { problem: undefined, software: d.software ?? true });
    } catch (e) {
      out.set(mode, { problem: (e as Error).message.replace(/^setBackend: [^:]+: /, '').split('\n')[0], software: true });
    }
  }
  return out;
}

/** A contestant on one gpu.js mode: inputs made in `setup`, `run` timed up to its read. */
function contestant(mode: GpujsRunMode, problem: string | undefined, make: () => { run: () => core.Tensor; inputs: core.Tensor[] }): Contestant {
  let state: { run: () => core.Tensor; inputs: core.Tensor[] } | undefined;
  const c: Contestant = {
    backend: `gpujs:${mode}`,
    project: true,
    setup: async () => {
      await core.setBackend('gpujs', { mode });
      state = make();
    },
    fn: async () => {
      const out = core.scope(state!.run);
      await out.data();
      out.dispose();
    },
    teardown: async () => {
      core.dispose(state?.inputs);
      await (core.getBackend() as GpujsBackend).settle();
    },
  };
  return problem ? { ...c, skip: problem } : c;
}

/** The UNet-d3-b16 step, when the training issue's benchmark module is there. */
async function unetWorkloads(modes: Map<GpujsRunMode, Started>): Promise<Workload[]> {
  let m: typeof import('./unet-d3-b16.js');
  try {
    m = await import('./unet-d3-b16.js');
  } catch (e) {
    console.log(`UNet-d3-b16 train step [gpujs]: skipped (the model benchmark module did not load: ${(e as Error).message.split('\n')[0]})`);
    return [];
  }
  // A GPU (WebGPU, or GL that is not software) does 256×256. gpu.js's CPU modes run naive loops on
  // one thread: webasm takes ~13 s a 64×64 step on this project's CI cores, JavaScript and Mesa's
  // software GL longer; they stay out of the benchmark's 10 minutes (webasm stands for them).
  const onGpu = (mode: GpujsRunMode, s: Started) => (mode === 'webgpu' || mode === 'headlessgl') && !s.software;
  const sizes: [number, number, (mode: GpujsRunMode, s: Started) => boolean, string][] = [
    [256, 8, (mode, s) => mode === 'webgpu' || onGpu(mode, s), 'runs on the CPU: minutes per step'],
    [64, 8, (mode, s) => mode === 'webgpu' || mode === 'webasm' || onGpu(mode, s), 'runs on the CPU (JavaScript or software GL): tens of seconds per step, outside the benchmark budget'],
  ];
  return sizes.map(([size, batch, runs, why]) => {
    let data: ReturnType<typeof m.unetBatch> | undefined;
    let trainer: ReturnType<typeof m.unetTrainer> | undefined;
    return {
      name: `UNet-d3-b16 train step ${size}x${size} b${batch}`,
      flops: m.unetStepFlops(batch, size),
      contestants: [...modes].map(([mode, started]): Contestant => ({
        backend: `gpujs:${mode}`,
        project: true,
        ...(started.problem ? { skip: started.problem } : runs(mode, started) ? {} : { skip: why }),
        setup: async () => {
          await core.setBackend('gpujs', { mode });
          data ??= m.unetBatch(batch, size);
          trainer = m.unetTrainer(data);
        },
        fn: async () => {
          await trainer!.step();
        },
        teardown: async () => {
          trainer?.dispose();
          await (core.getBackend() as GpujsBackend).settle();
        },
      })),
    };
  });
}

/** The workload names (so that `--only` selecting none of them starts no backend). */
const WORKLOAD_NAMES = [
  'matmul 512x512x512',
  'conv2d 3x3 8x32x64x64->32 forward',
  'conv2d 3x3 8x32x64x64->32 forward+backward',
  'elementwise chain 50 ops 512x512',
  'UNet-d3-b16 train step 256x256 b8',
  'UNet-d3-b16 train step 64x64 b8',
];

/** Backends started by the workloads. */
const startedBackends: GpujsBackend[] = [];

/** Disposes every gpu.js backend the workloads started (Node cannot exit while a WebGPU device lives). */
export async function disposeGpujs(): Promise<void> {
  for (const b of startedBackends.splice(0)) await b.dispose();
}

/** The gpu.js workloads on every mode asked for (none when `only` matches none of them). */
export async function gpujsWorkloads(only?: string): Promise<Workload[]> {
  if (only && !WORKLOAD_NAMES.some((n) => new RegExp(only, 'i').test(n))) return [];
  const started = await startModes(modesToRun());
  const each = (make: () => { run: () => core.Tensor; inputs: core.Tensor[] }): Contestant[] =>
    [...started].map(([mode, s]) => contestant(mode, s.problem, make));

  const M = 512;
  const matA = filled(M * M, 1);
  const matB = filled(M * M, 2);
  const [N, C, H, W, O, K] = [8, 32, 64, 64, 32, 3];
  const convX = filled(N * C * H * W, 3);
  const convW = filled(O * C * K * K, 4, 0.1);
  const convFlops = 2 * N * O * H * W * C * K * K;
  const convInputs = () => ({ x: core.tensor(convX, [N, C, H, W]), w: core.tensor(convW, [O, C, K, K]) });
  const CHAIN = 50;
  const chainN = 512 * 512;
  const chainX = filled(chainN, 5);

  const workloads: Workload[] = [
    {
      name: `matmul ${M}x${M}x${M}`,
      flops: 2 * M * M * M,
      contestants: each(() => {
        const a = core.tensor(matA, [M, M]);
        const b = core.tensor(matB, [M, M]);
        return { run: () => core.matmul(a, b), inputs: [a, b] };
      }),
    },
    {
      name: `conv2d 3x3 ${N}x${C}x${H}x${W}->${O} forward`,
      flops: convFlops,
      contestants: each(() => {
        const { x, w } = convInputs();
        return { run: () => core.conv2d(x, w, { padding: 1 }), inputs: [x, w] };
      }),
    },
    {
      name: `conv2d 3x3 ${N}x${C}x${H}x${W}->${O} forward+backward`,
      flops: 3 * convFlops,
      contestants: each(() => {
        const { x, w } = convInputs();
        const lossOf = (p: { x: core.Tensor; w: core.Tensor }) => core.sum(core.conv2d(p.x, p.w, { padding: 1 }));
        return {
          run: () => {
            const [v, g] = core.valueAndGrad(lossOf)({ x, w });
            return core.add(core.add(v, core.sum(g.x)), core.sum(g.w));
          },
          inputs: [x, w],
        };
      }),
    },
    {
      // 50 dependent elementwise kernels; only the last result is read
      name: `elementwise chain ${CHAIN} ops 512x512`,
      contestants: each(() => {
        const x = core.tensor(chainX, [512, 512]);
        return {
          run: () => {
            let y = x;
            for (let i = 0; i < CHAIN; i++) {
              const k = i % 5;
              y = k === 0 ? core.mul(y, 0.9) : k === 1 ? core.add(y, 0.1) : k === 2 ? core.neg(y) : k === 3 ? core.sub(y, x) : core.abs(y);
            }
            return y;
          },
          inputs: [x],
        };
      }),
    },
  ];
  return [...workloads, ...(await unetWorkloads(started))];
}
