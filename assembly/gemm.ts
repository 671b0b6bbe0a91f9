// f32 GEMM: C = alpha·op(A)·op(B) + beta·C, row-major, for the three layouts backward needs
//   nn: A[M,K]·B[K,N]   nt: A[M,K]·B[N,K]ᵀ   tn: A[K,M]ᵀ·B[K,N]
// with leading dimensions (row strides, in elements) so sub-matrices work.
//
// Structure (BLIS-like): N is cut into NC-column blocks, K into balanced blocks of ≤ KC, M into
// MC-row blocks. Each (N, K) block of op(B) is packed once into 8-column panels contiguous in K
// (zero-padded to 8 columns), optionally fake-quantizing every element on the way (qround() of
// assembly/quant.ts, the general form its specialised INT/ExMy/BF16 loops agree with bit for bit). Each
// (M, K) block of op(A) is packed into MR-row panels contiguous in K (zero rows past M, never stored),
// so the micro-kernel (inline/gemm_ukernel.ts: MR×8, MR = 5 relaxed, 4 baseline) walks one A and one B
// pointer; except in the relaxed build for N ≤ 16 with A row-major, where a 4×8 kernel reads 4 A rows
// in place (rows past M re-read row 0, never stored). Columns past N read the B panel's zero padding.
// Kernels never allocate: the caller passes `scratch` of gemm_f32_scratch_bytes(M, N, K) bytes.
// Exports keep their _4x8 names (the wrapper, tests and benches list them); the relaxed build's tile is 5×8.

import { qround } from './inline/quantize';
import { MR, ukernel_f32, ukernel_rows_4x8 } from './inline/gemm_ukernel';
import { madd } from './inline/simd';
import { LAYOUT_NN, LAYOUT_NT, LAYOUT_TN, QP_FLIP, QP_M, QP_MAX, QP_S, QP_SCALES, QP_SH, QP_T } from './inline/abi.generated';

const KC: i32 = 256;
const MC: i32 = MR * 32;
const NC: i32 = 512;

/** Layout codes shared with the TypeScript wrapper (scripts/wasm-abi.mjs). */
const NN: i32 = LAYOUT_NN;
const NT: i32 = LAYOUT_NT;
const TN: i32 = LAYOUT_TN;

/** Balanced K block: K split into ceil(K/KC) nearly equal blocks. */
// @ts-ignore: decorator
@inline function kcOf(K: i32): i32 {
  const nb = (K + KC - 1) / KC;
  return (K + nb - 1) / nb;
}

/** Bytes of scratch a gemm of these sizes needs (any layout, fused or not). */
export function gemm_f32_scratch_bytes(M: i32, N: i32, K: i32): usize {
  const kc = <usize>kcOf(K);
  const nc = <usize>((min(N, NC) + 7) & ~7);
  const mc = <usize>((min(M, MC) + MR - 1) / MR * MR);
  return (kc * nc + kc * mc) << 2;
}

// ---------------------------------------------------------------------------------------------
// Packing.

