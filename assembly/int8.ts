// Real low-precision kernels for quantized inference: int8 × int8 → int32 GEMM (and INT4-packed
// weights), a dequantizing epilogue, NHWC conv patches packed straight for the GEMM, and f32 → int8 codes.
//
// The GEMM multiplies with i32x4.dot_i16x8_s, which multiplies 8 i16 pairs and adds adjacent
// products, so K is consumed two at a time ("k-pairs"). Both operands are packed first:
//   packed A  (pack_a_i8):  blocks of 4 rows; per k-pair 16 bytes = 4 rows × [a(k), a(k+1)] as i16.
//                           A 4-byte splat of one row's pair is then one load32_splat.
//   packed B  (pack_b_i8):  panels of 8 columns; per k-pair 32 bytes = 8 cols × [b(k,n), b(k+1,n)] as i16,
//                           pre-widened at pack time so the micro-kernel loads two i16x8 (cols 0–3, 4–7)
//                           with no extend ops (measured faster than i8 panels widened in the loop).
//   packed B4 (pack_b_i4):  panels of 8 columns; per 2 k-pairs 16 bytes: the low nibbles are the i8
//                           panel bytes of the first k-pair, the high nibbles those of the second;
//                           decoded with one swizzle through a 16-entry table per nibble half.
// K is padded with zeros to a multiple of 4 (an even number of k-pairs) and M, N to their tiles, so
// the micro-kernel has no K/M tails; partial N tiles are stored through a small static buffer.
// Integers are exact everywhere: |acc| ≤ 127·127·K < 2^31 for K < 133,000.

import { EP_BIAS, EP_DQ, EP_HAS_BIAS, EP_HI, EP_LO, EP_MAX, EP_S, EPILOGUE_F32, EPILOGUE_I32, EPILOGUE_Q8 } from './inline/abi.generated';
import { cgC, cgCO, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { qpMax, qpS, qpScales } from './inline/quant_params';
import { clampFinite, finiteCodes4, intCodes4 } from './inline/quantize';
import { INT8_GATHER, INT8_ROWS, INT8_TMP, threadScratch } from './inline/thread_scratch';

const TILE_M = 4;
const TILE_N = 8;
/** Bytes of packed A kept hot (in L2) while every B panel sweeps over it. */
const A_BLOCK_BYTES = 131072;

// Partial-tile staging (INT8_TMP), per-row pixel coordinates of the conv block being packed by packAConv
// (INT8_ROWS), and the gathered patch rows of its path for channel counts that are not a multiple of 8
// (INT8_GATHER, GATHER_K bytes per row): the thread's scratch (inline/thread_scratch.ts).
/** Channels up to which a padded tap reads ZERO_PIXEL instead of branching per load. */
const ZERO_PIXEL_BYTES: i32 = 4096;
// Zeros for a padded tap's pixel (never written, so one copy serves every thread).
const ZERO_PIXEL: usize = memory.data(ZERO_PIXEL_BYTES, 16);
/** Largest patch (KH·KW·C) packAConv gathers for channel counts that are not a multiple of 8. */
const GATHER_K: i32 = 4096;

/** Number of k-pairs of the packed layouts for reduction length K (K padded to a multiple of 4). */
// @ts-ignore: decorator
@inline function kPairs(K: i32): i32 {
  return ((K + 3) >> 2) << 1;
}

/** Bytes of packed A for M rows and reduction length K. */
export function packed_a_i8_bytes(M: i32, K: i32): i32 {
  return ((M + TILE_M - 1) / TILE_M) * kPairs(K) * 16;
}

/** Bytes of a packed int8 B panel set (values widened to i16) for a K×N matrix. */
export function packed_b_i8_bytes(K: i32, N: i32): i32 {
  return ((N + TILE_N - 1) / TILE_N) * kPairs(K) * 32;
}

/** Bytes of a packed INT4 B panel set for a K×N matrix. */
export function packed_b_i4_bytes(K: i32, N: i32): i32 {
  return ((N + TILE_N - 1) / TILE_N) * kPairs(K) * 8;
}

/**
 * Stores 4 rows × 8 k of packed A at o (64 bytes): x_r holds row r's 8 codes widened to i16, i.e. 4 i32
 * lanes of k-pairs; a 4×4 i32 transpose puts pair p of rows 0..3 together, as pack_a_i8's layout has them.
 */
// @ts-ignore: decorator
@inline function storePairs4x8(o: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), t1 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(x2, x3, 0, 4, 1, 5), t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(o, i64x2.shuffle(t0, t2, 0, 2));
  v128.store(o + 16, i64x2.shuffle(t0, t2, 1, 3));
  v128.store(o + 32, i64x2.shuffle(t1, t3, 0, 2));
  v128.store(o + 48, i64x2.shuffle(t1, t3, 1, 3));
}

