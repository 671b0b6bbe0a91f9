// Elementwise and normalization kernels: activations, adds, batch-norm, layer-norm, softmax,
// softmax + cross-entropy, GELU and a vectorized exp.
//
// Layout: row-major [rows, C] with C innermost (NHWC activations flattened to [N·H·W, C]), so SIMD
// lanes run over channels / the last dimension. Every kernel handles n (or C) not a multiple of 4
// exactly: the tail is computed element by element, with the same vector arithmetic where the
// result must be bit-identical (exp, GELU). Pointers are byte offsets; kernels never allocate —
// where a kernel needs per-channel coefficients the caller passes `scratch` (f32s, size stated).
// Outputs may alias same-shaped inputs (each element is read before it is written).

import { hi64, hmax, hsum, lo64, madd, pack32 } from './inline/simd';

const ZERO: v128 = f32x4.splat(0);
const ONE: v128 = f32x4.splat(1);

/**
 * exp on 4 lanes: n = round(x·log2 e), r = x − n·ln2 (Cody–Waite, two constants), Cephes degree-6
 * polynomial for e^r on [−ln2/2, ln2/2], then ·2^⌊n/2⌋·2^(n−⌊n/2⌋) so that results down in the
 * subnormal range and up to the overflow threshold are formed with one final rounding.
 * x is clamped to [−104, 89] first: below, the result is 0; above, +Inf. NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function expv(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-104.0)), f32x4.splat(89.0));
  const fn = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(fn, f32x4.splat(0.693359375))), f32x4.mul(fn, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(madd(p, f32x4.mul(r, r), r), ONE);
  const n = i32x4.trunc_sat_f32x4_s(fn);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

/** y[i] = exp(x[i]) (see expv for the method and range). */
export function exp_f32x4(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, expv(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(y + o, exp1(f32.load(x + o)));
  }
}

// ---------------------------------------------------------------------------------------------
// ReLU, ReLU6

/** y = max(x, 0). NaN propagates. */
export function relu_f32x4(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), ZERO));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(y + o, max<f32>(f32.load(x + o), 0));
  }
}

/** dx = x > 0 ? dy : 0 (derivative 0 at the kink x = 0). x may be ReLU's input or its output. */
export function relu_grad_f32x4(x: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), ZERO)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(dx + o, f32.load(x + o) > 0 ? f32.load(dy + o) : 0);
  }
}

/** y = min(max(x, 0), 6). */
export function relu6_f32x4(x: usize, y: usize, n: i32): void {
  const six = f32x4.splat(6);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.min(f32x4.max(v128.load(x + o), ZERO), six));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(y + o, min<f32>(max<f32>(f32.load(x + o), 0), 6));
  }
}

/** dx = 0 < x < 6 ? dy : 0 (derivative 0 at both kinks). x may be ReLU6's input or its output. */
export function relu6_grad_f32x4(x: usize, dy: usize, dx: usize, n: i32): void {
  const six = f32x4.splat(6);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    const m = v128.and(f32x4.gt(xv, ZERO), f32x4.lt(xv, six));
    v128.store(dx + o, v128.and(v128.load(dy + o), m));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xv = f32.load(x + o);
    f32.store(dx + o, xv > 0 && xv < 6 ? f32.load(dy + o) : 0);
  }
}

// ---------------------------------------------------------------------------------------------
// add, mul, scale, axpy, bias

/** out = a + b. */
export function add_f32x4(a: usize, b: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(out + o, f32.load(a + o) + f32.load(b + o));
  }
}

/** out = a · b elementwise. */
export function mul_f32x4(a: usize, b: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(out + o, f32.load(a + o) * f32.load(b + o));
  }
}

/** out = s · x. */
export function scale_f32x4(x: usize, out: usize, n: i32, s: f32): void {
  const vs = f32x4.splat(s);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), vs));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(out + o, f32.load(x + o) * s);
  }
}

/** y += a · x (fused multiply-add in the relaxed module). */
export function axpy_f32x4(x: usize, y: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd(va, v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(y + o, f32x4.extract_lane(madd(va, f32x4.splat(f32.load(x + o)), f32x4.splat(f32.load(y + o))), 0));
  }
}

