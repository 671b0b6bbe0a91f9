// exportOnnx: a ModelSpec as an ONNX model (IR 10, opset 21) that ONNX Runtime and other standard runtimes run.
// Input `images` f32 [batch, H, W, C] (NHWC, as fliqs), output `logits` f32 [batch, classes]. Our graph is NHWC
// and ONNX's Conv and pools are NCHW, so every value remembers its layout and a Transpose is added only where a
// consumer needs the other one (once per value and layout). Browser-safe.

import { FliqsError } from '../../core/errors.js';
import { checkSpec } from '../check.js';
import { layerGeometry, valueShapes, type ValueShape } from '../reference.js';
import type { ModelSpec } from '../spec.js';
import { quantizeActivation } from './activations.js';
import { OnnxGraph, type GraphIo } from './builder.js';
import { attrInt, attrInts } from './model.js';
import { weightTensor } from './weights.js';

type Layout = 'nchw' | 'nhwc' | 'flat';

interface Value { name: string; layout: Layout; shape: ValueShape }

export interface OnnxExportOptions {
  /**
   * Also output every node's value as `value_<id>` (NHWC [batch, H, W, C] or [batch, F]; value id i + 1 is
   * node i's output) and every layer node's quantized input as `node_<i>_input_q` (in the layout the layer
   * reads: NCHW [batch, C, H, W] for conv / depthwise): for finding which node of a deployment disagrees with
   * the reference.
   */
  intermediates?: boolean;
}

/** Converts values between NHWC and NCHW, adding each Transpose once. */
class Layouts {
  private readonly cache = new Map<string, string>();
  constructor(private readonly g: OnnxGraph) {}

  as(v: Value, layout: Exclude<Layout, 'flat'>): string {
    // Unreachable: valueShapes has rejected image ops on flat values.
    if (v.layout === 'flat') throw new Error(`exportOnnx: ${v.name} is flat, not an image`);
    if (v.layout === layout) return v.name;
    const key = `${v.name}\u0000${layout}`;
    let name = this.cache.get(key);
    if (!name) {
      const perm = layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1];
      name = this.g.op('Transpose', [v.name], `${v.name}_${layout}`, [attrInts('perm', perm)]);
      this.cache.set(key, name);
    }
    return name;
  }

  /** The value as NHWC (images) or as it is (flat): the layout fliqs and the graph outputs use. */
  fliqs(v: Value): string {
    return v.layout === 'flat' ? v.name : this.as(v, 'nhwc');
  }
}

const allEqual = (a: Float32Array, x: number): boolean => a.every((v) => v === x);

/** One layer node: quantize the input, Conv or MatMul with the decoded weights, then the output affine. */
function layerNode(g: OnnxGraph, layouts: Layouts, spec: ModelSpec, layer: number, x: Value, outShape: ValueShape,
  node: number, exposed: GraphIo[] | null): Value {
  const l = spec.layers[layer]!, { outScale, outBias } = spec.weights[layer]!;
  const name = l.name || `layer${layer}`;
  const image = l.kind !== 'linear';
  const layout: Layout = image ? 'nchw' : x.layout === 'flat' ? 'flat' : 'nhwc';
  const input = layout === 'flat' ? x.name : layouts.as(x, layout);
  const xq = quantizeActivation(g, l, input, `${name}.input`);
  if (exposed) {
    // As the Conv sees it (NCHW): a Transpose after the DequantizeLinear trips ONNX Runtime 1.30's optimizer.
    const dims = layout === 'nchw' ? [x.shape[2]!, x.shape[0]!, x.shape[1]!] : [...x.shape];
    exposed.push({ name: g.opTo(`node_${node}_input_q`, 'Identity', [xq]), dims: ['batch', ...dims] });
  }
  const w = weightTensor(g, spec, layer);
  const unitScale = allEqual(outScale, 1), zeroBias = allEqual(outBias, 0);
  const channelDims = image ? [outScale.length, 1, 1] : [outScale.length];
  let y: string;
  if (image) {
    const geo = layerGeometry(l, x.shape);
    const inputs = [xq, w];
    if (unitScale && !zeroBias) inputs.push(g.floats(`${name}.bias`, outBias));
    y = g.op('Conv', inputs, `${name}.conv`, [
      attrInts('kernel_shape', [geo.KH, geo.KW]), attrInts('strides', [geo.sh, geo.sw]),
      attrInts('pads', [geo.pt, geo.pl, geo.pb, geo.pr]), attrInts('dilations', [1, 1]), attrInt('group', geo.groups),
    ]);
  } else {
    y = g.op('MatMul', [xq, w], `${name}.matmul`);
    if (unitScale && !zeroBias) y = g.op('Add', [y, g.floats(`${name}.bias`, outBias)], `${name}.biased`);
  }
  if (!unitScale) {
    y = g.op('Mul', [y, g.floats(`${name}.out_scale`, outScale, channelDims)], `${name}.scaled`);
    if (!zeroBias) y = g.op('Add', [y, g.floats(`${name}.out_bias`, outBias, channelDims)], `${name}.biased`);
  }
  return { name: y, layout, shape: outShape };
}

