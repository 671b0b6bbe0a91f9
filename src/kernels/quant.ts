// The public fake-quantizers on the wasm SIMD kernels (assembly/quant.ts): quantize, quantizePerChannel
// and the straight-through gradient, plus the resident per-channel forms the autograd op calls.
// Arrays that already live in wasm memory are used in place; other arrays stream through a
// cache-sized scratch block, so a 4M-element tensor never needs a 16 MB copy. Resident calls are split over
// threads by element ranges, or row ranges for the per-channel forms (threads.ts rangeTasks).

import { FliqsError, requirePositive } from '../core/errors.js';
import { place } from '../core/operands.js';
import { runtime, type Runtime, type WasmF32 } from '../core/runtime.js';
import { channelSplit, checkedClips, checkedScale, outputFor, requireF32 } from '../formats/checks.js';
import { parseFormat, type Format } from '../formats/format.js';
import { kernelParams } from '../formats/params.js';
import { quantParams } from './blocks.js';
import { rangeTasks, runTasks } from './threads.js';

import type { ChannelLayout } from '../formats/checks.js';
export type { ChannelLayout } from '../formats/checks.js';

/** Elements per scratch chunk: 64 KiB in, quantized in place, copied out while still in L2. */
const CHUNK = 16384;
const scratchOf = new WeakMap<Runtime, number>();

function scratch(rt: Runtime): number {
  let p = scratchOf.get(rt);
  if (p === undefined) { p = rt.arena.alloc(CHUNK * 4); scratchOf.set(rt, p); }
  return p;
}

/**
 * Runs `kernel(ptrIn, ptrOut, count)` over x → out: directly when both live in wasm memory, else through
 * the scratch block in chunks. Offsets are taken before the scratch is allocated (which may grow the
 * memory and detach views); a resident array is then reached through its offset only.
 */
function stream(rt: Runtime, x: Float32Array, out: Float32Array, kernel: (inp: number, outp: number, n: number) => void): void {
  const n = x.length;
  const xOff = rt.owns(x) ? x.byteOffset >>> 2 : -1, oOff = rt.owns(out) ? out.byteOffset >>> 2 : -1;
  if (xOff >= 0 && oOff >= 0) {
    kernel(4 * xOff, 4 * oOff, n); // byte offsets may pass 2^31: no signed shifts
    return;
  }
  const p = scratch(rt), s = p >>> 2;
  for (let i = 0; i < n; i += CHUNK) {
    const m = Math.min(CHUNK, n - i);
    const mem = rt.f32;
    if (xOff >= 0) mem.copyWithin(s, xOff + i, xOff + i + m);
    else mem.set(x.subarray(i, i + m), s);
    kernel(p, p, m);
    if (oOff >= 0) rt.f32.copyWithin(oOff + i, s, s + m);
    else out.set(rt.f32.subarray(s, s + m), i);
  }
}

/**
 * Fake-quantizes x to `format` with clipping threshold `clip` (the spec's quantize()): scale by
 * s = maxValue / clip, clamp, round to the grid (ties to even), scale back. NaN stays NaN, ±Infinity
 * saturates to ±clip. BF16 and FP32 ignore the clip (it may be omitted for them).
 * @example
 * import { quantize } from 'fliqs';
 * quantize(new Float32Array([0.1, 0.26, -3]), 'INT4', 1); // Float32Array [0.142857…, 0.285714…, -1]
 * quantize(new Float32Array([1.3]), 'E2M1', 3);           // Float32Array [1.5]
 */
export function quantize(x: Float32Array, format: Format | string, clip?: number, out?: Float32Array): Float32Array {
  requireF32('x', x);
  const f = parseFormat(format);
  const s = checkedScale(f, clip);
  const o = outputFor(x, out);
  const rt = runtime;
  if (f.kind === 'fp32') {
    if (o !== x) o.set(x);
    return o;
  }
  const qp = quantParams(rt, kernelParams(f), s);
  stream(rt, x, o, (a, b, n) => runTasks(rt, rangeTasks(rt, n, (i0, i1) => ({ kernel: 'quant_f32x4', args: [a + 4 * i0, b + 4 * i0, i1 - i0, qp] }))));
  return o;
}

