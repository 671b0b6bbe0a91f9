// Typed face of the elementwise and normalization kernels (assembly/elementwise.ts): ReLU/ReLU6, add,
// mul, scale, axpy, bias-add, batch-norm, layer-norm, row softmax, softmax + cross-entropy, accuracy,
// GELU and exp. Validates every length against the stated shape, gets operands into wasm memory
// (WasmF32 and views of the runtime's memory are used in place, other arrays are copied in and, for
// outputs, back out), lends the kernel scratch from the arena, and names the bad input in a FliqsError.
// Layout: [rows, C] row-major, C innermost (NHWC activations are [N·H·W, C]). Outputs may alias
// same-shaped inputs.

import { f32Length, place, type F32Operand } from '../core/operands.js';
import { FliqsError, describe, requireFinite, requireInt, requireObject, requirePositive } from '../core/errors.js';
import { rangeTasks, runTasks } from './threads.js';
import { runtime, WasmF32, type Runtime, type WasmExports } from '../core/runtime.js';

/** The wasm kernel behind each operation (one list drives wrappers, tests and bench). */
export const ELEMENTWISE_KERNELS = {
  exp: 'exp_f32x4',
  relu: 'relu_f32x4',
  reluGrad: 'relu_grad_f32x4',
  relu6: 'relu6_f32x4',
  relu6Grad: 'relu6_grad_f32x4',
  add: 'add_f32x4',
  mul: 'mul_f32x4',
  scale: 'scale_f32x4',
  axpy: 'axpy_f32x4',
  biasAdd: 'bias_add_f32x4',
  biasGrad: 'bias_grad_f32x4',
  batchNormTrain: { stats: 'batchnorm_stats_f32x4', apply: 'batchnorm_affine_f32x4' },
  batchNormInfer: 'batchnorm_infer_f32x4',
  batchNormGrad: { stats: 'batchnorm_grad_stats_f32x4', apply: 'batchnorm_grad_apply_f32x4' },
  softmaxRows: 'softmax_rows_f32x4',
  softmaxRowsGrad: 'softmax_rows_grad_f32x4',
  softmaxCrossEntropy: 'softmax_ce_f32x4',
  softmaxCrossEntropyGrad: 'softmax_ce_grad_f32x4',
  accuracyCount: 'accuracy_count_f32',
  layerNorm: 'layernorm_f32x4',
  layerNormGrad: 'layernorm_grad_f32x4',
  geluTanh: 'gelu_tanh_f32x4',
  geluTanhGrad: 'gelu_tanh_grad_f32x4',
} as const satisfies Record<string, keyof WasmExports | Record<string, keyof WasmExports>>;

export type ElementwiseOp = keyof typeof ELEMENTWISE_KERNELS;

interface Slot {
  name: string;
  x: F32Operand | Int32Array;
  n: number;
  out?: boolean;
}

function lengthOf(rt: Runtime, s: Slot, shape: string): void {
  const { name, x, n } = s;
  if (name !== 'labels') { f32Length(rt, name, x, n, shape); return; }
  if (!(x instanceof Int32Array)) throw new FliqsError(name, `got ${describe(x)}`, 'an Int32Array of class indices');
  if (x.length !== n) throw new FliqsError(name, `has length ${x.length}`, `length ${n} (${shape})`);
}

/**
 * Validates the slots, places them in rt's memory and calls `body(ptrs, scratch)`. Residency is decided
 * for all operands before anything is allocated, since an allocation may grow (and so detach) memory.
 */
function run<T>(rt: Runtime, shape: string, slots: Slot[], scratchFloats: number, body: (p: number[], scratch: number) => T): T {
  for (const s of slots) lengthOf(rt, s, shape);
  const placed = place(rt, slots.map((s) => s.x));
  let scratch = 0;
  try {
    if (scratchFloats > 0) scratch = rt.arena.alloc(scratchFloats * 4);
    const result = body(placed.ptrs, scratch);
    slots.forEach((s, i) => { if (s.out) placed.copyBack(i, s.n); });
    return result;
  } finally {
    if (scratch) rt.arena.free(scratch);
    placed.release();
  }
}

