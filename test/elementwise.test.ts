// Elementwise and normalization kernels against their f64 scalar references on random shapes
// (rows 1..40, C 1..70, odd and 1 included), on both module variants; the references' gradients
// against central finite differences; ReLU masks exact; bad input → FliqsError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { createRuntime, type Runtime, type WasmF32 } from '../src/core/runtime.js';
import * as K from '../src/kernels/elementwise.js';
import * as R from '../src/kernels/elementwise.ref.js';
import { kernelsNotCalled, trackKernels } from './kernel-coverage.js';
import { randArray } from './quant-helpers.js';

const RUNS = 150;
const ULP = 2 ** -23; // f32 machine epsilon (spacing at 1)
const runtimes: Runtime[] = [await createRuntime('simd'), await createRuntime('relaxed')];
const called = runtimes.map(trackKernels);

function randLabels(seed: number, B: number, classes: number): Int32Array {
  return Int32Array.from(randArray(seed, B, 0, 1), (u) => Math.min(classes - 1, Math.floor(u * classes)));
}

/** Wasm buffers for one check, all freed at the end. */
class Scope {
  private bufs: WasmF32[] = [];
  constructor(readonly rt: Runtime) {}
  in(a: ArrayLike<number>): WasmF32 { const b = this.rt.copyIn(a); this.bufs.push(b); return b; }
  out(n: number): WasmF32 { const b = this.rt.allocF32(n); b.array.fill(NaN); this.bufs.push(b); return b; }
  free(): void { for (const b of this.bufs) b.free(); this.bufs = []; }
}

const get = (b: WasmF32): Float32Array => b.array.slice();

/** Throws naming the case and the first element outside `tol(i)`. */
function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= tol(i))) throw new Error(`${what}: [${i}] got ${got[i]} want ${want[i]} err ${err} > tol ${tol(i)}`);
  }
}

function exact(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  close(what, got, Float32Array.from(want), () => 0);
}

const shape = fc.record({ rows: fc.integer({ min: 1, max: 40 }), C: fc.integer({ min: 1, max: 70 }), seed: fc.integer() });

/** Central finite differences of f at x (f64), h relative to max(1, |x_i|). */
function fdGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-5): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!, d = h * Math.max(1, Math.abs(v));
    x[i] = v + d; const fp = f(x);
    x[i] = v - d; const fm = f(x);
    x[i] = v;
    g[i] = (fp - fm) / (2 * d);
  }
  return g;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };

function fdClose(what: string, analytic: ArrayLike<number>, fd: ArrayLike<number>, tol = 1e-6): void {
  const scale = Math.max(1, ...Array.from(analytic, Math.abs));
  close(what, analytic, fd, () => tol * scale);
}

describe('exp_f32x4 (SIMD exp)', () => {
  it.each(runtimes.map((rt) => [rt.variant, rt] as const))('%s: max relative error vs Math.exp ≤ 2^-23 over [-87, 88]', (_v, rt) => {
    // Measured (2^22 evenly spaced points): max relative error 8.1e-8 (simd) and 8.4e-8 (relaxed, FMA), i.e. 0.70·2^-23.
    const n = 1 << 20;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -87 + (175 * i) / (n - 1);
    const rnd = randArray(7, 1 << 16, -87, 88);
    const all = new Float32Array(n + rnd.length);
    all.set(x); all.set(rnd, n);
    const s = new Scope(rt);
    const y = s.out(all.length);
    K.exp(s.in(all), y, rt);
    const got = get(y);
    s.free();
    let worst = 0;
    for (let i = 0; i < all.length; i++) {
      const want = Math.exp(all[i]!);
      worst = Math.max(worst, Math.abs(got[i]! - want) / want);
    }
    expect(worst).toBeLessThanOrEqual(ULP);
  });

  it.each(runtimes.map((rt) => [rt.variant, rt] as const))('%s: special values and the subnormal range', (_v, rt) => {
    const xs = [0, -0, Infinity, -Infinity, NaN, 89, 88.8, -104, -200, 1, -1, -100, -95, -88];
    const s = new Scope(rt);
    const y = s.out(xs.length);
    K.exp(s.in(xs), y, rt);
    const g = get(y);
    s.free();
    expect(Array.from(g.slice(0, 10))).toEqual([1, 1, Infinity, 0, NaN, Infinity, Infinity, 0, 0, Math.fround(Math.E)]);
    expect(g[10]).toBe(Math.fround(Math.exp(-1)));
    // Subnormal results: within 2 ulp of the true value plus half the subnormal spacing 2^-149.
    for (let i = 11; i < xs.length; i++) expect(Math.abs(g[i]! - Math.exp(xs[i]!))).toBeLessThanOrEqual(2 * ULP * Math.exp(xs[i]!) + 2 ** -149);
  });
});

