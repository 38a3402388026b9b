/**
 * Fused elementwise kernels on the `wasm` backend (`compileFused`): each `FusedKernel` program
 * becomes one small generated WebAssembly module whose function visits the collapsed output
 * (`collapseFused`) row by row and runs the whole program per element, f32x4 four elements at a
 * time with a scalar tail, storing every output of the program in one pass.
 *
 * NOTE: bit-identity with the unfused kernels. Every operation is computed exactly as the
 * backend's own kernel for that primitive computes it, so the stored outputs are bit-identical to
 * running the primitives one by one, whatever the number of threads:
 * - the operations the backend runs as SIMD kernels (`neg abs sqrt add sub mul div`, `compare`,
 *   `where`; see `hasSimdUnary`/`hasSimdBinary`) are emitted with the very same instruction
 *   emitters as those kernels (`UNARY_OPS`, `BINARY_OPS` of `elementwise-kernels.ts`, the
 *   `bitselect`/`select` of its `where`): f32 IEEE arithmetic, per lane identical in the vector
 *   and the scalar form, and every value is an f32 before the next operation reads it;
 * - the operations the backend runs as reference JavaScript kernels (`exp log sign pow`) call
 *   the very same JavaScript functions (`unaryFns`/`binaryFns` of `backends/cpu/elementwise.ts`),
 *   imported into the module: the f32 operand is promoted to f64 (as a Float32Array read does),
 *   the function runs, and its f64 result is demoted to f32 (as a Float32Array store does). Such
 *   programs run the scalar loop only; they run on every thread where each of those functions is
 *   a `Math` builtin (each worker imports its own `Math.exp`: the same code), else on the calling
 *   thread only, like the reference kernels themselves;
 * - constants are rounded to f32 as `upload` does (a Float32Array store) and passed by their bits;
 * - loads and stores copy bits (broadcast reads included).
 * Exceptions, outside this backend's control: where an unfused binary kernel meets more than four
 * collapsed broadcast axes it falls back to the reference JS kernel, whose values are the same
 * (f64 arithmetic rounded once to f32 is exact for + − × ÷) but whose NaN payloads are the JS
 * engine's; signaling NaNs are not preserved by the JS fallbacks either.
 *
 * Threads: the rows (or, for few rows, column ranges in multiples of 4) are split statically; each
 * element is computed by the same instructions whichever thread runs it.
 *
 * Batches (`compileFusedBatchExec`, the backend's `compileFusedBatch`): one rank-1 program over
 * several independent segments (every input read in element order or a single value) is one
 * module whose `batch` function walks a table of pieces (ranges of one segment's elements, with
 * their addresses) with the same element body as `run`; the whole batch is one job of the thread
 * pool, its elements split statically and evenly among the threads (`batchShares`).
 *
 * Compiled modules are cached per process by the program's structure (live instructions, collapsed
 * rank, how each input's inner axis is read, `run` or `batch`; not the extents, strides, segment
 * sizes or constants, which the kernel reads from a parameter block), and loaded into a bounded
 * number of thread-pool slots per backend (least recently used first out).
 */
import { collapseFused, showFused, type FusedBatch, type FusedKernel, type FusedOp, fusedOperands } from '../../core/compile/fused.js';
import { BackendError } from '../../core/errors.js';
import type { BinaryPrim, CompareOp, UnaryPrim } from '../../core/primitives.js';
import { sizeOf } from '../../core/shape.js';
import { binaryFns, unaryFns } from '../cpu/elementwise.js';
import { call, F32, F32x4, F64, get, I32, Local, ModuleBuilder, V128, type Expr, type FuncBuilder, type FuncRef } from './assembler.js';
import { BINARY_OPS, UNARY_OPS } from './elementwise-kernels.js';
import { hasSimdBinary, hasSimdUnary } from './elementwise.js';
import type { Block } from './heap.js';
import { MEMORY_PAGES } from './kernels.js';
import type { Runtime } from './runtime.js';
import { split, type LoadImports } from './threads.js';
import { Wasm, type WasmModule } from './wasm-api.js';

/** Compiled modules kept per process. */
const MODULE_CACHE_SIZE = 256;
/** Thread-pool slots (loaded modules) per backend. */
const SLOTS_PER_BACKEND = 128;
/** Element-operations below which a fused kernel runs on the calling thread only. */
const PARALLEL_MIN_WORK = 65536;

/** How a kernel input is read along the innermost collapsed axis. */
type InnerRead = 'contiguous' | 'splat' | 'strided' | 'unused';

/** One instruction of a normalised program (operands are indices of earlier instructions). */
type Instr =
  | { readonly kind: 'load'; readonly input: number }
  | { readonly kind: 'const'; readonly slot: number }
  | { readonly kind: 'unary'; readonly op: UnaryPrim; readonly a: number; readonly js: number }
  | { readonly kind: 'binary'; readonly op: BinaryPrim; readonly a: number; readonly b: number; readonly js: number }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly a: number; readonly b: number }
  | { readonly kind: 'where'; readonly c: number; readonly a: number; readonly b: number };

