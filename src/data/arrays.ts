// Your own data as Dataset splits (browser-safe): images and labels in typed arrays → train / validation /
// test, normalized, split the way the built-in sets are (stratified, seeded; any prefix class-balanced).
//
// Images: N·H·W·C values, NHWC, either uint8 pixels (x = (p/255 − mean)/std, as MNIST) or float32/float64
// values (x = (v − mean)/std, v as given). Labels: N integers in [0, classes).
// Splits: test = the given test arrays, else the first ⌊N/10⌋ (at most 10000) of stratifiedOrder(labels,
// seed 0), fixed whatever the seed; validation = the first `validation` (default ⌊rest/10⌋, at most 5000) of
// stratifiedOrder(rest, seed); train = the remainder. Normalization 'auto' (the default) uses the mean and
// std of the train + validation values, so it does not move with the seed or the limits.

import { FliqsError, describe, requireInt, requireObject } from '../core/errors.js';
import { shapeSize, type Dataset, type DatasetSplits, type Normalization } from './dataset.js';
import { compose, holdOut, stratifiedOrder, take } from './split.js';

export type ImageArray = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array;
export type LabelArray = ArrayLike<number> | BigInt64Array | BigUint64Array;

export interface ArraysOptions {
  /** [H, W, C] of one image. */
  shape: [number, number, number];
  /** Number of classes: labels are 0 … classes − 1. */
  classes: number;
  /** 'auto' (default): mean/std of the train + validation values; 'none': uint8 → p/255, floats as given; or { mean, std }. */
  normalize?: 'auto' | 'none' | Normalization;
  /** Examples held out of train for validation (default ⌊train/10⌋, at most 5000). */
  validation?: number;
  /** Test split: a count held out (default ⌊N/10⌋, at most 10000) or its own arrays. */
  test?: number | { images: ImageArray; labels: LabelArray };
  /** Seed of the validation hold-out (default 0). */
  seed?: number;
  /** Keep at most this many examples per split (or per split by name), for quick runs. */
  limit?: number | { train?: number; validation?: number; test?: number };
  /** Names the data in the splits' names (default 'arrays'). */
  name?: string;
}

/** What to call the inputs in errors, and what to say about fixing them (the file loaders name files). */
export interface ArrayNames { images: string; labels: string; testImages?: string; testLabels?: string; fix?: string }

const MAX_VALUES = 2 ** 30;
const isDim = (d: unknown): boolean => Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 2 ** 24;

/** Labels as Int32Array, each an integer in [0, classes) (classes may be Infinity: only ≥ 0 and < 2^24 checked). */
export function labelsFrom(input: string, labels: unknown, classes: number, fix = ''): Int32Array {
  const isBig = labels instanceof BigInt64Array || labels instanceof BigUint64Array;
  if (!(Array.isArray(labels) || isBig || (ArrayBuffer.isView(labels) && !(labels instanceof DataView)))) {
    throw new FliqsError(input, `got ${describe(labels)}`, 'an array or integer typed array of class indices');
  }
  if (labels instanceof Float32Array || labels instanceof Float64Array) {
    throw new FliqsError(input, `holds floating-point labels (${describe(labels)})`, `an integer array${fix || ' (e.g. Int32Array)'}`);
  }
  const a = labels as ArrayLike<number | bigint>;
  const out = new Int32Array(a.length);
  const top = Math.min(classes, 2 ** 24);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (!(typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < top)) {
      throw new FliqsError(input, `label ${describe(v)} at index ${i}`,
        `integers from 0 to ${Number.isFinite(classes) ? classes - 1 : 'K-1'}${fix}`);
    }
    out[i] = n;
  }
  return out;
}

function checkImages(input: string, images: unknown, fix: string): ImageArray {
  if (!(images instanceof Uint8Array || images instanceof Uint8ClampedArray || images instanceof Float32Array || images instanceof Float64Array)) {
    throw new FliqsError(input, `holds ${describe(images)}`, `uint8 pixels (0 to 255) or float32/float64 values${fix}`);
  }
  if (!(images instanceof Uint8Array || images instanceof Uint8ClampedArray)) {
    for (let i = 0; i < images.length; i++) {
      if (!Number.isFinite(images[i]!)) {
        throw new FliqsError(input, `holds ${images[i]} at value ${i}`, `finite values${fix || '; replace or drop the examples that hold NaN or infinities'}`);
      }
    }
  }
  return images;
}