/**
 * One full 4-row block of packed A from the rows at r0…r3 (K int8 codes each): whole 8-k groups through
 * storePairs4x8, the rest one pair at a time, zero-padded to Kp pairs.
 */
// @ts-ignore: decorator
@inline function packBlock(r0: usize, r1: usize, r2: usize, r3: usize, dst: usize, K: i32): void {
  const Kp = kPairs(K), K8 = K & ~7;
  let k = 0;
  for (; k < K8; k += 8) {
    const x0 = v128.load8x8_s(r0 + <usize>k), x1 = v128.load8x8_s(r1 + <usize>k);
    const x2 = v128.load8x8_s(r2 + <usize>k), x3 = v128.load8x8_s(r3 + <usize>k);
    storePairs4x8(dst + (<usize>k << 3), x0, x1, x2, x3);
  }
  for (let kp = k >> 1; kp < Kp; kp++) {
    const k0 = kp << 1;
    for (let r = 0; r < TILE_M; r++) {
      const row = r == 0 ? r0 : r == 1 ? r1 : r == 2 ? r2 : r3;
      const v0: i32 = k0 < K ? <i32>load<i8>(row + <usize>k0) : 0;
      const v1: i32 = k0 + 1 < K ? <i32>load<i8>(row + <usize>k0 + 1) : 0;
      store<u32>(dst + (<usize>kp << 4) + (<usize>r << 2), (<u32>v0 & 0xffff) | (<u32>v1 << 16));
    }
  }
}

/**
 * Packs row-major int8 A[M,K] (codes) into 4-row blocks of i16 k-pairs (see header); zero padded.
 * Full blocks go through packBlock; a last partial block one value at a time.
 */
export function pack_a_i8(a: usize, pa: usize, M: i32, K: i32): void {
  const Kp = kPairs(K);
  const Mb = (M + TILE_M - 1) / TILE_M;
  for (let mb = 0; mb < Mb; mb++) {
    const m0 = mb * TILE_M;
    const dst = pa + <usize>mb * <usize>Kp * 16;
    if (m0 + TILE_M <= M) {
      const r0 = a + <usize>m0 * <usize>K;
      packBlock(r0, r0 + <usize>K, r0 + <usize>(2 * K), r0 + <usize>(3 * K), dst, K);
      continue;
    }
    for (let kp = 0; kp < Kp; kp++) {
      const k0 = kp << 1;
      for (let r = 0; r < TILE_M; r++) {
        const m = m0 + r;
        let v0: i32 = 0, v1: i32 = 0;
        if (m < M) {
          const row = a + <usize>m * <usize>K;
          if (k0 < K) v0 = <i32>load<i8>(row + <usize>k0);
          if (k0 + 1 < K) v1 = <i32>load<i8>(row + <usize>k0 + 1);
        }
        store<u32>(dst + (<usize>kp << 4) + (<usize>r << 2), (<u32>v0 & 0xffff) | (<u32>v1 << 16));
      }
    }
  }
}

/** Packs row-major int8 B[K,N] (codes) into 8-column panels of i8 k-pairs (see header); zero padded. */
export function pack_b_i8(b: usize, pb: usize, K: i32, N: i32): void {
  const Kp = kPairs(K);
  const Nb = (N + TILE_N - 1) / TILE_N;
  for (let nb = 0; nb < Nb; nb++) {
    const n0 = nb * TILE_N;
    const dst = pb + <usize>nb * <usize>Kp * 32;
    for (let kp = 0; kp < Kp; kp++) {
      for (let j = 0; j < TILE_N; j++) {
        const n = n0 + j;
        for (let h = 0; h < 2; h++) {
          const k = (kp << 1) + h;
          const v: i16 = n < N && k < K ? <i16>load<i8>(b + <usize>k * <usize>N + <usize>n) : 0;
          store<i16>(dst + (<usize>kp << 5) + (<usize>(j * 2 + h) << 1), v);
        }
      }
    }
  }
}

/** The signed value of nibble i (i = k*N + n) of packed INT4 codes, low nibble first. */
// @ts-ignore: decorator
@inline function nibble(b4: usize, i: usize): i32 {
  const byte = <i32>load<u8>(b4 + (i >> 1));
  const c = (i & 1) ? byte >> 4 : byte & 15;
  return (c ^ 8) - 8;
}

