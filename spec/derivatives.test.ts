/**
 * Derivative checks on `cpu64`: every primitive and every composite op against central differences
 * of a random direction (h = 1e-4, relative tolerance 1e-6), and grad-of-grad against central
 * differences of the gradient. Arbitraries keep inputs ≥ 1e-2 away from kinks (relu/abs/sign at 0,
 * clamp bounds, comparison and where thresholds), give max and pool windows well-separated distinct
 * values, and keep log/div/sqrt/pow inputs ≥ 0.1 (in magnitude for divisors).
 *
 * Property sizes are small (extents ≤ 4, convs on ≤ 2×3×7×7) so shrunk counterexamples are readable;
 * every fc.assert runs with the fixed seed of `fcParams`.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import * as T from '../core/index.js';
import { PRIM_NAMES, setBackend, type CompareOp, type PrimName, type Tensor } from '../core/index.js';
import {
  checkDerivative, checkSecondDerivative, fcBroadcastShapes, fcConvGeometry, fcConvTranspose, fcDistinctOf, fcHost, fcHostOf, fcParams,
  fcPermutation, fcSeed, fcShape, fcValue, sizeOf, type HostTensor, type ValueOptions,
} from './helpers/numeric.js';

/** Runs an async property with the fixed seed. */
function check<A>(numRuns: number, arb: fc.Arbitrary<A>, run: (a: A, seed: number) => Promise<unknown>): Promise<void> {
  return fc.assert(fc.asyncProperty(arb, fcSeed, async (a, seed) => { await run(a, seed); }), fcParams(numRuns));
}

const RUNS = 30;

/** Host values on a k/8 grid, or shifted by 1/16: two such tensors never tie (|a − b| ≥ 1/16). */
const fcGridOf = (shape: readonly number[], shifted: boolean): fc.Arbitrary<HostTensor> =>
  fc.array(fc.integer({ min: -12, max: 12 }).map((k) => k / 8 + (shifted ? 1 / 16 : 0)), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
    .map((data) => ({ shape: [...shape], data }));

/** Two (or three) host tensors of broadcast-compatible shapes. */
const fcBroadcastHosts = (options: readonly ValueOptions[]): fc.Arbitrary<HostTensor[]> =>
  fcBroadcastShapes(options.length).chain((shapes) => fc.tuple(...shapes.map((s, i) => fcHostOf(s, options[i]))));

/** A shape of rank ≥ 1 with a random subset of its axes (possibly empty) and keepDims. */
const fcAxes = (minRank = 1) =>
  fcShape({ minRank, maxRank: 4 }).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axes: fc.subarray(shape.map((_, i) => i)),
      keepDims: fc.boolean(),
    }));

/** The zero gradient of a non-differentiable primitive: exactly zero, and so is the central difference. */
async function checkZero(name: string, f: (xs: Tensor[]) => Tensor, inputs: readonly HostTensor[], seed: number): Promise<void> {
  const r = await checkDerivative(name, f, inputs, { seed });
  assert.equal(r.analytic, 0, `${name}: analytic derivative is zero`);
  assert.equal(r.numeric, 0, `${name}: central difference is zero`);
  for (const g of r.grads) assert.ok(g.every((v) => v === 0), `${name}: gradient is all zeros`);
}

const unary = (name: string, op: (x: Tensor) => Tensor, values: ValueOptions) => () =>
  check(RUNS, fcHost({ maxRank: 4 }, values), (x, seed) => checkDerivative(name, ([a]) => op(a!), [x], { seed }));

const binary = (name: string, op: (a: Tensor, b: Tensor) => Tensor, a: ValueOptions, b: ValueOptions) => () =>
  check(RUNS, fcBroadcastHosts([a, b]), (xs, seed) => checkDerivative(name, ([p, q]) => op(p!, q!), xs, { seed }));

const compareOps: Record<CompareOp, (a: Tensor, b: Tensor) => Tensor> = {
  lt: T.less, le: T.lessEqual, gt: T.greater, ge: T.greaterEqual, eq: T.equal, ne: T.notEqual,
};

