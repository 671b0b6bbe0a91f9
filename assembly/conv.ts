// Convolution family kernels, NHWC activations, HWIO weights [KH, KW, Cin/groups, Cout]:
//   conv2d: one direct register-tiled core (4 output pixels × 8 output channels, eight f32x4
//           accumulators) over weights pre-packed into 8-channel panels, used both for the forward
//           pass and — once per stride phase, on flipped/transposed sub-kernels — for grad-input;
//           grad-weight as a GEMM over pixels (patch rows built per 256-pixel chunk, dy packed in
//           4-channel interleaved blocks, a 4×8 micro-kernel), or for tiny patches a direct 4 (kh-row patch
//           entries) × 8 (out channels) tiled reduction; bias grad.
//   depthwise conv (channel multiplier 1, weights [KH, KW, C]): vectorized over channels.
//   pooling: max (with argmax indices), average (padding excluded from the count), global average.
// Kernels take byte offsets and sizes, never allocate, and write every element of their output.
// Out-of-range window taps (padding) contribute nothing; tails of channel blocks use partial
// loads/stores so no kernel reads or writes past a tensor.

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * Separate mul + add in BOTH builds, for the direct conv core: with its 8 accumulator chains the FMA
 * latency (4–5 cycles, vs 3 for the add that is the only link of a mul+add chain) is exposed, and
 * FMA and mul share the same two pipes anyway, so relaxed_madd measured ~10% slower there. A wider
 * tile (5 pixels) would hide the latency but needs 17 live registers once V8 hoists the loads, and spills.
 */
// @ts-ignore: decorator
@inline function muladd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 { return a < b ? a : b; }
// @ts-ignore: decorator
@inline function imax(a: i32, b: i32): i32 { return a > b ? a : b; }

function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
function ceilDiv(a: i32, b: i32): i32 {
  return -floorDiv(-a, b);
}