/**
 * Packs INT4 codes of B[K,N] (two's complement, two per byte, low nibble first: element k*N+n is
 * nibble k*N+n) into 8-column nibble panels (see header) that gemm_i4_* decode in the micro-kernel.
 */
export function pack_b_i4(b4: usize, pb: usize, K: i32, N: i32): void {
  const Kp = kPairs(K);
  const Nb = (N + TILE_N - 1) / TILE_N;
  for (let nb = 0; nb < Nb; nb++) {
    const n0 = nb * TILE_N;
    const dst = pb + <usize>nb * <usize>Kp * 8;
    for (let kq = 0; kq < (Kp >> 1); kq++) {
      for (let j = 0; j < 16; j++) {
        const n = n0 + (j >> 1);
        const klo = (kq << 2) + (j & 1), khi = klo + 2;
        let lo = 0, hi = 0;
        if (n < N) {
          if (klo < K) lo = nibble(b4, <usize>klo * <usize>N + <usize>n);
          if (khi < K) hi = nibble(b4, <usize>khi * <usize>N + <usize>n);
        }
        store<u8>(dst + (<usize>kq << 4) + <usize>j, <u8>((lo & 15) | ((hi & 15) << 4)));
      }
    }
  }
}

/** Packs INT4 codes of B[K,N] (as for pack_b_i4) straight into the int8 panel layout of pack_b_i8. */
export function pack_b_i4_i8(b4: usize, pb: usize, K: i32, N: i32): void {
  const Kp = kPairs(K);
  const Nb = (N + TILE_N - 1) / TILE_N;
  for (let nb = 0; nb < Nb; nb++) {
    const n0 = nb * TILE_N;
    const dst = pb + <usize>nb * <usize>Kp * 32;
    for (let kp = 0; kp < Kp; kp++) {
      for (let j = 0; j < TILE_N; j++) {
        const n = n0 + j;
        for (let h = 0; h < 2; h++) {
          const k = (kp << 1) + h;
          const v = n < N && k < K ? nibble(b4, <usize>k * <usize>N + <usize>n) : 0;
          store<i16>(dst + (<usize>kp << 5) + (<usize>(j * 2 + h) << 1), <i16>v);
        }
      }
    }
  }
}


/** Row r of a 4×8 tile (two i32x4 halves) → out in the call's mode (EPILOGUE_*, the EP block of scripts/wasm-abi.mjs), with the epilogue block's fields as loaded once per call. */
// @ts-ignore: decorator
@inline function storeRow(o: usize, lo: v128, hi: v128, mode: i32, dq: usize, bias: usize, vlo: v128, vhi: v128, vs: v128, vmx: v128, n0: i32): void {
  if (mode == EPILOGUE_I32) {
    v128.store(o, lo);
    v128.store(o + 16, hi);
    return;
  }
  const d = dq + (<usize>n0 << 2);
  let flo = f32x4.mul(f32x4.convert_i32x4_s(lo), v128.load(d));
  let fhi = f32x4.mul(f32x4.convert_i32x4_s(hi), v128.load(d + 16));
  if (bias) {
    const bb = bias + (<usize>n0 << 2);
    flo = f32x4.add(flo, v128.load(bb));
    fhi = f32x4.add(fhi, v128.load(bb + 16));
  }
  flo = clampFinite(flo, vlo, vhi);
  fhi = clampFinite(fhi, vlo, vhi);
  if (mode == EPILOGUE_F32) {
    v128.store(o, flo);
    v128.store(o + 16, fhi);
    return;
  }
  const nmx = f32x4.neg(vmx);
  const q = i16x8.narrow_i32x4_s(finiteCodes4(flo, vs, vmx, nmx), finiteCodes4(fhi, vs, vmx, nmx));
  v128.store64_lane(o, i8x16.narrow_i16x8_s(q, q), 0);
}