function requireSize(input: string, v: unknown): number {
  return requireInt(input, v, 1, 2 ** 31 - 1);
}

function requireLabels(labels: unknown, K: number): void {
  if (!(labels instanceof Int32Array)) throw new FliqsError('labels', `got ${describe(labels)}`, 'an Int32Array of class indices');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= K) throw new FliqsError('labels', `labels[${i}] is ${l} with ${K} classes`, `integers from 0 to ${K - 1}`);
  }
}

function requireSmoothing(eps: unknown): number {
  if (typeof eps !== 'number' || !(eps >= 0 && eps < 1)) throw new FliqsError('smoothing', `got ${describe(eps)}`, 'a number in [0, 1)');
  return eps;
}

/** Elementwise kernels split over threads in ranges of whole cache lines (threads.ts rangeTasks). */
function byRange(rt: Runtime, n: number, kernel: keyof WasmExports, ptrs: number[], extra: number[] = []): void {
  runTasks(rt, rangeTasks(rt, n, (i0, i1) => ({ kernel, args: [...ptrs.map((p) => p + 4 * i0), i1 - i0, ...extra] })));
}

/** One input, one same-length output: kernel(x, y, n, ...extra). */
function unary(rt: Runtime, x: F32Operand, y: F32Operand, yName: string, kernel: keyof WasmExports, extra: number[] = []): void {
  const n = f32Length(rt, 'x', x);
  run(rt, `x of ${n} elements`, [{ name: 'x', x, n }, { name: yName, x: y, n, out: true }], 0, ([px, py]) => byRange(rt, n, kernel, [px!, py!], extra));
}

/** Two same-length inputs, one output: kernel(a, b, out, n). */
function binary(rt: Runtime, names: [string, string, string], a: F32Operand, b: F32Operand, o: F32Operand, kernel: keyof WasmExports): void {
  const n = f32Length(rt, names[0], a);
  run(rt, `${names[0]} of ${n} elements`, [{ name: names[0], x: a, n }, { name: names[1], x: b, n }, { name: names[2], x: o, n, out: true }], 0,
    ([pa, pb, po]) => byRange(rt, n, kernel, [pa!, pb!, po!]));
}

// ---------------------------------------------------------------------------------------------

/**
 * y = exp(x), vectorized (range reduction + Cephes polynomial); max relative error vs Math.exp
 * is measured in test/elementwise.test.ts. Results below ~1e-45 are 0, above ~3.4e38 are Infinity.
 * @example
 * const x = runtime.copyIn([0, 1]), y = runtime.allocF32(2);
 * exp(x, y); // y.array ≈ [1, 2.7182817]
 */
export function exp(x: F32Operand, y: F32Operand, rt: Runtime = runtime): void {
  unary(rt, x, y, 'y', ELEMENTWISE_KERNELS.exp);
}

/**
 * y = max(x, 0). NaN propagates.
 * @example
 * const x = runtime.copyIn([-1, 2]), y = runtime.allocF32(2);
 * relu(x, y); // y.array = [0, 2]
 */
export function relu(x: F32Operand, y: F32Operand, rt: Runtime = runtime): void {
  unary(rt, x, y, 'y', ELEMENTWISE_KERNELS.relu);
}

/**
 * dx = x > 0 ? dy : 0. The derivative at the kink x = 0 is defined as 0. `x` may be ReLU's input or
 * its output (both give the same mask).
 * @example
 * const x = runtime.copyIn([-1, 0, 2]), dy = runtime.copyIn([5, 5, 5]), dx = runtime.allocF32(3);
 * reluGrad(x, dy, dx); // dx.array = [0, 0, 5]
 */
export function reluGrad(x: F32Operand, dy: F32Operand, dx: F32Operand, rt: Runtime = runtime): void {
  binary(rt, ['x', 'dy', 'dx'], x, dy, dx, ELEMENTWISE_KERNELS.reluGrad);
}

/**
 * y = min(max(x, 0), 6).
 * @example
 * const x = runtime.copyIn([-1, 3, 9]), y = runtime.allocF32(3);
 * relu6(x, y); // y.array = [0, 3, 6]
 */
