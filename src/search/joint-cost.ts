// The cost of a configuration over formats and architecture: BOPs = Σ_l b(α_l)²·MACs_l(arch), where a layer's
// MACs scale with the widths and kernel sizes it depends on (MACs ∝ Π value^power). CostModel prices a
// configuration and its one-decision variations (the controller's local estimator); costUnits groups the
// decisions into independent units (a block's width, kernel and its layers' formats together; any other layer's
// format alone) so that the dynamic programmes over partial sums (nearestCosts, mostProbableInBand,
// equalCostSampler) run over units as they ran over layers. With formats alone every unit is one layer.

import { FliqsError, describe } from '../core/errors.js';
import { checkSpace, decisionCount, type Config, type SearchSpace } from './space.js';

interface Factor { readonly d: number; readonly values: Float64Array }

/** Joint choices above this many in one unit are refused (a block with 6 formats, 5 widths, 3 kernels has 3,240). */
const MAX_UNIT_CHOICES = 1e6;

/**
 * Prices configurations of a space (or of a plain table of per-layer, per-choice costs).
 * @example
 * const m = CostModel.fromSpace(space);
 * m.cost(config)                        // configCost(space, config)
 * m.costsWith(config, m.cost(config), d, out)    // out[a]: the cost with decision d set to a
 */
export class CostModel {
  /** Per decision (config index): the layers whose cost it changes. */
  private readonly affected: number[][];

  private constructor(
    /** Per layer: its format decision's b² per choice (or the table's costs). */
    private readonly sq: Float64Array[],
    /** Per layer: MACs divided by Π value^power at the base architecture (the MACs themselves without factors). */
    private readonly fixed: Float64Array,
    private readonly factors: Factor[][],
    readonly counts: readonly number[],
  ) {
    this.affected = counts.map(() => []);
    factors.forEach((fs, l) => {
      this.affected[l]!.push(l);
      for (const f of fs) this.affected[f.d]!.push(l);
    });
  }

  static fromSpace(space: SearchSpace): CostModel {
    checkSpace(space);
    const L = space.layers.length, arch = space.arch ?? [];
    const sq = space.layers.map((l) => Float64Array.from(l.choices, (f) => f.bits * f.bits));
    const factors = space.layers.map((l) => (l.factors ?? []).map((f) => {
      const d = arch[f.decision]!;
      return { d: L + f.decision, values: Float64Array.from(d.choices, (v) => v ** f.power) };
    }));
    const fixed = Float64Array.from(space.layers, (l) => (l.factors ?? []).reduce((m, f) => m / arch[f.decision]!.base ** f.power, l.macs));
    return new CostModel(sq, fixed, factors, [...space.layers.map((l) => l.choices.length), ...arch.map((d) => d.choices.length)]);
  }

  /** A model whose layer l costs rows[l][a] in its choice a (no architecture). */
  static fromTable(rows: readonly (readonly number[])[]): CostModel {
    return new CostModel(rows.map((r) => Float64Array.from(r)), new Float64Array(rows.length).fill(1), rows.map(() => []), rows.map((r) => r.length));
  }

  /** Layers (their cost terms) in this model. */
  get layers(): number { return this.sq.length; }

  /** MACs of layer l under `config` (with decision d set to a when d ≥ 0). */
  macs(l: number, config: Config, d = -1, a = 0): number {
    let m = this.fixed[l]!;
    for (const f of this.factors[l]!) m *= f.values[f.d === d ? a : config[f.d]!]!;
    return m;
  }

  /** b²·MACs of layer l under `config` (with decision d set to a when d ≥ 0). */
  term(l: number, config: Config, d = -1, a = 0): number {
    return this.sq[l]![l === d ? a : config[l]!]! * this.macs(l, config, d, a);
  }

  /** C(α), summed in layer order. */
  cost(config: Config): number {
    let c = 0;
    for (let l = 0; l < this.sq.length; l++) c += this.term(l, config);
    return c;
  }

  /**
   * out[a] = C(α with α_d = a) for every choice a of decision d, from C(α) = total: only the terms decision d
   * changes are priced again. One layer: (total − c_old) + c_new, the table estimator's arithmetic.
   */
  costsWith(config: Config, total: number, d: number, out: Float64Array): void {
    const ls = this.affected[d]!;
    let rest = total;
    for (const l of ls) rest -= this.term(l, config);
    for (let a = 0; a < this.counts[d]!; a++) {
      let changed = 0;
      for (const l of ls) changed += this.term(l, config, d, a);
      out[a] = rest + changed;
    }
  }

