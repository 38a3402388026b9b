/**
 * The conformance cases: every primitive and composite op, each with an arbitrary of shapes and
 * parameters, the kinds of values its inputs take, and the primitives it exercises. The suite
 * (`suite.ts`) runs each case on a backend and on `cpu64` and compares values and gradients.
 */
import fc from 'fast-check';
import * as core from '../../core/index.js';
import type { PrimName } from '../../core/primitives.js';
import type { Tensor } from '../../core/tensor.js';
import type { ValueKind } from './values.js';

/** Shapes (one per input) and the op's parameters. */
export interface Draw<P> {
  readonly shapes: number[][];
  readonly params: P;
}

/** One conformance case. */
export interface Case<P = unknown> {
  readonly name: string;
  /** Primitives its forward pass exercises. */
  readonly prims: readonly PrimName[];
  /** Value kind of each input. */
  readonly kinds: readonly ValueKind[];
  /** Which inputs get gradients compared (default: all but binary/smallInt inputs). */
  readonly diff?: readonly boolean[];
  /** False for non-differentiable ops (values only). */
  readonly grad?: boolean;
  readonly arb: fc.Arbitrary<Draw<P>>;
  readonly run: (xs: Tensor[], params: P) => Tensor;
}

const mk = <P>(c: Case<P>): Case<unknown> => c as Case<unknown>;

const shapeArb = (minRank: number, maxRank: number, maxExt = 4) => fc.array(fc.integer({ min: 1, max: maxExt }), { minLength: minRank, maxLength: maxRank });

/** A shape and a second shape that broadcasts against it (some extents 1, leading axes dropped). */
const broadcastPair = fc
  .tuple(shapeArb(0, 4), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 2 }), fc.boolean())
  .map(([s, ones, drop, swap]) => {
    const t = s.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, s.length));
    return swap ? [t, s] : [s, t];
  });

const unaryShapes = shapeArb(0, 4).map((s) => ({ shapes: [s], params: {} }));
const binaryShapes = broadcastPair.map((shapes) => ({ shapes, params: {} }));

/** A shape with a list of distinct axes over it. */
const shapeWithAxes = shapeArb(1, 4).chain((s) =>
  fc.subarray(s.map((_, i) => i), { minLength: 1 }).map((axes) => ({ shapes: [s], params: { axes } })),
);

/** A valid conv2d geometry. */
interface ConvDraw {
  readonly x: [number, number, number, number];
  readonly w: [number, number, number, number];
  readonly options: core.Conv2dOptions;
}
const convArb: fc.Arbitrary<ConvDraw> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 3, max: 8 }),
    w: fc.integer({ min: 3, max: 8 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 2 }),
    sw: fc.integer({ min: 1, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    pad: fc.oneof(
      fc.constant<'same'>('same'),
      fc.constant<'valid'>('valid'),
      fc.integer({ min: 0, max: 2 }),
      fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    ),
  })
  .filter((r) => {
    const p = r.pad;
    const [pt, pb, pl, pr] = p === 'same' ? [r.kh, r.kh, r.kw, r.kw] : p === 'valid' ? [0, 0, 0, 0] : typeof p === 'number' ? [p, p, p, p] : p;
    return r.h + pt + pb >= r.dh * (r.kh - 1) + 1 && r.w + pl + pr >= r.dw * (r.kw - 1) + 1;
  })
  .map((r) => ({
    x: [r.n, r.cg * r.groups, r.h, r.w],
    w: [r.og * r.groups, r.cg, r.kh, r.kw],
    options: { stride: [r.sh, r.sw], dilation: [r.dh, r.dw], groups: r.groups, padding: r.pad },
  }));

/** conv2d output shape for a draw (through the core's own shape rule on a scratch call). */
function convOut(d: ConvDraw): number[] {
  const p = core.convParams('conv2d', d.options, d.x[2], d.x[3], d.w[2], d.w[3]);
  return core.conv2dShape('conv2d', d.x, d.w, p);
}

