// Clip statistics: absmax/mean/std, percentiles and the MSE-optimal clip against plain-JS computations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/random.js';
import { FliqsError, mseOptimalClip, parseFormat, percentileClip, quantizeRef, tensorStats } from '../src/index.js';

function mseRef(x: Float32Array, name: string, clip: number): number {
  const q = quantizeRef(x, parseFormat(name), clip);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (q[i]! - x[i]!) ** 2;
  return s / x.length;
}

describe('tensorStats', () => {
  it('matches plain JS on random data and lengths', () => {
    fc.assert(fc.property(fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 90 }), (xs) => {
      const x = Float32Array.from(xs);
      const st = tensorStats(x);
      const mean = xs.reduce((a, b) => a + Math.fround(b), 0) / xs.length;
      const v = xs.reduce((a, b) => a + (Math.fround(b) - mean) ** 2, 0) / xs.length;
      expect(st.absmax).toBe(Math.max(...x.map(Math.abs)));
      expect(st.mean).toBeCloseTo(mean, 6);
      expect(Math.abs(st.std - Math.sqrt(v))).toBeLessThanOrEqual(1e-6 * (1 + st.absmax));
    }), { numRuns: 500 });
  });

  it('rejects NaN/Infinity data, empty and non-f32 input', () => {
    expect(() => tensorStats(new Float32Array([1, NaN]))).toThrow(/x: element 1 is NaN/);
    expect(() => tensorStats(new Float32Array([Infinity]))).toThrow(FliqsError);
    expect(() => tensorStats(new Float32Array(0))).toThrow(/x: is empty/);
    expect(() => tensorStats([1] as never)).toThrow(/x: got Array/);
  });
});

describe('percentileClip', () => {
  it('is within one histogram bin of the exact percentile of |x|', () => {
    fc.assert(fc.property(fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 1, max: 100, noNaN: true }),
      (xs, p) => {
        const x = Float32Array.from(xs);
        const sorted = [...x].map(Math.abs).sort((a, b) => a - b);
        const k = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
        const bin = sorted[sorted.length - 1]! / 8192;
        const got = percentileClip(x, p);
        expect(got).toBeGreaterThanOrEqual(sorted[Math.max(0, k - 1)]! - bin - 1e-12);
        expect(got).toBeLessThanOrEqual(sorted[k]! + bin + 1e-12);
      }), { numRuns: 300 });
  });

  it('rejects percentiles outside (0, 100]', () => {
    expect(() => percentileClip(new Float32Array([1]), 0)).toThrow(/percentile: got 0/);
    expect(() => percentileClip(new Float32Array([1]), 101)).toThrow(FliqsError);
  });
});

describe('mseOptimalClip', () => {
  const x = new Rng(7).normalArray(20000);

  it('finds a clip within 1% of a dense brute-force sweep, for several formats', () => {
    const absmax = tensorStats(x).absmax;
    for (const name of ['INT4', 'INT8', 'E2M1', 'E4M3', 'E3M2']) {
      const got = mseOptimalClip(x, name);
      expect(got.mse).toBeCloseTo(mseRef(x, name, got.clip), 9);
      let best = Infinity;
      for (let i = 1; i <= 400; i++) best = Math.min(best, mseRef(x, name, (absmax * i) / 400));
      expect(got.mse, name).toBeLessThanOrEqual(best * 1.01);
    }
  });

  it('clips a Gaussian at ≈ 2.5σ for INT4 and wider for INT8 (fewer bits want tighter clips)', () => {
    const int4 = mseOptimalClip(x, 'INT4').stdMultiple, int8 = mseOptimalClip(x, 'INT8').stdMultiple;
    expect(int4).toBeGreaterThan(2.2);
    expect(int4).toBeLessThan(2.8);
    expect(int8).toBeGreaterThan(int4 + 0.8);
  });

  it('returns absmax for formats that ignore the clip, and handles all-zero data', () => {
    expect(mseOptimalClip(x, 'BF16').absmaxFraction).toBe(1);
    expect(mseOptimalClip(new Float32Array(5), 'INT4')).toMatchObject({ mse: 0 });
    expect(() => mseOptimalClip(x, 'INT4', { candidates: 1 })).toThrow(/candidates: got 1/);
  });
});
