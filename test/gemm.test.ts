// The f32 GEMM kernels (assembly/gemm.ts via src/kernels/gemm.ts) against the scalar reference, on both
// module variants: random shapes and strides in every layout, blocked sizes, batched, fused weight
// quantization (bit for bit against quantize-then-gemm), and bad input.
//
// Error bound. The kernel sums K products in f32 (mul+add or FMA, in K blocks), then scales by alpha and
// adds beta·C. Standard rounding analysis with u = 2^-24 bounds each result by
//   |got − exact| ≤ (K + 2·blocks + 2)·u·(|α|·Σ_k |a_ik·b_kj| + |β·c_ij|)
// and the reference itself is one f32 rounding (u·|exact|) away from exact. With ≤ 3 K blocks in
// these tests we use (K + 10)·u·(|α|·Σ|a·b| + |β·c|) + 1e-30, Σ|a·b| taken from the reference on |A|, |B|.
// (The brief's 2^-20·K·max|a·b| is looser for all K here; a misplaced element breaks either.)

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRuntime, type Runtime, type Variant } from '../src/core/runtime.js';
import { gemm, gemmBatched, GEMM_KERNELS, type GemmLayout } from '../src/kernels/gemm.js';
import { gemmRef, gemmBatchedRef } from '../src/kernels/gemm.ref.js';
import { parseFormat } from '../src/formats/format.js';
import { kernelParams, scaleOf } from '../src/formats/params.js';
import { quantParams } from '../src/kernels/blocks.js';
import { expectFliqsError } from './error-helpers.js';

const LAYOUTS = Object.keys(GEMM_KERNELS) as GemmLayout[];
const VARIANTS: Variant[] = ['simd', 'relaxed'];
const runtimes = new Map<Variant, Runtime>();
for (const v of VARIANTS) runtimes.set(v, await createRuntime(v));

/** Deterministic values in [-1, 1) with a few exact zeros and larger magnitudes mixed in. */
function randomF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const u = s / 2 ** 32;
    out[i] = i % 17 === 5 ? 0 : (u * 2 - 1) * (i % 11 === 3 ? 8 : 1);
  }
  return out;
}

interface Case { layout: GemmLayout; M: number; N: number; K: number; pa: number; pb: number; pc: number;
  alpha: number; beta: number; seed: number }

function stored(c: Case) {
  const aRows = c.layout === 'tn' ? c.K : c.M, aCols = c.layout === 'tn' ? c.M : c.K;
  const bRows = c.layout === 'nt' ? c.N : c.K, bCols = c.layout === 'nt' ? c.K : c.N;
  return { aRows, aCols, bRows, bCols, lda: aCols + c.pa, ldb: bCols + c.pb, ldc: c.N + c.pc };
}

/** Matrix data with NaN in the row padding (the kernel must never read it). */
function matrix(rows: number, cols: number, ld: number, seed: number): Float32Array {
  const vals = randomF32(rows * cols, seed);
  const out = new Float32Array((rows - 1) * ld + cols).fill(NaN);
  for (let r = 0; r < rows; r++) out.set(vals.subarray(r * cols, (r + 1) * cols), r * ld);
  return out;
}

const abs = (x: Float32Array) => x.map((v) => (Number.isNaN(v) ? 0 : Math.abs(v)));

