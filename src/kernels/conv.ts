// Typed wrappers over the convolution-family kernels (assembly/conv2d*.ts, depthwise.ts, pool.ts): shape
// validation that throws FliqsError, arena scratch for packed weights, and the geometry block every
// kernel reads (blocks.ts convGeometry, written from the ConvShape right before the call).
// Tensors are wasm-resident WasmF32 buffers (NHWC activations, HWIO weights); every buffer of a call
// must belong to the same runtime, and outputs are allocated on that runtime unless passed in. Calls are split
// over threads by images, output channels or kernel rows (conv-tasks.ts).

import { FliqsError, describe } from '../core/errors.js';
import { residentF32 } from '../core/operands.js';
import { WasmF32, WasmI32, type Runtime, type WasmExports } from '../core/runtime.js';
import { convGeometry } from './blocks.js';
import { rangeTasks, runTasks } from './threads.js';
import { outExtent, type ConvShape } from './conv.ref.js';
import { preferWinograd, preferWinogradGradInput, preferWinogradGradWeight } from './winograd.js';
import { winogradForwardCore, winogradGradInputCore, winogradGradWeightCore } from './winograd-core.js';
import { gradWeightTasks, imageTasks, POOL_TAP_COST, runWithScratch } from './conv-tasks.js';

export type { ConvShape } from './conv.ref.js';

/**
 * The wasm kernel behind each operation (one list drives wrappers, tests and bench). conv2dGradWeight runs
 * as a GEMM over pixels, or directly for patches under DW_GEMM_MIN_PATCH entries.
 */
export const CONV_KERNELS = {
  conv2d: 'conv2d_direct_nhwc_f32_4x8',
  conv2dGradInput: 'conv2d_grad_input_nhwc_f32_4x8',
  conv2dGradWeight: { gemm: 'conv2d_grad_weight_gemm_nhwc_f32_4x8', direct: 'conv2d_grad_weight_nhwc_f32_4x8' },
  conv2dGradBias: 'conv2d_grad_bias_f32',
  depthwiseConv2d: 'depthwise_conv2d_nhwc_f32_4x8',
  depthwiseConv2dGradInput: 'depthwise_conv2d_grad_input_nhwc_f32',
  depthwiseConv2dGradWeight: 'depthwise_conv2d_grad_weight_nhwc_f32',
  maxPool2d: 'maxpool2d_nhwc_f32',
  maxPool2dGrad: 'maxpool2d_bwd_f32',
  avgPool2d: 'avgpool2d_nhwc_f32',
  avgPool2dGrad: 'avgpool2d_bwd_nhwc_f32',
  globalAvgPool: 'global_avgpool_nhwc_f32',
  globalAvgPoolGrad: 'global_avgpool_bwd_nhwc_f32',
} as const satisfies Record<string, keyof WasmExports | Record<string, keyof WasmExports>>;

export type ConvOp = keyof typeof CONV_KERNELS;

/** stride: s or [sh, sw]; padding: p, [ph, pw] (symmetric) or [top, left, bottom, right]. */
export interface ConvOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  groups?: number;
}

export interface PoolOptions {
  /** Window size k or [kh, kw]. */
  kernel: number | readonly [number, number];
  /** Defaults to the window size. */
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
}

const MAX_ELEMS = 2 ** 29; // kernels index bytes with i32

function shape4(input: string, s: unknown, names: string): [number, number, number, number] {
  if (!Array.isArray(s) || s.length !== 4 || s.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new FliqsError(input, `got ${Array.isArray(s) ? `[${s.join(', ')}]` : describe(s)}`, `[${names}] of positive integers`);
  }
  return s as [number, number, number, number];
}

function pair(input: string, v: unknown, min: number, dflt: [number, number]): [number, number] {
  if (v === undefined) return dflt;
  const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= min && d <= 65536;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0] as number, v[1] as number];
  throw new FliqsError(input, `got ${Array.isArray(v) ? `[${v.join(', ')}]` : describe(v)}`, `an integer ≥ ${min} or [h, w] of such`);
}

