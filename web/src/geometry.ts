/**
 * The playground's computation, pure (no DOM): masks G and S on an N×N grid, a blend t and a sign
 * convention → the signed distance map φ_G, the boundary loss L_B = mean_q φ_G(q)·s(q) and the
 * other losses for the same s, the gradient ∂L_B/∂s, the two sides of the identity
 * Σ_q φ_G(q)(s(q) − g(q)) = Σ_{q∈ΔS} D_G(q) and the contour-distance estimate
 * Dist(∂G, ∂S) ≈ 2·Σ_{ΔS} D_G (Kervadec et al., MIDL 2019, Eq. 2–5). The tensors run on the
 * library's selected backend; the sums of the identity run on the host in float64.
 */
import {
  InputError, boundaryLoss, crossEntropy, diceLoss, dispose, generalizedDiceLoss, oneHot, scope, signedDistanceMaps, tensor,
  valueAndGrad, type Tensor,
} from '../../browser.js';
import type { PlaygroundConvention, PlaygroundResults } from './api.js';

/** What {@link computeGeometry} returns: the page's results without `backend` and `ms`. */
export type GeometryResults = Omit<PlaygroundResults, 'backend' | 'ms'>;

/** The input of {@link computeGeometry}. */
export interface GeometryInput {
  /** G: N·N values, each 0 or 1, row-major. */
  readonly gt: ArrayLike<number>;
  /** S: N·N values, each 0 or 1, row-major. */
  readonly pred: ArrayLike<number>;
  /** Grid side N, a positive integer. */
  readonly size: number;
  /** t in [0, 1]: the prediction s = (1 − t)·S + t·G. */
  readonly blend: number;
  readonly convention: PlaygroundConvention;
  /**
   * When G and S are concentric disks: their radii, pixels; the results then carry the continuum
   * value of 2∫_ΔS D_G ({@link diskContinuum}).
   */
  readonly radii?: { readonly gt: number; readonly pred: number };
}

/** The input of {@link boundaryLossCurve}: {@link GeometryInput} without the blend and the radii. */
export type CurveInput = Pick<GeometryInput, 'gt' | 'pred' | 'size' | 'convention'>;

/** What {@link boundaryLossCurve} returns: L_B at each blend, the blends evenly spaced from 0 to 1. */
export interface BlendCurve {
  readonly blends: number[];
  readonly losses: number[];
}

const INPUT_KEYS: readonly string[] = ['gt', 'pred', 'size', 'blend', 'convention', 'radii'];

/**
 * The binary mask `values` (N·N entries, each 0 or 1) as a Uint8Array.
 *
 * @throws InputError naming `argument` for a wrong length or a value that is not 0 or 1 (with its index).
 */
export function readBinaryMask(op: string, argument: string, values: ArrayLike<number>, size: number): Uint8Array {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new InputError(op, argument, `expected ${size * size} values (an N×N mask, N = ${size}), got ${values === null ? 'null' : typeof values}`);
  }
  if (values.length !== size * size) {
    throw new InputError(op, argument, `expected ${size * size} values (an N×N mask, N = ${size}), got ${values.length}`);
  }
  const out = new Uint8Array(values.length);
  for (let q = 0; q < values.length; q++) {
    const v = values[q];
    if (v !== 0 && v !== 1) {
      throw new InputError(op, argument, `expected 0 or 1 at every pixel, got ${String(v)} at index ${q} (row ${Math.floor(q / size)}, column ${q % size})`);
    }
    out[q] = v;
  }
  return out;
}

function readSize(op: string, size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new InputError(op, 'input.size', `expected a positive integer, got ${String(size)}`);
  }
  return size;
}

function readConvention(op: string, convention: unknown): PlaygroundConvention {
  if (convention === 'reference' || convention === 'interface') return convention;
  throw new InputError(op, 'input.convention', `expected 'reference' or 'interface', got ${JSON.stringify(convention)}`);
}

/**
 * The blend t, a number in [0, 1].
 *
 * @throws InputError naming `argument` otherwise.
 */
export function readBlend(op: string, argument: string, blend: unknown): number {
  if (typeof blend !== 'number' || !Number.isFinite(blend) || blend < 0 || blend > 1) {
    throw new InputError(op, argument, `expected a number in [0, 1], got ${String(blend)}`);
  }
  return blend;
}