/** Writes one (possibly partial) 4×8 tile: full tiles with vector stores, edges through the thread's INT8_TMP scratch. Mode 2 stores bytes. */
// @ts-ignore: decorator
@inline function storeTile(out: usize, N: i32, m0: i32, n0: i32, rows: i32, cols: i32, mode: i32,
  dq: usize, bias: usize, vlo: v128, vhi: v128, vs: v128, vmx: v128,
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  const es: usize = mode == EPILOGUE_Q8 ? 1 : 4; // bytes per output element
  const ldo = <usize>N * es;
  if (rows == TILE_M && cols == TILE_N) {
    const o = out + (<usize>m0 * <usize>N + <usize>n0) * es;
    storeRow(o, c00, c01, mode, dq, bias, vlo, vhi, vs, vmx, n0);
    storeRow(o + ldo, c10, c11, mode, dq, bias, vlo, vhi, vs, vmx, n0);
    storeRow(o + 2 * ldo, c20, c21, mode, dq, bias, vlo, vhi, vs, vmx, n0);
    storeRow(o + 3 * ldo, c30, c31, mode, dq, bias, vlo, vhi, vs, vmx, n0);
    return;
  }
  const tmp = threadScratch + INT8_TMP;
  storeRow(tmp, c00, c01, mode, dq, bias, vlo, vhi, vs, vmx, n0);
  storeRow(tmp + 32, c10, c11, mode, dq, bias, vlo, vhi, vs, vmx, n0);
  storeRow(tmp + 64, c20, c21, mode, dq, bias, vlo, vhi, vs, vmx, n0);
  storeRow(tmp + 96, c30, c31, mode, dq, bias, vlo, vhi, vs, vmx, n0);
  for (let r = 0; r < rows; r++) {
    const o = out + (<usize>(m0 + r) * <usize>N + <usize>n0) * es;
    const t = tmp + <usize>(r * 32);
    if (mode == EPILOGUE_Q8) for (let j = 0; j < cols; j++) store<u8>(o + <usize>j, load<u8>(t + <usize>j));
    else for (let j = 0; j < cols; j++) store<u32>(o + (<usize>j << 2), load<u32>(t + (<usize>j << 2)));
  }
}

// @ts-ignore: decorator
@inline function dot(acc: v128, a: v128, b: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(a, b));
}