/** A JavaScript operator function a program imports. */
interface JsImport {
  /** The import's field name in the module (`u_exp`, `b_pow`, …). */
  readonly field: string;
  readonly arity: 1 | 2;
  readonly fn: (...a: number[]) => number;
  /** The name of the `Math` builtin it is, if it is one. */
  readonly math: string | undefined;
}

/** The structure of a fused program: what its module depends on. */
interface Program {
  readonly instrs: readonly Instr[];
  /** The instruction stored by each output. */
  readonly outputs: readonly number[];
  readonly inner: readonly InnerRead[];
  readonly rank: number;
  readonly consts: number;
  readonly imports: readonly JsImport[];
  /** The module's function: `run` (one kernel, `buildModule`) or `batch` (`buildBatchModule`). */
  readonly entry: 'run' | 'batch';
  /** The cache key (a rendering of everything above). */
  readonly key: string;
}

/** The bits of `value` as stored in a Float32Array, i.e. as `upload` rounds it. */
function float32Bits(value: number): number {
  BITS_F32[0] = value;
  return BITS_U32[0]!;
}
const BITS_F32 = new Float32Array(1);
const BITS_U32 = new Uint32Array(BITS_F32.buffer);

function invalid(kernel: FusedKernel, why: string): never {
  throw new BackendError('compileFused', 'kernel', `${why} in ${showFused(kernel)}`);
}

/** Checks the kernel's well-formedness (operands before use, inputs and ranks consistent). */
function validate(kernel: FusedKernel): void {
  const rank = kernel.shape.length;
  kernel.inputs.forEach((inp, k) => {
    if (inp.strides.length !== rank) invalid(kernel, `input ${k} has ${inp.strides.length} strides for rank ${rank}`);
    if (!inp.strides.every(Number.isInteger)) invalid(kernel, `input ${k} has non-integer strides`);
    const offset = inp.offset ?? 0;
    if (!(Number.isInteger(offset) && offset >= 0)) invalid(kernel, `input ${k} has offset ${offset}`);
    const n = inp.shape.reduce((a, b) => a * b, 1);
    const size = kernel.shape.reduce((a, b) => a * b, 1);
    const last = kernel.shape.reduce((a, e, d) => a + (e - 1) * Math.max(0, inp.strides[d]!), offset);
    if (size > 0 && last >= n) invalid(kernel, `input ${k} of shape [${inp.shape.join(', ')}] is read at element ${last}`);
  });
  const operand = (i: number, at: number) => {
    if (!(Number.isInteger(i) && i >= 0 && i < at)) invalid(kernel, `instruction ${at} reads %${i}`);
  };
  kernel.ops.forEach((op, i) => {
    switch (op.kind) {
      case 'load':
        if (!(Number.isInteger(op.input) && op.input >= 0 && op.input < kernel.inputs.length)) invalid(kernel, `instruction ${i} loads input ${op.input}`);
        break;
      case 'const':
        break;
      case 'unary':
        operand(op.a, i);
        break;
      case 'binary':
      case 'compare':
        operand(op.a, i);
        operand(op.b, i);
        break;
      case 'where':
        operand(op.c, i);
        operand(op.a, i);
        operand(op.b, i);
        break;
    }
  });
  if (kernel.outputs.length === 0) invalid(kernel, 'no outputs');
  for (const o of kernel.outputs) if (!(Number.isInteger(o) && o >= 0 && o < kernel.ops.length)) invalid(kernel, `output %${o}`);
}


/**
 * Normalises a kernel: only the instructions the outputs need, one load per input, constants
 * numbered in order (their f32 bits go to `constBits`), JS operator functions collected.
 */
