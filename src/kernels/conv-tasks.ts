// How a convolution-family call is split over threads (threads.ts): by images (forward, grad-input,
// depthwise, pooling: every image's output is computed from that image alone) or by slices of 8 output
// channels (grad-weight: each thread reduces over all images for its channels, so no sum crosses threads).
// Each task is the single-thread kernel on a sub-geometry, so each output element sees the same arithmetic.

import type { Runtime } from '../core/runtime.js';
import type { ConvShape } from './conv.ref.js';
import { minTaskWork, runTasks, splitRange, threadsFor, type Task } from './threads.js';


const macsPerImage = (s: ConvShape): number => s.OH * s.OW * s.CO * s.KH * s.KW * (s.C / s.groups);

/**
 * Tasks over image ranges: build(slot, sub, xAt, yAt, n0) gets the sub-geometry (N = the range's images),
 * functions moving a pointer to the range's first image of an x-shaped or a y-shaped tensor, and that image.
 * `tapCost` weighs a window tap against a conv multiply-add: pooling's taps are loads and compares that do
 * not reuse registers as a conv tile does (8, as an element of threads.ts rangeTasks).
 */
export function imageTasks(rt: Runtime, s: ConvShape,
  build: (slot: number, sub: ConvShape, xAt: (p: number) => number, yAt: (p: number) => number, n0: number) => Task,
  tapCost = 1): Task[] {
  const xImg = 4 * s.H * s.W * s.C, yImg = 4 * s.OH * s.OW * s.CO;
  const parts = splitRange(s.N, threadsFor(rt), 1, Math.ceil(minTaskWork() / Math.max(1, tapCost * macsPerImage(s))));
  return parts.map(([n0, n1], slot) => build(slot, { ...s, N: n1 - n0 }, (p) => p + n0 * xImg, (p) => p + n0 * yImg, n0));
}

/**
 * Tasks over output-channel slices of 8 (groups = 1; otherwise one task): build(slot, sub, at) gets the
 * sub-geometry (CO = the slice's width; the kernels stride by the full CO, convGeometry's ldo) and a function
 * moving a pointer of a tensor with CO innermost (dy, dw) to the slice's first channel.
 */
export function sliceTasks(rt: Runtime, s: ConvShape,
  build: (slot: number, sub: ConvShape, at: (p: number) => number) => Task): Task[] {
  const perChannel = s.N * macsPerImage(s) / s.CO;
  const parts = s.groups === 1 ? splitRange(s.CO, threadsFor(rt), 8, Math.ceil(minTaskWork() / Math.max(1, perChannel))) : [[0, s.CO] as [number, number]];
  return parts.map(([c0, c1], slot) => build(slot, { ...s, CO: c1 - c0 }, (p) => p + 4 * c0));
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
