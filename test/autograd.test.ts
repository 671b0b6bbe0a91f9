// Autograd: every op's backward rule against finite differences of its own forward (see
// gradcheck-helpers.ts for the method and tolerance), forward values against the scalar references,
// the fake-quantize STE, tape mechanics (accumulation, noGrad, detach), step-scope memory, bad shapes.

import { afterAll, describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { runtime } from '../src/core/runtime.js';
import {
  Tensor, stepScope, noGrad, matmul, bmm, attention, add, biasAdd, relu, relu6, gelu, softmax, crossEntropy, accuracyCount,
  batchNorm, layerNorm, reshape, flatten, conv2d, depthwiseConv2d, maxPool2d, avgPool2d, globalAvgPool, fakeQuantize,
} from '../src/autograd/index.js';
import { conv2dShape } from '../src/kernels/conv.js';
import { conv2dRef as convRef } from '../src/kernels/conv.ref.js';
import { softmaxCrossEntropyRef } from '../src/kernels/elementwise.ref.js';
import { parseFormat } from '../src/formats/format.js';
import { quantizePerChannelRef, quantizeRef } from '../src/formats/reference.js';
import { awayFromZero, gradcheck, leaf } from './gradcheck-helpers.js';

const rng = new Rng(2024);
const made: Tensor[] = [];
const L = (shape: number[], gen?: Parameters<typeof leaf>[2]): Tensor => { const t = leaf(shape, rng, gen); made.push(t); return t; };
afterAll(() => { for (const t of made) t.free(); });

describe('gradients vs finite differences (f32 forward, h = 1e-2)', () => {
  it('matmul over [B, T, K]·[K, N]', () => {
    const x = L([2, 3, 5]), w = L([5, 7]);
    gradcheck(() => matmul(x, w), [x, w], { label: 'matmul' });
  });

  it('bmm, plain and transB', () => {
    const a = L([3, 4, 5]), b = L([3, 5, 6]), bt = L([3, 6, 5]);
    gradcheck(() => bmm(a, b), [a, b], { label: 'bmm' });
    gradcheck(() => bmm(a, bt, { transB: true }), [a, bt], { label: 'bmm transB' });
  });

  it('attention (2 heads) w.r.t. q, k, v', () => {
    const q = L([2, 5, 6]), k = L([2, 5, 6]), v = L([2, 5, 6]);
    gradcheck(() => attention(q, k, v, 2), [q, k, v], { label: 'attention' });
  });

  it('add, biasAdd, reshape, flatten', () => {
    const a = L([3, 4]), b = L([3, 4]), bias = L([4]);
    gradcheck(() => add(a, reshape(b, [3, 4])), [a, b], { label: 'add' });
    gradcheck(() => biasAdd(flatten(reshape(a, [3, 2, 2])), bias), [a, bias], { label: 'biasAdd∘flatten∘reshape' });
  });

  it('relu, relu6, gelu (inputs away from kinks)', () => {
    const x = L([5, 7], (r) => 5 * awayFromZero(r)); // spans (−5.5, 5.5): past relu6's upper kink too
    const x6 = L([40], (r, i) => (i % 2 ? 6 : 0) + awayFromZero(r) * 0.5);
    gradcheck(() => relu(x), [x], { label: 'relu' });
    gradcheck(() => relu6(x6), [x6], { label: 'relu6' });
    gradcheck(() => gelu(x), [x], { label: 'gelu' });
  });

  it('softmax and softmax cross-entropy with label smoothing (value vs reference too)', () => {
    const x = L([4, 6]);
    gradcheck(() => softmax(x), [x], { label: 'softmax' });
    const labels = new Int32Array([0, 5, 2, 2]);
    gradcheck(() => crossEntropy(x, labels, { smoothing: 0.1 }), [x], { label: 'crossEntropy', atol: 5e-4 });
    const ref = softmaxCrossEntropyRef(x.data, labels, 4, 6, 0.1).loss;
    stepScope(() => expect(Math.abs(crossEntropy(x, labels, { smoothing: 0.1 }).item() - ref)).toBeLessThan(1e-5 * (1 + ref)));
  });

  it('batch-norm in training and eval mode, layer-norm', () => {
    const x = L([2, 3, 2, 4], (r) => 3 * r.normal() + 1), g = L([4], (r) => 0.5 + r.uniform()), b = L([4]);
    const mean = Tensor.from([0.1, -0.2, 0.3, 0], [4], { keep: true }), vr = Tensor.from([1, 2, 0.5, 1.5], [4], { keep: true });
    made.push(mean, vr);
    gradcheck(() => batchNorm(x, g, b, mean, vr, { training: true }), [x, g, b], { label: 'batchNorm train' });
    gradcheck(() => batchNorm(x, g, b, mean, vr, { training: false }), [x, g, b], { label: 'batchNorm eval' });
    const x2 = L([5, 8], (r) => 2 * r.normal()), g2 = L([8]), b2 = L([8]);
    gradcheck(() => layerNorm(x2, g2, b2), [x2, g2, b2], { label: 'layerNorm' });
  });

  it('batch-norm training updates the running statistics (PyTorch convention)', () => {
    const x = Tensor.from([1, 10, 3, 30, 5, 50], [3, 2]), g = Tensor.from([1, 1], [2]), b = Tensor.from([0, 0], [2]);
    const m = Tensor.from([0, 0], [2]), v = Tensor.from([1, 1], [2]);
    noGrad(() => batchNorm(x, g, b, m, v, { training: true, momentum: 0.5 }));
    expect(Array.from(m.data)).toEqual([1.5, 15]);
    expect(v.data[0]).toBeCloseTo(0.5 + 0.5 * 4, 5); // unbiased var of [1, 3, 5] is 4
    for (const t of [x, g, b, m, v]) t.free();
  });

  it('conv2d: stride 2, asymmetric kernel, padding, groups 2, bias; value vs reference', () => {
    const x = L([2, 7, 6, 4]), w = L([3, 2, 2, 6]), bias = L([6]);
    const o = { stride: 2, padding: [1, 0] as [number, number], groups: 2 };
    gradcheck(() => conv2d(x, w, bias, o), [x, w, bias], { label: 'conv2d' });
    const ref = convRef(x.data, w.data, bias.data, conv2dShape(x.shape, w.shape, o));
    stepScope(() => {
      const y = noGrad(() => conv2d(x, w, bias, o)).data;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y[i]! - ref[i]!)).toBeLessThan(1e-5 * 13);
    });
  });

  it('depthwise conv2d (HWIO [KH, KW, 1, C] weights)', () => {
    const x = L([2, 6, 5, 5]), w = L([3, 3, 1, 5]), bias = L([5]);
    gradcheck(() => depthwiseConv2d(x, w, bias, { stride: [1, 2], padding: 1 }), [x, w, bias], { label: 'depthwise' });
  });

  it('max pool (distinct values), avg pool with padding, global avg pool', () => {
    const n = 2 * 6 * 6 * 3;
    const perm = new Rng(5).shuffle(Array.from({ length: n }, (_, i) => i)) as number[];
    const xm = L([2, 6, 6, 3], (_r, i) => perm[i]! * 0.05 - 5);
    gradcheck(() => maxPool2d(xm, { kernel: 3, stride: 2, padding: 1 }), [xm], { label: 'maxPool2d' });
    const x = L([2, 5, 5, 3]);
    gradcheck(() => avgPool2d(x, { kernel: 3, stride: 2, padding: 1 }), [x], { label: 'avgPool2d' });
    gradcheck(() => globalAvgPool(x), [x], { label: 'globalAvgPool' });
  });
});

