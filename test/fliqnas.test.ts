// FLIQNAS: masked (sliced) super-network layers equal the narrower dense layers bit for bit in forward and
// gradients; the joint kernel mode passes finite differences; the warm-up schedule of joint kernel branches;
// the joint cost equals a hand count of the extracted model's MACs; the cost-unit DPs agree with enumeration on
// a small joint space; extraction equals the super-network; resume equals the uninterrupted run; bad
// declarations are refused.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/random.js';
import { Tensor, noGrad, stepScope } from '../src/autograd/tensor.js';
import { syntheticSplits } from '../src/data/synthetic.js';
import { BatchNorm2d, Conv2d, DepthwiseConv2d } from '../src/nn/layers.js';
import { ElasticBatchNorm2d, ElasticConv2d, ElasticDepthwiseConv2d, type ArchSlot } from '../src/nn/elastic.js';
import { isSupernet, type MobileNetV2 } from '../src/nn/mobilenet.js';
import { quantLayers } from '../src/nn/quant.js';
import { createModel, describeModel } from '../src/nn/zoo.js';
import { parseFormat } from '../src/formats/format.js';
import { buildSearchSpace, configArchValues, configFormats, type SearchSpace } from '../src/search/space.js';
import { configCost, nearestCosts, parseTarget, reachableRange } from '../src/search/cost.js';
import { mostProbableInBand } from '../src/search/budget.js';
import { equalCostSampler } from '../src/search/equal-cost.js';
import { archOptionsOf } from '../src/search/arch-spaces.js';
import { DEFAULT_RECALIBRATION_BATCHES, Search, derivedSeed, jointKernelProbability, type SearchOptions } from '../src/search/search.js';
import { recalibrateBatchNorm } from '../src/train/recalibrate.js';
import { Sequential } from '../src/nn/layers.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/train/checkpoint-file.js';
import type { TrainerCheckpoint } from '../src/train/trainer.js';
import { gradcheck, leaf } from './gradcheck-helpers.js';
import { batches } from '../src/data/batches.js';
import { expectFliqsError } from './error-helpers.js';

const bits = (a: Float32Array | null): Uint32Array => new Uint32Array(Float32Array.from(a ?? []).buffer);
const values = (n: number, rng: Rng): Float32Array => Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);

/** Forward and backward of `f` on input x (seeded upstream gradient); the output and the grads of x and `params`. */
function run(f: (x: Tensor) => Tensor, x: Float32Array, shape: number[], params: Tensor[], seed = 1): { y: Float32Array; dx: Float32Array; grads: Float32Array[] } {
  for (const p of params) p.zeroGrad();
  return stepScope(() => {
    const xt = Tensor.from(x, shape, { requiresGrad: true });
    const y = f(xt);
    const rng = new Rng(seed);
    y.backward(values(y.size, rng));
    return { y: y.toArray(), dx: xt.gradData!.slice(), grads: params.map((p) => p.gradData!.slice()) };
  });
}

/** Copies the first `rows` × `cols` block of a [rows', cols'] row-major array into a [rows, cols] one. */
function block(src: Float32Array, srcCols: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * srcCols, r * srcCols + cols), r * cols);
  return out;
}

