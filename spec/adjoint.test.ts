/**
 * Exact adjoint identities of the linear primitives, on `cpu64` (relative 1e-12) and `cpu`
 * (float32, relative 1e-5):
 *   <conv2d(x, w), y> = <x, conv2dBackpropInput(y, w)> = <w, conv2dBackpropFilter(x, y)>
 *   <op(A)·op(B), C> = <A, ∂A> = <B, ∂B> for every transA/transB
 *   <pad(x), y> = <x, slice(y)>,  <broadcastTo(x, s), y> = <x, sumToShape(y, shape(x))>,
 *   <transpose(x, p), y> = <x, transpose(y, p⁻¹)>,  <concat(xs), y> = Σ <xᵢ, slice(y)ᵢ>,
 *   <conv2dTranspose(x, w), z> = <x, conv2d(z, w)>.
 *
 * NOTE: errors are relative to the sum of the absolute terms (e.g. <conv2d(|x|, |w|), |y|>), the
 * scale of an inner product's rounding error, which random signs can make far larger than the
 * inner product itself. A wrong index shows at ~1/size of that scale, far above the tolerance.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import * as T from '../core/index.js';
import { setBackend, type Tensor } from '../core/index.js';
import { dot, fcConvGeometry, fcConvTranspose, fcHostOf, fcParams, fcPermutation, fcShape, mulberry32, toTensor, uniformValues, values, type HostTensor } from './helpers/numeric.js';

const RUNS = 30;

function check<A>(numRuns: number, arb: fc.Arbitrary<A>, run: (a: A) => Promise<unknown>): Promise<void> {
  return fc.assert(fc.asyncProperty(arb, async (a) => { await run(a); }), fcParams(numRuns));
}

const abs = (h: HostTensor): HostTensor => ({ shape: h.shape, data: h.data.map(Math.abs) });

/** Asserts that every inner product equals the first within `rtol`·scale. */
function assertAdjoint(name: string, products: readonly number[], scale: number, rtol: number): void {
  assert.ok(Number.isFinite(scale) && scale >= 0, `${name}: scale ${scale}`);
  const denom = Math.max(scale, ...products.map(Math.abs), Number.MIN_VALUE);
  for (let i = 1; i < products.length; i++) {
    const err = Math.abs(products[i]! - products[0]!) / denom;
    assert.ok(err <= rtol, `${name}: inner product ${i} is ${products[i]} but inner product 0 is ${products[0]} (error ${err.toExponential(2)} of the scale ${scale.toExponential(3)} > ${rtol})`);
  }
}

/** Inner product of two tensors, read at the backend's precision, summed in float64. */
async function inner(a: Tensor, b: Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape, 'inner product of equal shapes');
  return dot(await values(a), await values(b));
}


/** A target shape and a shape that broadcasts to it (fewer leading axes, some extents 1). */
const fcBroadcastPair = fcShape({ minRank: 0, maxRank: 4 }).chain((out) =>
  fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => ({ out, x: out.map((d, i) => (ones[i] ? 1 : d)).slice(drop) })));