/** out[r, c] = x[r, c] + bias[c] over [rows, C]. */
export function bias_add_f32x4(x: usize, bias: usize, out: usize, rows: i32, C: i32): void {
  const C4 = C & ~3;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>C << 2;
    let c = 0;
    for (; c < C4; c += 4) {
      const o = row + (<usize>c << 2);
      v128.store(out + o, f32x4.add(v128.load(x + o), v128.load(bias + (<usize>c << 2))));
    }
    for (; c < C; c++) {
      const o = row + (<usize>c << 2);
      f32.store(out + o, f32.load(x + o) + f32.load(bias + (<usize>c << 2)));
    }
  }
}

/** dbias[c] = Σ_r dy[r, c] (overwrites dbias), accumulated in f64 per channel. */
export function bias_grad_f32x4(dy: usize, dbias: usize, rows: i32, C: i32): void {
  const stride = <usize>C << 2;
  const C4 = C & ~3;
  let c = 0;
  for (; c < C4; c += 4) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    let p = dy + (<usize>c << 2);
    for (let r = 0; r < rows; r++, p += stride) {
      const v = v128.load(p);
      lo = f64x2.add(lo, lo64(v));
      hi = f64x2.add(hi, hi64(v));
    }
    v128.store(dbias + (<usize>c << 2), pack32(lo, hi));
  }
  for (; c < C; c++) {
    let s: f64 = 0;
    let p = dy + (<usize>c << 2);
    for (let r = 0; r < rows; r++, p += stride) s += <f64>f32.load(p);
    f32.store(dbias + (<usize>c << 2), <f32>s);
  }
}

// ---------------------------------------------------------------------------------------------
// Batch-norm over [rows = N·H·W, C]

/**
 * out[r, c] = (x[r, c] − center[c]) · k[c] + shift[c] over rows × C: the normalizing pass of batch-norm
 * (training: center = mean, k = invstd·gamma from batchnorm_stats_f32x4; inference: batchnorm_infer_f32x4).
 */
export function batchnorm_affine_f32x4(x: usize, out: usize, rows: i32, C: i32, center: usize, k: usize, shift: usize): void {
  const C4 = C & ~3;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>C << 2;
    let c = 0;
    for (; c < C4; c += 4) {
      const o = row + (<usize>c << 2), q = <usize>c << 2;
      const d = f32x4.sub(v128.load(x + o), v128.load(center + q));
      v128.store(out + o, madd(d, v128.load(k + q), v128.load(shift + q)));
    }
    for (; c < C; c++) {
      const o = row + (<usize>c << 2), q = <usize>c << 2;
      const d = f32x4.splat(f32.load(x + o) - f32.load(center + q));
      f32.store(out + o, f32x4.extract_lane(madd(d, f32x4.splat(f32.load(k + q)), f32x4.splat(f32.load(shift + q))), 0));
    }
  }
}

/**
 * The statistics of training-mode batch-norm over x [rows, ld], for the channels [0, C) of each row (all of
 * them when C = ld, a thread's slice otherwise; every per-channel array starts at the slice's first channel).
 * Per channel: mean, biased var = Σ(x − mean)²/rows (two passes, f64), invstd = 1/√(var + eps), and
 * k = invstd·gamma for the normalizing pass (batchnorm_affine_f32x4: y = (x − mean)·k + beta). When
 * update ≠ 0: runMean ← (1−m)·runMean + m·mean, runVar ← (1−m)·runVar + m·var·rows/(rows−1) (the unbiased
 * estimate, as PyTorch). rows ≥ 2.
 */
