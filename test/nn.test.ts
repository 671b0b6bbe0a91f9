// nn: every layer's gradients (input and parameters) against finite differences (method and tolerance in
// gradcheck-helpers.ts), QuantLayer behaviour (formats, switchable clips, profiling, two phases, MACs),
// learning toy tasks with plain SGD, state-dict round trip, determinism, flat memory over 50 steps.

import fcheck from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { runtime } from '../src/core/runtime.js';
import { Tensor, stepScope, noGrad, crossEntropy, accuracyCount, matmul } from '../src/autograd/index.js';
import {
  Module, Linear, Conv2d, DepthwiseConv2d, BatchNorm2d, LayerNorm, ReLU, ReLU6, GELU, Flatten, GlobalAvgPool, MaxPool2d, AvgPool2d,
  Sequential, Residual, BasicBlock, MultiHeadSelfAttention, manualSeed, quantLayers, startProfile, finishProfile,
} from '../src/nn/index.js';
import { axpy } from '../src/kernels/elementwise.js';
import { parseFormat } from '../src/formats/format.js';
import { quantizePerChannelRef } from '../src/formats/reference.js';
import { mseOptimalClip } from '../src/kernels/stats.js';
import { gradcheck } from './gradcheck-helpers.js';

function input(shape: number[], seed: number, scale = 1): Tensor {
  const r = new Rng(seed), n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(Float32Array.from({ length: n }, () => scale * r.normal()), shape, { requiresGrad: true, keep: true });
}

/** Plain SGD written here (the optimizer module lives elsewhere): p ← p − lr·grad, then zero grad. */
function sgd(model: Module, lr: number): void {
  for (const p of model.parameters()) if (p.grad) { axpy(-lr, p.grad, p.storage); p.zeroGrad(); }
}

function checkLayer(m: Module, x: Tensor, label: string, o: { h?: number; atol?: number; rtol?: number } = {}): void {
  gradcheck(() => m.forward(x), [x, ...m.parameters()], { label, samples: 12, ...o });
}

describe('layer gradients vs finite differences', () => {
  it('Linear, LayerNorm, GELU, ReLU6 (on [B, T, D] inputs)', () => {
    manualSeed(1);
    const x = input([2, 3, 6], 1);
    checkLayer(new Linear(6, 4), x, 'Linear');
    checkLayer(new Sequential(new LayerNorm(6), new GELU(), new Linear(6, 5, { bias: false }), new ReLU6()), x, 'LN-GELU-Linear');
    x.free();
  });

  it('Conv2d (stride, padding, groups), DepthwiseConv2d, pools, BatchNorm2d', () => {
    manualSeed(2);
    const x = input([2, 6, 6, 4], 2);
    checkLayer(new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }), x, 'Conv2d');
    checkLayer(new DepthwiseConv2d(4, 3, { padding: 1 }), x, 'DepthwiseConv2d');
    checkLayer(new Sequential(new Conv2d(4, 4, 1), new BatchNorm2d(4), new AvgPool2d(2), new GlobalAvgPool()), x, 'conv-bn-avgpool-gap');
    checkLayer(new Sequential(new MaxPool2d(2), new Flatten(), new Linear(36, 3)), x, 'maxpool-flatten-linear');
    x.free();
  });

  it('Residual, BasicBlock (with downsample), MultiHeadSelfAttention', () => {
    manualSeed(3);
    const x = input([2, 4, 4, 3], 3);
    checkLayer(new Residual(new Sequential(new Conv2d(3, 3, 3, { padding: 1 }), new ReLU())), x, 'Residual');
    // Internal ReLUs after batch-norm put some pre-activations within h of a kink: smaller step, looser
    // tolerance (|fd − an| ≤ 5e-3 + 3e-2·|fd|) for this composite only.
    checkLayer(new BasicBlock(3, 5, { stride: 2 }), x, 'BasicBlock', { h: 3e-3, atol: 5e-3, rtol: 3e-2 });
    const s = input([2, 4, 8], 4);
    checkLayer(new MultiHeadSelfAttention(8, 2), s, 'MHSA');
    x.free(); s.free();
  });
});