describe.each(runtimes.map((rt) => [rt.variant, rt] as const))('%s module', (_variant, rt) => {
  it('relu, relu6 and their masks are exact (including exact zeros and 6s at the kinks)', () => {
    fc.assert(fc.property(shape, ({ rows, C, seed }) => {
      const n = rows * C;
      const x = randArray(seed, n, -8, 8);
      for (let i = 0; i < n; i += 5) x[i] = [0, 6, -0, 3][(i / 5) % 4]!;
      const dy = randArray(seed + 1, n);
      const s = new Scope(rt);
      const X = s.in(x), DY = s.in(dy), Y = s.out(n), DX = s.out(n);
      K.relu(X, Y, rt); exact('relu', get(Y), R.reluRef(x));
      K.reluGrad(X, DY, DX, rt); exact('relu grad (x)', get(DX), R.reluGradRef(x, dy));
      K.reluGrad(Y, DY, DX, rt); exact('relu grad (y)', get(DX), R.reluGradRef(x, dy));
      K.relu6(X, Y, rt); exact('relu6', get(Y), R.relu6Ref(x));
      K.relu6Grad(X, DY, DX, rt); exact('relu6 grad (x)', get(DX), R.relu6GradRef(x, dy));
      K.relu6Grad(Y, DY, DX, rt); exact('relu6 grad (y)', get(DX), R.relu6GradRef(x, dy));
      s.free();
    }), { numRuns: RUNS });
  });

  it('add, mul, scale are one f32 rounding of the exact result; axpy within 1 ulp of its terms', () => {
    fc.assert(fc.property(shape, fc.float({ min: -4, max: 4, noNaN: true }), ({ rows, C, seed }, a) => {
      const n = rows * C;
      const x = randArray(seed, n), y = randArray(seed + 1, n);
      const s = new Scope(rt);
      const X = s.in(x), Y = s.in(y), O = s.out(n);
      K.add(X, Y, O, rt); exact('add', get(O), R.addRef(x, y));
      K.mul(X, Y, O, rt); exact('mul', get(O), R.mulRef(x, y));
      K.scale(X, a, O, rt); exact('scale', get(O), R.scaleRef(x, Math.fround(a)));
      K.axpy(a, X, Y, rt);
      const fa = Math.fround(a);
      // y + a·x: at most two roundings (product, sum) or one (FMA): ≤ ULP·(|y| + |a·x|).
      close('axpy', get(Y), R.axpyRef(fa, x, y), (i) => ULP * (Math.abs(y[i]!) + Math.abs(fa * x[i]!)));
      s.free();
    }), { numRuns: RUNS });
  });

  it('bias-add is exact; bias grad (column sums, f64 accumulation) within 1 ulp of Σ|dy|', () => {
    fc.assert(fc.property(shape, ({ rows, C, seed }) => {
      const x = randArray(seed, rows * C), b = randArray(seed + 1, C);
      const s = new Scope(rt);
      const O = s.out(rows * C), DB = s.out(C);
      K.biasAdd(s.in(x), s.in(b), O, rows, C, rt);
      exact('bias add', get(O), R.biasAddRef(x, b, rows, C));
      K.biasGrad(s.in(x), DB, rows, C, rt);
      const absSum = R.biasGradRef(x.map(Math.abs), rows, C);
      close('bias grad', get(DB), R.biasGradRef(x, rows, C), (c) => ULP * absSum[c]!);
      s.free();
    }), { numRuns: RUNS });
  });

  it('batch-norm train/infer forward and backward match the reference', () => {
    const bnShape = fc.record({ rows: fc.integer({ min: 2, max: 40 }), C: fc.integer({ min: 1, max: 70 }), seed: fc.integer(),
      offset: fc.double({ min: -5, max: 5, noNaN: true }), spread: fc.double({ min: 0.1, max: 3, noNaN: true }) });
    fc.assert(fc.property(bnShape, ({ rows, C, seed, offset, spread }) => {
      const n = rows * C, momentum = 0.1, eps = 1e-5;
      const x = randArray(seed, n, offset - spread, offset + spread);
      const gamma = randArray(seed + 1, C, 0.5, 2), beta = randArray(seed + 2, C, -1, 1);
      const rm0 = randArray(seed + 3, C, -1, 1), rv0 = randArray(seed + 4, C, 0.5, 2);
      const dy = randArray(seed + 5, n);
      const s = new Scope(rt);
      const X = s.in(x), G = s.in(gamma), Bt = s.in(beta), RM = s.in(rm0), RV = s.in(rv0);
      const Y = s.out(n), M = s.out(C), IS = s.out(C);
      K.batchNormTrain({ x: X, y: Y, rows, C, gamma: G, beta: Bt, saveMean: M, saveInvStd: IS, runningMean: RM, runningVar: RV, momentum, eps }, rt);
      const ref = R.batchNormTrainRef(x, rows, C, gamma, beta, rm0, rv0, momentum, eps);
      const absMean = R.biasGradRef(x.map(Math.abs), rows, C).map((v) => v / rows);
      // Statistics are f64 sums rounded once: mean within 1 ulp of mean|x|, invstd and the running stats within 2 ulp.
      close('mean', get(M), ref.mean, (c) => ULP * absMean[c]!);
      close('invstd', get(IS), ref.invstd, (c) => 2 * ULP * ref.invstd[c]!);
      close('running mean', get(RM), ref.runningMean, (c) => 2 * ULP * (Math.abs(rm0[c]!) + absMean[c]!));
      close('running var', get(RV), ref.runningVar, (c) => 2 * ULP * (rv0[c]! + ref.runningVar[c]!));
      // y = (x − mean)·k + beta: a few f32 roundings on each term; x − mean carries ulp(|x| + |mean|).
      const yTol = (i: number): number => {
        const c = i % C;
        return 4 * ULP * ((Math.abs(x[i]!) + Math.abs(ref.mean[c]!)) * ref.invstd[c]! * gamma[c]! + Math.abs(beta[c]!));
      };
      close('bn train y', get(Y), ref.y, yTol);

      K.batchNormInfer({ x: X, y: Y, rows, C, gamma: G, beta: Bt, runningMean: s.in(rm0), runningVar: s.in(rv0), eps }, rt);
      const yi = R.batchNormInferRef(x, rows, C, gamma, beta, rm0, rv0, eps);
      close('bn infer y', get(Y), yi, (i) => 4 * ULP * ((Math.abs(x[i]!) + Math.abs(rm0[i % C]!)) * gamma[i % C]! / Math.sqrt(rv0[i % C]! + eps) + Math.abs(beta[i % C]!)));

      // Backward on the kernel's own saved stats, so only the backward's rounding is measured.
      const m = get(M), is = get(IS);
      const DX = s.out(n), DG = s.out(C), DBt = s.out(C);
      K.batchNormGrad({ x: X, dy: s.in(dy), dx: DX, rows, C, gamma: G, saveMean: M, saveInvStd: IS, dgamma: DG, dbeta: DBt }, rt);
      const g = R.batchNormGradRef(x, dy, rows, C, gamma, m, is);
      const sAbsDy = R.biasGradRef(dy.map(Math.abs), rows, C);
      const xhAbs = Float64Array.from(x, (v, i) => (Math.abs(v) + Math.abs(m[i % C]!)) * is[i % C]!);
      const sAbsDyXh = R.biasGradRef(Float64Array.from(dy, (v, i) => Math.abs(v) * xhAbs[i]!), rows, C);
      close('dbeta', get(DBt), g.dbeta, (c) => ULP * sAbsDy[c]!);
      close('dgamma', get(DG), g.dgamma, (c) => 4 * ULP * sAbsDyXh[c]!);
      // dx = a·(dy − dbeta/rows) − a·xhat·dgamma/rows: 8 ulp of the magnitudes of its terms.
      close('bn dx', get(DX), g.dx, (i) => {
        const c = i % C, a = gamma[c]! * is[c]!;
        return 8 * ULP * a * (Math.abs(dy[i]!) + sAbsDy[c]! / rows + xhAbs[i]! * sAbsDyXh[c]! / rows);
      });
      s.free();
    }), { numRuns: RUNS });
  });

  it('row softmax forward and backward match the reference', () => {
    fc.assert(fc.property(shape, fc.double({ min: 0.1, max: 20, noNaN: true }), ({ rows, C, seed }, spread) => {
      const n = rows * C;
      const x = randArray(seed, n, -spread, spread), dy = randArray(seed + 1, n);
      const s = new Scope(rt);
      const Y = s.out(n), DX = s.out(n);
      K.softmaxRows(s.in(x), Y, rows, C, rt);
      const y = get(Y);
      // exp ≤ 2 ulp of exp(x − m), where x − m is rounded to f32 (moving exp by |x − m|·ulp/2 relative), a row sum of
      // C terms (≤ C/4 + 3 roundings), a reciprocal and a multiply.
      const ref = R.softmaxRowsRef(x, rows, C);
      close('softmax', y, ref, (i) => ULP * (8 + C + 2 * spread) * ref[i]!);
      K.softmaxRowsGrad(Y, s.in(dy), DX, rows, C, rt);
      const absDot = new Float64Array(rows);
      for (let i = 0; i < n; i++) absDot[Math.floor(i / C)]! += Math.abs(dy[i]! * y[i]!);
      close('softmax grad', get(DX), R.softmaxRowsGradRef(y, dy, rows, C), (i) => ULP * (4 + C) * y[i]! * (Math.abs(dy[i]!) + absDot[Math.floor(i / C)]!));
      s.free();
    }), { numRuns: RUNS });
  });

  it('softmax + cross-entropy (with label smoothing), its gradient and accuracy counting match the reference', () => {
    const ceShape = fc.record({ B: fc.integer({ min: 1, max: 40 }), K: fc.integer({ min: 1, max: 70 }), seed: fc.integer(),
      eps: fc.constantFrom(0, 0.1, 0.5, 0.99), spread: fc.double({ min: 0.1, max: 30, noNaN: true }), g: fc.double({ min: -2, max: 2, noNaN: true }) });
    fc.assert(fc.property(ceShape, ({ B, K: k, seed, eps, spread, g }) => {
      const n = B * k;
      const x = randArray(seed, n, -spread, spread), labels = randLabels(seed + 1, B, k);
      const s = new Scope(rt);
      const P = s.out(n), D = s.out(n);
      const loss = K.softmaxCrossEntropy({ logits: s.in(x), labels, probs: P, B, K: k, smoothing: eps }, rt);
      const ref = R.softmaxCrossEntropyRef(x, labels, B, k, eps);
      const p = get(P);
      close('probs', p, ref.probs, (i) => ULP * (8 + k + 2 * spread) * ref.probs[i]!); // as for row softmax
      // Per row: log s (s carries (k/4 + 3) ulp) plus f32 differences x − m (1 ulp of 2·spread each).
      expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(ULP * (8 + k) * (1 + ref.loss + 2 * spread));
      K.softmaxCrossEntropyGrad({ probs: P, labels, dlogits: D, B, K: k, smoothing: eps, g }, rt);
      close('dlogits', get(D), R.softmaxCrossEntropyGradRef(p, labels, B, k, eps, Math.fround(g)), () => 4 * ULP * (1 + 1 / k) * Math.abs(g) / B + 2 ** -148); // + subnormal spacing: g/B is rounded to f32
      // Accuracy: logits from {0, 1, 2} give ties, where the first maximum wins.
      const ties = Float32Array.from(x, (v) => Math.floor(Math.abs(v * 7)) % 3);
      expect(K.accuracyCount(s.in(ties), labels, B, k, rt)).toBe(R.accuracyCountRef(ties, labels, B, k));
      expect(K.accuracyCount(s.in(x), labels, B, k, rt)).toBe(R.accuracyCountRef(x, labels, B, k));
      s.free();
    }), { numRuns: RUNS });
  });

  it('layer-norm forward and backward match the reference', () => {
    fc.assert(fc.property(shape, fc.double({ min: -5, max: 5, noNaN: true }), ({ rows, C: D, seed }, offset) => {
      const n = rows * D, eps = 1e-5;
      const x = randArray(seed, n, offset - 2, offset + 2), dy = randArray(seed + 1, n);
      const gamma = randArray(seed + 2, D, 0.5, 2), beta = randArray(seed + 3, D, -1, 1);
      const s = new Scope(rt);
      const X = s.in(x), G = s.in(gamma), Y = s.out(n), M = s.out(rows), IS = s.out(rows);
      K.layerNorm({ x: X, y: Y, rows, D, gamma: G, beta: s.in(beta), saveMean: M, saveInvStd: IS, eps }, rt);
      const ref = R.layerNormRef(x, rows, D, gamma, beta, eps);
      // Row sums in f32 (≤ D/4 + 3 roundings) feed mean and var; the rest is a few roundings per element.
      const rowTol = (r: number): number => ULP * (8 + D) * (Math.abs(offset) + 2) * ref.invstd[r]!;
      close('ln mean', get(M), ref.mean, (r) => ULP * (8 + D) * (Math.abs(offset) + 2));
      close('ln invstd', get(IS), ref.invstd, (r) => ULP * (8 + D) * ref.invstd[r]! * (1 + (Math.abs(offset) + 2) * ref.invstd[r]!));
      close('ln y', get(Y), ref.y, (i) => 2 * rowTol(Math.floor(i / D)) * gamma[i % D]! * (1 + Math.abs(ref.y[i]!)) + 2 * ULP * Math.abs(beta[i % D]!));
      const m = get(M), is = get(IS);
      const DX = s.out(n), DG = s.out(D), DBt = s.out(D);
      K.layerNormGrad({ x: X, dy: s.in(dy), dx: DX, rows, D, gamma: G, saveMean: M, saveInvStd: IS, dgamma: DG, dbeta: DBt }, rt);
      const g = R.layerNormGradRef(x, dy, rows, D, gamma, m, is);
      const xhAbs = Float64Array.from(x, (v, i) => (Math.abs(v) + Math.abs(m[Math.floor(i / D)]!)) * is[Math.floor(i / D)]!);
      // dgamma/dbeta accumulate over rows in f32: rows + 2 roundings of Σ|terms|.
      close('ln dbeta', get(DBt), g.dbeta, (k) => ULP * (rows + 2) * R.biasGradRef(dy.map(Math.abs), rows, D)[k]!);
      close('ln dgamma', get(DG), g.dgamma, (k) => 2 * ULP * (rows + 2) * R.biasGradRef(Float64Array.from(dy, (v, i) => Math.abs(v) * xhAbs[i]!), rows, D)[k]!);
      // dx = invstd·(g − mean g − xhat·mean(g·xhat)), the means over D in f32.
      const mg = new Float64Array(rows), mgx = new Float64Array(rows);
      for (let i = 0; i < n; i++) {
        const r = Math.floor(i / D), a = Math.abs(dy[i]! * gamma[i % D]!);
        mg[r]! += a / D; mgx[r]! += a * xhAbs[i]! / D;
      }
      close('ln dx', get(DX), g.dx, (i) => {
        const r = Math.floor(i / D);
        return ULP * (8 + D) * is[r]! * (Math.abs(dy[i]! * gamma[i % D]!) + mg[r]! + xhAbs[i]! * mgx[r]!);
      });
      s.free();
    }), { numRuns: RUNS });
  });

  it('GELU (tanh approximation) forward and backward match the tanh-form reference', () => {
    fc.assert(fc.property(shape, ({ rows, C, seed }) => {
      const n = rows * C;
      const x = randArray(seed, n, -8, 8), dy = randArray(seed + 1, n);
      const s = new Scope(rt);
      const X = s.in(x), Y = s.out(n), DX = s.out(n);
      K.geluTanh(X, Y, rt);
      // σ(z) via the SIMD exp (≤ 2 ulp) and a divide; z = x·(A + B·x²) carries ~2 ulp relative, which moves σ(z)
      // by up to |z|·2 ulp relative (σ'/σ ≤ 1): bound ULP·(8 + 4|z|)·|y|.
      const z = (v: number): number => v * (1.5957691216057308 + 0.0713548162726 * v * v);
      close('gelu', get(Y), R.geluTanhRef(x), (i) => ULP * (8 + 4 * Math.abs(z(x[i]!))) * Math.abs(R.geluTanhRef([x[i]!])[0]!) + 1e-37);
      K.geluTanhGrad(X, s.in(dy), DX, rt);
      close('gelu grad', get(DX), R.geluTanhGradRef(x, dy), (i) => {
        const v = x[i]!, sg = 1 / (1 + Math.exp(-z(v)));
        const terms = sg + Math.abs(v * sg * (1 - sg) * (1.5957691216057308 + 0.2140644488178 * v * v));
        return ULP * (16 + 8 * Math.abs(z(v))) * terms * Math.abs(dy[i]!) + 1e-37;
      });
      s.free();
    }), { numRuns: RUNS });
  });

  it('plain Float32Arrays (not in wasm memory) are copied in and out', () => {
    const x = new Float32Array([-1, 2, -3, 4, 5]), y = new Float32Array(5);
    K.relu(x, y, rt);
    expect(Array.from(y)).toEqual([0, 2, 0, 4, 5]);
    const m = new Float32Array(1), is = new Float32Array(1), rm = new Float32Array([0]), rv = new Float32Array([1]);
    K.batchNormTrain({ x, y, rows: 5, C: 1, gamma: new Float32Array([1]), beta: new Float32Array([0]), saveMean: m, saveInvStd: is,
      runningMean: rm, runningVar: rv, momentum: 1 }, rt);
    expect(m[0]).toBeCloseTo(1.4, 6);
    expect(rv[0]).toBeCloseTo(R.batchNormTrainRef(x, 5, 1, [1], [0], [0], [1], 1, 1e-5).runningVar[0]!, 5);
  });
});

