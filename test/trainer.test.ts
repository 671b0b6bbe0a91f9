// The training loop: learning, determinism, exact resume, two-phase quantization, flat memory, errors.
import { describe, expect, it } from 'vitest';
import { runtime } from '../src/core/runtime.js';
import { syntheticSplits } from '../src/data/synthetic.js';
import { quantLayers } from '../src/nn/quant.js';
import { createModel } from '../src/nn/zoo.js';
import { Trainer, type TrainConfig } from '../src/train/trainer.js';
import { FliqsError } from '../src/core/errors.js';

const data = syntheticSplits({ train: 512, validation: 128, test: 256, shape: [12, 12, 1], classes: 4, seed: 2 });
const base: TrainConfig = { epochs: 3, batchSize: 32, optimizer: 'sgd', lr: 0.05, seed: 7, formats: ['INT8'], actQuantStart: 0.2, profileBatches: 2 };

function make(cfg: Partial<TrainConfig> = {}, model = 'cnn') {
  return new Trainer(createModel(model, { inputShape: [12, 12, 1], classes: 4, seed: 1 }), data, { ...base, ...cfg });
}

describe('Trainer', () => {
  it('learns a synthetic task with INT8 QAT, switching activations on after profiling', () => {
    const t = make();
    const before = t.evaluate(data.test).accuracy;
    const losses: number[] = [];
    for (const r of t.run()) {
      losses.push(r.loss);
      const acts = quantLayers(t.model).every(([, l]) => l.quant.quantizeActivations);
      expect(acts, `step ${r.step}`).toBe(r.step >= Math.floor(0.2 * t.totalSteps) + 2); // after actStart + 2 profiling batches
      expect(quantLayers(t.model).every(([, l]) => l.quant.quantizeWeights && l.quant.weightFormat.name === 'INT8')).toBe(true);
    }
    expect(t.step).toBe(3 * 16);
    const after = t.evaluate(data.test).accuracy;
    expect(after).toBeGreaterThan(0.85);
    expect(after).toBeGreaterThan(before + 0.3);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5 / 2);
    for (const [, l] of quantLayers(t.model)) expect(l.quant.actClips.get('INT8')).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same loss trace, another seed a different one', () => {
    const trace = (seed: number) => [...make({ seed, epochs: 1 }).run()].map((r) => r.loss);
    const a = trace(7), b = trace(7), c = trace(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('resumes from a mid-epoch checkpoint to exactly the uninterrupted result', () => {
    const full = make({ optimizer: 'adam', lr: 0.003, augment: { pad: 1 } });
    const fullTrace = [...full.run()].map((r) => r.loss);
    const first = make({ optimizer: 'adam', lr: 0.003, augment: { pad: 1 } });
    const it1 = first.run();
    for (let i = 0; i < 21; i++) it1.next(); // step 21 of 48: mid-epoch, after profiling
    const ck = JSON.parse(JSON.stringify({ ...first.checkpoint(), tensors: {} }));
    ck.tensors = first.checkpoint().tensors;
    const resumed = make({ optimizer: 'adam', lr: 0.003, augment: { pad: 1 } });
    resumed.restore(ck);
    const rest = [...resumed.run()].map((r) => r.loss);
    expect(rest).toEqual(fullTrace.slice(21));
    const a = full.model.stateDict().values, b = resumed.model.stateDict().values;
    for (const k of Object.keys(a)) expect([...b[k]!], k).toEqual([...a[k]!]);
  });

  it('keeps wasm memory flat over 50 steps', () => {
    const t = make({ epochs: 4 });
    const it1 = t.run();
    for (let i = 0; i < 12; i++) it1.next(); // past profiling, so every step does the same work
    const used = runtime.arena.bytesInUse, blocks = runtime.arena.liveBlocks;
    for (let i = 0; i < 50; i++) it1.next();
    expect(runtime.arena.bytesInUse).toBe(used);
    expect(runtime.arena.liveBlocks).toBe(blocks);
  });

  it('stops with a FliqsError when the loss is not finite', () => {
    const t = make({ lr: 1e6, formats: ['FP32'], optimizer: 'sgd' });
    expect(() => { for (const _ of t.run()); }).toThrow(/loss: became (NaN|Infinity)/);
  });

  it('refuses a checkpoint inside the profiling window and bad configs', () => {
    const t = make();
    const it1 = t.run();
    for (let i = 0; i < Math.floor(0.2 * t.totalSteps); i++) it1.next();
    expect(t.profiling).toBe(true);
    expect(() => t.checkpoint()).toThrow(FliqsError);
    expect(() => make({ lr: -1 })).toThrow(/lr: got -1/);
    expect(() => make({ optimizer: 'lion' as never })).toThrow(/optimizer: got "lion"; accepted: sgd, adam, adamw, rmsprop/);
    expect(() => make({ batchSize: 10000 })).toThrow(/larger than the training set/);
    expect(() => make({ formats: ['INT99'] })).toThrow(/format/);
  });
});
