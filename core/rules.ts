/**
 * Shape and derivative rules, one entry per primitive (an exhaustive mapped type: a primitive
 * without rules does not compile). Derivative rules are vector-Jacobian products written with
 * primitives, so they are themselves differentiable and `grad(grad(f))` works. Each states its
 * math in one comment.
 */
import { runPrim } from './engine.js';
import { ShapeError, showShape } from './errors.js';
import * as ops from './ops.js';
import type { ConvParams, PrimName, PrimParams } from './primitives.js';
import { broadcastShapes, sameShape, sizeOf, type Shape } from './shape.js';
import type { Tensor } from './tensor.js';

/** The rules of one primitive. */
export interface Rule<P extends PrimName> {
  /** Output shape, or a ShapeError naming the primitive and the shapes. */
  shape(shapes: readonly Shape[], params: PrimParams[P]): number[];
  /**
   * Cotangents of the inputs given the output's cotangent `dy`; `null` where the input needs no
   * gradient (`needs[i]` false) or the derivative is zero.
   */
  vjp(dy: Tensor, inputs: readonly Tensor[], out: Tensor, params: PrimParams[P], needs: readonly boolean[]): (Tensor | null)[];
}

type Rules = { readonly [P in PrimName]: Rule<P> };

function arity(op: string, shapes: readonly Shape[], n: number): void {
  if (shapes.length !== n) throw new ShapeError(op, 'inputs', `expected ${n} inputs, got ${shapes.length}`);
}

const unaryShape = (op: string) => (shapes: readonly Shape[]): number[] => {
  arity(op, shapes, 1);
  return [...shapes[0]!];
};

const binaryShape = (op: string) => (shapes: readonly Shape[]): number[] => {
  arity(op, shapes, 2);
  return broadcastShapes(op, shapes[0]!, shapes[1]!);
};

/** Sums a broadcast cotangent back to an input's shape. */
const unbroadcast = (g: Tensor, shape: Shape): Tensor => ops.sumToShape(g, shape);

function reduceShape(op: string, shapes: readonly Shape[], axes: readonly number[]): number[] {
  arity(op, shapes, 1);
  const s = shapes[0]!;
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= s.length) throw new ShapeError(op, 'axes', `axis ${a} out of range for shape ${showShape(s)}`);
  }
  return s.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Output extent of a convolution along one axis. */
export function convOutSize(inSize: number, k: number, stride: number, padLo: number, padHi: number, dilation: number): number {
  return Math.floor((inSize + padLo + padHi - dilation * (k - 1) - 1) / stride) + 1;
}

function checkConvParams(op: string, p: ConvParams): void {
  const ok = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!p.stride.every((v) => ok(v, 1))) throw new ShapeError(op, 'stride', `expected positive integers, got ${JSON.stringify(p.stride)}`);
  if (!p.dilation.every((v) => ok(v, 1))) throw new ShapeError(op, 'dilation', `expected positive integers, got ${JSON.stringify(p.dilation)}`);
  if (!p.padding.every((v) => ok(v, 0))) throw new ShapeError(op, 'padding', `expected non-negative integers, got ${JSON.stringify(p.padding)}`);
  if (!ok(p.groups, 1)) throw new ShapeError(op, 'groups', `expected a positive integer, got ${p.groups}`);
}

