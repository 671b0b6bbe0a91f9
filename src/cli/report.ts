// `fliqs report RUN`: plots of a search run from its log.jsonl and result.json, written into the run
// directory as SVG: the argmax format per layer over the logged steps (like the paper's Fig. 7),
// entropy and cost/target over steps, the loss, quality and reward (one panel each), the final policy as a
// heatmap, and the policy over time of every searched layer. Node-only (file I/O).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { categoryStrip, heatmap, linePlot, stackedLinePlot, type Panel, type Series } from '../report/svg.js';
import { UsageError, parseFlags, usage } from './args.js';
import { readJson, readRunFile, writeAtomic } from './files.js';
import { isTrainLog, readJsonLines, writeTrainReport } from './report-train.js';
import { processIo, usageFailure, type Io } from './search.js';

interface LogLine {
  step: number;
  warmup: boolean;
  loss: number;
  quality: number | null;
  reward: number | null;
  baseline: number | null;
  betaH: number;
  entropy: number;
  entropyMean: number;
  costRatio: number;
  argmaxCostRatio: number;
  argmax: string[];
  policy: Array<Record<string, number>>;
  /** FLIQNAS runs: the sampled and argmax architecture, a value per decision. */
  arch?: { sampled: number[]; argmax: number[]; joint: number };
}

interface ResultFile {
  layers: Array<{ name: string; format: string; macs: number; probabilities: Record<string, number> }>;
  cost: { ratio: number; mbops: number; targetMbops: number };
  test: { accuracy: number };
  config?: { model?: string; space?: string; target?: string | number; seed?: number };
  architecture?: { decisions: Array<{ name: string; kind: 'width' | 'kernel'; value: number; base: number }> };
}

const SUMMARY = `Writes formats.svg, entropy.svg, cost.svg, quality.svg (loss, Q and reward panels), policy.svg and one
policy-<layer>.svg per searched layer into RUN_DIR from its log.jsonl (and result.json when the run finished); for an architecture search (fliqnas-*, qnas-*) also
architecture.svg (each block's width, kernel and formats) and architecture-steps.svg (the argmax architecture over the steps).
For a fliqs train run: training-loss.svg, training-accuracy.svg and learning-rate.svg (its training curves).`;

/** Reads log.jsonl, skipping a torn last line. */
export function readLog(path: string): LogLine[] {
  if (!existsSync(path)) throw new FliqsError('run', `${path} does not exist`, 'a run directory written by fliqs search or fliqs train');
  const out: LogLine[] = [];
  for (const l of readRunFile(path).toString('utf8').split('\n')) {
    if (!l.trim()) continue;
    try { out.push(JSON.parse(l) as LogLine); } catch { /* a torn line from a killed run */ }
  }
  if (out.length === 0) throw new FliqsError('run', `${path} has no logged steps`, 'a run that logged at least one step');
  const bad = out.findIndex((l) => l === null || typeof l !== 'object' || !Array.isArray(l.argmax) || !Array.isArray(l.policy) || typeof l.step !== 'number');
  if (bad >= 0) {
    throw new FliqsError(path, `line ${bad + 1} is not a search step (no step, argmax or policy)`,
      'the log.jsonl of a fliqs search or fliqs train run');
  }
  return out;
}

/** result.json of a finished search, checked for the fields the report reads. */
function readResult(path: string): ResultFile {
  const r = readJson<ResultFile>(path, 'result.json');
  const ok = r !== null && typeof r === 'object' && Array.isArray(r.layers)
    && r.layers.every((l) => l !== null && typeof l === 'object' && typeof l.name === 'string' && typeof l.macs === 'number');
  if (!ok) throw new FliqsError(path, 'has no layers with names and MACs', 'the result.json of a fliqs search run');
  return r;
}

/** Evenly spaced indices (at most n, first and last included). */
function pick(len: number, n: number): number[] {
  if (len <= n) return Array.from({ length: len }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.round((i * (len - 1)) / (n - 1)));
}

/**
 * Writes the report SVGs of a run directory; returns the file names written.
 * @example
 * writeReport('runs/search-cnn-int-s') // ['formats.svg', 'entropy.svg', …]
 */
