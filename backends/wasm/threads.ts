/**
 * Fork-join over `worker_threads`: every worker instantiates the same kernel module on the same
 * shared memory and waits (`Atomics.wait`) on a control block at the bottom of that memory. A job
 * is one exported kernel with one argument list per thread; the main thread posts it, runs its own
 * share, then waits for the workers' shares. Workers are `unref`'d: they never keep the process
 * alive. Until a worker has started (or with one thread) the main thread runs every share itself:
 * the shares are the same, so the results are too.
 */
import { Worker } from 'node:worker_threads';
import { Wasm, type WasmExports, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Most arguments a kernel takes. */
const MAX_ARGS = 24;
/** Int32 slots of the control block. */
const SEQ = 0, EXIT = 2, DONE = 16, READY = 48, ERROR = 80, NARGS = 112, FN = 144;
/** Byte offset of the argument slots (Float64, MAX_ARGS per thread). */
const ARGS = 1024;
/** Most threads the control block has room for. */
export const MAX_THREADS = 8;

// The worker's whole program: a script that works whether Node evaluates it as CommonJS or as
// an ES module (dynamic import only).
const WORKER_SOURCE = `
import('node:worker_threads').then(({ workerData }) => {
  const { memory, module, ctl, tid, names } = workerData;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const I = new Int32Array(memory.buffer, ctl, ${ARGS / 4});
  const F = new Float64Array(memory.buffer, ctl + ${ARGS} + tid * ${MAX_ARGS * 8}, ${MAX_ARGS});
  const fns = names.map((n) => inst.exports[n]);
  let seen = Atomics.load(I, ${SEQ});
  Atomics.store(I, ${READY} + tid, 1);
  Atomics.notify(I, ${READY} + tid);
  for (;;) {
    Atomics.wait(I, ${SEQ}, seen);
    const s = Atomics.load(I, ${SEQ});
    if (s === seen) continue;
    seen = s;
    if (Atomics.load(I, ${EXIT}) !== 0) break;
    try {
      const id = I[${FN} + tid];
      if (id >= 0) {
        const n = I[${NARGS} + tid];
        const args = new Array(n);
        for (let i = 0; i < n; i++) args[i] = F[i];
        fns[id](...args);
      }
    } catch (e) {
      Atomics.store(I, ${ERROR} + tid, 1);
    }
    Atomics.store(I, ${DONE} + tid, seen);
    Atomics.notify(I, ${DONE} + tid);
  }
});
`;

/** A kernel's arguments for one thread. */
export type Args = readonly number[];

/** The fork-join pool. Thread 0 is the calling (main) thread. */
export class ThreadPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #names: string[];
  readonly #exports: WasmExports;
  readonly #I: Int32Array;
  readonly #F: Float64Array;
  #ready = false;
  /** Jobs run, and jobs that ran on more than one thread. */
  readonly counts = { jobs: 0, parallel: 0 };

  constructor(module: WasmModule, memory: WasmMemory, exports: WasmExports, ctl: number, threads: number) {
    this.size = Math.max(1, Math.min(threads, MAX_THREADS));
    this.#exports = exports;
    this.#names = Wasm.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    this.#I = new Int32Array(memory.buffer, ctl, ARGS / 4);
    this.#F = new Float64Array(memory.buffer, ctl + ARGS, MAX_THREADS * MAX_ARGS);
    for (let t = 1; t < this.size; t++) {
      // no inherited exec flags: the worker needs no loader (it runs no TypeScript) and starts faster
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { memory, module, ctl, tid: t, names: this.#names } });
      w.unref();
      this.#workers.push(w);
    }
  }

  /** True once every worker is waiting for jobs. */
  get ready(): boolean {
    if (this.#ready || this.size === 1) return true;
    for (let t = 1; t < this.size; t++) if (Atomics.load(this.#I, READY + t) === 0) return false;
    return (this.#ready = true);
  }

  /** Blocks until the workers have started (at most `ms`); returns whether they have. */
  waitReady(ms = 5000): boolean {
    const end = Date.now() + ms;
    for (let t = 1; t < this.size; t++) {
      while (Atomics.load(this.#I, READY + t) === 0 && Date.now() < end) Atomics.wait(this.#I, READY + t, 0, 10);
    }
    return this.ready;
  }

  /**
   * Runs `kernel` once per argument list: share 0 on this thread, the others on workers (all on
   * this thread while workers are starting). Returns when every share has run.
   */
  run(kernel: string, shares: readonly Args[]): void {
    const fn = this.#exports[kernel] as (...a: number[]) => void;
    this.counts.jobs++;
    if (shares.length <= 1 || !this.ready) {
      for (const s of shares) fn(...s);
      return;
    }
    if (shares.length > this.size) throw new Error(`${shares.length} shares for ${this.size} threads`);
    this.counts.parallel++;
    const I = this.#I;
    const id = this.#names.indexOf(kernel);
    for (let t = 1; t < shares.length; t++) {
      const s = shares[t]!;
      if (s.length > MAX_ARGS) throw new Error(`${kernel}: ${s.length} arguments`);
      for (let i = 0; i < s.length; i++) this.#F[t * MAX_ARGS + i] = s[i]!;
      I[NARGS + t] = s.length;
      I[FN + t] = id;
      I[ERROR + t] = 0;
    }
    // threads beyond the shares get an empty job
    for (let t = shares.length; t < this.size; t++) I[FN + t] = -1;
    const seq = Atomics.add(I, SEQ, 1) + 1;
    Atomics.notify(I, SEQ);
    let err: unknown;
    try {
      fn(...shares[0]!);
    } catch (e) {
      err = e;
    }
    for (let t = 1; t < this.size; t++) {
      for (;;) {
        const d = Atomics.load(I, DONE + t);
        if (d === seq) break;
        Atomics.wait(I, DONE + t, d, 50);
      }
      if (I[ERROR + t] !== 0 && !err) err = new Error(`${kernel} failed on worker ${t}`);
    }
    if (err) throw err;
  }

  /** Stops the workers. */
  close(): void {
    Atomics.store(this.#I, EXIT, 1);
    Atomics.add(this.#I, SEQ, 1);
    Atomics.notify(this.#I, SEQ);
    for (const w of this.#workers) void w.terminate();
  }
}

/** Splits [0, n) into `parts` ranges whose inner bounds are multiples of `align`. */
export function split(n: number, parts: number, align = 1): [number, number][] {
  const units = Math.ceil(n / align);
  const out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const a = Math.min(n, Math.floor((units * t) / parts) * align);
    const b = t === parts - 1 ? n : Math.min(n, Math.floor((units * (t + 1)) / parts) * align);
    out.push([a, b]);
  }
  return out;
}
