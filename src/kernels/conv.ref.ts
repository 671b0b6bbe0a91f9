// Scalar references for the convolution family (the oracle the wasm kernels are tested against):
// plain nested loops, f64 accumulation, NHWC activations, HWIO weights [KH, KW, C/groups, CO].

/** A fully resolved conv/pool geometry (all paddings explicit). */
export interface ConvShape {
  N: number; H: number; W: number; C: number;
  CO: number; KH: number; KW: number;
  OH: number; OW: number;
  sh: number; sw: number;
  pt: number; pl: number; pb: number; pr: number;
  groups: number;
}

type Arr = ArrayLike<number>;

/** Output extent of a window of size k, stride s, paddings p0/p1 over an input of size n. */
export function outExtent(n: number, k: number, s: number, p0: number, p1: number): number {
  return Math.floor((n + p0 + p1 - k) / s) + 1;
}

/**
 * Every product term of the convolution: visit(xi, wi, yi) for each output element yi = [n, oh, ow, co], each
 * tap (kh, kw) inside the input and each input channel i of co's group, where xi = [n, oh·sh−pt+kh,
 * ow·sw−pl+kw, g·ICg+i] and wi = [kh, kw, i, co]. Forward and both gradients are sums over these terms.
 */
function eachTerm(s: ConvShape, visit: (xi: number, wi: number, yi: number) => void): void {
  const { N, H, W, C, CO, KH, KW, OH, OW, sh, sw, pt, pl, groups } = s;
  const ICg = C / groups, OCg = CO / groups;
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    for (let co = 0; co < CO; co++) {
      const g = Math.floor(co / OCg);
      const yi = ((n * OH + oh) * OW + ow) * CO + co;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * sw - pl + kw;
          if (iw < 0 || iw >= W) continue;
          for (let i = 0; i < ICg; i++) visit(((n * H + ih) * W + iw) * C + g * ICg + i, ((kh * KW + kw) * ICg + i) * CO + co, yi);
        }
      }
    }
  }
}

/** y[n,oh,ow,g·OCg+o] = bias + Σ_{kh,kw,i} x[n, oh·sh-pt+kh, ow·sw-pl+kw, g·ICg+i] · w[kh,kw,i,g·OCg+o]. */
export function conv2dRef(x: Arr, w: Arr, bias: Arr | null, s: ConvShape): Float64Array {
  const y = new Float64Array(s.N * s.OH * s.OW * s.CO);
  if (bias) for (let yi = 0; yi < y.length; yi++) y[yi] = bias[yi % s.CO]!;
  eachTerm(s, (xi, wi, yi) => { y[yi]! += x[xi]! * w[wi]!; });
  return y;
}

/** Gradient of Σ dy·conv2d(x, w) w.r.t. x (a transposed convolution). */
export function conv2dGradInputRef(dy: Arr, w: Arr, s: ConvShape): Float64Array {
  const dx = new Float64Array(s.N * s.H * s.W * s.C);
  eachTerm(s, (xi, wi, yi) => { dx[xi]! += dy[yi]! * w[wi]!; });
  return dx;
}

/** Gradient of Σ dy·conv2d(x, w) w.r.t. w, HWIO. */
export function conv2dGradWeightRef(x: Arr, dy: Arr, s: ConvShape): Float64Array {
  const dw = new Float64Array(s.KH * s.KW * (s.C / s.groups) * s.CO);
  eachTerm(s, (xi, wi, yi) => { dw[wi]! += dy[yi]! * x[xi]!; });
  return dw;
}

/** Bias gradient: db[c] = Σ over the P = N·OH·OW rows of dy[p, c]. */
export function conv2dGradBiasRef(dy: Arr, P: number, C: number): Float64Array {
  const db = new Float64Array(C);
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) db[c]! += dy[p * C + c]!;
  return db;
}