export function batchnorm_stats_f32x4(x: usize, rows: i32, C: i32, ld: i32, gamma: usize,
  mean: usize, invstd: usize, k: usize, runMean: usize, runVar: usize, momentum: f32, eps: f32, update: i32): void {
  const stride = <usize>ld << 2;
  const C4 = C & ~3;
  const inv: f64 = 1.0 / <f64>rows;
  const unbias: f64 = <f64>rows / <f64>(rows - 1);
  const m: f64 = <f64>momentum;
  let c = 0;
  for (; c < C4; c += 4) {
    const q = <usize>c << 2;
    let slo = f64x2.splat(0), shi = f64x2.splat(0);
    let p = x + q;
    for (let r = 0; r < rows; r++, p += stride) {
      const v = v128.load(p);
      slo = f64x2.add(slo, lo64(v));
      shi = f64x2.add(shi, hi64(v));
    }
    const vinv = f64x2.splat(inv);
    const mlo = f64x2.mul(slo, vinv), mhi = f64x2.mul(shi, vinv);
    let vlo = f64x2.splat(0), vhi = f64x2.splat(0);
    p = x + q;
    for (let r = 0; r < rows; r++, p += stride) {
      const v = v128.load(p);
      const dl = f64x2.sub(lo64(v), mlo), dh = f64x2.sub(hi64(v), mhi);
      vlo = f64x2.add(vlo, f64x2.mul(dl, dl));
      vhi = f64x2.add(vhi, f64x2.mul(dh, dh));
    }
    vlo = f64x2.mul(vlo, vinv);
    vhi = f64x2.mul(vhi, vinv);
    const veps = f64x2.splat(<f64>eps);
    const one = f64x2.splat(1);
    const ilo = f64x2.div(one, f64x2.sqrt(f64x2.add(vlo, veps)));
    const ihi = f64x2.div(one, f64x2.sqrt(f64x2.add(vhi, veps)));
    v128.store(mean + q, pack32(mlo, mhi));
    const is = pack32(ilo, ihi);
    v128.store(invstd + q, is);
    v128.store(k + q, f32x4.mul(is, v128.load(gamma + q)));
    if (update) {
      const vm = f64x2.splat(m), vk = f64x2.splat(1.0 - m), vu = f64x2.splat(m * unbias);
      const rm = v128.load(runMean + q), rv = v128.load(runVar + q);
      v128.store(runMean + q, pack32(
        f64x2.add(f64x2.mul(vk, lo64(rm)), f64x2.mul(vm, mlo)),
        f64x2.add(f64x2.mul(vk, hi64(rm)), f64x2.mul(vm, mhi))));
      v128.store(runVar + q, pack32(
        f64x2.add(f64x2.mul(vk, lo64(rv)), f64x2.mul(vu, vlo)),
        f64x2.add(f64x2.mul(vk, hi64(rv)), f64x2.mul(vu, vhi))));
    }
  }
  for (; c < C; c++) {
    const q = <usize>c << 2;
    let s: f64 = 0;
    let p = x + q;
    for (let r = 0; r < rows; r++, p += stride) s += <f64>f32.load(p);
    const mu = s * inv;
    let v: f64 = 0;
    p = x + q;
    for (let r = 0; r < rows; r++, p += stride) {
      const d = <f64>f32.load(p) - mu;
      v += d * d;
    }
    v *= inv;
    const is = <f32>(1.0 / Math.sqrt(v + <f64>eps));
    f32.store(mean + q, <f32>mu);
    f32.store(invstd + q, is);
    f32.store(k + q, is * f32.load(gamma + q));
    if (update) {
      f32.store(runMean + q, <f32>((1.0 - m) * <f64>f32.load(runMean + q) + m * mu));
      f32.store(runVar + q, <f32>((1.0 - m) * <f64>f32.load(runVar + q) + m * unbias * v));
    }
  }
}

/** Inference-mode batch-norm: y = (x − runMean)·gamma/√(runVar + eps) + beta. scratch: C f32s. */
export function batchnorm_infer_f32x4(x: usize, y: usize, rows: i32, C: i32, gamma: usize, beta: usize,
  runMean: usize, runVar: usize, eps: f32, scratch: usize): void {
  for (let c = 0; c < C; c++) {
    const q = <usize>c << 2;
    f32.store(scratch + q, <f32>(<f64>f32.load(gamma + q) / Math.sqrt(<f64>f32.load(runVar + q) + <f64>eps)));
  }
  batchnorm_affine_f32x4(x, y, rows, C, runMean, scratch, beta);
}

/**
 * Batch-norm backward, statistics: with the saved mean and invstd, per channel of the slice [0, C) of x and
 * dy [rows, ld] (as batchnorm_stats_f32x4): dbeta = Σ dy, dgamma = Σ dy·(x − mean)·invstd, and the
 * coefficients of dx = ka·(dy − dbeta/rows) + kb·(x − mean): ka = gamma·invstd, kb = −ka·invstd·dgamma/rows
 * (batchnorm_grad_apply_f32x4). Overwrites dgamma, dbeta, ka, kb.
 */