function pads(v: unknown): [number, number, number, number] {
  if (Array.isArray(v) && v.length === 4) {
    if (v.every((d) => Number.isInteger(d) && d >= 0 && d <= 65536)) return v as [number, number, number, number];
    throw new FliqsError('padding', `got [${v.join(', ')}]`, 'integers ≥ 0 as p, [ph, pw] or [top, left, bottom, right]');
  }
  const [ph, pw] = pair('padding', v, 0, [0, 0]);
  return [ph, pw, ph, pw];
}

function finish(s: Omit<ConvShape, 'OH' | 'OW'>, what: string): ConvShape {
  const OH = outExtent(s.H, s.KH, s.sh, s.pt, s.pb);
  const OW = outExtent(s.W, s.KW, s.sw, s.pl, s.pr);
  if (OH < 1 || OW < 1) {
    throw new FliqsError('shape', `${what} input ${s.H}×${s.W} with window ${s.KH}×${s.KW}, stride ${s.sh}×${s.sw}, ` +
      `padding [${s.pt}, ${s.pl}, ${s.pb}, ${s.pr}] gives output ${OH}×${OW}`, 'shapes whose output is at least 1×1');
  }
  const r = { ...s, OH, OW };
  for (const n of [r.N * r.H * r.W * r.C, r.N * OH * OW * r.CO, r.KH * r.KW * r.C * r.CO]) {
    if (n > MAX_ELEMS) throw new FliqsError('shape', `${what} tensor of ${n} elements`, `at most ${MAX_ELEMS} elements per tensor`);
  }
  return r;
}

/**
 * Validates and resolves a conv2d geometry from x's shape [N, H, W, C], the HWIO weight shape
 * [KH, KW, C/groups, CO] and options.
 * @example
 * const s = conv2dShape([1, 5, 5, 3], [3, 3, 3, 8], { padding: 1 }); // s.OH === 5, s.OW === 5
 */
export function conv2dShape(xShape: readonly number[], wShape: readonly number[], opts: ConvOptions = {}): ConvShape {
  const [N, H, W, C] = shape4('x shape', xShape, 'N, H, W, C');
  const [KH, KW, ICg, CO] = shape4('w shape', wShape, 'KH, KW, Cin/groups, Cout');
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || CO % groups !== 0) {
    throw new FliqsError('groups', `got ${describe(groups)} for x [${xShape.join(', ')}] and w [${wShape.join(', ')}]`,
      `a positive integer dividing both Cin = ${C} and Cout = ${CO}`);
  }
  if (ICg * groups !== C) {
    throw new FliqsError('w shape', `[${wShape.join(', ')}] has ${ICg} input channels per group but x [${xShape.join(', ')}] with groups ${groups} needs ${C / groups}`,
      `[KH, KW, ${C / groups}, Cout]`);
  }
  const [sh, sw] = pair('stride', opts.stride, 1, [1, 1]);
  const [pt, pl, pb, pr] = pads(opts.padding);
  return finish({ N, H, W, C, CO, KH, KW, sh, sw, pt, pl, pb, pr, groups }, 'conv2d');
}

/**
 * Depthwise geometry from x [N, H, W, C] and weights [KH, KW, C] (channel multiplier 1).
 * @example
 * const s = depthwiseConv2dShape([2, 8, 8, 16], [3, 3, 16], { stride: 2, padding: 1 }); // s.OH === 4
 */
export function depthwiseConv2dShape(xShape: readonly number[], wShape: readonly number[], opts: Omit<ConvOptions, 'groups'> = {}): ConvShape {
  const [N, H, W, C] = shape4('x shape', xShape, 'N, H, W, C');
  if (!Array.isArray(wShape) || wShape.length !== 3 || wShape.some((d) => !Number.isInteger(d) || d < 1) || wShape[2] !== C) {
    throw new FliqsError('w shape', `got [${Array.isArray(wShape) ? wShape.join(', ') : describe(wShape)}] for x [${xShape.join(', ')}]`, `[KH, KW, ${C}]`);
  }
  const [sh, sw] = pair('stride', opts.stride, 1, [1, 1]);
  const [pt, pl, pb, pr] = pads(opts.padding);
  return finish({ N, H, W, C, CO: C, KH: wShape[0]!, KW: wShape[1]!, sh, sw, pt, pl, pb, pr, groups: C }, 'depthwise conv');
}

