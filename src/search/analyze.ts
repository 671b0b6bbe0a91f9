// The paper's §4 analysis on synthetic tensors (Appendix A.8): the switching error between formats
// at a fixed clip σ_T (Eq. 5), its exponential fit A·e^(−Bx)+C against the lower bit-width, and the
// clipping analysis (the MSE-optimal clip per format as a percentile and as a std multiple). Also the
// per-format std multiples k_f the search uses by default for activation clips (clip_f = k_f·std).
// Browser-safe: no Node built-ins.

import { FliqsError, describe, requireInt } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { mseOptimalClip, percentileClip, tensorStats } from '../kernels/stats.js';
import type { Format } from '../formats/format.js';
import { parseSearchSpace } from '../formats/presets.js';
import { quantize } from '../kernels/quant.js';

export type Distribution = 'gaussian' | 'laplace';

/** Default outlier rate: one outlier per this many elements (the paper sweeps 1:10 … 1:10000). */
export const DEFAULT_OUTLIER_RATE = 1000;
/** Default σ_T for the switching error, as a multiple of the tensor's std. */
export const DEFAULT_SIGMA_T = 4;

export interface TensorSpec {
  /** Base distribution, scaled to unit std (default 'gaussian'). */
  dist?: Distribution;
  /** Elements per tensor (default 4096). */
  n?: number;
  /** One outlier per `outlierRate` elements on average (Bernoulli per element); 0 = none. Default 1000. */
  outlierRate?: number;
}

export interface SyntheticTensor {
  x: Float32Array;
  /** How many elements were replaced by outliers. */
  outliers: number;
  /** max |x| of the tensor before outliers were injected; outliers are ±3× this. */
  baseAbsmax: number;
}

function spec(s: TensorSpec): Required<TensorSpec> {
  if (s === null || typeof s !== 'object') throw new FliqsError('options', `got ${describe(s)}`, 'an options object (or nothing for the defaults)');
  const dist = s.dist ?? 'gaussian';
  if (dist !== 'gaussian' && dist !== 'laplace') throw new FliqsError('dist', `got ${describe(dist)}`, "'gaussian' or 'laplace'");
  const n = requireInt('n', s.n ?? 4096, 1, 1 << 24);
  const outlierRate = s.outlierRate ?? DEFAULT_OUTLIER_RATE;
  if (typeof outlierRate !== 'number' || !(outlierRate === 0 || (Number.isFinite(outlierRate) && outlierRate >= 1))) {
    throw new FliqsError('outlierRate', `got ${describe(outlierRate)}`, 'a number ≥ 1 (one outlier per that many elements), or 0 for none');
  }
  return { dist, n, outlierRate };
}

/**
 * A Gaussian or Laplacian tensor of unit std with outliers at ±3× its max |value| injected at random
 * positions, each element independently with probability 1/outlierRate (Appendix A.8).
 * @example
 * const { x, outliers } = syntheticTensor(new Rng(0), { dist: 'laplace', n: 4096, outlierRate: 100 }); // outliers ≈ 41
 */
export function syntheticTensor(rng: Rng, s: TensorSpec = {}): SyntheticTensor {
  const { dist, n, outlierRate } = spec(s);
  const x = new Float32Array(n);
  if (dist === 'gaussian') for (let i = 0; i < n; i++) x[i] = rng.normal();
  else for (let i = 0; i < n; i++) x[i] = rng.laplace() * Math.SQRT1_2; // Laplace(b) has std b·√2
  let baseAbsmax = 0;
  for (let i = 0; i < n; i++) baseAbsmax = Math.max(baseAbsmax, Math.abs(x[i]!));
  let outliers = 0;
  if (outlierRate > 0) {
    const p = 1 / outlierRate;
    for (let i = 0; i < n; i++) {
      if (rng.uniform() < p) { x[i] = (rng.uniform() < 0.5 ? -3 : 3) * baseAbsmax; outliers++; }
    }
  }
  return { x, outliers, baseAbsmax };
}

