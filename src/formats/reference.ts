// The scalar reference quantizer: the living definition of docs/quantization.md and the
// oracle the wasm kernels are tested against, bit for bit. Written for clarity, not speed: it works
// in f64 with explicit exponents and rounds to f32 (Math.fround) exactly where the spec's f32
// arithmetic rounds (x * s and q / s; f64 then f32 is correctly rounded for these operations).

import { FliqsError, describe, requireArrayLike, requireInt } from '../core/errors.js';
import { parseFormat, type Format } from './format.js';
import { scaleOf } from './params.js';

const f32 = Math.fround;

/** Round to the nearest integer, ties to even. */
export function roundHalfEven(k: number): number {
  const f = Math.floor(k);
  const d = k - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** floor(log2(a)) for a finite a > 0, exactly. */
export function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return e;
}

/** The unsigned code (sign bit clear) of a grid magnitude g ≥ 0 of a float format. */
export function floatCode(g: number, y: number, emin: number, bias: number): number {
  if (g < 2 ** emin) return g / 2 ** (emin - y);
  const e = exponentOf(g);
  return (e + bias) * 2 ** y + (g / 2 ** e - 1) * 2 ** y;
}

/**
 * a ≥ 0 rounded to the nearest value with y mantissa bits and normal exponents ≥ emin (below that, the
 * fixed quantum 2^(emin−y)); a tie goes to the neighbour whose code is even.
 */
export function roundToFloat(a: number, y: number, emin: number, bias: number): number {
  if (a === 0) return 0;
  const quantum = 2 ** (Math.max(exponentOf(a), emin) - y);
  const lo = Math.floor(a / quantum) * quantum, hi = lo + quantum;
  if (a - lo < hi - a) return lo;
  if (a - lo > hi - a) return hi;
  return floatCode(lo, y, emin, bias) % 2 === 0 ? lo : hi;
}

/** Rounds one f32 value v (already scaled and clamped) to the format's grid at scale 1. */
export function roundToGrid(v: number, f: Format): number {
  if (Number.isNaN(v)) return NaN;
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let q: number;
  if (f.kind === 'int') q = roundHalfEven(a);
  else if (f.kind === 'float') q = roundToFloat(a, f.mantissaBits, f.minExponent, f.bias);
  else if (f.kind === 'bf16') q = a === Infinity ? Infinity : roundToFloat(a, 7, -126, 127);
  else q = a;
  if (f.kind === 'bf16' && q >= 2 ** 128) q = Infinity; // IEEE overflow
  return neg ? -q : q;
}

/** quantize() for one value with a precomputed scale s (see scaleOf). */
export function quantizeValueRef(x: number, f: Format, s: number): number {
  if (f.kind === 'fp32') return f32(x);
  if (f.kind === 'bf16') return roundToGrid(f32(x), f);
  if (Number.isNaN(x)) return NaN;
  const v = Math.min(Math.max(f32(f32(x) * s), -f.maxValue), f.maxValue);
  return f32(roundToGrid(v, f) / s);
}

/**
 * Reference fake-quantizer: the spec's quantize(x, format, clip), elementwise. The format may be a name.
 * @example
 * quantizeRef(new Float32Array([0.3, -1.2]), 'INT4', 1) // ≈ [0.2857, -1]
 */
export function quantizeRef(x: ArrayLike<number>, format: Format | string, clip: number, out?: Float32Array): Float32Array {
  requireArrayLike('x', x);
  const f = parseFormat(format);
  requireNumber('clip', clip);
  const o = refOut(out, x.length);
  const s = scaleOf(f, clip);
  for (let i = 0; i < x.length; i++) o[i] = quantizeValueRef(x[i]!, f, s);
  return o;
}

// The references check types and sizes only (so a bad call is a FliqsError, not a TypeError or a
// runaway loop); values are theirs to define, NaN and out-of-range clips included.
function requireNumber(input: string, v: unknown): void {
  if (typeof v !== 'number') throw new FliqsError(input, `got ${describe(v)}`, 'a number');
}

function refOut(out: unknown, n: number): Float32Array {
  if (out === undefined) return new Float32Array(n);
  if (!(out instanceof Float32Array) || out.length !== n) throw new FliqsError('out', `got ${describe(out)}`, `a Float32Array of length ${n}, or nothing`);
  return out;
}

/** Reference per-channel fake-quantizer over a tensor viewed as [outer, C, inner], clip clips[c] for channel c. */
export function quantizePerChannelRef(x: ArrayLike<number>, format: Format | string, clips: ArrayLike<number>, outer: number, C: number,
  inner: number, out?: Float32Array): Float32Array {
  requireArrayLike('x', x);
  const f = parseFormat(format);
  requireArrayLike('clips', clips);
  requireInt('outer', outer, 0, x.length); requireInt('C', C, 0, clips.length); requireInt('inner', inner, 0, x.length);
  if (outer * C * inner !== x.length) throw new FliqsError('outer, C, inner', `[${outer}, ${C}, ${inner}] for x of length ${x.length}`, 'a view [outer, C, inner] of all of x');
  out = refOut(out, x.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = scaleOf(f, clips[c]!);
      for (let i = 0; i < inner; i++) {
        const k = (o * C + c) * inner + i;
        out[k] = quantizeValueRef(x[k]!, f, s);
      }
    }
  }
  return out;
}

/** Reference straight-through estimator: gradIn = |x| ≤ clip ? gradOut : 0. */
export function steRef(x: ArrayLike<number>, gradOut: ArrayLike<number>, clip: number, out?: Float32Array): Float32Array {
  requireArrayLike('x', x);
  requireArrayLike('gradOut', gradOut);
  if (gradOut.length !== x.length) throw new FliqsError('gradOut', `has length ${gradOut.length}`, `length ${x.length} (x's)`);
  requireNumber('clip', clip);
  out = refOut(out, x.length);
  const c = f32(clip);
  for (let i = 0; i < x.length; i++) out[i] = Math.abs(x[i]!) <= c ? gradOut[i]! : 0;
  return out;
}
