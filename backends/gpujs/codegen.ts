/**
 * Kernel source generation: a few small templates (strided elementwise/gather, pad, concat,
 * reductions, argmax, matmul, the convolution family) produce the JavaScript that gpu.js compiles
 * to GLSL, WGSL, WebAssembly or JavaScript. The elementwise operations are written once
 * (`unaryOps`, `binaryOps`, `compareOp`, `whereOp`) and rendered both as primitive kernel bodies
 * and as the statements of fused kernels (`fused.ts`). Every kernel writes a flat rank-1 output (gpu.js
 * outputs have at most 3 dimensions and drop a 4th silently) and reads flat inputs with index
 * arithmetic, so any rank works.
 *
 * Conventions of the generated code:
 * - every extent, stride and loop bound is a `this.constants.*` value (a loop whose bound is an
 *   argument silently stops at gpu.js's `loopMaxIterations`);
 * - an input is either an array (`xk[offset]`) or a host scalar passed as a number (`xk`), so a
 *   scalar operand never needs a texture and `mul(x, 2)` and `mul(x, 3)` share one kernel;
 * - integer division is `Math.floor(q / e)` corrected by its remainder (GPU float division may be
 *   off by an ulp, which would otherwise turn 6 / 3 into 1.9999999 → 1).
 */
import type { FusedOpTable } from '../../core/compile/fused.js';
import type { CompareOp, ConvParams, UnaryPrim, BinaryPrim } from '../../core/primitives.js';
import { stridesOf, type Shape } from '../../core/shape.js';

/** How an input reaches the kernel. */
export type ArgKind = 'array' | 'scalar';

/** A generated kernel: its cache key, source, constants and flat output size. */
export interface KernelSpec {
  /** Unique per (template, shapes, params, argument kinds). */
  readonly key: string;
  readonly source: string;
  readonly constants: Readonly<Record<string, number>>;
  /** Flat output size (≥ 1). */
  readonly size: number;
  /**
   * Threads (default `size`): a blocked kernel computes `size / threads` consecutive outputs per
   * thread and returns them as gpu.js `Array(n)` (WebGPU only: its outputs are flat buffers).
   */
  readonly threads?: number;
}

/** Builds one kernel's source, collecting its constants. */
class Source {
  readonly lines: string[] = [];
  readonly constants: Record<string, number> = {};
  #n = 0;

  /** A named constant (`this.constants.name`). */
  c(name: string, value: number): string {
    if (!Number.isFinite(value)) throw new Error(`kernel constant ${name} must be finite, got ${value}`);
    if (name in this.constants && this.constants[name] !== value) throw new Error(`kernel constant ${name} defined twice (${this.constants[name]}, ${value})`);
    this.constants[name] = value;
    return `this.constants.${name}`;
  }

  /** A fresh variable name. */
  v(prefix: string): string {
    return `${prefix}${this.#n++}`;
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  /**
   * `[quotient, remainder]` of the variable `q` by the positive integer constant `e`, exact for
   * |q| < 2^24 whatever the device's division accuracy.
   */
  divmod(q: string, e: number): [string, string] {
    const E = this.c(this.v('dc'), e);
    const t = this.v('dq');
    const r = this.v('dr');
    this.emit(`let ${t} = Math.floor(${q} / ${E});`);
    this.emit(`let ${r} = ${q} - ${t} * ${E};`);
    this.emit(`if (${r} < 0) { ${t} = ${t} - 1; ${r} = ${r} + ${E}; }`);
    this.emit(`if (${r} >= ${E}) { ${t} = ${t} + 1; ${r} = ${r} - ${E}; }`);
    return [t, r];
  }

  /** Row-major indices of the flat index `flat` over `extents` (all ≥ 2 except a lone axis). */
  decompose(flat: string, extents: readonly number[]): string[] {
    if (extents.length === 0) return [];
    const idx = new Array<string>(extents.length);
    let q = flat;
    for (let d = extents.length - 1; d > 0; d--) {
      const [t, r] = this.divmod(q, extents[d]!);
      idx[d] = r;
      q = t;
    }
    idx[0] = q;
    return idx;
  }

  /** `base + Σ idx[d]·strides[d]` as an expression (terms with stride 0 dropped). */
  offset(idx: readonly string[], strides: readonly number[], base: number, name: string): string {
    const terms: string[] = [];
    if (base !== 0) terms.push(this.c(`${name}b`, base));
    idx.forEach((i, d) => {
      const s = strides[d]!;
      if (s === 0) return;
      terms.push(s === 1 ? i : `${i} * ${this.c(`${name}s${d}`, s)}`);
    });
    return terms.length === 0 ? '0' : terms.join(' + ');
  }

  build(args: readonly string[], key: string, size: number, threads?: number): KernelSpec {
    const source = `function(${args.join(', ')}) {\n  ${this.lines.join('\n  ')}\n}`;
    return threads === undefined ? { key, source, constants: { ...this.constants }, size } : { key, source, constants: { ...this.constants }, size, threads };
  }
}

const argName = (k: number): string => `x${k}`;

/** Reads input k at an offset expression (or the scalar itself). */
function read(kinds: readonly ArgKind[], k: number, offset: string): string {
  return kinds[k] === 'scalar' ? argName(k) : `${argName(k)}[${offset}]`;
}

const keyOf = (...parts: unknown[]): string => parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('|');

// ---------------------------------------------------------------------------------------------
// Strided elementwise kernels (unary, binary, compare, where, and the gathers: broadcast,
// permute, slice)

/** One input of an elementwise kernel: kind, element strides per output axis, base offset. */
export interface StridedInput {
  readonly kind: ArgKind;
  readonly strides: readonly number[];
  readonly base: number;
}

/**
 * Merges output axes where every input is contiguous across them (and drops extent-1 axes): a
 * same-shape elementwise op becomes one flat axis, whatever its rank.
 */
export function coalesce(shape: Shape, inputs: readonly (readonly number[])[]): { extents: number[]; strides: number[][] } {
  const extents: number[] = [];
  const strides: number[][] = inputs.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const e = shape[d]!;
    if (e === 1) continue;
    const last = extents.length - 1;
    if (last >= 0 && inputs.every((s, k) => strides[k]![last] === s[d]! * e)) {
      extents[last] = extents[last]! * e;
      inputs.forEach((s, k) => (strides[k]![last] = s[d]!));
    } else {
      extents.push(e);
      inputs.forEach((s, k) => strides[k]!.push(s[d]!));
    }
  }
  return { extents, strides };
}

