// The most probable configuration within a cost band: argmax over configurations of Σ_l log π_l(α_l)
// subject to (1 − tolerance)·T ≤ C(α) ≤ (1 + tolerance)·T. A search's result is the policy's argmax when
// that is in the band, else this (README "The reward": a settling policy's argmax can miss the cost its
// samples averaged). Browser-safe.
//
// Method: a DP over partial sums, one cost unit at a time (costUnits: a layer, or a FLIQNAS block's joint width,
// kernel and formats, whose log-probability is the sum of its decisions'), on a grid of cells of `resolution`·T
// (coarser for joint spaces, unitResolution) up to the band's top; per cell it keeps
// the most probable prefix reaching it (with its exact sum), then takes the most probable end cell whose
// exact sum lies in the band and walks back. Two prefixes landing in one cell are compared by probability
// alone, so the answer is exact when no cell holds two different sums (integer costs and a cell ≤ 1 BOP)
// and otherwise can miss only configurations within layers·resolution·T of the band's edges.

import { FliqsError, describe } from '../core/errors.js';
import { costUnits, unitConfig, unitResolution } from './joint-cost.js';
import { checkConfig, checkSpace, choiceCounts, type SearchSpace } from './space.js';

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
  const counts = choiceCounts(checkSpace(space)), L = counts.length;
  if (!Array.isArray(logProbs) || logProbs.length !== L || logProbs.some((r, l) => r?.length !== counts[l]
    || Array.prototype.some.call(r, (v: unknown) => typeof v !== 'number' || Number.isNaN(v) || v === Number.POSITIVE_INFINITY))) {
    throw new FliqsError('logProbs', `got ${describe(logProbs)}`, `per decision, one log-probability (a number, −Infinity allowed) per choice: ${L} decisions`);
  }
  if (!(targetBops > 0 && Number.isFinite(targetBops))) throw new FliqsError('targetBops', `got ${describe(targetBops)}`, 'a finite number > 0');
  if (!(tolerance >= 0 && tolerance < 1)) throw new FliqsError('tolerance', `got ${describe(tolerance)}`, 'a number in [0, 1)');
  const top = (1 + tolerance) * targetBops, bottom = (1 - tolerance) * targetBops;
  if (!(resolution > 0 && Number.isFinite(resolution) && (1 + tolerance) / resolution <= 1e7)) {
    throw new FliqsError('resolution', `got ${describe(resolution)}`, `a fraction of the target with (1 + tolerance)/resolution ≤ 1e7 (≥ ${(1 + tolerance) / 1e7})`);
  }
  const units = costUnits(space), costs = units.map((u) => u.costs);
  // a unit's log-probability per joint choice (one decision: its own, exactly)
  const unitLogp = units.map((u) => u.picks.map((pick) => pick.reduce((s, a, i) => (i === 0 ? s : s + logProbs[u.decisions[i]!]![a]!), logProbs[u.decisions[0]!]![pick[0]!]!)));
  const step = unitResolution(units, resolution, 1 + tolerance) * targetBops, cells = Math.floor(top / step) + 1;
  let best = new Float64Array(cells).fill(Number.NEGATIVE_INFINITY), sum = new Float64Array(cells);
  best[0] = 0;
  // per layer and end cell: the choice taken and the cell it came from
  const choice = costs.map(() => new Int32Array(cells).fill(-1)), from = costs.map(() => new Int32Array(cells));
  for (let l = 0; l < units.length; l++) {
    const nb = new Float64Array(cells).fill(Number.NEGATIVE_INFINITY), ns = new Float64Array(cells), lp = unitLogp[l]!, cl = costs[l]!;
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
  const picks = new Array<number>(units.length);
  for (let l = units.length - 1, j = end; l >= 0; l--) {
    picks[l] = choice[l]![j]!;
    j = from[l]![j]!;
  }
  const config = unitConfig(units, picks, L);
  checkConfig(space, config);
  return config;
}
