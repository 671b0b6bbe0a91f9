// Winograd F(2×2, 3×3) convolution, NHWC, stride 1, groups 1: each 2×2 output tile is
//   Y = Aᵀ [ Σ_c (G g Gᵀ)[c, o] ⊙ (Bᵀ d B)[c] ] A
// over the 4×4 input tile d, i.e. 16 multiplies per tile and channel pair instead of the direct 36.
// Tiles run in blocks of `tb` (sized by the caller so one block's transformed input V and products M
// stay in cache): input transform of the block → 16 independent GEMMs (tiles × C)·(C × CO) on a 4×8
// f32x4 micro-kernel → output transform + bias. The same kernel runs grad-input on dy with the
// flipped, in/out-swapped kernel (winograd_f23_weights with flip = 1).
// The operation order of every transform is mirrored by src/kernels/winograd.ref.ts, which is why the
// baseline-SIMD module (separate mul + add) matches that reference bit for bit.
// Kernels never allocate; tails of channel blocks use partial loads/stores.

import { cgC, cgCO, cgH, cgLDO, cgN, cgOH, cgOW, cgPL, cgPT, cgW } from './inline/conv_geometry';
import { loadN, madd, storeN } from './inline/simd';
import { imin } from './inline/window';
import { WINOGRAD_EDGE, threadScratch } from './inline/thread_scratch';

// A 4×4 tile of 4 channels is gathered in the thread's WINOGRAD_EDGE scratch at the edges of the image.

/**
 * Transforms HWIO 3×3 weights to u[ξ][ob][ci][8] = (G g Gᵀ)[ξ] for input channel ci and output channel
 * ob·8 + lane (0 past Cout), ξ = 4·row + col, with G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]].
 * flip = 0: g[kh][kw] = w[kh, kw, ci, o], w is [3, 3, Cin, Cout].
 * flip = 1 (grad-input): g[kh][kw] = w[2−kh, 2−kw, o, ci], w is the forward [3, 3, Cout, Cin].
 * u holds 16 · ceil(Cout/8) · Cin · 8 floats.
 */
export function winograd_f23_weights(w: usize, u: usize, Cin: i32, Cout: i32, flip: i32): void {
  const nob = (Cout + 7) >> 3;
  const plane = <usize>(nob * Cin) << 5; // bytes per ξ
  const half = f32x4.splat(0.5);
  const ks = <usize>(Cin * Cout) << 2; // bytes between taps
  for (let ci = 0; ci < Cin; ci++) {
    for (let o = 0; o < nob * 8; o += 4) {
      const mo = Cout - o; // valid lanes (≤ 0: a zero half-panel)
      // g[k] for k = 0..8, lanes o..o+3; flip reads tap 8 − k with in/out swapped
      const p = flip ? w + (<usize>(8 * Cin * Cout + o * Cin + ci) << 2) : w + (<usize>(ci * Cout + o) << 2);
      // G·g, column by column: rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2
      let r00 = f32x4.splat(0), r01 = r00, r02 = r00, r10 = r00, r11 = r00, r12 = r00;
      let r20 = r00, r21 = r00, r22 = r00, r30 = r00, r31 = r00, r32 = r00;
      for (let k = 0; k < 3; k++) {
        const g0 = load_g(p, k, ks, Cin, mo, flip), g1 = load_g(p, 3 + k, ks, Cin, mo, flip), g2 = load_g(p, 6 + k, ks, Cin, mo, flip);
        const a1 = f32x4.mul(f32x4.add(f32x4.add(g0, g1), g2), half), a2 = f32x4.mul(f32x4.add(f32x4.sub(g0, g1), g2), half);
        if (k == 0) { r00 = g0; r10 = a1; r20 = a2; r30 = g2; }
        else if (k == 1) { r01 = g0; r11 = a1; r21 = a2; r31 = g2; }
        else { r02 = g0; r12 = a1; r22 = a2; r32 = g2; }
      }
      // (G·g)·Gᵀ, row by row
      const q = u + (<usize>(((o >> 3) * Cin + ci) * 8 + (o & 7)) << 2);
      weight_row(q, plane, r00, r01, r02, half);
      weight_row(q + 4 * plane, plane, r10, r11, r12, half);
      weight_row(q + 8 * plane, plane, r20, r21, r22, half);
      weight_row(q + 12 * plane, plane, r30, r31, r32, half);
    }
  }
}