function normalise(kernel: FusedKernel, rank: number, strides: readonly (readonly number[])[]): { program: Program; constBits: number[] } {
  const live = new Array<boolean>(kernel.ops.length).fill(false);
  for (const o of kernel.outputs) live[o] = true;
  for (let i = kernel.ops.length - 1; i >= 0; i--) if (live[i]) for (const a of fusedOperands(kernel.ops[i]!)) live[a] = true;

  const instrs: Instr[] = [];
  const renamed = new Array<number>(kernel.ops.length).fill(-1);
  const loadOf = new Map<number, number>();
  const constBits: number[] = [];
  const imports: JsImport[] = [];
  const importOf = (field: string, arity: 1 | 2, fn: (...a: number[]) => number): number => {
    const known = imports.findIndex((im) => im.field === field);
    if (known >= 0) return known;
    const name = field.slice(2);
    const math = (Math as unknown as Record<string, unknown>)[name] === fn ? name : undefined;
    imports.push({ field, arity, fn, math });
    return imports.length - 1;
  };
  const r = (i: number) => renamed[i]!;
  kernel.ops.forEach((op, i) => {
    if (!live[i]) return;
    let instr: Instr;
    switch (op.kind) {
      case 'load': {
        const known = loadOf.get(op.input);
        if (known !== undefined) {
          renamed[i] = known;
          return;
        }
        loadOf.set(op.input, instrs.length);
        instr = { kind: 'load', input: op.input };
        break;
      }
      case 'const':
        instr = { kind: 'const', slot: constBits.length };
        constBits.push(float32Bits(op.value));
        break;
      case 'unary':
        instr = { kind: 'unary', op: op.op, a: r(op.a), js: hasSimdUnary(op.op) ? -1 : importOf(`u_${op.op}`, 1, unaryFns[op.op]) };
        break;
      case 'binary':
        instr = { kind: 'binary', op: op.op, a: r(op.a), b: r(op.b), js: hasSimdBinary(op.op) ? -1 : importOf(`b_${op.op}`, 2, binaryFns[op.op]) };
        break;
      case 'compare':
        instr = { kind: 'compare', op: op.op, a: r(op.a), b: r(op.b) };
        break;
      case 'where':
        instr = { kind: 'where', c: r(op.c), a: r(op.a), b: r(op.b) };
        break;
    }
    renamed[i] = instrs.length;
    instrs.push(instr);
  });
  const inner = kernel.inputs.map((_, k): InnerRead => {
    if (!loadOf.has(k)) return 'unused';
    const s = strides[k]![rank - 1]!;
    return s === 1 ? 'contiguous' : s === 0 ? 'splat' : 'strided';
  });
  const outputs = kernel.outputs.map(r);
  const text = instrs.map((ins) => {
    switch (ins.kind) {
      case 'load': return `L${ins.input}`;
      case 'const': return `K${ins.slot}`;
      case 'unary': return `${ins.op}(${ins.a})`;
      case 'binary': return `${ins.op}(${ins.a},${ins.b})`;
      case 'compare': return `${ins.op}(${ins.a},${ins.b})`;
      case 'where': return `where(${ins.c},${ins.a},${ins.b})`;
    }
  });
  const key = `r${rank} in:${inner.map((k) => k[0]).join('')} ${text.join(' ')} -> ${outputs.join(',')} js:${imports.map((im) => `${im.field}${im.math ? '=Math' : ''}`).join(',')}`;
  return { program: { instrs, outputs, inner, rank, consts: constBits.length, imports, entry: 'run', key }, constBits };
}

/**
 * Words of a program's parameter block: the extents, each input's byte address and byte strides,
 * each output's byte address, then the constants' f32 bits.
 */
function layout(program: Program, nInputs: number): { dims: number; input: (k: number) => number; output: (o: number) => number; consts: number; words: number } {
  const R = program.rank;
  const inputAt = R;
  const outputAt = inputAt + nInputs * (1 + R);
  const constAt = outputAt + program.outputs.length;
  return { dims: 0, input: (k) => inputAt + k * (1 + R), output: (o) => outputAt + o, consts: constAt, words: constAt + program.consts };
}

/** Pointer locals an element computation reads and advances. */
interface ElementIo {
  /** Each input's read pointer (undefined: the input is unused). */
  readonly p: readonly (Local | undefined)[];
  /** Each output's write pointer. */
  readonly po: readonly Local[];
  /** Strided inputs: byte steps of 1, 2, 3 and 4 elements (undefined for the others). */
  readonly step: readonly (readonly [Local, Local, Local, Local] | undefined)[];
  /** Inputs read as one value (vector programs): that value in the four lanes. */
  readonly splat: readonly (Local | undefined)[];
}

/**
 * Declares the constants' locals and loads them from the block at `pp` (word `at` on): f32 locals
 * (bit-exact loads) and, for vector programs, their splats.
 */
function constantLocals(f: FuncBuilder, program: Program, vector: boolean, pp: Local, at: number): { cS: Local[]; cV: Local[] } {
  const cS: Local[] = [];
  const cV: Local[] = [];
  for (let c = 0; c < program.consts; c++) {
    const l = f.local('f32', `k${c}`);
    f.set(l, F32.load(pp, 4 * (at + c)));
    cS.push(l);
    if (vector) {
      const v = f.local('v128', `kv${c}`);
      f.set(v, F32x4.splat(l));
      cV.push(v);
    }
  }
  return { cS, cV };
}

/**
 * Declares one local per instruction value (vector and scalar) and returns the emitter of the
 * element computation: 4 lanes (`vec`) or one element, reading the inputs at `io.p` and storing
 * every output at `io.po`, each pointer advanced past what it read or wrote. The same code for
 * every function of a module, so every element gets the same instructions whichever runs it.
 */
