/**
 * Shared numeric helpers for the derivative, grad-of-grad and adjoint specs: one seeded fast-check
 * configuration, small arbitraries for shapes and host values, a central-difference checker of
 * directional derivatives, and relative errors.
 *
 * Every property runs with `fcParams(numRuns)`, i.e. a fixed seed, so a failure replays exactly.
 * To fuzz beyond the fixed seed locally: `BOUNDARY_SEG_FC_SEED=123 BOUNDARY_SEG_FC_RUNS=10 node --import tsx
 * --test spec/derivatives.test.ts` (other seeds, ten times the runs).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { add, dispose, grad, mul, scope, sum, tensor, valueAndGrad, type Tensor } from '../../core/index.js';

// ---------------------------------------------------------------------------------------------
// fast-check configuration

/** The fixed seed of every property (overridable through BOUNDARY_SEG_FC_SEED for local fuzzing). */
export const FC_SEED = Number(process.env['BOUNDARY_SEG_FC_SEED'] ?? 20190707);

/**
 * `fc.assert` parameters: the fixed seed and a small number of runs; the failing check's own
 * message goes into the report (the test runner does not print an error's `cause`).
 */
export function fcParams(numRuns: number): { seed: number; numRuns: number; includeErrorInReport: boolean } {
  return { seed: FC_SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_FACTOR)), includeErrorInReport: true };
}

/** Multiplies every property's number of runs (BOUNDARY_SEG_FC_RUNS, default 1), for local fuzzing. */
const RUNS_FACTOR = Number(process.env['BOUNDARY_SEG_FC_RUNS'] ?? 1);

/** A seed for the deterministic directions and weights of one check. */
export const fcSeed: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0x7fffffff });

// ---------------------------------------------------------------------------------------------
// Host values

/** Values on the host: row-major `data` with its `shape`. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Uploads host values to the selected backend. */
export function toTensor(h: HostTensor): Tensor {
  return tensor(h.data as number[], h.shape);
}

/** Reads a tensor at the backend's full precision as plain numbers. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.dataFloat64());
}

/** Σ aᵢ·bᵢ in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'dot: lengths differ');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** |a − b| / max(|a|, |b|, floor): relative error with an absolute floor near zero. */
export function relErr(a: number, b: number, floor = 1e-12): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}

/** A small deterministic PRNG (mulberry32) for directions and weights. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform values in [lo, hi). */
export function uniformValues(rng: () => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Options of value arbitraries. */
export interface ValueOptions {
  /** Range of the values (before moving them off `avoid`). */
  readonly min?: number;
  readonly max?: number;
  /** Kinks to keep away from (e.g. 0 for relu/abs/sign, clamp bounds). */
  readonly avoid?: readonly number[];
  /** Minimal distance to every point of `avoid` (default 0.02, comfortably ≥ 1e-2). */
  readonly gap?: number;
}

/** One value in [min, max], at least `gap` away from every point of `avoid`. */
export function fcValue(options: ValueOptions = {}): fc.Arbitrary<number> {
  const { min = -1, max = 1, avoid = [], gap = 0.02 } = options;
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((v) => {
    // No −0, and no tiny magnitudes (fast-check likes 1e-300): float32 backends would flush them.
    let x = Math.abs(v) < 1e-9 ? 0 : v;
    for (const k of avoid) if (Math.abs(x - k) < gap) x = x >= k ? k + gap : k - gap;
    return x;
  });
}

/** Host values of a given shape. */
export function fcHostOf(shape: readonly number[], options: ValueOptions = {}): fc.Arbitrary<HostTensor> {
  const n = sizeOf(shape);
  return fc.array(fcValue(options), { minLength: n, maxLength: n }).map((data) => ({ shape: [...shape], data }));
}

/** Options of shape arbitraries. */
export interface ShapeOptions {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly maxExtent?: number;
}

/** A shape with extents 1..maxExtent (default rank 0..3, extents ≤ 4). */
export function fcShape(options: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, maxExtent = 4 } = options;
  return fc.array(fc.integer({ min: 1, max: maxExtent }), { minLength: minRank, maxLength: maxRank });
}

/** Host values of a random shape. */
export function fcHost(shape: ShapeOptions = {}, value: ValueOptions = {}): fc.Arbitrary<HostTensor> {
  return fcShape(shape).chain((s) => fcHostOf(s, value));
}

/**
 * Distinct, well separated values (a random permutation of `offset + spacing·k`), for max,
 * argmax and pooling windows: a step of 1e-4 never changes which element wins.
 */
