// The deployable model as data: an inference graph over quantized layers, each holding its weights as
// storage codes of its format, per-output-channel scales and a folded output affine (bias and batch-norm).
// This is what a .fliqs file holds (model-file.ts), what QuantizedModel runs (inference.ts) and what the
// ONNX writer translates (onnx/). Browser-safe; no file system.

import { FliqsError, describe } from '../core/errors.js';

/** Value ids: 0 is the graph input (NHWC images); node i produces value i + 1. */
export type ValueId = number;

/** One inference-graph node. Conv, depthwise and linear nodes name a layer of `layers`. */
export type DeployNode =
  | { op: 'layer'; input: ValueId; layer: number }
  | { op: 'relu' | 'relu6' | 'flatten' | 'globalAvgPool'; input: ValueId }
  | { op: 'maxPool' | 'avgPool'; input: ValueId; kernel: [number, number]; stride: [number, number];
      /** [top, left, bottom, right] */
      padding: [number, number, number, number] }
  | { op: 'add'; input: ValueId; other: ValueId };

export type DeployLayerKind = 'conv' | 'depthwise' | 'linear';

/**
 * A searched layer, quantized. The layer computes, per output channel n,
 *   y[n] = outScale[n] · Σ_k xq[k] · w[k, n] + outBias[n],   w[k, n] = decode(code[k, n]) / weightScale[n],
 *   xq = quantize(x, activationFormat, activationClip)   (the fake quantizer of docs/quantization.md),
 * which is the training graph's conv/linear, its bias and an eval-mode batch-norm after it, folded.
 */
export interface DeployLayer {
  /** Dotted module name in the trained model, e.g. `stages.1.conv2`. */
  name: string;
  kind: DeployLayerKind;
  /** conv / depthwise: HWIO [KH, KW, Cin / groups, Cout] (depthwise: Cin / groups = 1); linear: [in, out]. */
  weightShape: number[];
  /** conv / depthwise only: [sh, sw]. */
  stride: [number, number];
  /** conv / depthwise only: symmetric zero padding [ph, pw]. */
  padding: [number, number];
  /** Format of the weight codes (canonical name: INT4, E4M3, BF16, FP32, …). */
  weightFormat: string;
  /** Format the layer's input is quantized to before the layer (FP32: not quantized). */
  activationFormat: string;
  /** The input's clip (scale = maxValue / clip); null for formats that ignore the clip (BF16, FP32). */
  activationClip: number | null;
}

/** A layer's arrays: `codes` densely packed at weightFormat's bits (packCodes order over the weight's row-major elements). */
export interface DeployWeights {
  codes: Uint8Array;
  /** Cout scales s[n]: the weight value is decode(code) / s[n] (1 for BF16 / FP32). */
  weightScale: Float32Array;
  /** Cout multipliers (batch-norm γ/√(var+ε)); 1 where there is no batch-norm. */
  outScale: Float32Array;
  /** Cout offsets (bias and batch-norm folded); 0 where there are none. */
  outBias: Float32Array;
}

/** The model's identity: what it was built from, so a reader can say what it holds. */
export interface DeployInfo {
  /** Zoo name (mlp, cnn, resnet8, …). */
  model: string;
  width: number;
  /** [H, W, C] of one input image. */
  inputShape: [number, number, number];
  classes: number;
  /** Free-form provenance: the run it came from, its accuracy, its cost. */
  source?: Record<string, unknown>;
}

/** A whole deployable model in memory. */
export interface ModelSpec {
  info: DeployInfo;
  layers: DeployLayer[];
  weights: DeployWeights[];
  graph: DeployNode[];
}

/** Throws unless `l` is an object with a weightShape of positive integers (what layerParams/layerChannels read). */
function checkWeightShape(l: unknown): DeployLayer {
  const shape = (l as { weightShape?: unknown } | null)?.weightShape;
  if (typeof l !== 'object' || l === null || !Array.isArray(shape) || shape.length === 0 || !Array.from(shape).every((d) => Number.isInteger(d) && d >= 1)) {
    throw new FliqsError('layer', `got ${describe(l)}`, 'a DeployLayer with weightShape: positive integers');
  }
  return l as DeployLayer;
}

/** Parameters (weight elements) of a layer. */
export function layerParams(l: DeployLayer): number {
  return checkWeightShape(l).weightShape.reduce((a, b) => a * b, 1);
}

/** Output channels of a layer (the weight's last dimension). */
export function layerChannels(l: DeployLayer): number {
  return checkWeightShape(l).weightShape[l.weightShape.length - 1]!;
}
