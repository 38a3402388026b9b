/**
 * How the benchmark runs its Python peers (PyTorch, scipy): Debian's `/usr/bin/python3`, in a child
 * process whose thread pools are pinned, so that a peer uses exactly the threads it is credited with.
 *
 * PyTorch parallelizes with OpenMP; a threaded BLAS (OpenBLAS, when Debian's `libblas.so.3`
 * alternative points at it) starts a second pool of its own, and on a small machine the two pools
 * fight for the same cores (a UNet step measured 152.6 ms instead of 35.4 ms that way). Every peer
 * therefore runs with `OPENBLAS_NUM_THREADS=1` and `OMP_NUM_THREADS` (and `MKL_NUM_THREADS`) equal to
 * its thread count; `python/peers.py` also calls `torch.set_num_threads` with it and reports what
 * took effect.
 *
 * `OMP_WAIT_POLICY` is `PASSIVE` unless the benchmark's own environment sets it: GNU OpenMP's
 * default spins between parallel regions, which on a shared machine (others' processes on the same
 * cores) costs PyTorch several times its step time (a 64×64 UNet step measured 1.1–4.4 s spinning
 * against 0.16–0.40 s passive at a load average of 4–8 on 2 cores); the `wasm` backend's workers
 * sleep in `Atomics.wait` between jobs as well.
 */

import { writeFileSync } from 'node:fs';

/**
 * Writes float32 arrays one after the other to `path` (little-endian, no header): the data files
 * the Python peers read (`python/peers.py`'s `load`).
 */
export function writeFloat32File(path: string, arrays: readonly Float32Array[]): string {
  const all = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    all.set(a, o);
    o += a.length;
  }
  writeFileSync(path, new Uint8Array(all.buffer));
  return path;
}

/** The interpreter of the Python peers (Debian's, where `apt-get install python3-torch` puts torch). */
export const PYTHON = '/usr/bin/python3';

/** The child-process environment of a Python peer that may use `threads` threads. */
export function pythonEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: process.env['OMP_WAIT_POLICY'] ?? 'PASSIVE' };
}
