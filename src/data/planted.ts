// A seeded "planted precision" dataset for known-answer tests of the search (browser-safe): the label
// needs one small-amplitude input feature, which a 4-bit per-tensor quantization of the first layer's
// input rounds to zero and an 8-bit one keeps — so the first searched layer, and only it, needs precision.
// The control (special: false) gives that feature the same amplitude as the others, so no layer is special.

import { FliqsError, describe, requireInt, requireObject, requireString } from '../core/errors.js';
import { Rng } from '../core/random.js';
import type { Dataset, DatasetSplits } from './dataset.js';

/** Index (in the flattened H·W·C example) of the small feature: the member bit, always present. */
export const PLANTED_SMALL_FEATURE = 0;
/** Index of the large member cue: ±1 on unambiguous examples, 0 on ambiguous ones. */
export const PLANTED_CUE_FEATURE = 1;

export interface PlantedOptions {
  /** true (default): the small feature has amplitude `small`; false: amplitude 1 (the control). */
  special?: boolean;
  /** Amplitude of the small feature when special (default 0.2: below half an INT4 step of the input (≈ 0.28), above half an INT8 step (≈ 0.04)). */
  small?: number;
  /** Fraction of examples whose large features leave the member open, decided only by the small feature (default 0.25). */
  ambiguous?: number;
  /** Number of classes, even (default 4): class y = 2·pair + member. */
  classes?: number;
  /** [H, W, C] (default [4, 8, 1]: 32 features); H·W·C ≥ 3. */
  shape?: [number, number, number];
  /** Seed of the pair prototypes (default 0). */
  seed?: number;
}

export interface PlantedDatasetOptions extends PlantedOptions {
  /** Examples (default 1000). */
  n?: number;
  /** Seed of the sample stream (labels, ambiguity, noise); default seed + 1. */
  sampleSeed?: number;
  name?: string;
}

export interface PlantedSplitOptions extends PlantedOptions {
  /** Sizes (defaults 2048 / 512 / 2048). */
  train?: number;
  validation?: number;
  test?: number;
}

/** Prototype std and noise std of the large features: 0.6² + 0.8² = 1, so every input has std ≈ 1. */
const PROTO_STD = 0.6;
const NOISE_STD = 0.8;

interface Checked { special: boolean; small: number; ambiguous: number; classes: number; shape: [number, number, number]; seed: number }

function check(options: PlantedOptions): Checked {
  requireObject('options', options, '{ n?, special?, small?, ambiguous?, classes?, shape?, seed?, sampleSeed?, name? }');
  const special = options.special ?? true;
  if (typeof special !== 'boolean') throw new FliqsError('special', `got ${describe(special)}`, 'true or false');
  const small = options.small ?? 0.2;
  if (typeof small !== 'number' || !(small > 0 && small <= 1)) throw new FliqsError('small', `got ${describe(small)}`, 'an amplitude in (0, 1]');
  const ambiguous = options.ambiguous ?? 0.25;
  if (typeof ambiguous !== 'number' || !(ambiguous >= 0 && ambiguous <= 1)) {
    throw new FliqsError('ambiguous', `got ${describe(ambiguous)}`, 'a fraction in [0, 1]');
  }
  const classes = requireInt('classes', options.classes ?? 4, 2, 1 << 16);
  if (classes % 2 !== 0) throw new FliqsError('classes', `got ${classes}`, 'an even number (pairs of classes)');
  const shape = options.shape ?? [4, 8, 1];
  if (!Array.isArray(shape) || shape.length !== 3 || !Array.from(shape).every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 12) || shape[0] * shape[1] * shape[2] < 3) {
    throw new FliqsError('shape', `got ${describe(shape)}`, '[H, W, C] with integers from 1 to 4096 and H·W·C ≥ 3');
  }
  const seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 2);
  return { special, small, ambiguous, classes, shape: [shape[0], shape[1], shape[2]], seed };
}

/** One prototype per pair of classes over the large features (N(0, 0.6²) each), from the seed. */
function pairPrototypes(pairs: number, size: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: pairs }, () => rng.normalArray(size - 2, 0, PROTO_STD));
}