// @ts-ignore: decorator
@inline function tr0(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return i32x4.shuffle(i32x4.shuffle(r0, r1, 0, 4, 1, 5), i32x4.shuffle(r2, r3, 0, 4, 1, 5), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function tr1(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return i32x4.shuffle(i32x4.shuffle(r0, r1, 0, 4, 1, 5), i32x4.shuffle(r2, r3, 0, 4, 1, 5), 2, 3, 6, 7);
}
// @ts-ignore: decorator
@inline function tr2(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return i32x4.shuffle(i32x4.shuffle(r0, r1, 2, 6, 3, 7), i32x4.shuffle(r2, r3, 2, 6, 3, 7), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function tr3(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return i32x4.shuffle(i32x4.shuffle(r0, r1, 2, 6, 3, 7), i32x4.shuffle(r2, r3, 2, 6, 3, 7), 2, 3, 6, 7);
}

/**
 * Packs op(B)[k0..k0+kc, j0..j0+nc] into 8-column panels: panel p at dst + p·kc·32 bytes, row k of it
 * at +k·32. B is [K,N] (transB false) or [N,K] (transB true) with row stride ldb elements. qp = 0 copies;
 * else qp is the quantizer block (QP, inline/quant_params.ts; its kind is not read) and every element is fake-quantized.
 */
function packB(dst: usize, B: usize, ldb: i32, transB: bool, k0: i32, j0: i32, kc: i32, nc: i32, qp: usize): void {
  const qOn = qp != 0;
  const scales: usize = qOn ? <usize>load<u32>(qp, QP_SCALES) : 0;
  const s = f32x4.splat(qOn ? load<f32>(qp, QP_S) : 1);
  const max: f32 = qOn ? load<f32>(qp, QP_MAX) : 0;
  const mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const Mq = f32x4.splat(qOn ? load<f32>(qp, QP_M) : 0), T = f32x4.splat(qOn ? load<f32>(qp, QP_T) : 0);
  const sh: i32 = qOn ? load<i32>(qp, QP_SH) : 1;
  const half = i32x4.splat((1 << (sh - 1)) - 1), keep = i32x4.splat(~((1 << sh) - 1));
  const flip = i32x4.splat(qOn ? load<i32>(qp, QP_FLIP) : 0);
  const ldbb = <usize>ldb << 2;
  for (let jp = 0; jp < nc; jp += 8) {
    const j = j0 + jp;
    const w = min(8, nc - jp);
    let d = dst + (<usize>jp * <usize>kc << 2);
    // Scales of columns j..j+3 and j+4..j+7 (per-column when given, else the tensor scale).
    const vs0 = scales && w == 8 ? v128.load(scales + (<usize>j << 2)) : s;
    const vs1 = scales && w == 8 ? v128.load(scales + (<usize>j << 2), 16) : s;
    if (w == 8 && !transB) {
      let p = B + <usize>k0 * ldbb + (<usize>j << 2);
      if (qOn) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, qround(v128.load(p), vs0, mx, nmx, Mq, T, half, keep, sh, flip));
          v128.store(d, qround(v128.load(p, 16), vs1, mx, nmx, Mq, T, half, keep, sh, flip), 16);
          p += ldbb; d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(p));
          v128.store(d, v128.load(p, 16), 16);
          p += ldbb; d += 32;
        }
      }
      continue;
    }
    let k = 0;
    if (w == 8) {
      // B is [N,K]: 8 rows of B become the panel's 8 columns; 4×4 transposes over K.
      const s0 = B + <usize>j * ldbb + (<usize>k0 << 2);
      for (; k + 4 <= kc; k += 4) {
        const p = s0 + (<usize>k << 2);
        const r0 = v128.load(p), r1 = v128.load(p + ldbb), r2 = v128.load(p + 2 * ldbb), r3 = v128.load(p + 3 * ldbb);
        const r4 = v128.load(p + 4 * ldbb), r5 = v128.load(p + 5 * ldbb);
        const r6 = v128.load(p + 6 * ldbb), r7 = v128.load(p + 7 * ldbb);
        let x0 = tr0(r0, r1, r2, r3), x1 = tr1(r0, r1, r2, r3), x2 = tr2(r0, r1, r2, r3), x3 = tr3(r0, r1, r2, r3);
        let y0 = tr0(r4, r5, r6, r7), y1 = tr1(r4, r5, r6, r7), y2 = tr2(r4, r5, r6, r7), y3 = tr3(r4, r5, r6, r7);
        if (qOn) {
          x0 = qround(x0, vs0, mx, nmx, Mq, T, half, keep, sh, flip); x1 = qround(x1, vs0, mx, nmx, Mq, T, half, keep, sh, flip);
          x2 = qround(x2, vs0, mx, nmx, Mq, T, half, keep, sh, flip); x3 = qround(x3, vs0, mx, nmx, Mq, T, half, keep, sh, flip);
          y0 = qround(y0, vs1, mx, nmx, Mq, T, half, keep, sh, flip); y1 = qround(y1, vs1, mx, nmx, Mq, T, half, keep, sh, flip);
          y2 = qround(y2, vs1, mx, nmx, Mq, T, half, keep, sh, flip); y3 = qround(y3, vs1, mx, nmx, Mq, T, half, keep, sh, flip);
        }
        v128.store(d, x0); v128.store(d, y0, 16);
        v128.store(d, x1, 32); v128.store(d, y1, 48);
        v128.store(d, x2, 64); v128.store(d, y2, 80);
        v128.store(d, x3, 96); v128.store(d, y3, 112);
        d += 128;
      }
    }
    // The K tail of a transposed full panel, and the last panel (fewer than 8 columns, zero-padded):
    // element by element.
    for (; k < kc; k++) {
      v128.store(d, f32x4.splat(0));
      v128.store(d, f32x4.splat(0), 16);
      for (let jj = 0; jj < w; jj++) {
        const src = transB
          ? B + <usize>(j + jj) * ldbb + (<usize>(k0 + k) << 2)
          : B + <usize>(k0 + k) * ldbb + (<usize>(j + jj) << 2);
        let x = f32.load(src);
        if (qOn) {
          const vs = scales ? f32x4.splat(f32.load(scales + (<usize>(j + jj) << 2))) : s;
          x = f32x4.extract_lane(qround(f32x4.splat(x), vs, mx, nmx, Mq, T, half, keep, sh, flip), 0);
        }
        f32.store(d + (<usize>jj << 2), x);
      }
      d += 32;
    }
  }
}

