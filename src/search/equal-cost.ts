// Configurations at (about) a given cost, drawn exactly uniformly and counted: the "random configuration at
// equal cost" control of `fliqs pareto --controls`. The band is every configuration whose cost
// Σ_l bits²·MACs_l lies within [(1 − tolerance)·T, (1 + tolerance)·T]. Browser-safe.
//
// Method: the space's cost units (costUnits: a layer, or a FLIQNAS block's joint width, kernel and formats) play
// the part of layers below. Each layer's cost is floored onto a grid of cells of `resolution`·T, and a DP counts, layer by
// layer, the prefixes reaching each cell (f64 counts; choices of equal bits are one group). A configuration's
// grid sum G and exact cost C satisfy G·cell ≤ C < (G + layers)·cell, so every configuration in the band has
// G in a strip from `layers + 1` cells below the band's bottom to 1 cell above its top. A draw picks a
// configuration uniformly among those whose G lies in the strip (backwards: the end cell ∝ its count, then
// each layer's choice ∝ the prefixes reaching the cell it leaves), prices it exactly with configCost, and
// draws again if it lies outside the band: accepted draws are exactly uniform over the band. The count sums
// the cells whose every configuration is in the band and checks the configurations of the cells near the
// band's edges one by one.

import { FliqsError, describe } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { configCost, formatMbops, nearestCosts } from './cost.js';
import { costUnits, unitConfig, unitResolution } from './joint-cost.js';
import { checkSpace, decisionCount, type SearchSpace } from './space.js';

/**
 * Cell size as a fraction of the target, unless the tables would exceed their caps (then coarser): 1.1e5 cells
 * per layer at ±10%, 23 MB and ~0.1 s to build for mobilenetv2's 26 layers. Finer cells mean fewer draws outside
 * the band and fewer configurations to check one by one for the count.
 */
export const DEFAULT_EQUAL_COST_RESOLUTION = 1e-5;
/** At most this many cells per layer (the band's top over the cell size). */
const MAX_CELLS = 2e6;
/** At most this many cells over all layers' tables: 2^24 f64 = 128 MB. */
const MAX_TABLE = 2 ** 24;
/**
 * The edge cells' configurations are checked one by one up to this many search nodes (~0.3 s); beyond, their
 * in-band share is sampled. Exact for every resnet8 space of the README's study and mobilenetv2 ×0.5 int-s/fp-s.
 */
const ENUMERATION_LIMIT = 1e7;
/** Draws that estimate the in-band share of the edge cells when they are too many to check one by one. */
const ESTIMATE_DRAWS = 4096;
/** A draw gives up after this many proposals outside the band (only when the band is nearly empty). */
const MAX_PROPOSALS = 1e6;

export interface EqualCostOptions {
  /** Cell size as a fraction of the target (default DEFAULT_EQUAL_COST_RESOLUTION, coarsened to fit the caps). */
  resolution?: number;
}

/** The configurations of a space whose cost lies within ±tolerance of a target: their count, and uniform draws. */
export interface EqualCostSampler {
  readonly targetBops: number;
  /** The band, in BOPs: low = (1 − tolerance)·target, high = (1 + tolerance)·target. */
  readonly low: number;
  readonly high: number;
  /** Configurations whose cost lies in the band (f64: exact below 2^53). */
  readonly count: number;
  /**
   * True when `count` is exact (up to f64). False when the configurations in the cells at the band's edges are
   * too many to check one by one (ENUMERATION_LIMIT; spaces of ~1e9 configurations in the band and more, such as
   * mobilenetv2 int-l or fp-l): their in-band share is then estimated from ESTIMATE_DRAWS seeded draws, which
   * measured within 2e-4 of the count at a 3× finer grid. Draws are exactly uniform either way. Computed when
   * first read.
   */
  readonly exact: boolean;
  /** A configuration (one choice index per layer) drawn uniformly from the band; FliqsError if it is empty. */
  sample(rng: Rng): number[];
}

/** The choices of one layer that share a cost. */
interface Group {
  cost: number;
  /** floor(cost / cell): the group's step on the grid. */
  cells: number;
  choices: number[];
}