export function batchnorm_grad_stats_f32x4(x: usize, dy: usize, rows: i32, C: i32, ld: i32, gamma: usize,
  mean: usize, invstd: usize, dgamma: usize, dbeta: usize, ka: usize, kb: usize): void {
  const stride = <usize>ld << 2;
  const C4 = C & ~3;
  const inv: f64 = 1.0 / <f64>rows;
  let c = 0;
  for (; c < C4; c += 4) {
    const q = <usize>c << 2;
    const mu = v128.load(mean + q);
    let blo = f64x2.splat(0), bhi = f64x2.splat(0), glo = f64x2.splat(0), ghi = f64x2.splat(0);
    let p: usize = q;
    for (let r = 0; r < rows; r++, p += stride) {
      const g = v128.load(dy + p);
      const d = f32x4.sub(v128.load(x + p), mu);
      const gl = lo64(g), gh = hi64(g);
      blo = f64x2.add(blo, gl);
      bhi = f64x2.add(bhi, gh);
      glo = f64x2.add(glo, f64x2.mul(gl, lo64(d)));
      ghi = f64x2.add(ghi, f64x2.mul(gh, hi64(d)));
    }
    const is = v128.load(invstd + q);
    const ilo = lo64(is), ihi = hi64(is);
    const gam = v128.load(gamma + q);
    // dgamma = invstd·Σ dy·(x − mean)
    const dglo = f64x2.mul(glo, ilo), dghi = f64x2.mul(ghi, ihi);
    v128.store(dbeta + q, pack32(blo, bhi));
    v128.store(dgamma + q, pack32(dglo, dghi));
    const vinv = f64x2.splat(inv);
    const alo = f64x2.mul(lo64(gam), ilo), ahi = f64x2.mul(hi64(gam), ihi);
    const kblo = f64x2.neg(f64x2.mul(f64x2.mul(alo, ilo), f64x2.mul(dglo, vinv)));
    const kbhi = f64x2.neg(f64x2.mul(f64x2.mul(ahi, ihi), f64x2.mul(dghi, vinv)));
    v128.store(ka + q, pack32(alo, ahi));
    v128.store(kb + q, pack32(kblo, kbhi));
  }
  for (; c < C; c++) {
    const q = <usize>c << 2;
    const mu = f32.load(mean + q);
    let sb: f64 = 0, sg: f64 = 0;
    let p: usize = q;
    for (let r = 0; r < rows; r++, p += stride) {
      const g = <f64>f32.load(dy + p);
      sb += g;
      sg += g * <f64>(f32.load(x + p) - mu);
    }
    const is = <f64>f32.load(invstd + q);
    const dg = sg * is;
    f32.store(dbeta + q, <f32>sb);
    f32.store(dgamma + q, <f32>dg);
    const a = <f64>f32.load(gamma + q) * is;
    f32.store(ka + q, <f32>a);
    f32.store(kb + q, <f32>(-a * is * dg * inv));
  }
}

/**
 * Batch-norm backward, dx = ka·(dy − dbeta/count) + kb·(x − mean) over rows × C, from
 * batchnorm_grad_stats_f32x4's coefficients; count is the rows the statistics were taken over (rows may be
 * a thread's share of them). Overwrites dx.
 */
