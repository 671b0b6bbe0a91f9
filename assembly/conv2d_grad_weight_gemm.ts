// conv2d grad-weight as a GEMM over output pixels, per group, on the 4×8 micro-kernel over a packed A
// (inline/ukernel_4x8_packed_a.ts): patch rows built per 256-pixel chunk, dy packed in 4-channel
// interleaved blocks.

import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgLDO, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { copyF, loadN } from './inline/simd';
import { ukernel_4x8_packed_a } from './inline/ukernel_4x8_packed_a';
import { imin } from './inline/window';

/** Pixels per chunk of the GEMM-formulated grad-weight (the GEMM's K block). */
const DW_P: i32 = 256;

/** Bytes of scratch conv2d_grad_weight_gemm_nhwc_f32_4x8 needs. */
export function conv2d_grad_weight_scratch_bytes(geo: usize): i32 {
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), ICg = cgC(geo) / groups, OCg = cgCO(geo) / groups;
  const Kd8 = (KH * KW * ICg + 7) & ~7;
  return (Kd8 * DW_P + ((OCg + 3) & ~3) * DW_P + groups * OCg * Kd8) << 2;
}

/**
 * Grad-weight as a GEMM over pixels: dWᵀ[o, (kh,kw,i)] = Σ_p dyᵀ[o, p] · patch[p, (kh,kw,i)], per group.
 * Pixels go in chunks of DW_P (the GEMM's K): each pixel's patch row (zeros for padding taps) is
 * written straight into 8-column B panels, dy's chunk is transposed into A rows, and the shared 4×8
 * micro-kernel (ukernel_4x8_packed_a) accumulates dWᵀ in scratch (beta = 1 after the first chunk); dWᵀ is transposed into dw
 * (HWIO) at the end. scratch: conv2d_grad_weight_scratch_bytes(geo) bytes. dy's pixels and dw's rows are ldo
 * (cgLDO) elements apart, so a call can compute a slice of the output channels (groups = 1).
 */
export function conv2d_grad_weight_gemm_nhwc_f32_4x8(x: usize, dy: usize, dw: usize, scratch: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const ICg = C / groups, OCg = CO / groups, ldo = cgLDO(geo);
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
      const dyc = dy + (<usize>(p0 * ldo + g * OCg) << 2);
      const ds = <usize>ldo << 2;
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
          ukernel_4x8_packed_a(kc, pA + <usize>(ir >> 2) * lda, bp, ldcb, cg + <usize>ir * ldcb + (<usize>jr << 2), ldcb, beta,
            imin(4, OCg - ir), nr);
        }
      }
    }
  }
  // dw[r, g·OCg + o] = dWᵀ[g·OCg + o, r]
  for (let r = 0; r < Kd; r++) {
    const d = dw + (<usize>(r * ldo) << 2);
    for (let c = 0; c < CO; c++) f32.store(d + (<usize>c << 2), f32.load(pC + <usize>c * ldcb + (<usize>r << 2)));
  }
}
