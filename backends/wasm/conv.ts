/**
 * Convolution drivers of the `wasm` backend.
 *
 * - conv2d: the input is laid out once as zero-padded phase planes (`phase`), then a direct
 *   convolution (`convDirect`) multiplies the packed filters with taps read through an offset
 *   table — an implicit im2col: no column matrix is built. Output rows are split among threads.
 * - conv2dBackpropInput: with stride 1 (and padding ≤ the dilated kernel extent) it is the
 *   convolution of dy with the flipped, transposed filters, so it runs as conv2d; otherwise
 *   Wᵀ·dy per image by GEMM and a col2im scatter.
 * - conv2dBackpropFilter: `filterDot` reduces over output pixels along their contiguous rows
 *   (both x's taps and dy are contiguous there), lane partial sums in a fixed order, then `hsum`.
 */
import type { ConvParams } from '../../core/primitives.js';
import type { Shape } from '../../core/shape.js';
import { gemm } from './gemm.js';
import { DOT_O, DOT_Q, MR, NR } from './kernels.js';
import type { Runtime } from './runtime.js';
import { split } from './threads.js';

type Quad = readonly [number, number, number, number];

/**
 * The phase layout of an input for a convolution geometry: [n][u < hq][c][a < sh][b < sw][v < wq]
 * holding xpad[u·sh + a, v·sw + b] of channel c (xpad: x with the convolution's zero padding).
 */
interface PhaseLayout {
  readonly hq: number;
  readonly wq: number;
  /** Bytes per step of u (one phase row of every channel). */
  readonly rowBytes: number;
  /** Bytes per image. */
  readonly imgBytes: number;
  /** Bytes per input channel within a row (a group's first channel is at g·cg·chanBytes). */
  readonly chanBytes: number;
  /** Tap offsets (bytes) for (c < cg, i < kh, j < kw), relative to a group's first channel. */
  readonly table: Int32Array;
}

function phaseLayout(x: Quad, p: ConvParams, cg: number, kh: number, kw: number): PhaseLayout {
  const [, c, h, w] = x;
  const [sh, sw] = p.stride;
  const [dh, dw] = p.dilation;
  const hq = Math.ceil((h + p.padding[0] + p.padding[1]) / sh);
  const wq = Math.ceil((w + p.padding[2] + p.padding[3]) / sw);
  const chanBytes = sh * sw * wq * 4;
  const rowBytes = c * chanBytes;
  const table = new Int32Array(cg * kh * kw);
  let q = 0;
  for (let ci = 0; ci < cg; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const a = (i * dh) % sh, u0 = Math.floor((i * dh) / sh);
        const b = (j * dw) % sw, v0 = Math.floor((j * dw) / sw);
        table[q++] = u0 * rowBytes + ci * chanBytes + (a * sw + b) * wq * 4 + v0 * 4;
      }
    }
  }
  return { hq, wq, rowBytes, imgBytes: hq * rowBytes, chanBytes, table };
}

/** Builds the phase layout of x (at byte address `x`) into a new block; returns it. */
function buildPhase(rt: Runtime, xAddr: number, x: Quad, p: ConvParams, lay: PhaseLayout): { ptr: number; free: () => void } {
  const [n, c, h, w] = x;
  const block = rt.temp(n * lay.imgBytes + (NR + 16) * 4);
  const rows = n * lay.hq;
  const nth = rt.threadsFor(n * lay.imgBytes);
  rt.pool.run('phase', split(rows, Math.min(nth, rows)).map(([g0, g1]) => [xAddr, c, h, w, p.padding[0], p.padding[2], p.stride[0], p.stride[1], lay.hq, lay.wq, block.ptr, g0, g1]));
  return { ptr: block.ptr, free: () => rt.free(block) };
}

/** Copies an Int32 table into a new block. */
function uploadTable(rt: Runtime, table: Int32Array): { ptr: number; free: () => void } {
  const block = rt.temp(table.length * 4 + 16);
  rt.heap.i32.set(table, block.ptr / 4);
  return { ptr: block.ptr, free: () => rt.free(block) };
}

