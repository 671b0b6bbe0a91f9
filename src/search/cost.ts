// The FLIQS cost model (paper Eq. 1): BOPs = Σ_l b(α_l)² · MACs_l, the reachable costs (range, nearest to
// a target), the cost target parser, the reward r = Q − γ·|C(α)/C_T − 1|, and the noise of Q that γ is
// calibrated against.

import { FliqsError, describe } from '../core/errors.js';
import { parseFormat, type Format } from '../formats/format.js';
import { checkConfig, checkSpace, type Config, type SearchSpace } from './space.js';
import { costModel, costUnits, unitResolution } from './joint-cost.js';

function requireMacs(input: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FliqsError(input, `got ${describe(v)}`, 'a finite number ≥ 0');
}

/**
 * The fixed γ of the old default search ('reinforce' estimator, raw reward, controller lr 0.05), kept for
 * `--gamma 5`: with it the cost term spread ~100× wider than Q, so the search ignored quality (README "The reward").
 */
export const LEGACY_GAMMA = 5;

/**
 * κ of the calibrated γ = κ·σ, σ the noise of Q: a cost miss of 10% weighs 0.8 σ. Chosen on the known-answer
 * toy (test/search-quality.test.ts) and the resnet8 searches in README "The reward".
 */
export const DEFAULT_GAMMA_PER_SIGMA = 8;

/** The default least σ qualityNoise returns (a validation batch scored the same at every step would give 0). */
export const MIN_QUALITY_NOISE = 1e-3;

/**
 * The noise σ of a series of Q values from successive differences, √(Σ(q_i − q_{i−1})² / (2(n − 1))), so the
 * rise of Q as the model trains does not count as noise; at least `floor` (the search passes 1/B for an
 * accuracy on batches of B: its resolution).
 * @example
 * qualityNoise([0.8, 0.9, 0.8, 0.9]) // 0.0707… (= 0.1/√2)
 */
export function qualityNoise(qs: readonly number[], floor = MIN_QUALITY_NOISE): number {
  if (!Array.isArray(qs) || qs.length < 2 || qs.some((q) => typeof q !== 'number' || !Number.isFinite(q))) {
    throw new FliqsError('qualities', `got ${describe(qs)}`, 'at least 2 finite Q values');
  }
  if (typeof floor !== 'number' || !(floor > 0) || !Number.isFinite(floor)) throw new FliqsError('floor', `got ${describe(floor)}`, 'a finite number > 0');
  let ss = 0;
  for (let i = 1; i < qs.length; i++) ss += (qs[i]! - qs[i - 1]!) ** 2;
  return Math.max(floor, Math.sqrt(ss / (2 * (qs.length - 1))));
}

/**
 * BOPs of one layer: b² · MACs (paper Eq. 1).
 * @example
 * layerBops('INT8', 1000) // 64000
 */
export function layerBops(format: string | Format, macs: number): number {
  const b = parseFormat(format).bits;
  requireMacs('macs', macs);
  return b * b * macs;
}

/**
 * b²·MACs of every choice of every layer: the table configCost sums (the same products, so sums agree to the bit).
 * @example
 * layerCosts(space)[l][a] // BOPs of layer l in its a-th format
 */
export function layerCosts(space: SearchSpace): number[][] {
  if (checkSpace(space).arch) {
    throw new FliqsError('space', 'searches the architecture: its costs are not one table per layer', 'costUnits(space) or costModel(space)');
  }
  return space.layers.map((l) => l.choices.map((f) => f.bits * f.bits * l.macs));
}


/**
 * Total BOPs of a configuration (choice index per layer).
 * @example
 * configCost(space, [0, 1, 0]) // Σ_l bits(choice)² · macs_l
 */
export function configCost(space: SearchSpace, config: Config): number {
  checkConfig(checkSpace(space), config);
  return costModel(space).cost(config);
}

/**
 * BOPs of the whole model in one format (every layer, pinned ones included): the plain uniform
 * baseline, e.g. "INT8", that relative targets refer to.
 * @example
 * uniformCost(space.layers, 'INT8') // 64 · Σ MACs
 */
