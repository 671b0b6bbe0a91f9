// The int8 kernels against their scalar references, in both module variants: GEMM integers exact
// (int8 and INT4 panels), the epilogue bit for bit (with its fused clamp and requantization to codes),
// dequantized results against the fake-quantized f32 path within a derived bound, int8 conv2d and
// depthwise exact, codes equal to the fake quantizer's, bad input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/random.js';
import { createRuntime, type Runtime } from '../src/core/runtime.js';
import { FliqsError } from '../src/core/errors.js';
import { packCodes } from '../src/formats/codes.js';
import { parseFormat } from '../src/formats/format.js';
import { scaleOf } from '../src/formats/params.js';
import { quantize, quantizePerChannel } from '../src/kernels/quant.js';
import {
  conv2dI8, depthwiseConv2dI8, gemmI8Dequant, prepareDequant, gemmI8, MAX_K_I8, packWeightsI4, packWeightsI4AsI8, packWeightsI8, quantizeToI8,
  quantizePerChannelToI8, INT8_GEMM_KERNELS, INT8_KERNELS, type PackedWeightsI8,
} from '../src/kernels/int8.js';
import { kernelsNotCalled, trackKernels } from './kernel-coverage.js';
import { conv2dI8Ref, dequantI8Ref, depthwiseConv2dI8Ref, gemmI8Ref, quantizeI8Ref, requantizeI8Ref, unpackI4Ref } from '../src/kernels/int8.ref.js';

const f32 = Math.fround;
const U = 2 ** -24;
const RUNS = 100;
const runtimes: Runtime[] = [await createRuntime('simd'), await createRuntime('relaxed')];
const called = runtimes.map(trackKernels);

type Fill = 'mixed' | 'max' | 'min' | 'alternating';
const fills: Fill[] = ['mixed', 'mixed', 'mixed', 'max', 'min', 'alternating'];

/** n codes in −max…max: uniform with a 20% share of the extremes, or all +max, all −max, or ±max alternating. */
function codes(seed: number, n: number, max: number, fill: Fill): Int8Array {
  const r = new Rng(seed), out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    if (fill === 'max') out[i] = max;
    else if (fill === 'min') out[i] = -max;
    else if (fill === 'alternating') out[i] = i % 2 ? max : -max;
    else out[i] = r.uniform() < 0.2 ? (r.uniform() < 0.5 ? -max : max) : r.int(2 * max + 1) - max;
  }
  return out;
}

/** INT4 values → packCodes bytes (two's complement nibbles, low nibble first). */
const nibbles = (v: Int8Array): Uint8Array => packCodes(Array.from(v, (x) => (x < 0 ? 16 + x : x)), 4);

function put(rt: Runtime, data: Int8Array | Uint8Array): number {
  const p = rt.arena.alloc(data.length);
  rt.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.length), p);
  return p;
}
const i32At = (rt: Runtime, p: number, n: number): Int32Array => rt.i32.slice(p >> 2, (p >> 2) + n);
const f32At = (rt: Runtime, p: number, n: number): Float32Array => rt.f32.slice(p >> 2, (p >> 2) + n);

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : a.length;
}

/**
 * Packs weights every applicable way — int8 codes, and when the values fit INT4 also INT4 nibble panels and
 * INT4 unpacked to int8 panels — and frees the sources (the panels are freed by the caller).
 */
function packs(rt: Runtime, b: Int8Array, K: number, N: number, int4: boolean): Array<[string, PackedWeightsI8]> {
  const p8 = put(rt, b);
  const out: Array<[string, PackedWeightsI8]> = [['pack_b_i8', packWeightsI8(p8, K, N, rt)]];
  rt.arena.free(p8);
  if (int4) {
    const p4 = put(rt, nibbles(b));
    out.push(['pack_b_i4', packWeightsI4(p4, K, N, rt)], ['pack_b_i4_i8', packWeightsI4AsI8(p4, K, N, rt)]);
    rt.arena.free(p4);
  }
  return out;
}

const shape = fc.record({
  M: fc.integer({ min: 1, max: 70 }), N: fc.integer({ min: 1, max: 70 }), K: fc.integer({ min: 1, max: 70 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }), fillA: fc.constantFrom(...fills), fillB: fc.constantFrom(...fills),
  int4: fc.boolean(),
});