/** A kernel body computing the output from the input values `v[k]` (statements ending in `return`). */
export type Body = (v: readonly string[]) => string[];

/** The name of input k's value in an elementwise kernel's body. */
export const valueName = (k: number): string => `v${k}`;

/** An elementwise kernel over strided inputs (NumPy broadcasting is strides of 0). */
export function elementwise(name: string, outShape: Shape, inputs: readonly StridedInput[], body: Body, extraArgs: readonly string[] = []): KernelSpec {
  const size = outShape.reduce((a, b) => a * b, 1);
  const src = new Source();
  const { extents, strides } = coalesce(outShape, inputs.map((x) => (x.kind === 'scalar' ? outShape.map(() => 0) : x.strides)));
  src.emit('const o = this.thread.x;');
  const idx = extents.length <= 1 ? extents.map(() => 'o') : src.decompose('o', extents);
  const values = inputs.map((x, k) => {
    const v = valueName(k);
    src.emit(`const ${v} = ${read(inputs.map((i) => i.kind), k, src.offset(idx, strides[k]!, x.base, `i${k}`))};`);
    return v;
  });
  for (const line of body(values)) src.emit(line);
  const key = keyOf('ew', name, extents, inputs.map((x, k) => [x.kind, x.kind === 'array' ? strides[k] : 0, x.base]), extraArgs);
  return src.build([...inputs.map((_, k) => argName(k)), ...extraArgs], key, size);
}

/**
 * One elementwise operation over named operands: the value of the first case whose condition
 * holds, else `otherwise` (expressions without side effects). The primitive kernels render it as
 * early `return`s (`body`), fused kernels as an assignment (`assignment`): both run exactly the
 * same expressions.
 */
export interface OpCases {
  readonly cases: readonly (readonly [condition: string, value: string])[];
  readonly otherwise: string;
}

/** An elementwise operation over its operand names. */
export type OpLowering = (v: readonly string[]) => OpCases;

const plain = (value: string): OpCases => ({ cases: [], otherwise: value });

/** The unary primitives. */
export const unaryOps: { readonly [P in UnaryPrim]: OpLowering } = {
  neg: ([a]) => plain(`-${a}`),
  exp: ([a]) => plain(`Math.exp(${a})`),
  log: ([a]) => plain(`Math.log(${a})`),
  sqrt: ([a]) => plain(`Math.sqrt(${a})`),
  abs: ([a]) => plain(`Math.abs(${a})`),
  // NOTE: sign(NaN) = NaN and sign(±0) = 0, as the reference: `a * 0` keeps NaN.
  sign: ([a]) => ({ cases: [[`${a} > 0`, '1'], [`${a} < 0`, '-1']], otherwise: `${a} * 0` }),
};

/** The binary primitives. */
export const binaryOps: { readonly [P in BinaryPrim]: OpLowering } = {
  add: ([a, b]) => plain(`${a} + ${b}`),
  sub: ([a, b]) => plain(`${a} - ${b}`),
  mul: ([a, b]) => plain(`${a} * ${b}`),
  div: ([a, b]) => plain(`${a} / ${b}`),
  // NOTE: GPU pow(x, y) is exp2(y·log2 x): undefined for x < 0 and for y = 0 at x = 0. The
  // reference (Math.pow) gives 1 for y = 0 and a signed result for a negative base and an
  // integer exponent (even: |x|^y, odd: −|x|^y); both are reproduced here.
  pow: ([a, b]) => ({
    cases: [
      [`${b} == 0`, '1'],
      [`${a} < 0 && Math.floor(${b}) == ${b} && Math.floor(${b} * 0.5) * 2 == ${b}`, `Math.pow(-${a}, ${b})`],
      [`${a} < 0 && Math.floor(${b}) == ${b}`, `-Math.pow(-${a}, ${b})`],
    ],
    otherwise: `Math.pow(${a}, ${b})`,
  }),
};

const compareOps: { readonly [K in CompareOp]: string } = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

/** A comparison: 1 where true, else 0. */
export const compareOp = (op: CompareOp): OpLowering => ([a, b]) => ({ cases: [[`${a} ${compareOps[op]} ${b}`, '1']], otherwise: '0' });

/** `where(c, a, b)`. */
export const whereOp: OpLowering = ([c, a, b]) => ({ cases: [[`${c} != 0`, a!]], otherwise: b! });

/** The operator tables of fused kernels (exhaustive over the elementwise primitives). */
export const fusedOps: FusedOpTable<OpLowering> = {
  unary: unaryOps,
  binary: binaryOps,
  compare: { lt: compareOp('lt'), le: compareOp('le'), gt: compareOp('gt'), ge: compareOp('ge'), eq: compareOp('eq'), ne: compareOp('ne') },
};

/** A primitive kernel's body: the operation's cases as early returns. */
export const body = (op: OpLowering): Body => (v) => {
  const { cases, otherwise } = op(v);
  return [...cases.map(([c, x]) => `if (${c}) { return ${x}; }`), `return ${otherwise};`];
};

/**
 * A fused kernel's statements setting the new variable `name` to the operation's value, each
 * value passed through `wrap` (rounding, where the mode computes wider than it stores).
 */
export function assignment(name: string, op: OpCases, wrap: (value: string) => string): string[] {
  if (op.cases.length === 0) return [`const ${name} = ${wrap(op.otherwise)};`];
  const lines = [`let ${name} = 0;`];
  let depth = 0;
  for (const [c, x] of op.cases) {
    const pad = '  '.repeat(depth++);
    lines.push(`${pad}if (${c}) {`, `${pad}  ${name} = ${wrap(x)};`, `${pad}} else {`);
  }
  lines.push(`${'  '.repeat(depth)}${name} = ${wrap(op.otherwise)};`);
  while (depth-- > 0) lines.push(`${'  '.repeat(depth)}}`);
  return lines;
}

