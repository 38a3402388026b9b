/**
 * The gpu.js kernel table: one entry per primitive (exhaustive: `tsc` refuses a missing one).
 * Each builds a kernel spec from the templates of `codegen.ts` and launches it through the
 * launcher (which takes the compiled kernel from the cache and records what ran; fused kernels,
 * `fused.ts`, use the same launcher); scalars and zero-size tensors are answered on the host with
 * the CPU reference kernels, without launching anything.
 */
import type { Backend, KernelInput, KernelTable } from '../../core/backend.js';
import { BackendError } from '../../core/errors.js';
import type { PrimName, PrimParams } from '../../core/primitives.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { CpuHandle } from '../cpu/storage.js';
import type { CacheEntry, KernelCache } from './cache.js';
import type { Arg, Buffer, GpujsHandle, Store } from './buffers.js';
import * as gen from './codegen.js';
import { FILL_THREADS, FILTER_GRAD_CHUNK, FILTER_GRAD_MIN_TERMS, MAX_ELEMENTS, MAX_KERNEL_INPUTS, REDUCE_CHUNK } from './settings.js';

import { kernelClassName, type Runtime } from './runtime-shared.js';

/** Kernel specs remembered (cleared when full). */
const SPEC_MEMO_SIZE = 4096;

/** What ran: a primitive, or a fused kernel (`compileFused`). */
export type Launched = PrimName | 'fused';

/**
 * Which kernel classes ran each primitive and fused kernels (`host`: answered on the host;
 * `view`: no kernel), and how many executions there were.
 */
export class PrimStats {
  readonly byPrim = new Map<Launched, Map<string, number>>();
  readonly fallbacks: string[] = [];
  /**
   * Primitives answered on the host without launching a kernel (scalars, fills on the host),
   * since the backend started (not cleared by `reset`).
   */
  hostAnswers = 0;

  record(prim: Launched, kernelClass: string): void {
    let m = this.byPrim.get(prim);
    if (!m) this.byPrim.set(prim, (m = new Map()));
    m.set(kernelClass, (m.get(kernelClass) ?? 0) + 1);
  }

  /** `{ prim: { class: count } }` */
  snapshot(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.byPrim].map(([p, m]) => [p, Object.fromEntries(m)]));
  }

  reset(): void {
    this.byPrim.clear();
  }
}

/** What the kernels need. */
export interface KernelContext {
  readonly rt: Runtime;
  readonly store: Store;
  readonly cache: KernelCache;
  readonly stats: PrimStats;
  /** The float32 CPU reference backend, for host answers. */
  readonly hostCpu: Backend<CpuHandle>;
  /**
   * Whether the convolution kernels may compute several outputs per thread (gpu.js `Array(4)`
   * returns) and the filter gradient splits its sums until the device is full: on WebGPU only,
   * where outputs are flat buffers (GL results would be RGBA textures).
   */
  readonly blockedConvolutions: boolean;
}

type In = readonly KernelInput<GpujsHandle>[];

/** An input as a kernel sees it. */
interface Operand {
  readonly buffer: Buffer;
  readonly shape: Shape;
  readonly kind: gen.ArgKind;
  readonly arg: Arg;
}

const operand = (x: { buffer: Buffer; shape: Shape }): Operand =>
  x.buffer.host ? { ...x, kind: 'scalar', arg: x.buffer.host[0]! } : { ...x, kind: 'array', arg: x.buffer };

/** Runs kernel specs: the one place where compiled kernels are taken from the cache and launched. */
export interface Launcher {
  /** Launches a spec's kernel on its arguments and records the class that ran it. */
  launch(what: Launched, spec: gen.KernelSpec, args: readonly Arg[]): Buffer;
}