describe.each(runtimes)('int8 kernels, $variant module', (rt) => {
  it('is the variant it claims', () => {
    expect(rt.kernels.has_relaxed_simd()).toBe(rt.variant === 'relaxed' ? 1 : 0);
  });

  it('GEMM int32 results equal the reference exactly (int8 and INT4 panels, any M, N, K)', () => {
    fc.assert(fc.property(shape, ({ M, N, K, seed, fillA, fillB, int4 }) => {
      const a = codes(seed, M * K, 127, fillA), b = codes(seed + 1, K * N, int4 ? 7 : 127, fillB);
      const want = gemmI8Ref(a, b, M, N, K);
      const before = rt.arena.bytesInUse;
      const pa = put(rt, a), out = rt.arena.alloc(M * N * 4);
      for (const [how, w] of packs(rt, b, K, N, int4)) {
        rt.i32.fill(-1, out >> 2, (out >> 2) + M * N);
        gemmI8(pa, M, w, out, rt);
        const got = i32At(rt, out, M * N);
        const i = firstDiff(got, want);
        if (i >= 0) throw new Error(`${how} M=${M} N=${N} K=${K} seed=${seed}: [${Math.floor(i / N)},${i % N}] got ${got[i]} want ${want[i]}`);
        w.free();
      }
      rt.arena.free(pa); rt.arena.free(out);
      expect(rt.arena.bytesInUse).toBe(before); // the wrapper's scratch (packed A, epilogue) is released
    }), { numRuns: RUNS });
  });

  it('is exact where the accumulators pass 2^24 (K = 4099, extreme values)', () => {
    const M = 5, N = 9, K = 4099;
    for (const [fa, fb] of [['max', 'min'], ['alternating', 'alternating'], ['mixed', 'max']] as Array<[Fill, Fill]>) {
      const a = codes(7, M * K, 127, fa), b = codes(8, K * N, 127, fb);
      const want = gemmI8Ref(a, b, M, N, K);
      const w = packWeightsI8(put(rt, b), K, N, rt), pa = put(rt, a), out = rt.arena.alloc(M * N * 4);
      gemmI8(pa, M, w, out, rt);
      expect(Array.from(i32At(rt, out, M * N))).toEqual(Array.from(want));
      gemmI8Dequant(pa, M, w, out, { sA: 3, sW: 0.7 }, rt);
      expect(firstDiff(f32At(rt, out, M * N), dequantI8Ref(want, M, N, 3, 0.7))).toBe(-1);
      w.free(); rt.arena.free(pa); rt.arena.free(out);
    }
  });

  it('the dequantizing epilogue equals the reference bit for bit (per-tensor and per-channel scales, bias, folded outScale)', () => {
    fc.assert(fc.property(shape, fc.boolean(), fc.boolean(), fc.boolean(), ({ M, N, K, seed, fillA, fillB, int4 }, perChannel, withBias, withMul) => {
      const r = new Rng(seed + 2);
      const a = codes(seed, M * K, 127, fillA), b = codes(seed + 1, K * N, int4 ? 7 : 127, fillB);
      const sA = f32(0.5 + 200 * r.uniform());
      const sW = perChannel ? Float32Array.from({ length: N }, () => 0.01 + 50 * r.uniform()) : f32(0.01 + 50 * r.uniform());
      const bias = withBias ? Float32Array.from({ length: N }, () => r.normal() * 10) : undefined;
      const outScale = withMul ? Float32Array.from({ length: N }, (_, n) => (n % 5 === 0 ? 0 : r.normal() * 3)) : undefined;
      const want = dequantI8Ref(gemmI8Ref(a, b, M, N, K), M, N, sA, sW, bias, outScale);
      const pa = put(rt, a), out = rt.arena.alloc(M * N * 4);
      for (const [how, w] of packs(rt, b, K, N, int4)) {
        gemmI8Dequant(pa, M, w, out, { sA, sW, bias, outScale }, rt);
        const got = f32At(rt, out, M * N);
        const i = firstDiff(got, want);
        if (i >= 0) throw new Error(`${how} M=${M} N=${N} K=${K} seed=${seed}: [${Math.floor(i / N)},${i % N}] got ${got[i]} want ${want[i]}`);
        w.free();
      }
      rt.arena.free(pa); rt.arena.free(out);
    }), { numRuns: RUNS });
  });

  it('codes equal the fake quantizer: f32(q / s) === quantize(x, format, clip), per tensor and per channel', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 0, max: 2 ** 31 }),
      fc.constantFrom('INT8', 'INT4'), (rows, C, seed, fname) => {
        const f = parseFormat(fname), r = new Rng(seed), n = rows * C;
        const x = Float32Array.from({ length: n }, () => r.normal() * 3);
        x[r.int(n)] = NaN;
        // exact ties of the grid, in both directions
        const clip = f32(0.5 + 4 * r.uniform()), s = scaleOf(f, clip);
        x[r.int(n)] = f32((r.int(2 * f.maxValue) - f.maxValue + 0.5) / s);
        const px = rt.copyIn(x), pq = rt.arena.alloc(n);
        quantizeToI8(px.ptr, pq, n, s, f, rt);
        const q = rt.i8.slice(pq, pq + n);
        expect(firstDiff(q, quantizeI8Ref(x, s, f.maxValue))).toBe(-1);
        const fake = quantize(x, f, clip);
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(x[i]!)) { expect(q[i]).toBe(0); continue; }
          if (f32(q[i]! / s) !== fake[i]) throw new Error(`${fname} x[${i}]=${x[i]} code ${q[i]} s=${s} fake ${fake[i]}`);
        }
        const clips = Array.from({ length: C }, () => f32(0.3 + 5 * r.uniform()));
        const scales = clips.map((c) => scaleOf(f, c));
        quantizePerChannelToI8(px.ptr, pq, rows, C, scales, f, rt);
        const qc = rt.i8.slice(pq, pq + n);
        const fakePc = quantizePerChannel(x, f, clips, { shape: [rows, C], axis: 1 });
        for (let i = 0; i < n; i++) {
          const sc = scales[i % C]!;
          expect(qc[i]).toBe(quantizeI8Ref([x[i]!], sc, f.maxValue)[0]);
          if (!Number.isNaN(x[i]!) && f32(qc[i]! / sc) !== fakePc[i]) throw new Error(`pc ${fname} x[${i}]=${x[i]} code ${qc[i]} fake ${fakePc[i]}`);
        }
        px.free(); rt.arena.free(pq);
      }), { numRuns: RUNS });
  });

  // Dequantized GEMM vs the fake-quantized f32 path multiplied in f64: with xa = f32(qa/sA), xw = f32(qw/sW)
  // (relative error ≤ u = 2^-24 each), ref = Σ xa·xw + b differs from E = acc/(sA·sW) + b by ≤ 2.01u·S,
  // S = Σ|qa·qw|/(sA·sW); the kernel's f32(acc), f32(1/(sA·sW)), product and bias add add ≤ 3.01u·S + u·|E + b|.
  // So |y − ref| ≤ 8u·(S + |b|) (generous; the terms above sum to < 6.1u·(S + |b|)).
  it('dequantized int8 GEMM agrees with the fake-quantized f32 product within 8u·(Σ|terms| + |bias|)', () => {
    fc.assert(fc.property(shape, fc.boolean(), ({ M, N, K, seed, int4 }, perChannel) => {
      const r = new Rng(seed);
      const fa = parseFormat('INT8'), fw = parseFormat(int4 ? 'INT4' : 'INT8');
      const x = Float32Array.from({ length: M * K }, () => r.normal());
      const wt = Float32Array.from({ length: K * N }, () => r.normal() * 0.2);
      const bias = Float32Array.from({ length: N }, () => r.normal());
      const clipA = f32(2.5 + r.uniform());
      const clipsW = Array.from({ length: N }, () => f32(0.2 + 0.5 * r.uniform()));
      if (!perChannel) clipsW.fill(clipsW[0]!);
      const sA = scaleOf(fa, clipA), sW = clipsW.map((c) => scaleOf(fw, c));
      const xa = quantize(x, fa, clipA);
      const xw = perChannel ? quantizePerChannel(wt, fw, clipsW, { shape: [K, N], axis: 1 }) : quantize(wt, fw, clipsW[0]);

      const px = rt.copyIn(x), pw = rt.copyIn(wt), qa = rt.arena.alloc(M * K), qw = rt.arena.alloc(K * N);
      quantizeToI8(px.ptr, qa, M * K, sA, fa, rt);
      if (perChannel) quantizePerChannelToI8(pw.ptr, qw, K, N, sW, fw, rt);
      else quantizeToI8(pw.ptr, qw, K * N, sW[0]!, fw, rt);
      const codesA = rt.i8.slice(qa, qa + M * K), codesW = rt.i8.slice(qw, qw + K * N);
      let w: PackedWeightsI8;
      if (int4) {
        const p4 = put(rt, nibbles(codesW));
        w = packWeightsI4(p4, K, N, rt);
        rt.arena.free(p4);
      } else w = packWeightsI8(qw, K, N, rt);
      const out = rt.arena.alloc(M * N * 4);
      gemmI8Dequant(qa, M, w, out, { sA, sW: perChannel ? sW : sW[0]!, bias }, rt);
      const y = f32At(rt, out, M * N);
      let worst = 0;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let ref = bias[n]!, S = 0;
          for (let k = 0; k < K; k++) {
            ref += xa[m * K + k]! * xw[k * N + n]!;
            S += Math.abs(codesA[m * K + k]! * codesW[k * N + n]!) / (sA * sW[n]!);
          }
          const err = Math.abs(y[m * N + n]! - ref), bound = 8 * U * (S + Math.abs(bias[n]!));
          if (!(err <= bound)) throw new Error(`M=${M} N=${N} K=${K} seed=${seed} int4=${int4}: [${m},${n}] y ${y[m * N + n]} ref ${ref} err ${err} > ${bound}`);
          worst = Math.max(worst, err / bound);
        }
      }
      w.free(); px.free(); pw.free(); rt.arena.free(qa); rt.arena.free(qw); rt.arena.free(out);
      return worst <= 1;
    }), { numRuns: RUNS });
  });

  it('int8 conv2d (NHWC, HWIO, any kernel, stride, padding) equals the direct reference exactly', () => {
    const conv = fc.record({
      B: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 11 }), W: fc.integer({ min: 1, max: 11 }),
      // C a multiple of 8 takes pack_a_conv_i8's SIMD path, other C its one-value-at-a-time path
      C: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 24)), KH: fc.integer({ min: 1, max: 4 }), KW: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }), ph: fc.integer({ min: 0, max: 2 }),
      pw: fc.integer({ min: 0, max: 2 }), Cout: fc.integer({ min: 1, max: 19 }), seed: fc.integer({ min: 0, max: 2 ** 31 }),
      int4: fc.boolean(), deq: fc.boolean(),
    }).filter((p) => p.H + 2 * p.ph >= p.KH && p.W + 2 * p.pw >= p.KW);
    fc.assert(fc.property(conv, ({ B, H, W, C, KH, KW, sh, sw, ph, pw, Cout, seed, int4, deq }) => {
      const x = codes(seed, B * H * W * C, 127, 'mixed'), k = codes(seed + 1, KH * KW * C * Cout, int4 ? 7 : 127, 'mixed');
      const want = conv2dI8Ref(x, [B, H, W, C], k, [KH, KW, C, Cout], [sh, sw], [ph, pw]);
      const px = put(rt, x), out = rt.arena.alloc(want.length * 4);
      const dequant = deq ? { sA: 11, sW: Array.from({ length: Cout }, (_, i) => 0.5 + i), bias: new Float32Array(Cout).fill(0.25) } : undefined;
      for (const [how, w] of packs(rt, k, KH * KW * C, Cout, int4)) {
        const shape = conv2dI8(px, [B, H, W, C], w, [KH, KW], out, { stride: [sh, sw], padding: [ph, pw], dequant }, rt);
        expect(shape[0] * shape[1] * shape[2] * shape[3]).toBe(want.length);
        const got = deq ? f32At(rt, out, want.length) : i32At(rt, out, want.length);
        const ref = deq ? dequantI8Ref(want, want.length / Cout, Cout, dequant!.sA, dequant!.sW, dequant!.bias) : want;
        const i = firstDiff(got, ref);
        if (i >= 0) throw new Error(`${how} x [${B},${H},${W},${C}] k [${KH},${KW},${C},${Cout}] s [${sh},${sw}] p [${ph},${pw}]: out[${i}] ${got[i]} want ${ref[i]}`);
        w.free();
      }
      rt.arena.free(px); rt.arena.free(out);
    }), { numRuns: RUNS });
  });

  // The fused epilogue: a clamp (ReLU / ReLU6 / none) and, in mode 2, int8 codes for the next layer —
  // bit for bit the unfused chain dequantize → clamp → quantize_i8 of the reference.
  const epilogueCase = fc.record({
    clamp: fc.constantFrom<[number, number]>([-Infinity, Infinity], [0, Infinity], [0, 6], [-0.5, 2]),
    next: fc.constantFrom('INT8', 'INT4', 'INT6', null), s: fc.double({ min: 0.5, max: 300, noNaN: true }),
  });
  const expectFused = (got: ArrayLike<number>, y: Float32Array, clamp: readonly [number, number], next: string | null, s: number, what: string): void => {
    const want = next === null ? y.map((v) => Math.min(Math.max(v, clamp[0]), clamp[1])) : requantizeI8Ref(y, clamp, f32(s), parseFormat(next).maxValue);
    const i = firstDiff(Array.from(got), Array.from(want));
    if (i >= 0) throw new Error(`${what} clamp [${clamp}] next ${next} s ${s}: [${i}] got ${got[i]} want ${want[i]}`);
  };
  const fusedOut = (rt: Runtime, p: number, n: number, next: string | null): ArrayLike<number> => (next === null ? f32At(rt, p, n) : rt.i8.slice(p, p + n));

  it('GEMM with a fused clamp and requantization equals the unfused reference bit for bit', () => {
    fc.assert(fc.property(shape, epilogueCase, ({ M, N, K, seed, fillA, fillB, int4 }, { clamp, next, s }) => {
      const r = new Rng(seed + 5);
      const a = codes(seed, M * K, 127, fillA), b = codes(seed + 1, K * N, int4 ? 7 : 127, fillB);
      const sA = f32(1 + 100 * r.uniform()), sW = Float32Array.from({ length: N }, () => 0.05 + 20 * r.uniform());
      const bias = Float32Array.from({ length: N }, () => r.normal() * 3);
      const y = dequantI8Ref(gemmI8Ref(a, b, M, N, K), M, N, sA, sW, bias);
      const pa = put(rt, a), out = rt.arena.alloc(M * N * 4);
      const before = rt.arena.bytesInUse;
      for (const [how, w] of packs(rt, b, K, N, int4)) {
        gemmI8Dequant(pa, M, w, out, { sA, sW, bias, clamp, ...(next ? { requantize: { s, format: next } } : {}) }, rt);
        expectFused(fusedOut(rt, out, M * N, next), y, clamp, next, s, `${how} M=${M} N=${N} K=${K}`);
        w.free();
      }
      expect(rt.arena.bytesInUse).toBe(before);
      rt.arena.free(pa); rt.arena.free(out);
    }), { numRuns: RUNS });
  });

  const convShape = fc.record({
    B: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 9 }),
    C: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 24)), KH: fc.integer({ min: 1, max: 4 }), KW: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }), ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }), Cout: fc.integer({ min: 1, max: 19 }), seed: fc.integer({ min: 0, max: 2 ** 31 }), int4: fc.boolean(),
  }).filter((p) => p.H + 2 * p.ph >= p.KH && p.W + 2 * p.pw >= p.KW);

  it('conv2d with a fused clamp and requantization equals the unfused reference bit for bit', () => {
    fc.assert(fc.property(convShape, epilogueCase, ({ B, H, W, C, KH, KW, sh, sw, ph, pw, Cout, seed, int4 }, { clamp, next, s }) => {
      const r = new Rng(seed + 7);
      const x = codes(seed, B * H * W * C, 127, 'mixed'), k = codes(seed + 1, KH * KW * C * Cout, int4 ? 7 : 127, 'mixed');
      const acc = conv2dI8Ref(x, [B, H, W, C], k, [KH, KW, C, Cout], [sh, sw], [ph, pw]);
      const sW = Float32Array.from({ length: Cout }, () => 0.05 + 20 * r.uniform()), bias = Float32Array.from({ length: Cout }, () => r.normal());
      const outScale = Float32Array.from({ length: Cout }, () => r.normal());
      const y = dequantI8Ref(acc, acc.length / Cout, Cout, 9, sW, bias, outScale);
      const px = put(rt, x), out = rt.arena.alloc(acc.length * 4);
      for (const [how, w] of packs(rt, k, KH * KW * C, Cout, int4)) {
        conv2dI8(px, [B, H, W, C], w, [KH, KW], out, { stride: [sh, sw], padding: [ph, pw],
          dequant: { sA: 9, sW, bias, outScale, clamp, ...(next ? { requantize: { s, format: next } } : {}) } }, rt);
        expectFused(fusedOut(rt, out, acc.length, next), y, clamp, next, s, `${how} x [${B},${H},${W},${C}] k [${KH},${KW},${C},${Cout}]`);
        w.free();
      }
      rt.arena.free(px); rt.arena.free(out);
    }), { numRuns: RUNS });
  });

  it('int8 depthwise conv equals the direct reference (f32 and requantized, with or without bias, any kernel, stride, padding, C)', () => {
    fc.assert(fc.property(convShape, epilogueCase, fc.boolean(), ({ B, H, W, C, KH, KW, sh, sw, ph, pw, seed }, { clamp, next, s }, withBias) => {
      const r = new Rng(seed + 9);
      const x = codes(seed, B * H * W * C, 127, 'mixed'), k = codes(seed + 1, KH * KW * C, 127, 'mixed');
      const acc = depthwiseConv2dI8Ref(x, [B, H, W, C], k, [KH, KW], [sh, sw], [ph, pw]);
      const sW = Float32Array.from({ length: C }, () => 0.05 + 20 * r.uniform());
      const bias = withBias ? Float32Array.from({ length: C }, () => r.normal()) : undefined;
      const y = dequantI8Ref(acc, acc.length / C, C, 5, sW, bias);
      const px = put(rt, x), pk = put(rt, k), out = rt.arena.alloc(acc.length * 4);
      const shape4 = depthwiseConv2dI8(px, [B, H, W, C], pk, [KH, KW], out,
        { stride: [sh, sw], padding: [ph, pw], dequant: { sA: 5, sW, bias, clamp, ...(next ? { requantize: { s, format: next } } : {}) } }, rt);
      expect(shape4[0] * shape4[1] * shape4[2] * shape4[3]).toBe(acc.length);
      expectFused(fusedOut(rt, out, acc.length, next), y, clamp, next, s, `x [${B},${H},${W},${C}] k [${KH},${KW}] s [${sh},${sw}] p [${ph},${pw}]`);
      rt.arena.free(px); rt.arena.free(pk); rt.arena.free(out);
    }), { numRuns: RUNS });
  });

  it('int8 conv2d with a patch too long to gather (C not a multiple of 8, KH·KW·C > 4096) equals the reference', () => {
    const [B, H, W, C, KH, KW, Cout] = [1, 4, 3, 461, 3, 3, 5];
    const x = codes(3, B * H * W * C, 127, 'mixed'), k = codes(4, KH * KW * C * Cout, 127, 'mixed');
    const want = conv2dI8Ref(x, [B, H, W, C], k, [KH, KW, C, Cout], [1, 1], [1, 1]);
    const px = put(rt, x), out = rt.arena.alloc(want.length * 4);
    for (const [how, w] of packs(rt, k, KH * KW * C, Cout, false)) {
      conv2dI8(px, [B, H, W, C], w, [KH, KW], out, { padding: 1 }, rt);
      expect(firstDiff(i32At(rt, out, want.length), want), how).toBe(-1);
      w.free();
    }
    rt.arena.free(px); rt.arena.free(out);
  });

  it('a prepared epilogue gives the same bytes as its DequantI8 (GEMM, conv, depthwise) and is checked', () => {
    const M = 13, K = 20, N = 11;
    const a = codes(5, M * K, 127, 'mixed'), b = codes(6, K * N, 127, 'mixed');
    const d = { sA: 9, sW: Float32Array.from({ length: N }, (_, n) => 0.5 + n), bias: new Float32Array(N).fill(0.5),
      outScale: Float32Array.from({ length: N }, (_, n) => (n % 3) - 1), clamp: [0, 6] as [number, number], requantize: { s: 3, format: 'INT8' } };
    const pa = put(rt, a), pk = put(rt, b), out1 = rt.arena.alloc(M * N * 4), out2 = rt.arena.alloc(M * N * 4);
    const w = packWeightsI8(pk, K, N, rt);
    const before = rt.arena.bytesInUse;
    const pd = prepareDequant(d, N, rt);
    for (const run of [
      (o: number, q: typeof d | typeof pd) => gemmI8Dequant(pa, M, w, o, q, rt),
      (o: number, q: typeof d | typeof pd) => conv2dI8(pa, [1, 1, M, K], w, [1, 1], o, { dequant: q }, rt),
    ]) {
      run(out1, d); run(out2, pd);
      expect(firstDiff(rt.i8.slice(out1, out1 + M * N), rt.i8.slice(out2, out2 + M * N))).toBe(-1);
    }
    const dw = prepareDequant({ ...d, sW: d.sW.subarray(0, 4), bias: d.bias.subarray(0, 4), outScale: d.outScale.subarray(0, 4) }, 4, rt);
    depthwiseConv2dI8(pa, [1, 13, 5, 4], pk, [3, 3], out1, { padding: 1, dequant: { ...d, sW: d.sW.subarray(0, 4), bias: d.bias.subarray(0, 4), outScale: d.outScale.subarray(0, 4) } }, rt);
    depthwiseConv2dI8(pa, [1, 13, 5, 4], pk, [3, 3], out2, { padding: 1, dequant: dw }, rt);
    expect(firstDiff(rt.i8.slice(out1, out1 + 13 * 5 * 4), rt.i8.slice(out2, out2 + 13 * 5 * 4))).toBe(-1);
    expect(() => gemmI8Dequant(pa, M, w, out1, dw, rt)).toThrow(/prepared for 4 columns, not 11/);
    pd.free(); dw.free();
    expect(() => gemmI8Dequant(pa, M, w, out1, pd, rt)).toThrow(/dequant: was freed/);
    expect(rt.arena.bytesInUse).toBe(before); // per-call blocks released, the prepared ones freed
    w.free(); rt.arena.free(pa); rt.arena.free(pk); rt.arena.free(out1); rt.arena.free(out2);
  });

  it('reads INT4 codes in packCodes order (low nibble first), including code 8 as −8', () => {
    const bytes = Uint8Array.of(0xf1, 0x87, 0x9e);
    expect(Array.from(unpackI4Ref(bytes, 6))).toEqual([1, -1, 7, -8, -2, -7]);
    const a = put(rt, Int8Array.of(1)), out = rt.arena.alloc(24);
    for (const pack of [packWeightsI4, packWeightsI4AsI8]) {
      const w = pack(put(rt, bytes), 1, 6, rt);
      gemmI8(a, 1, w, out, rt);
      expect(Array.from(i32At(rt, out, 6))).toEqual([1, -1, 7, -8, -2, -7]);
    }
  });
});

