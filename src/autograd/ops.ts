// The fused differentiable ops (dense, attention, activations, softmax / cross-entropy, norms, conv,
// pooling): each one validates shapes, runs its forward kernel, and records its backward rule right
// beside it (micrograd style); the small composable primitives are in primitives.ts. Layout: NHWC
// activations, HWIO conv weights, [in, out] linear weights; "rows" ops (bias, norms, softmax) act over
// the last dim.

import { FliqsError, requireObject } from '../core/errors.js';
import { runtime, type WasmF32 } from '../core/runtime.js';
import { gemm, gemmBatched } from '../kernels/gemm.js';
import * as ew from '../kernels/elementwise.js';
import * as cv from '../kernels/conv.js';
import { Tensor, accumulate, accumulateAdd, record, requireTensor, scratchF32, trackFree } from './tensor.js';

// add (broadcasting), reshape and flatten are primitives; re-exported for the callers of ops.
export { add, reshape, flatten } from './primitives.js';

const shp = (t: Tensor): string => `[${t.shape.join(', ')}]`;
const last = (t: Tensor): number => t.shape[t.shape.length - 1]!;
/** The gradient flowing into an op's output (set before its rule runs). */
const dy = (t: Tensor): WasmF32 => t.grad!;

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new FliqsError(op, `shapes ${shp(a)} and ${shp(b)} differ`, 'two tensors of the same shape');
  }
}

