// Search space and cost model: per-layer choices, pins, BOPs of a toy layer list by hand, reachable
// range, target parsing (absolute and relative, good and bad), the unreachable-target error, reward.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { MIN_QUALITY_NOISE, configCost, formatMbops, layerBops, nearestCosts, parseTarget, qualityNoise, reachableRange, reward, uniformCost } from '../src/search/cost.js';
import { buildSearchSpace, configFormats, configRecord } from '../src/search/space.js';

// A toy network: MACs per example of three layers.
const LAYERS = [{ name: 'conv1', macs: 1e6 }, { name: 'conv2', macs: 5e5 }, { name: 'fc', macs: 1e5 }];
const names = (fs: readonly { name: string }[]) => fs.map((f) => f.name);

describe('search space', () => {
  it('gives every layer the preset, a user list or a joint list', () => {
    const s = buildSearchSpace(LAYERS, { space: 'int-s' });
    expect(s.layers.map((l) => names(l.choices))).toEqual([['INT4', 'INT8', 'BF16'], ['INT4', 'INT8', 'BF16'], ['INT4', 'INT8', 'BF16']]);
    expect(s.layers.every((l) => !l.pinned)).toBe(true);
    expect(names(buildSearchSpace(LAYERS, { space: 'fp-l' }).layers[1]!.choices)).toHaveLength(16);
    expect(names(buildSearchSpace(LAYERS, { space: 'int4, e4m3' }).layers[0]!.choices)).toEqual(['INT4', 'E4M3']);
    expect(names(buildSearchSpace(LAYERS, { space: 'int-s+fp-s' }).layers[0]!.choices)).toEqual(['INT4', 'INT8', 'BF16', 'E2M1', 'E4M3']);
    expect(names(buildSearchSpace(LAYERS, { space: ['INT5', 'E5M2'] }).layers[2]!.choices)).toEqual(['INT5', 'E5M2']);
  });

  it('pins layers and fixes the first and last; a pin wins over fixFirstLast', () => {
    const s = buildSearchSpace(LAYERS, { space: 'int-l', fixFirstLast: 'bf16', pins: { fc: 'INT8' } });
    expect(s.layers.map((l) => names(l.choices))).toEqual([['BF16'], ['INT4', 'INT5', 'INT6', 'INT7', 'INT8', 'BF16'], ['INT8']]);
    expect(s.layers.map((l) => l.pinned)).toEqual([true, false, true]);
    expect(configRecord(s, [0, 2, 0])).toEqual({ conv1: 'BF16', conv2: 'INT6', fc: 'INT8' });
    const one = buildSearchSpace([{ name: 'only', macs: 10 }], { space: 'int-s', fixFirstLast: 'E4M3' });
    expect(names(one.layers[0]!.choices)).toEqual(['E4M3']);
  });

  it('rejects bad layers, spaces and pins with FliqsError', () => {
    expect(() => buildSearchSpace([], { space: 'int-s' })).toThrow(/layers/);
    expect(() => buildSearchSpace([{ name: 'a', macs: -1 }], { space: 'int-s' })).toThrow(/macs/);
    expect(() => buildSearchSpace([{ name: 'a', macs: 1 }, { name: 'a', macs: 2 }], { space: 'int-s' })).toThrow(/twice/);
    expect(() => buildSearchSpace(LAYERS, { space: 'int-xl' })).toThrow(FliqsError);
    expect(() => buildSearchSpace(LAYERS, { space: '' })).toThrow(/space/);
    expect(() => buildSearchSpace(LAYERS, { space: 'int-s', pins: { conv9: 'INT8' } })).toThrow(/unknown layer "conv9".*conv1, conv2, fc/);
    expect(() => buildSearchSpace(LAYERS, { space: 'int-s', pins: { fc: 'INT1' } })).toThrow(/pins\.fc/);
    expect(() => buildSearchSpace(LAYERS, { space: 'int-s', fixFirstLast: 'FP8' })).toThrow(/fixFirstLast/);
    const s = buildSearchSpace(LAYERS, { space: 'int-s' });
    expect(() => configFormats(s, [0, 3, 0])).toThrow(/config\[1\].*conv2/);
    expect(() => configCost(s, [0, 1])).toThrow(/3 layers/);
  });
});