function checkInputKeys(op: string, input: unknown): void {
  if (input === null || typeof input !== 'object') {
    throw new InputError(op, 'input', `expected an object { ${INPUT_KEYS.join(', ')} }, got ${input === null ? 'null' : typeof input}`);
  }
  const unknown = Object.keys(input).filter((k) => !INPUT_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new InputError(op, `input.${unknown[0]}`, `unknown key; the keys are ${INPUT_KEYS.join(', ')}`);
  }
}

function readRadii(op: string, radii: unknown): { gt: number; pred: number } | undefined {
  if (radii === undefined) return undefined;
  const r = radii as { gt?: unknown; pred?: unknown } | null;
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (r === null || typeof r !== 'object' || !ok(r.gt) || !ok(r.pred)) {
    throw new InputError(op, 'input.radii', `expected { gt, pred }, two finite radii ≥ 0 in pixels, got ${JSON.stringify(radii)}`);
  }
  return { gt: r.gt as number, pred: r.pred as number };
}

/** s[q] = (1 − t)·S[q] + t·G[q], computed in float32. */
export function blendPrediction(gt: Uint8Array, pred: Uint8Array, blend: number): Float32Array {
  const s = new Float32Array(gt.length);
  for (let q = 0; q < gt.length; q++) s[q] = Math.fround((1 - blend) * pred[q]! + blend * gt[q]!);
  return s;
}

/** φ_G as `signedDistanceMaps` gives it for classes {0, 1}: `[1, 2, N, N]`, float32 (class 1 is the second half). */
function distanceMaps(gt: Uint8Array, size: number, convention: PlaygroundConvention): Float32Array {
  return signedDistanceMaps({ data: gt, shape: [1, size, size] }, { classes: 2, batched: true, convention }).data;
}

/** The probabilities `[1, 2, N, N]` of s: float32 `[1 − s, s]`. */
function probabilities(s: Float32Array): Float32Array {
  const p = new Float32Array(2 * s.length);
  for (let q = 0; q < s.length; q++) {
    p[q] = Math.fround(1 - s[q]!);
    p[s.length + q] = s[q]!;
  }
  return p;
}

/**
 * The two sides of the identity Σ_q φ_G(q)(s(q) − g(q)) = Σ_{q: S(q) ≠ G(q)} |φ_G(q)|, in float64,
 * summed in row-major order. `phi` is the foreground class's map (N·N values).
 */
export function identitySides(phi: ArrayLike<number>, s: ArrayLike<number>, gt: Uint8Array, pred: Uint8Array): { lhs: number; rhs: number } {
  let lhs = 0;
  let rhs = 0;
  for (let q = 0; q < gt.length; q++) {
    lhs += phi[q]! * (s[q]! - gt[q]!);
    if (pred[q] !== gt[q]) rhs += Math.abs(phi[q]!);
  }
  return { lhs, rhs };
}

/**
 * The continuum value of 2·∫_ΔS D_G for concentric disks G and S of radii `gt` and `pred` (pixels):
 * 2·2π·|∫_{R_G}^{R_S} (r − R_G)·r dr| = 4π·|R_S³/3 − R_G·R_S²/2 + R_G³/6| = (2π/3)·(R_S − R_G)²·(2R_S + R_G),
 * in pixels² (the units of the discrete 2·Σ_ΔS D_G); the last form is the one computed (no
 * cancellation: exactly 0 for equal radii). For R_S = R_G + δ it is ≈ 2π·R_G·δ², the perimeter times δ².
 *
 * @throws InputError naming `gt` or `pred` for a radius that is negative or not finite.
 */
export function diskContinuum(gt: number, pred: number): number {
  for (const [argument, r] of [['gt', gt], ['pred', pred]] as const) {
    if (typeof r !== 'number' || !Number.isFinite(r) || r < 0) {
      throw new InputError('diskContinuum', argument, `expected a finite radius ≥ 0 in pixels, got ${String(r)}`);
    }
  }
  return ((2 * Math.PI) / 3) * (pred - gt) ** 2 * (2 * pred + gt);
}