function checkCount(names: ArrayNames, which: 'train' | 'test', images: ImageArray, labels: Int32Array, shape: [number, number, number]): void {
  const size = shapeSize(shape);
  const [img, lbl] = which === 'train' ? [names.images, names.labels] : [names.testImages ?? 'test.images', names.testLabels ?? 'test.labels'];
  if (images.length !== labels.length * size) {
    throw new FliqsError(img, `holds ${images.length} values for ${labels.length} labels (${lbl}) of shape [${shape.join(', ')}]`,
      `${labels.length} images of ${shape.join('×')} = ${labels.length * size} values, one label per image${names.fix ?? ''}`);
  }
  if (images.length > MAX_VALUES) throw new FliqsError(img, `holds ${images.length} values, more than 2^30`, 'a smaller dataset (or use --limit on a subset)');
}

function normalization(opt: ArraysOptions['normalize'], images: ImageArray, indices: Uint32Array, size: number, input: string): Normalization {
  if (opt === undefined || opt === 'auto') {
    const scale = images instanceof Float32Array || images instanceof Float64Array ? 1 : 1 / 255;
    let sum = 0, sq = 0, lo = Infinity, hi = -Infinity;
    for (const i of indices) {
      for (let k = i * size; k < (i + 1) * size; k++) {
        const v = images[k]!;
        sum += v * scale;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!(lo < hi)) throw new FliqsError(input, `every train value is ${lo} (no spread to normalize by)`, "images that differ, or normalize: 'none' or { mean, std }");
    const count = indices.length * size;
    const mean = sum / count;
    for (const i of indices) for (let k = i * size; k < (i + 1) * size; k++) sq += (images[k]! * scale - mean) ** 2;
    const std = Math.sqrt(sq / count);
    if (!(std > 0 && Number.isFinite(std))) throw new FliqsError(input, `values too large to normalize (std ${std})`, 'finite values of a moderate size');
    return { mean, std };
  }
  if (opt === 'none') return { mean: 0, std: 1 };
  if (typeof opt !== 'object' || opt === null || !Number.isFinite(opt.mean) || !(opt.std > 0 && Number.isFinite(opt.std))) {
    throw new FliqsError('normalize', `got ${describe(opt)}`, "'auto', 'none' or { mean: finite, std: finite > 0 }");
  }
  return { mean: opt.mean, std: opt.std };
}

function materialize(name: string, images: ImageArray, labels: Int32Array, shape: [number, number, number], classes: number,
  norm: Normalization, idx: Uint32Array): Dataset {
  const size = shapeSize(shape), n = idx.length;
  const out = new Float32Array(n * size), lab = new Int32Array(n);
  const bytes = !(images instanceof Float32Array || images instanceof Float64Array);
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = (v / 255 - norm.mean) / norm.std; // as fromBytes: the same f32 per pixel value
  for (let i = 0; i < n; i++) {
    const s = idx[i]! * size, o = i * size;
    lab[i] = labels[idx[i]!]!;
    if (bytes) for (let k = 0; k < size; k++) out[o + k] = lut[images[s + k]!]!;
    else for (let k = 0; k < size; k++) out[o + k] = (images[s + k]! - norm.mean) / norm.std;
  }
  return { name, images: out, labels: lab, shape: [shape[0], shape[1], shape[2]], classes, normalization: { ...norm } };
}

function limits(limit: ArraysOptions['limit']): { train?: number; validation?: number; test?: number } {
  if (limit === undefined) return {};
  if (typeof limit === 'number') return { train: requireInt('limit', limit, 1), validation: limit, test: limit };
  const l = requireObject<{ train?: number; validation?: number; test?: number }>('limit', limit, 'a positive integer or { train?, validation?, test? }');
  for (const k of ['train', 'validation', 'test'] as const) if (l[k] !== undefined) requireInt(`limit.${k}`, l[k], 1);
  return l;
}

/** datasetFromArrays with the inputs named for errors (the file loaders pass file names and a fix). */
export function splitArrays(images: unknown, labels: unknown, options: ArraysOptions, names: ArrayNames): DatasetSplits {
  requireObject('options', options, '{ shape: [H, W, C], classes, normalize?, validation?, test?, seed?, limit?, name? }');
  const fix = names.fix ?? '';
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !Array.from(shape).every(isDim)) {
    throw new FliqsError('shape', `got ${describe(shape)}`, '[H, W, C] with integers from 1 to 2^24');
  }
  const classes = requireInt('classes', options.classes, 2, 2 ** 24);
  const name = options.name ?? 'arrays';
  if (typeof name !== 'string') throw new FliqsError('name', `got ${describe(name)}`, 'a string');
  const seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const lim = limits(options.limit);
  const img = checkImages(names.images, images, fix);
  const lab = labelsFrom(names.labels, labels, classes, fix);
  checkCount(names, 'train', img, lab, shape);
  const size = shapeSize(shape);

  let testImg = img, testLab = lab, testIdx: Uint32Array, pool: Uint32Array;
  const t = options.test;
  if (typeof t === 'object' && t !== null) {
    testImg = checkImages(names.testImages ?? 'test.images', t.images, fix);
    testLab = labelsFrom(names.testLabels ?? 'test.labels', t.labels, classes, fix);
    checkCount(names, 'test', testImg, testLab, shape);
    if (testImg.constructor !== img.constructor) {
      throw new FliqsError(names.testImages ?? 'test.images', `holds ${describe(testImg)} but the train images are ${describe(img)}`, `the same type for both${fix}`);
    }
    testIdx = stratifiedOrder(testLab, classes, 0);
    pool = new Uint32Array(lab.length).map((_, i) => i);
  } else {
    const count = t === undefined ? Math.min(10000, Math.floor(lab.length / 10)) : requireInt('test', t, 0, lab.length);
    const order = stratifiedOrder(lab, classes, 0);
    testIdx = order.subarray(0, count);
    pool = order.subarray(count);
  }
  if (testIdx.length === 0) throw new FliqsError(names.labels, `${lab.length} examples leave none for a test split`, `at least 10 examples, or test arrays of their own${fix}`);
  const validation = options.validation === undefined ? Math.min(5000, Math.floor(pool.length / 10))
    : requireInt('validation', options.validation, 0, pool.length - 1);
  if (validation === 0 || validation >= pool.length) {
    throw new FliqsError(names.labels, `${pool.length} training examples leave none for validation or none to train on`, `more examples${fix}`);
  }
  const held = holdOut(compose(lab, pool), classes, validation, seed);
  const norm = normalization(options.normalize, img, pool, size, names.images);
  const make = (part: string, im: ImageArray, lb: Int32Array, idx: Uint32Array, n: number | undefined): Dataset =>
    materialize(`${name}/${part}`, im, lb, shape, classes, norm, take(idx, n));
  return {
    train: make('train', img, lab, compose(pool, held.train), lim.train),
    validation: make('validation', img, lab, compose(pool, held.validation), lim.validation),
    test: make('test', testImg, testLab, testIdx, lim.test),
  };
}

/**
 * Your own images and labels as train / validation / test splits, normalized (see the header for the rules).
 * @example
 * const pixels = new Uint8Array(100 * 8 * 8); // 100 images of 8×8×1
 * const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
 * const { train, validation, test } = datasetFromArrays(pixels, labels, { shape: [8, 8, 1], classes: 4, normalize: 'none' });
 * // test.labels.length = 10, validation.labels.length = 9, train.labels.length = 81
 */
export function datasetFromArrays(images: ImageArray, labels: LabelArray, options: ArraysOptions): DatasetSplits {
  return splitArrays(images, labels, options, { images: 'images', labels: 'labels' });
}
