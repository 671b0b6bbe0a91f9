// The study-quality accuracy-vs-cost plot of a sweep (`fliqs pareto`, scripts/study-summary.mjs): runs grouped
// over seeds into mean ± std with error bars, a colour per kind of run (FLIQS, its controls, uniform QAT), a
// marker shape per search space or uniform format, the uniform baselines of each width joined by a line, the
// Pareto front of the FLIQS searches drawn, and a legend instead of point labels. Browser-safe.

import { FliqsError, describe } from '../core/errors.js';
import { DEFAULT_PALETTE, MARKER_SHAPES, scatterPlot, type LegendEntry, type ScatterPoint, type Series } from './svg.js';

/** One finished run of a sweep (a pareto.csv row); `tag` tells apart sweeps run with different settings. */
export interface StudyRun {
  kind: string;
  spaceOrFormat: string;
  width: number;
  target: string;
  seed: number;
  mbops: number;
  testAccuracy: number;
  tag?: string;
}

/** The runs of one grid point (kind, tag, space or format, width, target) over their seeds. */
export interface StudyGroup {
  kind: string;
  tag: string;
  what: string;
  width: number;
  target: string;
  /** Seeds (runs) in the group. */
  n: number;
  /** Test accuracy in % and MBOPs: mean and sample std (0 for one seed). */
  acc: number;
  accStd: number;
  mbops: number;
  mbopsStd: number;
}

export const STUDY_KINDS = ['fliqs', 'constant-q', 'random', 'uniform'] as const;
const KIND_NAMES: Record<string, string> = { fliqs: 'FLIQS', 'constant-q': 'constant-Q control', random: 'random at equal cost', uniform: 'uniform QAT' };
const UNIFORM_COLOR = '#555555';

const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
const std = (a: readonly number[]): number => (a.length < 2 ? 0 : Math.sqrt(a.reduce((s, x) => s + (x - mean(a)) ** 2, 0) / (a.length - 1)));

/**
 * Groups runs over seeds: mean ± std of test accuracy (in %) and MBOPs per grid point, sorted by width, kind, tag, cost.
 * @example
 * summarizeStudy([{ kind: 'uniform', spaceOrFormat: 'INT8', width: 1, target: '', seed: 0, mbops: 10, testAccuracy: 0.9 }])
 * // [{ kind: 'uniform', what: 'INT8', n: 1, acc: 90, accStd: 0, mbops: 10, … }]
 */
export function summarizeStudy(runs: readonly StudyRun[]): StudyGroup[] {
  if (!Array.isArray(runs)) throw new FliqsError('runs', `got ${describe(runs)}`, 'an array of { kind, spaceOrFormat, width, target, seed, mbops, testAccuracy }');
  const groups = new Map<string, StudyRun[]>();
  runs.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || typeof r.kind !== 'string' || typeof r.spaceOrFormat !== 'string'
      || ![r.width, r.mbops, r.testAccuracy].every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new FliqsError(`runs[${i}]`, `got ${describe(r)}`, '{ kind, spaceOrFormat, width, target, seed, mbops, testAccuracy } with finite numbers');
    }
    const key = [r.kind, r.tag ?? '', r.spaceOrFormat, r.width, r.target ?? ''].join('|');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  });
  const out: StudyGroup[] = [];
  for (const rs of groups.values()) {
    const r0 = rs[0]!, acc = rs.map((r) => 100 * r.testAccuracy), mb = rs.map((r) => r.mbops);
    out.push({ kind: r0.kind, tag: r0.tag ?? '', what: r0.spaceOrFormat, width: r0.width, target: r0.target ?? '', n: rs.length,
      acc: mean(acc), accStd: std(acc), mbops: mean(mb), mbopsStd: std(mb) });
  }
  const order = (k: string): number => { const i = (STUDY_KINDS as readonly string[]).indexOf(k); return i < 0 ? STUDY_KINDS.length : i; };
  return out.sort((a, b) => a.width - b.width || order(a.kind) - order(b.kind) || a.tag.localeCompare(b.tag) || a.mbops - b.mbops);
}

/**
 * The groups on the Pareto front: none other has at most their cost and more accuracy (by the means), in cost order.
 * @example
 * paretoFront([{ mbops: 1, acc: 80 }, { mbops: 2, acc: 79 }, { mbops: 3, acc: 85 }]) // the first and the third
 */
