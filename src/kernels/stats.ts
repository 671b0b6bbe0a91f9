// Tensor statistics and the clip thresholds drawn from them, computed in wasm: absmax, mean/std,
// per-channel absmax, percentile of |x| (histogram), and the MSE-optimal clip of a format (a search over
// candidate clips minimising the quantization MSE). The best clip depends on the format, hence one clip
// per (layer, format).

import { FliqsError, describe, requireObject, requireString } from '../core/errors.js';
import { resident } from '../core/operands.js';
import { runtime, WasmF32 } from '../core/runtime.js';
import { requireF32 } from '../formats/checks.js';
import { parseFormat, type Format } from '../formats/format.js';
import { kernelParams, scaleOf } from '../formats/params.js';
import { quantParams } from './blocks.js';

export interface TensorStats {
  count: number;
  absmax: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
}

function withData<T>(x: Float32Array, input: string, fn: (ptr: number) => T): T {
  requireString('input', input);
  requireF32(input, x);
  if (x.length === 0) throw new FliqsError(input, 'is empty', 'a Float32Array with at least one element');
  const [p, release] = resident(runtime, x);
  try {
    return fn(p);
  } finally {
    release();
  }
}

function rejectNonFinite(ptr: number, n: number, input: string): never {
  const x = runtime.f32.subarray(ptr >>> 2, (ptr >>> 2) + n);
  const i = x.findIndex((v) => !Number.isFinite(v));
  throw new FliqsError(input, `element ${i} is ${x[i]}`, 'finite values only (statistics of NaN/Infinity data are meaningless)');
}

