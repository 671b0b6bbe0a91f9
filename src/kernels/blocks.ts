// The parameter blocks a call hands a wasm kernel as one pointer: a conv/pool geometry from a ConvShape and a
// quantizer from a Format's kernelParams and its scale(s), written here; and the address of the optimizer
// step's block, which src/kernels/optim.ts fills (its layout is the optimizer's, see assembly/optim.ts).
// Layouts (CG, QP) come from scripts/wasm-abi.mjs through core/abi.generated.ts, as the kernels' readers
// (assembly/inline/conv_geometry.ts, quant_params.ts) do. Each runtime's module holds one block of each kind
// in its static data (param_blocks(slot), assembly/memory.ts), so writing one never allocates; every call
// rewrites it: write the block right before the kernel call that reads it. A call split over threads
// (threads.ts) writes one block per task slot: the first 16 slots are static too; a slot beyond them lives in
// an arena block allocated once per runtime, so its first use may grow memory: write blocks before taking views.

import { BLOCK_BYTES, CG, QP } from '../core/abi.generated.js';
import type { Runtime } from '../core/runtime.js';
import type { KernelParams } from '../formats/params.js';
import type { ConvShape } from './conv.ref.js';

const areasOf = new WeakMap<Runtime, number[]>();

/**
 * Address of rt's parameter blocks for task slot `slot`: static data for the first static_slots() slots
 * (0: the calling thread), an arena block kept for the runtime's lifetime beyond them.
 */
function area(rt: Runtime, slot = 0): number {
  let a = areasOf.get(rt);
  if (!a) {
    const k = rt.kernels;
    a = Array.from({ length: k.static_slots() }, (_, i) => k.param_blocks(i));
    areasOf.set(rt, a);
  }
  while (a.length <= slot) a.push(rt.arena.alloc(CG.size + QP.size + BLOCK_BYTES.optim));
  return a[slot]!;
}

/**
 * Writes s's geometry into rt's geometry block (of task slot `slot`) and returns the block's address. ldo is
 * the grad-weight kernels' dy pixel / dw row stride: s.CO, or the full tensor's CO for a channel slice.
 */
export function convGeometry(rt: Runtime, s: ConvShape, slot = 0, ldo = s.CO): number {
  const ptr = area(rt, slot), i = rt.i32, at = ptr >>> 2;
  i[at + CG.ldo / 4] = ldo;
  i[at + CG.N / 4] = s.N; i[at + CG.H / 4] = s.H; i[at + CG.W / 4] = s.W; i[at + CG.C / 4] = s.C;
  i[at + CG.OH / 4] = s.OH; i[at + CG.OW / 4] = s.OW; i[at + CG.CO / 4] = s.CO;
  i[at + CG.KH / 4] = s.KH; i[at + CG.KW / 4] = s.KW; i[at + CG.groups / 4] = s.groups;
  i[at + CG.sh / 4] = s.sh; i[at + CG.sw / 4] = s.sw; i[at + CG.pt / 4] = s.pt; i[at + CG.pl / 4] = s.pl;
  return ptr;
}

/**
 * Writes a quantizer into rt's quantizer block and returns its address: k from kernelParams(format), the
 * tensor scale s, and `scales`, 0 or the address of one f32 scale per channel / column (then s is unused).
 * The f32 fields get f32(v), as the kernels' f32 arguments did.
 */
export function quantParams(rt: Runtime, k: KernelParams, s: number, scales = 0): number {
  const ptr = area(rt) + CG.size, i = rt.i32, f = rt.f32, at = ptr >>> 2;
  i[at + QP.kind / 4] = k.kind; i[at + QP.sh / 4] = k.sh; i[at + QP.flip / 4] = k.flip;
  f[at + QP.s / 4] = s; f[at + QP.max / 4] = k.max; f[at + QP.M / 4] = k.M; f[at + QP.T / 4] = k.T;
  rt.u32[at + QP.scales / 4] = scales;
  return ptr;
}

/** Address of rt's optimizer-step block (BLOCK_BYTES.optim bytes, after the geometry and quantizer blocks). */
export function optimBlock(rt: Runtime): number {
  return area(rt) + CG.size + QP.size;
}
