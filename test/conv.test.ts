// The convolution family (assembly/conv2d*.ts, depthwise.ts, pool.ts via src/kernels/conv.ts) against the scalar reference
// (src/kernels/conv.ref.ts) on both module variants: conv2d forward / grad-input / grad-weight / bias
// grad, depthwise forward and gradients, max / average / global-average pooling and their backward;
// gradients against central finite differences of the f64 reference; bad input → FliqsError.
//
// Error bound. Every output is a sum of R products (R = the reduction length: KH·KW·Cin/groups (+1 with
// bias) for forward, KH·KW·Cout/groups for grad-input, N·OH·OW for grad-weight, the window for pooling)
// accumulated in f32, so |got − ref| ≤ 2^-20 · R · max|term| + 1e-30 with max|term| = max|a|·max|b| of
// the two operands (for sums/means: max|x|). Max pool must match exactly (value and argmax).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRuntime, type Runtime, type Variant, type WasmF32 } from '../src/core/runtime.js';
import { kernelsNotCalled, trackKernels } from './kernel-coverage.js';
import { expectFliqsError } from './error-helpers.js';
import {
  conv2dShape, depthwiseConv2dShape, pool2dShape, conv2d, conv2dGradInput, conv2dGradWeight,
  conv2dGradBias, CONV_KERNELS, depthwiseConv2d, depthwiseConv2dGradInput, depthwiseConv2dGradWeight, maxPool2d,
  maxPool2dGrad, avgPool2d, avgPool2dGrad, globalAvgPool, globalAvgPoolGrad,
  type ConvShape,
} from '../src/kernels/conv.js';
import {
  conv2dRef, conv2dGradInputRef, conv2dGradWeightRef, conv2dGradBiasRef, maxPool2dRef, maxPool2dGradRef, avgPool2dRef, avgPool2dGradRef,
  globalAvgPoolRef, globalAvgPoolGradRef,
} from '../src/kernels/conv.ref.js';

const VARIANTS: Variant[] = ['simd', 'relaxed'];
const runtimes = new Map<Variant, Runtime>();
for (const v of VARIANTS) runtimes.set(v, await createRuntime(v));
const called = new Map([...runtimes].map(([v, rt]) => [v, trackKernels(rt)]));

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

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };

function expectClose(got: Float32Array, ref: ArrayLike<number>, R: number, term: number, what: string): void {
  expect(got.length, what).toBe(ref.length);
  const tol = 2 ** -20 * R * term + 1e-30;
  let worst = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  if (!(worst <= tol)) throw new Error(`${what}: |got − ref| = ${worst} at ${at} (got ${got[at]}, ref ${ref[at]}) > ${tol}`);
}

const tag = (s: ConvShape) => `N${s.N} ${s.H}×${s.W}×${s.C} → ${s.CO}, k ${s.KH}×${s.KW}, s ${s.sh}×${s.sw}, ` +
  `pad [${s.pt},${s.pl},${s.pb},${s.pr}], groups ${s.groups}`;

/** Random conv geometry: N 1..3, H,W 1..12, C/CO 1..20 with groups dividing both, kernel 1..5, stride 1..2, padding 0..2. */
const convArb = (maxN = 3, maxHW = 12, maxC = 20, maxK = 5) => fc.record({
  N: fc.integer({ min: 1, max: maxN }), H: fc.integer({ min: 1, max: maxHW }), W: fc.integer({ min: 1, max: maxHW }),
  groups: fc.integer({ min: 1, max: 4 }), icg: fc.integer({ min: 1, max: maxC }), ocg: fc.integer({ min: 1, max: maxC }),
  KH: fc.integer({ min: 1, max: maxK }), KW: fc.integer({ min: 1, max: maxK }),
  sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }),
  pads: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  bias: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
}).map((r) => {
  const icg = Math.max(1, Math.min(r.icg, Math.floor(maxC / r.groups)));
  const ocg = Math.max(1, Math.min(r.ocg, Math.floor(maxC / r.groups)));
  const KH = Math.min(r.KH, r.H + r.pads[0] + r.pads[2]), KW = Math.min(r.KW, r.W + r.pads[1] + r.pads[3]);
  const s = conv2dShape([r.N, r.H, r.W, icg * r.groups], [KH, KW, icg, ocg * r.groups],
    { stride: [r.sh, r.sw], padding: r.pads, groups: r.groups });
  return { s, bias: r.bias, seed: r.seed };
});

function alloc(rt: Runtime, a: Float32Array): WasmF32 { return rt.copyIn(a); }
function freeAll(...bs: Array<{ free(): void } | null>): void { for (const b of bs) b?.free(); }

