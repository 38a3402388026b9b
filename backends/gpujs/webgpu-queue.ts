/**
 * The WebGPU executor of the gpu.js backend: gpu.js compiles every kernel (JavaScript → WGSL) and
 * builds its compute pipeline; this file runs those pipelines itself on gpu.js's `GPUDevice`.
 *
 * Why not gpu.js's own `run()`: every run writes a params uniform, creates a command encoder and a
 * compute pass, creates a new output `GPUBuffer` (so a new bind group; Dawn zero-fills every new
 * buffer) and calls `queue.submit`, once per kernel. Here instead:
 *
 * - **Buffers come from a pool.** A released buffer goes back to a pool keyed by its size and is
 *   handed to the next output or upload of that size. `jit` plans release every intermediate right
 *   after its last use (their static release schedule), so a replayed plan takes the same buffers
 *   each time: after the first replay, none is created (`allocations` stays put) and none is
 *   zero-filled.
 * - **Uniforms and bind groups are made once.** A kernel's params (output size, argument sizes,
 *   scalar arguments) are written into a uniform buffer of the run's *site* (a kernel's n-th run in
 *   a batch), created once and rewritten only when a scalar argument changes (e.g. Adam's bias
 *   corrections, each step). A site takes its previous output buffer again where that is free,
 *   and keeps the bind groups of the last few buffer sets it bound (a replay that alternates two
 *   sets of parameters, as training does, binds two), so a replay creates none.
 * - **One submission per batch.** Dispatches are recorded in order and encoded into one command
 *   encoder and compute pass, submitted once: when the synchronous code that queued them returns
 *   (a microtask), when a read needs them, or after `MAX_BATCH` dispatches. A `jit` replay is
 *   synchronous, so it is one submission; a read right after it joins the same one.
 *
 * Ordering: every dispatch and read copy is encoded in program order, and WebGPU orders the
 * dispatches of a pass (a buffer released and reused as a later output is written after the
 * earlier reads). `queue.writeBuffer`, however, runs at once on the queue, ahead of anything not
 * submitted yet: an upload therefore takes only a pooled buffer that no unsubmitted command uses
 * (else a fresh one). An input and the output of one dispatch are always different buffers (the
 * output is taken from the pool while the inputs are still held).
 *
 * Kernels are built (gpu.js's asynchronous `build`) on first use; a batch holding a kernel not
 * built yet is encoded once its builds resolve, and later batches wait for it (order is kept). A
 * kernel that fails to build marks what it writes as failed, and so does every dispatch that reads
 * a failed value: reading one rejects with the build's error.
 *
 * Nothing here imports Node: the browser's WebGPU mode uses it too. The WebGPU interfaces below
 * are the few members used (structural: the package does not depend on `@webgpu/types`).
 */
import { BackendError } from '../../core/errors.js';

// ---------------------------------------------------------------------------------------------
// The WebGPU members used

/** A `GPUBuffer`. */
export interface GpuBufferLike {
  readonly size: number;
  destroy(): void;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
}
interface GpuPassLike {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
interface GpuEncoderLike {
  beginComputePass(d?: { timestampWrites?: { querySet: unknown; beginningOfPassWriteIndex: number; endOfPassWriteIndex: number } }): GpuPassLike;
  copyBufferToBuffer(src: GpuBufferLike, srcOffset: number, dst: GpuBufferLike, dstOffset: number, size: number): void;
  resolveQuerySet?(querySet: unknown, first: number, count: number, dst: GpuBufferLike, offset: number): void;
  finish(): unknown;
}
/** A `GPUDevice`. */
export interface GpuDeviceLike {
  readonly limits: { readonly maxComputeWorkgroupsPerDimension: number };
  readonly features?: { has(feature: string): boolean };
  createQuerySet?(d: { type: 'timestamp'; count: number }): { destroy(): void };
  readonly queue: {
    submit(buffers: unknown[]): void;
    writeBuffer(b: GpuBufferLike, offset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBufferLike } }[] }): unknown;
  createCommandEncoder(): GpuEncoderLike;
}

