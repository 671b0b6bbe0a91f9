// conv2d forward, NHWC activations, HWIO weights [KH, KW, Cin/groups, Cout]: weights packed into
// 8-channel panels, then the direct 4-pixel × 8-channel register-tiled core (inline/conv2d_direct_core.ts).
// Out-of-range window taps (padding) contribute nothing.

import { conv2dDirect } from './inline/conv2d_direct_core';
import { packWeightsF32x8 } from './inline/conv2d_pack';
import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';

/**
 * y[n, oh, ow, g·OCg + o] = bias[g·OCg + o] + Σ_{kh,kw,i} x[n, oh·sh-pt+kh, ow·sw-pl+kw, g·ICg + i] · w[kh, kw, i, g·OCg + o]
 * for the geometry block geo. bias = 0 means none. wp: scratch for the packed weights,
 * groups · ceil(OCg/8) · KH·KW·ICg · 32 bytes.
 */
export function conv2d_direct_nhwc_f32_4x8(x: usize, w: usize, wp: usize, bias: usize, y: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const ICg = C / groups, OCg = CO / groups;
  packWeightsF32x8(w, wp, KH, KW, ICg, OCg, groups);
  conv2dDirect(x, N, H, W, C, wp, KH, KW, ICg, OCg, groups, bias, y, 0, OH * OW * CO, OW * CO, CO, 0, OH, 0, OW, sh, sw, pt, pl);
}