/** Bodies of the unary primitives. */
export const unaryBodies: { readonly [P in UnaryPrim]: Body } = {
  neg: body(unaryOps.neg),
  exp: body(unaryOps.exp),
  log: body(unaryOps.log),
  sqrt: body(unaryOps.sqrt),
  abs: body(unaryOps.abs),
  sign: body(unaryOps.sign),
};

/** Bodies of the binary primitives. */
export const binaryBodies: { readonly [P in BinaryPrim]: Body } = {
  add: body(binaryOps.add),
  sub: body(binaryOps.sub),
  mul: body(binaryOps.mul),
  div: body(binaryOps.div),
  pow: body(binaryOps.pow),
};

/** Body of a comparison (1 where true, else 0). */
export const compareBody = (op: CompareOp): Body => body(compareOp(op));

/** Body of `where(c, a, b)`. */
export const whereBody: Body = body(whereOp);

/** Body of a gather (broadcast, permute, slice): the value itself. */
export const copyBody: Body = ([a]) => [`return ${a};`];

/** A kernel that writes the scalar argument `value` everywhere. */
export function fill(size: number): KernelSpec {
  const src = new Source();
  src.emit('return value;');
  return src.build(['value'], keyOf('fill', size), size);
}

// ---------------------------------------------------------------------------------------------
// pad

/** Constant padding; the pad value is the scalar argument `padValue` (it may be ±Infinity). */
export function pad(inShape: Shape, kind: ArgKind, widths: ReadonlyArray<readonly [number, number]>): KernelSpec {
  // merge axis d into d+1 when d+1 is unpadded: the input is contiguous across them
  const axes: { before: number; n: number; after: number; stride: number }[] = [];
  const inStrides = stridesOf(inShape);
  for (let d = 0; d < inShape.length; d++) {
    const [before, after] = widths[d]!;
    const n = inShape[d]!;
    if (n === 1 && before === 0 && after === 0) continue;
    const last = axes[axes.length - 1];
    if (last && before === 0 && after === 0 && last.stride === n * inStrides[d]!) {
      last.before *= n;
      last.n *= n;
      last.after *= n;
      last.stride = inStrides[d]!;
    } else axes.push({ before, n, after, stride: inStrides[d]! });
  }
  const outExtents = axes.map((a) => a.before + a.n + a.after);
  const size = outExtents.reduce((a, b) => a * b, 1);
  const src = new Source();
  src.emit('const o = this.thread.x;');
  const idx = axes.length <= 1 ? axes.map(() => 'o') : src.decompose('o', outExtents);
  const terms: string[] = [];
  axes.forEach((a, d) => {
    let j = idx[d]!;
    if (a.before > 0 || a.after > 0) {
      j = src.v('j');
      src.emit(`const ${j} = ${idx[d]} - ${src.c(`b${d}`, a.before)};`);
      src.emit(`if (${j} < 0 || ${j} >= ${src.c(`n${d}`, a.n)}) { return padValue; }`);
    }
    terms.push(a.stride === 1 ? j : `${j} * ${src.c(`s${d}`, a.stride)}`);
  });
  src.emit(`return ${read([kind], 0, terms.length ? terms.join(' + ') : '0')};`);
  return src.build([argName(0), 'padValue'], keyOf('pad', axes, kind), size);
}

// ---------------------------------------------------------------------------------------------
// concat

/** Joins inputs along `axis` (each input non-empty). */
export function concat(shapes: readonly Shape[], kinds: readonly ArgKind[], axis: number): KernelSpec {
  const first = shapes[0]!;
  const outer = first.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = first.slice(axis + 1).reduce((a, b) => a * b, 1);
  const parts = shapes.map((s) => s[axis]!);
  const total = parts.reduce((a, b) => a + b, 0);
  const src = new Source();
  src.emit('const o = this.thread.x;');
  const ext = [outer, total, inner];
  const keep = ext.map((e) => e !== 1);
  const live = ext.filter((_, i) => keep[i]);
  const got = live.length <= 1 ? live.map(() => 'o') : src.decompose('o', live);
  const idx: string[] = [];
  let g = 0;
  for (let i = 0; i < 3; i++) idx.push(keep[i] ? got[g++]! : '0');
  const [p, a, q] = idx as [string, string, string];
  let startAt = 0;
  parts.forEach((n, k) => {
    const local = startAt === 0 ? a : `(${a} - ${src.c(`a${k}`, startAt)})`;
    // offset in input k viewed as [outer, n, inner]
    const terms: string[] = [];
    if (p !== '0') terms.push(`${p} * ${src.c(`p${k}`, n * inner)}`);
    if (a !== '0') terms.push(inner === 1 ? local : `${local} * ${src.c(`q${k}`, inner)}`);
    if (q !== '0') terms.push(q);
    const value = read(kinds, k, terms.length ? terms.join(' + ') : '0');
    startAt += n;
    if (k === parts.length - 1) src.emit(`return ${value};`);
    else src.emit(`if (${a} < ${src.c(`e${k}`, startAt)}) { return ${value}; }`);
  });
  return src.build(shapes.map((_, k) => argName(k)), keyOf('concat', [outer, inner], parts, kinds), outer * total * inner);
}

// ---------------------------------------------------------------------------------------------
// Reductions

/** Kept and reduced axes of a reduction after merging neighbours of the same class. */
export function reductionAxes(shape: Shape, axes: readonly number[]): { kept: { n: number; stride: number }[]; reduced: { n: number; stride: number }[] } {
  const strides = stridesOf(shape);
  const groups: { reduced: boolean; n: number; stride: number }[] = [];
  shape.forEach((n, d) => {
    if (n === 1) return;
    const reduced = axes.includes(d);
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced) {
      last.n *= n;
      last.stride = strides[d]!;
    } else groups.push({ reduced, n, stride: strides[d]! });
  });
  return {
    kept: groups.filter((g) => !g.reduced).map(({ n, stride }) => ({ n, stride })),
    reduced: groups.filter((g) => g.reduced).map(({ n, stride }) => ({ n, stride })),
  };
}

export type ReduceOp = 'sum' | 'max';