export function fcDistinctOf(shape: readonly number[], spacing = 0.1, offset = -0.05): fc.Arbitrary<HostTensor> {
  const n = sizeOf(shape);
  const grid = Array.from({ length: n }, (_, k) => Math.round((offset + spacing * (k - Math.floor(n / 2))) * 1e6) / 1e6);
  return fc.shuffledSubarray(grid, { minLength: n, maxLength: n }).map((data) => ({ shape: [...shape], data }));
}

/** A permutation of 0..n−1. */
export function fcPermutation(n: number): fc.Arbitrary<number[]> {
  const ids = Array.from({ length: n }, (_, i) => i);
  return fc.shuffledSubarray(ids, { minLength: n, maxLength: n });
}

/**
 * Two broadcast-compatible shapes: a random result shape, from which each operand drops some
 * leading axes (rank differences, scalars) and sets some extents to 1.
 */
export function fcBroadcastShapes(count = 2, maxRank = 4): fc.Arbitrary<number[][]> {
  return fcShape({ minRank: 0, maxRank, maxExtent: 3 }).chain((out) =>
    fc.tuple(
      ...Array.from({ length: count }, () =>
        fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })).map(
          ([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Convolution geometry

/** Padding in the forms `conv2d` accepts. */
export type PaddingOption = number | readonly [number, number] | readonly [number, number, number, number] | 'same' | 'valid';

/** One convolution: shapes, options, and the output shape computed independently of the library. */
export interface ConvGeometry {
  readonly x: readonly [number, number, number, number];
  readonly w: readonly [number, number, number, number];
  readonly y: readonly [number, number, number, number];
  readonly options: {
    readonly stride: readonly [number, number];
    readonly padding: PaddingOption;
    readonly dilation: readonly [number, number];
    readonly groups: number;
  };
}

/** [top, bottom, left, right] padding of a conv (TensorFlow's 'same': the odd extra at the end). */
export function explicitPadding(p: PaddingOption, h: number, w: number, kh: number, kw: number, stride: readonly [number, number], dilation: readonly [number, number]): [number, number, number, number] {
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    const total = (n: number, k: number, s: number, d: number) => Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
    const th = total(h, kh, stride[0], dilation[0]);
    const tw = total(w, kw, stride[1], dilation[1]);
    return [Math.floor(th / 2), Math.ceil(th / 2), Math.floor(tw / 2), Math.ceil(tw / 2)];
  }
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[0], p[1], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

function convOut(n: number, k: number, s: number, lo: number, hi: number, d: number): number {
  return Math.floor((n + lo + hi - d * (k - 1) - 1) / s) + 1;
}

/**
 * Random valid conv2d geometry on inputs of at most 2×3×7×7: strides 1–2, dilations 1–2,
 * groups 1–2, paddings as a number, a pair, an asymmetric 4-tuple, 'same' or 'valid'.
 */
export function fcConvGeometry(): fc.Arbitrary<ConvGeometry> {
  const pads: fc.Arbitrary<PaddingOption> = fc.oneof(
    fc.integer({ min: 0, max: 2 }),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  );
  return fc
    .record({
      n: fc.integer({ min: 1, max: 2 }),
      groups: fc.integer({ min: 1, max: 2 }),
      cg: fc.integer({ min: 1, max: 3 }),
      og: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 1, max: 7 }),
      wd: fc.integer({ min: 1, max: 7 }),
      kh: fc.integer({ min: 1, max: 3 }),
      kw: fc.integer({ min: 1, max: 3 }),
      stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      padding: pads,
    })
    .filter((g) => g.cg * g.groups <= 3)
    .map((g) => {
      const c = g.cg * g.groups;
      const o = g.og * g.groups;
      const [t, b, l, r] = explicitPadding(g.padding, g.h, g.wd, g.kh, g.kw, g.stride, g.dilation);
      const ho = convOut(g.h, g.kh, g.stride[0], t, b, g.dilation[0]);
      const wo = convOut(g.wd, g.kw, g.stride[1], l, r, g.dilation[1]);
      return {
        x: [g.n, c, g.h, g.wd] as const,
        w: [o, g.cg, g.kh, g.kw] as const,
        y: [g.n, o, ho, wo] as const,
        options: { stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups },
      };
    })
    .filter((g) => g.y[2] >= 1 && g.y[3] >= 1);
}

// ---------------------------------------------------------------------------------------------
// Derivative checks

/** Transposed-convolution geometry (PyTorch's ConvTranspose2d layout): x, w and the output shape y. */
export const fcConvTranspose = fc.record({
  n: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), cinG: fc.integer({ min: 1, max: 2 }), coutG: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 4 }), w: fc.integer({ min: 1, max: 4 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
  stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), padding: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
  outPad: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })), dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
}).map((g) => {
  const outputPadding = [Math.min(g.outPad[0], g.stride[0] - 1), Math.min(g.outPad[1], g.stride[1] - 1)] as const;
  const ho = (g.h - 1) * g.stride[0] - 2 * g.padding[0] + g.dilation[0] * (g.kh - 1) + outputPadding[0] + 1;
  const wo = (g.w - 1) * g.stride[1] - 2 * g.padding[1] + g.dilation[1] * (g.kw - 1) + outputPadding[1] + 1;
  const cin = g.cinG * g.groups;
  return {
    x: [g.n, cin, g.h, g.w], w: [cin, g.coutG, g.kh, g.kw], y: [g.n, g.coutG * g.groups, ho, wo],
    options: { stride: g.stride, padding: g.padding, outputPadding, dilation: g.dilation, groups: g.groups },
  };
}).filter((g) => g.y[2]! >= 1 && g.y[3]! >= 1);

