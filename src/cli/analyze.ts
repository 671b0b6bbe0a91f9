// `fliqs analyze`: the paper's §4 / Appendix A.8 analysis on synthetic tensors — the switching-error
// matrix and its exponential fit, and the clipping analysis — printed as tables and written to
// --out as switching.svg, switching-matrix.svg, clipping.svg and analysis.json. Node-only (file I/O).

import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { parseSearchSpace } from '../formats/presets.js';
import { heatmap, linePlot, scatterPlot } from '../report/svg.js';
import {
  clippingAnalysis, DEFAULT_OUTLIER_RATE, PAPER_PERCENTILES, TAIL_PERCENTILES, DEFAULT_SIGMA_T, parseOutlierRate, switchingError, type Distribution, type Progress,
} from '../search/analyze.js';
import { UsageError, parseFlags, usage, type FlagSpecs } from './args.js';
import { writeAtomic } from './files.js';
import { table } from './table.js';
import { processIo, usageFailure } from './search.js';

const SUMMARY = 'Switching error between formats and MSE-optimal clips on synthetic tensors (paper §4, Appendix A.8).';

export const ANALYZE_FLAGS = {
  space: { kind: 'string', help: 'int-s, int-l, fp-s, fp-l, or a comma list of formats', default: 'int-s' },
  dist: { kind: 'string', help: 'gaussian or laplace', default: 'gaussian' },
  outliers: { kind: 'string', help: "one outlier (3× the tensor's max) per N elements: 1:N, or none", default: `1:${DEFAULT_OUTLIER_RATE}` },
  tensors: { kind: 'int', help: 'tensors for the switching error', default: 1000, min: 1, max: 1e7 },
  'clip-tensors': { kind: 'int', help: 'tensors for the clipping analysis (default min(--tensors, 100))', min: 1, max: 1e7 },
  n: { kind: 'int', help: 'elements per tensor', default: 4096, min: 16, max: 1 << 24 },
  seed: { kind: 'int', help: 'PRNG seed', default: 0, min: 0, max: 2 ** 32 - 1 },
  percentiles: { kind: 'string', help: 'paper (1, 2, …, 100) or tail (90 … 99.99, log-spaced, and 100)', default: 'paper', choices: ['paper', 'tail'] },
  'sigma-t': { kind: 'string', help: "fixed clip σ_T for the switching error: K (K·std) or absmax", default: String(DEFAULT_SIGMA_T) },
  out: { kind: 'string', help: 'output folder (default runs/analyze-SPACE-DIST)' },
} satisfies FlagSpecs;

function progress(): Progress {
  const tty = process.stderr.isTTY === true;
  let lastQuarter = -1;
  return (stage, done, total) => {
    if (tty) {
      process.stderr.write(`\r${stage}: ${done}/${total} tensors${done === total ? '\n' : ''}`);
    } else {
      const q = Math.floor((4 * done) / total);
      if (q !== lastQuarter) { lastQuarter = q; if (q > 0) process.stderr.write(`${stage}: ${done}/${total} tensors\n`); }
      if (done === total) lastQuarter = -1;
    }
  };
}

const fmt = (v: number, d = 4): string => (Number.isFinite(v) ? (Math.abs(v) > 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(d)) : String(v));

/**
 * Runs `fliqs analyze` with the given arguments; returns the exit code (0 ok, 2 usage error).
 * @example
 * await runAnalyze(['--space', 'int-l', '--tensors', '100', '--out', 'runs/analyze-int-l']);
 */