/**
 * y = conv2d(x, w) with x [N, C, H, W] at `xAddr`, w [O, cg, kh, kw] at `wAddr` (row-major), y
 * [N, O, Ho, Wo] at `yAddr`.
 */
export function conv2d(rt: Runtime, xAddr: number, xShape: Shape, wAddr: number, wShape: Shape, yAddr: number, yShape: Shape, p: ConvParams): void {
  const x = xShape as Quad;
  const [o, cg, kh, kw] = wShape as Quad;
  const [n, , ho, wo] = yShape as Quad;
  const groups = p.groups;
  const og = o / groups;
  const kk = cg * kh * kw;
  if (n * o * ho * wo === 0) return;
  if (kk === 0 || x[1] === 0) {
    rt.heap.f32.fill(0, yAddr / 4, yAddr / 4 + n * o * ho * wo);
    return;
  }
  if (rt.winograd && groups === 1 && kh === 3 && kw === 3 && p.stride[0] === 1 && p.stride[1] === 1 && p.dilation[0] === 1 && p.dilation[1] === 1 && cg >= 8 && o >= 8) {
    winogradConv(rt, xAddr, x, wAddr, o, yAddr, ho, wo, p);
    return;
  }
  const lay = phaseLayout(x, p, cg, kh, kw);
  const xph = buildPhase(rt, xAddr, x, p, lay);
  const table = uploadTable(rt, lay.table);
  const panels = Math.ceil(og / MR);
  const packed = rt.temp(groups * panels * MR * kk * 4);
  const rows = n * ho;
  const nth = rt.threadsFor(n * o * ho * wo * kk);
  const tile = rt.temp(rt.threads * MR * NR * 4 + 64);
  try {
    for (let g = 0; g < groups; g++) {
      const ap = packed.ptr + g * panels * MR * kk * 4;
      rt.k['packA']!(ap, wAddr + g * og * kk * 4, 0, og, kk, 0, og, 0, kk);
      const shares = split(rows, nth).map(([r0, r1], t) => [
        ap, og, kk, table.ptr, xph.ptr + g * cg * lay.chanBytes, lay.imgBytes, lay.rowBytes,
        yAddr + g * og * ho * wo * 4, o * ho * wo * 4, ho * wo * 4, ho, wo, r0, r1, tile.ptr + t * MR * NR * 4,
      ]);
      rt.pool.run('convDirect', shares);
    }
  } finally {
    rt.free(tile);
    rt.free(packed);
    table.free();
    xph.free();
  }
}

/**
 * Winograd F(2×2, 3×3) (see `winograd-kernels.ts`) for a 3×3 stride-1 convolution: x padded so
 * that every tile's patch exists, U = G g Gᵀ packed per ξ, then blocks of tile rows split among the
 * threads, each block's V and M about 1 MiB (L2).
 */
