// ONNX export checked by the real ONNX Runtime (onnxruntime-web's wasm backend, 1 thread) against the scalar
// reference predictRef, on small random models that cover every node op and every format family.
//
// The tolerances are derived, not tuned (u = 2^-24, f32's unit roundoff):
// - Node by node (the reference fed ORT's own inputs, from exportOnnx's `intermediates` outputs):
//   relu, relu6, maxPool, flatten and add must be equal (±0 aside), and so must ExMy, BF16 and FP32 activation
//   quantizers. An INT quantizer is QuantizeLinear, which divides by y_scale = f32(clip/max) where quantizeRef
//   multiplies by s = f32(max/clip): the two scaled values differ by ≤ 4u·|v| (one rounding in each scale, one
//   in each product), so a code may differ by one step only when v is that close to a rounding midpoint (a
//   "flip", checked and counted); otherwise the values q·y_scale and q/s differ by ≤ 4u·|xq| (same argument).
//   A layer with K products per output: (K + 5)·u·M, M = |outScale|·Σ|xq||w| + |outBias|: f32 summation in any
//   order (K·u), the weight f32(code·f32(1/s)) (2u), the output Mul and Add (2u), the reference's own rounding
//   to f32 (u). avgPool / globalAvgPool over n taps: (n + 2)·u·mean|x| (summation, division, reference rounding).
// - End to end: those bounds carried through the graph (the input's error times |w| plus the node's own bound;
//   a quantizer passes an INT input's 4u·|xq|, an ExMy / BF16 input's 0, an FP32 input's error), valid for an
//   example in which every activation code agrees between ORT's chain and the reference's. A code that differs
//   (a flip above, or inputs that differ by their bounded error across a midpoint) is the one discrete
//   difference: such examples are counted and reported, not held to the bound.

import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { packCodes, quantizeToCodes } from '../src/formats/codes.js';
import { parseFormat } from '../src/formats/format.js';
import { scaleOf } from '../src/formats/params.js';
import { avgPool2dRef, conv2dRef, globalAvgPoolRef, maxPool2dRef } from '../src/kernels/conv.ref.js';
import { exportOnnx } from '../src/deploy/onnx/export.js';
import { ProtoWriter } from '../src/deploy/onnx/protobuf.js';
import {
  layerGeometry, layerRef, layerWeightsRef, nodeRef, poolGeometry, predictRef, quantizeInputRef, valueShapes, valuesRef, type ValueShape,
} from '../src/deploy/reference.js';
import type { DeployLayer, DeployNode, DeployWeights, ModelSpec } from '../src/deploy/spec.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const U = 2 ** -24;

// ---------- random specs ----------

interface Quant { w: string; a: string; affine?: Affine; /** a fixed activation clip instead of one from the data */ clip?: number }
type LayerDef = ({ op: 'conv' | 'depthwise'; input: number; cout?: number; kernel: number; stride?: number; padding?: number } & Quant)
  | ({ op: 'linear'; input: number; out: number } & Quant);
type Affine = 'unit' | 'bias' | 'full';
type NodeDef = LayerDef | Exclude<DeployNode, { op: 'layer' }>;
const isLayer = (d: NodeDef): d is LayerDef => d.op === 'conv' || d.op === 'depthwise' || d.op === 'linear';