/** Lanes o..o+3 of tap k (m valid, the rest zero): forward p + k·ks, 4 apart; flip p − k·ks, Cin apart. */
// @ts-ignore: decorator
@inline function load_g(p: usize, k: i32, ks: usize, Cin: i32, m: i32, flip: i32): v128 {
  if (!flip) return loadN(p + <usize>k * ks, m);
  const q = p - <usize>k * ks, s = <usize>Cin << 2;
  let v = f32x4.splat(0);
  if (m > 0) v = f32x4.replace_lane(v, 0, f32.load(q));
  if (m > 1) v = f32x4.replace_lane(v, 1, f32.load(q + s));
  if (m > 2) v = f32x4.replace_lane(v, 2, f32.load(q + 2 * s));
  if (m > 3) v = f32x4.replace_lane(v, 3, f32.load(q + 3 * s));
  return v;
}

/** One row (a0, a1, a2) of G·g times Gᵀ: U[r][0..3] = a0, (a0+a1+a2)/2, (a0−a1+a2)/2, a2, planes apart. */
// @ts-ignore: decorator
@inline function weight_row(q: usize, plane: usize, a0: v128, a1: v128, a2: v128, half: v128): void {
  v128.store(q, a0);
  v128.store(q + plane, f32x4.mul(f32x4.add(f32x4.add(a0, a1), a2), half));
  v128.store(q + 2 * plane, f32x4.mul(f32x4.add(f32x4.sub(a0, a1), a2), half));
  v128.store(q + 3 * plane, a2);
}

/**
 * V = Bᵀ d B for one 4×4 tile of 4 channels, Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]:
 * first T = Bᵀ d (rows combined, per column), then V[r] = T[r] B. d[i][j] is at p + i·rs + j·cs;
 * V[ξ] goes to o + ξ·ps.
 */
// @ts-ignore: decorator
@inline function input_tile(p: usize, rs: usize, cs: usize, o: usize, ps: usize): void {
  const r2 = rs * 2, r3 = rs * 3;
  let q = p;
  let d0 = v128.load(q), d1 = v128.load(q + rs), d2 = v128.load(q + r2), d3 = v128.load(q + r3);
  const t00 = f32x4.sub(d0, d2), t10 = f32x4.add(d1, d2), t20 = f32x4.sub(d2, d1), t30 = f32x4.sub(d1, d3);
  q = p + 2 * cs;
  d0 = v128.load(q); d1 = v128.load(q + rs); d2 = v128.load(q + r2); d3 = v128.load(q + r3);
  const t02 = f32x4.sub(d0, d2), t12 = f32x4.add(d1, d2), t22 = f32x4.sub(d2, d1), t32 = f32x4.sub(d1, d3);
  v128.store(o, f32x4.sub(t00, t02));
  v128.store(o + 4 * ps, f32x4.sub(t10, t12));
  v128.store(o + 8 * ps, f32x4.sub(t20, t22));
  v128.store(o + 12 * ps, f32x4.sub(t30, t32));
  q = p + cs;
  d0 = v128.load(q); d1 = v128.load(q + rs); d2 = v128.load(q + r2); d3 = v128.load(q + r3);
  const t01 = f32x4.sub(d0, d2), t11 = f32x4.add(d1, d2), t21 = f32x4.sub(d2, d1), t31 = f32x4.sub(d1, d3);
  v128.store(o + ps, f32x4.add(t01, t02));
  v128.store(o + 5 * ps, f32x4.add(t11, t12));
  v128.store(o + 9 * ps, f32x4.add(t21, t22));
  v128.store(o + 13 * ps, f32x4.add(t31, t32));
  v128.store(o + 2 * ps, f32x4.sub(t02, t01));
  v128.store(o + 6 * ps, f32x4.sub(t12, t11));
  v128.store(o + 10 * ps, f32x4.sub(t22, t21));
  v128.store(o + 14 * ps, f32x4.sub(t32, t31));
  q = p + 3 * cs;
  d0 = v128.load(q); d1 = v128.load(q + rs); d2 = v128.load(q + r2); d3 = v128.load(q + r3);
  v128.store(o + 3 * ps, f32x4.sub(t01, f32x4.sub(d0, d2)));
  v128.store(o + 7 * ps, f32x4.sub(t11, f32x4.add(d1, d2)));
  v128.store(o + 11 * ps, f32x4.sub(t21, f32x4.sub(d2, d1)));
  v128.store(o + 15 * ps, f32x4.sub(t31, f32x4.sub(d1, d3)));
}