function elementBody(f: FuncBuilder, program: Program, refs: readonly FuncRef[], vector: boolean, io: ElementIo, consts: { cS: readonly Local[]; cV: readonly Local[] }): (vec: boolean) => void {
  const { p, po, step, splat } = io;
  const { cS, cV } = consts;
  const vv = program.instrs.map((ins, i) => (vector && ins.kind !== 'const' ? f.local('v128', `v${i}`) : undefined));
  const sv = program.instrs.map((ins, i) => (ins.kind !== 'const' ? f.local('f32', `x${i}`) : undefined));
  const vget = (i: number): Expr => {
    const ins = program.instrs[i]!;
    return get(ins.kind === 'const' ? cV[ins.slot]! : vv[i]!);
  };
  const sget = (i: number): Expr => {
    const ins = program.instrs[i]!;
    return get(ins.kind === 'const' ? cS[ins.slot]! : sv[i]!);
  };
  return (vec) => {
    program.instrs.forEach((ins, i) => {
      if (ins.kind === 'const') return;
      const dst = vec ? vv[i]! : sv[i]!;
      const val = vec ? vget : sget;
      switch (ins.kind) {
        case 'load': {
          const k = ins.input;
          const at = p[k]!;
          if (!vec) {
            f.set(dst, F32.load(at));
            if (program.inner[k] !== 'splat') f.inc(at, program.inner[k] === 'contiguous' ? 4 : step[k]![0]);
          } else if (program.inner[k] === 'contiguous') {
            f.set(dst, V128.load(at));
            f.inc(at, 16);
          } else if (program.inner[k] === 'splat') {
            f.set(dst, splat[k]!);
          } else {
            const [s1, s2, s3, s4] = step[k]!;
            let v: Expr = F32x4.splat(F32.load(at));
            v = F32x4.replaceLane(v, 1, F32.load(I32.add(at, s1)));
            v = F32x4.replaceLane(v, 2, F32.load(I32.add(at, s2)));
            v = F32x4.replaceLane(v, 3, F32.load(I32.add(at, s3)));
            f.set(dst, v);
            f.inc(at, s4);
          }
          break;
        }
        case 'unary':
          if (ins.js >= 0) f.set(dst, F32.fromF64(call(refs[ins.js]!, [F64.fromF32(val(ins.a))])));
          else f.set(dst, UNARY_OPS[ins.op]![vec ? 0 : 1](val(ins.a)));
          break;
        case 'binary':
          if (ins.js >= 0) f.set(dst, F32.fromF64(call(refs[ins.js]!, [F64.fromF32(val(ins.a)), F64.fromF32(val(ins.b))])));
          else f.set(dst, BINARY_OPS[ins.op]![vec ? 0 : 1](val(ins.a), val(ins.b)));
          break;
        case 'compare':
          f.set(dst, BINARY_OPS[ins.op]![vec ? 0 : 1](val(ins.a), val(ins.b)));
          break;
        case 'where':
          // NOTE: as the unfused `where` kernel: c ≠ 0 (true for NaN, false for −0) selects a's bits.
          f.set(dst, vec ? V128.bitselect(val(ins.a), val(ins.b), F32x4.ne(val(ins.c), F32x4.splat(0))) : F32.select(val(ins.a), val(ins.b), F32.ne(val(ins.c), 0)));
          break;
      }
    });
    program.outputs.forEach((i, o) => {
      f.store(po[o]!, vec ? vget(i) : sget(i));
      f.inc(po[o]!, vec ? 16 : 4);
    });
  };
}

/** The module's JS imports (declared first, as imports must be). */
function importsOf(m: ModuleBuilder, program: Program): FuncRef[] {
  return program.imports.map((im) => m.importFunc('js', im.field, im.arity === 1 ? ['f64'] : ['f64', 'f64'], ['f64']));
}

/**
 * The module of a program: `run(params, r0, r1, j0, j1)` computes rows [r0, r1) of the collapsed
 * output (all axes but the last), columns [j0, j1) of each, reading extents, addresses, strides
 * and constants from the parameter block at `params`.
 */