const primitiveChecks: { readonly [P in PrimName]: () => Promise<void> } = {
  neg: unary('neg', T.neg, { min: -2, max: 2 }),
  exp: unary('exp', T.exp, { min: -2, max: 2 }),
  log: unary('log', T.log, { min: 0.1, max: 3 }),
  sqrt: unary('sqrt', T.sqrt, { min: 0.1, max: 3 }),
  abs: unary('abs', T.abs, { min: -2, max: 2, avoid: [0] }),
  sign: () => check(RUNS, fcHost({ maxRank: 4 }, { min: -2, max: 2, avoid: [0] }), (x, seed) => checkZero('sign', ([a]) => T.sign(a!), [x], seed)),
  add: binary('add', T.add, {}, {}),
  sub: binary('sub', T.sub, {}, {}),
  mul: binary('mul', T.mul, { min: -2, max: 2 }, { min: -2, max: 2 }),
  div: binary('div', T.div, { min: -2, max: 2 }, { min: -2, max: 2, avoid: [0], gap: 0.1 }),
  pow: binary('pow', T.pow, { min: 0.1, max: 2 }, { min: -1.5, max: 2 }),
  compare: () =>
    check(RUNS, fc.tuple(fcBroadcastShapes(2), fc.constantFrom<CompareOp>('lt', 'le', 'gt', 'ge', 'eq', 'ne')).chain(([[sa, sb], op]) =>
      fc.tuple(fcGridOf(sa!, false), fcGridOf(sb!, true), fc.constant(op))), async ([a, b, op], seed) => {
      await checkZero(`compare(${op})`, ([p, q]) => compareOps[op](p!, q!), [a, b], seed);
      // At ties too the derivative rule gives exact zeros (checked analytically only).
      const [ga] = T.grad((xs: Tensor[]) => T.sum(compareOps[op](xs[0]!, xs[0]!)))([T.tensor(a.data as number[], a.shape)]);
      assert.ok((await ga!.dataFloat64()).every((v) => v === 0));
    }),
  where: () =>
    check(RUNS, fcBroadcastShapes(3).chain(([sc, sa, sb]) =>
      fc.tuple(
        fc.array(fc.constantFrom(0, 1, -0.5, 2), { minLength: sizeOf(sc!), maxLength: sizeOf(sc!) }).map((data) => ({ shape: sc!, data })),
        fcHostOf(sa!), fcHostOf(sb!))), async (xs, seed) => {
      const r = await checkDerivative('where', ([c, a, b]) => T.where(c!, a!, b!), xs, { seed, wrt: [1, 2] });
      assert.ok(r.grads[0]!.every((v) => v === 0), 'where: the condition gets a zero gradient');
    }),
  sum: () =>
    check(RUNS, fcAxes(0).chain(({ shape, axes, keepDims }) => fc.tuple(fcHostOf(shape, { min: -2, max: 2 }), fc.constant(axes), fc.constant(keepDims))),
      ([x, axes, keepDims], seed) => checkDerivative('sum', ([a]) => T.sum(a!, axes, keepDims), [x], { seed })),
  max: () =>
    check(RUNS, fcAxes().chain(({ shape, axes, keepDims }) => fc.tuple(fcDistinctOf(shape), fc.constant(axes), fc.constant(keepDims))),
      ([x, axes, keepDims], seed) => checkDerivative('max', ([a]) => T.max(a!, axes, keepDims), [x], { seed })),
  argmax: () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 4 }).chain((shape) => fc.tuple(fcDistinctOf(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }))),
      ([x, axis], seed) => checkZero('argmax', ([a]) => T.argmax(a!, axis), [x], seed)),
  reshape: () =>
    check(RUNS, fcShape({ maxRank: 4 }).chain((shape) => fc.tuple(fcHostOf(shape), fcPermutation(shape.length), fc.boolean())),
      ([x, perm, infer], seed) => {
        const target = perm.map((a) => x.shape[a]!);
        if (infer && target.length > 0) target[0] = -1;
        return checkDerivative('reshape', ([a]) => T.reshape(a!, [1, ...target]), [x], { seed });
      }),
  broadcast: () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 4 }).chain((shape) =>
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }).chain((ones) =>
        fc.tuple(fcHostOf(shape.map((d, i) => (ones[i] ? 1 : d))), fc.constant(shape)))),
      ([x, shape], seed) => checkDerivative('broadcast', ([a]) => T.broadcastTo(a!, shape), [x], { seed })),
  permute: () =>
    check(RUNS, fcShape({ maxRank: 4 }).chain((shape) => fc.tuple(fcHostOf(shape), fcPermutation(shape.length))),
      ([x, perm], seed) => checkDerivative('permute', ([a]) => T.transpose(a!, perm), [x], { seed })),
  pad: () =>
    check(RUNS, fcShape({ maxRank: 4 }).chain((shape) =>
      fc.tuple(fcHostOf(shape), fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: shape.length, maxLength: shape.length }), fcValue())),
      ([x, widths, value], seed) => checkDerivative('pad', ([a]) => T.pad(a!, widths, value), [x], { seed })),
  slice: () =>
    check(RUNS, fcShape({ maxRank: 4 }).chain((shape) =>
      fc.tuple(fcHostOf(shape), fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 1, max: d - b }))))))),
      ([x, blocks], seed) => checkDerivative('slice', ([a]) => T.slice(a!, blocks.map((b) => b[0]), blocks.map((b) => b[1])), [x], { seed })),
  concat: () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 4 }).chain((shape) =>
      fc.tuple(fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 })).chain(([axis, extents]) =>
        fc.tuple(fc.constant(axis), fc.tuple(...extents.map((e) => fcHostOf(shape.map((d, i) => (i === axis ? e : d))))))),
    ), ([axis, xs], seed) => checkDerivative('concat', (ts) => T.concat(ts, axis), xs, { seed })),
  matmul: () =>
    check(RUNS, fc.record({ b: fc.integer({ min: 1, max: 2 }), m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }), transA: fc.boolean(), transB: fc.boolean() })
      .chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.transA ? [g.b, g.k, g.m] : [g.b, g.m, g.k]), fcHostOf(g.transB ? [g.b, g.n, g.k] : [g.b, g.k, g.n]))),
      ([g, a, b], seed) => checkDerivative('matmul', ([p, q]) => T.matmul(p!, q!, { transA: g.transA, transB: g.transB }), [a, b], { seed })),
  conv2d: () =>
    check(RUNS, fcConvGeometry().chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.w))), async ([g, x, w], seed) => {
      const y = T.conv2d(T.tensor(x.data as number[], x.shape), T.tensor(w.data as number[], w.shape), g.options);
      assert.deepEqual(y.shape, g.y, 'conv2d output shape');
      await checkDerivative('conv2d', ([a, b]) => T.conv2d(a!, b!, g.options), [x, w], { seed });
    }),
  conv2dBackpropInput: () =>
    check(RUNS, fcConvGeometry().chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.y), fcHostOf(g.w))), ([g, dy, w], seed) =>
      checkDerivative('conv2dBackpropInput', ([a, b]) => T.conv2dBackpropInput(a!, b!, { ...g.options, inputShape: g.x }), [dy, w], { seed })),
  conv2dBackpropFilter: () =>
    check(RUNS, fcConvGeometry().chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.y))), ([g, x, dy], seed) =>
      checkDerivative('conv2dBackpropFilter', ([a, b]) => T.conv2dBackpropFilter(a!, b!, { ...g.options, filterShape: g.w }), [x, dy], { seed })),
};

