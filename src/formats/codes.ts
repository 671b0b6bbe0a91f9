// Codes: b-bit unsigned storage codes for grid values (INT two's complement, ExMy sign|exponent|mantissa,
// BF16/FP32 IEEE bits) and dense packing of codes into bytes (two INT4/E2M1 codes per byte, …).

import { FliqsError, describe, requireArrayLike, requirePositive } from '../core/errors.js';
import { parseFormat, type Format } from './format.js';
import { checkedScale, requireF32 } from './checks.js';
import { exponentOf, quantizeRef, roundToGrid } from './reference.js';

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

function notOnGrid(f: Format, v: number, i: number): never {
  throw new FliqsError(`values[${i}]`, `${v} is not a ${f.name} grid value at scale 1`, `values returned by quantize(x, '${f.name}', ${f.maxValue}) or listed in parseFormat('${f.name}').grid`);
}

/** The code of one grid value (at scale 1). */
export function encodeValue(f: Format, v: number, i = 0): number {
  if (f.kind === 'fp32' || f.kind === 'bf16') {
    f32buf[0] = v;
    if (f.kind === 'bf16') {
      if (u32buf[0]! & 0xffff && !Number.isNaN(v)) notOnGrid(f, v, i);
      return u32buf[0]! >>> 16;
    }
    if (f32buf[0] !== v && !Number.isNaN(v)) notOnGrid(f, v, i);
    return u32buf[0]!;
  }
  if (!Number.isFinite(v) || roundToGrid(v, f) !== v || Math.abs(v) > f.maxValue) notOnGrid(f, v, i);
  if (f.kind === 'int') return v < 0 ? (2 ** f.bits + v) : v;
  const x = f.exponentBits, y = f.mantissaBits;
  const sign = v < 0 || Object.is(v, -0) ? 1 : 0;
  const a = Math.abs(v);
  let e = 0, m = 0;
  if (a !== 0) {
    const ex = exponentOf(a);
    if (ex < f.minExponent) m = a / 2 ** (f.minExponent - y);
    else { e = ex + f.bias; m = (a / 2 ** ex - 1) * 2 ** y; }
  }
  return sign * 2 ** (x + y) + e * 2 ** y + m;
}

/** The grid value (at scale 1) of one code. */
export function decodeValue(f: Format, code: number): number {
  if (f.kind === 'fp32') { u32buf[0] = code; return f32buf[0]!; }
  if (f.kind === 'bf16') { u32buf[0] = code << 16; return f32buf[0]!; }
  if (f.kind === 'int') return code >= 2 ** (f.bits - 1) ? code - 2 ** f.bits : code;
  const y = f.mantissaBits;
  const m = code % 2 ** y;
  const e = Math.floor(code / 2 ** y) % 2 ** f.exponentBits;
  const neg = code >= 2 ** (f.bits - 1);
  const a = e === 0 ? m * 2 ** (f.minExponent - y) : (1 + m / 2 ** y) * 2 ** (e - f.bias);
  return neg ? -a : a;
}

function codesOut(out: unknown, n: number): Uint32Array {
  if (out === undefined) return new Uint32Array(n);
  if (!(out instanceof Uint32Array) || out.length !== n) throw new FliqsError('out', `got ${describe(out)}`, `a Uint32Array of length ${n} (the values'), or nothing`);
  return out;
}

function checkCodes(f: Format, codes: ArrayLike<number>): void {
  const lim = 2 ** f.bits;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= lim) throw new FliqsError(`codes[${i}]`, `got ${describe(c)}`, `an integer from 0 to ${lim - 1} (${f.bits}-bit ${f.name} code)`);
    if (f.kind === 'int' && c === 2 ** (f.bits - 1)) throw new FliqsError(`codes[${i}]`, `${c} is −2^${f.bits - 1}, which the symmetric ${f.name} grid does not use`, `codes of −${f.maxValue}…${f.maxValue}`);
  }
}

/**
 * Codes of grid values (at scale 1: quantize with clip = maxValue, or q * s).
 * @example
 * encode('E2M1', [0, 0.5, -3]) // Uint32Array [0, 1, 15]
 */
export function encode(format: Format | string, values: ArrayLike<number>, out?: Uint32Array): Uint32Array {
  const f = parseFormat(format);
  requireArrayLike('values', values);
  const o = codesOut(out, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new FliqsError(`values[${i}]`, `got ${describe(v)}`, 'a number');
    o[i] = encodeValue(f, v, i);
  }
  return o;
}