/** Options of `checkDerivative`. */
export interface DerivativeCheckOptions {
  /** Seeds the direction v and the output weighting r. */
  readonly seed: number;
  /** Indices of the inputs to differentiate (default all); the others stay fixed. */
  readonly wrt?: readonly number[];
  /** Central-difference step (default 1e-4). */
  readonly h?: number;
  /** Relative tolerance (default 1e-6). */
  readonly rtol?: number;
  /**
   * Floor of the relative error's denominator, which is max(|analytic|, |numeric|, Σᵢ|∂ᵢL·vᵢ|,
   * floor). The default 1e-4 lets an absolute error of rtol·floor = 1e-10 pass where the
   * derivative is ~0 (tanh'' at 0): the round-off of the central difference, ~1e-16·|L| / h.
   */
  readonly floor?: number;
}

/** What a derivative check measured. */
export interface DerivativeCheck {
  /** <∇f(x), v> from `valueAndGrad`. */
  readonly analytic: number;
  /** (L(x + hv) − L(x − hv)) / 2h. */
  readonly numeric: number;
  /** The gradient of every input (also those not differentiated), as host values. */
  readonly grads: number[][];
}

function describeInputs(inputs: readonly HostTensor[]): string {
  return inputs.map((x) => `[${x.shape.join(', ')}]`).join(', ');
}

/**
 * Checks the directional derivative of `f` (any output shape; reduced to the scalar
 * L(x) = sum(f(x)·r) with a fixed random weighting r so every output element matters) along a
 * random direction v: the central difference D(h) = (L(x + hv) − L(x − hv)) / 2h against
 * <∇L(x), v> from `valueAndGrad`, within rtol relative to max(|a|, |b|, Σ|∂L·v|, floor) plus the
 * central difference's own truncation error, estimated as |D(h) − D(2h)|.
 */