/**
 * A direct reduction: each output element loops over the reduced axes (nested loops with
 * constant bounds). `kept`/`reduced` come from `reductionAxes`.
 */
export function reduce(op: ReduceOp, kept: readonly { n: number; stride: number }[], reduced: readonly { n: number; stride: number }[]): KernelSpec {
  const size = kept.reduce((a, k) => a * k.n, 1);
  const src = new Source();
  src.emit('const o = this.thread.x;');
  const idx = kept.length <= 1 ? kept.map(() => 'o') : src.decompose('o', kept.map((k) => k.n));
  const base = src.offset(idx, kept.map((k) => k.stride), 0, 'k');
  src.emit(`const base = ${base};`);
  src.emit(op === 'sum' ? 'let acc = 0;' : 'let acc = x0[base];');
  const loopVars = reduced.map((_, r) => `l${r}`);
  reduced.forEach((r, i) => src.emit(`${'  '.repeat(i)}for (let l${i} = 0; l${i} < ${src.c(`n${i}`, r.n)}; l${i}++) {`));
  const off = ['base', ...reduced.map((r, i) => (r.stride === 1 ? loopVars[i]! : `${loopVars[i]} * ${src.c(`s${i}`, r.stride)}`))].join(' + ');
  const pad = '  '.repeat(reduced.length);
  src.emit(`${pad}const v = x0[${off}];`);
  // NOTE: `v != v` is NaN: max propagates NaN like the reference.
  src.emit(op === 'sum' ? `${pad}acc += v;` : `${pad}if (v > acc || v != v) { acc = v; }`);
  for (let i = reduced.length - 1; i >= 0; i--) src.emit(`${'  '.repeat(i)}}`);
  src.emit('return acc;');
  return src.build([argName(0)], keyOf('reduce', op, kept, reduced), size);
}

/**
 * First stage of a long reduction over the rows of x viewed as [rows, n]: partial results
 * [rows, parts], each over `chunk` consecutive terms (the last one shorter).
 */
export function reduceChunks(op: ReduceOp, rows: number, n: number, chunk: number): KernelSpec {
  const parts = Math.ceil(n / chunk);
  const src = new Source();
  src.emit('const o = this.thread.x;');
  const [row, part] = rows === 1 ? ['0', 'o'] : src.decompose('o', [rows, parts]);
  const C = src.c('chunk', chunk);
  const N = src.c('n', n);
  src.emit(`const start = ${part} * ${C};`);
  src.emit(`const base = ${row === '0' ? '' : `${row} * ${N} + `}start;`);
  src.emit(op === 'sum' ? 'let acc = 0;' : 'let acc = x0[base];');
  src.emit(`for (let c = 0; c < ${C}; c++) {`);
  src.emit(`  if (start + c < ${N}) {`);
  src.emit('    const v = x0[base + c];');
  src.emit(op === 'sum' ? '    acc += v;' : '    if (v > acc || v != v) { acc = v; }');
  src.emit('  }');
  src.emit('}');
  src.emit('return acc;');
  return src.build([argName(0)], keyOf('reduceChunks', op, rows, n, chunk), rows * parts);
}

/** Index of the first maximum along one axis, for x viewed as [outer, n, inner]. */
export function argmax(outer: number, n: number, inner: number): KernelSpec {
  const src = new Source();
  src.emit('const o = this.thread.x;');
  let p = '0';
  let q = '0';
  if (outer > 1 && inner > 1) [p, q] = src.decompose('o', [outer, inner]);
  else if (outer > 1) p = 'o';
  else if (inner > 1) q = 'o';
  const I = src.c('inner', inner);
  const base = [p === '0' ? '' : `${p} * ${src.c('stride', n * inner)}`, q === '0' ? '' : q].filter((s) => s).join(' + ') || '0';
  src.emit(`const base = ${base};`);
  src.emit('let best = x0[base];');
  src.emit('let at = 0;');
  src.emit(`for (let k = 1; k < ${src.c('n', n)}; k++) {`);
  src.emit(`  const v = x0[base + k * ${I}];`);
  // NOTE: the first NaN counts as the maximum (as the reference); a NaN best stops the search.
  src.emit('  if (best == best) {');
  src.emit('    if (v > best || v != v) { best = v; at = k; }');
  src.emit('  }');
  src.emit('}');
  src.emit('return at;');
  return src.build([argName(0)], keyOf('argmax', outer, n, inner), outer * inner);
}

// ---------------------------------------------------------------------------------------------
// matmul

/** [B, M, K] × [B, K, N] → [B, M, N], operands optionally stored transposed. */
export function matmul(batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, kinds: readonly ArgKind[]): KernelSpec {
  const src = new Source();
  src.emit('const o = this.thread.x;');
  const ext = [batch, m, n];
  const live = ext.map((e) => e !== 1);
  const got = ext.filter((e) => e !== 1);
  const dec = got.length <= 1 ? got.map(() => 'o') : src.decompose('o', got);
  let g = 0;
  const [bi, mi, ni] = live.map((l) => (l ? dec[g++]! : '0')) as [string, string, string];
  const term = (i: string, s: number, name: string): string => (i === '0' ? '' : s === 1 ? i : `${i} * ${src.c(name, s)}`);
  const join = (...t: string[]): string => t.filter((x) => x).join(' + ') || '0';
  const aBase = join(term(bi, m * k, 'ab'), term(mi, transA ? 1 : k, 'am'));
  const bBase = join(term(bi, k * n, 'bb'), term(ni, transB ? k : 1, 'bn'));
  const aStep = transA ? m : 1;
  const bStep = transB ? 1 : n;
  src.emit(`const ab = ${aBase};`);
  src.emit(`const bb = ${bBase};`);
  src.emit('let acc = 0;');
  src.emit(`for (let p = 0; p < ${src.c('k', k)}; p++) {`);
  const aOff = aStep === 1 ? 'ab + p' : `ab + p * ${src.c('as', aStep)}`;
  const bOff = bStep === 1 ? 'bb + p' : `bb + p * ${src.c('bs', bStep)}`;
  src.emit(`  acc += ${read(kinds, 0, aOff)} * ${read(kinds, 1, bOff)};`);
  src.emit('}');
  src.emit('return acc;');
  return src.build([argName(0), argName(1)], keyOf('matmul', batch, m, n, k, transA, transB, kinds), batch * m * n);
}