/**
 * Grid values (at scale 1) of codes; divide by s to get back the quantized tensor.
 * @example
 * decode('INT4', [1, 15]) // Float32Array [1, -1]
 */
export function decode(format: Format | string, codes: ArrayLike<number>, out?: Float32Array): Float32Array {
  const f = parseFormat(format);
  requireArrayLike('codes', codes);
  checkCodes(f, codes);
  const o = out === undefined ? new Float32Array(codes.length) : out;
  if (!(o instanceof Float32Array) || o.length !== codes.length) {
    throw new FliqsError('out', `got ${describe(out)}`, `a Float32Array of length ${codes.length} (the codes'), or nothing`);
  }
  for (let i = 0; i < codes.length; i++) o[i] = decodeValue(f, codes[i]!);
  return o;
}

/**
 * Packs b-bit codes densely, little-endian within each byte (the first INT4 code is the low nibble).
 * @example
 * packCodes([1, 15], 4) // Uint8Array [0xf1]
 */
export function packCodes(codes: ArrayLike<number>, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new FliqsError('bits', `got ${describe(bits)}`, 'an integer from 1 to 32');
  requireArrayLike('codes', codes);
  const out = new Uint8Array(Math.ceil((codes.length * bits) / 8));
  const lim = 2 ** bits;
  let bit = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= lim) throw new FliqsError(`codes[${i}]`, `got ${describe(c)}`, `an integer from 0 to ${lim - 1}`);
    if ((bit & 7) === 0 && bits % 8 === 0) { // whole bytes, little-endian
      for (let k = 0; k < bits; k += 8) out[(bit + k) >> 3] = Math.floor(c / 2 ** k) & 255;
      bit += bits;
    } else {
      for (let k = 0; k < bits; k++, bit++) if (Math.floor(c / 2 ** k) % 2) out[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  return out;
}

/** Inverse of packCodes: `count` b-bit codes from bytes. */
export function unpackCodes(bytes: Uint8Array, bits: number, count: number): Uint32Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new FliqsError('bits', `got ${describe(bits)}`, 'an integer from 1 to 32');
  if (!(bytes instanceof Uint8Array)) throw new FliqsError('bytes', `got ${describe(bytes)}`, 'a Uint8Array');
  if (!Number.isInteger(count) || count < 0 || count * bits > bytes.length * 8) {
    throw new FliqsError('count', `${describe(count)} codes of ${bits} bits need ${Math.ceil((count * bits) / 8)} bytes, got ${bytes.length}`, `an integer from 0 to ${Math.floor((bytes.length * 8) / bits)}`);
  }
  const out = new Uint32Array(count);
  if (bits % 8 === 0) { // whole bytes, little-endian
    const n = bits / 8;
    for (let i = 0; i < count; i++) {
      let c = 0;
      for (let k = n - 1; k >= 0; k--) c = c * 256 + bytes[i * n + k]!;
      out[i] = c;
    }
    return out;
  }
  let bit = 0;
  for (let i = 0; i < count; i++) {
    let c = 0;
    for (let k = 0; k < bits; k++, bit++) if ((bytes[bit >> 3]! >> (bit & 7)) & 1) c += 2 ** k;
    out[i] = c;
  }
  return out;
}

/**
 * Quantizes x straight to codes: the grid values round(clamp(x·s)) of the spec, encoded, with the scale
 * s = maxValue / clip. `dequantizeCodes(codes, format, scale)` gives back exactly quantize(x, format, clip).
 * @example
 * const { codes, scale } = quantizeToCodes(new Float32Array([0.3, -1]), 'INT4', 1); // codes [2, 9], scale 7
 */
export function quantizeToCodes(x: Float32Array, format: Format | string, clip?: number): { codes: Uint32Array; scale: number } {
  requireF32('x', x);
  const f = parseFormat(format);
  const nan = x.findIndex(Number.isNaN);
  if (nan >= 0) {
    throw new FliqsError(`x[${nan}]`, `is NaN, and the storage codes of ${f.name} have no NaN (fake quantization keeps NaN; a stored model cannot)`,
      'numbers that are not NaN');
  }
  const s = checkedScale(f, clip);
  const grid = quantizeRef(x.map((v) => v * s), f, f.ignoresClip ? 1 : f.maxValue);
  return { codes: encode(f, grid), scale: s };
}

/** Inverse of quantizeToCodes: decode(codes) / scale in f32. */
export function dequantizeCodes(codes: ArrayLike<number>, format: Format | string, scale: number): Float32Array {
  const out = decode(format, codes);
  requirePositive('scale', scale);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / scale;
  return out;
}