describe('reference gradients against central finite differences (f64)', () => {
  const sizes = fc.record({ rows: fc.integer({ min: 2, max: 6 }), C: fc.integer({ min: 1, max: 7 }), seed: fc.integer() });

  it('batch-norm: dx, dgamma, dbeta', () => {
    fc.assert(fc.property(sizes, ({ rows, C, seed }) => {
      const x = randArray(seed, rows * C), w = randArray(seed + 1, rows * C);
      const gamma = randArray(seed + 2, C, 0.5, 2), beta = randArray(seed + 3, C), z = new Float64Array(C), eps = 1e-3;
      const L = (xx: ArrayLike<number>, gg: ArrayLike<number>, bb: ArrayLike<number>): number =>
        dot(R.batchNormTrainRef(xx, rows, C, gg, bb, z, z, 0.1, eps).y, w);
      const f = R.batchNormTrainRef(x, rows, C, gamma, beta, z, z, 0.1, eps);
      const g = R.batchNormGradRef(x, w, rows, C, gamma, f.mean, f.invstd);
      fdClose('bn dx', g.dx, fdGrad((v) => L(v, gamma, beta), x));
      fdClose('bn dgamma', g.dgamma, fdGrad((v) => L(x, v, beta), gamma));
      fdClose('bn dbeta', g.dbeta, fdGrad((v) => L(x, gamma, v), beta));
    }), { numRuns: 40 });
  });

  it('softmax + cross-entropy with label smoothing: dlogits', () => {
    fc.assert(fc.property(sizes, fc.constantFrom(0, 0.1, 0.3), ({ rows: B, C: k, seed }, eps) => {
      const x = randArray(seed, B * k, -4, 4), labels = randLabels(seed + 1, B, k);
      const g = R.softmaxCrossEntropyGradRef(R.softmaxCrossEntropyRef(x, labels, B, k, eps).probs, labels, B, k, eps);
      fdClose('ce dlogits', g, fdGrad((v) => R.softmaxCrossEntropyRef(v, labels, B, k, eps).loss, x));
    }), { numRuns: 40 });
  });

  it('row softmax: dx', () => {
    fc.assert(fc.property(sizes, ({ rows, C, seed }) => {
      const x = randArray(seed, rows * C), w = randArray(seed + 1, rows * C);
      const g = R.softmaxRowsGradRef(R.softmaxRowsRef(x, rows, C), w, rows, C);
      fdClose('softmax dx', g, fdGrad((v) => dot(R.softmaxRowsRef(v, rows, C), w), x));
    }), { numRuns: 40 });
  });

  it('layer-norm: dx, dgamma, dbeta', () => {
    fc.assert(fc.property(sizes, ({ rows, C: D, seed }) => {
      const x = randArray(seed, rows * D), w = randArray(seed + 1, rows * D);
      const gamma = randArray(seed + 2, D, 0.5, 2), beta = randArray(seed + 3, D), eps = 1e-3;
      const L = (xx: ArrayLike<number>, gg: ArrayLike<number>, bb: ArrayLike<number>): number => dot(R.layerNormRef(xx, rows, D, gg, bb, eps).y, w);
      const f = R.layerNormRef(x, rows, D, gamma, beta, eps);
      const g = R.layerNormGradRef(x, w, rows, D, gamma, f.mean, f.invstd);
      fdClose('ln dx', g.dx, fdGrad((v) => L(v, gamma, beta), x));
      fdClose('ln dgamma', g.dgamma, fdGrad((v) => L(x, v, beta), gamma));
      fdClose('ln dbeta', g.dbeta, fdGrad((v) => L(x, gamma, v), beta));
    }), { numRuns: 40 });
  });

  it('GELU: the tanh form equals the x·σ(2u) form the kernel and reference use (|x| ≤ 4, f64)', () => {
    for (let v = -4; v <= 4; v += 0.01) {
      const tanhForm = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      expect(Math.abs(R.geluTanhRef([v])[0]! - tanhForm)).toBeLessThanOrEqual(1e-15);
    }
  });

  it('GELU: dx', () => {
    const x = randArray(11, 200, -6, 6), w = randArray(12, 200);
    fdClose('gelu dx', R.geluTanhGradRef(x, w), fdGrad((v) => dot(R.geluTanhRef(v), w), x));
  });
});