export function uniformCost(layers: readonly { readonly macs: number }[], format: string | Format): number {
  const b = parseFormat(format).bits;
  if (!Array.isArray(layers)) throw new FliqsError('layers', `got ${describe(layers)}`, 'an array of { macs }');
  for (let i = 0; i < layers.length; i++) requireMacs(`layers[${i}].macs`, (layers[i] as { macs?: unknown } | undefined)?.macs);
  let macs = 0;
  for (const l of layers) macs += l.macs;
  return b * b * macs;
}

export interface ReachableRange {
  /** Smallest BOPs any configuration reaches (fewest bits in every layer). */
  readonly min: number;
  /** Largest BOPs any configuration reaches (most bits in every layer). */
  readonly max: number;
  readonly minConfig: number[];
  readonly maxConfig: number[];
}

/**
 * The smallest and largest cost over all configurations: per layer, the choice with fewest / most bits.
 * @example
 * const { min, max } = reachableRange(space)
 */
export function reachableRange(space: SearchSpace): ReachableRange {
  checkSpace(space);
  const minConfig: number[] = [], maxConfig: number[] = [];
  // every cost term grows with bits, widths and kernel sizes: the extremes pick the extreme of each decision
  const sizes = [...space.layers.map((l) => l.choices.map((f) => f.bits)), ...(space.arch ?? []).map((d) => [...d.choices])];
  for (const v of sizes) {
    let lo = 0, hi = 0;
    v.forEach((x, i) => {
      if (x < v[lo]!) lo = i;
      if (x > v[hi]!) hi = i;
    });
    minConfig.push(lo);
    maxConfig.push(hi);
  }
  return { min: configCost(space, minConfig), max: configCost(space, maxConfig), minConfig, maxConfig };
}

export interface NearestCosts {
  /** The largest cost of a configuration at or below the target (null: every configuration costs more). */
  readonly below: number | null;
  /** The smallest cost of a configuration at or above the target (null: every configuration costs less). */
  readonly above: number | null;
}

/**
 * The reachable costs nearest a target, on each side. Costs come in steps (b²·MACs per layer), so a model
 * whose MACs sit in one layer may have no configuration near the target at all; a search cannot do better.
 * Dynamic programming over partial sums ≤ `window`·target on a grid of `resolution`·target cells, one cost unit
 * (costUnits: a layer, or a block's joint width, kernel and formats) at a time; the cell is coarser when a joint
 * space's units hold too many choices (unitResolution). Two
 * passes: one keeps the smallest sum per cell (its sums never exceed the true ones, so `below` stays on its
 * side), one the largest (for `above`). Every value returned is the exact cost of some configuration and at
 * most layers · resolution · target from the true nearest one. A configuration above the window is priced
 * when its path first crosses it, with the cheapest choice in every later layer.
 * @example
 * const { below, above } = nearestCosts(space, targetBops); // e.g. 0.78·T and 1.32·T for the small cnn
 */
export function nearestCosts(space: SearchSpace, targetBops: number, resolution = 1e-5, window = 1.1): NearestCosts {
  checkSpace(space);
  if (!(targetBops > 0 && Number.isFinite(targetBops))) throw new FliqsError('targetBops', `got ${describe(targetBops)}`, 'a finite number > 0');
  if (!(window >= 1 && Number.isFinite(window))) throw new FliqsError('window', `got ${describe(window)}`, 'a finite multiple of the target ≥ 1');
  // the grid has window/resolution cells; 1e7 of them is 160 MB over the two arrays alive at once
  if (!(resolution > 0 && Number.isFinite(resolution) && window / resolution <= 1e7)) {
    throw new FliqsError('resolution', `got ${describe(resolution)}`, `a finite fraction of the target with window/resolution ≤ 1e7 (≥ ${window / 1e7})`);
  }
  const units = costUnits(space), costs = units.map((u) => u.costs);
  const minRest = new Float64Array(costs.length + 1); // cheapest completion from unit u on
  for (let l = costs.length - 1; l >= 0; l--) minRest[l] = minRest[l + 1]! + costs[l]!.reduce((a, b) => Math.min(a, b));
  const cap = window * targetBops, step = unitResolution(units, resolution, window) * targetBops;
  const low = partialSums(costs, minRest, cap, step, 'min');
  const high = partialSums(costs, minRest, cap, step, 'max');
  let below: number | null = null, above: number | null = Number.isFinite(high.crossing) ? high.crossing : null;
  for (const v of low.sums) if (v <= targetBops && (below === null || v > below)) below = v; // NaN (empty cell) fails both tests
  for (const v of high.sums) if (v >= targetBops && (above === null || v < above)) above = v;
  return { below, above };
}