  /** The decisions whose choices change layer l's cost (its format decision first). */
  layerDecisions(l: number): number[] {
    return [l, ...this.factors[l]!.map((f) => f.d)];
  }
}

/** Independent decisions priced together: every joint choice of `decisions` and its cost. */
export interface CostUnit {
  /** Config indices, ascending. */
  readonly decisions: readonly number[];
  /** One choice index per decision, for every joint choice. */
  readonly picks: readonly (readonly number[])[];
  /** Σ b²·MACs over the unit's layers, in layer order, per joint choice. */
  readonly costs: readonly number[];
}

const modelCache = new WeakMap<SearchSpace, CostModel>();
/** The space's CostModel (built once per space). */
export function costModel(space: SearchSpace): CostModel {
  let m = modelCache.get(checkSpace(space));
  if (!m) modelCache.set(space, m = CostModel.fromSpace(space));
  return m;
}

const unitCache = new WeakMap<SearchSpace, CostUnit[]>();

/**
 * The space's decisions grouped into independent cost units, ordered by their first layer; C(α) is the sum of
 * the units' costs. Without architecture decisions, unit l is layer l with its choices (costs b²·MACs).
 * @example
 * costUnits(space).map((u) => u.costs.length) // e.g. [3, 3, 405, …]: a block's 3 formats³ × 5 widths × 3 kernels
 */
export function costUnits(space: SearchSpace): CostUnit[] {
  checkSpace(space);
  const hit = unitCache.get(space);
  if (hit) return hit;
  const model = costModel(space), n = decisionCount(space), L = space.layers.length;
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => { while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!; return i; };
  for (let l = 0; l < L; l++) for (const d of model.layerDecisions(l)) parent[find(d)] = find(l);
  const byRoot = new Map<number, { decisions: number[]; layers: number[] }>();
  for (let l = 0; l < L; l++) {
    const r = find(l);
    if (!byRoot.has(r)) byRoot.set(r, { decisions: [], layers: [] });
    byRoot.get(r)!.layers.push(l);
  }
  for (let d = 0; d < n; d++) byRoot.get(find(d))?.decisions.push(d);
  const units = [...byRoot.values()].map(({ decisions, layers }) => {
    const counts = decisions.map((d) => model.counts[d]!);
    const total = counts.reduce((a, b) => a * b, 1);
    if (total > MAX_UNIT_CHOICES) {
      throw new FliqsError('space', `has ${total} joint choices in one cost unit (decisions ${decisions.join(', ')})`, `at most ${MAX_UNIT_CHOICES}: fewer formats, widths or kernel sizes per block`);
    }
    const config = new Array<number>(n).fill(0), picks: number[][] = [], costs: number[] = [];
    const pick = new Array<number>(decisions.length).fill(0);
    for (let k = 0; k < total; k++) {
      decisions.forEach((d, i) => { config[d] = pick[i]!; });
      let c = 0;
      for (const l of layers) c += model.term(l, config);
      picks.push([...pick]);
      costs.push(c);
      for (let i = decisions.length - 1; i >= 0 && ++pick[i]! === counts[i]; i--) pick[i] = 0;
    }
    return { decisions, picks, costs };
  });
  unitCache.set(space, units);
  return units;
}

/** The configuration setting every unit's decisions to its pick (picks[u] indexes units[u].picks). */
export function unitConfig(units: readonly CostUnit[], picks: readonly number[], n: number): number[] {
  if (!Array.isArray(picks) || picks.length !== units.length) throw new FliqsError('picks', `got ${describe(picks)}`, `one pick per unit (${units.length})`);
  const config = new Array<number>(n).fill(0);
  units.forEach((u, i) => u.decisions.forEach((d, j) => { config[d] = u.picks[picks[i]!]![j]!; }));
  return config;
}

/**
 * The cell size (a fraction of the target) for a DP over `units` at `window`·target: `resolution`, coarsened
 * so that cells × Σ joint choices stays under `work` (joint spaces have thousands of choices per unit).
 */
export function unitResolution(units: readonly CostUnit[], resolution: number, window: number, work = 3e8): number {
  const choices = units.reduce((s, u) => s + u.costs.length, 0);
  return Math.max(resolution, (window * choices) / work);
}