/** The conv2d shape rule, shared by the whole family. */
export function conv2dShape(op: string, x: Shape, w: Shape, p: ConvParams, names: readonly [string, string] = ['x', 'w']): [number, number, number, number] {
  checkConvParams(op, p);
  if (x.length !== 4) throw new ShapeError(op, names[0], `expected rank 4 [N, C, H, W], got ${showShape(x)}`);
  if (w.length !== 4) throw new ShapeError(op, names[1], `expected rank 4 [O, C/groups, kh, kw], got ${showShape(w)}`);
  const [n, c, h, wd] = x as [number, number, number, number];
  const [o, cg, kh, kw] = w as [number, number, number, number];
  if (c !== cg * p.groups) {
    throw new ShapeError(op, `${names[0]}, ${names[1]}`, `input channels ${c} of ${names[0]} ${showShape(x)} must equal ${names[1]}'s ${cg} × groups ${p.groups} (${names[1]} ${showShape(w)})`);
  }
  if (o % p.groups !== 0) throw new ShapeError(op, names[1], `output channels ${o} of ${showShape(w)} are not divisible by groups ${p.groups}`);
  const ho = convOutSize(h, kh, p.stride[0], p.padding[0], p.padding[1], p.dilation[0]);
  const wo = convOutSize(wd, kw, p.stride[1], p.padding[2], p.padding[3], p.dilation[1]);
  if (ho < 1 || wo < 1) {
    throw new ShapeError(op, `${names[0]}, ${names[1]}`, `the dilated kernel ${showShape(w)} (dilation ${p.dilation.join('×')}) does not fit the padded input ${showShape(x)} (padding ${p.padding.join(', ')})`);
  }
  return [n, o, ho, wo];
}

const zeroGrad = (_dy: Tensor, inputs: readonly Tensor[]): (Tensor | null)[] => inputs.map(() => null);

