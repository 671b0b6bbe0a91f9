// Kernels that only quantized inference needs: the int8 depthwise conv (int32 accumulation, the same
// dequantizing epilogue as the int8 GEMM), the per-channel output affine of layers that run in f32,
// the weight decoders that turn resident storage codes into f32 values per call (a code → value
// table for ExMy formats of ≤ 8 bits, bf16 bits widened for BF16).

import { EP_BIAS, EP_DQ, EP_HAS_BIAS, EP_HI, EP_LO, EP_MAX, EP_S, EPILOGUE_Q8 } from './inline/abi.generated';
import { cgC, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { clampFinite, finiteCodes4 } from './inline/quantize';

/**
 * Depthwise NHWC conv on int8 codes: geometry geo (groups = C), x[B,H,W,C], w[KH,KW,C] (HWIO with I = 1), zero padding; acc the
 * exact int32 sum (|code| ≤ 127, so KH·KW < 133,000 taps cannot overflow), stored through the int8 GEMM's
 * epilogue block ep: mode 1 f32 out[B,OH,OW,C], mode 2 int8 codes for the next layer (see assembly/int8.ts).
 * Eight channels at a time: codes widened to i16, products summed in i32 lanes.
 */
export function depthwise_conv2d_i8_nhwc(x: usize, w: usize, mode: i32, ep: usize, out: usize, geo: usize): void {
  const B = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), KH = cgKH(geo), KW = cgKW(geo);
  const sh = cgSH(geo), sw = cgSW(geo), ph = cgPT(geo), pw = cgPL(geo), OH = cgOH(geo), OW = cgOW(geo);
  const C8 = C & ~7;
  const dq = <usize>load<u32>(ep, EP_DQ), bias = load<i32>(ep, EP_HAS_BIAS) ? <usize>load<u32>(ep, EP_BIAS) : 0;
  const vlo = v128.load32_splat(ep + EP_LO), vhi = v128.load32_splat(ep + EP_HI);
  const vs = v128.load32_splat(ep + EP_S), mx = v128.load32_splat(ep + EP_MAX), nmx = f32x4.neg(mx);
  const es: usize = mode == EPILOGUE_Q8 ? 1 : 4;
  for (let b = 0; b < B; b++) {
    const img = x + <usize>b * <usize>H * <usize>W * <usize>C;
    for (let oy = 0; oy < OH; oy++) {
      const ky0 = max(0, ph - oy * sh), ky1 = min(KH, H + ph - oy * sh);
      for (let ox = 0; ox < OW; ox++) {
        const kx0 = max(0, pw - ox * sw), kx1 = min(KW, W + pw - ox * sw);
        const o = out + (<usize>((b * OH + oy) * OW + ox)) * <usize>C * es;
        let c = 0;
        for (; c < C8; c += 8) {
          let lo = i32x4.splat(0), hi = i32x4.splat(0);
          for (let ky = ky0; ky < ky1; ky++) {
            const xrow = img + (<usize>(oy * sh - ph + ky) * <usize>W) * <usize>C + <usize>c;
            const wrow = w + <usize>(ky * KW) * <usize>C + <usize>c;
            // |x·w| ≤ 127² and the sum of two ≤ 32258 fit i16: two taps per i16 multiply-add, then one widening
            let kx = kx0;
            for (; kx + 1 < kx1; kx += 2) {
              const xp = xrow + <usize>(ox * sw - pw + kx) * <usize>C, wp = wrow + <usize>kx * <usize>C;
              const p = i16x8.add(i16x8.mul(v128.load8x8_s(xp), v128.load8x8_s(wp)),
                i16x8.mul(v128.load8x8_s(xp + <usize>C), v128.load8x8_s(wp + <usize>C)));
              lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(p));
              hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(p));
            }
            if (kx < kx1) {
              const p = i16x8.mul(v128.load8x8_s(xrow + <usize>(ox * sw - pw + kx) * <usize>C), v128.load8x8_s(wrow + <usize>kx * <usize>C));
              lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(p));
              hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(p));
            }
          }
          const d = dq + (<usize>c << 2);
          let flo = f32x4.mul(f32x4.convert_i32x4_s(lo), v128.load(d)), fhi = f32x4.mul(f32x4.convert_i32x4_s(hi), v128.load(d, 16));
          if (bias) {
            flo = f32x4.add(flo, v128.load(bias + (<usize>c << 2)));
            fhi = f32x4.add(fhi, v128.load(bias + (<usize>c << 2), 16));
          }
          flo = clampFinite(flo, vlo, vhi);
          fhi = clampFinite(fhi, vlo, vhi);
          if (mode == EPILOGUE_Q8) {
            const q = i16x8.narrow_i32x4_s(finiteCodes4(flo, vs, mx, nmx), finiteCodes4(fhi, vs, mx, nmx));
            v128.store64_lane(o + <usize>c, i8x16.narrow_i16x8_s(q, q), 0);
          } else {
            v128.store(o + (<usize>c << 2), flo);
            v128.store(o + (<usize>c << 2), fhi, 16);
          }
        }
        for (; c < C; c++) {
          let acc: i32 = 0;
          for (let ky = ky0; ky < ky1; ky++) {
            for (let kx = kx0; kx < kx1; kx++) {
              acc += <i32>load<i8>(img + (<usize>(oy * sh - ph + ky) * <usize>W + <usize>(ox * sw - pw + kx)) * <usize>C + <usize>c)
                * <i32>load<i8>(w + (<usize>(ky * KW + kx)) * <usize>C + <usize>c);
            }
          }
          let y = <f32>acc * f32.load(dq + (<usize>c << 2));
          if (bias) y += f32.load(bias + (<usize>c << 2));
          y = min(max(y, f32.load(ep + EP_LO)), f32.load(ep + EP_HI));
          if (mode == EPILOGUE_Q8) {
            const m = f32.load(ep + EP_MAX);
            store<i8>(o + <usize>c, <i8><i32>nearest(min(max(y * f32.load(ep + EP_S), -m), m)));
          } else f32.store(o + (<usize>c << 2), y);
        }
      }
    }
  }
}

