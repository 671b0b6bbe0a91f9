// The §4 / A.8 analysis: synthetic tensors, switching error, the exponential fit, the clipping
// analysis, the default clip multiples, and the `fliqs analyze` command (called directly).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runAnalyze } from '../src/cli/analyze.js';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { parseFormat, quantizeRef } from '../src/index.js';
import {
  clippingAnalysis, defaultClipMultiples, expFit, parseOutlierRate, rmsDiff, switchingError, syntheticTensor,
} from '../src/search/analyze.js';
import { checkXml } from './xml-check.js';

function std(x: Float32Array): number {
  let m = 0, s = 0;
  for (const v of x) m += v;
  m /= x.length;
  for (const v of x) s += (v - m) ** 2;
  return Math.sqrt(s / x.length);
}

describe('syntheticTensor', () => {
  it.each(['gaussian', 'laplace'] as const)('%s without outliers has unit std and zero mean', (dist) => {
    const { x, outliers } = syntheticTensor(new Rng(1), { dist, n: 100_000, outlierRate: 0 });
    expect(outliers).toBe(0);
    expect(std(x)).toBeCloseTo(1, 1); // sampling error of the std at n = 1e5 is < 0.01
    expect(Math.abs(x.reduce((a, b) => a + b, 0) / x.length)).toBeLessThan(0.02);
  });

  it('injects about n/rate outliers at ±3× the base absmax, both signs, at random positions', () => {
    const n = 40_960, rate = 100;
    const { x, outliers, baseAbsmax } = syntheticTensor(new Rng(7), { n, outlierRate: rate });
    // Binomial(n, 1/rate): mean 409.6, sd ≈ 20; allow 4 sd
    expect(Math.abs(outliers - n / rate)).toBeLessThan(80);
    const at = [...x.keys()].filter((i) => Math.abs(x[i]!) === Math.fround(3 * baseAbsmax));
    expect(at.length).toBe(outliers);
    expect(at.some((i) => x[i]! > 0) && at.some((i) => x[i]! < 0)).toBe(true);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThan(n / 2); // spread over the tensor
    let rest = 0;
    for (let i = 0; i < n; i++) if (!at.includes(i)) rest = Math.max(rest, Math.abs(x[i]!));
    expect(rest).toBeLessThanOrEqual(baseAbsmax);
  });

  it('is seeded: same seed, same tensor; different seed, different tensor', () => {
    const a = syntheticTensor(new Rng(3), { n: 256 }).x, b = syntheticTensor(new Rng(3), { n: 256 }).x;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(syntheticTensor(new Rng(4), { n: 256 }).x)).not.toEqual(Array.from(a));
  });

  it('rejects bad specs', () => {
    expect(() => syntheticTensor(new Rng(0), { dist: 'cauchy' as never })).toThrow(FliqsError);
    expect(() => syntheticTensor(new Rng(0), { n: 0 })).toThrow(FliqsError);
    expect(() => syntheticTensor(new Rng(0), { outlierRate: 0.5 })).toThrow(FliqsError);
  });

  it('parses outlier rates', () => {
    expect(parseOutlierRate('1:100')).toBe(100);
    expect(parseOutlierRate('1:10000')).toBe(10000);
    expect(parseOutlierRate('none')).toBe(0);
    expect(() => parseOutlierRate('1:abc')).toThrow(FliqsError);
    expect(() => parseOutlierRate('2:3')).toThrow(FliqsError);
  });
});

