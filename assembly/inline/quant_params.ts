// Readers of the quantizer parameter block (layout QP_* in abi.generated.ts, from scripts/wasm-abi.mjs;
// src/kernels/blocks.ts writes it from a Format's kernelParams and the scale(s)). A kernel reads the fields
// once per call and passes them on as values (see quant.ts), so the loops see exactly what positional
// arguments gave them. Inline helpers only: nothing here is a wasm export.

import { QP_FLIP, QP_KIND, QP_M, QP_MAX, QP_S, QP_SCALES, QP_SH, QP_T } from './abi.generated';

/** The format kind (KIND_* of abi.generated.ts). */
// @ts-ignore: decorator
@inline export function qpKind(q: usize): i32 { return load<i32>(q, QP_KIND); }
/** Mantissa bits dropped in the floating region, 23 − y (1 for INT). */
// @ts-ignore: decorator
@inline export function qpSh(q: usize): i32 { return load<i32>(q, QP_SH); }
/** 1 when ties flip f32's exponent parity (see inline/quantize.ts qround). */
// @ts-ignore: decorator
@inline export function qpFlip(q: usize): i32 { return load<i32>(q, QP_FLIP); }
/** The tensor scale (unused when qpScales is not 0). */
// @ts-ignore: decorator
@inline export function qpS(q: usize): f32 { return load<f32>(q, QP_S); }
/** The format's largest value (the clamp; Infinity for BF16). */
// @ts-ignore: decorator
@inline export function qpMax(q: usize): f32 { return load<f32>(q, QP_MAX); }
/** The uniform region's magic constant (its quantum · 2^23). */
// @ts-ignore: decorator
@inline export function qpM(q: usize): f32 { return load<f32>(q, QP_M); }
/** Where the floating region starts. */
// @ts-ignore: decorator
@inline export function qpT(q: usize): f32 { return load<f32>(q, QP_T); }
/** 0, or the address of one f32 scale per channel / column. */
// @ts-ignore: decorator
@inline export function qpScales(q: usize): usize { return <usize>load<u32>(q, QP_SCALES); }