/**
 * Parses an outlier rate `1:100`, `100`, `none` or `0` into "one per N elements" (0 = none).
 * @example
 * parseOutlierRate('1:1000') // 1000
 */
export function parseOutlierRate(s: string): number {
  const t = String(s).trim().toLowerCase();
  if (t === 'none' || t === '0') return 0;
  const m = /^(?:1:)?(\d+(?:\.\d+)?(?:e\d+)?)$/.exec(t);
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= 1) || !Number.isFinite(v)) throw new FliqsError('outliers', `got ${describe(s)}`, "a rate like '1:100' (1:1 … 1:1e9), or 'none'");
  return v;
}

/** Root-mean-square difference of two equal-length arrays. */
export function rmsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i]! - b[i]!; s += d * d; }
  return Math.sqrt(s / a.length);
}

export interface ExpFit {
  a: number;
  b: number;
  c: number;
  /** RMS residual of the fit. */
  rmse: number;
}

/** Least squares for y ≈ A·e^(−Bx) + C at a fixed B: returns A, C and the sum of squared residuals. */
function linearFit(xs: readonly number[], ys: readonly number[], b: number): [number, number, number] {
  let su = 0, suu = 0, sy = 0, suy = 0;
  const n = xs.length;
  for (let i = 0; i < n; i++) { const u = Math.exp(-b * xs[i]!); su += u; suu += u * u; sy += ys[i]!; suy += u * ys[i]!; }
  const det = n * suu - su * su;
  const a = det !== 0 ? (n * suy - su * sy) / det : 0;
  const c = (sy - a * su) / n;
  let r = 0;
  for (let i = 0; i < n; i++) r += (a * Math.exp(-b * xs[i]!) + c - ys[i]!) ** 2;
  return [a, c, r];
}

/**
 * Least-squares fit of y ≈ A·e^(−Bx) + C with B > 0: a log-spaced grid over B with A, C solved
 * linearly at each B, then a golden-section refinement of B around the best grid point.
 * @example
 * expFit([2, 4, 6, 8], [1.2 * Math.exp(-1) + 0.1, 1.2 * Math.exp(-2) + 0.1, 1.2 * Math.exp(-3) + 0.1, 1.2 * Math.exp(-4) + 0.1])
 * // { a: 1.2, b: 0.5, c: 0.1, rmse: ≈0 }
 */
export function expFit(xs: readonly number[], ys: readonly number[]): ExpFit {
  if (!Array.isArray(xs) || !Array.isArray(ys) || xs.length !== ys.length) {
    throw new FliqsError('points', `got ${describe(xs)} x and ${describe(ys)} y`, 'two arrays of the same length');
  }
  [...xs, ...ys].forEach((v, i) => { if (!Number.isFinite(v)) throw new FliqsError('points', `value ${i} is ${describe(v)}`, 'finite numbers'); });
  const distinct = new Set(xs).size;
  if (distinct < 3) throw new FliqsError('points', `have ${distinct} distinct x values`, 'at least 3 distinct x values for 3 parameters');
  const span = Math.max(...xs) - Math.min(...xs);
  const bLo = 1e-3 / span, bHi = 50 / span, steps = 400;
  let best = bLo, bestR = Infinity, bestI = 0;
  for (let i = 0; i <= steps; i++) {
    const b = bLo * (bHi / bLo) ** (i / steps);
    const r = linearFit(xs, ys, b)[2];
    if (r < bestR) { bestR = r; best = b; bestI = i; }
  }
  // golden section on log B between the neighbouring grid points
  let lo = Math.log(bLo * (bHi / bLo) ** (Math.max(0, bestI - 1) / steps));
  let hi = Math.log(bLo * (bHi / bLo) ** (Math.min(steps, bestI + 1) / steps));
  const g = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 80; it++) {
    const m1 = hi - g * (hi - lo), m2 = lo + g * (hi - lo);
    if (linearFit(xs, ys, Math.exp(m1))[2] < linearFit(xs, ys, Math.exp(m2))[2]) hi = m2; else lo = m1;
  }
  const bRef = Math.exp((lo + hi) / 2);
  if (linearFit(xs, ys, bRef)[2] <= bestR) best = bRef;
  const [a, c, r] = linearFit(xs, ys, best);
  return { a, b: best, c, rmse: Math.sqrt(r / xs.length) };
}