describe('bad input → FliqsError', () => {
  const rt = runtimes[0]!;
  const other = runtimes[1]!;
  const s = new Scope(rt);
  const a4 = s.in([1, 2, 3, 4]), a3 = s.in([1, 2, 3]), c2 = s.in([1, 2]);
  const cases: Array<[string, () => unknown, string]> = [
    ['length mismatch in relu', () => K.relu(a4, a3, rt), 'y'],
    ['length mismatch in add', () => K.add(a4, a3, a4, rt), 'b'],
    ['not a Float32Array', () => K.relu([1, 2] as unknown as Float32Array, a3, rt), 'x'],
    ['buffer of another runtime', () => K.relu(a4, other.allocF32(4), rt), 'y'],
    ['bias length ≠ C', () => K.biasAdd(a4, a3, a4, 2, 2, rt), 'bias'],
    ['x length ≠ rows·C', () => K.biasGrad(a4, c2, 3, 2, rt), 'dy'],
    ['rows = 0', () => K.biasAdd(a4, c2, a4, 0, 2, rt), 'rows'],
    ['C non-integer', () => K.softmaxRows(a4, a4, 2, 2.5, rt), 'K'],
    ['negative B', () => K.accuracyCount(a4, new Int32Array([0, 0]), -2, 2, rt), 'B'],
    ['label out of range', () => K.softmaxCrossEntropy({ logits: a4, labels: new Int32Array([0, 2]), probs: a4, B: 2, K: 2 }, rt), 'labels'],
    ['negative label', () => K.softmaxCrossEntropyGrad({ probs: a4, labels: new Int32Array([-1, 0]), dlogits: a4, B: 2, K: 2 }, rt), 'labels'],
    ['labels not Int32Array', () => K.accuracyCount(a4, [0, 1] as unknown as Int32Array, 2, 2, rt), 'labels'],
    ['labels length ≠ B', () => K.accuracyCount(a4, new Int32Array([0]), 2, 2, rt), 'labels'],
    ['smoothing = 1', () => K.softmaxCrossEntropy({ logits: a4, labels: new Int32Array([0, 1]), probs: a4, B: 2, K: 2, smoothing: 1 }, rt), 'smoothing'],
    ['smoothing < 0', () => K.softmaxCrossEntropyGrad({ probs: a4, labels: new Int32Array([0, 1]), dlogits: a4, B: 2, K: 2, smoothing: -0.1 }, rt), 'smoothing'],
    ['batch-norm with one row', () => K.batchNormTrain({ x: c2, y: c2, rows: 1, C: 2, gamma: c2, beta: c2, saveMean: c2, saveInvStd: c2 }, rt), 'rows'],
    ['batch-norm eps ≤ 0', () => K.batchNormInfer({ x: a4, y: a4, rows: 2, C: 2, gamma: c2, beta: c2, runningMean: c2, runningVar: c2, eps: 0 }, rt), 'eps'],
    ['batch-norm only one running stat', () => K.batchNormTrain({ x: a4, y: a4, rows: 2, C: 2, gamma: c2, beta: c2, saveMean: c2, saveInvStd: c2, runningMean: c2 }, rt), 'runningVar'],
    ['batch-norm momentum > 1', () => K.batchNormTrain({ x: a4, y: a4, rows: 2, C: 2, gamma: c2, beta: c2, saveMean: c2, saveInvStd: c2, momentum: 2 }, rt), 'momentum'],
    ['batch-norm grad dgamma length', () => K.batchNormGrad({ x: a4, dy: a4, dx: a4, rows: 2, C: 2, gamma: c2, saveMean: c2, saveInvStd: c2, dgamma: a3, dbeta: c2 }, rt), 'dgamma'],
    ['layer-norm saveMean length ≠ rows', () => K.layerNorm({ x: a4, y: a4, rows: 2, D: 2, gamma: c2, beta: c2, saveMean: a3, saveInvStd: c2 }, rt), 'saveMean'],
    ['layer-norm grad gamma length ≠ D', () => K.layerNormGrad({ x: a4, dy: a4, dx: a4, rows: 2, D: 2, gamma: a3, saveMean: c2, saveInvStd: c2, dgamma: c2, dbeta: c2 }, rt), 'gamma'],
    ['scale by NaN', () => K.scale(a4, NaN, a4, rt), 's'],
    ['axpy by Infinity', () => K.axpy(Infinity, a4, a4, rt), 'a'],
  ];
  it.each(cases)('%s', (_name, f, input) => {
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FliqsError);
    expect((err as FliqsError).input).toBe(input);
  });
});

it('the tests above reach every kernel of ELEMENTWISE_KERNELS on both modules', () => {
  expect(runtimes.flatMap((rt, i) => kernelsNotCalled(K.ELEMENTWISE_KERNELS, rt, called[i]!))).toEqual([]);
});