export function writeReport(dir: string): string[] {
  const lines = readJsonLines(join(dir, 'log.jsonl'));
  if (lines && isTrainLog(lines)) return writeTrainReport(dir, lines); // a fliqs train run: its training curves
  const log = readLog(join(dir, 'log.jsonl'));
  const result = existsSync(join(dir, 'result.json')) ? readResult(join(dir, 'result.json')) : null;
  const layerNames = result?.layers.map((l) => l.name) ?? log[0]!.argmax.map((_, i) => `layer ${i}`);
  const cfg = result?.config;
  const what = cfg ? `${cfg.model ?? ''} ${cfg.space ?? ''} target ${cfg.target ?? ''}` : dir;
  const files: Record<string, string> = {};
  const steps = log.map((l) => l.step);
  const allFormats: string[] = [];
  for (const p of log.at(-1)!.policy) for (const f of Object.keys(p)) if (!allFormats.includes(f)) allFormats.push(f);

  const rows = pick(log.length, 40).map((i) => ({ label: `step ${log[i]!.step}${log[i]!.warmup ? ' (w)' : ''}`, cells: log[i]!.argmax }));
  files['formats.svg'] = categoryStrip(rows, {
    title: `Argmax format per layer, (w) = warm-up — ${what}`, columns: layerNames, categories: allFormats,
    height: Math.max(160, 60 + rows.length * 16 + 60),
  });
  files['entropy.svg'] = linePlot([
    { name: 'H (total, nats)', x: steps, y: log.map((l) => l.entropy) },
    { name: 'H per searched layer', x: steps, y: log.map((l) => l.entropyMean) },
    { name: 'β_H', x: steps, y: log.map((l) => l.betaH) },
  ], { title: `Policy entropy and entropy weight (${what})`, xLabel: 'step', yLabel: 'nats / weight', markers: false });
  files['cost.svg'] = linePlot([
    { name: 'sampled C(α)/C_T', x: steps, y: log.map((l) => l.costRatio) },
    { name: 'argmax C(α*)/C_T', x: steps, y: log.map((l) => l.argmaxCostRatio) },
    { name: 'target', x: [steps[0]!, steps.at(-1)!], y: [1, 1] },
  ], { title: `Cost relative to the target (${what})`, xLabel: 'step', yLabel: 'C / C_T', markers: false });
  // Q is measured from the calibration steps at the end of the warm-up on; rewards from the first search step
  const measured = log.filter((l) => l.quality !== null), searched = log.filter((l) => l.reward !== null);
  const panels: Panel[] = [{ yLabel: 'training loss', series: [{ name: 'training loss', x: steps, y: log.map((l) => l.loss) }] }];
  if (measured.length > 0) panels.push({ yLabel: 'Q', series: [{ name: 'Q (validation batch)', x: measured.map((l) => l.step), y: measured.map((l) => l.quality!) }] });
  if (searched.length > 0) {
    const withBaseline = searched.filter((l) => typeof l.baseline === 'number');
    const r: Series[] = [{ name: 'reward r', x: searched.map((l) => l.step), y: searched.map((l) => l.reward!) }];
    if (withBaseline.length > 0) r.push({ name: 'baseline r̄ (or Q̄)', x: withBaseline.map((l) => l.step), y: withBaseline.map((l) => l.baseline!) });
    panels.push({ yLabel: 'reward', series: r });
  }
  files['quality.svg'] = stackedLinePlot(panels, { title: `Loss, quality and reward (${what})`, xLabel: 'step', markers: false });

  const finalPolicy = result ? result.layers.map((l) => l.probabilities) : log.at(-1)!.policy;
  files['policy.svg'] = heatmap(finalPolicy.map((p) => allFormats.map((f) => p[f] ?? 0)), {
    title: `Final policy π_l (${what})`, rowLabels: layerNames, colLabels: allFormats, min: 0, max: 1, colorLabel: 'probability',
    height: Math.max(220, 100 + 28 * layerNames.length),
  });
  // the policy over the search of every searched layer (a pinned layer has one format: nothing to plot)
  for (let li = 0; li < layerNames.length; li++) {
    const fs = Object.keys(log[0]!.policy[li] ?? {});
    if (fs.length < 2) continue;
    files[`policy-${layerNames[li]!.replace(/[^A-Za-z0-9.-]+/g, '_')}.svg`] = linePlot(
      fs.map((f) => ({ name: f, x: steps, y: log.map((l) => l.policy[li]![f] ?? 0) })),
      { title: `π over the search, layer ${layerNames[li]} (${what})`, xLabel: 'step', yLabel: 'probability', markers: false });
  }
  if (result?.architecture) Object.assign(files, architecturePlots(result, log, what));
  for (const [name, svg] of Object.entries(files)) writeAtomic(join(dir, name), svg);
  return Object.keys(files);
}

/** A decision's value as the plots show it: a width as a multiple of the block's base width, a kernel as k×k. */
const archLabel = (d: { kind: 'width' | 'kernel'; base: number }, v: number): string => (d.kind === 'width' ? `${(v / d.base).toFixed(2)}× width` : `${v}×${v} kernel`);

/**
 * Colours and legend order for architecture labels: widths on a purple ramp and kernel sizes on a green one (darker
 * is larger), fixed ones ('width (fixed)', '3×3 (fixed)' of an undecided block, 'no layer') in greys; formats keep the
 * default palette after them.
 */