/**
 * Counts the configurations in the band and draws them uniformly; build once, draw many times.
 * @example
 * const s = equalCostSampler(space, parseTarget('0.5xINT8', space));
 * s.count;                       // configurations within ±10% of the target
 * const config = s.sample(new Rng(0)); // uniform over them; configCost(space, config) / target ∈ [0.9, 1.1]
 */
export function equalCostSampler(space: SearchSpace, targetBops: number, tolerance = 0.1, options: EqualCostOptions = {}): EqualCostSampler {
  checkInputs(space, targetBops, tolerance);
  const units = costUnits(space), L = units.length, n = decisionCount(space);
  const low = (1 - tolerance) * targetBops, high = (1 + tolerance) * targetBops;
  const resolution = chooseResolution(L, tolerance, options);
  const cell = unitResolution(units, resolution, 1 + tolerance) * targetBops;
  const groups: Group[][] = units.map((unit) => {
    const byCost = new Map<number, Group>();
    unit.costs.forEach((cost, i) => { // one layer: b²·MACs as configCost computes it, so sums agree to the bit
      let g = byCost.get(cost);
      if (!g) byCost.set(cost, g = { cost, cells: Math.floor(cost / cell), choices: [] });
      g.choices.push(i);
    });
    return [...byCost.values()];
  });
  // the strip of grid sums that may hold an in-band configuration (a cell of slack on each side for rounding)
  const top = Math.ceil(high / cell) + 1, bottom = Math.max(0, Math.floor(low / cell) - L - 1);
  // prefix[l][g]: configurations of layers 0 … l−1 whose grid sum is g
  const prefix: Float64Array[] = [new Float64Array(top + 1)];
  prefix[0]![0] = 1;
  for (let l = 0; l < L; l++) {
    const from = prefix[l]!, to = new Float64Array(top + 1);
    for (let g = 0; g <= top; g++) {
      const n = from[g]!;
      if (n === 0) continue;
      for (const grp of groups[l]!) if (g + grp.cells <= top) to[g + grp.cells]! += n * grp.choices.length;
    }
    prefix.push(to);
  }
  const ends = prefix[L]!;
  // a cell is sure when every configuration landing in it costs within the band
  const sure = (g: number): boolean => (g - 1) * cell >= low && (g + L + 1) * cell <= high;

  /** Walks back from end cell g: each layer's group ∝ prefixes reaching the cell it leaves, a choice uniform in it. */
  const walkBack = (g: number, rng: Rng): number[] => {
    const picks = new Array<number>(L);
    for (let l = L - 1; l >= 0; l--) {
      const before = prefix[l]!, gs = groups[l]!;
      let total = 0;
      for (const grp of gs) if (g >= grp.cells) total += before[g - grp.cells]! * grp.choices.length;
      let u = rng.uniform() * total, pick: Group | null = null;
      for (const grp of gs) {
        if (g < grp.cells) continue;
        const w = before[g - grp.cells]! * grp.choices.length;
        if (w === 0) continue;
        pick = grp; // the last with weight > 0 if rounding runs u past the end
        if ((u -= w) < 0) break;
      }
      picks[l] = pick!.choices[rng.int(pick!.choices.length)]!;
      g -= pick!.cells;
    }
    return unitConfig(units, picks, n);
  };

  /** A sampler of end cells among `cells`, ∝ their counts. */
  const endPicker = (cells: number[]): { total: number; pick: (rng: Rng) => number } => {
    const cum = new Float64Array(cells.length);
    let total = 0;
    cells.forEach((g, i) => { total += ends[g]!; cum[i] = total; });
    return {
      total,
      pick: (rng) => {
        const u = rng.uniform() * total;
        let lo = 0, hi = cells.length - 1;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid]! > u) hi = mid; else lo = mid + 1; }
        return cells[lo]!;
      },
    };
  };

  const strip: number[] = [], edge: number[] = [];
  let sureCount = 0;
  for (let g = bottom; g <= top; g++) {
    if (ends[g] === 0) continue;
    strip.push(g);
    if (sure(g)) sureCount += ends[g]!;
    else edge.push(g);
  }
  const inBand = (config: number[]): boolean => { const c = configCost(space, config); return c >= low && c <= high; };
  // the edge cells are checked when the count is first asked for (a draw needs it only when no cell is sure)
  let counted: { count: number; exact: boolean } | null = null;
  const counts = (): { count: number; exact: boolean } => {
    if (counted) return counted;
    const found = countEdges(edge, groups, prefix, low, high);
    if (found !== null) return counted = { count: sureCount + found, exact: true };
    const picker = endPicker(edge), rng = new Rng(0);
    let hits = 0;
    for (let i = 0; i < ESTIMATE_DRAWS; i++) if (inBand(walkBack(picker.pick(rng), rng))) hits++;
    return counted = { count: sureCount + picker.total * (hits / ESTIMATE_DRAWS), exact: false };
  };
  const proposals = endPicker(strip);

  return {
    targetBops, low, high,
    get count() { return counts().count; },
    get exact() { return counts().exact; },
    sample(rng: Rng): number[] {
      if (typeof rng !== 'object' || rng === null || typeof rng.uniform !== 'function' || typeof rng.int !== 'function') {
        throw new FliqsError('rng', `got ${describe(rng)}`, 'an Rng (new Rng(seed) from core/random)');
      }
      if (sureCount === 0) {
        const c = counts(); // an estimated 0 may still hide a few: those are left to the draws below
        if (c.exact && c.count === 0) throw emptyBand(space, targetBops, tolerance, low, high);
      }
      for (let i = 0; i < MAX_PROPOSALS; i++) {
        const config = walkBack(proposals.pick(rng), rng);
        if (inBand(config)) return config;
      }
      throw new FliqsError('targetBops', `${MAX_PROPOSALS} draws near ${formatMbops(targetBops)} found no configuration within `
        + `${formatMbops(low)} to ${formatMbops(high)} (the band's configurations are a tiny share of those near it)`, 'a finer resolution or a wider tolerance');
    },
  };
}