/**
 * A 4-row × 8-column tile of M = V·U over K steps: rows of V at a, a + as, … (4 bytes per K step),
 * U an 8-wide panel (32 bytes per K step); stores all 4×8 at c, row stride cs bytes.
 * The K loop stays rolled (see assembly/inline/gemm_ukernel.ts: unrolled, V8 spills).
 */
function micro_4x8(K: i32, a: usize, as: usize, b: usize, c: usize, cs: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a;
  const e = a + (<usize>K << 2);
  const s2 = as * 2, s3 = as * 3;
  while (a0 < e) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a0); c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(a0 + as); c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(a0 + s2); c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(a0 + s3); c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    a0 += 4;
    b += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16); c += cs;
  v128.store(c, c10); v128.store(c, c11, 16); c += cs;
  v128.store(c, c20); v128.store(c, c21, 16); c += cs;
  v128.store(c, c30); v128.store(c, c31, 16);
}

// ξ planes of the scratch are this many bytes longer than their rows need: 16 planes a multiple of
// 4 KB apart would all map to the same L1 sets.
const PLANE_PAD: usize = 64;

/** Bytes of the v and m scratch blocks winograd_f23_nhwc_f32 needs for tb tiles (tb a multiple of 4). */
export function winograd_f23_scratch_bytes(C: i32, CO: i32, tb: i32): i32 {
  return 16 * (tb * (((C + 3) & ~3) + (((CO + 7) >> 3) << 3)) * 4 + 2 * <i32>PLANE_PAD);
}

/**
 * Input transform of the channel groups from c0 on of a tile that reaches outside x (or the channel tail):
 * The edge tile is zeroed once, then each group copies only the in-range rows a0..a1, columns b0..b1 of the tile.
 */
function edge_tile(xn: usize, H: i32, W: i32, C: i32, ih0: i32, iw0: i32, c0: i32, vo: usize, vps: usize): void {
  const zero = f32x4.splat(0), edge = threadScratch + WINOGRAD_EDGE;
  for (let e: usize = 0; e < 256; e += 16) v128.store(edge + e, zero);
  const a0 = ih0 < 0 ? -ih0 : 0, a1 = imin(4, H - ih0), b0 = iw0 < 0 ? -iw0 : 0, b1 = imin(4, W - iw0);
  const cs = <usize>C << 2, rs = <usize>(W * C) << 2;
  for (let c = c0; c < C; c += 4) {
    const m = C - c;
    let prow = xn + (<usize>(((ih0 + a0) * W + iw0 + b0) * C + c) << 2);
    for (let a = a0; a < a1; a++) {
      let p = prow, e = edge + (<usize>(a * 4 + b0) << 4);
      for (let b = b0; b < b1; b++) {
        v128.store(e, m >= 4 ? v128.load(p) : loadN(p, m));
        p += cs;
        e += 16;
      }
      prow += rs;
    }
    input_tile(edge, 64, 16, vo + (<usize>c << 2), vps);
  }
}

