// Fake-quantization kernels: one SIMD routine for INTk, every ExMy and BF16.
//
// Every format is "a uniform region near zero plus a floating region above it":
//   v = clamp(x * s, -max, max)
//   |v| <  T : round to a multiple of the fixed quantum 2^(Emin-y)  (magic add: (a + M) - M, M = quantum * 2^23)
//   |v| >= T : keep y mantissa bits, round to nearest even in the f32 bit pattern (shift sh = 23 - y)
//   out = q / s,  NaN passes through.
// INTk is T = +Inf with quantum 1; BF16 is s = 1, max = +Inf, Emin = -126, y = 7. The TypeScript side
// derives (max, M, T, sh) once per Format (src/formats/params.ts). Tails are computed lane-by-lane with
// the same vector arithmetic, so every element gets bit-identical treatment whatever n is.

const SIGN: v128 = i32x4.splat(0x80000000);
const ONE: v128 = i32x4.splat(1);

// @ts-ignore: decorator
@inline export function qround(x: v128, s: v128, mx: v128, nmx: v128, M: v128, T: v128, half: v128, keep: v128, sh: i32, flip: v128): v128 {
  const v = f32x4.min(f32x4.max(f32x4.mul(x, s), nmx), mx);
  const a = v128.andnot(v, SIGN);
  // Ties go to the even code: the lowest kept bit, or for y = 0 the exponent's parity, which `flip`
  // corrects when the format's bias and f32's (127) differ in parity.
  let r = i32x4.add(i32x4.add(a, half), v128.and(v128.xor(i32x4.shr_u(a, sh), flip), ONE));
  r = v128.and(r, keep);
  const t = f32x4.sub(f32x4.add(a, M), M);
  const q = v128.or(v128.bitselect(t, r, f32x4.lt(a, T)), v128.and(v, SIGN));
  return v128.bitselect(f32x4.div(q, s), x, f32x4.eq(x, x));
}

/** qround() for formats whose ties need no parity flip (every format with y ≥ 1, INT, BF16). */
// @ts-ignore: decorator
@inline export function qv(x: v128, s: v128, mx: v128, nmx: v128, M: v128, T: v128, half: v128, keep: v128, sh: i32): v128 {
  return qround(x, s, mx, nmx, M, T, half, keep, sh, i32x4.splat(0));
}

// @ts-ignore: decorator
@inline function halfOf(sh: i32): v128 {
  return i32x4.splat((1 << (sh - 1)) - 1);
}

// @ts-ignore: decorator
@inline function keepOf(sh: i32): v128 {
  return i32x4.splat(~((1 << sh) - 1));
}

/** Fake-quantize n floats at x into out (may alias x) with scale s. */
export function quant_f32x4(x: usize, out: usize, n: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
  const vs = f32x4.splat(s), mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const vM = f32x4.splat(M), vT = f32x4.splat(T), half = halfOf(sh), keep = keepOf(sh), vf = i32x4.splat(flip);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, qround(v128.load(x + o), vs, mx, nmx, vM, vT, half, keep, sh, vf));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(out + o, f32x4.extract_lane(qround(f32x4.splat(f32.load(x + o)), vs, mx, nmx, vM, vT, half, keep, sh, vf), 0));
  }
}

/**
 * Per-channel fake-quantize a tensor viewed as [outer, C, inner], channel c using scale scales[c].
 * inner == 1 (channels last) vectorizes across channels; otherwise across each channel's run.
 */
export function quant_pc_f32x4(x: usize, out: usize, outer: i32, C: i32, inner: i32, scales: usize,
  max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
  if (inner == 1) {
    const mx = f32x4.splat(max), nmx = f32x4.splat(-max);
    const vM = f32x4.splat(M), vT = f32x4.splat(T), half = halfOf(sh), keep = keepOf(sh), vf = i32x4.splat(flip);
    const C4 = C & ~3;
    for (let o = 0; o < outer; o++) {
      const row = <usize>o * <usize>C << 2;
      let c = 0;
      for (; c < C4; c += 4) {
        const off = row + (<usize>c << 2);
        v128.store(out + off, qround(v128.load(x + off), v128.load(scales + (<usize>c << 2)), mx, nmx, vM, vT, half, keep, sh, vf));
      }
      for (; c < C; c++) {
        const off = row + (<usize>c << 2);
        const vs = f32x4.splat(f32.load(scales + (<usize>c << 2)));
        f32.store(out + off, f32x4.extract_lane(qround(f32x4.splat(f32.load(x + off)), vs, mx, nmx, vM, vT, half, keep, sh, vf), 0));
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const off = (<usize>(o * C + c) * <usize>inner) << 2;
      quant_f32x4(x + off, out + off, inner, f32.load(scales + (<usize>c << 2)), max, M, T, sh, flip);
    }
  }
}

/** Sum of squared quantization errors sum((q(x) - x)^2) without writing q: the inner loop of the MSE-optimal clip search. */
export function quant_sqerr_f32x4(x: usize, n: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): f64 {
  const vs = f32x4.splat(s), mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const vM = f32x4.splat(M), vT = f32x4.splat(T), half = halfOf(sh), keep = keepOf(sh), vf = i32x4.splat(flip);
  const n4 = n & ~3;
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(x + (<usize>i << 2));
    const d = f32x4.sub(qround(xv, vs, mx, nmx, vM, vT, half, keep, sh, vf), xv);
    const lo = f64x2.promote_low_f32x4(d);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 0, 1));
    acc = f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
  }
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) {
    const xv = f32x4.splat(f32.load(x + (<usize>i << 2)));
    const d = <f64>f32x4.extract_lane(f32x4.sub(qround(xv, vs, mx, nmx, vM, vT, half, keep, sh, vf), xv), 0);
    sum += d * d;
  }
  return sum;
}

/** Straight-through estimator: gin = |x| <= clip ? gout : 0 (the gradient is blocked where x was clipped). */
export function ste_f32x4(x: usize, gout: usize, gin: usize, n: i32, clip: f32): void {
  const vc = f32x4.splat(clip);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(gin + o, v128.and(v128.load(gout + o), f32x4.le(f32x4.abs(v128.load(x + o)), vc)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(gin + o, Mathf.abs(f32.load(x + o)) <= clip ? f32.load(gout + o) : 0);
  }
}

/** Per-channel straight-through estimator over [outer, C, inner] with clips[c]. */
export function ste_pc_f32x4(x: usize, gout: usize, gin: usize, outer: i32, C: i32, inner: i32, clips: usize): void {
  if (inner == 1) {
    const C4 = C & ~3;
    for (let o = 0; o < outer; o++) {
      const row = <usize>o * <usize>C << 2;
      let c = 0;
      for (; c < C4; c += 4) {
        const off = row + (<usize>c << 2);
        const keep = f32x4.le(f32x4.abs(v128.load(x + off)), v128.load(clips + (<usize>c << 2)));
        v128.store(gin + off, v128.and(v128.load(gout + off), keep));
      }
      for (; c < C; c++) {
        const off = row + (<usize>c << 2);
        f32.store(gin + off, Mathf.abs(f32.load(x + off)) <= f32.load(clips + (<usize>c << 2)) ? f32.load(gout + off) : 0);
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const off = (<usize>(o * C + c) * <usize>inner) << 2;
      ste_f32x4(x + off, gout + off, gin + off, inner, f32.load(clips + (<usize>c << 2)));
    }
  }
}