// ---------------------------------------------------------------------------------------------
// The convolution family (direct kernels: each output element loops over its window)

/** Geometry of a convolution: x [N, C, H, W], w [O, C/g, kh, kw], y [N, O, H', W']. */
export interface ConvGeometry {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number;
  readonly o: number; readonly cg: number; readonly kh: number; readonly kw: number;
  readonly ho: number; readonly wo: number; readonly og: number;
}

export function convGeometry(x: Shape, w: Shape, y: Shape, p: ConvParams): ConvGeometry {
  const [n, c, h, wd] = x as [number, number, number, number];
  const [o, cg, kh, kw] = w as [number, number, number, number];
  return { n, c, h, w: wd, o, cg, kh, kw, ho: y[2]!, wo: y[3]!, og: o / p.groups };
}

/** Decomposes the output index over four extents, skipping extents of 1. */
function decompose4(src: Source, ext: readonly [number, number, number, number]): [string, string, string, string] {
  const got = ext.filter((e) => e !== 1);
  const dec = got.length <= 1 ? got.map(() => 'o') : src.decompose('o', got);
  let g = 0;
  return ext.map((e) => (e !== 1 ? dec[g++]! : '0')) as [string, string, string, string];
}

/** Group of channel `ch` when each group has `per` channels (0 without groups). */
function groupOf(src: Source, ch: string, per: number, groups: number): [string, string] {
  if (groups === 1) return ['0', ch];
  if (per === 1) return [ch, '0'];
  return src.divmod(ch, per);
}

const convKey = (p: ConvParams) => [p.stride, p.padding, p.dilation, p.groups];

/** y = conv2d(x, w). */
export function conv2d(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[]): KernelSpec {
  const src = new Source();
  src.emit('const o = this.thread.x;');
  const [n, oc, oh, ow] = decompose4(src, [g.n, g.o, g.ho, g.wo]);
  const [grp] = groupOf(src, oc, g.og, p.groups);
  const C = (name: string, v: number) => src.c(name, v);
  src.emit(`const xc = ${n} * ${C('c', g.c)} + ${grp} * ${C('cg', g.cg)};`);
  src.emit(`const wo = ${oc} * ${C('cgw', g.cg)};`);
  src.emit(`const ih0 = ${oh} * ${C('sh', p.stride[0])} - ${C('pt', p.padding[0])};`);
  src.emit(`const iw0 = ${ow} * ${C('sw', p.stride[1])} - ${C('pl', p.padding[2])};`);
  src.emit('let acc = 0;');
  src.emit(`for (let ci = 0; ci < ${C('ncg', g.cg)}; ci++) {`);
  src.emit(`  for (let i = 0; i < ${C('kh', g.kh)}; i++) {`);
  src.emit(`    const ih = ih0 + i * ${C('dh', p.dilation[0])};`);
  src.emit(`    if (ih >= 0 && ih < ${C('h', g.h)}) {`);
  src.emit(`      for (let j = 0; j < ${C('kw', g.kw)}; j++) {`);
  src.emit(`        const iw = iw0 + j * ${C('dw', p.dilation[1])};`);
  src.emit(`        if (iw >= 0 && iw < ${C('w', g.w)}) {`);
  const xOff = `((xc + ci) * ${C('h2', g.h)} + ih) * ${C('w2', g.w)} + iw`;
  const wOff = `((wo + ci) * ${C('kh2', g.kh)} + i) * ${C('kw2', g.kw)} + j`;
  src.emit(`          acc += ${read(kinds, 0, xOff)} * ${read(kinds, 1, wOff)};`);
  src.emit('        }');
  src.emit('      }');
  src.emit('    }');
  src.emit('  }');
  src.emit('}');
  src.emit('return acc;');
  return src.build([argName(0), argName(1)], keyOf('conv2d', g, convKey(p), kinds), g.n * g.o * g.ho * g.wo);
}

/**
 * Output pixels per thread of the blocked convolution kernels (`conv2dBlocked`,
 * `conv2dBackpropInputBlocked`), returned as gpu.js `Array(4)`.
 */
export const CONV_BLOCK = 4;

/** Widest kernel row the blocked kernels unroll (their taps and loads are unrolled). */
export const CONV_BLOCK_MAX_KW = 7;

const allArrays = (kinds: readonly ArgKind[]): boolean => kinds.every((k) => k === 'array');
const stride1 = (p: ConvParams): boolean => p.stride[0] === 1 && p.stride[1] === 1;

/** Whether `conv2dBlocked` handles the convolution: W' divisible by `CONV_BLOCK`, kw ≤ `CONV_BLOCK_MAX_KW`, array operands. */
export function canBlockConv2d(g: ConvGeometry, kinds: readonly ArgKind[]): boolean {
  return g.wo % CONV_BLOCK === 0 && g.kw <= CONV_BLOCK_MAX_KW && allArrays(kinds);
}

/** Whether `conv2dBackpropInputBlocked` handles it: stride 1, W divisible by `CONV_BLOCK`, kw ≤ `CONV_BLOCK_MAX_KW`, array operands. */
export function canBlockConv2dBackpropInput(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[]): boolean {
  return g.w % CONV_BLOCK === 0 && g.kw <= CONV_BLOCK_MAX_KW && stride1(p) && allArrays(kinds);
}

/** Whether `conv2dBackpropFilterBlocked` handles it: 2 ≤ kw ≤ 4, stride 1, column dilation 1, array operands. */
export function canBlockConv2dBackpropFilter(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[]): boolean {
  return g.kw >= 2 && g.kw <= 4 && stride1(p) && p.dilation[1] === 1 && allArrays(kinds);
}

/**
 * The inner part of a blocked convolution row: loads each input element the four outputs of the
 * row read once (`offsets`: the distinct element offsets from `base`, in range of [0, limit)),
 * then, tap by tap in the unblocked kernel's order, adds each in-range product to its output.
 * `terms[k][j]` is the offset output k reads at tap j; `weight(j)` is tap j's weight expression.
 */
