/**
 * `wasm`: the fast CPU backend. Tensors live in one `WebAssembly.Memory`; the compute-bound
 * primitives (matmul and the convolution family) and the hot memory-bound ones run as generated
 * WebAssembly SIMD kernels on every core (the host's worker threads over a shared memory — Node's
 * `worker_threads`, see `core/host.ts` — static partitioning by output, fixed reduction order:
 * results are bit-identical run to run and whatever the number of threads); the rest reuse the
 * reference kernels over views of that memory. Synchronous and deterministic. Where the host has no
 * worker threads (a browser page) it runs on the calling thread over an ordinary memory, with the
 * same kernels and so the same bits. This module imports nothing from the platform: Node's entry
 * point is `backend.ts`, which registers Node's host.
 *
 * `compileFused` turns a fused elementwise program (what `jit` makes of a chain of elementwise
 * primitives) into one generated kernel, bit-identical to those primitives run one by one
 * (`fused.ts`); `compileFusedBatch` runs one such program over several independent segments (an
 * optimizer's update of every parameter) as one job of the thread pool. `stats()` counts kernel executions (a fused call is one; reshape, which relabels
 * a buffer, none) and buffers carved fresh rather than reusing released heap space.
 */
import type { Backend, KernelInput, KernelTable } from '../../core/backend.js';
import { countKernels } from '../../core/compile/count.js';
import type { FusedBatch, FusedBatchRunner, FusedKernel, FusedRunner } from '../../core/compile/fused.js';
import { BackendError } from '../../core/errors.js';
import { getHost } from '../../core/host.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import { binaryFns, compareFns, mapBinary, mapUnary, mapWhere, unaryFns, type BinaryFn, type UnaryFn } from '../cpu/elementwise.js';
import { broadcastKernel, concatKernel, padKernel, permuteKernel, sliceKernel } from '../cpu/movement.js';
import { reduceArgmax, reduceMax, reduceSum } from '../cpu/reduce.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { gemm } from './gemm.js';
import type { Block } from './heap.js';
import { Runtime } from './runtime.js';
import { fastBinary, fastCompare, fastReduce, fastUnary, fastWhere } from './elementwise.js';
import { compileFusedBatchExec, compileFusedExec, declaredReads, segmentReads, type FusedBatchExec, type SegmentRead } from './fused.js';
import * as mv from './movement.js';

/** A tensor's buffer: a block of the memory, shared by reshapes. */
interface Buffer {
  readonly block: Block;
  /** Elements. */
  readonly n: number;
  refs: number;
}

/** A handle: one reference to a buffer. */
export interface WasmHandle {
  readonly buf: Buffer;
  released: boolean;
}

type In = readonly KernelInput<WasmHandle>[];

/** Options of the `wasm` backend. */
export interface WasmBackendOptions {
  /**
   * Threads (the main thread included); default: `defaultThreads()`. More than one needs the
   * host's worker threads (Node): elsewhere it is a BackendError.
   */
  readonly threads?: number;
  /** Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions with ≥ 8 channels in and out (default true). */
  readonly winograd?: boolean;
  /**
   * Fused multiply-add (`f32x4.relaxed_madd`) in the compute-bound kernels; default: when the
   * runtime has relaxed SIMD (Node ≥ 22, or Node 20 with `--experimental-wasm-relaxed-simd`).
   */
  readonly fma?: boolean;
}

/** The `wasm` backend with its runtime (exposed for tests and benchmarks). */
export interface WasmBackend extends Backend<WasmHandle> {
  readonly runtime: Runtime;
  /** Compiles a fused elementwise kernel (see `fused.ts`): bit-identical to the primitives one by one. */
  compileFused(kernel: FusedKernel): FusedRunner<WasmHandle>;
  /**
   * Compiles a batch of one fused program over independent segments (see `fused.ts`): one job of
   * the thread pool per call, each segment bit-identical to `compileFused` over it alone.
   */
  compileFusedBatch(batch: FusedBatch): FusedBatchRunner<WasmHandle>;
  /** Blocks until the worker threads have started; returns whether they have. */
  waitForThreads(ms?: number): boolean;
}

