/**
 * A tiny WebAssembly module builder: LEB128, sections, and a typed expression/statement emitter
 * (scalar, bulk-memory and 128-bit SIMD instructions), so the fast CPU backend generates its
 * kernels from TypeScript with no external toolchain.
 *
 * Expressions (`Expr`) are typed pieces of code that leave one value on the stack; statements are
 * emitted on a `FuncBuilder` (`set`, `store`, `for`, `if`, …). Numbers passed where an expression
 * is expected become constants of the expected type.
 */

/** Value types. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const VT: Readonly<Record<ValType, number>> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
export function uleb(out: number[], n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`uleb: ${n}`);
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

/** Signed LEB128 (32-bit range). */
export function sleb(out: number[], n: number): void {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const f32buf = new DataView(new ArrayBuffer(8));

/** A local variable (or parameter) of a function. */
export class Local {
  constructor(readonly index: number, readonly type: ValType, readonly name: string) {}
}

/** A typed expression: emits code that pushes one value of `type`. */
export interface Expr {
  readonly type: ValType;
  emit(out: number[]): void;
}

/** An expression or a number (a constant of the expected type). */
export type Val = Expr | Local | number;

function lower(v: Val, type: ValType): Expr {
  if (typeof v === 'number') return constant(type, v);
  if (v instanceof Local) return get(v);
  return v;
}

function constant(type: ValType, v: number): Expr {
  switch (type) {
    case 'i32':
      return { type, emit: (o) => { o.push(0x41); sleb(o, v); } };
    case 'f32':
      return { type, emit: (o) => { o.push(0x43); f32buf.setFloat32(0, v, true); for (let i = 0; i < 4; i++) o.push(f32buf.getUint8(i)); } };
    case 'f64':
      return { type, emit: (o) => { o.push(0x44); f32buf.setFloat64(0, v, true); for (let i = 0; i < 8; i++) o.push(f32buf.getUint8(i)); } };
    case 'v128':
      return F32x4.splat(constant('f32', v));
    default:
      throw new Error(`no constant of type ${type}`);
  }
}

/** i32 constant. */
export const i32 = (v: number): Expr => constant('i32', v);
/** f32 constant. */
export const f32 = (v: number): Expr => constant('f32', v);
/** f32 constant given by its bit pattern (exact, NaN payloads included). */
export function f32Bits(bits: number): Expr {
  return { type: 'f32', emit: (o) => { o.push(0x43); for (let i = 0; i < 4; i++) o.push((bits >>> (8 * i)) & 0xff); } };
}
/** f64 constant. */
export const f64 = (v: number): Expr => constant('f64', v);
/** v128 constant from four i32 lanes. */
export function v128i32(a: number, b: number, c: number, d: number): Expr {
  return {
    type: 'v128',
    emit: (o) => {
      o.push(0xfd);
      uleb(o, 0x0c);
      const dv = new DataView(new ArrayBuffer(16));
      [a, b, c, d].forEach((x, i) => dv.setInt32(i * 4, x, true));
      for (let i = 0; i < 16; i++) o.push(dv.getUint8(i));
    },
  };
}

/** local.get */
export function get(l: Local): Expr {
  return { type: l.type, emit: (o) => { o.push(0x20); uleb(o, l.index); } };
}

function op(bytes: readonly number[], type: ValType, args: readonly Expr[]): Expr {
  return {
    type,
    emit: (o) => {
      for (const a of args) a.emit(o);
      o.push(...bytes);
    },
  };
}

function simd(code: number): number[] {
  const o = [0xfd];
  uleb(o, code);
  return o;
}

function memarg(align: number, offset: number): number[] {
  const o: number[] = [];
  uleb(o, align);
  uleb(o, offset);
  return o;
}

type Bin = (a: Val, b: Val) => Expr;
type Un = (a: Val) => Expr;
const bin = (t: ValType, bytes: number[], rt: ValType = t): Bin => (a, b) => op(bytes, rt, [lower(a, t), lower(b, t)]);
const un = (t: ValType, bytes: number[], rt: ValType = t): Un => (a) => op(bytes, rt, [lower(a, t)]);
const load = (bytes: number[], align: number, rt: ValType) => (addr: Val, offset = 0): Expr => op([...bytes, ...memarg(align, offset)], rt, [lower(addr, 'i32')]);

/** i32 operations. */
export const I32 = {
  add: bin('i32', [0x6a]), sub: bin('i32', [0x6b]), mul: bin('i32', [0x6c]),
  divS: bin('i32', [0x6d]), divU: bin('i32', [0x6e]), remS: bin('i32', [0x6f]), remU: bin('i32', [0x70]),
  and: bin('i32', [0x71]), or: bin('i32', [0x72]), xor: bin('i32', [0x73]),
  shl: bin('i32', [0x74]), shrS: bin('i32', [0x75]), shrU: bin('i32', [0x76]),
  eqz: un('i32', [0x45]), eq: bin('i32', [0x46]), ne: bin('i32', [0x47]),
  ltS: bin('i32', [0x48]), ltU: bin('i32', [0x49]), gtS: bin('i32', [0x4a]), gtU: bin('i32', [0x4b]),
  leS: bin('i32', [0x4c]), leU: bin('i32', [0x4d]), geS: bin('i32', [0x4e]), geU: bin('i32', [0x4f]),
  load: load([0x28], 2, 'i32'),
  fromF32S: un('f32', [0xa8], 'i32'),
  /** select(a, b, cond): a if cond ≠ 0 else b. */
  select: (a: Val, b: Val, c: Val): Expr => op([0x1b], 'i32', [lower(a, 'i32'), lower(b, 'i32'), lower(c, 'i32')]),
  min: (a: Val, b: Val): Expr => I32.select(a, b, I32.ltS(a, b)),
  max: (a: Val, b: Val): Expr => I32.select(a, b, I32.gtS(a, b)),
};

/** f32 operations. */
export const F32 = {
  add: bin('f32', [0x92]), sub: bin('f32', [0x93]), mul: bin('f32', [0x94]), div: bin('f32', [0x95]),
  min: bin('f32', [0x96]), max: bin('f32', [0x97]),
  abs: un('f32', [0x8b]), neg: un('f32', [0x8c]), sqrt: un('f32', [0x91]),
  eq: bin('f32', [0x5b], 'i32'), ne: bin('f32', [0x5c], 'i32'), lt: bin('f32', [0x5d], 'i32'),
  gt: bin('f32', [0x5e], 'i32'), le: bin('f32', [0x5f], 'i32'), ge: bin('f32', [0x60], 'i32'),
  load: load([0x2a], 2, 'f32'),
  fromI32S: un('i32', [0xb2], 'f32'),
  fromF64: un('f64', [0xb6], 'f32'),
  select: (a: Val, b: Val, c: Val): Expr => op([0x1b], 'f32', [lower(a, 'f32'), lower(b, 'f32'), lower(c, 'i32')]),
};

/** f64 operations. */
export const F64 = {
  add: bin('f64', [0xa0]), sub: bin('f64', [0xa1]), mul: bin('f64', [0xa2]), div: bin('f64', [0xa3]),
  load: load([0x2b], 3, 'f64'),
  fromF32: un('f32', [0xbb], 'f64'),
};

/** v128 as bits. */
export const V128 = {
  load: load(simd(0x00), 4, 'v128'),
  /** Loads one f32 and splats it to the four lanes. */
  load32Splat: load(simd(0x09), 2, 'v128'),
  load64Zero: load(simd(0x5d), 3, 'v128'),
  not: un('v128', simd(0x4d)), and: bin('v128', simd(0x4e)), andnot: bin('v128', simd(0x4f)),
  or: bin('v128', simd(0x50)), xor: bin('v128', simd(0x51)),
  /** bitselect(a, b, mask): bits of a where mask is 1, else b. */
  bitselect: (a: Val, b: Val, m: Val): Expr => op(simd(0x52), 'v128', [lower(a, 'v128'), lower(b, 'v128'), lower(m, 'v128')]),
  anyTrue: un('v128', simd(0x53), 'i32'),
  /** i8x16.shuffle with 16 lane indices into a ‖ b. */
  shuffle: (a: Val, b: Val, lanes: readonly number[]): Expr => op([...simd(0x0d), ...lanes], 'v128', [lower(a, 'v128'), lower(b, 'v128')]),
};

/** f32x4 operations. */
export const F32x4 = {
  splat: (a: Val): Expr => op(simd(0x13), 'v128', [lower(a, 'f32')]),
  extract: (a: Val, lane: number): Expr => op([...simd(0x1f), lane], 'f32', [lower(a, 'v128')]),
  /** f32x4.replace_lane: `a` with lane `lane` set to the f32 `x`. */
  replaceLane: (a: Val, lane: number, x: Val): Expr => op([...simd(0x20), lane], 'v128', [lower(a, 'v128'), lower(x, 'f32')]),
  add: bin('v128', simd(0xe4)), sub: bin('v128', simd(0xe5)), mul: bin('v128', simd(0xe6)), div: bin('v128', simd(0xe7)),
  min: bin('v128', simd(0xe8)), max: bin('v128', simd(0xe9)), pmin: bin('v128', simd(0xea)), pmax: bin('v128', simd(0xeb)),
  abs: un('v128', simd(0xe0)), neg: un('v128', simd(0xe1)), sqrt: un('v128', simd(0xe3)),
  eq: bin('v128', simd(0x41)), ne: bin('v128', simd(0x42)), lt: bin('v128', simd(0x43)),
  gt: bin('v128', simd(0x44)), le: bin('v128', simd(0x45)), ge: bin('v128', simd(0x46)),
  fromI32x4: un('v128', simd(0xfa)),
  demoteF64x2: un('v128', simd(0x5e)),
  /** relaxed_madd(a, b, c) = a·b + c, fused where the CPU has FMA (relaxed SIMD). */
  relaxedMadd: (a: Val, b: Val, c: Val): Expr => op(simd(0x105), 'v128', [lower(a, 'v128'), lower(b, 'v128'), lower(c, 'v128')]),
};

/** f64x2 operations. */
export const F64x2 = {
  add: bin('v128', simd(0xf0)), mul: bin('v128', simd(0xf2)),
  promoteLow: un('v128', simd(0x5f)),
  extract: (a: Val, lane: number): Expr => op([...simd(0x21), lane], 'f64', [lower(a, 'v128')]),
};

/** i32x4 operations. */
export const I32x4 = {
  splat: (a: Val): Expr => op(simd(0x11), 'v128', [lower(a, 'i32')]),
  add: bin('v128', simd(0xae)),
  extract: (a: Val, lane: number): Expr => op([...simd(0x1b), lane], 'i32', [lower(a, 'v128')]),
};

/** A function of the module (for calls). */
export interface FuncRef {
  readonly index: number;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly name: string;
}

/** Call expression (one result). */
export function call(fn: FuncRef, args: readonly Val[]): Expr {
  if (fn.results.length !== 1) throw new Error(`${fn.name} has ${fn.results.length} results`);
  return op([0x10, ...(() => { const o: number[] = []; uleb(o, fn.index); return o; })()], fn.results[0]!, args.map((a, i) => lower(a, fn.params[i]!)));
}

/** Emits one function body. */
export class FuncBuilder {
  readonly code: number[] = [];
  readonly locals: Local[] = [];
  readonly params: Local[];
  /** Nesting depth of open blocks/loops (for branch labels). */
  #depth = 0;

  constructor(readonly name: string, params: readonly [string, ValType][]) {
    this.params = params.map(([n, t], i) => new Local(i, t, n));
  }

  /** Declares a new local. */
  local(type: ValType, name = ''): Local {
    const l = new Local(this.params.length + this.locals.length, type, name);
    this.locals.push(l);
    return l;
  }

  /** Declares several locals of one type. */
  localsOf(type: ValType, n: number, name = ''): Local[] {
    return Array.from({ length: n }, (_, i) => this.local(type, `${name}${i}`));
  }

  /** local.set l = e */
  set(l: Local, e: Val): this {
    lower(e, l.type).emit(this.code);
    this.code.push(0x21);
    uleb(this.code, l.index);
    return this;
  }

  /** l += e (i32, f32, f64) or lane-wise add for v128 (f32x4). */
  inc(l: Local, e: Val): this {
    const sum = l.type === 'i32' ? I32.add(l, e) : l.type === 'f32' ? F32.add(l, e) : l.type === 'f64' ? F64.add(l, e) : F32x4.add(l, e);
    return this.set(l, sum);
  }

  /** Evaluates and drops an expression. */
  drop(e: Expr): this {
    e.emit(this.code);
    this.code.push(0x1a);
    return this;
  }

  /** Stores `value` at `addr + offset` (store kind from the value's type). */
  store(addr: Val, value: Val, offset = 0, type?: ValType): this {
    const v = typeof value === 'number' ? lower(value, type ?? 'f32') : lower(value, (value as Expr).type);
    lower(addr, 'i32').emit(this.code);
    v.emit(this.code);
    switch (v.type) {
      case 'i32': this.code.push(0x36, ...memarg(2, offset)); break;
      case 'f32': this.code.push(0x38, ...memarg(2, offset)); break;
      case 'f64': this.code.push(0x39, ...memarg(3, offset)); break;
      case 'v128': this.code.push(...simd(0x0b), ...memarg(4, offset)); break;
      default: throw new Error(`store of ${v.type}`);
    }
    return this;
  }

  /** Stores lane `lane` of a v128 as one f32 (v128.store32_lane). */
  storeLane32(addr: Val, value: Expr, lane: number, offset = 0): this {
    lower(addr, 'i32').emit(this.code);
    value.emit(this.code);
    this.code.push(...simd(0x5a), ...memarg(2, offset), lane);
    return this;
  }

  /** memory.copy(dst, src, bytes) */
  copy(dst: Val, src: Val, bytes: Val): this {
    for (const e of [dst, src, bytes]) lower(e, 'i32').emit(this.code);
    this.code.push(0xfc, 10, 0, 0);
    return this;
  }

  /** memory.fill(dst, byte, bytes) */
  fill(dst: Val, byte: Val, bytes: Val): this {
    for (const e of [dst, byte, bytes]) lower(e, 'i32').emit(this.code);
    this.code.push(0xfc, 11, 0);
    return this;
  }

  /** Call statement (results dropped). */
  call(fn: FuncRef, args: readonly Val[]): this {
    args.forEach((a, i) => lower(a, fn.params[i]!).emit(this.code));
    this.code.push(0x10);
    uleb(this.code, fn.index);
    for (let i = 0; i < fn.results.length; i++) this.code.push(0x1a);
    return this;
  }

  /** if (cond) then else otherwise */
  if(cond: Val, then: () => void, otherwise?: () => void): this {
    lower(cond, 'i32').emit(this.code);
    this.code.push(0x04, 0x40);
    this.#depth++;
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.#depth--;
    this.code.push(0x0b);
    return this;
  }

  /**
   * for (i = from; i < to; i += step) body — `to` is re-evaluated each iteration (use a local or a
   * constant). `body` may call `brk()` to leave the loop.
   */
  for(i: Local, from: Val, to: Val, step: Val, body: (brk: () => void) => void): this {
    this.set(i, from);
    this.while(I32.ltS(i, to), (brk) => {
      body(brk);
      this.inc(i, step);
    });
    return this;
  }

  /** while (cond) body; `brk()` leaves the loop. */
  while(cond: Val, body: (brk: () => void) => void): this {
    this.code.push(0x02, 0x40); // block
    this.code.push(0x03, 0x40); // loop
    this.#depth += 2;
    const loopDepth = this.#depth;
    lower(I32.eqz(cond), 'i32').emit(this.code);
    this.code.push(0x0d);
    uleb(this.code, 1); // br_if block
    body(() => {
      this.code.push(0x0c);
      uleb(this.code, this.#depth - loopDepth + 1);
    });
    this.code.push(0x0c);
    uleb(this.code, 0); // br loop
    this.#depth -= 2;
    this.code.push(0x0b, 0x0b);
    return this;
  }

  /** return e (or return with no value). */
  ret(e?: Val, type: ValType = 'i32'): this {
    if (e !== undefined) lower(e, typeof e === 'number' ? type : (e as Expr).type ?? type).emit(this.code);
    this.code.push(0x0f);
    return this;
  }
}

interface FuncDef {
  readonly ref: FuncRef;
  readonly builder: FuncBuilder;
  readonly exported: boolean;
}

/** An imported function: `module.name` with its signature. */
interface ImportDef {
  readonly ref: FuncRef;
  readonly module: string;
  readonly field: string;
}

/**
 * Builds a module that imports one memory `env.memory` (and optionally functions): a shared
 * memory unless `memoryPages.shared` is false (the memory given at instantiation must match).
 */
export class ModuleBuilder {
  readonly #funcs: FuncDef[] = [];
  readonly #imports: ImportDef[] = [];

  constructor(readonly memoryPages: { readonly min: number; readonly max: number; readonly shared?: boolean }) {}

  /**
   * Declares an imported function `module.field` (before any `func`: imports come first in the
   * function index space); call it with `call` or `FuncBuilder.call`.
   */
  importFunc(module: string, field: string, params: readonly ValType[], results: readonly ValType[]): FuncRef {
    if (this.#funcs.length > 0) throw new Error(`import ${module}.${field} after a function`);
    const ref: FuncRef = { index: this.#imports.length, params, results, name: `${module}.${field}` };
    this.#imports.push({ ref, module, field });
    return ref;
  }

  /** Declares a function; `build` emits its body. */
  func(name: string, params: readonly [string, ValType][], results: readonly ValType[], build: (f: FuncBuilder, ...args: Local[]) => void, exported = true): FuncRef {
    const builder = new FuncBuilder(name, params);
    const ref: FuncRef = { index: this.#imports.length + this.#funcs.length, params: params.map((p) => p[1]), results, name };
    this.#funcs.push({ ref, builder, exported });
    build(builder, ...builder.params);
    return ref;
  }

  /** The module's bytes. */
  bytes(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, body: number[]) => {
      out.push(id);
      uleb(out, body.length);
      out.push(...body);
    };
    const vec = (items: number[][]) => {
      const o: number[] = [];
      uleb(o, items.length);
      for (const it of items) o.push(...it);
      return o;
    };
    const name = (s: string) => {
      const b = [...new TextEncoder().encode(s)];
      const o: number[] = [];
      uleb(o, b.length);
      return [...o, ...b];
    };
    // types (deduplicated)
    const sigs: string[] = [];
    const sigBytes: number[][] = [];
    const typeOf = (f: FuncRef): number => {
      const key = `${f.params.join(',')}->${f.results.join(',')}`;
      let i = sigs.indexOf(key);
      if (i < 0) {
        i = sigs.length;
        sigs.push(key);
        const o = [0x60];
        uleb(o, f.params.length);
        for (const p of f.params) o.push(VT[p]);
        uleb(o, f.results.length);
        for (const r of f.results) o.push(VT[r]);
        sigBytes.push(o);
      }
      return i;
    };
    const importTypes = this.#imports.map((i) => typeOf(i.ref));
    const funcTypes = this.#funcs.map((f) => typeOf(f.ref));
    section(1, vec(sigBytes));
    // imports: the functions, then env.memory (limits flag 0x03: shared, with a maximum; 0x01: not shared, with a maximum)
    const imports = this.#imports.map((im, k) => {
      const o = [...name(im.module), ...name(im.field), 0x00];
      uleb(o, importTypes[k]!);
      return o;
    });
    const imp = [...name('env'), ...name('memory'), 0x02, this.memoryPages.shared === false ? 0x01 : 0x03];
    uleb(imp, this.memoryPages.min);
    uleb(imp, this.memoryPages.max);
    section(2, vec([...imports, imp]));
    section(3, vec(funcTypes.map((t) => { const o: number[] = []; uleb(o, t); return o; })));
    section(7, vec(this.#funcs.filter((f) => f.exported).map((f) => { const o = [...name(f.ref.name), 0x00]; uleb(o, f.ref.index); return o; })));
    const bodies = this.#funcs.map((f) => {
      const b = f.builder;
      const localDecl: number[][] = [];
      // one entry per local (run-length encoding is optional)
      for (const l of b.locals) localDecl.push([1, VT[l.type]]);
      const body = [...vec(localDecl), ...b.code, 0x0b];
      const o: number[] = [];
      uleb(o, body.length);
      return [...o, ...body];
    });
    section(10, vec(bodies));
    return Uint8Array.from(out);
  }
}