/** The launcher of a context. */
export function makeLauncher(ctx: KernelContext): Launcher {
  const { store, cache, stats, rt } = ctx;
  return {
    launch: (what, spec, args) => {
      // NOTE: gpu.js compiles the size of every array argument into the kernel (GLSL texture sizes
      // are literals): the key includes them, whatever the template's own key says.
      const sizes = args.map((a) => (typeof a === 'number' ? 's' : a.size)).join(',');
      const entry: CacheEntry = cache.get({ ...spec, key: `${spec.key}|args:${sizes}` });
      const out = store.launch(entry, args, spec.size);
      const kernel = entry.kernel.kernel;
      const cls = kernelClassName(rt.info, kernel);
      stats.record(what, cls);
      if (cls !== rt.info.kernelClass && kernel.fallbackReason) {
        const why = `${what}: ${cls} (${kernel.fallbackReason})`;
        if (!stats.fallbacks.includes(why)) stats.fallbacks.push(why);
      }
      return out;
    },
  };
}

/** Builds the kernel table over a context. */
export function makeKernels(ctx: KernelContext, launcher: Launcher = makeLauncher(ctx)): KernelTable<GpujsHandle> {
  const { store, stats, rt } = ctx;
  const { launch } = launcher;

  /** Kernel specs by a key of everything they are built from (building one costs ~10 µs). */
  const specs = new Map<string, gen.KernelSpec>();
  const spec = (key: unknown[], build: () => gen.KernelSpec): gen.KernelSpec => {
    const k = JSON.stringify(key);
    let s = specs.get(k);
    if (!s) {
      if (specs.size >= SPEC_MEMO_SIZE) specs.clear();
      specs.set(k, (s = build()));
    }
    return s;
  };

  /** A buffer of `size` copies of `value` (on the host when size ≤ 1 or memory is the host's). */
  const fill = (prim: PrimName, size: number, value: number): Buffer => {
    if (size <= 1 || rt.hostMemory) {
      stats.record(prim, 'host');
      stats.hostAnswers++;
      const data = new Float32Array(size).fill(value);
      return size <= 1 ? store.host(data) : store.device(data, size);
    }
    return launch(prim, spec(['fill', size], () => gen.fill(size)), [value]);
  };

  /** Runs a primitive on the host with the CPU reference kernel (scalar and empty operands). */
  const onHost = <P extends PrimName>(prim: P, inputs: In, outShape: Shape, params: PrimParams[P]): Buffer => {
    const cpu = ctx.hostCpu;
    const ins = inputs.map((x) => ({ handle: cpu.upload(x.handle.buffer.host!, x.shape), shape: x.shape }));
    const out = (cpu.kernels[prim] as (i: typeof ins, s: Shape, p: PrimParams[P]) => CpuHandle)(ins, outShape, params);
    const data = Float32Array.from(out.data);
    for (const x of ins) cpu.release(x.handle);
    cpu.release(out);
    stats.record(prim, 'host');
    stats.hostAnswers++;
    return data.length <= 1 ? store.host(data) : store.device(rt.upload(data), data.length);
  };

  const checkSize = (prim: PrimName, what: string, shape: Shape): void => {
    if (sizeOf(shape) > MAX_ELEMENTS) {
      throw new BackendError(prim, what, `gpujs kernels index in float32 and handle at most 2^24 = ${MAX_ELEMENTS} elements per tensor; got [${shape.join(', ')}] (${sizeOf(shape)} elements)`);
    }
  };

  /**
   * The common path of every primitive: zero-size output → empty host buffer; only host inputs
   * and a scalar output → host; an empty input → the primitive's value for no terms; else the
   * device kernel(s).
   */
  const prim = <P extends PrimName>(
    name: P,
    device: (ops: Operand[], outShape: Shape, params: PrimParams[P]) => Buffer,
    emptyValue?: (params: PrimParams[P]) => number,
  ) => (inputs: In, outShape: Shape, params: PrimParams[P]): GpujsHandle => {
    const size = sizeOf(outShape);
    let out: Buffer;
    if (size === 0) {
      stats.record(name, 'host');
      out = store.host(new Float32Array(0));
    } else if (inputs.every((x) => x.handle.buffer.host !== undefined) && (size <= 1 || inputs.some((x) => x.handle.buffer.size === 0))) {
      out = onHost(name, inputs, outShape, params);
    } else if (emptyValue && inputs.some((x) => x.handle.buffer.size === 0)) {
      out = fill(name, size, emptyValue(params));
    } else {
      checkSize(name, 'output', outShape);
      inputs.forEach((x, i) => checkSize(name, `input ${i}`, x.shape));
      out = device(inputs.map((x) => operand({ buffer: x.handle.buffer, shape: x.shape })), outShape, params);
    }
    return store.wrap(out);
  };

  const elementwise = <P extends PrimName>(name: P, body: (p: PrimParams[P]) => gen.Body, key: (p: PrimParams[P]) => string = () => name) =>
    prim(name, (ops, outShape, p: PrimParams[P]) => {
      const k = spec(['ew', key(p), outShape, ops.map((x) => [x.kind, x.shape])], () =>
        gen.elementwise(key(p), outShape, ops.map((x) => ({ kind: x.kind, strides: broadcastStrides(x.shape, outShape), base: 0 })), body(p)));
      return launch(name, k, ops.map((x) => x.arg));
    });
  const fixed = (body: gen.Body) => () => body;

  /** Copies x through the strided view (strides per output axis, base offset). */
  const gather = (name: PrimName, x: Operand, outShape: Shape, strides: readonly number[], base: number): Buffer =>
    launch(name, spec(['copy', outShape, x.kind, strides, base], () => gen.elementwise('copy', outShape, [{ kind: x.kind, strides, base }], gen.copyBody)), [x.arg]);

  /** sum or max over axes, in stages when the reduction is long. */
  const reduce = (name: PrimName, op: gen.ReduceOp, x: Operand, axes: readonly number[]): Buffer => {
    const { kept, reduced } = gen.reductionAxes(x.shape, axes);
    const n = reduced.reduce((a, r) => a * r.n, 1);
    if (n <= REDUCE_CHUNK || x.kind === 'scalar') return launch(name, spec(['reduce', op, kept, reduced], () => gen.reduce(op, kept, reduced)), [x.arg]);
    const rows = kept.reduce((a, k) => a * k.n, 1);
    let rowsView: Operand = x;
    let temp: Buffer | undefined;
    if (!(reduced.length === 1 && reduced[0]!.stride === 1)) {
      // bring the reduced axes last: x as [rows, n]
      const perm = [...x.shape.keys()].filter((a) => !axes.includes(a)).concat([...axes]);
      const s = stridesOf(x.shape);
      temp = gather(name, x, perm.map((a) => x.shape[a]!), perm.map((a) => s[a]!), 0);
      rowsView = { buffer: temp, shape: [rows, n], kind: 'array', arg: temp };
    }
    const chunk = Math.min(1024, Math.max(256, Math.ceil(Math.sqrt(n))));
    const partial = launch(name, spec(['chunks', op, rows, n, chunk], () => gen.reduceChunks(op, rows, n, chunk)), [rowsView.arg]);
    if (temp) store.discard(temp);
    const parts = Math.ceil(n / chunk);
    const out = reduce(name, op, { buffer: partial, shape: [rows, parts], kind: 'array', arg: partial }, [1]);
    store.discard(partial);
    return out;
  };

  /** Concat of any number of non-empty operands, at most MAX_KERNEL_INPUTS per kernel. */
  const concat = (ops: readonly Operand[], axis: number): Buffer => {
    if (ops.length <= MAX_KERNEL_INPUTS) {
      const shapes = ops.map((x) => x.shape);
      const kinds = ops.map((x) => x.kind);
      return launch('concat', spec(['concat', shapes, kinds, axis], () => gen.concat(shapes, kinds, axis)), ops.map((x) => x.arg));
    }
    const groups: Operand[] = [];
    const temps: Buffer[] = [];
    for (let i = 0; i < ops.length; i += MAX_KERNEL_INPUTS) {
      const part = ops.slice(i, i + MAX_KERNEL_INPUTS);
      const b = concat(part, axis);
      temps.push(b);
      const shape = part[0]!.shape.map((d, k) => (k === axis ? part.reduce((a, x) => a + x.shape[axis]!, 0) : d));
      groups.push({ buffer: b, shape, kind: 'array', arg: b });
    }
    const out = concat(groups, axis);
    for (const t of temps) store.discard(t);
    return out;
  };

  const view = (name: PrimName) => ([x]: In): GpujsHandle => {
    stats.record(name, 'view');
    return store.wrap(x!.handle.buffer);
  };

  return {
    neg: elementwise('neg', fixed(gen.unaryBodies.neg)),
    exp: elementwise('exp', fixed(gen.unaryBodies.exp)),
    log: elementwise('log', fixed(gen.unaryBodies.log)),
    sqrt: elementwise('sqrt', fixed(gen.unaryBodies.sqrt)),
    abs: elementwise('abs', fixed(gen.unaryBodies.abs)),
    sign: elementwise('sign', fixed(gen.unaryBodies.sign)),
    add: elementwise('add', fixed(gen.binaryBodies.add)),
    sub: elementwise('sub', fixed(gen.binaryBodies.sub)),
    mul: elementwise('mul', fixed(gen.binaryBodies.mul)),
    div: elementwise('div', fixed(gen.binaryBodies.div)),
    pow: elementwise('pow', fixed(gen.binaryBodies.pow)),
    compare: elementwise('compare', (p) => gen.compareBody(p.op), (p) => `compare:${p.op}`),
    where: elementwise('where', fixed(gen.whereBody)),
    sum: prim('sum', ([x], _s, p) => reduce('sum', 'sum', x!, p.axes), () => 0),
    max: prim('max', ([x], _s, p) => reduce('max', 'max', x!, p.axes), () => -Infinity),
    argmax: prim('argmax', ([x], _s, p) => {
      const s = x!.shape;
      const outer = sizeOf(s.slice(0, p.axis));
      const inner = sizeOf(s.slice(p.axis + 1));
      return launch('argmax', spec(['argmax', outer, s[p.axis], inner], () => gen.argmax(outer, s[p.axis]!, inner)), [x!.arg]);
    }),
    // NOTE: buffers are flat and immutable: reshape is a new handle on the same buffer.
    reshape: view('reshape'),
    broadcast: prim('broadcast', ([x], outShape) => gather('broadcast', x!, outShape, broadcastStrides(x!.shape, outShape), 0)),
    permute: prim('permute', ([x], outShape, p) => {
      const s = stridesOf(x!.shape);
      return gather('permute', x!, outShape, p.perm.map((a) => s[a]!), 0);
    }),
    pad: prim('pad', ([x], _s, p) => launch('pad', spec(['pad', x!.shape, x!.kind, p.widths], () => gen.pad(x!.shape, x!.kind, p.widths)), [x!.arg, p.value]), (p) => p.value),
    slice: prim('slice', ([x], outShape, p) => {
      const s = stridesOf(x!.shape);
      return gather('slice', x!, outShape, s, p.begin.reduce((a, b, i) => a + b * s[i]!, 0));
    }),
    concat: (inputs, outShape, p) => {
      const nonEmpty = inputs.filter((x) => x.handle.buffer.size > 0);
      if (nonEmpty.length === 1 && sizeOf(outShape) > 0) return view('concat')(nonEmpty);
      return prim('concat', (ops) => concat(ops.filter((x) => x.buffer.size > 0), p.axis))(inputs, outShape, p);
    },
    matmul: prim('matmul', ([a, b], outShape, p) => {
      const [batch, m, n] = outShape as [number, number, number];
      const k = p.transA ? a!.shape[1]! : a!.shape[2]!;
      const kinds = [a!.kind, b!.kind];
      return launch('matmul', spec(['matmul', outShape, k, p, kinds], () => gen.matmul(batch, m, n, k, p.transA, p.transB, kinds)), [a!.arg, b!.arg]);
    }, () => 0),
    conv2d: prim('conv2d', ([x, w], outShape, p) => {
      const kinds = [x!.kind, w!.kind];
      const g = gen.convGeometry(x!.shape, w!.shape, outShape, p);
      const blocked = ctx.blockedConvolutions && gen.canBlockConv2d(g, kinds);
      const k = spec(['conv2d', blocked, x!.shape, w!.shape, p, kinds], () => (blocked ? gen.conv2dBlocked(g, p, kinds) : gen.conv2d(g, p, kinds)));
      return launch('conv2d', k, [x!.arg, w!.arg]);
    }, () => 0),
    conv2dBackpropInput: prim('conv2dBackpropInput', ([dy, w], outShape, p) => {
      const kinds = [dy!.kind, w!.kind];
      const g = gen.convGeometry(outShape, w!.shape, dy!.shape, p);
      const blocked = ctx.blockedConvolutions && gen.canBlockConv2dBackpropInput(g, p, kinds);
      const k = spec(['conv2dBackpropInput', blocked, dy!.shape, w!.shape, p, kinds], () => (blocked ? gen.conv2dBackpropInputBlocked(g, p, kinds) : gen.conv2dBackpropInput(g, p, kinds)));
      return launch('conv2dBackpropInput', k, [dy!.arg, w!.arg]);
    }, () => 0),
    conv2dBackpropFilter: prim('conv2dBackpropFilter', ([x, dy], outShape, p) => {
      const g = gen.convGeometry(x!.shape, outShape, dy!.shape, p);
      const kinds = [x!.kind, dy!.kind];
      const rows = g.n * g.ho;
      let rowsPerPart = rows * g.wo > FILTER_GRAD_CHUNK ? Math.max(1, Math.floor(FILTER_GRAD_CHUNK / g.wo)) : rows;
      const blocked = ctx.blockedConvolutions && gen.canBlockConv2dBackpropFilter(g, p, kinds);
      if (ctx.blockedConvolutions) {
        // NOTE: a GPU needs threads: a small filter over a large image (the first layers) would
        // otherwise be a few thousand long sums. Split the rows further, down to about
        // FILTER_GRAD_MIN_TERMS terms per partial sum, until FILL_THREADS threads run (a blocked
        // kernel's thread computes a filter row's kw taps).
        const want = Math.ceil(FILL_THREADS / (sizeOf(outShape) / (blocked ? g.kw : 1)));
        const most = Math.max(1, Math.floor((rows * g.wo) / FILTER_GRAD_MIN_TERMS));
        const parts = Math.min(want, most);
        if (parts > Math.ceil(rows / rowsPerPart)) rowsPerPart = Math.max(1, Math.ceil(rows / parts));
      }
      const parts = Math.ceil(rows / rowsPerPart);
      const k = spec(['conv2dBackpropFilter', blocked, x!.shape, dy!.shape, p, kinds, rowsPerPart], () => (blocked ? gen.conv2dBackpropFilterBlocked(g, p, kinds, rowsPerPart) : gen.conv2dBackpropFilter(g, p, kinds, rowsPerPart)));
      const partial = launch('conv2dBackpropFilter', k, [x!.arg, dy!.arg]);
      if (parts === 1) return partial;
      const filter = sizeOf(outShape);
      const out = reduce('conv2dBackpropFilter', 'sum', { buffer: partial, shape: [parts, filter], kind: 'array', arg: partial }, [0]);
      store.discard(partial);
      return out;
    }, () => 0),
  };
}