describe('QuantLayer', () => {
  it('weights: per-output-channel absmax clips, quantized on the fly; STE gradients flow to the float weights', () => {
    manualSeed(4);
    const fc = new Linear(5, 3, { bias: false });
    const x = input([4, 5], 5);
    fc.quant.setFormat('INT4');
    fc.quant.quantizeWeights = true;
    stepScope(() => {
      const y = fc.forward(x).toArray();
      const w = fc.weight.data, C = 3, clips = [0, 0, 0];
      w.forEach((v, i) => { clips[i % C] = Math.max(clips[i % C]!, Math.abs(v)); });
      const wq = Tensor.from(quantizePerChannelRef(w, parseFormat('INT4'), clips, 5, C, 1), [5, 3]);
      expect(Array.from(y)).toEqual(Array.from(noGrad(() => matmul(x, wq)).data));
      expect(Array.from(y)).not.toEqual(Array.from(noGrad(() => matmul(x, fc.weight)).data));
    });
    gradcheck(() => fc.forward(x), [x], { label: 'quantized Linear w.r.t. x' });
    for (const f of ['E4M3', 'BF16', 'FP32']) { fc.quant.setFormat(f); stepScope(() => fc.forward(x).backward(new Float32Array(12).fill(1))); }
    expect(fc.weight.gradData!.some((v) => v !== 0)).toBe(true);
    fc.quant.weightClipMethod = 'mse';
    fc.quant.setFormat('INT4');
    expect(fc.quant.weightClip(fc.weight)).toBeCloseTo(mseOptimalClip(fc.weight.toArray(), 'INT4').clip, 6);
    expect(fc.quant.weightClips.has('INT4')).toBe(true);
    x.free(); fc.free();
  });

  it('activations: profiling gives std and switchable clips k_f·std; quantizing before profiling is an error', () => {
    manualSeed(5);
    const model = new Sequential(new Linear(4, 8, { quant: { actK: 3, actKByFormat: { INT4: 2.5 } } }), new ReLU(), new Linear(8, 2));
    const found = quantLayers(model);
    expect(found.map(([n]) => n)).toEqual(['layers.0', 'layers.2']);
    const l0 = found[0]![1];
    l0.quant.quantizeActivations = true;
    l0.quant.setFormat('INT8');
    expect(() => stepScope(() => model.forward(input([2, 4], 9)))).toThrow(/never profiled/);
    l0.quant.quantizeActivations = false;
    const batches = [input([8, 4], 10, 2), input([8, 4], 11, 2)];
    startProfile(model);
    for (const b of batches) stepScope(() => model.forward(b));
    finishProfile(model, ['INT4', 'INT8', 'E4M3']);
    const all = [...batches[0]!.data, ...batches[1]!.data];
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    expect(l0.quant.actStd!).toBeCloseTo(std, 5);
    expect(l0.quant.actClips.get('INT8')!).toBeCloseTo(3 * std, 5);
    expect(l0.quant.actClips.get('INT4')!).toBeCloseTo(2.5 * std, 5);
    l0.quant.quantizeActivations = true;
    const yOff = stepScope(() => { l0.quant.quantizeActivations = false; const y = model.forward(batches[0]!).toArray(); l0.quant.quantizeActivations = true; return y; });
    l0.quant.setFormat('INT4');
    const y4 = stepScope(() => model.forward(batches[0]!).toArray());
    l0.quant.setFormat('E4M3');
    const y8 = stepScope(() => model.forward(batches[0]!).toArray());
    const err = (a: Float32Array): number => a.reduce((s, v, i) => s + Math.abs(v - yOff[i]!), 0);
    expect(err(y4)).toBeGreaterThan(err(y8));
    expect(err(y8)).toBeGreaterThan(0);
    for (const b of batches) b.free();
    model.free();
  });

  it('MACs per example: Linear from config, Conv2d after a forward; MHSA exposes 4 projections', () => {
    manualSeed(6);
    expect(new Linear(10, 7).macs).toBe(70);
    const conv = new Conv2d(4, 8, 3, { stride: 2, padding: 1 });
    expect(() => conv.macs).toThrow(FliqsError);
    const x = input([2, 9, 9, 4], 12);
    stepScope(() => conv.forward(x));
    expect(conv.macs).toBe(5 * 5 * 3 * 3 * 4 * 8);
    const mhsa = new MultiHeadSelfAttention(8, 2);
    const s = input([2, 5, 8], 13);
    stepScope(() => mhsa.forward(s));
    expect(quantLayers(mhsa).map(([n, l]) => [n, l.macs])).toEqual([['q', 320], ['k', 320], ['v', 320], ['out', 320]]);
    x.free(); s.free(); conv.free(); mhsa.free();
  });
});

