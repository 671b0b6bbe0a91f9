// Optimizers given model.parameters() (Tensors) directly: the same updates, bit for bit, as the same
// optimizer given explicit { param, grad } buffers, on a real model trained a few steps; mixed lists;
// the tensors an optimizer must refuse.

import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { Tensor, gradOf, stepScope } from '../src/autograd/tensor.js';
import { matmul, mseLoss } from '../src/autograd/index.js';
import { Linear, ReLU, Sequential } from '../src/nn/layers.js';
import type { Module } from '../src/nn/module.js';
import { Adam, AdamW, RMSProp, SGD, type Optimizer, type ParamGroup } from '../src/optim/index.js';

const makers: Array<[string, (ps: ParamGroup[]) => Optimizer]> = [
  ['SGD (momentum, weight decay)', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 })],
  ['Adam', (ps) => new Adam(ps, { lr: 0.01 })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ['RMSProp', (ps) => new RMSProp(ps, { lr: 0.005, momentum: 0.5 })],
];

const model = (): Module => new Sequential(new Linear(5, 16, { rng: new Rng(1) }), new ReLU(), new Linear(16, 3, { rng: new Rng(2) }));

/** Trains `steps` steps of MSE regression on fixed random data; returns the losses. */
function train(m: Module, opt: Optimizer, steps: number): number[] {
  const rng = new Rng(3);
  const x = Tensor.from(rng.normalArray(8 * 5), [8, 5], { keep: true }), y = Tensor.from(rng.normalArray(8 * 3), [8, 3], { keep: true });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    losses.push(stepScope(() => {
      const l = mseLoss(m.forward(x), y);
      l.backward();
      return l.item();
    }));
    opt.step();
  }
  x.free(); y.free();
  return losses;
}

describe('optimizers take model.parameters()', () => {
  it.each(makers)('%s: same parameters, bit for bit, as with explicit buffers; the loss falls', (_name, make) => {
    const a = model(), b = model();
    const init = a.parameters().map((p) => p.toArray());
    const optA = make(a.parameters());
    const optB = make(b.namedParameters().map(([, p]) => ({ param: p.storage, grad: gradOf(p) })));
    const la = train(a, optA, 12), lb = train(b, optB, 12);
    expect(la).toEqual(lb);
    const pa = a.parameters().map((p) => Array.from(p.data)), pb = b.parameters().map((p) => Array.from(p.data));
    expect(pa).toEqual(pb);
    expect(pa.some((p, i) => p.some((v, j) => v !== init[i]![j]))).toBe(true);
    expect(la[la.length - 1]!).toBeLessThan(la[0]!);
    optA.dispose(); optB.dispose(); a.free(); b.free();
  });

  it('uses the gradient buffer backward() already made, and zeroGrad() zeroes the model\'s grads', () => {
    const m = model();
    stepScope(() => mseLoss(m.forward(Tensor.from(new Rng(4).normalArray(10), [2, 5])), Tensor.zeros([2, 3])).backward());
    const before = m.parameters().map((p) => p.grad);
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    expect(m.parameters().map((p) => p.grad)).toEqual(before);
    expect(before.every((g) => g !== null && g.array.some((v) => v !== 0))).toBe(true);
    opt.zeroGrad();
    expect(m.parameters().every((p) => p.gradData!.every((v) => v === 0))).toBe(true);
    opt.dispose(); m.free();
  });

  it('accepts a list mixing Tensors and { param, grad } buffers; names default to params[i]', () => {
    const m = model();
    const [w0, ...rest] = m.parameters();
    const opt = new Adam([{ param: w0!.storage, grad: gradOf(w0!), name: 'first' }, ...rest], { lr: 0.01 });
    expect(opt.stateDict().names).toEqual(['first', 'params[1]', 'params[2]', 'params[3]']);
    opt.dispose(); m.free();
  });

  it('refuses tensors it could not update safely, naming them', () => {
    const p = Tensor.from([1, 2], [2], { requiresGrad: true, keep: true });
    const loose = Tensor.from([1, 2], [2], { requiresGrad: true });
    const frozen = Tensor.from([1, 2], [2], { keep: true });
    const freed = Tensor.from([1, 2], [2], { requiresGrad: true, keep: true });
    freed.free();
    stepScope(() => {
      const computed = matmul(Tensor.from([1], [1, 1]), Tensor.from([1, 2], [1, 2], { requiresGrad: true })).keep();
      for (const [bad, msg] of [
        [[p, loose], /params\[1\].*may free.*kept Tensor/],
        [[frozen], /params\[0\].*does not require a gradient/],
        [[computed], /params\[0\].*not a leaf/],
        [[p, p], /params\[1\].*given earlier.*each parameter once/],
        [[freed], /params\[0\].*freed/],
      ] as const) {
        expect(() => new SGD(bad as unknown as ParamGroup[], { lr: 0.1 })).toThrow(FliqsError);
        expect(() => new SGD(bad as unknown as ParamGroup[], { lr: 0.1 })).toThrow(msg);
      }
    });
    for (const t of [p, loose, frozen]) t.free();
  });
});
