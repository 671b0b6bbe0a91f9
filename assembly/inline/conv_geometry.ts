// Readers of the conv/pool geometry block (layout CG_* in abi.generated.ts, from scripts/wasm-abi.mjs;
// src/kernels/blocks.ts writes it from a ConvShape). Kernels read each field once, at the top of a call.
// Inline helpers only: nothing here is a wasm export.

import { CG_C, CG_CO, CG_GROUPS, CG_H, CG_KH, CG_KW, CG_N, CG_OH, CG_OW, CG_LDO, CG_PL, CG_PT, CG_SH, CG_SW, CG_W } from './abi.generated';

// @ts-ignore: decorator
@inline export function cgN(g: usize): i32 { return load<i32>(g, CG_N); }
// @ts-ignore: decorator
@inline export function cgH(g: usize): i32 { return load<i32>(g, CG_H); }
// @ts-ignore: decorator
@inline export function cgW(g: usize): i32 { return load<i32>(g, CG_W); }
// @ts-ignore: decorator
@inline export function cgC(g: usize): i32 { return load<i32>(g, CG_C); }
// @ts-ignore: decorator
@inline export function cgOH(g: usize): i32 { return load<i32>(g, CG_OH); }
// @ts-ignore: decorator
@inline export function cgOW(g: usize): i32 { return load<i32>(g, CG_OW); }
// @ts-ignore: decorator
@inline export function cgCO(g: usize): i32 { return load<i32>(g, CG_CO); }
// @ts-ignore: decorator
@inline export function cgKH(g: usize): i32 { return load<i32>(g, CG_KH); }
// @ts-ignore: decorator
@inline export function cgKW(g: usize): i32 { return load<i32>(g, CG_KW); }
// @ts-ignore: decorator
@inline export function cgGroups(g: usize): i32 { return load<i32>(g, CG_GROUPS); }
// @ts-ignore: decorator
@inline export function cgSH(g: usize): i32 { return load<i32>(g, CG_SH); }
// @ts-ignore: decorator
@inline export function cgSW(g: usize): i32 { return load<i32>(g, CG_SW); }
// @ts-ignore: decorator
@inline export function cgPT(g: usize): i32 { return load<i32>(g, CG_PT); }
// @ts-ignore: decorator
@inline export function cgPL(g: usize): i32 { return load<i32>(g, CG_PL); }
// @ts-ignore: decorator
@inline export function cgLDO(g: usize): i32 { return load<i32>(g, CG_LDO); }