/** A random model: weights quantized to real codes with per-channel absmax clips, activation clips from the data. */
function makeSpec(seed: number, inputShape: [number, number, number], classes: number, defs: NodeDef[], images: Float32Array, count: number): ModelSpec {
  const rng = new Rng(seed);
  const layers: DeployLayer[] = [], weights: DeployWeights[] = [], graph: DeployNode[] = [];
  const shapes: ValueShape[] = [inputShape];
  for (const d of defs) {
    if (!isLayer(d)) {
      graph.push(d);
      shapes.push(nextShape(d, shapes));
      continue;
    }
    const x = shapes[d.input]!;
    const cin = x[x.length - 1]!;
    const l: DeployLayer = {
      name: `l${layers.length}.${d.op}`, kind: d.op,
      weightShape: d.op === 'linear' ? [cin, d.out] : [d.kernel, d.kernel, d.op === 'depthwise' ? 1 : cin, d.op === 'depthwise' ? cin : d.cout!],
      stride: d.op === 'linear' ? [1, 1] : [d.stride ?? 1, d.stride ?? 1],
      padding: d.op === 'linear' ? [0, 0] : [d.padding ?? 0, d.padding ?? 0],
      weightFormat: d.w, activationFormat: d.a, activationClip: parseFormat(d.a).ignoresClip ? null : d.clip ?? 0,
    };
    layers.push(l);
    weights.push(randomWeights(rng, l, d.affine ?? 'full'));
    graph.push({ op: 'layer', input: d.input, layer: layers.length - 1 });
    const g = layerGeometry(l, x);
    shapes.push(x.length === 1 ? [g.CO] : [g.OH, g.OW, g.CO]);
  }
  const spec: ModelSpec = { info: { model: 'test', width: 1, inputShape, classes }, layers, weights, graph };
  // Activation clips from the data: 0.8 × absmax of each layer's input, so that some inputs saturate.
  const all = valueShapes(spec);
  const values = [images];
  graph.forEach((n, i) => {
    if (n.op === 'layer' && spec.layers[n.layer]!.activationClip === 0) {
      const m = values[n.input]!.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      spec.layers[n.layer]!.activationClip = m > 0 ? Math.fround(0.8 * m) : 1;
    }
    values.push(nodeRef(spec, all, i, values, count));
  });
  return spec;
}

function nextShape(n: Exclude<DeployNode, { op: 'layer' }>, shapes: ValueShape[]): ValueShape {
  const x = shapes[n.input]!;
  switch (n.op) {
    case 'relu': case 'relu6': case 'add': return x;
    case 'flatten': return [x.reduce((a, b) => a * b, 1)];
    case 'globalAvgPool': return [x[2]!];
    case 'maxPool': case 'avgPool': { const g = poolGeometry(n, x); return [g.OH, g.OW, g.C]; }
  }
}

function randomWeights(rng: Rng, l: DeployLayer, affine: Affine): DeployWeights {
  const f = parseFormat(l.weightFormat);
  const P = l.weightShape.reduce((a, b) => a * b, 1), CO = l.weightShape[l.weightShape.length - 1]!;
  const fanIn = P / CO;
  const real = rng.normalArray(P, 0, 1 / Math.sqrt(fanIn));
  const codes = new Uint32Array(P), weightScale = new Float32Array(CO);
  for (let n = 0; n < CO; n++) {
    const ch = new Float32Array(fanIn);
    for (let k = 0; k < fanIn; k++) ch[k] = real[k * CO + n]!;
    // absmax, unless max / absmax would overflow f32 (E8My): then scale 1
    const absmax = ch.reduce((a, v) => Math.max(a, Math.abs(v)), 0) || 1;
    const clip = f.maxValue / absmax < 2 ** 127 ? absmax : f.maxValue;
    const q = quantizeToCodes(ch, f, f.ignoresClip ? undefined : clip);
    for (let k = 0; k < fanIn; k++) codes[k * CO + n] = q.codes[k]!;
    weightScale[n] = q.scale;
  }
  const outScale = new Float32Array(CO).map(() => (affine === 'full' ? 0.5 + rng.uniform() : 1));
  const outBias = new Float32Array(CO).map(() => (affine === 'unit' ? 0 : 0.2 * rng.normal()));
  return { codes: packCodes(codes, f.bits), weightScale, outScale, outBias };
}

// ---------- running ORT ----------