export function relu6(x: F32Operand, y: F32Operand, rt: Runtime = runtime): void {
  unary(rt, x, y, 'y', ELEMENTWISE_KERNELS.relu6);
}

/**
 * dx = 0 < x < 6 ? dy : 0: the derivative at both kinks (x = 0 and x = 6) is defined as 0. `x` may be
 * ReLU6's input or its output.
 * @example
 * const x = runtime.copyIn([0, 3, 6]), dy = runtime.copyIn([1, 1, 1]), dx = runtime.allocF32(3);
 * relu6Grad(x, dy, dx); // dx.array = [0, 1, 0]
 */
export function relu6Grad(x: F32Operand, dy: F32Operand, dx: F32Operand, rt: Runtime = runtime): void {
  binary(rt, ['x', 'dy', 'dx'], x, dy, dx, ELEMENTWISE_KERNELS.relu6Grad);
}

/**
 * out = a + b (same shape; also the residual add). Its backward passes dy to both inputs unchanged.
 * @example
 * const a = runtime.copyIn([1, 2]), b = runtime.copyIn([3, 4]);
 * add(a, b, a); // a.array = [4, 6]
 */
export function add(a: F32Operand, b: F32Operand, out: F32Operand, rt: Runtime = runtime): void {
  binary(rt, ['a', 'b', 'out'], a, b, out, ELEMENTWISE_KERNELS.add);
}

/**
 * out = a ⊙ b. Backward: da = dy ⊙ b, db = dy ⊙ a (the same kernel).
 * @example
 * const a = runtime.copyIn([1, 2]), b = runtime.copyIn([3, 4]), o = runtime.allocF32(2);
 * mul(a, b, o); // o.array = [3, 8]
 */
export function mul(a: F32Operand, b: F32Operand, out: F32Operand, rt: Runtime = runtime): void {
  binary(rt, ['a', 'b', 'out'], a, b, out, ELEMENTWISE_KERNELS.mul);
}

/**
 * out = s·x. Backward: dx = s·dy (the same kernel).
 * @example
 * const x = runtime.copyIn([1, 2]);
 * scale(x, 0.5, x); // x.array = [0.5, 1]
 */
export function scale(x: F32Operand, s: number, out: F32Operand, rt: Runtime = runtime): void {
  requireFinite('s', s);
  unary(rt, x, out, 'out', ELEMENTWISE_KERNELS.scale, [s]);
}

/**
 * y += a·x (fused multiply-add in the relaxed-SIMD module). Used by the optimizers.
 * @example
 * const x = runtime.copyIn([1, 2]), y = runtime.copyIn([10, 10]);
 * axpy(-0.5, x, y); // y.array = [9.5, 9]
 */
export function axpy(a: number, x: F32Operand, y: F32Operand, rt: Runtime = runtime): void {
  requireFinite('a', a);
  const n = f32Length(rt, 'x', x);
  run(rt, `x of ${n} elements`, [{ name: 'x', x, n }, { name: 'y', x: y, n, out: true }], 0,
    ([px, py]) => byRange(rt, n, ELEMENTWISE_KERNELS.axpy, [px!, py!], [a]));
}

/**
 * out[r, c] = x[r, c] + bias[c] over [rows, C].
 * @example
 * const x = runtime.copyIn([1, 2, 3, 4]), b = runtime.copyIn([10, 20]), y = runtime.allocF32(4);
 * biasAdd(x, b, y, 2, 2); // y.array = [11, 22, 13, 24]
 */
export function biasAdd(x: F32Operand, bias: F32Operand, out: F32Operand, rows: number, C: number, rt: Runtime = runtime): void {
  requireSize('rows', rows);
  requireSize('C', C);
  const n = rows * C;
  run(rt, `[rows, C] = [${rows}, ${C}]`, [{ name: 'x', x, n }, { name: 'bias', x: bias, n: C }, { name: 'out', x: out, n, out: true }], 0,
    ([px, pb, po]) => rt.kernels[ELEMENTWISE_KERNELS.biasAdd](px!, pb!, po!, rows, C));
}

