// FLIQS controller: policy-gradient and entropy-gradient maths against hand values and finite
// differences, the schedule, the baseline, one Adam step by hand, bandit convergence, cost-target
// tracking, uniform warm-up, determinism and bit-exact resume.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { Controller, DEFAULT_BASELINE_MOMENTUM, type ControllerOptions, type ControllerState } from '../src/search/controller.js';
import { configCost, parseTarget, reward } from '../src/search/cost.js';
import { entropyWeight, progress, warmupSteps } from '../src/search/schedule.js';
import { buildSearchSpace } from '../src/search/space.js';

/** A controller whose logits are set through the public state API. */
function withLogits(logits: number[][], opts: Partial<ConstructorParameters<typeof Controller>[1]> = {}): Controller {
  const ctl = new Controller(logits.map((r) => r.length), { totalSteps: 100, warmupFraction: 0, ...opts });
  const s = ctl.stateDict();
  ctl.loadStateDict({ ...s, logits: logits.map((r) => [...r]) });
  return ctl;
}

// Independent f64 reference of the objective pieces, straight from the definitions.
function refLogSoftmax(th: number[]): number[] {
  const z = th.reduce((a, x) => a + Math.exp(x), 0);
  return th.map((x) => x - Math.log(z));
}
function refH(logits: number[][]): number {
  let h = 0;
  for (const th of logits) for (const lp of refLogSoftmax(th)) h -= Math.exp(lp) * lp;
  return h;
}
function refJ(logits: number[][], config: number[], A: number, betaH: number): number {
  let lp = 0;
  logits.forEach((th, l) => { lp += refLogSoftmax(th)[config[l]!]!; });
  return A * lp - betaH * refH(logits);
}
function centralDiff(f: (x: number[][]) => number, x: number[][], h = 1e-5): number[][] {
  return x.map((row, l) => row.map((_, i) => {
    const up = x.map((r) => [...r]), dn = x.map((r) => [...r]);
    up[l]![i]! += h; dn[l]![i]! -= h;
    return (f(up) - f(dn)) / (2 * h);
  }));
}

const logitRows = fc.array(fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 2, maxLength: 7 }), { minLength: 1, maxLength: 4 });

describe('controller gradients', () => {
  it('REINFORCE gradient of log π for a 3-choice layer matches the hand values', () => {
    // θ = [0, ln 2, ln 5] → π = [1/8, 2/8, 5/8]; α = 1, A = 0.5: g = A·(e_α − π) = [−1/16, 3/8, −5/16].
    const ctl = withLogits([[0, Math.log(2), Math.log(5)]]);
    const p = ctl.probabilities()[0]!;
    [1 / 8, 1 / 4, 5 / 8].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 14));
    const g = ctl.gradient([1], 0.5, 0)[0]!;
    [-1 / 16, 3 / 8, -5 / 16].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 14));
    // The gradient of log-softmax sums to 0 over the choices.
    expect(g[0]! + g[1]! + g[2]!).toBeCloseTo(0, 14);
  });

  it('entropy gradient equals −∂H/∂θ by central finite differences (f64)', () => {
    // With A = 0 and β_H = 1, ∂J/∂θ = −∂H/∂θ = π·(log π + H_l). Central differences with h = 1e-5
    // have truncation error O(h²·|H'''|) ≈ 1e-10 and rounding error ≈ 1e-16/h = 1e-11; bound 1e-7.
    fc.assert(fc.property(logitRows, (logits) => {
      const ctl = withLogits(logits);
      const g = ctl.gradient(logits.map(() => 0), 0, 1);
      const fd = centralDiff(refH, logits);
      fd.forEach((row, l) => row.forEach((d, i) => expect(Math.abs(g[l]![i]! + d)).toBeLessThan(1e-7)));
      const ent = ctl.entropy();
      expect(ent.total).toBeCloseTo(refH(logits), 12);
    }), { numRuns: 60, seed: 7 });
  });

  it('the combined gradient of J = A·Σ log π(α) − β_H·H matches finite differences', () => {
    fc.assert(fc.property(logitRows, fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.nat(),
      (logits, A, betaH, pick) => {
        const config = logits.map((r, l) => (pick + 3 * l) % r.length);
        const ctl = withLogits(logits);
        const g = ctl.gradient(config, A, betaH);
        const fd = centralDiff((x) => refJ(x, config, A, betaH), logits);
        fd.forEach((row, l) => row.forEach((d, i) => expect(Math.abs(g[l]![i]! - d)).toBeLessThan(1e-7 * (1 + Math.abs(A)))));
      }), { numRuns: 60, seed: 11 });
  });

  it('a single-choice (pinned) layer has zero gradient and zero entropy', () => {
    const ctl = withLogits([[0.3], [1, 2]]);
    const g = ctl.gradient([0, 1], -0.7, 0.5);
    expect(Math.abs(g[0]![0]!)).toBe(0);
    expect(ctl.entropy().perLayer[0]).toBe(0);
  });
});

