/**
 * Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (Lavin & Gray 2016): each 2×2 output tile is
 * Aᵀ [ Σ_c (G g Gᵀ) ⊙ (Bᵀ d B) ] A over the tile's 4×4 input patch d, so the channel reduction is
 * 16 independent GEMMs [O × C]·[C × tiles] with 16/36 of the direct convolution's multiplies.
 * Tiles are processed in blocks whose transformed inputs V [16][C][TB] and products M [16][O][TB]
 * stay in L2: input transform, 16 GEMMs (the same register-blocked tile kernel as everything else),
 * output transform. Blocks are split among the threads; each output element is computed by the same
 * instructions whichever thread owns its block (fixed order over c), so results do not depend on
 * the thread count.
 *
 * Layouts: the input in the phase layout of `kernels.ts` at stride 1 ([n][u][c][v], zero-padded so
 * every padded-tile patch exists); U [16][O][C] (row-major per ξ = 4a + b), packed per ξ into MR-row
 * panels by `packA`.
 */
import { F32, F32x4, get, I32, I32x4, ModuleBuilder, V128, type Expr, type FuncRef, type Local } from './assembler.js';
import { mulAdd } from './microkernel.js';

/** All-ones lanes when `v` ≠ 0. */
const I32x4Mask = (v: Local): Expr => I32x4.splat(I32.sub(0, I32.ne(v, 0)));

const names = (...n: string[]): [string, 'i32'][] => n.map((x) => [x, 'i32']);
/** A 32-bit lane shuffle as byte indices (lanes 0–3 of a, 4–7 of b). */
const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

/**
 * Adds the Winograd kernels; `tile` is the register-blocked GEMM tile of MR×NR with B rows at a
 * stride (its `table` argument).
 */