function blockedRow(src: Source, input: string, row: string, base: string, limit: string, terms: readonly (readonly number[])[], weight: (j: number) => string): void {
  const offsets = [...new Set(terms.flat())].sort((a, b) => a - b);
  const name = (o: number): string => `v${o < 0 ? `m${-o}` : o}`;
  const at = (o: number): string => (o === 0 ? base : o > 0 ? `${base} + ${o}` : `${base} - ${-o}`);
  for (const o of offsets) {
    src.emit(`        const p${name(o)} = ${at(o)};`);
    src.emit(`        let ${name(o)} = 0;`);
    src.emit(`        if (p${name(o)} >= 0 && p${name(o)} < ${limit}) { ${name(o)} = ${input}[${row} + p${name(o)}]; }`);
  }
  const taps = terms[0]!.length;
  for (let j = 0; j < taps; j++) {
    src.emit(`        const w${j} = ${weight(j)};`);
    terms.forEach((t, k) => {
      const o = t[j]!;
      src.emit(`        if (p${name(o)} >= 0 && p${name(o)} < ${limit}) { a${k} += ${name(o)} * w${j}; }`);
    });
  }
}

/**
 * y = conv2d(x, w) with `CONV_BLOCK` consecutive output pixels of a row per thread: each weight is
 * loaded once for the four, and each input element of the row once (six loads instead of twelve
 * for a 3×3 kernel). Requires W' divisible by `CONV_BLOCK` and kw ≤ `CONV_BLOCK_MAX_KW`. Every output
 * sums the same terms in the same order as `conv2d`.
 */
export function conv2dBlocked(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[]): KernelSpec {
  const B = CONV_BLOCK;
  if (!canBlockConv2d(g, kinds)) {
    throw new Error(`conv2dBlocked needs W' divisible by ${B}, kw ≤ ${CONV_BLOCK_MAX_KW} and array operands`);
  }
  const src = new Source();
  const C = (name: string, v: number) => src.c(name, v);
  src.emit('const o = this.thread.x;');
  const [n, oc, oh, ob] = decompose4(src, [g.n, g.o, g.ho, g.wo / B]);
  const [grp] = groupOf(src, oc, g.og, p.groups);
  src.emit(`const xc = ${n} * ${C('c', g.c)} + ${grp} * ${C('cg', g.cg)};`);
  src.emit(`const wo = ${oc} * ${C('cgw', g.cg)};`);
  src.emit(`const ih0 = ${oh} * ${C('sh', p.stride[0])} - ${C('pt', p.padding[0])};`);
  src.emit(`const iw0 = ${ob} * ${C('bsw', B * p.stride[1])} - ${C('pl', p.padding[2])};`);
  for (let k = 0; k < B; k++) src.emit(`let a${k} = 0;`);
  src.emit(`for (let ci = 0; ci < ${C('ncg', g.cg)}; ci++) {`);
  src.emit(`  for (let i = 0; i < ${C('kh', g.kh)}; i++) {`);
  src.emit(`    const ih = ih0 + i * ${C('dh', p.dilation[0])};`);
  src.emit(`    if (ih >= 0 && ih < ${C('h', g.h)}) {`);
  src.emit(`      const xr = ((xc + ci) * ${C('h2', g.h)} + ih) * ${C('w2', g.w)};`);
  src.emit(`      const wr = ((wo + ci) * ${C('kh2', g.kh)} + i) * ${C('kw2', g.kw)};`);
  src.emit('      {');
  // output k at tap j reads input column iw0 + k·sw + j·dw
  const terms = Array.from({ length: B }, (_, k) => Array.from({ length: g.kw }, (_, j) => k * p.stride[1] + j * p.dilation[1]));
  blockedRow(src, 'x0', 'xr', 'iw0', C('w', g.w), terms, (j) => (j === 0 ? 'x1[wr]' : `x1[wr + ${j}]`));
  src.emit('      }');
  src.emit('    }');
  src.emit('  }');
  src.emit('}');
  src.emit(`return [${Array.from({ length: B }, (_, k) => `a${k}`).join(', ')}];`);
  const size = g.n * g.o * g.ho * g.wo;
  return src.build([argName(0), argName(1)], keyOf('conv2dBlocked', B, g, convKey(p), kinds), size, size / B);
}

/**
 * dx = conv2dBackpropInput(dy, w) for stride 1, with `CONV_BLOCK` consecutive input pixels of a
 * row per thread (each weight and each dy element of the row loaded once for the four). Requires
 * stride 1, W divisible by `CONV_BLOCK` and kw ≤ `CONV_BLOCK_MAX_KW`. Every output sums the same
 * terms in the same order as `conv2dBackpropInput`.
 */
export function conv2dBackpropInputBlocked(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[]): KernelSpec {
  const B = CONV_BLOCK;
  if (!canBlockConv2dBackpropInput(g, p, kinds)) {
    throw new Error(`conv2dBackpropInputBlocked needs stride 1, W divisible by ${B}, kw ≤ ${CONV_BLOCK_MAX_KW} and array operands`);
  }
  const src = new Source();
  const C = (name: string, v: number) => src.c(name, v);
  src.emit('const o = this.thread.x;');
  const [n, ch, ih, ib] = decompose4(src, [g.n, g.c, g.h, g.w / B]);
  const [grp, ci] = groupOf(src, ch, g.cg, p.groups);
  src.emit(`const dyn = ${n} * ${C('o', g.o)} + ${grp} * ${C('og', g.og)};`);
  src.emit(`const wg = ${grp} * ${C('og2', g.og)};`);
  src.emit(`const th0 = ${ih} + ${C('pt', p.padding[0])};`);
  src.emit(`const tw0 = ${ib} * ${C('b', B)} + ${C('pl', p.padding[2])};`);
  for (let k = 0; k < B; k++) src.emit(`let a${k} = 0;`);
  src.emit(`for (let ol = 0; ol < ${C('nog', g.og)}; ol++) {`);
  src.emit(`  for (let i = 0; i < ${C('kh', g.kh)}; i++) {`);
  src.emit(`    const th = th0 - i * ${C('dh', p.dilation[0])};`);
  src.emit(`    if (th >= 0 && th < ${C('hlim', g.ho)}) {`);
  src.emit(`      const dyr = ((dyn + ol) * ${C('ho', g.ho)} + th) * ${C('wo', g.wo)};`);
  src.emit(`      const wr = (((wg + ol) * ${C('cg', g.cg)} + ${ci}) * ${C('kh2', g.kh)} + i) * ${C('kw2', g.kw)};`);
  src.emit('      {');
  // input pixel k at tap j reads dy column tw0 + k − j·dw
  const terms = Array.from({ length: B }, (_, k) => Array.from({ length: g.kw }, (_, j) => k - j * p.dilation[1]));
  blockedRow(src, 'x0', 'dyr', 'tw0', C('wlim', g.wo), terms, (j) => (j === 0 ? 'x1[wr]' : `x1[wr + ${j}]`));
  src.emit('      }');
  src.emit('    }');
  src.emit('  }');
  src.emit('}');
  src.emit(`return [${Array.from({ length: B }, (_, k) => `a${k}`).join(', ')}];`);
  const size = g.n * g.c * g.h * g.w;
  return src.build([argName(0), argName(1)], keyOf('conv2dBackpropInputBlocked', B, g, convKey(p), kinds), size, size / B);
}

