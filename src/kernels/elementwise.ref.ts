// Scalar references (the oracle) for the elementwise and normalization kernels: plain loops in f64
// over [rows, C] row-major arrays, returning fresh Float64Arrays. Not a fallback — tests only.

type Arr = ArrayLike<number>;

const map = (x: Arr, f: (v: number, i: number) => number): Float64Array => Float64Array.from({ length: x.length }, (_, i) => f(x[i]!, i));

export const expRef = (x: Arr): Float64Array => map(x, Math.exp);
export const reluRef = (x: Arr): Float64Array => map(x, (v) => Math.max(v, 0));
/** Derivative 0 at the kink. */
export const reluGradRef = (x: Arr, dy: Arr): Float64Array => map(x, (v, i) => (v > 0 ? dy[i]! : 0));
export const relu6Ref = (x: Arr): Float64Array => map(x, (v) => Math.min(Math.max(v, 0), 6));
/** Derivative 0 at both kinks. */
export const relu6GradRef = (x: Arr, dy: Arr): Float64Array => map(x, (v, i) => (v > 0 && v < 6 ? dy[i]! : 0));
export const addRef = (a: Arr, b: Arr): Float64Array => map(a, (v, i) => v + b[i]!);
export const mulRef = (a: Arr, b: Arr): Float64Array => map(a, (v, i) => v * b[i]!);
export const scaleRef = (x: Arr, s: number): Float64Array => map(x, (v) => s * v);
export const axpyRef = (a: number, x: Arr, y: Arr): Float64Array => map(y, (v, i) => v + a * x[i]!);

export function biasAddRef(x: Arr, bias: Arr, rows: number, C: number): Float64Array {
  const y = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) y[r * C + c] = x[r * C + c]! + bias[c]!;
  return y;
}

export function biasGradRef(dy: Arr, rows: number, C: number): Float64Array {
  const g = new Float64Array(C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) g[c]! += dy[r * C + c]!;
  return g;
}

export interface BatchNormTrainRef {
  y: Float64Array;
  mean: Float64Array;
  invstd: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
}

/** Training batch-norm over [rows, C]: biased var to normalize, unbiased var into the running stat. */
export function batchNormTrainRef(x: Arr, rows: number, C: number, gamma: Arr, beta: Arr, runningMean: Arr, runningVar: Arr,
  momentum: number, eps: number): BatchNormTrainRef {
  const mean = new Float64Array(C), invstd = new Float64Array(C), rm = new Float64Array(C), rv = new Float64Array(C);
  const y = new Float64Array(rows * C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * C + c]!;
    const mu = s / rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (x[r * C + c]! - mu) ** 2;
    const varB = v / rows;
    mean[c] = mu;
    invstd[c] = 1 / Math.sqrt(varB + eps);
    rm[c] = (1 - momentum) * runningMean[c]! + momentum * mu;
    rv[c] = (1 - momentum) * runningVar[c]! + momentum * (v / (rows - 1));
    for (let r = 0; r < rows; r++) y[r * C + c] = (x[r * C + c]! - mu) * invstd[c]! * gamma[c]! + beta[c]!;
  }
  return { y, mean, invstd, runningMean: rm, runningVar: rv };
}

export function batchNormInferRef(x: Arr, rows: number, C: number, gamma: Arr, beta: Arr, runningMean: Arr, runningVar: Arr,
  eps: number): Float64Array {
  const y = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) y[r * C + c] = (x[r * C + c]! - runningMean[c]!) / Math.sqrt(runningVar[c]! + eps) * gamma[c]! + beta[c]!;
  }
  return y;
}

/** Batch-norm backward with saved mean/invstd (the closed form). */
export function batchNormGradRef(x: Arr, dy: Arr, rows: number, C: number, gamma: Arr, mean: Arr, invstd: Arr):
  { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(rows * C), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sb = 0, sg = 0;
    for (let r = 0; r < rows; r++) {
      const xh = (x[r * C + c]! - mean[c]!) * invstd[c]!;
      sb += dy[r * C + c]!;
      sg += dy[r * C + c]! * xh;
    }
    dbeta[c] = sb;
    dgamma[c] = sg;
    for (let r = 0; r < rows; r++) {
      const xh = (x[r * C + c]! - mean[c]!) * invstd[c]!;
      dx[r * C + c] = gamma[c]! * invstd[c]! / rows * (rows * dy[r * C + c]! - sb - xh * sg);
    }
  }
  return { dx, dgamma, dbeta };
}