function winogradConv(rt: Runtime, xAddr: number, x: Quad, wAddr: number, o: number, yAddr: number, ho: number, wo: number, p: ConvParams): void {
  const [n, c, h, w] = x;
  const tH = Math.ceil(ho / 2);
  const tW4 = Math.ceil(Math.ceil(wo / 2) / 4) * 4;
  // rows 2ty..2ty+3 and columns 2tx..2tx+11 of every tile group must exist in the padded input
  const pad: ConvParams['padding'] = [p.padding[0], Math.max(p.padding[1], 2 * tH + 2 - h - p.padding[0]), p.padding[2], Math.max(p.padding[3], 2 * tW4 + 4 - w - p.padding[2])];
  const pp: ConvParams = { ...p, padding: pad };
  const lay = phaseLayout(x, pp, c, 3, 3);
  const xph = buildPhase(rt, xAddr, x, pp, lay);
  const panels = Math.ceil(o / MR);
  const uXi = panels * MR * c * 4;
  const U = rt.temp(16 * o * c * 4);
  const packed = rt.temp(16 * uXi);
  const G = n * tH;
  const R = Math.max(1, Math.min(G, Math.floor(16384 / (c + o) / tW4)));
  const TB = R * tW4;
  const blocks = Math.ceil(G / R);
  const nth = Math.min(rt.threadsFor(n * o * ho * wo * c * 9), blocks);
  const vBytes = 16 * c * TB * 4 + 256;
  const mBytes = 16 * o * TB * 4 + 256;
  const per = vBytes + mBytes + 1024;
  const scratch = rt.temp(nth * per);
  try {
    rt.pool.run('winoFilter', split(o, Math.min(rt.threadsFor(o * c * 64), o)).map(([o0, o1]) => [wAddr, U.ptr, o, c, o0, o1]));
    for (let xi = 0; xi < 16; xi++) rt.k['packA']!(packed.ptr + xi * uXi, U.ptr + xi * o * c * 4, 0, o, c, 0, o, 0, c);
    rt.pool.run('winoConv', split(blocks, nth).map(([b0, b1], t) => {
      const base = scratch.ptr + t * per;
      return [xph.ptr, lay.imgBytes, lay.rowBytes, lay.chanBytes, c, o, tH, tW4, ho, wo, yAddr, packed.ptr, uXi, base, base + vBytes, TB, R, G, b0, b1, base + vBytes + mBytes];
    }));
  } finally {
    rt.free(scratch);
    rt.free(packed);
    rt.free(U);
    xph.free();
  }
}

/** dx [N, C, H, W] = conv2dBackpropInput(dy [N, O, Ho, Wo], w [O, cg, kh, kw]). */
export function conv2dBackpropInput(rt: Runtime, dyAddr: number, dyShape: Shape, wAddr: number, wShape: Shape, dxAddr: number, dxShape: Shape, p: ConvParams): void {
  const [o, cg, kh, kw] = wShape as Quad;
  const [n, c, h, w] = dxShape as Quad;
  const [, , ho, wo] = dyShape as Quad;
  const groups = p.groups;
  const og = o / groups;
  if (n * c * h * w === 0) return;
  const [dh, dw] = p.dilation;
  const flipPad = [dh * (kh - 1) - p.padding[0], dh * (kh - 1) - p.padding[1], dw * (kw - 1) - p.padding[2], dw * (kw - 1) - p.padding[3]] as const;
  if (p.stride[0] === 1 && p.stride[1] === 1 && flipPad.every((v) => v >= 0)) {
    // dx = conv(dy, w') with w'[g·cg + c, o, i, j] = w[g·og + o, c, kh−1−i, kw−1−j]
    const flipped = rt.temp(c * og * kh * kw * 4);
    try {
      rt.k['flip']!(wAddr, flipped.ptr, og, cg, kh * kw, groups);
      conv2d(rt, dyAddr, dyShape, flipped.ptr, [c, og, kh, kw], dxAddr, dxShape, { stride: [1, 1], padding: flipPad, dilation: p.dilation, groups });
    } finally {
      rt.free(flipped);
    }
    return;
  }
  // general: per image and group, col = W_gᵀ · dy_g (GEMM), dx_g = col2im(col)
  const kk = cg * kh * kw;
  const hw = ho * wo;
  rt.heap.f32.fill(0, dxAddr / 4, dxAddr / 4 + n * c * h * w);
  if (kk * hw === 0 || og === 0) return;
  const col = rt.temp(kk * hw * 4);
  try {
    const nth = rt.threadsFor(c * h * w * kh);
    for (let img = 0; img < n; img++) {
      for (let g = 0; g < groups; g++) {
        gemm(rt, 1, kk, hw, og, wAddr + g * og * kk * 4, true, dyAddr + (img * o + g * og) * hw * 4, false, col.ptr);
        const dxg = dxAddr + (img * c + g * cg) * h * w * 4;
        rt.pool.run('col2im', split(cg, Math.min(nth, cg)).map(([c0, c1]) => [col.ptr, h, w, kh, kw, p.padding[0], p.padding[2], p.stride[0], p.stride[1], dh, dw, ho, wo, dxg, c0, c1]));
      }
    }
  } finally {
    rt.free(col);
  }
}

