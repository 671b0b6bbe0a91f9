// f32 GEMM: C = alpha·op(A)·op(B) + beta·C, row-major, for the three layouts backward needs
//   nn: A[M,K]·B[K,N]   nt: A[M,K]·B[N,K]ᵀ   tn: A[K,M]ᵀ·B[K,N]
// with leading dimensions (row strides, in elements) so sub-matrices work.
//
// Structure (BLIS-like): N is cut into NC-column blocks, K into balanced blocks of ≤ KC, M into
// MC-row blocks. Each (N, K) block of op(B) is packed once into 8-column panels contiguous in K
// (zero-padded to 8 columns), optionally fake-quantizing every element on the way (qround() of
// assembly/quant.ts, the general form its specialised INT/ExMy/BF16 loops agree with bit for bit). op(A) is read in place when it is
// row-major (nn, nt: 4 row pointers, XNNPACK-style); for tn an MC×KC block is transposed into scratch.
// The 4×8 micro-kernel keeps 8 f32x4 accumulators in registers, broadcasts A with load32_splat and
// uses relaxed_madd (FMA) in the relaxed build, mul+add in the baseline build. Its K loop is NOT
// unrolled on purpose: unrolled, Binaryen folds each accumulator's steps into one expression tree and
// hoists all loads to the top, so V8 needs ~20 live v128 values and spills (measured 39 vs 61 GFLOP/s).
// Rows past M in a partial tile re-read row 0 (never stored); columns past N read the zero padding.
// Kernels never allocate: the caller passes `scratch` of gemm_f32_scratch_bytes(M, N, K) bytes.

import { qround } from './inline/quantize';
import { madd, ukernel_4x8 } from './inline/gemm_ukernel';

const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 512;

/** Layout codes shared with the TypeScript wrapper. */
const NN: i32 = 0;
const NT: i32 = 1;
const TN: i32 = 2;

// Quantizer state for the fused pack (set once per call; read by packB).
let qOn = false;
let qS: v128 = f32x4.splat(1);
let qScales: usize = 0;
let qMx: v128 = f32x4.splat(0);
let qNmx: v128 = f32x4.splat(0);
let qM: v128 = f32x4.splat(0);
let qT: v128 = f32x4.splat(0);
let qHalf: v128 = i32x4.splat(0);
let qKeep: v128 = i32x4.splat(0);
let qSh: i32 = 0;
let qFlip: v128 = i32x4.splat(0);

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
  const mc = <usize>((min(M, MC) + 3) & ~3);
  return (kc * nc + kc * mc) << 2;
}

// ---------------------------------------------------------------------------------------------
// Packing.

// @ts-ignore: decorator
@inline function qvec(x: v128, vs: v128): v128 {
  return qround(x, vs, qMx, qNmx, qM, qT, qHalf, qKeep, qSh, qFlip);
}

/** Scale vector for op(B) columns j..j+3 (per-column scales when given, else the tensor scale). */
// @ts-ignore: decorator
@inline function qscale4(j: i32): v128 {
  return qScales ? v128.load(qScales + (<usize>j << 2)) : qS;
}

/** One element of op(B) column j, fake-quantized when the fused quantizer is on. */
// @ts-ignore: decorator
@inline function qone(x: f32, j: i32): f32 {
  if (!qOn) return x;
  const vs = qScales ? f32x4.splat(f32.load(qScales + (<usize>j << 2))) : qS;
  return f32x4.extract_lane(qvec(f32x4.splat(x), vs), 0);
}

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
 * at +k·32. B is [K,N] (transB false) or [N,K] (transB true) with row stride ldb elements.
 */