/**
 * dbias[c] = Σ_r dy[r, c] (column sums, f64 accumulation; overwrites dbias). The backward of bias-add
 * (dx = dy).
 * @example
 * const dy = runtime.copyIn([1, 2, 3, 4]), db = runtime.allocF32(2);
 * biasGrad(dy, db, 2, 2); // db.array = [4, 6]
 */
export function biasGrad(dy: F32Operand, dbias: F32Operand, rows: number, C: number, rt: Runtime = runtime): void {
  requireSize('rows', rows);
  requireSize('C', C);
  run(rt, `[rows, C] = [${rows}, ${C}]`, [{ name: 'dy', x: dy, n: rows * C }, { name: 'dbias', x: dbias, n: C, out: true }], 0,
    ([pd, pb]) => rt.kernels[ELEMENTWISE_KERNELS.biasGrad](pd!, pb!, rows, C));
}

// ---------------------------------------------------------------------------------------------
// Batch-norm over [rows = N·H·W, C]

export interface BatchNormTrainArgs {
  /** Input [rows, C]. */
  x: F32Operand;
  /** Output [rows, C] (may be x). */
  y: F32Operand;
  rows: number;
  C: number;
  gamma: F32Operand;
  beta: F32Operand;
  /** Written: the batch mean per channel [C] (keep it for the backward). */
  saveMean: F32Operand;
  /** Written: 1/√(biased var + eps) per channel [C] (keep it for the backward). */
  saveInvStd: F32Operand;
  /** Updated in place when given (both or neither): (1 − momentum)·old + momentum·batch mean. */
  runningMean?: F32Operand;
  /** Updated in place: (1 − momentum)·old + momentum·unbiased batch var (var·rows/(rows − 1), as PyTorch). */
  runningVar?: F32Operand;
  /** Default 0.1 (PyTorch's convention: the weight of the new batch). */
  momentum?: number;
  /** Default 1e-5. */
  eps?: number;
}

/**
 * Training-mode batch-norm over [rows, C] (NHWC flattened, rows = N·H·W ≥ 2): normalizes with the batch
 * mean and the biased variance Σ(x − mean)²/rows, y = (x − mean)·invstd·gamma + beta; writes saveMean and
 * saveInvStd and updates the running statistics (running var with the unbiased estimate, as PyTorch).
 * Statistics are accumulated in f64.
 * @example
 * const C = 2, x = runtime.copyIn([1, 10, 3, 30]), y = runtime.allocF32(4);
 * const gamma = runtime.copyIn([1, 1]), beta = runtime.copyIn([0, 0]);
 * const saveMean = runtime.allocF32(C), saveInvStd = runtime.allocF32(C);
 * batchNormTrain({ x, y, rows: 2, C, gamma, beta, saveMean, saveInvStd });
 * // saveMean.array = [2, 20]; y.array ≈ [-1, -1, 1, 1]
 */
export function batchNormTrain(a: BatchNormTrainArgs, rt: Runtime = runtime): void {
  requireObject('args', a, 'a BatchNormTrainArgs object');
  const rows = requireSize('rows', a.rows), C = requireSize('C', a.C);
  if (rows < 2) throw new FliqsError('rows', `is ${rows}: training batch-norm needs more than one value per channel`, 'an integer ≥ 2 (N·H·W)');
  const momentum = requireFinite('momentum', a.momentum ?? 0.1);
  if (momentum < 0 || momentum > 1) throw new FliqsError('momentum', `got ${momentum}`, 'a number in [0, 1]');
  const eps = requirePositive('eps', a.eps ?? 1e-5);
  const update = a.runningMean !== undefined || a.runningVar !== undefined;
  if (update && (a.runningMean === undefined || a.runningVar === undefined)) {
    throw new FliqsError(a.runningMean === undefined ? 'runningMean' : 'runningVar', 'is missing while the other running statistic is given', 'both runningMean and runningVar, or neither');
  }
  const n = rows * C;
  const slots: Slot[] = [
    { name: 'x', x: a.x, n }, { name: 'y', x: a.y, n, out: true },
    { name: 'gamma', x: a.gamma, n: C }, { name: 'beta', x: a.beta, n: C },
    { name: 'saveMean', x: a.saveMean, n: C, out: true }, { name: 'saveInvStd', x: a.saveInvStd, n: C, out: true },
  ];
  if (update) slots.push({ name: 'runningMean', x: a.runningMean!, n: C, out: true }, { name: 'runningVar', x: a.runningVar!, n: C, out: true });
  // Statistics by channel slices, then the normalizing pass by rows (threads.ts); k = invstd·gamma in scratch.
  run(rt, `[rows, C] = [${rows}, ${C}]`, slots, C, (p, k) => {
    const K = ELEMENTWISE_KERNELS.batchNormTrain;
    runTasks(rt, rangeTasks(rt, C, (c0, c1) => ({
      kernel: K.stats,
      args: [p[0]! + 4 * c0, rows, c1 - c0, C, p[2]! + 4 * c0, p[4]! + 4 * c0, p[5]! + 4 * c0, k + 4 * c0,
        update ? p[6]! + 4 * c0 : 0, update ? p[7]! + 4 * c0 : 0, momentum, eps, update ? 1 : 0],
    }), { align: 8, cost: 2 * rows }));
    runTasks(rt, rangeTasks(rt, rows, (r0, r1) => ({
      kernel: K.apply, args: [p[0]! + 4 * r0 * C, p[1]! + 4 * r0 * C, r1 - r0, C, p[4]!, k, p[3]!],
    }), { align: 1, cost: C }));
  });
}