export const rules: Rules = {
  neg: {
    shape: unaryShape('neg'),
    // d(−x) = −dx
    vjp: (dy) => [ops.neg(dy)],
  },
  exp: {
    shape: unaryShape('exp'),
    // d(eˣ) = eˣ dx
    vjp: (dy, _x, y) => [ops.mul(dy, y)],
  },
  log: {
    shape: unaryShape('log'),
    // d(log x) = dx / x
    vjp: (dy, [x]) => [ops.div(dy, x!)],
  },
  sqrt: {
    shape: unaryShape('sqrt'),
    // d(√x) = dx / (2√x)
    vjp: (dy, _x, y) => [ops.div(dy, ops.mul(y, 2))],
  },
  abs: {
    shape: unaryShape('abs'),
    // d|x| = sign(x) dx
    vjp: (dy, [x]) => [ops.mul(dy, ops.sign(x!))],
  },
  sign: {
    shape: unaryShape('sign'),
    // d sign(x) = 0 almost everywhere
    vjp: zeroGrad,
  },
  add: {
    shape: binaryShape('add'),
    // d(a + b) = da + db
    vjp: (dy, [a, b], _y, _p, needs) => [needs[0] ? unbroadcast(dy, a!.shape) : null, needs[1] ? unbroadcast(dy, b!.shape) : null],
  },
  sub: {
    shape: binaryShape('sub'),
    // d(a − b) = da − db
    vjp: (dy, [a, b], _y, _p, needs) => [needs[0] ? unbroadcast(dy, a!.shape) : null, needs[1] ? unbroadcast(ops.neg(dy), b!.shape) : null],
  },
  mul: {
    shape: binaryShape('mul'),
    // d(ab) = b da + a db
    vjp: (dy, [a, b], _y, _p, needs) => [
      needs[0] ? unbroadcast(ops.mul(dy, b!), a!.shape) : null,
      needs[1] ? unbroadcast(ops.mul(dy, a!), b!.shape) : null,
    ],
  },
  div: {
    shape: binaryShape('div'),
    // d(a / b) = da / b − (a / b²) db
    vjp: (dy, [a, b], y, _p, needs) => [
      needs[0] ? unbroadcast(ops.div(dy, b!), a!.shape) : null,
      needs[1] ? unbroadcast(ops.neg(ops.div(ops.mul(dy, y), b!)), b!.shape) : null,
    ],
  },
  pow: {
    shape: binaryShape('pow'),
    // d(aᵇ) = b aᵇ⁻¹ da + aᵇ log(a) db
    vjp: (dy, [a, b], y, _p, needs) => [
      needs[0] ? unbroadcast(ops.mul(dy, ops.mul(b!, ops.pow(a!, ops.sub(b!, 1)))), a!.shape) : null,
      // NOTE: log is taken of where(a = 0, 1, a): at a = 0 the term is aᵇ·log a → 0 (b > 0), not NaN.
      needs[1] ? unbroadcast(ops.mul(dy, ops.mul(y, ops.log(ops.where(ops.equal(a!, 0), 1, a!)))), b!.shape) : null,
    ],
  },
  compare: {
    shape: (shapes, p) => {
      arity('compare', shapes, 2);
      return broadcastShapes(`compare(${p.op})`, shapes[0]!, shapes[1]!);
    },
    // comparisons are piecewise constant: zero derivative
    vjp: zeroGrad,
  },
  where: {
    shape: (shapes) => {
      arity('where', shapes, 3);
      return broadcastShapes('where', broadcastShapes('where', shapes[0]!, shapes[1]!, ['cond', 'a']), shapes[2]!, ['cond/a', 'b']);
    },
    // d where(c, a, b) = where(c, da, 0) + where(c, 0, db)
    vjp: (dy, [c, a, b], _y, _p, needs) => {
      const zero = ops.zerosLike(dy);
      return [
        null,
        needs[1] ? unbroadcast(ops.where(c!, dy, zero), a!.shape) : null,
        needs[2] ? unbroadcast(ops.where(c!, zero, dy), b!.shape) : null,
      ];
    },
  },
  sum: {
    shape: (shapes, p) => reduceShape('sum', shapes, p.axes),
    // d Σx = broadcast(dy)
    vjp: (dy, [x]) => [runPrim('broadcast', [dy], { shape: x!.shape })],
  },
  max: {
    shape: (shapes, p) => reduceShape('max', shapes, p.axes),
    // d max x = dy · [x = max] / #ties (ties share the gradient evenly)
    vjp: (dy, [x], y, p) => {
      const mask = runPrim('compare', [x!, y], { op: 'eq' });
      const count = runPrim('sum', [mask], { axes: p.axes });
      return [ops.mul(mask, runPrim('broadcast', [ops.div(dy, count)], { shape: x!.shape }))];
    },
  },
  argmax: {
    shape: (shapes, p) => {
      const s = reduceShape('argmax', shapes, [p.axis]);
      if (shapes[0]![p.axis] === 0) throw new ShapeError('argmax', 'x', `argmax over an empty axis ${p.axis} of ${showShape(shapes[0]!)}`);
      return s;
    },
    // indices are piecewise constant: zero derivative
    vjp: zeroGrad,
  },
  reshape: {
    shape: (shapes, p) => {
      arity('reshape', shapes, 1);
      if (sizeOf(p.shape) !== sizeOf(shapes[0]!) || !p.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new ShapeError('reshape', 'shape', `cannot reshape ${showShape(shapes[0]!)} (${sizeOf(shapes[0]!)} elements) to ${showShape(p.shape)}`);
      }
      return [...p.shape];
    },
    // d reshape(x) = reshape(dy, shape(x))
    vjp: (dy, [x]) => [runPrim('reshape', [dy], { shape: x!.shape })],
  },
  broadcast: {
    shape: (shapes, p) => {
      arity('broadcast', shapes, 1);
      const s = shapes[0]!;
      const ok = s.length === p.shape.length && s.every((d, i) => d === p.shape[i] || d === 1);
      if (!ok) throw new ShapeError('broadcast', 'shape', `cannot broadcast ${showShape(s)} to ${showShape(p.shape)} (same rank, extents equal or 1)`);
      return [...p.shape];
    },
    // d broadcast(x) = Σ dy over the repeated axes
    vjp: (dy, [x]) => [ops.sumToShape(dy, x!.shape)],
  },
  permute: {
    shape: (shapes, p) => {
      arity('permute', shapes, 1);
      const s = shapes[0]!;
      const sorted = [...p.perm].sort((a, b) => a - b);
      if (p.perm.length !== s.length || !sorted.every((v, i) => v === i)) {
        throw new ShapeError('permute', 'perm', `${JSON.stringify(p.perm)} is not a permutation of the ${s.length} axes of ${showShape(s)}`);
      }
      return p.perm.map((a) => s[a]!);
    },
    // d permute(x, π) = permute(dy, π⁻¹)
    vjp: (dy, _x, _y, p) => {
      const inv = new Array<number>(p.perm.length);
      p.perm.forEach((a, i) => (inv[a] = i));
      return [runPrim('permute', [dy], { perm: inv })];
    },
  },
  pad: {
    shape: (shapes, p) => {
      arity('pad', shapes, 1);
      const s = shapes[0]!;
      if (p.widths.length !== s.length || !p.widths.every((w) => w.length === 2 && w.every((v) => Number.isInteger(v) && v >= 0))) {
        throw new ShapeError('pad', 'widths', `expected ${s.length} pairs of non-negative integers for shape ${showShape(s)}, got ${JSON.stringify(p.widths)}`);
      }
      return s.map((d, i) => d + p.widths[i]![0] + p.widths[i]![1]);
    },
    // d pad(x) = slice(dy) over the original block
    vjp: (dy, [x], _y, p) => [runPrim('slice', [dy], { begin: p.widths.map((w) => w[0]), size: x!.shape })],
  },
  slice: {
    shape: (shapes, p) => {
      arity('slice', shapes, 1);
      const s = shapes[0]!;
      const ok = p.begin.length === s.length && p.size.length === s.length &&
        s.every((d, i) => Number.isInteger(p.begin[i]) && Number.isInteger(p.size[i]) && p.begin[i]! >= 0 && p.size[i]! >= 0 && p.begin[i]! + p.size[i]! <= d);
      if (!ok) throw new ShapeError('slice', 'begin, size', `block at ${JSON.stringify(p.begin)} of size ${JSON.stringify(p.size)} does not fit in ${showShape(s)}`);
      return [...p.size];
    },
    // d slice(x) = pad(dy) back to shape(x) with zeros
    vjp: (dy, [x], _y, p) => [runPrim('pad', [dy], { widths: x!.shape.map((d, i) => [p.begin[i]!, d - p.begin[i]! - p.size[i]!] as const), value: 0 })],
  },
  concat: {
    shape: (shapes, p) => {
      if (shapes.length === 0) throw new ShapeError('concat', 'xs', 'expected at least one tensor');
      const first = shapes[0]!;
      if (!Number.isInteger(p.axis) || p.axis < 0 || p.axis >= first.length) throw new ShapeError('concat', 'axis', `axis ${p.axis} out of range for rank ${first.length}`);
      let total = 0;
      shapes.forEach((s, k) => {
        if (s.length !== first.length || s.some((d, i) => i !== p.axis && d !== first[i])) {
          throw new ShapeError('concat', `xs[${k}]`, `shape ${showShape(s)} does not match ${showShape(first)} outside axis ${p.axis}`);
        }
        total += s[p.axis]!;
      });
      return first.map((d, i) => (i === p.axis ? total : d));
    },
    // d concat(xs) = the matching slices of dy
    vjp: (dy, xs, _y, p, needs) => {
      let offset = 0;
      return xs.map((x, k) => {
        const begin = dy.shape.map((_, i) => (i === p.axis ? offset : 0));
        offset += x.shape[p.axis]!;
        return needs[k] ? runPrim('slice', [dy], { begin, size: x.shape }) : null;
      });
    },
  },
  matmul: {
    shape: (shapes, p) => {
      arity('matmul', shapes, 2);
      const [a, b] = shapes as [Shape, Shape];
      if (a.length !== 3 || b.length !== 3) throw new ShapeError('matmul', 'a, b', `the primitive takes rank-3 [B, M, K] × [B, K, N] operands, got ${showShape(a)} and ${showShape(b)}`);
      const [ba, m, ka] = p.transA ? [a[0]!, a[2]!, a[1]!] : [a[0]!, a[1]!, a[2]!];
      const [bb, kb, n] = p.transB ? [b[0]!, b[2]!, b[1]!] : [b[0]!, b[1]!, b[2]!];
      if (ba !== bb || ka !== kb) throw new ShapeError('matmul', 'a, b', `inner or batch extents differ: ${showShape(a)}${p.transA ? 'ᵀ' : ''} × ${showShape(b)}${p.transB ? 'ᵀ' : ''}`);
      return [ba, m, n];
    },
    // y = op(a)·op(b): d op(a) = dy·op(b)ᵀ, d op(b) = op(a)ᵀ·dy
    vjp: (dy, [a, b], _y, { transA, transB }, needs) => {
      const mm = (x: Tensor, y: Tensor, tx: boolean, ty: boolean) => runPrim('matmul', [x, y], { transA: tx, transB: ty });
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      if (needs[0]) da = transA ? mm(b!, dy, transB, true) : mm(dy, b!, false, !transB);
      if (needs[1]) db = transB ? mm(dy, a!, true, transA) : mm(a!, dy, !transA, false);
      return [da, db];
    },
  },
  conv2d: {
    shape: (shapes, p) => {
      arity('conv2d', shapes, 2);
      return conv2dShape('conv2d', shapes[0]!, shapes[1]!, p);
    },
    // y = conv(x, w): dx = convᵀ_w(dy) (backprop-input), dw = backprop-filter(x, dy)
    vjp: (dy, [x, w], _y, p, needs) => [
      needs[0] ? runPrim('conv2dBackpropInput', [dy, w!], { ...convOnly(p), inputShape: x!.shape as [number, number, number, number] }) : null,
      needs[1] ? runPrim('conv2dBackpropFilter', [x!, dy], { ...convOnly(p), filterShape: w!.shape as [number, number, number, number] }) : null,
    ],
  },
  conv2dBackpropInput: {
    shape: (shapes, p) => {
      arity('conv2dBackpropInput', shapes, 2);
      const [dy, w] = shapes as [Shape, Shape];
      const expect = conv2dShape('conv2dBackpropInput', p.inputShape, w, p, ['inputShape', 'w']);
      if (!sameShape(expect, dy)) throw new ShapeError('conv2dBackpropInput', 'dy', `expected ${showShape(expect)} (the conv2d output for inputShape ${showShape(p.inputShape)} and w ${showShape(w)}), got ${showShape(dy)}`);
      return [...p.inputShape];
    },
    // z = convᵀ_w(dy) is linear in dy and w: d dy = conv(g, w), dw = backprop-filter(g, dy)
    vjp: (g, [dy, w], _z, p, needs) => [
      needs[0] ? runPrim('conv2d', [g, w!], convOnly(p)) : null,
      needs[1] ? runPrim('conv2dBackpropFilter', [g, dy!], { ...convOnly(p), filterShape: w!.shape as [number, number, number, number] }) : null,
    ],
  },
  conv2dBackpropFilter: {
    shape: (shapes, p) => {
      arity('conv2dBackpropFilter', shapes, 2);
      const [x, dy] = shapes as [Shape, Shape];
      const expect = conv2dShape('conv2dBackpropFilter', x, p.filterShape, p, ['x', 'filterShape']);
      if (!sameShape(expect, dy)) throw new ShapeError('conv2dBackpropFilter', 'dy', `expected ${showShape(expect)} (the conv2d output for x ${showShape(x)} and filterShape ${showShape(p.filterShape)}), got ${showShape(dy)}`);
      return [...p.filterShape];
    },
    // z = backprop-filter(x, dy) is linear in x and dy: dx = convᵀ_g(dy), d dy = conv(x, g)
    vjp: (g, [x, dy], _z, p, needs) => [
      needs[0] ? runPrim('conv2dBackpropInput', [dy!, g], { ...convOnly(p), inputShape: x!.shape as [number, number, number, number] }) : null,
      needs[1] ? runPrim('conv2d', [x!, g], convOnly(p)) : null,
    ],
  },
};

/** The ConvParams part of a conv-family parameter object. */
function convOnly(p: ConvParams): ConvParams {
  return { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
}
