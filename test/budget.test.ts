// The most probable configuration within a cost band (src/search/budget.ts) against brute-force enumeration
// on random small spaces with integer costs (a cell of ≤ 1 BOP makes the DP exact), hand cases, and errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { mostProbableInBand } from '../src/search/budget.js';
import { configCost } from '../src/search/cost.js';
import { buildSearchSpace, type SearchSpace } from '../src/search/space.js';

const space = (macs: readonly number[], formats: string | readonly string[]): SearchSpace =>
  buildSearchSpace(macs.map((m, i) => ({ name: `l${i}`, macs: m })), { space: formats });

function enumerate(s: SearchSpace): number[][] {
  let configs: number[][] = [[]];
  for (const l of s.layers) configs = configs.flatMap((c) => l.choices.map((_, i) => [...c, i]));
  return configs;
}
const logp = (c: readonly number[], lp: readonly number[][]): number => c.reduce((s, a, l) => s + lp[l]![a]!, 0);

describe('mostProbableInBand', () => {
  it('matches enumeration: the in-band configuration of highest Σ log π, or null when none is in band', () => {
    const FORMATS = ['INT3', 'INT4', 'INT5', 'INT7', 'E4M3', 'BF16'];
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(fc.constantFrom(...FORMATS), { minLength: 1, maxLength: 4 }),
      fc.nat(), fc.double({ min: 0.7, max: 1.4, noNaN: true }), fc.constantFrom(0.1, 0.02, 0.3), fc.nat({ max: 2 ** 32 - 1 }),
      (macs, formats, pick, scale, tol, seed) => {
        const s = space(macs, formats);
        const all = enumerate(s);
        const target = configCost(s, all[pick % all.length]!) * scale;
        // random log-probabilities (ties between configurations have probability 0)
        const rng = new Rng(seed);
        const lp = s.layers.map((l) => l.choices.map(() => -5 * rng.uniform()));
        const inBand = all.filter((c) => Math.abs(configCost(s, c) / target - 1) <= tol);
        // a cell of ≤ 1 BOP: every cell holds one sum, the DP is exact
        const resolution = Math.max(1 / target, (1 + tol) / 1e7);
        const got = mostProbableInBand(s, lp, target, tol, resolution);
        if (inBand.length === 0 || resolution > 1 / target) {
          if (inBand.length === 0) expect(got).toBeNull();
          return;
        }
        const want = inBand.reduce((b, c) => (logp(c, lp) > logp(b, lp) ? c : b));
        expect(got, `macs ${macs} formats ${formats} target ${target} tol ${tol} seed ${seed} lp ${JSON.stringify(lp)}`).toEqual(want);
      }), { numRuns: 300 });
  });

  it('is the argmax when that is in band, and moves the fewest-cost-in-log-probability layers otherwise (hand case)', () => {
    // four equal layers, INT4/INT8; target = two INT8 layers; ±10% admits exactly two INT8 layers
    const s = space([10, 10, 10, 10], ['INT4', 'INT8']);
    const target = 2 * 64 * 10 + 2 * 16 * 10;
    const lp = (p: number[]): number[][] => p.map((q) => [Math.log(1 - q), Math.log(q)]); // q = π(INT8)
    expect(mostProbableInBand(s, lp([0.9, 0.8, 0.1, 0.2]), target)).toEqual([1, 1, 0, 0]); // the argmax, in band
    // argmax all INT4 (cost 0.4×): the two layers least sure of INT4 get INT8
    expect(mostProbableInBand(s, lp([0.3, 0.45, 0.1, 0.2]), target)).toEqual([1, 1, 0, 0]);
    expect(mostProbableInBand(s, lp([0.1, 0.45, 0.2, 0.3]), target)).toEqual([0, 1, 0, 1]);
    // argmax all INT8 (1.6×): the two least sure of INT8 drop to INT4
    expect(mostProbableInBand(s, lp([0.9, 0.6, 0.7, 0.95]), target)).toEqual([1, 0, 0, 1]);
    // −Infinity (π = 0) is never chosen
    expect(mostProbableInBand(s, [[0, -Infinity], [0, -Infinity], [-1, -2], [-1, -2]], target)).toEqual([0, 0, 1, 1]);
    expect(mostProbableInBand(s, [[0, -Infinity], [0, -Infinity], [0, -Infinity], [-1, -2]], target)).toBeNull();
    // no configuration within ±10% of 1.15× the target (two INT8 layers cost 0.87× that, three 1.13×)
    expect(mostProbableInBand(s, lp([0.5, 0.5, 0.5, 0.5]), 1.15 * target)).toBeNull();
  });

  it('rejects bad input with FliqsError', () => {
    const s = space([10, 10], ['INT4', 'INT8']);
    const ok = [[-1, -1], [-1, -1]];
    expect(() => mostProbableInBand(s, [[-1, -1]], 1000)).toThrow(FliqsError);
    expect(() => mostProbableInBand(s, [[-1, Number.NaN], [-1, -1]], 1000)).toThrow(/logProbs/);
    expect(() => mostProbableInBand(s, ok, 0)).toThrow(/targetBops/);
    expect(() => mostProbableInBand(s, ok, 1000, 1)).toThrow(/tolerance/);
    expect(() => mostProbableInBand(s, ok, 1000, 0.1, 1e-9)).toThrow(/resolution/);
    expect(() => mostProbableInBand(null as unknown as SearchSpace, ok, 1000)).toThrow(/space/);
  });
});