export function softmaxRowsRef(x: Arr, rows: number, K: number): Float64Array {
  const y = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, x[r * K + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(x[r * K + k]! - m);
    for (let k = 0; k < K; k++) y[r * K + k] = Math.exp(x[r * K + k]! - m) / s;
  }
  return y;
}

export function softmaxRowsGradRef(y: Arr, dy: Arr, rows: number, K: number): Float64Array {
  const dx = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let k = 0; k < K; k++) dot += dy[r * K + k]! * y[r * K + k]!;
    for (let k = 0; k < K; k++) dx[r * K + k] = y[r * K + k]! * (dy[r * K + k]! - dot);
  }
  return dx;
}

/** Mean smoothed cross-entropy and the probabilities. */
export function softmaxCrossEntropyRef(logits: Arr, labels: ArrayLike<number>, B: number, K: number, eps: number): { loss: number; probs: Float64Array } {
  const probs = softmaxRowsRef(logits, B, K);
  let total = 0;
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const q = (k === labels[b] ? 1 - eps : 0) + eps / K;
      total -= q * Math.log(probs[b * K + k]!);
    }
  }
  return { loss: total / B, probs };
}

export function softmaxCrossEntropyGradRef(probs: Arr, labels: ArrayLike<number>, B: number, K: number, eps: number, g = 1): Float64Array {
  const d = new Float64Array(B * K);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const q = (k === labels[b] ? 1 - eps : 0) + eps / K;
      d[b * K + k] = g * (probs[b * K + k]! - q) / B;
    }
  }
  return d;
}

/** Rows whose first maximum is at the label. */
export function accuracyCountRef(logits: Arr, labels: ArrayLike<number>, B: number, K: number): number {
  let hits = 0;
  for (let b = 0; b < B; b++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[b * K + k]! > logits[b * K + best]!) best = k;
    if (best === labels[b]) hits++;
  }
  return hits;
}

export function layerNormRef(x: Arr, rows: number, D: number, gamma: Arr, beta: Arr, eps: number):
  { y: Float64Array; mean: Float64Array; invstd: Float64Array } {
  const y = new Float64Array(rows * D), mean = new Float64Array(rows), invstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += x[r * D + k]!;
    const mu = s / D;
    let v = 0;
    for (let k = 0; k < D; k++) v += (x[r * D + k]! - mu) ** 2;
    const is = 1 / Math.sqrt(v / D + eps);
    mean[r] = mu;
    invstd[r] = is;
    for (let k = 0; k < D; k++) y[r * D + k] = (x[r * D + k]! - mu) * is * gamma[k]! + beta[k]!;
  }
  return { y, mean, invstd };
}

export function layerNormGradRef(x: Arr, dy: Arr, rows: number, D: number, gamma: Arr, mean: Arr, invstd: Arr):
  { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(rows * D), dgamma = new Float64Array(D), dbeta = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    let s1 = 0, s2 = 0;
    for (let k = 0; k < D; k++) {
      const xh = (x[r * D + k]! - mean[r]!) * invstd[r]!;
      const g = dy[r * D + k]! * gamma[k]!;
      s1 += g;
      s2 += g * xh;
      dgamma[k]! += dy[r * D + k]! * xh;
      dbeta[k]! += dy[r * D + k]!;
    }
    for (let k = 0; k < D; k++) {
      const xh = (x[r * D + k]! - mean[r]!) * invstd[r]!;
      dx[r * D + k] = invstd[r]! * (dy[r * D + k]! * gamma[k]! - s1 / D - xh * s2 / D);
    }
  }
  return { dx, dgamma, dbeta };
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** 1 + tanh(u) without cancellation for u ≪ 0: the identity 1 + tanh(u) = 2σ(2u). */
const onePlusTanh = (u: number): number => 2 / (1 + Math.exp(-2 * u));

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export const geluTanhRef = (x: Arr): Float64Array => map(x, (v) => 0.5 * v * onePlusTanh(GELU_C * (v + 0.044715 * v ** 3)));

/** d/dx: 0.5·(1 + t) + 0.5·x·(1 − t²)·u', with 1 − t² = (1 + t)(1 − t) = (1 + t)(2 − (1 + t)). */
export const geluTanhGradRef = (x: Arr, dy: Arr): Float64Array => map(x, (v, i) => {
  const p = onePlusTanh(GELU_C * (v + 0.044715 * v ** 3));
  return dy[i]! * (0.5 * p + 0.5 * v * p * (2 - p) * GELU_C * (1 + 3 * 0.044715 * v * v));
});