/**
 * The reachable sums ≤ cap, one per grid cell (the smallest or the largest landing there; NaN for an empty
 * cell), and the cheapest sum that crosses cap.
 */
function partialSums(costs: readonly (readonly number[])[], minRest: Float64Array, cap: number, step: number, keep: 'min' | 'max'): { sums: Float64Array; crossing: number } {
  const cells = Math.floor(cap / step) + 1;
  let states = new Float64Array(cells).fill(Number.NaN);
  states[0] = 0;
  let crossing = Number.POSITIVE_INFINITY;
  for (let l = 0; l < costs.length; l++) {
    const next = new Float64Array(cells).fill(Number.NaN);
    for (let i = 0; i < cells; i++) {
      const s = states[i]!;
      if (Number.isNaN(s)) continue;
      for (const c of costs[l]!) {
        const v = s + c;
        if (v > cap) { crossing = Math.min(crossing, v + minRest[l + 1]!); continue; }
        const b = Math.floor(v / step), old = next[b]!;
        if (Number.isNaN(old) || (keep === 'min' ? v < old : v > old)) next[b] = v;
      }
    }
    states = next;
  }
  return { sums: states, crossing };
}

/** BOPs → a short MBOPs string for messages: `12.5 MBOPs`. */
export function formatMbops(bops: number): string {
  if (typeof bops !== 'number') throw new FliqsError('bops', `got ${describe(bops)}`, 'a number');
  return `${Number((bops / 1e6).toPrecision(4))} MBOPs`;
}

const TARGET_HELP = 'MBOPs as a number (12.5), a number with a unit (12.5MBOPs, 0.3GBOPs, 5e5BOPs), '
  + 'or a multiple of a uniform format (0.5xINT8, 1.1×INT4, 0.25xBF16)';

/**
 * Parses a cost target to absolute BOPs and checks it is reachable in `space`.
 * A number means MBOPs (`--target-mbops 12.5`); a string is MBOPs, a value with a unit
 * (`BOPs`, `kBOPs`, `MBOPs`, `GBOPs`) or a multiple of the uniform cost of a format
 * (`0.5xINT8`, `1.1×int4`, case-insensitive). A target outside the reachable range throws a
 * FliqsError showing the range and the uniform formats around the target.
 * @example
 * parseTarget('0.5xINT8', space) // 0.5 · uniformCost(space.layers, 'INT8')
 * parseTarget(12.5, space)       // 12_500_000
 */
export function parseTarget(target: string | number, space: SearchSpace): number {
  checkSpace(space);
  let bops: number;
  if (typeof target === 'number') {
    if (!Number.isFinite(target) || target <= 0) throw new FliqsError('target', `got ${describe(target)} MBOPs`, TARGET_HELP);
    bops = target * 1e6;
  } else if (typeof target === 'string') {
    bops = parseTargetString(target, space);
  } else {
    throw new FliqsError('target', `got ${describe(target)}`, TARGET_HELP);
  }
  const range = reachableRange(space);
  // Relative slack so that e.g. 1.0xINT4 on an all-INT4-capable space is not rejected by rounding.
  const slack = 1e-12 * range.max;
  if (bops < range.min - slack || bops > range.max + slack) {
    throw new FliqsError('target',
      `${formatMbops(bops)}${typeof target === 'string' ? ` (${JSON.stringify(target)})` : ''} is outside the reachable range `
      + `${formatMbops(range.min)} to ${formatMbops(range.max)} of this search space; ${bracket(bops, space)}`,
      `a target from ${formatMbops(range.min)} to ${formatMbops(range.max)}`);
  }
  return bops;
}