/** The INT4 decode table: nibble code → two's complement value (code 8 → −8, unused by INT4). */
const LUT4: v128 = i8x16(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
const NIB: v128 = i8x16.splat(15);

// @ts-ignore: decorator
@inline function decode4(idx: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(LUT4, idx); // indices are 0..15: exact
  else return i8x16.swizzle(LUT4, idx);
}

/**
 * The GEMM driver: out[M,N] = A·B from packed A (pack_a_i8) and packed B (pack_b_i8 when bits = 8,
 * pack_b_i4 when bits = 4), stored in `mode` with the epilogue block ep (see storeRow). Blocks of A
 * rows stay in L2 while every B panel passes.
 */
// @ts-ignore: decorator
@inline function gemmDriver(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32, bits: i32, mode: i32, ep: usize): void {
  // the epilogue block's fields, read once (a load per row would be repeated: the stores could alias it)
  const dq: usize = mode != EPILOGUE_I32 ? <usize>load<u32>(ep, EP_DQ) : 0;
  const bias: usize = mode != EPILOGUE_I32 && load<i32>(ep, EP_HAS_BIAS) != 0 ? <usize>load<u32>(ep, EP_BIAS) : 0;
  const vlo = mode != EPILOGUE_I32 ? v128.load32_splat(ep + EP_LO) : f32x4.splat(0), vhi = mode != EPILOGUE_I32 ? v128.load32_splat(ep + EP_HI) : f32x4.splat(0);
  const vs = mode == EPILOGUE_Q8 ? v128.load32_splat(ep + EP_S) : f32x4.splat(0), vmx = mode == EPILOGUE_Q8 ? v128.load32_splat(ep + EP_MAX) : f32x4.splat(0);
  const Kp = kPairs(K);
  const Mb = (M + TILE_M - 1) / TILE_M;
  const Nb = (N + TILE_N - 1) / TILE_N;
  const aStride = <usize>Kp * 16;
  const bStride = <usize>Kp * (bits == 4 ? 8 : 32);
  let mcb = A_BLOCK_BYTES / (Kp * 16);
  if (mcb < 1) mcb = 1;
  for (let mb0 = 0; mb0 < Mb; mb0 += mcb) {
    const mb1 = min(Mb, mb0 + mcb);
    for (let nb = 0; nb < Nb; nb++) {
      const n0 = nb * TILE_N;
      const cols = min(TILE_N, N - n0);
      const bp0 = pb + <usize>nb * bStride;
      for (let mb = mb0; mb < mb1; mb++) {
        let ap = pa + <usize>mb * aStride;
        let bp = bp0;
        let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        if (bits == 8) {
          const end = ap + aStride;
          while (ap < end) {
            const b0 = v128.load(bp), b1 = v128.load(bp, 16);
            const a0 = v128.load32_splat(ap), a1 = v128.load32_splat(ap, 4);
            c00 = dot(c00, a0, b0); c01 = dot(c01, a0, b1);
            c10 = dot(c10, a1, b0); c11 = dot(c11, a1, b1);
            const a2 = v128.load32_splat(ap, 8), a3 = v128.load32_splat(ap, 12);
            c20 = dot(c20, a2, b0); c21 = dot(c21, a2, b1);
            c30 = dot(c30, a3, b0); c31 = dot(c31, a3, b1);
            ap += 16; bp += 32;
          }
        } else {
          const end = ap + aStride;
          while (ap < end) {
            const raw = v128.load(bp);
            const lo = decode4(v128.and(raw, NIB));
            const hi = decode4(v128.and(i16x8.shr_u(raw, 4), NIB));
            let b0 = i16x8.extend_low_i8x16_s(lo), b1 = i16x8.extend_high_i8x16_s(lo);
            let a0 = v128.load32_splat(ap), a1 = v128.load32_splat(ap, 4);
            c00 = dot(c00, a0, b0); c01 = dot(c01, a0, b1);
            c10 = dot(c10, a1, b0); c11 = dot(c11, a1, b1);
            let a2 = v128.load32_splat(ap, 8), a3 = v128.load32_splat(ap, 12);
            c20 = dot(c20, a2, b0); c21 = dot(c21, a2, b1);
            c30 = dot(c30, a3, b0); c31 = dot(c31, a3, b1);
            b0 = i16x8.extend_low_i8x16_s(hi); b1 = i16x8.extend_high_i8x16_s(hi);
            a0 = v128.load32_splat(ap, 16); a1 = v128.load32_splat(ap, 20);
            c00 = dot(c00, a0, b0); c01 = dot(c01, a0, b1);
            c10 = dot(c10, a1, b0); c11 = dot(c11, a1, b1);
            a2 = v128.load32_splat(ap, 24); a3 = v128.load32_splat(ap, 28);
            c20 = dot(c20, a2, b0); c21 = dot(c21, a2, b1);
            c30 = dot(c30, a3, b0); c31 = dot(c31, a3, b1);
            ap += 32; bp += 16;
          }
        }
        const m0 = mb * TILE_M;
        storeTile(out, N, m0, n0, min(TILE_M, M - m0), cols, mode, dq, bias, vlo, vhi, vs, vmx,
          c00, c01, c10, c11, c20, c21, c30, c31);
      }
    }
  }
}

/** int32 out[M,N] = A[M,K]·B[K,N], A packed by pack_a_i8, B by pack_b_i8 (or pack_b_i4_i8). */
export function gemm_i8_i32_4x8(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32): void {
  gemmDriver(pa, pb, out, M, N, K, 8, EPILOGUE_I32, 0);
}

/** f32 out[M,N] = clamp((A·B)[m,n]·dq[n] + bias[n], lo, hi), the epilogue block ep as above. */
export function gemm_i8_f32_4x8(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32, ep: usize): void {
  gemmDriver(pa, pb, out, M, N, K, 8, EPILOGUE_F32, ep);
}

/** int8 codes out[M,N] of gemm_i8_f32_4x8's y, requantized with ep's s and max (mode 2). */
export function gemm_i8_q8_4x8(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32, ep: usize): void {
  gemmDriver(pa, pb, out, M, N, K, 8, EPILOGUE_Q8, ep);
}

/** int32 out[M,N] = A[M,K]·B[K,N], B packed as INT4 nibble panels by pack_b_i4. */
export function gemm_i4_i32_4x8(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32): void {
  gemmDriver(pa, pb, out, M, N, K, 4, EPILOGUE_I32, 0);
}

/** gemm_i8_f32_4x8 with B packed as INT4 nibble panels by pack_b_i4. */
export function gemm_i4_f32_4x8(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32, ep: usize): void {
  gemmDriver(pa, pb, out, M, N, K, 4, EPILOGUE_F32, ep);
}

/** gemm_i8_q8_4x8 with B packed as INT4 nibble panels by pack_b_i4. */
export function gemm_i4_q8_4x8(pa: usize, pb: usize, out: usize, M: i32, N: i32, K: i32, ep: usize): void {
  gemmDriver(pa, pb, out, M, N, K, 4, EPILOGUE_Q8, ep);
}

/**
 * im2col and pack_a_i8 in one pass, for the 4-row blocks [mb0, mb1) of a conv's patch matrix (rows =
 * output pixels of x[B,H,W,C] NHWC, columns in HWI order), written from pa on: byte for byte what
 * pack_a_i8 of the explicit im2col matrix gives for those blocks. When C is a multiple of 8 every tap's
 * channels are whole 8-k groups, transposed with SIMD as in pack_a_i8; other C gather each block's 4 patch
 * rows and pack them with packBlock (patches over GATHER_K values go one value at a time).
 */
// @ts-ignore: decorator
@inline function packAConv(x: usize, pa: usize, mb0: i32, mb1: i32, B: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32): void {
  const M = B * OH * OW, K = KH * KW * C;
  const Kp = kPairs(K);
  const rows = threadScratch + INT8_ROWS, gather = threadScratch + INT8_GATHER; // per row: image base, oy·sh − ph, ox·sw − pw (row m ≥ M: base 0)
  // the first row's pixel, then stepped row by row (a division per row cost ~6% of a 16-channel 3×3 conv)
  let m = mb0 * TILE_M;
  let b = m / (OH * OW), oy = (m % (OH * OW)) / OW, ox = m % OW;
  for (let mb = mb0; mb < mb1; mb++) {
    const dst = pa + <usize>(mb - mb0) * <usize>Kp * 16;
    for (let r = 0; r < TILE_M; r++, m++) {
      const slot = rows + <usize>(r * 12);
      if (m < M) {
        store<u32>(slot, <u32>(x + <usize>b * <usize>H * <usize>W * <usize>C));
        store<i32>(slot, oy * sh - ph, 4);
        store<i32>(slot, ox * sw - pw, 8);
        if (++ox == OW) { ox = 0; if (++oy == OH) { oy = 0; b++; } }
      } else store<u32>(slot, 0);
    }
    if ((C & 7) == 0) {
      // An interior block (every tap of every row inside the image, the common case): the 4 rows' window
      // corners once, then one constant offset per tap and no bounds checks (the general path below cost
      // 5× pack_a_i8 of the same bytes on a 16-channel conv).
      let interior = true;
      let q0: usize = 0, q1: usize = 0, q2: usize = 0, q3: usize = 0;
      for (let r = 0; r < TILE_M; r++) {
        const slot = rows + <usize>(r * 12);
        const base = <usize>load<u32>(slot);
        const iy = load<i32>(slot, 4), ix = load<i32>(slot, 8);
        if (base == 0 || iy < 0 || iy + KH > H || ix < 0 || ix + KW > W) { interior = false; break; }
        const q = base + (<usize>iy * <usize>W + <usize>ix) * <usize>C;
        if (r == 0) q0 = q; else if (r == 1) q1 = q; else if (r == 2) q2 = q; else q3 = q;
      }
      if (interior) {
        let o = dst;
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const off = (<usize>ky * <usize>W + <usize>kx) * <usize>C;
            for (let c: usize = 0; c < <usize>C; c += 8) {
              const x0 = v128.load8x8_s(q0 + off + c), x1 = v128.load8x8_s(q1 + off + c);
              const x2 = v128.load8x8_s(q2 + off + c), x3 = v128.load8x8_s(q3 + off + c);
              storePairs4x8(o, x0, x1, x2, x3);
              o += 64;
            }
          }
        }
        continue; // C a multiple of 8: K = KH·KW·C fills the Kp pairs exactly
      }
      // A border block: per tap, each row reads its pixel or, where the tap is padding (or the row is past M),
      // a zero pixel, so the loads need no branch.
      const zero = C <= ZERO_PIXEL_BYTES ? ZERO_PIXEL : 0;
      let b0: usize = 0, b1: usize = 0, b2: usize = 0, b3: usize = 0;
      let y0 = 0, y1 = 0, y2 = 0, y3 = 0, x0i = 0, x1i = 0, x2i = 0, x3i = 0;
      for (let r = 0; r < TILE_M; r++) {
        const slot = rows + <usize>(r * 12);
        const base = <usize>load<u32>(slot), iy = load<i32>(slot, 4), ix = load<i32>(slot, 8);
        if (r == 0) { b0 = base; y0 = iy; x0i = ix; } else if (r == 1) { b1 = base; y1 = iy; x1i = ix; }
        else if (r == 2) { b2 = base; y2 = iy; x2i = ix; } else { b3 = base; y3 = iy; x3i = ix; }
      }
      let o = dst;
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) {
          const p0 = tapPixel(b0, y0 + ky, x0i + kx, H, W, C, zero), p1 = tapPixel(b1, y1 + ky, x1i + kx, H, W, C, zero);
          const p2 = tapPixel(b2, y2 + ky, x2i + kx, H, W, C, zero), p3 = tapPixel(b3, y3 + ky, x3i + kx, H, W, C, zero);
          for (let c: usize = 0; c < <usize>C; c += 8) {
            const z = i16x8.splat(0);
            const x0 = p0 ? v128.load8x8_s(p0 + c) : z, x1 = p1 ? v128.load8x8_s(p1 + c) : z;
            const x2 = p2 ? v128.load8x8_s(p2 + c) : z, x3 = p3 ? v128.load8x8_s(p3 + c) : z;
            storePairs4x8(o, x0, x1, x2, x3);
            o += 64;
          }
        }
      }
      continue; // C a multiple of 8: K = KH·KW·C fills the Kp pairs exactly
    }
    if (K > GATHER_K) {
      // a patch too long to gather: one value at a time, walking each row's taps in order
      memory.fill(dst, 0, <usize>Kp << 4);
      for (let r = 0; r < TILE_M; r++) {
        const slot = rows + <usize>(r * 12);
        const base = <usize>load<u32>(slot);
        if (base == 0) continue;
        const iy0 = load<i32>(slot, 4), ix0 = load<i32>(slot, 8);
        let k = 0;
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const iy = iy0 + ky, ix = ix0 + kx;
            if (<u32>iy >= <u32>H || <u32>ix >= <u32>W) { k += C; continue; }
            const src = base + (<usize>iy * <usize>W + <usize>ix) * <usize>C;
            for (let c = 0; c < C; c++, k++) {
              store<i16>(dst + (<usize>(k >> 1) << 4) + (<usize>r << 2) + (<usize>(k & 1) << 1), <i16>load<i8>(src + <usize>c));
            }
          }
        }
      }
      continue;
    }
    // other C: each row's patch gathered into the INT8_GATHER scratch (the 4 im2col rows of this block), then packBlock
    for (let r = 0; r < TILE_M; r++) {
      const slot = rows + <usize>(r * 12);
      const base = <usize>load<u32>(slot);
      const row = gather + <usize>(r * K);
      if (base == 0) { memory.fill(row, 0, <usize>K); continue; }
      const iy0 = load<i32>(slot, 4), ix0 = load<i32>(slot, 8);
      if (iy0 >= 0 && iy0 + KH <= H && ix0 >= 0 && ix0 + KW <= W) {
        // the whole window inside: each kernel row is KW·C contiguous bytes of one image row
        const span = KW * C;
        let src = base + (<usize>iy0 * <usize>W + <usize>ix0) * <usize>C, d = row;
        for (let ky = 0; ky < KH; ky++) {
          for (let i = 0; i < span; i++) store<u8>(d + <usize>i, load<u8>(src + <usize>i));
          src += <usize>W * <usize>C;
          d += <usize>span;
        }
        continue;
      }
      let d = row;
      for (let ky = 0; ky < KH; ky++) {
        const iy = iy0 + ky;
        for (let kx = 0; kx < KW; kx++) {
          const ix = ix0 + kx;
          if (<u32>iy < <u32>H && <u32>ix < <u32>W) {
            const src = base + (<usize>iy * <usize>W + <usize>ix) * <usize>C;
            for (let c = 0; c < C; c++) store<u8>(d + <usize>c, load<u8>(src + <usize>c));
          } else {
            for (let c = 0; c < C; c++) store<u8>(d + <usize>c, 0);
          }
          d += <usize>C;
        }
      }
    }
    packBlock(gather, gather + <usize>K, gather + <usize>(2 * K), gather + <usize>(3 * K), dst, K);
  }
}