export async function checkDerivative(name: string, f: (xs: Tensor[]) => Tensor, inputs: readonly HostTensor[], options: DerivativeCheckOptions): Promise<DerivativeCheck> {
  const { seed, h = 1e-4, rtol = 1e-6, floor = 1e-4 } = options;
  const wrt = options.wrt ?? inputs.map((_, i) => i);
  const rng = mulberry32(seed);
  const dirs = inputs.map((x, i) => (wrt.includes(i) ? uniformValues(rng, x.data.length) : new Array<number>(x.data.length).fill(0)));
  const moved = (s: number): HostTensor[] => inputs.map((x, i) => ({ shape: x.shape, data: x.data.map((v, k) => v + s * h * dirs[i]![k]!) }));
  const out = scope(() => {
    const xs = inputs.map(toTensor);
    const y0 = f(xs);
    const r = tensor(uniformValues(rng, y0.size), y0.shape);
    const loss = (zs: Tensor[]): Tensor => sum(mul(f(zs), r));
    const [value, grads] = valueAndGrad(loss)(xs);
    const at = (step: number): Tensor => loss(moved(step).map(toTensor));
    return { value, grads, plus: at(1), minus: at(-1), plus2: at(2), minus2: at(-2) };
  });
  try {
    assert.equal(out.grads.length, inputs.length, `${name}: one gradient per input`);
    const grads = await Promise.all(out.grads.map(values));
    out.grads.forEach((g, i) => assert.deepEqual(g.shape, inputs[i]!.shape, `${name}: gradient ${i} has the input's shape`));
    const analytic = grads.reduce((s, g, i) => s + dot(g, dirs[i]!), 0);
    const central = async (plus: Tensor, minus: Tensor, step: number) => ((await values(plus))[0]! - (await values(minus))[0]!) / (2 * step);
    const numeric = await central(out.plus, out.minus, h);
    // NOTE: D(h) − D(2h) ≈ −3·(the O(h²) truncation error of D(h)). It is allowed on top of the
    // relative tolerance: where the derivative is small next to the third derivatives (∂(a/b)
    // at a = 0 along a and b jointly), h = 1e-4 cannot resolve 1e-6 relative; a wrong derivative
    // is off by far more than h², at any step.
    const truncation = Math.abs(numeric - (await central(out.plus2, out.minus2, 2 * h)));
    // NOTE: the denominator also includes Σ|∂ᵢL·vᵢ|, the size <∇L, v> would have without
    // cancellation between its terms: a random weighting r and direction v can make the sum far
    // smaller than its terms, while the central difference's O(h²) truncation error scales with
    // the terms. A wrong derivative of even one element still shows at ~|∂ₖL·vₖ| ≫ 1e-6·scale.
    const scale = grads.reduce((s, g, i) => s + g.reduce((t, gk, k) => t + Math.abs(gk * dirs[i]![k]!), 0), 0);
    const denom = Math.max(Math.abs(analytic), Math.abs(numeric), scale, floor);
    const err = Math.abs(analytic - numeric) / denom;
    const allowed = rtol + truncation / denom;
    assert.ok(Number.isFinite(analytic) && Number.isFinite(numeric), `${name}: non-finite derivative (analytic ${analytic}, numeric ${numeric}) for inputs ${describeInputs(inputs)}`);
    assert.ok(err <= allowed, `${name}: <∇f, v> = ${analytic} but the central difference gives ${numeric} (relative error ${err.toExponential(2)} > ${rtol} + truncation ${(truncation / denom).toExponential(2)}; Σ|∂L·v| = ${scale.toExponential(2)}) for inputs ${describeInputs(inputs)}`);
    return { analytic, numeric, grads };
  } finally {
    dispose(out);
  }
}

/**
 * Checks second derivatives: for f(x) = sum(r·g(x)) and a fixed direction v, the gradient of
 * F(x) = Σᵢ <∇ᵢf(x), vᵢ> (computed with `grad` inside `grad`) against central differences of F.
 * `outer` picks the inputs whose gradients enter F (default all).
 */
export async function checkSecondDerivative(name: string, g: (xs: Tensor[]) => Tensor, inputs: readonly HostTensor[], options: DerivativeCheckOptions & { readonly outer?: readonly number[] }): Promise<DerivativeCheck> {
  const rng = mulberry32(options.seed ^ 0x9e3779b9);
  const outer = options.outer ?? inputs.map((_, i) => i);
  const vs = inputs.map((x, i) => (outer.includes(i) ? uniformValues(rng, x.data.length) : null));
  const weightSeed = Math.floor(rng() * 0x7fffffff);
  const F = (xs: Tensor[]): Tensor => {
    const y0 = g(xs);
    const r = tensor(uniformValues(mulberry32(weightSeed), y0.size), y0.shape);
    const gs = grad((zs: Tensor[]) => sum(mul(g(zs), r)))(xs);
    const terms: Tensor[] = [];
    gs.forEach((gi, i) => {
      const v = vs[i];
      if (v) terms.push(sum(mul(gi, tensor(v, inputs[i]!.shape))));
    });
    if (terms.length === 0) throw new Error(`${name}: no outer input`);
    return terms.reduce((a, b) => add(a, b));
  };
  return checkDerivative(`${name} (grad of grad)`, F, inputs, options);
}

/**
 * Largest |got − ref| / max(1, max |ref| over the finite values of ref): the relative error of a
 * whole array, scaled by its magnitude. Non-finite values must match exactly (else Infinity); NaN
 * anywhere else is Infinity.
 */
export function maxRelErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < ref.length; i++) if (Number.isFinite(ref[i]!)) scale = Math.max(scale, Math.abs(ref[i]!));
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(ref[i]!) || !Number.isFinite(got[i]!)) {
      if (!Object.is(got[i], ref[i])) return Infinity;
      continue;
    }
    err = Math.max(err, Math.abs(got[i]! - ref[i]!) / scale);
  }
  return err;
}
