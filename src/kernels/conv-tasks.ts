// How a convolution-family call is split over threads (threads.ts): by images (forward, grad-input,
// depthwise, pooling: every image's output is computed from that image alone) or, for grad-weight, by slices
// of 8 output channels or ranges of kernel rows (each thread reduces over all images for its part of dw, so
// no sum crosses threads).
// Each task is the single-thread kernel on a sub-geometry, so each output element sees the same arithmetic.

import type { Runtime } from '../core/runtime.js';
import type { ConvShape } from './conv.ref.js';
import { minTaskWork, runTasks, splitRange, threadsFor, type Task } from './threads.js';


const macsPerImage = (s: ConvShape): number => s.OH * s.OW * s.CO * s.KH * s.KW * (s.C / s.groups);

/** Builds one image-range (or row-range) task: see imageTasks. */
type ImageTask = (slot: number, sub: ConvShape, xAt: (p: number) => number, yAt: (p: number) => number, n0: number) => Task;

/**
 * Tasks over image ranges: build(slot, sub, xAt, yAt, n0) gets the sub-geometry (N = the range's images),
 * functions moving a pointer to the range's first image of an x-shaped or a y-shaped tensor, and that image.
 * `tapCost` weighs a window tap against a conv multiply-add: pooling's taps are loads and compares that do
 * not reuse registers as a conv tile does (8, as an element of threads.ts rangeTasks). With rowAlign > 0 (a
 * forward pass), fewer images than threads split by output rows instead (rowTasks).
 */
export function imageTasks(rt: Runtime, s: ConvShape,
  build: ImageTask,
  tapCost = 1, rowAlign = 0): Task[] {
  const xImg = 4 * s.H * s.W * s.C, yImg = 4 * s.OH * s.OW * s.CO, t = threadsFor(rt);
  if (rowAlign > 0 && s.N < t) return rowTasks(s, t, tapCost, rowAlign, build);
  const parts = splitRange(s.N, t, 1, Math.ceil(minTaskWork() / Math.max(1, tapCost * macsPerImage(s))));
  return parts.map(([n0, n1], slot) => build(slot, { ...s, N: n1 - n0 }, (p) => p + n0 * xImg, (p) => p + n0 * yImg, n0));
}

/**
 * Fewer images than threads (inference on a few images): each image's output rows split in ranges on
 * multiples of rowAlign (2 for Winograd's 2×2 tiles). A range is a one-image sub-geometry with OH = its rows
 * and the top padding moved up by its first row times the stride, so its window rows are those of the whole.
 * Only for kernels that compute output rows from input rows (forward passes, not the input gradients).
 */
function rowTasks(s: ConvShape, t: number, tapCost: number, rowAlign: number,
  build: ImageTask): Task[] {
  const xImg = 4 * s.H * s.W * s.C, row = 4 * s.OW * s.CO;
  const perRow = tapCost * macsPerImage(s) / s.OH;
  const ranges = splitRange(s.OH, Math.floor(t / s.N), rowAlign, Math.ceil(minTaskWork() / Math.max(1, perRow)));
  const tasks: Task[] = [];
  for (let n = 0; n < s.N; n++) {
    for (const [r0, r1] of ranges) {
      const sub = { ...s, N: 1, OH: r1 - r0, pt: s.pt - r0 * s.sh };
      tasks.push(build(tasks.length, sub, (p) => p + n * xImg, (p) => p + (n * s.OH + r0) * row, n));
    }
  }
  return tasks;
}

/**
 * Grad-weight tasks: slices of 8 output channels (groups = 1), or, when that gives fewer tasks (few output
 * channels, as a network's first conv), ranges of kernel rows. build(slot, sub, at) gets the sub-geometry and
 * a function moving a pointer of a tensor with CO innermost (dy, dw) to the slice's first channel, or dw to
 * the range's first kernel row (dy unchanged). A channel slice has CO = its width and strides by the full CO
 * (convGeometry's ldo); a row range has KH = its rows and the top padding moved up by its first row, so each
 * thread's window rows are kh0…kh1 of the whole kernel (kernelRows = false: kernels that need every row).
 * Either way each dw element is reduced over all images by one thread in the single-thread order.
 */
export function gradWeightTasks(rt: Runtime, s: ConvShape,
  build: (slot: number, sub: ConvShape, at: (p: number, isDw: boolean) => number) => Task, kernelRows = true): Task[] {
  const t = threadsFor(rt), all = s.N * macsPerImage(s);
  const bySlice = s.groups === 1 ? splitRange(s.CO, t, 8, Math.ceil(minTaskWork() / Math.max(1, all / s.CO))) : [[0, s.CO] as [number, number]];
  const byRows = kernelRows ? splitRange(s.KH, t, 1, Math.ceil(minTaskWork() / Math.max(1, all / s.KH))) : [];
  if (byRows.length > bySlice.length) {
    const row = 4 * s.KW * (s.C / s.groups) * s.CO;
    return byRows.map(([k0, k1], slot) => build(slot, { ...s, KH: k1 - k0, pt: s.pt - k0 }, (p, isDw) => (isDw ? p + k0 * row : p)));
  }
  return bySlice.map(([c0, c1], slot) => build(slot, { ...s, CO: c1 - c0 }, (p) => p + 4 * c0));
}

/**
 * Runs the tasks `make` builds, giving each task slot its own scratch block of `bytes` (allocated on first
 * use, all freed afterwards, also when a task fails).
 */
export function runWithScratch(rt: Runtime, bytes: number, make: (scratch: (slot: number) => number) => Task[]): void {
  const blocks: number[] = [];
  try {
    const tasks = make((slot) => (blocks[slot] ??= rt.arena.alloc(bytes)));
    runTasks(rt, tasks);
  } finally {
    for (const p of blocks) if (p !== undefined) rt.arena.free(p);
  }
}

/** tapCost of the pooling kernels (imageTasks). */
export const POOL_TAP_COST = 8;