/**
 * The address of input pixel (iy, ix) of the image at base, or `zero` (ZERO_PIXEL, or 0 when C is too large
 * for it: the caller then branches) when the pixel is padding or there is no row (base 0).
 */
// @ts-ignore: decorator
@inline function tapPixel(base: usize, iy: i32, ix: i32, H: i32, W: i32, C: i32, zero: usize): usize {
  return base != 0 && <u32>iy < <u32>H && <u32>ix < <u32>W ? base + (<usize>iy * <usize>W + <usize>ix) * <usize>C : zero;
}

/** Rows of packed A one conv chunk holds: A_BLOCK_BYTES of it (at least one 4-row block). */
// @ts-ignore: decorator
@inline function convChunkBlocks(K: i32): i32 {
  return max(1, A_BLOCK_BYTES / (kPairs(K) * 16));
}

/** Scratch bytes conv2d_i8_4x8 needs for reduction length K = KH·KW·C. */
export function conv_i8_scratch_bytes(K: i32): i32 {
  return convChunkBlocks(K) * kPairs(K) * 16;
}

/**
 * int8 NHWC conv as a GEMM whose A is never materialized whole: chunks of output pixels are packed
 * (packAConv) into `scratch` and multiplied by every weight panel while still in L2. Geometry geo (groups 1,
 * x [N, H, W, C], N·OH·OW × CO out); B packed as int8 (bits 8) or INT4 nibble (bits 4) panels; out and
 * ep in the GEMM's modes EPILOGUE_*.
 */