describe('fake-quantize', () => {
  // Inputs on a fine grid scaled so no value sits on a rounding tie; the STE must pass the upstream
  // gradient exactly where |x| ≤ clip and block it elsewhere.
  const upstream = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => 1 + (i % 7) * 0.25);

  it('per tensor (INT4, E2M1): forward equals the reference, backward is the clip-aware STE', () => {
    for (const name of ['INT4', 'E2M1', 'INT8']) {
      const f = parseFormat(name), clip = 0.8;
      const x = L([6, 9], (r) => 1.6 * (2 * r.uniform() - 1));
      stepScope(() => {
        const y = fakeQuantize(x, f, clip);
        expect(Array.from(y.data)).toEqual(Array.from(quantizeRef(x.data, f, clip)));
        const g = upstream(x.size);
        y.backward(g);
        const want = Array.from(x.data, (v, i) => (Math.abs(v) <= clip ? g[i]! : 0));
        expect(Array.from(x.gradData!)).toEqual(want);
        expect(want.some((v) => v === 0) && want.some((v) => v !== 0)).toBe(true);
      });
      x.zeroGrad();
    }
  });

  it('per output channel (last axis): forward equals the reference, STE masks per channel', () => {
    const f = parseFormat('INT4'), C = 5, clips = [0.2, 0.5, 1, 0.7, 0.3];
    const w = L([3, 3, 2, C], (r) => 2 * r.uniform() - 1);
    stepScope(() => {
      const y = fakeQuantize(w, f, clips);
      expect(Array.from(y.data)).toEqual(Array.from(quantizePerChannelRef(w.data, f, clips, w.size / C, C, 1)));
      const g = upstream(w.size);
      y.backward(g);
      expect(Array.from(w.gradData!)).toEqual(Array.from(w.data, (v, i) => (Math.abs(v) <= Math.fround(clips[i % C]!) ? g[i]! : 0)));
    });
  });

  it('BF16 passes every gradient; FP32 is the identity', () => {
    const x = L([10], (r) => 100 * r.normal());
    stepScope(() => {
      const y = fakeQuantize(x, 'BF16');
      y.backward(upstream(10));
      expect(Array.from(x.gradData!)).toEqual(Array.from(upstream(10)));
      expect(fakeQuantize(x, 'FP32')).toBe(x);
    });
  });

  it('STE composes with matmul: d/dw of x·q(w) equals xᵀ·dy where |w| ≤ clip, 0 elsewhere', () => {
    const x = L([4, 3]), w = L([3, 2], (r) => 2 * r.uniform() - 1);
    x.zeroGrad(); w.zeroGrad();
    stepScope(() => {
      const dyv = upstream(8);
      matmul(x, fakeQuantize(w, 'INT4', 0.5)).backward(dyv);
      const xd = x.data, wd = w.data, gw = w.gradData!;
      for (let k = 0; k < 3; k++) for (let n = 0; n < 2; n++) {
        let s = 0;
        for (let m = 0; m < 4; m++) s += xd[m * 3 + k]! * dyv[m * 2 + n]!;
        expect(gw[k * 2 + n]!).toBeCloseTo(Math.abs(wd[k * 2 + n]!) <= 0.5 ? s : 0, 5);
      }
    });
  });

  it('rejects a missing clip or a wrong number of per-channel clips', () => {
    const x = L([2, 3]);
    expect(() => fakeQuantize(x, 'INT4')).toThrow(FliqsError);
    expect(() => fakeQuantize(x, 'INT4', [1, 1])).toThrow(/one clip per channel.*3/);
  });
});

