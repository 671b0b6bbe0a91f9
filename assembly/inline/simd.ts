// Small SIMD helpers every kernel family shares: multiply-add, horizontal sums and maxima, f32↔f64 lane
// widening, and loads/stores of a channel block's tail. Inline helpers only: this file is not re-exported
// from assembly/index.ts, so nothing here is a wasm export.

/** a·b + c: one fused instruction in the relaxed build (its rounding differs), mul then add in the baseline. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
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
@inline export function muladd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

/** (v0 + v1) + (v2 + v3). */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** max(max(v0, v1), max(v2, v3)). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Lanes 0, 1 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline export function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Lanes 2, 3 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline export function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

/** Packs two f64x2 back into one f32x4 (lo lanes first). */
// @ts-ignore: decorator
@inline export function pack32(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Loads m lanes (m may be ≤ 0 or ≥ 4) from p; missing lanes are zero. */
export function loadN(p: usize, m: i32): v128 {
  if (m >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (m > 0) v = f32x4.replace_lane(v, 0, f32.load(p));
  if (m > 1) v = f32x4.replace_lane(v, 1, f32.load(p, 4));
  if (m > 2) v = f32x4.replace_lane(v, 2, f32.load(p, 8));
  return v;
}

/** Stores the first m lanes (m ≥ 1) of v at p. */
export function storeN(p: usize, v: v128, m: i32): void {
  if (m >= 4) { v128.store(p, v); return; }
  f32.store(p, f32x4.extract_lane(v, 0));
  if (m > 1) f32.store(p, f32x4.extract_lane(v, 1), 4);
  if (m > 2) f32.store(p, f32x4.extract_lane(v, 2), 8);
}

/** Stores the first m (≥ 1) of the 8 lanes v0 ‖ v1 at p. */
// @ts-ignore: decorator
@inline export function store8(p: usize, v0: v128, v1: v128, m: i32): void {
  if (m >= 8) {
    v128.store(p, v0);
    v128.store(p, v1, 16);
  } else {
    storeN(p, v0, m);
    if (m > 4) storeN(p + 16, v1, m - 4);
  }
}

/** Copies n floats from s to d (4 at a time, then one by one). */
// @ts-ignore: decorator
@inline export function copyF(d: usize, s: usize, n: i32): void {
  const e = d + (<usize>n << 2), e4 = d + (<usize>(n & ~3) << 2);
  while (d < e4) { v128.store(d, v128.load(s)); d += 16; s += 16; }
  while (d < e) { f32.store(d, f32.load(s)); d += 4; s += 4; }
}
