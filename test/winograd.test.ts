// Winograd F(2×2, 3×3) conv2d forward, grad-input and grad-weight (assembly/winograd.ts via src/kernels/winograd.ts)
// against (a) the scalar Winograd reference (src/kernels/winograd.ref.ts) and (b) the direct f64
// references conv2dRef / conv2dGradInputRef / conv2dGradWeightRef, on both module variants; bad input → FliqsError.
//
// Error bound. F(2,3) is a bilinear algorithm: every output is a signed sum of monomials
// (transform coefficient) · x · w, and the monomials do not all survive exactly (most cancel in exact
// arithmetic). Rounding each f32 operation multiplies each monomial by at most n factors (1 + δ), |δ| ≤ 2⁻²⁴,
// so |got − exact| ≤ γ_n · scale with γ_n = n·2⁻²⁴ / (1 − n·2⁻²⁴) and scale the same algorithm run on
// absolute values (winogradConv2dScale). n = C + 14 along every path: 6 roundings in the weight
// transform (two levels of add, add, ×½), 2 in the input transform, 1 product, C in the channel sum,
// 2 + 2 in the output transform, 1 for the bias. This is F(2,3)'s known error growth relative to the
// direct sum: the scale exceeds Σ|x·w| (the direct kernel's) because the transforms add and subtract up
// to 4 inputs (|Bᵀ d B| ≤ 4·max|d|) and 9 weights with weights ½·½ (|G g Gᵀ| ≤ 2.25·max|g|), and each output sums
// 9 products of the 16 — up to 81× the per-product magnitude vs 9× for the direct 3×3 window.
// Measured (node --experimental-wasm-relaxed-simd bench/winograd-error.mjs: the resnet8 3×3 layers at batch 64,
// x = ReLU(N(0,1)), w He-uniform, dy ~ N(0,1); both modules): max |got − f64| / max|f64| is 1.9e-7 … 3.4e-7
// for winograd vs 3.5e-7 … 1.1e-6 for the direct kernel (winograd sums C products per output, direct 9·C), while the mean
// relative error over outputs is 1.0–1.5× the direct kernel's (4.7e-7 … 8.6e-7 vs 3.2e-7 … 8.1e-7) —
// the transforms' growth, far inside the γ_n bound; the conv tests' direct-kernel tolerances hold too.
// Grad-weight: max |got − f64| / max|f64| 3.3e-7 … 6.1e-7 vs the direct kernel's 2.6e-7 … 5.8e-7 (0.9–1.6×),
// mean relative error 1.3–1.6× the direct kernel's. (Summing all tiles in one accumulator instead of per block
// measured 4–10× — hence the two-level sum.)
// Grad-weight runs the transposed algorithm, dw = Gᵀ [Σ_tiles (A e Aᵀ) ⊙ (Bᵀ d B)] G, whose sum runs over the
// T = N·⌈OH/2⌉·⌈OW/2⌉ tiles, per block of tb tiles and then across the blocks: a product meets at most
// tb + blocks ≤ T + 1 roundings there, so n = T + 12 (2 input transform, 2 dy transform, 1 product, T + 1 sum,
// 3 + 3 final transform) — a loose but valid bound (blocks of tb tiles make the real growth ~tb + T/tb).
// (a) The baseline-SIMD module must equal the f32 reference exactly (same operation order, separate multiply
// and add). The relaxed module fuses the channel-sum multiply-adds, so both it and the reference are within
// γ_n · scale of the exact value: |got − ref| ≤ 2γ_n · scale.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRuntime, type Runtime, type Variant } from '../src/core/runtime.js';
import { conv2dShape, conv2d, conv2dGradInput, conv2dGradWeight, type ConvShape } from '../src/kernels/conv.js';
import { conv2dRef, conv2dGradInputRef, conv2dGradWeightRef } from '../src/kernels/conv.ref.js';
import { expectFliqsError } from './error-helpers.js';
import {
  winogradConv2d, winogradConv2dGradInput, winogradConv2dGradWeight, winogradApplies, winogradTilesPerBlock,
  setWinogradDispatch, preferWinograd, preferWinogradGradInput, preferWinogradGradWeight,
} from '../src/kernels/winograd.js';
import {
  winogradConv2dRef, winogradConv2dGradInputRef, winogradConv2dScale, winogradConv2dGradInputScale,
  winogradConv2dGradWeightRef, winogradConv2dGradWeightScale,
} from '../src/kernels/winograd.ref.js';

const VARIANTS: Variant[] = ['simd', 'relaxed'];
const runtimes = new Map<Variant, Runtime>();
for (const v of VARIANTS) runtimes.set(v, await createRuntime(v));