function packB(dst: usize, B: usize, ldb: i32, transB: bool, k0: i32, j0: i32, kc: i32, nc: i32): void {
  const ldbb = <usize>ldb << 2;
  for (let jp = 0; jp < nc; jp += 8) {
    const j = j0 + jp;
    const w = min(8, nc - jp);
    let d = dst + (<usize>jp * <usize>kc << 2);
    if (w == 8 && !transB) {
      let s = B + <usize>k0 * ldbb + (<usize>j << 2);
      if (qOn) {
        const vs0 = qscale4(j), vs1 = qscale4(j + 4);
        for (let k = 0; k < kc; k++) {
          v128.store(d, qvec(v128.load(s), vs0));
          v128.store(d, qvec(v128.load(s, 16), vs1), 16);
          s += ldbb; d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          s += ldbb; d += 32;
        }
      }
    } else if (w == 8) {
      // B is [N,K]: 8 rows of B become the panel's 8 columns; 4×4 transposes over K.
      const s0 = B + <usize>j * ldbb + (<usize>k0 << 2);
      const vs0 = qOn ? qscale4(j) : qS, vs1 = qOn ? qscale4(j + 4) : qS;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const s = s0 + (<usize>k << 2);
        const r0 = v128.load(s), r1 = v128.load(s + ldbb), r2 = v128.load(s + 2 * ldbb), r3 = v128.load(s + 3 * ldbb);
        const r4 = v128.load(s + 4 * ldbb), r5 = v128.load(s + 5 * ldbb);
        const r6 = v128.load(s + 6 * ldbb), r7 = v128.load(s + 7 * ldbb);
        let x0 = tr0(r0, r1, r2, r3), x1 = tr1(r0, r1, r2, r3), x2 = tr2(r0, r1, r2, r3), x3 = tr3(r0, r1, r2, r3);
        let y0 = tr0(r4, r5, r6, r7), y1 = tr1(r4, r5, r6, r7), y2 = tr2(r4, r5, r6, r7), y3 = tr3(r4, r5, r6, r7);
        if (qOn) {
          x0 = qvec(x0, vs0); x1 = qvec(x1, vs0); x2 = qvec(x2, vs0); x3 = qvec(x3, vs0);
          y0 = qvec(y0, vs1); y1 = qvec(y1, vs1); y2 = qvec(y2, vs1); y3 = qvec(y3, vs1);
        }
        v128.store(d, x0); v128.store(d, y0, 16);
        v128.store(d, x1, 32); v128.store(d, y1, 48);
        v128.store(d, x2, 64); v128.store(d, y2, 80);
        v128.store(d, x3, 96); v128.store(d, y3, 112);
        d += 128;
      }
      for (; k < kc; k++) {
        const s = s0 + (<usize>k << 2);
        for (let jj = 0; jj < 8; jj++) {
          f32.store(d + (<usize>jj << 2), qone(f32.load(s + <usize>jj * ldbb), j + jj));
        }
        d += 32;
      }
    } else {
      // Last panel, fewer than 8 columns: element by element, zero-padded.
      for (let k = 0; k < kc; k++) {
        v128.store(d, f32x4.splat(0));
        v128.store(d, f32x4.splat(0), 16);
        for (let jj = 0; jj < w; jj++) {
          const src = transB
            ? B + <usize>(j + jj) * ldbb + (<usize>(k0 + k) << 2)
            : B + <usize>(k0 + k) * ldbb + (<usize>(j + jj) << 2);
          f32.store(d + (<usize>jj << 2), qone(f32.load(src), j + jj));
        }
        d += 32;
      }
    }
  }
}

/** Transposes A[k0..k0+kc, i0..i0+mc] (A is [K,M], stride lda) into row-major dst[mc][kc]. */
function packAT(dst: usize, A: usize, lda: i32, i0: i32, k0: i32, mc: i32, kc: i32): void {
  const ldab = <usize>lda << 2;
  const kcb = <usize>kc << 2;
  let i = 0;
  for (; i + 4 <= mc; i += 4) {
    const s0 = A + <usize>k0 * ldab + (<usize>(i0 + i) << 2);
    const d = dst + <usize>i * kcb;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const s = s0 + <usize>k * ldab;
      const r0 = v128.load(s), r1 = v128.load(s + ldab), r2 = v128.load(s + 2 * ldab), r3 = v128.load(s + 3 * ldab);
      const o = <usize>k << 2;
      v128.store(d + o, tr0(r0, r1, r2, r3));
      v128.store(d + kcb + o, tr1(r0, r1, r2, r3));
      v128.store(d + 2 * kcb + o, tr2(r0, r1, r2, r3));
      v128.store(d + 3 * kcb + o, tr3(r0, r1, r2, r3));
    }
    for (; k < kc; k++) {
      const s = s0 + <usize>k * ldab;
      const o = <usize>k << 2;
      f32.store(d + o, f32.load(s));
      f32.store(d + kcb + o, f32.load(s, 4));
      f32.store(d + 2 * kcb + o, f32.load(s, 8));
      f32.store(d + 3 * kcb + o, f32.load(s, 12));
    }
  }
  for (; i < mc; i++) {
    const s = A + <usize>k0 * ldab + (<usize>(i0 + i) << 2);
    const d = dst + <usize>i * kcb;
    for (let k = 0; k < kc; k++) f32.store(d + (<usize>k << 2), f32.load(s + <usize>k * ldab));
  }
}

