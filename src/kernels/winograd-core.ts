// The Winograd F(2×2, 3×3) kernel calls (assembly/winograd.ts) without argument checks: weight transform,
// per-block scratch from the arena, one kernel call. conv.ts reaches them after its own checks, and
// winograd.ts's public entries after theirs, so every call is validated once. Calls split over threads by
// images (forward, grad-input) or output-channel slices (grad-weight) with the whole call's tiles per block,
// so every element gets the single-thread arithmetic (conv-tasks.ts).

import { requireInt } from '../core/errors.js';
import type { Runtime, WasmF32 } from '../core/runtime.js';
import { convGeometry } from './blocks.js';
import type { ConvShape } from './conv.ref.js';
import { gradWeightTasks, imageTasks, runWithScratch } from './conv-tasks.js';

/**
 * Bytes of transformed input + products one block of tiles may take: 16 planes of (C + CO) floats per
 * tile. Sized to stay in L2 with room for the transformed weights.
 */
const BLOCK_BYTES = 128 * 1024;

/** Tiles per block the kernels run for a conv with cin → cout channels over `tiles` tiles: a multiple of 4, at least 4, no more than the call has. */
export function winogradTilesPerBlock(C: number, CO: number, tiles: number): number {
  requireInt('C', C, 1, 2 ** 24); requireInt('CO', CO, 1, 2 ** 24); requireInt('tiles', tiles, 1, 2 ** 31 - 1);
  const perTile = 16 * 4 * (Math.ceil(C / 4) * 4 + Math.ceil(CO / 8) * 8);
  const tb = Math.max(4, Math.floor(BLOCK_BYTES / perTile / 4) * 4);
  return Math.min(tb, Math.ceil(tiles / 4) * 4);
}

/** Runs the kernel over geometry g (input [N, H, W, C] → output [N, OH, OW, CO]), weights w transformed with `flip`. */
function run(rt: Runtime, inp: WasmF32, w: WasmF32, bias: WasmF32 | null, out: WasmF32, g: ConvShape, flip: 0 | 1): void {
  const k = rt.kernels;
  const tb = winogradTilesPerBlock(g.C, g.CO, g.N * Math.ceil(g.OH / 2) * Math.ceil(g.OW / 2));
  const u = rt.arena.alloc(16 * Math.ceil(g.CO / 8) * g.C * 32);
  try {
    k.winograd_f23_weights(w.ptr, u, g.C, g.CO, flip);
    runWithScratch(rt, k.winograd_f23_scratch_bytes(g.C, g.CO, tb), (scratch) => imageTasks(rt, g, (slot, sub, inAt, outAt) => ({
      kernel: 'winograd_f23_nhwc_f32',
      args: [inAt(inp.ptr), u, bias ? bias.ptr : 0, outAt(out.ptr), scratch(slot), tb, convGeometry(rt, sub, slot)],
    }), 1, 2)); // g is a forward conv (also for grad-input), so few images split by pairs of output rows
  } finally {
    rt.arena.free(u);
  }
}

/** y = conv2d(x, w) + bias for a ConvShape that winogradApplies to; y is [N, OH, OW, CO]. */
export function winogradForwardCore(rt: Runtime, x: WasmF32, w: WasmF32, bias: WasmF32 | null, y: WasmF32, s: ConvShape): void {
  run(rt, x, w, bias, y, s, 0);
}

/** dx of conv2d: the transposed conv dy [N, OH, OW, CO] → dx [N, H, W, C], 3×3, stride 1, padding 2 − pt, 2 − pl. */
export function winogradGradInputCore(rt: Runtime, dy: WasmF32, w: WasmF32, dx: WasmF32, s: ConvShape): void {
  const t: ConvShape = { ...s, H: s.OH, W: s.OW, C: s.CO, OH: s.H, OW: s.W, CO: s.C, pt: 2 - s.pt, pl: 2 - s.pl, pb: 2 - s.pb, pr: 2 - s.pr };
  run(rt, dy, w, null, dx, t, 1);
}

/** dw [3, 3, C, CO] of conv2d by the transposed algorithm. */
export function winogradGradWeightCore(rt: Runtime, x: WasmF32, dy: WasmF32, dw: WasmF32, s: ConvShape): void {
  const k = rt.kernels;
  const tb = winogradTilesPerBlock(s.C, s.CO, s.N * Math.ceil(s.OH / 2) * Math.ceil(s.OW / 2));
  // Output-channel slices only: the 3×3 transform needs every kernel row.
  runWithScratch(rt, k.winograd_f23_grad_weight_scratch_bytes(s.C, s.CO, tb), (scratch) => gradWeightTasks(rt, s, (slot, sub, at) => ({
    kernel: 'winograd_f23_grad_weight_nhwc_f32',
    args: [x.ptr, at(dy.ptr, false), at(dw.ptr, true), scratch(slot), tb, convGeometry(rt, sub, slot, s.CO)],
  }), false));
}