/**
 * Pooling geometry from x [N, H, W, C]; each padding must be smaller than the window, so every
 * window holds at least one real element.
 * @example
 * const s = pool2dShape([1, 28, 28, 16], { kernel: 2 }); // s.OH === 14
 */
export function pool2dShape(xShape: readonly number[], opts: PoolOptions): ConvShape {
  const [N, H, W, C] = shape4('x shape', xShape, 'N, H, W, C');
  const [KH, KW] = pair('kernel', opts?.kernel, 1, [0, 0]);
  if (KH === 0) throw new FliqsError('kernel', 'missing', 'a window size k or [kh, kw]');
  const [sh, sw] = pair('stride', opts.stride, 1, [KH, KW]);
  const [pt, pl, pb, pr] = pads(opts.padding);
  if (pt >= KH || pb >= KH || pl >= KW || pr >= KW) {
    throw new FliqsError('padding', `[${pt}, ${pl}, ${pb}, ${pr}] for a ${KH}×${KW} window`, 'each padding smaller than the window along its axis');
  }
  return finish({ N, H, W, C, CO: C, KH, KW, sh, sw, pt, pl, pb, pr, groups: C }, 'pool2d');
}

function checkShape(s: ConvShape): void {
  if (!s || typeof s !== 'object' || !Number.isInteger(s.OH) || !Number.isInteger(s.groups)) {
    throw new FliqsError('shape', `got ${describe(s)}`, 'a ConvShape from conv2dShape, depthwiseConv2dShape or pool2dShape');
  }
}

function outBuf(rt: Runtime, out: unknown, length: number, dims: string): WasmF32 {
  return out === undefined ? rt.allocF32(length) : residentF32(rt, 'out', out, length, dims);
}

function runtimeOf(input: string, b: unknown): Runtime {
  if (!(b instanceof WasmF32)) throw new FliqsError(input, `got ${describe(b)}`, 'a WasmF32 (from runtime.allocF32 / copyIn)');
  return b.runtime;
}

const xDims = (s: ConvShape) => `[${s.N}, ${s.H}, ${s.W}, ${s.C}]`;
const yDims = (s: ConvShape) => `[${s.N}, ${s.OH}, ${s.OW}, ${s.CO}]`;
const wDims = (s: ConvShape) => `[${s.KH}, ${s.KW}, ${s.C / s.groups}, ${s.CO}]`;
const xLen = (s: ConvShape) => s.N * s.H * s.W * s.C;
const yLen = (s: ConvShape) => s.N * s.OH * s.OW * s.CO;
const wLen = (s: ConvShape) => s.KH * s.KW * (s.C / s.groups) * s.CO;

/**
 * conv2d forward: y[N, OH, OW, CO] = conv(x[N, H, W, C], w HWIO) + bias[CO] (bias may be null).
 * Packs w into 8-channel panels (arena scratch), then runs the 4×8 register-tiled direct kernel; 3×3
 * stride-1 convs where it measured faster run Winograd F(2×2, 3×3) instead (winograd.ts, preferWinograd).
 * @example
 * import { runtime } from '../core/runtime.js';
 * const s = conv2dShape([1, 4, 4, 2], [3, 3, 2, 5], { padding: 1 });
 * const y = conv2d(runtime.copyIn(new Float32Array(32).fill(1)), runtime.copyIn(new Float32Array(90).fill(1)), null, s);
 * y.array[5 * 5]; // 18 (interior pixel (1,1): 3·3 taps × 2 channels)
 */
export function conv2d(x: WasmF32, w: WasmF32, bias: WasmF32 | null, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, xLen(s), xDims(s));
  residentF32(rt, 'w', w, wLen(s), wDims(s));
  if (bias !== null && bias !== undefined) residentF32(rt, 'bias', bias, s.CO, `[${s.CO}]`);
  const y = outBuf(rt, out, yLen(s), yDims(s));
  if (preferWinograd(s)) { winogradForwardCore(rt, x, w, bias ?? null, y, s); return y; }
  const ICg = s.C / s.groups, OCg = s.CO / s.groups;
  const wpBytes = s.groups * Math.ceil(OCg / 8) * s.KH * s.KW * ICg * 32;
  runWithScratch(rt, wpBytes, (scratch) => imageTasks(rt, s, (slot, sub, xAt, yAt) => ({
    kernel: CONV_KERNELS.conv2d,
    args: [xAt(x.ptr), w.ptr, scratch(slot), bias ? bias.ptr : 0, yAt(y.ptr), convGeometry(rt, sub, slot)],
  }), 1, 1));
  return y;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** Smallest per-group patch (KH·KW·Cin/groups) for which grad-weight runs as a GEMM over pixels. */