/** What this file reads of a gpu.js `WebGPUKernel` once built. */
export interface WebGpuKernelLike {
  readonly constructor: { readonly name: string };
  built?: boolean;
  build(...args: unknown[]): Promise<void>;
  readonly computePipeline: unknown;
  readonly bindGroupLayout: unknown;
  readonly paramsLayout: {
    readonly arrayArgs: readonly { readonly index: number; readonly dimsOffset: number }[];
    readonly scalarArgs: readonly { readonly index: number; readonly offset: number; readonly type: string }[];
    readonly bufferConstants: readonly { readonly buffer: GpuBufferLike | null }[];
    readonly randomSeedOffset: number | null;
    readonly byteLength: number;
  } | null;
  readonly output: readonly number[];
  _computeDispatch(threadDim: number[]): { groups: number[]; dispatchWidth: number };
  /** gpu.js's own output buffer (created by its build; unused here, so destroyed). */
  outputBuffer: (GpuBufferLike & { _refs?: number }) | null;
}

// GPUBufferUsage / GPUMapMode values (fixed by the WebGPU specification).
const USAGE_MAP_READ = 0x0001;
const USAGE_COPY_SRC = 0x0004;
const USAGE_COPY_DST = 0x0008;
const USAGE_UNIFORM = 0x0040;
const USAGE_QUERY_RESOLVE = 0x0200;
const USAGE_STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

/** Dispatches per submission at most (eager code that never yields still reaches the GPU). */
export const MAX_BATCH = 4096;
/** Bind groups kept per run site (distinct sets of bound buffers; most recently used kept). */
const BIND_GROUPS_PER_SITE = 8;
/**
 * A pooled buffer that no batch used for this many batches is destroyed (checked every
 * `TRIM_EVERY` submissions): the sizes a training loop replays stay pooled, one-off sizes (eager
 * work on tensors of other shapes) do not accumulate.
 */
export const POOL_MAX_AGE = 64;
const TRIM_EVERY = 16;
/** Buffers remembered per run site of a kernel (a ping-pong of two sets, and a spare). */
const SITE_MEMORY = 3;
/** Compute passes of a batch timed at most (begin and end timestamps each). */
const TIMED_PASSES = 8;
/** Read-back staging buffers kept per size. */
const STAGING_PER_SIZE = 2;

// ---------------------------------------------------------------------------------------------
// Device values

/**
 * A device value: one pooled `GPUBuffer` of `elements` float32 values. `type` and `output` are what
 * gpu.js reads of an argument when it builds a kernel (as of its own `WebGPUBufferResult`).
 */
export class WebGpuValue {
  readonly type = 'WebGPUBuffer';
  readonly componentCount = 1;
  readonly output: readonly number[];
  /** Serial of the last batch that uses the buffer (0: none yet). */
  lastUse = 0;
  /** Set when the value was handed out from newly created storage; read once by `takeFresh`. */
  fresh = true;
  /** Why the dispatch that last wrote it failed (reads reject with it). */
  error: unknown = undefined;
  inPool = false;
  /** Run sites that remember this buffer as one of their outputs (others take it last). */
  claims = 0;
  constructor(readonly buffer: GpuBufferLike, readonly elements: number, readonly id: number) {
    this.output = [elements];
  }
}

type Op =
  | { readonly kind: 'dispatch'; readonly kernel: WebGpuKernelLike; readonly site: Site; readonly args: readonly (WebGpuValue | number)[]; readonly out: WebGpuValue }
  | { readonly kind: 'copy'; readonly src: WebGpuValue; readonly dst: GpuBufferLike; readonly bytes: number; error: unknown };

/** One run site of a kernel: its n-th run in a batch. */
interface Site {
  /** Its last outputs, most recent first. */
  readonly outs: WebGpuValue[];
  /** Its bind groups by bound buffers, most recently used last. */
  readonly groups: Map<string, unknown>;
  /** Its params uniform (created at its first run) and the scalar arguments written in it. */
  uniform: GpuBufferLike | undefined;
  mirror: ArrayBuffer | undefined;
  scalars: string | undefined;
}