/**
 * Computes every number and map the playground shows for masks G and S, blend t and convention c:
 * φ = `signedDistanceMaps` of G (classes 2, convention c); p = `[1 − s, s]`, the target the one-hot
 * of G, both `[1, 2, N, N]`; `boundaryLoss(p, φ, { idc: [1] })`, `generalizedDiceLoss(p, target,
 * { weights: 'monai' })`, `diceLoss(p, target)`, `crossEntropy(p, target)`; the gradient of the
 * boundary loss with respect to p (its class-1 half: ∂L_B/∂s = φ_G/N²); the identity's sides
 * ({@link identitySides}); contour = 2·rhs; and, when `radii` is given, the disk continuum value.
 * Runs on the selected backend; every tensor it makes is released before it resolves.
 *
 * @throws InputError naming `input`, `input.gt`, `input.pred`, `input.size`, `input.blend`,
 *   `input.convention`, `input.radii` or an unknown key of `input`.
 */
export async function computeGeometry(input: GeometryInput): Promise<GeometryResults> {
  const op = 'computeGeometry';
  checkInputKeys(op, input);
  const size = readSize(op, input.size);
  const gt = readBinaryMask(op, 'input.gt', input.gt, size);
  const pred = readBinaryMask(op, 'input.pred', input.pred, size);
  const blend = readBlend(op, 'input.blend', input.blend);
  const convention = readConvention(op, input.convention);
  const radii = readRadii(op, input.radii);
  const voxels = size * size;
  const maps = distanceMaps(gt, size, convention);
  const phi = maps.subarray(voxels);
  const s = blendPrediction(gt, pred, blend);
  const shape = [1, 2, size, size];
  // Every tensor is made in one synchronous block, on the backend selected when it starts.
  const outputs = scope(() => {
    const distMaps = tensor(maps, shape);
    const p = tensor(probabilities(s), shape);
    const target = oneHot(tensor(Float32Array.from(gt), [1, size, size]), 2);
    const [loss, gradient] = valueAndGrad((q: Tensor) => boundaryLoss(q, distMaps, { idc: [1] }))(p);
    return {
      loss,
      gradient,
      gdl: generalizedDiceLoss(p, target, { weights: 'monai' }),
      dice: diceLoss(p, target),
      ce: crossEntropy(p, target),
    };
  });
  try {
    const [loss, gradient, gdl, dice, ce] = await Promise.all(
      [outputs.loss, outputs.gradient, outputs.gdl, outputs.dice, outputs.ce].map((t) => t.data()),
    );
    const identity = identitySides(phi, s, gt, pred);
    const results: GeometryResults = {
      convention,
      size,
      blend,
      boundaryLoss: loss![0]!,
      gdl: gdl![0]!,
      dice: dice![0]!,
      ce: ce![0]!,
      identity,
      contour: 2 * identity.rhs,
      phi: Array.from(phi),
      grad: Array.from(gradient!.subarray(voxels)),
    };
    if (radii) results.continuum = diskContinuum(radii.gt, radii.pred);
    return results;
  } finally {
    dispose(outputs);
  }
}

/**
 * The boundary loss L_B(t) = `boundaryLoss(p_t, φ, { idc: [1] })` for the blends t = i/(points − 1),
 * i = 0 … points − 1, with p_t = `[1 − s_t, s_t]` and s_t = (1 − t)·S + t·G as in
 * {@link computeGeometry}: how L_B falls as S approaches G (it is linear in t up to float32 rounding).
 *
 * @param points number of blends, an integer ≥ 2 (default 11).
 * @throws InputError naming `input`, `input.gt`, `input.pred`, `input.size`, `input.convention` or `points`.
 */
export async function boundaryLossCurve(input: CurveInput, points = 11): Promise<BlendCurve> {
  const op = 'boundaryLossCurve';
  checkInputKeys(op, input);
  const size = readSize(op, input.size);
  const gt = readBinaryMask(op, 'input.gt', input.gt, size);
  const pred = readBinaryMask(op, 'input.pred', input.pred, size);
  const convention = readConvention(op, input.convention);
  if (typeof points !== 'number' || !Number.isInteger(points) || points < 2) {
    throw new InputError(op, 'points', `expected an integer ≥ 2, got ${String(points)}`);
  }
  const maps = distanceMaps(gt, size, convention);
  const shape = [1, 2, size, size];
  const blends = Array.from({ length: points }, (_, i) => i / (points - 1));
  const losses = scope(() => {
    const distMaps = tensor(maps, shape);
    return blends.map((t) => boundaryLoss(tensor(probabilities(blendPrediction(gt, pred, t)), shape), distMaps, { idc: [1] }));
  });
  try {
    const values = await Promise.all(losses.map((t) => t.data()));
    return { blends, losses: values.map((v) => v[0]!) };
  } finally {
    dispose(losses);
  }
}
