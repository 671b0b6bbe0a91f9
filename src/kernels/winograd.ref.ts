// Scalar reference of the Winograd F(2×2, 3×3) convolution (assembly/winograd.ts): the same tiles,
// transforms and channel-sum order, each f32 operation rounded with Math.fround, so the baseline-SIMD
// kernel (separate multiply and add) must match it exactly; the relaxed-SIMD kernel (fused
// multiply-add in the channel sums) differs only by those products' roundings. It also gives the
// algorithm's absolute-value scale, the quantity its rounding error is bounded by.
// Not the oracle for the convolution itself — that is conv2dRef (conv.ref.ts); this pins down the algorithm.

import type { ConvShape } from './conv.ref.js';

type Arr = ArrayLike<number>;

/** The arithmetic of one run: f32 (each result rounded) or absolute values (every sign dropped, exact). */
interface Ops { add(a: number, b: number): number; sub(a: number, b: number): number; mul(a: number, b: number): number; val(a: number): number }
const F32: Ops = {
  add: (a, b) => Math.fround(a + b), sub: (a, b) => Math.fround(a - b), mul: (a, b) => Math.fround(a * b), val: Math.fround,
};
const ABS: Ops = { add: (a, b) => a + b, sub: (a, b) => a + b, mul: (a, b) => a * b, val: Math.abs };

/**
 * V[ξ][c] = (Bᵀ d B)[ξ] for the 4×4 input tile d of image n at (ih0, iw0) (zero outside x [N, H, W, C]),
 * Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]: T = Bᵀ d column by column, then each row of T times B.
 */
function inputTile(ops: Ops, x: Arr, n: number, ih0: number, iw0: number, H: number, W: number, C: number, V: Float64Array): void {
  const { add, sub, val } = ops;
  for (let c = 0; c < C; c++) {
    const d = (i: number, j: number) => {
      const ih = ih0 + i, iw = iw0 + j;
      return ih >= 0 && ih < H && iw >= 0 && iw < W ? val(x[((n * H + ih) * W + iw) * C + c]!) : 0;
    };
    const T = [0, 1, 2, 3].map((j) => [sub(d(0, j), d(2, j)), add(d(1, j), d(2, j)), sub(d(2, j), d(1, j)), sub(d(1, j), d(3, j))]);
    for (let r = 0; r < 4; r++) {
      const t = (j: number) => T[j]![r]!;
      V[(4 * r) * C + c] = sub(t(0), t(2));
      V[(4 * r + 1) * C + c] = add(t(1), t(2));
      V[(4 * r + 2) * C + c] = sub(t(2), t(1));
      V[(4 * r + 3) * C + c] = sub(t(1), t(3));
    }
  }
}

/**
 * The core: y[n, oh, ow, o] = bias[o] + Σ_{kh,kw,c} x[n, oh−pt+kh, ow−pl+kw, c] · g(kh·3 + kw, c, o) over
 * a 3×3 window, by F(2×2, 3×3) tiles, for oh < OH, ow < OW. x is [N, H, W, C].
 */