/**
 * One split of the planted-precision problem. Class y = 2·pair + member. Every example holds
 * - feature 0 (PLANTED_SMALL_FEATURE): ±a, the member's sign (a = `small` if special, else 1), noiseless;
 * - feature 1 (PLANTED_CUE_FEATURE): the member's sign ±1, or 0 on the `ambiguous` fraction of examples;
 * - features 2…: the pair's prototype plus N(0, 0.8²) noise (pairs separate at ≈ 99.9%).
 * The inputs have std ≈ 1, so the search's INT4 input clip (≈ 3.9·std, step ≈ 0.56) rounds a = 0.2 to 0 and
 * the INT8 clip (≈ 10.4·std, step ≈ 0.08) keeps it: quantizing the first layer's input to INT4 leaves the
 * ambiguous examples to a coin flip, about ambiguous/2 of the accuracy. Labels are balanced, and each
 * class has the same number of ambiguous examples (to within one).
 * @example
 * const ds = plantedDataset({ n: 64, seed: 3 });
 * // ds.shape = [4, 8, 1], ds.classes = 4, ds.images[i·32] = ±0.2
 */
export function plantedDataset(options: PlantedDatasetOptions = {}): Dataset {
  const { special, small, ambiguous, classes, shape, seed } = check(options);
  const n = requireInt('n', options.n ?? 1000, 1, 2 ** 24);
  if (n * shape[0] * shape[1] * shape[2] > 2 ** 30) throw new FliqsError('n', `${n} examples of [${shape.join(', ')}] exceed 2^30 values`, 'a smaller dataset');
  const name = requireString('name', options.name ?? 'planted');
  const sampleSeed = requireInt('sampleSeed', options.sampleSeed ?? seed + 1, 0, 2 ** 32 - 1);
  const size = shape[0] * shape[1] * shape[2];
  const protos = pairPrototypes(classes / 2, size, seed);
  const amp = special ? small : 1;
  const rng = new Rng(sampleSeed);
  // Example i of the unshuffled order: class i mod K, its r-th occurrence (r = ⌊i/K⌋) ambiguous when
  // ⌊(r+1)·p⌋ > ⌊r·p⌋ — an exact share p within each class. Then one seeded shuffle of the order.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  rng.shuffle(order);
  const labels = new Int32Array(n);
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const src = order[i]!, y = src % classes, r = Math.floor(src / classes);
    const isAmbiguous = Math.floor((r + 1) * ambiguous) > Math.floor(r * ambiguous);
    const sign = y % 2 === 0 ? -1 : 1;
    const p = protos[y >> 1]!;
    const o = i * size;
    labels[i] = y;
    images[o + PLANTED_SMALL_FEATURE] = sign * amp;
    images[o + PLANTED_CUE_FEATURE] = isAmbiguous ? 0 : sign;
    for (let k = 2; k < size; k++) images[o + k] = p[k - 2]! + NOISE_STD * rng.normal();
  }
  return {
    name, images, labels, shape, classes, normalization: { mean: 0, std: 1 },
  };
}

/**
 * Train / validation / test of the planted-precision problem: the same prototypes (from `seed`) and
 * independent sample streams, like syntheticSplits.
 * @example
 * const special = plantedSplits({ seed: 0 });                 // layer 0 of an mlp needs INT8
 * const control = plantedSplits({ seed: 0, special: false }); // no layer does
 */
export function plantedSplits(options: PlantedSplitOptions = {}): DatasetSplits {
  requireObject('options', options, '{ train?, validation?, test?, special?, small?, ambiguous?, classes?, shape?, seed? }');
  const seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 2);
  const { train, validation, test, ...rest } = options;
  const common = { ...rest, seed };
  return {
    train: plantedDataset({ ...common, n: train ?? 2048, sampleSeed: (seed * 3 + 1) >>> 0, name: 'planted/train' }),
    validation: plantedDataset({ ...common, n: validation ?? 512, sampleSeed: (seed * 3 + 2) >>> 0, name: 'planted/validation' }),
    test: plantedDataset({ ...common, n: test ?? 2048, sampleSeed: (seed * 3 + 3) >>> 0, name: 'planted/test' }),
  };
}