describe('int8 kernels reject bad input with a FliqsError naming the shapes', () => {
  const rt = runtimes[0]!, other = runtimes[1]!;
  const b = put(rt, new Int8Array(15)), a = put(rt, new Int8Array(12)), out = rt.arena.alloc(64);

  it('checks sizes, offsets and the weights', () => {
    const w = packWeightsI8(b, 3, 5, rt);
    expect(() => gemmI8(a, 0, w, out, rt)).toThrow(FliqsError);
    expect(() => gemmI8(a, 2.5, w, out, rt)).toThrow(/M/);
    expect(() => gemmI8(-64, 2, w, out, rt)).toThrow(/A \[2,3\] · B \[3,5\]/);
    expect(() => gemmI8(a, 2, w, rt.memory.buffer.byteLength - 8, rt)).toThrow(/out \[2,5\]/);
    expect(() => gemmI8(a, 2, w, out + 2, rt)).toThrow(/multiple of 4/);
    expect(() => gemmI8(a, 2, w, out, other)).toThrow(/runtime/);
    expect(() => gemmI8(a, 2, {} as PackedWeightsI8, out, rt)).toThrow(/packWeightsI8/);
    expect(() => packWeightsI8(b, 0, 5, rt)).toThrow(FliqsError);
    expect(() => packWeightsI8(b, MAX_K_I8 + 1, 1, rt)).toThrow(/overflow/);
    expect(() => packWeightsI8(rt.memory.buffer.byteLength - 4, 3, 5, rt)).toThrow(/B \[3,5\]/);
    w.free();
    expect(() => gemmI8(a, 2, w, out, rt)).toThrow(/freed/);
  });

  it('checks the dequantization scales and bias', () => {
    const w = packWeightsI8(b, 3, 5, rt);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 0, sW: 1 }, rt)).toThrow(/sA/);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 1, sW: [1, 2] }, rt)).toThrow(/5 \(one per output column/);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 1, sW: [1, 2, 3, 4, -5] }, rt)).toThrow(/sW\[4\]/);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 1, sW: 1, bias: [1] }, rt)).toThrow(/bias/);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 1, sW: 1, outScale: [1] }, rt)).toThrow(/outScale/);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 1, sW: 1, outScale: [1, 1, 1, -2, NaN] }, rt)).toThrow(/outScale\[4\]/);
    expect(() => gemmI8Dequant(a, 2, w, out, { sA: 1e-30, sW: 1e-30 }, rt)).toThrow(/reciprocal/);
    w.free();
  });

  it('checks conv shapes against the packed weights', () => {
    const w = packWeightsI8(b, 3, 5, rt); // K = 3 = 1·1·3 or 3·1·1
    expect(() => conv2dI8(a, [1, 2, 2, 3], w, [2, 2], out, {}, rt)).toThrow(/K = 3 rows but the activations have K = 12 \(x \[1,2,2,3\], kernel \[2,2,3,5\]/);
    expect(() => conv2dI8(a, [1, 2, 2, 1], w, [5, 1], out, {}, rt)).toThrow(/\[5,1\] does not fit input \[1,2,2,1\]/);
    expect(() => conv2dI8(a, [1, 2, 2, 3], w, [1, 1], out, { stride: 0 }, rt)).toThrow(/stride/);
    expect(() => conv2dI8(a, [1, 2, 2] as unknown as [number, number, number, number], w, [1, 1], out, {}, rt)).toThrow(/xShape/);
    w.free();
  });

  it('checks the quantizer format and scale', () => {
    const x = rt.copyIn([1, 2, 3]);
    expect(() => quantizeToI8(x.ptr, out, 3, 1, 'E4M3', rt)).toThrow(/INT2…INT8/);
    expect(() => quantizeToI8(x.ptr, out, 3, 1, 'INT16', rt)).toThrow(/INT16/);
    expect(() => quantizeToI8(x.ptr, out, 3, -1, 'INT8', rt)).toThrow(/^s:/);
    expect(() => quantizeToI8(x.ptr, out, 3, 1e39, 'INT8', rt)).toThrow(/overflows/);
    expect(() => quantizePerChannelToI8(x.ptr, out, 1, 3, [1, 2], 'INT8', rt)).toThrow(/3 positive scales/);
    expect(() => quantizeToI8(x.ptr, out, 1e6, 1, 'INT8', rt)).toThrow(/f32 x \[1000000\]/);
  });
});

it('the tests above reach every kernel of INT8_GEMM_KERNELS and INT8_KERNELS on both modules', () => {
  expect(runtimes.flatMap((rt, i) => [...kernelsNotCalled(INT8_GEMM_KERNELS, rt, called[i]!), ...kernelsNotCalled(INT8_KERNELS, rt, called[i]!)])).toEqual([]);
});