/** 3 Gaussian blobs in 2-D. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = new Rng(seed), x = new Float32Array(2 * n), y = new Int32Array(n);
  const centers = [[2, 0], [-1, 1.7], [-1, -1.7]];
  for (let i = 0; i < n; i++) {
    const c = r.int(3);
    y[i] = c; x[2 * i] = centers[c]![0]! + 0.7 * r.normal(); x[2 * i + 1] = centers[c]![1]! + 0.7 * r.normal();
  }
  return { x, y };
}

/** One SGD step on a batch; returns the loss. */
function step(model: Module, xb: Tensor, yb: Int32Array, lr: number): number {
  return stepScope(() => {
    const loss = crossEntropy(model.forward(xb), yb, { smoothing: 0.05 });
    loss.backward();
    sgd(model, lr);
    return loss.item();
  });
}

function mlp(seed: number): Sequential {
  manualSeed(seed);
  return new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 3));
}

function trainBlobs(model: Module, steps: number): number[] {
  const data = blobs(32 * steps, 99), losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const xb = Tensor.from(data.x.subarray(64 * s, 64 * (s + 1)), [32, 2]);
    losses.push(step(model, xb, data.y.subarray(32 * s, 32 * (s + 1)), 0.1));
    xb.free();
  }
  return losses;
}

describe('training', () => {
  it('an MLP learns 3 Gaussian blobs (loss falls, accuracy well above chance)', () => {
    const model = mlp(7);
    const losses = trainBlobs(model, 150);
    const head = losses.slice(0, 10).reduce((a, b) => a + b) / 10, tail = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(tail).toBeLessThan(0.5 * head);
    const test = blobs(300, 5), xt = Tensor.from(test.x, [300, 2]);
    const acc = stepScope(() => accuracyCount(noGrad(() => model.eval().forward(xt)), test.y)) / 300;
    expect(acc).toBeGreaterThan(0.85);
    xt.free(); model.free();
  });

  it('a quantized (INT8 weights) CNN learns horizontal vs vertical bars', () => {
    manualSeed(8);
    const model = new Sequential(new Conv2d(1, 6, 3, { padding: 1 }), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2),
      new Conv2d(6, 8, 3, { padding: 1 }), new ReLU(), new GlobalAvgPool(), new Linear(8, 2));
    for (const [, l] of quantLayers(model)) { l.quant.setFormat('INT8'); l.quant.quantizeWeights = true; }
    const r = new Rng(3);
    const batch = (n: number): { x: Tensor; y: Int32Array } => {
      const x = new Float32Array(n * 64), y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = r.int(2);
        const k = r.int(8);
        for (let j = 0; j < 8; j++) x[i * 64 + (y[i] ? j * 8 + k : k * 8 + j)] = 1;
        for (let j = 0; j < 64; j++) x[i * 64 + j]! += 0.2 * r.normal();
      }
      return { x: Tensor.from(x, [n, 8, 8, 1]), y };
    };
    const losses: number[] = [];
    for (let s = 0; s < 80; s++) { const b = batch(16); losses.push(step(model, b.x, b.y, 0.1)); b.x.free(); }
    expect(losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(0.6 * losses.slice(0, 10).reduce((a, b) => a + b) / 10);
    const t = batch(200);
    const acc = stepScope(() => accuracyCount(noGrad(() => model.eval().forward(t.x)), t.y)) / 200;
    expect(acc).toBeGreaterThan(0.8);
    t.x.free(); model.free();
  });

  it('same seed → identical loss trace over 20 steps; different seed → different', () => {
    const a = mlp(11), b = mlp(11), c = mlp(12);
    const ta = trainBlobs(a, 20), tb = trainBlobs(b, 20), tc = trainBlobs(c, 20);
    expect(tb).toEqual(ta);
    expect(tc).not.toEqual(ta);
    a.free(); b.free(); c.free();
  });

  it('state dict round trip gives identical outputs (buffers included); bad dicts are rejected', () => {
    manualSeed(13);
    const make = (): Sequential => new Sequential(new Conv2d(2, 4, 3), new BatchNorm2d(4), new ReLU(), new GlobalAvgPool(), new Linear(4, 3));
    const a = make(), b = make();
    const x = input([3, 5, 5, 2], 14);
    stepScope(() => a.forward(x)); // moves a's running statistics
    const sd = a.stateDict();
    expect(Object.keys(sd.values)).toContain('layers.1.runningMean');
    expect(sd.shapes['layers.0.weight']).toEqual([3, 3, 2, 4]);
    b.loadStateDict(sd);
    a.eval(); b.eval();
    const ya = stepScope(() => a.forward(x).toArray()), yb = stepScope(() => b.forward(x).toArray());
    expect(Array.from(yb)).toEqual(Array.from(ya));
    const bad = { values: { ...sd.values }, shapes: { ...sd.shapes, 'layers.4.weight': [3, 4] } };
    expect(() => b.loadStateDict(bad)).toThrow(/layers\.4\.weight.*\[3, 4\].*\[4, 3\]/);
    const missing = { values: { ...sd.values }, shapes: sd.shapes };
    delete missing.values['layers.0.bias'];
    expect(() => b.loadStateDict(missing)).toThrow(/layers\.0\.bias.*missing/);
    x.free(); a.free(); b.free();
  });

  it('memory does not grow over 50 steps (quantized weights and activations on)', () => {
    manualSeed(15);
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new AvgPool2d(2),
      new Flatten(), new Linear(64, 16), new GELU(), new LayerNorm(16), new Linear(16, 3));
    const data = new Rng(1);
    const xb = Tensor.from(Float32Array.from({ length: 8 * 64 }, () => data.normal()), [8, 8, 8, 1]);
    const yb = Int32Array.from({ length: 8 }, () => data.int(3));
    startProfile(model);
    stepScope(() => noGrad(() => model.forward(xb)));
    finishProfile(model, ['INT4']);
    for (const [, l] of quantLayers(model)) { l.quant.setFormat('INT4'); l.quant.quantizeWeights = true; l.quant.quantizeActivations = true; }
    let at2: number[] = [];
    for (let s = 1; s <= 50; s++) {
      step(model, xb, yb, 0.05);
      if (s === 2) at2 = [runtime.arena.bytesInUse, runtime.arena.liveBlocks];
    }
    expect([runtime.arena.bytesInUse, runtime.arena.liveBlocks]).toEqual(at2);
    xb.free(); model.free();
  });

  it('layers reject bad input shapes with FliqsError naming them', () => {
    manualSeed(16);
    const x = Tensor.zeros([2, 5]);
    expect(() => new Linear(4, 3).forward(x)).toThrow(/Linear input.*\[2, 5\].*\[\.\.\., 4\]/);
    expect(() => new Conv2d(3, 4, 3).forward(x)).toThrow(/Conv2d input.*\[2, 5\]/);
    expect(() => new MultiHeadSelfAttention(8, 3)).toThrow(FliqsError);
    expect(() => new BatchNorm2d(4).forward(x)).toThrow(/\[5\]|\[2, 5\]/);
    x.free();
  });
});

