// The most probable configuration within a cost band: argmax over configurations of Σ_l log π_l(α_l)
// subject to (1 − tolerance)·T ≤ C(α) ≤ (1 + tolerance)·T. A search's result is the policy's argmax when
// that is in the band, else this (README "The reward": a settling policy's argmax can miss the cost its
// samples averaged). Browser-safe.
//
// Method: a DP over partial sums on a grid of cells of `resolution`·T up to the band's top; per cell it keeps
// the most probable prefix reaching it (with its exact sum), then takes the most probable end cell whose
// exact sum lies in the band and walks back. Two prefixes landing in one cell are compared by probability
// alone, so the answer is exact when no cell holds two different sums (integer costs and a cell ≤ 1 BOP)
// and otherwise can miss only configurations within layers·resolution·T of the band's edges.

import { FliqsError, describe } from '../core/errors.js';
import { layerCosts } from './cost.js';
import { checkConfig, type SearchSpace } from './space.js';

/** Cell size as a fraction of the target (1.1e5 cells at ±10%). */
export const DEFAULT_BUDGET_RESOLUTION = 1e-5;

/**
 * The configuration of highest Σ_l logProbs[l][α_l] whose cost lies within ±tolerance of targetBops, or null
 * when no configuration does.
 * @example
 * const logp = controller.logProbabilities();
 * mostProbableInBand(space, logp, targetBops) // e.g. [1, 0, 0, 2], or null
 */
export function mostProbableInBand(space: SearchSpace, logProbs: readonly (ArrayLike<number>)[], targetBops: number,
  tolerance = 0.1, resolution = DEFAULT_BUDGET_RESOLUTION): number[] | null {
  if (typeof space !== 'object' || space === null || !Array.isArray(space.layers) || space.layers.length === 0) {
    throw new FliqsError('space', `got ${describe(space)}`, 'a SearchSpace from buildSearchSpace()');
  }
  const L = space.layers.length;
  if (!Array.isArray(logProbs) || logProbs.length !== L || logProbs.some((r, l) => r?.length !== space.layers[l]!.choices.length
    || Array.prototype.some.call(r, (v: unknown) => typeof v !== 'number' || Number.isNaN(v) || v === Number.POSITIVE_INFINITY))) {
    throw new FliqsError('logProbs', `got ${describe(logProbs)}`, `per layer, one log-probability (a number, −Infinity allowed) per choice: ${L} layers`);
  }
  if (!(targetBops > 0 && Number.isFinite(targetBops))) throw new FliqsError('targetBops', `got ${describe(targetBops)}`, 'a finite number > 0');
  if (!(tolerance >= 0 && tolerance < 1)) throw new FliqsError('tolerance', `got ${describe(tolerance)}`, 'a number in [0, 1)');
  const top = (1 + tolerance) * targetBops, bottom = (1 - tolerance) * targetBops;
  if (!(resolution > 0 && Number.isFinite(resolution) && (1 + tolerance) / resolution <= 1e7)) {
    throw new FliqsError('resolution', `got ${describe(resolution)}`, `a fraction of the target with (1 + tolerance)/resolution ≤ 1e7 (≥ ${(1 + tolerance) / 1e7})`);
  }
  const step = resolution * targetBops, cells = Math.floor(top / step) + 1;
  const costs = layerCosts(space);
  let best = new Float64Array(cells).fill(Number.NEGATIVE_INFINITY), sum = new Float64Array(cells);
  best[0] = 0;
  // per layer and end cell: the choice taken and the cell it came from
  const choice = costs.map(() => new Int32Array(cells).fill(-1)), from = costs.map(() => new Int32Array(cells));
  for (let l = 0; l < L; l++) {
    const nb = new Float64Array(cells).fill(Number.NEGATIVE_INFINITY), ns = new Float64Array(cells), lp = logProbs[l]!, cl = costs[l]!;
    for (let i = 0; i < cells; i++) {
      if (best[i] === Number.NEGATIVE_INFINITY) continue;
      for (let a = 0; a < cl.length; a++) {
        const v = sum[i]! + cl[a]!, p = best[i]! + lp[a]!;
        if (v > top || p === Number.NEGATIVE_INFINITY) continue;
        const j = Math.floor(v / step);
        if (p > nb[j]!) { nb[j] = p; ns[j] = v; choice[l]![j] = a; from[l]![j] = i; }
      }
    }
    best = nb;
    sum = ns;
  }
  let end = -1;
  for (let j = 0; j < cells; j++) if (best[j]! > Number.NEGATIVE_INFINITY && sum[j]! >= bottom && (end < 0 || best[j]! > best[end]!)) end = j;
  if (end < 0) return null;
  const config = new Array<number>(L);
  for (let l = L - 1, j = end; l >= 0; l--) {
    config[l] = choice[l]![j]!;
    j = from[l]![j]!;
  }
  checkConfig(space, config);
  return config;
}
