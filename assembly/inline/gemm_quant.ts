// The quantizer parameter block gemm_qb_f32_4x8 reads once per call (op(B) fake-quantized while packed), as
// byte offsets. src/kernels/gemm.ts writes it (its QB table mirrors these).
//   0 s: f32 tensor scale (used when scales = 0) | 4 scales: u32 pointer to N f32 scales, one per op(B) column, or 0
//   8 max, 12 M, 16 T: f32 | 20 sh, 24 flip: i32 — the quantizer constants of quant_f32x4 (assembly/quant.ts)
// Inline constants only: nothing here is a wasm export.

export const QB_S = 0;
export const QB_SCALES = 4;
export const QB_MAX = 8;
export const QB_M = 12;
export const QB_T = 16;
export const QB_SH = 20;
export const QB_FLIP = 24;