export function conv2d_i8_4x8(x: usize, pb: usize, bits: i32, out: usize, mode: i32, ep: usize, scratch: usize, geo: usize): void {
  const B = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), KH = cgKH(geo), KW = cgKW(geo);
  const sh = cgSH(geo), sw = cgSW(geo), ph = cgPT(geo), pw = cgPL(geo), OH = cgOH(geo), OW = cgOW(geo), N = cgCO(geo);
  const M = B * OH * OW, K = KH * KW * C;
  const Mb = (M + TILE_M - 1) / TILE_M, chunk = convChunkBlocks(K);
  const es: usize = mode == EPILOGUE_Q8 ? 1 : 4;
  for (let mb0 = 0; mb0 < Mb; mb0 += chunk) {
    const mb1 = min(Mb, mb0 + chunk);
    packAConv(x, scratch, mb0, mb1, B, H, W, C, KH, KW, sh, sw, ph, pw, OH, OW);
    const m0 = mb0 * TILE_M, rows = min(M, mb1 * TILE_M) - m0;
    const o = out + <usize>m0 * <usize>N * es;
    if (bits == 8) {
      if (mode == EPILOGUE_I32) gemmDriver(scratch, pb, o, rows, N, K, 8, EPILOGUE_I32, 0);
      else if (mode == EPILOGUE_F32) gemmDriver(scratch, pb, o, rows, N, K, 8, EPILOGUE_F32, ep);
      else gemmDriver(scratch, pb, o, rows, N, K, 8, EPILOGUE_Q8, ep);
    } else {
      if (mode == EPILOGUE_I32) gemmDriver(scratch, pb, o, rows, N, K, 4, EPILOGUE_I32, 0);
      else if (mode == EPILOGUE_F32) gemmDriver(scratch, pb, o, rows, N, K, 4, EPILOGUE_F32, ep);
      else gemmDriver(scratch, pb, o, rows, N, K, 4, EPILOGUE_Q8, ep);
    }
  }
}

