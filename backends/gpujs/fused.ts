/**
 * Fused elementwise kernels (`compileFused`, the IR of `core/compile/fused.ts`) on every gpu.js
 * mode, through the same code generation, kernel cache, settings and launcher as the primitives.
 *
 * How a fused kernel runs, per set of argument kinds (an input held on the host, i.e. a scalar,
 * is a kernel argument passed as a number, as for the primitives):
 * - values that depend only on constants and host scalars are computed on the host, one primitive
 *   at a time through the backend's own kernel table, exactly as the primitives run one by one
 *   would answer them (scalars never launch a kernel); they reach the device as number arguments;
 * - every stored value is one generated gpu.js kernel that runs the SSA program of that value's
 *   cone (recomputing what several outputs share). One kernel per output in every mode: gpu.js's
 *   `createKernelMap` throws on WebGPU and degrades to a CPU kernel on webasm;
 * - a kernel reads at most `MAX_KERNEL_INPUTS` arrays (WebGPU binds 8 storage buffers per stage,
 *   the output included). A cone reading more is split: operands are stored first as contiguous
 *   temporaries, by their own kernels, until every kernel fits;
 * - an output that is a contiguous input is that input's buffer (no kernel, as a reshape);
 * - zero-size outputs are empty host buffers (gpu.js throws on them), without a launch.
 *
 * NOTE: numerics. Every operation is rendered from the same lowering as its primitive kernel
 * (`codegen.ts`: `fusedOps`), constants are rounded to float32 as an upload would round them, and
 * on the `cpu` mode (float64 JavaScript) every intermediate value is rounded to float32
 * (`FUSED_ROUNDING`). On `cpu` and `webasm` a fused kernel therefore gives the values of the
 * primitives run one by one, bit for bit; on GL and WebGPU the shader compiler may contract a
 * multiply and an add into one fused multiply-add, so results may differ in the last bit there.
 */