describe('schedules', () => {
  it('β_H(s) = β_end·(1 − cos πs)/2 at s = 0, ½, 1 and matches the paper\'s form of Eq. 9', () => {
    expect(entropyWeight(0)).toBe(0);
    expect(entropyWeight(0.5)).toBeCloseTo(0.25, 15);
    expect(entropyWeight(1)).toBeCloseTo(0.5, 15);
    expect(entropyWeight(0.5, 2)).toBeCloseTo(1, 15);
    for (const s of [0.1, 0.3, 0.77]) expect(entropyWeight(s)).toBeCloseTo(-0.5 * 0.5 * (1 + Math.cos(Math.PI * s)) + 0.5, 15);
    expect(() => entropyWeight(1.5)).toThrow(FliqsError);
  });

  it('warm-up covers t < 0.25 T', () => {
    expect(warmupSteps(1000)).toBe(250);
    expect(warmupSteps(10)).toBe(3); // t = 0, 1, 2 < 2.5
    expect(progress(250, 1000)).toBe(0.25);
    const ctl = new Controller([3], { totalSteps: 10 });
    expect([0, 1, 2, 3].map((t) => ctl.isWarmup(t))).toEqual([true, true, true, false]);
  });
});

describe('baseline and Adam', () => {
  it('advantage uses r̄ before the update; r̄ starts at the first reward', () => {
    const ctl = new Controller([2, 3], { totalSteps: 10, warmupFraction: 0, baselineMomentum: 0.5 });
    const seq = [1, 2, 4, 0].map((r, t) => { ctl.sample(t); return ctl.update(t, r); });
    expect(seq.map((u) => u.advantage)).toEqual([0, 1, 2.5, -2.75]);
    expect(seq.map((u) => u.baseline)).toEqual([1, 1.5, 2.75, 1.375]);
    expect(DEFAULT_BASELINE_MOMENTUM).toBe(0.95);
  });

  it('two Adam ascent steps match a hand computation', () => {
    const lr = 4.6e-3, b1 = 0.95, b2 = 0.999, eps = 1e-8;
    const th0 = [0, Math.log(2), Math.log(5)];
    const ctl = withLogits([th0], { totalSteps: 4 });
    // Step t = 2 (s = ½, β_H = ¼), first update: A = 0, so g = ¼·π·(log π + H).
    const p = [1 / 8, 1 / 4, 5 / 8], H = -p.reduce((a, q) => a + q * Math.log(q), 0);
    const g1 = p.map((q) => 0.25 * q * (Math.log(q) + H));
    ctl.update(2, 0.3, [2]);
    // k = 1: m = (1−β1)g, v = (1−β2)g², θ += lr/(1−β1)·m/(√v/√(1−β2) + eps) = lr·g/(|g| + eps).
    const th1 = th0.map((x, i) => x + lr * g1[i]! / (Math.abs(g1[i]!) + eps));
    ctl.logitValues()[0]!.forEach((x, i) => expect(x).toBeCloseTo(th1[i]!, 14));
    // Step t = 3 (s = ¾), α = 0, r = 1 → A = 1 − 0.3 = 0.7.
    const lp = refLogSoftmax(th1), p2 = lp.map(Math.exp), H2 = -p2.reduce((a, q, i) => a + q * lp[i]!, 0);
    const bH = 0.5 * (1 - Math.cos(0.75 * Math.PI)) / 2;
    const g2 = p2.map((q, i) => 0.7 * ((i === 0 ? 1 : 0) - q) + bH * q * (lp[i]! + H2));
    const m1 = g1.map((g) => (1 - b1) * g), v1 = g1.map((g) => (1 - b2) * g * g);
    const m2 = m1.map((m, i) => b1 * m + (1 - b1) * g2[i]!), v2 = v1.map((v, i) => b2 * v + (1 - b2) * g2[i]! ** 2);
    const th2 = th1.map((x, i) => x + (lr / (1 - b1 ** 2)) * m2[i]! / (Math.sqrt(v2[i]!) / Math.sqrt(1 - b2 ** 2) + eps));
    const u = ctl.update(3, 1, [0]);
    expect(u.advantage).toBeCloseTo(0.7, 15);
    ctl.logitValues()[0]!.forEach((x, i) => expect(x).toBeCloseTo(th2[i]!, 13));
  });
});