/** Loads m lanes (m may be ≤ 0 or ≥ 4) from p; missing lanes are zero. */
function loadN(p: usize, m: i32): v128 {
  if (m >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (m > 0) v = f32x4.replace_lane(v, 0, f32.load(p));
  if (m > 1) v = f32x4.replace_lane(v, 1, f32.load(p, 4));
  if (m > 2) v = f32x4.replace_lane(v, 2, f32.load(p, 8));
  return v;
}

/** Stores the first m lanes (m ≥ 1) of v at p. */
function storeN(p: usize, v: v128, m: i32): void {
  if (m >= 4) { v128.store(p, v); return; }
  f32.store(p, f32x4.extract_lane(v, 0));
  if (m > 1) f32.store(p, f32x4.extract_lane(v, 1), 4);
  if (m > 2) f32.store(p, f32x4.extract_lane(v, 2), 8);
}

// @ts-ignore: decorator
@inline function store8(p: usize, v0: v128, v1: v128, m: i32): void {
  if (m >= 8) {
    v128.store(p, v0);
    v128.store(p, v1, 16);
  } else {
    storeN(p, v0, m);
    if (m > 4) storeN(p + 16, v1, m - 4);
  }
}

// ---------------------------------------------------------------------------------------------
// conv2d weight packing

/**
 * Packs HWIO weights w[KH, KW, ICg, groups·OCg] into 8-channel panels for the forward pass:
 * wp[g][cb][kh][kw][ci][8] = w[kh, kw, ci, g·OCg + cb·8 + lane] (0 past OCg).
 * wp holds groups · ceil(OCg/8) · KH·KW·ICg · 8 floats.
 */
export function conv2d_pack_hwio_f32x8(w: usize, wp: usize, KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32): void {
  const CO = OCg * groups;
  const nb = (OCg + 7) >> 3;
  let q = wp;
  for (let g = 0; g < groups; g++) {
    for (let cb = 0; cb < nb; cb++) {
      const m = imin(8, OCg - cb * 8);
      for (let k = 0; k < KH * KW; k++) {
        for (let ci = 0; ci < ICg; ci++) {
          const src = w + (<usize>((k * ICg + ci) * CO + g * OCg + cb * 8) << 2);
          for (let l = 0; l < 8; l++) {
            f32.store(q + (<usize>l << 2), l < m ? f32.load(src + (<usize>l << 2)) : 0);
          }
          q += 32;
        }
      }
    }
  }
}

/**
 * Packs the grad-input sub-kernel of stride phase (rh, rw): flipped, in/out transposed, only taps
 * kh ≡ rh (mod sh), kw ≡ rw (mod sw). Jh = ceil((KH-rh)/sh), Jw likewise (0 when rh ≥ KH).
 * wp[g][ib][jh][jw][co][8] = w[rh + sh·(Jh-1-jh), rw + sw·(Jw-1-jw), ib·8 + lane, g·OCg + co].
 */
export function conv2d_pack_grad_input_hwio_f32x8(w: usize, wp: usize, KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32,
  sh: i32, sw: i32, rh: i32, rw: i32): void {
  const CO = OCg * groups;
  const Jh = rh < KH ? (KH - rh + sh - 1) / sh : 0;
  const Jw = rw < KW ? (KW - rw + sw - 1) / sw : 0;
  const nb = (ICg + 7) >> 3;
  let q = wp;
  for (let g = 0; g < groups; g++) {
    for (let ib = 0; ib < nb; ib++) {
      const m = imin(8, ICg - ib * 8);
      for (let jh = 0; jh < Jh; jh++) {
        const kh = rh + sh * (Jh - 1 - jh);
        for (let jw = 0; jw < Jw; jw++) {
          const kw = rw + sw * (Jw - 1 - jw);
          for (let co = 0; co < OCg; co++) {
            for (let l = 0; l < 8; l++) {
              let v: f32 = 0;
              if (l < m) v = f32.load(w + (<usize>(((kh * KW + kw) * ICg + ib * 8 + l) * CO + g * OCg + co) << 2));
              f32.store(q + (<usize>l << 2), v);
            }
            q += 32;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// conv2d direct core

/**
 * Direct NHWC convolution over packed weights (see conv2d_pack_hwio_f32x8), 4 pixels × 8 channels
 * per register tile:
 *   y[n, oh, ow, g·OCg + o] = bias[g·OCg + o] + Σ_{kh,kw,i} x[n, oh·sh-pt+kh, ow·sw-pl+kw, g·ICg + i] · wp
 * for oh ∈ [oh0, oh1), ow ∈ [ow0, ow1). The output element sits at element offset
 * yOff + n·ysImg + oh·ysRow + ow·ysPix + g·OCg + o (yOff may be negative), which lets grad-input
 * write one stride phase of dx. bias = 0 means none. x is [N, H, W, C], C = groups·ICg.
 */
export function conv2d_direct_nhwc_f32_4x8(
  x: usize, N: i32, H: i32, W: i32, C: i32,
  wp: usize, KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32, bias: usize,
  y: usize, yOff: i32, ysImg: i32, ysRow: i32, ysPix: i32,
  oh0: i32, oh1: i32, ow0: i32, ow1: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const nb = (OCg + 7) >> 3;
  const panel = <usize>(KH * KW * ICg) << 5;
  // Interior: every kw tap of the 4 pixels is inside the row.
  const owA = imin(ow1, imax(ow0, ceilDiv(pl, sw)));
  const owB = imax(owA, imin(ow1, floorDiv(W - KW + pl, sw) + 1));
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
            conv_pixel(x, xg, H, W, C, wpanel, KH, KW, ICg, y + (<usize>(yrow + ow * ysPix) << 2), m, b0, b1, ihb, ow * sw - pl, khlo, khhi);
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
            conv_pixel(x, xg, H, W, C, wpanel, KH, KW, ICg, y + (<usize>(yrow + ow * ysPix) << 2), m, b0, b1, ihb, ow * sw - pl, khlo, khhi);
          }
        }
      }
    }
  }
}

/** One output pixel × 8 channels with per-tap bounds checks (edges and remainders). */
function conv_pixel(x: usize, xg: i32, H: i32, W: i32, C: i32, wpanel: usize, KH: i32, KW: i32, ICg: i32,
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

// ---------------------------------------------------------------------------------------------
// conv2d grad-weight and grad-bias

/**
 * dw[kh, kw, i, g·OCg + o] = Σ_{n,oh,ow} x[n, oh·sh-pt+kh, ow·sw-pl+kw, g·ICg + i] · dy[n, oh, ow, g·OCg + o].
 * For each kh the (kw, i) pairs form R = KW·ICg patch rows; register tiles of 4 rows × 8 output
 * channels reduce over a chunk of ~256 output pixels (whole output rows, so the chunk's x and dy stay
 * in L2), then add into dw (zeroed first). Interior pixels run a branch-free pointer loop; the few
 * pixels whose taps fall in the padding take a checked path.
 */
export function conv2d_grad_weight_nhwc_f32_4x8(
  x: usize, N: i32, H: i32, W: i32, C: i32,
  dy: usize, OH: i32, OW: i32, CO: i32,
  dw: usize, KH: i32, KW: i32, groups: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const ICg = C / groups, OCg = CO / groups;
  memory.fill(dw, 0, <usize>(KH * KW * ICg * CO) << 2);
  const R = KW * ICg;
  const nb = (OCg + 7) >> 3;
  const xs = <usize>(sw * C) << 2;
  const ds = <usize>CO << 2;
  const dwr = <usize>CO << 2;
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
          const owA = imin(OW, imax(0, ceilDiv(pl - kw0, sw)));
          const owB = imax(owA, imin(OW, floorDiv(W - 1 + pl - kw3, sw) + 1));
          for (let cb = 0; cb < nb; cb++) {
            const m = imin(8, OCg - cb * 8);
            const dwp = dw + (<usize>(((kh * KW) * ICg + r0) * CO + g * OCg + cb * 8) << 2);
            let a00 = loadN(dwp, m), a01 = loadN(dwp + 16, m - 4);
            let a10 = loadN(dwp + dwr, m), a11 = loadN(dwp + dwr + 16, m - 4);
            let a20 = loadN(dwp + 2 * dwr, m), a21 = loadN(dwp + 2 * dwr + 16, m - 4);
            let a30 = loadN(dwp + 3 * dwr, m), a31 = loadN(dwp + 3 * dwr + 16, m - 4);
            for (let t = t0; t < t1; t++) {
              const n = t / OH, oh = t - n * OH;
              const ih = oh * sh - pt + kh;
              if (ih < 0 || ih >= H) continue;
              const xrow = x + (<usize>(((n * H + ih) * W) * C) << 2);
              const dcol = dy + (<usize>(t * OW * CO + g * OCg + cb * 8) << 2);
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
                      a00 = fma(x0, d0, a00); a01 = fma(x0, d1, a01);
                      a10 = fma(x1, d0, a10); a11 = fma(x1, d1, a11);
                      a20 = fma(x2, d0, a20); a21 = fma(x2, d1, a21);
                      a30 = fma(x3, d0, a30); a31 = fma(x3, d1, a31);
                      p += xs;
                      d += ds;
                    }
                  } else {
                    while (d < de) {
                      const d0 = loadN(d, m), d1 = loadN(d + 16, m - 4);
                      const x0 = v128.load32_splat(p), x1 = v128.load32_splat(p + b1);
                      const x2 = v128.load32_splat(p + b2), x3 = v128.load32_splat(p + b3);
                      a00 = fma(x0, d0, a00); a01 = fma(x0, d1, a01);
                      a10 = fma(x1, d0, a10); a11 = fma(x1, d1, a11);
                      a20 = fma(x2, d0, a20); a21 = fma(x2, d1, a21);
                      a30 = fma(x3, d0, a30); a31 = fma(x3, d1, a31);
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
                a00 = fma(x0, d0, a00); a01 = fma(x0, d1, a01);
                a10 = fma(x1, d0, a10); a11 = fma(x1, d1, a11);
                a20 = fma(x2, d0, a20); a21 = fma(x2, d1, a21);
                a30 = fma(x3, d0, a30); a31 = fma(x3, d1, a31);
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

/** Pixels per chunk of the GEMM-formulated grad-weight (the GEMM's K block). */
const DW_P: i32 = 256;

/** Copies n floats from s to d (4 at a time, then one by one). */
// @ts-ignore: decorator
@inline function copyF(d: usize, s: usize, n: i32): void {
  const e = d + (<usize>n << 2), e4 = d + (<usize>(n & ~3) << 2);
  while (d < e4) { v128.store(d, v128.load(s)); d += 16; s += 16; }
  while (d < e) { f32.store(d, f32.load(s)); d += 4; s += 4; }
}

// Partial tiles of dw_ukernel_4x8 go through here (static data, not an allocation).
const DW_TILE: usize = memory.data(128, 16);

/**
 * 4×8 tile of dWᵀ += A·B over kc pixels: A 4-row-interleaved (16 bytes per pixel, see the pack
 * below), B an 8-column window of patch rows bs bytes apart. One A pointer with immediate offsets
 * keeps the loop at two pointer bumps (with the separate row pointers of ukernel_4x8, the baseline
 * build's mul+add loop was issue-bound). beta 0 overwrites, else adds; stores mr×nr.
 */
function dw_ukernel_4x8(kc: i32, ap: usize, bp: usize, bs: usize, c: usize, ldcb: usize, beta: f32, mr: i32, nr: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const ae = ap + (<usize>kc << 4);
  while (ap < ae) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap); c00 = fma(a, b0, c00); c01 = fma(a, b1, c01);
    a = v128.load32_splat(ap, 4); c10 = fma(a, b0, c10); c11 = fma(a, b1, c11);
    a = v128.load32_splat(ap, 8); c20 = fma(a, b0, c20); c21 = fma(a, b1, c21);
    a = v128.load32_splat(ap, 12); c30 = fma(a, b0, c30); c31 = fma(a, b1, c31);
    ap += 16; bp += bs;
  }
  if (mr == 4 && nr == 8) {
    if (beta != 0) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ldcb)); c11 = f32x4.add(c11, v128.load(c + ldcb, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ldcb)); c21 = f32x4.add(c21, v128.load(c + 2 * ldcb, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ldcb)); c31 = f32x4.add(c31, v128.load(c + 3 * ldcb, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(c + ldcb, c10); v128.store(c + ldcb, c11, 16);
    v128.store(c + 2 * ldcb, c20); v128.store(c + 2 * ldcb, c21, 16);
    v128.store(c + 3 * ldcb, c30); v128.store(c + 3 * ldcb, c31, 16);
    return;
  }
  v128.store(DW_TILE, c00); v128.store(DW_TILE, c01, 16);
  v128.store(DW_TILE, c10, 32); v128.store(DW_TILE, c11, 48);
  v128.store(DW_TILE, c20, 64); v128.store(DW_TILE, c21, 80);
  v128.store(DW_TILE, c30, 96); v128.store(DW_TILE, c31, 112);
  for (let i = 0; i < mr; i++) {
    const t = DW_TILE + (<usize>i << 5);
    const ci = c + <usize>i * ldcb;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = f32.load(t + o);
      f32.store(ci + o, beta == 0 ? v : v + f32.load(ci + o));
    }
  }
}

/** Bytes of scratch conv2d_grad_weight_gemm_nhwc_f32_4x8 needs. */
export function conv2d_grad_weight_scratch_bytes(KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32): i32 {
  const Kd8 = (KH * KW * ICg + 7) & ~7;
  return (Kd8 * DW_P + ((OCg + 3) & ~3) * DW_P + groups * OCg * Kd8) << 2;
}

/**
 * Grad-weight as a GEMM over pixels: dWᵀ[o, (kh,kw,i)] = Σ_p dyᵀ[o, p] · patch[p, (kh,kw,i)], per group.
 * Pixels go in chunks of DW_P (the GEMM's K): each pixel's patch row (zeros for padding taps) is
 * written straight into 8-column B panels, dy's chunk is transposed into A rows, and the shared 4×8
 * micro-kernel accumulates dWᵀ in scratch (beta = 1 after the first chunk); dWᵀ is transposed into dw
 * (HWIO) at the end. scratch: conv2d_grad_weight_scratch_bytes(KH, KW, ICg, OCg, groups) bytes.
 */
export function conv2d_grad_weight_gemm_nhwc_f32_4x8(
  x: usize, N: i32, H: i32, W: i32, C: i32,
  dy: usize, OH: i32, OW: i32, CO: i32,
  dw: usize, KH: i32, KW: i32, groups: i32, sh: i32, sw: i32, pt: i32, pl: i32, scratch: usize): void {
  const ICg = C / groups, OCg = CO / groups;
  const Kd = KH * KW * ICg, Kd8 = (Kd + 7) & ~7;
  const pB = scratch;
  const pA = pB + (<usize>(Kd8 * DW_P) << 2);
  const pC = pA + (<usize>(((OCg + 3) & ~3) * DW_P) << 2);
  const ldcb = <usize>Kd8 << 2;
  const P = N * OH * OW;
  const runAll = KW * C;
  for (let p0 = 0; p0 < P; p0 += DW_P) {
    const kc = imin(DW_P, P - p0);
    const beta: f32 = p0 == 0 ? 0 : 1;
    for (let g = 0; g < groups; g++) {
      // B: the chunk's patch rows, row-major with row stride Kd8 (read as 8-column panels of stride ldbb).
      let n = p0 / (OH * OW), rem = p0 - n * OH * OW;
      let oh = rem / OW, ow = rem - oh * OW;
      let t = pB;
      for (let i = 0; i < kc; i++) {
        const iwb = ow * sw - pl;
        const rowIn = groups == 1 && iwb >= 0 && iwb + KW <= W;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - pt + kh;
          if (ih < 0 || ih >= H) {
            memory.fill(t, 0, <usize>(KW * ICg) << 2);
            t += <usize>(KW * ICg) << 2;
            continue;
          }
          const xr = x + (<usize>((n * H + ih) * W * C + g * ICg) << 2);
          if (rowIn) {
            copyF(t, xr + (<usize>(iwb * C) << 2), runAll);
            t += <usize>runAll << 2;
          } else {
            for (let kw = 0; kw < KW; kw++) {
              const iw = iwb + kw;
              if (iw < 0 || iw >= W) memory.fill(t, 0, <usize>ICg << 2);
              else copyF(t, xr + (<usize>(iw * C) << 2), ICg);
              t += <usize>ICg << 2;
            }
          }
        }
        if (Kd8 > Kd) { memory.fill(t, 0, <usize>(Kd8 - Kd) << 2); t += <usize>(Kd8 - Kd) << 2; }
        if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; n++; } }
      }
      // A: dyᵀ of this chunk and group in 4-row blocks interleaved along the pixels (16 bytes per pixel:
      // 4 consecutive channels of one dy row, one vector copy), so the micro-kernel walks one A pointer.
      const dyc = dy + (<usize>(p0 * CO + g * OCg) << 2);
      const ds = <usize>CO << 2;
      const lda = <usize>kc << 4;
      for (let ir = 0; ir < OCg; ir += 4) {
        const mr = imin(4, OCg - ir);
        let s = dyc + (<usize>ir << 2);
        let d = pA + <usize>(ir >> 2) * lda;
        const e = d + lda;
        if (mr == 4) {
          while (d < e) { v128.store(d, v128.load(s)); d += 16; s += ds; }
        } else {
          while (d < e) { v128.store(d, loadN(s, mr)); d += 16; s += ds; }
        }
      }
      const cg = pC + <usize>(g * OCg) * ldcb;
      for (let jr = 0; jr < Kd; jr += 8) {
        const nr = imin(8, Kd - jr);
        const bp = pB + (<usize>jr << 2);
        for (let ir = 0; ir < OCg; ir += 4) {
          dw_ukernel_4x8(kc, pA + <usize>(ir >> 2) * lda, bp, ldcb, cg + <usize>ir * ldcb + (<usize>jr << 2), ldcb, beta,
            imin(4, OCg - ir), nr);
        }
      }
    }
  }
  // dw[r, g·OCg + o] = dWᵀ[g·OCg + o, r]
  for (let r = 0; r < Kd; r++) {
    const d = dw + (<usize>(r * CO) << 2);
    for (let c = 0; c < CO; c++) f32.store(d + (<usize>c << 2), f32.load(pC + <usize>c * ldcb + (<usize>r << 2)));
  }
}