/**
 * The syntax of a cost target, checked without a search space: `K×FORMAT` (a multiple of a uniform format's
 * cost) or a number of BOPs with an optional unit (MBOPs by default). Throws a FliqsError naming `target`.
 * @example
 * parseTargetSpec('0.5xINT8'); // { multiple: 0.5, format: INT8 }
 */
export function parseTargetSpec(text: string): { multiple: number; format: Format } | { bops: number } {
  const s = text.trim();
  const num = '(\\d+(?:\\.\\d*)?(?:e[+-]?\\d+)?|\\.\\d+(?:e[+-]?\\d+)?)';
  let m = new RegExp(`^${num}\\s*[x×*]\\s*([a-z0-9]+)$`, 'i').exec(s);
  if (m) {
    const k = Number(m[1]);
    let f: Format;
    try {
      f = parseFormat(m[2]!);
    } catch (e) {
      if (e instanceof FliqsError) throw new FliqsError('target', `${JSON.stringify(text)}: ${e.problem}`, TARGET_HELP);
      throw e;
    }
    if (!(k > 0)) throw new FliqsError('target', `${JSON.stringify(text)} has a multiple of ${k}`, TARGET_HELP);
    return { multiple: k, format: f };
  }
  m = new RegExp(`^${num}\\s*(bops|kbops|mbops|gbops)?$`, 'i').exec(s);
  if (m) {
    const v = Number(m[1]);
    const unit = (m[2] ?? 'mbops').toLowerCase();
    const scale = unit === 'bops' ? 1 : unit === 'kbops' ? 1e3 : unit === 'mbops' ? 1e6 : 1e9;
    if (!(v > 0)) throw new FliqsError('target', `${JSON.stringify(text)} is not > 0`, TARGET_HELP);
    return { bops: v * scale };
  }
  throw new FliqsError('target', `${JSON.stringify(text)} is not a cost target`, TARGET_HELP);
}

function parseTargetString(text: string, space: SearchSpace): number {
  const t = parseTargetSpec(text);
  return 'bops' in t ? t.bops : t.multiple * uniformCost(space.layers, t.format);
}

/** Says which uniform formats (of those the space offers) lie just below and above `bops`. */
function bracket(bops: number, space: SearchSpace): string {
  const seen = new Map<string, number>();
  for (const l of space.layers) for (const f of l.choices) if (!seen.has(f.name)) seen.set(f.name, uniformCost(space.layers, f));
  const sorted = [...seen].sort((a, b) => a[1] - b[1]);
  const below = sorted.filter(([, c]) => c <= bops).pop();
  const above = sorted.find(([, c]) => c > bops);
  const show = ([n, c]: [string, number]): string => `uniform ${n} (${formatMbops(c)})`;
  if (below && above) return `it lies between ${show(below)} and ${show(above)}`;
  if (above) return `it is below ${show(above)}, the cheapest uniform format`;
  if (below) return `it is above ${show(below)}, the most expensive uniform format`;
  return 'no uniform format to compare with';
}

/**
 * The FLIQS reward r = Q − γ·|C/C_T − 1| (paper Eq. 1 with the sign made explicit, γ > 0).
 * @example
 * reward(0.9, 12e6, 10e6, 5) // 0.9 − 5·0.2 = −0.1
 */
export function reward(quality: number, bops: number, targetBops: number, gamma: number): number {
  if (typeof quality !== 'number' || !Number.isFinite(quality)) throw new FliqsError('quality', `got ${describe(quality)}`, 'a finite number');
  if (typeof bops !== 'number' || !Number.isFinite(bops) || bops < 0) throw new FliqsError('cost', `got ${describe(bops)}`, 'a finite number ≥ 0 (BOPs)');
  if (typeof targetBops !== 'number' || !Number.isFinite(targetBops) || targetBops <= 0) {
    throw new FliqsError('target', `got ${describe(targetBops)}`, 'a finite number > 0 (BOPs)');
  }
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma < 0) throw new FliqsError('gamma', `got ${describe(gamma)}`, 'a finite number ≥ 0 (0 turns the cost term off)');
  return quality - gamma * Math.abs(bops / targetBops - 1);
}
