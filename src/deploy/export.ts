// exportModel: a trained model and one format per searched layer → a ModelSpec (see spec.ts). Weights
// become storage codes with the same per-channel scales the fake quantizer uses (so decode(code)/s is
// bit for bit the fake-quantized weight); bias and an eval-mode batch-norm fold into the output affine.

import { FliqsError, describe, requireObject } from '../core/errors.js';
import { encodeValue, packCodes } from '../formats/codes.js';
import { parseFormat, type Format } from '../formats/format.js';
import { scaleOf } from '../formats/params.js';
import { roundToGrid } from '../formats/reference.js';
import { Conv2d } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { quantLayers, type QuantLayer } from '../nn/quant.js';
import { lowerModel, type FoldableNorm } from './graph.js';
import type { DeployInfo, DeployLayer, DeployWeights, ModelSpec } from './spec.js';

/** A layer's formats: one for weights and input alike, or each on its own. */
export type LayerFormats = string | Format | { weight: string | Format; activation: string | Format };

export interface ExportOptions {
  /** What the model is (zoo name, width, input shape [H, W, C], classes) and where it came from. */
  info: DeployInfo;
  /** Per searched layer, the input clip to use (default: the layer's own clip for its activation format). */
  clips?: ReadonlyArray<number | null | undefined>;
}

const f32 = Math.fround;

/**
 * Exports `model` (trained, in any mode: it is lowered, not run) with `formats[i]` for its i-th searched
 * layer (quantLayers order; default: each layer's current formats).
 * @example
 * const spec = exportModel(model, ['INT8', 'INT4', 'INT8'], { info: { model: 'cnn', width: 1, inputShape: [28, 28, 1], classes: 10 } });
 * const bytes = encodeModel(spec);
 */
export function exportModel(model: Module, formats: ReadonlyArray<LayerFormats> | null | undefined, options: ExportOptions): ModelSpec {
  const searched = quantLayers(model);
  requireObject('options', options, '{ info: { model, width, inputShape: [H, W, C], classes } }');
  if (formats != null && (!Array.isArray(formats) || formats.length !== searched.length)) {
    throw new FliqsError('formats', `got ${describe(formats)}`, `${searched.length} formats, one per searched layer (${searched.map(([n]) => n).join(', ')})`);
  }
  const info = options?.info;
  if (typeof info !== 'object' || info === null) throw new FliqsError('options.info', `got ${describe(info)}`, '{ model, width, inputShape: [H, W, C], classes }');
  const g = lowerModel(model, new Map(searched.map(([n, l]) => [l as Module, n])));
  if (g.layers.length !== searched.length) {
    throw new FliqsError('model', `reaches ${g.layers.length} of its ${searched.length} searched layers in its inference graph`, 'every searched layer used once by forward()');
  }
  const index = new Map(searched.map(([, l], i) => [l as Module, i]));
  const layers: DeployLayer[] = [];
  const weights: DeployWeights[] = [];
  for (const lowered of g.layers) {
    const i = index.get(lowered.module)!;
    const l = lowered.module;
    const [wf, af] = layerFormats(formats?.[i], l);
    const clip = options.clips?.[i] ?? (af.ignoresClip ? null : l.quant.actClip(af));
    if (clip !== null && !(typeof clip === 'number' && clip > 0 && Number.isFinite(clip))) {
      throw new FliqsError(`clips[${i}]`, `got ${describe(clip)} for layer ${lowered.name}`, 'a finite number > 0');
    }
    const conv = l instanceof Conv2d ? l : null;
    layers.push({
      name: lowered.name,
      kind: conv ? (conv.groups > 1 ? 'depthwise' : 'conv') : 'linear',
      weightShape: l.weight.shape.slice(),
      stride: conv ? [...conv.stride] : [1, 1],
      padding: conv ? [...conv.padding] : [0, 0],
      weightFormat: wf.name,
      activationFormat: af.name,
      activationClip: af.ignoresClip ? null : clip,
    });
    weights.push({ ...weightCodes(l, wf), ...outAffine(l, lowered.norm) });
  }
  // layers[k] is the layer node.layer = k names: GraphBuilder numbers them in graph order, as built here
  return { info: { ...info, inputShape: [...info.inputShape] }, layers, weights, graph: g.nodes };
}

function layerFormats(choice: LayerFormats | undefined, l: QuantLayer): [Format, Format] {
  if (choice === undefined) return [l.quant.weightFormat, l.quant.actFormat];
  if (typeof choice === 'object' && choice !== null && 'weight' in choice) return [parseFormat(choice.weight), parseFormat(choice.activation)];
  const f = parseFormat(choice as string | Format);
  return [f, f];
}

/** The weight's codes and per-output-channel scales, as the fake quantizer would round them. */
function weightCodes(l: QuantLayer, f: Format): Pick<DeployWeights, 'codes' | 'weightScale'> {
  const w = l.weight.toArray();
  const C = l.weight.shape[l.weight.shape.length - 1]!;
  const scale = new Float32Array(C).fill(1);
  if (!f.ignoresClip) {
    const saved = l.quant.weightFormat;
    l.quant.weightFormat = f; // weightClip() reads the current format (the 'mse' method caches per format)
    try {
      const clips = l.quant.weightClip(l.weight);
      for (let c = 0; c < C; c++) scale[c] = scaleOf(f, typeof clips === 'number' ? clips : clips[c]!);
    } finally {
      l.quant.weightFormat = saved;
    }
  }
  const codes = new Uint32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scale[i % C]!;
    let v: number;
    if (f.ignoresClip) v = roundToGrid(f32(w[i]!), f);
    else v = roundToGrid(Math.min(Math.max(f32(w[i]! * s), -f.maxValue), f.maxValue), f);
    if (Number.isNaN(v)) throw new FliqsError('model', `has a NaN weight in ${l.weight.shape.join('×')} layer`, 'finite weights (the training diverged?)');
    codes[i] = encodeValue(f, v, i);
  }
  return { codes: packCodes(codes, f.bits), weightScale: scale };
}

/** outScale / outBias: y = conv·a + ((bias − mean)·a + β) with a = γ/√(var+ε), or y = conv + bias. */
function outAffine(l: QuantLayer & { bias?: { toArray(): Float32Array } | null }, norm: FoldableNorm | null): Pick<DeployWeights, 'outScale' | 'outBias'> {
  const C = l.weight.shape[l.weight.shape.length - 1]!;
  const bias = l.bias ? l.bias.toArray() : new Float32Array(C);
  if (!norm) return { outScale: new Float32Array(C).fill(1), outBias: Float32Array.from(bias) };
  const gamma = norm.weight.toArray(), beta = norm.bias.toArray(), mean = norm.runningMean.toArray(), v = norm.runningVar.toArray();
  const eps = norm.opts.eps ?? 1e-5;
  const outScale = new Float32Array(C), outBias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const a = gamma[c]! / Math.sqrt(v[c]! + eps);
    outScale[c] = a;
    outBias[c] = (bias[c]! - mean[c]!) * a + beta[c]!;
  }
  return { outScale, outBias };
}
