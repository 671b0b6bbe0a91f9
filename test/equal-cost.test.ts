// Uniform configurations at equal cost (src/search/equal-cost.ts) against brute-force enumeration: the count,
// draws inside the band, uniformity over the band (a frequency test that rejects a plausible wrong sampler),
// determinism, and the errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { configCost } from '../src/search/cost.js';
import { countConfigsNearCost, equalCostSampler, sampleConfigNearCost } from '../src/search/equal-cost.js';
import { buildSearchSpace, type SearchSpace } from '../src/search/space.js';

const space = (macs: readonly number[], formats: string | readonly string[]): SearchSpace =>
  buildSearchSpace(macs.map((m, i) => ({ name: `l${i}`, macs: m })), { space: formats });

/** Every configuration of a space with its cost (configCost), in lexicographic order. */
function enumerate(s: SearchSpace): Array<{ config: number[]; cost: number }> {
  let configs: number[][] = [[]];
  for (const l of s.layers) configs = configs.flatMap((c) => l.choices.map((_, i) => [...c, i]));
  return configs.map((config) => ({ config, cost: configCost(s, config) }));
}
const inBand = (cost: number, target: number, tol: number): boolean => cost >= (1 - tol) * target && cost <= (1 + tol) * target;

/**
 * True when every one of k outcomes occurs within 5 binomial standard deviations of n/k and Pearson's χ² is below
 * the 1e-6 upper quantile (Wilson–Hilferty) of χ²(k − 1): a uniform sampler fails either with probability < 1e-5.
 */
function looksUniform(counts: readonly number[], n: number): boolean {
  const k = counts.length, e = n / k, sd = Math.sqrt(n * (1 / k) * (1 - 1 / k));
  const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
  const df = k - 1, z = 4.753; // the 1 − 1e-6 normal quantile
  const bound = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
  return counts.every((c) => Math.abs(c - e) <= 5 * sd) && chi2 <= bound;
}

describe('countConfigsNearCost and sampleConfigNearCost against enumeration', () => {
  // odd bit-widths (3, 5, 7) so costs rarely tie, plus INT5/E2M2 and E3M3/INT7 pairs of equal bits (one cost group)
  const FORMATS = ['INT3', 'INT5', 'E2M2', 'INT7', 'E3M3', 'E5M1', 'INT4', 'BF16'];
  const macs = fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 499 }).map((x) => 2 * x + 1), fc.integer({ min: 1, max: 5e6 }));

  it('the count is the number of in-band configurations, and every draw is one of them', () => {
    fc.assert(fc.property(
      fc.array(macs, { minLength: 1, maxLength: 6 }),
      fc.uniqueArray(fc.constantFrom(...FORMATS), { minLength: 1, maxLength: 4 }),
      fc.nat(), fc.double({ min: 0.8, max: 1.25, noNaN: true }),
      fc.constantFrom(0.1, 0.02, 0.3, 0),
      fc.constantFrom(undefined, 1e-3, 0.05),
      (m, formats, pick, scale, tol, resolution) => {
        const s = space(m, formats);
        const all = enumerate(s);
        // a target at a configuration's cost, moved by up to ±25% (tolerance 0: exactly at it)
        const target = all[pick % all.length]!.cost * (tol === 0 ? 1 : scale);
        if (!(target > 0)) return;
        const want = all.filter((c) => inBand(c.cost, target, tol));
        const sampler = equalCostSampler(s, target, tol, resolution === undefined ? {} : { resolution });
        expect(sampler.exact).toBe(true);
        expect(sampler.count).toBe(want.length);
        expect(countConfigsNearCost(s, target, tol, resolution === undefined ? {} : { resolution })).toBe(want.length);
        const rng = new Rng(pick % 1000);
        if (want.length === 0) {
          expect(() => sampler.sample(rng)).toThrow(FliqsError);
          return;
        }
        const keys = new Set(want.map((c) => c.config.join(',')));
        for (let i = 0; i < 10; i++) expect(keys.has(sampler.sample(rng).join(','))).toBe(true);
      }), { numRuns: 150, seed: 5 });
  });

  it('draws are uniform over the band (6000 draws), at a fine and at a coarse grid; a per-cost sampler fails the same test', () => {
    // 4 layers of int3/int5/e2m2/int7: INT5 and E2M2 share a cost, so in-band costs come with different multiplicities
    const s = space([3, 7, 11, 29], ['INT3', 'INT5', 'E2M2', 'INT7']);
    const target = 900, tol = 0.06;
    const band = enumerate(s).filter((c) => inBand(c.cost, target, tol));
    expect(band.length).toBeGreaterThanOrEqual(6);
    expect(band.length).toBeLessThanOrEqual(20);
    const index = new Map(band.map((c, i) => [c.config.join(','), i]));
    const n = 6000;
    for (const resolution of [undefined, 0.05]) {
      const sampler = equalCostSampler(s, target, tol, resolution === undefined ? {} : { resolution });
      const counts = new Array<number>(band.length).fill(0);
      const rng = new Rng(123);
      for (let i = 0; i < n; i++) counts[index.get(sampler.sample(rng).join(','))!]!++;
      expect(looksUniform(counts, n), `resolution ${resolution}: ${counts.join(' ')}`).toBe(true);
    }
    // the same test rejects draws uniform over the distinct costs rather than over the configurations
    const costs = [...new Set(band.map((c) => c.cost))];
    expect(costs.length).toBeLessThan(band.length);
    const rng = new Rng(123), counts = new Array<number>(band.length).fill(0);
    for (let i = 0; i < n; i++) {
      const cost = costs[rng.int(costs.length)];
      const at = band.map((c, j) => [c, j] as const).filter(([c]) => c.cost === cost);
      counts[at[rng.int(at.length)]![1]]!++;
    }
    expect(looksUniform(counts, n)).toBe(false);
  });

  it('is deterministic: the same seed gives the same draws', () => {
    const s = space([1e6, 5e5, 1e5, 3e5, 7e4], 'int-l');
    const target = 0.5 * 64 * (1e6 + 5e5 + 1e5 + 3e5 + 7e4);
    const draw = (seed: number) => { const rng = new Rng(seed); return Array.from({ length: 30 }, () => sampleConfigNearCost(s, target, rng).join(',')); };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
    for (const c of draw(9)) expect(inBand(configCost(s, c.split(',').map(Number)), target, 0.1)).toBe(true);
  });

  it('counts spaces too large to enumerate here: layers of equal MACs, whose count is a DP over integer Σ bits²', () => {
    const bandCount = (layers: number, m: number, target: number): number => {
      const sq = [16, 25, 36, 49, 64, 256]; // int-l
      let ways = new Map<number, number>([[0, 1]]);
      for (let l = 0; l < layers; l++) {
        const next = new Map<number, number>();
        for (const [v, n] of ways) for (const b of sq) next.set(v + b, (next.get(v + b) ?? 0) + n);
        ways = next;
      }
      let want = 0;
      for (const [v, n] of ways) if (inBand(v * m, target, 0.1)) want += n;
      return want;
    };
    // 12 layers (2e9 configurations): exact
    const s12 = space(new Array(12).fill(1000), 'int-l'), t12 = 0.5 * 64 * 12 * 1000;
    const exact = equalCostSampler(s12, t12);
    expect(exact.count).toBe(bandCount(12, 1000, t12));
    expect(exact.exact).toBe(true);
    // 26 layers on a coarse grid: too many edge configurations to check one by one, so the count is estimated
    const s26 = space(new Array(26).fill(1000), 'int-l'), t26 = 0.5 * 64 * 26 * 1000;
    const rough = equalCostSampler(s26, t26, 0.1, { resolution: 2e-3 });
    const want = bandCount(26, 1000, t26);
    expect(rough.exact).toBe(false);
    expect(Math.abs(rough.count / want - 1)).toBeLessThan(0.05);
    for (let i = 0, rng = new Rng(1); i < 20; i++) expect(inBand(configCost(s26, rough.sample(rng)), t26, 0.1)).toBe(true);
  });
});