interface TransposeDraw {
  readonly x: number[];
  readonly w: number[];
  readonly options: core.Conv2dTransposeOptions;
}
const transposeArb: fc.Arbitrary<TransposeDraw> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    cin: fc.integer({ min: 1, max: 2 }),
    coutg: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 5 }),
    w: fc.integer({ min: 1, max: 5 }),
    k: fc.integer({ min: 1, max: 3 }),
    s: fc.integer({ min: 1, max: 3 }),
    p: fc.integer({ min: 0, max: 1 }),
    d: fc.integer({ min: 1, max: 2 }),
    op: fc.integer({ min: 0, max: 2 }),
  })
  .filter((r) => r.op < r.s && (r.h - 1) * r.s - 2 * r.p + r.d * (r.k - 1) + r.op + 1 >= 1 && (r.w - 1) * r.s - 2 * r.p + r.d * (r.k - 1) + r.op + 1 >= 1)
  .map((r) => ({
    x: [r.n, r.cin * r.groups, r.h, r.w],
    w: [r.cin * r.groups, r.coutg, r.k, r.k],
    options: { stride: r.s, padding: r.p, dilation: r.d, outputPadding: r.op, groups: r.groups },
  }));

const poolArb = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 2, max: 7 }),
    w: fc.integer({ min: 2, max: 7 }),
    size: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.integer({ min: 0, max: 1 }),
  })
  .filter((r) => 2 * r.padding <= r.size && r.h + 2 * r.padding >= r.size && r.w + 2 * r.padding >= r.size)
  .map((r) => ({ shapes: [[r.n, r.c, r.h, r.w]], params: { size: r.size, stride: r.stride, padding: r.padding } as core.PoolOptions }));

const unary = (name: string, prims: PrimName[], kind: ValueKind, f: (x: Tensor) => Tensor) =>
  mk({ name, prims, kinds: [kind], arb: unaryShapes, run: ([x]) => f(x!) });

const binary = (name: string, prims: PrimName[], kinds: [ValueKind, ValueKind], f: (a: Tensor, b: Tensor) => Tensor, grad = true) =>
  mk({ name, prims, kinds, grad, arb: binaryShapes, run: ([a, b]) => f(a!, b!) });

