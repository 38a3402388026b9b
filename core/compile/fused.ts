/**
 * The fused-kernel IR: what a backend compiles when `jit` fuses a chain of elementwise primitives
 * into one kernel. A fused kernel visits every element of one output shape in row-major order and
 * runs a short SSA program per element: loads from its inputs (through broadcast strides),
 * float32 constants, and the elementwise primitives. It may store several of the program's values,
 * each into its own output buffer of that shape.
 *
 * The operator tables are exhaustive mapped types over the elementwise primitives: a new unary or
 * binary primitive (or comparison) does not compile until every lowering handles it.
 *
 * NOTE: numerics. A lowering computes each operation exactly as the backend's own kernel for that
 * primitive does, and rounds every value to the backend's storage precision before the next one
 * uses it, so a fused kernel's outputs are bit-identical to running the primitives one by one.
 */
import type { BinaryPrim, CompareOp, UnaryPrim } from '../primitives.js';
import { sizeOf, stridesOf, type Shape } from '../shape.js';

/** One instruction of a fused program; operands are indices of earlier instructions. */
export type FusedOp =
  /** The element of input `input` at the current output index (read through its strides). */
  | { readonly kind: 'load'; readonly input: number }
  /** A constant, given as the host number that was uploaded: round it as the backend's upload would. */
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly op: UnaryPrim; readonly a: number }
  | { readonly kind: 'binary'; readonly op: BinaryPrim; readonly a: number; readonly b: number }
  /** 1 where `a op b`, else 0. */
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly a: number; readonly b: number }
  /** `a` where `c ≠ 0`, else `b`. */
  | { readonly kind: 'where'; readonly c: number; readonly a: number; readonly b: number };

/** An input of a fused kernel: its own shape and how it is read. */
export interface FusedInput {
  /** The input buffer's shape (row-major, contiguous). */
  readonly shape: Shape;
  /**
   * Element strides over the kernel's output axes (same rank as `FusedKernel.shape`): the element
   * read at output index (i₀, …, iₙ₋₁) is at Σ iₖ·strides[k]. 0 on broadcast axes.
   */
  readonly strides: readonly number[];
  /**
   * Element offset of the read (default 0): the element read at output index (i₀, …, iₙ₋₁) is at
   * offset + Σ iₖ·strides[k] (a slice of the input, e.g. one class or the channels of a skip).
   */
  readonly offset?: number;
}

/** A fused elementwise kernel. */
export interface FusedKernel {
  /** The shape of every output. */
  readonly shape: Shape;
  readonly inputs: readonly FusedInput[];
  /** The per-element program, in order; every operand refers to an earlier instruction. */
  readonly ops: readonly FusedOp[];
  /** Instructions whose values are stored, one output buffer each, in this order. */
  readonly outputs: readonly number[];
}

/** Runs a compiled fused kernel: input handles in, one new output handle per `outputs` entry. */
export type FusedRunner<H> = (inputs: readonly { readonly handle: H; readonly shape: Shape }[]) => H[];

/**
 * One fused program applied to several independent groups in one launch (an optimizer's update of
 * every parameter tensor, as PyTorch's multi-tensor "foreach" kernels do). `kernel` is the program
 * over a 1-D shape: each of its inputs is read in element order (`strides: [1]`, as many elements
 * as the output) or is a single value (`shape: [1]`, `strides: [0]`), so the program does not
 * depend on a segment's size. Segment s computes `sizes[s]` elements from its own inputs into its
 * own outputs; `kernel.shape` is `[sizes[0]]`.
 */
export interface FusedBatch {
  readonly kernel: FusedKernel;
  /** Elements of each segment (every output of segment s has `sizes[s]` elements). */
  readonly sizes: readonly number[];
}

/**
 * Runs a compiled batch: for each segment, its input handles (in the kernel's input order); returns
 * for each segment one new output handle per `kernel.outputs` entry.
 */
export type FusedBatchRunner<H> = (segments: readonly (readonly { readonly handle: H; readonly shape: Shape }[])[]) => H[][];

/** Exhaustive tables of what a lowering emits for each elementwise operator. */
export interface FusedOpTable<U, B = U, C = B> {
  readonly unary: { readonly [P in UnaryPrim]: U };
  readonly binary: { readonly [P in BinaryPrim]: B };
  readonly compare: { readonly [P in CompareOp]: C };
}

/**
 * The kernel's iteration space with axes merged where every input stays affine (contiguous
 * neighbours, or broadcast along both) and extent-1 axes dropped: the same elements in the same
 * order, with fewer, longer loops. Always at least one axis.
 */
export function collapseFused(kernel: FusedKernel): { readonly dims: number[]; readonly strides: number[][] } {
  const dims: number[] = [];
  const strides: number[][] = kernel.inputs.map(() => []);
  kernel.shape.forEach((e, d) => {
    if (e === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && kernel.inputs.every((inp, k) => strides[k]![last] === inp.strides[d]! * e)) {
      dims[last] = dims[last]! * e;
      kernel.inputs.forEach((inp, k) => (strides[k]![last] = inp.strides[d]!));
    } else {
      dims.push(e);
      kernel.inputs.forEach((inp, k) => strides[k]!.push(inp.strides[d]!));
    }
  });
  if (dims.length === 0) {
    dims.push(sizeOf(kernel.shape));
    strides.forEach((s) => s.push(0));
  }
  return { dims, strides };
}

/** The instructions an instruction reads. */
export function fusedOperands(op: FusedOp): number[] {
  switch (op.kind) {
    case 'load':
    case 'const':
      return [];
    case 'unary':
      return [op.a];
    case 'binary':
    case 'compare':
      return [op.a, op.b];
    case 'where':
      return [op.c, op.a, op.b];
  }
}

/** True when input `k` is read contiguously in output order (its strides are the output's). */
export function isContiguousInput(kernel: FusedKernel, k: number): boolean {
  const inp = kernel.inputs[k]!;
  if ((inp.offset ?? 0) !== 0 || sizeOf(inp.shape) !== sizeOf(kernel.shape)) return false;
  const full = stridesOf(kernel.shape);
  return kernel.shape.every((e, d) => e === 1 || inp.strides[d] === full[d]);
}

/** A readable one-line rendering of a fused program (for debugging and error messages). */
export function showFused(kernel: FusedKernel): string {
  const ops = kernel.ops.map((o, i) => {
    switch (o.kind) {
      case 'load': return `%${i}=in${o.input}${kernel.inputs[o.input]?.offset ? `@${kernel.inputs[o.input]!.offset}` : ''}`;
      case 'const': return `%${i}=${o.value}`;
      case 'unary': return `%${i}=${o.op}(%${o.a})`;
      case 'binary': return `%${i}=${o.op}(%${o.a},%${o.b})`;
      case 'compare': return `%${i}=${o.op}(%${o.a},%${o.b})`;
      case 'where': return `%${i}=where(%${o.c},%${o.a},%${o.b})`;
    }
  });
  return `fused[${kernel.shape.join('x')}] ${ops.join(' ')} -> ${kernel.outputs.map((o) => `%${o}`).join(',')}`;
}