/**
 * dw = conv2dBackpropFilter(x, dy) (or its partial sums, as `conv2dBackpropFilter`) for stride 1
 * and dilation 1 with the kw taps of one filter row per thread (gpu.js `Array(kw)`, kw of 2 to 4):
 * each dy element is loaded once for the kw taps, and the x elements of the row slide through
 * registers (one load per output column instead of kw). Every output sums the same terms in the
 * same order as `conv2dBackpropFilter`.
 */
export function conv2dBackpropFilterBlocked(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[], rowsPerPart: number): KernelSpec {
  const K = g.kw;
  if (!canBlockConv2dBackpropFilter(g, p, kinds)) {
    throw new Error('conv2dBackpropFilterBlocked needs 2 ≤ kw ≤ 4, stride 1, column dilation 1 and array operands');
  }
  const src = new Source();
  const C = (name: string, v: number) => src.c(name, v);
  const rows = g.n * g.ho;
  const parts = Math.ceil(rows / rowsPerPart);
  const filterRows = g.o * g.cg * g.kh;
  src.emit('const o = this.thread.x;');
  let part = '0';
  let f = 'o';
  if (parts > 1) [part, f] = src.divmod('o', filterRows);
  const [oc, ci, i] = (() => {
    const ext = [g.o, g.cg, g.kh] as const;
    const got = ext.filter((e) => e !== 1);
    const dec = got.length <= 1 ? got.map(() => f) : src.decompose(f, got);
    let k = 0;
    return ext.map((e) => (e !== 1 ? dec[k++]! : '0')) as [string, string, string];
  })();
  const [grp] = groupOf(src, oc, g.og, p.groups);
  src.emit(`const xc = ${grp} * ${C('cg', g.cg)} + ${ci};`);
  src.emit(`const dh = ${i} * ${C('dh', p.dilation[0])} - ${C('pt', p.padding[0])};`);
  src.emit(`const r0 = ${part === '0' ? '0' : `${part} * ${C('rpp', rowsPerPart)}`};`);
  for (let j = 0; j < K; j++) src.emit(`let a${j} = 0;`);
  src.emit(`for (let rr = 0; rr < ${C('nrows', Math.min(rowsPerPart, rows))}; rr++) {`);
  src.emit('  const r = r0 + rr;');
  src.emit(`  if (r < ${C('rows', rows)}) {`);
  const [nn, oh] = g.ho === 1 ? ['r', '0'] : src.divmod('r', g.ho);
  src.emit(`    const ih = ${oh} + dh;`);
  src.emit(`    if (ih >= 0 && ih < ${C('h', g.h)}) {`);
  src.emit(`      const dyr = ((${nn} * ${C('o', g.o)} + ${oc}) * ${C('ho', g.ho)} + ${oh}) * ${C('wo', g.wo)};`);
  src.emit(`      const xr = ((${nn} * ${C('c', g.c)} + xc) * ${C('h2', g.h)} + ih) * ${C('w', g.w)};`);
  // the window: s_j holds x at column ow + j − pl (0 outside the row), for j < K
  const W = C('w2', g.w);
  const pl = C('pl', p.padding[2]);
  for (let j = 0; j < K - 1; j++) {
    src.emit(`      const q${j} = ${j} - ${pl};`);
    src.emit(`      let s${j} = 0;`);
    src.emit(`      if (q${j} >= 0 && q${j} < ${W}) { s${j} = x0[xr + q${j}]; }`);
  }
  src.emit(`      for (let ow = 0; ow < ${C('nwo', g.wo)}; ow++) {`);
  src.emit(`        const q = ow + ${K - 1} - ${pl};`);
  src.emit(`        let s${K - 1} = 0;`);
  src.emit(`        if (q >= 0 && q < ${W}) { s${K - 1} = x0[xr + q]; }`);
  src.emit('        const d = x1[dyr + ow];');
  for (let j = 0; j < K; j++) {
    src.emit(`        const iw${j} = ow + ${j} - ${pl};`);
    src.emit(`        if (iw${j} >= 0 && iw${j} < ${W}) { a${j} += d * s${j}; }`);
  }
  for (let j = 0; j < K - 1; j++) src.emit(`        s${j} = s${j + 1};`);
  src.emit('      }');
  src.emit('    }');
  src.emit('  }');
  src.emit('}');
  src.emit(`return [${Array.from({ length: K }, (_, j) => `a${j}`).join(', ')}];`);
  const size = parts * filterRows * K;
  return src.build([argName(0), argName(1)], keyOf('conv2dBackpropFilterBlocked', g, convKey(p), kinds, rowsPerPart), size, size / K);
}

/**
 * Emits `oh = (t) / s` when exact and in [0, limit): returns the condition and the variable.
 * With stride 1 no division is needed.
 */
