// Depthwise conv (channel multiplier 1, weights [KH, KW, C], NHWC activations) forward and gradients,
// vectorized over channels; the geometry block has groups = C = CO.

import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { loadN, madd, store8 } from './inline/simd';
import { imax, imin, interiorEnd, interiorStart } from './inline/window';

// depthwise conv (channel multiplier 1, weights [KH, KW, C])

/**
 * y[n, oh, ow, c] = bias[c] + Σ_{kh,kw} x[n, oh·sh-pt+kh, ow·sw-pl+kw, c] · w[kh, kw, c].
 * Interior tiles: 4 pixels × 8 channels; edges and channel tails: one pixel × ≤ 8 channels.
 */
export function depthwise_conv2d_nhwc_f32_4x8(x: usize, w: usize, bias: usize, y: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const owA = interiorStart(0, OW, pl, sw, 0);
  const owB = interiorEnd(owA, OW, W, pl, sw, KW - 1);
  const s1 = <usize>(sw * C) << 2, s2 = s1 * 2, s3 = s1 * 3;
  const cs = <usize>C << 2;
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      const yrow = y + (<usize>((n * OH + oh) * OW * C) << 2);
      for (let c0 = 0; c0 < C; c0 += 8) {
        const m = imin(8, C - c0);
        let b0 = zero, b1 = zero;
        if (bias != 0) { b0 = loadN(bias + (<usize>c0 << 2), m); b1 = loadN(bias + (<usize>c0 << 2) + 16, m - 4); }
        let ow = 0;
        if (m == 8 && sw == 1 && KW == 3) {
          // Stride-1 3-wide rows: 6 pixels share 8 input columns, the 3 taps' weights stay in registers;
          // two 4-channel halves, each 6 accumulators + 3 weights.
          for (; ow < owA; ow++) dw_pixel(x, n, H, W, C, w, KH, KW, yrow + (<usize>(ow * C + c0) << 2), c0, m, b0, b1, ihb, ow - pl, khlo, khhi);
          for (; ow + 6 <= owB; ow += 6) {
            for (let half = 0; half < 2; half++) {
              const hc = <usize>(c0 + half * 4) << 2;
              const bb = half == 0 ? b0 : b1;
              let a0 = bb, a1 = bb, a2 = bb, a3 = bb, a4 = bb, a5 = bb;
              for (let kh = khlo; kh < khhi; kh++) {
                const p = x + (<usize>(((n * H + ihb + kh) * W + ow - pl) * C) << 2) + hc;
                const q = w + (<usize>(kh * 3 * C) << 2) + hc;
                const w0 = v128.load(q), w1 = v128.load(q + cs), w2 = v128.load(q + 2 * cs);
                let v = v128.load(p);
                a0 = madd(v, w0, a0);
                v = v128.load(p + cs);
                a0 = madd(v, w1, a0); a1 = madd(v, w0, a1);
                v = v128.load(p + 2 * cs);
                a0 = madd(v, w2, a0); a1 = madd(v, w1, a1); a2 = madd(v, w0, a2);
                v = v128.load(p + 3 * cs);
                a1 = madd(v, w2, a1); a2 = madd(v, w1, a2); a3 = madd(v, w0, a3);
                v = v128.load(p + 4 * cs);
                a2 = madd(v, w2, a2); a3 = madd(v, w1, a3); a4 = madd(v, w0, a4);
                v = v128.load(p + 5 * cs);
                a3 = madd(v, w2, a3); a4 = madd(v, w1, a4); a5 = madd(v, w0, a5);
                v = v128.load(p + 6 * cs);
                a4 = madd(v, w2, a4); a5 = madd(v, w1, a5);
                v = v128.load(p + 7 * cs);
                a5 = madd(v, w2, a5);
              }
              const yp = yrow + (<usize>(ow * C) << 2) + hc;
              v128.store(yp, a0); v128.store(yp + cs, a1); v128.store(yp + 2 * cs, a2);
              v128.store(yp + 3 * cs, a3); v128.store(yp + 4 * cs, a4); v128.store(yp + 5 * cs, a5);
            }
          }
        } else if (m == 8) {
          for (; ow < owA; ow++) dw_pixel(x, n, H, W, C, w, KH, KW, yrow + (<usize>(ow * C + c0) << 2), c0, m, b0, b1, ihb, ow * sw - pl, khlo, khhi);
          for (; ow + 4 <= owB; ow += 4) {
            let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
            for (let kh = khlo; kh < khhi; kh++) {
              let p = x + (<usize>(((n * H + ihb + kh) * W + ow * sw - pl) * C + c0) << 2);
              let q = w + (<usize>(kh * KW * C + c0) << 2);
              for (let kw = 0; kw < KW; kw++) {
                const w0 = v128.load(q), w1 = v128.load(q, 16);
                a00 = madd(v128.load(p), w0, a00); a01 = madd(v128.load(p, 16), w1, a01);
                a10 = madd(v128.load(p + s1), w0, a10); a11 = madd(v128.load(p + s1, 16), w1, a11);
                a20 = madd(v128.load(p + s2), w0, a20); a21 = madd(v128.load(p + s2, 16), w1, a21);
                a30 = madd(v128.load(p + s3), w0, a30); a31 = madd(v128.load(p + s3, 16), w1, a31);
                p += cs;
                q += cs;
              }
            }
            const yp = yrow + (<usize>(ow * C + c0) << 2);
            v128.store(yp, a00); v128.store(yp, a01, 16);
            v128.store(yp + cs, a10); v128.store(yp + cs, a11, 16);
            v128.store(yp + 2 * cs, a20); v128.store(yp + 2 * cs, a21, 16);
            v128.store(yp + 3 * cs, a30); v128.store(yp + 3 * cs, a31, 16);
          }
        }
        for (; ow < OW; ow++) dw_pixel(x, n, H, W, C, w, KH, KW, yrow + (<usize>(ow * C + c0) << 2), c0, m, b0, b1, ihb, ow * sw - pl, khlo, khhi);
      }
    }
  }
}

