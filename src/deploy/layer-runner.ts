// One quantized layer, ready to run: its weights resident in wasm memory as codes, and the kernel path
// its formats allow.
//   int8 / int4:  INTk ≤ 8 weights and inputs. The input is quantized to int8 codes (or arrives as codes from
//                 its producer's epilogue), the int8 GEMM / conv (or int8 depthwise) accumulates exactly in
//                 int32, and the epilogue dequantizes with the folded per-channel scale and bias, applies a
//                 fused ReLU and, when its readers are integer layers, writes their codes. INT4 weights are
//                 unpacked from their nibbles into int8 panels at load (the faster here: models with nibble
//                 panels, decoded in the inner loop, ran at 0.77–0.91× of INT8 in the deploy bench), or kept
//                 as nibble panels (int4Panels 'nibble': a quarter of the memory).
//   lut:          other formats of ≤ 8 bits (ExMy, or INT weights with a float input): one-byte codes,
//                 decoded per call through the format's code → value table into f32, then the f32 kernel.
//   bf16:         bf16 bits widened per call.   f32: FP32 weights (and formats over 8 bits, decoded once).
// Inputs of float formats are fake-quantized in f32 (the training quantizer) before the f32 kernel.

import { requireObject } from '../core/errors.js';
import { parseFormat, type Format } from '../formats/format.js';
import { decodeValue, unpackCodes } from '../formats/codes.js';
import { scaleOf } from '../formats/params.js';
import { channelAffine, decodeBf16, decodeLutU8 } from '../kernels/decode.js';
import { quantize } from '../kernels/quant.js';
import { WasmF32, type Runtime } from '../core/runtime.js';
import { conv2dShape, conv2d, depthwiseConv2dShape, depthwiseConv2d, type ConvShape } from '../kernels/conv.js';
import { gemm } from '../kernels/gemm.js';
import { conv2dI8, depthwiseConv2dI8, gemmI8Dequant, packWeightsI4, packWeightsI4AsI8, packWeightsI8, prepareDequant, quantizeToI8, type DequantI8, type PackedWeightsI8, type PreparedDequant } from '../kernels/int8.js';
import { layerChannels, layerParams, type DeployLayer, type DeployWeights } from './spec.js';

export type LayerPath = 'int8' | 'int4' | 'lut' | 'bf16' | 'f32';

/** How INT4 weights live in memory: unpacked to int8 panels at load, or as nibble panels. */
export type Int4Panels = 'int8' | 'nibble';

/**
 * An activation in wasm memory, NHWC [N, H, W, C] or [N, F]: f32 values, or the int8 codes of the
 * layer(s) reading it (written by the producing layer's requantizing epilogue).
 */
export type Activation = { kind: 'f32'; buf: WasmF32; shape: number[] } | { kind: 'i8'; ptr: number; shape: number[] };

/** What a layer writes: its output clamped (a fused ReLU / ReLU6), as f32 or as codes for its readers. */
export interface OutputPlan {
  clamp: readonly [number, number];
  requantize: { s: number; format: Format } | null;
}

/** Plain f32 output. */
export const F32_OUT: OutputPlan = { clamp: [-Infinity, Infinity], requantize: null };

/** Byte offset of an activation's data (its identity for reference counting). */
export const activationPtr = (a: Activation): number => (a.kind === 'f32' ? a.buf.ptr : a.ptr);
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const isInt8 = (f: Format): boolean => f.kind === 'int' && f.bits <= 8;

/** The kernel path a layer's formats take (see the file header). */
export function layerPath(l: DeployLayer): LayerPath {
  requireObject('layer', l, 'a DeployLayer { kind, weightFormat, activationFormat, … }');
  const wf = parseFormat(l.weightFormat), af = parseFormat(l.activationFormat);
  if (isInt8(wf) && isInt8(af)) return wf.bits === 4 && l.kind !== 'depthwise' ? 'int4' : 'int8';
  if (wf.kind === 'bf16') return 'bf16';
  return wf.bits <= 8 ? 'lut' : 'f32';
}

/** Signed values of INTk codes (two's complement in k bits). */
function intValues(f: Format, codes: Uint8Array, n: number): Int8Array {
  const u = unpackCodes(codes, f.bits, n), half = 2 ** (f.bits - 1);
  return Int8Array.from(u, (c) => (c >= half ? c - 2 * half : c));
}