function buildModule(program: Program, nInputs: number, shared: boolean): Uint8Array {
  const m = new ModuleBuilder({ ...MEMORY_PAGES, shared });
  const refs = importsOf(m, program);
  // NOTE: a program calling JS functions runs the scalar loop only (one call per element).
  const vector = program.imports.length === 0;
  const R = program.rank;
  const lay = layout(program, nInputs);
  const params: [string, 'i32'][] = ['params', 'r0', 'r1', 'j0', 'j1'].map((n) => [n, 'i32']);
  m.func('run', params, [], (f, pp, r0, r1, j0, j1) => {
    const used = program.inner.map((k) => k !== 'unused');
    const D = f.localsOf('i32', R, 'd');
    D.forEach((d, a) => f.set(d, I32.load(pp, 4 * (lay.dims + a))));
    const base: (Local | undefined)[] = [];
    const S: Local[][] = [];
    for (let k = 0; k < nInputs; k++) {
      if (!used[k]) {
        base.push(undefined);
        S.push([]);
        continue;
      }
      const b = f.local('i32', `in${k}`);
      f.set(b, I32.load(pp, 4 * lay.input(k)));
      base.push(b);
      S.push(Array.from({ length: R }, (_, a) => {
        const s = f.local('i32', `s${k}_${a}`);
        f.set(s, I32.load(pp, 4 * (lay.input(k) + 1 + a)));
        return s;
      }));
    }
    const outBase = program.outputs.map((_, o) => {
      const b = f.local('i32', `out${o}`);
      f.set(b, I32.load(pp, 4 * lay.output(o)));
      return b;
    });
    const consts = constantLocals(f, program, vector, pp, lay.consts);

    const inner = D[R - 1]!;
    const outer = R - 1;
    const idx = f.localsOf('i32', outer, 'i');
    const start: (Local | undefined)[] = base.map((b, k) => (b ? f.local('i32', `start${k}`) : undefined));
    const p: (Local | undefined)[] = base.map((b, k) => (b ? f.local('i32', `p${k}`) : undefined));
    const oRow = outBase.map((_, o) => f.local('i32', `orow${o}`));
    const po = outBase.map((_, o) => f.local('i32', `po${o}`));
    const r = f.local('i32', 'r'), t = f.local('i32', 't'), j = f.local('i32', 'j'), n = f.local('i32', 'n'), n4 = f.local('i32', 'n4');

    // the first row's coordinates and addresses
    f.set(t, r0);
    for (let a = outer - 1; a >= 0; a--) {
      f.set(idx[a]!, I32.remU(t, D[a]!));
      if (a > 0) f.set(t, I32.divU(t, D[a]!));
    }
    for (let k = 0; k < nInputs; k++) {
      if (!base[k]) continue;
      let e: Expr = I32.add(base[k]!, I32.mul(j0, S[k]![R - 1]!));
      for (let a = 0; a < outer; a++) e = I32.add(e, I32.mul(idx[a]!, S[k]![a]!));
      f.set(start[k]!, e);
    }
    outBase.forEach((b, o) => f.set(oRow[o]!, I32.add(b, I32.shl(I32.add(I32.mul(r0, inner), j0), 2))));
    f.set(n, I32.sub(j1, j0));
    f.set(n4, vector ? I32.and(n, -4) : 0);

    // strided inner reads: byte steps of 1, 2, 3 and 4 elements
    const step = S.map((s, k) => {
      if (program.inner[k] !== 'strided') return undefined;
      const [s1, s2, s3, s4] = f.localsOf('i32', 4, `step${k}_`) as [Local, Local, Local, Local];
      f.set(s1, s[R - 1]!);
      f.set(s2, I32.shl(s1, 1));
      f.set(s3, I32.add(s2, s1));
      f.set(s4, I32.shl(s1, 2));
      return [s1, s2, s3, s4] as const;
    });
    const splat = program.inner.map((k, i) => (k === 'splat' && vector ? f.local('v128', `splat${i}`) : undefined));
    const body = elementBody(f, program, refs, vector, { p, po, step, splat }, consts);

    /** Moves the row coordinates on by one (axis a and the carries into the axes before it). */
    const advance = (a: number) => {
      f.inc(idx[a]!, 1);
      for (let k = 0; k < nInputs; k++) if (start[k]) f.inc(start[k]!, S[k]![a]!);
      if (a === 0) return;
      f.if(I32.eq(idx[a]!, D[a]!), () => {
        f.set(idx[a]!, 0);
        for (let k = 0; k < nInputs; k++) if (start[k]) f.set(start[k]!, I32.sub(start[k]!, I32.mul(D[a]!, S[k]![a]!)));
        advance(a - 1);
      });
    };

    f.for(r, r0, r1, 1, () => {
      for (let k = 0; k < nInputs; k++) if (p[k]) f.set(p[k]!, start[k]!);
      po.forEach((l, o) => f.set(l, oRow[o]!));
      splat.forEach((l, k) => {
        if (l) f.set(l, V128.load32Splat(p[k]!));
      });
      if (vector) f.for(j, 0, n4, 4, () => body(true));
      f.for(j, n4, n, 1, () => body(false));
      oRow.forEach((l) => f.inc(l, I32.shl(inner, 2)));
      if (outer > 0) advance(outer - 1);
    });
  });
  return m.bytes();
}

/**
 * Words of a batch's parameter block: the constants' f32 bits, then one entry per piece (a range
 * of one segment's elements): its element count, each input's byte address where the piece
 * starts (a single-value input: its address), each output's byte address where the piece starts.
 */
function batchLayout(program: Program, nInputs: number): { entry: number; count: number; input: (k: number) => number; output: (o: number) => number; words: (pieces: number) => number } {
  const entry = 1 + nInputs + program.outputs.length;
  return { entry, count: 0, input: (k) => 1 + k, output: (o) => 1 + nInputs + o, words: (pieces) => program.consts + pieces * entry };
}

/**
 * The module of a batch program (rank 1, every input contiguous or a single value):
 * `batch(params, e0, e1)` runs pieces [e0, e1) of the table in the parameter block at `params`
 * (`batchLayout`), each with the element body of `buildModule` (the same emitters, the same
 * vector loop and scalar tail) over its range.
 */
