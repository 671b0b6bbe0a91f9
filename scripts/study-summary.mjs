// Summarizes `fliqs pareto` CSVs (one or more) into mean ± std tables over seeds, as markdown, plus a
// combined accuracy-vs-MBOPs SVG with error bars. Used for the README's reproduction study:
//   node scripts/study-summary.mjs runs/pareto-w05/pareto.csv=γ0.07 runs/pareto-w1/pareto.csv --svg bench/results/study/pareto.svg
// (--title sets the plot's title; the default names resnet8.)
// A `=label` after a file tags its FLIQS rows (to tell apart searches run with different settings). A run found
// in several files (one sweep split over processes) counts once.
import { readFileSync } from 'node:fs';
import { writeAtomic } from '../dist/cli/files.js';
import { scatterPlot } from '../dist/report/svg.js';

const args = process.argv.slice(2);
const svgAt = args.indexOf('--svg');
const svgPath = svgAt >= 0 ? args[svgAt + 1] : null;
const titleAt = args.indexOf('--title');
const title = titleAt >= 0 ? args[titleAt + 1] : 'resnet8 on Fashion-MNIST: test accuracy vs cost';
const flagValues = new Set([svgAt, titleAt].filter((i) => i >= 0).map((i) => i + 1));
const files = args.filter((a, i) => !a.startsWith('--') && !flagValues.has(i));

const all = files.flatMap((arg) => {
  const [f, tag] = arg.split('=');
  const [head, ...lines] = readFileSync(f, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])))
    .map((r) => ({ ...r, tag: r.kind === 'uniform' ? '' : tag ?? '' }));
});
// A sweep split over several processes (and CSVs) repeats the rows it was started from: keep one per run.
const byRun = new Map();
for (const r of all) {
  const k = [r.kind, r.tag, r.space_or_format, r.width, r.target, r.seed].join('|');
  const seen = byRun.get(k);
  if (!seen) byRun.set(k, r);
  else if (seen.test_accuracy !== r.test_accuracy || seen.mbops !== r.mbops) console.error(`two different results for ${k}; kept the first (sweeps with different settings: tag their files with =label)`);
}
const rows = [...byRun.values()];

const groups = new Map();
for (const r of rows) {
  const key = `${r.kind}|${r.tag}|${r.space_or_format}|${r.width}|${r.target}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}

const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const std = (a) => (a.length < 2 ? 0 : Math.sqrt(a.reduce((s, x) => s + (x - mean(a)) ** 2, 0) / (a.length - 1)));

const out = [];
for (const [key, rs] of groups) {
  const [kind, tag, what, width, target] = key.split('|');
  const acc = rs.map((r) => 100 * Number(r.test_accuracy)), mb = rs.map((r) => Number(r.mbops));
  out.push({ kind, tag, what, width: Number(width), target, n: rs.length, acc: mean(acc), accStd: std(acc), mbops: mean(mb), mbopsStd: std(mb) });
}
out.sort((a, b) => a.width - b.width || a.kind.localeCompare(b.kind) || a.tag.localeCompare(b.tag) || a.mbops - b.mbops);
console.log('| width | kind | format / space | target | seeds | MBOPs (mean ± std) | test accuracy % (mean ± std) |');
console.log('|---|---|---|---|---|---|---|');
for (const o of out) {
  console.log(`| ${o.width}× | ${o.tag ? `${o.kind} ${o.tag}` : o.kind} | ${o.what} | ${o.target || '—'} | ${o.n} | ${o.mbops.toFixed(1)}${o.n > 1 ? ` ± ${o.mbopsStd.toFixed(1)}` : ''} | ${o.acc.toFixed(2)}${o.n > 1 ? ` ± ${o.accStd.toFixed(2)}` : ''} |`);
}

if (svgPath) {
  const points = out.map((o) => ({
    x: o.mbops, y: o.acc, yErr: o.n > 1 ? o.accStd : undefined,
    series: o.kind === 'uniform' ? `uniform ×${o.width}` : `FLIQS${o.tag ? ` ${o.tag}` : ''} ${o.what.startsWith('int') ? 'int' : 'fp'} ×${o.width}`,
    label: o.kind === 'uniform' ? o.what : `${o.what} ${o.target}`,
  }));
  // temp file + rename (and the folder created), so a reader never sees a half-written SVG
  writeAtomic(svgPath, scatterPlot(points, { title, xLabel: 'MBOPs per image (log)', yLabel: 'test accuracy %', logX: true, width: 900, height: 560 }));
  console.log(`\nwrote ${svgPath}`);
}