describe('errors', () => {
  const LAYERS = [{ name: 'conv1', macs: 1e6 }, { name: 'conv2', macs: 5e5 }, { name: 'fc', macs: 1e5 }];
  const s = buildSearchSpace(LAYERS, { space: 'int-s' });

  it('a band without a configuration: count 0, and a draw names the band and the nearest reachable costs', () => {
    // the nearest costs around 60e6 are 54.4e6 and 73.6e6 (test/cost.test.ts)
    expect(countConfigsNearCost(s, 60e6, 0.05)).toBe(0);
    let err: unknown;
    try { sampleConfigNearCost(s, 60e6, new Rng(0), 0.05); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FliqsError);
    expect((err as FliqsError).input).toBe('targetBops');
    expect((err as FliqsError).message).toMatch(
      /no configuration costs within ±5% of 60 MBOPs \(57 MBOPs to 63 MBOPs\); the nearest reachable costs are 54\.4 MBOPs \(0\.907× the target\) below and 73\.6 MBOPs \(1\.227× the target\) above/);
    expect(countConfigsNearCost(s, 60e6, 0.1)).toBe(1); // 54.4e6 is inside ±10%
    expect(countConfigsNearCost(s, 1e6)).toBe(0);
    expect(() => sampleConfigNearCost(s, 1e6, new Rng(0))).toThrow(/nearest reachable costs are none below and 25\.6 MBOPs/);
  });

  it('rejects bad inputs with FliqsError naming them', () => {
    const rng = new Rng(0);
    const cases: Array<[() => unknown, RegExp]> = [
      [() => sampleConfigNearCost(s, 0, rng), /^targetBops: got 0; accepted: a finite number > 0/],
      [() => sampleConfigNearCost(s, Number.NaN, rng), /^targetBops/],
      [() => sampleConfigNearCost(s, 60e6, rng, -0.1), /^tolerance: got -0\.1/],
      [() => sampleConfigNearCost(s, 60e6, rng, 1), /^tolerance/],
      [() => sampleConfigNearCost(s, 60e6, {} as Rng), /^rng: got Object; accepted: an Rng/],
      [() => sampleConfigNearCost({ layers: [] }, 60e6, rng), /^space: has no layers/],
      [() => countConfigsNearCost({ layers: [{ name: 'a', macs: -1, choices: s.layers[0]!.choices, pinned: false }] }, 60e6), /^space\.layers\[0\]\.macs/],
      [() => countConfigsNearCost({ layers: [{ name: 'a', macs: 1, choices: [], pinned: false }] }, 60e6), /^space\.layers\[0\]\.choices/],
      [() => countConfigsNearCost(s, 60e6, 0.1, { resolution: 0 }), /^resolution: got 0/],
      [() => countConfigsNearCost(s, 60e6, 0.1, { resolution: 1e-9 }), /^resolution: .*cells per layer/],
    ];
    for (const [f, re] of cases) {
      expect(f, re.source).toThrow(FliqsError);
      expect(f, re.source).toThrow(re);
    }
  });
});