/**
 * Creates a `wasm` backend.
 *
 * @throws BackendError (`threads`) for more than one thread where the host has no worker threads
 * (a browser page); an Error for `fma: true` on a runtime without relaxed SIMD.
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  const threads = options.threads ?? defaultThreads();
  const rt = new Runtime(threads, { winograd: options.winograd, fma: options.fma });
  let live = 0;
  let liveBytes = 0;
  /** Kernel executions and fresh buffers (see `stats()`). */
  const counter = { kernels: 0, allocations: 0 };

  const newBuffer = (n: number): Buffer => {
    const block = rt.heap.alloc(n * 4);
    liveBytes += n * 4;
    if (block.fresh) counter.allocations++;
    return { block, n, refs: 0 };
  };
  const dropBuffer = (buf: Buffer): void => {
    liveBytes -= buf.n * 4;
    rt.heap.free(buf.block);
  };
  const wrap = (buf: Buffer): WasmHandle => {
    buf.refs++;
    live++;
    return { buf, released: false };
  };
  const release = (h: WasmHandle): void => {
    if (h.released) return;
    h.released = true;
    live--;
    if (--h.buf.refs === 0) {
      liveBytes -= h.buf.n * 4;
      rt.heap.free(h.buf.block);
    }
  };
  /** A Float32Array view of a buffer (take views after allocating: growth refreshes them). */
  const view = (b: Buffer): Float32Array => rt.heap.f32.subarray(b.block.ptr / 4, b.block.ptr / 4 + b.n);
  const addr = (x: KernelInput<WasmHandle>): number => x.handle.buf.block.ptr;

  /** Allocates the output and runs `fill` on its view. */
  const make = (shape: Shape, fill: (out: Float32Array, outAddr: number) => void): WasmHandle => {
    const buf = newBuffer(sizeOf(shape));
    try {
      fill(view(buf), buf.block.ptr);
    } catch (e) {
      dropBuffer(buf);
      throw e;
    }
    return wrap(buf);
  };

  /** A fused kernel's runner: one new buffer per output, one kernel execution per call. */
  const compileFused = (kernel: FusedKernel): FusedRunner<WasmHandle> => {
    const exec = compileFusedExec(rt, kernel);
    const sizes = kernel.inputs.map((inp) => sizeOf(inp.shape));
    const offsets = kernel.inputs.map((inp) => inp.offset ?? 0);
    return (inputs) => {
      if (inputs.length !== sizes.length) throw new BackendError('fused', 'inputs', `expected ${sizes.length} inputs, got ${inputs.length}`);
      inputs.forEach((x, k) => {
        if (x.handle.released) throw new BackendError('fused', `input ${k}`, 'the buffer was released');
        if (x.handle.buf.n !== sizes[k]) throw new BackendError('fused', `input ${k}`, `expected ${sizes[k]} elements, got ${x.handle.buf.n}`);
      });
      const outs: Buffer[] = [];
      try {
        for (let o = 0; o < kernel.outputs.length; o++) outs.push(newBuffer(exec.size));
        counter.kernels++;
        // NOTE: an input's offset moves its address; the module reads through strides from there.
        exec.run(inputs.map((x, k) => x.handle.buf.block.ptr + 4 * offsets[k]!), outs.map((b) => b.block.ptr));
      } catch (e) {
        for (const b of outs) dropBuffer(b);
        throw e;
      }
      return outs.map(wrap);
    };
  };

  /**
   * A batch's runner: one new buffer per segment and output, one kernel execution (and at most one
   * thread-pool job) per call. The module is compiled at once unless an input's read depends on
   * the handles (`declaredReads`), then at the first call with those reads (cached per reads).
   */
  const compileFusedBatch = (batch: FusedBatch): FusedBatchRunner<WasmHandle> => {
    const declared = declaredReads(batch);
    const { kernel, sizes } = batch;
    const execs = new Map<string, FusedBatchExec>();
    const execFor = (reads: readonly SegmentRead[]): FusedBatchExec => {
      const key = reads.join(',');
      let exec = execs.get(key);
      if (!exec) execs.set(key, (exec = compileFusedBatchExec(rt, batch, reads)));
      return exec;
    };
    if (declared.every((r) => r !== undefined)) execFor(declared as SegmentRead[]);
    return (segments) => {
      if (segments.length !== sizes.length) throw new BackendError('fusedBatch', 'segments', `expected ${sizes.length} segments, got ${segments.length}`);
      segments.forEach((seg, s) => {
        if (seg.length !== kernel.inputs.length) throw new BackendError('fusedBatch', `segments[${s}]`, `expected ${kernel.inputs.length} inputs, got ${seg.length}`);
        seg.forEach((x, k) => {
          if (x.handle.released) throw new BackendError('fusedBatch', `segments[${s}][${k}]`, 'the buffer was released');
        });
      });
      const exec = execFor(segmentReads(batch, declared, segments.map((seg) => seg.map((x) => x.handle.buf.n))));
      const outs: Buffer[][] = [];
      try {
        for (const n of sizes) {
          const mine: Buffer[] = [];
          outs.push(mine);
          for (let o = 0; o < kernel.outputs.length; o++) mine.push(newBuffer(n));
        }
        counter.kernels++;
        exec.run(segments.map((seg) => seg.map((x) => x.handle.buf.block.ptr)), outs.map((mine) => mine.map((b) => b.block.ptr)));
      } catch (e) {
        for (const b of outs.flat()) dropBuffer(b);
        throw e;
      }
      return outs.map((mine) => mine.map(wrap));
    };
  };

  const unary = (name: keyof typeof unaryFns, f: UnaryFn) => (inputs: In, outShape: Shape) =>
    make(outShape, (out, o) => {
      if (!fastUnary(rt, name, addr(inputs[0]!), o, out.length)) mapUnary(out, view(inputs[0]!.handle.buf), f);
    });
  const binary = (name: keyof typeof binaryFns, f: BinaryFn) => (inputs: In, outShape: Shape) =>
    make(outShape, (out, o) => {
      const [a, b] = inputs as [KernelInput<WasmHandle>, KernelInput<WasmHandle>];
      if (!fastBinary(rt, name, addr(a), a.shape, addr(b), b.shape, o, outShape)) mapBinary(out, outShape, view(a.handle.buf), a.shape, view(b.handle.buf), b.shape, f);
    });

  const table: KernelTable<WasmHandle> = {
    neg: unary('neg', unaryFns.neg),
    exp: unary('exp', unaryFns.exp),
    log: unary('log', unaryFns.log),
    sqrt: unary('sqrt', unaryFns.sqrt),
    abs: unary('abs', unaryFns.abs),
    sign: unary('sign', unaryFns.sign),
    add: binary('add', binaryFns.add),
    sub: binary('sub', binaryFns.sub),
    mul: binary('mul', binaryFns.mul),
    div: binary('div', binaryFns.div),
    pow: binary('pow', binaryFns.pow),
    compare: ([a, b], outShape, p) =>
      make(outShape, (out, o) => {
        if (!fastCompare(rt, p.op, addr(a!), a!.shape, addr(b!), b!.shape, o, outShape)) mapBinary(out, outShape, view(a!.handle.buf), a!.shape, view(b!.handle.buf), b!.shape, compareFns[p.op]);
      }),
    where: ([c, a, b], outShape) =>
      make(outShape, (out, o) => {
        if (!fastWhere(rt, addr(c!), c!.shape, addr(a!), a!.shape, addr(b!), b!.shape, o, outShape)) {
          mapWhere(out, outShape, view(c!.handle.buf), c!.shape, view(a!.handle.buf), a!.shape, view(b!.handle.buf), b!.shape);
        }
      }),
    sum: ([x], outShape, p) =>
      make(outShape, (out, o) => {
        if (!fastReduce(rt, 'sum', addr(x!), x!.shape, p.axes, o)) reduceSum(out, view(x!.handle.buf), x!.shape, p.axes);
      }),
    max: ([x], outShape, p) =>
      make(outShape, (out, o) => {
        if (!fastReduce(rt, 'max', addr(x!), x!.shape, p.axes, o)) reduceMax(out, view(x!.handle.buf), x!.shape, p.axes);
      }),
    argmax: ([x], outShape, p) => make(outShape, (out) => reduceArgmax(out, view(x!.handle.buf), x!.shape, p.axis)),
    // NOTE: reshape shares the immutable buffer; only the handle is new.
    reshape: ([x]) => wrap(x!.handle.buf),
    broadcast: ([x], outShape) =>
      make(outShape, (out, o) => {
        if (!mv.broadcast(rt, addr(x!), x!.shape, o, outShape)) broadcastKernel(out, outShape, view(x!.handle.buf), x!.shape);
      }),
    permute: ([x], outShape, p) =>
      make(outShape, (out, o) => {
        if (!mv.permute(rt, addr(x!), x!.shape, p.perm, o)) permuteKernel(out, view(x!.handle.buf), x!.shape, p.perm);
      }),
    pad: ([x], outShape, p) =>
      make(outShape, (out, o) => {
        if (!mv.pad(rt, addr(x!), x!.shape, p.widths, p.value, o, outShape)) padKernel(out, outShape, view(x!.handle.buf), x!.shape, p.widths, p.value);
      }),
    slice: ([x], outShape, p) =>
      make(outShape, (out, o) => {
        if (!mv.slice(rt, addr(x!), x!.shape, p.begin, o, outShape)) sliceKernel(out, outShape, view(x!.handle.buf), x!.shape, p.begin);
      }),
    concat: (xs, outShape, p) =>
      make(outShape, (out, o) => {
        if (!mv.concat(rt, xs.map((x) => ({ addr: addr(x), shape: x.shape })), p.axis, o, outShape)) {
          concatKernel(out, outShape, xs.map((x) => ({ data: view(x.handle.buf), shape: x.shape })), p.axis);
        }
      }),
    matmul: ([a, b], outShape, p) =>
      make(outShape, (_out, o) => {
        const [batch, m, n] = outShape as [number, number, number];
        const k = p.transA ? a!.shape[1]! : a!.shape[2]!;
        gemm(rt, batch, m, n, k, addr(a!), p.transA, addr(b!), p.transB, o);
      }),
    conv2d: ([x, w], outShape, p) => make(outShape, (_out, o) => conv2d(rt, addr(x!), x!.shape, addr(w!), w!.shape, o, outShape, p)),
    conv2dBackpropInput: ([dy, w], outShape, p) => make(outShape, (_out, o) => conv2dBackpropInput(rt, addr(dy!), dy!.shape, addr(w!), w!.shape, o, outShape, p)),
    conv2dBackpropFilter: ([x, dy], outShape, p) => make(outShape, (_out, o) => conv2dBackpropFilter(rt, addr(x!), x!.shape, addr(dy!), dy!.shape, o, outShape, p)),
  };
  // NOTE: reshape relabels the buffer and runs nothing: it is not counted.
  const kernels = countKernels(table, counter, ['reshape']);

  const readSync = (h: WasmHandle): Float32Array => view(h.buf).slice();
  return {
    name: 'wasm',
    runtime: rt,
    waitForThreads: (ms) => rt.pool.waitReady(ms),
    upload: (values, shape) => {
      const buf = newBuffer(sizeOf(shape));
      view(buf).set(values);
      return wrap(buf);
    },
    read: async (h) => readSync(h),
    readSync,
    release,
    memory: () => ({ buffers: live, bytes: liveBytes }),
    describe: async () => ({
      name: 'wasm',
      mode: `${rt.threads} thread${rt.threads === 1 ? '' : 's'}`,
      kernelClass: `generated WebAssembly SIMD (f32x4${rt.fma ? ', relaxed FMA' : ', mul + add'}) kernels, ${rt.threads > 1 ? 'worker_threads over a shared memory' : 'on the calling thread'}`,
      precision: 'float32',
    }),
    stats: () => ({ kernels: counter.kernels, allocations: counter.allocations }),
    kernels,
    compileFused,
    compileFusedBatch,
  };
}

/**
 * Threads by default: the host's (Node: `BOUNDARY_SEG_THREADS`, else the machine's available
 * parallelism, at most 8); 1 where the host has no worker threads.
 */
export function defaultThreads(): number {
  return getHost().workers?.defaultThreads() ?? 1;
}