/**
 * Packs op(A)[i0..i0+mc, k0..k0+kc] into MR-row panels: panel p at dst + p·MR·kc·4 bytes, its k step at
 * +k·MR·4 holding rows p·MR..p·MR+MR-1 (zeros past mc). A is [M,K] (transA false) or [K,M] (transA
 * true) with row stride lda elements.
 */
function packA(dst: usize, A: usize, lda: i32, transA: bool, i0: i32, k0: i32, mc: i32, kc: i32): void {
  const ldab = <usize>lda << 2;
  const step = <usize>MR << 2;
  let i = 0;
  for (; i + MR <= mc; i += MR) {
    let d = dst + <usize>i * (<usize>kc << 2);
    if (transA) {
      // A is [K,M]: a panel's k step is MR consecutive floats of A's row k.
      let p = A + <usize>k0 * ldab + (<usize>(i0 + i) << 2);
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(p));
        if (MR == 5) f32.store(d, f32.load(p, 16), 16);
        p += ldab; d += step;
      }
      continue;
    }
    // A is [M,K]: rows 0–3 of the panel by 4×4 transposes over K, row 4 (MR = 5) one float at a time.
    const p0 = A + <usize>(i0 + i) * ldab + (<usize>k0 << 2);
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const p = p0 + (<usize>k << 2);
      const r0 = v128.load(p), r1 = v128.load(p + ldab), r2 = v128.load(p + 2 * ldab), r3 = v128.load(p + 3 * ldab);
      v128.store(d, tr0(r0, r1, r2, r3));
      v128.store(d + step, tr1(r0, r1, r2, r3));
      v128.store(d + 2 * step, tr2(r0, r1, r2, r3));
      v128.store(d + 3 * step, tr3(r0, r1, r2, r3));
      if (MR == 5) {
        const r4 = v128.load(p + 4 * ldab);
        f32.store(d, f32x4.extract_lane(r4, 0), 16);
        f32.store(d + step, f32x4.extract_lane(r4, 1), 16);
        f32.store(d + 2 * step, f32x4.extract_lane(r4, 2), 16);
        f32.store(d + 3 * step, f32x4.extract_lane(r4, 3), 16);
      }
      d += 4 * step;
    }
    for (; k < kc; k++) {
      const p = p0 + (<usize>k << 2);
      for (let r = 0; r < MR; r++) f32.store(d + (<usize>r << 2), f32.load(p + <usize>r * ldab));
      d += step;
    }
  }
  if (i < mc) {
    // Last panel, fewer than MR rows: zero-padded.
    const mr = mc - i;
    let d = dst + <usize>i * (<usize>kc << 2);
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < MR; r++) {
        const src = transA
          ? A + <usize>(k0 + k) * ldab + (<usize>(i0 + i + r) << 2)
          : A + <usize>(i0 + i + r) * ldab + (<usize>(k0 + k) << 2);
        f32.store(d + (<usize>r << 2), r < mr ? f32.load(src) : 0);
      }
      d += step;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Driver.