describe('cost model', () => {
  const s = buildSearchSpace(LAYERS, { space: 'int-s' });

  it('BOPs = Σ b²·MACs, by hand', () => {
    expect(layerBops('INT8', 1000)).toBe(64000);
    expect(layerBops('E4M3', 10)).toBe(640);
    // INT4·1e6 + INT8·5e5 + BF16·1e5 = 16e6 + 32e6 + 25.6e6
    expect(configCost(s, [0, 1, 2])).toBe(73.6e6);
    expect(uniformCost(s.layers, 'INT8')).toBe(102.4e6);
    expect(uniformCost(LAYERS, 'E2M1')).toBe(25.6e6);
    const r = reachableRange(s);
    expect([r.min, r.max, r.minConfig, r.maxConfig]).toEqual([25.6e6, 409.6e6, [0, 0, 0], [2, 2, 2]]);
    const pinned = buildSearchSpace(LAYERS, { space: 'int-s', fixFirstLast: 'BF16' });
    // BF16·1e6 + {INT4|BF16}·5e5 + BF16·1e5
    expect(reachableRange(pinned)).toMatchObject({ min: 256e6 + 8e6 + 25.6e6, max: 409.6e6 });
    expect(formatMbops(73.6e6)).toBe('73.6 MBOPs');
  });

  it('every configuration costs within the reachable range, and more bits never cost less', () => {
    const big = buildSearchSpace(LAYERS, { space: 'fp-l' });
    const { min, max } = reachableRange(big);
    fc.assert(fc.property(fc.array(fc.nat(15), { minLength: 3, maxLength: 3 }), fc.nat(2), (cfg, l) => {
      const c = configCost(big, cfg);
      expect(c).toBeGreaterThanOrEqual(min);
      expect(c).toBeLessThanOrEqual(max);
      const up = [...cfg]; up[l] = 15; // BF16, the widest choice
      expect(configCost(big, up)).toBeGreaterThanOrEqual(c);
    }), { numRuns: 200, seed: 3 });
  });
});

