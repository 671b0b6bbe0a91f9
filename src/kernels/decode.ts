// The deployed model's float-path helpers (assembly/deploy.ts): weights decoded from their stored codes
// (one-byte codes through a value table, BF16 bit patterns) and the per-channel output affine
// y = x·a[c] + b[c]. Code, table and vector operands are byte offsets the caller allocated in rt's arena.

import type { WasmF32 } from '../core/runtime.js';

/** out[o, c] = lut[codes[o, c]] / scales[c] over out viewed as [outer, C] (u8 codes, f32 table and scales). */
export function decodeLutU8(codes: number, lut: number, scales: number, out: WasmF32, C: number): void {
  out.runtime.kernels.decode_lut_u8_f32(codes, lut, scales, out.ptr, out.length / C, C);
}

/** out[i] = the f32 whose high 16 bits are the u16 bits[i] (exact BF16 widening). */
export function decodeBf16(bits: number, out: WasmF32): void {
  out.runtime.kernels.decode_bf16_f32(bits, out.ptr, out.length);
}

/** y[r, c] = x[r, c]·a[c] + b[c] over x viewed as [rows, C]; a and b are C f32s each; y may be x. */
export function channelAffine(x: WasmF32, y: WasmF32, C: number, a: number, b: number): void {
  x.runtime.kernels.channel_affine_f32x4(x.ptr, y.ptr, x.length / C, C, a, b);
}