before(async () => {
  await setBackend('cpu64');
});

describe('derivatives of every primitive (cpu64, central differences)', () => {
  for (const name of PRIM_NAMES) test(name, primitiveChecks[name]);
});

// ---------------------------------------------------------------------------------------------

/** Pooling geometry: the tiling fast path, or overlapping/strided/padded windows. */
const fcPool = fc.oneof(
  fc.record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), k: fc.integer({ min: 1, max: 3 }), ho: fc.integer({ min: 1, max: 3 }), wo: fc.integer({ min: 1, max: 3 }) })
    .filter((g) => g.k * g.ho <= 7 && g.k * g.wo <= 7)
    .map((g) => ({ shape: [g.n, g.c, g.k * g.ho, g.k * g.wo], options: { size: g.k } as T.PoolOptions })),
  fc.record({
    n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
    size: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pad: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
  }).map((g) => ({ ...g, pad: [Math.min(g.pad[0], Math.floor(g.size[0] / 2)), Math.min(g.pad[1], Math.floor(g.size[1] / 2))] as const }))
    .filter((g) => g.h + 2 * g.pad[0] >= g.size[0] && g.w + 2 * g.pad[1] >= g.size[1])
    .map((g) => ({ shape: [g.n, g.c, g.h, g.w], options: { size: g.size, stride: g.stride, padding: g.pad } as T.PoolOptions })),
);