/** Deterministic values in [-1, 1). */
function randomF32(n: number, seed: number): Float32Array {
  let s = (seed >>> 0) || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const gamma = (n: number) => (n * 2 ** -24) / (1 - n * 2 ** -24);

/** |got − ref| ≤ k·γ_n·scale elementwise (k·γ_n = 0: exact). */
function expectWithin(got: Float32Array, ref: ArrayLike<number>, scale: ArrayLike<number>, rel: number, what: string): void {
  expect(got.length, what).toBe(ref.length);
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!), tol = rel * scale[i]!;
    if (!(e <= tol)) throw new Error(`${what}: |got − ref| = ${e} at ${i} (got ${got[i]}, ref ${ref[i]}) > ${tol}`);
  }
}

const tag = (s: ConvShape) => `N${s.N} ${s.H}×${s.W}×${s.C} → ${s.CO}, pad [${s.pt},${s.pl},${s.pb},${s.pr}]`;

/** Random 3×3 stride-1 geometry: N 1..3, H, W 1..12 (raised to what the padding needs), C, CO 1..20, paddings 0..2. */
const shapeArb = fc.record({
  N: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 12 }), W: fc.integer({ min: 1, max: 12 }),
  C: fc.integer({ min: 1, max: 20 }), CO: fc.integer({ min: 1, max: 20 }),
  pads: fc.oneof(fc.constantFrom(0, 1).map((p) => [p, p, p, p] as const),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))),
  bias: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
}).map((r) => {
  const [pt, pl, pb, pr] = r.pads;
  const H = Math.max(r.H, 3 - pt - pb), W = Math.max(r.W, 3 - pl - pr);
  return { s: conv2dShape([r.N, H, W, r.C], [3, 3, r.C, r.CO], { padding: [pt, pl, pb, pr] }), bias: r.bias, seed: r.seed };
});

describe.each(VARIANTS)('winograd F(2×2, 3×3) on the %s module', (variant) => {
  const rt = runtimes.get(variant)!;
  const exact = variant === 'simd';

  it('forward, grad-input and grad-weight match the Winograd reference and the direct reference', () => {
    fc.assert(fc.property(shapeArb, ({ s, bias, seed }) => {
      const x = randomF32(s.N * s.H * s.W * s.C, seed), w = randomF32(9 * s.C * s.CO, seed + 1);
      const b = bias ? randomF32(s.CO, seed + 2) : null, dy = randomF32(s.N * s.OH * s.OW * s.CO, seed + 3);
      const X = rt.copyIn(x), Wt = rt.copyIn(w), B = b ? rt.copyIn(b) : null, DY = rt.copyIn(dy);
      const y = winogradConv2d(X, Wt, B, s), dx = winogradConv2dGradInput(DY, Wt, s), dw = winogradConv2dGradWeight(X, DY, s);
      try {
        const T = s.N * Math.ceil(s.OH / 2) * Math.ceil(s.OW / 2), ndw = T + 12, dwScale = winogradConv2dGradWeightScale(x, dy, s);
        expectWithin(dw.array, winogradConv2dGradWeightRef(x, dy, s, winogradTilesPerBlock(s.C, s.CO, T)), dwScale, exact ? 0 : 2 * gamma(ndw), `grad-weight vs winograd ref ${tag(s)}`);
        expectWithin(dw.array, conv2dGradWeightRef(x, dy, s), dwScale, gamma(ndw) + 2 ** -40, `grad-weight vs conv2dGradWeightRef ${tag(s)}`);
        const yScale = winogradConv2dScale(x, w, b, s), dxScale = winogradConv2dGradInputScale(dy, w, s);
        const ny = s.C + 14, ndx = s.CO + 14;
        expectWithin(y.array, winogradConv2dRef(x, w, b, s), yScale, exact ? 0 : 2 * gamma(ny), `forward vs winograd ref ${tag(s)}`);
        expectWithin(dx.array, winogradConv2dGradInputRef(dy, w, s), dxScale, exact ? 0 : 2 * gamma(ndx), `grad-input vs winograd ref ${tag(s)}`);
        expectWithin(y.array, conv2dRef(x, w, b, s), yScale, gamma(ny) + 2 ** -40, `forward vs conv2dRef ${tag(s)}`);
        expectWithin(dx.array, conv2dGradInputRef(dy, w, s), dxScale, gamma(ndx) + 2 ** -40, `grad-input vs conv2dGradInputRef ${tag(s)}`);
      } finally {
        for (const t of [X, Wt, B, DY, y, dx, dw]) t?.free();
      }
    }), { numRuns: 150 });
  });

  it('runs many tile blocks, 4-tile remainders and channel tails at resnet-like widths', () => {
    for (const [N, H, W, C, CO] of [[3, 14, 14, 32, 32], [2, 7, 7, 64, 64], [1, 28, 27, 16, 16], [5, 9, 11, 13, 21]] as const) {
      const s = conv2dShape([N, H, W, C], [3, 3, C, CO], { padding: 1 });
      const x = randomF32(N * H * W * C, C), w = randomF32(9 * C * CO, CO), b = randomF32(CO, 3), dy = randomF32(N * H * W * CO, 4);
      const X = rt.copyIn(x), Wt = rt.copyIn(w), B = rt.copyIn(b), DY = rt.copyIn(dy);
      const y = winogradConv2d(X, Wt, B, s), dx = winogradConv2dGradInput(DY, Wt, s), dw = winogradConv2dGradWeight(X, DY, s);
      const ndw = N * Math.ceil(H / 2) * Math.ceil(W / 2) + 12;
      expectWithin(dw.array, conv2dGradWeightRef(x, dy, s), winogradConv2dGradWeightScale(x, dy, s), gamma(ndw) + 2 ** -40, `grad-weight ${tag(s)}`);
      expectWithin(y.array, conv2dRef(x, w, b, s), winogradConv2dScale(x, w, b, s), gamma(C + 14) + 2 ** -40, `forward ${tag(s)}`);
      expectWithin(dx.array, conv2dGradInputRef(dy, w, s), winogradConv2dGradInputScale(dy, w, s), gamma(CO + 14) + 2 ** -40, `grad-input ${tag(s)}`);
      for (const t of [X, Wt, B, DY, y, dx, dw]) t.free();
    }
  });
});