async function runOrt(bytes: Uint8Array, images: Float32Array, count: number, inputShape: readonly number[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ images: new ort.Tensor('float32', images, [count, ...inputShape]) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

// ---------- the per-node and end-to-end checks ----------

interface Report {
  quantized: number;
  /** Codes of INT quantizers that differ on the same input (QuantizeLinear's division vs our multiplication). */
  localFlips: number;
  /** Σ 4u·|v| over INT-quantized inputs v = x·s: the expected number of local flips if fractions were uniform. */
  localFlipsExpected: number;
  /** Activation codes that differ between ORT's chain and the reference's chain (any cause). */
  chainFlips: number;
  examplesWithFlips: number;
  logits: number;
  /** Max |ort − ref| / bound of a layer or average pool fed ORT's own inputs (≤ 1 passes). */
  nodeWorstRatio: number;
  /** Max |ort − ref| / bound over the logits of flip-free examples (≤ 1 passes). */
  worstRatio: number;
  /** Max |ort − ref| over the logits of flip-free examples, and of examples with a flip. */
  maxAbsDiff: number;
  maxAbsDiffFlipped: number;
}

const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

/** Σ|xq||w| per output of a layer (the magnitude M without the affine). */
function layerMagnitude(spec: ModelSpec, layer: number, xq: ArrayLike<number>, shape: ValueShape, count: number): Float64Array {
  const g = { ...layerGeometry(spec.layers[layer]!, shape), N: count };
  return conv2dRef(abs(xq), abs(layerWeightsRef(spec, layer)), null, g);
}

function layerTerms(spec: ModelSpec, layer: number, shape: ValueShape): number {
  const g = layerGeometry(spec.layers[layer]!, shape);
  return g.KH * g.KW * (g.C / g.groups);
}

function nchwToNhwc(x: Float32Array, N: number, [H, W, C]: ValueShape): Float32Array {
  const y = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C!; c++) for (let h = 0; h < H!; h++) for (let w = 0; w < W!; w++) {
    y[((n * H! + h) * W! + w) * C! + c] = x[((n * C! + c) * H! + h) * W! + w]!;
  }
  return y;
}

/** The code index of a dequantized INT activation value. */
const intCode = (v: number, s: number): number => Math.round(v * s);

async function check(spec: ModelSpec, images: Float32Array, count: number): Promise<Report> {
  const shapes = valueShapes(spec);
  const plain = await runOrt(exportOnnx(spec), images, count, spec.info.inputShape);
  const ortAll = await runOrt(exportOnnx(spec, { intermediates: true }), images, count, spec.info.inputShape);
  // Extra outputs must not change what ORT computes.
  expect(plain.logits).toEqual(ortAll.logits);
  const ref = valuesRef(spec, images, count);
  const ortValues = [images, ...spec.graph.map((_, i) => ortAll[`value_${i + 1}`]!)];
  const perExample = (shape: ValueShape): number => shape.reduce((a, b) => a * b, 1);
  const flipped = new Set<number>();
  const report: Report = { quantized: 0, localFlips: 0, localFlipsExpected: 0, chainFlips: 0, examplesWithFlips: 0, logits: 0, nodeWorstRatio: 0, worstRatio: 0, maxAbsDiff: 0, maxAbsDiffFlipped: 0 };
  // err[v]: bound on |ort − ref| of value v for flip-free examples.
  const err: Float64Array[] = [new Float64Array(images.length)];

  spec.graph.forEach((n, i) => {
    const x = ortValues[n.input]!, shape = shapes[n.input]!, got = ortValues[i + 1]!;
    const outSize = perExample(shapes[i + 1]!);
    let bound: Float64Array;
    if (n.op === 'layer') {
      const l = spec.layers[n.layer]!, f = parseFormat(l.activationFormat);
      const xqOrt = l.kind === 'linear' ? ortAll[`node_${i}_input_q`]! : nchwToNhwc(ortAll[`node_${i}_input_q`]!, count, shape);
      const xqRef = quantizeInputRef(l, x);
      const s = scaleOf(f, l.activationClip ?? 1);
      // 1. the quantizer, on ORT's own input
      for (let k = 0; k < x.length; k++) {
        if (f.kind !== 'int') {
          if (xqOrt[k] !== xqRef[k] && !(Number.isNaN(xqOrt[k]) && Number.isNaN(xqRef[k]))) expect.fail(`node ${i} ${f.name} quantizer: ${x[k]} → ${xqOrt[k]} (ORT), ${xqRef[k]} (ref)`);
          continue;
        }
        const a = intCode(xqOrt[k]!, s), b = intCode(xqRef[k]!, s);
        const v = Math.min(Math.max(Math.fround(x[k]! * s), -f.maxValue), f.maxValue);
        report.localFlipsExpected += 4 * U * Math.abs(v);
        if (a !== b) {
          const midway = Math.abs(Math.abs(v) - (Math.floor(Math.abs(v)) + 0.5));
          if (Math.abs(a - b) !== 1 || midway > 4 * U * Math.abs(v)) {
            expect.fail(`node ${i} ${f.name} quantizer: ${x[k]} (scaled ${v}) → code ${a} (ORT), ${b} (ref), not a flip at a midpoint`);
          }
          report.localFlips++;
        } else if (Math.abs(xqOrt[k]! - xqRef[k]!) > 4 * U * Math.abs(xqRef[k]!)) {
          expect.fail(`node ${i} ${f.name} quantizer: ${x[k]} → ${xqOrt[k]} (ORT), ${xqRef[k]} (ref)`);
        }
      }
      // 2. the layer, on ORT's own quantized input
      const want = layerRef(spec, n.layer, xqOrt, shape, count);
      const M = layerMagnitude(spec, n.layer, xqOrt, shape, count);
      const K = layerTerms(spec, n.layer, shape);
      const { outScale, outBias } = spec.weights[n.layer]!;
      const C = outScale.length;
      for (let k = 0; k < got.length; k++) {
        const tol = (K + 5) * U * (Math.abs(outScale[k % C]!) * M[k]! + Math.abs(outBias[k % C]!));
        if (tol > 0) report.nodeWorstRatio = Math.max(report.nodeWorstRatio, Math.abs(got[k]! - want[k]!) / tol);
        if (!(Math.abs(got[k]! - want[k]!) <= tol)) expect.fail(`node ${i} (layer ${l.name}) output ${k}: ORT ${got[k]}, ref ${want[k]}, bound ${tol}`);
      }
      // 3. chain: codes of ORT's and the reference's quantized inputs; error carried forward
      const refQ = quantizeInputRef(l, ref[n.input]!);
      const exact = f.kind === 'float' || f.kind === 'bf16';
      const eq = new Float64Array(x.length);
      for (let k = 0; k < x.length; k++) {
        report.quantized += f.kind === 'fp32' ? 0 : 1;
        if (f.kind === 'fp32') { eq[k] = err[n.input]![k]!; continue; }
        const same = exact ? xqOrt[k] === refQ[k] : intCode(xqOrt[k]!, s) === intCode(refQ[k]!, s);
        if (!same) { report.chainFlips++; flipped.add(Math.floor(k / perExample(shape))); }
        eq[k] = exact ? 0 : 4 * U * Math.abs(refQ[k]!);
      }
      const Mref = layerMagnitude(spec, n.layer, refQ, shape, count);
      const carried = conv2dRef(eq, abs(layerWeightsRef(spec, n.layer)), null, { ...layerGeometry(l, shape), N: count });
      bound = new Float64Array(got.length);
      for (let k = 0; k < got.length; k++) {
        const c = k % C;
        bound[k] = Math.abs(outScale[c]!) * carried[k]! + (K + 5) * U * (Math.abs(outScale[c]!) * Mref[k]! + Math.abs(outBias[c]!)) + 2 * U * Math.abs(ref[i + 1]![k]!);
      }
    } else {
      const want = nodeRef(spec, shapes, i, ortValues, count);
      let tol: Float64Array | null = null, taps = 0;
      const e = err[n.input]!;
      if (n.op === 'avgPool') {
        const g = { ...poolGeometry(n, shape), N: count };
        taps = g.KH * g.KW;
        tol = avgPool2dRef(abs(x), g);
        bound = avgPool2dRef(e, g);
      } else if (n.op === 'globalAvgPool') {
        taps = shape[0]! * shape[1]!;
        tol = globalAvgPoolRef(abs(x), count, taps, shape[2]!);
        bound = globalAvgPoolRef(e, count, taps, shape[2]!);
      } else if (n.op === 'maxPool') {
        bound = maxPool2dRef(e, { ...poolGeometry(n, shape), N: count }).y;
      } else if (n.op === 'add') {
        const eo = err[n.other]!;
        bound = Float64Array.from(e, (v, k) => v + eo[k]! + 2 * U * Math.abs(ref[i + 1]![k]!));
      } else {
        bound = Float64Array.from(e);
      }
      for (let k = 0; k < got.length; k++) {
        if (tol) {
          const t = (taps + 2) * U * tol[k]!;
          if (t > 0) report.nodeWorstRatio = Math.max(report.nodeWorstRatio, Math.abs(got[k]! - want[k]!) / t);
          if (!(Math.abs(got[k]! - want[k]!) <= t)) expect.fail(`node ${i} (${n.op}) output ${k}: ORT ${got[k]}, ref ${want[k]}, bound ${t}`);
          bound[k]! += t + U * Math.abs(ref[i + 1]![k]!);
        } else if (got[k] !== want[k] && !(Number.isNaN(got[k]) && Number.isNaN(want[k]))) {
          expect.fail(`node ${i} (${n.op}) output ${k}: ORT ${got[k]}, ref ${want[k]} (must be equal)`);
        }
      }
    }
    expect(bound.length).toBe(count * outSize);
    err.push(bound);
  });

  // end to end: the exported model's logits against predictRef
  const logits = predictRef(spec, images, count), e = err[err.length - 1]!;
  const classes = spec.info.classes;
  expect(plain.logits!.length).toBe(count * classes);
  report.logits = logits.length;
  report.examplesWithFlips = flipped.size;
  for (let k = 0; k < logits.length; k++) {
    const d = Math.abs(plain.logits![k]! - logits[k]!);
    if (flipped.has(Math.floor(k / classes))) { report.maxAbsDiffFlipped = Math.max(report.maxAbsDiffFlipped, d); continue; }
    report.maxAbsDiff = Math.max(report.maxAbsDiff, d);
    report.worstRatio = Math.max(report.worstRatio, e[k]! > 0 ? d / e[k]! : d > 0 ? Infinity : 0);
  }
  expect(report.worstRatio).toBeLessThanOrEqual(1);
  return report;
}


// ---------- the cases ----------

const FORMATS = ['INT8', 'INT4', 'INT5', 'INT3', 'E2M1', 'E4M3', 'E3M2', 'E5M2', 'BF16', 'FP32'];

interface Case { name: string; input: [number, number, number]; classes: number; count: number; defs: NodeDef[]; images?: (rng: Rng, n: number) => Float32Array }

const normalImages = (rng: Rng, n: number): Float32Array => rng.normalArray(n);

/** Inputs on the rounding midpoints (and grid points) of a format at scale 1: every tie rule gets exercised. */
const tieImages = (format: string) => (rng: Rng, n: number): Float32Array => {
  const g = parseFormat(format).grid!;
  return Float32Array.from({ length: n }, () => {
    const i = rng.int(g.length - 1);
    return rng.uniform() < 0.75 ? (g[i]! + g[i + 1]!) / 2 : g[i]!;
  });
};

/** f32 values halfway between two adjacent BF16 values (low 16 bits 0x8000), and some random ones. */
const bf16TieImages = (rng: Rng, n: number): Float32Array => {
  const bits = Uint32Array.from({ length: n }, () => {
    const hi = ((rng.int(2) << 15) | ((120 + rng.int(15)) << 7) | rng.int(128)) << 16;
    return (rng.uniform() < 0.75 ? hi | 0x8000 : hi | rng.int(0x10000)) >>> 0;
  });
  return new Float32Array(bits.buffer);
};

const CASES: Case[] = [
  {
    name: 'mlp: flatten → linear → relu → linear (INT8, INT4)', input: [4, 4, 3], classes: 5, count: 3,
    defs: [
      { op: 'flatten', input: 0 },
      { op: 'linear', input: 1, out: 9, w: 'INT8', a: 'INT8', affine: 'bias' },
      { op: 'relu', input: 2 },
      { op: 'linear', input: 3, out: 5, w: 'INT4', a: 'INT4' },
    ],
  },
  {
    name: 'cnn: conv → relu → maxPool → conv 5×5/2 → relu6 → avgPool (one-sided padding) → globalAvgPool → linear',
    input: [9, 9, 3], classes: 3, count: 3,
    defs: [
      { op: 'conv', input: 0, cout: 5, kernel: 3, padding: 1, w: 'INT5', a: 'INT8' },
      { op: 'relu', input: 1 },
      { op: 'maxPool', input: 2, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1] },
      { op: 'conv', input: 3, cout: 9, kernel: 5, stride: 2, padding: 2, w: 'INT3', a: 'INT5', affine: 'unit' },
      { op: 'relu6', input: 4 },
      { op: 'avgPool', input: 5, kernel: [2, 2], stride: [1, 1], padding: [0, 0, 1, 1] },
      { op: 'globalAvgPool', input: 6 },
      { op: 'linear', input: 7, out: 3, w: 'E2M1', a: 'INT3', affine: 'bias' },
    ],
  },
  {
    name: 'depthwise and residual: 1×1 conv → depthwise → add → relu → depthwise 3×3/2 → flatten → linear',
    input: [7, 6, 1], classes: 4, count: 1,
    defs: [
      { op: 'conv', input: 0, cout: 5, kernel: 1, w: 'E4M3', a: 'E4M3', affine: 'bias' },
      { op: 'depthwise', input: 1, kernel: 3, padding: 1, w: 'E3M2', a: 'E2M1' },
      { op: 'add', input: 2, other: 1 },
      { op: 'relu', input: 3 },
      { op: 'depthwise', input: 4, kernel: 3, stride: 2, w: 'E5M2', a: 'E5M2', affine: 'unit' },
      { op: 'flatten', input: 5 },
      { op: 'linear', input: 6, out: 4, w: 'BF16', a: 'BF16' },
    ],
  },
  {
    name: 'float formats: conv 3×3/2 → relu → 1×1 conv → maxPool (asymmetric padding) → flatten → linear',
    input: [6, 6, 9], classes: 2, count: 3,
    defs: [
      { op: 'conv', input: 0, cout: 3, kernel: 3, stride: 2, padding: 1, w: 'FP32', a: 'BF16', affine: 'unit' },
      { op: 'relu', input: 1 },
      { op: 'conv', input: 2, cout: 9, kernel: 1, w: 'BF16', a: 'E3M2' },
      { op: 'maxPool', input: 3, kernel: [2, 2], stride: [1, 1], padding: [1, 0, 0, 1] },
      { op: 'flatten', input: 4 },
      { op: 'linear', input: 5, out: 2, w: 'FP32', a: 'FP32', affine: 'unit' },
    ],
  },
  {
    name: 'linear on an image (over channels, NHWC) → conv → add → flatten',
    input: [3, 4, 5], classes: 24, count: 2,
    defs: [
      { op: 'linear', input: 0, out: 4, w: 'INT8', a: 'E4M3' },
      { op: 'conv', input: 1, cout: 2, kernel: 3, padding: 1, w: 'INT4', a: 'INT8' },
      { op: 'linear', input: 1, out: 2, w: 'E2M1', a: 'FP32', affine: 'unit' },
      { op: 'add', input: 2, other: 3 },
      { op: 'flatten', input: 4 },
    ],
  },
  {
    name: 'wide and odd formats: INT12 (INT16 storage), E5M6 (16-bit codes), E3M0 (no mantissa), E1M2, E8M22, INT2',
    input: [5, 5, 3], classes: 3, count: 3,
    defs: [
      { op: 'conv', input: 0, cout: 4, kernel: 3, padding: 1, w: 'INT12', a: 'E3M0' },
      { op: 'conv', input: 1, cout: 5, kernel: 3, stride: 2, padding: 2, w: 'E5M6', a: 'INT12' },
      { op: 'depthwise', input: 2, kernel: 1, w: 'E8M22', a: 'E1M2' },
      { op: 'depthwise', input: 3, kernel: 3, padding: 1, w: 'INT2', a: 'INT2' },
      { op: 'globalAvgPool', input: 4 },
      { op: 'linear', input: 5, out: 3, w: 'E3M0', a: 'E8M22', clip: parseFormat('E8M22').maxValue },
    ],
  },
  // Inputs on rounding midpoints at s = 1 (clip = maxValue): ties to the even code, which for E3M0 alternates.
  ...['E3M0', 'E2M1', 'E4M3', 'INT4', 'INT8'].map((a): Case => ({
    name: `ties: ${a} activations on midpoints`, input: [3, 3, 8], classes: 3, count: 3, images: tieImages(a),
    defs: [
      { op: 'conv', input: 0, cout: 3, kernel: 1, w: 'INT8', a, clip: parseFormat(a).maxValue, affine: 'unit' },
      { op: 'globalAvgPool', input: 1 },
    ],
  })),
  {
    name: 'ties: BF16 activations halfway between BF16 values', input: [3, 3, 8], classes: 3, count: 3, images: bf16TieImages,
    defs: [{ op: 'conv', input: 0, cout: 3, kernel: 1, w: 'INT8', a: 'BF16', affine: 'unit' }, { op: 'globalAvgPool', input: 1 }],
  },
  // Many values through each INT quantizer, to measure how often QuantizeLinear's division flips a code.
  ...['INT8', 'INT5', 'INT4', 'INT3'].map((a): Case => ({
    name: `flip rate: ${a} activations, 2^16 values`, input: [32, 32, 16], classes: 4, count: 4,
    defs: [
      { op: 'conv', input: 0, cout: 4, kernel: 1, w: 'INT8', a },
      { op: 'globalAvgPool', input: 1 },
    ],
  })),
];

