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
      // Profiling covers steps actStart and actStart + 1; activations are quantized once the last one ends.
      expect(acts, `step ${r.step}`).toBe(r.step >= Math.floor(0.2 * t.totalSteps) + 1);
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

  // Cut points: an epoch end (16, 32), mid-epoch (21), and the first step after activation profiling (9 + 2).
  it.each([11, 16, 21, 32])('resumes from a checkpoint after step %i to exactly the uninterrupted result', (cut) => {
    const cfg = { optimizer: 'adam', lr: 0.003, augment: { pad: 1 } } as const;
    const full = make(cfg);
    const fullTrace = [...full.run()].map((r) => r.loss);
    const first = make(cfg);
    const it1 = first.run();
    for (let i = 0; i < cut; i++) it1.next();
    expect(first.profiling).toBe(false);
    const saved = first.checkpoint();
    const ck = { meta: JSON.parse(JSON.stringify(saved.meta)), tensors: saved.tensors };
    const resumed = make(cfg);
    resumed.restore(ck);
    const rest = [...resumed.run()].map((r) => r.loss);
    expect(rest).toEqual(fullTrace.slice(cut));
    const a = full.model.stateDict().values, b = resumed.model.stateDict().values;
    for (const k of Object.keys(a)) expect([...b[k]!], k).toEqual([...a[k]!]);
  });

  it('rejects a checkpoint of another model without changing anything', () => {
    const t = make();
    const before = t.model.stateDict().values;
    const other = new Trainer(createModel('mlp', { inputShape: [12, 12, 1], classes: 4 }), data, base);
    expect(() => t.restore(other.checkpoint())).toThrow(/checkpoint: has no matching param/);
    const bad = t.checkpoint();
    expect(() => t.restore({ ...bad, meta: { ...bad.meta, step: 10_000 } })).toThrow(/checkpoint: has step 10000/);
    // crafted quantizer states (a valid checksum does not make them well-formed): refused before any write
    const moved = { ...bad, tensors: Object.fromEntries(Object.entries(bad.tensors).map(([k, v]) => [k, v.map((x) => x + 1)])) };
    const q0 = bad.meta.quant[0]!;
    for (const q of [{ ...q0, actClips: 5 }, { ...q0, actClips: [['INT8', -1]] }, { ...q0, quantizeWeights: 'yes' }, { ...q0, actStd: 'x' },
      { ...q0, weightClips: [[1, 2]] }, null]) {
      const quant = [q, ...bad.meta.quant.slice(1)];
      expect(() => t.restore({ ...moved, meta: { ...moved.meta, step: 3, quant } } as typeof bad)).toThrow(FliqsError);
    }
    const after = t.model.stateDict().values;
    for (const k of Object.keys(before)) expect([...after[k]!]).toEqual([...before[k]!]);
    expect(t.step).toBe(0);
  });

  it('profiles training inputs only, not evaluation inside the profiling window', () => {
    const t = make({ epochs: 1, actQuantStart: 0.25, profileBatches: 3 });
    const it1 = t.run();
    for (let i = 0; i < 5; i++) it1.next(); // steps 0..4; profiling covers steps 4, 5, 6
    t.evaluate(data.test); // eval-mode forwards inside the window
    const shadow = make({ epochs: 1, actQuantStart: 0.25, profileBatches: 3 });
    for (const it2 = shadow.run(); shadow.step < 7;) it2.next();
    for (; t.step < 7;) it1.next();
    const std = (tr: Trainer) => quantLayers(tr.model).map(([, l]) => l.quant.actStd);
    expect(std(t)).toEqual(std(shadow));
    expect(std(t).every((s) => s !== null && s > 0)).toBe(true);
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
    expect(() => make({ epochs: 1, actQuantStart: 0.95 })).toThrow(/activations would never be quantized/);
    expect(() => { for (const _ of t.run()); }).toThrow(/loss: became (NaN|Infinity)/);
  });

  it('refuses a checkpoint inside the profiling window and bad configs', () => {
    const t = make();
    const it1 = t.run();
    for (let i = 0; i < Math.floor(0.2 * t.totalSteps) + 1; i++) it1.next(); // one of the two profiling steps done
    expect(t.profiling).toBe(true);
    expect(() => t.checkpoint()).toThrow(FliqsError);
    expect(() => make({ lr: -1 })).toThrow(/lr: got -1/);
    expect(() => make({ optimizer: 'lion' as never })).toThrow(/optimizer: got "lion"; accepted: sgd, adam, adamw, rmsprop/);
    expect(() => make({ batchSize: 10000 })).toThrow(/larger than the training set/);
    expect(() => make({ formats: ['INT99'] })).toThrow(/format/);
  });
});