export function batchnorm_grad_apply_f32x4(x: usize, dy: usize, dx: usize, rows: i32, C: i32, count: i32,
  mean: usize, dbeta: usize, ka: usize, kb: usize): void {
  const stride = <usize>C << 2;
  const C4 = C & ~3;
  const inv: f64 = 1.0 / <f64>count;
  let c = 0;
  const vrows = f32x4.splat(<f32>inv);
  const srows = <f32>inv;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * stride;
    c = 0;
    for (; c < C4; c += 4) {
      const o = row + (<usize>c << 2), q = <usize>c << 2;
      const g = f32x4.sub(v128.load(dy + o), f32x4.mul(v128.load(dbeta + q), vrows));
      const d = f32x4.sub(v128.load(x + o), v128.load(mean + q));
      v128.store(dx + o, madd(v128.load(ka + q), g, f32x4.mul(v128.load(kb + q), d)));
    }
    for (; c < C; c++) {
      const o = row + (<usize>c << 2), q = <usize>c << 2;
      const g = f32x4.splat(f32.load(dy + o) - f32.load(dbeta + q) * srows);
      const d = f32x4.splat(f32.load(x + o) - f32.load(mean + q));
      f32.store(dx + o, f32x4.extract_lane(madd(f32x4.splat(f32.load(ka + q)), g, f32x4.mul(f32x4.splat(f32.load(kb + q)), d)), 0));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Row softmax, softmax + cross-entropy, accuracy

/** Row max of K floats at p. */
// @ts-ignore: decorator
@inline function rowMax(p: usize, K: i32): f32 {
  const K4 = K & ~3;
  let k = 0;
  let mx: f32 = -Infinity;
  if (K4 > 0) {
    let vm = v128.load(p);
    for (k = 4; k < K4; k += 4) vm = f32x4.max(vm, v128.load(p + (<usize>k << 2)));
    mx = hmax(vm);
  }
  for (; k < K; k++) mx = max(mx, f32.load(p + (<usize>k << 2)));
  return mx;
}

/** out = exp(x − mx) over K floats; returns Σ out. */
// @ts-ignore: decorator
@inline function rowExpSum(x: usize, out: usize, K: i32, mx: f32): f32 {
  const K4 = K & ~3;
  const vm = f32x4.splat(mx);
  let acc = ZERO;
  let k = 0;
  for (; k < K4; k += 4) {
    const o = <usize>k << 2;
    const e = expv(f32x4.sub(v128.load(x + o), vm));
    v128.store(out + o, e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const e = exp1(f32.load(x + o) - mx);
    f32.store(out + o, e);
    s += e;
  }
  return s;
}

/** y row r = softmax(x row r) over [rows, K] (max-subtracted). */
export function softmax_rows_f32x4(x: usize, y: usize, rows: i32, K: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>K << 2;
    const s = rowExpSum(x + o, y + o, K, rowMax(x + o, K));
    scale_f32x4(y + o, y + o, K, <f32>1 / s);
  }
}

/** dx = y ⊙ (dy − Σ_k dy·y) per row, with y the softmax output. */
export function softmax_rows_grad_f32x4(y: usize, dy: usize, dx: usize, rows: i32, K: i32): void {
  const K4 = K & ~3;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>K << 2;
    let acc = ZERO;
    let k = 0;
    for (; k < K4; k += 4) {
      const o = row + (<usize>k << 2);
      acc = madd(v128.load(dy + o), v128.load(y + o), acc);
    }
    let dot = hsum(acc);
    for (; k < K; k++) {
      const o = row + (<usize>k << 2);
      dot += f32.load(dy + o) * f32.load(y + o);
    }
    const vd = f32x4.splat(dot);
    for (k = 0; k < K4; k += 4) {
      const o = row + (<usize>k << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), vd)));
    }
    for (; k < K; k++) {
      const o = row + (<usize>k << 2);
      f32.store(dx + o, f32.load(y + o) * (f32.load(dy + o) - dot));
    }
  }
}

/**
 * Softmax + cross-entropy with label smoothing ε over [B, K] logits and i32 labels. Writes the
 * probabilities and returns the mean loss −(1/B) Σ_b Σ_k q_bk·log p_bk with q = (1−ε)·onehot + ε/K,
 * computed as (1−ε)(log s − (x_l − m)) + ε(log s − mean_k(x_k − m)), m the row max, s = Σ exp(x − m).
 */
export function softmax_ce_f32x4(logits: usize, labels: usize, probs: usize, B: i32, K: i32, eps: f32): f64 {
  const K4 = K & ~3;
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const row = <usize>b * <usize>K << 2;
    const x = logits + row;
    const mx = rowMax(x, K);
    const s = rowExpSum(x, probs + row, K, mx);
    scale_f32x4(probs + row, probs + row, K, <f32>1 / s);
    // Σ (x − m): every term ≤ 0, no cancellation.
    const vm = f32x4.splat(mx);
    let acc = ZERO;
    let k = 0;
    for (; k < K4; k += 4) acc = f32x4.add(acc, f32x4.sub(v128.load(x + (<usize>k << 2)), vm));
    let sd: f64 = <f64>hsum(acc);
    for (; k < K; k++) sd += <f64>(f32.load(x + (<usize>k << 2)) - mx);
    const ls = Math.log(<f64>s);
    const lab = load<i32>(labels + (<usize>b << 2));
    const xl = <f64>(f32.load(x + (<usize>lab << 2)) - mx);
    total += (1.0 - <f64>eps) * (ls - xl) + <f64>eps * (ls - sd / <f64>K);
  }
  return total / <f64>B;
}

