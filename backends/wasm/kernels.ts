/**
 * The generated WebAssembly module of the `wasm` backend: packing, the blocked GEMM, the direct
 * (implicit-im2col) convolution, the convolution backprops, and SIMD elementwise/reduction
 * kernels. Every exported kernel computes one thread's static share of an output (its arguments
 * say which), so the same module runs on the main thread and on the workers over one shared
 * memory, and results do not depend on how the output was split.
 *
 * Addresses and strides are in bytes unless named otherwise; extents are in elements.
 */
import { F32, F32x4, FuncBuilder, get, I32, I32x4, Local, ModuleBuilder, V128, v128i32, type FuncRef, type Val } from './assembler.js';
import { emitMicroKernel, microLocals, mulAdd, type MicroLocals, type MicroShape } from './microkernel.js';
import { emitElementwise } from './elementwise-kernels.js';
import { emitWinograd, emitWinogradFilter } from './winograd-kernels.js';

/** The GEMM register tile (measured on the 2-core AVX-512 machine: 4×8 ≈ 6×8 > 8×8, unroll 1). */
export const MICRO: MicroShape = { mr: 4, nrv: 2, unroll: 1 };
export const MR = MICRO.mr;
export const NR = 4 * MICRO.nrv;
/** Cache blocking of the packed GEMM (rows of A, depth, columns of B per packed block). */
export const MC = 128;
export const KC = 512;
export const NC = 512;
/** Bytes of per-thread GEMM scratch: packed A block, packed B block, an edge tile. */
export const GEMM_SCRATCH_BYTES = (MC * KC + KC * NC + MR * NR) * 4;
/**
 * Tile of the backprop-filter dot kernel: q rows (filter taps) × o columns (output channels).
 * V8 schedules a block's loads first, so loads (2 + 4) + accumulators (8) + 1 temporary must fit
 * the 15 usable xmm registers: 2×4 does, 3×3 spills an accumulator.
 */
export const DOT_Q = 2;
export const DOT_O = 4;

/** Memory limits of the module's imported memory (64 KiB pages). */
export const MEMORY_PAGES = { min: 64, max: 65536 } as const;

type P = [string, 'i32' | 'f32'];
const params = (...names: string[]): P[] => names.map((n) => [n, 'i32']);

/** A 32-bit lane shuffle as byte indices (lanes 0–3 of a, 4–7 of b). */
const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

/** Emits a 4×4 transpose of rows r0..r3 into out0..out3. */
function transpose4(f: FuncBuilder, r: readonly Local[], t: readonly Local[], out: readonly Local[]): void {
  f.set(t[0]!, V128.shuffle(r[0]!, r[1]!, lanes(0, 4, 1, 5)));
  f.set(t[1]!, V128.shuffle(r[0]!, r[1]!, lanes(2, 6, 3, 7)));
  f.set(t[2]!, V128.shuffle(r[2]!, r[3]!, lanes(0, 4, 1, 5)));
  f.set(t[3]!, V128.shuffle(r[2]!, r[3]!, lanes(2, 6, 3, 7)));
  f.set(out[0]!, V128.shuffle(t[0]!, t[2]!, lanes(0, 1, 4, 5)));
  f.set(out[1]!, V128.shuffle(t[0]!, t[2]!, lanes(2, 3, 6, 7)));
  f.set(out[2]!, V128.shuffle(t[1]!, t[3]!, lanes(0, 1, 4, 5)));
  f.set(out[3]!, V128.shuffle(t[1]!, t[3]!, lanes(2, 3, 6, 7)));
}

/**
 * Stores the MR×NR accumulators at `c` (row stride `ldc` bytes): `rows`×`cols` of them, added to
 * what is there when `accumulate` ≠ 0. Partial tiles go through `tile` (MR·NR floats of scratch).
 */