/** Every case. */
export const cases: readonly Case[] = [
  unary('neg', ['neg'], 'any', core.neg),
  unary('exp', ['exp'], 'any', core.exp),
  unary('log', ['log'], 'positive', core.log),
  unary('sqrt', ['sqrt'], 'positive', core.sqrt),
  unary('abs', ['abs'], 'awayFromZero', core.abs),
  unary('sign', ['sign'], 'awayFromZero', core.sign),
  unary('square', ['mul'], 'any', core.square),
  unary('relu', ['compare', 'where'], 'awayFromZero', core.relu),
  unary('leakyRelu', ['compare', 'where', 'mul'], 'awayFromZero', (x) => core.leakyRelu(x, 0.1)),
  unary('sigmoid', ['exp', 'div'], 'any', core.sigmoid),
  unary('tanh', ['exp', 'div'], 'any', core.tanh),
  mk({ name: 'clamp', prims: ['compare', 'where'], kinds: ['awayFromZero'], arb: unaryShapes, run: ([x]) => core.clamp(x!, -1.05, 0.95) }),
  binary('add', ['add'], ['any', 'any'], core.add),
  binary('sub', ['sub'], ['any', 'any'], core.sub),
  binary('mul', ['mul'], ['any', 'any'], core.mul),
  binary('div', ['div'], ['any', 'positive'], core.div),
  binary('pow', ['pow'], ['positive', 'any'], core.pow),
  binary('maximum', ['compare', 'where'], ['distinct', 'distinct'], core.maximum),
  binary('minimum', ['compare', 'where'], ['distinct', 'distinct'], core.minimum),
  ...(['less', 'lessEqual', 'greater', 'greaterEqual', 'equal', 'notEqual'] as const).map((op) => binary(op, ['compare'], ['smallInt', 'smallInt'], core[op], false)),
  mk({
    name: 'where',
    prims: ['where'],
    kinds: ['binary', 'any', 'any'],
    arb: fc.tuple(broadcastPair, fc.boolean()).map(([[a, b], flip]) => ({ shapes: flip ? [a!, b!, a!] : [b!, a!, b!], params: {} })),
    run: ([c, a, b]) => core.where(c!, a!, b!),
  }),
  mk({ name: 'sum', prims: ['sum', 'reshape'], kinds: ['any'], arb: shapeWithAxes, run: ([x], p) => core.sum(x!, p.axes) }),
  mk({ name: 'sum (keepDims, all axes)', prims: ['sum'], kinds: ['any'], arb: unaryShapes, run: ([x]) => core.sum(x!, undefined, true) }),
  mk({ name: 'mean', prims: ['sum', 'div'], kinds: ['any'], arb: shapeWithAxes, run: ([x], p) => core.mean(x!, p.axes, true) }),
  mk({ name: 'max', prims: ['max'], kinds: ['distinct'], arb: shapeWithAxes, run: ([x], p) => core.max(x!, p.axes) }),
  mk({ name: 'max (ties)', prims: ['max'], kinds: ['smallInt'], diff: [true], arb: shapeWithAxes, run: ([x], p) => core.max(x!, p.axes) }),
  mk({ name: 'min', prims: ['max', 'neg'], kinds: ['distinct'], arb: shapeWithAxes, run: ([x], p) => core.min(x!, p.axes) }),
  mk({
    name: 'argmax',
    prims: ['argmax'],
    kinds: ['distinct'],
    grad: false,
    arb: shapeArb(1, 4).chain((s) => fc.integer({ min: 0, max: s.length - 1 }).map((axis) => ({ shapes: [s], params: { axis } }))),
    run: ([x], p) => core.argmax(x!, p.axis),
  }),
  mk({
    name: 'logSumExp',
    prims: ['max', 'exp', 'sum', 'log'],
    kinds: ['any'],
    arb: shapeWithAxes,
    run: ([x], p) => core.logSumExp(x!, p.axes),
  }),
  ...(['softmax', 'logSoftmax'] as const).map((name) =>
    mk({
      name,
      prims: ['max', 'exp', 'sum'],
      kinds: ['any'],
      arb: shapeArb(1, 4).chain((s) => fc.integer({ min: -s.length, max: s.length - 1 }).map((axis) => ({ shapes: [s], params: { axis } }))),
      run: ([x], p: { axis: number }) => core[name](x!, p.axis),
    }),
  ),
  mk({
    name: 'reshape',
    prims: ['reshape'],
    kinds: ['any'],
    arb: shapeArb(0, 4).map((s) => ({ shapes: [s], params: { to: [...s].reverse().concat([1]) } })),
    run: ([x], p) => core.reshape(x!, p.to),
  }),
  mk({
    name: 'broadcastTo',
    prims: ['broadcast', 'reshape'],
    kinds: ['any'],
    arb: broadcastPair.map(([a, b]) => {
      const to = a!.length >= b!.length ? a! : b!;
      const from = a!.length >= b!.length ? b! : a!;
      const full = to.map((d, i) => Math.max(d, from[from.length - to.length + i] ?? 1));
      return { shapes: [from], params: { to: full } };
    }),
    run: ([x], p) => core.broadcastTo(x!, p.to),
  }),
  mk({
    name: 'transpose',
    prims: ['permute'],
    kinds: ['any'],
    arb: shapeArb(1, 5).chain((s) => fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }).map((perm) => ({ shapes: [s], params: { perm } }))),
    run: ([x], p) => core.transpose(x!, p.perm),
  }),
  mk({
    name: 'pad',
    prims: ['pad'],
    kinds: ['any'],
    arb: shapeArb(1, 4).chain((s) =>
      fc.tuple(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: s.length, maxLength: s.length }), fc.constantFrom(0, -1.5))
        .map(([widths, value]) => ({ shapes: [s], params: { widths, value } })),
    ),
    run: ([x], p) => core.pad(x!, p.widths, p.value),
  }),
  mk({
    name: 'slice',
    prims: ['slice'],
    kinds: ['any'],
    arb: shapeArb(1, 4).chain((s) =>
      fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.integer({ min: 0, max: d - b }).map((n) => [b, n] as const)))).map((bs) => ({
        shapes: [s],
        params: { begin: bs.map((x) => x[0]), size: bs.map((x) => x[1]) },
      })),
    ),
    run: ([x], p) => core.slice(x!, p.begin, p.size),
  }),
  mk({
    name: 'concat',
    prims: ['concat'],
    kinds: ['any', 'any', 'any'],
    arb: shapeArb(1, 4).chain((s) =>
      fc.tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 })).map(([axis, ext]) => ({
        shapes: ext.map((e) => s.map((d, i) => (i === axis ? e : d))),
        params: { axis },
      })),
    ),
    run: (xs, p) => core.concat(xs, p.axis),
  }),
  mk({
    name: 'stack',
    prims: ['concat', 'reshape'],
    kinds: ['any', 'any'],
    arb: shapeArb(0, 3).chain((s) => fc.integer({ min: 0, max: s.length }).map((axis) => ({ shapes: [s, s], params: { axis } }))),
    run: (xs, p) => core.stack(xs, p.axis),
  }),
  mk({
    name: 'matmul',
    prims: ['matmul'],
    kinds: ['any', 'any'],
    arb: fc
      .record({
        m: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 6 }),
        ta: fc.boolean(), tb: fc.boolean(), batchA: shapeArb(0, 2, 3), dropB: fc.integer({ min: 0, max: 2 }), onesB: fc.boolean(),
      })
      .map((r) => {
        const batchB = r.batchA.slice(Math.min(r.dropB, r.batchA.length)).map((d) => (r.onesB ? 1 : d));
        return {
          shapes: [[...r.batchA, ...(r.ta ? [r.k, r.m] : [r.m, r.k])], [...batchB, ...(r.tb ? [r.n, r.k] : [r.k, r.n])]],
          params: { transA: r.ta, transB: r.tb },
        };
      }),
    run: ([a, b], p) => core.matmul(a!, b!, p),
  }),
  mk({
    name: 'conv2d',
    prims: ['conv2d'],
    kinds: ['any', 'any'],
    arb: convArb.map((d) => ({ shapes: [d.x, d.w], params: d })),
    run: ([x, w], d) => core.conv2d(x!, w!, d.options),
  }),
  mk({
    name: 'conv2dBackpropInput',
    prims: ['conv2dBackpropInput'],
    kinds: ['any', 'any'],
    arb: convArb.map((d) => ({ shapes: [convOut(d), d.w], params: d })),
    run: ([dy, w], d) => core.conv2dBackpropInput(dy!, w!, { ...d.options, inputShape: d.x }),
  }),
  mk({
    name: 'conv2dBackpropFilter',
    prims: ['conv2dBackpropFilter'],
    kinds: ['any', 'any'],
    arb: convArb.map((d) => ({ shapes: [d.x, convOut(d)], params: d })),
    run: ([x, dy], d) => core.conv2dBackpropFilter(x!, dy!, { ...d.options, filterShape: d.w }),
  }),
  mk({
    name: 'conv2dTranspose',
    prims: ['conv2dBackpropInput'],
    kinds: ['any', 'any'],
    arb: transposeArb.map((d) => ({ shapes: [d.x, d.w], params: d })),
    run: ([x, w], d) => core.conv2dTranspose(x!, w!, d.options),
  }),
  mk({ name: 'maxPool2d', prims: ['max', 'pad', 'slice', 'concat'], kinds: ['distinct'], arb: poolArb, run: ([x], p) => core.maxPool2d(x!, p) }),
  mk({ name: 'avgPool2d', prims: ['sum', 'pad', 'slice', 'concat'], kinds: ['any'], arb: poolArb, run: ([x], p) => core.avgPool2d(x!, p) }),
  mk({
    name: 'upsampleNearest',
    prims: ['broadcast', 'reshape'],
    kinds: ['any'],
    arb: fc.tuple(shapeArb(4, 4, 3), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([s, a, b]) => ({ shapes: [s], params: [a, b] as const })),
    run: ([x], f) => core.upsampleNearest(x!, f),
  }),
  mk({
    name: 'oneHot',
    prims: ['compare'],
    kinds: ['smallInt'],
    grad: false,
    arb: shapeArb(1, 3).map((s) => ({ shapes: [s], params: { k: 4 } })),
    run: ([x], p) => core.oneHot(core.add(x!, 2), p.k),
  }),
  ...([true, false] as const).map((training) =>
    mk({
      name: `batchNorm (${training ? 'training' : 'eval'})`,
      prims: ['sum', 'sub', 'mul', 'sqrt', 'div', 'add'],
      kinds: ['any', 'positive', 'any', 'any', 'positive'],
      arb: fc.tuple(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 3 }), shapeArb(0, 2, 3)).map(([n, c, sp]) => ({
        shapes: [[n, c, ...sp], [c], [c], [c], [c]],
        params: {},
      })),
      run: ([x, gamma, beta, mean, variance]) => {
        const [y, st] = core.batchNorm(x!, { gamma: gamma!, beta: beta! }, { mean: mean!, variance: variance! }, { training });
        return core.add(core.sum(y), core.sum(core.add(st.mean, st.variance)));
      },
    }),
  ),
  mk({
    name: 'dropout',
    prims: ['compare', 'mul'],
    kinds: ['any'],
    arb: shapeArb(1, 3).map((s) => ({ shapes: [s], params: {} })),
    run: ([x]) => core.dropout(x!, 0.3, core.key(7)),
  }),
];
