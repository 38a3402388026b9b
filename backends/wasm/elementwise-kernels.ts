/**
 * SIMD elementwise and reduction kernels of the `wasm` backend's module.
 *
 * Broadcasting ops see their operands as 4-D strided views of a contiguous output
 * [d0, d1, d2, d3] (`elementwise.ts` collapses the shapes): each input has byte strides per axis
 * (0 along broadcast axes). A thread computes the output rows r ∈ [r0, r1) of the d0·d1·d2 rows of
 * length d3; the inner loop is f32x4 when every inner stride is 4 (contiguous) or 0 (splat).
 *
 * Reductions see the input as [e0, e1, e2, e3] with a flag per axis (1 = reduced); sums accumulate
 * in float64 like the reference, in the order of the reduced axes (a fixed order).
 */
import { F32, F32x4, F64, F64x2, FuncBuilder, get, I32, Local, ModuleBuilder, V128, type Expr, type Val } from './assembler.js';

type VOp = (a: Expr, b: Expr) => Expr;
type SOp = (a: Expr, b: Expr) => Expr;

const one = (): Expr => F32x4.splat(1);
const cmpV = (f: (a: Val, b: Val) => Expr): VOp => (a, b) => V128.and(f(a, b), one());
const cmpS = (f: (a: Val, b: Val) => Expr): SOp => (a, b) => F32.fromI32S(f(a, b));

/** Binary ops: vector and scalar forms (identical results lane by lane). */
export const BINARY_OPS: Readonly<Record<string, readonly [VOp, SOp]>> = {
  add: [F32x4.add, F32.add],
  sub: [F32x4.sub, F32.sub],
  mul: [F32x4.mul, F32.mul],
  div: [F32x4.div, F32.div],
  lt: [cmpV(F32x4.lt), cmpS(F32.lt)],
  le: [cmpV(F32x4.le), cmpS(F32.le)],
  gt: [cmpV(F32x4.gt), cmpS(F32.gt)],
  ge: [cmpV(F32x4.ge), cmpS(F32.ge)],
  eq: [cmpV(F32x4.eq), cmpS(F32.eq)],
  ne: [cmpV(F32x4.ne), cmpS(F32.ne)],
};

/** Unary ops over contiguous arrays: vector and scalar forms. */
export const UNARY_OPS: Readonly<Record<string, readonly [(a: Expr) => Expr, (a: Expr) => Expr]>> = {
  neg: [F32x4.neg, F32.neg],
  abs: [F32x4.abs, F32.abs],
  sqrt: [F32x4.sqrt, F32.sqrt],
};

const names = (...n: string[]): [string, 'i32'][] => n.map((x) => [x, 'i32']);

/**
 * Emits the row loop of a k-input broadcasting kernel: for each row r in [r0, r1), the inputs'
 * row addresses `ptr[i]` and the output row address `po` are set and `inner` emits the row.
 */