describe('elastic layers equal the narrower dense layer, bit for bit', () => {
  it('ElasticConv2d with active output (expand) and input (project) channels, forward and gradients, quantized', () => {
    const rng = new Rng(11);
    for (const [inC, outC, ai, ao] of [[5, 9, 5, 4], [7, 6, 3, 6], [4, 8, 4, 8], [9, 13, 1, 1]] as const) {
      const slot: ArchSlot = { width: ao, kernel: 3, joint: false }, inSlot: ArchSlot = { width: ai, kernel: 3, joint: false };
      const e = new ElasticConv2d(inC, outC, 1, { bias: false, rng }, { out: slot, in: inSlot });
      const d = new Conv2d(ai, ao, 1, { bias: false, rng });
      // e.weight is [1, 1, inC, outC]: the dense layer's [1, 1, ai, ao] is the first ai rows, first ao columns
      d.weight.data.set(block(e.weight.toArray(), outC, ai, ao));
      for (const l of [e, d]) { l.quant.setFormat('INT4'); l.quant.quantizeWeights = true; }
      const x = values(2 * 3 * 5 * ai, rng), shape = [2, 3, 5, ai];
      const a = run((t) => e.forward(t), x, shape, [e.weight]), b = run((t) => d.forward(t), x, shape, [d.weight]);
      expect(bits(a.y)).toEqual(bits(b.y));
      expect(bits(a.dx)).toEqual(bits(b.dx));
      const full = a.grads[0]!;
      expect(bits(block(full, outC, ai, ao))).toEqual(bits(b.grads[0]!));
      // the channels the step did not use get no gradient
      let outside = 0;
      for (let r = 0; r < inC; r++) for (let c = 0; c < outC; c++) if (r >= ai || c >= ao) outside += Math.abs(full[r * outC + c]!);
      expect(outside).toBe(0);
      expect(e.macs).toBe(3 * 5 * ai * ao);
    }
  });

  it('ElasticDepthwiseConv2d: a k×k branch at width a is the plain depthwise conv with the copied kernel (center and separate)', () => {
    const rng = new Rng(12);
    for (const sharing of ['center', 'separate'] as const) {
      for (const [C, a, k, stride] of [[6, 4, 3, 1], [6, 6, 5, 2], [5, 3, 7, 1], [8, 1, 5, 1]] as const) {
        const slot: ArchSlot = { width: a, kernel: k, joint: false };
        const e = new ElasticDepthwiseConv2d(C, [3, 5, 7], slot, { stride, sharing, rng });
        const p = (k - 1) / 2;
        const d = new DepthwiseConv2d(a, k, { stride, padding: p, bias: false, rng });
        d.weight.data.set(stepScope(() => noGrad(() => e.branch(k, a).toArray())));
        for (const l of [e, d]) { l.quant.setFormat('E4M3'); l.quant.quantizeWeights = true; }
        const shape = [2, 9, 8, a], x = values(2 * 9 * 8 * a, rng);
        const r1 = run((t) => e.forward(t), x, shape, [e.weight]), r2 = run((t) => d.forward(t), x, shape, [d.weight]);
        expect(bits(r1.y)).toEqual(bits(r2.y));
        expect(bits(r1.dx)).toEqual(bits(r2.dx));
        // the branch's gradient, read back through the same crop, is the dense one; the rest of the weight gets 0
        const g = r1.grads[0]!, K = 7, o = (K - k) / 2, b = sharing === 'center' ? 0 : [3, 5, 7].indexOf(k);
        let total = 0, crop = 0;
        for (let i = 0; i < g.length; i++) total += Math.abs(g[i]!);
        const got = new Float32Array(k * k * a);
        for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let c = 0; c < a; c++) {
          const v = g[(((b * K) + o + i) * K + o + j) * C + c]!;
          got[(i * k + j) * a + c] = v;
          crop += Math.abs(v);
        }
        expect(bits(got)).toEqual(bits(r2.grads[0]!));
        expect(total).toBe(crop);
        expect(e.macs).toBe(r2.y.length / 2 / a * k * k * a);
      }
    }
  });

  it('ElasticBatchNorm2d trains the first `width` channels as a BatchNorm2d of that width; the others keep their statistics', () => {
    const rng = new Rng(13), C = 7, a = 4;
    const slot: ArchSlot = { width: a, kernel: 3, joint: false };
    const e = new ElasticBatchNorm2d(C, slot), d = new BatchNorm2d(a);
    for (const k of ['weight', 'bias'] as const) { const v = values(C, rng); e[k].data.set(v); d[k].data.set(v.subarray(0, a)); }
    const meanBefore = e.runningMean.toArray();
    const x = values(3 * 4 * 5 * a, rng), shape = [3, 4, 5, a];
    const r1 = run((t) => e.forward(t), x, shape, [e.weight, e.bias]), r2 = run((t) => d.forward(t), x, shape, [d.weight, d.bias]);
    expect(bits(r1.y)).toEqual(bits(r2.y));
    expect(bits(r1.dx)).toEqual(bits(r2.dx));
    expect(bits(r1.grads[0]!.subarray(0, a))).toEqual(bits(r2.grads[0]!));
    expect(bits(r1.grads[1]!.subarray(0, a))).toEqual(bits(r2.grads[1]!));
    expect([...r1.grads[0]!.subarray(a)]).toEqual([0, 0, 0]);
    expect(bits(e.runningMean.toArray().subarray(0, a))).toEqual(bits(d.runningMean.toArray()));
    expect(bits(e.runningVar.toArray().subarray(0, a))).toEqual(bits(d.runningVar.toArray()));
    expect(bits(e.runningMean.toArray().subarray(a))).toEqual(bits(meanBefore.subarray(a)));
    // eval mode reads the same statistics
    e.eval(); d.eval();
    const y1 = stepScope(() => noGrad(() => e.forward(Tensor.from(x, shape)).toArray())), y2 = stepScope(() => noGrad(() => d.forward(Tensor.from(x, shape)).toArray()));
    expect(bits(y1)).toEqual(bits(y2));
  });

  it('the joint kernel mode (mean of the padded branches) passes finite differences, for input and weights', () => {
    const rng = new Rng(14);
    for (const sharing of ['center', 'separate'] as const) {
      const slot: ArchSlot = { width: 3, kernel: 3, joint: true };
      const e = new ElasticDepthwiseConv2d(4, [3, 5], slot, { sharing, rng });
      const x = leaf([1, 6, 5, 3], rng);
      gradcheck(() => e.forward(x), [x, e.weight], { label: `joint ${sharing}` });
      expect(e.macs).toBe(6 * 5 * 25 * 3);
      x.free();
    }
  });
});