export function emitWinograd(m: ModuleBuilder, tile: FuncRef, MR: number, NR: number): FuncRef {
  /** winoFilter(w, U, O, C, o0, o1): U[ξ][o][c] = (G g Gᵀ)[ξ] of w[o][c] (3×3), o ∈ [o0, o1). */
  m.func('winoFilter', names('w', 'U', 'O', 'C', 'o0', 'o1'), [], (f, w, U, O, C, o0, o1) => {
    const o = f.local('i32'), c = f.local('i32'), src = f.local('i32'), xiStride = f.local('i32'), dst = f.local('i32');
    const g = f.localsOf('f32', 9, 'g'), t = f.localsOf('f32', 12, 't');
    f.set(xiStride, I32.shl(I32.mul(O, C), 2));
    f.for(o, o0, o1, 1, () => {
      f.for(c, 0, C, 1, () => {
        f.set(src, I32.add(w, I32.shl(I32.mul(I32.add(I32.mul(o, C), c), 9), 2)));
        for (let k = 0; k < 9; k++) f.set(g[k]!, F32.load(src, 4 * k));
        // t = G g (4×3)
        for (let j = 0; j < 3; j++) {
          f.set(t[j]!, g[j]!);
          f.set(t[3 + j]!, F32.mul(F32.add(F32.add(g[j]!, g[3 + j]!), g[6 + j]!), 0.5));
          f.set(t[6 + j]!, F32.mul(F32.add(F32.sub(g[j]!, g[3 + j]!), g[6 + j]!), 0.5));
          f.set(t[9 + j]!, g[6 + j]!);
        }
        // U = t Gᵀ (4×4)
        f.set(dst, I32.add(U, I32.shl(I32.add(I32.mul(o, C), c), 2)));
        for (let a = 0; a < 4; a++) {
          const [p, q, r] = [t[3 * a]!, t[3 * a + 1]!, t[3 * a + 2]!];
          const row: Expr[] = [F32.add(p, 0), F32.mul(F32.add(F32.add(p, q), r), 0.5), F32.mul(F32.add(F32.sub(p, q), r), 0.5), F32.add(r, 0)];
          for (let b = 0; b < 4; b++) {
            f.store(dst, row[b]!);
            f.inc(dst, xiStride);
          }
        }
      });
    });
  });

  /**
   * winoIn(src, xRow, dst, xiStride): Bᵀ d B for four horizontally adjacent tiles of one channel:
   * src = the patch's top-left input (row stride xRow bytes; columns 0..11 are read), the 16
   * vectors (one per ξ, lanes = tiles) stored at dst + ξ·xiStride.
   */
  const winoIn = m.func('winoIn', names('src', 'xRow', 'dst', 'xiStride'), [], (f, src, xRow, dst, xiStride) => {
    const w = f.localsOf('v128', 3, 'w'), k = f.localsOf('v128', 4, 'k'), t = f.local('v128');
    const h = Array.from({ length: 4 }, (_, r) => f.localsOf('v128', 4, `h${r}_`));
    const p = f.local('i32');
    const row = (r: number) => {
      for (let i = 0; i < 3; i++) f.set(w[i]!, V128.load(p, 16 * i));
      f.set(k[0]!, V128.shuffle(w[0]!, w[1]!, lanes(0, 2, 4, 6)));
      f.set(k[1]!, V128.shuffle(w[0]!, w[1]!, lanes(1, 3, 5, 7)));
      f.set(t, V128.shuffle(w[1]!, w[2]!, lanes(0, 2, 4, 6)));
      f.set(k[2]!, V128.shuffle(k[0]!, t, lanes(1, 2, 3, 6)));
      f.set(t, V128.shuffle(w[1]!, w[2]!, lanes(1, 3, 5, 7)));
      f.set(k[3]!, V128.shuffle(k[1]!, t, lanes(1, 2, 3, 6)));
      // d B: [c0 − c2, c1 + c2, c2 − c1, c1 − c3]
      f.set(h[r]![0]!, F32x4.sub(k[0]!, k[2]!));
      f.set(h[r]![1]!, F32x4.add(k[1]!, k[2]!));
      f.set(h[r]![2]!, F32x4.sub(k[2]!, k[1]!));
      f.set(h[r]![3]!, F32x4.sub(k[1]!, k[3]!));
      f.inc(p, xRow);
    };
    const out = (i: number, j: number, e: Expr) => f.store(I32.add(dst, I32.mul(4 * i + j, xiStride)), e);
    f.set(p, src);
    for (let r = 0; r < 4; r++) row(r);
    // Bᵀ (·): rows [r0 − r2, r1 + r2, r2 − r1, r1 − r3]
    for (let j = 0; j < 4; j++) {
      out(0, j, F32x4.sub(h[0]![j]!, h[2]![j]!));
      out(1, j, F32x4.add(h[1]![j]!, h[2]![j]!));
      out(2, j, F32x4.sub(h[2]![j]!, h[1]![j]!));
      out(3, j, F32x4.sub(h[1]![j]!, h[3]![j]!));
    }
  });

  /**
   * winoOut(src, xiStride, dst, yRow, cols, rows, scratch): Aᵀ M A for four adjacent tiles of one
   * output channel (M's 16 vectors at src + ξ·xiStride) → the 2 output rows × 8 columns at dst
   * (row stride yRow bytes), of which `rows` rows and `cols` columns are stored.
   */
  const winoOut = m.func('winoOut', names('src', 'xiStride', 'dst', 'yRow', 'cols', 'rows', 'scratch'), [], (f, src, xiStride, dst, yRow, cols, rows, scratch) => {
    const T = Array.from({ length: 4 }, (_, a) => f.localsOf('v128', 2, `t${a}_`));
    const y = f.localsOf('v128', 4, 'y');
    const j = f.local('i32'), r = f.local('i32'), row = f.local('i32');
    const mAt = (a: number, b: number) => V128.load(I32.add(src, I32.mul(4 * a + b, xiStride)));
    for (let a = 0; a < 4; a++) {
      f.set(T[a]![0]!, F32x4.add(F32x4.add(mAt(a, 0), mAt(a, 1)), mAt(a, 2)));
      f.set(T[a]![1]!, F32x4.sub(F32x4.sub(mAt(a, 1), mAt(a, 2)), mAt(a, 3)));
    }
    for (let b = 0; b < 2; b++) {
      f.set(y[b]!, F32x4.add(F32x4.add(T[0]![b]!, T[1]![b]!), T[2]![b]!));
      f.set(y[2 + b]!, F32x4.sub(F32x4.sub(T[1]![b]!, T[2]![b]!), T[3]![b]!));
    }
    f.if(I32.and(I32.eq(cols, 8), I32.eq(rows, 2)), () => {
      for (let i = 0; i < 2; i++) {
        f.store(dst, V128.shuffle(y[2 * i]!, y[2 * i + 1]!, lanes(0, 4, 1, 5)), 0);
        f.store(dst, V128.shuffle(y[2 * i]!, y[2 * i + 1]!, lanes(2, 6, 3, 7)), 16);
        if (i === 0) f.inc(dst, yRow);
      }
    }, () => {
      // partial: through the scratch, element by element
      for (let i = 0; i < 2; i++) {
        f.store(scratch, V128.shuffle(y[2 * i]!, y[2 * i + 1]!, lanes(0, 4, 1, 5)), 32 * i);
        f.store(scratch, V128.shuffle(y[2 * i]!, y[2 * i + 1]!, lanes(2, 6, 3, 7)), 32 * i + 16);
      }
      f.set(row, dst);
      f.for(r, 0, rows, 1, () => {
        f.for(j, 0, cols, 1, () => f.store(I32.add(row, I32.shl(j, 2)), F32.load(I32.add(I32.add(scratch, I32.shl(r, 5)), I32.shl(j, 2)))));
        f.inc(row, yRow);
      });
    });
  });

  /**
   * winoConv(xph, xImg, xRow, chanBytes, C, O, tH, tW4, Ho, Wo, y, U, uXi, V, M, TB, R, G,
   * b0, b1, scratch): blocks b ∈ [b0, b1) of R tile rows (a tile row: image n, tile row ty, tW4
   * tiles, a multiple of 4; G = N·tH tile rows in all) each: input transform into V [16][C][TB],
   * 16 GEMMs into M [16][O][TB], output transform into y [N, O, Ho, Wo]. U panels: ξ's at
   * U + ξ·uXi (MR-row panels of C).
   */
  m.func('winoConv', names('xph', 'xImg', 'xRow', 'chanBytes', 'C', 'O', 'tH', 'tW4', 'Ho', 'Wo', 'y', 'U', 'uXi', 'V', 'M', 'TB', 'R', 'G', 'b0', 'b1', 'scratch'), [],
    (f, xph, xImg, xRow, chanBytes, C, O, tH, tW4, Ho, Wo, y, U, uXi, V, M, TB, R, G, b0, b1, scratch) => {
      const b = f.local('i32'), rr = f.local('i32'), g = f.local('i32'), n = f.local('i32'), ty = f.local('i32'), tx = f.local('i32');
      const c = f.local('i32'), o = f.local('i32'), xi = f.local('i32'), jt = f.local('i32'), mp = f.local('i32');
      const gEnd = f.local('i32'), tb = f.local('i32'), ntb = f.local('i32');
      const vXi = f.local('i32'), mXi = f.local('i32'), base = f.local('i32'), src = f.local('i32');
      const yRowBytes = f.local('i32'), yImg = f.local('i32'), dst = f.local('i32'), outRows = f.local('i32'), outCols = f.local('i32');
      const cols = f.local('i32'), mrows = f.local('i32');
      f.set(vXi, I32.shl(I32.mul(C, TB), 2));
      f.set(mXi, I32.shl(I32.mul(O, TB), 2));
      f.set(yRowBytes, I32.shl(Wo, 2));
      f.set(yImg, I32.shl(I32.mul(I32.mul(O, Ho), Wo), 2));
      f.for(b, b0, b1, 1, () => {
        f.set(g, I32.mul(b, R));
        // tile rows of this block: [g, gEnd) of N·tH
        f.set(gEnd, I32.min(G, I32.add(g, R)));
        f.set(ntb, 0);
        // --- input transform
        f.set(rr, g);
        f.while(I32.ltS(rr, gEnd), () => {
          f.set(n, I32.divU(rr, tH));
          f.set(ty, I32.sub(rr, I32.mul(n, tH)));
          f.set(base, I32.add(I32.add(xph, I32.mul(n, xImg)), I32.mul(I32.shl(ty, 1), xRow)));
          f.for(tx, 0, tW4, 4, () => {
            f.set(tb, I32.add(I32.mul(I32.sub(rr, g), tW4), tx));
            f.for(c, 0, C, 1, () => {
              f.set(src, I32.add(I32.add(base, I32.mul(c, chanBytes)), I32.shl(tx, 3)));
              f.call(winoIn, [src, xRow, I32.add(V, I32.shl(I32.add(I32.mul(c, TB), tb), 2)), vXi]);
            });
          });
          f.inc(rr, 1);
        });
        f.set(ntb, I32.mul(I32.sub(gEnd, g), tW4));
        // --- 16 GEMMs: M[ξ] (O × ntb) = U[ξ] (O × C) · V[ξ] (C × ntb)
        f.for(xi, 0, 16, 1, () => {
          f.for(jt, 0, ntb, NR, () => {
            f.set(cols, I32.min(NR, I32.sub(ntb, jt)));
            f.for(mp, 0, O, MR, () => {
              f.set(mrows, I32.min(MR, I32.sub(O, mp)));
              f.call(tile, [
                I32.add(I32.add(U, I32.mul(xi, uXi)), I32.shl(I32.mul(mp, C), 2)),
                I32.add(I32.add(V, I32.mul(xi, vXi)), I32.shl(jt, 2)), I32.shl(TB, 2), C,
                I32.add(I32.add(M, I32.mul(xi, mXi)), I32.shl(I32.add(I32.mul(mp, TB), jt), 2)), I32.shl(TB, 2), mrows, cols, 0, scratch,
              ]);
            });
          });
        });
        // --- output transform
        f.set(rr, g);
        f.while(I32.ltS(rr, gEnd), () => {
          f.set(n, I32.divU(rr, tH));
          f.set(ty, I32.sub(rr, I32.mul(n, tH)));
          f.set(outRows, I32.min(2, I32.sub(Ho, I32.shl(ty, 1))));
          f.for(tx, 0, tW4, 4, () => {
            f.set(tb, I32.add(I32.mul(I32.sub(rr, g), tW4), tx));
            f.set(outCols, I32.min(8, I32.sub(Wo, I32.shl(tx, 1))));
            f.if(I32.gtS(outCols, 0), () => {
              f.for(o, 0, O, 1, () => {
                f.set(dst, I32.add(I32.add(I32.add(y, I32.mul(n, yImg)), I32.mul(o, I32.shl(I32.mul(Ho, Wo), 2))), I32.shl(I32.add(I32.mul(I32.shl(ty, 1), Wo), I32.shl(tx, 1)), 2)));
                f.call(winoOut, [I32.add(M, I32.shl(I32.add(I32.mul(o, TB), tb), 2)), mXi, dst, yRowBytes, outCols, outRows, I32.add(scratch, 256)]);
              });
            });
          });
          f.inc(rr, 1);
        });
      });
    });
  return winoIn;
}