/** dlogits = g·(p − (1−ε)·onehot − ε/K)/B: the gradient of g·(mean loss) from softmax_ce_f32x4. */
export function softmax_ce_grad_f32x4(probs: usize, labels: usize, dlogits: usize, B: i32, K: i32, eps: f32, g: f32): void {
  const K4 = K & ~3;
  const sc: f32 = g / <f32>B;
  const vs = f32x4.splat(sc);
  const off = f32x4.splat(eps / <f32>K);
  const offs: f32 = eps / <f32>K;
  for (let b = 0; b < B; b++) {
    const row = <usize>b * <usize>K << 2;
    let k = 0;
    for (; k < K4; k += 4) {
      const o = row + (<usize>k << 2);
      v128.store(dlogits + o, f32x4.mul(f32x4.sub(v128.load(probs + o), off), vs));
    }
    for (; k < K; k++) {
      const o = row + (<usize>k << 2);
      f32.store(dlogits + o, (f32.load(probs + o) - offs) * sc);
    }
    const lab = load<i32>(labels + (<usize>b << 2));
    const o = row + (<usize>lab << 2);
    f32.store(dlogits + o, (f32.load(probs + o) - offs - (<f32>1 - eps)) * sc);
  }
}

/** Number of rows whose argmax (first maximum) equals the label. */
export function accuracy_count_f32(logits: usize, labels: usize, B: i32, K: i32): i32 {
  let hits = 0;
  for (let b = 0; b < B; b++) {
    const row = logits + (<usize>b * <usize>K << 2);
    let best = 0;
    let bv = f32.load(row);
    for (let k = 1; k < K; k++) {
      const v = f32.load(row + (<usize>k << 2));
      if (v > bv) { bv = v; best = k; }
    }
    if (best == load<i32>(labels + (<usize>b << 2))) hits++;
  }
  return hits;
}

// ---------------------------------------------------------------------------------------------
// Layer-norm over the last dim

/**
 * Per row of [rows, D]: mean, var = Σ(x − mean)²/D (two passes), invstd = 1/√(var + eps),
 * y = (x − mean)·invstd·gamma + beta. Writes mean[rows] and invstd[rows].
 */
export function layernorm_f32x4(x: usize, y: usize, rows: i32, D: i32, gamma: usize, beta: usize,
  mean: usize, invstd: usize, eps: f32): void {
  const D4 = D & ~3;
  const invD: f32 = <f32>1 / <f32>D;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>D << 2;
    const xp = x + row, yp = y + row;
    let acc = ZERO;
    let k = 0;
    for (; k < D4; k += 4) acc = f32x4.add(acc, v128.load(xp + (<usize>k << 2)));
    let s = hsum(acc);
    for (; k < D; k++) s += f32.load(xp + (<usize>k << 2));
    const mu = s * invD;
    const vm = f32x4.splat(mu);
    acc = ZERO;
    for (k = 0; k < D4; k += 4) {
      const d = f32x4.sub(v128.load(xp + (<usize>k << 2)), vm);
      acc = madd(d, d, acc);
    }
    let v = hsum(acc);
    for (; k < D; k++) {
      const d = f32.load(xp + (<usize>k << 2)) - mu;
      v += d * d;
    }
    const is = <f32>(1.0 / Math.sqrt(<f64>(v * invD) + <f64>eps));
    f32.store(mean + (<usize>r << 2), mu);
    f32.store(invstd + (<usize>r << 2), is);
    const vi = f32x4.splat(is);
    for (k = 0; k < D4; k += 4) {
      const o = <usize>k << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vi);
      v128.store(yp + o, madd(xh, v128.load(gamma + o), v128.load(beta + o)));
    }
    for (; k < D; k++) {
      const o = <usize>k << 2;
      const xh = f32x4.splat((f32.load(xp + o) - mu) * is);
      f32.store(yp + o, f32x4.extract_lane(madd(xh, f32x4.splat(f32.load(gamma + o)), f32x4.splat(f32.load(beta + o))), 0));
    }
  }
}

/**
 * Layer-norm backward with saved mean/invstd: g = dy·gamma, xhat = (x − mean)·invstd,
 * dx = invstd·(g − mean(g) − xhat·mean(g·xhat)); dgamma = Σ_rows dy·xhat, dbeta = Σ_rows dy
 * (overwritten, accumulated in f32 row by row).
 */