/** splat(x[row, iwb + kw, off - kw·C]) when the tap is inside the row, else 0. */
function tap(xrow: usize, iwb: i32, kw: i32, W: i32, C: i32, off: i32): v128 {
  const iw = iwb + kw;
  if (iw < 0 || iw >= W) return f32x4.splat(0);
  return v128.load32_splat(xrow + (<usize>(iwb * C + off) << 2));
}

/** db[c] = Σ_p dy[p, c] over P rows of a row-major [P, C] matrix. */
export function conv2d_grad_bias_f32(dy: usize, P: i32, C: i32, db: usize): void {
  const C4 = C & ~3;
  for (let c = 0; c < C4; c += 4) {
    let a = f32x4.splat(0);
    let p = dy + (<usize>c << 2);
    const s = <usize>C << 2;
    for (let i = 0; i < P; i++) { a = f32x4.add(a, v128.load(p)); p += s; }
    v128.store(db + (<usize>c << 2), a);
  }
  for (let c = C4; c < C; c++) {
    let a: f32 = 0;
    for (let i = 0; i < P; i++) a += f32.load(dy + (<usize>(i * C + c) << 2));
    f32.store(db + (<usize>c << 2), a);
  }
}

// ---------------------------------------------------------------------------------------------
// depthwise conv (channel multiplier 1, weights [KH, KW, C])