function requireVector(op: string, name: string, t: Tensor, C: number, x: Tensor): void {
  requireTensor(op, name, t);
  if (t.shape.length !== 1 || t.shape[0] !== C) {
    throw new FliqsError(`${op} ${name}`, `has shape ${shp(t)} for x ${shp(x)}`, `shape [${C}] (x's last dim)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Dense

/**
 * y = x·w for x [..., K] and w [K, N] (a linear layer without bias); y is [..., N].
 * @example
 * const y = matmul(Tensor.from([1, 2], [1, 2]), Tensor.from([1, 0, 0, 1], [2, 2])); // [[1, 2]]
 */
export function matmul(x: Tensor, w: Tensor): Tensor {
  requireTensor('matmul', 'x', x); requireTensor('matmul', 'w', w);
  if (w.shape.length !== 2 || last(x) !== w.shape[0]) {
    throw new FliqsError('matmul', `x ${shp(x)} and w ${shp(w)} do not chain`, 'x [..., K] and w [K, N]');
  }
  const K = w.shape[0]!, N = w.shape[1]!, M = x.size / K;
  const y = Tensor.empty([...x.shape.slice(0, -1), N]);
  gemm('nn', M, N, K, 1, x.storage, K, w.storage, N, 0, y.storage, N);
  return record(y, [x, w], () => {
    accumulate(x, (dx, beta) => gemm('nt', M, K, N, 1, dy(y), N, w.storage, N, beta, dx, K), true);
    accumulate(w, (dw, beta) => gemm('tn', K, N, M, 1, x.storage, K, dy(y), N, beta, dw, N), true);
  });
}

/**
 * Batched matmul: a [B, M, K] · b [B, K, N] → [B, M, N]; with transB, b is [B, N, K] and a·bᵀ is taken.
 * @example
 * const c = bmm(q, k, { transB: true }); // attention scores
 */
export function bmm(a: Tensor, b: Tensor, opts: { transB?: boolean } = {}): Tensor {
  requireTensor('bmm', 'a', a); requireTensor('bmm', 'b', b);
  const t = opts.transB ?? false;
  const bad = a.shape.length !== 3 || b.shape.length !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[t ? 2 : 1];
  if (bad) {
    throw new FliqsError('bmm', `a ${shp(a)} and b ${shp(b)} do not chain${t ? ' (transB)' : ''}`,
      t ? 'a [B, M, K] and b [B, N, K]' : 'a [B, M, K] and b [B, K, N]');
  }
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[t ? 1 : 2]!;
  const c = Tensor.empty([B, M, N]);
  gemmBatched(t ? 'nt' : 'nn', B, M, N, K, 1, a.storage, M * K, K, b.storage, K * N, t ? K : N, 0, c.storage, M * N, N);
  return record(c, [a, b], () => {
    const g = dy(c);
    if (t) {
      accumulate(a, (da, beta) => gemmBatched('nn', B, M, K, N, 1, g, M * N, N, b.storage, N * K, K, beta, da, M * K, K), true);
      accumulate(b, (db, beta) => gemmBatched('tn', B, N, K, M, 1, g, M * N, N, a.storage, M * K, K, beta, db, N * K, K), true);
    } else {
      accumulate(a, (da, beta) => gemmBatched('nt', B, M, K, N, 1, g, M * N, N, b.storage, K * N, N, beta, da, M * K, K), true);
      accumulate(b, (db, beta) => gemmBatched('tn', B, K, N, M, 1, a.storage, M * K, K, g, M * N, N, beta, db, K * N, N), true);
    }
  });
}

/** A view of `len` floats of buf starting `off` floats in (fresh: create it right before the call). */
function at(buf: WasmF32, off: number, len: number): Float32Array {
  const p = (buf.ptr >>> 2) + off;
  return runtime.f32.subarray(p, p + len);
}

/**
 * Multi-head scaled dot-product attention on q, k, v [B, T, D] with `heads` heads of D/heads channels
 * (heads interleaved along D, no copies): y_h = softmax(q_h·k_hᵀ/√Dh)·v_h, y [B, T, D]. One fused op
 * with one backward rule; the probabilities [B, heads, T, T] are kept for it.
 * @example
 * const y = attention(q, k, v, 4);
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, heads: number): Tensor {
  requireTensor('attention', 'q', q); requireTensor('attention', 'k', k); requireTensor('attention', 'v', v);
  sameShape('attention', q, k); sameShape('attention', q, v);
  if (q.shape.length !== 3) throw new FliqsError('attention q', `has shape ${shp(q)}`, '[B, T, D]');
  const [B, T, D] = q.shape as [number, number, number];
  if (!Number.isInteger(heads) || heads < 1 || D % heads !== 0) {
    throw new FliqsError('heads', `got ${heads} for q ${shp(q)}`, `a positive integer dividing D = ${D}`);
  }
  const H = heads, Dh = D / H, sc = 1 / Math.sqrt(Dh), L = (T - 1) * D + Dh, TT = T * T;
  const P = scratchF32(B * H * TT);
  const y = Tensor.empty([B, T, D]);
  const each = (fn: (hd: number, ph: number) => void): void => {
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) fn(b * T * D + h * Dh, (b * H + h) * TT);
  };
  each((hd, ph) => gemm('nt', T, T, Dh, sc, at(q.storage, hd, L), D, at(k.storage, hd, L), D, 0, at(P, ph, TT), T));
  ew.softmaxRows(P, P, B * H * T, T);
  each((hd, ph) => gemm('nn', T, Dh, T, 1, at(P, ph, TT), T, at(v.storage, hd, L), D, 0, at(y.storage, hd, L), D));
  return record(y, [q, k, v], () => {
    const g = dy(y);
    const dP = runtime.allocF32(B * H * TT);
    try {
      each((hd, ph) => gemm('nt', T, T, Dh, 1, at(g, hd, L), D, at(v.storage, hd, L), D, 0, at(dP, ph, TT), T));
      // The heads' column blocks partition [B, T, D]: each element is written once per contribution.
      accumulate(v, (dv, beta) => each((hd, ph) => gemm('tn', T, Dh, T, 1, at(P, ph, TT), T, at(g, hd, L), D, beta, at(dv, hd, L), D)), true);
      ew.softmaxRowsGrad(P, dP, dP, B * H * T, T);
      accumulate(q, (dq, beta) => each((hd, ph) => gemm('nn', T, Dh, T, sc, at(dP, ph, TT), T, at(k.storage, hd, L), D, beta, at(dq, hd, L), D)), true);
      accumulate(k, (dk, beta) => each((hd, ph) => gemm('tn', T, Dh, T, sc, at(dP, ph, TT), T, at(q.storage, hd, L), D, beta, at(dk, hd, L), D)), true);
    } finally {
      dP.free();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Elementwise and row ops

/**
 * x + bias over the last dim: x [..., C], bias [C].
 * @example
 * const y = biasAdd(matmul(x, w), b);
 */
export function biasAdd(x: Tensor, bias: Tensor): Tensor {
  requireTensor('biasAdd', 'x', x); requireTensor('biasAdd', 'bias', bias);
  const C = last(x), rows = x.size / C;
  requireVector('biasAdd', 'bias', bias, C, x);
  const y = Tensor.empty(x.shape);
  ew.biasAdd(x.storage, bias.storage, y.storage, rows, C);
  return record(y, [x, bias], () => {
    accumulateAdd(x, dy(y));
    accumulate(bias, (db) => ew.biasGrad(dy(y), db, rows, C));
  });
}

type Unary = (x: WasmF32, y: WasmF32) => void;
type UnaryGrad = (x: WasmF32, dy: WasmF32, dx: WasmF32) => void;

function unary(name: string, f: Unary, df: UnaryGrad): (x: Tensor) => Tensor {
  return (x) => {
    requireTensor(name, 'x', x);
    const y = Tensor.empty(x.shape);
    f(x.storage, y.storage);
    return record(y, [x], () => accumulate(x, (dx) => df(x.storage, dy(y), dx)));
  };
}

/** max(x, 0); the derivative at 0 is 0. @example const y = relu(x); */
export const relu = unary('relu', (x, y) => ew.relu(x, y), (x, g, dx) => ew.reluGrad(x, g, dx));
/** min(max(x, 0), 6). @example const y = relu6(x); */
export const relu6 = unary('relu6', (x, y) => ew.relu6(x, y), (x, g, dx) => ew.relu6Grad(x, g, dx));
/** GELU, tanh approximation. @example const y = gelu(x); */
export const gelu = unary('gelu', (x, y) => ew.geluTanh(x, y), (x, g, dx) => ew.geluTanhGrad(x, g, dx));

/**
 * Softmax over the last dim.
 * @example
 * const p = softmax(Tensor.from([0, 0], [1, 2])); // [[0.5, 0.5]]
 */
export function softmax(x: Tensor): Tensor {
  requireTensor('softmax', 'x', x);
  const K = last(x), rows = x.size / K;
  const y = Tensor.empty(x.shape);
  ew.softmaxRows(x.storage, y.storage, rows, K);
  return record(y, [x], () => accumulate(x, (dx) => ew.softmaxRowsGrad(y.storage, dy(y), dx, rows, K)));
}

/**
 * Mean softmax cross-entropy of logits [B, K] against integer labels [B], with label smoothing ε
 * (target (1 − ε)·onehot + ε/K). Fused: one kernel forward, one backward rule. Returns a [1] tensor.
 * @example
 * const loss = crossEntropy(logits, new Int32Array([3, 1]), { smoothing: 0.1 });
 * loss.backward();
 */
export function crossEntropy(logits: Tensor, labels: Int32Array, opts: { smoothing?: number } = {}): Tensor {
  requireTensor('crossEntropy', 'logits', logits);
  if (logits.shape.length !== 2) throw new FliqsError('crossEntropy logits', `has shape ${shp(logits)}`, '[B, K]');
  const [B, K] = logits.shape as [number, number];
  if (!(labels instanceof Int32Array) || labels.length !== B) {
    throw new FliqsError('crossEntropy labels', `has ${labels?.length} entries for logits ${shp(logits)}`, `an Int32Array of ${B} class indices`);
  }
  const smoothing = opts.smoothing ?? 0;
  const probs = scratchF32(B * K);
  const lab = labels.slice();
  const loss = ew.softmaxCrossEntropy({ logits: logits.storage, labels: lab, probs, B, K, smoothing });
  const y = Tensor.from([loss], [1]);
  return record(y, [logits], () => {
    const g = dy(y).array[0]!;
    accumulate(logits, (dl) => ew.softmaxCrossEntropyGrad({ probs, labels: lab, dlogits: dl, B, K, smoothing, g }));
  });
}

/**
 * How many rows of logits [B, K] have their argmax at the label (not differentiable).
 * @example
 * const correct = accuracyCount(logits, labels);
 */
export function accuracyCount(logits: Tensor, labels: Int32Array): number {
  requireTensor('accuracyCount', 'logits', logits);
  if (logits.shape.length !== 2) throw new FliqsError('accuracyCount logits', `has shape ${shp(logits)}`, '[B, K]');
  return ew.accuracyCount(logits.storage, labels, logits.shape[0]!, logits.shape[1]!);
}

// ---------------------------------------------------------------------------------------------
// Normalization

export interface BatchNormOptions {
  /** Batch statistics (and running-stat update) when true, running statistics when false. */
  training: boolean;
  momentum?: number;
  eps?: number;
  /** Training mode only: false normalizes with the batch statistics and leaves the running ones as they are (default true). */
  updateRunning?: boolean;
}

/**
 * Batch-norm over the last dim (NHWC channels; [B, C] works too): gamma, beta, runningMean, runningVar
 * are [C]. Training mode normalizes with the batch statistics and updates the running ones in place.
 * @example
 * const y = batchNorm(x, gamma, beta, mean, variance, { training: true });
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions): Tensor {
  requireTensor('batchNorm', 'x', x);
  requireObject('batchNorm opts', opts, '{ training, momentum?, eps?, updateRunning? }');
  const C = last(x), rows = x.size / C, eps = opts.eps ?? 1e-5;
  for (const [n, t] of [['gamma', gamma], ['beta', beta], ['runningMean', runningMean], ['runningVar', runningVar]] as const) {
    requireTensor('batchNorm', n, t);
    requireVector('batchNorm', n, t, C, x);
  }
  const y = Tensor.empty(x.shape);
  if (!opts.training) {
    ew.batchNormInfer({ x: x.storage, y: y.storage, rows, C, gamma: gamma.storage, beta: beta.storage,
      runningMean: runningMean.storage, runningVar: runningVar.storage, eps });
    return record(y, [x, gamma, beta], () => {
      // Eval-mode backward (an affine map per channel), in plain loops: rarely trained through.
      const xs = x.data, g = dy(y).array, m = runningMean.toArray(), v = runningVar.toArray(), ga = gamma.toArray();
      const dx = new Float32Array(x.size), dg = new Float64Array(C), db = new Float64Array(C);
      for (let i = 0; i < x.size; i++) {
        const c = i % C, inv = 1 / Math.sqrt(v[c]! + eps);
        dx[i] = g[i]! * ga[c]! * inv;
        dg[c] = dg[c]! + g[i]! * (xs[i]! - m[c]!) * inv;
        db[c] = db[c]! + g[i]!;
      }
      accumulate(x, (d) => d.array.set(dx));
      accumulate(gamma, (d) => d.array.set(dg));
      accumulate(beta, (d) => d.array.set(db));
    });
  }
  if (rows < 2) throw new FliqsError('batchNorm x', `has shape ${shp(x)}: one value per channel`, 'at least 2 values per channel (N·H·W ≥ 2) in training mode');
  const saveMean = scratchF32(C), saveInvStd = scratchF32(C);
  const running = opts.updateRunning === false ? {} : { runningMean: runningMean.storage, runningVar: runningVar.storage };
  ew.batchNormTrain({ x: x.storage, y: y.storage, rows, C, gamma: gamma.storage, beta: beta.storage, saveMean, saveInvStd,
    ...running, momentum: opts.momentum ?? 0.1, eps });
  return record(y, [x, gamma, beta], () => {
    const dx = runtime.allocF32(x.size), dg = runtime.allocF32(C), db = runtime.allocF32(C);
    try {
      ew.batchNormGrad({ x: x.storage, dy: dy(y), dx, rows, C, gamma: gamma.storage, saveMean, saveInvStd, dgamma: dg, dbeta: db });
      accumulateAdd(x, dx); accumulateAdd(gamma, dg); accumulateAdd(beta, db);
    } finally {
      dx.free(); dg.free(); db.free();
    }
  });
}

/**
 * Layer-norm over the last dim D: gamma, beta [D].
 * @example
 * const y = layerNorm(x, gamma, beta);
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  requireTensor('layerNorm', 'x', x);
  const D = last(x), rows = x.size / D;
  requireVector('layerNorm', 'gamma', gamma, D, x);
  requireVector('layerNorm', 'beta', beta, D, x);
  const y = Tensor.empty(x.shape);
  const saveMean = scratchF32(rows), saveInvStd = scratchF32(rows);
  ew.layerNorm({ x: x.storage, y: y.storage, rows, D, gamma: gamma.storage, beta: beta.storage, saveMean, saveInvStd, eps });
  return record(y, [x, gamma, beta], () => {
    const dx = runtime.allocF32(x.size), dg = runtime.allocF32(D), db = runtime.allocF32(D);
    try {
      ew.layerNormGrad({ x: x.storage, dy: dy(y), dx, rows, D, gamma: gamma.storage, saveMean, saveInvStd, dgamma: dg, dbeta: db });
      accumulateAdd(x, dx); accumulateAdd(gamma, dg); accumulateAdd(beta, db);
    } finally {
      dx.free(); dg.free(); db.free();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Convolution and pooling (NHWC, HWIO)

/**
 * 2-D convolution: x [N, H, W, C], w [KH, KW, C/groups, CO], bias [CO] or null → [N, OH, OW, CO].
 * @example
 * const y = conv2d(x, w, b, { stride: 2, padding: 1 });
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: cv.ConvOptions = {}): Tensor {
  requireTensor('conv2d', 'x', x); requireTensor('conv2d', 'w', w);
  const s = cv.conv2dShape(x.shape, w.shape, opts);
  if (bias) requireVector('conv2d', 'bias', bias, s.CO, x);
  const y = Tensor.empty([s.N, s.OH, s.OW, s.CO]);
  cv.conv2d(x.storage, w.storage, bias ? bias.storage : null, s, y.storage);
  return record(y, bias ? [x, w, bias] : [x, w], () => {
    accumulate(x, (dx) => cv.conv2dGradInput(dy(y), w.storage, s, dx));
    accumulate(w, (dw) => cv.conv2dGradWeight(x.storage, dy(y), s, dw));
    if (bias) accumulate(bias, (db) => cv.conv2dGradBias(dy(y), s, db));
  });
}

/**
 * Depthwise convolution (channel multiplier 1): x [N, H, W, C], w [KH, KW, 1, C] (HWIO) or [KH, KW, C].
 * @example
 * const y = depthwiseConv2d(x, w, null, { padding: 1 });
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: Omit<cv.ConvOptions, 'groups'> = {}): Tensor {
  requireTensor('depthwiseConv2d', 'x', x); requireTensor('depthwiseConv2d', 'w', w);
  const ws = w.shape.length === 4 && w.shape[2] === 1 ? [w.shape[0]!, w.shape[1]!, w.shape[3]!] : w.shape;
  const s = cv.depthwiseConv2dShape(x.shape, ws, opts);
  if (bias) requireVector('depthwiseConv2d', 'bias', bias, s.C, x);
  const y = Tensor.empty([s.N, s.OH, s.OW, s.C]);
  cv.depthwiseConv2d(x.storage, w.storage, bias ? bias.storage : null, s, y.storage);
  return record(y, bias ? [x, w, bias] : [x, w], () => {
    accumulate(x, (dx) => cv.depthwiseConv2dGradInput(dy(y), w.storage, s, dx));
    accumulate(w, (dw) => cv.depthwiseConv2dGradWeight(x.storage, dy(y), s, dw));
    if (bias) accumulate(bias, (db) => cv.conv2dGradBias(dy(y), s, db));
  });
}

/**
 * Max pooling over NHWC windows (ties to the first maximum).
 * @example
 * const y = maxPool2d(x, { kernel: 2 });
 */
export function maxPool2d(x: Tensor, opts: cv.PoolOptions): Tensor {
  requireTensor('maxPool2d', 'x', x);
  const s = cv.pool2dShape(x.shape, opts);
  const y = Tensor.empty([s.N, s.OH, s.OW, s.C]);
  const { argmax } = cv.maxPool2d(x.storage, s, y.storage);
  trackFree(argmax);
  return record(y, [x], () => accumulate(x, (dx) => cv.maxPool2dGrad(dy(y), argmax, s, dx)));
}

/**
 * Average pooling (padding excluded from the divisor).
 * @example
 * const y = avgPool2d(x, { kernel: 3, stride: 1, padding: 1 });
 */
export function avgPool2d(x: Tensor, opts: cv.PoolOptions): Tensor {
  requireTensor('avgPool2d', 'x', x);
  const s = cv.pool2dShape(x.shape, opts);
  const y = Tensor.empty([s.N, s.OH, s.OW, s.C]);
  cv.avgPool2d(x.storage, s, y.storage);
  return record(y, [x], () => accumulate(x, (dx) => cv.avgPool2dGrad(dy(y), s, dx)));
}

/**
 * Global average pool: [N, H, W, C] → [N, C].
 * @example
 * const feats = globalAvgPool(x);
 */
export function globalAvgPool(x: Tensor): Tensor {
  requireTensor('globalAvgPool', 'x', x);
  if (x.shape.length !== 4) throw new FliqsError('globalAvgPool x', `has shape ${shp(x)}`, '[N, H, W, C]');
  const y = Tensor.empty([x.shape[0]!, x.shape[3]!]);
  cv.globalAvgPool(x.storage, x.shape, y.storage);
  return record(y, [x], () => accumulate(x, (dx) => cv.globalAvgPoolGrad(dy(y), x.shape, dx)));
}