describe('tape', () => {
  it('accumulates gradients of a tensor used twice, and across backward calls', () => {
    const x = Tensor.from([1, 2, 3], [1, 3], { requiresGrad: true, keep: true });
    const w = Tensor.from([1, 1, 1], [3, 1], { keep: true });
    stepScope(() => matmul(add(x, x), w).backward());
    expect(Array.from(x.gradData!)).toEqual([2, 2, 2]);
    stepScope(() => matmul(x, w).backward());
    expect(Array.from(x.gradData!)).toEqual([3, 3, 3]);
    x.free(); w.free();
  });

  it('a second backward through a shared graph does not re-propagate the first one\'s intermediate grads', () => {
    // Issue 12's example: h = x·w with x = 3; relu(h) gives dw = 3, add(h, h) gives dw = 6; total 9
    // (it was 12: h.grad kept the first call's 1 and the second call pushed 1 + 2 through matmul).
    const x = Tensor.from([3], [1, 1], { keep: true });
    const w = Tensor.from([2], [1, 1], { requiresGrad: true, keep: true });
    stepScope(() => {
      const h = matmul(x, w);
      relu(h).backward([1]);
      expect(Array.from(w.gradData!)).toEqual([3]);
      add(h, h).backward([1]);
      expect(Array.from(w.gradData!)).toEqual([9]);
      expect(Array.from(h.gradData!)).toEqual([2]); // the intermediate holds the last call's gradient
    });
    x.free(); w.free();
  });

  it('backward() from several roots sums each root\'s gradient once into the leaves', () => {
    const rng2 = new Rng(11);
    const x = leaf([3, 4], rng2), w = leaf([4, 5], rng2), v = leaf([5, 2], rng2);
    const seed1 = Float32Array.from({ length: 15 }, () => rng2.uniform()), seed2 = Float32Array.from({ length: 6 }, () => rng2.uniform());
    const grads = (f: () => void): Float32Array[] => {
      for (const t of [x, w, v]) t.zeroGrad();
      stepScope(f);
      return [x, w, v].map((t) => t.gradData!.slice());
    };
    const two = grads(() => { const h = relu(matmul(x, w)); matmul(h, v).backward(seed2); });
    const one = grads(() => { const h = relu(matmul(x, w)); h.backward(seed1); });
    const both = grads(() => { const h = relu(matmul(x, w)); h.backward(seed1); matmul(h, v).backward(seed2); });
    for (let k = 0; k < 3; k++) {
      both[k]!.forEach((g, i) => expect(Math.abs(g - (one[k]![i]! + two[k]![i]!))).toBeLessThan(1e-5 * (1 + Math.abs(g))));
    }
    for (const t of [x, w, v]) t.free();
  });

  it('noGrad records nothing; detach cuts the tape; backward needs a scalar or a seed', () => {
    const x = Tensor.from([1, 2], [1, 2], { requiresGrad: true, keep: true });
    stepScope(() => {
      const y = noGrad(() => relu(x));
      expect(y.requiresGrad).toBe(false);
      expect(relu(x.detach()).requiresGrad).toBe(false);
      expect(() => relu(x).backward()).toThrow(/seed/);
      expect(() => y.backward()).toThrow(FliqsError);
    });
    x.free();
  });

  it('a step scope frees everything it allocated except kept tensors and its result', () => {
    const w = Tensor.from([0.5, -1, 2, 1], [2, 2], { requiresGrad: true, keep: true });
    const step = (): Tensor => stepScope(() => {
      const h = relu(matmul(Tensor.from([1, 2, 3, 4], [2, 2]), w));
      crossEntropy(h, new Int32Array([0, 1])).backward();
      return matmul(h, w);
    });
    step().free(); // warm-up: w.grad and the kernels' lazily grown scratch now exist
    const before = [runtime.arena.bytesInUse, runtime.arena.liveBlocks];
    const kept = step();
    expect(kept.isFreed).toBe(false);
    expect(runtime.arena.liveBlocks).toBe(before[1]! + 1); // only the returned tensor survived
    kept.free();
    expect([runtime.arena.bytesInUse, runtime.arena.liveBlocks]).toEqual(before);
    const k2 = stepScope(() => { Tensor.zeros([5]); return Tensor.zeros([2]).keep(); });
    expect([runtime.arena.liveBlocks]).toEqual([before[1]! + 1]);
    k2.free();
    let inner: Tensor | null = null;
    stepScope(() => { inner = Tensor.zeros([4]); });
    expect(() => inner!.data).toThrow(/freed/);
    expect(() => stepScope(() => { Tensor.zeros([3]); throw new Error('boom'); })).toThrow('boom');
    expect([runtime.arena.bytesInUse, runtime.arena.liveBlocks]).toEqual(before);
    w.free();
  });
});