/** Every weight format with every activation format: conv 3×3/2 (5 channels) → flatten → linear. */
const SWEEP: Case[] = FORMATS.flatMap((w) => FORMATS.map((a): Case => ({
  name: `${w} weights, ${a} activations`, input: [5, 5, 3], classes: 3, count: 2,
  defs: [
    { op: 'conv', input: 0, cout: 5, kernel: 3, stride: 2, padding: 1, w, a },
    { op: 'flatten', input: 1 },
    { op: 'linear', input: 2, out: 3, w: 'FP32', a: 'FP32' },
  ],
})));

function build(c: Case, seed: number): { spec: ModelSpec; images: Float32Array } {
  const rng = new Rng(seed);
  const images = (c.images ?? normalImages)(rng, c.count * c.input[0] * c.input[1] * c.input[2]);
  return { spec: makeSpec(seed + 1, c.input, c.classes, c.defs, images, c.count), images };
}

const totals: Report = { quantized: 0, localFlips: 0, localFlipsExpected: 0, chainFlips: 0, examplesWithFlips: 0, logits: 0, nodeWorstRatio: 0, worstRatio: 0, maxAbsDiff: 0, maxAbsDiffFlipped: 0 };
function add(name: string, r: Report): void {
  if (r.chainFlips > 0) {
    console.log(`${name}: ${r.chainFlips} of ${r.quantized} activation codes differ (${r.localFlips} on the same input), `
      + `${r.examplesWithFlips} examples, max |ORT − ref| there ${r.maxAbsDiffFlipped.toExponential(2)}`);
  }
  for (const k of ['quantized', 'localFlips', 'localFlipsExpected', 'chainFlips', 'examplesWithFlips', 'logits'] as const) totals[k] += r[k];
  totals.worstRatio = Math.max(totals.worstRatio, r.worstRatio);
  totals.nodeWorstRatio = Math.max(totals.nodeWorstRatio, r.nodeWorstRatio);
  totals.maxAbsDiff = Math.max(totals.maxAbsDiff, r.maxAbsDiff);
  totals.maxAbsDiffFlipped = Math.max(totals.maxAbsDiffFlipped, r.maxAbsDiffFlipped);
}