/** dw [O, cg, kh, kw] = conv2dBackpropFilter(x [N, C, H, W], dy [N, O, Ho, Wo]). */
export function conv2dBackpropFilter(rt: Runtime, xAddr: number, xShape: Shape, dyAddr: number, dyShape: Shape, dwAddr: number, dwShape: Shape, p: ConvParams): void {
  const x = xShape as Quad;
  const [o, cg, kh, kw] = dwShape as Quad;
  const [n, , ho, wo] = dyShape as Quad;
  const groups = p.groups;
  const og = o / groups;
  const q = cg * kh * kw;
  if (o * q === 0) return;
  if (n * ho * wo === 0 || x[1] === 0) {
    rt.heap.f32.fill(0, dwAddr / 4, dwAddr / 4 + o * q);
    return;
  }
  // Winograd pays for the filter gradient from 32 channels in and out (measured; below, the direct
  // reduction is as fast)
  if (rt.winograd && groups === 1 && kh === 3 && kw === 3 && p.stride[0] === 1 && p.stride[1] === 1 && p.dilation[0] === 1 && p.dilation[1] === 1 && cg >= 32 && o >= 32) {
    winogradFilter(rt, xAddr, x, dyAddr, o, ho, wo, dwAddr, p);
    return;
  }
  const lay = phaseLayout(x, p, cg, kh, kw);
  const xph = buildPhase(rt, xAddr, x, p, lay);
  const table = uploadTable(rt, lay.table);
  const part = rt.temp(og * q * 16);
  // pixel chunks: 4 consecutive output columns of one row; full chunks first, then row tails
  const perRow = Math.floor(wo / 4);
  const tail = wo - 4 * perRow;
  const rowsTotal = n * ho;
  const nFull = rowsTotal * perRow;
  const nChunks = nFull + (tail ? rowsTotal : 0);
  const chunks = rt.temp(nChunks * 8 + 16);
  const i32 = rt.heap.i32;
  const base = chunks.ptr / 4;
  const dyPlane = ho * wo * 4;
  let t = 0;
  for (let r = 0; r < rowsTotal; r++) {
    const img = Math.floor(r / ho), oh = r - img * ho;
    for (let k = 0; k < perRow; k++, t++) {
      i32[base + 2 * t] = img * lay.imgBytes + oh * lay.rowBytes + k * 16;
      i32[base + 2 * t + 1] = img * o * dyPlane + oh * wo * 4 + k * 16;
    }
  }
  if (tail) {
    for (let r = 0; r < rowsTotal; r++, t++) {
      const img = Math.floor(r / ho), oh = r - img * ho;
      i32[base + 2 * t] = img * lay.imgBytes + oh * lay.rowBytes + perRow * 16;
      i32[base + 2 * t + 1] = img * o * dyPlane + oh * wo * 4 + perRow * 16;
    }
  }
  // dy per chunk, channels padded to a multiple of DOT_O
  const opad = Math.ceil(og / DOT_O) * DOT_O;
  const dyT = rt.temp(nChunks * opad * 16 + 16);
  // chunks per block: the block's x taps and dy about 1 MiB (L2)
  const chunkBytes = (cg * lay.chanBytes * kh * p.stride[0] + og * wo * 4) / Math.max(1, Math.ceil(wo / 4));
  const R = Math.max(16, Math.floor(1048576 / chunkBytes));
  const nth = rt.threadsFor(o * q * n * ho * wo);
  try {
    for (let g = 0; g < groups; g++) {
      rt.pool.run('dotT', split(nChunks, rt.threadsFor(nChunks * og * 64)).map(([t0, t1]) => [
        dyAddr + g * og * dyPlane, dyT.ptr, chunks.ptr, t0, t1, og, opad, dyPlane, nFull, tail,
      ]));
      const shares = split(q, nth, DOT_Q).map(([q0, q1]) => [
        part.ptr, q, og, opad, xph.ptr + g * cg * lay.chanBytes, table.ptr, dyT.ptr,
        chunks.ptr, nChunks, nFull, tail, q0, q1, R,
      ]);
      rt.pool.run('filterDot', shares);
      const out = dwAddr + g * og * q * 4;
      rt.pool.run('hsum', split(og * q, rt.threadsFor(og * q * 64)).map(([a, b]) => [part.ptr, out, a, b]));
    }
  } finally {
    rt.free(dyT);
    rt.free(chunks);
    rt.free(part);
    table.free();
    xph.free();
  }
}