export interface BatchNormInferArgs {
  x: F32Operand;
  y: F32Operand;
  rows: number;
  C: number;
  gamma: F32Operand;
  beta: F32Operand;
  runningMean: F32Operand;
  runningVar: F32Operand;
  /** Default 1e-5. */
  eps?: number;
}

/**
 * Inference-mode batch-norm: y = (x − runningMean)·gamma/√(runningVar + eps) + beta over [rows, C].
 * @example
 * const x = runtime.copyIn([3, 3]), y = runtime.allocF32(2);
 * const one = runtime.copyIn([1]), zero = runtime.copyIn([0]), mean = runtime.copyIn([1]), v = runtime.copyIn([4]);
 * batchNormInfer({ x, y, rows: 2, C: 1, gamma: one, beta: zero, runningMean: mean, runningVar: v, eps: 1e-9 });
 * // y.array ≈ [1, 1]
 */
export function batchNormInfer(a: BatchNormInferArgs, rt: Runtime = runtime): void {
  requireObject('args', a, 'a BatchNormInferArgs object');
  const rows = requireSize('rows', a.rows), C = requireSize('C', a.C);
  const eps = requirePositive('eps', a.eps ?? 1e-5);
  const n = rows * C;
  run(rt, `[rows, C] = [${rows}, ${C}]`, [
    { name: 'x', x: a.x, n }, { name: 'y', x: a.y, n, out: true }, { name: 'gamma', x: a.gamma, n: C }, { name: 'beta', x: a.beta, n: C },
    { name: 'runningMean', x: a.runningMean, n: C }, { name: 'runningVar', x: a.runningVar, n: C },
  ], C, (p, scratch) => rt.kernels[ELEMENTWISE_KERNELS.batchNormInfer](p[0]!, p[1]!, rows, C, p[2]!, p[3]!, p[4]!, p[5]!, eps, scratch));
}

export interface BatchNormGradArgs {
  /** The forward input [rows, C]. */
  x: F32Operand;
  dy: F32Operand;
  /** Written [rows, C] (may be dy). */
  dx: F32Operand;
  rows: number;
  C: number;
  gamma: F32Operand;
  /** saveMean / saveInvStd from batchNormTrain. */
  saveMean: F32Operand;
  saveInvStd: F32Operand;
  /** Written (overwritten, not accumulated) [C]. */
  dgamma: F32Operand;
  dbeta: F32Operand;
}

/**
 * Training-mode batch-norm backward with the saved statistics: xhat = (x − mean)·invstd,
 * dbeta = Σ dy, dgamma = Σ dy·xhat, dx = gamma·invstd/rows·(rows·dy − dbeta − xhat·dgamma).
 * @example
 * // after batchNormTrain({ x, y, rows, C, gamma, beta, saveMean, saveInvStd }):
 * batchNormGrad({ x, dy, dx, rows, C, gamma, saveMean, saveInvStd, dgamma, dbeta });
 */