/**
 * y[n, oh, ow, c] = bias[c] + Σ_{kh,kw} x[n, oh·sh-pt+kh, ow·sw-pl+kw, c] · w[kh, kw, c].
 * Interior tiles: 4 pixels × 8 channels; edges and channel tails: one pixel × ≤ 8 channels.
 */
export function depthwise_conv2d_nhwc_f32_4x8(
  x: usize, N: i32, H: i32, W: i32, C: i32, w: usize, KH: i32, KW: i32, bias: usize,
  y: usize, OH: i32, OW: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const owA = imin(OW, imax(0, ceilDiv(pl, sw)));
  const owB = imax(owA, imin(OW, floorDiv(W - KW + pl, sw) + 1));
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
                a0 = fma(v, w0, a0);
                v = v128.load(p + cs);
                a0 = fma(v, w1, a0); a1 = fma(v, w0, a1);
                v = v128.load(p + 2 * cs);
                a0 = fma(v, w2, a0); a1 = fma(v, w1, a1); a2 = fma(v, w0, a2);
                v = v128.load(p + 3 * cs);
                a1 = fma(v, w2, a1); a2 = fma(v, w1, a2); a3 = fma(v, w0, a3);
                v = v128.load(p + 4 * cs);
                a2 = fma(v, w2, a2); a3 = fma(v, w1, a3); a4 = fma(v, w0, a4);
                v = v128.load(p + 5 * cs);
                a3 = fma(v, w2, a3); a4 = fma(v, w1, a4); a5 = fma(v, w0, a5);
                v = v128.load(p + 6 * cs);
                a4 = fma(v, w2, a4); a5 = fma(v, w1, a5);
                v = v128.load(p + 7 * cs);
                a5 = fma(v, w2, a5);
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
                a00 = fma(v128.load(p), w0, a00); a01 = fma(v128.load(p, 16), w1, a01);
                a10 = fma(v128.load(p + s1), w0, a10); a11 = fma(v128.load(p + s1, 16), w1, a11);
                a20 = fma(v128.load(p + s2), w0, a20); a21 = fma(v128.load(p + s2, 16), w1, a21);
                a30 = fma(v128.load(p + s3), w0, a30); a31 = fma(v128.load(p + s3, 16), w1, a31);
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
          a0 = fma(v128.load(p), v128.load(q), a0);
          a1 = fma(v128.load(p, 16), v128.load(q, 16), a1);
          p += cs; q += cs;
        }
      } else {
        for (let j = 0; j < nkw; j++) {
          a0 = fma(loadN(p, m), loadN(q, m), a0);
          if (m > 4) a1 = fma(loadN(p + 16, m - 4), loadN(q + 16, m - 4), a1);
          p += cs; q += cs;
        }
      }
      prow += xrs; qrow += wrs;
    }
  }
  store8(yp, a0, a1, m);
}