describe('batch-norm recalibration', () => {
  it('sets the running statistics to the mean of the batch statistics (known answer), weights untouched', () => {
    const ds = syntheticSplits({ train: 96, validation: 8, test: 8, shape: [3, 2, 2], classes: 2, seed: 4 }).train;
    const bn = new BatchNorm2d(2, { momentum: 0.1 }), m = new Sequential(bn);
    m.eval();
    const w = bn.weight.toArray();
    expect(recalibrateBatchNorm(m, ds, { count: 3, batchSize: 16, seed: 2 })).toBe(3);
    // by hand: the same three batches, per channel mean and (unbiased) variance, averaged
    const means = [0, 0], vars = [0, 0];
    let i = 0;
    for (const b of batches(ds, 16, new Rng(2), { dropLast: true })) {
      if (i++ >= 3) break;
      for (let c = 0; c < 2; c++) {
        const v: number[] = [];
        for (let k = c; k < b.images.length; k += 2) v.push(b.images[k]!);
        const mu = v.reduce((a, x) => a + x, 0) / v.length;
        means[c]! += mu / 3;
        vars[c]! += v.reduce((a, x) => a + (x - mu) ** 2, 0) / (v.length - 1) / 3;
      }
    }
    const rm = bn.runningMean.toArray(), rv = bn.runningVar.toArray();
    for (let c = 0; c < 2; c++) {
      expect(rm[c]).toBeCloseTo(means[c]!, 5);
      expect(rv[c]).toBeCloseTo(vars[c]!, 4);
    }
    expect(bn.momentum).toBe(0.1);
    expect(m.training).toBe(false);
    expect(bits(bn.weight.toArray())).toEqual(bits(w));
    expect(recalibrateBatchNorm(m, ds, { count: 0, batchSize: 16, seed: 2 })).toBe(0);
  });
});

describe('the warm-up schedule of joint kernel branches (paper A.4)', () => {
  it('falls linearly from 1 to 0 over the warm-up and stays 0', () => {
    expect(jointKernelProbability(0, 40)).toBe(1);
    expect(jointKernelProbability(10, 40)).toBe(0.75);
    expect(jointKernelProbability(30, 40)).toBe(0.25);
    expect(jointKernelProbability(40, 40)).toBe(0);
    expect(jointKernelProbability(1000, 40)).toBe(0);
    expectFliqsError(() => jointKernelProbability(-1, 40), /t/);
  });
});

const data = syntheticSplits({ train: 256, validation: 64, test: 96, shape: [12, 12, 1], classes: 4, seed: 3 });
const supernet = (arch = archOptionsOf('fliqnas-s')): MobileNetV2 => createModel('mobilenetv2', { width: 0.25, inputShape: [12, 12, 1], classes: 4, seed: 1, arch }) as MobileNetV2;
const opts = (o: Partial<SearchOptions> = {}): SearchOptions => ({
  space: 'fliqnas-s', target: '0.5xINT8',
  train: { epochs: 2, batchSize: 32, optimizer: 'sgd', lr: 0.05, seed: 5, actQuantStart: 0.2, profileBatches: 2 }, validationBatch: 32, ...o,
});

