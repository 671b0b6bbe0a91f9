// Fake-quantization kernels: INTk, one routine for every ExMy, and BF16.
//
// ExMy is "a uniform region near zero plus a floating region above it":
//   v = clamp(x * s, -max, max)
//   |v| <  T : round to a multiple of the fixed quantum 2^(Emin-y)  (magic add: (a + M) - M, M = quantum * 2^23)
//   |v| >= T : keep y mantissa bits, round to nearest even in the f32 bit pattern (shift sh = 23 - y)
//   out = q / s
// INTk is clamp, f32x4.nearest (round half to even), divide. BF16 rounds the f32 bit pattern to its top
// 16 bits. The TypeScript side derives (kind, max, M, T, sh, flip) once per Format (src/formats/params.ts).
// The three share one loop skeleton (`apply` with a constant kind is folded at compile time). Tails are
// computed lane-by-lane with the same vector arithmetic, so every element is treated bit-identically.
// Clamping uses pmin/pmax (one x86 instruction each; wasm's min/max cost ~8): pmax(v, lo) and pmin(v, hi)
// return v when v is NaN, so NaN still flows through.

const SIGN: v128 = i32x4.splat(0x80000000);
const ONE: v128 = i32x4.splat(1);

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

export const KIND_INT: i32 = 0;
export const KIND_FLOAT: i32 = 1;
export const KIND_BF16: i32 = 2;
/** ExMy whose per-lane magic constant cannot overflow (x ≤ 7) and whose ties need no parity flip. */
export const KIND_FLOAT_MAGIC: i32 = 3;

const EXP: v128 = i32x4.splat(0x7f800000);

/**
 * ExMy by one magic add with a per-lane constant M = 2^(max(e, Emin) - y + 23): a + M rounds at the
 * format's quantum for a's binade. 5 integer/float ops instead of the general path's 10.
 * eminBits = bits of 2^Emin, shBits = (23 - y) << 23.
 */
// @ts-ignore: decorator
@inline function qmagic(x: v128, s: v128, mx: v128, nmx: v128, eminBits: v128, shBits: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(f32x4.mul(x, s), nmx), mx);
  const a = v128.andnot(v, SIGN);
  const M = i32x4.add(i32x4.max_s(v128.and(a, EXP), eminBits), shBits);
  const t = f32x4.sub(f32x4.add(a, M), M);
  return f32x4.div(v128.or(t, v128.and(v, SIGN)), s);
}

// @ts-ignore: decorator
@inline function apply(kind: i32, x: v128, s: v128, mx: v128, nmx: v128, M: v128, T: v128, half: v128, keep: v128, sh: i32, flip: v128): v128 {
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

const BF16_HALF: v128 = i32x4.splat(0x7fff);
const BF16_KEEP: v128 = i32x4.splat(0xffff0000);

// @ts-ignore: decorator
@inline function quantLoop(kind: i32, x: usize, out: usize, n: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
  const vs = f32x4.splat(s), mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const vM = f32x4.splat(M), vT = f32x4.splat(T), half = halfOf(sh), keep = keepOf(sh), vf = i32x4.splat(flip);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, apply(kind, v128.load(x + o), vs, mx, nmx, vM, vT, half, keep, sh, vf));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(out + o, f32x4.extract_lane(apply(kind, f32x4.splat(f32.load(x + o)), vs, mx, nmx, vM, vT, half, keep, sh, vf), 0));
  }
}

/** Fake-quantize n floats at x into out (may alias x) with scale s; `kind` is one of the KIND_* above. */
export function quant_f32x4(x: usize, out: usize, n: i32, kind: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
  if (kind == KIND_INT) quantLoop(KIND_INT, x, out, n, s, max, M, T, sh, flip);
  else if (kind == KIND_FLOAT_MAGIC) quantLoop(KIND_FLOAT_MAGIC, x, out, n, s, max, M, T, sh, flip);
  else if (kind == KIND_BF16) quantLoop(KIND_BF16, x, out, n, s, max, M, T, sh, flip);
  else quantLoop(KIND_FLOAT, x, out, n, s, max, M, T, sh, flip);
}

