// conv2d grad-input: dx = the transposed conv of dy with w, split into the sh·sw stride phases of dx; each
// phase is a stride-1 direct conv (inline/conv2d_direct_core.ts) of dy with a flipped, in/out-transposed
// sub-kernel holding the taps of that phase (inline/conv2d_pack.ts).

import { conv2dDirect } from './inline/conv2d_direct_core';
import { packGradInputPhaseF32x8 } from './inline/conv2d_pack';
import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { hsum, madd } from './inline/simd';
import { ceilDiv, floorDiv, imax, imin } from './inline/window';

/**
 * dx[N, H, W, C] of conv2d with geometry geo, from dy[N, OH, OW, CO] and HWIO w. wp: scratch for one phase's
 * packed sub-kernel, groups · ceil(ICg/8) · ceil(KH/sh) · ceil(KW/sw) · OCg · 32 bytes. Phase (rh, rw) holds
 * the dx pixels ih ≡ rh − pt (mod sh), iw ≡ rw − pl (mod sw), i.e. ih = qh·sh + rh − pt for qh ∈ [qh0, qh1).
 */
export function conv2d_grad_input_nhwc_f32_4x8(dy: usize, w: usize, wp: usize, dx: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const ICg = C / groups, OCg = CO / groups;
  if (C == 1) {
    gradInputOneChannel(dy, w, dx, N, H, W, OH, OW, CO, KH, KW, sh, sw, pt, pl);
    return;
  }
  for (let rh = 0; rh < sh; rh++) {
    const qh0 = ceilDiv(pt - rh, sh), qh1 = floorDiv(H - 1 + pt - rh, sh) + 1;
    if (qh1 <= qh0) continue;
    const Jh = rh < KH ? (KH - rh + sh - 1) / sh : 0;
    for (let rw = 0; rw < sw; rw++) {
      const qw0 = ceilDiv(pl - rw, sw), qw1 = floorDiv(W - 1 + pl - rw, sw) + 1;
      if (qw1 <= qw0) continue;
      const Jw = rw < KW ? (KW - rw + sw - 1) / sw : 0;
      packGradInputPhaseF32x8(w, wp, KH, KW, ICg, OCg, groups, sh, sw, rh, rw);
      conv2dDirect(dy, N, OH, OW, CO, wp, Jh, Jw, OCg, ICg, groups, 0,
        dx, ((rh - pt) * W + (rw - pl)) * C, H * W * C, sh * W * C, sw * C,
        qh0, qh1, qw0, qw1, 1, 1, Jh - 1, Jw - 1);
    }
  }
}

/**
 * dx of a 1-input-channel conv (a network's first layer): each dx pixel gathers Σ over its taps and the CO
 * output channels of dy · w, with the channels in f32x4 lanes and one horizontal sum at the end. The phase
 * path would spend 7 of every 8 lanes of its 8-channel output tiles on nothing.
 */
function gradInputOneChannel(dy: usize, w: usize, dx: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, CO: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const C4 = CO & ~3;
  for (let n = 0; n < N; n++) {
    for (let ih = 0; ih < H; ih++) {
      // Taps reaching ih: kh ≡ ih + pt (mod sh), from output row oh0 down (one division per row, not per tap).
      const kh0 = (ih + pt) % sh, oh0 = (ih + pt) / sh;
      let iw = 0;
      if (sw == 1) {
        // Interior columns (every kw tap lands in dy): 4 dx pixels at a time share each weight load.
        const iwA = imax(0, KW - 1 - pl), iwB = imin(W, OW - pl);
        for (; iw < iwA; iw++) gradInputPixel(dy, w, dx, n, ih, iw, H, W, OH, OW, CO, KH, KW, sh, sw, pl, kh0, oh0);
        const cs = <usize>CO << 2, cs4 = <usize>C4 << 2;
        for (; iw + 4 <= iwB; iw += 4) {
          let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
          let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
          for (let kh = kh0, oh = oh0; kh < KH && oh >= 0; kh += sh, oh--) {
            if (oh >= OH) continue;
            for (let kw = 0; kw < KW; kw++) {
              const d = dy + (<usize>(((n * OH + oh) * OW + iw + pl - kw) * CO) << 2);
              const q = w + (<usize>((kh * KW + kw) * CO) << 2);
              let c: usize = 0;
              for (; c < cs4; c += 16) {
                const wv = v128.load(q + c);
                a0 = madd(v128.load(d + c), wv, a0);
                a1 = madd(v128.load(d + cs + c), wv, a1);
                a2 = madd(v128.load(d + 2 * cs + c), wv, a2);
                a3 = madd(v128.load(d + 3 * cs + c), wv, a3);
              }
              for (; c < cs; c += 4) {
                const wv = f32.load(q + c);
                t0 += f32.load(d + c) * wv; t1 += f32.load(d + cs + c) * wv;
                t2 += f32.load(d + 2 * cs + c) * wv; t3 += f32.load(d + 3 * cs + c) * wv;
              }
            }
          }
          const o = dx + (<usize>((n * H + ih) * W + iw) << 2);
          f32.store(o, hsum(a0) + t0); f32.store(o, hsum(a1) + t1, 4); f32.store(o, hsum(a2) + t2, 8); f32.store(o, hsum(a3) + t3, 12);
        }
      }
      for (; iw < W; iw++) gradInputPixel(dy, w, dx, n, ih, iw, H, W, OH, OW, CO, KH, KW, sh, sw, pl, kh0, oh0);
    }
  }
}

/** One dx pixel of gradInputOneChannel, every tap checked. */
function gradInputPixel(dy: usize, w: usize, dx: usize, n: i32, ih: i32, iw: i32, H: i32, W: i32, OH: i32, OW: i32, CO: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pl: i32, kh0: i32, oh0: i32): void {
  const C4 = CO & ~3;
  const kw0 = (iw + pl) % sw, ow0 = (iw + pl) / sw;
  let acc = f32x4.splat(0);
  let tail: f32 = 0;
  for (let kh = kh0, oh = oh0; kh < KH && oh >= 0; kh += sh, oh--) {
    if (oh >= OH) continue;
    const drow = dy + (<usize>((n * OH + oh) * OW * CO) << 2);
    for (let kw = kw0, ow = ow0; kw < KW && ow >= 0; kw += sw, ow--) {
      if (ow >= OW) continue;
      const d = drow + (<usize>(ow * CO) << 2);
      const q = w + (<usize>((kh * KW + kw) * CO) << 2);
      let c = 0;
      for (; c < C4; c += 4) acc = madd(v128.load(d + (<usize>c << 2)), v128.load(q + (<usize>c << 2)), acc);
      for (; c < CO; c++) tail += f32.load(d + (<usize>c << 2)) * f32.load(q + (<usize>c << 2));
    }
  }
  f32.store(dx + (<usize>((n * H + ih) * W + iw) << 2), hsum(acc) + tail);
}
