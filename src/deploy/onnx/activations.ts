// A layer input's fake quantizer in ONNX ops (docs/quantization.md), elementwise so any layout works:
//   INTk : Clip(±clip) → QuantizeLinear(y_scale = f32(clip / maxValue), zero point 0: INT8 for k ≤ 8, INT16
//          above) → DequantizeLinear. The Clip keeps the grid symmetric (INT8 alone would reach −128) and holds
//          INT2…INT7 to ±maxValue codes. INT4 activations use the INT8 type too: ONNX Runtime 1.30 fails on INT4
//          activation tensors (a Clip before an INT4 QuantizeLinear does not load; with Max/Min instead, a model
//          whose INT4 activation feeds two readers crashes at run time). INT4 weights stay INT4.
//          QuantizeLinear divides by y_scale where quantizeRef multiplies by s = f32(maxValue / clip), so a value
//          within a few ulps of a rounding midpoint may land on the neighbouring code: the one inexact path
//          (measured with ONNX Runtime: about one code in 4 million).
//   ExMy : exact, with standard ops: v = Clip(x·s, ±max); the quantum q = 2^(max(⌊log2|v|⌋, emin) − y) is
//          looked up by counting the thresholds 2^(emin+k) that |v| reaches; result Round(v / q)·q / s.
//          Round is half-to-even, which is the even code for y ≥ 1; for y = 0 the code's parity alternates with
//          the exponent, so ties there are shifted by an odd offset where the even code is the lower one.
//   BF16 : Cast to BFLOAT16 and back (round to nearest even).   FP32: nothing.

import { parseFormat, type Format } from '../../formats/format.js';
import { checkedScale } from '../../formats/checks.js';
import type { DeployLayer } from '../spec.js';
import type { OnnxGraph } from './builder.js';
import { DataType, attrInt } from './model.js';

function intActivation(g: OnnxGraph, f: Format, clip: number, x: string, name: string): string {
  const c = Math.fround(clip);
  const type = f.bits <= 8 ? DataType.INT8 : DataType.INT16;
  const lo = g.floats(`${name}_min`, [-c], []), hi = g.floats(`${name}_max`, [c], []);
  const clipped = g.op('Clip', [x, lo, hi], `${name}_clipped`);
  const scale = g.floats(`${name}_y_scale`, [Math.fround(clip / f.maxValue)], []);
  const zero = g.tensor(`${name}_zero_point`, type, [], { raw: new Uint8Array(type === DataType.INT16 ? 2 : 1) });
  const q = g.op('QuantizeLinear', [clipped, scale, zero], `${name}_${f.name}`);
  return g.op('DequantizeLinear', [q, scale, zero], `${name}_q`);
}

function floatActivation(g: OnnxGraph, f: Format, clip: number, x: string, name: string): string {
  const s = g.floats(`${name}_scale`, [checkedScale(f, clip)], []);
  const v = g.op('Clip', [g.op('Mul', [x, s], `${name}_scaled`), g.floats(`${name}_min`, [-f.maxValue], []),
    g.floats(`${name}_max`, [f.maxValue], [])], `${name}_clamped`);
  const y = f.mantissaBits, emin = f.minExponent;
  // Exponent steps above emin that a value can take: 2^x − 2 (none for E1My).
  const steps = 2 ** f.exponentBits - 2;
  let quantum: string, offset: string | null = null;
  if (steps === 0) {
    quantum = g.floats(`${name}_quantum`, [2 ** (emin - y)], []);
  } else {
    const thresholds = Array.from({ length: steps }, (_, k) => 2 ** (emin + 1 + k));
    const last = g.int64s(`${name}_last_axis`, [-1]);
    const a = g.op('Unsqueeze', [g.op('Abs', [v], `${name}_abs`), last], `${name}_abs_1`);
    const reached = g.op('GreaterOrEqual', [a, g.floats(`${name}_thresholds`, thresholds)], `${name}_reached`);
    const counts = g.op('Cast', [reached], `${name}_reached_i32`, [attrInt('to', DataType.INT32)]);
    const index = g.op('ReduceSum', [counts, last], `${name}_exponent_index`, [attrInt('keepdims', 0)]);
    const quanta = Array.from({ length: steps + 1 }, (_, i) => 2 ** (emin + i - y));
    quantum = g.op('Gather', [g.floats(`${name}_quanta`, quanta), index], `${name}_quantum`, [attrInt('axis', 0)]);
    if (y === 0) {
      // Exponent index i ≥ 1 is exponent code i + 1; the lower neighbour's code is even when i is odd.
      const offsets = Array.from({ length: steps + 1 }, (_, i) => i % 2);
      offset = g.op('Gather', [g.floats(`${name}_tie_offsets`, offsets), index], `${name}_tie_offset`, [attrInt('axis', 0)]);
    }
  }
  const r = g.op('Div', [v, quantum], `${name}_steps`);
  const n = offset
    ? g.op('Add', [g.op('Round', [g.op('Sub', [r, offset], `${name}_shifted`)], `${name}_rounded`), offset], `${name}_code`)
    : g.op('Round', [r], `${name}_code`);
  return g.op('Div', [g.op('Mul', [n, quantum], `${name}_grid`), s], `${name}_q`);
}

/**
 * Adds the ops that quantize `x` to layer `l`'s activation format and returns the quantized tensor's name
 * (`x` itself for FP32). Throws a FliqsError when the clip's scale is not a normal f32.
 * @example
 * const xq = quantizeActivation(g, spec.layers[0], 'images', 'conv1.input');
 */
export function quantizeActivation(g: OnnxGraph, l: DeployLayer, x: string, name: string): string {
  const f = parseFormat(l.activationFormat);
  if (!f.ignoresClip) checkedScale(f, l.activationClip, `${l.name} activation clip`);
  switch (f.kind) {
    case 'fp32': return x;
    case 'bf16': {
      const b = g.op('Cast', [x], `${name}_bf16`, [attrInt('to', DataType.BFLOAT16)]);
      return g.op('Cast', [b], `${name}_q`, [attrInt('to', DataType.FLOAT)]);
    }
    case 'int': return intActivation(g, f, l.activationClip!, x, name);
    case 'float': return floatActivation(g, f, l.activationClip!, x, name);
  }
}