function gemm(layout: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize, qp: usize): void {
  const kcb = kcOf(K);
  const pB = scratch;
  const pA = scratch + (<usize>kcb * <usize>((min(N, NC) + 7) & ~7) << 2);
  const transA = layout == TN, transB = layout == NT;
  const ldcb = <usize>ldc << 2;
  // Relaxed build, N ≤ 16, A row-major: read A in place with the 4×8 kernel (see ukernel_rows_4x8).
  const inPlace = MR == 5 && !transA && N <= 16;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcb) {
      const kc = min(kcb, K - pc);
      const bt: f32 = pc == 0 ? beta : 1;
      packB(pB, B, ldb, transB, pc, jc, kc, nc, qp);
      const panelA = <usize>MR * <usize>kc << 2;
      if (inPlace) {
        const ldab = <usize>lda << 2;
        for (let jr = 0; jr < nc; jr += 8) {
          const nr = min(8, nc - jr);
          const bp = pB + (<usize>jr * <usize>kc << 2);
          const cj = C + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < M; ir += 4) {
            const mr = min(4, M - ir);
            const a0 = A + <usize>ir * ldab + (<usize>pc << 2);
            const a1 = mr > 1 ? a0 + ldab : a0;
            const a2 = mr > 2 ? a1 + ldab : a0;
            const a3 = mr > 3 ? a2 + ldab : a0;
            ukernel_rows_4x8(kc, a0, a1, a2, a3, bp, cj + <usize>ir * ldcb, ldcb, alpha, bt, mr, nr);
          }
        }
        continue;
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(pA, A, lda, transA, ic, pc, mc, kc);
        for (let jr = 0; jr < nc; jr += 8) {
          const nr = min(8, nc - jr);
          const bp = pB + (<usize>jr * <usize>kc << 2);
          const cj = C + (<usize>(jc + jr) << 2) + <usize>ic * ldcb;
          let ap = pA;
          for (let ir = 0; ir < mc; ir += MR) {
            ukernel_f32(kc, ap, bp, cj + <usize>ir * ldcb, ldcb, alpha, bt, min(MR, mc - ir), nr);
            ap += panelA;
          }
        }
      }
    }
  }
}

/** C[M,N] = alpha·A[M,K]·B[K,N] + beta·C (row strides lda, ldb, ldc in elements; beta = 0 ignores C). */
export function gemm_nn_f32_4x8(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  gemm(NN, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch, 0);
}

/** C[M,N] = alpha·A[M,K]·B[N,K]ᵀ + beta·C. */
export function gemm_nt_f32_4x8(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  gemm(NT, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch, 0);
}

/** C[M,N] = alpha·A[K,M]ᵀ·B[K,N] + beta·C. */
export function gemm_tn_f32_4x8(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  gemm(TN, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch, 0);
}

/**
 * gemm with op(B) fake-quantized while it is packed (layout 0 nn, 1 nt, 2 tn). qparams points at the
 * quantizer block (QP: tensor scale or N per-column scales, and quant_f32x4's constants max, M, T, sh,
 * flip; src/kernels/blocks.ts writes it).
 */
export function gemm_qb_f32_4x8(layout: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize, qparams: usize): void {
  gemm(layout, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch, qparams);
}

