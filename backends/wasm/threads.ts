/**
 * Fork-join over worker threads (the host's: `core/host.ts`; Node's `worker_threads`): every
 * worker instantiates the same kernel module on the same shared memory and waits (`Atomics.wait`)
 * on a control block at the bottom of that memory. A job is one exported kernel with one argument
 * list per thread; the main thread posts it, runs its own share, then waits for the workers'
 * shares. Workers never keep the process alive. Until a worker has started (or with one thread)
 * the main thread runs every share itself: the shares are the same, so the results are too. A pool
 * of one thread starts no worker and touches neither the control block nor the host: it runs on
 * any platform, over a memory that need not be shared.
 *
 * Kernels compiled later (the fused elementwise kernels, one small module each) are loaded into a
 * numbered slot with `load`: the main thread instantiates the module at once and posts it to every
 * worker on a message port; a worker reads the port synchronously (`receiveMessage`) before it
 * runs a job that needs a module it has not loaded yet, so nothing waits for an event loop.
 */
import { BackendError } from '../../core/errors.js';
import { getHost, type HostPort, type HostWorker } from '../../core/host.js';
import { Wasm, type WasmExports, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Most arguments a kernel takes. */
const MAX_ARGS = 24;
/**
 * Int32 slots of the control block. LOADS: modules posted to the workers so far (a worker loads
 * them all before running a job whose function it lacks).
 */
const SEQ = 0, EXIT = 2, DONE = 16, READY = 48, ERROR = 80, NARGS = 112, FN = 144, LOADS = 160;
/** Byte offset of the argument slots (Float64, MAX_ARGS per thread). */
const ARGS = 1024;
/** Most threads the control block has room for. */
export const MAX_THREADS = 8;

// The worker's program (see `HostWorkers.start`: it sees `data` and `receiveMessage(port)`).
const WORKER_PROGRAM = `
  const { memory, module, ctl, tid, names, port } = data;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const I = new Int32Array(memory.buffer, ctl, ${ARGS / 4});
  const F = new Float64Array(memory.buffer, ctl + ${ARGS} + tid * ${MAX_ARGS * 8}, ${MAX_ARGS});
  const fns = names.map((n) => inst.exports[n]);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let loaded = 0;
  // loads every module posted so far: a message { id, module, name, math } puts export name in
  // fns[id], its imports js[field] being Math[math[field]]
  const loadPosted = () => {
    const posted = Atomics.load(I, ${LOADS});
    while (loaded < posted) {
      const msg = receiveMessage(port);
      if (msg === undefined) {
        Atomics.wait(nap, 0, 0, 1);
        continue;
      }
      const { id, module: m, name, math } = msg;
      const js = {};
      for (const field of Object.keys(math)) js[field] = Math[math[field]];
      fns[id] = new WebAssembly.Instance(m, { env: { memory }, js }).exports[name];
      loaded++;
    }
  };
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
        if (loaded < Atomics.load(I, ${LOADS})) loadPosted();
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
`;

/**
 * Checks that this platform can run `threads` threads (1 always; more only where the host has
 * worker threads: Node).
 *
 * @throws BackendError (`threads`) for more than one thread without the host's worker threads.
 */
export function checkThreads(threads: number): void {
  if (threads > 1 && getHost().workers === undefined) {
    throw new BackendError('wasm', 'threads', `${threads} threads need Node's worker threads, which this host lacks (a browser page has none): here the wasm backend runs on one thread; omit threads or pass threads: 1`);
  }
}

/** The `js.*` imports of a module loaded later (`ThreadPool.load`). */
export interface LoadImports {
  /** The functions, by import field, for this thread's instance. */
  readonly functions: Readonly<Record<string, (...a: number[]) => number>>;
  /**
   * When every function is a `Math` builtin: its name, by field (each worker imports its own
   * `Math[name]`, the same code). Undefined: the module runs on this thread only.
   */
  readonly math?: Readonly<Record<string, string>> | undefined;
}

/** A kernel's arguments for one thread. */
export type Args = readonly number[];

/** The fork-join pool. Thread 0 is the calling (main) thread. */
export class ThreadPool {
  readonly size: number;
  readonly #workers: HostWorker[] = [];
  /** One message port per worker (index t − 1), for modules loaded later. */
  readonly #ports: HostPort[] = [];
  readonly #names: string[];
  readonly #exports: WasmExports;
  readonly #memory: WasmMemory;
  /** Functions of the slots loaded later, by id (ids after the kernel module's exports). */
  readonly #loaded: ((...a: number[]) => void)[] = [];
  /** Slots whose function runs on this thread only (its JS imports cannot be given to workers). */
  readonly #mainOnly: boolean[] = [];
  readonly #I: Int32Array;
  readonly #F: Float64Array;
  #ready = false;
  /** Jobs run, and jobs that ran on more than one thread. */
  readonly counts = { jobs: 0, parallel: 0 };

  constructor(module: WasmModule, memory: WasmMemory, exports: WasmExports, ctl: number, threads: number) {
    this.size = Math.max(1, Math.min(threads, MAX_THREADS));
    this.#exports = exports;
    this.#memory = memory;
    this.#names = Wasm.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    if (this.size === 1) {
      // NOTE: one thread never reads the control block, so the memory need not be shared (and a
      // view of a non-shared memory would be detached by its first growth): private arrays.
      this.#I = new Int32Array(ARGS / 4);
      this.#F = new Float64Array(MAX_ARGS);
      return;
    }
    checkThreads(this.size);
    const workers = getHost().workers!;
    this.#I = new Int32Array(memory.buffer, ctl, ARGS / 4);
    this.#F = new Float64Array(memory.buffer, ctl + ARGS, MAX_THREADS * MAX_ARGS);
    for (let t = 1; t < this.size; t++) {
      const { local, remote } = workers.channel();
      this.#workers.push(workers.start(WORKER_PROGRAM, { memory, module, ctl, tid: t, names: this.#names, port: remote }, [remote]));
      this.#ports.push(local);
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
    this.#dispatch(this.#exports[kernel] as (...a: number[]) => void, this.#names.indexOf(kernel), kernel, shares);
  }

  /**
   * Loads the function `name` of `module` (which imports the shared memory as `env.memory`, and
   * `imports` as `js.*`) into slot `slot` (0, 1, …), replacing what the slot held; returns its id
   * for `runLoaded`. Without `imports.math` the function runs on this thread only.
   */
  load(module: WasmModule, name: string, slot: number, imports?: LoadImports): number {
    const id = this.#names.length + slot;
    const js = imports?.functions ?? {};
    const instance = new Wasm.Instance(module, { env: { memory: this.#memory }, js });
    this.#loaded[slot] = instance.exports[name] as (...a: number[]) => void;
    const everyThread = imports === undefined || Object.keys(js).length === 0 || imports.math !== undefined;
    this.#mainOnly[slot] = !everyThread;
    if (this.#workers.length > 0 && everyThread) {
      for (const port of this.#ports) port.postMessage({ id, module, name, math: imports?.math ?? {} });
      Atomics.add(this.#I, LOADS, 1);
    }
    return id;
  }

  /** Runs the function loaded with id `id` (see `load`) once per argument list, as `run` does. */
  runLoaded(id: number, shares: readonly Args[]): void {
    const slot = id - this.#names.length;
    const fn = this.#loaded[slot];
    if (!fn) throw new Error(`no function loaded with id ${id}`);
    if (this.#mainOnly[slot]) {
      this.counts.jobs++;
      for (const s of shares) fn(...s);
      return;
    }
    this.#dispatch(fn, id, `loaded #${id}`, shares);
  }

  #dispatch(fn: (...a: number[]) => void, id: number, label: string, shares: readonly Args[]): void {
    this.counts.jobs++;
    if (shares.length <= 1 || !this.ready) {
      for (const s of shares) fn(...s);
      return;
    }
    if (shares.length > this.size) throw new Error(`${shares.length} shares for ${this.size} threads`);
    this.counts.parallel++;
    const I = this.#I;
    for (let t = 1; t < shares.length; t++) {
      const s = shares[t]!;
      if (s.length > MAX_ARGS) throw new Error(`${label}: ${s.length} arguments`);
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
      if (I[ERROR + t] !== 0 && !err) err = new Error(`${label} failed on worker ${t}`);
    }
    if (err) throw err;
  }

  /** Stops the workers. */
  close(): void {
    if (this.size === 1) return;
    Atomics.store(this.#I, EXIT, 1);
    Atomics.add(this.#I, SEQ, 1);
    Atomics.notify(this.#I, SEQ);
    for (const w of this.#workers) w.terminate();
    for (const p of this.#ports) p.close();
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