const DW_GEMM_MIN_PATCH = 32;

/**
 * conv2d grad-input: dx[N, H, W, C] = transposed conv of dy[N, OH, OW, CO] with w. The kernel splits dx into
 * sh·sw stride phases; each is a stride-1 direct conv of dy with a flipped, transposed sub-kernel.
 * 3×3 stride-1 shapes where it measured faster run Winograd instead (preferWinogradGradInput).
 * @example
 * const dx = conv2dGradInput(dy, w, conv2dShape([2, 9, 9, 3], [3, 3, 3, 8], { stride: 2 }));
 */
export function conv2dGradInput(dy: WasmF32, w: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('dy', dy);
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  residentF32(rt, 'w', w, wLen(s), wDims(s));
  const dx = outBuf(rt, out, xLen(s), xDims(s));
  if (preferWinogradGradInput(s)) { winogradGradInputCore(rt, dy, w, dx, s); return dx; }
  const ICg = s.C / s.groups, OCg = s.CO / s.groups;
  const Jh0 = ceilDiv(s.KH, s.sh), Jw0 = ceilDiv(s.KW, s.sw);
  const wpBytes = s.groups * Math.ceil(ICg / 8) * Jh0 * Jw0 * OCg * 32;
  runWithScratch(rt, wpBytes, (scratch) => imageTasks(rt, s, (slot, sub, xAt, yAt) => ({
    kernel: CONV_KERNELS.conv2dGradInput,
    args: [yAt(dy.ptr), w.ptr, scratch(slot), xAt(dx.ptr), convGeometry(rt, sub, slot)],
  })));
  return dx;
}

/**
 * conv2d grad-weight: dw (HWIO) = Σ over N·OH·OW of input patches × dy. When a group's patch has at
 * least DW_GEMM_MIN_PATCH entries (KH·KW·Cin/groups) it runs as a GEMM over pixels on the shared 4×8
 * micro-kernel (conv2d_grad_weight_gemm_nhwc_f32_4x8, arena scratch); tiny patches (e.g. Cin = 1) keep the
 * direct 4×8 reduction, where the GEMM's 8-column panels would be mostly padding. 3×3 stride-1 shapes where
 * it measured faster run the transposed Winograd instead (preferWinogradGradWeight).
 * @example
 * const dw = conv2dGradWeight(x, dy, conv2dShape([2, 8, 8, 3], [3, 3, 3, 8], { padding: 1 }));
 */
export function conv2dGradWeight(x: WasmF32, dy: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, xLen(s), xDims(s));
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  const dw = outBuf(rt, out, wLen(s), wDims(s));
  if (preferWinogradGradWeight(s)) { winogradGradWeightCore(rt, x, dy, dw, s); return dw; }
  const ICg = s.C / s.groups;
  if (s.KH * s.KW * ICg >= DW_GEMM_MIN_PATCH) {
    const bytes = rt.kernels.conv2d_grad_weight_scratch_bytes(convGeometry(rt, s));
    runWithScratch(rt, bytes, (scratch) => gradWeightTasks(rt, s, (slot, sub, at) => ({
      kernel: CONV_KERNELS.conv2dGradWeight.gemm,
      args: [x.ptr, at(dy.ptr, false), at(dw.ptr, true), scratch(slot), convGeometry(rt, sub, slot, s.CO)],
    })));
  } else {
    runTasks(rt, gradWeightTasks(rt, s, (slot, sub, at) => ({
      kernel: CONV_KERNELS.conv2dGradWeight.direct,
      args: [x.ptr, at(dy.ptr, false), at(dw.ptr, true), convGeometry(rt, sub, slot, s.CO)],
    })));
  }
  return dw;
}

/**
 * Bias gradient of conv2d / depthwise: db[CO] = Σ over N·OH·OW of dy.
 * @example
 * const db = conv2dGradBias(dy, s); // s from conv2dShape or depthwiseConv2dShape
 */
