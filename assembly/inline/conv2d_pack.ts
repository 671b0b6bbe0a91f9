// Weight packing for the direct conv core (conv2d_direct_core.ts): HWIO weights into 8-output-channel
// panels, for the forward pass (conv2d.ts) and, flipped and transposed one stride phase at a time, for
// grad-input (conv2d_grad_input.ts). Inline helpers only: nothing here is a wasm export.

import { imin } from './window';

/**
 * Packs HWIO weights w[KH, KW, ICg, groups·OCg] into 8-channel panels for the forward pass:
 * wp[g][cb][kh][kw][ci][8] = w[kh, kw, ci, g·OCg + cb·8 + lane] (0 past OCg).
 * wp holds groups · ceil(OCg/8) · KH·KW·ICg · 8 floats.
 */
export function packWeightsF32x8(w: usize, wp: usize, KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32): void {
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
export function packGradInputPhaseF32x8(w: usize, wp: usize, KH: i32, KW: i32, ICg: i32, OCg: i32, groups: i32,
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