describe('bad shapes', () => {
  it('throw FliqsError naming the shapes', () => {
    const a = Tensor.zeros([2, 3]), b = Tensor.zeros([4, 5]), c = Tensor.zeros([3]);
    expect(() => matmul(a, b)).toThrow(/x \[2, 3\] and w \[4, 5\]/);
    expect(() => add(a, b)).toThrow(/\[2, 3\] and \[4, 5\]/);
    expect(() => biasAdd(b, c)).toThrow(/bias.*\[3\].*\[4, 5\]/);
    expect(() => bmm(Tensor.zeros([2, 2, 3]), Tensor.zeros([2, 2, 3]))).toThrow(FliqsError);
    expect(() => conv2d(Tensor.zeros([1, 4, 4, 3]), Tensor.zeros([3, 3, 2, 8]), null)).toThrow(/\[1, 4, 4, 3\].*|w shape/);
    expect(() => reshape(a, [4, 2])).toThrow(/\[2, 3\] has 6 elements/);
    expect(() => crossEntropy(a, new Int32Array(3))).toThrow(/3 entries.*\[2, 3\]/);
    expect(() => attention(Tensor.zeros([1, 2, 6]), Tensor.zeros([1, 2, 6]), Tensor.zeros([1, 2, 6]), 4)).toThrow(/heads/);
    expect(() => Tensor.from([1, 2, 3], [2, 2])).toThrow(FliqsError);
    for (const t of [a, b, c]) t.free();
  });

  it('accuracyCount counts argmax hits', () => {
    const l = Tensor.from([0, 1, 5, 2, 1, 1], [3, 2]);
    expect(accuracyCount(l, new Int32Array([1, 1, 0]))).toBe(2);
    l.free();
  });
});