/** dx[n, ih, iw, c] = Σ over taps that read (ih, iw) of dy[n, oh, ow, c] · w[kh, kw, c] (scatter form). */
export function depthwise_conv2d_grad_input_nhwc_f32(
  dy: usize, N: i32, OH: i32, OW: i32, C: i32, w: usize, KH: i32, KW: i32,
  dx: usize, H: i32, W: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
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
              v128.store(xp + o, fma(v128.load(dp + o), v128.load(q + o), v128.load(xp + o)));
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
export function depthwise_conv2d_grad_weight_nhwc_f32(
  x: usize, N: i32, H: i32, W: i32, C: i32, dy: usize, OH: i32, OW: i32,
  dw: usize, KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
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
          const owlo = imin(OW, imax(0, ceilDiv(pl - kw, sw)));
          const owhi = imax(owlo, imin(OW, floorDiv(W - 1 + pl - kw, sw) + 1));
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
              a0 = fma(v128.load(p), v128.load(d), a0);
              a1 = fma(v128.load(p, 16), v128.load(d, 16), a1);
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
            for (let ow = owlo; ow < owhi; ow++) { a0 = fma(v128.load(p), v128.load(d), a0); p += xs; d += ds; }
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

// ---------------------------------------------------------------------------------------------
// pooling

/**
 * Max pool, KH×KW window: y = max over the in-range taps; idx (i32, may be 0 for none) gets the flat
 * element index into x of the winner. Taps are scanned kh-major then kw; the first tap initializes
 * and later ones win only when strictly greater, so ties go to the first maximum (and a NaN first
 * tap stays). Every window must contain a tap (the wrapper requires padding < window).
 */
export function maxpool2d_nhwc_f32(x: usize, N: i32, H: i32, W: i32, C: i32, y: usize, idx: usize,
  OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const C4 = C & ~3;
  const iota = i32x4(0, 1, 2, 3);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const out = ((n * OH + oh) * OW + ow) * C;
        const first = ((n * H + ihb + khlo) * W + iwb + kwlo) * C;
        let c = 0;
        for (; c < C4; c += 4) {
          let mv = v128.load(x + (<usize>(first + c) << 2));
          let mi = i32x4.add(i32x4.splat(first + c), iota);
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) {
              const e = ((n * H + ihb + kh) * W + iwb + kw) * C + c;
              const v = v128.load(x + (<usize>e << 2));
              const gt = f32x4.gt(v, mv);
              mv = v128.bitselect(v, mv, gt);
              mi = v128.bitselect(i32x4.add(i32x4.splat(e), iota), mi, gt);
            }
          }
          v128.store(y + (<usize>(out + c) << 2), mv);
          if (idx != 0) v128.store(idx + (<usize>(out + c) << 2), mi);
        }
        for (; c < C; c++) {
          let mv = f32.load(x + (<usize>(first + c) << 2));
          let mi = first + c;
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) {
              const e = ((n * H + ihb + kh) * W + iwb + kw) * C + c;
              const v = f32.load(x + (<usize>e << 2));
              if (v > mv) { mv = v; mi = e; }
            }
          }
          f32.store(y + (<usize>(out + c) << 2), mv);
          if (idx != 0) i32.store(idx + (<usize>(out + c) << 2), mi);
        }
      }
    }
  }
}