/**
 * [N, C, ...spatial] with per-channel values ≥ 0.5 apart, so batch variances stay well above zero,
 * and at least 3 values per channel (with 2, the normalised values are ±1 whatever x is).
 */
const fcBatchNormInput = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }))
  .filter(([n, , sp]) => n * sizeOf(sp) >= 3)
  .chain(([n, c, sp]) => fc.tuple(fcDistinctOf([n, c, ...sp], 0.5, 0.25), fcHostOf([c], { min: 0.5, max: 2 }), fcHostOf([c], { min: -1, max: 1 })));

describe('derivatives of composite ops (cpu64, central differences)', () => {
  test('relu', unary('relu', T.relu, { min: -2, max: 2, avoid: [0] }));
  test('leakyRelu', () =>
    check(RUNS, fc.tuple(fcHost({ maxRank: 3 }, { min: -2, max: 2, avoid: [0] }), fc.double({ min: 0.01, max: 0.3, noNaN: true })),
      ([x, slope], seed) => checkDerivative('leakyRelu', ([a]) => T.leakyRelu(a!, slope), [x], { seed })));
  test('sigmoid', unary('sigmoid', T.sigmoid, { min: -3, max: 3 }));
  test('tanh', unary('tanh', T.tanh, { min: -3, max: 3 }));
  test('square', unary('square', T.square, { min: -2, max: 2 }));
  test('maximum and minimum (broadcasting, no ties)', () =>
    check(RUNS, fc.tuple(fcBroadcastShapes(2), fc.boolean()).chain(([[sa, sb], swap]) =>
      fc.tuple(fcGridOf(sa!, swap), fcGridOf(sb!, !swap))), async (xs, seed) => {
      await checkDerivative('maximum', ([a, b]) => T.maximum(a!, b!), xs, { seed });
      await checkDerivative('minimum', ([a, b]) => T.minimum(a!, b!), xs, { seed });
    }));
  test('maximum and minimum with a number', () =>
    check(RUNS, fcHost({ maxRank: 3 }, { min: -1, max: 1, avoid: [0.3] }), async (x, seed) => {
      await checkDerivative('maximum(x, 0.3)', ([a]) => T.maximum(a!, 0.3), [x], { seed });
      await checkDerivative('minimum(0.3, x)', ([a]) => T.minimum(0.3, a!), [x], { seed });
    }));
  test('clamp (inputs away from both bounds)', () =>
    check(RUNS, fc.tuple(fc.double({ min: -1, max: 0, noNaN: true }), fc.double({ min: 0.05, max: 1, noNaN: true })).chain(([lo, hi]) =>
      fc.tuple(fcHost({ maxRank: 3 }, { min: -2, max: 2, avoid: [lo, hi] }), fc.constant(lo), fc.constant(hi))),
      ([x, lo, hi], seed) => checkDerivative('clamp', ([a]) => T.clamp(a!, lo, hi), [x], { seed })));
  test('add, sub, mul, div, pow with number operands', () =>
    check(RUNS, fc.tuple(fcHost({ maxRank: 3 }, { min: 0.1, max: 2 }), fc.double({ min: 0.5, max: 2, noNaN: true })), async ([x, k], seed) => {
      for (const [name, f] of [
        ['add(x, k)', (a: Tensor) => T.add(a, k)], ['sub(k, x)', (a: Tensor) => T.sub(k, a)], ['mul(k, x)', (a: Tensor) => T.mul(k, a)],
        ['div(k, x)', (a: Tensor) => T.div(k, a)], ['pow(x, k)', (a: Tensor) => T.pow(a, k)], ['pow(k, x)', (a: Tensor) => T.pow(k, a)],
      ] as const) await checkDerivative(name, ([a]) => f(a!), [x], { seed });
    }));
  test('where with a comparison condition (broadcasting)', () =>
    check(RUNS, fcBroadcastShapes(3).chain(([sc, sa, sb]) => fc.tuple(fcHostOf(sc!, { avoid: [0] }), fcHostOf(sa!), fcHostOf(sb!))),
      (xs, seed) => checkDerivative('where(c > 0, a, b)', ([c, a, b]) => T.where(T.greater(c!, 0), a!, b!), xs, { seed })));
  test('mean', () =>
    check(RUNS, fcAxes(0).chain(({ shape, axes, keepDims }) => fc.tuple(fcHostOf(shape), fc.option(fc.constant(axes), { nil: undefined }), fc.constant(keepDims))),
      ([x, axes, keepDims], seed) => checkDerivative('mean', ([a]) => T.mean(a!, axes, keepDims), [x], { seed })));
  test('max and min (distinct values, negative axes)', () =>
    check(RUNS, fcAxes().chain(({ shape, axes, keepDims }) => fc.tuple(fcDistinctOf(shape), fc.constant(axes.map((a) => a - shape.length)), fc.constant(keepDims))),
      async ([x, axes, keepDims], seed) => {
        await checkDerivative('max', ([a]) => T.max(a!, axes, keepDims), [x], { seed });
        await checkDerivative('min', ([a]) => T.min(a!, axes, keepDims), [x], { seed });
        await checkDerivative('max (all axes)', ([a]) => T.max(a!), [x], { seed });
      }));
  test('logSumExp', () =>
    check(RUNS, fcAxes().chain(({ shape, axes, keepDims }) => fc.tuple(fcHostOf(shape, { min: -3, max: 3 }), fc.constant(axes), fc.constant(keepDims))),
      ([x, axes, keepDims], seed) => checkDerivative('logSumExp', ([a]) => T.logSumExp(a!, axes, keepDims), [x], { seed })));
  test('softmax and logSoftmax', () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 4 }).chain((shape) => fc.tuple(fcHostOf(shape, { min: -3, max: 3 }), fc.integer({ min: -shape.length, max: shape.length - 1 }))),
      async ([x, axis], seed) => {
        await checkDerivative('softmax', ([a]) => T.softmax(a!, axis), [x], { seed });
        await checkDerivative('logSoftmax', ([a]) => T.logSoftmax(a!, axis), [x], { seed });
      }));
  test('matmul with broadcast batch axes and transA/transB', () =>
    check(RUNS, fc.tuple(fcBroadcastShapes(2, 2), fc.record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }), transA: fc.boolean(), transB: fc.boolean() }))
      .chain(([[ba, bb], g]) => fc.tuple(fc.constant(g), fcHostOf([...ba!, ...(g.transA ? [g.k, g.m] : [g.m, g.k])]), fcHostOf([...bb!, ...(g.transB ? [g.n, g.k] : [g.k, g.n])]))),
      ([g, a, b], seed) => checkDerivative('matmul', ([p, q]) => T.matmul(p!, q!, { transA: g.transA, transB: g.transB }), [a, b], { seed })));
  test('conv2d (strides, paddings incl. same and 4-tuples, dilations, groups)', () =>
    check(40, fcConvGeometry().chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.w))),
      ([g, x, w], seed) => checkDerivative('conv2d', ([a, b]) => T.conv2d(a!, b!, g.options), [x, w], { seed })));
  test('conv2d with padding same and stride 2', () =>
    check(RUNS, fcConvGeometry().chain((g) => {
      const options = { ...g.options, padding: 'same' as const, stride: [2, 2] as const };
      const y = [g.x[0], g.w[0], Math.ceil(g.x[2] / 2), Math.ceil(g.x[3] / 2)];
      return fc.tuple(fc.constant({ ...g, options, y }), fcHostOf(g.x), fcHostOf(g.w));
    }), async ([g, x, w], seed) => {
      await checkDerivative('conv2d same/2', ([a, b]) => T.conv2d(a!, b!, g.options), [x, w], { seed });
      const y = T.conv2d(T.tensor(x.data as number[], x.shape), T.tensor(w.data as number[], w.shape), g.options);
      assert.deepEqual(y.shape, g.y, "'same' gives ceil(H / stride)");
    }));
  test('conv2dTranspose (stride, padding, outputPadding, dilation, groups)', () =>
    check(RUNS, fcConvTranspose.chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.w))), async ([g, x, w], seed) => {
      const y = T.conv2dTranspose(T.tensor(x.data as number[], x.shape), T.tensor(w.data as number[], w.shape), g.options);
      assert.deepEqual(y.shape, g.y, 'conv2dTranspose output shape');
      await checkDerivative('conv2dTranspose', ([a, b]) => T.conv2dTranspose(a!, b!, g.options), [x, w], { seed });
    }));
  test('maxPool2d (distinct values) and avgPool2d: tiling, overlapping and padded windows', () =>
    check(40, fcPool.chain((g) => fc.tuple(fc.constant(g.options), fcDistinctOf(g.shape))), async ([options, x], seed) => {
      await checkDerivative('maxPool2d', ([a]) => T.maxPool2d(a!, options), [x], { seed });
      await checkDerivative('avgPool2d', ([a]) => T.avgPool2d(a!, options), [x], { seed });
    }));
  test('upsampleNearest', () =>
    check(RUNS, fc.tuple(fcShape({ minRank: 4, maxRank: 4, maxExtent: 3 }), fc.oneof(fc.integer({ min: 1, max: 3 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))))
      .chain(([shape, factor]) => fc.tuple(fcHostOf(shape), fc.constant(factor))),
      ([x, factor], seed) => checkDerivative('upsampleNearest', ([a]) => T.upsampleNearest(a!, factor), [x], { seed })));
  test('batchNorm in training (batch statistics)', () =>
    check(RUNS, fcBatchNormInput, ([x, gamma, beta], seed) => {
      const c = x.shape[1]!;
      return checkDerivative('batchNorm (training)', ([a, g, b]) =>
        T.batchNorm(a!, { gamma: g!, beta: b! }, { mean: T.zeros([c]), variance: T.ones([c]) }, { training: true })[0], [x, gamma, beta], { seed });
    }));
  test('batchNorm in evaluation (running statistics)', () =>
    check(RUNS, fcBatchNormInput.chain(([x, gamma, beta]) => fc.tuple(fc.constant([x, gamma, beta]), fcHostOf([x.shape[1]!]), fcHostOf([x.shape[1]!], { min: 0.1, max: 2 }))),
      ([[x, gamma, beta], mu, variance], seed) =>
        checkDerivative('batchNorm (eval)', ([a, g, b]) =>
          T.batchNorm(a!, { gamma: g!, beta: b! }, { mean: T.tensor(mu.data as number[]), variance: T.tensor(variance.data as number[]) }, { training: false })[0], [x!, gamma!, beta!], { seed })));
  test('concat and stack (negative axes)', () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 3 }).chain((shape) =>
      fc.tuple(fc.integer({ min: -shape.length - 1, max: shape.length }), fc.array(fcHostOf(shape), { minLength: 1, maxLength: 3 }))),
      async ([axis, xs], seed) => {
        await checkDerivative('stack', (ts) => T.stack(ts, axis), xs, { seed });
        const a = Math.max(-xs[0]!.shape.length, Math.min(axis, xs[0]!.shape.length - 1));
        await checkDerivative('concat', (ts) => T.concat(ts, a), xs, { seed });
      }));
  test('pad with a value and slice with −1 extents', () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 3 }).chain((shape) =>
      fc.tuple(fcHostOf(shape), fc.tuple(...shape.map((d) => fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.boolean()))), fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: shape.length, maxLength: shape.length }))),
      async ([x, blocks, widths], seed) => {
        await checkDerivative('pad', ([a]) => T.pad(a!, widths, 0.5), [x], { seed });
        await checkDerivative('slice', ([a]) => T.slice(a!, blocks.map((b) => b[0]), blocks.map((b) => (b[1] ? -1 : 1))), [x], { seed });
      }));
  test('transpose (default and negative perm), broadcastTo (new leading axes), expandDims, squeeze', () =>
    check(RUNS, fcShape({ minRank: 1, maxRank: 3, maxExtent: 3 }).chain((shape) =>
      fc.tuple(fcHostOf(shape), fcPermutation(shape.length), fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.integer({ min: -shape.length - 1, max: shape.length }))),
      async ([x, perm, lead, axis], seed) => {
        const r = x.shape.length;
        await checkDerivative('transpose()', ([a]) => T.transpose(a!), [x], { seed });
        await checkDerivative('transpose(perm − rank)', ([a]) => T.transpose(a!, perm.map((p) => p - r)), [x], { seed });
        await checkDerivative('broadcastTo', ([a]) => T.broadcastTo(a!, [...lead, ...x.shape]), [x], { seed });
        await checkDerivative('expandDims', ([a]) => T.expandDims(a!, axis), [x], { seed });
        await checkDerivative('squeeze()', ([a]) => T.squeeze(T.expandDims(a!, axis)), [x], { seed });
        await checkDerivative('squeeze(axis)', ([a]) => T.squeeze(T.expandDims(a!, axis), axis), [x], { seed });
      }));
  test('stopGradient blocks the gradient', async () => {
    const x = T.tensor([0.5, -1, 2]);
    const g = T.grad((a: Tensor) => T.sum(T.mul(T.stopGradient(a), a)))(x);
    assert.deepEqual(Array.from(await g.dataFloat64()), [0.5, -1, 2]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('grad of grad against central differences of the gradient (cpu64)', () => {
  const SECOND = 16;
  test('exp ∘ mul (broadcasting)', () =>
    check(SECOND, fcBroadcastHosts([{}, {}]), (xs, seed) => checkSecondDerivative('exp(a·b)', ([a, b]) => T.exp(T.mul(a!, b!)), xs, { seed })));
  test('tanh and sigmoid', () =>
    check(SECOND, fcHost({ maxRank: 3 }, { min: -2, max: 2 }), async (x, seed) => {
      await checkSecondDerivative('tanh', ([a]) => T.tanh(a!), [x], { seed });
      await checkSecondDerivative('sigmoid', ([a]) => T.sigmoid(a!), [x], { seed });
    }));
  test('log, sqrt, div, pow', () =>
    check(SECOND, fcBroadcastHosts([{ min: 0.1, max: 2 }, { min: 0.1, max: 2 }]), async (xs, seed) => {
      await checkSecondDerivative('log', ([a]) => T.log(a!), [xs[0]!], { seed });
      await checkSecondDerivative('sqrt', ([a]) => T.sqrt(a!), [xs[0]!], { seed });
      await checkSecondDerivative('div', ([a, b]) => T.div(a!, b!), xs, { seed });
      await checkSecondDerivative('pow', ([a, b]) => T.pow(a!, b!), xs, { seed });
    }));
  test('softmax, logSoftmax and logSumExp', () =>
    check(SECOND, fcShape({ minRank: 1, maxRank: 3 }).chain((shape) => fc.tuple(fcHostOf(shape, { min: -2, max: 2 }), fc.integer({ min: 0, max: shape.length - 1 }))),
      async ([x, axis], seed) => {
        await checkSecondDerivative('softmax', ([a]) => T.softmax(a!, axis), [x], { seed });
        await checkSecondDerivative('logSoftmax', ([a]) => T.logSoftmax(a!, axis), [x], { seed });
        await checkSecondDerivative('logSumExp', ([a]) => T.logSumExp(a!, axis), [x], { seed });
      }));
  test('matmul (mixed second derivatives, transA/transB)', () =>
    check(SECOND, fc.record({ b: fc.integer({ min: 1, max: 2 }), m: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }), transA: fc.boolean(), transB: fc.boolean() })
      .chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.transA ? [g.b, g.k, g.m] : [g.b, g.m, g.k]), fcHostOf(g.transB ? [g.b, g.n, g.k] : [g.b, g.k, g.n]))),
      ([g, a, b], seed) => checkSecondDerivative('matmul', ([p, q]) => T.exp(T.matmul(p!, q!, { transA: g.transA, transB: g.transB })), [a, b], { seed })));
  test('conv2d: d/dx of the gradient wrt w, and d/dw of the gradient wrt x', () =>
    check(SECOND, fcConvGeometry().chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.w))), async ([g, x, w], seed) => {
      await checkSecondDerivative('conv2d (grad wrt w)', ([a, b]) => T.conv2d(a!, b!, g.options), [x, w], { seed, outer: [1] });
      await checkSecondDerivative('conv2d (grad wrt x)', ([a, b]) => T.conv2d(a!, b!, g.options), [x, w], { seed, outer: [0] });
      await checkSecondDerivative('tanh ∘ conv2d', ([a, b]) => T.tanh(T.conv2d(a!, b!, g.options)), [x, w], { seed });
    }));
  test('batchNorm in training', () =>
    check(SECOND, fcBatchNormInput, ([x, gamma, beta], seed) => {
      const c = x.shape[1]!;
      return checkSecondDerivative('batchNorm', ([a, g, b]) =>
        T.batchNorm(a!, { gamma: g!, beta: b! }, { mean: T.zeros([c]), variance: T.ones([c]) }, { training: true })[0], [x, gamma, beta], { seed });
    }));
  test('maxPool2d, relu and concat/pad/slice (piecewise linear: zero curvature in the smooth part)', () =>
    check(SECOND, fcPool.chain((g) => fc.tuple(fc.constant(g.options), fcDistinctOf(g.shape))), async ([options, x], seed) => {
      await checkSecondDerivative('square ∘ maxPool2d', ([a]) => T.square(T.maxPool2d(a!, options)), [x], { seed });
      await checkSecondDerivative('square ∘ relu', ([a]) => T.square(T.relu(a!)), [x], { seed });
      await checkSecondDerivative('pad/slice/concat', ([a]) => {
        const p = T.pad(T.mul(a!, a!), [[0, 0], [1, 1], [0, 0], [0, 0]]);
        return T.concat([T.slice(p, [0, 0, 0, 0], [-1, 2, -1, -1]), T.exp(a!)], 1);
      }, [x], { seed });
    }));
});

