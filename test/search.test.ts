// The FLIQS search loop: warm-up semantics, the reward and the argmax result, exact resume through the
// checkpoint bytes, the validation stream, and errors. Tiny models on synthetic data.
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Tensor, noGrad, stepScope } from '../src/autograd/tensor.js';
import { syntheticSplits } from '../src/data/synthetic.js';
import { quantLayers } from '../src/nn/quant.js';
import { createModel, describeModel } from '../src/nn/zoo.js';
import { decodeCheckpoint as decodeBlob, encodeCheckpoint } from '../src/train/checkpoint-file.js';
import type { TrainerCheckpoint } from '../src/train/trainer.js';

const decodeCheckpoint = (bytes: Uint8Array): TrainerCheckpoint => decodeBlob(bytes, 'checkpoint') as TrainerCheckpoint;
import { DEFAULT_GAMMA_PER_SIGMA, qualityNoise } from '../src/search/cost.js';
import { calibrationStart } from '../src/search/search.js';
// through the package root, as an app embedding the search imports it
import { CONSTANT_QUALITY, COST_TOLERANCE, SETTLED_ENTROPY, Search, searchClipMultiples, searchWarnings, type SearchOptions, type SearchStep } from '../src/index.js';
import { ValidationStream } from '../src/search/validation.js';
import { mostProbableInBand } from '../src/search/budget.js';
import { parseSearchSpace } from '../src/formats/presets.js';

const data = syntheticSplits({ train: 384, validation: 96, test: 128, shape: [12, 12, 1], classes: 4, seed: 3 });
const opts = (o: Partial<SearchOptions> = {}): SearchOptions => ({
  space: 'int-s', target: '0.5xINT8',
  train: { epochs: 4, batchSize: 32, optimizer: 'sgd', lr: 0.05, seed: 5, actQuantStart: 0.2, profileBatches: 2 },
  validationBatch: 32, ...o,
});
const model = () => createModel('cnn', { inputShape: [12, 12, 1], classes: 4, seed: 1 });

function logits(s: Search): Float32Array {
  s.model.eval();
  const out = stepScope(() => noGrad(() => s.model.forward(Tensor.from(data.test.images.subarray(0, 16 * 144), [16, 12, 12, 1])).toArray()));
  s.model.train();
  return out;
}