/** Max pool backward: dx = 0, then dx[idx[i]] += dy[i] for i < count (idx from maxpool2d_nhwc_f32). */
export function maxpool2d_bwd_f32(dy: usize, idx: usize, count: i32, dx: usize, dxLen: i32): void {
  memory.fill(dx, 0, <usize>dxLen << 2);
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const e = i32.load(idx + o);
    if (e >= 0 && e < dxLen) {
      const p = dx + (<usize>e << 2);
      f32.store(p, f32.load(p) + f32.load(dy + o));
    }
  }
}

/** Average pool: y = (Σ in-range taps) / (number of in-range taps) — padding is excluded from the count. */
export function avgpool2d_nhwc_f32(x: usize, N: i32, H: i32, W: i32, C: i32, y: usize,
  OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const cnt = (khhi - khlo) * (kwhi - kwlo);
        const inv: f32 = cnt > 0 ? <f32>1 / <f32>cnt : 0;
        const yp = y + (<usize>(((n * OH + oh) * OW + ow) * C) << 2);
        let c = 0;
        for (; c < C4; c += 4) {
          let a = f32x4.splat(0);
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) {
              a = f32x4.add(a, v128.load(x + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C + c) << 2)));
            }
          }
          v128.store(yp + (<usize>c << 2), f32x4.mul(a, f32x4.splat(inv)));
        }
        for (; c < C; c++) {
          let a: f32 = 0;
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) a += f32.load(x + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C + c) << 2));
          }
          f32.store(yp + (<usize>c << 2), a * inv);
        }
      }
    }
  }
}