// ---------------------------------------------------------------------------------------------

describe('derivative rules at the edges of their domain (cpu64)', () => {
  const gradOf = async (f: (xs: Tensor[]) => Tensor, xs: readonly number[][]): Promise<number[][]> => {
    const gs = T.grad((ts: Tensor[]) => T.sum(f(ts)))(xs.map((x) => T.tensor(x)));
    return Promise.all(gs.map(async (g) => Array.from(await g.dataFloat64())));
  };
  test('max shares the gradient evenly between tied maxima; maximum gives ties to a', async () => {
    assert.deepEqual(await gradOf(([x]) => T.max(x!), [[1, 3, 3]]), [[0, 0.5, 0.5]]);
    assert.deepEqual(await gradOf(([a, b]) => T.maximum(a!, b!), [[1, 2], [1, 1]]), [[1, 1], [0, 0]]);
    assert.deepEqual(await gradOf(([a, b]) => T.minimum(a!, b!), [[1, 0], [1, 1]]), [[1, 1], [0, 0]]);
  });
  test('relu and abs have a zero derivative at 0 (never a split gradient)', async () => {
    assert.deepEqual(await gradOf(([x]) => T.relu(x!), [[0, 1, -1]]), [[0, 1, 0]]);
    assert.deepEqual(await gradOf(([x]) => T.abs(x!), [[0, 2, -2]]), [[0, 1, -1]]);
  });
  test('pow: the derivative in the exponent at a zero base is 0, not NaN', async () => {
    // 0^b = 0 for every b > 0, so ∂(aᵇ)/∂b = aᵇ·log(a) must be taken as 0 where a = 0 (JAX and
    // PyTorch do); 0·log(0) = 0·(−∞) gives NaN.
    const [ga, gb] = await gradOf(([a, b]) => T.pow(a!, b!), [[0, 2], [2, 2]]);
    assert.deepEqual(ga, [0, 4]);
    assert.deepEqual(gb, [0, 4 * Math.log(2)]);
  });
});