export function conv2dGradBias(dy: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('dy', dy);
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  const db = outBuf(rt, out, s.CO, `[${s.CO}]`);
  runTasks(rt, rangeTasks(rt, s.CO, (c0, c1) => ({
    kernel: CONV_KERNELS.conv2dGradBias, args: [dy.ptr + 4 * c0, s.N * s.OH * s.OW, c1 - c0, s.CO, db.ptr + 4 * c0],
  }), { align: 8, cost: s.N * s.OH * s.OW }));
  return db;
}

/**
 * Depthwise forward: y[N, OH, OW, C] = Σ_{kh,kw} x · w[KH, KW, C] + bias[C] (bias may be null).
 * @example
 * const s = depthwiseConv2dShape([1, 8, 8, 16], [3, 3, 16], { padding: 1 });
 * const y = depthwiseConv2d(x, w, null, s);
 */
export function depthwiseConv2d(x: WasmF32, w: WasmF32, bias: WasmF32 | null, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, xLen(s), xDims(s));
  residentF32(rt, 'w', w, s.KH * s.KW * s.C, `[${s.KH}, ${s.KW}, ${s.C}]`);
  if (bias !== null && bias !== undefined) residentF32(rt, 'bias', bias, s.C, `[${s.C}]`);
  const y = outBuf(rt, out, yLen(s), yDims(s));
  runTasks(rt, imageTasks(rt, s, (slot, sub, xAt, yAt) => ({
    kernel: CONV_KERNELS.depthwiseConv2d,
    args: [xAt(x.ptr), w.ptr, bias ? bias.ptr : 0, yAt(y.ptr), convGeometry(rt, sub, slot)],
  }), 1, 1));
  return y;
}

/**
 * Depthwise grad-input.
 * @example
 * const dx = depthwiseConv2dGradInput(dy, w, s);
 */
export function depthwiseConv2dGradInput(dy: WasmF32, w: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('dy', dy);
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  residentF32(rt, 'w', w, s.KH * s.KW * s.C, `[${s.KH}, ${s.KW}, ${s.C}]`);
  const dx = outBuf(rt, out, xLen(s), xDims(s));
  runTasks(rt, imageTasks(rt, s, (slot, sub, xAt, yAt) => ({
    kernel: CONV_KERNELS.depthwiseConv2dGradInput,
    args: [yAt(dy.ptr), w.ptr, xAt(dx.ptr), convGeometry(rt, sub, slot)],
  })));
  return dx;
}

/**
 * Depthwise grad-weight: dw[KH, KW, C].
 * @example
 * const dw = depthwiseConv2dGradWeight(x, dy, s);
 */
export function depthwiseConv2dGradWeight(x: WasmF32, dy: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, xLen(s), xDims(s));
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  const dw = outBuf(rt, out, s.KH * s.KW * s.C, `[${s.KH}, ${s.KW}, ${s.C}]`);
  rt.kernels[CONV_KERNELS.depthwiseConv2dGradWeight](x.ptr, dy.ptr, dw.ptr, convGeometry(rt, s));
  return dw;
}

/**
 * Max pool forward. Returns y and the argmax (flat index into x per output element) for backward.
 * Ties go to the first maximum in window scan order (row kh, then column kw); padding never wins.
 * @example
 * const s = pool2dShape([1, 4, 4, 1], { kernel: 2 });
 * const { y, argmax } = maxPool2d(runtime.copyIn(Float32Array.from({ length: 16 }, (_, i) => i)), s);
 * y.array; // Float32Array [5, 7, 13, 15]
 */
export function maxPool2d(x: WasmF32, s: ConvShape, out?: WasmF32): { y: WasmF32; argmax: WasmI32 } {
  checkShape(s);
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, xLen(s), xDims(s));
  const y = outBuf(rt, out, yLen(s), yDims(s));
  const n = yLen(s);
  const argmax = new WasmI32(rt, rt.arena.alloc(n * 4), n);
  const xImg = s.H * s.W * s.C;
  runTasks(rt, imageTasks(rt, s, (slot, sub, xAt, yAt, n0) => ({
    kernel: CONV_KERNELS.maxPool2d, args: [xAt(x.ptr), yAt(y.ptr), yAt(argmax.ptr), n0 * xImg, convGeometry(rt, sub, slot)],
  }), POOL_TAP_COST, 1));
  return { y, argmax };
}