/**
 * Adds the Winograd kernels of the filter gradient: dW = Gᵀ [ Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B) ] G
 * (the exact adjoint of the forward F(2×2, 3×3)), the tile sum as 16 reductions along contiguous
 * tile rows with f32x4 lane partial sums.
 */
export function emitWinogradFilter(m: ModuleBuilder, winoIn: FuncRef, fma: boolean): void {
  /**
   * winoDy(src, yRow, dst, xiStride): A dY Aᵀ for four adjacent 2×2 dy tiles of one channel (src
   * = top-left, row stride yRow bytes, columns 0..7 read) → 16 vectors at dst + ξ·xiStride.
   */
  const winoDy = m.func('winoDy', names('src', 'yRow', 'dst', 'xiStride'), [], (f, src, yRow, dst, xiStride) => {
    const e = f.localsOf('v128', 2, 'e'), o = f.localsOf('v128', 2, 'o'), w = f.localsOf('v128', 2, 'w');
    const p = f.local('i32');
    f.set(p, src);
    for (let r = 0; r < 2; r++) {
      f.set(w[0]!, V128.load(p));
      f.set(w[1]!, V128.load(p, 16));
      f.set(e[r]!, V128.shuffle(w[0]!, w[1]!, lanes(0, 2, 4, 6)));
      f.set(o[r]!, V128.shuffle(w[0]!, w[1]!, lanes(1, 3, 5, 7)));
      if (r === 0) f.inc(p, yRow);
    }
    // A dY: rows (e0, o0), (e0 + e1, o0 + o1), (e0 − e1, o0 − o1), (−e1, −o1); then each row (p, q) · Aᵀ = [p, p + q, p − q, −q]
    const rows: [Expr, Expr][] = [
      [e[0]!, o[0]!].map((v) => F32x4.add(v, F32x4.splat(0))) as [Expr, Expr],
      [F32x4.add(e[0]!, e[1]!), F32x4.add(o[0]!, o[1]!)],
      [F32x4.sub(e[0]!, e[1]!), F32x4.sub(o[0]!, o[1]!)],
      [F32x4.neg(e[1]!), F32x4.neg(o[1]!)],
    ];
    const pv = f.local('v128'), qv = f.local('v128');
    rows.forEach(([pe, qe], a) => {
      f.set(pv, pe);
      f.set(qv, qe);
      const vals = [get(pv), F32x4.add(pv, qv), F32x4.sub(pv, qv), F32x4.neg(qv)];
      vals.forEach((v, b) => f.store(I32.add(dst, I32.mul(4 * a + b, xiStride)), v));
    });
  });

  /**
   * winoDot(Y, V, O, C, TB, nT, part, first): part[ξ][o][c] (f32x4 lane partials; zeroed first
   * when `first`) += Σ_{t < nT} Y[ξ][o][t] · V[ξ][c][t], nT a multiple of 4; tiles of 4 o × 2 c.
   */
  const winoDot = m.func('winoDot', names('Y', 'V', 'O', 'C', 'TB', 'nT', 'part', 'first'), [], (f, Y, V, O, C, TB, nT, part, first) => {
    const acc = Array.from({ length: 4 }, (_, a) => f.localsOf('v128', 2, `a${a}_`));
    const yv = f.localsOf('v128', 4, 'y'), vv = f.localsOf('v128', 2, 'v');
    const xi = f.local('i32'), o = f.local('i32'), c = f.local('i32'), t = f.local('i32');
    const yp = f.local('i32'), vp = f.local('i32'), row = f.local('i32'), no = f.local('i32'), nc = f.local('i32'), pp = f.local('i32');
    const yXi = f.local('i32'), vXi = f.local('i32'), pXi = f.local('i32');
    f.set(row, I32.shl(TB, 2));
    f.set(yXi, I32.mul(I32.mul(O, TB), 4));
    f.set(vXi, I32.mul(I32.mul(C, TB), 4));
    f.set(pXi, I32.shl(I32.mul(O, C), 4));
    f.for(xi, 0, 16, 1, () => {
      f.for(o, 0, O, 4, () => {
        f.set(no, I32.min(4, I32.sub(O, o)));
        f.for(c, 0, C, 2, () => {
          f.set(nc, I32.min(2, I32.sub(C, c)));
          // partial sums; rows/columns beyond no/nc alias the last valid ones (never stored)
          for (let a = 0; a < 4; a++) {
            for (let b = 0; b < 2; b++) {
              f.set(pp, I32.add(I32.add(part, I32.mul(xi, pXi)), I32.shl(I32.add(I32.mul(I32.add(o, I32.min(a, I32.sub(no, 1))), C), I32.add(c, I32.min(b, I32.sub(nc, 1)))), 4)));
              f.set(acc[a]![b]!, V128.bitselect(F32x4.splat(0), V128.load(pp), I32x4Mask(first)));
            }
          }
          f.set(yp, I32.add(I32.add(Y, I32.mul(xi, yXi)), I32.mul(o, row)));
          f.set(vp, I32.add(I32.add(V, I32.mul(xi, vXi)), I32.mul(c, row)));
          // clamp the row pointers of missing rows onto valid rows
          const yrow = (a: number) => I32.mul(I32.min(a, I32.sub(no, 1)), row);
          const vrow = (b: number) => I32.mul(I32.min(b, I32.sub(nc, 1)), row);
          const yo = f.localsOf('i32', 3, 'yo'), vo = f.local('i32');
          for (let a = 1; a < 4; a++) f.set(yo[a - 1]!, yrow(a));
          f.set(vo, vrow(1));
          f.for(t, 0, nT, 4, () => {
            f.set(yv[0]!, V128.load(yp));
            for (let a = 1; a < 4; a++) f.set(yv[a]!, V128.load(I32.add(yp, yo[a - 1]!)));
            f.set(vv[0]!, V128.load(vp));
            f.set(vv[1]!, V128.load(I32.add(vp, vo)));
            for (let a = 0; a < 4; a++) for (let b = 0; b < 2; b++) f.set(acc[a]![b]!, mulAdd(fma, acc[a]![b]!, yv[a]!, vv[b]!));
            f.inc(yp, 16);
            f.inc(vp, 16);
          });
          for (let a = 0; a < 4; a++) {
            for (let b = 0; b < 2; b++) {
              f.if(I32.and(I32.ltS(a, no), I32.ltS(b, nc)), () => {
                f.set(pp, I32.add(I32.add(part, I32.mul(xi, pXi)), I32.shl(I32.add(I32.mul(I32.add(o, a), C), I32.add(c, b)), 4)));
                f.store(pp, acc[a]![b]!);
              });
            }
          }
        });
      });
    });
  });

  /**
   * winoGrad(xph, xImg, xRow, xChan, dyp, dImg, dRow, dChan, C, O, tH, tW4, R, G, blocks, NG,
   * g0, g1, V, Y, part, Mg): for the tile-block groups g ∈ [g0, g1) of the NG fixed groups (group
   * g = blocks ⌊blocks·g/NG⌋ … ⌊blocks·(g+1)/NG⌋ − 1, each block R tile rows of the G = N·tH):
   * transforms into V [16][C][TB] and Y [16][O][TB] (TB = R·tW4), lane partials in `part`, then
   * Mg[g] [16][O][C] = the lanes summed ((l0 + l1) + (l2 + l3)). Grouping and order depend on the
   * shapes only, not on the threads.
   */
  m.func('winoGrad', names('xph', 'xImg', 'xRow', 'xChan', 'dyp', 'dImg', 'dRow', 'dChan', 'C', 'O', 'tH', 'tW4', 'R', 'G', 'blocks', 'NG', 'g0', 'g1', 'V', 'Y', 'part', 'Mg'), [],
    (f, xph, xImg, xRow, xChan, dyp, dImg, dRow, dChan, C, O, tH, tW4, R, G, blocks, NG, g0, g1, V, Y, part, Mg) => {
      const grp = f.local('i32'), b = f.local('i32'), bEnd = f.local('i32'), rr = f.local('i32'), rEnd = f.local('i32');
      const n = f.local('i32'), ty = f.local('i32'), tx = f.local('i32'), ch = f.local('i32'), tb = f.local('i32'), TB = f.local('i32');
      const vXi = f.local('i32'), yXi = f.local('i32'), base = f.local('i32'), dbase = f.local('i32'), first = f.local('i32');
      const i = f.local('i32'), cnt = f.local('i32'), v = f.local('v128'), out = f.local('i32'), src = f.local('i32');
      f.set(TB, I32.mul(R, tW4));
      f.set(vXi, I32.shl(I32.mul(C, TB), 2));
      f.set(yXi, I32.shl(I32.mul(O, TB), 2));
      f.set(cnt, I32.mul(I32.mul(O, C), 16)); // elements of [16][O][C]
      f.for(grp, g0, g1, 1, () => {
        f.set(b, I32.divU(I32.mul(blocks, grp), NG));
        f.set(bEnd, I32.divU(I32.mul(blocks, I32.add(grp, 1)), NG));
        f.set(first, 1);
        f.for(b, b, bEnd, 1, () => {
          f.set(rr, I32.mul(b, R));
          f.set(rEnd, I32.min(G, I32.add(rr, R)));
          f.for(rr, rr, rEnd, 1, () => {
            f.set(n, I32.divU(rr, tH));
            f.set(ty, I32.sub(rr, I32.mul(n, tH)));
            f.set(base, I32.add(I32.add(xph, I32.mul(n, xImg)), I32.mul(I32.shl(ty, 1), xRow)));
            f.set(dbase, I32.add(I32.add(dyp, I32.mul(n, dImg)), I32.mul(I32.shl(ty, 1), dRow)));
            f.for(tx, 0, tW4, 4, () => {
              f.set(tb, I32.add(I32.mul(I32.sub(rr, I32.mul(b, R)), tW4), tx));
              f.for(ch, 0, C, 1, () => {
                f.call(winoIn, [I32.add(I32.add(base, I32.mul(ch, xChan)), I32.shl(tx, 3)), xRow, I32.add(V, I32.shl(I32.add(I32.mul(ch, TB), tb), 2)), vXi]);
              });
              f.for(ch, 0, O, 1, () => {
                f.call(winoDy, [I32.add(I32.add(dbase, I32.mul(ch, dChan)), I32.shl(tx, 3)), dRow, I32.add(Y, I32.shl(I32.add(I32.mul(ch, TB), tb), 2)), yXi]);
              });
            });
          });
          f.call(winoDot, [Y, V, O, C, TB, I32.mul(I32.sub(rEnd, I32.mul(b, R)), tW4), part, first]);
          f.set(first, 0);
        });
        // lanes → Mg[grp] (a group without blocks gives zeros)
        f.set(out, I32.add(Mg, I32.shl(I32.mul(grp, cnt), 2)));
        f.set(src, part);
        f.for(i, 0, cnt, 1, () => {
          f.set(v, V128.bitselect(F32x4.splat(0), V128.load(src), I32x4Mask(first)));
          f.store(out, F32.add(F32.add(F32x4.extract(v, 0), F32x4.extract(v, 1)), F32.add(F32x4.extract(v, 2), F32x4.extract(v, 3))));
          f.inc(src, 16);
          f.inc(out, 4);
        });
      });
    });

  /**
   * winoGradOut(Mg, NG, dW, O, C, o0, o1): dW[o][c] (3×3) = Gᵀ (Σ_g Mg[g][·][o][c], g in order) G
   * for o ∈ [o0, o1).
   */
  m.func('winoGradOut', names('Mg', 'NG', 'dW', 'O', 'C', 'o0', 'o1'), [], (f, Mg, NG, dW, O, C, o0, o1) => {
    const o = f.local('i32'), c = f.local('i32'), g = f.local('i32'), xiB = f.local('i32'), gB = f.local('i32'), p = f.local('i32'), dst = f.local('i32');
    const mm = f.localsOf('f32', 16, 'm'), r = f.localsOf('f32', 12, 'r');
    f.set(xiB, I32.shl(I32.mul(O, C), 2));
    f.set(gB, I32.mul(xiB, 16));
    f.for(o, o0, o1, 1, () => {
      f.for(c, 0, C, 1, () => {
        for (let k = 0; k < 16; k++) f.set(mm[k]!, 0);
        f.for(g, 0, NG, 1, () => {
          f.set(p, I32.add(I32.add(Mg, I32.mul(g, gB)), I32.shl(I32.add(I32.mul(o, C), c), 2)));
          for (let k = 0; k < 16; k++) f.set(mm[k]!, F32.add(mm[k]!, F32.load(I32.add(p, I32.mul(k, xiB)))));
        });
        // Gᵀ M (3×4): rows m0 + (m1 + m2)/2, (m1 − m2)/2, (m1 + m2)/2 + m3 (per column)
        for (let col = 0; col < 4; col++) {
          const a0 = mm[col]!, a1 = mm[4 + col]!, a2 = mm[8 + col]!, a3 = mm[12 + col]!;
          f.set(r[col]!, F32.add(a0, F32.mul(F32.add(a1, a2), 0.5)));
          f.set(r[4 + col]!, F32.mul(F32.sub(a1, a2), 0.5));
          f.set(r[8 + col]!, F32.add(F32.mul(F32.add(a1, a2), 0.5), a3));
        }
        // (·) G (4×3): each row [a0 + (a1 + a2)/2, (a1 − a2)/2, (a1 + a2)/2 + a3]
        f.set(dst, I32.add(dW, I32.shl(I32.mul(I32.add(I32.mul(o, C), c), 9), 2)));
        for (let row = 0; row < 3; row++) {
          const a0 = r[4 * row]!, a1 = r[4 * row + 1]!, a2 = r[4 * row + 2]!, a3 = r[4 * row + 3]!;
          f.store(dst, F32.add(a0, F32.mul(F32.add(a1, a2), 0.5)), 12 * row);
          f.store(dst, F32.mul(F32.sub(a1, a2), 0.5), 12 * row + 4);
          f.store(dst, F32.add(F32.mul(F32.add(a1, a2), 0.5), a3), 12 * row + 8);
        }
      });
    });
  });
}