/** Runs a synthetic bandit: reward = fraction of layers on their hidden best choice + N(0, σ²). */
function bandit(counts: number[], T: number, seed: number, sigma = 0.05) {
  const env = new Rng(1000 + seed);
  const best = counts.map((n) => env.int(n));
  const ctl = new Controller(counts, { totalSteps: T, seed });
  const entropyTrace: number[] = [];
  for (let t = 0; t < T; t++) {
    const c = ctl.sample(t);
    ctl.update(t, c.filter((a, l) => a === best[l]).length / counts.length + sigma * env.normal());
    if (t % 500 === 0) entropyTrace.push(ctl.entropy().total);
  }
  return { ctl, best, entropyTrace };
}

describe('convergence', () => {
  it('on a 6-layer bandit (3…16 choices) finds every best choice and entropy falls below 0.05 nats/layer in 4000 steps', () => {
    const counts = [3, 4, 6, 8, 12, 16];
    for (const seed of [1, 2]) {
      const { ctl, best, entropyTrace } = bandit(counts, 4000, seed);
      expect(ctl.argmax(), `seed ${seed}`).toEqual(best);
      const h = ctl.entropy();
      h.perLayer.forEach((x, l) => expect(x, `seed ${seed} layer ${l}`).toBeLessThan(0.05));
      // Entropy starts at Σ ln n (uniform) and falls.
      expect(entropyTrace[0]).toBeCloseTo(counts.reduce((a, n) => a + Math.log(n), 0), 10);
      expect(entropyTrace[entropyTrace.length - 1]!).toBeLessThan(entropyTrace[2]!);
      ctl.probabilities().forEach((p, l) => expect(p[best[l]!]).toBeGreaterThan(0.99));
    }
  });

  it('with the cost term and γ = 10 the argmax meets the cost target within ±10% (30000 steps)', () => {
    // Quality is pure noise, so only the cost term |C/C_T − 1| steers the policy.
    const layers = [3, 1, 4, 1, 5, 9, 2, 6].map((k, i) => ({ name: `l${i}`, macs: k * 1e5 }));
    const space = buildSearchSpace(layers, { space: 'int-l' });
    for (const [target, seed] of [['0.6xINT8', 1], ['0.8xINT8', 2], ['1.5xINT8', 3]] as const) {
      const T = 30000, env = new Rng(100 + seed), C_T = parseTarget(target, space);
      const ctl = new Controller(space, { totalSteps: T, seed });
      for (let t = 0; t < T; t++) {
        const c = ctl.sample(t);
        ctl.update(t, reward(0.01 * env.normal(), configCost(space, c), C_T, 10));
      }
      const ratio = configCost(space, ctl.argmax()) / C_T;
      expect(ratio, target).toBeGreaterThan(0.9);
      expect(ratio, target).toBeLessThan(1.1);
      expect(ctl.entropy().total, target).toBeLessThan(0.05 * layers.length);
    }
  });
});