export function layernorm_grad_f32x4(x: usize, dy: usize, dx: usize, rows: i32, D: i32, gamma: usize,
  mean: usize, invstd: usize, dgamma: usize, dbeta: usize): void {
  const D4 = D & ~3;
  const invD: f32 = <f32>1 / <f32>D;
  memory.fill(dgamma, 0, <usize>D << 2);
  memory.fill(dbeta, 0, <usize>D << 2);
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>D << 2;
    const xp = x + row, gp = dy + row, op = dx + row;
    const mu = f32.load(mean + (<usize>r << 2)), is = f32.load(invstd + (<usize>r << 2));
    const vm = f32x4.splat(mu), vi = f32x4.splat(is);
    let a1 = ZERO, a2 = ZERO;
    let k = 0;
    for (; k < D4; k += 4) {
      const o = <usize>k << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vi);
      const d = v128.load(gp + o);
      const g = f32x4.mul(d, v128.load(gamma + o));
      a1 = f32x4.add(a1, g);
      a2 = madd(g, xh, a2);
      v128.store(dgamma + o, madd(d, xh, v128.load(dgamma + o)));
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), d));
    }
    let s1 = hsum(a1), s2 = hsum(a2);
    for (; k < D; k++) {
      const o = <usize>k << 2;
      const xh = (f32.load(xp + o) - mu) * is;
      const d = f32.load(gp + o);
      const g = d * f32.load(gamma + o);
      s1 += g;
      s2 += g * xh;
      f32.store(dgamma + o, f32.load(dgamma + o) + d * xh);
      f32.store(dbeta + o, f32.load(dbeta + o) + d);
    }
    const m1 = f32x4.splat(s1 * invD), m2 = f32x4.splat(s2 * invD);
    const sm1 = s1 * invD, sm2 = s2 * invD;
    for (k = 0; k < D4; k += 4) {
      const o = <usize>k << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vi);
      const g = f32x4.mul(v128.load(gp + o), v128.load(gamma + o));
      v128.store(op + o, f32x4.mul(vi, f32x4.sub(f32x4.sub(g, m1), f32x4.mul(xh, m2))));
    }
    for (; k < D; k++) {
      const o = <usize>k << 2;
      const xh = (f32.load(xp + o) - mu) * is;
      const g = f32.load(gp + o) * f32.load(gamma + o);
      f32.store(op + o, is * ((g - sm1) - xh * sm2));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) = x·σ(z), z = x·(A + B·x²),
// A = 2√(2/π), B = 2√(2/π)·0.044715, since 0.5·(1 + tanh(u)) = σ(2u). No tanh needed, no cancellation.

// @ts-ignore: decorator
@inline function geluSig(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const z = f32x4.mul(x, madd(x2, f32x4.splat(0.0713548162726), f32x4.splat(1.5957691216057308)));
  return f32x4.div(ONE, f32x4.add(ONE, expv(f32x4.neg(z))));
}

// @ts-ignore: decorator
@inline function geluv(x: v128): v128 {
  return f32x4.mul(x, geluSig(x));
}

// @ts-ignore: decorator
@inline function geluGradv(x: v128, dy: v128): v128 {
  const s = geluSig(x);
  const dz = madd(f32x4.mul(x, x), f32x4.splat(0.2140644488178), f32x4.splat(1.5957691216057308));
  const t = f32x4.mul(f32x4.mul(x, f32x4.mul(s, f32x4.sub(ONE, s))), dz);
  return f32x4.mul(dy, f32x4.add(s, t));
}

/** y = GELU(x), tanh approximation (see above). */
export function gelu_tanh_f32x4(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, geluv(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(y + o, f32x4.extract_lane(geluv(f32x4.splat(f32.load(x + o))), 0));
  }
}

/** dx = dy · GELU'(x) = dy·(σ(z) + x·σ(z)(1 − σ(z))·(A + 3B·x²)). */
export function gelu_tanh_grad_f32x4(x: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, geluGradv(v128.load(x + o), v128.load(dy + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    f32.store(dx + o, f32x4.extract_lane(geluGradv(f32x4.splat(f32.load(x + o)), f32x4.splat(f32.load(dy + o))), 0));
  }
}