export function runAnalyze(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(usage('analyze', SUMMARY, ANALYZE_FLAGS)); return 0; }
  let config;
  try {
    const a = parseFlags(args, ANALYZE_FLAGS);
    const spaceName = a.space!;
    const formats = parseSearchSpace(spaceName).map((f) => f.name);
    const dist = a.dist!.toLowerCase();
    if (dist !== 'gaussian' && dist !== 'laplace') throw new FliqsError('--dist', `got ${JSON.stringify(a.dist)}`, 'gaussian or laplace');
    const outlierRate = parseOutlierRate(a.outliers!);
    const tensors = a.tensors!;
    const clipTensors = a['clip-tensors'] ?? Math.min(tensors, 100);
    const n = a.n!;
    const seed = a.seed!;
    const sigmaT: number | 'absmax' = a['sigma-t'] === 'absmax' ? 'absmax' : Number(a['sigma-t']);
    if (sigmaT !== 'absmax' && !(Number.isFinite(sigmaT) && sigmaT > 0)) {
      throw new FliqsError('--sigma-t', `got ${JSON.stringify(a['sigma-t'])}`, 'a std multiple > 0, or absmax');
    }
    const grid = a.percentiles!;
    const safe = spaceName.replace(/[^A-Za-z0-9+-]+/g, '_');
    const out = a.out ?? join('runs', `analyze-${safe}-${dist}`);
    config = { space: spaceName, formats, dist: dist as Distribution, outlierRate, tensors, clipTensors, n, seed, sigmaT, percentiles: grid, out };
  } catch (e) {
    return usageFailure('analyze', e, processIo);
  }
  const c = config;
  const onProgress = progress();
  const tensorSpec = { dist: c.dist, n: c.n, outlierRate: c.outlierRate };
  const sw = switchingError(c.formats, { ...tensorSpec, tensors: c.tensors, seed: c.seed, sigmaT: c.sigmaT, onProgress });
  const cl = clippingAnalysis(c.formats, { ...tensorSpec, tensors: c.clipTensors, seed: c.seed, onProgress,
    percentiles: c.percentiles === 'tail' ? TAIL_PERCENTILES : PAPER_PERCENTILES });

  const rate = c.outlierRate > 0 ? `1:${c.outlierRate}` : 'none';
  const say = (s: string): void => { process.stdout.write(`${s}\n`); };
  say(`fliqs analyze — ${c.dist}, n ${c.n}, outliers ${rate}, seed ${c.seed}\n`);
  say(`switching error: RMS(Q(x; f_col) − Q(x; f_row)) at σ_T = ${sw.sigmaT}, mean over ${sw.tensors} tensors`);
  say(table(['', ...sw.formats], sw.matrix.map((r, i) => [sw.formats[i]!, ...r.map((v) => fmt(v))])));
  say(sw.fit
    ? `fit vs lower bit-width x: ${fmt(sw.fit.a)}·e^(−${fmt(sw.fit.b)}·x) + ${fmt(sw.fit.c)}  (rms residual ${fmt(sw.fit.rmse)})\n`
    : 'fit: needs ≥ 3 distinct lower bit-widths among clip-using pairs (try --space int-l)\n');
  say(`clipping: MSE-optimal clip, mean over ${cl.tensors} tensors (${c.percentiles} percentile grid ${fmt(cl.percentiles[0]!, 2)}…${cl.percentiles.at(-1)}, ${cl.percentiles.length} values)`);
  say(table(['format', 'bits', 'opt pct', 'MSE@pct', 'pct clip/σ', 'opt clip/σ', '± sd', 'MSE@opt', 'MSE@absmax'],
    cl.rows.map((r) => [r.format, r.bits, fmt(r.optimalPercentile, 2), fmt(r.percentileMse), fmt(r.percentileStdMultiple, 2), fmt(r.stdMultiple, 2),
      fmt(r.stdMultipleSd, 2), fmt(r.mse), fmt(r.absmaxMse)])));
  if (cl.skipped.length > 0) say(`(${cl.skipped.join(', ')} ignore the clip: left out)`);

  const title = `${c.space}, ${c.dist}, outliers ${rate}`;
  const lines = [];
  if (sw.fit) {
    const xs = sw.points.map((p) => p.lowerBits), lo = Math.min(...xs), hi = Math.max(...xs);
    const gx = Array.from({ length: 41 }, (_, i) => lo + ((hi - lo) * i) / 40);
    const f = sw.fit;
    lines.push({ name: `${fmt(f.a, 3)}·e^(−${fmt(f.b, 3)}x)+${fmt(f.c, 3)}`, x: gx, y: gx.map((x) => f.a * Math.exp(-f.b * x) + f.c) });
  }
  const pts = sw.points.map((p) => ({ x: p.lowerBits, y: p.error, label: `${p.a}↔${p.b}`, series: 'pairs' }));
  const switchingSvg = pts.length > 0
    ? scatterPlot(pts, { title: `Switching error at σ_T = ${sw.sigmaT} (${title})`, xLabel: 'lower bit-width of the pair', yLabel: 'RMS switching error', lines })
    : heatmap(sw.matrix, { title: `Switching error (${title})`, rowLabels: sw.formats, colLabels: sw.formats, colorLabel: 'RMS switching error' });
  const matrixSvg = heatmap(sw.matrix, { title: `Switching error at σ_T = ${sw.sigmaT} (${title})`, rowLabels: sw.formats, colLabels: sw.formats, digits: 3, colorLabel: 'RMS switching error' });
  const clippingSvg = cl.rows.length > 0
    ? c.percentiles === 'tail'
      ? linePlot(cl.rows.map((r, i) => ({ name: `${r.format} (opt ${fmt(r.optimalPercentile, 2)})`,
        x: cl.percentiles.slice(0, -1).map((p) => 100 - p), y: cl.curves[i]!.slice(0, -1).map((v) => Math.max(v, 1e-12)) })),
      { title: `Quantization MSE vs percentile clip (${title})`, xLabel: '100 − clip percentile of |x| (log)', yLabel: 'MSE', logX: true, logY: true, markers: false })
      : linePlot(cl.rows.map((r, i) => ({ name: `${r.format} (opt ${r.optimalPercentile})`, x: cl.percentiles, y: cl.curves[i]!.map((v) => Math.max(v, 1e-12)) })),
        { title: `Quantization MSE vs percentile clip (${title})`, xLabel: 'clip percentile of |x|', yLabel: 'MSE', logY: true, markers: false })
    : null;

  writeAtomic(join(c.out, 'switching.svg'), switchingSvg);
  writeAtomic(join(c.out, 'switching-matrix.svg'), matrixSvg);
  if (clippingSvg) writeAtomic(join(c.out, 'clipping.svg'), clippingSvg);
  const { out: _out, ...inputs } = c;
  writeAtomic(join(c.out, 'analysis.json'), `${JSON.stringify({ config: inputs, switching: sw, clipping: cl }, null, 1)}\n`);
  process.stderr.write(`wrote ${c.out}/{switching.svg, switching-matrix.svg${clippingSvg ? ', clipping.svg' : ''}, analysis.json}\n`);
  return 0;
}
