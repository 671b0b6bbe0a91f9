// conv2d grad-input: dx = the transposed conv of dy with w, split into the sh·sw stride phases of dx; each
// phase is a stride-1 direct conv (inline/conv2d_direct_core.ts) of dy with a flipped, in/out-transposed
// sub-kernel holding the taps of that phase (inline/conv2d_pack.ts).

import { conv2dDirect } from './inline/conv2d_direct_core';
import { packGradInputPhaseF32x8 } from './inline/conv2d_pack';
import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { ceilDiv, floorDiv } from './inline/window';

/**
 * dx[N, H, W, C] of conv2d with geometry geo, from dy[N, OH, OW, CO] and HWIO w. wp: scratch for one phase's
 * packed sub-kernel, groups · ceil(ICg/8) · ceil(KH/sh) · ceil(KW/sw) · OCg · 32 bytes. Phase (rh, rw) holds
 * the dx pixels ih ≡ rh − pt (mod sh), iw ≡ rw − pl (mod sw), i.e. ih = qh·sh + rh − pt for qh ∈ [qh0, qh1).
 */
export function conv2d_grad_input_nhwc_f32_4x8(dy: usize, w: usize, wp: usize, dx: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const ICg = C / groups, OCg = CO / groups;
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