/** y[r, c] = x[r, c]·a[c] + b[c] over rows × C (channels last); x and y may be the same buffer. */
export function channel_affine_f32x4(x: usize, y: usize, rows: i32, C: i32, a: usize, b: usize): void {
  const C4 = C & ~3;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>C;
    let c = 0;
    for (; c < C4; c += 4) {
      const p = (row + <usize>c) << 2;
      v128.store(y + p, f32x4.add(f32x4.mul(v128.load(x + p), v128.load(a + (<usize>c << 2))), v128.load(b + (<usize>c << 2))));
    }
    for (; c < C; c++) {
      const p = (row + <usize>c) << 2;
      f32.store(y + p, f32.load(x + p) * f32.load(a + (<usize>c << 2)) + f32.load(b + (<usize>c << 2)));
    }
  }
}

/**
 * Weights from one-byte codes: out[o, c] = lut[codes[o, c]] / scales[c] over outer × C (channels last).
 * Division, not a multiply by 1/s, so the values equal the fake quantizer's q / s bit for bit.
 */
export function decode_lut_u8_f32(codes: usize, lut: usize, scales: usize, out: usize, outer: i32, C: i32): void {
  for (let o = 0; o < outer; o++) {
    const row = <usize>o * <usize>C;
    for (let c = 0; c < C; c++) {
      const v = f32.load(lut + (<usize>load<u8>(codes + row + <usize>c) << 2));
      f32.store(out + ((row + <usize>c) << 2), v / f32.load(scales + (<usize>c << 2)));
    }
  }
}

/** BF16 weights: out[i] = the f32 whose high 16 bits are bits[i] (exact widening). */
export function decode_bf16_f32(bits: usize, out: usize, n: i32): void {
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const v = v128.load(bits + (<usize>i << 1));
    v128.store(out + (<usize>i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(out + (<usize>i << 2), i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; i < n; i++) store<u32>(out + (<usize>i << 2), <u32>load<u16>(bits + (<usize>i << 1)) << 16);
}