import type { KernelTable } from '../../core/backend.js';
import { isContiguousInput, showFused, type FusedBatch, type FusedBatchRunner, type FusedKernel, type FusedOp, type FusedRunner, fusedOperands } from '../../core/compile/fused.js';
import { BackendError } from '../../core/errors.js';
import { sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { Buffer, GpujsHandle } from './buffers.js';
import * as gen from './codegen.js';
import type { KernelContext, Launcher } from './kernels.js';
import { FUSED_ROUNDING, MAX_ELEMENTS, MAX_KERNEL_INPUTS } from './settings.js';

/** What the fused compiler needs: the kernels' context, their launcher and the kernel table. */
export interface FusedContext extends KernelContext {
  readonly launcher: Launcher;
  readonly kernels: KernelTable<GpujsHandle>;
}

/** Where a kernel of a plan reads one of its values. */
type Source =
  /** An input held on the device, read through its strides. */
  | { readonly kind: 'input'; readonly input: number }
  /** A temporary stored by an earlier kernel of the plan (contiguous). */
  | { readonly kind: 'temp'; readonly temp: number }
  /** An instruction computed on the host: a number argument. */
  | { readonly kind: 'host'; readonly op: number };

/** One gpu.js kernel of a plan. */
interface Step {
  readonly spec: gen.KernelSpec;
  readonly sources: readonly Source[];
  readonly writes: { readonly temp: number } | { readonly output: number };
}

/** How one output of the fused kernel is made. */
type OutputPlan =
  | { readonly kind: 'step' }
  | { readonly kind: 'view'; readonly input: number }
  | { readonly kind: 'host'; readonly op: number }
  | { readonly kind: 'same'; readonly as: number };

/** What a runner does for one set of argument kinds. */
interface Plan {
  /** Instructions computed on the host, in program order. */
  readonly hostOps: readonly number[];
  readonly steps: readonly Step[];
  readonly outputs: readonly OutputPlan[];
}


const refuse = (kernel: FusedKernel, message: string): BackendError =>
  new BackendError('compileFused', 'kernel', `${message} (${showFused(kernel)})`);

/** Checks what the kernels rely on: operand order, strides inside their inputs, the 2^24 cap. */
function validate(kernel: FusedKernel): void {
  const { shape, inputs, ops, outputs } = kernel;
  if (!shape.every((e) => Number.isInteger(e) && e >= 0)) throw refuse(kernel, `bad shape [${shape.join(', ')}]`);
  const size = sizeOf(shape);
  if (size > MAX_ELEMENTS) {
    throw refuse(kernel, `gpujs kernels index in float32 and handle at most 2^24 = ${MAX_ELEMENTS} elements per tensor; got [${shape.join(', ')}] (${size} elements)`);
  }
  inputs.forEach((inp, k) => {
    if (inp.strides.length !== shape.length) throw refuse(kernel, `input ${k} has ${inp.strides.length} strides for ${shape.length} axes`);
    if (!inp.strides.every((s) => Number.isInteger(s) && s >= 0)) throw refuse(kernel, `input ${k} has strides [${inp.strides.join(', ')}]; expected integers ≥ 0`);
    const n = sizeOf(inp.shape);
    if (n > MAX_ELEMENTS) throw refuse(kernel, `input ${k} has ${n} elements; gpujs handles at most 2^24`);
    const offset = inp.offset ?? 0;
    if (!(Number.isInteger(offset) && offset >= 0)) throw refuse(kernel, `input ${k} has offset ${offset}; expected an integer ≥ 0`);
    const last = shape.reduce((a, e, d) => a + (e - 1) * inp.strides[d]!, offset);
    if (size > 0 && last >= n) throw refuse(kernel, `input ${k} of shape [${inp.shape.join(', ')}] is read at element ${last}`);
  });
  ops.forEach((op, i) => {
    if (op.kind === 'load' && !(Number.isInteger(op.input) && op.input >= 0 && op.input < inputs.length)) throw refuse(kernel, `%${i} loads input ${op.input} of ${inputs.length}`);
    for (const a of fusedOperands(op)) if (!(Number.isInteger(a) && a >= 0 && a < i)) throw refuse(kernel, `%${i} uses %${a}, not an earlier instruction`);
  });
  if (outputs.length === 0) throw refuse(kernel, 'no outputs');
  for (const o of outputs) if (!(Number.isInteger(o) && o >= 0 && o < ops.length)) throw refuse(kernel, `output %${o} is not an instruction`);
}

/** The lowering of an instruction that computes (not a load or a constant). */
function lowering(op: FusedOp): gen.OpLowering {
  switch (op.kind) {
    case 'unary':
      return gen.fusedOps.unary[op.op];
    case 'binary':
      return gen.fusedOps.binary[op.op];
    case 'compare':
      return gen.fusedOps.compare[op.op];
    case 'where':
      return gen.whereOp;
    case 'load':
    case 'const':
      throw new Error(`${op.kind} has no lowering`);
  }
}

/** Plans a fused kernel for one set of argument kinds. */
function plan(kernel: FusedKernel, kinds: readonly gen.ArgKind[], rounding: boolean): Plan {
  const { ops } = kernel;
  const size = sizeOf(kernel.shape);
  const wrap = rounding ? (x: string) => `Math.fround(${x})` : (x: string) => x;

  // on the host: constants, host scalars, and what depends on nothing else
  const onHost = new Array<boolean>(ops.length);
  ops.forEach((op, i) => {
    onHost[i] = op.kind === 'const' || (op.kind === 'load' ? kinds[op.input] === 'scalar' : fusedOperands(op).every((a) => onHost[a]));
  });
  const live = new Set<number>();
  const mark = (i: number): void => {
    if (live.has(i)) return;
    live.add(i);
    fusedOperands(ops[i]!).forEach(mark);
  };
  kernel.outputs.forEach(mark);
  const hostOps = [...live].filter((i) => onHost[i]).sort((a, b) => a - b);

  /** Values stored as temporaries, and the temporary of each. */
  const temps = new Map<number, number>();
  let nextTemp = 0;
  const steps: Step[] = [];
  /** A value read as a kernel argument rather than computed in the kernel. */
  const isLeaf = (i: number): boolean => onHost[i]! || ops[i]!.kind === 'load' || temps.has(i);
  /** Keys of the arrays the cone of `v` reads. */
  const arraysOf = (v: number): Set<string> => {
    const found = new Set<string>();
    const seen = new Set<number>();
    const walk = (i: number): void => {
      if (seen.has(i)) return;
      seen.add(i);
      const op = ops[i]!;
      if (onHost[i]) return;
      if (temps.has(i)) found.add(`t${temps.get(i)}`);
      else if (op.kind === 'load') found.add(`i${op.input}`);
      else fusedOperands(op).forEach(walk);
    };
    walk(v);
    return found;
  };

  /** Where a kernel reads a leaf. */
  const leafSource = (i: number): Source => {
    if (onHost[i]) return { kind: 'host', op: i };
    const temp = temps.get(i);
    if (temp !== undefined) return { kind: 'temp', temp };
    const op = ops[i]!;
    if (op.kind !== 'load') throw new Error(`fused plan: %${i} is not a leaf`);
    return { kind: 'input', input: op.input };
  };

  /** The kernel storing value `v`: its cone up to leaves, as SSA statements. */
  const step = (v: number, writes: Step['writes']): Step => {
    const cone = new Set<number>();
    const collect = (i: number): void => {
      if (cone.has(i)) return;
      cone.add(i);
      if (!isLeaf(i)) fusedOperands(ops[i]!).forEach(collect);
    };
    collect(v);
    const sources: Source[] = [];
    const sourceKeys = new Map<string, number>();
    const names = new Map<number, string>();
    const lines: string[] = [];
    let locals = 0;
    for (const i of [...cone].sort((a, b) => a - b)) {
      const op = ops[i]!;
      if (isLeaf(i)) {
        const src = leafSource(i);
        const key = src.kind === 'host' ? `h${src.op}` : src.kind === 'temp' ? `t${src.temp}` : `i${src.input}`;
        let at = sourceKeys.get(key);
        if (at === undefined) {
          sourceKeys.set(key, (at = sources.length));
          sources.push(src);
        }
        names.set(i, gen.valueName(at));
        continue;
      }
      const name = `r${locals++}`;
      names.set(i, name);
      lines.push(...gen.assignment(name, lowering(op)(fusedOperands(op).map((a) => names.get(a)!)), wrap));
    }
    lines.push(`return ${names.get(v)};`);
    const zeros = kernel.shape.map(() => 0);
    const contiguous = stridesOf(kernel.shape);
    const strided: gen.StridedInput[] = sources.map((s) =>
      s.kind === 'input' ? { kind: 'array', strides: kernel.inputs[s.input]!.strides, base: kernel.inputs[s.input]!.offset ?? 0 }
        : s.kind === 'temp' ? { kind: 'array', strides: contiguous, base: 0 }
          : { kind: 'scalar', strides: zeros, base: 0 });
    const spec = gen.elementwise(`fused:${lines.join(' ')}`, kernel.shape, strided, () => lines);
    return { spec, sources, writes };
  };

  /** Inner instructions of the cone of `v` (not `v`, not leaves). */
  const innerOf = (v: number): number[] => {
    const seen = new Set<number>();
    const walk = (i: number): void => {
      if (seen.has(i) || isLeaf(i)) return;
      seen.add(i);
      fusedOperands(ops[i]!).forEach(walk);
    };
    fusedOperands(ops[v]!).forEach(walk);
    return [...seen];
  };
  /** Stores `u` as a temporary (its own kernels). */
  const stash = (u: number): void => {
    const temp = nextTemp++;
    produce(u, { temp });
    temps.set(u, temp);
  };
  /**
   * Plans the kernels storing `v`. While its cone reads more than `MAX_KERNEL_INPUTS` arrays, an
   * inner value whose own kernel fits is stored first, the one that most reduces what `v` reads;
   * when none reduces it, the operand of `v` reading the most arrays is stored (recursively).
   * Either step makes progress, and a value whose operands are all leaves reads at most 3.
   */
  const produce = (v: number, writes: Step['writes']): void => {
    if (!isLeaf(v)) {
      for (let n = arraysOf(v).size; n > MAX_KERNEL_INPUTS; n = arraysOf(v).size) {
        let best: number | undefined;
        let bestCount = n;
        for (const u of innerOf(v)) {
          if (arraysOf(u).size > MAX_KERNEL_INPUTS) continue;
          temps.set(u, -1);
          const count = arraysOf(v).size;
          temps.delete(u);
          if (count < bestCount) [best, bestCount] = [u, count];
        }
        if (best === undefined) {
          const operands = [...new Set(fusedOperands(ops[v]!))].filter((u) => !isLeaf(u));
          if (operands.length === 0) throw new Error(`fused plan: %${v} reads ${n} arrays from leaf operands`);
          best = operands.reduce((a, b) => (arraysOf(b).size > arraysOf(a).size ? b : a));
        }
        stash(best);
      }
    }
    steps.push(step(v, writes));
  };

  const outputs = kernel.outputs.map((o, j): OutputPlan => {
    const first = kernel.outputs.indexOf(o);
    if (first < j) return { kind: 'same', as: first };
    const op = ops[o]!;
    if (op.kind === 'load' && kinds[op.input] === 'array' && isContiguousInput(kernel, op.input)) return { kind: 'view', input: op.input };
    if (onHost[o] && size <= 1) return { kind: 'host', op: o };
    produce(o, { output: j });
    return { kind: 'step' };
  });
  return { hostOps, steps, outputs };
}

/** The `compileFused` of a gpu.js backend. */
export function makeFusedCompiler(ctx: FusedContext): (kernel: FusedKernel) => FusedRunner<GpujsHandle> {
  const { store, stats, launcher, kernels, rt } = ctx;
  const rounding = FUSED_ROUNDING[rt.info.mode];

  return (kernel) => {
    validate(kernel);
    const size = sizeOf(kernel.shape);
    /**
     * Plans by argument kinds (in practice one or two per kernel). The compiled kernels live in
     * the backend's bounded kernel cache, keyed by their source (the program), extents and strides.
     */
    const plans = new Map<string, Plan>();

    /** A host value computed as its primitive would compute it alone (a scalar, shape []). */
    const onHost = (op: FusedOp, inputs: readonly { readonly handle: GpujsHandle }[], values: ReadonlyMap<number, GpujsHandle>): GpujsHandle => {
      const arg = (i: number) => ({ handle: values.get(i)!, shape: [] as Shape });
      // every operand is one host value, so each primitive answers on the host (as it would alone)
      switch (op.kind) {
        case 'const':
          // NOTE: as `upload` rounds a host number: to float32
          return store.wrap(store.host(Float32Array.of(op.value)));
        case 'load':
          return store.wrap(inputs[op.input]!.handle.buffer);
        case 'unary':
          return kernels[op.op]([arg(op.a)], [], {});
        case 'binary':
          return kernels[op.op]([arg(op.a), arg(op.b)], [], {});
        case 'compare':
          return kernels.compare([arg(op.a), arg(op.b)], [], { op: op.op });
        case 'where':
          return kernels.where([arg(op.c), arg(op.a), arg(op.b)], [], {});
      }
    };

    return (inputs) => {
      if (inputs.length !== kernel.inputs.length) throw new BackendError('fused', 'inputs', `expected ${kernel.inputs.length} inputs, got ${inputs.length}`);
      inputs.forEach((x, k) => {
        const want = sizeOf(kernel.inputs[k]!.shape);
        if (x.handle.released) throw new BackendError('fused', `inputs[${k}]`, 'the handle was released');
        if (x.handle.buffer.size !== want) throw new BackendError('fused', `inputs[${k}]`, `expected ${want} elements (shape [${kernel.inputs[k]!.shape.join(', ')}]), got ${x.handle.buffer.size}`);
      });
      if (size === 0) {
        stats.record('fused', 'host');
        return kernel.outputs.map(() => store.wrap(store.host(new Float32Array(0))));
      }
      const kinds = inputs.map((x): gen.ArgKind => (x.handle.buffer.host ? 'scalar' : 'array'));
      const key = kinds.join(',');
      let p = plans.get(key);
      if (!p) plans.set(key, (p = plan(kernel, kinds, rounding)));

      const values = new Map<number, GpujsHandle>();
      const temps: Buffer[] = [];
      const made: Buffer[] = [];
      let done = false;
      try {
        for (const i of p.hostOps) values.set(i, onHost(kernel.ops[i]!, inputs, values));
        for (const s of p.steps) {
          const args = s.sources.map((src) =>
            src.kind === 'input' ? inputs[src.input]!.handle.buffer : src.kind === 'temp' ? temps[src.temp]! : values.get(src.op)!.buffer.host![0]!);
          const out = launcher.launch('fused', s.spec, args);
          if ('temp' in s.writes) temps[s.writes.temp] = out;
          else made[s.writes.output] = out;
        }
        const buffers: Buffer[] = [];
        p.outputs.forEach((o, j) => {
          switch (o.kind) {
            case 'step':
              buffers.push(made[j]!);
              break;
            case 'view':
              stats.record('fused', 'view');
              buffers.push(inputs[o.input]!.handle.buffer);
              break;
            case 'host':
              buffers.push(values.get(o.op)!.buffer);
              break;
            case 'same':
              buffers.push(buffers[o.as]!);
              break;
          }
        });
        const handles = buffers.map((b) => store.wrap(b));
        done = true;
        return handles;
      } finally {
        for (const h of values.values()) store.release(h);
        for (const t of temps) if (t) store.discard(t);
        if (!done) for (const m of made) if (m) store.discard(m);
      }
    };
  };
}

/** How a batch reads an input in one segment: that segment's elements in order, or one value. */
type SegmentRead = 'elements' | 'single';

const refuseBatch = (batch: FusedBatch, message: string): BackendError =>
  new BackendError('compileFusedBatch', 'batch', `${message} (${showFused(batch.kernel)} over sizes [${batch.sizes.join(', ')}])`);

/**
 * The `compileFusedBatch` of a gpu.js backend, over its uncounted `compileFused`: gpu.js binds a
 * fixed set of arrays per kernel, so each segment runs through the fused machinery of the program
 * over that segment alone (cached per segment size and reads: segments of one size share their
 * runner and compiled kernels), and is therefore what `compileFused` gives for it, bit for bit.
 * Zero-size segments get empty host buffers without a launch. `count` is called once per call,
 * after the call's arguments were checked (the backend's `stats().kernels`).
 */
export function makeFusedBatchCompiler(
  compileFused: (kernel: FusedKernel) => FusedRunner<GpujsHandle>,
  ctx: Pick<FusedContext, 'store'>,
  count: () => void,
): (batch: FusedBatch) => FusedBatchRunner<GpujsHandle> {
  const { store } = ctx;
  return (batch) => {
    const { kernel, sizes } = batch;
    if (!sizes.every((n) => Number.isInteger(n) && n >= 0)) throw refuseBatch(batch, 'segment sizes must be integers ≥ 0');
    if (kernel.shape.length !== 1) throw refuseBatch(batch, `a rank-${kernel.shape.length} program (expected rank 1)`);
    const n0 = kernel.shape[0]!;
    if (sizes.length > 0 && n0 !== sizes[0]) throw refuseBatch(batch, `kernel.shape [${n0}] is not [sizes[0]]`);
    /** Declared reads; undefined where `shape: [1], strides: [1]` cannot tell (decided per segment from its handle). */
    const declared = kernel.inputs.map((inp, k): SegmentRead | undefined => {
      const n = sizeOf(inp.shape);
      if (inp.strides.length === 1 && inp.strides[0] === 0 && n === 1) return 'single';
      if (inp.strides.length === 1 && inp.strides[0] === 1 && n === n0) return n === 1 ? undefined : 'elements';
      throw refuseBatch(batch, `input ${k} (shape [${inp.shape.join(', ')}], strides [${inp.strides.join(', ')}]) is neither read in element order nor a single value`);
    });

    const runners = new Map<string, FusedRunner<GpujsHandle>>();
    /** The runner of the program over `n` elements with these reads (`compileFused` checks the program). */
    const runnerFor = (n: number, reads: readonly SegmentRead[]): FusedRunner<GpujsHandle> => {
      const key = `${n}:${reads.join(',')}`;
      let run = runners.get(key);
      if (!run) {
        const inputs = reads.map((r) => (r === 'single' ? { shape: [1], strides: [0] } : { shape: [n], strides: [1] }));
        runners.set(key, (run = compileFused({ shape: [n], inputs, ops: kernel.ops, outputs: kernel.outputs })));
      }
      return run;
    };
    if (declared.every((r) => r !== undefined)) for (const n of new Set(sizes)) if (n > 0) runnerFor(n, declared as SegmentRead[]);
    // a program check even when every segment is empty or the reads are decided later
    if (sizes.every((n) => n === 0) || declared.some((r) => r === undefined)) validate(kernel);

    return (segments) => {
      if (segments.length !== sizes.length) throw new BackendError('fusedBatch', 'segments', `expected ${sizes.length} segments, got ${segments.length}`);
      const reads = segments.map((seg, s) => {
        if (seg.length !== kernel.inputs.length) throw new BackendError('fusedBatch', `segments[${s}]`, `expected ${kernel.inputs.length} inputs, got ${seg.length}`);
        return seg.map((x, k): SegmentRead => {
          if (x.handle.released) throw new BackendError('fusedBatch', `segments[${s}][${k}]`, 'the handle was released');
          const got = x.handle.buffer.size;
          const r = declared[k] ?? (got === 1 ? 'single' : 'elements');
          const want = r === 'single' ? 1 : sizes[s]!;
          if (got !== want) throw new BackendError('fusedBatch', `segments[${s}][${k}]`, `expected ${want} element${want === 1 ? '' : 's'} (${r === 'single' ? 'a single value' : `segment ${s} has ${sizes[s]}`}), got ${got}`);
          return r;
        });
      });
      count();
      const made: GpujsHandle[][] = [];
      try {
        segments.forEach((seg, s) => {
          const n = sizes[s]!;
          // NOTE: gpu.js throws on zero-size kernels: an empty segment's outputs are empty host buffers
          made.push(n === 0 ? kernel.outputs.map(() => store.wrap(store.host(new Float32Array(0)))) : runnerFor(n, reads[s]!)(seg));
        });
      } catch (e) {
        for (const h of made.flat()) store.release(h);
        throw e;
      }
      return made;
    };
  };
}