describe.each(VARIANTS)('conv family on the %s module', (variant) => {
  const rt = runtimes.get(variant)!;

  it('one input channel (a first layer; grad-input has its own path): forward, grad-input, grad-weight match the reference', () => {
    const oneChannel = convArb(3, 12, 20, 5).map(({ s, seed }) =>
      ({ s: conv2dShape([s.N, s.H, s.W, 1], [s.KH, s.KW, 1, s.CO / s.groups], { stride: [s.sh, s.sw], padding: [s.pt, s.pl, s.pb, s.pr] }), seed }));
    fc.assert(fc.property(oneChannel, ({ s, seed }) => {
      const x = randomF32(s.N * s.H * s.W, seed), w = randomF32(s.KH * s.KW * s.CO, seed + 1);
      const dy = randomF32(s.N * s.OH * s.OW * s.CO, seed + 3);
      const X = alloc(rt, x), Wt = alloc(rt, w), DY = alloc(rt, dy);
      const y = conv2d(X, Wt, null, s), dx = conv2dGradInput(DY, Wt, s), dw = conv2dGradWeight(X, DY, s);
      try {
        expectClose(y.array, conv2dRef(x, w, null, s), s.KH * s.KW, 1, `forward ${tag(s)}`);
        expectClose(dx.array, conv2dGradInputRef(dy, w, s), s.KH * s.KW * s.CO, 1, `grad-input ${tag(s)}`);
        expectClose(dw.array, conv2dGradWeightRef(x, dy, s), s.N * s.OH * s.OW, 1, `grad-weight ${tag(s)}`);
      } finally {
        freeAll(X, Wt, DY, y, dx, dw);
      }
    }), { numRuns: 60 });
  });

  it('conv2d forward, grad-input, grad-weight and bias grad match the reference', () => {
    fc.assert(fc.property(convArb(), ({ s, bias, seed }) => {
      const ICg = s.C / s.groups, OCg = s.CO / s.groups;
      const x = randomF32(s.N * s.H * s.W * s.C, seed);
      const w = randomF32(s.KH * s.KW * ICg * s.CO, seed + 1);
      const b = bias ? randomF32(s.CO, seed + 2) : null;
      const dy = randomF32(s.N * s.OH * s.OW * s.CO, seed + 3);
      const X = alloc(rt, x), Wt = alloc(rt, w), B = b ? alloc(rt, b) : null, DY = alloc(rt, dy);
      const y = conv2d(X, Wt, B, s);
      const dx = conv2dGradInput(DY, Wt, s);
      const dw = conv2dGradWeight(X, DY, s);
      const db = conv2dGradBias(DY, s);
      try {
        expectClose(y.array, conv2dRef(x, w, b, s), s.KH * s.KW * ICg + 1, 1, `forward ${tag(s)}`);
        expectClose(dx.array, conv2dGradInputRef(dy, w, s), s.KH * s.KW * OCg, 1, `grad-input ${tag(s)}`);
        expectClose(dw.array, conv2dGradWeightRef(x, dy, s), s.N * s.OH * s.OW, 1, `grad-weight ${tag(s)}`);
        expectClose(db.array, conv2dGradBiasRef(dy, s.N * s.OH * s.OW, s.CO), s.N * s.OH * s.OW, 1, `grad-bias ${tag(s)}`);
      } finally {
        freeAll(X, Wt, B, DY, y, dx, dw, db);
      }
    }), { numRuns: 120 });
  });

  it('conv2d handles channel counts around the 8-wide tile on wide rows (4-pixel tiles + tails)', () => {
    for (const [C, CO, g] of [[1, 16, 1], [16, 32, 1], [9, 17, 1], [12, 24, 4], [3, 8, 1]] as const) {
      const s = conv2dShape([2, 9, 14, C], [3, 3, C / g, CO], { padding: 1, groups: g });
      const x = randomF32(2 * 9 * 14 * C, C), w = randomF32(9 * (C / g) * CO, CO), dy = randomF32(2 * 9 * 14 * CO, 7);
      const X = alloc(rt, x), Wt = alloc(rt, w), DY = alloc(rt, dy);
      const y = conv2d(X, Wt, null, s), dx = conv2dGradInput(DY, Wt, s), dw = conv2dGradWeight(X, DY, s);
      expectClose(y.array, conv2dRef(x, w, null, s), 9 * C, 1, `forward ${tag(s)}`);
      expectClose(dx.array, conv2dGradInputRef(dy, w, s), 9 * CO, 1, `grad-input ${tag(s)}`);
      expectClose(dw.array, conv2dGradWeightRef(x, dy, s), 2 * 9 * 14, 1, `grad-weight ${tag(s)}`);
      freeAll(X, Wt, DY, y, dx, dw);
    }
  });

  it('conv2d grad-weight as a GEMM over pixels: several 256-pixel chunks, groups, strides, edge padding', () => {
    // Patches of ≥ 32 entries take the GEMM path; N·OH·OW > 256 spans chunks (beta = 1 accumulation).
    for (const [N, H, W, C, CO, k, st, pad, g] of [
      [3, 11, 13, 8, 12, 3, 1, 1, 2], [2, 17, 15, 16, 9, 3, 2, [0, 1, 2, 0], 1], [1, 23, 21, 5, 7, 5, 1, 2, 1],
      [4, 9, 10, 32, 33, 1, 1, 0, 1],
    ] as const) {
      const s = conv2dShape([N, H, W, C], [k, k, C / g, CO], { stride: st, padding: pad as never, groups: g });
      const x = randomF32(N * H * W * C, C + 1), dy = randomF32(N * s.OH * s.OW * CO, CO + 2);
      const X = alloc(rt, x), DY = alloc(rt, dy);
      const dw = conv2dGradWeight(X, DY, s);
      expectClose(dw.array, conv2dGradWeightRef(x, dy, s), N * s.OH * s.OW, 1, `grad-weight ${tag(s)}`);
      freeAll(X, DY, dw);
    }
  });

  it('depthwise handles wide rows (6-pixel stride-1 3×3 tiles, 4-pixel tiles, channel tails)', () => {
    for (const [C, k, st, pad] of [[16, 3, 1, 1], [9, 3, 1, 0], [24, 3, 2, 1], [8, 5, 1, 2], [3, 3, 1, 1]] as const) {
      const s = depthwiseConv2dShape([2, 7, 19, C], [k, k, C], { stride: st, padding: pad });
      const x = randomF32(2 * 7 * 19 * C, C), w = randomF32(k * k * C, k), b = randomF32(C, 5);
      const X = alloc(rt, x), Wt = alloc(rt, w), B = alloc(rt, b);
      const y = depthwiseConv2d(X, Wt, B, s);
      expectClose(y.array, conv2dRef(x, w, b, s), k * k + 1, 1, `dw forward ${tag(s)}`);
      freeAll(X, Wt, B, y);
    }
  });

  it('depthwise forward and gradients match the reference', () => {
    fc.assert(fc.property(convArb(), ({ s: c, bias, seed }) => {
      const C = c.C;
      const s = depthwiseConv2dShape([c.N, c.H, c.W, C], [c.KH, c.KW, C], { stride: [c.sh, c.sw], padding: [c.pt, c.pl, c.pb, c.pr] });
      const x = randomF32(s.N * s.H * s.W * C, seed), w = randomF32(s.KH * s.KW * C, seed + 1);
      const b = bias ? randomF32(C, seed + 2) : null, dy = randomF32(s.N * s.OH * s.OW * C, seed + 3);
      const X = alloc(rt, x), Wt = alloc(rt, w), B = b ? alloc(rt, b) : null, DY = alloc(rt, dy);
      const y = depthwiseConv2d(X, Wt, B, s), dx = depthwiseConv2dGradInput(DY, Wt, s), dw = depthwiseConv2dGradWeight(X, DY, s);
      try {
        expectClose(y.array, conv2dRef(x, w, b, s), s.KH * s.KW + 1, 1, `dw forward ${tag(s)}`);
        expectClose(dx.array, conv2dGradInputRef(dy, w, s), s.KH * s.KW, 1, `dw grad-input ${tag(s)}`);
        expectClose(dw.array, conv2dGradWeightRef(x, dy, s), s.N * s.OH * s.OW, 1, `dw grad-weight ${tag(s)}`);
      } finally {
        freeAll(X, Wt, B, DY, y, dx, dw);
      }
    }), { numRuns: 100 });
  });

  it('pooling forward and backward match the reference', () => {
    fc.assert(fc.property(convArb(), fc.boolean(), ({ s: c, seed }, ties) => {
      const kh = Math.min(c.KH, c.H), kw = Math.min(c.KW, c.W);
      const p = [Math.min(c.pt, kh - 1), Math.min(c.pl, kw - 1), Math.min(c.pb, kh - 1), Math.min(c.pr, kw - 1)] as const;
      const s = pool2dShape([c.N, c.H, c.W, c.C], { kernel: [kh, kw], stride: [c.sh, c.sw], padding: p });
      let x = randomF32(s.N * s.H * s.W * s.C, seed);
      if (ties) x = x.map((v) => Math.round(v * 2) / 2); // many equal values: ties must go to the first max
      const dy = randomF32(s.N * s.OH * s.OW * s.C, seed + 3);
      const X = alloc(rt, x), DY = alloc(rt, dy);
      const { y, argmax } = maxPool2d(X, s);
      const mref = maxPool2dRef(x, s);
      const dxm = maxPool2dGrad(DY, argmax, s);
      const ya = avgPool2d(X, s), dxa = avgPool2dGrad(DY, s);
      const gs = [s.N, s.H, s.W, s.C];
      const yg = globalAvgPool(X, gs);
      const DG = alloc(rt, dy.subarray(0, s.N * s.C));
      const dxg = globalAvgPoolGrad(DG, gs);
      try {
        expect(Array.from(y.array), `max ${tag(s)}`).toEqual(Array.from(mref.y, Math.fround));
        expect(Array.from(argmax.array), `argmax ${tag(s)}`).toEqual(Array.from(mref.idx));
        expectClose(dxm.array, maxPool2dGradRef(dy, mref.idx, x.length), s.KH * s.KW, 1, `max bwd ${tag(s)}`);
        expectClose(ya.array, avgPool2dRef(x, s), s.KH * s.KW, 1, `avg ${tag(s)}`);
        expectClose(dxa.array, avgPool2dGradRef(dy, s), s.KH * s.KW, 1, `avg bwd ${tag(s)}`);
        expectClose(yg.array, globalAvgPoolRef(x, s.N, s.H * s.W, s.C), s.H * s.W, 1, `global avg ${tag(s)}`);
        expectClose(dxg.array, globalAvgPoolGradRef(dy.subarray(0, s.N * s.C), s.N, s.H * s.W, s.C), 1, 1, `global avg bwd ${tag(s)}`);
      } finally {
        freeAll(X, DY, y, argmax, dxm, ya, dxa, yg, DG, dxg);
      }
    }), { numRuns: 100 });
  });

  // Finite differences: L(x, w) = Σ dy · f(x, w) with f the f64 reference forward; central differences
  // in f64 vs the kernels' gradients (f32).
  function fdCheck(name: string, f: (x: Float64Array, w: Float64Array) => Float64Array, x: Float32Array, w: Float32Array,
    dy: Float32Array, gx: Float32Array, gw: Float32Array | null, R: number, h = 1e-4): void {
    const xs = Float64Array.from(x), ws = Float64Array.from(w);
    const L = () => { const y = f(xs, ws); let a = 0; for (let i = 0; i < y.length; i++) a += y[i]! * dy[i]!; return a; };
    const tol = 2 ** -20 * R + 1e-7;
    for (const [v, g, what] of [[xs, gx, 'x'], [ws, gw, 'w']] as const) {
      if (!g) continue;
      for (let i = 0; i < v.length; i++) {
        const v0 = v[i]!;
        v[i] = v0 + h; const lp = L();
        v[i] = v0 - h; const lm = L();
        v[i] = v0;
        const fd = (lp - lm) / (2 * h);
        if (!(Math.abs(fd - g[i]!) <= tol)) throw new Error(`${name} d/d${what}[${i}]: kernel ${g[i]} vs finite difference ${fd}`);
      }
    }
  }

  it('gradients agree with central finite differences of the f64 reference', () => {
    fc.assert(fc.property(convArb(2, 5, 6, 3), ({ s, seed }) => {
      const ICg = s.C / s.groups;
      const x = randomF32(s.N * s.H * s.W * s.C, seed), w = randomF32(s.KH * s.KW * ICg * s.CO, seed + 1);
      const dy = randomF32(s.N * s.OH * s.OW * s.CO, seed + 2);
      const X = alloc(rt, x), Wt = alloc(rt, w), DY = alloc(rt, dy);
      const gx = conv2dGradInput(DY, Wt, s), gw = conv2dGradWeight(X, DY, s);
      fdCheck(`conv2d ${tag(s)}`, (a, b) => conv2dRef(a, b, null, s), x, w, dy, gx.array, gw.array, s.N * s.OH * s.OW * s.KH * s.KW);
      // depthwise on the same geometry with groups = C
      const d = depthwiseConv2dShape([s.N, s.H, s.W, s.C], [s.KH, s.KW, s.C], { stride: [s.sh, s.sw], padding: [s.pt, s.pl, s.pb, s.pr] });
      const wd = randomF32(s.KH * s.KW * s.C, seed + 4), dyd = randomF32(d.N * d.OH * d.OW * d.C, seed + 5);
      const WD = alloc(rt, wd), DYD = alloc(rt, dyd);
      const gxd = depthwiseConv2dGradInput(DYD, WD, d), gwd = depthwiseConv2dGradWeight(X, DYD, d);
      fdCheck(`depthwise ${tag(d)}`, (a, b) => conv2dRef(a, b, null, d), x, wd, dyd, gxd.array, gwd.array, d.N * d.OH * d.OW * d.KH * d.KW);
      // pooling (distinct random values, so max pool is differentiable at x)
      const p = pool2dShape([s.N, s.H, s.W, s.C], { kernel: [Math.min(s.KH, s.H), Math.min(s.KW, s.W)], stride: [s.sh, s.sw] });
      const dyp = randomF32(p.N * p.OH * p.OW * p.C, seed + 6);
      const DYP = alloc(rt, dyp);
      const { y, argmax } = maxPool2d(X, p);
      const gm = maxPool2dGrad(DYP, argmax, p), ga = avgPool2dGrad(DYP, p);
      fdCheck(`maxpool ${tag(p)}`, (a) => maxPool2dRef(a, p).y, x, new Float32Array(0), dyp, gm.array, null, p.KH * p.KW, 1e-7);
      fdCheck(`avgpool ${tag(p)}`, (a) => avgPool2dRef(a, p), x, new Float32Array(0), dyp, ga.array, null, p.KH * p.KW, 1e-7);
      freeAll(X, Wt, DY, gx, gw, WD, DYD, gxd, gwd, DYP, y, argmax, gm, ga);
    }), { numRuns: 25 });
  });
});