/**
 * Per-channel fake-quantization: channel c along `layout.axis` uses clips[c]. Like every function here it
 * may allocate wasm memory; views of wasm memory passed in stay valid only until the memory grows, so
 * re-derive them (WasmF32.array) after the call.
 * @example
 * // a 2×3 weight matrix, one clip per output row
 * quantizePerChannel(new Float32Array([0.5, -1, 2, 0.1, 0.2, 0.3]), 'INT8', [2, 0.3], { shape: [2, 3] });
 */
export function quantizePerChannel(x: Float32Array, format: Format | string, clips: ArrayLike<number>, layout: ChannelLayout,
  out?: Float32Array): Float32Array {
  requireF32('x', x);
  const f = parseFormat(format);
  const [outer, C, inner] = channelSplit(x, layout);
  const scales = checkedClips(f, clips, C);
  const o = outputFor(x, out);
  if (f.ignoresClip) return quantize(x, f, undefined, o);
  const rt = runtime, k = kernelParams(f);
  const placed = place(rt, [x, o], [1]);
  const [px, po] = placed.ptrs as [number, number];
  let ps = -1;
  try {
    ps = rt.arena.alloc(C * 4);
    rt.f32.set(scales, ps >>> 2);
    const qp = quantParams(rt, k, 1, ps), slab = 4 * C * inner;
    runTasks(rt, rangeTasks(rt, outer, (o0, o1) => ({ kernel: 'quant_pc_f32x4', args: [px + o0 * slab, po + o0 * slab, o1 - o0, C, inner, qp] }),
      { align: 1, cost: C * inner }));
    placed.copyBack(1);
  } finally {
    if (ps >= 0) rt.arena.free(ps);
    placed.release();
  }
  return o;
}

/**
 * Straight-through estimator: the gradient of quantize() w.r.t. x is passed where |x| ≤ clip and
 * blocked where x was clipped. Formats that ignore the clip pass everything.
 * @example
 * steGradient(new Float32Array([0.5, 2]), new Float32Array([1, 1]), 1); // Float32Array [1, 0]
 */
export function steGradient(x: Float32Array, gradOut: Float32Array, clip: number, gradIn?: Float32Array): Float32Array {
  requireF32('x', x);
  requireF32('gradOut', gradOut);
  if (gradOut.length !== x.length) throw new FliqsError('gradOut', `has length ${gradOut.length}, x has ${x.length}`, 'the same length as x');
  const c = clip === Infinity ? Infinity : requirePositive('clip', clip);
  const o = outputFor(x, gradIn, 'gradIn');
  const rt = runtime;
  const placed = place(rt, [x, gradOut, o], [2]);
  const [px, pg, po] = placed.ptrs as [number, number, number];
  try {
    runTasks(rt, rangeTasks(rt, x.length, (i0, i1) => ({ kernel: 'ste_f32x4', args: [px + 4 * i0, pg + 4 * i0, po + 4 * i0, i1 - i0, c] })));
    placed.copyBack(2);
  } finally {
    placed.release();
  }
  return o;
}

/**
 * Per-channel fake-quantization of resident buffers, channel c of the last axis scaled by scales[c]
 * (from checkedScale): y = quantize(x) over the first rows·C elements viewed as [rows, C]. Allocates
 * nothing, so views taken by the caller stay valid.
 */
export function quantizeChannels(x: WasmF32, y: WasmF32, rows: number, C: number, scales: WasmF32, f: Format): void {
  const rt = x.runtime, qp = quantParams(rt, kernelParams(f), 1, scales.ptr);
  runTasks(rt, rangeTasks(rt, rows, (r0, r1) => ({ kernel: 'quant_pc_f32x4', args: [x.ptr + 4 * r0 * C, y.ptr + 4 * r0 * C, r1 - r0, C, 1, qp] }),
    { align: 1, cost: C }));
}

/** The straight-through gradient of quantizeChannels: dx = dy where |x| ≤ clips[c], else 0. Allocates nothing. */
export function steChannels(x: WasmF32, dy: WasmF32, dx: WasmF32, rows: number, C: number, clips: WasmF32): void {
  const rt = x.runtime, row = 4 * C;
  runTasks(rt, rangeTasks(rt, rows, (r0, r1) => ({
    kernel: 'ste_pc_f32x4', args: [x.ptr + r0 * row, dy.ptr + r0 * row, dx.ptr + r0 * row, r1 - r0, C, 1, clips.ptr],
  }), { align: 1, cost: C }));
}
