// Shared by the deploy tests: models with real activation clips, and the error bound of a layer
// against the scalar reference (docs/deploy.md derives it).
import { Tensor, noGrad, stepScope } from '../src/autograd/tensor.js';
import { Rng } from '../src/core/random.js';
import { decodeValue, encodeValue, packCodes, unpackCodes } from '../src/formats/codes.js';
import { parseFormat } from '../src/formats/format.js';
import { predictRef } from '../src/deploy/reference.js';
import type { ModelSpec } from '../src/deploy/spec.js';
import type { Module } from '../src/nn/module.js';
import { finishProfile, startProfile } from '../src/nn/quant.js';
import { BatchNorm2d } from '../src/nn/layers.js';

/** Gives every batch-norm non-trivial statistics and affine (some γ negative), as training would. */
export function randomizeNorms(model: Module, seed = 1): void {
  const r = new Rng(seed);
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const C = m.numFeatures;
    noGrad(() => {
      m.runningMean.data.set(Float32Array.from({ length: C }, () => r.normal() * 0.3));
      m.runningVar.data.set(Float32Array.from({ length: C }, () => 0.5 + r.uniform()));
      m.weight.data.set(Float32Array.from({ length: C }, () => (r.uniform() < 0.1 ? -1 : 1) * (0.5 + r.uniform())));
      m.bias.data.set(Float32Array.from({ length: C }, () => r.normal() * 0.2));
    });
  }
}

/** Profiles every searched layer's input on `images` (train mode, batch-norm statistics kept) and derives clips for `formats`. */
export function profile(model: Module, images: Float32Array, shape: readonly number[], formats: readonly string[]): void {
  const saved = model.namedBuffers().map(([, t]) => t.toArray());
  model.train();
  startProfile(model);
  stepScope(() => noGrad(() => model.forward(Tensor.from(images, [images.length / shape.reduce((a, b) => a * b, 1), ...shape]))));
  finishProfile(model, formats);
  model.eval();
  noGrad(() => model.namedBuffers().forEach(([, t], i) => t.data.set(saved[i]!))); // the train-mode forward moved the running statistics
}

/**
 * The spec with every weight and scale made non-negative and the biases zeroed: predictRef of it on |x|
 * is Σ|xq|·|w|·|a| per output, the magnitude that bounds a sum's rounding error.
 */
export function magnitudeSpec(spec: ModelSpec): ModelSpec {
  return {
    ...spec,
    weights: spec.weights.map((w, i) => {
      const f = parseFormat(spec.layers[i]!.weightFormat);
      const n = spec.layers[i]!.weightShape.reduce((a, b) => a * b, 1);
      const codes = unpackCodes(w.codes, f.bits, n).map((c) => encodeValue(f, Math.abs(decodeValue(f, c))));
      return { codes: packCodes(codes, f.bits), weightScale: w.weightScale, outScale: w.outScale.map(Math.abs), outBias: new Float32Array(w.outBias.length) };
    }),
  };
}

/**
 * Per output: a bound on |ours − predictRef| for a one-layer spec. Both sides round a sum of K products
 * (each ≤ (K + 2)·u of Σ|xq||w|, u = 2^-24, or exact in int32 on the integer path), then an affine
 * y = s·acc + b (two more roundings of |s·acc| + |b|).
 */
export function oneLayerBound(spec: ModelSpec, images: Float32Array, count: number): Float32Array {
  const l = spec.layers[0]!;
  const K = l.kind === 'depthwise' ? l.weightShape[0]! * l.weightShape[1]! : l.weightShape.slice(0, -1).reduce((a, b) => a * b, 1);
  const mag = predictRef(magnitudeSpec(spec), images.map(Math.abs), count);
  const b = spec.weights[0]!.outBias, C = b.length, u = 2 ** -24;
  return mag.map((m, i) => 2 * (K + 4) * u * m + 4 * u * Math.abs(b[i % C]!));
}
