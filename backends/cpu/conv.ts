/**
 * The convolution family as im2col + GEMM. For image n and group g, the column matrix
 * col [C/g·kh·kw, H'·W'] holds the input patch of every output pixel; then
 *   conv2d:               y_g  = W_g · col
 *   conv2dBackpropInput:  dx   = col2im(W_gᵀ · dy_g)
 *   conv2dBackpropFilter: dW_g = Σ_n dy_g · colᵀ   (n in order: fixed reduction order)
 */
import type { ConvParams } from '../../core/primitives.js';
import type { Shape } from '../../core/shape.js';
import { gemm } from './gemm.js';
import type { Alloc, FloatArray } from './storage.js';

interface Geometry {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number;
  readonly o: number; readonly kh: number; readonly kw: number;
  readonly ho: number; readonly wo: number;
  readonly cg: number; readonly og: number;
}

function geometry(xShape: Shape, wShape: Shape, yShape: Shape, p: ConvParams): Geometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [o, cg, kh, kw] = wShape as [number, number, number, number];
  return { n, c, h, w, o, kh, kw, ho: yShape[2]!, wo: yShape[3]!, cg, og: o / p.groups };
}

/** Fills col [cg·kh·kw, ho·wo] from image n, group g of x. */
function im2col(col: FloatArray, x: FloatArray, g: Geometry, p: ConvParams, n: number, group: number): void {
  const [sh, sw] = p.stride;
  const [dh, dw] = p.dilation;
  const pt = p.padding[0];
  const pl = p.padding[2];
  const hw = g.ho * g.wo;
  let row = 0;
  for (let ci = 0; ci < g.cg; ci++) {
    const xBase = (n * g.c + group * g.cg + ci) * g.h * g.w;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++, row++) {
        const out = row * hw;
        for (let oh = 0; oh < g.ho; oh++) {
          const ih = oh * sh - pt + i * dh;
          const o = out + oh * g.wo;
          if (ih < 0 || ih >= g.h) {
            col.fill(0, o, o + g.wo);
            continue;
          }
          const xr = xBase + ih * g.w;
          for (let ow = 0; ow < g.wo; ow++) {
            const iw = ow * sw - pl + j * dw;
            col[o + ow] = iw >= 0 && iw < g.w ? x[xr + iw]! : 0;
          }
        }
      }
    }
  }
}

/** Adds col [cg·kh·kw, ho·wo] back into image n, group g of dx (the adjoint of im2col). */
function col2im(dx: FloatArray, col: FloatArray, g: Geometry, p: ConvParams, n: number, group: number): void {
  const [sh, sw] = p.stride;
  const [dh, dw] = p.dilation;
  const pt = p.padding[0];
  const pl = p.padding[2];
  const hw = g.ho * g.wo;
  let row = 0;
  for (let ci = 0; ci < g.cg; ci++) {
    const xBase = (n * g.c + group * g.cg + ci) * g.h * g.w;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++, row++) {
        const src = row * hw;
        for (let oh = 0; oh < g.ho; oh++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= g.h) continue;
          const xr = xBase + ih * g.w;
          const s = src + oh * g.wo;
          for (let ow = 0; ow < g.wo; ow++) {
            const iw = ow * sw - pl + j * dw;
            if (iw >= 0 && iw < g.w) dx[xr + iw] += col[s + ow]!;
          }
        }
      }
    }
  }
}

/** y [N, O, H', W'] = conv2d(x, w). */
export function conv2dKernel(y: FloatArray, yShape: Shape, x: FloatArray, xShape: Shape, w: FloatArray, wShape: Shape, p: ConvParams, alloc: Alloc): void {
  const g = geometry(xShape, wShape, yShape, p);
  const kk = g.cg * g.kh * g.kw;
  const hw = g.ho * g.wo;
  const col = alloc(kk * hw);
  for (let n = 0; n < g.n; n++) {
    for (let grp = 0; grp < p.groups; grp++) {
      im2col(col, x, g, p, n, grp);
      gemm(g.og, hw, kk, { data: w, offset: grp * g.og * kk, trans: false }, { data: col, offset: 0, trans: false }, y, (n * g.o + grp * g.og) * hw, false, alloc);
    }
  }
}

/** dx [N, C, H, W] = conv2dBackpropInput(dy, w). */
export function conv2dBackpropInputKernel(dx: FloatArray, dxShape: Shape, dy: FloatArray, dyShape: Shape, w: FloatArray, wShape: Shape, p: ConvParams, alloc: Alloc): void {
  const g = geometry(dxShape, wShape, dyShape, p);
  const kk = g.cg * g.kh * g.kw;
  const hw = g.ho * g.wo;
  const col = alloc(kk * hw);
  dx.fill(0);
  for (let n = 0; n < g.n; n++) {
    for (let grp = 0; grp < p.groups; grp++) {
      gemm(kk, hw, g.og, { data: w, offset: grp * g.og * kk, trans: true }, { data: dy, offset: (n * g.o + grp * g.og) * hw, trans: false }, col, 0, false, alloc);
      col2im(dx, col, g, p, n, grp);
    }
  }
}

/** dw [O, C/groups, kh, kw] = conv2dBackpropFilter(x, dy). */
export function conv2dBackpropFilterKernel(dw: FloatArray, dwShape: Shape, x: FloatArray, xShape: Shape, dy: FloatArray, dyShape: Shape, p: ConvParams, alloc: Alloc): void {
  const g = geometry(xShape, dwShape, dyShape, p);
  const kk = g.cg * g.kh * g.kw;
  const hw = g.ho * g.wo;
  const col = alloc(kk * hw);
  dw.fill(0);
  for (let n = 0; n < g.n; n++) {
    for (let grp = 0; grp < p.groups; grp++) {
      im2col(col, x, g, p, n, grp);
      gemm(g.og, kk, hw, { data: dy, offset: (n * g.o + grp * g.og) * hw, trans: false }, { data: col, offset: 0, trans: true }, dw, grp * g.og * kk, true, alloc);
    }
  }
}
