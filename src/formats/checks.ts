// Argument checks shared by the quantizers (pure TypeScript): the input array, the output array, the
// clip → scale rule with its f32 range, and the channel layout of a per-channel quantization.

import { FliqsError, describe, requirePositive } from '../core/errors.js';
import type { Format } from './format.js';
import { scaleOf } from './params.js';

export function requireF32(input: string, x: unknown): Float32Array {
  if (!(x instanceof Float32Array)) throw new FliqsError(input, `got ${describe(x)}`, 'a Float32Array');
  return x;
}

export function outputFor(x: Float32Array, out: unknown, input = 'out'): Float32Array {
  if (out === undefined) return new Float32Array(x.length);
  if (!(out instanceof Float32Array) || out.length !== x.length) {
    throw new FliqsError(input, `got ${describe(out)}`, `a Float32Array of length ${x.length} (the input's), or nothing`);
  }
  return out;
}

/** The scale for a clip, checked: clip must be finite and > 0 and give a finite, normal f32 scale. */
export function checkedScale(f: Format, clip: unknown, input = 'clip'): number {
  if (f.ignoresClip && clip === undefined) return 1;
  const c = requirePositive(input, clip);
  const s = scaleOf(f, c);
  if (!(s >= 2 ** -126) || s === Infinity) {
    throw new FliqsError(input, `${c} gives scale ${f.maxValue}/${c} outside f32 for ${f.name}`,
      `a clip from ${f.maxValue / 3.4e38} to ${f.maxValue * 2 ** 126}`);
  }
  return s;
}

/** Where the channels are in a tensor: its shape and the channel axis (default 0, PyTorch's out-channel). */
export interface ChannelLayout {
  shape: readonly number[];
  axis?: number;
}

/** [outer, C, inner] of a tensor for a channel axis, validated against x.length. */
export function channelSplit(x: Float32Array, layout: ChannelLayout): [number, number, number] {
  if (typeof layout !== 'object' || layout === null) throw new FliqsError('layout', `got ${describe(layout)}`, '{ shape, axis? }');
  const { shape } = layout;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new FliqsError('shape', `got ${describe(shape)}`, 'a non-empty array of positive integers');
  }
  const axis = layout.axis ?? 0;
  const ax = typeof axis === 'number' && axis < 0 ? shape.length + axis : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= shape.length) {
    throw new FliqsError('axis', `got ${describe(axis)} for shape [${shape.join(', ')}]`, `an integer from ${-shape.length} to ${shape.length - 1}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== x.length) {
    throw new FliqsError('shape', `[${shape.join(', ')}] holds ${size} elements but x has ${x.length}`, 'a shape whose product is x.length');
  }
  const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[ax]!, inner];
}

/** One checked scale per channel (1 for formats that ignore the clip). */
export function checkedClips(f: Format, clips: unknown, C: number): number[] {
  if (!(Array.isArray(clips) || ArrayBuffer.isView(clips)) || (clips as ArrayLike<number>).length !== C) {
    throw new FliqsError('clips', `got ${describe(clips)}`, `${C} clips, one per channel`);
  }
  return Array.from(clips as ArrayLike<number>, (c, i) => (f.ignoresClip ? 1 : checkedScale(f, c, `clips[${i}]`)));
}