/** Average pool backward: dx = 0, then each in-range tap of window (oh, ow) gets dy / count. */
export function avgpool2d_bwd_nhwc_f32(dy: usize, N: i32, H: i32, W: i32, C: i32, dx: usize,
  OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const cnt = (khhi - khlo) * (kwhi - kwlo);
        const inv: f32 = cnt > 0 ? <f32>1 / <f32>cnt : 0;
        const dp = dy + (<usize>(((n * OH + oh) * OW + ow) * C) << 2);
        for (let kh = khlo; kh < khhi; kh++) {
          for (let kw = kwlo; kw < kwhi; kw++) {
            const xp = dx + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C) << 2);
            let c = 0;
            for (; c < C4; c += 4) {
              const o = <usize>c << 2;
              v128.store(xp + o, f32x4.add(v128.load(xp + o), f32x4.mul(v128.load(dp + o), f32x4.splat(inv))));
            }
            for (; c < C; c++) {
              const o = <usize>c << 2;
              f32.store(xp + o, f32.load(xp + o) + f32.load(dp + o) * inv);
            }
          }
        }
      }
    }
  }
}

/** Global average pool: y[n, c] = mean over the HW pixels of x[n, :, c]. */
export function global_avgpool_nhwc_f32(x: usize, N: i32, HW: i32, C: i32, y: usize): void {
  const inv: f32 = <f32>1 / <f32>HW;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * HW * C) << 2);
    const yn = y + (<usize>(n * C) << 2);
    conv2d_grad_bias_f32(xn, HW, C, yn);
    const C4 = C & ~3;
    let c = 0;
    for (; c < C4; c += 4) v128.store(yn + (<usize>c << 2), f32x4.mul(v128.load(yn + (<usize>c << 2)), f32x4.splat(inv)));
    for (; c < C; c++) f32.store(yn + (<usize>c << 2), f32.load(yn + (<usize>c << 2)) * inv);
  }
}

/** Global average pool backward: dx[n, p, c] = dy[n, c] / HW. */
export function global_avgpool_bwd_nhwc_f32(dy: usize, N: i32, HW: i32, C: i32, dx: usize): void {
  const inv: f32 = <f32>1 / <f32>HW;
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    const dn = dy + (<usize>(n * C) << 2);
    for (let p = 0; p < HW; p++) {
      const xp = dx + (<usize>((n * HW + p) * C) << 2);
      let c = 0;
      for (; c < C4; c += 4) v128.store(xp + (<usize>c << 2), f32x4.mul(v128.load(dn + (<usize>c << 2)), f32x4.splat(inv)));
      for (; c < C; c++) f32.store(xp + (<usize>c << 2), f32.load(dn + (<usize>c << 2)) * inv);
    }
  }
}