/**
 * Input transform of nt tiles, starting at tile (n, th, tw) of the TH × TW grid over each image, into
 * V rows 0..nt−1 (vrow bytes apart; ξ planes vps apart). Tile (n, th, tw) reads x rows 2·th − pt … + 3,
 * columns 2·tw − pl … + 3 of image n.
 */
function input_block(x: usize, H: i32, W: i32, C: i32, TH: i32, TW: i32, n: i32, th: i32, tw: i32, nt: i32,
  pt: i32, pl: i32, v: usize, vrow: usize, vps: usize): void {
  const xrs = <usize>(W * C) << 2, xcs = <usize>C << 2, ximg = <usize>(H * W * C) << 2;
  for (let i = 0; i < nt; i++) {
    const vo = v + <usize>i * vrow;
    const ih0 = 2 * th - pt, iw0 = 2 * tw - pl;
    const xn = x + <usize>n * ximg;
    if (ih0 >= 0 && ih0 + 4 <= H && iw0 >= 0 && iw0 + 4 <= W) {
      const xt = xn + (<usize>(ih0 * W + iw0) * xcs);
      let c = 0;
      for (; c + 4 <= C; c += 4) input_tile(xt + (<usize>c << 2), xrs, xcs, vo + (<usize>c << 2), vps);
      if (c < C) edge_tile(xn, H, W, C, ih0, iw0, c, vo, vps);
    } else {
      edge_tile(xn, H, W, C, ih0, iw0, 0, vo, vps);
    }
    if (++tw == TW) { tw = 0; if (++th == TH) { th = 0; n++; } }
  }
}

/**
 * y[n, oh, ow, o] = bias[o] + Σ_{kh,kw<3, c} x[n, oh−pt+kh, ow−pl+kw, c] · g[kh][kw][c][o] for
 * oh < OH, ow < OW (taps outside x are zero), with u = winograd_f23_weights(g) (Cin = C, Cout = CO).
 * bias = 0 means none. tb (a multiple of 4) tiles per block; scratch holds
 * winograd_f23_scratch_bytes(C, CO, tb) bytes. Every element of y is written.
 */