/** Fixed number of tile-block groups of the Winograd filter gradient (independent of the threads). */
const WINO_GROUPS = 8;

/**
 * Winograd filter gradient of a 3×3 stride-1 convolution: dW = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G
 * (`winograd-kernels.ts`). The tile sum runs in WINO_GROUPS fixed groups of blocks (threads take
 * whole groups), summed in group order at the end: the same bits for any number of threads.
 */
function winogradFilter(rt: Runtime, xAddr: number, x: Quad, dyAddr: number, o: number, ho: number, wo: number, dwAddr: number, p: ConvParams): void {
  const [n, c, h, w] = x;
  const tH = Math.ceil(ho / 2);
  const tW4 = Math.ceil(Math.ceil(wo / 2) / 4) * 4;
  const pad: ConvParams['padding'] = [p.padding[0], Math.max(p.padding[1], 2 * tH + 2 - h - p.padding[0]), p.padding[2], Math.max(p.padding[3], 2 * tW4 + 4 - w - p.padding[2])];
  const pp: ConvParams = { ...p, padding: pad };
  const lay = phaseLayout(x, pp, c, 3, 3);
  const xph = buildPhase(rt, xAddr, x, pp, lay);
  // dy zero-padded to 2·tH rows and 2·tW4 + 4 columns (the tiles past the output read zeros)
  const dyShape: Quad = [n, o, ho, wo];
  const dp: ConvParams = { stride: [1, 1], dilation: [1, 1], groups: 1, padding: [0, 2 * tH - ho, 0, 2 * tW4 + 4 - wo] };
  const dlay = phaseLayout(dyShape, dp, 1, 1, 1);
  const dyp = buildPhase(rt, dyAddr, dyShape, dp, dlay);
  const G = n * tH;
  // blocks of V and Y about 1 MiB, 4 MiB with many channels (long tile runs per partial sum; measured)
  const R = Math.max(1, Math.min(G, Math.floor((c + o >= 128 ? 65536 : 16384) / (c + o) / tW4)));
  const TB = R * tW4;
  const blocks = Math.ceil(G / R);
  const NG = Math.min(WINO_GROUPS, blocks);
  const nth = Math.min(rt.threadsFor(n * o * ho * wo * c * 9), NG);
  const vBytes = 16 * c * TB * 4 + 256;
  const yBytes = 16 * o * TB * 4 + 256;
  const pBytes = 16 * o * c * 16;
  const per = vBytes + yBytes + pBytes;
  const scratch = rt.temp(nth * per);
  const mg = rt.temp(NG * 16 * o * c * 4);
  try {
    rt.pool.run('winoGrad', split(NG, nth).map(([g0, g1], t) => {
      const base = scratch.ptr + t * per;
      return [xph.ptr, lay.imgBytes, lay.rowBytes, lay.chanBytes, dyp.ptr, dlay.imgBytes, dlay.rowBytes, dlay.chanBytes, c, o, tH, tW4, R, G, blocks, NG, g0, g1, base, base + vBytes, base + vBytes + yBytes, mg.ptr];
    }));
    rt.pool.run('winoGradOut', split(o, Math.min(rt.threadsFor(o * c * 64 * NG), o)).map(([o0, o1]) => [mg.ptr, NG, dwAddr, o, c, o0, o1]));
  } finally {
    rt.free(mg);
    rt.free(scratch);
    dyp.free();
    xph.free();
  }
}