export function batchNormGrad(a: BatchNormGradArgs, rt: Runtime = runtime): void {
  requireObject('args', a, 'a BatchNormGradArgs object');
  const rows = requireSize('rows', a.rows), C = requireSize('C', a.C);
  const n = rows * C;
  run(rt, `[rows, C] = [${rows}, ${C}]`, [
    { name: 'x', x: a.x, n }, { name: 'dy', x: a.dy, n }, { name: 'dx', x: a.dx, n, out: true }, { name: 'gamma', x: a.gamma, n: C },
    { name: 'saveMean', x: a.saveMean, n: C }, { name: 'saveInvStd', x: a.saveInvStd, n: C },
    { name: 'dgamma', x: a.dgamma, n: C, out: true }, { name: 'dbeta', x: a.dbeta, n: C, out: true },
  ], 2 * C, (p, scratch) => {
    // Statistics by channel slices, then dx by rows (threads.ts); ka, kb (C each) in scratch.
    const K = ELEMENTWISE_KERNELS.batchNormGrad, ka = scratch, kb = scratch + 4 * C;
    runTasks(rt, rangeTasks(rt, C, (c0, c1) => ({
      kernel: K.stats,
      args: [p[0]! + 4 * c0, p[1]! + 4 * c0, rows, c1 - c0, C, p[3]! + 4 * c0, p[4]! + 4 * c0, p[5]! + 4 * c0, p[6]! + 4 * c0, p[7]! + 4 * c0,
        ka + 4 * c0, kb + 4 * c0],
    }), { align: 8, cost: 2 * rows }));
    runTasks(rt, rangeTasks(rt, rows, (r0, r1) => ({
      kernel: K.apply, args: [p[0]! + 4 * r0 * C, p[1]! + 4 * r0 * C, p[2]! + 4 * r0 * C, r1 - r0, C, rows, p[4]!, p[7]!, ka, kb],
    }), { align: 1, cost: C }));
  });
}

// ---------------------------------------------------------------------------------------------
// Softmax

/**
 * Row softmax over the last dim of [rows, K] (max-subtracted, SIMD exp).
 * @example
 * const x = runtime.copyIn([0, 0, 1, 1]), y = runtime.allocF32(4);
 * softmaxRows(x, y, 2, 2); // y.array = [0.5, 0.5, 0.5, 0.5]
 */
export function softmaxRows(x: F32Operand, y: F32Operand, rows: number, K: number, rt: Runtime = runtime): void {
  requireSize('rows', rows);
  requireSize('K', K);
  const n = rows * K;
  run(rt, `[rows, K] = [${rows}, ${K}]`, [{ name: 'x', x, n }, { name: 'y', x: y, n, out: true }], 0,
    ([px, py]) => rt.kernels[ELEMENTWISE_KERNELS.softmaxRows](px!, py!, rows, K));
}

/**
 * Row-softmax backward from its output y: dx = y ⊙ (dy − Σ_k dy·y) per row.
 * @example
 * softmaxRowsGrad(y, dy, dx, rows, K);
 */
export function softmaxRowsGrad(y: F32Operand, dy: F32Operand, dx: F32Operand, rows: number, K: number, rt: Runtime = runtime): void {
  requireSize('rows', rows);
  requireSize('K', K);
  const n = rows * K;
  run(rt, `[rows, K] = [${rows}, ${K}]`, [{ name: 'y', x: y, n }, { name: 'dy', x: dy, n }, { name: 'dx', x: dx, n, out: true }], 0,
    ([py, pd, po]) => rt.kernels[ELEMENTWISE_KERNELS.softmaxRowsGrad](py!, pd!, po!, rows, K));
}

export interface SoftmaxCEArgs {
  /** [B, K] logits. */
  logits: F32Operand;
  /** [B] class indices in [0, K). */
  labels: Int32Array;
  /** Written: [B, K] softmax probabilities (keep them for the backward). */
  probs: F32Operand;
  B: number;
  K: number;
  /** Label smoothing ε in [0, 1); default 0. Target q = (1 − ε)·onehot + ε/K. */
  smoothing?: number;
}