describe('switchingError', () => {
  const r = switchingError('INT4,INT7,INT8,BF16', { tensors: 30, seed: 5 });

  it('is zero for identical formats and symmetric', () => {
    r.matrix.forEach((row, i) => {
      expect(row[i]).toBe(0);
      row.forEach((v, j) => expect(v).toBe(r.matrix[j]![i]));
    });
    const x = syntheticTensor(new Rng(9), { n: 1000 }).x;
    const a = quantizeRef(x, parseFormat('INT4'), 3), b = quantizeRef(x, parseFormat('INT8'), 3);
    expect(rmsDiff(a, b)).toBe(rmsDiff(b, a));
    expect(rmsDiff(a, a)).toBe(0);
  });

  it('is larger for INT4↔INT8 than INT7↔INT8', () => {
    const [i4, i7, i8] = [0, 1, 2];
    expect(r.matrix[i4]![i8]!).toBeGreaterThan(3 * r.matrix[i7]![i8]!);
    expect(r.points.map((p) => `${p.a}-${p.b}`)).toEqual(['INT4-INT7', 'INT4-INT8', 'INT7-INT8']); // BF16 pairs left out
  });

  it('matches a direct computation with the scalar reference quantizer at σ_T = 4·std', () => {
    const one = switchingError('INT4,INT6', { tensors: 1, seed: 11, n: 2000, outlierRate: 100 });
    const x = syntheticTensor(new Rng(11), { n: 2000, outlierRate: 100 }).x;
    const clip = 4 * std(x);
    const want = rmsDiff(quantizeRef(x, parseFormat('INT4'), clip), quantizeRef(x, parseFormat('INT6'), clip));
    expect(one.matrix[0]![1]).toBeCloseTo(want, 5);
    expect(one.fit).toBeNull(); // one point: nothing to fit
  });

  it('fits A·e^(−Bx)+C to int-l with a small residual and B > 0', () => {
    const l = switchingError('int-l', { tensors: 10 });
    expect(l.fit).not.toBeNull();
    expect(l.fit!.b).toBeGreaterThan(0);
    expect(l.fit!.rmse).toBeLessThan(0.1 * Math.max(...l.points.map((p) => p.error)));
  });
});

describe('expFit', () => {
  it('recovers known parameters from exact points', () => {
    fc.assert(fc.property(fc.double({ min: 0.2, max: 5, noNaN: true }), fc.double({ min: 0.1, max: 1.5, noNaN: true }),
      fc.double({ min: -1, max: 1, noNaN: true }), (a, b, c) => {
        const xs = [2, 3, 4, 5, 6, 7, 8];
        const f = expFit(xs, xs.map((x) => a * Math.exp(-b * x) + c));
        expect(f.b).toBeCloseTo(b, 3);
        expect(f.a).toBeCloseTo(a, 2);
        expect(f.c).toBeCloseTo(c, 3);
        expect(f.rmse).toBeLessThan(1e-6 * (1 + Math.abs(a) + Math.abs(c)));
      }), { numRuns: 40 });
  });

  it('rejects fewer than 3 distinct x, mismatched lengths and NaN', () => {
    expect(() => expFit([4, 4, 8], [1, 2, 3])).toThrow(/3 distinct/);
    expect(() => expFit([1, 2, 3], [1, 2])).toThrow(FliqsError);
    expect(() => expFit([1, 2, 3], [1, NaN, 2])).toThrow(FliqsError);
  });
});

describe('clippingAnalysis', () => {
  const r = clippingAnalysis('INT4,INT8,BF16', { tensors: 6, outlierRate: 1000, seed: 2 });

  it('clips INT4 harder than INT8, and below the 100th percentile with outliers', () => {
    const [i4, i8] = r.rows;
    expect(r.skipped).toEqual(['BF16']);
    expect(i4!.stdMultiple).toBeLessThan(i8!.stdMultiple);
    expect(i4!.optimalPercentile).toBeLessThan(100);
    expect(i4!.optimalPercentile).toBeLessThanOrEqual(i8!.optimalPercentile);
    for (const row of r.rows) {
      expect(row.mse).toBeLessThanOrEqual(row.percentileMse * (1 + 1e-6)); // fine search beats the grid
      expect(row.percentileMse).toBeLessThanOrEqual(row.absmaxMse * (1 + 1e-6)); // 100 is on the grid
    }
    expect(r.curves[0]!.length).toBe(100);
  });

  it('rejects bad percentiles', () => {
    expect(() => clippingAnalysis('INT4', { tensors: 1, percentiles: [0] })).toThrow(FliqsError);
    expect(() => clippingAnalysis('INT4', { tensors: 1, percentiles: [] })).toThrow(FliqsError);
  });
});