/** What this executor keeps per kernel. */
interface KernelState {
  build: Promise<void> | undefined;
  /** The build has resolved (or failed: `error`). */
  ready: boolean;
  error: unknown;
  dispatch: { groups: number[]; dispatchWidth: number } | undefined;
  /**
   * The outputs of this kernel's n-th run in a batch, for the last batches (most recent first): a
   * replayed plan runs the same kernels in the same order, so each run takes its previous
   * buffers again where they are free, and binds the same bind groups.
   */
  readonly sites: Site[];
  /** Runs of this kernel in batch `usesIn`. */
  uses: number;
  usesIn: number;
}

/** Counters of an executor. */
export interface WebGpuQueueStats {
  /** `queue.submit` calls. */
  readonly submits: number;
  readonly bindGroupsCreated: number;
  /** Buffers in the pool. */
  readonly pooled: number;
}

/** Runs gpu.js-built WebGPU pipelines on one device; see the file's comment. */
export class WebGpuQueue {
  readonly #device: GpuDeviceLike;
  readonly #isLost: () => boolean;
  /** Free buffers by element count (a stack: the most recently released first). */
  readonly #pool = new Map<number, WebGpuValue[]>();
  /** Every buffer this queue created and has not destroyed. */
  readonly #all = new Set<WebGpuValue>();
  readonly #staging = new Map<number, GpuBufferLike[]>();
  readonly #kernels = new Map<WebGpuKernelLike, KernelState>();
  #ops: Op[] = [];
  /** Serial of the open batch; batches before it are closed. */
  #open = 1;
  /** Every batch up to this serial is submitted. */
  #submitted = 0;
  /** The previous batch's encoding, when it waits for builds. */
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;
  #scheduled: Promise<void> | undefined;
  #ids = 0;
  #submits = 0;
  #bindGroups = 0;
  #disposed = false;
  /** Timestamp queries, when switched on and the device has `timestamp-query`. */
  #timing: { querySet: { destroy(): void }; resolve: GpuBufferLike; free: GpuBufferLike[] } | undefined;
  #lastGpu: Promise<number | undefined> = Promise.resolve(undefined);

  constructor(device: GpuDeviceLike, isLost: () => boolean = () => false) {
    this.#device = device;
    this.#isLost = isLost;
  }

  /**
   * Switches GPU timing on: every batch's compute passes write begin and end timestamps, and
   * `lastGpuTime()` answers the device time of the last submitted batch. Returns false (and times
   * nothing) where the device was created without `timestamp-query`.
   */
  timeGpu(): boolean {
    if (this.#timing) return true;
    const d = this.#device;
    if (!d.features?.has('timestamp-query') || !d.createQuerySet) return false;
    const querySet = d.createQuerySet({ type: 'timestamp', count: 2 * TIMED_PASSES });
    const resolve = d.createBuffer({ size: 16 * TIMED_PASSES, usage: USAGE_QUERY_RESOLVE | USAGE_COPY_SRC });
    this.#timing = { querySet, resolve, free: [] };
    return true;
  }

  /**
   * Milliseconds the device spent in the compute passes of the last submitted batch (from the
   * start of its first timed pass to the end of its last), or undefined when timing is off.
   */
  lastGpuTime(): Promise<number | undefined> {
    return this.#lastGpu;
  }

  // -------------------------------------------------------------------------------------------
  // Buffers

  #create(elements: number): WebGpuValue {
    const buffer = this.#device.createBuffer({ size: Math.max(4, elements * 4), usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST });
    const v = new WebGpuValue(buffer, elements, ++this.#ids);
    this.#all.add(v);
    return v;
  }

  /**
   * A buffer for a dispatch's output: the one this run site had last where it is free, else any
   * pooled one of that size (ordering makes reuse within a batch safe), else a new one.
   */
  #forOutput(elements: number, preferred: readonly WebGpuValue[]): WebGpuValue {
    const free = this.#pool.get(elements);
    let v: WebGpuValue | undefined;
    for (const p of preferred) {
      if (!p.inPool || p.elements !== elements) continue;
      const i = free!.lastIndexOf(p);
      if (i >= 0) {
        free!.splice(i, 1);
        v = p;
        break;
      }
    }
    if (!v && free && free.length > 0) {
      // the most recently released buffer that no other site expects back, else the top one
      let i = free.length - 1;
      while (i > 0 && free[i]!.claims > 0) i--;
      if (free[i]!.claims > 0) i = free.length - 1;
      v = free.splice(i, 1)[0]!;
    }
    if (!v) return this.#create(elements);
    v.inPool = false;
    v.fresh = false;
    v.error = undefined;
    return v;
  }