function rowLoop(f: FuncBuilder, d: readonly Local[], strides: readonly (readonly Local[])[], bases: readonly Local[], out: Local, r0: Local, r1: Local, ptr: readonly Local[], po: Local, inner: () => void): void {
  const r = f.local('i32'), t = f.local('i32'), i0 = f.local('i32'), i1 = f.local('i32'), i2 = f.local('i32');
  // pointer steps: next row (+s2), carry into axis 1 (+s1 − d2·s2), carry into axis 0 (+s0 − d1·s1)
  const c1 = strides.map(() => f.local('i32')), c0 = strides.map(() => f.local('i32'));
  const row = f.local('i32');
  strides.forEach((s, k) => {
    f.set(c1[k]!, I32.sub(s[1]!, I32.mul(d[2]!, s[2]!)));
    f.set(c0[k]!, I32.sub(s[0]!, I32.mul(d[1]!, s[1]!)));
  });
  // coordinates and pointers of the first row, then counted up row by row
  f.set(i2, I32.remU(r0, d[2]!));
  f.set(t, I32.divU(r0, d[2]!));
  f.set(i1, I32.remU(t, d[1]!));
  f.set(i0, I32.divU(t, d[1]!));
  const start = strides.map(() => f.local('i32'));
  strides.forEach((s, k) => f.set(start[k]!, I32.add(bases[k]!, I32.add(I32.add(I32.mul(i0, s[0]!), I32.mul(i1, s[1]!)), I32.mul(i2, s[2]!)))));
  f.set(row, I32.add(out, I32.shl(I32.mul(r0, d[3]!), 2)));
  f.for(r, r0, r1, 1, () => {
    strides.forEach((_, k) => f.set(ptr[k]!, start[k]!));
    f.set(po, row);
    inner();
    f.inc(row, I32.shl(d[3]!, 2));
    strides.forEach((s, k) => f.inc(start[k]!, s[2]!));
    f.inc(i2, 1);
    f.if(I32.eq(i2, d[2]!), () => {
      f.set(i2, 0);
      strides.forEach((_, k) => f.inc(start[k]!, c1[k]!));
      f.inc(i1, 1);
      f.if(I32.eq(i1, d[1]!), () => {
        f.set(i1, 0);
        strides.forEach((_, k) => f.inc(start[k]!, c0[k]!));
      });
    });
  });
}

