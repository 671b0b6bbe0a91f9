// The epilogue block the int8 kernels (int8.ts, and deploy.ts's depthwise conv) read once per call, as byte
// offsets. src/kernels/int8.ts writes it (its EP table mirrors these).
//   0 dq: u32 pointer to N (rounded up to 8) f32 multipliers | 4 bias: u32 pointer, same length | 8 hasBias: i32
//   12 lo, 16 hi: f32 clamp of y (a fused ReLU / ReLU6; ±Infinity for none) | 20 s, 24 max: mode 2's requantization
// mode 0: int32 acc. mode 1: f32 y = clamp(f32(acc)·dq[n] + bias[n], lo, hi). mode 2: int8 codes of y for the
// next layer, round_half_even(clamp(f32(y·s), −max, max)): bit for bit what mode 1 followed by
// quantize_i8_f32x4 gives, without writing y. Inline constants only: nothing here is a wasm export.

export const EP_DQ = 0;
export const EP_BIAS = 4;
export const EP_HAS_BIAS = 8;
export const EP_LO = 12;
export const EP_HI = 16;
export const EP_S = 20;
export const EP_MAX = 24;