  /** A buffer `queue.writeBuffer` may write now: one that no unsubmitted command uses. */
  #forUpload(elements: number): WebGpuValue {
    const free = this.#pool.get(elements);
    if (free) {
      for (let i = free.length - 1; i >= 0; i--) {
        const v = free[i]!;
        if (v.lastUse > this.#submitted) continue;
        free.splice(i, 1);
        v.inPool = false;
        v.fresh = false;
        v.error = undefined;
        return v;
      }
    }
    return this.#create(elements);
  }

  /** Host values into a device buffer. */
  upload(values: Float32Array): WebGpuValue {
    this.#checkLive();
    const v = this.#forUpload(values.length);
    v.lastUse = this.#open;
    this.#device.queue.writeBuffer(v.buffer, 0, values);
    return v;
  }

  /** Gives a buffer back to the pool (commands already recorded still read it first). */
  release(v: WebGpuValue): void {
    if (v.inPool || !this.#all.has(v)) return;
    v.inPool = true;
    let free = this.#pool.get(v.elements);
    if (!free) this.#pool.set(v.elements, (free = []));
    free.push(v);
  }

  /** Whether `v` took newly created storage (answered once per value). */
  takeFresh(v: WebGpuValue): boolean {
    const f = v.fresh;
    v.fresh = false;
    return f;
  }

  /**
   * Destroys the pooled buffers that no batch used in the last `maxAge` submitted batches, giving
   * their memory back to the device.
   */
  #trim(maxAge: number): void {
    const keepFrom = this.#submitted - maxAge;
    for (const [n, free] of this.#pool) {
      const keep = free.filter((v) => v.lastUse > keepFrom);
      for (const v of free) {
        if (v.lastUse > keepFrom) continue;
        v.buffer.destroy();
        v.inPool = false;
        this.#all.delete(v);
      }
      if (keep.length > 0) this.#pool.set(n, keep);
      else this.#pool.delete(n);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Dispatches

  #state(kernel: WebGpuKernelLike): KernelState {
    let s = this.#kernels.get(kernel);
    if (!s) this.#kernels.set(kernel, (s = { build: undefined, ready: false, error: undefined, dispatch: undefined, sites: [], uses: 0, usesIn: 0 }));
    return s;
  }

  /**
   * Records one run of a gpu.js kernel over `args` (device values and numbers), writing a new
   * value of `elements` values; returns it at once (its contents exist once the batch runs).
   */
  dispatch(kernel: WebGpuKernelLike, args: readonly (WebGpuValue | number)[], elements: number): WebGpuValue {
    this.#checkLive();
    for (const a of args) if (typeof a !== 'number' && (a.inPool || !this.#all.has(a))) throw new BackendError('kernel', 'input', 'gpujs:webgpu: a kernel input was already released');
    const s = this.#state(kernel);
    if (!kernel.built && s.build === undefined && s.error === undefined) {
      // gpu.js translates synchronously (a translation error throws here) and builds on the device
      // asynchronously; its own output buffer is not used here.
      const built = kernel.build(...args).then(
        () => {
          s.ready = true;
          const own = kernel.outputBuffer;
          if (own) {
            kernel.outputBuffer = null;
            if (own._refs === undefined || --own._refs <= 0) own.destroy();
          }
        },
        (e: unknown) => {
          s.ready = true;
          s.error = e;
        },
      );
      s.build = built;
    }
    // NOTE: taken while the inputs are held, so never one of them (WebGPU refuses a buffer bound
    // as an input and as the output of one dispatch).
    if (s.usesIn !== this.#open) {
      s.usesIn = this.#open;
      s.uses = 0;
    }
    const site = (s.sites[s.uses++] ??= { outs: [], groups: new Map(), uniform: undefined, mirror: undefined, scalars: undefined });
    const out = this.#forOutput(elements, site.outs);
    if (site.outs[0] !== out) {
      const seen = site.outs.indexOf(out);
      if (seen >= 0) site.outs.splice(seen, 1);
      else out.claims++;
      site.outs.unshift(out);
      if (site.outs.length > SITE_MEMORY) site.outs.pop()!.claims--;
    }
    for (const a of args) if (typeof a !== 'number') a.lastUse = this.#open;
    out.lastUse = this.#open;
    this.#push({ kind: 'dispatch', kernel, site, args: [...args], out });
    return out;
  }

  #push(op: Op): void {
    this.#ops.push(op);
    if (this.#ops.length >= MAX_BATCH) {
      this.flush().catch(() => undefined);
      return;
    }
    this.#schedule().catch(() => undefined);
  }

  /**
   * The flush at the end of the current synchronous code (a microtask): resolves once what is
   * queued by then is submitted.
   */
  #schedule(): Promise<void> {
    this.#scheduled ??= new Promise<void>((resolve) => {
      queueMicrotask(() => {
        this.#scheduled = undefined;
        resolve(this.flush());
      });
    });
    return this.#scheduled;
  }

  /**
   * Closes the open batch and submits it (now, when every kernel in it is built and no earlier
   * batch waits; else once they are). Resolves once it is submitted.
   */
  flush(): Promise<void> {
    const ops = this.#ops;
    if (ops.length === 0) return this.#tail;
    this.#ops = [];
    const serial = this.#open++;
    const builds = new Set<Promise<void>>();
    for (const op of ops) {
      if (op.kind !== 'dispatch') continue;
      const s = this.#state(op.kernel);
      if (!s.ready && !op.kernel.built && s.build) builds.add(s.build);
    }
    if (this.#waiting === 0 && builds.size === 0) {
      this.#encode(ops, serial);
      return this.#tail;
    }
    this.#waiting++;
    const run = Promise.all([this.#tail, ...builds]).then(() => {
      this.#waiting--;
      this.#encode(ops, serial);
    });
    // NOTE: a failed encoding rejects its own flush; later batches still run after it.
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Encodes and submits a batch. When encoding throws (a device error, a lost device), nothing of
   * the batch is submitted: every value it writes and every read it holds fails with the error,
   * so that no read ever returns what a buffer held before.
   */
  #encode(ops: readonly Op[], serial: number): void {
    if (this.#disposed) return;
    try {
      this.#encodeAndSubmit(ops, serial);
    } catch (e) {
      for (const op of ops) {
        if (op.kind === 'copy') op.error = e;
        else op.out.error = e;
      }
      this.#submitted = serial;
    }
  }

  #encodeAndSubmit(ops: readonly Op[], serial: number): void {
    const device = this.#device;
    const encoder = device.createCommandEncoder();
    const timing = this.#timing && encoder.resolveQuerySet ? this.#timing : undefined;
    let passes = 0;
    let pass: GpuPassLike | undefined;
    const begin = (): GpuPassLike => {
      const timed = timing && passes < TIMED_PASSES;
      const p = timed
        ? encoder.beginComputePass({ timestampWrites: { querySet: timing.querySet, beginningOfPassWriteIndex: 2 * passes, endOfPassWriteIndex: 2 * passes + 1 } })
        : encoder.beginComputePass();
      if (timed) passes++;
      return p;
    };
    for (const op of ops) {
      if (op.kind === 'copy') {
        if (pass) {
          pass.end();
          pass = undefined;
        }
        op.error = op.src.error;
        encoder.copyBufferToBuffer(op.src.buffer, 0, op.dst, 0, op.bytes);
        continue;
      }
      const s = this.#state(op.kernel);
      const failed = s.error ?? op.args.find((a): a is WebGpuValue => typeof a !== 'number' && a.error !== undefined)?.error;
      if (failed !== undefined) {
        op.out.error = failed;
        continue;
      }
      op.out.error = undefined;
      pass ??= begin();
      this.#encodeDispatch(pass, op.kernel, s, op.site, op.args, op.out);
    }
    if (pass) pass.end();
    let readTimes: (() => Promise<number | undefined>) | undefined;
    if (timing && passes > 0) {
      const bytes = 16 * passes;
      const back = timing.free.pop() ?? device.createBuffer({ size: 16 * TIMED_PASSES, usage: USAGE_MAP_READ | USAGE_COPY_DST });
      encoder.resolveQuerySet!(timing.querySet, 0, 2 * passes, timing.resolve, 0);
      encoder.copyBufferToBuffer(timing.resolve, 0, back, 0, bytes);
      readTimes = async () => {
        try {
          await back.mapAsync(MAP_MODE_READ, 0, bytes);
          const t = new BigUint64Array(back.getMappedRange(0, bytes).slice(0));
          back.unmap();
          timing.free.push(back);
          return Number(t[2 * passes - 1]! - t[0]!) / 1e6;
        } catch {
          back.destroy();
          return undefined;
        }
      };
    }
    device.queue.submit([encoder.finish()]);
    this.#submits++;
    this.#submitted = serial;
    if (readTimes) this.#lastGpu = readTimes();
    if (this.#submits % TRIM_EVERY === 0) this.#trim(POOL_MAX_AGE);
  }

  #encodeDispatch(pass: GpuPassLike, kernel: WebGpuKernelLike, s: KernelState, site: Site, args: readonly (WebGpuValue | number)[], out: WebGpuValue): void {
    const layout = kernel.paramsLayout!;
    s.dispatch ??= kernel._computeDispatch([...kernel.output, 1, 1, 1].slice(0, 3));
    const scalars = layout.scalarArgs.map((r) => args[r.index] as number);
    const sKey = scalars.join(',');
    if (!site.uniform || !site.mirror) {
      // the static part (output and argument sizes, dispatch width) is written once
      site.mirror = new ArrayBuffer(layout.byteLength);
      const u32 = new Uint32Array(site.mirror);
      const [x, y, z] = [...kernel.output, 1, 1, 1];
      u32[0] = x!;
      u32[1] = y!;
      u32[2] = z!;
      u32[3] = s.dispatch.dispatchWidth;
      for (const r of layout.arrayArgs) {
        const n = (args[r.index] as WebGpuValue).elements;
        const base = r.dimsOffset / 4;
        u32[base] = n;
        u32[base + 1] = 1;
        u32[base + 2] = 1;
        u32[base + 3] = n;
      }
      if (layout.randomSeedOffset !== null) u32[layout.randomSeedOffset / 4] = 0;
      site.uniform = this.#device.createBuffer({ size: layout.byteLength, usage: USAGE_UNIFORM | USAGE_COPY_DST });
      site.scalars = undefined;
    }
    const uniform = site.uniform;
    if (site.scalars !== sKey) {
      // NOTE: written when this batch is encoded, after every earlier batch was submitted; a site
      // runs once per batch, so no earlier command of this batch reads it.
      const u32 = new Uint32Array(site.mirror);
      const i32 = new Int32Array(site.mirror);
      const f32 = new Float32Array(site.mirror);
      layout.scalarArgs.forEach((r, i) => {
        const slot = r.offset / 4;
        if (r.type === 'Integer') i32[slot] = scalars[i]!;
        else if (r.type === 'Boolean') u32[slot] = scalars[i] ? 1 : 0;
        else f32[slot] = scalars[i]!;
      });
      this.#device.queue.writeBuffer(uniform, 0, site.mirror);
      site.scalars = sKey;
    }
    const arrays = layout.arrayArgs.map((r) => args[r.index] as WebGpuValue);
    const gKey = `${arrays.map((a) => a.id).join(',')}|${out.id}`;
    let group = site.groups.get(gKey);
    if (group) {
      site.groups.delete(gKey);
    } else {
      const entries = [{ binding: 0, resource: { buffer: uniform } }];
      arrays.forEach((a, i) => entries.push({ binding: 1 + i, resource: { buffer: a.buffer } }));
      const outBinding = 1 + arrays.length;
      entries.push({ binding: outBinding, resource: { buffer: out.buffer } });
      layout.bufferConstants.forEach((c, i) => entries.push({ binding: outBinding + 1 + i, resource: { buffer: c.buffer! } }));
      group = this.#device.createBindGroup({ layout: kernel.bindGroupLayout, entries });
      this.#bindGroups++;
      if (site.groups.size >= BIND_GROUPS_PER_SITE) site.groups.delete(site.groups.keys().next().value as string);
    }
    site.groups.set(gKey, group);
    pass.setPipeline(kernel.computePipeline);
    pass.setBindGroup(0, group);
    const [gx, gy, gz] = s.dispatch.groups;
    pass.dispatchWorkgroups(gx!, gy!, gz!);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  #takeStaging(bytes: number): GpuBufferLike {
    return this.#staging.get(bytes)?.pop() ?? this.#device.createBuffer({ size: bytes, usage: USAGE_MAP_READ | USAGE_COPY_DST });
  }

  #giveStaging(bytes: number, b: GpuBufferLike): void {
    let list = this.#staging.get(bytes);
    if (!list) this.#staging.set(bytes, (list = []));
    if (list.length < STAGING_PER_SIZE && !this.#disposed) list.push(b);
    else b.destroy();
  }

  /**
   * Reads a value back: its copy joins the open batch, submitted at the end of the current
   * synchronous code (so that reads issued together share one submission).
   */
  async read(v: WebGpuValue): Promise<Float32Array> {
    this.#checkLive();
    const bytes = Math.max(4, v.elements * 4);
    const staging = this.#takeStaging(bytes);
    const op: Op = { kind: 'copy', src: v, dst: staging, bytes, error: undefined };
    v.lastUse = this.#open;
    this.#ops.push(op);
    try {
      await this.#schedule();
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
    } catch (e) {
      staging.destroy();
      throw e;
    }
    const data = new Float32Array(staging.getMappedRange(0, bytes).slice(0, v.elements * 4));
    staging.unmap();
    this.#giveStaging(bytes, staging);
    if (op.error !== undefined) throw op.error;
    return data;
  }

  /** Submits what is queued and resolves once the device has run everything submitted. */
  async settle(): Promise<void> {
    await this.flush();
    await this.submittedWorkDone();
  }

  /** Resolves once the device has run everything submitted so far. */
  async submittedWorkDone(): Promise<void> {
    await this.#tail;
    if (!this.#disposed) await this.#device.queue.onSubmittedWorkDone();
  }

  /**
   * Lets go of a kernel: once no recorded run of it is still to be encoded (the open batch
   * submitted, earlier ones too), `destroy` runs (gpu.js's own destroy: its pipeline) and the
   * uniforms of its run sites are destroyed.
   */
  retire(kernel: WebGpuKernelLike, destroy: () => void): void {
    const done = (): void => {
      const s = this.#kernels.get(kernel);
      this.#kernels.delete(kernel);
      for (const site of s?.sites ?? []) site.uniform?.destroy();
      destroy();
    };
    if (this.#disposed || (this.#ops.length === 0 && this.#waiting === 0)) {
      done();
      return;
    }
    const pending = this.#ops.length > 0 ? this.#schedule() : this.#tail;
    void pending.then(done, done);
  }

  stats(): WebGpuQueueStats {
    let pooled = 0;
    for (const free of this.#pool.values()) pooled += free.length;
    return { submits: this.#submits, bindGroupsCreated: this.#bindGroups, pooled };
  }

  #checkLive(): void {
    if (this.#disposed) throw new BackendError('kernel', 'backend', 'gpujs:webgpu: the backend was disposed');
    if (this.#isLost()) throw new BackendError('kernel', 'device', 'gpujs:webgpu: the WebGPU device was lost; create the backend again');
  }

  /** Submits what is queued, waits for the device, and destroys every buffer of this queue. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    try {
      await this.settle();
    } catch {
      // a failed build: nothing more to wait for
    }
    this.#disposed = true;
    for (const v of this.#all) v.buffer.destroy();
    this.#all.clear();
    this.#pool.clear();
    for (const list of this.#staging.values()) for (const b of list) b.destroy();
    this.#staging.clear();
    for (const s of this.#kernels.values()) for (const site of s.sites) site.uniform?.destroy();
    this.#kernels.clear();
    if (this.#timing) {
      this.#timing.querySet.destroy();
      this.#timing.resolve.destroy();
      for (const b of this.#timing.free) b.destroy();
      this.#timing = undefined;
    }
  }
}
