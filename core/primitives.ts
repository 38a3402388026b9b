/**
 * The primitive operations: the only operations a backend implements. Everything else in the
 * library is composed of these. Each primitive's parameters are declared here once; the shape and
 * derivative rules (`core/rules.ts`) and every backend's kernels are exhaustive tables over
 * `PrimName`, so a primitive missing anywhere is a compile error.
 */

/** Unary elementwise primitives. */
export type UnaryPrim = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign';
/** Binary elementwise primitives (NumPy broadcasting). */
export type BinaryPrim = 'add' | 'sub' | 'mul' | 'div' | 'pow';
/** Comparison operators of the `compare` primitive (result 1 where true, else 0). */
export type CompareOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

/** Parameters shared by the convolution family. Paddings are explicit: [top, bottom, left, right]. */
export interface ConvParams {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/** Parameters of every primitive, by name. */
export interface PrimParams {
  readonly neg: Record<string, never>;
  readonly exp: Record<string, never>;
  readonly log: Record<string, never>;
  readonly sqrt: Record<string, never>;
  readonly abs: Record<string, never>;
  readonly sign: Record<string, never>;
  readonly add: Record<string, never>;
  readonly sub: Record<string, never>;
  readonly mul: Record<string, never>;
  readonly div: Record<string, never>;
  readonly pow: Record<string, never>;
  readonly compare: { readonly op: CompareOp };
  /** where(cond, a, b): a where cond ≠ 0, else b; all three broadcast. */
  readonly where: Record<string, never>;
  /** Sum over `axes`, keeping them as extent 1. */
  readonly sum: { readonly axes: readonly number[] };
  /** Maximum over `axes`, keeping them as extent 1. */
  readonly max: { readonly axes: readonly number[] };
  /** Index of the first maximum along `axis`, kept as extent 1 (float32 indices). */
  readonly argmax: { readonly axis: number };
  readonly reshape: { readonly shape: readonly number[] };
  /** Broadcast to `shape` of the same rank (extent-1 axes repeat). */
  readonly broadcast: { readonly shape: readonly number[] };
  /** Output axis i is input axis perm[i]. */
  readonly permute: { readonly perm: readonly number[] };
  /** Constant padding: widths[i] = [before, after] on axis i, filled with `value`. */
  readonly pad: { readonly widths: ReadonlyArray<readonly [number, number]>; readonly value: number };
  /** Contiguous block starting at `begin` with extents `size`. */
  readonly slice: { readonly begin: readonly number[]; readonly size: readonly number[] };
  /** Joins any number of inputs along `axis`. */
  readonly concat: { readonly axis: number };
  /** Batched matrix product [B, M, K] × [B, K, N] → [B, M, N], operands optionally transposed. */
  readonly matmul: { readonly transA: boolean; readonly transB: boolean };
  /** x [N, C, H, W] ⋆ w [O, C/groups, kh, kw] → [N, O, H', W']. */
  readonly conv2d: ConvParams;
  /** Gradient of conv2d with respect to x: dy [N, O, H', W'], w → [N, C, H, W] = inputShape. */
  readonly conv2dBackpropInput: ConvParams & { readonly inputShape: readonly [number, number, number, number] };
  /** Gradient of conv2d with respect to w: x, dy → [O, C/groups, kh, kw] = filterShape. */
  readonly conv2dBackpropFilter: ConvParams & { readonly filterShape: readonly [number, number, number, number] };
}

/** Names of the primitives. */
export type PrimName = keyof PrimParams;

/** Every primitive name, in a fixed order (for tests that iterate all of them). */
export const PRIM_NAMES: readonly PrimName[] = Object.keys({
  neg: 0, exp: 0, log: 0, sqrt: 0, abs: 0, sign: 0,
  add: 0, sub: 0, mul: 0, div: 0, pow: 0,
  compare: 0, where: 0, sum: 0, max: 0, argmax: 0,
  reshape: 0, broadcast: 0, permute: 0, pad: 0, slice: 0, concat: 0,
  matmul: 0, conv2d: 0, conv2dBackpropInput: 0, conv2dBackpropFilter: 0,
} satisfies { [P in PrimName]: 0 }) as PrimName[];