/**
 * A configuration drawn exactly uniformly from those whose cost lies within ±tolerance of `targetBops`.
 * Throws FliqsError (naming the band and the nearest reachable costs) when there is none. To draw many,
 * build an equalCostSampler once.
 * @example
 * const config = sampleConfigNearCost(space, parseTarget('1.1xINT4', space), new Rng(7));
 * configFormats(space, config).map((f) => f.name) // e.g. ['INT8', 'INT4', 'INT4', 'BF16']
 * // layers of 1e6, 5e5 and 1e5 MACs in int-s, 60 MBOPs ± 5%: none (the nearest are 54.4 and 73.6 MBOPs)
 * sampleConfigNearCost(space, 60e6, new Rng(0), 0.05) // throws FliqsError 'targetBops: no configuration costs within ±5% …'
 */
export function sampleConfigNearCost(space: SearchSpace, targetBops: number, rng: Rng, tolerance = 0.1, options: EqualCostOptions = {}): number[] {
  return equalCostSampler(space, targetBops, tolerance, options).sample(rng);
}

/**
 * How many configurations cost within ±tolerance of `targetBops` (0 when none do); an f64, exact below 2^53
 * (see EqualCostSampler.exact for the one approximate case).
 * @example
 * // layers of 1e6, 5e5 and 1e5 MACs in int-s (27 configurations)
 * countConfigsNearCost(space, 60e6)       // 1: INT4, INT8, INT8 at 54.4 MBOPs
 * countConfigsNearCost(space, 60e6, 0.05) // 0
 */
export function countConfigsNearCost(space: SearchSpace, targetBops: number, tolerance = 0.1, options: EqualCostOptions = {}): number {
  return equalCostSampler(space, targetBops, tolerance, options).count;
}

/**
 * Configurations in the edge cells whose exact cost is in the band, checked one by one (depth first, back
 * from each end cell through cells with prefixes); null when that takes more than ENUMERATION_LIMIT nodes.
 */
