// Per-vector quantizer arithmetic shared by the kernels that quantize (quant.ts, gemm.ts while packing, and the
// int8 kernels' codes: int8.ts, deploy.ts).
// Inline helpers only: this file is not re-exported from assembly/index.ts, so nothing here is a wasm export.
// See quant.ts for what each format kind computes; the kind codes are KIND_* of abi.generated.ts
// (KIND_FLOAT_MAGIC: ExMy whose per-lane magic constant cannot overflow (x ≤ 7) and whose ties need no parity flip).

import { KIND_BF16, KIND_FLOAT_MAGIC, KIND_INT } from './abi.generated';

export const SIGN: v128 = i32x4.splat(0x80000000);
export const ONE: v128 = i32x4.splat(1);

// @ts-ignore: decorator
@inline export function qround(x: v128, s: v128, mx: v128, nmx: v128, M: v128, T: v128, half: v128, keep: v128, sh: i32, flip: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(f32x4.mul(x, s), nmx), mx);
  const a = v128.andnot(v, SIGN);
  // Ties go to the even code: the lowest kept bit, or for y = 0 the exponent's parity, which `flip`
  // corrects when the format's bias and f32's (127) differ in parity.
  let r = i32x4.add(i32x4.add(a, half), v128.and(v128.xor(i32x4.shr_u(a, sh), flip), ONE));
  r = v128.and(r, keep);
  const t = f32x4.sub(f32x4.add(a, M), M);
  // NaN fails a >= T, so it takes the magic-add path, which keeps it NaN.
  const q = v128.or(v128.bitselect(r, t, f32x4.ge(a, T)), v128.and(v, SIGN));
  return f32x4.div(q, s);
}

// @ts-ignore: decorator
@inline export function halfOf(sh: i32): v128 {
  return i32x4.splat((1 << (sh - 1)) - 1);
}

// @ts-ignore: decorator
@inline export function keepOf(sh: i32): v128 {
  return i32x4.splat(~((1 << sh) - 1));
}


export const EXP: v128 = i32x4.splat(0x7f800000);

/**
 * ExMy by one magic add with a per-lane constant M = 2^(max(e, Emin) - y + 23): a + M rounds at the
 * format's quantum for a's binade. 5 integer/float ops instead of the general path's 10.
 * eminBits = bits of 2^Emin, shBits = (23 - y) << 23.
 */
// @ts-ignore: decorator
@inline export function qmagic(x: v128, s: v128, mx: v128, nmx: v128, eminBits: v128, shBits: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(f32x4.mul(x, s), nmx), mx);
  const a = v128.andnot(v, SIGN);
  const M = i32x4.add(i32x4.max_s(v128.and(a, EXP), eminBits), shBits);
  const t = f32x4.sub(f32x4.add(a, M), M);
  return f32x4.div(v128.or(t, v128.and(v, SIGN)), s);
}

// @ts-ignore: decorator
@inline export function apply(kind: i32, x: v128, s: v128, mx: v128, nmx: v128, M: v128, T: v128, half: v128, keep: v128, sh: i32, flip: v128): v128 {
  if (kind == KIND_INT) {
    return f32x4.div(f32x4.nearest(f32x4.pmin(f32x4.pmax(f32x4.mul(x, s), nmx), mx)), s);
  }
  if (kind == KIND_FLOAT_MAGIC) {
    // T = 2^(Emin+1), so its bits minus one exponent step are 2^Emin's; sh = 23 - y.
    return qmagic(x, s, mx, nmx, i32x4.sub(T, i32x4.splat(1 << 23)), i32x4.splat(sh << 23));
  }
  if (kind == KIND_BF16) {
    const r = v128.and(i32x4.add(i32x4.add(x, BF16_HALF), v128.and(i32x4.shr_u(x, 16), ONE)), BF16_KEEP);
    return v128.bitselect(r, x, f32x4.eq(x, x));
  }
  return qround(x, s, mx, nmx, M, T, half, keep, sh, flip);
}

export const BF16_HALF: v128 = i32x4.splat(0x7fff);
export const BF16_KEEP: v128 = i32x4.splat(0xffff0000);


/**
 * int8 codes of 4 lanes (as i32): clamp(x·s, ±max), round half to even (as the fake quantizer), NaN → 0.
 * pmax/pmin (one instruction each on x64) with x·s as the first operand keep a NaN a NaN, which the
 * saturating conversion turns into 0.
 */
// @ts-ignore: decorator
@inline export function intCodes4(x: v128, s: v128, mx: v128, nmx: v128): v128 {
  const v = f32x4.nearest(f32x4.pmin(f32x4.pmax(f32x4.mul(x, s), nmx), mx));
  return i32x4.trunc_sat_f32x4_s(v);
}

/**
 * The epilogue's clamp of finite y to [lo, hi], as min(max(y, lo), hi) with the clamp constant winning ties
 * (so a −0 against lo = 0 gives +0, as Math.max). pmax/pmin are one instruction each on x64 where
 * f32x4.max/min, with their NaN rules, are about seven; y here is never NaN.
 */
// @ts-ignore: decorator
@inline export function clampFinite(y: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(hi, f32x4.pmax(lo, y));
}

/**
 * intCodes4 for finite x (an epilogue's y: finite codes, scales and bias): the clamp by pmax/pmin (see
 * clampFinite) and, in the relaxed build, a one-instruction conversion (exact: the value is a small integer).
 */
// @ts-ignore: decorator
@inline export function finiteCodes4(x: v128, s: v128, mx: v128, nmx: v128): v128 {
  const v = f32x4.nearest(clampFinite(f32x4.mul(x, s), nmx, mx));
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_trunc_f32x4_s(v);
  return i32x4.trunc_sat_f32x4_s(v);
}