/** Depthwise weights [KH, KW, C] seen as HWIO [KH, KW, 1, C] with groups = C. */
export function depthwiseConv2dRef(x: Arr, w: Arr, bias: Arr | null, s: ConvShape): Float64Array {
  return conv2dRef(x, w, bias, s);
}
export function depthwiseConv2dGradInputRef(dy: Arr, w: Arr, s: ConvShape): Float64Array {
  return conv2dGradInputRef(dy, w, s);
}
export function depthwiseConv2dGradWeightRef(x: Arr, dy: Arr, s: ConvShape): Float64Array {
  return conv2dGradWeightRef(x, dy, s);
}

/**
 * Max pool over in-range taps (padding never wins). Scan order kh then kw; the first in-range tap
 * initializes, later taps replace it only when strictly greater: ties go to the first maximum.
 * idx is the flat index into x of the winner.
 */
export function maxPool2dRef(x: Arr, s: ConvShape): { y: Float64Array; idx: Int32Array } {
  const { N, H, W, C, KH, KW, OH, OW, sh, sw, pt, pl } = s;
  const y = new Float64Array(N * OH * OW * C);
  const idx = new Int32Array(N * OH * OW * C).fill(-1);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    for (let c = 0; c < C; c++) {
      let m = NaN, mi = -1;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * sw - pl + kw;
          if (iw < 0 || iw >= W) continue;
          const e = ((n * H + ih) * W + iw) * C + c;
          if (mi < 0 || x[e]! > m) { m = x[e]!; mi = e; }
        }
      }
      const o = ((n * OH + oh) * OW + ow) * C + c;
      y[o] = m;
      idx[o] = mi;
    }
  }
  return { y, idx };
}

/** Max pool backward: each dy goes to its window's argmax. */
export function maxPool2dGradRef(dy: Arr, idx: ArrayLike<number>, xLength: number): Float64Array {
  const dx = new Float64Array(xLength);
  for (let i = 0; i < dy.length; i++) if (idx[i]! >= 0) dx[idx[i]!]! += dy[i]!;
  return dx;
}

/** Average pool; the divisor counts only in-range taps (padding excluded). */
export function avgPool2dRef(x: Arr, s: ConvShape): Float64Array {
  const { N, H, W, C, KH, KW, OH, OW, sh, sw, pt, pl } = s;
  const y = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    for (let c = 0; c < C; c++) {
      let a = 0, cnt = 0;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * sw - pl + kw;
          if (iw < 0 || iw >= W) continue;
          a += x[((n * H + ih) * W + iw) * C + c]!;
          cnt++;
        }
      }
      y[((n * OH + oh) * OW + ow) * C + c] = cnt > 0 ? a / cnt : 0;
    }
  }
  return y;
}

export function avgPool2dGradRef(dy: Arr, s: ConvShape): Float64Array {
  const { N, H, W, C, KH, KW, OH, OW, sh, sw, pt, pl } = s;
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const kh0 = Math.max(0, pt - oh * sh), kh1 = Math.min(KH, H + pt - oh * sh);
    const kw0 = Math.max(0, pl - ow * sw), kw1 = Math.min(KW, W + pl - ow * sw);
    const cnt = (kh1 - kh0) * (kw1 - kw0);
    for (let c = 0; c < C; c++) {
      const d = dy[((n * OH + oh) * OW + ow) * C + c]! / cnt;
      for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
        dx[((n * H + oh * sh - pt + kh) * W + ow * sw - pl + kw) * C + c]! += d;
      }
    }
  }
  return dx;
}

/** Global average pool: [N, H, W, C] → [N, C]. */
export function globalAvgPoolRef(x: Arr, N: number, HW: number, C: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let p = 0; p < HW; p++) for (let c = 0; c < C; c++) y[n * C + c]! += x[(n * HW + p) * C + c]!;
  for (let i = 0; i < y.length; i++) y[i]! /= HW;
  return y;
}

export function globalAvgPoolGradRef(dy: Arr, N: number, HW: number, C: number): Float64Array {
  const dx = new Float64Array(N * HW * C);
  for (let n = 0; n < N; n++) for (let p = 0; p < HW; p++) for (let c = 0; c < C; c++) dx[(n * HW + p) * C + c] = dy[n * C + c]! / HW;
  return dx;
}