for (const [backend, rtol] of [['cpu64', 1e-12], ['cpu', 1e-5]] as const) {
  describe(`exact adjoint identities on ${backend} (relative ${rtol})`, () => {
    before(async () => {
      await setBackend(backend);
    });

    test('conv2d, conv2dBackpropInput, conv2dBackpropFilter (strides, same/4-tuple paddings, dilations, groups)', () =>
      check(60, fcConvGeometry().chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.w), fcHostOf(g.y))), async ([g, xh, wh, yh]) => {
        const [x, w, y] = [xh, wh, yh].map(toTensor) as [Tensor, Tensor, Tensor];
        const fwd = T.conv2d(x, w, g.options);
        assert.deepEqual(fwd.shape, g.y, 'conv2d output shape');
        const products = [
          await inner(fwd, y),
          await inner(x, T.conv2dBackpropInput(y, w, { ...g.options, inputShape: g.x })),
          await inner(w, T.conv2dBackpropFilter(x, y, { ...g.options, filterShape: g.w })),
        ];
        const scale = await inner(T.conv2d(toTensor(abs(xh)), toTensor(abs(wh)), g.options), toTensor(abs(yh)));
        assertAdjoint(`conv2d ${JSON.stringify(g)}`, products, scale, rtol);
      }));

    test('conv2dTranspose is the adjoint of conv2d with the same stride, padding, dilation and groups', () =>
      check(RUNS, fcConvTranspose.chain((g) => fc.tuple(fc.constant(g), fcHostOf(g.x), fcHostOf(g.w), fcHostOf(g.y))), async ([g, xh, wh, zh]) => {
        const [x, w, z] = [xh, wh, zh].map(toTensor) as [Tensor, Tensor, Tensor];
        const up = T.conv2dTranspose(x, w, g.options);
        assert.deepEqual(up.shape, g.y, 'conv2dTranspose output shape');
        const conv = { stride: g.options.stride, padding: g.options.padding, dilation: g.options.dilation, groups: g.options.groups };
        const down = T.conv2d(z, w, conv);
        assert.deepEqual(down.shape, g.x, 'conv2d maps the transposed output back to x');
        const scale = await inner(T.conv2d(toTensor(abs(zh)), toTensor(abs(wh)), conv), toTensor(abs(xh)));
        assertAdjoint(`conv2dTranspose ${JSON.stringify(g)}`, [await inner(up, z), await inner(x, down)], scale, rtol);
      }));

    test('matmul: <op(A)·op(B), C> = <A, ∂A> = <B, ∂B> for every transA/transB, batched', () =>
      check(RUNS, fc.record({ batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 1 }), m: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 5 }), transA: fc.boolean(), transB: fc.boolean() })
        .chain((g) => fc.tuple(fc.constant(g),
          fcHostOf([...g.batch, ...(g.transA ? [g.k, g.m] : [g.m, g.k])]),
          fcHostOf([...g.batch, ...(g.transB ? [g.n, g.k] : [g.k, g.n])]),
          fcHostOf([...g.batch, g.m, g.n]))), async ([g, ah, bh, ch]) => {
        const { transA, transB } = g;
        const [a, b, c] = [ah, bh, ch].map(toTensor) as [Tensor, Tensor, Tensor];
        // op(A)ᵀ-side: ∂op(A) = C·op(B)ᵀ; stored transposed when transA.
        const dA = transA ? T.matmul(b, c, { transA: transB, transB: true }) : T.matmul(c, b, { transB: !transB });
        // ∂op(B) = op(A)ᵀ·C; stored transposed when transB.
        const dB = transB ? T.matmul(c, a, { transA: true, transB: transA }) : T.matmul(a, c, { transA: !transA });
        const products = [await inner(T.matmul(a, b, { transA, transB }), c), await inner(a, dA), await inner(b, dB)];
        const scale = await inner(T.matmul(toTensor(abs(ah)), toTensor(abs(bh)), { transA, transB }), toTensor(abs(ch)));
        assertAdjoint(`matmul ${JSON.stringify(g)}`, products, scale, rtol);
      }));

    test('large operands that span several GEMM blocks (M > 64, K > 256, N > 1024)', async () => {
      const rng = mulberry32(2019);
      const host = (shape: number[]): HostTensor => ({ shape, data: uniformValues(rng, shape.reduce((a, b) => a * b, 1)) });
      const [m, k, n] = [65, 257, 1025];
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const [ah, bh, ch] = [host(transA ? [k, m] : [m, k]), host(transB ? [n, k] : [k, n]), host([m, n])];
          const [a, b, c] = [ah, bh, ch].map(toTensor) as [Tensor, Tensor, Tensor];
          const dA = transA ? T.matmul(b, c, { transA: transB, transB: true }) : T.matmul(c, b, { transB: !transB });
          const dB = transB ? T.matmul(c, a, { transA: true, transB: transA }) : T.matmul(a, c, { transA: !transA });
          const scale = await inner(T.matmul(toTensor(abs(ah)), toTensor(abs(bh)), { transA, transB }), toTensor(abs(ch)));
          assertAdjoint(`matmul ${m}×${k}×${n} transA=${transA} transB=${transB}`, [await inner(T.matmul(a, b, { transA, transB }), c), await inner(a, dA), await inner(b, dB)], scale, rtol);
        }
      }
      for (const g of [
        { x: [1, 2, 40, 40], w: [3, 2, 3, 3], options: { padding: 'same' as const } }, // H'·W' = 1600 > 1024
        { x: [2, 30, 6, 6], w: [4, 15, 3, 3], options: { padding: 1, groups: 2 } }, // C/g·kh·kw = 135, and 270 without groups
        { x: [1, 30, 6, 6], w: [2, 30, 3, 3], options: { stride: 2 } },
      ]) {
        const [xh, wh] = [host(g.x), host(g.w)];
        const [x, w] = [toTensor(xh), toTensor(wh)];
        const fwd = T.conv2d(x, w, g.options);
        const yh = host([...fwd.shape]);
        const y = toTensor(yh);
        const products = [
          await inner(fwd, y),
          await inner(x, T.conv2dBackpropInput(y, w, { ...g.options, inputShape: g.x })),
          await inner(w, T.conv2dBackpropFilter(x, y, { ...g.options, filterShape: g.w })),
        ];
        const scale = await inner(T.conv2d(toTensor(abs(xh)), toTensor(abs(wh)), g.options), toTensor(abs(yh)));
        assertAdjoint(`conv2d ${JSON.stringify(g)}`, products, scale, rtol);
      }
    });

    test('pad / slice', () =>
      check(RUNS, fcShape({ maxRank: 4 }).chain((shape) =>
        fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: shape.length, maxLength: shape.length }).chain((widths) =>
          fc.tuple(fcHostOf(shape), fc.constant(widths), fcHostOf(shape.map((d, i) => d + widths[i]![0] + widths[i]![1]))))),
        async ([xh, widths, yh]) => {
          const [x, y] = [toTensor(xh), toTensor(yh)];
          const products = [await inner(T.pad(x, widths), y), await inner(x, T.slice(y, widths.map((w) => w[0]), xh.shape))];
          const scale = await inner(T.pad(toTensor(abs(xh)), widths), toTensor(abs(yh)));
          assertAdjoint('pad/slice', products, scale, rtol);
        }));

    test('broadcastTo / sumToShape (rank differences, scalars)', () =>
      check(RUNS, fcBroadcastPair.chain(({ out, x }) => fc.tuple(fcHostOf(x), fcHostOf(out))), async ([xh, yh]) => {
        const [x, y] = [toTensor(xh), toTensor(yh)];
        const products = [await inner(T.broadcastTo(x, yh.shape), y), await inner(x, T.sumToShape(y, xh.shape))];
        const scale = await inner(T.broadcastTo(toTensor(abs(xh)), yh.shape), toTensor(abs(yh)));
        assertAdjoint(`broadcast ${JSON.stringify(xh.shape)} → ${JSON.stringify(yh.shape)}`, products, scale, rtol);
      }));

    test('transpose / inverse transpose', () =>
      check(RUNS, fcShape({ maxRank: 4 }).chain((shape) => fc.tuple(fcHostOf(shape), fcPermutation(shape.length))).chain(([xh, perm]) =>
        fc.tuple(fc.constant(xh), fc.constant(perm), fcHostOf(perm.map((a) => xh.shape[a]!)))), async ([xh, perm, yh]) => {
        const inv = new Array<number>(perm.length);
        perm.forEach((a, i) => (inv[a] = i));
        const [x, y] = [toTensor(xh), toTensor(yh)];
        const products = [await inner(T.transpose(x, perm), y), await inner(x, T.transpose(y, inv))];
        const scale = dot(xh.data.map(Math.abs), await values(T.transpose(toTensor(abs(yh)), inv)));
        assertAdjoint(`transpose ${JSON.stringify(perm)}`, products, scale, rtol);
      }));

    test('concat / slices', () =>
      check(RUNS, fcShape({ minRank: 1, maxRank: 3 }).chain((shape) =>
        fc.tuple(fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 })).chain(([axis, extents]) =>
          fc.tuple(fc.constant(axis), fc.tuple(...extents.map((e) => fcHostOf(shape.map((d, i) => (i === axis ? e : d))))),
            fcHostOf(shape.map((d, i) => (i === axis ? extents.reduce((s, e) => s + e, 0) : d)))))),
        async ([axis, xhs, yh]) => {
          const xs = xhs.map(toTensor);
          const y = toTensor(yh);
          let offset = 0;
          let sum = 0;
          for (const [i, x] of xs.entries()) {
            sum += await inner(x, T.slice(y, x.shape.map((_, k) => (k === axis ? offset : 0)), x.shape));
            offset += xhs[i]!.shape[axis]!;
          }
          const scale = await inner(T.concat(xhs.map((h) => toTensor(abs(h))), axis), toTensor(abs(yh)));
          assertAdjoint('concat/slice', [await inner(T.concat(xs, axis), y), sum], scale, rtol);
        }));
  });
}