describe('warm-up', () => {
  it('samples uniformly (chi-square over 12000 draws) and leaves the logits alone', () => {
    const counts = [3, 5, 16];
    const ctl = new Controller(counts, { totalSteps: 48000, seed: 5 });
    const before = ctl.stateDict();
    const hist = counts.map((n) => new Array<number>(n).fill(0));
    const N = 12000; // all within the warm-up (t < 12000)
    for (let t = 0; t < N; t++) {
      const c = ctl.sample(t);
      c.forEach((a, l) => { hist[l]![a]!++; });
      const u = ctl.update(t, t % 7 === 0 ? 5 : -1);
      expect(u.updated).toBe(false);
    }
    // χ² with n − 1 degrees of freedom; 99.9% quantiles: df 2 → 13.8, df 4 → 18.5, df 15 → 37.7.
    const crit: Record<number, number> = { 3: 13.8, 5: 18.5, 16: 37.7 };
    hist.forEach((h, l) => {
      const e = N / counts[l]!;
      const chi2 = h.reduce((a, o) => a + (o - e) ** 2 / e, 0);
      expect(chi2, `layer ${l} counts ${h.join(',')}`).toBeLessThan(crit[counts[l]!]!);
    });
    const after = ctl.stateDict();
    expect(after.logits).toEqual(before.logits);
    expect(after.adamM).toEqual(before.adamM);
    expect(after.baseline).toBeNull();
    // A strongly skewed policy would fail the same test, so the check can fail.
    const skew = withLogits([[3, 0, 0]], { totalSteps: 100 });
    let zeros = 0;
    for (let t = 0; t < 3000; t++) zeros += skew.sample(t % 100)[0] === 0 ? 1 : 0;
    const e = 1000;
    expect((zeros - e) ** 2 / e).toBeGreaterThan(13.8);
  });
});

describe('determinism and resume', () => {
  function run(ctl: Controller, from: number, to: number, env: Rng, trace: number[][]): void {
    for (let t = from; t < to; t++) {
      const c = ctl.sample(t);
      trace.push(c);
      ctl.update(t, c.reduce((a, x) => a + x, 0) / 10 + 0.1 * env.normal());
    }
  }

  it('same seed → same trace; another seed → another trace', () => {
    const mk = (seed: number) => { const ctl = new Controller([3, 6, 1, 4], { totalSteps: 400, seed }); const tr: number[][] = []; run(ctl, 0, 400, new Rng(9), tr); return { ctl, tr }; };
    const a = mk(3), b = mk(3), c = mk(4);
    expect(a.tr).toEqual(b.tr);
    expect(a.ctl.stateDict()).toEqual(b.ctl.stateDict());
    expect(a.tr).not.toEqual(c.tr);
  });

  it('resuming from a JSON stateDict mid-run equals the uninterrupted run bit for bit', () => {
    const T = 600, counts = [3, 6, 1, 4, 16];
    for (const cut of [100, 150, 437]) { // inside the warm-up, at its end, in the search phase
      const full = new Controller(counts, { totalSteps: T, seed: 21 });
      const envA = new Rng(5), trA: number[][] = [];
      run(full, 0, T, envA, trA);

      const first = new Controller(counts, { totalSteps: T, seed: 21 });
      const envB = new Rng(5), trB: number[][] = [];
      run(first, 0, cut, envB, trB);
      const saved = JSON.parse(JSON.stringify(first.stateDict())) as ControllerState;
      const resumed = new Controller(counts, { totalSteps: T, seed: 999 }); // seed comes from the state
      resumed.loadStateDict(saved);
      run(resumed, cut, T, envB, trB);

      expect(trB, `cut ${cut}`).toEqual(trA);
      const a = full.stateDict(), b = resumed.stateDict();
      expect(b).toEqual(a);
      a.logits.flat().forEach((x, i) => expect(Object.is(x, b.logits.flat()[i]), `cut ${cut}`).toBe(true));
    }
  });
});