export function winograd_f23_nhwc_f32(x: usize, u: usize, bias: usize, y: usize, scratch: usize, tb: i32, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const pt = cgPT(geo), pl = cgPL(geo);
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1, T = N * TH * TW;
  const Cp = (C + 3) & ~3, nob = (CO + 7) >> 3, COp = nob << 3;
  const vrow = <usize>Cp << 2, mrow = <usize>COp << 2;
  const vps = <usize>tb * vrow + PLANE_PAD, mps = <usize>tb * mrow + PLANE_PAD; // bytes per ξ plane
  const v = scratch, m = scratch + 16 * vps;
  const uplane = <usize>(nob * C) << 5;
  const yrs = <usize>(OW * CO) << 2, ycs = <usize>CO << 2, yimg = <usize>(OH * OW * CO) << 2;
  const zero = f32x4.splat(0);
  // tile coordinates of the block start, advanced tile by tile (no divisions per tile)
  let bn = 0, bth = 0, btw = 0;
  for (let t0 = 0; t0 < T; t0 += tb) {
    const nt = imin(tb, T - t0), nr = (nt + 3) & ~3;
    input_block(x, H, W, C, TH, TW, bn, bth, btw, nt, pt, pl, v, vrow, vps);
    let n = bn, th = bth, tw = btw;
    for (let i = nt; i < nr; i++) {
      for (let k = 0; k < 16; k++) memory.fill(v + <usize>k * vps + <usize>i * vrow, 0, vrow);
    }
    // 16 GEMMs: M[ξ] (nr × COp) = V[ξ] (nr × C) · U[ξ] (C × COp)
    for (let k = 0; k < 16; k++) {
      const vk = v + <usize>k * vps, mk = m + <usize>k * mps, uk = u + <usize>k * uplane;
      for (let ob = 0; ob < nob; ob++) {
        const bp = uk + (<usize>(ob * C) << 5);
        const mo = mk + (<usize>ob << 5);
        for (let r = 0; r < nr; r += 4) micro_4x8(C, vk + <usize>r * vrow, vrow, bp, mo + <usize>r * mrow, mrow);
      }
    }
    // output transform Y = Aᵀ M A + bias, Aᵀ = [[1,1,1,0],[0,1,−1,−1]]
    for (let i = 0; i < nt; i++) {
      const oh0 = 2 * th, ow0 = 2 * tw;
      const two_rows = oh0 + 1 < OH, two_cols = ow0 + 1 < OW;
      const yp = y + <usize>n * yimg + <usize>oh0 * yrs + <usize>ow0 * ycs;
      const mi = m + <usize>i * mrow;
      for (let c = 0; c < CO; c += 4) {
        const q = mi + (<usize>c << 2);
        // S = Aᵀ M, column by column
        let m0 = v128.load(q), m1 = v128.load(q + 4 * mps), m2 = v128.load(q + 8 * mps), m3 = v128.load(q + 12 * mps);
        const s00 = f32x4.add(f32x4.add(m0, m1), m2), s10 = f32x4.sub(f32x4.sub(m1, m2), m3);
        m0 = v128.load(q + mps); m1 = v128.load(q + 5 * mps); m2 = v128.load(q + 9 * mps); m3 = v128.load(q + 13 * mps);
        const s01 = f32x4.add(f32x4.add(m0, m1), m2), s11 = f32x4.sub(f32x4.sub(m1, m2), m3);
        m0 = v128.load(q + 2 * mps); m1 = v128.load(q + 6 * mps); m2 = v128.load(q + 10 * mps); m3 = v128.load(q + 14 * mps);
        const s02 = f32x4.add(f32x4.add(m0, m1), m2), s12 = f32x4.sub(f32x4.sub(m1, m2), m3);
        m0 = v128.load(q + 3 * mps); m1 = v128.load(q + 7 * mps); m2 = v128.load(q + 11 * mps); m3 = v128.load(q + 15 * mps);
        const s03 = f32x4.add(f32x4.add(m0, m1), m2), s13 = f32x4.sub(f32x4.sub(m1, m2), m3);
        const cv = CO - c;
        const b = bias != 0 ? loadN(bias + (<usize>c << 2), cv) : zero;
        const yc = yp + (<usize>c << 2);
        storeN(yc, f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), b), cv);
        if (two_cols) storeN(yc + ycs, f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), b), cv);
        if (two_rows) {
          storeN(yc + yrs, f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), b), cv);
          if (two_cols) storeN(yc + yrs + ycs, f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), b), cv);
        }
      }
      if (++tw == TW) { tw = 0; if (++th == TH) { th = 0; n++; } }
    }
    bn = n; bth = th; btw = tw;
  }
}

// ---------------------------------------------------------------------------------------------
// grad-weight: the transposed algorithm

/**
 * Z[c..c+3][o..o+7] += Σ_{t<K} V[t][c..c+3] ⊗ E[t][o..o+7]: V rows at a (as bytes apart), E rows at b
 * (bs bytes apart), Z rows at z (zs bytes apart). The block's tiles are summed in order from zero, then
 * added to Z: two-level summation, so a tile's product meets K + blocks roundings, not all T tiles'.
 */
function micro_t_4x8(K: i32, a: usize, as: usize, b: usize, bs: usize, z: usize, zs: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let t = 0; t < K; t++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a); c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(a + 4); c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(a + 8); c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(a + 12); c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    a += as;
    b += bs;
  }
  v128.store(z, f32x4.add(v128.load(z), c00)); v128.store(z, f32x4.add(v128.load(z, 16), c01), 16); z += zs;
  v128.store(z, f32x4.add(v128.load(z), c10)); v128.store(z, f32x4.add(v128.load(z, 16), c11), 16); z += zs;
  v128.store(z, f32x4.add(v128.load(z), c20)); v128.store(z, f32x4.add(v128.load(z, 16), c21), 16); z += zs;
  v128.store(z, f32x4.add(v128.load(z), c30)); v128.store(z, f32x4.add(v128.load(z, 16), c31), 16);
}

