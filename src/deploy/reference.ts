// The scalar reference evaluation of a ModelSpec: the oracle the wasm runtime and the ONNX export are tested
// against. Plain loops, written to be obviously right rather than fast: every node's output is an f32 tensor
// (as in any runtime), computed in f64 from its f32 inputs and rounded once; a layer quantizes its input with
// quantizeRef (the fake quantizer of docs/quantization.md, f32 exactly as specified) and uses the weights
// decode(code) / weightScale[n] exactly (f64).

import { FliqsError, describe, requireInt } from '../core/errors.js';
import { decodeValue, unpackCodes } from '../formats/codes.js';
import { parseFormat } from '../formats/format.js';
import { checkedScale } from '../formats/checks.js';
import { quantizeRef } from '../formats/reference.js';
import { avgPool2dRef, conv2dRef, globalAvgPoolRef, maxPool2dRef, outExtent, type ConvShape } from '../kernels/conv.ref.js';
import { checkSpec } from './check.js';
import { layerChannels, layerParams, type DeployLayer, type DeployNode, type ModelSpec } from './spec.js';

/** The shape of one example of a value: [H, W, C] (NHWC image) or [F] (flat features). */
export type ValueShape = readonly [number, number, number] | readonly [number];

const f32 = Math.fround;

/** Per-layer geometry on a given input: the ConvShape for one example (N = 1); linear is a 1×1 conv. */
export function layerGeometry(l: DeployLayer, input: ValueShape, where = 'layer'): ConvShape {
  const bad = (problem: string, accepted: string): never => { throw new FliqsError(where, problem, accepted); };
  const [H, W, C] = input.length === 3 ? input : [1, 1, input[0]];
  const CO = layerChannels(l);
  if (l.kind === 'linear') {
    if (C !== l.weightShape[0]) bad(`(linear [${l.weightShape.join(', ')}]) gets ${C} input features`, `${l.weightShape[0]}`);
    return { N: 1, H, W, C, CO, KH: 1, KW: 1, OH: H, OW: W, sh: 1, sw: 1, pt: 0, pl: 0, pb: 0, pr: 0, groups: 1 };
  }
  if (input.length !== 3) bad(`(${l.kind}) gets a flat input of ${C} features`, 'an [H, W, C] image');
  const [KH, KW, ICg] = l.weightShape as [number, number, number, number];
  const groups = C / ICg;
  if (!Number.isInteger(groups) || CO % groups !== 0) {
    bad(`(${l.kind}, weight [${l.weightShape.join(', ')}]) gets ${C} input channels`, `a multiple of ${ICg} that divides ${CO} output channels into groups`);
  }
  const [sh, sw] = l.stride, [ph, pw] = l.padding;
  const OH = outExtent(H, KH, sh, ph, ph), OW = outExtent(W, KW, sw, pw, pw);
  if (OH < 1 || OW < 1) bad(`(${l.kind}) kernel ${KH}×${KW} does not fit its ${H}×${W} input padded by ${ph}, ${pw}`, 'a kernel no larger than the padded input');
  return { N: 1, H, W, C, CO, KH, KW, OH, OW, sh, sw, pt: ph, pl: pw, pb: ph, pr: pw, groups };
}

/** Pool geometry for one example. Padding must be smaller than the kernel (no window lies wholly in padding). */
export function poolGeometry(n: Extract<DeployNode, { op: 'maxPool' | 'avgPool' }>, input: ValueShape, where = 'pool'): ConvShape {
  if (input.length !== 3) throw new FliqsError(where, `(${n.op}) gets a flat input`, 'an [H, W, C] image');
  const [H, W, C] = input;
  const [KH, KW] = n.kernel, [sh, sw] = n.stride, [pt, pl, pb, pr] = n.padding;
  if (Math.max(pt, pb) >= KH || Math.max(pl, pr) >= KW) {
    throw new FliqsError(where, `(${n.op}) has padding [${n.padding.join(', ')}] for a ${KH}×${KW} window`, 'padding smaller than the window on each side');
  }
  const OH = outExtent(H, KH, sh, pt, pb), OW = outExtent(W, KW, sw, pl, pr);
  if (OH < 1 || OW < 1) throw new FliqsError(where, `(${n.op}) window ${KH}×${KW} does not fit its ${H}×${W} input`, 'a window no larger than the padded input');
  return { N: 1, H, W, C, CO: C, KH, KW, OH, OW, sh, sw, pt, pl, pb, pr, groups: C };
}

const size = (s: ValueShape): number => s.reduce((a, b) => a * b, 1);

/**
 * The shape of every value (index = value id: 0 is the input, i + 1 is node i's output), checked: a FliqsError
 * names the first node whose input does not fit, or a last value that is not `classes` features.
 * @example
 * valueShapes(spec) // [[28, 28, 1], [784], [10]] for flatten → linear(784, 10)
 */
export function valueShapes(spec: ModelSpec): ValueShape[] {
  const shapes: ValueShape[] = [spec.info.inputShape];
  spec.graph.forEach((n, i) => {
    const where = `node ${i} (${n.op})`;
    const x = shapes[n.input]!;
    let out: ValueShape;
    switch (n.op) {
      case 'layer': {
        const g = layerGeometry(spec.layers[n.layer]!, x, where);
        out = x.length === 1 ? [g.CO] : [g.OH, g.OW, g.CO];
        break;
      }
      case 'relu': case 'relu6': out = x; break;
      case 'flatten': out = [size(x)]; break;
      case 'globalAvgPool':
        if (x.length !== 3) throw new FliqsError(where, 'gets a flat input', 'an [H, W, C] image');
        out = [x[2]];
        break;
      case 'maxPool': case 'avgPool': {
        const g = poolGeometry(n, x, where);
        out = [g.OH, g.OW, g.C];
        break;
      }
      case 'add': {
        const y = shapes[n.other]!;
        if (x.join() !== y.join()) throw new FliqsError(where, `adds [${x.join(', ')}] and [${y.join(', ')}]`, 'two values of one shape');
        out = x;
        break;
      }
      default:
        throw new FliqsError(where, `has op ${describe((n as { op?: unknown }).op)}`, 'layer, relu, relu6, flatten, globalAvgPool, maxPool, avgPool, add');
    }
    shapes.push(out);
  });
  const last = shapes[shapes.length - 1]!;
  if (size(last) !== spec.info.classes) {
    throw new FliqsError('graph', `ends in a value of shape [${last.join(', ')}]`, `${spec.info.classes} features (info.classes)`);
  }
  return shapes;
}