function winogradF23(ops: Ops, x: Arr, N: number, H: number, W: number, C: number, g: (k: number, c: number, o: number) => number,
  CO: number, bias: Arr | null, OH: number, OW: number, pt: number, pl: number): Float64Array {
  const { add, sub, mul, val } = ops;
  // U[ξ][c][o] = G g Gᵀ, G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]]: first G·g column by column, then rows times Gᵀ
  const U = new Float64Array(16 * C * CO);
  for (let c = 0; c < C; c++) for (let o = 0; o < CO; o++) {
    const gg: number[] = [];
    for (let k = 0; k < 3; k++) {
      const g0 = val(g(k, c, o)), g1 = val(g(3 + k, c, o)), g2 = val(g(6 + k, c, o));
      gg[k] = g0;
      gg[3 + k] = mul(add(add(g0, g1), g2), 0.5);
      gg[6 + k] = mul(add(sub(g0, g1), g2), 0.5);
      gg[9 + k] = g2;
    }
    for (let r = 0; r < 4; r++) {
      const a0 = gg[3 * r]!, a1 = gg[3 * r + 1]!, a2 = gg[3 * r + 2]!;
      const row = [a0, mul(add(add(a0, a1), a2), 0.5), mul(add(sub(a0, a1), a2), 0.5), a2];
      for (let s = 0; s < 4; s++) U[((4 * r + s) * C + c) * CO + o] = row[s]!;
    }
  }
  const TH = Math.ceil(OH / 2), TW = Math.ceil(OW / 2);
  const y = new Float64Array(N * OH * OW * CO);
  const V = new Float64Array(16 * C), M = new Float64Array(16 * CO);
  for (let n = 0; n < N; n++) for (let th = 0; th < TH; th++) for (let tw = 0; tw < TW; tw++) {
    const ih0 = 2 * th - pt, iw0 = 2 * tw - pl;
    inputTile(ops, x, n, ih0, iw0, H, W, C, V);
    for (let k = 0; k < 16; k++) for (let o = 0; o < CO; o++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc = add(acc, mul(V[k * C + c]!, U[(k * C + c) * CO + o]!));
      M[k * CO + o] = acc;
    }
    for (let o = 0; o < CO; o++) {
      const m = (r: number, s: number) => M[(4 * r + s) * CO + o]!;
      // S = Aᵀ M (per column s), then Y[i] = S[i] A, Aᵀ = [[1,1,1,0],[0,1,−1,−1]]
      const S0 = [0, 1, 2, 3].map((s) => add(add(m(0, s), m(1, s)), m(2, s)));
      const S1 = [0, 1, 2, 3].map((s) => sub(sub(m(1, s), m(2, s)), m(3, s)));
      const b = bias ? val(bias[o]!) : 0;
      for (const [i, S] of [[0, S0], [1, S1]] as const) {
        const oh = 2 * th + i;
        if (oh >= OH) continue;
        const out = [add(add(add(S[0]!, S[1]!), S[2]!), b), add(sub(sub(S[1]!, S[2]!), S[3]!), b)];
        for (let j = 0; j < 2; j++) {
          const ow = 2 * tw + j;
          if (ow < OW) y[((n * OH + oh) * OW + ow) * CO + o] = out[j]!;
        }
      }
    }
  }
  return y;
}

const forwardArgs = (x: Arr, w: Arr, bias: Arr | null, s: ConvShape) =>
  [x, s.N, s.H, s.W, s.C, (k: number, c: number, o: number) => w[(k * s.C + c) * s.CO + o]!, s.CO, bias, s.OH, s.OW, s.pt, s.pl] as const;

// grad-input: conv of dy [N, OH, OW, CO] with g[kh][kw][co][ci] = w[2−kh, 2−kw, ci, co], padding 2 − pt, 2 − pl
const gradInputArgs = (dy: Arr, w: Arr, s: ConvShape) =>
  [dy, s.N, s.OH, s.OW, s.CO, (k: number, co: number, ci: number) => w[((8 - k) * s.C + ci) * s.CO + co]!, s.C, null,
    s.H, s.W, 2 - s.pt, 2 - s.pl] as const;

/** conv2d forward (3×3, stride 1, groups 1; x NHWC, w HWIO) by F(2×2, 3×3), f32 operations. */
export function winogradConv2dRef(x: Arr, w: Arr, bias: Arr | null, s: ConvShape): Float64Array {
  return winogradF23(F32, ...forwardArgs(x, w, bias, s));
}

/** conv2d grad-input by F(2×2, 3×3) (the flipped, in/out-swapped kernel on dy), f32 operations. */
export function winogradConv2dGradInputRef(dy: Arr, w: Arr, s: ConvShape): Float64Array {
  return winogradF23(F32, ...gradInputArgs(dy, w, s));
}

/**
 * The absolute-value scale of the forward: the same algorithm on |x|, |w|, |bias| with every
 * transform coefficient replaced by its absolute value, exactly. Each f32 result of the algorithm is
 * within n·2⁻²⁴/(1 − n·2⁻²⁴) of this scale of the exact value, n the number of roundings on its path.
 */
export function winogradConv2dScale(x: Arr, w: Arr, bias: Arr | null, s: ConvShape): Float64Array {
  return winogradF23(ABS, ...forwardArgs(x, w, bias, s));
}

/** The absolute-value scale of the grad-input (as winogradConv2dScale). */
export function winogradConv2dGradInputScale(dy: Arr, w: Arr, s: ConvShape): Float64Array {
  return winogradF23(ABS, ...gradInputArgs(dy, w, s));
}

/**
 * The grad-weight core: dw[k][c][o] (k = kh·3 + kw) = Σ_{n, oh<OH, ow<OW} x[n, oh−pt+kh, ow−pl+kw, c] · dy[n, oh, ow, o]
 * by the transposed F(2×2, 3×3): Z = Σ_tiles (A e Aᵀ) ⊙ (Bᵀ d B), summed in tile order within blocks of tb
 * tiles (from zero) and the block sums added to Z, then dw = Gᵀ Z G.
 */
