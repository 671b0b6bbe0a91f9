// The Dataset type every trainer reads (NHWC f32 images, normalized; int32 labels), the
// normalization constants of the image datasets, and the uint8 → normalized f32 conversion.

import { FliqsError, describe, requireFinite, requireInt, requirePositive } from '../core/errors.js';

/** Per-dataset normalization: x = (pixel/255 − mean) / std. */
export interface Normalization {
  mean: number;
  std: number;
}

/** A labelled image set held in memory. */
export interface Dataset {
  /** Name with the split, e.g. `mnist/train`. */
  name: string;
  /** N×H×W×C (NHWC), row-major, normalized. */
  images: Float32Array;
  /** N class indices in [0, classes). */
  labels: Int32Array;
  /** [H, W, C]. */
  shape: [number, number, number];
  classes: number;
  /** How the images were normalized; the background pixel 0 maps to −mean/std. */
  normalization: Normalization;
}

/** The three splits a loader returns. Validation is held out from training (the FLIQS quality signal). */
export interface DatasetSplits {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

/**
 * The standard constants (mean and std of the official training pixels in [0,1]), used as they are
 * rather than recomputed, so every split and every `limit` normalizes identically.
 */
export const NORMALIZATION = {
  mnist: { mean: 0.1307, std: 0.3081 },
  'fashion-mnist': { mean: 0.2860, std: 0.3530 },
} as const satisfies Record<string, Normalization>;

/** Number of examples in a dataset. */
export function datasetSize(ds: Dataset): number {
  return checkDataset('ds', ds).labels.length;
}

/** Elements per example (H·W·C). */
export function exampleSize(ds: Dataset): number {
  return shapeSize(checkDataset('ds', ds).shape);
}

/** H·W·C of a shape already checked (checkDataset, fromBytes). */
export function shapeSize(shape: readonly [number, number, number]): number {
  return shape[0] * shape[1] * shape[2];
}

// Checks of user arrays go through Array.from: every() skips the holes of a sparse array.
const isDim = (d: unknown): boolean => Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 2 ** 24;

/**
 * Builds a Dataset from uint8 pixels, normalizing only the selected examples.
 * @example
 * const ds = fromBytes('tiny', new Uint8Array([0, 255]), new Uint8Array([0, 1]), [1, 1, 1], 2,
 *   { mean: 0.5, std: 0.5 });
 * // ds.images = [-1, 1], ds.labels = [0, 1]
 */
export function fromBytes(name: string, pixels: Uint8Array, labels: Uint8Array | Int32Array,
  shape: [number, number, number], classes: number, normalization: Normalization,
  indices?: ArrayLike<number>): Dataset {
  if (typeof name !== 'string') throw new FliqsError('name', `got ${describe(name)}`, 'a string');
  if (!(pixels instanceof Uint8Array)) throw new FliqsError(`${name} pixels`, `got ${describe(pixels)}`, 'a Uint8Array');
  if (!(labels instanceof Uint8Array || labels instanceof Int32Array)) {
    throw new FliqsError(`${name} labels`, `got ${describe(labels)}`, 'a Uint8Array or Int32Array');
  }
  if (!Array.isArray(shape) || shape.length !== 3 || !Array.from(shape).every(isDim)) {
    throw new FliqsError(`${name} shape`, `got ${describe(shape)}`, '[H, W, C] with integers from 1 to 2^24');
  }
  requireInt('classes', classes, 1, 2 ** 31 - 1);
  if (typeof normalization !== 'object' || normalization === null) {
    throw new FliqsError('normalization', `got ${describe(normalization)}`, '{ mean: finite number, std: number > 0 }');
  }
  requireFinite('normalization.mean', normalization.mean);
  requirePositive('normalization.std', normalization.std);
  if (indices !== undefined && !(Array.isArray(indices) || ArrayBuffer.isView(indices))) {
    throw new FliqsError('indices', `got ${describe(indices)}`, 'an array of example indices');
  }
  const size = shapeSize(shape);
  const total = labels.length;
  if (pixels.length !== total * size) {
    throw new FliqsError(`${name} pixels`, `has ${pixels.length} bytes for ${total} labels of shape [${shape}]`,
      `${total * size} bytes (labels × H×W×C)`);
  }
  const n = indices ? indices.length : total;
  const images = new Float32Array(n * size);
  const out = new Int32Array(n);
  // A 256-entry table: every pixel maps through the same f32 value, bit for bit.
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = (v / 255 - normalization.mean) / normalization.std;
  for (let i = 0; i < n; i++) {
    const src = indices ? indices[i]! : i;
    const label = labels[src]!;
    if (!(label >= 0 && label < classes)) {
      throw new FliqsError(`${name} labels`, `label ${label} at index ${src}`, `integers from 0 to ${classes - 1}`);
    }
    out[i] = label;
    const o = i * size, s = src * size;
    for (let k = 0; k < size; k++) images[o + k] = lut[pixels[s + k]!]!;
  }
  return { name, images, labels: out, shape: [shape[0], shape[1], shape[2]], classes, normalization };
}

/** Throws a FliqsError unless `ds` is a well-formed Dataset. */
export function checkDataset(input: string, ds: unknown): Dataset {
  if (typeof input !== 'string') throw new FliqsError('input', `got ${describe(input)}`, 'a string naming the dataset in messages');
  const d = ds as Dataset;
  if (typeof ds !== 'object' || ds === null || !(d.images instanceof Float32Array) || !(d.labels instanceof Int32Array)
    || !Array.isArray(d.shape) || d.shape.length !== 3 || !Array.from(d.shape).every(isDim)) {
    throw new FliqsError(input, `got ${describe(ds)}`, 'a Dataset { images: Float32Array, labels: Int32Array, shape: [H, W, C], classes }');
  }
  const size = shapeSize(d.shape);
  if (d.images.length !== d.labels.length * size) {
    throw new FliqsError(input, `images has ${d.images.length} values for ${d.labels.length} labels of shape [${d.shape}]`,
      `labels × H×W×C = ${d.labels.length * size} values`);
  }
  return d;
}