export class LayerRunner {
  readonly path: LayerPath;
  /** Bytes this layer keeps resident in wasm memory (weights as codes, scales, affine). */
  readonly residentBytes: number;
  private readonly wf: Format;
  private readonly af: Format;
  private readonly sA: number;
  private readonly C: number;
  private readonly P: number;
  private readonly blocks: number[] = [];
  private packed: PackedWeightsI8 | null = null;
  private codesPtr = 0;
  private lutPtr = 0;
  private scalePtr = 0;
  private affinePtr = 0;
  private readonly dequant: DequantI8;
  /** The epilogue block of each output plan this layer has run with, prepared on first use (kept until free()). */
  private readonly prepared = new Map<OutputPlan, PreparedDequant>();

  constructor(private readonly rt: Runtime, readonly layer: DeployLayer, w: DeployWeights, int4Panels: Int4Panels = 'int8') {
    this.wf = parseFormat(layer.weightFormat);
    this.af = parseFormat(layer.activationFormat);
    this.path = layerPath(layer);
    this.C = layerChannels(layer);
    this.P = layerParams(layer);
    this.sA = this.af.ignoresClip ? 1 : scaleOf(this.af, layer.activationClip!);
    this.dequant = { sA: this.sA, sW: w.weightScale, bias: w.outBias, outScale: w.outScale };
    const K = this.P / this.C;
    let bytes = 0;
    try {
      if (this.path === 'int4') {
        const src = this.put(w.codes);
        this.packed = (int4Panels === 'nibble' ? packWeightsI4 : packWeightsI4AsI8)(src, K, this.C, rt);
        this.release(src);
        bytes += this.packed.bytes;
      } else if (this.path === 'int8') {
        const src = this.put(intValues(this.wf, w.codes, this.P));
        if (layer.kind === 'depthwise') {
          this.codesPtr = src;
          bytes += this.P;
        } else {
          this.packed = packWeightsI8(src, K, this.C, rt);
          this.release(src);
          bytes += this.packed.bytes;
        }
      } else {
        if (this.path === 'lut') {
          this.codesPtr = this.put(Uint8Array.from(unpackCodes(w.codes, this.wf.bits, this.P)));
          this.lutPtr = this.put(Float32Array.from({ length: 2 ** this.wf.bits }, (_, c) => decodeValue(this.wf, c)));
          this.scalePtr = this.put(w.weightScale);
          bytes += this.P + 4 * 2 ** this.wf.bits + 4 * this.C;
        } else if (this.path === 'bf16') {
          this.codesPtr = this.put(new Uint16Array(w.codes.buffer.slice(w.codes.byteOffset, w.codes.byteOffset + w.codes.byteLength)));
          bytes += 2 * this.P;
        } else {
          const u = unpackCodes(w.codes, this.wf.bits, this.P);
          this.codesPtr = this.put(Float32Array.from(u, (c, i) => decodeValue(this.wf, c) / w.weightScale[i % this.C]!));
          bytes += 4 * this.P;
        }
        this.affinePtr = this.put(new Float32Array([...w.outScale, ...w.outBias]));
        bytes += 8 * this.C;
      }
    } catch (e) {
      this.free();
      throw e;
    }
    this.residentBytes = bytes;
  }

  /** Copies an array into a new arena block (kept until free()). */
  private put(a: ArrayBufferView & ArrayLike<number>): number {
    const p = this.rt.arena.alloc(Math.max(4, a.byteLength));
    this.rt.u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
    this.blocks.push(p);
    return p;
  }

  private release(p: number): void {
    this.rt.arena.free(p);
    this.blocks.splice(this.blocks.indexOf(p), 1);
  }

  /** True when the layer runs on integer kernels (it can take codes and fuse a requantizing epilogue). */
  get isInt(): boolean { return this.path === 'int8' || this.path === 'int4'; }

  /** The scale and format of this layer's input codes (for a producer that requantizes into them). */
  get inputCodes(): { s: number; format: Format } { return { s: this.sA, format: this.af }; }

  /** Runs the layer on x (not consumed); returns a new activation. Only integer layers take codes or fuse `out`. */
  run(x: Activation, out: OutputPlan = F32_OUT): Activation {
    if (this.isInt) return this.runInt(x, out);
    if (x.kind !== 'f32' || out !== F32_OUT) throw new Error(`layer ${this.layer.name}: the ${this.path} path takes and gives f32 only`);
    return this.runFloat(x);
  }