describe('Sequential pools before a ReLU/ReLU6 that precedes a MaxPool2d', () => {
  it('values and input gradients equal the layers run one by one, bit for bit (ties and all-negative windows included)', () => {
    fcheck.assert(fcheck.property(
      fcheck.integer({ min: 1, max: 3 }), fcheck.integer({ min: 2, max: 9 }), fcheck.integer({ min: 2, max: 9 }), fcheck.integer({ min: 1, max: 6 }),
      fcheck.integer({ min: 1, max: 3 }), fcheck.integer({ min: 1, max: 3 }), fcheck.integer({ min: 0, max: 1 }), fcheck.boolean(), fcheck.integer(),
      (N, H, W, C, k, stride, padding, six, seed) => {
        if (k > H + 2 * padding || k > W + 2 * padding || 2 * padding > k) return;
        const rng = new Rng(seed >>> 0);
        // Small integers (some ≥ 6) make ties, all-negative windows and clipped ReLU6 values common.
        const data = Float32Array.from({ length: N * H * W * C }, () => Math.floor(rng.uniform() * 17) - 8);
        const dy = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i * 7) % 5) - 2);
        const act = six ? new ReLU6() : new ReLU(), pool = new MaxPool2d(k, { stride, padding });
        const run = (f: (x: Tensor) => Tensor): [Float32Array, Float32Array] => stepScope(() => {
          const x = Tensor.from(data, [N, H, W, C], { requiresGrad: true });
          const y = f(x);
          y.backward(dy(y.size));
          const r: [Float32Array, Float32Array] = [y.toArray(), x.gradData!.slice()];
          x.free();
          return r;
        });
        const [ySeq, gSeq] = run((x) => new Sequential(act, pool).forward(x));
        const [yOne, gOne] = run((x) => pool.forward(act.forward(x)));
        expect(Array.from(ySeq)).toEqual(Array.from(yOne));
        expect(Array.from(gSeq)).toEqual(Array.from(gOne));
      }), { numRuns: 60 });
  });
});