export interface Progress {
  (stage: string, done: number, total: number): void;
}

export interface SwitchingOptions extends TensorSpec {
  /** Tensors averaged over (default 1000, the paper's). */
  tensors?: number;
  seed?: number;
  /** σ_T, the fixed clip both formats share: a multiple of the tensor's std (default 4), or 'absmax'. */
  sigmaT?: number | 'absmax';
  onProgress?: Progress;
}

export interface SwitchingPoint {
  a: string;
  b: string;
  /** The smaller bit-width of the pair (the x of Fig. 4(a)). */
  lowerBits: number;
  error: number;
}

export interface SwitchingResult {
  formats: string[];
  bits: number[];
  /** matrix[i][j]: mean over tensors of RMS(quantize(x; f_j, σ_T) − quantize(x; f_i, σ_T)). */
  matrix: number[][];
  /** How σ_T was chosen, e.g. '4·std'. */
  sigmaT: string;
  /** One point per pair of distinct formats that both use σ_T (Eq. 5 compares quantizers sharing a
   *  clip; pairs with BF16/FP32 stay in the matrix but mix in the clipping error, so they are left out). */
  points: SwitchingPoint[];
  /** A·e^(−B·lowerBits)+C over the points; null when they have fewer than 3 distinct bit-widths. */
  fit: ExpFit | null;
  tensors: number;
}

function space(s: string | readonly (string | Format)[] | Format[]): Format[] {
  return parseSearchSpace(s as string | readonly (string | Format)[]);
}

function sigmaTOf(x: Float32Array, sigmaT: number | 'absmax'): number {
  const st = tensorStats(x);
  const c = sigmaT === 'absmax' ? st.absmax : sigmaT * st.std;
  return c > 0 ? c : 1;
}

/**
 * The switching error (Eq. 5) between every pair of formats of a space, at a fixed σ_T per tensor
 * shared by both formats, as the RMS of the difference averaged over `tensors` synthetic tensors.
 * @example
 * const r = switchingError('int-l', { tensors: 20 });
 * r.matrix[0][4] // INT4 ↔ INT8, ≈ 0.18 for unit-std Gaussian data, 1:1000 outliers, σ_T = 4·std
 */
export function switchingError(formats: string | readonly (string | Format)[], opts: SwitchingOptions = {}): SwitchingResult {
  const fs = space(formats);
  const s = spec(opts);
  const tensors = requireInt('tensors', opts.tensors ?? 1000, 1);
  const sigmaT = opts.sigmaT ?? DEFAULT_SIGMA_T;
  if (sigmaT !== 'absmax' && !(typeof sigmaT === 'number' && Number.isFinite(sigmaT) && sigmaT > 0)) {
    throw new FliqsError('sigmaT', `got ${describe(sigmaT)}`, "a std multiple > 0, or 'absmax'");
  }
  const rng = new Rng(requireInt('seed', opts.seed ?? 0, 0, 2 ** 32 - 1));
  const F = fs.length;
  const sum = Array.from({ length: F }, () => new Float64Array(F));
  const q = fs.map(() => new Float32Array(s.n));
  for (let t = 0; t < tensors; t++) {
    const { x } = syntheticTensor(rng, s);
    const clip = sigmaTOf(x, sigmaT);
    fs.forEach((f, i) => quantize(x, f, f.ignoresClip ? undefined : clip, q[i]));
    for (let i = 0; i < F; i++) for (let j = i + 1; j < F; j++) sum[i]![j]! += rmsDiff(q[i]!, q[j]!);
    if (opts.onProgress && ((t + 1) % 50 === 0 || t + 1 === tensors)) opts.onProgress('switching', t + 1, tensors);
  }
  const matrix = fs.map((_, i) => fs.map((__, j) => (i === j ? 0 : (i < j ? sum[i]![j]! : sum[j]![i]!) / tensors)));
  const points: SwitchingPoint[] = [];
  for (let i = 0; i < F; i++) {
    for (let j = i + 1; j < F; j++) {
      if (fs[i]!.ignoresClip || fs[j]!.ignoresClip) continue;
      points.push({ a: fs[i]!.name, b: fs[j]!.name, lowerBits: Math.min(fs[i]!.bits, fs[j]!.bits), error: matrix[i]![j]! });
    }
  }
  const xs = points.map((p) => p.lowerBits), ys = points.map((p) => p.error);
  const fit = new Set(xs).size >= 3 ? expFit(xs, ys) : null;
  return { formats: fs.map((f) => f.name), bits: fs.map((f) => f.bits), matrix, sigmaT: sigmaT === 'absmax' ? 'absmax' : `${sigmaT}·std`,
    points, fit, tensors };
}

