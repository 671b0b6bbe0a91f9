// A layer's weights in ONNX: the stored codes as an initializer in ONNX's layout (Conv OIHW, MatMul [in, out])
// plus the ops that turn them into f32 values decode(code) · f32(1 / weightScale[n]):
//   INTk   → INT4 / INT8 / INT16 initializer → DequantizeLinear (per-output-channel scale, zero point 0)
//   ExMy   → UINT8 / UINT16 codes → Cast(INT32) → Gather over the format's value table → Mul(scale)
//            (ONNX has no type with our grids: our E4M3 has no NaN/Inf, and our exponent bias is 2^(x−1))
//   BF16   → BFLOAT16 initializer → Cast(FLOAT) [→ Mul(scale) if any scale ≠ 1];  FP32 → FLOAT initializer.

import { decodeValue, unpackCodes } from '../../formats/codes.js';
import { parseFormat, type Format } from '../../formats/format.js';
import { layerChannels, layerParams, type ModelSpec } from '../spec.js';
import type { OnnxGraph } from './builder.js';
import { DataType, attrInt } from './model.js';

/** Largest ExMy code width still decoded by a table lookup (2^16 entries); wider ones store their f32 values. */
const MAX_TABLE_BITS = 16;

/** HWIO codes → OIHW (conv) order; linear [in, out] stays as it is. */
function onnxOrder(codes: Uint32Array, shape: readonly number[]): Uint32Array {
  if (shape.length === 2) return codes;
  const [KH, KW, I, O] = shape as [number, number, number, number];
  const out = new Uint32Array(codes.length);
  for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) {
    out[((o * I + i) * KH + kh) * KW + kw] = codes[((kh * KW + kw) * I + i) * O + o]!;
  }
  return out;
}

/** Signed values as `bits`-bit two's complement, little-endian, packed (4 bits: low nibble first, as ONNX INT4). */
function signedRaw(values: ArrayLike<number>, bits: 4 | 8 | 16): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (bits === 4) out[k >> 1]! |= (v & 15) << ((k & 1) * 4);
    else if (bits === 8) out[k] = v & 255;
    else { out[2 * k] = v & 255; out[2 * k + 1] = (v >> 8) & 255; }
  }
  return out;
}

const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
const f32bits = (v: number): number => { f32buf[0] = v; return u32buf[0]!; };

/** Unsigned codes as little-endian words of `bytes` bytes each. */
function wordsLE(codes: ArrayLike<number>, bytes: 2 | 4): Uint8Array {
  const out = new Uint8Array(codes.length * bytes);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < codes.length; k++) {
    if (bytes === 2) dv.setUint16(2 * k, codes[k]!, true);
    else dv.setUint32(4 * k, codes[k]!, true);
  }
  return out;
}

function intStorage(f: Format): { bits: 4 | 8 | 16; type: typeof DataType.INT4 | typeof DataType.INT8 | typeof DataType.INT16 } {
  if (f.bits <= 4) return { bits: 4, type: DataType.INT4 };
  if (f.bits <= 8) return { bits: 8, type: DataType.INT8 };
  return { bits: 16, type: DataType.INT16 };
}

/**
 * Adds layer `layer`'s weight initializer and decode ops to `g`; returns the name of its f32 weight tensor
 * ([Cout, Cin/groups, KH, KW] for conv / depthwise, [in, out] for linear).
 * @example
 * const w = weightTensor(g, spec, 0); g.op('Conv', [x, w]);
 */
export function weightTensor(g: OnnxGraph, spec: ModelSpec, layer: number): string {
  const l = spec.layers[layer]!, { codes: packed, weightScale } = spec.weights[layer]!;
  const f = parseFormat(l.weightFormat);
  const CO = layerChannels(l);
  const linear = l.kind === 'linear';
  const dims = linear ? [...l.weightShape] : [CO, l.weightShape[2]!, l.weightShape[0]!, l.weightShape[1]!];
  const codes = onnxOrder(unpackCodes(packed, f.bits, layerParams(l)), l.weightShape);
  const inverse = Float32Array.from(weightScale, (s) => 1 / s);
  const scaleDims = linear ? [CO] : [CO, 1, 1, 1];
  const name = `${l.name || `layer${layer}`}.weight`;
  const scaled = (w: string): string => g.op('Mul', [w, g.floats(`${name}_inv_scale`, inverse, scaleDims)], `${name}_f32`);

  if (f.kind === 'int') {
    const { bits, type } = intStorage(f);
    const values = Array.from(codes, (c) => decodeValue(f, c));
    const q = g.tensor(`${name}_${f.name}`, type, dims, { raw: signedRaw(values, bits) });
    const scale = g.floats(`${name}_inv_scale`, inverse, [CO]);
    const zero = g.tensor(`${name}_zero_point`, type, [CO], { raw: signedRaw(new Array<number>(CO).fill(0), bits) });
    return g.op('DequantizeLinear', [q, scale, zero], `${name}_f32`, [attrInt('axis', linear ? 1 : 0)]);
  }
  if (f.kind === 'float' && f.bits <= MAX_TABLE_BITS) {
    const wide = f.bits > 8;
    const raw = wide ? wordsLE(codes, 2) : Uint8Array.from(codes);
    const q = g.tensor(`${name}_${f.name}_codes`, wide ? DataType.UINT16 : DataType.UINT8, dims, { raw });
    const table = Float32Array.from({ length: 2 ** f.bits }, (_, c) => decodeValue(f, c));
    const index = g.op('Cast', [q], `${name}_index`, [attrInt('to', DataType.INT32)]);
    return scaled(g.op('Gather', [g.floats(`${f.name}_values`, table), index], `${name}_${f.name}`, [attrInt('axis', 0)]));
  }
  const unit = weightScale.every((s) => s === 1);
  if (f.kind === 'bf16') {
    const q = g.tensor(`${name}_BF16`, DataType.BFLOAT16, dims, { raw: wordsLE(codes, 2) });
    const w = g.op('Cast', [q], unit ? `${name}_f32` : `${name}_bf16_f32`, [attrInt('to', DataType.FLOAT)]);
    return unit ? w : scaled(w);
  }
  // FP32, and ExMy too wide for a table: the exact f32 values (every ExMy value with x ≤ 8, y ≤ 22 is an f32).
  const bits = f.kind === 'fp32' ? codes : Uint32Array.from(codes, (c) => f32bits(decodeValue(f, c)));
  const w = g.tensor(`${name}_${f.name}`, DataType.FLOAT, dims, { raw: wordsLE(bits, 4) });
  return unit && f.kind === 'fp32' ? w : scaled(w);
}
