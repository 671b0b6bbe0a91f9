// A seeded synthetic image dataset for tests and demos (browser-safe): K class prototypes
// (smooth random blobs) plus Gaussian pixel noise. Learnable by a tiny linear or conv model.

import { FliqsError, describe, requireInt, requireObject, requirePositive, requireString } from '../core/errors.js';
import { Rng } from '../core/random.js';
import type { Dataset, DatasetSplits } from './dataset.js';

export interface SyntheticOptions {
  /** Examples in the split (default 1000). */
  n?: number;
  /** Number of classes (default 10). */
  classes?: number;
  /** [H, W, C] (default [28, 28, 1]). */
  shape?: [number, number, number];
  /** Std of the per-pixel noise relative to the prototypes' unit std (default 0.5). */
  noise?: number;
  /** Seed of the prototypes: same seed, same classes (default 0). */
  seed?: number;
  /** Seed of the sample stream (labels and noise); default seed + 1. */
  sampleSeed?: number;
  name?: string;
}

function prototypes(classes: number, shape: [number, number, number], seed: number): Float32Array[] {
  const [h, w, c] = shape;
  const rng = new Rng(seed);
  const out: Float32Array[] = [];
  for (let k = 0; k < classes; k++) {
    // A few Gaussian bumps per class and channel, then standardized to mean 0, std 1.
    const p = new Float32Array(h * w * c);
    for (let ch = 0; ch < c; ch++) {
      for (let b = 0; b < 3; b++) {
        const cy = rng.uniform() * h, cx = rng.uniform() * w;
        const r = 1 + rng.uniform() * Math.max(h, w) / 4, amp = rng.normal();
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const d2 = ((y - cy) ** 2 + (x - cx) ** 2) / (r * r);
            const i = (y * w + x) * c + ch;
            p[i] = p[i]! + amp * Math.exp(-d2);
          }
        }
      }
    }
    let mean = 0, sq = 0;
    for (const v of p) mean += v;
    mean /= p.length;
    for (const v of p) sq += (v - mean) ** 2;
    const std = Math.sqrt(sq / p.length) || 1;
    for (let i = 0; i < p.length; i++) p[i] = (p[i]! - mean) / std;
    out.push(p);
  }
  return out;
}

/**
 * One synthetic split: labels cycle through the classes in a seeded order (balanced to within one).
 * @example
 * const ds = syntheticDataset({ n: 64, classes: 4, shape: [8, 8, 1], seed: 3 });
 * // ds.images.length = 64·8·8, ds.labels in 0..3
 */
export function syntheticDataset(options: SyntheticOptions = {}): Dataset {
  requireObject('options', options, '{ n?, classes?, shape?, noise?, seed?, sampleSeed?, name? }');
  const n = requireInt('n', options.n ?? 1000, 1, 2 ** 24);
  const classes = requireInt('classes', options.classes ?? 10, 2, 1 << 16);
  const shape = options.shape ?? [28, 28, 1];
  if (!Array.isArray(shape) || shape.length !== 3 || !Array.from(shape).every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 12)) {
    throw new FliqsError('shape', `got ${describe(shape)}`, '[H, W, C] with integers from 1 to 4096');
  }
  if (n * shape[0] * shape[1] * shape[2] > 2 ** 30) throw new FliqsError('n', `${n} examples of [${shape.join(', ')}] exceed 2^30 values`, 'a smaller dataset');
  const name = requireString('name', options.name ?? 'synthetic');
  const noise = options.noise ?? 0.5;
  if (noise !== 0) requirePositive('noise', noise);
  const seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 2);
  const sampleSeed = requireInt('sampleSeed', options.sampleSeed ?? seed + 1, 0, 2 ** 32 - 1);
  const protos = prototypes(classes, shape, seed);
  const size = shape[0] * shape[1] * shape[2];
  const rng = new Rng(sampleSeed);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % classes;
  rng.shuffle(labels);
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const p = protos[labels[i]!]!;
    for (let k = 0; k < size; k++) images[i * size + k] = p[k]! + noise * rng.normal();
  }
  return {
    name, images, labels, shape: [shape[0], shape[1], shape[2]], classes,
    normalization: { mean: 0, std: 1 },
  };
}

export interface SyntheticSplitOptions extends Omit<SyntheticOptions, 'n' | 'sampleSeed' | 'name'> {
  /** Sizes (defaults 2000 / 500 / 500). */
  train?: number;
  validation?: number;
  test?: number;
}

/**
 * Train / validation / test drawn from the same prototypes with independent sample streams.
 * @example
 * const { train, test } = syntheticSplits({ train: 200, test: 50, classes: 3, shape: [6, 6, 1] });
 */
export function syntheticSplits(options: SyntheticSplitOptions = {}): DatasetSplits {
  requireObject('options', options, '{ train?, validation?, test?, classes?, shape?, noise?, seed? }');
  const seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 2);
  const common = { ...options, seed };
  return {
    train: syntheticDataset({ ...common, n: options.train ?? 2000, sampleSeed: (seed * 3 + 1) >>> 0, name: 'synthetic/train' }),
    validation: syntheticDataset({ ...common, n: options.validation ?? 500, sampleSeed: (seed * 3 + 2) >>> 0, name: 'synthetic/validation' }),
    test: syntheticDataset({ ...common, n: options.test ?? 500, sampleSeed: (seed * 3 + 3) >>> 0, name: 'synthetic/test' }),
  };
}
