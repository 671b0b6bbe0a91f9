// The training graph's own evaluation of a model at given formats: fake-quantized weights and inputs,
// f32 everywhere, eval-mode batch-norm. The exported model is held to it (docs/deploy.md).

import { FliqsError, describe, requireInt } from '../core/errors.js';
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
  if (!Array.isArray(formats) || formats.length !== layers.length) {
    throw new FliqsError('formats', `got ${describe(formats)} for ${layers.length} layers`, 'one format (or { weight, activation }) per searched layer');
  }
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !Array.from(inputShape).every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 12)) {
    throw new FliqsError('inputShape', `got ${describe(inputShape)}`, '[H, W, C] with integers from 1 to 4096');
  }
  if (!(images instanceof Float32Array) || images.length % (inputShape[0] * inputShape[1] * inputShape[2]) !== 0) {
    throw new FliqsError('images', `got ${describe(images)}`, `a Float32Array of whole images of [${inputShape.join(', ')}]`);
  }
  requireInt('batchSize', batchSize, 1);
  // Every format is parsed before any layer changes, so a bad one leaves the model as it was.
  const parsed = formats.map((c, i) => {
    const [w, a] = typeof c === 'object' && c !== null && 'weight' in c ? [c.weight, c.activation] : [c, c];
    const at = `formats[${i}]`;
    try {
      return [parseFormat(w), parseFormat(a)] as const;
    } catch (e) {
      if (e instanceof FliqsError) throw new FliqsError(at, e.problem, e.accepted);
      throw e;
    }
  });
  layers.forEach(([, l], i) => {
    const [w, a] = parsed[i]!;
    l.quant.weightFormat = w;
    l.quant.actFormat = a;
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