function archColors(labels: readonly string[]): { categories: string[]; colors: Record<string, string> } {
  const ramp = (from: number[], to: number[], t: number): string => `rgb(${from.map((v, i) => Math.round(v + (to[i]! - v) * t)).join(',')})`;
  const value = (l: string): number => Number.parseFloat(l);
  const widths = [...new Set(labels.filter((l) => l.endsWith('× width')))].sort((a, b) => value(a) - value(b));
  const sizes = [...new Set(labels.filter((l) => / kernel$/.test(l) && l !== '3×3 (fixed)'))].sort((a, b) => value(a) - value(b));
  const colors: Record<string, string> = { 'width (fixed)': '#bdbdbd', '3×3 (fixed)': '#d9d9d9', 'no layer': '#f0f0f0' };
  widths.forEach((l, i) => { colors[l] = ramp([218, 198, 235], [84, 39, 143], widths.length > 1 ? i / (widths.length - 1) : 1); });
  sizes.forEach((l, i) => { colors[l] = ramp([199, 233, 192], [0, 109, 44], sizes.length > 1 ? i / (sizes.length - 1) : 1); });
  return { categories: [...widths, ...sizes, ...Object.keys(colors).filter((l) => labels.includes(l) && !widths.includes(l) && !sizes.includes(l))], colors };
}

/** architecture.svg (per block: width, kernel and its layers' formats) and architecture-steps.svg (argmax over the steps). */
function architecturePlots(result: ResultFile, log: readonly LogLine[], what: string): Record<string, string> {
  const decisions = result.architecture!.decisions;
  if (!Array.isArray(decisions) || decisions.some((d) => typeof d?.name !== 'string' || typeof d.value !== 'number' || !(d.base > 0))) {
    throw new FliqsError('result.json', 'has a malformed architecture', 'the result.json of a fliqs search with an architecture space');
  }
  const blocks = [...new Set(result.layers.map((l) => /^blocks\.(\d+)\./.exec(l.name)?.[1]).filter((b): b is string => b !== undefined))];
  const format = (name: string): string => result.layers.find((l) => l.name === name)?.format ?? 'no layer';
  const value = (b: string, kind: 'width' | 'kernel'): string => {
    const d = decisions.find((e) => e.name === `blocks.${b}.${kind}`);
    return d ? archLabel(d, d.value) : kind === 'width' ? 'width (fixed)' : '3×3 (fixed)';
  };
  const rows = blocks.map((b) => ({
    label: `block ${b}`,
    cells: [value(b, 'width'), value(b, 'kernel'), ...['expand', 'depthwise', 'project'].map((p) => format(`blocks.${b}.${p}.layers.0`))],
  }));
  const palette = archColors(rows.flatMap((r) => r.cells));
  const out: Record<string, string> = {
    'architecture.svg': categoryStrip(rows, {
      ...palette,
      title: `Chosen architecture and formats per block — ${what}`, columns: ['width', 'kernel', 'expand format', 'depthwise format', 'project format'],
      width: 760, height: Math.max(200, 60 + rows.length * 26 + 80),
    }),
  };
  const logged = log.filter((l) => Array.isArray(l.arch?.argmax) && l.arch!.argmax.length === decisions.length);
  if (logged.length > 0) {
    const steps = pick(logged.length, 40).map((i) => logged[i]!);
    const stepRows = steps.map((l) => ({ label: `step ${l.step}${l.warmup ? ' (w)' : ''}`, cells: l.arch!.argmax.map((v, i) => archLabel(decisions[i]!, v)) }));
    out['architecture-steps.svg'] = categoryStrip(stepRows, {
      ...archColors(stepRows.flatMap((r) => r.cells)),
      title: `Argmax architecture per decision, (w) = warm-up — ${what}`, columns: decisions.map((d) => d.name),
      width: 760, height: Math.max(160, 60 + steps.length * 16 + 80),
    });
  }
  return out;
}

/**
 * `fliqs report RUN_DIR`: 0 on success, 2 when the directory has no usable log.
 * @example
 * runReport(['runs/default-search']);
 */
export function runReport(args: string[], io: Io = processIo): number {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('report RUN_DIR', SUMMARY, {})); return 0; }
  try {
    const [dir, ...rest] = args;
    if (dir === undefined || dir.startsWith('--')) throw new UsageError(`expected one run directory, got ${JSON.stringify(args)}`);
    parseFlags(rest, {}); // only the flags of every command (--threads)
    const names = writeReport(dir);
    io.err(`wrote ${dir}/{${names.join(', ')}}\n`);
    return 0;
  } catch (e) {
    return usageFailure('report', e, io);
  }
}