/** One row (p0..p3) of Gᵀ·Z times G: (p0 + h, (p1 − p2)/2, h + p3) with h = (p1 + p2)/2, stored ks apart. */
// @ts-ignore: decorator
@inline function grad_weight_row(q: usize, ks: usize, p0: v128, p1: v128, p2: v128, p3: v128, m: i32): void {
  const half = f32x4.splat(0.5);
  const h = f32x4.mul(f32x4.add(p1, p2), half);
  storeN(q, f32x4.add(p0, h), m);
  storeN(q + ks, f32x4.mul(f32x4.sub(p1, p2), half), m);
  storeN(q + 2 * ks, f32x4.add(h, p3), m);
}

/** Bytes of scratch winograd_f23_grad_weight_nhwc_f32 needs for tb tiles per block. */
export function winograd_f23_grad_weight_scratch_bytes(C: i32, CO: i32, tb: i32): i32 {
  const Cp = (C + 3) & ~3, COp = ((CO + 7) >> 3) << 3;
  return winograd_f23_scratch_bytes(C, CO, tb) + 16 * Cp * COp * 4;
}

/**
 * dw[kh, kw, c, o] = Σ_{n, oh<OH, ow<OW} x[n, oh−pt+kh, ow−pl+kw, c] · dy[n, oh, ow, o] (3×3, stride 1;
 * taps outside x are zero) by the transposed F(2×2, 3×3): over every 2×2 tile e of dy and the 4×4 tile d
 * of x under it, Z = Σ_tiles (A e Aᵀ) ⊙ (Bᵀ d B) (16 GEMMs (C × tiles)·(tiles × CO), summed per block of tb
 * tiles and then across blocks), then dw = Gᵀ Z G.
 * tb tiles per block; scratch holds winograd_f23_grad_weight_scratch_bytes(C, CO, tb) bytes. dw is [3, 3, C, CO].
 * dy's pixels and dw's rows are ldo (cgLDO) elements apart, so a call can compute a slice of the output channels.
 */