describe('the joint cost', () => {
  it('equals a hand count: Σ bits² · MACs of the extracted model, measured by its own forward pass', () => {
    const m = supernet();
    const s = new Search(m, data, opts());
    const rng = new Rng(21);
    for (let trial = 0; trial < 4; trial++) {
      const config = s.controller.counts.map((n) => rng.int(n));
      const plain = m.extract(configArchValues(s.space, config));
      const fs = configFormats(s.space, config);
      const layers = describeModel(plain, [12, 12, 1]);
      let hand = 0;
      layers.forEach((l, i) => { hand += fs[i]!.bits ** 2 * l.macs; });
      expect(layers.map((l) => l.name)).toEqual(s.space.layers.map((l) => l.name));
      expect(configCost(s.space, config)).toBe(hand);
      plain.free();
    }
    // the base architecture (width 1, kernel 3) at INT8 is what 0.5xINT8 halves
    const base = describeModel(createModel('mobilenetv2', { width: 0.25, inputShape: [12, 12, 1], classes: 4 }), [12, 12, 1]);
    expect(s.targetBops).toBe(0.5 * 64 * base.reduce((t, l) => t + l.macs, 0));
    s.dispose();
  });

  it('the DPs over cost units agree with enumeration on a small joint space', () => {
    // three layers; one width decision scales layers 0 and 1, one kernel decision scales layer 1 by k²
    const space = buildSearchSpace([{ name: 'a', macs: 3 * 8 }, { name: 'b', macs: 2 * 8 * 9 }, { name: 'c', macs: 500 }], { space: 'qnas-int8' }, {
      decisions: [{ name: 'w', kind: 'width', choices: [4, 8, 12], base: 8 }, { name: 'k', kind: 'kernel', choices: [3, 5], base: 3 }],
      factors: { a: [{ decision: 0, power: 1 }], b: [{ decision: 0, power: 1 }, { decision: 1, power: 2 }] }, current: [8, 3],
    });
    const mixed: SearchSpace = { ...space, layers: space.layers.map((l) => ({ ...l, choices: [parseFormat('INT4'), parseFormat('INT8')] })) };
    const all: number[][] = [];
    for (let i = 0; i < 2 ** 3 * 3 * 2; i++) all.push([i & 1, (i >> 1) & 1, (i >> 2) & 1, Math.floor(i / 8) % 3, Math.floor(i / 24)]);
    const costs = all.map((c) => configCost(mixed, c));
    // by hand: layer b at width 12, kernel 5 in INT8: 64 · 2·12·25
    expect(configCost(mixed, [0, 1, 0, 2, 1])).toBe(16 * 3 * 12 + 64 * 2 * 12 * 25 + 16 * 500);
    const r = reachableRange(mixed);
    expect(r.min).toBe(Math.min(...costs));
    expect(r.max).toBe(Math.max(...costs));
    const rng = new Rng(5);
    const logp = [2, 2, 2, 3, 2].map((n) => { const v = Array.from({ length: n }, () => rng.uniform()); const z = v.reduce((a, b) => a + b); return v.map((x) => Math.log(x / z)); });
    for (const t of [0.3, 0.55, 0.8].map((f) => r.min + f * (r.max - r.min))) {
      const n = nearestCosts(mixed, t);
      expect(n.below).toBe(Math.max(...costs.filter((c) => c <= t)));
      expect(n.above).toBe(Math.min(...costs.filter((c) => c >= t)));
      const inBand = all.filter((_, i) => Math.abs(costs[i]! / t - 1) <= 0.1);
      const score = (c: number[]): number => c.reduce((s, a, d) => s + logp[d]![a]!, 0);
      const best = inBand.length ? inBand.reduce((b, c) => (score(c) > score(b) ? c : b)) : null;
      expect(mostProbableInBand(mixed, logp, t, 0.1)).toEqual(best);
      if (inBand.length) {
        const sampler = equalCostSampler(mixed, t, 0.1);
        expect(sampler.count).toBe(inBand.length);
        const draw = sampler.sample(new Rng(1));
        expect(Math.abs(configCost(mixed, draw) / t - 1)).toBeLessThanOrEqual(0.1);
      }
    }
    expect(parseTarget('1xINT8', space)).toBe(64 * (3 * 8 + 2 * 8 * 9 + 500));
  });
});