export function paretoFront<T extends { mbops: number; acc: number }>(points: readonly T[]): T[] {
  const sorted = [...points].sort((a, b) => a.mbops - b.mbops || b.acc - a.acc);
  const front: T[] = [];
  for (const p of sorted) if (front.length === 0 || p.acc > front.at(-1)!.acc) front.push(p);
  return front;
}

export interface StudyPlotOptions {
  title?: string;
  width?: number;
  height?: number;
}

/**
 * The accuracy-vs-MBOPs plot of a sweep (log x): mean ± std over seeds as error bars, a colour per kind (and tag),
 * a marker per space / uniform format, each width's uniform baselines joined by a line, the FLIQS searches'
 * Pareto front dashed, and a legend (no point labels, so nothing overlaps).
 * @example
 * const svg = studyPlot(rows, { title: 'resnet8 on Fashion-MNIST' });
 */
export function studyPlot(runs: readonly StudyRun[], opts: StudyPlotOptions = {}): string {
  const groups = summarizeStudy(runs);
  if (groups.length === 0) throw new FliqsError('runs', 'is empty', 'at least one finished run');
  const seriesOf = (g: StudyGroup): string => `${KIND_NAMES[g.kind] ?? g.kind}${g.tag ? ` ${g.tag}` : ''}`;
  const searchSeries = [...new Set(groups.filter((g) => g.kind !== 'uniform').map(seriesOf))];
  const colorOf = (g: StudyGroup): string => (g.kind === 'uniform' ? UNIFORM_COLOR : DEFAULT_PALETTE[searchSeries.indexOf(seriesOf(g)) % DEFAULT_PALETTE.length]!);
  const whats = [...new Set(groups.map((g) => g.what))];
  const shapeOf = (what: string): (typeof MARKER_SHAPES)[number] => MARKER_SHAPES[whats.indexOf(what) % MARKER_SHAPES.length]!;
  const points: ScatterPoint[] = groups.map((g) => ({
    x: g.mbops, y: g.acc, ...(g.n > 1 ? { yErr: g.accStd } : {}), ...(g.n > 1 && g.mbopsStd > 0 ? { xErr: g.mbopsStd } : {}),
    series: seriesOf(g), color: colorOf(g), marker: shapeOf(g.what),
  }));
  const widths = [...new Set(groups.map((g) => g.width))];
  const lines: Series[] = [];
  const legend: LegendEntry[] = [];
  for (const w of widths) {
    const u = groups.filter((g) => g.kind === 'uniform' && g.width === w).sort((a, b) => a.mbops - b.mbops);
    if (u.length === 0) continue;
    const name = `uniform QAT${widths.length > 1 ? ` ×${w}` : ''}`;
    if (u.length > 1) lines.push({ name, x: u.map((g) => g.mbops), y: u.map((g) => g.acc), color: UNIFORM_COLOR, dash: 'none' });
    if (!legend.some((e) => e.name === 'uniform QAT')) legend.push({ name: 'uniform QAT', color: UNIFORM_COLOR, line: true });
  }
  for (const s of searchSeries) legend.push({ name: s, color: DEFAULT_PALETTE[searchSeries.indexOf(s) % DEFAULT_PALETTE.length]! });
  const front = paretoFront(groups.filter((g) => g.kind === 'fliqs'));
  if (front.length > 1) {
    lines.push({ name: 'Pareto front of the FLIQS searches', x: front.map((g) => g.mbops), y: front.map((g) => g.acc), color: '#000000', dash: '6 4' });
    legend.push({ name: 'Pareto front (FLIQS)', color: '#000000', line: true, dash: '6 4' });
  }
  for (const w of whats) {
    const isFormat = groups.some((g) => g.what === w && g.kind === 'uniform');
    legend.push({ name: isFormat ? `${w} (uniform)` : `space ${w}`, color: '#333333', marker: shapeOf(w) });
  }
  return scatterPlot(points, {
    title: opts.title, xLabel: 'MBOPs per image (log)', yLabel: groups.some((g) => g.n > 1) ? 'test accuracy (%), mean ± std over seeds' : 'test accuracy (%)', logX: true,
    width: opts.width ?? 900, height: opts.height ?? 560, lines, legend,
  });
}