export function winograd_f23_grad_weight_nhwc_f32(x: usize, dy: usize, dw: usize, scratch: usize, tb: i32, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const pt = cgPT(geo), pl = cgPL(geo), ldo = cgLDO(geo);
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1, T = N * TH * TW;
  const Cp = (C + 3) & ~3, nob = (CO + 7) >> 3, COp = nob << 3;
  const vrow = <usize>Cp << 2, erow = <usize>COp << 2;
  const vps = <usize>tb * vrow + PLANE_PAD, eps = <usize>tb * erow + PLANE_PAD;
  const v = scratch, e = scratch + 16 * vps, z = e + 16 * eps;
  const zps = <usize>Cp * erow; // Z[ξ] is Cp × COp
  memory.fill(z, 0, 16 * zps);
  const drs = <usize>(OW * ldo) << 2, dcs = <usize>ldo << 2, dimg = <usize>(OH * OW * ldo) << 2;
  const zero = f32x4.splat(0);
  let bn = 0, bth = 0, btw = 0;
  for (let t0 = 0; t0 < T; t0 += tb) {
    const nt = imin(tb, T - t0);
    input_block(x, H, W, C, TH, TW, bn, bth, btw, nt, pt, pl, v, vrow, vps);
    // E = A e Aᵀ, A = [[1,0],[1,1],[1,−1],[0,−1]]: rows of A e are e0, e0 + e1, e0 − e1, −e1 (e0, e1 the
    // rows of e); each row (p, q) times Aᵀ is p, p + q, p − q, −q. dy outside OH × OW is zero.
    let n = bn, th = bth, tw = btw;
    for (let i = 0; i < nt; i++) {
      const two_rows = 2 * th + 1 < OH, two_cols = 2 * tw + 1 < OW;
      const dp = dy + <usize>n * dimg + <usize>(2 * th) * drs + <usize>(2 * tw) * dcs;
      const eo = e + <usize>i * erow;
      for (let o = 0; o < COp; o += 4) {
        const m = CO - o, q = dp + (<usize>o << 2);
        const e00 = m > 0 ? loadN(q, m) : zero;
        const e01 = m > 0 && two_cols ? loadN(q + dcs, m) : zero;
        const e10 = m > 0 && two_rows ? loadN(q + drs, m) : zero;
        const e11 = m > 0 && two_rows && two_cols ? loadN(q + drs + dcs, m) : zero;
        const p = eo + (<usize>o << 2);
        store_e_row(p, eps, e00, e01);
        store_e_row(p + 4 * eps, eps, f32x4.add(e00, e10), f32x4.add(e01, e11));
        store_e_row(p + 8 * eps, eps, f32x4.sub(e00, e10), f32x4.sub(e01, e11));
        store_e_row(p + 12 * eps, eps, f32x4.neg(e10), f32x4.neg(e11));
      }
      if (++tw == TW) { tw = 0; if (++th == TH) { th = 0; n++; } }
    }
    // Z[ξ] (Cp × COp) += V[ξ]ᵀ (Cp × nt) · E[ξ] (nt × COp)
    for (let k = 0; k < 16; k++) {
      const vk = v + <usize>k * vps, ek = e + <usize>k * eps, zk = z + <usize>k * zps;
      for (let c = 0; c < Cp; c += 4) {
        for (let ob = 0; ob < nob; ob++) {
          micro_t_4x8(nt, vk + (<usize>c << 2), vrow, ek + (<usize>ob << 5), erow, zk + <usize>c * erow + (<usize>ob << 5), erow);
        }
      }
    }
    bn = n; bth = th; btw = tw;
  }
  // dw = Gᵀ Z G, Gᵀ = [[1,½,½,0],[0,½,−½,0],[0,½,½,1]]: first Gᵀ·Z column by column, then rows times G
  const ks = <usize>(C * ldo) << 2;
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < CO; o += 4) {
      const q = z + <usize>c * erow + (<usize>o << 2);
      const half = f32x4.splat(0.5);
      let r00 = zero, r01 = zero, r02 = zero, r03 = zero, r10 = zero, r11 = zero, r12 = zero, r13 = zero;
      let r20 = zero, r21 = zero, r22 = zero, r23 = zero;
      for (let s = 0; s < 4; s++) {
        const qs = q + <usize>s * zps;
        const z0 = v128.load(qs), z1 = v128.load(qs + 4 * zps), z2 = v128.load(qs + 8 * zps), z3 = v128.load(qs + 12 * zps);
        const h = f32x4.mul(f32x4.add(z1, z2), half);
        const a0 = f32x4.add(z0, h), a1 = f32x4.mul(f32x4.sub(z1, z2), half), a2 = f32x4.add(h, z3);
        if (s == 0) { r00 = a0; r10 = a1; r20 = a2; }
        else if (s == 1) { r01 = a0; r11 = a1; r21 = a2; }
        else if (s == 2) { r02 = a0; r12 = a1; r22 = a2; }
        else { r03 = a0; r13 = a1; r23 = a2; }
      }
      const m = CO - o, d = dw + (<usize>(c * ldo + o) << 2);
      grad_weight_row(d, ks, r00, r01, r02, r03, m);
      grad_weight_row(d + 3 * ks, ks, r10, r11, r12, r13, m);
      grad_weight_row(d + 6 * ks, ks, r20, r21, r22, r23, m);
    }
  }
}

/** One row (p, q) of A·e times Aᵀ: p, p + q, p − q, −q, planes ps apart. */
// @ts-ignore: decorator
@inline function store_e_row(o: usize, ps: usize, p: v128, q: v128): void {
  v128.store(o, p);
  v128.store(o + ps, f32x4.add(p, q));
  v128.store(o + 2 * ps, f32x4.sub(p, q));
  v128.store(o + 3 * ps, f32x4.neg(q));
}