function emitTileStore(f: FuncBuilder, L: MicroLocals, c: Local, ldc: Local, rows: Local, cols: Local, accumulate: Val, tile: Local, tmp: { r: Local; j: Local; crow: Local; trow: Local }): void {
  const { mr, nrv } = MICRO;
  const full = I32.and(I32.eq(rows, mr), I32.eq(cols, 4 * nrv));
  f.if(full, () => {
    f.set(tmp.crow, c);
    f.if(accumulate, () => {
      for (let r = 0; r < mr; r++) {
        for (let v = 0; v < nrv; v++) f.store(tmp.crow, F32x4.add(V128.load(tmp.crow, 16 * v), L.acc[r]![v]!), 16 * v);
        if (r < mr - 1) f.inc(tmp.crow, ldc);
      }
    }, () => {
      for (let r = 0; r < mr; r++) {
        for (let v = 0; v < nrv; v++) f.store(tmp.crow, L.acc[r]![v]!, 16 * v);
        if (r < mr - 1) f.inc(tmp.crow, ldc);
      }
    });
  }, () => {
    for (let r = 0; r < mr; r++) for (let v = 0; v < nrv; v++) f.store(tile, L.acc[r]![v]!, 16 * (r * nrv + v));
    f.set(tmp.crow, c);
    f.set(tmp.trow, tile);
    f.for(tmp.r, 0, rows, 1, () => {
      f.if(accumulate, () => {
        f.for(tmp.j, 0, cols, 1, () => {
          const ca = I32.add(tmp.crow, I32.shl(tmp.j, 2));
          f.store(ca, F32.add(F32.load(ca), F32.load(I32.add(tmp.trow, I32.shl(tmp.j, 2)))));
        });
      }, () => {
        f.for(tmp.j, 0, cols, 1, () => {
          f.store(I32.add(tmp.crow, I32.shl(tmp.j, 2)), F32.load(I32.add(tmp.trow, I32.shl(tmp.j, 2))));
        });
      });
      f.inc(tmp.crow, ldc);
      f.inc(tmp.trow, 4 * NR);
    });
  });
}

/** Emits dst[0..n) = src[0..n) (floats; f32x4 body, scalar tail; dst/src locals are advanced). */
function emitCopy(f: FuncBuilder, dst: Local, src: Local, n: Val, j: Local, end: Local): void {
  f.set(end, I32.and(n, -4));
  f.for(j, 0, end, 4, () => {
    f.store(dst, V128.load(src));
    f.inc(dst, 16);
    f.inc(src, 16);
  });
  f.for(j, end, n, 1, () => {
    f.store(dst, F32.load(src));
    f.inc(dst, 4);
    f.inc(src, 4);
  });
}

/** Emits dst[0..n) = 0 (floats; dst is advanced). */
function emitZero(f: FuncBuilder, dst: Local, n: Val, j: Local, end: Local): void {
  f.set(end, I32.and(n, -4));
  f.for(j, 0, end, 4, () => {
    f.store(dst, F32x4.splat(0));
    f.inc(dst, 16);
  });
  f.for(j, end, n, 1, () => {
    f.store(dst, 0, 0, 'f32');
    f.inc(dst, 4);
  });
}

/** Options of the generated module. */
export interface KernelOptions {
  /** Fused multiply-add (`f32x4.relaxed_madd`) in the GEMM, convolution and reduction tiles. */
  readonly fma: boolean;
  /** Import a shared memory (default true; false: an ordinary one, for a single thread). */
  readonly shared?: boolean;
}

