// Fake-quantization kernels: INTk, one routine for every ExMy, and BF16.
//
// ExMy is "a uniform region near zero plus a floating region above it":
//   v = clamp(x * s, -max, max)
//   |v| <  T : round to a multiple of the fixed quantum 2^(Emin-y)  (magic add: (a + M) - M, M = quantum * 2^23)
//   |v| >= T : keep y mantissa bits, round to nearest even in the f32 bit pattern (shift sh = 23 - y)
//   out = q / s
// INTk is clamp, f32x4.nearest (round half to even), divide. BF16 rounds the f32 bit pattern to its top
// 16 bits. The TypeScript side derives (kind, max, M, T, sh, flip) once per Format (src/formats/params.ts)
// and hands them over in a quantizer block qp (inline/quant_params.ts), read once per call.
// The three share one loop skeleton (`apply` with a constant kind is folded at compile time). Tails are
// computed lane-by-lane with the same vector arithmetic, so every element is treated bit-identically.
// Clamping uses pmin/pmax (one x86 instruction each; wasm's min/max cost ~8): pmax(v, lo) and pmin(v, hi)
// return v when v is NaN, so NaN still flows through.

import { KIND_BF16, KIND_FLOAT, KIND_FLOAT_MAGIC, KIND_INT } from './inline/abi.generated';
import { apply, halfOf, keepOf } from './inline/quantize';
import { qpFlip, qpKind, qpM, qpMax, qpS, qpScales, qpSh, qpT } from './inline/quant_params';
import { hi64, lo64 } from './inline/simd';

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

/** Fake-quantize n floats at x into out (may alias x) with qp's format and tensor scale s. */
export function quant_f32x4(x: usize, out: usize, n: i32, qp: usize): void {
  quantRun(x, out, n, qpKind(qp), qpS(qp), qpMax(qp), qpM(qp), qpT(qp), qpSh(qp), qpFlip(qp));
}

function quantRun(x: usize, out: usize, n: i32, kind: i32, s: f32, max: f32, M: f32, T: f32, sh: i32, flip: i32): void {
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
 * Per-channel fake-quantize a tensor viewed as [outer, C, inner], channel c using scale qp.scales[c].
 * inner == 1 (channels last) vectorizes across channels; otherwise across each channel's run.
 */
export function quant_pc_f32x4(x: usize, out: usize, outer: i32, C: i32, inner: i32, qp: usize): void {
  const scales = qpScales(qp), kind = qpKind(qp), max = qpMax(qp), M = qpM(qp), T = qpT(qp), sh = qpSh(qp), flip = qpFlip(qp);
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
      quantRun(x + off, out + off, inner, kind, f32.load(scales + (<usize>c << 2)), max, M, T, sh, flip);
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
    const lo = lo64(d), hi = hi64(d);
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

/** Sum of squared quantization errors sum((q(x) - x)^2) with qp's format and scale s, without writing q: the inner loop of the MSE-optimal clip search. */
export function quant_sqerr_f32x4(x: usize, n: i32, qp: usize): f64 {
  const kind = qpKind(qp), s = qpS(qp), max = qpMax(qp), M = qpM(qp), T = qpT(qp), sh = qpSh(qp), flip = qpFlip(qp);
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
