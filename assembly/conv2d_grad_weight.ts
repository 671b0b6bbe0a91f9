// conv2d grad-weight for small patches (KH·KW·Cin/groups under the GEMM form's threshold, e.g. Cin = 1):
// a direct reduction in register tiles of 4 patch entries × 8 output channels.

import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgLDO, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { loadN, madd, store8 } from './inline/simd';
import { imax, imin, interiorEnd, interiorStart } from './inline/window';

/**
 * dw[kh, kw, i, g·OCg + o] = Σ_{n,oh,ow} x[n, oh·sh-pt+kh, ow·sw-pl+kw, g·ICg + i] · dy[n, oh, ow, g·OCg + o].
 * For each kh the (kw, i) pairs form R = KW·ICg patch rows; register tiles of 4 rows × 8 output
 * channels reduce over a chunk of ~256 output pixels (whole output rows, so the chunk's x and dy stay
 * in L2), then add into dw (zeroed first). Interior pixels run a branch-free pointer loop; the few
 * pixels whose taps fall in the padding take a checked path. dy's pixels and dw's rows are ldo (cgLDO)
 * elements apart, so a call can compute a slice of the output channels (groups = 1).
 */
export function conv2d_grad_weight_nhwc_f32_4x8(x: usize, dy: usize, dw: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const ICg = C / groups, OCg = CO / groups, ldo = cgLDO(geo);
  for (let r = 0; r < KH * KW * ICg; r++) memory.fill(dw + (<usize>(r * ldo) << 2), 0, <usize>CO << 2);
  const R = KW * ICg;
  const nb = (OCg + 7) >> 3;
  const xs = <usize>(sw * C) << 2;
  const ds = <usize>ldo << 2;
  const dwr = <usize>ldo << 2;
  const rows = N * OH;
  const chunk = imax(1, 256 / imax(1, OW));
  for (let t0 = 0; t0 < rows; t0 += chunk) {
    const t1 = imin(rows, t0 + chunk);
    for (let kh = 0; kh < KH; kh++) {
      for (let g = 0; g < groups; g++) {
        for (let r0 = 0; r0 < R; r0 += 4) {
          const rv = imin(4, R - r0);
          // The 4 rows: kw and element offset within a pixel; missing rows repeat the last one.
          const r1 = imin(r0 + 1, R - 1), r2 = imin(r0 + 2, R - 1), r3 = imin(r0 + 3, R - 1);
          const kw0 = r0 / ICg, kw1 = r1 / ICg, kw2 = r2 / ICg, kw3 = r3 / ICg;
          const o0 = kw0 * C + g * ICg + r0 % ICg;
          const o1 = kw1 * C + g * ICg + r1 % ICg;
          const o2 = kw2 * C + g * ICg + r2 % ICg;
          const o3 = kw3 * C + g * ICg + r3 % ICg;
          const b1 = <usize>(o1 - o0) << 2, b2 = <usize>(o2 - o0) << 2, b3 = <usize>(o3 - o0) << 2;
          // ow range where all four taps are inside the row (kw0 ≤ kw1 ≤ kw2 ≤ kw3).
          const owA = interiorStart(0, OW, pl, sw, kw0);
          const owB = interiorEnd(owA, OW, W, pl, sw, kw3);
          for (let cb = 0; cb < nb; cb++) {
            const m = imin(8, OCg - cb * 8);
            const dwp = dw + (<usize>(((kh * KW) * ICg + r0) * ldo + g * OCg + cb * 8) << 2);
            let a00 = loadN(dwp, m), a01 = loadN(dwp + 16, m - 4);
            let a10 = loadN(dwp + dwr, m), a11 = loadN(dwp + dwr + 16, m - 4);
            let a20 = loadN(dwp + 2 * dwr, m), a21 = loadN(dwp + 2 * dwr + 16, m - 4);
            let a30 = loadN(dwp + 3 * dwr, m), a31 = loadN(dwp + 3 * dwr + 16, m - 4);
            for (let t = t0; t < t1; t++) {
              const n = t / OH, oh = t - n * OH;
              const ih = oh * sh - pt + kh;
              if (ih < 0 || ih >= H) continue;
              const xrow = x + (<usize>(((n * H + ih) * W) * C) << 2);
              const dcol = dy + (<usize>(t * OW * ldo + g * OCg + cb * 8) << 2);
              for (let ow = 0; ow < OW; ow++) {
                if (ow == owA) {
                  // interior: every tap in range, no checks
                  let p = xrow + (<usize>((owA * sw - pl) * C + o0) << 2);
                  let d = dcol + <usize>owA * ds;
                  const de = dcol + <usize>owB * ds;
                  if (m == 8) {
                    while (d < de) {
                      const d0 = v128.load(d), d1 = v128.load(d, 16);
                      const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p + b1);
                      const x2 = v128.load32_splat(p + b2), x3 = v128.load32_splat(p + b3);
                      a00 = madd(x0, d0, a00); a01 = madd(x0, d1, a01);
                      a10 = madd(x1, d0, a10); a11 = madd(x1, d1, a11);
                      a20 = madd(x2, d0, a20); a21 = madd(x2, d1, a21);
                      a30 = madd(x3, d0, a30); a31 = madd(x3, d1, a31);
                      p += xs;
                      d += ds;
                    }
                  } else {
                    while (d < de) {
                      const d0 = loadN(d, m), d1 = loadN(d + 16, m - 4);
                      const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p + b1);
                      const x2 = v128.load32_splat(p + b2), x3 = v128.load32_splat(p + b3);
                      a00 = madd(x0, d0, a00); a01 = madd(x0, d1, a01);
                      a10 = madd(x1, d0, a10); a11 = madd(x1, d1, a11);
                      a20 = madd(x2, d0, a20); a21 = madd(x2, d1, a21);
                      a30 = madd(x3, d0, a30); a31 = madd(x3, d1, a31);
                      p += xs;
                      d += ds;
                    }
                  }
                  ow = owB;
                  if (ow >= OW) break;
                }
                const dp = dcol + <usize>ow * ds;
                const d0 = loadN(dp, m), d1 = loadN(dp + 16, m - 4);
                const iwb = ow * sw - pl;
                const x0 = tap(xrow, iwb, kw0, W, C, o0), x1 = tap(xrow, iwb, kw1, W, C, o1);
                const x2 = tap(xrow, iwb, kw2, W, C, o2), x3 = tap(xrow, iwb, kw3, W, C, o3);
                a00 = madd(x0, d0, a00); a01 = madd(x0, d1, a01);
                a10 = madd(x1, d0, a10); a11 = madd(x1, d1, a11);
                a20 = madd(x2, d0, a20); a21 = madd(x2, d1, a21);
                a30 = madd(x3, d0, a30); a31 = madd(x3, d1, a31);
              }
            }
            store8(dwp, a00, a01, m);
            if (rv > 1) store8(dwp + dwr, a10, a11, m);
            if (rv > 2) store8(dwp + 2 * dwr, a20, a21, m);
            if (rv > 3) store8(dwp + 3 * dwr, a30, a31, m);
          }
        }
      }
    }
  }
}

/** splat(x[row, iwb + kw, off - kw·C]) when the tap is inside the row, else 0. */
function tap(xrow: usize, iwb: i32, kw: i32, W: i32, C: i32, off: i32): v128 {
  const iw = iwb + kw;
  if (iw < 0 || iw >= W) return f32x4.splat(0);
  return v128.load32_splat(xrow + (<usize>(iwb * C + off) << 2));
}