describe('bad input', () => {
  it('throws FliqsError naming the input', () => {
    expect(() => new Controller([], { totalSteps: 10 })).toThrow(/space/);
    expect(() => new Controller([3, 0], { totalSteps: 10 })).toThrow(FliqsError);
    expect(() => new Controller([3], { totalSteps: 0 })).toThrow(/totalSteps/);
    expect(() => new Controller([3], { totalSteps: 10, lr: -1 })).toThrow(/lr/);
    expect(() => new Controller([3], { totalSteps: 10, betas: [1, 0.9] })).toThrow(/betas/);
    expect(() => new Controller([3], { totalSteps: 10, baselineMomentum: 1 })).toThrow(/baselineMomentum/);
    const ctl = new Controller([3, 2], { totalSteps: 10, warmupFraction: 0 });
    expect(() => ctl.sample(10)).toThrow(/step/);
    expect(() => ctl.sample(1.5)).toThrow(FliqsError);
    expect(() => ctl.update(0, 1)).toThrow(/sample/);
    expect(() => ctl.update(0, Number.NaN, [0, 0])).toThrow(/reward/);
    expect(() => ctl.update(0, 1, [0, 2])).toThrow(/config\[1\]/);
    expect(() => ctl.update(0, 1, [0])).toThrow(/config/);
    const other = new Controller([3, 3], { totalSteps: 10 });
    expect(() => ctl.loadStateDict(other.stateDict())).toThrow(/choices/);
    expect(() => ctl.loadStateDict({ ...ctl.stateDict(), logits: [[0, 0, 0], [0]] })).toThrow(/logits/);
  });

  it('a state with one bad option throws and leaves the controller untouched', () => {
    const counts = [3, 5, 2], T = 40;
    // A donor in the search phase, with other hyper-parameters, seed and logits than the target.
    const donor = new Controller(counts, { totalSteps: T, seed: 8, lr: 0.5, betas: [0.5, 0.9], entropyEnd: 0.1, warmupFraction: 0 });
    for (let t = 0; t < 5; t++) { donor.sample(t); donor.update(t, t % 2); }
    const good = donor.stateDict();
    const mk = () => new Controller(counts, { totalSteps: T, seed: 3 });
    const target = mk(), untouched = mk();
    const badStates: ControllerState[] = [
      { ...good, options: { ...good.options, eps: -1 } },
      { ...good, options: { ...good.options, eps: Number.NaN } },
      { ...good, options: { ...good.options, warmupFraction: 2 } },
      { ...good, options: { ...good.options, entropyEnd: -0.5 } },
    ];
    expect(() => target.loadStateDict(badStates[0]!)).toThrow(FliqsError);
    expect(() => target.loadStateDict(badStates[0]!)).toThrow(/state\.options\.eps/);
    for (const s of badStates.slice(1)) expect(() => target.loadStateDict(s)).toThrow(FliqsError);
    expect(target.seed).toBe(untouched.seed);
    expect(target.lr).toBe(untouched.lr);
    expect(target.warmupEnd).toBe(untouched.warmupEnd);
    expect(target.stateDict()).toEqual(untouched.stateDict());
    for (let t = 0; t < T; t++) {
      expect(target.sample(t), `step ${t}`).toEqual(untouched.sample(t));
      target.update(t, t / T); untouched.update(t, t / T);
    }
    expect(target.stateDict()).toEqual(untouched.stateDict());
    // The good state does load and changes the controller, so the comparison above can fail.
    target.loadStateDict(good);
    expect(target.stateDict()).toEqual(good);
    expect(target.stateDict()).not.toEqual(untouched.stateDict());
  });
});