/**
 * Batched gemm: for b < batch, C_b = alpha·op(A_b)·op(B_b) + beta·C_b with A_b = A + b·strideA elements
 * (likewise B, C). layout 0 nn, 1 nt, 2 tn. A stride of 0 broadcasts that operand over the batch.
 */
export function gemm_batched_f32_4x8(layout: i32, batch: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, strideA: i32, lda: i32, B: usize, strideB: i32, ldb: i32,
  beta: f32, C: usize, strideC: i32, ldc: i32, scratch: usize): void {
  for (let b = 0; b < batch; b++) {
    gemm(layout, M, N, K, alpha, A + (<usize>b * <usize>strideA << 2), lda, B + (<usize>b * <usize>strideB << 2), ldb,
      beta, C + (<usize>b * <usize>strideC << 2), ldc, scratch, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Peak probes: 12 independent register-only chains, 96 flops per iteration. Return a value so the
// work is not optimized away.

/** Practical mul+add peak probe: 12 chains of acc = acc·m + c as separate f32x4.mul and f32x4.add. */
export function peak_muladd_f32x4(iters: i32): f32 {
  const m = f32x4.splat(0.999), cc = f32x4.splat(0.001);
  let x0 = f32x4.splat(0.1), x1 = f32x4.splat(0.2), x2 = f32x4.splat(0.3), x3 = f32x4.splat(0.4);
  let x4 = f32x4.splat(0.5), x5 = f32x4.splat(0.6), x6 = f32x4.splat(0.7), x7 = f32x4.splat(0.8);
  let x8 = f32x4.splat(0.9), x9 = f32x4.splat(1.1), x10 = f32x4.splat(1.2), x11 = f32x4.splat(1.3);
  for (let i = 0; i < iters; i++) {
    x0 = f32x4.add(f32x4.mul(x0, m), cc); x1 = f32x4.add(f32x4.mul(x1, m), cc);
    x2 = f32x4.add(f32x4.mul(x2, m), cc); x3 = f32x4.add(f32x4.mul(x3, m), cc);
    x4 = f32x4.add(f32x4.mul(x4, m), cc); x5 = f32x4.add(f32x4.mul(x5, m), cc);
    x6 = f32x4.add(f32x4.mul(x6, m), cc); x7 = f32x4.add(f32x4.mul(x7, m), cc);
    x8 = f32x4.add(f32x4.mul(x8, m), cc); x9 = f32x4.add(f32x4.mul(x9, m), cc);
    x10 = f32x4.add(f32x4.mul(x10, m), cc); x11 = f32x4.add(f32x4.mul(x11, m), cc);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11))), 0);
}

/** FMA peak probe: the same 12 chains with relaxed_madd (falls back to mul+add in the baseline build). */
export function peak_fma_f32x4(iters: i32): f32 {
  const m = f32x4.splat(0.999), cc = f32x4.splat(0.001);
  let x0 = f32x4.splat(0.1), x1 = f32x4.splat(0.2), x2 = f32x4.splat(0.3), x3 = f32x4.splat(0.4);
  let x4 = f32x4.splat(0.5), x5 = f32x4.splat(0.6), x6 = f32x4.splat(0.7), x7 = f32x4.splat(0.8);
  let x8 = f32x4.splat(0.9), x9 = f32x4.splat(1.1), x10 = f32x4.splat(1.2), x11 = f32x4.splat(1.3);
  for (let i = 0; i < iters; i++) {
    x0 = madd(x0, m, cc); x1 = madd(x1, m, cc); x2 = madd(x2, m, cc); x3 = madd(x3, m, cc);
    x4 = madd(x4, m, cc); x5 = madd(x5, m, cc); x6 = madd(x6, m, cc); x7 = madd(x7, m, cc);
    x8 = madd(x8, m, cc); x9 = madd(x9, m, cc); x10 = madd(x10, m, cc); x11 = madd(x11, m, cc);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11))), 0);
}