describe('conv.ts dispatch to winograd', () => {
  const rt = runtimes.get('relaxed')!;

  it('is on by default: conv2d and its gradients return the winograd kernels\' bits where preferred', () => {
    const s = conv2dShape([2, 9, 8, 16], [3, 3, 16, 12], { padding: 1 });
    const stem = conv2dShape([2, 9, 8, 1], [3, 3, 1, 16], { padding: 1 });
    const x = rt.copyIn(randomF32(2 * 9 * 8 * 16, 1)), w = rt.copyIn(randomF32(9 * 16 * 12, 2)), dy = rt.copyIn(randomF32(2 * 9 * 8 * 12, 3));
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    const was = setWinogradDispatch(true);
    expect(was).toBe(true);
    try {
      expect([preferWinograd(s), preferWinogradGradInput(s), preferWinogradGradWeight(s)]).toEqual([true, true, true]);
      expect([preferWinograd(stem), preferWinogradGradWeight(stem)]).toEqual([false, false]); // 1 input channel: direct
      const pairs = [[conv2d(x, w, null, s), winogradConv2d(x, w, null, s)], [conv2dGradInput(dy, w, s), winogradConv2dGradInput(dy, w, s)],
        [conv2dGradWeight(x, dy, s), winogradConv2dGradWeight(x, dy, s)]];
      for (const [a, b] of pairs) expect(bits(a!.array)).toEqual(bits(b!.array));
      for (const [a, b] of pairs) { a!.free(); b!.free(); }
    } finally {
      setWinogradDispatch(was);
      for (const t of [x, w, dy]) t.free();
    }
  });
});

describe('winograd bad input', () => {
  const rt = runtimes.get('simd')!;
  const err = expectFliqsError;

  it('refuses geometries it does not run and wrong buffers', () => {
    const s = conv2dShape([1, 5, 5, 3], [3, 3, 3, 4], { padding: 1 });
    expect(winogradApplies(s)).toBe(true);
    const strided = conv2dShape([1, 5, 5, 3], [3, 3, 3, 4], { stride: 2 });
    const fiveByFive = conv2dShape([1, 5, 5, 3], [5, 5, 3, 4]);
    const grouped = conv2dShape([1, 5, 5, 4], [3, 3, 2, 4], { groups: 2 });
    const padded = conv2dShape([1, 5, 5, 3], [3, 3, 3, 4], { padding: 3 });
    for (const t of [strided, fiveByFive, grouped, padded]) expect(winogradApplies(t)).toBe(false);
    const x = rt.allocF32(75), w = rt.allocF32(108), short = rt.allocF32(10);
    err(() => winogradConv2d(x, w, null, strided), /stride 2×2.*3×3, stride-1, groups-1/);
    err(() => winogradConv2d(x, short, null, s), /w: has length 10.*\[3, 3, 3, 4\]/);
    err(() => winogradConv2d(x, w, short, s), /bias: has length 10/);
    err(() => winogradConv2dGradInput(x, w, s), /dy: has length 75.*\[1, 5, 5, 4\]/);
    err(() => winogradConv2dGradWeight(x, short, s), /dy: has length 10/);
    err(() => winogradConv2dGradWeight(x, x, strided), /stride 2×2/);
    err(() => winogradConv2d(new Float32Array(75) as never, w, null, s), /x: got Float32Array/);
    for (const t of [x, w, short]) t.free();
  });
});
