// The f32 4×8 micro-kernel over a packed, 4-row-interleaved A (grad-weight as a GEMM over pixels,
// conv2d_grad_weight_gemm.ts), beside inline/gemm_ukernel.ts's ukernel_4x8 over 4 separate A rows.
// Not re-exported from assembly/index.ts, so nothing here is a wasm export.

import { madd } from './simd';
import { UK4X8_TILE, threadScratch } from './thread_scratch';

// Partial tiles go through the thread's UK4X8_TILE scratch.

/**
 * 4×8 tile of dWᵀ += A·B over kc pixels: A 4-row-interleaved (16 bytes per pixel, packed by
 * conv2d_grad_weight_gemm.ts), B an 8-column window of patch rows bs bytes apart. One A pointer with immediate offsets
 * keeps the loop at two pointer bumps (with the separate row pointers of ukernel_4x8, the baseline
 * build's mul+add loop was issue-bound). beta 0 overwrites, else adds; stores mr×nr.
 */
export function ukernel_4x8_packed_a(kc: i32, ap: usize, bp: usize, bs: usize, c: usize, ldcb: usize, beta: f32, mr: i32, nr: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const ae = ap + (<usize>kc << 4);
  while (ap < ae) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    ap += 16; bp += bs;
  }
  if (mr == 4 && nr == 8) {
    if (beta != 0) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ldcb)); c11 = f32x4.add(c11, v128.load(c + ldcb, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ldcb)); c21 = f32x4.add(c21, v128.load(c + 2 * ldcb, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ldcb)); c31 = f32x4.add(c31, v128.load(c + 3 * ldcb, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(c + ldcb, c10); v128.store(c + ldcb, c11, 16);
    v128.store(c + 2 * ldcb, c20); v128.store(c + 2 * ldcb, c21, 16);
    v128.store(c + 3 * ldcb, c30); v128.store(c + 3 * ldcb, c31, 16);
    return;
  }
  const tile = threadScratch + UK4X8_TILE;
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let i = 0; i < mr; i++) {
    const t = tile + (<usize>i << 5);
    const ci = c + <usize>i * ldcb;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = f32.load(t + o);
      f32.store(ci + o, beta == 0 ? v : v + f32.load(ci + o));
    }
  }
}