/** Adds the elementwise and reduction kernels to the module. */
export function emitElementwise(m: ModuleBuilder): void {
  // ---- binary: bin_<op>(out, a, b, d0..d3, as0..as3, bs0..bs3, r0, r1)
  for (const [name, [vop, sop]] of Object.entries(BINARY_OPS)) {
    m.func(`bin_${name}`, names('out', 'a', 'b', 'd0', 'd1', 'd2', 'd3', 'as0', 'as1', 'as2', 'as3', 'bs0', 'bs1', 'bs2', 'bs3', 'r0', 'r1'), [],
      (f, out, a, b, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3, r0, r1) => {
        const pa = f.local('i32'), pb = f.local('i32'), po = f.local('i32'), j = f.local('i32'), n4 = f.local('i32');
        const av = f.local('v128'), bv = f.local('v128');
        f.set(n4, I32.and(d3, -4));
        rowLoop(f, [d0, d1, d2, d3], [[as0, as1, as2], [bs0, bs1, bs2]], [a, b], out, r0, r1, [pa, pb], po, () => {
          const tail = () => {
            f.for(j, n4, d3, 1, () => {
              f.store(po, sop(F32.load(pa), F32.load(pb)));
              f.inc(pa, as3);
              f.inc(pb, bs3);
              f.inc(po, 4);
            });
          };
          f.if(I32.and(I32.eq(as3, 4), I32.eq(bs3, 4)), () => {
            f.for(j, 0, n4, 4, () => {
              f.store(po, vop(V128.load(pa), V128.load(pb)));
              f.inc(pa, 16);
              f.inc(pb, 16);
              f.inc(po, 16);
            });
            tail();
          }, () => {
            f.if(I32.and(I32.eq(as3, 4), I32.eqz(bs3)), () => {
              f.set(bv, V128.load32Splat(pb));
              f.for(j, 0, n4, 4, () => {
                f.store(po, vop(V128.load(pa), get(bv)));
                f.inc(pa, 16);
                f.inc(po, 16);
              });
              tail();
            }, () => {
              f.if(I32.and(I32.eqz(as3), I32.eq(bs3, 4)), () => {
                f.set(av, V128.load32Splat(pa));
                f.for(j, 0, n4, 4, () => {
                  f.store(po, vop(get(av), V128.load(pb)));
                  f.inc(pb, 16);
                  f.inc(po, 16);
                });
                tail();
              }, () => {
                f.set(n4, 0);
                tail();
                f.set(n4, I32.and(d3, -4));
              });
            });
          });
        });
      });
  }

  // ---- unary over contiguous arrays: un_<op>(out, x, i0, i1) (element range)
  for (const [name, [vop, sop]] of Object.entries(UNARY_OPS)) {
    m.func(`un_${name}`, names('out', 'x', 'i0', 'i1'), [], (f, out, x, i0, i1) => {
      const i = f.local('i32'), end4 = f.local('i32');
      f.set(end4, I32.add(i0, I32.and(I32.sub(i1, i0), -4)));
      f.for(i, i0, end4, 4, () => f.store(I32.add(out, I32.shl(i, 2)), vop(V128.load(I32.add(x, I32.shl(i, 2))))));
      f.for(i, end4, i1, 1, () => f.store(I32.add(out, I32.shl(i, 2)), sop(F32.load(I32.add(x, I32.shl(i, 2))))));
    });
  }

  // ---- where(out, c, a, b, d0..d3, cs0..cs3, as0..as3, bs0..bs3, r0, r1): c ≠ 0 ? a : b
  m.func('where', names('out', 'c', 'a', 'b', 'd0', 'd1', 'd2', 'd3', 'cs0', 'cs1', 'cs2', 'cs3', 'as0', 'as1', 'as2', 'as3', 'bs0', 'bs1', 'bs2', 'bs3', 'r0', 'r1'), [],
    (f, out, c, a, b, d0, d1, d2, d3, cs0, cs1, cs2, cs3, as0, as1, as2, as3, bs0, bs1, bs2, bs3, r0, r1) => {
      const pc = f.local('i32'), pa = f.local('i32'), pb = f.local('i32'), po = f.local('i32'), j = f.local('i32'), n4 = f.local('i32');
      const cv = f.local('v128'), av = f.local('v128'), bv = f.local('v128');
      const kind = f.local('i32');
      const okStride = (s: Local) => I32.or(I32.eq(s, 4), I32.eqz(s));
      // inner strides all contiguous or splat: a variant per combination (bit 2: c, 1: a, 0: b contiguous)
      f.set(kind, I32.select(I32.or(I32.or(I32.shl(I32.eq(cs3, 4), 2), I32.shl(I32.eq(as3, 4), 1)), I32.eq(bs3, 4)), -1,
        I32.and(I32.and(okStride(cs3), okStride(as3)), okStride(bs3))));
      rowLoop(f, [d0, d1, d2, d3], [[cs0, cs1, cs2], [as0, as1, as2], [bs0, bs1, bs2]], [c, a, b], out, r0, r1, [pc, pa, pb], po, () => {
        f.set(n4, 0);
        for (let variant = 0; variant < 8; variant++) {
          const cC = (variant & 4) !== 0, aC = (variant & 2) !== 0, bC = (variant & 1) !== 0;
          f.if(I32.eq(kind, variant), () => {
            f.set(n4, I32.and(d3, -4));
            if (!cC) f.set(cv, F32x4.ne(V128.load32Splat(pc), F32x4.splat(0)));
            if (!aC) f.set(av, V128.load32Splat(pa));
            if (!bC) f.set(bv, V128.load32Splat(pb));
            f.for(j, 0, n4, 4, () => {
              const mask = cC ? F32x4.ne(V128.load(pc), F32x4.splat(0)) : get(cv);
              f.store(po, V128.bitselect(aC ? V128.load(pa) : get(av), bC ? V128.load(pb) : get(bv), mask));
              if (cC) f.inc(pc, 16);
              if (aC) f.inc(pa, 16);
              if (bC) f.inc(pb, 16);
              f.inc(po, 16);
            });
          });
        }
        f.for(j, n4, d3, 1, () => {
          f.store(po, F32.select(F32.load(pa), F32.load(pb), F32.ne(F32.load(pc), 0)));
          f.inc(pc, cs3);
          f.inc(pa, as3);
          f.inc(pb, bs3);
          f.inc(po, 4);
        });
      });
    });

  // ---- strided copy: copy4(dst, src, d0..d3, ds0..ds3, ss0..ss3, r0, r1) over rows r of d0·d1·d2
  m.func('copy4', names('dst', 'src', 'd0', 'd1', 'd2', 'd3', 'ds0', 'ds1', 'ds2', 'ds3', 'ss0', 'ss1', 'ss2', 'ss3', 'r0', 'r1'), [],
    (f, dst, src, d0, d1, d2, d3, ds0, ds1, ds2, ds3, ss0, ss1, ss2, ss3, r0, r1) => {
      const pd = f.local('i32'), ps = f.local('i32'), j = f.local('i32'), n4 = f.local('i32'), sv = f.local('v128');
      const r = f.local('i32'), t = f.local('i32'), i0 = f.local('i32'), i1 = f.local('i32'), i2 = f.local('i32');
      f.set(i2, I32.remU(r0, d2));
      f.set(t, I32.divU(r0, d2));
      f.set(i1, I32.remU(t, d1));
      f.set(i0, I32.divU(t, d1));
      f.for(r, r0, r1, 1, () => {
        f.set(pd, I32.add(dst, I32.add(I32.add(I32.mul(i0, ds0), I32.mul(i1, ds1)), I32.mul(i2, ds2))));
        f.set(ps, I32.add(src, I32.add(I32.add(I32.mul(i0, ss0), I32.mul(i1, ss1)), I32.mul(i2, ss2))));
        f.set(n4, 0);
        f.if(I32.eq(ds3, 4), () => {
          f.if(I32.eq(ss3, 4), () => {
            f.set(n4, I32.and(d3, -4));
            f.for(j, 0, n4, 4, () => {
              f.store(pd, V128.load(ps));
              f.inc(pd, 16);
              f.inc(ps, 16);
            });
          }, () => {
            f.if(I32.eqz(ss3), () => {
              f.set(n4, I32.and(d3, -4));
              f.set(sv, V128.load32Splat(ps));
              f.for(j, 0, n4, 4, () => {
                f.store(pd, sv);
                f.inc(pd, 16);
              });
            });
          });
        });
        f.for(j, n4, d3, 1, () => {
          f.store(pd, F32.load(ps));
          f.inc(pd, ds3);
          f.inc(ps, ss3);
        });
        f.inc(i2, 1);
        f.if(I32.eq(i2, d2), () => {
          f.set(i2, 0);
          f.inc(i1, 1);
          f.if(I32.eq(i1, d1), () => {
            f.set(i1, 0);
            f.inc(i0, 1);
          });
        });
      });
    });

  // ---- fill(dst, value, i0, i1): dst[i] = value for i ∈ [i0, i1)
  m.func('fill', [['dst', 'i32'], ['value', 'f32'], ['i0', 'i32'], ['i1', 'i32']], [], (f, dst, value, i0, i1) => {
    const i = f.local('i32'), end4 = f.local('i32'), v = f.local('v128');
    f.set(v, F32x4.splat(value));
    f.set(end4, I32.add(i0, I32.and(I32.sub(i1, i0), -4)));
    f.for(i, i0, end4, 4, () => f.store(I32.add(dst, I32.shl(i, 2)), v));
    f.for(i, end4, i1, 1, () => f.store(I32.add(dst, I32.shl(i, 2)), value));
  });

  // ---- pairMax(out, x, B, a0, a1): out[a, b] = max of x[a, 0..1, b, 0..1] (2×2 max pooling
  // seen as a reduction over the axes of extent 2 of [A, 2, B, 2])
  m.func('pairMax', names('out', 'x', 'B', 'a0', 'a1'), [], (f, out, x, B, a0, a1) => {
    const a = f.local('i32'), j = f.local('i32'), p0 = f.local('i32'), p1 = f.local('i32'), po = f.local('i32'), n4 = f.local('i32');
    const m0 = f.local('v128'), m1 = f.local('v128');
    f.set(n4, I32.and(B, -4));
    f.for(a, a0, a1, 1, () => {
      f.set(p0, I32.add(x, I32.shl(I32.mul(a, I32.shl(B, 2)), 2)));
      f.set(p1, I32.add(p0, I32.shl(B, 3)));
      f.set(po, I32.add(out, I32.shl(I32.mul(a, B), 2)));
      f.for(j, 0, n4, 4, () => {
        f.set(m0, F32x4.max(V128.load(p0), V128.load(p1)));
        f.set(m1, F32x4.max(V128.load(p0, 16), V128.load(p1, 16)));
        f.store(po, F32x4.max(V128.shuffle(m0, m1, [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]), V128.shuffle(m0, m1, [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31])));
        f.inc(p0, 32);
        f.inc(p1, 32);
        f.inc(po, 16);
      });
      f.for(j, n4, B, 1, () => {
        f.store(po, F32.max(F32.max(F32.load(p0), F32.load(p0, 4)), F32.max(F32.load(p1), F32.load(p1, 4))));
        f.inc(p0, 8);
        f.inc(p1, 8);
        f.inc(po, 4);
      });
    });
  });

  // ---- reductions: red_sum / red_max(out, x, e0..e3, f0..f3, o0, o1, j0, j1)
  // Output "rows" are the combinations of the kept axes among e0..e2 (flattened, in order), o ∈
  // [o0, o1). With the inner axis kept, each row holds e3 outputs, of which [j0, j1) are computed
  // (four at a time); with it reduced, each row is one output.
  for (const kind of ['sum', 'max'] as const) {
    m.func(`red_${kind}`, names('out', 'x', 'e0', 'e1', 'e2', 'e3', 'f0', 'f1', 'f2', 'f3', 'o0', 'o1', 'j0', 'j1'), [],
      (f, out, x, e0, e1, e2, e3, f0, f1, f2, f3, o0, o1, j0, j1) => {
        const E = [e0, e1, e2], F = [f0, f1, f2];
        const K = f.localsOf('i32', 3, 'K'), k = f.localsOf('i32', 3, 'k'), lo = f.localsOf('i32', 3, 'lo'), hi = f.localsOf('i32', 3, 'hi'), i = f.localsOf('i32', 3, 'i');
        const S = f.localsOf('i32', 3, 'S');
        const o = f.local('i32'), t = f.local('i32'), base = f.local('i32'), p = f.local('i32'), j = f.local('i32'), q = f.local('i32'), n4 = f.local('i32');
        const po = f.local('i32'), rowLen = f.local('i32');
        const acc0 = f.local('v128'), acc1 = f.local('v128'), v = f.local('v128'), s64 = f.local('f64'), s32 = f.local('f32');
        // byte strides of the input axes
        f.set(S[2]!, I32.shl(e3, 2));
        f.set(S[1]!, I32.mul(S[2]!, e2));
        f.set(S[0]!, I32.mul(S[1]!, e1));
        for (let d = 0; d < 3; d++) f.set(K[d]!, I32.select(1, E[d]!, F[d]!));
        f.set(rowLen, I32.select(1, e3, f3));
        f.set(n4, I32.and(e3, -4));
        f.for(o, o0, o1, 1, () => {
          // output row → kept coordinates
          f.set(k[2]!, I32.remU(o, K[2]!));
          f.set(t, I32.divU(o, K[2]!));
          f.set(k[1]!, I32.remU(t, K[1]!));
          f.set(k[0]!, I32.divU(t, K[1]!));
          for (let d = 0; d < 3; d++) {
            f.set(lo[d]!, I32.select(0, k[d]!, F[d]!));
            f.set(hi[d]!, I32.select(E[d]!, I32.add(k[d]!, 1), F[d]!));
          }
          f.set(po, I32.add(out, I32.shl(I32.mul(o, rowLen), 2)));
          /** Loops over the reduced (and fixed kept) coordinates, calling body(base address). */
          const over = (body: () => void) => {
            f.for(i[0]!, lo[0]!, hi[0]!, 1, () => {
              f.for(i[1]!, lo[1]!, hi[1]!, 1, () => {
                f.for(i[2]!, lo[2]!, hi[2]!, 1, () => {
                  f.set(base, I32.add(x, I32.add(I32.add(I32.mul(i[0]!, S[0]!), I32.mul(i[1]!, S[1]!)), I32.mul(i[2]!, S[2]!))));
                  body();
                });
              });
            });
          };
          f.if(f3, () => {
            // inner axis reduced: one output per row
            if (kind === 'sum') {
              f.set(acc0, F64x2.promoteLow(F32x4.splat(0)));
              f.set(acc1, get(acc0));
              f.set(s64, 0);
              over(() => {
                f.set(p, base);
                f.for(q, 0, n4, 4, () => {
                  f.set(v, V128.load(p));
                  f.set(acc0, F64x2.add(acc0, F64x2.promoteLow(v)));
                  f.set(acc1, F64x2.add(acc1, F64x2.promoteLow(V128.shuffle(v, v, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]))));
                  f.inc(p, 16);
                });
                f.for(q, n4, e3, 1, () => {
                  f.set(s64, F64.add(s64, F64.fromF32(F32.load(p))));
                  f.inc(p, 4);
                });
              });
              f.set(acc0, F64x2.add(acc0, acc1));
              f.store(po, F32.fromF64(F64.add(F64.add(F64x2.extract(acc0, 0), F64x2.extract(acc0, 1)), s64)));
            } else {
              f.set(acc0, F32x4.splat(-Infinity));
              f.set(s32, -Infinity);
              over(() => {
                f.set(p, base);
                f.for(q, 0, n4, 4, () => {
                  f.set(acc0, F32x4.max(acc0, V128.load(p)));
                  f.inc(p, 16);
                });
                f.for(q, n4, e3, 1, () => {
                  f.set(s32, F32.max(s32, F32.load(p)));
                  f.inc(p, 4);
                });
              });
              f.store(po, F32.max(F32.max(F32.max(F32x4.extract(acc0, 0), F32x4.extract(acc0, 1)), F32.max(F32x4.extract(acc0, 2), F32x4.extract(acc0, 3))), s32));
            }
          }, () => {
            // inner axis kept: outputs j ∈ [j0, j1), four at a time
            f.set(j, j0);
            f.while(I32.leS(I32.add(j, 4), j1), () => {
              if (kind === 'sum') {
                f.set(acc0, F64x2.promoteLow(F32x4.splat(0)));
                f.set(acc1, get(acc0));
                over(() => {
                  f.set(v, V128.load(I32.add(base, I32.shl(j, 2))));
                  f.set(acc0, F64x2.add(acc0, F64x2.promoteLow(v)));
                  f.set(acc1, F64x2.add(acc1, F64x2.promoteLow(V128.shuffle(v, v, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]))));
                });
                f.store(I32.add(po, I32.shl(j, 2)), V128.shuffle(F32x4.demoteF64x2(acc0), F32x4.demoteF64x2(acc1), [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]));
              } else {
                f.set(acc0, F32x4.splat(-Infinity));
                over(() => f.set(acc0, F32x4.max(acc0, V128.load(I32.add(base, I32.shl(j, 2))))));
                f.store(I32.add(po, I32.shl(j, 2)), acc0);
              }
              f.inc(j, 4);
            });
            f.while(I32.ltS(j, j1), () => {
              if (kind === 'sum') {
                f.set(s64, 0);
                over(() => f.set(s64, F64.add(s64, F64.fromF32(F32.load(I32.add(base, I32.shl(j, 2)))))));
                f.store(I32.add(po, I32.shl(j, 2)), F32.fromF64(s64));
              } else {
                f.set(s32, -Infinity);
                over(() => f.set(s32, F32.max(s32, F32.load(I32.add(base, I32.shl(j, 2))))));
                f.store(I32.add(po, I32.shl(j, 2)), s32);
              }
              f.inc(j, 1);
            });
          });
        });
      });
  }
}