// ---------------------------------------------------------------------------------------------
// Driver.

function gemm(layout: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  const kcb = kcOf(K);
  const pB = scratch;
  const pA = scratch + (<usize>kcb * <usize>((min(N, NC) + 7) & ~7) << 2);
  const transA = layout == TN, transB = layout == NT;
  const ldcb = <usize>ldc << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcb) {
      const kc = min(kcb, K - pc);
      const bt: f32 = pc == 0 ? beta : 1;
      packB(pB, B, ldb, transB, pc, jc, kc, nc);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        // Row i of this A block (along K from pc) is at aBase + i·ldab.
        let aBase: usize, ldab: usize;
        if (transA) {
          packAT(pA, A, lda, ic, pc, mc, kc);
          aBase = pA; ldab = <usize>kc << 2;
        } else {
          aBase = A + <usize>ic * (<usize>lda << 2) + (<usize>pc << 2);
          ldab = <usize>lda << 2;
        }
        for (let jr = 0; jr < nc; jr += 8) {
          const nr = min(8, nc - jr);
          const bp = pB + (<usize>jr * <usize>kc << 2);
          const cj = C + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mc; ir += 4) {
            const mr = min(4, mc - ir);
            const a0 = aBase + <usize>ir * ldab;
            const a1 = mr > 1 ? a0 + ldab : a0;
            const a2 = mr > 2 ? a1 + ldab : a0;
            const a3 = mr > 3 ? a2 + ldab : a0;
            ukernel_4x8(kc, a0, a1, a2, a3, bp, 32, cj + <usize>(ic + ir) * ldcb, ldcb, alpha, bt, mr, nr);
          }
        }
      }
    }
  }
}

/** C[M,N] = alpha·A[M,K]·B[K,N] + beta·C (row strides lda, ldb, ldc in elements; beta = 0 ignores C). */
export function gemm_nn_f32_4x8(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  qOn = false;
  gemm(NN, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
}

/** C[M,N] = alpha·A[M,K]·B[N,K]ᵀ + beta·C. */
export function gemm_nt_f32_4x8(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  qOn = false;
  gemm(NT, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
}

/** C[M,N] = alpha·A[K,M]ᵀ·B[K,N] + beta·C. */
export function gemm_tn_f32_4x8(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize): void {
  qOn = false;
  gemm(TN, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
}

/**
 * gemm with op(B) fake-quantized while it is packed (layout 0 nn, 1 nt, 2 tn). Quantizer constants
 * (max, M, T, sh, flip) as in quant_f32x4; `scales` = 0 uses the tensor scale s, else points at N f32 scales, one per op(B) column.
 */
export function gemm_qb_f32_4x8(layout: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, scratch: usize, s: f32, scales: usize, max: f32, Mq: f32, T: f32, sh: i32, flip: i32): void {
  qOn = true;
  qS = f32x4.splat(s);
  qScales = scales;
  qMx = f32x4.splat(max); qNmx = f32x4.splat(-max);
  qM = f32x4.splat(Mq); qT = f32x4.splat(T);
  qHalf = i32x4.splat((1 << (sh - 1)) - 1);
  qKeep = i32x4.splat(~((1 << sh) - 1));
  qSh = sh;
  qFlip = i32x4.splat(flip);
  gemm(layout, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
  qOn = false;
}

/**
 * Batched gemm: for b < batch, C_b = alpha·op(A_b)·op(B_b) + beta·C_b with A_b = A + b·strideA elements
 * (likewise B, C). layout 0 nn, 1 nt, 2 tn. A stride of 0 broadcasts that operand over the batch.
 */
export function gemm_batched_f32_4x8(layout: i32, batch: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, strideA: i32, lda: i32, B: usize, strideB: i32, ldb: i32,
  beta: f32, C: usize, strideC: i32, ldc: i32, scratch: usize): void {
  qOn = false;
  for (let b = 0; b < batch; b++) {
    gemm(layout, M, N, K, alpha, A + (<usize>b * <usize>strideA << 2), lda, B + (<usize>b * <usize>strideB << 2), ldb,
      beta, C + (<usize>b * <usize>strideC << 2), ldc, scratch);
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
