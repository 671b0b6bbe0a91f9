// Seeded parameter initialization, PyTorch's defaults: weights and biases uniform in ±1/√fan_in
// (kaiming_uniform_ with a = √5 gives exactly this bound). Layers draw from the Rng they are given,
// else from one process-wide Rng that manualSeed() resets.

import { FliqsError, describe, requireFinite, requireInt, requirePositive } from '../core/errors.js';
import { Rng } from '../core/random.js';

let shared = new Rng(0);

/**
 * Resets the Rng layers use when none is passed (like torch.manual_seed).
 * @example
 * manualSeed(42); const a = new Linear(4, 2); manualSeed(42); const b = new Linear(4, 2); // same weights
 */
export function manualSeed(seed: number): void {
  shared = new Rng(seed);
}

/** The Rng a layer uses: its own when given, else the shared one. */
export function rngOf(rng?: Rng): Rng {
  if (rng !== undefined && !(rng instanceof Rng)) throw new FliqsError('rng', `got ${describe(rng)}`, 'an Rng, or undefined for the shared one');
  return rng ?? shared;
}

/**
 * n values uniform in [−bound, bound).
 * @example
 * const w = uniformArray(new Rng(1), 12, 1 / Math.sqrt(3));
 */
export function uniformArray(rng: Rng, n: number, bound: number): Float32Array {
  if (!(rng instanceof Rng)) throw new FliqsError('rng', `got ${describe(rng)}`, 'an Rng');
  requireInt('n', n, 0, 2 ** 28);
  requireFinite('bound', bound);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  return out;
}

/** PyTorch's default bound for a layer with `fanIn` inputs per output: 1/√fan_in. */
export function defaultBound(fanIn: number): number {
  return 1 / Math.sqrt(requirePositive('fanIn', fanIn));
}
