// The f32 GEMM micro-kernel of gemm.ts: an MR×8 tile of C from an A panel packed MR rows wide and an
// 8-column B panel, both contiguous in K. Not re-exported from assembly/index.ts, so nothing here is a wasm export.
//
// MR is 5 in the relaxed build and 4 in the baseline one. Measured on an L2-resident 120×96×256 block
// (a /tmp microbenchmark, best of 30 interleaved rounds): relaxed 4×8 85–89% of the FMA probe, with A
// read in place or packed, 5×8 97%; baseline 4×8 107–111% of the mul+add probe, 5×8 92–94%. Likely why:
// each accumulator's chain waits on the FMA latency, and 8 chains barely cover it at full throughput
// where 10 leave slack; the baseline build's chains wait on an add only, and 4×8 already saturates it.
// Registers (node 20's x64 code, --print-wasm-code): V8 allocates 15 xmm registers, and in the relaxed
// kernel it issued all of a k step's loads before the FMAs, so five broadcast loads made 10 + 2 + 5 = 17
// live values and two accumulators spilled (2× slower; likewise 6×8 and K unrolled by 2). The 5×8
// kernel loads rows 0–3 as one vector and splats its lanes with shuffles: 10 + 2 + 1 + 1 + 1 = 15.

import { madd } from './simd';
import { GEMM_TILE, threadScratch } from './thread_scratch';

// Accumulators of a partial tile go through the thread's GEMM_TILE before the scalar epilogue.

/** Rows of the micro-tile (and of a packed A panel) in this build. */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 5 : 4;

/** Row pair of the tile: alpha·acc (+ beta·C when beta ≠ 0), 8 floats at c. */
// @ts-ignore: decorator
@inline function storeRow(c: usize, x0: v128, x1: v128, va: v128, vb: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(c, f32x4.mul(x0, va)); v128.store(c, f32x4.mul(x1, va), 16);
  } else {
    v128.store(c, f32x4.add(f32x4.mul(x0, va), f32x4.mul(v128.load(c), vb)));
    v128.store(c, f32x4.add(f32x4.mul(x1, va), f32x4.mul(v128.load(c, 16), vb)), 16);
  }
}

/** Stores mr×nr of a tile staged in the GEMM_TILE scratch (rows 32 bytes apart) with alpha/beta. */
function storePartial(c: usize, ldcb: usize, alpha: f32, beta: f32, mr: i32, nr: i32): void {
  for (let i = 0; i < mr; i++) {
    const t = threadScratch + GEMM_TILE + (<usize>i << 5);
    const ci = c + <usize>i * ldcb;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = alpha * f32.load(t + o);
      f32.store(ci + o, beta == 0 ? v : v + beta * f32.load(ci + o));
    }
  }
}

/**
 * Inlined into gemm.ts's macro-loop: called out of line the same kernel measured 47–50 GFLOP/s (baseline)
 * and 57–60 (relaxed) at 256–1024³, inlined 56–60 and 60–64 (/tmp A/B script, CPU time, best of 8–12 rounds, 3 runs).
 * C tile (mr ≤ MR rows, nr ≤ 8 columns, row stride ldcb bytes) = alpha·Σ_k a_k ⊗ b_k + beta·C over kc
 * steps; ap is an A panel (MR floats per k step), bp a B panel (8 floats per k step). beta = 0 never reads C.
 */
// @ts-ignore: decorator
@inline export function ukernel_f32(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, alpha: f32, beta: f32, mr: i32, nr: i32): void {
  if (MR == 5) ukernel_5x8(kc, ap, bp, c, ldcb, alpha, beta, mr, nr);
  else ukernel_4x8(kc, ap, bp, c, ldcb, alpha, beta, mr, nr);
}

// @ts-ignore: decorator
@inline function ukernel_4x8(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, alpha: f32, beta: f32, mr: i32, nr: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const ae = ap + (<usize>kc << 4);
  while (ap < ae) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    ap += 16; bp += 32;
  }
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  if (mr == 4 && nr == 8) {
    storeRow(c, c00, c01, va, vb, beta); c += ldcb;
    storeRow(c, c10, c11, va, vb, beta); c += ldcb;
    storeRow(c, c20, c21, va, vb, beta); c += ldcb;
    storeRow(c, c30, c31, va, vb, beta);
    return;
  }
  const t = threadScratch + GEMM_TILE;
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
  storePartial(c, ldcb, alpha, beta, mr, nr);
}

// @ts-ignore: decorator
@inline function ukernel_5x8(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, alpha: f32, beta: f32, mr: i32, nr: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  const ae = ap + <usize>kc * 20;
  while (ap < ae) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    const a4 = v128.load(ap);
    let a = i32x4.shuffle(a4, a4, 0, 0, 0, 0); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = i32x4.shuffle(a4, a4, 1, 1, 1, 1); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = i32x4.shuffle(a4, a4, 2, 2, 2, 2); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = i32x4.shuffle(a4, a4, 3, 3, 3, 3); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 16); c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    ap += 20; bp += 32;
  }
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  if (mr == 5 && nr == 8) {
    storeRow(c, c00, c01, va, vb, beta); c += ldcb;
    storeRow(c, c10, c11, va, vb, beta); c += ldcb;
    storeRow(c, c20, c21, va, vb, beta); c += ldcb;
    storeRow(c, c30, c31, va, vb, beta); c += ldcb;
    storeRow(c, c40, c41, va, vb, beta);
    return;
  }
  const t = threadScratch + GEMM_TILE;
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
  v128.store(t, c40, 128); v128.store(t, c41, 144);
  storePartial(c, ldcb, alpha, beta, mr, nr);
}

/**
 * 4×8 tile with A read in place: a0..a3 are A rows (4 bytes per k step), bp a B panel (8 floats per k
 * step); otherwise as ukernel_f32. gemm.ts uses it in the relaxed build when N ≤ 16, where packing A
 * into 5-row panels is not paid back by one or two B panels (relaxed, CPU time: 64×16×512 57 GFLOP/s in
 * place vs 50 packed, 200×8×300 59 vs 49, 64×10×800 35 vs 31).
 */
export function ukernel_rows_4x8(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, bp: usize,
  c: usize, ldcb: usize, alpha: f32, beta: f32, mr: i32, nr: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let k = kc;
  while (k > 0) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(a0); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(a1); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(a2); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(a3); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; bp += 32;
    k--;
  }
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  if (mr == 4 && nr == 8) {
    storeRow(c, c00, c01, va, vb, beta); c += ldcb;
    storeRow(c, c10, c11, va, vb, beta); c += ldcb;
    storeRow(c, c20, c21, va, vb, beta); c += ldcb;
    storeRow(c, c30, c31, va, vb, beta);
    return;
  }
  const t = threadScratch + GEMM_TILE;
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
  storePartial(c, ldcb, alpha, beta, mr, nr);
}