function winogradF23GradWeight(ops: Ops, x: Arr, dy: Arr, s: ConvShape, tb: number): Float64Array {
  const { add, sub, mul, val } = ops;
  const { N, H, W, C, CO, OH, OW, pt, pl } = s;
  const neg = ops === ABS ? (a: number) => a : (a: number) => -a;
  const Z = new Float64Array(16 * C * CO), P = new Float64Array(16 * C * CO);
  const V = new Float64Array(16 * C), E = new Float64Array(16 * CO);
  const TH = Math.ceil(OH / 2), TW = Math.ceil(OW / 2), T = N * TH * TW;
  const flush = () => { for (let i = 0; i < Z.length; i++) Z[i] = add(Z[i]!, P[i]!); P.fill(0); };
  for (let t = 0; t < T; t++) {
    if (t > 0 && t % tb === 0) flush();
    const n = Math.floor(t / (TH * TW)), th = Math.floor((t % (TH * TW)) / TW), tw = t % TW;
    const ih0 = 2 * th - pt, iw0 = 2 * tw - pl;
    inputTile(ops, x, n, ih0, iw0, H, W, C, V);
    for (let o = 0; o < CO; o++) {
      const e = (i: number, j: number) => {
        const oh = 2 * th + i, ow = 2 * tw + j;
        return oh < OH && ow < OW ? val(dy[((n * OH + oh) * OW + ow) * CO + o]!) : 0;
      };
      // rows of A e: e0, e0 + e1, e0 − e1, −e1; each row (p, q) times Aᵀ: p, p + q, p − q, −q
      const rows = [[e(0, 0), e(0, 1)], [add(e(0, 0), e(1, 0)), add(e(0, 1), e(1, 1))],
        [sub(e(0, 0), e(1, 0)), sub(e(0, 1), e(1, 1))], [neg(e(1, 0)), neg(e(1, 1))]];
      rows.forEach(([p, q], r) => {
        E[(4 * r) * CO + o] = p!;
        E[(4 * r + 1) * CO + o] = add(p!, q!);
        E[(4 * r + 2) * CO + o] = sub(p!, q!);
        E[(4 * r + 3) * CO + o] = neg(q!);
      });
    }
    for (let k = 0; k < 16; k++) for (let c = 0; c < C; c++) for (let o = 0; o < CO; o++) {
      const zi = (k * C + c) * CO + o;
      P[zi] = add(P[zi]!, mul(V[k * C + c]!, E[k * CO + o]!));
    }
  }
  flush();
  // dw = Gᵀ Z G, Gᵀ = [[1,½,½,0],[0,½,−½,0],[0,½,½,1]]: a row (p0..p3) maps to (p0 + h, (p1 − p2)/2, h + p3), h = (p1 + p2)/2
  const gt = (p: number[]) => { const h = mul(add(p[1]!, p[2]!), 0.5); return [add(p[0]!, h), mul(sub(p[1]!, p[2]!), 0.5), add(h, p[3]!)]; };
  const dw = new Float64Array(9 * C * CO);
  for (let c = 0; c < C; c++) for (let o = 0; o < CO; o++) {
    const z = (r: number, q: number) => Z[((4 * r + q) * C + c) * CO + o]!;
    const cols = [0, 1, 2, 3].map((q) => gt([z(0, q), z(1, q), z(2, q), z(3, q)])); // cols[q][r] = (Gᵀ Z)[r][q]
    for (let r = 0; r < 3; r++) {
      const out = gt([cols[0]![r]!, cols[1]![r]!, cols[2]![r]!, cols[3]![r]!]);
      for (let kw = 0; kw < 3; kw++) dw[((r * 3 + kw) * C + c) * CO + o] = out[kw]!;
    }
  }
  return dw;
}

/**
 * conv2d grad-weight (3×3, stride 1, groups 1; HWIO result) by the transposed F(2×2, 3×3), f32 operations,
 * tb tiles per block (the kernel's: winogradTilesPerBlock).
 */
export function winogradConv2dGradWeightRef(x: Arr, dy: Arr, s: ConvShape, tb: number): Float64Array {
  return winogradF23GradWeight(F32, x, dy, s, tb);
}

/** The absolute-value scale of the grad-weight (as winogradConv2dScale). */
export function winogradConv2dGradWeightScale(x: Arr, dy: Arr, s: ConvShape): Float64Array {
  return winogradF23GradWeight(ABS, x, dy, s, Infinity);
}