/** Builds the module. */
export function buildKernelModule(options: KernelOptions = { fma: false }): Uint8Array {
  const m = new ModuleBuilder({ ...MEMORY_PAGES, shared: options.shared ?? true });
  const micro: MicroShape = { ...MICRO, fma: options.fma };

  // ---------------------------------------------------------------------------------------------
  // Micro-tiles as functions of their own (small functions keep every accumulator in a register).
  const tileFn = (mode: 'panel' | 'table' | 'strided') =>
    m.func({ panel: 'tilePanel', table: 'tileTable', strided: 'tileStrided' }[mode], params('a', 'b', 'table', 'kc', 'c', 'ldc', 'rows', 'cols', 'accumulate', 'tile'), [],
      (f, a, b, table, kc, c, ldc, rows, cols, accumulate, tile) => {
        const L = microLocals(f, micro);
        const tmp = { r: f.local('i32'), j: f.local('i32'), crow: f.local('i32'), trow: f.local('i32') };
        emitMicroKernel(f, micro, mode, L, get(a), get(b), kc, get(table));
        emitTileStore(f, L, c, ldc, rows, cols, accumulate, tile, tmp);
      });
  const tilePanel = tileFn('panel');
  const tileTable = tileFn('table');
  const tileStrided = tileFn('strided');

  // ---------------------------------------------------------------------------------------------
  // Packing. A micro-panels: MR rows, ap[(p·MR + r)]; B micro-panels: NR columns, bp[(p·NR + c)].
  // Both zero-padded at edges, so the micro-kernel has no edge cases.

  /** packA(ap, a, trans, M, K, i0, mc, p0, kc): op(A)[i0:i0+mc, p0:p0+kc]; A is M×K, or K×M when trans. */
  const packA = m.func('packA', params('ap', 'a', 'trans', 'M', 'K', 'i0', 'mc', 'p0', 'kc'), [], (f, ap, a, trans, M, K, i0, mc, p0, kc) => {
    const ir = f.local('i32'), p = f.local('i32'), r = f.local('i32'), dst = f.local('i32'), src = f.local('i32'), ld = f.local('i32');
    const rows = f.localsOf('i32', MR, 'src');
    const rv = f.localsOf('v128', 4, 'rv'), tv = f.localsOf('v128', 4, 'tv'), ov = f.localsOf('v128', 4, 'ov');
    f.set(dst, ap);
    f.for(ir, 0, mc, MR, () => {
      f.if(I32.leS(I32.add(ir, MR), mc), () => {
        f.if(trans, () => {
          // A stored K×M: row p of the panel is contiguous.
          f.set(src, I32.shl(I32.add(I32.mul(p0, M), I32.add(i0, ir)), 2));
          f.set(src, I32.add(a, src));
          f.set(ld, I32.shl(M, 2));
          f.for(p, 0, kc, 1, () => {
            f.store(dst, V128.load(src));
            f.inc(src, ld);
            f.inc(dst, 16);
          });
        }, () => {
          for (let q = 0; q < MR; q++) f.set(rows[q]!, I32.add(a, I32.shl(I32.add(I32.mul(I32.add(I32.add(i0, ir), q), K), p0), 2)));
          f.set(p, 0);
          f.while(I32.leS(I32.add(p, 4), kc), () => {
            for (let q = 0; q < MR; q++) f.set(rv[q]!, V128.load(rows[q]!));
            transpose4(f, rv, tv, ov);
            for (let q = 0; q < 4; q++) f.store(dst, ov[q]!, 16 * q);
            for (let q = 0; q < MR; q++) f.inc(rows[q]!, 16);
            f.inc(dst, 64);
            f.inc(p, 4);
          });
          f.while(I32.ltS(p, kc), () => {
            for (let q = 0; q < MR; q++) {
              f.store(dst, F32.load(rows[q]!), 4 * q);
              f.inc(rows[q]!, 4);
            }
            f.inc(dst, 16);
            f.inc(p, 1);
          });
        });
      }, () => {
        // partial panel: scalar with zero fill
        f.for(p, 0, kc, 1, () => {
          f.for(r, 0, MR, 1, () => {
            f.if(I32.ltS(I32.add(ir, r), mc), () => {
              const i = I32.add(I32.add(i0, ir), r);
              const k = I32.add(p0, p);
              f.set(src, I32.select(I32.add(I32.mul(k, M), i), I32.add(I32.mul(i, K), k), trans));
              f.store(I32.add(dst, I32.shl(r, 2)), F32.load(I32.add(a, I32.shl(src, 2))));
            }, () => {
              f.store(I32.add(dst, I32.shl(r, 2)), 0, 0, 'f32');
            });
          });
          f.inc(dst, 4 * MR);
        });
      });
    });
  });

  /** packB(bp, b, trans, N, K, j0, nc, p0, kc): op(B)[p0:p0+kc, j0:j0+nc]; B is K×N, or N×K when trans. */
  const packB = m.func('packB', params('bp', 'b', 'trans', 'N', 'K', 'j0', 'nc', 'p0', 'kc'), [], (f, bp, b, trans, N, K, j0, nc, p0, kc) => {
    const jr = f.local('i32'), p = f.local('i32'), c = f.local('i32'), dst = f.local('i32'), src = f.local('i32'), ld = f.local('i32');
    const cols = f.localsOf('i32', NR, 'col');
    const rv = f.localsOf('v128', 4, 'rv'), tv = f.localsOf('v128', 4, 'tv'), ov = f.localsOf('v128', 4, 'ov');
    f.set(dst, bp);
    f.for(jr, 0, nc, NR, () => {
      f.if(I32.leS(I32.add(jr, NR), nc), () => {
        f.if(trans, () => {
          // B stored N×K: column j of op(B) is row j of storage; transpose 4×4 blocks.
          for (let q = 0; q < NR; q++) f.set(cols[q]!, I32.add(b, I32.shl(I32.add(I32.mul(I32.add(I32.add(j0, jr), q), K), p0), 2)));
          f.set(p, 0);
          f.while(I32.leS(I32.add(p, 4), kc), () => {
            for (let h = 0; h < NR / 4; h++) {
              for (let q = 0; q < 4; q++) f.set(rv[q]!, V128.load(cols[4 * h + q]!));
              transpose4(f, rv, tv, ov);
              for (let q = 0; q < 4; q++) f.store(dst, ov[q]!, 4 * NR * q + 16 * h);
            }
            for (let q = 0; q < NR; q++) f.inc(cols[q]!, 16);
            f.inc(dst, 16 * NR);
            f.inc(p, 4);
          });
          f.while(I32.ltS(p, kc), () => {
            for (let q = 0; q < NR; q++) {
              f.store(dst, F32.load(cols[q]!), 4 * q);
              f.inc(cols[q]!, 4);
            }
            f.inc(dst, 4 * NR);
            f.inc(p, 1);
          });
        }, () => {
          f.set(src, I32.add(b, I32.shl(I32.add(I32.mul(p0, N), I32.add(j0, jr)), 2)));
          f.set(ld, I32.shl(N, 2));
          f.for(p, 0, kc, 1, () => {
            for (let v = 0; v < NR / 4; v++) f.store(dst, V128.load(src, 16 * v), 16 * v);
            f.inc(src, ld);
            f.inc(dst, 4 * NR);
          });
        });
      }, () => {
        f.for(p, 0, kc, 1, () => {
          f.for(c, 0, NR, 1, () => {
            f.if(I32.ltS(I32.add(jr, c), nc), () => {
              const j = I32.add(I32.add(j0, jr), c);
              const k = I32.add(p0, p);
              f.set(src, I32.select(I32.add(I32.mul(j, K), k), I32.add(I32.mul(k, N), j), trans));
              f.store(I32.add(dst, I32.shl(c, 2)), F32.load(I32.add(b, I32.shl(src, 2))));
            }, () => {
              f.store(I32.add(dst, I32.shl(c, 2)), 0, 0, 'f32');
            });
          });
          f.inc(dst, 4 * NR);
        });
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  /**
   * gemm: C[b] (+)= op(A[b])·op(B[b]) for b < batch, rows [i0, i1) and columns [j0, j1) of each
   * C (M×N, row-major). A, B, C advance by aBS, bBS, cBS bytes per batch. `accumulate` adds to C.
   * Summation over K: KC-blocks in order, each block summed in order of p: fixed.
   */
  m.func('gemm', params('batch', 'M', 'N', 'K', 'a', 'aBS', 'ta', 'b', 'bBS', 'tb', 'c', 'cBS', 'i0', 'i1', 'j0', 'j1', 'accumulate', 'scratch'), [],
    (f, batch, M, N, K, a, aBS, ta, b, bBS, tb, c, cBS, i0, i1, j0, j1, accumulate, scratch) => {
      const bi = f.local('i32'), jc = f.local('i32'), nc = f.local('i32'), pc = f.local('i32'), kc = f.local('i32');
      const ic = f.local('i32'), mc = f.local('i32'), jr = f.local('i32'), ir = f.local('i32');
      const ap = f.local('i32'), bp = f.local('i32'), tile = f.local('i32'), cptr = f.local('i32'), ldc = f.local('i32');
      const rows = f.local('i32'), cols = f.local('i32'), acc = f.local('i32');
      f.set(ap, scratch);
      f.set(bp, I32.add(scratch, MC * KC * 4));
      f.set(tile, I32.add(scratch, (MC * KC + KC * NC) * 4));
      f.set(ldc, I32.shl(N, 2));
      f.for(bi, 0, batch, 1, () => {
        f.for(jc, j0, j1, NC, () => {
          f.set(nc, I32.min(NC, I32.sub(j1, jc)));
          f.for(pc, 0, K, KC, () => {
            f.set(kc, I32.min(KC, I32.sub(K, pc)));
            f.set(acc, I32.or(accumulate, I32.gtS(pc, 0)));
            f.call(packB, [bp, b, tb, N, K, jc, nc, pc, kc]);
            f.for(ic, i0, i1, MC, () => {
              f.set(mc, I32.min(MC, I32.sub(i1, ic)));
              f.call(packA, [ap, a, ta, M, K, ic, mc, pc, kc]);
              f.for(jr, 0, nc, NR, () => {
                f.set(cols, I32.min(NR, I32.sub(nc, jr)));
                f.for(ir, 0, mc, MR, () => {
                  f.set(rows, I32.min(MR, I32.sub(mc, ir)));
                  f.set(cptr, I32.add(c, I32.shl(I32.add(I32.mul(I32.add(ic, ir), N), I32.add(jc, jr)), 2)));
                  f.call(tilePanel, [I32.add(ap, I32.shl(I32.mul(ir, kc), 2)), I32.add(bp, I32.shl(I32.mul(jr, kc), 2)), 0, kc, cptr, ldc, rows, cols, acc, tile]);
                });
              });
            });
          });
        });
        f.inc(a, aBS);
        f.inc(b, bBS);
        f.inc(c, cBS);
      });
    });

  // ---------------------------------------------------------------------------------------------
  // Convolutions. The input is first laid out as zero-padded phase planes ("xph"): for stride
  // (sh, sw), plane (n, c, a, b) holds xpad[u·sh + a, v·sw + b] over u < Hq, v < Wq, where xpad is x
  // with the convolution's zero padding. Tap (c, i, j) of output pixel (oh, ow) is then
  //   xph[n] + delta[(c, i, j)] + 4·(oh·Wq + ow)
  // with delta from a table: contiguous in ow for every stride and dilation.

  /**
   * phase(x, C, H, W, pt, pl, sh, sw, Hq, Wq, xph, g0, g1): fills the phase layout
   * [n][u < Hq][c][a < sh][b < sw][v < Wq] (xph[…] = xpad[u·sh + a, v·sw + b] of channel c, image n)
   * for the rows g = n·Hq + u ∈ [g0, g1), in memory order (sequential writes). The taps of one
   * output row lie together (few pages, few TLB entries).
   */
  m.func('phase', params('x', 'C', 'H', 'W', 'pt', 'pl', 'sh', 'sw', 'Hq', 'Wq', 'xph', 'g0', 'g1'), [], (f, x, C, H, W, pt, pl, sh, sw, Hq, Wq, xph, g0, g1) => {
    const g = f.local('i32'), pa = f.local('i32'), pb = f.local('i32'), u = f.local('i32'), v = f.local('i32');
    const ih = f.local('i32'), iw = f.local('i32'), n = f.local('i32'), c = f.local('i32');
    const lo = f.local('i32'), hi = f.local('i32'), rowIn = f.local('i32'), w = f.local('i32'), src = f.local('i32'), j = f.local('i32'), end = f.local('i32');
    const plane = f.local('i32');
    f.set(plane, I32.shl(I32.mul(H, W), 2));
    f.set(lo, I32.min(I32.max(pl, 0), Wq));
    f.set(hi, I32.max(I32.min(I32.add(pl, W), Wq), lo));
    f.set(w, I32.add(xph, I32.shl(I32.mul(I32.mul(g0, I32.mul(C, I32.mul(sh, sw))), Wq), 2)));
    f.for(g, g0, g1, 1, () => {
      f.set(n, I32.divU(g, Hq));
      f.set(u, I32.sub(g, I32.mul(n, Hq)));
      f.for(c, 0, C, 1, () => {
        f.for(pa, 0, sh, 1, () => {
          f.set(ih, I32.sub(I32.add(I32.mul(u, sh), pa), pt));
          f.for(pb, 0, sw, 1, () => {
            f.if(I32.or(I32.ltS(ih, 0), I32.geS(ih, H)), () => {
              emitZero(f, w, Wq, j, end);
            }, () => {
              f.set(rowIn, I32.add(I32.add(x, I32.mul(I32.add(I32.mul(n, C), c), plane)), I32.shl(I32.mul(ih, W), 2)));
              f.if(I32.eq(sw, 1), () => {
                // contiguous: zeros [0, lo), copy [lo, hi), zeros [hi, Wq); iw = v − pl
                emitZero(f, w, lo, j, end);
                f.set(src, I32.add(rowIn, I32.shl(I32.sub(lo, pl), 2)));
                emitCopy(f, w, src, I32.sub(hi, lo), j, end);
                emitZero(f, w, I32.sub(Wq, hi), j, end);
              }, () => {
                f.for(v, 0, Wq, 1, () => {
                  f.set(iw, I32.sub(I32.add(I32.mul(v, sw), pb), pl));
                  f.store(w, F32.select(F32.load(I32.add(rowIn, I32.shl(iw, 2))), 0, I32.and(I32.geS(iw, 0), I32.ltS(iw, W))));
                  f.inc(w, 4);
                });
              });
            });
          });
        });
      });
    });
  });

  /**
   * flip(w, wf, og, cg, khw, groups): wf[g·cg + c, o, t] = w[g·og + o, c, khw − 1 − t] — the
   * filters of the convolution that computes conv2d's input gradient (stride 1).
   */
  m.func('flip', params('w', 'wf', 'og', 'cg', 'khw', 'groups'), [], (f, w, wf, og, cg, khw, groups) => {
    const g = f.local('i32'), c = f.local('i32'), o = f.local('i32'), t = f.local('i32'), from = f.local('i32'), to = f.local('i32');
    f.for(g, 0, groups, 1, () => {
      f.for(c, 0, cg, 1, () => {
        f.for(o, 0, og, 1, () => {
          f.set(from, I32.add(w, I32.shl(I32.mul(I32.add(I32.mul(I32.add(I32.mul(g, og), o), cg), c), khw), 2)));
          f.set(to, I32.add(wf, I32.shl(I32.mul(I32.add(I32.mul(I32.add(I32.mul(g, cg), c), og), o), khw), 2)));
          f.for(t, 0, khw, 1, () => {
            f.store(I32.add(to, I32.shl(t, 2)), F32.load(I32.add(from, I32.shl(I32.sub(I32.sub(khw, 1), t), 2))));
          });
        });
      });
    });
  });

  /**
   * convDirect(ap, M, K, table, xph, xImg, xRow, y, yImg, yChan, Ho, Wo, r0, r1, scratch):
   * y[n, m, oh, ow] = Σ_p A[m, p] · xph[n] + table[p] + oh·xRow + 4·ow for rows r = n·Ho + oh in
   * [r0, r1): a direct convolution over the phase planes with the packed filters `ap` (M×K in MR
   * panels of all K). xImg, yImg: bytes per image; yChan: bytes per output channel plane.
   */
  m.func('convDirect', params('ap', 'M', 'K', 'table', 'xph', 'xImg', 'xRow', 'y', 'yImg', 'yChan', 'Ho', 'Wo', 'r0', 'r1', 'scratch'), [],
    (f, ap, M, K, table, xph, xImg, xRow, y, yImg, yChan, Ho, Wo, r0, r1, scratch) => {
      const r = f.local('i32'), n = f.local('i32'), oh = f.local('i32'), ow = f.local('i32'), mp = f.local('i32');
      const xrow = f.local('i32'), yrow = f.local('i32'), cptr = f.local('i32'), rows = f.local('i32'), cols = f.local('i32');
      const panelBytes = f.local('i32');
      f.set(panelBytes, I32.shl(I32.mul(K, MR), 2));
      f.for(r, r0, r1, 1, () => {
        f.set(n, I32.divU(r, Ho));
        f.set(oh, I32.sub(r, I32.mul(n, Ho)));
        f.set(xrow, I32.add(I32.add(xph, I32.mul(n, xImg)), I32.mul(oh, xRow)));
        f.set(yrow, I32.add(I32.add(y, I32.mul(n, yImg)), I32.shl(I32.mul(oh, Wo), 2)));
        f.for(mp, 0, M, MR, () => {
          f.set(rows, I32.min(MR, I32.sub(M, mp)));
          f.for(ow, 0, Wo, NR, () => {
            f.set(cols, I32.min(NR, I32.sub(Wo, ow)));
            f.set(cptr, I32.add(I32.add(yrow, I32.mul(mp, yChan)), I32.shl(ow, 2)));
            f.call(tileTable, [I32.add(ap, I32.mul(I32.divU(mp, MR), panelBytes)), I32.add(xrow, I32.shl(ow, 2)), table, K, cptr, yChan, rows, cols, 0, scratch]);
          });
        });
      });
    });

  /**
   * col2im(col, C, H, W, kh, kw, pt, pl, sh, sw, dh, dw, Ho, Wo, dx, c0, c1): dx[c] += the
   * columns of col [C·kh·kw, Ho·Wo] for channels c ∈ [c0, c1) (dx one image). Fixed order.
   */
  m.func('col2im', params('col', 'H', 'W', 'kh', 'kw', 'pt', 'pl', 'sh', 'sw', 'dh', 'dw', 'Ho', 'Wo', 'dx', 'c0', 'c1'), [],
    (f, col, H, W, kh, kw, pt, pl, sh, sw, dh, dw, Ho, Wo, dx, c0, c1) => {
      const c = f.local('i32'), i = f.local('i32'), j = f.local('i32'), oh = f.local('i32'), ow = f.local('i32');
      const ih = f.local('i32'), iw = f.local('i32'), src = f.local('i32'), plane = f.local('i32'), drow = f.local('i32'), addr = f.local('i32');
      f.for(c, c0, c1, 1, () => {
        f.set(plane, I32.add(dx, I32.shl(I32.mul(c, I32.mul(H, W)), 2)));
        f.set(src, I32.add(col, I32.shl(I32.mul(I32.mul(I32.mul(c, kh), kw), I32.mul(Ho, Wo)), 2)));
        f.for(i, 0, kh, 1, () => {
          f.for(j, 0, kw, 1, () => {
            f.for(oh, 0, Ho, 1, () => {
              f.set(ih, I32.add(I32.sub(I32.mul(oh, sh), pt), I32.mul(i, dh)));
              f.if(I32.and(I32.geS(ih, 0), I32.ltS(ih, H)), () => {
                f.set(drow, I32.add(plane, I32.shl(I32.mul(ih, W), 2)));
                f.for(ow, 0, Wo, 1, () => {
                  f.set(iw, I32.add(I32.sub(I32.mul(ow, sw), pl), I32.mul(j, dw)));
                  f.if(I32.and(I32.geS(iw, 0), I32.ltS(iw, W)), () => {
                    f.set(addr, I32.add(drow, I32.shl(iw, 2)));
                    f.store(addr, F32.add(F32.load(addr), F32.load(I32.add(src, I32.shl(ow, 2)))));
                  });
                });
              });
              f.inc(src, I32.shl(Wo, 2));
            });
          });
        });
      });
    });

  /**
   * dotT(dy, dyT, chunks, t0, t1, O, Opad, dyPlane, nFull, tail): lays dy out per pixel chunk:
   * dyT + 16·(t·Opad + o) = the 4 pixels of chunk t of channel o (dy + o·dyPlane + chunks[2t + 1]),
   * tail chunks (t ≥ nFull) with lanes ≥ `tail` zeroed, channels o ≥ O zero.
   */
  m.func('dotT', params('dy', 'dyT', 'chunks', 't0', 't1', 'O', 'Opad', 'dyPlane', 'nFull', 'tail'), [], (f, dy, dyT, chunks, t0, t1, O, Opad, dyPlane, nFull, tail) => {
    const t = f.local('i32'), o = f.local('i32'), src = f.local('i32'), dst = f.local('i32'), mask = f.local('v128');
    f.set(mask, F32x4.lt(F32x4.fromI32x4(v128i32(0, 1, 2, 3)), F32x4.splat(F32.fromI32S(tail))));
    f.for(t, t0, t1, 1, () => {
      f.set(src, I32.add(dy, I32.load(I32.add(chunks, I32.shl(t, 3)), 4)));
      f.set(dst, I32.add(dyT, I32.shl(I32.mul(t, Opad), 4)));
      f.if(I32.ltS(t, nFull), () => {
        f.for(o, 0, O, 1, () => {
          f.store(dst, V128.load(src));
          f.inc(src, dyPlane);
          f.inc(dst, 16);
        });
      }, () => {
        f.for(o, 0, O, 1, () => {
          f.store(dst, V128.and(V128.load(src), mask));
          f.inc(src, dyPlane);
          f.inc(dst, 16);
        });
      });
      f.for(o, O, Opad, 1, () => {
        f.store(dst, F32x4.splat(0));
        f.inc(dst, 16);
      });
    });
  });

  /**
   * dotTile(part, Q, q, o, nq, no, xph, table, dyT, Opad, chunks, t0, t1, nFull, tail, first):
   * for the DOT_Q×DOT_O tile of dW at taps q.. (nq valid) and output channels o.. (no valid),
   * adds Σ over pixel chunks t ∈ [t0, t1) of x-tap · dy to the lane partial sums at
   * part + 16·(o·Q + q) (starting from zero when `first`). Chunk t covers 4 pixels: its x bytes
   * are at xph + table[q] + chunks[2t], its dy vectors at dyT + 16·(t·Opad + o) (see `dotT`).
   * In tail chunks (t ≥ nFull) x's lanes ≥ `tail` are masked too. The `C` variant is for taps at
   * consecutive addresses (x at xb, xb + 4): one base register.
   */
  const dotTileFn = (consecutive: boolean) => m.func(consecutive ? 'dotTileC' : 'dotTile', params('part', 'Q', 'q', 'o', 'nq', 'no', 'xph', 'table', 'dyT', 'Opad', 'chunks', 't0', 't1', 'nFull', 'tail', 'first'), [],
    (f, part, Q, q, o, nq, no, xph, table, dyT, Opad, chunks, t0, t1, nFull, tail, first) => {
      const acc = Array.from({ length: DOT_Q }, (_, a) => f.localsOf('v128', DOT_O, `acc${a}_`));
      const xv = f.localsOf('v128', DOT_Q, 'x');
      const dv = f.localsOf('v128', DOT_O, 'dv');
      const xb = f.localsOf('i32', consecutive ? 1 : DOT_Q, 'xb');
      const tp = f.local('i32'), tend = f.local('i32'), ox = f.local('i32'), dp = f.local('i32'), dstep = f.local('i32'), pp = f.local('i32');
      for (let a = 0; a < xb.length; a++) f.set(xb[a]!, I32.add(xph, I32.load(I32.add(table, I32.shl(I32.add(q, I32.min(a, I32.sub(nq, 1))), 2)))));
      const pAddr = (a: number, b: number) => I32.add(part, I32.shl(I32.add(I32.mul(I32.add(o, I32.min(b, I32.sub(no, 1))), Q), I32.add(q, I32.min(a, I32.sub(nq, 1)))), 4));
      for (let a = 0; a < DOT_Q; a++) {
        for (let b = 0; b < DOT_O; b++) f.set(acc[a]![b]!, V128.bitselect(F32x4.splat(0), V128.load(pAddr(a, b)), I32x4.splat(I32.sub(0, I32.ne(first, 0)))));
      }
      f.set(dstep, I32.shl(Opad, 4));
      const body = (masked: boolean) => {
        f.set(ox, I32.load(tp));
        for (let b = 0; b < DOT_O; b++) f.set(dv[b]!, V128.load(dp, 16 * b));
        for (let a = 0; a < DOT_Q; a++) {
          const ld = consecutive ? V128.load(I32.add(xb[0]!, ox), 4 * a) : V128.load(I32.add(xb[a]!, ox));
          f.set(xv[a]!, masked ? V128.and(ld, F32x4.lt(F32x4.fromI32x4(v128i32(0, 1, 2, 3)), F32x4.splat(F32.fromI32S(tail)))) : ld);
        }
        for (let a = 0; a < DOT_Q; a++) {
          for (let b = 0; b < DOT_O; b++) f.set(acc[a]![b]!, mulAdd(options.fma, acc[a]![b]!, xv[a]!, dv[b]!));
        }
        f.inc(tp, 8);
        f.inc(dp, dstep);
      };
      const run = (from: Val, to: Val, masked: boolean) => {
        f.set(tp, I32.add(chunks, I32.shl(from, 3)));
        f.set(tend, I32.add(chunks, I32.shl(to, 3)));
        f.set(dp, I32.add(I32.add(dyT, I32.shl(I32.mul(from, Opad), 4)), I32.shl(o, 4)));
        f.while(I32.ltU(tp, tend), () => body(masked));
      };
      run(t0, I32.min(t1, nFull), false);
      run(I32.max(t0, nFull), t1, true);
      for (let a = 0; a < DOT_Q; a++) {
        for (let b = 0; b < DOT_O; b++) {
          f.if(I32.and(I32.ltS(a, nq), I32.ltS(b, no)), () => {
            f.set(pp, I32.add(part, I32.shl(I32.add(I32.mul(I32.add(o, b), Q), I32.add(q, a)), 4)));
            f.store(pp, acc[a]![b]!);
          });
        }
      }
    });
  const dotTile = dotTileFn(false);
  const dotTileC = dotTileFn(true);

  /**
   * filterDot(part, Q, O, Opad, xph, table, dyT, chunks, nChunks, nFull, tail, q0, q1, R): lane
   * partial sums of dW[o, q] = Σ_pixels dy[o] · tap q of x, for taps q ∈ [q0, q1) (q0 a multiple
   * of DOT_Q) and o < O, over all pixel chunks in blocks of R chunks (a block's inputs stay in
   * cache while every tile sweeps it). Per lane, chunks are summed in order: a fixed order.
   */
  m.func('filterDot', params('part', 'Q', 'O', 'Opad', 'xph', 'table', 'dyT', 'chunks', 'nChunks', 'nFull', 'tail', 'q0', 'q1', 'R'), [],
    (f, part, Q, O, Opad, xph, table, dyT, chunks, nChunks, nFull, tail, q0, q1, R) => {
      const tb = f.local('i32'), q = f.local('i32'), o = f.local('i32'), t1 = f.local('i32'), nq = f.local('i32'), consec = f.local('i32'), t0v = f.local('i32');
      f.for(tb, 0, nChunks, R, () => {
        f.set(t1, I32.min(nChunks, I32.add(tb, R)));
        // o outer: a tile column's dy (R chunks × 64 bytes) stays in L1 while the taps sweep
        f.for(o, 0, O, DOT_O, () => {
          f.for(q, q0, q1, DOT_Q, () => {
            f.set(nq, I32.min(DOT_Q, I32.sub(q1, q)));
            f.set(t0v, I32.load(I32.add(table, I32.shl(q, 2))));
            f.set(consec, I32.eq(nq, DOT_Q));
            for (let a = 1; a < DOT_Q; a++) {
              f.if(consec, () => f.set(consec, I32.eq(I32.load(I32.add(table, I32.shl(I32.add(q, a), 2))), I32.add(t0v, 4 * a))));
            }
            const args = [part, Q, q, o, nq, I32.min(DOT_O, I32.sub(O, o)), xph, table, dyT, Opad, chunks, tb, t1, nFull, tail, I32.eqz(tb)];
            f.if(consec, () => f.call(dotTileC, args), () => f.call(dotTile, args));
          });
        });
      });
    });

  /** hsum(part, out, n0, n1): out[i] = (l0 + l1) + (l2 + l3) of part[i] for i ∈ [n0, n1). */
  m.func('hsum', params('part', 'out', 'n0', 'n1'), [], (f, part, out, n0, n1) => {
    const i = f.local('i32'), v = f.local('v128');
    f.for(i, n0, n1, 1, () => {
      f.set(v, V128.load(I32.add(part, I32.shl(i, 4))));
      f.store(I32.add(out, I32.shl(i, 2)), F32.add(F32.add(F32x4.extract(v, 0), F32x4.extract(v, 1)), F32.add(F32x4.extract(v, 2), F32x4.extract(v, 3))));
    });
  });

  // Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions.
  emitWinogradFilter(m, emitWinograd(m, tileStrided, MR, NR), options.fma);

  // Elementwise, reductions, movement.
  emitElementwise(m);

  return m.bytes();
}

export type { FuncRef };

/** Whether this runtime validates `f32x4.relaxed_madd` (Node ≥ 22, or Node 20 with `--experimental-wasm-relaxed-simd`). */
export function relaxedSimdSupported(): boolean {
  const m = new ModuleBuilder({ min: 1, max: 1, shared: false });
  m.func('probe', [['a', 'i32']], [], (f, a) => {
    f.store(a, F32x4.relaxedMadd(V128.load(a), V128.load(a), V128.load(a)));
  });
  try {
    return (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(m.bytes());
  } catch {
    return false;
  }
}