/**
 * Max pool backward: dx[argmax[i]] += dy[i]. Split over threads by images, like the forward (a window never
 * leaves its image, so each image's dx gets its own dy in the single-thread order).
 * @example
 * const dx = maxPool2dGrad(dy, argmax, s);
 */
export function maxPool2dGrad(dy: WasmF32, argmax: WasmI32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('dy', dy);
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  if (!(argmax instanceof WasmI32) || argmax.runtime !== rt || argmax.length !== yLen(s)) {
    throw new FliqsError('argmax', `got ${describe(argmax)}`, `the WasmI32 of length ${yLen(s)} returned by maxPool2d on this runtime`);
  }
  const dx = outBuf(rt, out, xLen(s), xDims(s));
  const xImg = s.H * s.W * s.C, yImg = s.OH * s.OW * s.C;
  runTasks(rt, imageTasks(rt, s, (_, sub, xAt, yAt, n0) => ({
    kernel: CONV_KERNELS.maxPool2dGrad, args: [yAt(dy.ptr), yAt(argmax.ptr), sub.N * yImg, xAt(dx.ptr), sub.N * xImg, n0 * xImg],
  }), POOL_TAP_COST));
  return dx;
}

/**
 * Average pool forward; the divisor counts only real (non-padding) elements of each window.
 * @example
 * const y = avgPool2d(x, pool2dShape([1, 4, 4, 1], { kernel: 3, stride: 1, padding: 1 }));
 */
export function avgPool2d(x: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, xLen(s), xDims(s));
  const y = outBuf(rt, out, yLen(s), yDims(s));
  runTasks(rt, imageTasks(rt, s, (slot, sub, xAt, yAt) => ({
    kernel: CONV_KERNELS.avgPool2d, args: [xAt(x.ptr), yAt(y.ptr), convGeometry(rt, sub, slot)],
  }), POOL_TAP_COST, 1));
  return y;
}

/**
 * Average pool backward.
 * @example
 * const dx = avgPool2dGrad(dy, s);
 */
export function avgPool2dGrad(dy: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  checkShape(s);
  const rt = runtimeOf('dy', dy);
  residentF32(rt, 'dy', dy, yLen(s), yDims(s));
  const dx = outBuf(rt, out, xLen(s), xDims(s));
  runTasks(rt, imageTasks(rt, s, (slot, sub, xAt, yAt) => ({
    kernel: CONV_KERNELS.avgPool2dGrad, args: [yAt(dy.ptr), xAt(dx.ptr), convGeometry(rt, sub, slot)],
  }), POOL_TAP_COST));
  return dx;
}

/**
 * Global average pool: x [N, H, W, C] → y [N, C].
 * @example
 * const y = globalAvgPool(x, [2, 7, 7, 32]);
 */
export function globalAvgPool(x: WasmF32, xShape: readonly number[], out?: WasmF32): WasmF32 {
  const [N, H, W, C] = shape4('x shape', xShape, 'N, H, W, C');
  const rt = runtimeOf('x', x);
  residentF32(rt, 'x', x, N * H * W * C, `[${N}, ${H}, ${W}, ${C}]`);
  const y = outBuf(rt, out, N * C, `[${N}, ${C}]`);
  rt.kernels[CONV_KERNELS.globalAvgPool](x.ptr, N, H * W, C, y.ptr);
  return y;
}

/**
 * Global average pool backward: dy [N, C] → dx [N, H, W, C] = dy / (H·W).
 * @example
 * const dx = globalAvgPoolGrad(dy, [2, 7, 7, 32]);
 */
export function globalAvgPoolGrad(dy: WasmF32, xShape: readonly number[], out?: WasmF32): WasmF32 {
  const [N, H, W, C] = shape4('x shape', xShape, 'N, H, W, C');
  const rt = runtimeOf('dy', dy);
  residentF32(rt, 'dy', dy, N * C, `[${N}, ${C}]`);
  const dx = outBuf(rt, out, N * H * W * C, `[${N}, ${H}, ${W}, ${C}]`);
  rt.kernels[CONV_KERNELS.globalAvgPoolGrad](dy.ptr, N, H * W, C, dx.ptr);
  return dx;
}