// @ts-ignore: decorator
@inline function quantChannelsLast(kind: i32, x: usize, out: usize, outer: i32, C: i32, scales: usize,
  max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
  const mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const vM = f32x4.splat(M), vT = f32x4.splat(T), half = halfOf(sh), keep = keepOf(sh), vf = i32x4.splat(flip);
  const C4 = C & ~3;
  for (let o = 0; o < outer; o++) {
    const row = <usize>o * <usize>C << 2;
    let c = 0;
    for (; c < C4; c += 4) {
      const off = row + (<usize>c << 2);
      v128.store(out + off, apply(kind, v128.load(x + off), v128.load(scales + (<usize>c << 2)), mx, nmx, vM, vT, half, keep, sh, vf));
    }
    for (; c < C; c++) {
      const off = row + (<usize>c << 2);
      const vs = f32x4.splat(f32.load(scales + (<usize>c << 2)));
      f32.store(out + off, f32x4.extract_lane(apply(kind, f32x4.splat(f32.load(x + off)), vs, mx, nmx, vM, vT, half, keep, sh, vf), 0));
    }
  }
}

/**
 * Per-channel fake-quantize a tensor viewed as [outer, C, inner], channel c using scale scales[c].
 * inner == 1 (channels last) vectorizes across channels; otherwise across each channel's run.
 */
export function quant_pc_f32x4(x: usize, out: usize, outer: i32, C: i32, inner: i32, scales: usize,
  kind: i32, max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
  if (inner == 1) {
    if (kind == KIND_INT) quantChannelsLast(KIND_INT, x, out, outer, C, scales, max, M, T, sh, flip);
    else if (kind == KIND_FLOAT_MAGIC) quantChannelsLast(KIND_FLOAT_MAGIC, x, out, outer, C, scales, max, M, T, sh, flip);
    else if (kind == KIND_BF16) quantChannelsLast(KIND_BF16, x, out, outer, C, scales, max, M, T, sh, flip);
    else quantChannelsLast(KIND_FLOAT, x, out, outer, C, scales, max, M, T, sh, flip);
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const off = (<usize>(o * C + c) * <usize>inner) << 2;
      quant_f32x4(x + off, out + off, inner, kind, f32.load(scales + (<usize>c << 2)), max, M, T, sh, flip);
    }
  }
}

// @ts-ignore: decorator
@inline function sqerrLoop(kind: i32, x: usize, n: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): f64 {
  const vs = f32x4.splat(s), mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const vM = f32x4.splat(M), vT = f32x4.splat(T), half = halfOf(sh), keep = keepOf(sh), vf = i32x4.splat(flip);
  const n4 = n & ~3;
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(x + (<usize>i << 2));
    const d = f32x4.sub(apply(kind, xv, vs, mx, nmx, vM, vT, half, keep, sh, vf), xv);
    const lo = f64x2.promote_low_f32x4(d);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 0, 1));
    acc = f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
  }
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) {
    const xv = f32x4.splat(f32.load(x + (<usize>i << 2)));
    const d = <f64>f32x4.extract_lane(f32x4.sub(apply(kind, xv, vs, mx, nmx, vM, vT, half, keep, sh, vf), xv), 0);
    sum += d * d;
  }
  return sum;
}

/** Sum of squared quantization errors sum((q(x) - x)^2) without writing q: the inner loop of the MSE-optimal clip search. */
export function quant_sqerr_f32x4(x: usize, n: i32, kind: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): f64 {
  if (kind == KIND_INT) return sqerrLoop(KIND_INT, x, n, s, max, M, T, sh, flip);
  if (kind == KIND_FLOAT_MAGIC) return sqerrLoop(KIND_FLOAT_MAGIC, x, n, s, max, M, T, sh, flip);
  if (kind == KIND_BF16) return sqerrLoop(KIND_BF16, x, n, s, max, M, T, sh, flip);
  return sqerrLoop(KIND_FLOAT, x, n, s, max, M, T, sh, flip);
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
