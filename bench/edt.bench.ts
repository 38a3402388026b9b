/**
 * Distance-transform benchmark: `edt` against `scipy.ndimage.distance_transform_edt` on seeded
 * random masks of disks (2-D) or balls (3-D) covering about 20 % of the image.
 *
 * scipy runs in one `/usr/bin/python3` process per workload that times itself (median of several
 * runs) and writes its result back, so the suite also prints the largest difference from ours.
 * scipy's transform is single-threaded; its process runs with one-thread pools (`python.ts`).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { edt } from '../losses/edt.js';
import { PYTHON, pythonEnv } from './python.js';
import type { Contestant, Workload } from './workload.js';

/** mulberry32: a small deterministic generator of uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 0/1 mask of `shape` made of random disks/balls (radius 4–12 % of the smallest side) added until
 * at least `coverage` of the voxels are set. Deterministic for a given seed.
 */
export function randomBlobs(shape: readonly number[], seed: number, coverage = 0.2): Uint8Array {
  const random = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const rank = shape.length;
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1));
  const mask = new Uint8Array(n);
  const side = Math.min(...shape);
  let filled = 0;
  while (filled < coverage * n) {
    const centre = shape.map((s) => random() * s);
    const radius = (0.04 + 0.08 * random()) * side;
    const lo = centre.map((c) => Math.max(0, Math.floor(c - radius)));
    const hi = centre.map((c, a) => Math.min(shape[a] - 1, Math.ceil(c + radius)));
    const visit = (axis: number, offset: number, d2: number): void => {
      if (axis === rank) {
        if (d2 <= radius * radius && mask[offset] === 0) {
          mask[offset] = 1;
          filled++;
        }
        return;
      }
      for (let i = lo[axis]; i <= hi[axis]; i++) {
        const d = i + 0.5 - centre[axis];
        visit(axis + 1, offset + i * strides[axis], d2 + d * d);
      }
    };
    visit(0, 0, 0);
  }
  return mask;
}

/** Why scipy cannot run here, or undefined when it can. */
function scipyUnavailable(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import scipy.ndimage, numpy'], { encoding: 'utf8', env: pythonEnv(1) });
  return probe.status === 0 ? undefined : 'scipy not available (apt-get install python3-scipy)';
}

/** Python side: load the mask, time `repeats` transforms after one warm-up, save the last result. */
const SCIPY_SCRIPT = `
import sys, time, numpy as np
from scipy.ndimage import distance_transform_edt
path, shape, sampling, repeats, out = sys.argv[1], eval(sys.argv[2]), eval(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
mask = np.fromfile(path, dtype=np.uint8).reshape(shape).astype(bool)
result = distance_transform_edt(mask, sampling=sampling)
times = []
for _ in range(repeats):
    t = time.perf_counter()
    result = distance_transform_edt(mask, sampling=sampling)
    times.append((time.perf_counter() - t) * 1000)
result.astype(np.float64).tofile(out)
print(float(np.median(times)))
`;

interface Case {
  readonly shape: readonly number[];
  readonly spacing?: readonly number[];
  readonly seed: number;
  readonly headline?: boolean;
}

const CASES: readonly Case[] = [
  { shape: [256, 256], seed: 1 },
  { shape: [512, 512], seed: 2, headline: true },
  { shape: [128, 128, 128], seed: 3, headline: true },
  { shape: [128, 128, 128], spacing: [1, 0.5, 2], seed: 3 },
];

function workloadName({ shape, spacing }: Case): string {
  return `edt ${shape.join('x')}${spacing ? ` spacing (${spacing.join(', ')})` : ''}`;
}

/** The `edt` workloads: sizes 256², 512², 128³ and 128³ with spacing (1, 0.5, 2). */
export function edtWorkloads(): Workload[] {
  const scipySkip = scipyUnavailable();
  return CASES.map((c) => {
    const name = workloadName(c);
    const mask = { data: randomBlobs(c.shape, c.seed), shape: c.shape };
    const options = c.spacing ? { spacing: c.spacing } : {};
    const ours: Contestant = {
      backend: 'cpu',
      project: true,
      fn: () => {
        edt(mask, options);
      },
    };
    const scipy: Contestant = scipySkip
      ? { backend: 'scipy', project: false, skip: scipySkip }
      : scipyContestant(name, mask.data, c, () => edt(mask, options).data);
    return { name, headline: c.headline, contestants: [ours, scipy], ratios: [['cpu', 'scipy']] };
  });
}

/** scipy as a self-timed peer; also prints the largest difference between its result and ours. */
function scipyContestant(name: string, mask: Uint8Array, c: Case, ours: () => Float64Array): Contestant {
  let dir = '';
  const repeats = c.shape.length === 3 ? 5 : 20;
  return {
    backend: 'scipy',
    project: false,
    setup: () => {
      dir = mkdtempSync(join(tmpdir(), 'boundary-seg-edt-'));
      writeFileSync(join(dir, 'mask.u8'), mask);
    },
    selfTimed: async () => {
      const out = join(dir, 'scipy.f64');
      const shape = `(${c.shape.join(', ')},)`;
      const sampling = c.spacing ? `(${c.spacing.join(', ')},)` : 'None';
      const args = ['-c', SCIPY_SCRIPT, join(dir, 'mask.u8'), shape, sampling, String(repeats), out];
      const { stdout } = await promisify(execFile)(PYTHON, args, { maxBuffer: 1 << 20, env: pythonEnv(1) });
      const bytes = readFileSync(out);
      const theirs = new Float64Array(bytes.byteLength / 8);
      new Uint8Array(theirs.buffer).set(bytes);
      const mine = ours();
      let maxDiff = 0;
      for (let i = 0; i < mine.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mine[i] - theirs[i]));
      console.log(`check: ${name}: max |cpu − scipy| = ${maxDiff.toExponential(2)}`);
      return Number(stdout.trim());
    },
    teardown: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