function poolAttrs(n: { kernel: [number, number]; stride: [number, number]; padding: [number, number, number, number] }): Uint8Array[] {
  // ONNX pads are [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right], as ours.
  return [attrInts('kernel_shape', n.kernel), attrInts('strides', n.stride), attrInts('pads', n.padding)];
}

/**
 * Translates a deployable model to ONNX bytes: input `images` f32 [batch, H, W, C] (NHWC), output `logits`
 * f32 [batch, classes]. Weights keep their codes (INT4 / INT8 / INT16 with DequantizeLinear, ExMy codes with a
 * value-table Gather, BF16); each layer input is quantized as fliqs does. Throws a FliqsError for a spec that
 * does not check (unknown op or format, shapes that do not fit).
 * @example
 * const bytes = exportOnnx(spec);
 * const session = await ort.InferenceSession.create(bytes);
 * const { logits } = await session.run({ images: new ort.Tensor('float32', images, [n, ...spec.info.inputShape]) });
 */
export function exportOnnx(spec: ModelSpec, options: OnnxExportOptions = {}): Uint8Array {
  checkSpec(spec, 'spec');
  const shapes = valueShapes(spec);
  const g = new OnnxGraph();
  const layouts = new Layouts(g);
  const exposed: GraphIo[] | null = options.intermediates ? [] : null;
  // Reserve the names users see first, so that no layer name can take them.
  const values: Value[] = [{ name: g.fresh('images'), layout: 'nhwc', shape: shapes[0]! }];
  const logits = g.fresh('logits');
  if (exposed) {
    spec.graph.forEach((n, i) => {
      g.fresh(`value_${i + 1}`);
      if (n.op === 'layer') g.fresh(`node_${i}_input_q`);
    });
  }

  spec.graph.forEach((n, i) => {
    const x = values[n.input]!, shape = shapes[i + 1]!;
    let v: Value;
    switch (n.op) {
      case 'layer':
        v = layerNode(g, layouts, spec, n.layer, x, shape, i, exposed);
        break;
      case 'relu':
        v = { ...x, name: g.op('Relu', [x.name], `node_${i}_relu`) };
        break;
      case 'relu6':
        v = { ...x, name: g.op('Clip', [x.name, g.floats(`node_${i}_zero`, [0], []), g.floats(`node_${i}_six`, [6], [])], `node_${i}_relu6`) };
        break;
      case 'flatten':
        // Our flatten takes NHWC order: transpose back before flattening.
        v = x.layout === 'flat' ? { ...x, shape } : { name: g.op('Flatten', [layouts.as(x, 'nhwc')], `node_${i}_flatten`, [attrInt('axis', 1)]), layout: 'flat', shape };
        break;
      case 'globalAvgPool': {
        const pooled = g.op('GlobalAveragePool', [layouts.as(x, 'nchw')], `node_${i}_gap`);
        v = { name: g.op('Flatten', [pooled], `node_${i}_gap_flat`, [attrInt('axis', 1)]), layout: 'flat', shape };
        break;
      }
      case 'maxPool':
      case 'avgPool': {
        const attrs = poolAttrs(n);
        // Our average pool divides by the taps inside the image only.
        if (n.op === 'avgPool') attrs.push(attrInt('count_include_pad', 0), attrInt('ceil_mode', 0));
        v = { name: g.op(n.op === 'maxPool' ? 'MaxPool' : 'AveragePool', [layouts.as(x, 'nchw')], `node_${i}_${n.op}`, attrs), layout: 'nchw', shape };
        break;
      }
      case 'add': {
        const y = values[n.other]!;
        const other = x.layout === 'flat' ? y.name : layouts.as(y, x.layout);
        v = { ...x, name: g.op('Add', [x.name, other], `node_${i}_add`) };
        break;
      }
      default:
        throw new FliqsError(`node ${i}`, `has op ${String((n as { op?: unknown }).op)}`, 'a DeployNode op');
    }
    values.push(v);
    if (exposed) exposed.push({ name: g.opTo(`value_${i + 1}`, 'Identity', [layouts.fliqs(v)]), dims: ['batch', ...shape] });
  });

  const last = values[values.length - 1]!;
  const flat = last.layout === 'flat' ? last.name : g.op('Flatten', [layouts.as(last, 'nhwc')], 'logits_flat', [attrInt('axis', 1)]);
  g.opTo(logits, 'Identity', [flat]);
  const { model, width, inputShape, classes } = spec.info;
  const doc = `fliqs ${model} ×${width}, input NHWC [${inputShape.join(', ')}], ${classes} classes; layers: `
    + spec.layers.map((l) => `${l.name} ${l.weightFormat}/${l.activationFormat}`).join(', ');
  return g.model([{ name: values[0]!.name, dims: ['batch', ...inputShape] }], [{ name: logits, dims: ['batch', classes] }, ...(exposed ?? [])], doc);
}