  /** The conv / depthwise geometry for input x (null for linear) and the output shape, checked once per call. */
  private geometry(x: Activation): { conv: ConvShape | null; shape: number[] } {
    const l = this.layer;
    if (l.kind === 'linear') return { conv: null, shape: [x.shape[0]!, this.C] };
    const s = l.kind === 'depthwise'
      ? depthwiseConv2dShape(x.shape, [l.weightShape[0]!, l.weightShape[1]!, this.C], { stride: l.stride, padding: l.padding })
      : conv2dShape(x.shape, l.weightShape, { stride: l.stride, padding: l.padding });
    return { conv: s, shape: [s.N, s.OH, s.OW, s.CO] };
  }

  private runInt(x: Activation, plan: OutputPlan): Activation {
    const rt = this.rt, l = this.layer;
    const { shape } = this.geometry(x);
    const n = sizeOf(x.shape), outN = sizeOf(shape);
    let dequant = this.prepared.get(plan);
    if (!dequant) {
      dequant = prepareDequant({ ...this.dequant, clamp: plan.clamp, ...(plan.requantize ? { requantize: plan.requantize } : {}) }, this.C, rt);
      this.prepared.set(plan, dequant);
    }
    let codes = x.kind === 'i8' ? x.ptr : -1;
    const own = codes < 0;
    let out = -1;
    try {
      if (own) {
        codes = rt.arena.alloc(n);
        quantizeToI8((x as { buf: WasmF32 }).buf.ptr, codes, n, this.sA, this.af, rt);
      }
      out = rt.arena.alloc(plan.requantize ? Math.max(4, outN) : outN * 4);
      if (l.kind === 'linear') {
        gemmI8Dequant(codes, x.shape[0]!, this.packed!, out, dequant, rt);
      } else if (l.kind === 'conv') {
        conv2dI8(codes, x.shape as [number, number, number, number], this.packed!, [l.weightShape[0]!, l.weightShape[1]!], out,
          { stride: l.stride, padding: l.padding, dequant }, rt);
      } else {
        depthwiseConv2dI8(codes, x.shape as [number, number, number, number], this.codesPtr, [l.weightShape[0]!, l.weightShape[1]!], out,
          { stride: l.stride, padding: l.padding, dequant }, rt);
      }
    } catch (e) {
      if (out >= 0) rt.arena.free(out);
      throw e;
    } finally {
      if (own && codes >= 0) rt.arena.free(codes);
    }
    return plan.requantize ? { kind: 'i8', ptr: out, shape } : { kind: 'f32', buf: new WasmF32(rt, out, outN), shape };
  }

  private runFloat(x: Activation & { kind: 'f32' }): Activation {
    const rt = this.rt, l = this.layer;
    const { conv, shape } = this.geometry(x);
    const owned: WasmF32[] = [];
    const tmp = (n: number): WasmF32 => { const b = rt.allocF32(n); owned.push(b); return b; };
    let out: WasmF32 | null = null;
    try {
      let xq = x.buf;
      if (this.af.kind !== 'fp32') {
        xq = tmp(x.buf.length);
        quantize(x.buf.array, this.af, this.layer.activationClip ?? undefined, xq.array); // both views of wasm memory: in place
      }
      let w: WasmF32;
      if (this.path === 'lut') { w = tmp(this.P); decodeLutU8(this.codesPtr, this.lutPtr, this.scalePtr, w, this.C); }
      else if (this.path === 'bf16') { w = tmp(this.P); decodeBf16(this.codesPtr, w); }
      else w = new WasmF32(rt, this.codesPtr, this.P);
      out = rt.allocF32(shape.reduce((a, b) => a * b, 1));
      if (l.kind === 'linear') {
        const [B, K] = x.shape as [number, number];
        gemm('nn', B, this.C, K, 1, xq, K, w, this.C, 0, out, this.C, {}, rt);
      } else if (l.kind === 'conv') {
        conv2d(xq, w, null, conv!, out);
      } else {
        depthwiseConv2d(xq, w, null, conv!, out);
      }
      channelAffine(out, out, this.C, this.affinePtr, this.affinePtr + 4 * this.C);
    } catch (e) {
      out?.free();
      throw e;
    } finally {
      for (const b of owned) b.free();
    }
    return { kind: 'f32', buf: out, shape };
  }

  /** Returns the layer's wasm memory. */
  free(): void {
    this.packed?.free();
    this.packed = null;
    for (const p of this.prepared.values()) p.free();
    this.prepared.clear();
    for (const p of this.blocks.splice(0)) this.rt.arena.free(p);
  }
}
