/**
 * Random fused programs (the IR of `core/compile/fused.ts`) and the values they run on, shared by
 * the `wasm` fused-kernel specs (`wasm-fused.test.ts`, `wasm-fused-batch.test.ts`): the operator
 * lists, special constants and input values (zeros of both signs, subnormals, huge values,
 * non-finite values, NaNs with several payloads), seeded value arrays, fast-check arbitraries of
 * instructions and programs, hand-written instructions, and bitwise comparison of outputs.
 */
import fc from 'fast-check';
import type { FusedOp } from '../../core/compile/fused.js';
import type { BinaryPrim, CompareOp, UnaryPrim } from '../../core/primitives.js';

export const UNARY: readonly UnaryPrim[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign'];
export const BINARY: readonly BinaryPrim[] = ['add', 'sub', 'mul', 'div', 'pow'];
export const COMPARE: readonly CompareOp[] = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'];
/** Constants: zeros of both signs, tiny, huge, rounding, non-finite. */
/** Hand-written instructions: a load of input `input`, a constant, a unary, binary or compare op on earlier registers. */
export const load = (input: number): FusedOp => ({ kind: 'load', input });
export const konst = (value: number): FusedOp => ({ kind: 'const', value });
export const un = (op: UnaryPrim, a: number): FusedOp => ({ kind: 'unary', op, a });
export const bin = (op: BinaryPrim, a: number, b: number): FusedOp => ({ kind: 'binary', op, a, b });
export const cmp = (op: CompareOp, a: number, b: number): FusedOp => ({ kind: 'compare', op, a, b });

export const SPECIAL_CONSTS = [0, -0, 1, -1, 0.5, 2, 3, -2.5, 0.1, 1 / 3, 1e-30, -1e-30, 1e-45, 1e30, 3.4e38, 1e39, 16777217, Infinity, -Infinity, NaN];
/** Input values mixed into the random ones. */
export const SPECIAL_VALUES = [0, -0, 1, -1, 2, 0.5, -0.5, 1e-40, -1e-40, 1e30, -1e30, 3e38, Infinity, -Infinity, NaN];
/** Quiet NaNs of both signs and several payloads (as bits): which operand's NaN propagates shows. */
export const NAN_BITS = [0x7fc00000, 0xffc00000, 0x7fc00001, 0xffe12345, 0x7ff0f0f0];

/** Seeded values: mostly uniform in [-3, 3), some of every magnitude, some special. */
export function valuesFor(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const u = rnd();
    if (u < 0.05) bits[i] = NAN_BITS[Math.floor(rnd() * NAN_BITS.length)]!;
    else if (u < 0.15) out[i] = SPECIAL_VALUES[Math.floor(rnd() * SPECIAL_VALUES.length)]!;
    else if (u < 0.3) out[i] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 20 - 10);
    else out[i] = Math.round((rnd() * 6 - 3) * 64) / 64 + (rnd() < 0.5 ? rnd() * 1e-3 : 0);
  }
  return out;
}

/** One instruction over the `n` earlier ones and `nIn` inputs. */
export const arbOp = (n: number, nIn: number): fc.Arbitrary<FusedOp> => {
  const arg = fc.integer({ min: 0, max: n - 1 });
  return fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 0, max: nIn - 1 }).map((input): FusedOp => ({ kind: 'load', input })) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...SPECIAL_CONSTS), fc.double({ min: -100, max: 100 })).map((value): FusedOp => ({ kind: 'const', value })) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...UNARY), arg).map(([op, a]): FusedOp => ({ kind: 'unary', op, a })) },
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...BINARY), arg, arg).map(([op, a, b]): FusedOp => ({ kind: 'binary', op, a, b })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...COMPARE), arg, arg).map(([op, a, b]): FusedOp => ({ kind: 'compare', op, a, b })) },
    { weight: 2, arbitrary: fc.tuple(arg, arg, arg).map(([c, a, b]): FusedOp => ({ kind: 'where', c, a, b })) },
  );
};

/** A random program: loads of every input first, then `extra` random instructions. */
export const arbProgram = (nIn: number, extra: number): fc.Arbitrary<{ ops: FusedOp[]; outputs: number[] }> => {
  let arb: fc.Arbitrary<FusedOp[]> = fc.constant(Array.from({ length: nIn }, (_, k): FusedOp => ({ kind: 'load', input: k })));
  for (let i = 0; i < extra; i++) arb = arb.chain((ops) => arbOp(ops.length, nIn).map((op) => [...ops, op]));
  return arb.chain((ops) =>
    fc.array(fc.integer({ min: 0, max: ops.length - 1 }), { minLength: 0, maxLength: 2 }).map((more) => ({ ops, outputs: [ops.length - 1, ...more] })),
  );
};

/** The first element whose bits differ (0 for different lengths), or −1. */
export function firstDiff(a: Float32Array, b: Float32Array): number {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length), v = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (u.length !== v.length) return 0;
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return i;
  return -1;
}

/** The float32 bits of `x`, in hex (for messages). */
export function hexBits(x: number): string {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!.toString(16);
}