/** f32 x[n] → int8 codes out[n] = round_half_even(clamp(x·s, −max, max)) with qp's s and max; NaN gives 0. */
export function quantize_i8_f32x4(x: usize, out: usize, n: i32, qp: usize): void {
  const s = qpS(qp), max = qpMax(qp);
  const vs = f32x4.splat(s), mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const n16 = n & ~15;
  let i = 0;
  for (; i < n16; i += 16) {
    const p = x + (<usize>i << 2);
    const q0 = intCodes4(v128.load(p), vs, mx, nmx), q1 = intCodes4(v128.load(p + 16), vs, mx, nmx);
    const q2 = intCodes4(v128.load(p + 32), vs, mx, nmx), q3 = intCodes4(v128.load(p + 48), vs, mx, nmx);
    v128.store(out + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  for (; i < n; i++) {
    const q = intCodes4(f32x4.splat(f32.load(x + (<usize>i << 2))), vs, mx, nmx);
    store<i8>(out + <usize>i, <i8>i32x4.extract_lane(q, 0));
  }
}

/** Channels-last per-channel codes: x viewed as [outer, C], channel c with scale qp.scales[c], clamp qp.max. */
export function quantize_pc_i8_f32x4(x: usize, out: usize, outer: i32, C: i32, qp: usize): void {
  const scales = qpScales(qp), max = qpMax(qp);
  const mx = f32x4.splat(max), nmx = f32x4.splat(-max);
  const C4 = C & ~3;
  for (let o = 0; o < outer; o++) {
    const row = <usize>o * <usize>C;
    let c = 0;
    for (; c < C4; c += 4) {
      const q = intCodes4(v128.load(x + ((row + <usize>c) << 2)), v128.load(scales + (<usize>c << 2)), mx, nmx);
      const b = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q);
      store<u32>(out + row + <usize>c, i32x4.extract_lane(b, 0));
    }
    for (; c < C; c++) {
      const q = intCodes4(f32x4.splat(f32.load(x + ((row + <usize>c) << 2))), f32x4.splat(f32.load(scales + (<usize>c << 2))), mx, nmx);
      store<i8>(out + row + <usize>c, <i8>i32x4.extract_lane(q, 0));
    }
  }
}