function exactQuotient(src: Source, t: string, stride: number, limit: number, name: string): [string, string] {
  const L = src.c(`${name}lim`, limit);
  if (stride === 1) return [`${t} >= 0 && ${t} < ${L}`, t];
  const [q, r] = src.divmod(t, stride);
  return [`${r} == 0 && ${q} >= 0 && ${q} < ${L}`, q];
}

/** dx = conv2dBackpropInput(dy, w): every input pixel gathers the outputs its window touched. */
export function conv2dBackpropInput(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[]): KernelSpec {
  const src = new Source();
  const C = (name: string, v: number) => src.c(name, v);
  src.emit('const o = this.thread.x;');
  const [n, ch, ih, iw] = decompose4(src, [g.n, g.c, g.h, g.w]);
  const [grp, ci] = groupOf(src, ch, g.cg, p.groups);
  src.emit(`const dyn = ${n} * ${C('o', g.o)} + ${grp} * ${C('og', g.og)};`);
  src.emit(`const wg = ${grp} * ${C('og2', g.og)};`);
  src.emit(`const th0 = ${ih} + ${C('pt', p.padding[0])};`);
  src.emit(`const tw0 = ${iw} + ${C('pl', p.padding[2])};`);
  src.emit('let acc = 0;');
  src.emit(`for (let ol = 0; ol < ${C('nog', g.og)}; ol++) {`);
  src.emit(`  for (let i = 0; i < ${C('kh', g.kh)}; i++) {`);
  src.emit(`    const th = th0 - i * ${C('dh', p.dilation[0])};`);
  const [condH, oh] = exactQuotient(src, 'th', p.stride[0], g.ho, 'h');
  src.emit(`    if (${condH}) {`);
  src.emit(`      for (let j = 0; j < ${C('kw', g.kw)}; j++) {`);
  src.emit(`        const tw = tw0 - j * ${C('dw', p.dilation[1])};`);
  const [condW, ow] = exactQuotient(src, 'tw', p.stride[1], g.wo, 'w');
  src.emit(`        if (${condW}) {`);
  const dyOff = `((dyn + ol) * ${C('ho', g.ho)} + ${oh}) * ${C('wo', g.wo)} + ${ow}`;
  const wOff = `(((wg + ol) * ${C('cg', g.cg)} + ${ci}) * ${C('kh2', g.kh)} + i) * ${C('kw2', g.kw)} + j`;
  src.emit(`          acc += ${read(kinds, 0, dyOff)} * ${read(kinds, 1, wOff)};`);
  src.emit('        }');
  src.emit('      }');
  src.emit('    }');
  src.emit('  }');
  src.emit('}');
  src.emit('return acc;');
  return src.build([argName(0), argName(1)], keyOf('conv2dBackpropInput', g, convKey(p), kinds), g.n * g.c * g.h * g.w);
}

/**
 * dw = conv2dBackpropFilter(x, dy), or, with `parts` > 1, partial sums [parts, O·C/g·kh·kw]
 * over consecutive chunks of the N·H' output rows (summed afterwards).
 */
export function conv2dBackpropFilter(g: ConvGeometry, p: ConvParams, kinds: readonly ArgKind[], rowsPerPart: number): KernelSpec {
  const src = new Source();
  const C = (name: string, v: number) => src.c(name, v);
  const rows = g.n * g.ho;
  const parts = Math.ceil(rows / rowsPerPart);
  const filter = g.o * g.cg * g.kh * g.kw;
  src.emit('const o = this.thread.x;');
  let part = '0';
  let f = 'o';
  if (parts > 1) [part, f] = src.divmod('o', filter);
  const [oc, ci, i, j] = (() => {
    const ext = [g.o, g.cg, g.kh, g.kw] as const;
    const got = ext.filter((e) => e !== 1);
    const dec = got.length <= 1 ? got.map(() => f) : src.decompose(f, got);
    let k = 0;
    return ext.map((e) => (e !== 1 ? dec[k++]! : '0')) as [string, string, string, string];
  })();
  const [grp] = groupOf(src, oc, g.og, p.groups);
  src.emit(`const xc = ${grp} * ${C('cg', g.cg)} + ${ci};`);
  src.emit(`const dh = ${i} * ${C('dh', p.dilation[0])} - ${C('pt', p.padding[0])};`);
  src.emit(`const dw = ${j} * ${C('dw', p.dilation[1])} - ${C('pl', p.padding[2])};`);
  src.emit(`const r0 = ${part === '0' ? '0' : `${part} * ${C('rpp', rowsPerPart)}`};`);
  src.emit('let acc = 0;');
  src.emit(`for (let rr = 0; rr < ${C('nrows', Math.min(rowsPerPart, rows))}; rr++) {`);
  src.emit('  const r = r0 + rr;');
  src.emit(`  if (r < ${C('rows', rows)}) {`);
  const [nn, oh] = g.ho === 1 ? ['r', '0'] : src.divmod('r', g.ho);
  src.emit(`    const ih = ${oh} * ${C('sh', p.stride[0])} + dh;`);
  src.emit(`    if (ih >= 0 && ih < ${C('h', g.h)}) {`);
  src.emit(`      const dyr = ((${nn} * ${C('o', g.o)} + ${oc}) * ${C('ho', g.ho)} + ${oh}) * ${C('wo', g.wo)};`);
  src.emit(`      const xr = ((${nn} * ${C('c', g.c)} + xc) * ${C('h2', g.h)} + ih) * ${C('w', g.w)};`);
  src.emit(`      for (let ow = 0; ow < ${C('nwo', g.wo)}; ow++) {`);
  src.emit(`        const iw = ow * ${C('sw', p.stride[1])} + dw;`);
  src.emit(`        if (iw >= 0 && iw < ${C('w2', g.w)}) {`);
  src.emit(`          acc += ${read(kinds, 1, 'dyr + ow')} * ${read(kinds, 0, 'xr + iw')};`);
  src.emit('        }');
  src.emit('      }');
  src.emit('    }');
  src.emit('  }');
  src.emit('}');
  src.emit('return acc;');
  return src.build([argName(0), argName(1)], keyOf('conv2dBackpropFilter', g, convKey(p), kinds, rowsPerPart), parts * filter);
}