/** Runs one case on rt and checks every element of C (and that the row padding of C is untouched). */
function check(rt: Runtime, c: Case, resident: boolean): void {
  const s = stored(c);
  const A = matrix(s.aRows, s.aCols, s.lda, c.seed);
  const B = matrix(s.bRows, s.bCols, s.ldb, c.seed + 1);
  const C0 = c.beta === 0 ? new Float32Array((c.M - 1) * s.ldc + c.N).fill(NaN) : matrix(c.M, c.N, s.ldc, c.seed + 2);
  for (let r = 0; r < c.M - 1; r++) C0.fill(-777, r * s.ldc + c.N, (r + 1) * s.ldc);
  const ta = c.layout === 'tn', tb = c.layout === 'nt';
  const want = gemmRef(ta, tb, c.M, c.N, c.K, c.alpha, A, s.lda, B, s.ldb, c.beta, C0.slice(), s.ldc);
  const mag = gemmRef(ta, tb, c.M, c.N, c.K, Math.abs(c.alpha), abs(A), s.lda, abs(B), s.ldb, Math.abs(c.beta),
    c.beta === 0 ? new Float32Array(C0.length) : abs(C0), s.ldc);
  let got: Float32Array;
  if (resident) {
    const a = rt.copyIn(A), b = rt.copyIn(B), cc = rt.copyIn(C0);
    gemm(c.layout, c.M, c.N, c.K, c.alpha, a, s.lda, b, s.ldb, c.beta, cc, s.ldc, {}, rt);
    got = cc.array.slice();
    a.free(); b.free(); cc.free();
  } else {
    got = C0.slice();
    gemm(c.layout, c.M, c.N, c.K, c.alpha, A, s.lda, B, s.ldb, c.beta, got, s.ldc, {}, rt);
  }
  const tol = (c.K + 10) * 2 ** -24;
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      const o = i * s.ldc + j;
      const err = Math.abs(got[o]! - want[o]!);
      if (!(err <= tol * mag[o]! + 1e-30)) {
        throw new Error(`${rt.variant} ${JSON.stringify(c)} resident=${resident}: C[${i},${j}] = ${got[o]}, want ${want[o]} (err ${err}, bound ${tol * mag[o]!})`);
      }
    }
    for (let j = c.N; j < s.ldc && i < c.M - 1; j++) {
      if (got[i * s.ldc + j] !== -777) throw new Error(`${rt.variant} ${JSON.stringify(c)}: C padding at [${i},${j}] was written`);
    }
  }
}