/**
 * Softmax + cross-entropy with label smoothing: returns the mean loss −(1/B)·Σ_b Σ_k q_bk·log p_bk
 * (log-sum-exp with max subtraction) and writes the probabilities.
 * @example
 * const logits = runtime.copyIn([0, 0]), probs = runtime.allocF32(2);
 * softmaxCrossEntropy({ logits, labels: new Int32Array([1]), probs, B: 1, K: 2 }); // ≈ 0.6931 (ln 2)
 */
export function softmaxCrossEntropy(a: SoftmaxCEArgs, rt: Runtime = runtime): number {
  requireObject('args', a, 'a SoftmaxCEArgs object');
  const B = requireSize('B', a.B), K = requireSize('K', a.K);
  const eps = requireSmoothing(a.smoothing ?? 0);
  requireLabels(a.labels, K);
  const n = B * K;
  return run(rt, `[B, K] = [${B}, ${K}]`, [
    { name: 'logits', x: a.logits, n }, { name: 'labels', x: a.labels, n: B }, { name: 'probs', x: a.probs, n, out: true },
  ], 0, ([pl, pb, pp]) => rt.kernels[ELEMENTWISE_KERNELS.softmaxCrossEntropy](pl!, pb!, pp!, B, K, eps));
}

export interface SoftmaxCEGradArgs {
  /** The probabilities written by softmaxCrossEntropy. */
  probs: F32Operand;
  labels: Int32Array;
  /** Written: [B, K] (may be probs). */
  dlogits: F32Operand;
  B: number;
  K: number;
  /** The same ε as the forward; default 0. */
  smoothing?: number;
  /** Upstream gradient of the mean loss; default 1. */
  g?: number;
}

/**
 * Backward of softmaxCrossEntropy: dlogits = g·(p − ((1 − ε)·onehot + ε/K))/B.
 * @example
 * softmaxCrossEntropyGrad({ probs, labels, dlogits, B, K, smoothing: 0.1 });
 */
export function softmaxCrossEntropyGrad(a: SoftmaxCEGradArgs, rt: Runtime = runtime): void {
  requireObject('args', a, 'a SoftmaxCEGradArgs object');
  const B = requireSize('B', a.B), K = requireSize('K', a.K);
  const eps = requireSmoothing(a.smoothing ?? 0);
  const g = requireFinite('g', a.g ?? 1);
  requireLabels(a.labels, K);
  const n = B * K;
  run(rt, `[B, K] = [${B}, ${K}]`, [
    { name: 'probs', x: a.probs, n }, { name: 'labels', x: a.labels, n: B }, { name: 'dlogits', x: a.dlogits, n, out: true },
  ], 0, ([pp, pb, pd]) => rt.kernels[ELEMENTWISE_KERNELS.softmaxCrossEntropyGrad](pp!, pb!, pd!, B, K, eps, g));
}

/**
 * How many rows of [B, K] logits (or probabilities) have their argmax (the first maximum) at the label.
 * @example
 * accuracyCount(runtime.copyIn([0, 1, 5, 2]), new Int32Array([1, 1]), 2, 2); // 1
 */
export function accuracyCount(logits: F32Operand, labels: Int32Array, B: number, K: number, rt: Runtime = runtime): number {
  requireSize('B', B);
  requireSize('K', K);
  requireLabels(labels, K);
  return run(rt, `[B, K] = [${B}, ${K}]`, [{ name: 'logits', x: logits, n: B * K }, { name: 'labels', x: labels, n: B }], 0,
    ([pl, pb]) => rt.kernels[ELEMENTWISE_KERNELS.accuracyCount](pl!, pb!, B, K));
}

// ---------------------------------------------------------------------------------------------
// Layer-norm over the last dim

export interface LayerNormArgs {
  /** [rows, D]. */
  x: F32Operand;
  /** Written [rows, D] (may be x). */
  y: F32Operand;
  rows: number;
  D: number;
  gamma: F32Operand;
  beta: F32Operand;
  /** Written [rows]: per-row mean and 1/√(biased var + eps), for the backward. */
  saveMean: F32Operand;
  saveInvStd: F32Operand;
  /** Default 1e-5. */
  eps?: number;
}