describe('conv family bad input', () => {
  const rt = runtimes.get('simd')!;
  const err = expectFliqsError;

  it('rejects geometries without output, groups not dividing channels, bad shapes', () => {
    err(() => conv2dShape([1, 2, 2, 3], [3, 3, 3, 4]), /2×2 with window 3×3.*output 0×0/);
    err(() => conv2dShape([1, 5, 5, 6], [3, 3, 2, 4], { groups: 4 }), /groups.*Cin = 6 and Cout = 4/);
    err(() => conv2dShape([1, 5, 5, 6], [3, 3, 3, 4], { groups: 1 }), /w shape.*\[3, 3, 3, 4\].*needs 6/);
    err(() => conv2dShape([1, 5, 5], [3, 3, 3, 4]), /x shape.*\[1, 5, 5\]/);
    err(() => conv2dShape([1, 5, 5, 3], [3, 3, 3, 4], { stride: 0 }), /stride/);
    err(() => conv2dShape([1, 5, 5, 3], [3, 3, 3, 4], { padding: [1, -1] }), /padding/);
    err(() => depthwiseConv2dShape([1, 5, 5, 3], [3, 3, 4]), /w shape.*\[3, 3, 4\].*\[KH, KW, 3\]/);
    err(() => pool2dShape([1, 5, 5, 3], { kernel: 2, padding: 2 }), /padding.*2×2 window/);
    err(() => pool2dShape([1, 1, 1, 3], { kernel: 2 }), /output 0×0/);
  });

  it('rejects buffers of the wrong length or runtime', () => {
    const s = conv2dShape([1, 5, 5, 3], [3, 3, 3, 4]);
    const x = rt.allocF32(75), w = rt.allocF32(108), short = rt.allocF32(10);
    err(() => conv2d(x, short, null, s), /w: has length 10.*length 108 \(\[3, 3, 3, 4\]\)/);
    err(() => conv2d(short, w, null, s), /x: has length 10.*\[1, 5, 5, 3\]/);
    err(() => conv2d(x, w, short, s), /bias: has length 10.*\[4\]/);
    err(() => conv2dGradInput(x, w, s), /dy: has length 75.*\[1, 3, 3, 4\]/);
    err(() => conv2dGradWeight(x, short, s), /dy/);
    err(() => conv2d(new Float32Array(75) as never, w, null, s), /x: got Float32Array/);
    const other = runtimes.get('relaxed')!.allocF32(108);
    err(() => conv2d(x, other, null, s), /w: is a WasmF32 of another runtime/);
    err(() => conv2d(x, w, null, s, short), /out: has length 10/);
    const p = pool2dShape([1, 5, 5, 3], { kernel: 2 });
    const { argmax } = maxPool2d(x, p);
    err(() => maxPool2dGrad(rt.allocF32(12), short as never, p), /argmax/);
    freeAll(x, w, short, other, argmax);
  });
});

it('the tests above reach every kernel of CONV_KERNELS on both modules', () => {
  expect([...runtimes].flatMap(([v, rt]) => kernelsNotCalled(CONV_KERNELS, rt, called.get(v)!))).toEqual([]);
});