const caseArb = (layout: GemmLayout, max = 70) => fc.record({
  layout: fc.constant(layout),
  M: fc.integer({ min: 1, max }), N: fc.integer({ min: 1, max }), K: fc.integer({ min: 1, max }),
  pa: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  pb: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  pc: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
  alpha: fc.constantFrom(1, -1, 0.5, 2.25, -0.3),
  beta: fc.constantFrom(0, 0, 1, -0.75),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

for (const variant of VARIANTS) {
  const rt = runtimes.get(variant)!;
  describe(`gemm (${variant})`, () => {
    for (const layout of LAYOUTS) {
      it(`${GEMM_KERNELS[layout]} matches gemmRef on random shapes 1..70, strides, alpha/beta`, () => {
        fc.assert(fc.property(caseArb(layout), fc.boolean(), (c, resident) => { check(rt, c, resident); }), { numRuns: 70 });
      });

      it(`${GEMM_KERNELS[layout]} handles tiny and edge shapes`, () => {
        const base = { layout, pa: 0, pb: 0, pc: 0, alpha: 1, beta: 0, seed: 7 };
        for (const [M, N, K] of [[1, 1, 1], [1, 8, 1], [4, 8, 4], [5, 9, 3], [3, 7, 5], [1, 17, 33], [33, 1, 2], [2, 2, 257]]) {
          check(rt, { ...base, M: M!, N: N!, K: K! }, true);
        }
      });

      it(`${GEMM_KERNELS[layout]} crosses the K, M and N cache blocks`, () => {
        check(rt, { layout, M: 129, N: 67, K: 300, pa: 3, pb: 1, pc: 2, alpha: 0.5, beta: -0.75, seed: 11 }, true);
        check(rt, { layout, M: 131, N: 67, K: 600, pa: 0, pb: 0, pc: 0, alpha: 1, beta: 0, seed: 12 }, false);
        check(rt, { layout, M: 7, N: 530, K: 9, pa: 1, pb: 2, pc: 0, alpha: -1, beta: 1, seed: 13 }, true);
        // past the relaxed build's 160-row M block (5-row tiles), ending in a partial tile
        check(rt, { layout, M: 163, N: 21, K: 37, pa: 2, pb: 0, pc: 1, alpha: 1.5, beta: 0.5, seed: 14 }, false);
      });
    }

    it('beta = 0 ignores NaN and Infinity in C; beta ≠ 0 propagates them', () => {
      const A = new Float32Array([1, 2, 3, 4]), B = new Float32Array([1, 0, 0, 1]);
      const C = new Float32Array([NaN, Infinity, -Infinity, NaN]);
      gemm('nn', 2, 2, 2, 1, A, 2, B, 2, 0, C, 2, {}, rt);
      expect(Array.from(C)).toEqual([1, 2, 3, 4]);
      const D = new Float32Array([NaN, 0, 0, 0]);
      gemm('nn', 2, 2, 2, 1, A, 2, B, 2, 1, D, 2, {}, rt);
      expect(Number.isNaN(D[0])).toBe(true);
      expect(Array.from(D.subarray(1))).toEqual([2, 3, 4]);
    });

    it('gemm_batched_f32_4x8 matches gemmBatchedRef (strides, broadcast operand)', () => {
      fc.assert(fc.property(
        fc.constantFrom(...LAYOUTS), fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 1, max: 2 ** 30 }),
        (layout, batch, M, N, K, gap, broadcastB, seed) => {
          const s = stored({ layout, M, N, K, pa: 0, pb: 0, pc: 0, alpha: 1, beta: 0, seed });
          const sA = s.aRows * s.lda + gap, sB = broadcastB ? 0 : s.bRows * s.ldb + gap, sC = M * N + gap;
          const A = randomF32((batch - 1) * sA + s.aRows * s.lda, seed);
          const B = randomF32((batch - 1) * sB + s.bRows * s.ldb, seed + 1);
          const C = randomF32((batch - 1) * sC + M * N, seed + 2);
          const ta = layout === 'tn', tb = layout === 'nt';
          const want = gemmBatchedRef(ta, tb, batch, M, N, K, 1.5, A, sA, s.lda, B, sB, s.ldb, 0.5, C.slice(), sC, N);
          const mag = gemmBatchedRef(ta, tb, batch, M, N, K, 1.5, abs(A), sA, s.lda, abs(B), sB, s.ldb, 0.5, abs(C), sC, N);
          const got = C.slice();
          gemmBatched(layout, batch, M, N, K, 1.5, A, sA, s.lda, B, sB, s.ldb, 0.5, got, sC, N, rt);
          for (let i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i]! - want[i]!) <= (K + 10) * 2 ** -24 * mag[i]! + 1e-30)) {
              throw new Error(`${variant} batched ${layout} batch=${batch} M=${M} N=${N} K=${K} seed=${seed}: [${i}] ${got[i]} vs ${want[i]}`);
            }
          }
        }), { numRuns: 60 });
    });

    // Fused weight quantization: the same values quant_f32x4 / quant_pc_f32x4 give (whichever of their
    // specialised loops they take), so equal bit for bit.
    it('gemm_qb_f32_4x8 equals quantize-then-gemm bit for bit (per tensor and per column)', () => {
      fc.assert(fc.property(
        fc.constantFrom(...LAYOUTS), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }),
        fc.constantFrom('INT4', 'INT8', 'INT2', 'INT16', 'E2M1', 'E4M3', 'E5M2', 'E3M0', 'E1M0', 'E8M3', 'BF16'), fc.boolean(), fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (layout, M, N, K, name, perColumn, withBeta, seed) => {
          const f = parseFormat(name), k = kernelParams(f);
          const s = stored({ layout, M, N, K, pa: 1, pb: 0, pc: 0, alpha: 1, beta: 0, seed });
          const A = matrix(s.aRows, s.aCols, s.lda, seed);
          const B = randomF32(s.bRows * s.bCols, seed + 1);
          const C0 = withBeta ? randomF32(M * N, seed + 2) : new Float32Array(M * N).fill(NaN);
          const beta = withBeta ? 0.5 : 0;
          const clips = Array.from({ length: N }, (_, j) => 1 + ((j * 37 + seed) % 13) / 10);
          const clip = clips[0]!;
          // quantize-then-gemm with the module's own quantizer
          const bq = rt.copyIn(B);
          if (perColumn && !f.ignoresClip) {
            const sc = rt.copyIn(clips.map((c) => scaleOf(f, c)));
            const [outer, C, inner] = layout === 'nt' ? [1, N, K] : [K, N, 1];
            rt.kernels.quant_pc_f32x4(bq.ptr, bq.ptr, outer, C, inner, quantParams(rt, k, 1, sc.ptr));
            sc.free();
          } else {
            rt.kernels.quant_f32x4(bq.ptr, bq.ptr, B.length, quantParams(rt, k, f.ignoresClip ? 1 : scaleOf(f, clip)));
          }
          const Bq = bq.array.slice();
          bq.free();
          const want = C0.slice();
          gemm(layout, M, N, K, 0.75, A, s.lda, Bq, s.ldb, beta, want, N, {}, rt);
          const got = C0.slice();
          gemm(layout, M, N, K, 0.75, A, s.lda, B, s.ldb, beta, got, N,
            { quantB: perColumn ? { format: f, clips } : { format: f, clip } }, rt);
          const gb = new Uint32Array(got.buffer), wb = new Uint32Array(want.buffer);
          for (let i = 0; i < gb.length; i++) {
            if (gb[i] !== wb[i]) throw new Error(`${variant} ${layout} ${name} perColumn=${perColumn} M=${M} N=${N} K=${K} seed=${seed}: [${i}] ${got[i]} vs ${want[i]}`);
          }
          // and the quantization did something (guards against a no-op fused path)
          if (name === 'INT2') {
            const plain = C0.slice();
            gemm(layout, M, N, K, 0.75, A, s.lda, B, s.ldb, beta, plain, N, {}, rt);
            if (plain.every((v, i) => Object.is(v, got[i]))) throw new Error(`INT2 fused result equals the unquantized one (${layout} ${M}×${N}×${K})`);
          }
        }), { numRuns: 80 });
    });

    it('fused quantization across cache blocks, FP32 format is a plain gemm', () => {
      const M = 130, N = 530, K = 270;
      const A = randomF32(M * K, 3), B = randomF32(K * N, 4);
      const f = parseFormat('E4M3'), k = kernelParams(f);
      const bq = rt.copyIn(B);
      rt.kernels.quant_f32x4(bq.ptr, bq.ptr, B.length, quantParams(rt, k, scaleOf(f, 1.5)));
      const Bq = bq.array.slice();
      bq.free();
      const want = new Float32Array(M * N), got = new Float32Array(M * N);
      gemm('nn', M, N, K, 1, A, K, Bq, N, 0, want, N, {}, rt);
      gemm('nn', M, N, K, 1, A, K, B, N, 0, got, N, { quantB: { format: 'E4M3', clip: 1.5 } }, rt);
      expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
      const p = new Float32Array(M * N), q = new Float32Array(M * N);
      gemm('nn', M, N, K, 1, A, K, B, N, 0, p, N, {}, rt);
      gemm('nn', M, N, K, 1, A, K, B, N, 0, q, N, { quantB: { format: 'FP32' } }, rt);
      expect(new Uint32Array(q.buffer)).toEqual(new Uint32Array(p.buffer));
    });

    it('peak probes run and return finite values', () => {
      expect(Number.isFinite(rt.kernels.peak_muladd_f32x4(1000))).toBe(true);
      expect(Number.isFinite(rt.kernels.peak_fma_f32x4(1000))).toBe(true);
    });
  });
}