/**
 * Layer-norm over the last dim: y = (x − mean)·invstd·gamma + beta per row, biased variance.
 * @example
 * layerNorm({ x, y, rows, D, gamma, beta, saveMean, saveInvStd });
 */
export function layerNorm(a: LayerNormArgs, rt: Runtime = runtime): void {
  requireObject('args', a, 'a LayerNormArgs object');
  const rows = requireSize('rows', a.rows), D = requireSize('D', a.D);
  const eps = requirePositive('eps', a.eps ?? 1e-5);
  const n = rows * D;
  run(rt, `[rows, D] = [${rows}, ${D}]`, [
    { name: 'x', x: a.x, n }, { name: 'y', x: a.y, n, out: true }, { name: 'gamma', x: a.gamma, n: D }, { name: 'beta', x: a.beta, n: D },
    { name: 'saveMean', x: a.saveMean, n: rows, out: true }, { name: 'saveInvStd', x: a.saveInvStd, n: rows, out: true },
  ], 0, (p) => rt.kernels[ELEMENTWISE_KERNELS.layerNorm](p[0]!, p[1]!, rows, D, p[2]!, p[3]!, p[4]!, p[5]!, eps));
}

export interface LayerNormGradArgs {
  x: F32Operand;
  dy: F32Operand;
  /** Written [rows, D] (may be dy). */
  dx: F32Operand;
  rows: number;
  D: number;
  gamma: F32Operand;
  saveMean: F32Operand;
  saveInvStd: F32Operand;
  /** Written (overwritten) [D]. */
  dgamma: F32Operand;
  dbeta: F32Operand;
}

/**
 * Layer-norm backward: g = dy·gamma, xhat = (x − mean)·invstd, dx = invstd·(g − mean(g) − xhat·mean(g·xhat));
 * dgamma = Σ_rows dy·xhat, dbeta = Σ_rows dy.
 * @example
 * layerNormGrad({ x, dy, dx, rows, D, gamma, saveMean, saveInvStd, dgamma, dbeta });
 */
export function layerNormGrad(a: LayerNormGradArgs, rt: Runtime = runtime): void {
  requireObject('args', a, 'a LayerNormGradArgs object');
  const rows = requireSize('rows', a.rows), D = requireSize('D', a.D);
  const n = rows * D;
  run(rt, `[rows, D] = [${rows}, ${D}]`, [
    { name: 'x', x: a.x, n }, { name: 'dy', x: a.dy, n }, { name: 'dx', x: a.dx, n, out: true }, { name: 'gamma', x: a.gamma, n: D },
    { name: 'saveMean', x: a.saveMean, n: rows }, { name: 'saveInvStd', x: a.saveInvStd, n: rows },
    { name: 'dgamma', x: a.dgamma, n: D, out: true }, { name: 'dbeta', x: a.dbeta, n: D, out: true },
  ], 0, (p) => rt.kernels[ELEMENTWISE_KERNELS.layerNormGrad](p[0]!, p[1]!, p[2]!, rows, D, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!));
}

// ---------------------------------------------------------------------------------------------
// GELU (tanh approximation)

/**
 * GELU, tanh approximation: y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed as x·σ(2u).
 * @example
 * const x = runtime.copyIn([1]), y = runtime.allocF32(1);
 * geluTanh(x, y); // y.array ≈ [0.841192]
 */
export function geluTanh(x: F32Operand, y: F32Operand, rt: Runtime = runtime): void {
  unary(rt, x, y, 'y', ELEMENTWISE_KERNELS.geluTanh);
}

/**
 * GELU (tanh approximation) backward: dx = dy·GELU'(x).
 * @example
 * const x = runtime.copyIn([0]), dy = runtime.copyIn([1]), dx = runtime.allocF32(1);
 * geluTanhGrad(x, dy, dx); // dx.array = [0.5]
 */
export function geluTanhGrad(x: F32Operand, dy: F32Operand, dx: F32Operand, rt: Runtime = runtime): void {
  binary(rt, ['x', 'dy', 'dx'], x, dy, dx, ELEMENTWISE_KERNELS.geluTanhGrad);
}