describe('defaultClipMultiples', () => {
  it('gives per-format std multiples that grow with the bits, cached', () => {
    const k = defaultClipMultiples('int-l');
    expect(Object.keys(k)).toEqual(['INT4', 'INT5', 'INT6', 'INT7', 'INT8', 'BF16']);
    expect(k.INT4!).toBeGreaterThan(1.5);
    expect(k.INT4!).toBeLessThan(k.INT6!);
    expect(k.INT6!).toBeLessThanOrEqual(k.INT8! * 1.01);
    // Cached: the synthetic tensors are drawn from an Rng, so a cached call draws no random numbers at
    // all, while a format not seen before does.
    const draws = vi.spyOn(Rng.prototype, 'uniform');
    try {
      expect(defaultClipMultiples('INT4,INT8')).toEqual({ INT4: k.INT4, INT8: k.INT8 });
      expect(draws).not.toHaveBeenCalled();
      const k3 = defaultClipMultiples('INT3');
      expect(draws.mock.calls.length).toBeGreaterThan(0);
      draws.mockClear();
      expect(defaultClipMultiples('INT3,INT4')).toEqual({ INT3: k3.INT3, INT4: k.INT4 });
      expect(draws).not.toHaveBeenCalled();
    } finally {
      draws.mockRestore();
    }
  });
});

describe('fliqs analyze (runAnalyze)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fliqs-analyze-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(args: string[]): { code: number; out: string; err: string } {
    let out = '', err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    try {
      return { code: runAnalyze(args), out, err };
    } finally {
      o.mockRestore(); e.mockRestore();
    }
  }

  it('prints the tables and writes well-formed SVGs and parseable JSON', () => {
    const out = join(dir, 'a', 'b');
    const r = run(['--space', 'int-l', '--tensors', '8', '--clip-tensors', '3', '--n', '1024', '--outliers', '1:100', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/switching error/);
    expect(r.out).toMatch(/^INT4 /m);
    expect(r.out).toMatch(/fit vs lower bit-width/);
    for (const f of ['switching.svg', 'switching-matrix.svg', 'clipping.svg']) {
      expect(checkXml(readFileSync(join(out, f), 'utf8')).error, f).toBeNull();
    }
    const j = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8'));
    expect(j.config).toMatchObject({ space: 'int-l', tensors: 8, clipTensors: 3, n: 1024, outlierRate: 100 });
    expect(j.switching.matrix.length).toBe(6);
    expect(j.clipping.rows.map((x: { format: string }) => x.format)).toEqual(['INT4', 'INT5', 'INT6', 'INT7', 'INT8']);
    expect(r.err).toMatch(/switching: 8\/8/);
  });

  it('accepts fp-s with a tail grid and laplace data', () => {
    const out = join(dir, 'fp');
    const r = run(['--space=fp-s', '--dist', 'laplace', '--tensors', '4', '--n', '512', '--percentiles', 'tail', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(out, 'clipping.svg'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')).clipping.percentiles.length).toBe(101);
  });

  it.each([
    [['--bogus', '1'], /unknown flag --bogus/],
    [['--dist', 'cauchy'], /--dist/],
    [['--tensors', '0'], /--tensors/],
    [['--tensors', '2.5'], /--tensors/],
    [['--outliers', '1:abc'], /outliers/],
    [['--space', 'INT99'], /format/],
    [['--sigma-t', '-1'], /--sigma-t/],
    [['--seed'], /--seed "--out" is not an integer/], // the shared parser takes the next word as the value
    [['--percentiles', 'mid'], /--percentiles "mid" is not one of: paper, tail/],
    [['stray'], /unexpected argument "stray"/],
  ])('%j is a usage error (exit 2)', (args, msg) => {
    const r = run([...args, '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err).toMatch(/^fliqs analyze: .*\(see fliqs analyze --help\)\n$/); // one line, no usage dump
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