function buildBatchModule(program: Program, nInputs: number, shared: boolean): Uint8Array {
  if (program.rank !== 1 || program.inner.includes('strided')) throw new Error(`batch module of a rank-${program.rank} or strided program`);
  const m = new ModuleBuilder({ ...MEMORY_PAGES, shared });
  const refs = importsOf(m, program);
  // NOTE: as in `buildModule`, a program calling JS functions runs the scalar loop only.
  const vector = program.imports.length === 0;
  const lay = batchLayout(program, nInputs);
  const params: [string, 'i32'][] = ['params', 'e0', 'e1'].map((n) => [n, 'i32']);
  m.func('batch', params, [], (f, pp, e0, e1) => {
    const consts = constantLocals(f, program, vector, pp, 0);
    const p = program.inner.map((k, i) => (k !== 'unused' ? f.local('i32', `p${i}`) : undefined));
    const po = program.outputs.map((_, o) => f.local('i32', `po${o}`));
    const splat = program.inner.map((k, i) => (k === 'splat' && vector ? f.local('v128', `splat${i}`) : undefined));
    const q = f.local('i32', 'q'), e = f.local('i32', 'e'), j = f.local('i32', 'j'), n = f.local('i32', 'n'), n4 = f.local('i32', 'n4');
    const body = elementBody(f, program, refs, vector, { p, po, step: [], splat }, consts);

    // q: the address of entry e
    f.set(q, I32.add(pp, I32.mul(I32.add(I32.mul(e0, lay.entry), program.consts), 4)));
    f.for(e, e0, e1, 1, () => {
      f.set(n, I32.load(q, 4 * lay.count));
      p.forEach((l, k) => {
        if (l) f.set(l, I32.load(q, 4 * lay.input(k)));
      });
      po.forEach((l, o) => f.set(l, I32.load(q, 4 * lay.output(o))));
      splat.forEach((l, k) => {
        if (l) f.set(l, V128.load32Splat(p[k]!));
      });
      f.set(n4, vector ? I32.and(n, -4) : 0);
      if (vector) f.for(j, 0, n4, 4, () => body(true));
      f.for(j, n4, n, 1, () => body(false));
      f.inc(q, 4 * lay.entry);
    });
  });
  return m.bytes();
}

/**
 * Process-wide cache of compiled modules, by program key and whether the memory they import is
 * shared (least recently used first out).
 */
const modules = new Map<string, WasmModule>();

function moduleFor(program: Program, nInputs: number, shared: boolean): WasmModule {
  const key = `${shared ? 'shared' : 'single'}:${program.key}`;
  let mod = modules.get(key);
  if (mod) {
    modules.delete(key);
  } else {
    mod = new Wasm.Module(program.entry === 'run' ? buildModule(program, nInputs, shared) : buildBatchModule(program, nInputs, shared));
    if (modules.size >= MODULE_CACHE_SIZE) modules.delete(modules.keys().next().value as string);
  }
  modules.set(key, mod);
  return mod;
}

/** A module loaded into a thread-pool slot of one backend. */
interface Loaded {
  readonly id: number;
  readonly slot: number;
  /** False when it runs on the calling thread only (it imports non-`Math` JS functions). */
  readonly everyThread: boolean;
  /** Set when its slot was given to another module (the runner then loads its own again). */
  evicted: boolean;
}

/** A backend's fused-kernel state: the loaded slots and the shared parameter block. */
class FusedSlots {
  readonly #loaded = new Map<string, Loaded>();
  #nextSlot = 0;
  #params: Block | undefined;

  constructor(readonly rt: Runtime) {}

  /** The loaded module of a program (loading it, evicting the least recently used, if needed). */
  acquire(program: Program, nInputs: number): Loaded {
    const known = this.#loaded.get(program.key);
    if (known) {
      this.#loaded.delete(program.key);
      this.#loaded.set(program.key, known);
      return known;
    }
    const mod = moduleFor(program, nInputs, this.rt.shared);
    let slot: number;
    if (this.#nextSlot < SLOTS_PER_BACKEND) {
      slot = this.#nextSlot++;
    } else {
      const [oldKey, old] = this.#loaded.entries().next().value as [string, Loaded];
      this.#loaded.delete(oldKey);
      old.evicted = true;
      slot = old.slot;
    }
    const everyThread = program.imports.every((im) => im.math !== undefined);
    const imports: LoadImports = {
      functions: Object.fromEntries(program.imports.map((im) => [im.field, im.fn])),
      math: everyThread ? Object.fromEntries(program.imports.map((im) => [im.field, im.math!])) : undefined,
    };
    const id = this.rt.pool.load(mod, program.entry, slot, imports);
    const loaded: Loaded = { id, slot, everyThread, evicted: false };
    this.#loaded.set(program.key, loaded);
    return loaded;
  }