describe('exportOnnx in ONNX Runtime matches predictRef', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_, c, i) => {
    const { spec, images } = build(c, 1000 + 17 * i);
    add(c.name, await check(spec, images, c.count));
  });

  it(`every weight × activation format (${SWEEP.length} models)`, async () => {
    for (const [i, c] of SWEEP.entries()) {
      const { spec, images } = build(c, 5000 + i);
      add(c.name, await check(spec, images, c.count));
    }
  });

  it('reports the measured differences', () => {
    console.log(`quantized activations ${totals.quantized}: INT codes flipped on the same input ${totals.localFlips} `
      + `(at most ${totals.localFlipsExpected.toFixed(1)} expected), `
      + `codes differing along the chain ${totals.chainFlips}; examples with a flip ${totals.examplesWithFlips}; `
      + `worst |ORT − ref| / bound: per node ${totals.nodeWorstRatio.toExponential(2)}, logits ${totals.worstRatio.toExponential(2)}; `
      + `${totals.logits} logits, max |ORT − ref| ${totals.maxAbsDiff.toExponential(2)} (examples with a flip: ${totals.maxAbsDiffFlipped.toExponential(2)})`);
    expect(totals.worstRatio).toBeLessThanOrEqual(1);
  });
});

describe('ProtoWriter', () => {
  it('writes varints, tags, strings, floats and packed fields as protobuf does', () => {
    expect([...new ProtoWriter().varint(300).finish()]).toEqual([0xac, 0x02]);
    expect([...new ProtoWriter().varint(0).varint(1).varint(127).varint(128).finish()]).toEqual([0, 1, 0x7f, 0x80, 0x01]);
    expect([...new ProtoWriter().uint64(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
    expect([...new ProtoWriter().string(2, 'testing').finish()]).toEqual([0x12, 0x07, ...new TextEncoder().encode('testing')]);
    expect([...new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish()]).toEqual([0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
    expect([...new ProtoWriter().float(2, 1).finish()]).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect([...new ProtoWriter().packedFloats(7, [1, -2]).finish()]).toEqual([0x3a, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    expect([...new ProtoWriter().varint(-1).finish()]).toEqual([...new Array(9).fill(0xff), 0x01]);
    expect([...new ProtoWriter().varint(2 ** 35).finish()]).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    const big = new Uint8Array(1000).fill(7);
    expect(new ProtoWriter().bytes(1, big).finish()).toEqual(Uint8Array.from([0x0a, 0xe8, 0x07, ...big]));
  });
});

describe('exportOnnx and predictRef reject what they cannot translate', () => {
  const base = (): { spec: ModelSpec; images: Float32Array } => build(CASES[0]!, 7);

  it('writes IR version 10, producer fliqs and opset 21', () => {
    const bytes = exportOnnx(base().spec);
    expect([...bytes.subarray(0, 9)]).toEqual([0x08, 10, 0x12, 5, ...new TextEncoder().encode('fliqs')]);
    // opset_import { domain: "", version: 21 } is the last field
    expect([...bytes.subarray(bytes.length - 6)]).toEqual([0x42, 4, 0x0a, 0, 0x10, 21]);
  });

  it('throws FliqsError on an unknown op or format, a clip whose scale overflows and shapes that do not fit', () => {
    const { spec } = base();
    expect(() => exportOnnx({ ...spec, graph: [...spec.graph, { op: 'softmax', input: 4 } as unknown as DeployNode] })).toThrow(FliqsError);
    expect(() => exportOnnx({ ...spec, layers: spec.layers.map((l, i) => (i === 0 ? { ...l, weightFormat: 'FP8' } : l)) })).toThrow(FliqsError);
    expect(() => exportOnnx({ ...spec, layers: spec.layers.map((l, i) => (i === 1 ? { ...l, activationFormat: 'E9M1' } : l)) })).toThrow(FliqsError);
    expect(() => exportOnnx({ ...spec, layers: spec.layers.map((l, i) => (i === 0 ? { ...l, activationFormat: 'E8M22', activationClip: 1e-3 } : l)) }))
      .toThrow(/l0.linear activation clip/);
    expect(() => exportOnnx({ ...spec, info: { ...spec.info, classes: 6 } })).toThrow(/logits|classes|features/);
    expect(() => exportOnnx({ ...spec, graph: spec.graph.slice(1).map((n) => ({ ...n, input: Math.max(0, n.input - 1) })) })).toThrow(FliqsError);
  });

  it('predictRef throws FliqsError on images of the wrong length or type', () => {
    const { spec, images } = base();
    expect(predictRef(spec, images, 3)).toHaveLength(15);
    expect(() => predictRef(spec, images.subarray(1), 3)).toThrow(FliqsError);
    expect(() => predictRef(spec, Array.from(images) as unknown as Float32Array, 3)).toThrow(FliqsError);
    expect(() => predictRef(spec, images, 2.5)).toThrow(FliqsError);
  });
});
