// The training graph's own evaluation of a model at given formats: fake-quantized weights and inputs,
// f32 everywhere, eval-mode batch-norm. The exported model is held to it (docs/deploy.md).

import { FliqsError } from '../core/errors.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import type { Module } from '../nn/module.js';
import { quantLayers } from '../nn/quant.js';
import { parseFormat } from '../formats/format.js';
import type { LayerFormats } from './export.js';

/**
 * Logits [count, classes] of `model` with formats[i] on its i-th searched layer (weights and inputs
 * fake-quantized, phases on), NHWC images of `inputShape`. Leaves the layers at those formats, in eval mode.
 * @example
 * const logits = fakeQuantPredict(model, ['INT8', 'INT4', 'INT8'], images, [28, 28, 1]);
 */
export function fakeQuantPredict(model: Module, formats: ReadonlyArray<LayerFormats>, images: Float32Array,
  inputShape: readonly [number, number, number], batchSize = 250): Float32Array {
  const layers = quantLayers(model);
  if (formats.length !== layers.length) throw new FliqsError('formats', `has ${formats.length} entries for ${layers.length} layers`, 'one per searched layer');
  layers.forEach(([, l], i) => {
    const c = formats[i]!;
    const [w, a] = typeof c === 'object' && 'weight' in c ? [c.weight, c.activation] : [c, c];
    l.quant.weightFormat = parseFormat(w);
    l.quant.actFormat = parseFormat(a);
    l.quant.quantizeWeights = true;
    l.quant.quantizeActivations = true;
  });
  model.eval();
  const per = inputShape[0] * inputShape[1] * inputShape[2];
  const count = images.length / per;
  const parts: Float32Array[] = [];
  for (let b0 = 0; b0 < count; b0 += batchSize) {
    const n = Math.min(batchSize, count - b0);
    parts.push(stepScope(() => noGrad(() => model.forward(Tensor.from(images.subarray(b0 * per, (b0 + n) * per), [n, ...inputShape])).toArray())));
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
