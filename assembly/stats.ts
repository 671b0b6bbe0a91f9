// Tensor statistics for clip thresholds: absmax, sums for mean/std, histograms of |x|.
// Accumulation is in f64 so a 4M-element tensor's std is not dominated by f32 summation error.

import { hi64, hmax, lo64 } from './inline/simd';

/** max |x_i| over n floats; NaN entries are skipped (the TypeScript side rejects NaN data first). */
export function stats_absmax_f32x4(x: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let r = hmax(m);
  for (; i < n; i++) {
    const a = Mathf.abs(f32.load(x + (<usize>i << 2)));
    if (a > r) r = a;
  }
  return r;
}

/** Writes [sum x, sum x^2] (f64) to out. */
export function stats_sums_f32x4(x: usize, n: i32, out: usize): void {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), q0 = f64x2.splat(0), q1 = f64x2.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = lo64(v), hi = hi64(v);
    s0 = f64x2.add(s0, lo); s1 = f64x2.add(s1, hi);
    q0 = f64x2.add(q0, f64x2.mul(lo, lo)); q1 = f64x2.add(q1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(s0, s1), q = f64x2.add(q0, q1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  for (; i < n; i++) {
    const v = <f64>f32.load(x + (<usize>i << 2));
    sum += v; sq += v * v;
  }
  f64.store(out, sum);
  f64.store(out, sq, 8);
}

/**
 * Histogram of |x| into `bins` u32 counters over [0, hi]: bin = min(floor(|x| * bins / hi), bins - 1).
 * counts must hold bins zeroed u32s.
 */
export function stats_abshist_f32(x: usize, n: i32, hi: f32, bins: i32, counts: usize): void {
  const k = <f32>bins / hi;
  const last = bins - 1;
  for (let i = 0; i < n; i++) {
    let b = <i32>(Mathf.abs(f32.load(x + (<usize>i << 2))) * k);
    if (b > last) b = last;
    const p = counts + (<usize>b << 2);
    i32.store(p, i32.load(p) + 1);
  }
}

/** out[c] = max over rows of |x[r·C + c]| for a row-major [rows, C] tensor (per-output-channel weight clips). */
export function stats_absmax_lastaxis_f32x4(x: usize, rows: i32, C: i32, out: usize): void {
  const C4 = C & ~3;
  for (let c = 0; c < C; c++) f32.store(out + (<usize>c << 2), 0);
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>C) << 2);
    let c = 0;
    for (; c < C4; c += 4) {
      const o = out + (<usize>c << 2);
      v128.store(o, f32x4.pmax(v128.load(o), f32x4.abs(v128.load(row + (<usize>c << 2)))));
    }
    for (; c < C; c++) {
      const o = out + (<usize>c << 2);
      const a = Mathf.abs(f32.load(row + (<usize>c << 2)));
      if (a > f32.load(o)) f32.store(o, a);
    }
  }
}
