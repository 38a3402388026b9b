/**
 * The register-blocked GEMM micro-kernel, emitted into a function body: an MR×NR tile of C
 * (NR = 4·NRV, f32x4 accumulators in locals) accumulates kc rank-1 updates
 *   acc[r][v] += splat(A[p, r]) · B[p, 4v..4v+3]
 * with A packed in MR-row micro-panels (A[p, r] at a + 4·(p·MR + r)) and the rows of B either in a
 * packed NR-column panel (`panel`: row p at b + 16·NRV·p) or at offsets read from a table (`table`:
 * row p at b + delta[p], the implicit-im2col of the direct convolution). Separate f32x4 mul and
 * add (Node 20 has relaxed-SIMD FMA only behind a flag), or `f32x4.relaxed_madd` where the runtime
 * validates it. The k loop is unrolled `unroll` times; its summation order
 * is p = 0, 1, …, kc − 1 for every lane, whatever the unrolling.
 *
 * NOTE: unroll 1 is fastest under V8 11.3 (measured): TurboFan unrolls small wasm loops itself
 * and schedules all loads of a block first, so a hand-unrolled body holds more loaded vectors
 * than the 15 usable xmm registers beside the accumulators and spills accumulators.
 */
import { F32x4, FuncBuilder, I32, Local, V128, type Expr } from './assembler.js';

/** Shape of a micro-kernel. */
export interface MicroShape {
  readonly mr: number;
  /** Vectors per row (NR = 4·nrv). */
  readonly nrv: number;
  readonly unroll: number;
  /** Fused multiply-add (relaxed SIMD) instead of mul then add. */
  readonly fma?: boolean;
}

/** acc + a·b: `f32x4.relaxed_madd` when `fma`, else `f32x4.mul` then `f32x4.add`. */
export function mulAdd(fma: boolean | undefined, acc: Local, a: Local | Expr, b: Local | Expr): Expr {
  return fma ? F32x4.relaxedMadd(a, b, acc) : F32x4.add(acc, F32x4.mul(a, b));
}

/**
 * Where the rows of B are: a packed panel (row p at b + 16·NRV·p), at byte offsets from a table
 * (row p at b + table[p]), or strided (row p at b + p·table, `table` then being the row stride).
 */
export type BMode = 'panel' | 'table' | 'strided';

/** Locals the micro-kernel uses (allocated once per function). */
export interface MicroLocals {
  readonly acc: Local[][];
  readonly bv: Local[];
  readonly av: Local;
  readonly ap: Local;
  readonly bp: Local;
  readonly dp: Local;
  readonly p: Local;
  readonly brow: Local;
}

/** Declares the locals of a micro-kernel of `shape` in `f`. */
export function microLocals(f: FuncBuilder, shape: MicroShape): MicroLocals {
  return {
    acc: Array.from({ length: shape.mr }, (_, r) => f.localsOf('v128', shape.nrv, `acc${r}_`)),
    bv: f.localsOf('v128', shape.nrv, 'b'),
    av: f.local('v128', 'a'),
    ap: f.local('i32', 'ap'),
    bp: f.local('i32', 'bp'),
    dp: f.local('i32', 'dp'),
    p: f.local('i32', 'p'),
    brow: f.local('i32', 'brow'),
  };
}

/**
 * Emits: acc = 0; for p in [0, kc): acc += A-panel[p] ⊗ B-row[p].
 * `a`: address of the A micro-panel; `b`: B panel address (`panel`) or the base that table
 * offsets are added to (`table`); `table`: address of the i32 byte offsets (table mode only).
 */
export function emitMicroKernel(f: FuncBuilder, s: MicroShape, mode: BMode, L: MicroLocals, a: Expr, b: Expr, kc: Local | Expr, table?: Expr): void {
  const { mr, nrv, unroll } = s;
  const nr = 4 * nrv;
  for (const row of L.acc) for (const acc of row) f.set(acc, F32x4.splat(0));
  f.set(L.ap, a);
  f.set(L.bp, b);
  if (mode !== 'panel') f.set(L.dp, table!);
  const step = (u: number) => {
    // B row p + u
    let rowBase: Local;
    let rowOff: number;
    if (mode === 'panel' || mode === 'strided') {
      rowBase = L.bp;
      rowOff = mode === 'panel' ? 4 * nr * u : 0;
    } else {
      f.set(L.brow, I32.add(L.bp, I32.load(L.dp, 4 * u)));
      rowBase = L.brow;
      rowOff = 0;
    }
    for (let v = 0; v < nrv; v++) f.set(L.bv[v]!, V128.load(rowBase, rowOff + 16 * v));
    for (let r = 0; r < mr; r++) {
      f.set(L.av, V128.load32Splat(L.ap, 4 * (u * mr + r)));
      for (let v = 0; v < nrv; v++) f.set(L.acc[r]![v]!, mulAdd(s.fma, L.acc[r]![v]!, L.av, L.bv[v]!));
    }
  };
  const advance = (n: number) => {
    f.inc(L.ap, 4 * mr * n);
    if (mode === 'panel') f.inc(L.bp, 4 * nr * n);
    else if (mode === 'strided') {
      if (n !== 1) throw new Error('strided B: unroll 1 only');
      f.inc(L.bp, L.dp);
    } else f.inc(L.dp, 4 * n);
  };
  f.set(L.p, kc);
  if (unroll > 1) {
    f.while(I32.geS(L.p, unroll), () => {
      for (let u = 0; u < unroll; u++) step(u);
      advance(unroll);
      f.inc(L.p, -unroll);
    });
  }
  f.while(I32.gtS(L.p, 0), () => {
    step(0);
    advance(1);
    f.inc(L.p, -1);
  });
}