describe('Search', () => {
  it('samples during the warm-up without touching the policy, then learns and applies the argmax', () => {
    const s = new Search(model(), data, opts());
    const T = s.totalSteps, warm = Math.ceil(0.25 * T);
    expect(T).toBe(4 * 12);
    const steps: SearchStep[] = [...s.run()];
    expect(steps.map((x) => x.step)).toEqual(Array.from({ length: T }, (_, i) => i));
    const H0 = 3 * Math.log(3);
    const cal = calibrationStart(warm);
    expect(cal).toBe(4); // Q is measured over the last 8 warm-up steps (at least 8) to calibrate γ
    for (const x of steps.slice(0, warm)) {
      expect(x.warmup).toBe(true);
      expect(x.quality === null).toBe(x.step < cal);
      expect(x.reward).toBeNull();
      expect(x.entropy).toBeCloseTo(H0, 12); // uniform policy, untouched
      expect(x.argmax).toEqual(['INT4', 'INT4', 'INT4']);
    }
    // uniform warm-up draws: more than one configuration appears
    expect(new Set(steps.slice(0, warm).map((x) => x.sampled.join())).size).toBeGreaterThan(2);
    const search = steps.slice(warm);
    expect(search[0]!.warmup).toBe(false);
    // Cost ratio by hand: C = Σ_l bits(sampled_l)²·MACs_l from describeModel, and C_T = 0.5·Σ_l 8²·MACs_l
    // (the target 0.5xINT8). The reward then uses that hand ratio, the logged Q and γ = κ·σ, σ the noise of
    // the Q measured over the calibration steps.
    const macs = describeModel(model(), [12, 12, 1]).map((l) => l.macs);
    expect(macs).toHaveLength(3);
    const bits: Record<string, number> = { INT4: 4, INT8: 8, BF16: 16 };
    const CT = 0.5 * macs.reduce((a, m) => a + 64 * m, 0);
    const ratioOf = (names: string[]): number => names.reduce((a, f, l) => a + bits[f]! ** 2 * macs[l]!, 0) / CT;
    expect(s.targetBops).toBe(CT);
    for (const x of steps) {
      expect(x.costRatio, `step ${x.step}`).toBeCloseTo(ratioOf(x.sampled), 12);
      expect(x.argmaxCostRatio, `step ${x.step}`).toBeCloseTo(ratioOf(x.argmax), 12);
    }
    // σ is floored at an accuracy's resolution on the 32-image validation batch
    const gamma = DEFAULT_GAMMA_PER_SIGMA * qualityNoise(steps.slice(cal, warm).map((x) => x.quality!), 1 / 32);
    expect(s.gamma).toBe(gamma);
    expect(gamma).toBeGreaterThan(0);
    for (const x of search) {
      // Q is the accuracy on a validation batch of 32: a multiple of 1/32 in [0, 1].
      expect(Number.isInteger(x.quality! * 32), `step ${x.step} Q ${x.quality}`).toBe(true);
      expect(x.quality).toBeGreaterThanOrEqual(0);
      expect(x.quality).toBeLessThanOrEqual(1);
      expect(x.reward, `step ${x.step}`).toBeCloseTo(x.quality! - gamma * Math.abs(ratioOf(x.sampled) - 1), 12);
    }
    // One step spelled out: all INT8 gives ratio 2 and r = Q − γ; all INT4 gives ratio 0.5, r = Q − γ/2.
    expect(ratioOf(['INT8', 'INT8', 'INT8'])).toBe(2);
    expect(ratioOf(['INT4', 'INT4', 'INT4'])).toBe(0.5);
    const first = search[0]!;
    expect(first.reward).toBeCloseTo(first.quality! - gamma * Math.abs(ratioOf(first.sampled) - 1), 12);
    expect(s.controller.estimator).toBe('local');
    expect(search.at(-1)!.entropy).toBeLessThan(H0);
    expect(search.at(-1)!.entropyWeight).toBeGreaterThan(0.45);
    const r = s.result();
    expect(r.layers.map((l) => l.format)).toEqual(steps.at(-1)!.argmax);
    expect(r.qualityNoise! * DEFAULT_GAMMA_PER_SIGMA).toBeCloseTo(gamma, 15);
    for (const [i, [, l]] of quantLayers(s.model).entries()) expect(l.quant.weightFormat.name).toBe(r.layers[i]!.format);
    const bops = r.layers.reduce((a, l) => a + l.bops, 0);
    expect(r.bops).toBe(bops);
    expect(r.costRatio).toBeCloseTo(bops / r.targetBops, 12);
    for (const l of r.layers) expect(l.probability).toBe(Math.max(...Object.values(l.probabilities)));
    expect(r.test.count).toBe(128);
    expect(r.test.accuracy).toBeGreaterThan(0.5); // 4 classes: chance is 0.25
    // the warnings say exactly what the numbers say (3 searched layers)
    expect(r.warnings.some((w) => w.includes('× the target'))).toBe(r.costRatio > 1 + COST_TOLERANCE || r.costRatio < 1 - COST_TOLERANCE);
    expect(r.warnings.some((w) => w.includes('not settled'))).toBe(r.finalEntropy / 3 >= SETTLED_ENTROPY);
  });

  it('warns when the cost misses ±10% of the target or the policy has not settled, and says which cause', () => {
    const near = { below: 0.97, above: 1.02 }; // configurations exist within ±10%
    expect(searchWarnings(1.1, 0.49, 10, near)).toEqual([]);
    expect(searchWarnings(0.9, 0, 10, near)).toEqual([]);
    const over = searchWarnings(1.28, 0.2, 10, near);
    expect(over).toHaveLength(1);
    expect(over[0]).toMatch(/costs 1\.280× the target \(outside ±10%\): the policy settled before/);
    expect(searchWarnings(0.85, 0.2, 10, near)[0]).toMatch(/0\.850× the target/);
    expect(searchWarnings(1.103, 0, 10, near)[0]).toMatch(/1\.103× the target \(outside ±10%\)/); // not printed as 1.10
    const both = searchWarnings(1.28, 1, 10, near); // unsettled: the cost warning does not claim the policy settled
    expect(both).toHaveLength(2);
    expect(both[0]).not.toMatch(/settled before/);
    const unsettled = searchWarnings(1, 0.5, 10, near); // 0.05 nats per layer is not below 0.05
    expect(unsettled).toHaveLength(1);
    expect(unsettled[0]).toMatch(/entropy 0\.050 nats per layer/);
    expect(searchWarnings(1, 0, 0, near)).toEqual([]); // every layer pinned: nothing to settle
    // nothing reachable within ±10%: say so instead of blaming the controller
    const gap = searchWarnings(0.778, 0, 3, { below: 0.778, above: 1.321 });
    expect(gap).toEqual(['the argmax configuration costs 0.778× the target: no configuration of this space comes within ±10% (the nearest cost 0.778× and 1.321× the target)']);
    expect(searchWarnings(1.5, 0, 3, { below: 0.5, above: null })[0]).toMatch(/nearest cost 0\.500× the target\)$/);
    // the argmax further out than the nearest cost on its side: the controller is not let off
    expect(searchWarnings(1.8, 0, 3, { below: 0.778, above: 1.321 })[0]).toMatch(/\(the nearest cost 0\.778× and 1\.321× the target\); 1\.321× was reachable on the same side$/);
    // entropy per searched layer: 0.12 nats is unsettled over one layer, settled over three
    expect(searchWarnings(1, 0.12, 1, near)).toHaveLength(1);
    expect(searchWarnings(1, 0.12, 3, near)).toEqual([]);
    for (const bad of [[Number.NaN, 0, 3, near], [1, Number.POSITIVE_INFINITY, 3, near], [1, 0, -1, near], [1, 0, 1.5, near], [1, 0, 3, null], [1, 0, 3, { below: 'x', above: null }]] as const) {
      expect(() => searchWarnings(...(bad as unknown as Parameters<typeof searchWarnings>))).toThrow(FliqsError);
    }
  });

  it('resumes from checkpoint bytes to the same result and logits, bit for bit', () => {
    const full = new Search(model(), data, opts({ quality: 'neg-loss' }));
    const fullSteps = [...full.run()];
    const fullResult = full.result();
    const fullLogits = logits(full);

    const first = new Search(model(), data, opts({ quality: 'neg-loss' }));
    const it1 = first.run();
    for (let i = 0; i < 17; i++) it1.next(); // past the warm-up start of the search phase (12) and profiling
    expect(first.canCheckpoint).toBe(true);
    const bytes = encodeCheckpoint(first.checkpoint());
    const resumed = new Search(model(), data, opts({ quality: 'neg-loss' }));
    resumed.restore(decodeCheckpoint(bytes));
    const rest = [...resumed.run()];
    expect(rest).toEqual(fullSteps.slice(17));
    expect(resumed.result()).toEqual(fullResult);
    expect([...logits(resumed)]).toEqual([...fullLogits]);
  });

  it('refuses to checkpoint during activation profiling and rejects bad checkpoints', () => {
    const s = new Search(model(), data, opts());
    const it1 = s.run();
    // Profiling (2 batches) starts at step floor(0.2·T): some step boundary inside it must refuse.
    const start = Math.floor(0.2 * s.totalSteps);
    for (let i = 0; i < start; i++) it1.next();
    while (s.canCheckpoint && s.step < start + 2) it1.next();
    expect(s.canCheckpoint, `after ${s.step} steps`).toBe(false);
    expect(() => s.checkpoint()).toThrow(FliqsError);
    expect(() => decodeCheckpoint(new Uint8Array([1, 0, 0]))).toThrow(FliqsError);
    const ok = encodeCheckpoint({ meta: { version: 1, step: 0, epochRngState: [], optimizer: {} as never, quant: [] }, tensors: { a: new Float32Array([1.5, -2]) } });
    expect(decodeCheckpoint(ok).tensors.a).toEqual(new Float32Array([1.5, -2]));
    expect(() => decodeCheckpoint(ok.subarray(0, ok.length - 1))).toThrow(/checksum|truncated|bytes/);
    expect(() => s.restore(decodeCheckpoint(ok))).toThrow(/no search state/);
  });

  it('pins layers and honours the target: a tight target pulls the argmax down, a loose one up', () => {
    const pinned = new Search(model(), data, opts({ fixFirstLast: 'BF16', target: '1xINT8', train: { ...opts().train, epochs: 1 } }));
    [...pinned.run()];
    const r = pinned.result();
    expect(r.layers[0]!.format).toBe('BF16');
    expect(r.layers[2]!.format).toBe('BF16');
    expect(r.layers[0]!.probability).toBe(1);
    // entropy per searched layer: the two pinned layers (entropy 0) do not dilute it
    // one searched layer after one epoch: unsettled, and the figure is the total over 1 layer, not over 3
    expect(r.finalEntropy).toBeGreaterThanOrEqual(3 * SETTLED_ENTROPY);
    expect(r.warnings.join('\n')).toContain(`entropy ${r.finalEntropy.toFixed(3)} nats per layer`);
    // γ large: cost dominates the reward, so the policy follows the target. conv2 holds ~88% of the
    // MACs (conv1 and fc barely move the cost, so their choice is left to the noise).
    const lo = new Search(model(), data, opts({ gamma: 5, target: '1xINT4', train: { ...opts().train, epochs: 8 }, controller: { lr: 0.05 } }));
    [...lo.run()];
    const rl = lo.result();
    expect(rl.layers[1]!.format).toBe('INT4');
    expect(rl.costRatio).toBeLessThan(1.5);
    const hi = new Search(model(), data, opts({ gamma: 5, target: '1xBF16', train: { ...opts().train, epochs: 8 }, controller: { lr: 0.05 } }));
    [...hi.run()];
    const rh = hi.result();
    expect(rh.layers[1]!.format).toBe('BF16');
    expect(rh.costRatio).toBeGreaterThan(0.8);
  });

  it("reads the result in budget: the argmax if within ±10% of the target, else the most probable configuration that is", () => {
    const s = new Search(model(), data, opts({ target: '1xINT8', train: { ...opts().train, epochs: 1 } }));
    [...s.run()];
    // a policy whose argmax is all BF16 (4× the target), with INT8 second
    const logits = s.space.layers.map(() => [0, 1, 3]);
    s.controller.loadStateDict({ ...s.controller.stateDict(), logits });
    const r = s.result();
    expect(r.argmax).toEqual(['BF16', 'BF16', 'BF16']);
    expect(r.argmaxCostRatio).toBeCloseTo(4, 12);
    const want = mostProbableInBand(s.space, s.controller.logProbabilities(), s.targetBops, COST_TOLERANCE)!;
    expect(r.layers.map((l) => l.format)).toEqual(want.map((a) => ['INT4', 'INT8', 'BF16'][a]));
    expect(Math.abs(r.costRatio - 1)).toBeLessThanOrEqual(COST_TOLERANCE);
    expect(r.warnings[0]).toMatch(/argmax costs 4\.000× the target; the most probable configuration within ±10% was taken instead/);
    for (const [i, [, l]] of quantLayers(s.model).entries()) expect(l.quant.weightFormat.name).toBe(r.layers[i]!.format);
    // resultRule 'argmax': the paper's α*, whatever it costs
    const a = new Search(model(), data, opts({ target: '1xINT8', resultRule: 'argmax', train: { ...opts().train, epochs: 1 } }));
    [...a.run()];
    a.controller.loadStateDict({ ...a.controller.stateDict(), logits });
    expect(a.result().layers.map((l) => l.format)).toEqual(['BF16', 'BF16', 'BF16']);
    expect(() => new Search(model(), data, opts({ resultRule: 'best' as 'argmax' }))).toThrow(/resultRule/);
  });

  it("quality 'constant' (the control): the same calibration as the accuracy search, then a constant Q", () => {
    const real = new Search(model(), data, opts()), control = new Search(model(), data, opts({ quality: 'constant' }));
    const a = [...real.run()], b = [...control.run()];
    const warm = real.controller.warmupEnd;
    // identical up to the first search step: same seed, data order, calibration (on accuracy) and γ
    expect(b.slice(0, warm)).toEqual(a.slice(0, warm));
    expect(control.gamma).toBe(real.gamma);
    for (const x of b.slice(warm)) expect(x.quality).toBe(CONSTANT_QUALITY);
    // the constant's advantage is 0: the policy moves by the cost and entropy terms alone
    for (const x of b.slice(warm)) expect(x.advantage).toBe(0);
  });

  it('gives each format its own activation clip k_f·std after profiling', () => {
    const s = new Search(model(), data, opts({ train: { ...opts().train, epochs: 1 } }));
    [...s.run()];
    const k = searchClipMultiples(parseSearchSpace('int-s'));
    expect(k.INT4).toBeLessThan(k.INT8!);
    for (const [, l] of quantLayers(s.model)) {
      expect(l.quant.actClips.get('INT4')).toBeCloseTo(k.INT4! * l.quant.actStd!, 6);
      expect(l.quant.actClips.get('INT8')).toBeCloseTo(k.INT8! * l.quant.actStd!, 6);
    }
  });

  it('rejects an unreachable target with the range, an unknown space, and a bad γ', () => {
    expect(() => new Search(model(), data, opts({ target: '0.5xINT4' }))).toThrow(/outside the reachable range .* MBOPs to .* MBOPs/);
    expect(() => new Search(model(), data, opts({ space: 'int-q' }))).toThrow(FliqsError);
    expect(() => new Search(model(), data, opts({ gamma: -1 }))).toThrow(/gamma/);
  });

  it('rejects clip multiples that are not finite numbers > 0, naming the format', () => {
    for (const v of [0, -2, Number.NaN, Number.POSITIVE_INFINITY, '3' as unknown as number]) {
      expect(() => new Search(model(), data, opts({ clipMultiples: { INT4: v } }))).toThrow(/clipMultiples\.INT4/);
    }
    expect(() => new Search(model(), data, opts({ clipMultiples: { INT8: -1 } }))).toThrow(FliqsError);
    expect(() => new Search(model(), data, opts({ clipMultiples: 3 as unknown as Record<string, number> }))).toThrow(/clipMultiples/);
    const s = new Search(model(), data, opts({ clipMultiples: { INT4: 2.5 } }));
    expect(s.clipMultiples.INT4).toBe(2.5);
  });
});

describe('ValidationStream', () => {
  it('cycles through every example once per pass and resumes exactly', () => {
    const s = new ValidationStream(data.validation, 32, 9);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push(...s.next().labels);
    const counts = [0, 0, 0, 0];
    for (const l of seen) counts[l]!++;
    const want = [0, 0, 0, 0];
    for (const l of data.validation.labels) want[l]!++;
    expect(counts).toEqual(want);
    s.next();
    const st = JSON.parse(JSON.stringify(s.getState()));
    const a = [s.next(), s.next(), s.next()].map((b) => [...b.images.slice(0, 50)]);
    const t = new ValidationStream(data.validation, 32, 9);
    t.setState(st);
    expect([t.next(), t.next(), t.next()].map((b) => [...b.images.slice(0, 50)])).toEqual(a);
  });
});