describe('gemm bad input', () => {
  const rt = runtimes.get('simd')!;
  const A = new Float32Array(12), B = new Float32Array(12), C = new Float32Array(9);
  const bad = expectFliqsError;

  it('rejects zero, negative and non-integer sizes', () => {
    bad(() => gemm('nn', 0, 3, 4, 1, A, 4, B, 3, 0, C, 3, {}, rt), /^M: got 0/);
    bad(() => gemm('nn', 3, -1, 4, 1, A, 4, B, 3, 0, C, 3, {}, rt), /^N: got -1/);
    bad(() => gemm('nn', 3, 3, 2.5, 1, A, 4, B, 3, 0, C, 3, {}, rt), /^K: got 2.5/);
    bad(() => gemm('nn', 3, 3, 4, 1, A, NaN, B, 3, 0, C, 3, {}, rt), /^lda/);
    bad(() => gemmBatched('nn', 0, 3, 3, 4, 1, A, 0, 4, B, 0, 3, 0, C, 9, 3, rt), /^batch: got 0/);
  });

  it('rejects strides below the row length and arrays too short for the shapes', () => {
    bad(() => gemm('nn', 3, 3, 4, 1, A, 3, B, 3, 0, C, 3, {}, rt), /^lda: is 3 .*A \[3,4\]/);
    bad(() => gemm('nt', 3, 3, 4, 1, A, 4, B, 3, 0, C, 3, {}, rt), /^ldb: is 3 .*B \[3,4\]/);
    bad(() => gemm('nn', 3, 3, 5, 1, A, 5, B, 3, 0, C, 3, {}, rt), /^A: has 12 elements but \[3,5\] .* needs 15 .*M=3, N=3, K=5/);
    bad(() => gemm('tn', 3, 4, 4, 1, A, 3, B, 4, 0, C, 4, {}, rt), /^B: has 12 elements .* needs 16/);
    bad(() => gemm('nn', 3, 3, 4, 1, A, 4, B, 3, 0, C, 4, {}, rt), /^C: has 9 elements .* needs 11/);
    bad(() => gemmBatched('nn', 2, 3, 3, 4, 1, A, 12, 4, B, 0, 3, 0, new Float32Array(18), 9, 3, rt), /^A: has 12 elements but 2 × \[3,4\]/);
    bad(() => gemmBatched('nn', 2, 3, 3, 4, 1, A, 0, 4, B, 0, 3, 0, new Float32Array(18), 4, 3, rt), /^strideC: got 4/);
  });

  it('rejects a bad layout, operands and quantizer options', () => {
    bad(() => gemm('tt' as GemmLayout, 3, 3, 4, 1, A, 4, B, 3, 0, C, 3, {}, rt), /^layout/);
    bad(() => gemm('nn', 3, 3, 4, 1, [1, 2] as unknown as Float32Array, 4, B, 3, 0, C, 3, {}, rt), /^A: got Array\(2\)/);
    bad(() => gemm('nn', 3, 3, 4, Infinity, A, 4, B, 3, 0, C, 3, {}, rt), /^alpha/);
    bad(() => gemm('nn', 3, 3, 4, 1, A, 4, B, 3, 0, C, 3, { quantB: { format: 'INT4', clips: [1, 2] } }, rt), /^quantB.clips.*3 clips/);
    bad(() => gemm('nn', 3, 3, 4, 1, A, 4, B, 3, 0, C, 3, { quantB: { format: 'INT4', clip: -1 } }, rt), /^quantB.clip/);
    bad(() => gemm('nn', 3, 3, 4, 1, A, 4, B, 3, 0, C, 3, { quantB: { format: 'INT99', clip: 1 } }, rt), /^format/);
    const other = runtimes.get('relaxed')!.allocF32(12);
    bad(() => gemm('nn', 3, 3, 4, 1, other, 4, B, 3, 0, C, 3, {}, rt), /^A: is a WasmF32 of another runtime/);
  });
});