describe('nearestCosts', () => {
  // every configuration's cost, enumerated
  const allCosts = (space: ReturnType<typeof buildSearchSpace>): number[] => space.layers.reduce<number[]>(
    (acc, l) => acc.flatMap((a) => l.choices.map((f) => a + f.bits * f.bits * l.macs)), [0]);

  it('finds the nearest reachable costs on both sides, by hand', () => {
    const s = buildSearchSpace(LAYERS, { space: 'int-s' }); // 27 configurations
    // INT4·1e6 + INT8·5e5 + INT8·1e5 = 16e6 + 32e6 + 6.4e6 = 54.4e6 and INT8·1e6 + INT4·5e5 + INT4·1e5 =
    // 64e6 + 8e6 + 1.6e6 = 73.6e6 straddle 60e6
    expect(allCosts(s).filter((c) => c > 54.4e6 && c < 73.6e6)).toEqual([]);
    expect(nearestCosts(s, 60e6)).toEqual({ below: 54.4e6, above: 73.6e6 });
    expect(nearestCosts(s, 73.6e6)).toEqual({ below: 73.6e6, above: 73.6e6 });
    expect(nearestCosts(s, 10e6)).toEqual({ below: null, above: 25.6e6 });
    expect(nearestCosts(s, 500e6)).toEqual({ below: 409.6e6, above: null });
    // A coarse grid must not push the nearest cost below across the target: INT4·1e4 + INT8·10001 = 800,064 and
    // INT8·1e4 + INT4·10001 = 800,016 share a cell at resolution 1e-3; keeping the larger one put INT8, INT4, INT4
    // (16,800,016) above 16,800,040 and returned 16,320,016 as the nearest below.
    const tight = buildSearchSpace([{ name: 'a', macs: 10000 }, { name: 'b', macs: 10001 }, { name: 'c', macs: 1e6 }], { space: 'int-s' });
    expect(nearestCosts(tight, 16_800_040, 1e-3).below).toBe(16_800_016);
    expect(nearestCosts(tight, 16_800_040, 1e-3).above).toBe(16_800_064);
    expect(() => nearestCosts(s, 0)).toThrow(FliqsError);
    expect(() => nearestCosts(s, 60e6, Number.POSITIVE_INFINITY)).toThrow(/resolution/);
    expect(() => nearestCosts(s, Number.NaN)).toThrow(/targetBops/);
    expect(() => nearestCosts(s, 60e6, 0)).toThrow(/resolution/);
    expect(() => nearestCosts(s, 60e6, 1e-9)).toThrow(/resolution/);
    expect(() => nearestCosts(s, 60e6, 1e-5, 0.5)).toThrow(/window/);
  });

  it('agrees with enumeration on random spaces: each value is a real cost, within layers·resolution of the true nearest', () => {
    const fmts = ['INT2', 'INT3', 'INT4', 'INT5', 'INT8', 'E2M1', 'E4M3', 'E5M2', 'BF16'];
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 5e6 }), { minLength: 1, maxLength: 6 }),
      fc.uniqueArray(fc.constantFrom(...fmts), { minLength: 1, maxLength: 4 }),
      fc.double({ min: 0.05, max: 1.5, noNaN: true }),
      fc.constantFrom(1e-5, 1e-3),
      (macs, space, where, resolution) => {
        const s = buildSearchSpace(macs.map((m, i) => ({ name: `l${i}`, macs: m })), { space });
        const costs = allCosts(s);
        const { min, max } = reachableRange(s);
        const target = min + where * (max - min) + 1;
        const n = nearestCosts(s, target, resolution);
        const below = costs.filter((c) => c <= target), above = costs.filter((c) => c >= target);
        const slack = macs.length * resolution * target;
        if (below.length === 0) expect(n.below).toBeNull();
        else {
          expect(costs).toContain(n.below);
          expect(n.below!).toBeLessThanOrEqual(target);
          expect(n.below!).toBeGreaterThanOrEqual(Math.max(...below) - slack);
        }
        if (above.length === 0) expect(n.above).toBeNull();
        else {
          expect(costs).toContain(n.above);
          expect(n.above!).toBeGreaterThanOrEqual(target);
          expect(n.above!).toBeLessThanOrEqual(Math.min(...above) + slack);
        }
      }), { numRuns: 300, seed: 11 });
  });
});

