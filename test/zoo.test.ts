// The model zoo: every model builds at both input sizes and widths, runs forward/backward, and lists its
// searched layers with MACs that match a hand count.
import { describe, expect, it } from 'vitest';
import * as op from '../src/autograd/ops.js';
import { Tensor, stepScope } from '../src/autograd/tensor.js';
import { FliqsError } from '../src/core/errors.js';
import { runtime } from '../src/core/runtime.js';
import { createModel, describeModel, MODEL_NAMES } from '../src/nn/zoo.js';
import { parseFormat } from '../src/formats/format.js';
import { uniformCost } from '../src/search/cost.js';

describe('model zoo', () => {
  it('describeModel leaves nothing allocated (it used to keep its forward output: 64 B per call)', () => {
    for (const name of ['cnn', 'resnet8'] as const) {
      const m = createModel(name, { inputShape: [28, 28, 1] });
      describeModel(m, [28, 28, 1]);
      const before = runtime.arena.bytesInUse, blocks = runtime.arena.liveBlocks;
      for (let i = 0; i < 5; i++) describeModel(m, [28, 28, 1]);
      expect(runtime.arena.bytesInUse).toBe(before);
      expect(runtime.arena.liveBlocks).toBe(blocks);
      m.free();
    }
  });

  it('lenet5 MACs on 28×28×1 equal a hand count', () => {
    const layers = describeModel(createModel('lenet5'), [28, 28, 1]);
    expect(layers.map((l) => [l.kind, l.macs])).toEqual([
      ['conv', 28 * 28 * 5 * 5 * 1 * 6], // 28×28 outputs (padding 2), 5×5×1 taps, 6 filters
      ['conv', 10 * 10 * 5 * 5 * 6 * 16], // 14×14 pooled → 10×10 outputs
      ['linear', 400 * 120],
      ['linear', 120 * 84],
      ['linear', 84 * 10],
    ]);
    expect(layers.reduce((a, l) => a + l.macs, 0)).toBe(416520);
    // The cost model: BOPs = bits² · MACs, summed.
    expect(uniformCost(layers, parseFormat('INT8'))).toBe(64 * 416520);
    expect(uniformCost(layers, parseFormat('E2M1'))).toBe(16 * 416520);
  });

  it('resnet8 has 10 searched layers (stem, 6 block convs, 2 shortcuts, fc) and halves resolution twice', () => {
    const layers = describeModel(createModel('resnet8'), [28, 28, 1]);
    expect(layers.map((l) => l.name)).toEqual(['stem.layers.0', 'stages.0.conv1', 'stages.0.conv2', 'stages.1.conv1', 'stages.1.conv2',
      'stages.1.downsample.layers.0', 'stages.2.conv1', 'stages.2.conv2', 'stages.2.downsample.layers.0', 'fc']);
    expect(layers[0]!.macs).toBe(28 * 28 * 9 * 16);
    expect(layers[3]!.macs).toBe(14 * 14 * 9 * 16 * 32);
    expect(layers[8]!.macs).toBe(7 * 7 * 32 * 64);
    expect(layers[9]!.macs).toBe(64 * 10);
  });

  it('mobilenetv2 searches its depthwise convolutions and vit-tiny its attention projections', () => {
    expect(describeModel(createModel('mobilenetv2'), [28, 28, 1]).filter((l) => l.kind === 'depthwise').length).toBe(8);
    const vit = describeModel(createModel('vit-tiny'), [28, 28, 1]).map((l) => l.name);
    expect(vit).toContain('blocks.0.attn.q');
    expect(vit).toContain('blocks.1.attn.out');
  });

  it.each(MODEL_NAMES)('%s builds at 28×28×1 and 32×32×3, widths 0.25–2, and back-propagates', (name) => {
    for (const [shape, width] of [[[28, 28, 1], 0.25], [[32, 32, 3], 1], [[28, 28, 1], 2]] as const) {
      const m = createModel(name, { width, inputShape: shape, seed: 3 });
      const layers = describeModel(m, shape);
      expect(layers.length).toBeGreaterThanOrEqual(3);
      expect(layers.every((l) => l.macs > 0 && l.params > 0)).toBe(true);
      stepScope(() => {
        const x = Tensor.from(new Float32Array(2 * shape[0] * shape[1] * shape[2]).map((_, i) => Math.sin(i)), [2, ...shape]);
        const y = m.forward(x);
        expect(y.shape).toEqual([2, 10]);
        op.crossEntropy(y, Int32Array.from([1, 7])).backward();
      });
      for (const p of m.parameters()) expect(p.gradData?.some((g) => g !== 0) ?? false, `${name} ${p.shape}`).toBe(true);
      m.free();
    }
  });

  it('wider models have more MACs; the same seed gives the same weights', () => {
    const macs = (w: number) => describeModel(createModel('resnet8', { width: w }), [28, 28, 1]).reduce((a, l) => a + l.macs, 0);
    expect(macs(0.5)).toBeLessThan(macs(1));
    expect(macs(1)).toBeLessThan(macs(2));
    const a = createModel('cnn', { seed: 5 }).stateDict(), b = createModel('cnn', { seed: 5 }).stateDict();
    expect(Object.keys(a.values)).toEqual(Object.keys(b.values));
    for (const k of Object.keys(a.values)) expect([...a.values[k]!]).toEqual([...b.values[k]!]);
  });

  it('rejects unknown models and bad widths and shapes', () => {
    expect(() => createModel('resnet9')).toThrow(/model: "resnet9" is not a zoo model; accepted: mlp, lenet5/);
    expect(() => createModel('mlp', { width: 0 })).toThrow(FliqsError);
    expect(() => createModel('vit-tiny', { inputShape: [30, 30, 1] })).toThrow(/not a multiple of the 4×4 patch/);
    expect(() => createModel('lenet5', { inputShape: [8, 8, 1] })).toThrow(/too small for lenet5/);
  });
});