  /** The byte address of a parameter block of at least `words` words (valid until the next call). */
  params(words: number): number {
    const bytes = Math.max(words, 16) * 4;
    if (!this.#params || this.#params.bytes < bytes) {
      const next = this.rt.heap.alloc(Math.max(bytes, 2 * (this.#params?.bytes ?? 0)));
      if (this.#params) this.rt.heap.free(this.#params);
      this.#params = next;
    }
    return this.#params.ptr;
  }
}

const slotsOf = new WeakMap<Runtime, FusedSlots>();

/** A compiled fused kernel on one backend: runs it over given input and output addresses. */
export interface FusedExec {
  /** Elements of every output. */
  readonly size: number;
  /** Computes the outputs (byte addresses) from the inputs (byte addresses, as the kernel's). */
  run(inputs: readonly number[], outputs: readonly number[]): void;
}

/**
 * Compiles a fused kernel for the runtime `rt` (see the module comment). Throws a `BackendError`
 * for a malformed kernel.
 */
export function compileFusedExec(rt: Runtime, kernel: FusedKernel): FusedExec {
  validate(kernel);
  const size = sizeOf(kernel.shape);
  const { dims, strides } = collapseFused(kernel);
  const { program, constBits } = normalise(kernel, dims.length, strides);
  const nInputs = kernel.inputs.length;
  let slots = slotsOf.get(rt);
  if (!slots) slotsOf.set(rt, (slots = new FusedSlots(rt)));
  const state = slots;
  let loaded = state.acquire(program, nInputs);

  // the parameter block, less the addresses (filled in per run)
  const lay = layout(program, nInputs);
  const template = new Int32Array(lay.words);
  dims.forEach((d, a) => (template[lay.dims + a] = d));
  strides.forEach((s, k) => s.forEach((v, a) => (template[lay.input(k) + 1 + a] = v * 4)));
  constBits.forEach((b, c) => (template[lay.consts + c] = b | 0));

  // static shares: rows, or column ranges (multiples of 4) when there are fewer rows than threads
  const R = dims.length;
  const inner = dims[R - 1]!;
  const rows = size === 0 ? 0 : size / inner;
  const work = size * Math.max(1, program.instrs.length);
  const shares = (everyThread: boolean): [number, number, number, number][] => {
    const nth = everyThread && work >= PARALLEL_MIN_WORK ? rt.threads : 1;
    if (rows >= nth) return split(rows, nth).filter(([a, b]) => b > a).map(([a, b]) => [a, b, 0, inner]);
    const parts = Math.min(nth, Math.ceil(inner / 4));
    return split(inner, parts, 4).filter(([a, b]) => b > a).map(([a, b]) => [0, rows, a, b]);
  };
  let ranges = shares(loaded.everyThread);

  return {
    size,
    run: (inputs, outputs) => {
      if (size === 0) return;
      if (loaded.evicted) {
        loaded = state.acquire(program, nInputs);
        ranges = shares(loaded.everyThread);
      }
      const at = state.params(lay.words);
      const words = rt.heap.i32;
      const w0 = at / 4;
      words.set(template, w0);
      for (let k = 0; k < nInputs; k++) words[w0 + lay.input(k)] = inputs[k]!;
      for (let o = 0; o < outputs.length; o++) words[w0 + lay.output(o)] = outputs[o]!;
      rt.pool.runLoaded(loaded.id, ranges.map(([a, b, c, d]) => [at, a, b, c, d]));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Batches: one program over several independent segments in one dispatch

/** How a batch reads an input in every segment: that segment's elements in order, or one value. */
export type SegmentRead = 'elements' | 'single';

function invalidBatch(batch: FusedBatch, why: string): never {
  throw new BackendError('compileFusedBatch', 'batch', `${why} in ${showFused(batch.kernel)} over sizes [${batch.sizes.join(', ')}]`);
}

/**
 * How a batch declares each input to be read (see `FusedBatch`): `single` for `strides: [0]`,
 * `elements` for `strides: [1]` over more than one element, undefined where the declaration
 * cannot tell (`shape: [1], strides: [1]`, i.e. `sizes[0]` is 1: `segmentReads` decides from the
 * handles). Throws a `BackendError` for a batch not of that form or a malformed program.
 */
export function declaredReads(batch: FusedBatch): (SegmentRead | undefined)[] {
  const { kernel, sizes } = batch;
  if (!sizes.every((n) => Number.isInteger(n) && n >= 0)) invalidBatch(batch, 'segment sizes must be integers ≥ 0');
  if (kernel.shape.length !== 1) invalidBatch(batch, `a rank-${kernel.shape.length} program (expected rank 1)`);
  const n0 = kernel.shape[0]!;
  if (sizes.length > 0 && n0 !== sizes[0]) invalidBatch(batch, `kernel.shape [${n0}] is not [sizes[0]]`);
  validate(kernel);
  return kernel.inputs.map((inp, k) => {
    const n = sizeOf(inp.shape);
    if (inp.strides[0] === 0 && n === 1) return 'single';
    if (inp.strides[0] === 1 && n === n0) return n === 1 ? undefined : 'elements';
    return invalidBatch(batch, `input ${k} (shape [${inp.shape.join(', ')}], strides [${inp.strides.join(', ')}]) is neither read in element order nor a single value`);
  });
}

/**
 * The reads of a batch for one call: the declared ones (`declaredReads`), an undecided input read
 * in element order where some segment of other than one element passes more or fewer than one
 * element for it, else as a single value. Throws a `BackendError` naming the segment and input
 * whose element count (`counts[s][k]`) does not fit its read.
 */
export function segmentReads(batch: FusedBatch, declared: readonly (SegmentRead | undefined)[], counts: readonly (readonly number[])[]): SegmentRead[] {
  const { sizes } = batch;
  const reads = declared.map((d, k): SegmentRead => d ?? (sizes.some((n, s) => n !== 1 && counts[s]![k] !== 1) ? 'elements' : 'single'));
  counts.forEach((c, s) => {
    reads.forEach((r, k) => {
      const want = r === 'single' ? 1 : sizes[s]!;
      if (c[k] !== want) throw new BackendError('fusedBatch', `segments[${s}][${k}]`, `expected ${want} element${want === 1 ? '' : 's'} (${r === 'single' ? 'a single value' : `segment ${s} has ${sizes[s]}`}), got ${c[k]}`);
    });
  });
  return reads;
}

/** A range of one segment's elements: what one entry of a batch's table computes. */
export interface BatchPiece {
  readonly segment: number;
  readonly start: number;
  readonly count: number;
}

/**
 * @internal The static split of a batch among `parts` threads: the segments' elements, laid end
 * to end, cut into `parts` ranges as equal as possible (each cut moved down to a multiple of 4
 * elements of its segment, so the vector loop keeps its alignment), each range a run of pieces.
 * Returns the pieces (in segment and element order, zero-size segments having none) and, per
 * non-empty share, its range of pieces. Depends on the sizes and `parts` only.
 */
export function batchShares(sizes: readonly number[], parts: number): { pieces: BatchPiece[]; shares: [number, number][] } {
  const offsets: number[] = [0];
  for (const n of sizes) offsets.push(offsets[offsets.length - 1]! + n);
  const total = offsets[sizes.length]!;
  /** The segment holding global element `c` (the last of equal offsets: a non-empty one). */
  const segmentAt = (c: number): number => {
    let lo = 0, hi = sizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid]! <= c) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const cuts: number[] = [0];
  for (let t = 1; t < parts; t++) {
    const c = Math.floor((total * t) / parts);
    const s = segmentAt(c);
    cuts.push(Math.max(cuts[t - 1]!, c - ((c - offsets[s]!) % 4)));
  }
  cuts.push(total);
  const pieces: BatchPiece[] = [];
  const shares: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const [a, b] = [cuts[t]!, cuts[t + 1]!];
    if (b <= a) continue;
    const first = pieces.length;
    for (let s = segmentAt(a); s < sizes.length && offsets[s]! < b; s++) {
      const lo = Math.max(a, offsets[s]!), hi = Math.min(b, offsets[s + 1]!);
      if (hi > lo) pieces.push({ segment: s, start: lo - offsets[s]!, count: hi - lo });
    }
    shares.push([first, pieces.length]);
  }
  return { pieces, shares };
}

/** A compiled batch on one backend: runs it over given input and output addresses. */
export interface FusedBatchExec {
  /** Runs every segment: per segment, its inputs' and its outputs' byte addresses. */
  run(inputs: readonly (readonly number[])[], outputs: readonly (readonly number[])[]): void;
}

/**
 * Compiles a batch (see `FusedBatch`) for the runtime `rt`, its inputs read as `reads` says: one
 * generated module whose `batch` function runs a table of pieces (`batchShares`), the whole batch
 * ONE job of the thread pool (shares balanced by elements), or none when every segment is empty.
 *
 * NOTE: bit-identity. Each element gets exactly the instructions `compileFusedExec` gives it for
 * the segment alone (the same normalised program, `elementBody`, vector and scalar forms equal
 * per lane), so how the segments are cut into pieces and shares changes no bit.
 */
export function compileFusedBatchExec(rt: Runtime, batch: FusedBatch, reads: readonly SegmentRead[]): FusedBatchExec {
  const { kernel, sizes } = batch;
  const nInputs = kernel.inputs.length;
  const { program: single, constBits } = normalise(kernel, 1, reads.map((r) => (r === 'single' ? [0] : [1])));
  const program: Program = { ...single, entry: 'batch', key: `batch ${single.key}` };
  let slots = slotsOf.get(rt);
  if (!slots) slotsOf.set(rt, (slots = new FusedSlots(rt)));
  const state = slots;
  let loaded = state.acquire(program, nInputs);
  const lay = batchLayout(program, nInputs);

  const total = sizes.reduce((a, n) => a + n, 0);
  const work = total * Math.max(1, program.instrs.length);
  const plan = (everyThread: boolean) => batchShares(sizes, everyThread && work >= PARALLEL_MIN_WORK ? rt.threads : 1);
  let split = plan(loaded.everyThread);

  return {
    run: (inputs, outputs) => {
      if (total === 0) return;
      if (loaded.evicted) {
        loaded = state.acquire(program, nInputs);
        split = plan(loaded.everyThread);
      }
      const at = state.params(lay.words(split.pieces.length));
      const words = rt.heap.i32;
      const w0 = at / 4;
      constBits.forEach((b, c) => (words[w0 + c] = b | 0));
      split.pieces.forEach((piece, e) => {
        const q = w0 + program.consts + e * lay.entry;
        const ins = inputs[piece.segment]!, outs = outputs[piece.segment]!;
        words[q + lay.count] = piece.count;
        for (let k = 0; k < nInputs; k++) words[q + lay.input(k)] = ins[k]! + (reads[k] === 'single' ? 0 : 4 * piece.start);
        for (let o = 0; o < outs.length; o++) words[q + lay.output(o)] = outs[o]! + 4 * piece.start;
      });
      rt.pool.runLoaded(loaded.id, split.shares.map(([e0, e1]) => [at, e0, e1]));
    },
  };
}