function dw_pixel(x: usize, n: i32, H: i32, W: i32, C: i32, w: usize, KH: i32, KW: i32, yp: usize,
  c0: i32, m: i32, b0: v128, b1: v128, ihb: i32, iwb: i32, khlo: i32, khhi: i32): void {
  let a0 = b0, a1 = b1;
  const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
  if (khlo < khhi && kwlo < kwhi) {
    // Pointers step through the taps (no per-tap index arithmetic: edge pixels are ~1/7 of a 14-wide row).
    const cs = <usize>C << 2, xrs = <usize>(W * C) << 2, wrs = <usize>(KW * C) << 2;
    let prow = x + (<usize>(((n * H + ihb + khlo) * W + iwb + kwlo) * C + c0) << 2);
    let qrow = w + (<usize>((khlo * KW + kwlo) * C + c0) << 2);
    const nkw = kwhi - kwlo;
    for (let kh = khlo; kh < khhi; kh++) {
      let p = prow, q = qrow;
      if (m == 8) {
        for (let j = 0; j < nkw; j++) {
          a0 = madd(v128.load(p), v128.load(q), a0);
          a1 = madd(v128.load(p, 16), v128.load(q, 16), a1);
          p += cs; q += cs;
        }
      } else {
        for (let j = 0; j < nkw; j++) {
          a0 = madd(loadN(p, m), loadN(q, m), a0);
          if (m > 4) a1 = madd(loadN(p + 16, m - 4), loadN(q + 16, m - 4), a1);
          p += cs; q += cs;
        }
      }
      prow += xrs; qrow += wrs;
    }
  }
  store8(yp, a0, a1, m);
}

/** dx[n, ih, iw, c] = Σ over taps that read (ih, iw) of dy[n, oh, ow, c] · w[kh, kw, c] (scatter form). */
export function depthwise_conv2d_grad_input_nhwc_f32(dy: usize, w: usize, dx: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const dp = dy + (<usize>(((n * OH + oh) * OW + ow) * C) << 2);
        for (let kh = khlo; kh < khhi; kh++) {
          for (let kw = kwlo; kw < kwhi; kw++) {
            const xp = dx + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C) << 2);
            const q = w + (<usize>((kh * KW + kw) * C) << 2);
            let c = 0;
            for (; c < C4; c += 4) {
              const o = <usize>c << 2;
              v128.store(xp + o, madd(v128.load(dp + o), v128.load(q + o), v128.load(xp + o)));
            }
            for (; c < C; c++) {
              const o = <usize>c << 2;
              f32.store(xp + o, f32.load(xp + o) + f32.load(dp + o) * f32.load(q + o));
            }
          }
        }
      }
    }
  }
}

/** dw[kh, kw, c] = Σ_{n,oh,ow} x[n, oh·sh-pt+kh, ow·sw-pl+kw, c] · dy[n, oh, ow, c]. */
export function depthwise_conv2d_grad_weight_nhwc_f32(x: usize, dy: usize, dw: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  memory.fill(dw, 0, <usize>(KH * KW * C) << 2);
  const C4 = C & ~3;
  const xs = <usize>(sw * C) << 2, ds = <usize>C << 2;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      const dyrow = dy + (<usize>((n * OH + oh) * OW * C) << 2);
      for (let kh = khlo; kh < khhi; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const owlo = interiorStart(0, OW, pl, sw, kw);
          const owhi = interiorEnd(owlo, OW, W, pl, sw, kw);
          if (owhi <= owlo) continue;
          const xr = x + (<usize>(((n * H + ihb + kh) * W + owlo * sw - pl + kw) * C) << 2);
          const dr = dyrow + (<usize>(owlo * C) << 2);
          const wr = dw + (<usize>((kh * KW + kw) * C) << 2);
          let c = 0;
          for (; c + 8 <= C; c += 8) {
            const o = <usize>c << 2;
            let a0 = v128.load(wr + o), a1 = v128.load(wr + o, 16);
            let p = xr + o, d = dr + o;
            for (let ow = owlo; ow < owhi; ow++) {
              a0 = madd(v128.load(p), v128.load(d), a0);
              a1 = madd(v128.load(p, 16), v128.load(d, 16), a1);
              p += xs;
              d += ds;
            }
            v128.store(wr + o, a0);
            v128.store(wr + o, a1, 16);
          }
          for (; c < C4; c += 4) {
            const o = <usize>c << 2;
            let a0 = v128.load(wr + o);
            let p = xr + o, d = dr + o;
            for (let ow = owlo; ow < owhi; ow++) { a0 = madd(v128.load(p), v128.load(d), a0); p += xs; d += ds; }
            v128.store(wr + o, a0);
          }
          for (; c < C; c++) {
            const o = <usize>c << 2;
            let a: f32 = f32.load(wr + o);
            let p = xr + o, d = dr + o;
            for (let ow = owlo; ow < owhi; ow++) { a += f32.load(p) * f32.load(d); p += xs; d += ds; }
            f32.store(wr + o, a);
          }
        }
      }
    }
  }
}