describe('FLIQNAS search', () => {
  it('samples formats and architecture, runs joint kernel branches only in the warm-up, and extracts the result', () => {
    const s = new Search(supernet(), data, opts());
    const warm = s.controller.warmupEnd;
    const steps = [...s.run()];
    const jointWarm = steps.slice(0, warm).map((x) => x.arch!.joint), jointLater = steps.slice(warm).map((x) => x.arch!.joint);
    expect(jointWarm[0]).toBeGreaterThan(0);
    expect(jointLater.every((j) => j === 0)).toBe(true);
    expect(new Set(steps.map((x) => x.arch!.sampled.join())).size).toBeGreaterThan(steps.length / 2);
    const r = s.result();
    const a = r.architecture!;
    expect(a.decisions.map((d) => d.name)).toEqual(s.space.arch!.map((d) => d.name));
    expect(a.params).toBeLessThan(a.supernetParams);
    // as extracted, the plain model scores what the super-network scores at that architecture; the reported test is
    // the extracted model's after its batch-norm statistics are recomputed over 20 training batches
    const plain = (s.model as MobileNetV2).extract(a.decisions.map((d) => d.value));
    expect(s.trainer.evaluate(data.test, 250, Infinity, plain)).toEqual(a.testAsIs);
    expect(s.trainer.evaluate(data.test)).toEqual(a.testAsIs);
    expect(a.recalibrationBatches).toBe(Math.min(DEFAULT_RECALIBRATION_BATCHES, Math.floor(data.train.labels.length / 32)));
    recalibrateBatchNorm(plain, data.train, { count: DEFAULT_RECALIBRATION_BATCHES, batchSize: 32, seed: derivedSeed(5, 'recalibration') });
    expect(s.trainer.evaluate(data.test, 250, Infinity, plain)).toEqual(r.test);
    expect(r.layers.reduce((t, l) => t + l.bops, 0)).toBeCloseTo(r.bops, 0);
    plain.free();
    s.dispose();
  });

  it('extraction gives the same logits as the super-network in eval mode, after training, in mixed formats', () => {
    const s = new Search(supernet({ widths: [0.5, 1, 1.5], kernelSizes: [3, 5], sharing: 'separate' }), data, opts({ train: { ...opts().train, epochs: 1 } }));
    for (const _ of s.run()) { /* train the super-network a little */ }
    const m = s.model as MobileNetV2, rng = new Rng(9);
    for (let trial = 0; trial < 3; trial++) {
      const config = s.controller.counts.map((n) => rng.int(n));
      s.apply(config);
      const plain = m.extract(configArchValues(s.space, config));
      expect(quantLayers(plain).map(([, l]) => l.quant.weightFormat.name)).toEqual(configFormats(s.space, config).map((f) => f.name));
      const x = data.test.images.subarray(0, 8 * 144);
      m.eval(); plain.eval();
      const y1 = stepScope(() => noGrad(() => m.forward(Tensor.from(x, [8, 12, 12, 1])).toArray()));
      const y2 = stepScope(() => noGrad(() => plain.forward(Tensor.from(x, [8, 12, 12, 1])).toArray()));
      m.train();
      expect(bits(y1)).toEqual(bits(y2));
      plain.free();
    }
    s.dispose();
  });

  it('resumes from checkpoint bytes to the same result, bit for bit', () => {
    const full = new Search(supernet(), data, opts());
    for (const _ of full.run()) { /* to the end */ }
    const want = full.result();
    full.dispose();
    const a = new Search(supernet(), data, opts());
    const it = a.run();
    for (let i = 0; i < 5; i++) it.next(); // inside the warm-up, where joint branches are drawn
    const bytes = encodeCheckpoint(a.checkpoint() as never);
    a.dispose();
    const b = new Search(supernet(), data, opts());
    b.restore(decodeCheckpoint(bytes, 'checkpoint') as TrainerCheckpoint);
    for (const _ of b.run()) { /* the rest */ }
    expect(b.result()).toEqual(want);
    b.dispose();
  });

  it('refuses bad declarations with the reachable range or what is accepted', () => {
    expectFliqsError(() => supernet({ widths: [0, 1] }), /arch\.widths\[0\].*multiplier/);
    expectFliqsError(() => supernet({ widths: [-0.5] }), /arch\.widths\[0\]/);
    expectFliqsError(() => supernet({ kernelSizes: [3, 4] }), /arch\.kernelSizes\[1\].*odd/);
    expectFliqsError(() => supernet({ blocks: { 'blocks.5': { kernelSizes: [5] } } }), /blocks\.5\.kernelSizes.*larger than the block's 3×3 input/);
    expectFliqsError(() => supernet({ blocks: { 'blocks.9': { widths: [1] } } }), /arch\.blocks.*blocks\.9.*not a block/);
    expectFliqsError(() => supernet({ blocks: { 'blocks.0': { widths: [1, 2] } } }), /blocks\.0\.widths.*t = 1/);
    expectFliqsError(() => supernet({ kernelSizes: [9, 11] }), /all larger than block/);
    expectFliqsError(() => createModel('cnn', { arch: { widths: [1] } }), /arch.*no architecture decisions/);
    expectFliqsError(() => new Search(createModel('mobilenetv2', { width: 0.25, inputShape: [12, 12, 1], classes: 4 }), data, opts()), /space.*architecture.*no architecture decisions/);
    expectFliqsError(() => new Search(supernet(), data, opts({ space: 'int-s' })), /formats only.*super-network/);
    expectFliqsError(() => new Search(supernet(), data, opts({ space: 'qnas-int9x' })), /qnas-<format>/);
    expectFliqsError(() => new Search(supernet(), data, opts({ target: '0.01xINT4' })), /target.*outside the reachable range .* MBOPs/);
    expect(isSupernet(supernet())).toBe(true);
  });
});