describe('cost targets', () => {
  const s = buildSearchSpace(LAYERS, { space: 'int-s' });

  it('parses absolute MBOPs and relative multiples of uniform formats', () => {
    expect(parseTarget(50, s)).toBe(50e6);
    expect(parseTarget('50', s)).toBe(50e6);
    expect(parseTarget('50 MBOPs', s)).toBe(50e6);
    expect(parseTarget('0.1gbops', s)).toBe(1e8);
    expect(parseTarget('3e7bops', s)).toBe(3e7);
    expect(parseTarget('0.5xINT8', s)).toBe(51.2e6);
    expect(parseTarget('0.5×int8', s)).toBe(51.2e6);
    expect(parseTarget(' 1.1 X INT4 ', s)).toBeCloseTo(1.1 * 25.6e6, 3);
    expect(parseTarget('1xINT4', s)).toBe(25.6e6); // the bottom of the range is reachable
    expect(parseTarget('1xbf16', s)).toBe(409.6e6);
    expect(parseTarget('2xE4M3', s)).toBe(204.8e6); // any format, not only those in the space
  });

  it('rejects malformed targets with FliqsError', () => {
    for (const bad of ['abc', 'xINT8', '0.5xINT99', '0xINT8', '-5', '5 TBOPs', '']) {
      expect(() => parseTarget(bad, s), bad).toThrow(FliqsError);
    }
    expect(() => parseTarget(0, s)).toThrow(/target/);
    expect(() => parseTarget(Number.NaN, s)).toThrow(/target/);
    expect(() => parseTarget('0.5xINT99', s)).toThrow(/INT99/);
  });

  it('an unreachable target names the reachable range and the uniform formats around it', () => {
    expect(() => parseTarget('0.1xINT8', s)).toThrow(/10\.24 MBOPs.*outside the reachable range 25\.6 MBOPs to 409\.6 MBOPs.*below uniform INT4 \(25\.6 MBOPs\)/);
    expect(() => parseTarget(500, s)).toThrow(/500 MBOPs is outside the reachable range 25\.6 MBOPs to 409\.6 MBOPs.*above uniform BF16 \(409\.6 MBOPs\)/);
    const pinned = buildSearchSpace(LAYERS, { space: 'int-s', fixFirstLast: 'BF16' });
    let err: unknown;
    try { parseTarget('1xINT8', pinned); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FliqsError);
    expect((err as FliqsError).message).toMatch(/102\.4 MBOPs \("1xINT8"\) is outside the reachable range 289\.6 MBOPs to 409\.6 MBOPs.*between uniform INT8 \(102\.4 MBOPs\) and uniform BF16 \(409\.6 MBOPs\)/);
  });
});

describe('qualityNoise', () => {
  it('is the std of Q from successive differences: a trend does not count, a floor keeps it > 0', () => {
    expect(qualityNoise([0.8, 0.9, 0.8, 0.9])).toBeCloseTo(0.1 / Math.SQRT2, 15);
    // a straight rise: every difference 0.01, √(0.01²/2) — the level itself is ignored
    expect(qualityNoise([0.5, 0.51, 0.52, 0.53])).toBeCloseTo(0.01 / Math.SQRT2, 15);
    // i.i.d. noise of known σ: the estimate lands near it (4000 draws: relative error ≈ 1/√(2·4000)·√1.5)
    const rng = new Rng(4);
    const qs = Array.from({ length: 4000 }, (_, i) => 0.7 + i * 1e-5 + 0.04 * rng.normal());
    expect(Math.abs(qualityNoise(qs) / 0.04 - 1)).toBeLessThan(0.05);
    expect(qualityNoise([0.9, 0.9, 0.9])).toBe(MIN_QUALITY_NOISE);
    expect(qualityNoise([0.9, 0.9, 0.9, 0.92], 1 / 64)).toBe(1 / 64); // an accuracy's resolution on 64 images
    expect(() => qualityNoise([0.9, 0.8], 0)).toThrow(/floor/);
    for (const bad of [[], [0.5], [0.5, Number.NaN], 'x']) expect(() => qualityNoise(bad as number[])).toThrow(FliqsError);
  });
});

describe('reward', () => {
  it('r = Q − γ·|C/C_T − 1|', () => {
    expect(reward(0.9, 12e6, 10e6, 0.5)).toBeCloseTo(0.9 - 0.5 * 0.2, 15);
    expect(reward(0.9, 8e6, 10e6, 0.5)).toBeCloseTo(0.9 - 0.5 * 0.2, 15);
    expect(reward(0.9, 10e6, 10e6, 5)).toBe(0.9);
    expect(reward(0.9, 20e6, 10e6, 5)).toBeCloseTo(0.9 - 5, 15);
    expect(reward(0.9, 20e6, 10e6, 0)).toBe(0.9);
    expect(() => reward(Number.NaN, 1, 1, 1)).toThrow(/quality/);
    expect(() => reward(1, 1, 0, 1)).toThrow(/target/);
    expect(() => reward(1, 1, 1, -1)).toThrow(/gamma/);
  });
});