/** The paper's percentile grid: 1, 2, …, 100. */
export const PAPER_PERCENTILES: readonly number[] = Array.from({ length: 100 }, (_, i) => i + 1);
/** A tail grid: 100 − 10^(1 − 3i/99) for i = 0…99 (90 … 99.99, log-spaced toward 100) and 100 itself. */
export const TAIL_PERCENTILES: readonly number[] = [...Array.from({ length: 100 }, (_, i) => 100 - 10 ** (1 - (3 * i) / 99)), 100];

export interface ClippingOptions extends TensorSpec {
  /** Tensors averaged over (default 100, the paper's). */
  tensors?: number;
  seed?: number;
  /** Percentiles of |x| tried as clips (default PAPER_PERCENTILES, the paper's linear grid of 100; the
   *  optimum usually lies above 99, which TAIL_PERCENTILES resolves). */
  percentiles?: readonly number[];
  onProgress?: Progress;
}

export interface ClipRow {
  format: string;
  bits: number;
  /** The grid percentile with the lowest MSE averaged over the tensors. */
  optimalPercentile: number;
  /** That average MSE. */
  percentileMse: number;
  /** The clip at the optimal percentile as a std multiple (mean over tensors). */
  percentileStdMultiple: number;
  /** The MSE-optimal clip (fine search, mseOptimalClip) as a std multiple: mean and std over tensors. */
  stdMultiple: number;
  stdMultipleSd: number;
  /** Mean MSE at the MSE-optimal clip. */
  mse: number;
  /** Mean MSE with the clip at absmax (no clipping), for contrast. */
  absmaxMse: number;
}

export interface ClippingResult {
  percentiles: number[];
  rows: ClipRow[];
  /** Mean MSE per percentile, one curve per row (same order as rows). */
  curves: number[][];
  /** Formats that ignore the clip (BF16, FP32), left out. */
  skipped: string[];
  tensors: number;
}

function mseOf(x: Float32Array, f: Format, clip: number, buf: Float32Array): number {
  if (!(clip > 0)) { let s = 0; for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!; return s / x.length; }
  quantize(x, f, clip, buf);
  const r = rmsDiff(x, buf);
  return r * r;
}

/**
 * The clipping analysis: for each format, the average quantization MSE at each percentile clip, the
 * optimal percentile, and the MSE-optimal clip as a std multiple.
 * @example
 * const r = clippingAnalysis('int-s', { tensors: 10 });
 * r.rows.map((row) => [row.format, row.stdMultiple]) // INT4 ≈ 3.9, INT8 ≈ 10.5 (Gaussian, 1:1000 outliers at ≈ 10.5σ)
 */