/** Statistics of n floats at ptr. */
function statsAt(ptr: number, n: number, input: string): TensorStats {
  const [sum, sq] = sums(new WasmF32(runtime, ptr, n));
  if (!Number.isFinite(sum) || !Number.isFinite(sq)) rejectNonFinite(ptr, n, input);
  const mean = sum / n;
  return { count: n, absmax: runtime.kernels.stats_absmax_f32x4(ptr, n), mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}

/**
 * absmax, mean and standard deviation of x (f64 accumulation).
 * @example
 * tensorStats(new Float32Array([1, -3, 2])) // { count: 3, absmax: 3, mean: 0, std: 2.16… }
 */
export function tensorStats(x: Float32Array, input = 'x'): TensorStats {
  return withData(x, input, (p) => statsAt(p, x.length, input));
}

/** Histogram bins used for percentiles. */
const BINS = 8192;

/**
 * The p-th percentile of |x| (0 < p ≤ 100), interpolated inside an 8192-bin histogram over [0, absmax].
 * @example
 * percentileClip(x, 99.9) // clips the top 0.1% of magnitudes
 */
export function percentileClip(x: Float32Array, p: number, input = 'x'): number {
  if (typeof p !== 'number' || !(p > 0 && p <= 100)) throw new FliqsError('percentile', `got ${describe(p)}`, 'a number in (0, 100]');
  return withData(x, input, (ptr) => {
    const n = x.length;
    const st = statsAt(ptr, n, input);
    if (st.absmax === 0) return 0;
    const rt = runtime;
    const h = rt.arena.alloc(BINS * 4);
    rt.u32.fill(0, h >>> 2, (h >>> 2) + BINS);
    rt.kernels.stats_abshist_f32(ptr, n, st.absmax, BINS, h);
    const counts = rt.u32.slice(h >>> 2, (h >>> 2) + BINS);
    rt.arena.free(h);
    const want = (p / 100) * n;
    let acc = 0;
    for (let b = 0; b < BINS; b++) {
      const c = counts[b]!;
      if (acc + c >= want) return (st.absmax * (b + (c > 0 ? (want - acc) / c : 1))) / BINS;
      acc += c;
    }
    return st.absmax;
  });
}

export interface MseClip {
  /** The clip with the smallest quantization MSE found. */
  clip: number;
  /** Its mean squared quantization error. */
  mse: number;
  /** clip / std of x. */
  stdMultiple: number;
  /** clip / absmax of x. */
  absmaxFraction: number;
}

export interface MseClipOptions {
  /** Candidate clips on the coarse grid, as fractions of absmax from 1/candidates to 1 (default 100). */
  candidates?: number;
  /** Extra candidates on a fine grid around the best coarse one (default 40). */
  refine?: number;
}

/**
 * The clip minimising mean((quantize(x, format, clip) − x)²): a coarse sweep over fractions of absmax,
 * then a fine sweep between the best candidate's neighbours. Formats that ignore the clip return absmax.
 * @example
 * mseOptimalClip(gaussian, 'INT4').stdMultiple // ≈ 2.5 for N(0, 1) data
 */
export function mseOptimalClip(x: Float32Array, format: Format | string, options: MseClipOptions = {}, input = 'x'): MseClip {
  const f = parseFormat(format);
  requireObject('options', options, '{ candidates?, refine? }');
  const coarse = options.candidates ?? 100;
  const fine = options.refine ?? 40;
  if (!Number.isInteger(coarse) || coarse < 2 || coarse > 2 ** 20) throw new FliqsError('candidates', `got ${describe(coarse)}`, 'an integer from 2 to 2^20');
  if (!Number.isInteger(fine) || fine < 0 || fine > 2 ** 20) throw new FliqsError('refine', `got ${describe(fine)}`, 'an integer from 0 to 2^20');
  const k = kernelParams(f);
  return withData(x, input, (ptr) => {
    const n = x.length;
    const st = statsAt(ptr, n, input);
    const result = (clip: number, mse: number): MseClip =>
      ({ clip, mse, stdMultiple: st.std > 0 ? clip / st.std : Infinity, absmaxFraction: st.absmax > 0 ? clip / st.absmax : 1 });
    if (st.absmax === 0) return result(f.ignoresClip ? 1 : f.maxValue, 0);
    const mseAt = (clip: number): number =>
      f.kind === 'fp32' ? 0 : runtime.kernels.quant_sqerr_f32x4(ptr, n, quantParams(runtime, k, scaleOf(f, clip))) / n;
    if (f.ignoresClip) return result(st.absmax, mseAt(st.absmax));
    let best = st.absmax, bestMse = Infinity, bestI = coarse;
    for (let i = 1; i <= coarse; i++) {
      const c = (st.absmax * i) / coarse;
      const m = mseAt(c);
      if (m < bestMse) { bestMse = m; best = c; bestI = i; }
    }
    const lo = (st.absmax * (bestI - 1)) / coarse, hi = (st.absmax * Math.min(coarse, bestI + 1)) / coarse;
    for (let j = 1; j < fine; j++) {
      const c = lo + ((hi - lo) * j) / fine;
      if (c <= 0) continue;
      const m = mseAt(c);
      if (m < bestMse) { bestMse = m; best = c; }
    }
    return result(best, bestMse);
  });
}

/** Σx and Σx² (f64 accumulation) of a resident buffer. */
export function sums(x: WasmF32, n = x.length): [sum: number, sumSq: number] {
  const rt = x.runtime, out = rt.arena.alloc(16);
  rt.kernels.stats_sums_f32x4(x.ptr, n, out);
  const r: [number, number] = [rt.f64[out >>> 3]!, rt.f64[(out >>> 3) + 1]!];
  rt.arena.free(out);
  return r;
}

/** max |x| of each channel of the last axis of a resident [rows, C] buffer. */
export function absmaxLastAxis(x: WasmF32, rows: number, C: number): Float32Array {
  const rt = x.runtime, buf = rt.allocF32(C);
  try {
    rt.kernels.stats_absmax_lastaxis_f32x4(x.ptr, rows, C, buf.ptr);
    return buf.array.slice();
  } finally {
    buf.free();
  }
}
