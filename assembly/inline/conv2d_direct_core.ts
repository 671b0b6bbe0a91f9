// The direct conv core shared by the forward pass (conv2d.ts) and grad-input (conv2d_grad_input.ts, one
// call per stride phase): register tiles of 4 output pixels × 8 output channels, eight f32x4 accumulators,
// over weights packed into 8-channel panels. Inline helpers only: nothing here is a wasm export.

import { loadN, muladd, store8 } from './simd';
import { imax, imin, interiorEnd, interiorStart } from './window';

/**
 * Direct NHWC convolution over packed weights (see conv2d_pack.ts), 4 pixels × 8 channels
 * per register tile:
 *   y[n, oh, ow, g·OCg + o] = bias[g·OCg + o] + Σ_{kh,kw,i} x[n, oh·sh-pt+kh, ow·sw-pl+kw, g·ICg + i] · wp
 * for oh ∈ [oh0, oh1), ow ∈ [ow0, ow1). The output element sits at element offset
 * yOff + n·ysImg + oh·ysRow + ow·ysPix + g·OCg + o (yOff may be negative), which lets grad-input
 * write one stride phase of dx. bias = 0 means none. x is [N, H, W, C], C = groups·ICg.
 */
export function conv2dDirect(
  x: usize, N: i32, H: i32, W: i32, C: i32,
  wp: usize, KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32, bias: usize,
  y: usize, yOff: i32, ysImg: i32, ysRow: i32, ysPix: i32,
  oh0: i32, oh1: i32, ow0: i32, ow1: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const nb = (OCg + 7) >> 3;
  const panel = <usize>(KH * KW * ICg) << 5;
  // Interior: every kw tap of the 4 pixels is inside the row.
  const owA = interiorStart(ow0, ow1, pl, sw, 0);
  const owB = interiorEnd(owA, ow1, W, pl, sw, KW - 1);
  const contig = ICg == C;
  const runLen = contig ? KW * C : ICg;
  const nRuns = contig ? 1 : KW;
  const s1 = <usize>(sw * C) << 2, s2 = s1 * 2, s3 = s1 * 3;
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    for (let oh = oh0; oh < oh1; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let g = 0; g < groups; g++) {
        const xg = n * H * W * C + g * ICg; // element offset of (n, 0, 0, group start)
        for (let cb = 0; cb < nb; cb++) {
          const wpanel = wp + <usize>(g * nb + cb) * panel;
          const m = imin(8, OCg - cb * 8);
          const yrow = yOff + n * ysImg + oh * ysRow + g * OCg + cb * 8;
          let b0 = zero, b1 = zero;
          if (bias != 0) {
            const bp = bias + (<usize>(g * OCg + cb * 8) << 2);
            b0 = loadN(bp, m);
            b1 = loadN(bp + 16, m - 4);
          }
          let ow = ow0;
          for (; ow < owA; ow++) {
            convPixel(x, xg, H, W, C, wpanel, KH, KW, ICg, y + (<usize>(yrow + ow * ysPix) << 2), m, b0, b1, ihb, ow * sw - pl, khlo, khhi);
          }
          for (; ow + 4 <= owB; ow += 4) {
            let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
            for (let kh = khlo; kh < khhi; kh++) {
              const xp = x + (<usize>(xg + ((ihb + kh) * W + ow * sw - pl) * C) << 2);
              let q = wpanel + (<usize>(kh * KW * ICg) << 5);
              for (let r = 0; r < nRuns; r++) {
                let p = xp + (<usize>(r * C) << 2);
                const pe = p + (<usize>runLen << 2);
                while (p < pe) {
                  const w0 = v128.load(q), w1 = v128.load(q, 16);
                  const x0 = v128.load32_splat(p);
                  const x1 = v128.load32_splat(p + s1);
                  const x2 = v128.load32_splat(p + s2);
                  const x3 = v128.load32_splat(p + s3);
                  a00 = muladd(x0, w0, a00); a01 = muladd(x0, w1, a01);
                  a10 = muladd(x1, w0, a10); a11 = muladd(x1, w1, a11);
                  a20 = muladd(x2, w0, a20); a21 = muladd(x2, w1, a21);
                  a30 = muladd(x3, w0, a30); a31 = muladd(x3, w1, a31);
                  p += 4;
                  q += 32;
                }
              }
            }
            const yp = y + (<usize>(yrow + ow * ysPix) << 2);
            const ys = <usize>ysPix << 2;
            store8(yp, a00, a01, m);
            store8(yp + ys, a10, a11, m);
            store8(yp + 2 * ys, a20, a21, m);
            store8(yp + 3 * ys, a30, a31, m);
          }
          for (; ow < ow1; ow++) {
            convPixel(x, xg, H, W, C, wpanel, KH, KW, ICg, y + (<usize>(yrow + ow * ysPix) << 2), m, b0, b1, ihb, ow * sw - pl, khlo, khhi);
          }
        }
      }
    }
  }
}

/** One output pixel × 8 channels with per-tap bounds checks (edges and remainders). */
function convPixel(x: usize, xg: i32, H: i32, W: i32, C: i32, wpanel: usize, KH: i32, KW: i32, ICg: i32,
  yp: usize, m: i32, b0: v128, b1: v128, ihb: i32, iwb: i32, khlo: i32, khhi: i32): void {
  let a0 = b0, a1 = b1;
  const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
  for (let kh = khlo; kh < khhi; kh++) {
    for (let kw = kwlo; kw < kwhi; kw++) {
      let p = x + (<usize>(xg + ((ihb + kh) * W + iwb + kw) * C) << 2);
      let q = wpanel + (<usize>((kh * KW + kw) * ICg) << 5);
      const pe = p + (<usize>ICg << 2);
      while (p < pe) {
        const xv = v128.load32_splat(p);
        a0 = muladd(xv, v128.load(q), a0);
        a1 = muladd(xv, v128.load(q, 16), a1);
        p += 4;
        q += 32;
      }
    }
  }
  store8(yp, a0, a1, m);
}