export function clippingAnalysis(formats: string | readonly (string | Format)[], opts: ClippingOptions = {}): ClippingResult {
  const all = space(formats);
  const fs = all.filter((f) => !f.ignoresClip);
  const s = spec(opts);
  const tensors = requireInt('tensors', opts.tensors ?? 100, 1);
  const pcts = [...(opts.percentiles ?? PAPER_PERCENTILES)];
  if (pcts.length === 0 || pcts.some((p) => typeof p !== 'number' || !(p > 0 && p <= 100))) {
    throw new FliqsError('percentiles', `got ${describe(opts.percentiles)}`, 'a non-empty list of numbers in (0, 100]');
  }
  const rng = new Rng(requireInt('seed', opts.seed ?? 0, 0, 2 ** 32 - 1));
  const curves = fs.map(() => new Float64Array(pcts.length));
  const pctK = fs.map(() => new Float64Array(pcts.length));
  const ks = fs.map(() => [] as number[]);
  const mses = fs.map(() => 0), absmaxMses = fs.map(() => 0);
  const buf = new Float32Array(s.n);
  for (let t = 0; t < tensors; t++) {
    const { x } = syntheticTensor(rng, s);
    const st = tensorStats(x);
    const clips = pcts.map((p) => percentileClip(x, p));
    fs.forEach((f, i) => {
      clips.forEach((c, j) => { curves[i]![j]! += mseOf(x, f, c, buf); pctK[i]![j]! += c / st.std; });
      const best = mseOptimalClip(x, f);
      ks[i]!.push(best.stdMultiple);
      mses[i]! += best.mse;
      absmaxMses[i]! += mseOf(x, f, st.absmax, buf);
    });
    if (opts.onProgress && ((t + 1) % 5 === 0 || t + 1 === tensors)) opts.onProgress('clipping', t + 1, tensors);
  }
  const rows = fs.map((f, i): ClipRow => {
    const curve = curves[i]!;
    let bj = 0;
    for (let j = 1; j < pcts.length; j++) if (curve[j]! < curve[bj]!) bj = j;
    const k = ks[i]!, mean = k.reduce((a, b) => a + b, 0) / k.length;
    return {
      format: f.name, bits: f.bits, optimalPercentile: pcts[bj]!, percentileMse: curve[bj]! / tensors,
      percentileStdMultiple: pctK[i]![bj]! / tensors, stdMultiple: mean,
      stdMultipleSd: Math.sqrt(k.reduce((a, b) => a + (b - mean) ** 2, 0) / k.length),
      mse: mses[i]! / tensors, absmaxMse: absmaxMses[i]! / tensors,
    };
  });
  return { percentiles: pcts, rows, curves: curves.map((c) => Array.from(c, (v) => v / tensors)), skipped: all.filter((f) => f.ignoresClip).map((f) => f.name), tensors };
}

const multipleCache = new Map<string, number>();
/** Tensors and seed behind defaultClipMultiples (fixed, so the table is the same everywhere). */
const DEFAULT_K_TENSORS = 32, DEFAULT_K_SEED = 12345;

/**
 * Per-format activation-clip std multiples k_f (clip_f = k_f · std): the mean MSE-optimal clip over
 * 32 unit-std Gaussian tensors of 4096 elements with outliers at 1:1000 (fixed seed). Computed once
 * per format and cached (≈ 10 ms a format). Formats that ignore the clip get absmax/std (harmless).
 * @example
 * defaultClipMultiples('int-s') // { INT4: ≈3.94, INT8: ≈10.37, BF16: ≈10.44 }
 */
export function defaultClipMultiples(formats: string | readonly (string | Format)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of space(formats)) {
    let k = multipleCache.get(f.name);
    if (k === undefined) {
      const rng = new Rng(DEFAULT_K_SEED);
      let sum = 0;
      for (let t = 0; t < DEFAULT_K_TENSORS; t++) sum += mseOptimalClip(syntheticTensor(rng, { n: 4096, outlierRate: DEFAULT_OUTLIER_RATE }).x, f).stdMultiple;
      k = sum / DEFAULT_K_TENSORS;
      multipleCache.set(f.name, k);
    }
    out[f.name] = k;
  }
  return out;
}