describe("the cost term, the 'local' estimator and calibration", () => {
  // three layers; costs per choice; target 100
  const layerCosts = [[10, 40, 90], [20, 50], [5, 30, 60, 80]];
  const cost = { layerCosts, targetBops: 100, gamma: 0.7 };
  const logits = [[0.3, -1.2, 0.8], [0.5, -0.4], [-0.2, 1.1, 0.0, -0.9]];
  const withCost = (o: Partial<ControllerOptions> = {}): Controller => {
    const ctl = new Controller(layerCosts.map((r) => r.length), { totalSteps: 100, warmupFraction: 0, cost, ...o });
    ctl.loadStateDict({ ...ctl.stateDict(), logits: logits.map((r) => [...r]) });
    return ctl;
  };

  it('the cost part of the local gradient is −∂/∂θ of each layer\'s expected cost term (others as sampled), by finite differences', () => {
    const config = [2, 0, 1], sigma = 0.05;
    const ctl = withCost({ rewardScale: sigma });
    const g = ctl.gradient(config, 0, 0); // A = 0, β_H = 0: only the cost part
    const total = config.reduce((s, a, l) => s + layerCosts[l]![a]!, 0);
    // F(θ) = −Σ_l Σ_a π_l(a)·γ·|(C − c_l(α_l) + c_l(a))/C_T − 1| / σ
    const F = (th: number[][]): number => -th.reduce((s, row, l) => {
      const p = refLogSoftmax(row).map(Math.exp), rest = total - layerCosts[l]![config[l]!]!;
      return s + p.reduce((t, q, a) => t + q * 0.7 * Math.abs((rest + layerCosts[l]![a]!) / 100 - 1), 0) / sigma;
    }, 0);
    const fd = centralDiff(F, logits);
    g.forEach((row, l) => row.forEach((v, a) => expect(v).toBeCloseTo(fd[l]![a]!, 6)));
    // with the 'reinforce' estimator the cost enters only through the reward: no cost part
    expect(withCost({ estimator: 'reinforce' }).gradient(config, 0, 0).flatMap((r) => [...r]).every((v) => v === 0)).toBe(true);
  });

  it('forms r = Q − γ·|C/C_T − 1| itself; the local baseline tracks Q, the reinforce baseline r', () => {
    const loc = withCost(), rf = withCost({ estimator: 'reinforce' });
    const config = [1, 1, 2]; // cost 40 + 50 + 60 = 150: r = Q − 0.7·0.5
    const a = loc.update(0, 0.8, config), b = rf.update(0, 0.8, config);
    expect(a.reward).toBeCloseTo(0.8 - 0.35, 15);
    expect(b.reward).toBeCloseTo(0.8 - 0.35, 15);
    expect(a.baseline).toBe(0.8);
    expect(b.baseline).toBeCloseTo(0.45, 15);
    expect(loc.update(1, 0.9, config).advantage).toBeCloseTo(0.1, 15);
  });

  it('calibrate sets σ and γ before the first update only; the state keeps them; a version-1 state loads as reinforce', () => {
    const ctl = new Controller([3, 2, 4], { totalSteps: 100, warmupFraction: 0.1, cost: { ...cost, gamma: 0 } });
    ctl.calibrate(0.04, 0.32);
    expect(ctl.rewardScale).toBe(0.04);
    expect(ctl.gamma).toBe(0.32);
    expect(() => ctl.calibrate(0, 1)).toThrow(/rewardScale/);
    expect(() => ctl.calibrate(0.1, -1)).toThrow(/gamma/);
    for (let t = 0; t < 12; t++) { const c = ctl.sample(t); ctl.update(t, 0.5 + 0.01 * t, c); }
    expect(() => ctl.calibrate(0.05)).toThrow(/after the policy started updating/);
    const st = ctl.stateDict();
    expect([st.version, st.estimator, st.rewardScale, st.gamma]).toEqual([2, 'local', 0.04, 0.32]);
    const back = new Controller([3, 2, 4], { totalSteps: 100, warmupFraction: 0.1, cost: { ...cost, gamma: 0 } });
    back.loadStateDict(st);
    expect([back.rewardScale, back.gamma]).toEqual([0.04, 0.32]);
    expect(back.stateDict()).toEqual(st);
    // a local controller refuses a reinforce (or version-1) state, and a reinforce one takes version 1
    const v1 = { ...st, version: 1 as const, estimator: undefined, rewardScale: undefined, gamma: undefined };
    expect(() => back.loadStateDict(v1)).toThrow(/estimator/);
    const old = new Controller([3, 2, 4], { totalSteps: 100, warmupFraction: 0.1, estimator: 'reinforce', cost });
    old.loadStateDict(v1);
    expect([old.rewardScale, old.gamma]).toEqual([1, 0.7]);
    expect(() => new Controller([3, 2], { totalSteps: 10, estimator: 'local' })).toThrow(/without a cost term/);
    expect(() => new Controller([3, 2], { totalSteps: 10, cost: { layerCosts: [[1, 2, 3]], targetBops: 1, gamma: 1 } })).toThrow(/cost/);
    expect(() => new Controller([2], { totalSteps: 10, cost: { layerCosts: [[1, 2]], targetBops: 0, gamma: 1 } })).toThrow(/targetBops/);
  });
});
