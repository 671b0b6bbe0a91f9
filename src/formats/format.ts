// Format: the one small trait every part of fliqs reads (kernels, reference, codes, cost model).
// parseFormat() turns a name from docs/quantization.md into a frozen, cached Format.

import { FliqsError, describe } from '../core/errors.js';

export type FormatKind = 'int' | 'float' | 'bf16' | 'fp32';

export interface Format {
  /** Canonical upper-case name: `INT4`, `E4M3`, `BF16`, `FP32`. */
  readonly name: string;
  readonly kind: FormatKind;
  /** Total bits b (what the cost model squares). */
  readonly bits: number;
  /** Exponent bits x (0 for INT). */
  readonly exponentBits: number;
  /** Mantissa bits y (for INTk: k - 1 magnitude bits). */
  readonly mantissaBits: number;
  /** Exponent bias B (ExMy: 2^(x-1); BF16/FP32: 127; INT: 0). */
  readonly bias: number;
  /** Largest finite grid value at scale 1. */
  readonly maxValue: number;
  /** Smallest positive grid value at scale 1. */
  readonly minSubnormal: number;
  /** Smallest normal exponent 1 - B (ExMy, BF16, FP32); 0 for INT. */
  readonly minExponent: number;
  /** True when the clip (and so the scale) is ignored: BF16 and FP32. */
  readonly ignoresClip: boolean;
  /** Every distinct grid value, ascending, for formats of ≤ 12 bits; null otherwise. */
  readonly grid: Float64Array | null;
}

export const ACCEPTED_FORMATS = 'INT2…INT16, ExMy with 1 ≤ x ≤ 8 and 0 ≤ y ≤ 22 (E4M3, E2M1, E5M2, …), BF16, FP32 (case-insensitive)';

const cache = new Map<string, Format>();

/**
 * Parses a format name (case-insensitive).
 * @example
 * parseFormat('e4m3').maxValue // 240
 * parseFormat('INT4').grid     // Float64Array [-7, -6, …, 6, 7]
 */
export function parseFormat(name: string | Format): Format {
  if (typeof name === 'object' && name !== null && typeof (name as Format).name === 'string' && cache.get((name as Format).name) === name) {
    return name as Format;
  }
  if (typeof name !== 'string') throw new FliqsError('format', `got ${describe(name)}, not a format name`, ACCEPTED_FORMATS);
  const key = name.trim().toUpperCase();
  const hit = cache.get(key);
  if (hit) return hit;
  const f = build(key, name);
  cache.set(key, f);
  return f;
}

function reject(original: string, why: string): never {
  throw new FliqsError('format', `${JSON.stringify(original)} ${why}`, ACCEPTED_FORMATS);
}

function build(key: string, original: string): Format {
  let m: RegExpMatchArray | null;
  if (key === 'BF16') return make('BF16', 'bf16', 16, 8, 7, 127);
  if (key === 'FP32') return make('FP32', 'fp32', 32, 8, 23, 127);
  if ((m = /^INT(0|[1-9]\d*)$/.exec(key))) {
    const k = Number(m[1]);
    if (k < 2 || k > 16) reject(original, `has ${k} bits; INT formats have 2 to 16`);
    return make(key, 'int', k, 0, k - 1, 0);
  }
  if ((m = /^E(0|[1-9]\d*)M(0|[1-9]\d*)$/.exec(key))) {
    const x = Number(m[1]), y = Number(m[2]);
    if (x < 1 || x > 8) reject(original, `has ${x} exponent bits; ExMy formats have 1 to 8`);
    if (y > 22) reject(original, `has ${y} mantissa bits; ExMy formats have 0 to 22`);
    return make(key, 'float', 1 + x + y, x, y, 2 ** (x - 1));
  }
  return reject(original, 'is not a format name');
}

function make(name: string, kind: FormatKind, bits: number, x: number, y: number, bias: number): Format {
  let maxValue: number, minSubnormal: number, minExponent: number;
  if (kind === 'int') {
    maxValue = 2 ** (bits - 1) - 1;
    minSubnormal = 1;
    minExponent = 0;
  } else {
    minExponent = 1 - bias;
    // ExMy spends every exponent code on finite values; BF16/FP32 reserve the top code for Inf/NaN.
    const maxExponent = (kind === 'float' ? 2 ** x - 1 : 2 ** x - 2) - bias;
    maxValue = (2 - 2 ** -y) * 2 ** maxExponent;
    minSubnormal = 2 ** (minExponent - y);
  }
  const f: Format = {
    name, kind, bits, exponentBits: x, mantissaBits: y, bias, maxValue, minSubnormal, minExponent,
    ignoresClip: kind === 'bf16' || kind === 'fp32',
    grid: null,
  };
  if (bits <= 12) (f as { grid: Float64Array | null }).grid = gridOf(f);
  Object.defineProperty(f, 'toString', { value: () => name, enumerable: false });
  return Object.freeze(f);
}

/** Non-negative magnitude of the code's value with sign bit clear (ExMy) at scale 1. */
export function exmyValue(x: number, y: number, e: number, m: number): number {
  const emin = 1 - 2 ** (x - 1);
  return e === 0 ? m * 2 ** (emin - y) : (1 + m / 2 ** y) * 2 ** (e - 2 ** (x - 1));
}

function gridOf(f: Format): Float64Array {
  const pos: number[] = [];
  if (f.kind === 'int') {
    for (let v = 0; v <= f.maxValue; v++) pos.push(v);
  } else {
    const y = f.mantissaBits, x = f.exponentBits;
    for (let e = 0; e < 2 ** x; e++) for (let m = 0; m < 2 ** y; m++) pos.push(exmyValue(x, y, e, m));
  }
  const all = [...pos.slice(1).map((v) => -v).reverse(), ...pos];
  return new Float64Array(all);
}