/**
 * A layer's weights as values, decode(code) / weightScale[n], in its weight layout (HWIO or [in, out]), f64.
 * @example
 * layerWeightsRef(spec, 0) // Float64Array of layerParams(spec.layers[0]) values
 */
export function layerWeightsRef(spec: ModelSpec, layer: number): Float64Array {
  const l = spec.layers[layer]!, w = spec.weights[layer]!;
  const f = parseFormat(l.weightFormat);
  const P = layerParams(l), CO = layerChannels(l);
  const codes = unpackCodes(w.codes, f.bits, P);
  const out = new Float64Array(P);
  for (let k = 0; k < P; k++) out[k] = decodeValue(f, codes[k]!) / w.weightScale[k % CO]!;
  return out;
}

/**
 * A layer's input quantized to its activation format with its clip (quantizeRef; FP32 passes through).
 * Throws a FliqsError when the clip's scale is not a normal f32.
 * @example
 * quantizeInputRef(spec.layers[0], x) // Float32Array, x on the layer's activation grid
 */
export function quantizeInputRef(l: DeployLayer, x: Float32Array): Float32Array {
  const f = parseFormat(l.activationFormat);
  if (f.kind === 'fp32') return Float32Array.from(x);
  if (!f.ignoresClip) checkedScale(f, l.activationClip, `${l.name} activation clip`);
  return quantizeRef(x, f, f.ignoresClip ? 1 : l.activationClip!);
}

/**
 * The layer on an already quantized input xq of `count` examples: outScale[n]·Σ xq·w + outBias[n], summed in f64.
 * @example
 * layerRef(spec, 0, quantizeInputRef(spec.layers[0], x), [28, 28, 1], 1)
 */
export function layerRef(spec: ModelSpec, layer: number, xq: Float32Array, input: ValueShape, count: number): Float32Array {
  const g = { ...layerGeometry(spec.layers[layer]!, input), N: count };
  const acc = conv2dRef(xq, layerWeightsRef(spec, layer), null, g);
  const { outScale, outBias } = spec.weights[layer]!;
  const y = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) y[i] = f32(outScale[i % g.CO]! * acc[i]! + outBias[i % g.CO]!);
  return y;
}

/**
 * Node i of the graph on `count` examples, reading its inputs from `values` (by value id; NHWC or flat).
 * @example
 * const values = [images]; spec.graph.forEach((_, i) => values.push(nodeRef(spec, shapes, i, values, count)));
 */
export function nodeRef(spec: ModelSpec, shapes: readonly ValueShape[], i: number, values: readonly Float32Array[], count: number): Float32Array {
  const n = spec.graph[i]!;
  const x = values[n.input]!, shape = shapes[n.input]!;
  switch (n.op) {
    case 'layer': return layerRef(spec, n.layer, quantizeInputRef(spec.layers[n.layer]!, x), shape, count);
    case 'relu': return x.map((v) => (v > 0 ? v : 0));
    case 'relu6': return x.map((v) => Math.min(Math.max(v, 0), 6));
    case 'flatten': return Float32Array.from(x);
    case 'globalAvgPool': return Float32Array.from(globalAvgPoolRef(x, count, shape[0]! * shape[1]!, shape[2]!));
    case 'maxPool': return Float32Array.from(maxPool2dRef(x, { ...poolGeometry(n, shape), N: count }).y);
    case 'avgPool': return Float32Array.from(avgPool2dRef(x, { ...poolGeometry(n, shape), N: count }));
    case 'add': {
      const y = values[n.other]!;
      return x.map((v, k) => v + y[k]!);
    }
  }
}

/**
 * Every value of the graph on `count` NHWC images: index 0 is the input, i + 1 is node i's output.
 * @example
 * valuesRef(spec, images, 2).at(-1) // the logits, [2, classes]
 */
export function valuesRef(spec: ModelSpec, images: Float32Array, count: number): Float32Array[] {
  checkSpec(spec, 'spec');
  requireInt('count', count, 0);
  if (!(images instanceof Float32Array)) throw new FliqsError('images', `got ${describe(images)}`, 'a Float32Array of NHWC images');
  const [H, W, C] = spec.info.inputShape;
  if (images.length !== count * H * W * C) {
    throw new FliqsError('images', `has ${images.length} values for ${count} images of ${H}×${W}×${C}`, `${count * H * W * C} values (count·H·W·C, NHWC)`);
  }
  const shapes = valueShapes(spec);
  const values = [images];
  for (let i = 0; i < spec.graph.length; i++) values.push(nodeRef(spec, shapes, i, values, count));
  return values;
}

/**
 * The model's logits [count, classes] on `count` NHWC images, evaluated by the scalar reference.
 * @example
 * const logits = predictRef(spec, images, 3); // Float32Array(3 * spec.info.classes)
 */
export function predictRef(spec: ModelSpec, images: Float32Array, count: number): Float32Array {
  return valuesRef(spec, images, count).at(-1)!;
}
