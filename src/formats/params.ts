// The constants the quantize kernel reads for a format, derived once per Format (see assembly/quant.ts):
// a uniform region |v| < T with quantum M * 2^-23, and a floating region above it that keeps 23 - sh
// mantissa bits. INTk is all uniform (T = Inf, quantum 1); BF16 is s = 1 with no clamp.

import { KIND } from '../core/abi.generated.js';
import type { Format } from './format.js';

export interface KernelParams {
  /** Which kernel (KIND of scripts/wasm-abi.mjs): int, float (ExMy general), bf16, floatMagic (ExMy by per-lane magic add: x ≤ 7, no tie flip); fp32 never reaches one. */
  readonly kind: number;
  readonly max: number;
  readonly M: number;
  readonly T: number;
  readonly sh: number;
  /** 1 when ties must flip f32's exponent parity: y = 0 and a bias of other parity than f32's 127. */
  readonly flip: number;
}

const cache = new WeakMap<Format, KernelParams>();

export function kernelParams(f: Format): KernelParams {
  let p = cache.get(f);
  if (p) return p;
  if (f.kind === 'int') p = { kind: KIND.int, max: f.maxValue, M: 2 ** 23, T: Infinity, sh: 1, flip: 0 };
  else if (f.kind === 'fp32') p = { kind: KIND.fp32, max: Infinity, M: 0, T: 0, sh: 0, flip: 0 };
  else {
    const y = f.mantissaBits, emin = f.minExponent;
    const flip = y === 0 && f.bias % 2 === 0 ? 1 : 0;
    const kind = f.kind === 'bf16' ? KIND.bf16 : f.exponentBits <= 7 && flip === 0 ? KIND.floatMagic : KIND.float;
    p = { kind, max: f.kind === 'bf16' ? Infinity : f.maxValue, M: 2 ** (emin - y + 23), T: 2 ** (emin + 1), sh: 23 - y, flip };
  }
  cache.set(f, p);
  return p;
}

/** The f32 scale s = maxValue / clip of the spec (1 for formats that ignore the clip). */
export function scaleOf(f: Format, clip: number): number {
  return f.ignoresClip ? 1 : Math.fround(f.maxValue / clip);
}