function countEdges(edge: readonly number[], groups: readonly Group[][], prefix: readonly Float64Array[], low: number, high: number): number | null {
  const L = groups.length, path = new Array<Group>(L);
  let nodes = 0, found = 0;
  const visit = (l: number, g: number): boolean => {
    if (++nodes > ENUMERATION_LIMIT) return false;
    if (l < 0) {
      let c = 0, n = 1;
      for (let i = 0; i < L; i++) { c += path[i]!.cost; n *= path[i]!.choices.length; } // in layer order, as configCost sums
      if (c >= low && c <= high) found += n;
      return true;
    }
    for (const grp of groups[l]!) {
      if (g < grp.cells || prefix[l]![g - grp.cells] === 0) continue;
      path[l] = grp;
      if (!visit(l - 1, g - grp.cells)) return false;
    }
    return true;
  };
  for (const g of edge) if (!visit(L - 1, g)) return null;
  return found;
}

function chooseResolution(layers: number, tolerance: number, options: EqualCostOptions): number {
  if (typeof options !== 'object' || options === null) throw new FliqsError('options', `got ${describe(options)}`, '{ resolution? }');
  const maxCells = Math.min(MAX_CELLS, MAX_TABLE / (layers + 1)) - 3; // the table has ceil((1 + tol)/resolution) + 2 cells per layer
  const finest = (1 + tolerance) / maxCells;
  if (options.resolution === undefined) return Math.max(DEFAULT_EQUAL_COST_RESOLUTION, finest);
  const r = options.resolution;
  if (!(typeof r === 'number' && Number.isFinite(r) && r > 0 && r >= finest)) {
    throw new FliqsError('resolution', `got ${describe(r)}`, `a finite fraction of the target ≥ ${finest.toPrecision(3)} (at most ${Math.floor(maxCells)} cells per layer for ${layers} layers)`);
  }
  return r;
}

function checkInputs(space: SearchSpace, targetBops: number, tolerance: number): void {
  if (typeof space !== 'object' || space === null || !Array.isArray(space.layers) || space.layers.length === 0) {
    const problem = Array.isArray(space?.layers) ? 'has no layers' : `got ${describe(space)}`;
    throw new FliqsError('space', problem, 'a search space from buildSearchSpace (a non-empty list of layers)');
  }
  space.layers.forEach((l, i) => {
    if (typeof l !== 'object' || l === null || typeof l.macs !== 'number' || !Number.isFinite(l.macs) || l.macs < 0) {
      throw new FliqsError(`space.layers[${i}].macs`, `got ${describe(l?.macs)}`, 'a finite number ≥ 0');
    }
    if (!Array.isArray(l.choices) || l.choices.length === 0 || !l.choices.every((f: { bits?: unknown } | null) => typeof f?.bits === 'number' && Number.isFinite(f.bits) && f.bits > 0)) {
      throw new FliqsError(`space.layers[${i}].choices`, `got ${describe(l.choices)}`, 'a non-empty list of formats');
    }
  });
  checkSpace(space);
  if (typeof targetBops !== 'number' || !Number.isFinite(targetBops) || targetBops <= 0) {
    throw new FliqsError('targetBops', `got ${describe(targetBops)}`, 'a finite number > 0 (BOPs)');
  }
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0 || tolerance >= 1) {
    throw new FliqsError('tolerance', `got ${describe(tolerance)}`, 'a fraction of the target in [0, 1), e.g. 0.1 for ±10%');
  }
}

/** The error for a band no configuration reaches: the band and the nearest reachable costs on each side. */
function emptyBand(space: SearchSpace, targetBops: number, tolerance: number, low: number, high: number): FliqsError {
  const n = nearestCosts(space, targetBops, 1e-5, Math.max(1.1, 1 + tolerance));
  const show = (c: number | null): string => (c === null ? 'none' : `${formatMbops(c)} (${(c / targetBops).toFixed(3)}× the target)`);
  const pct = `±${Number((100 * tolerance).toPrecision(6))}%`;
  return new FliqsError('targetBops',
    `no configuration costs within ${pct} of ${formatMbops(targetBops)} (${formatMbops(low)} to ${formatMbops(high)}); `
    + `the nearest reachable costs are ${show(n.below)} below and ${show(n.above)} above`,
    `a target with a configuration within ${pct}, or a wider tolerance`);
}
