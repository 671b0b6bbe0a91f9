// Summarizes `fliqs pareto` outputs (one or more) into mean ± std tables over seeds, as markdown, plus a
// combined accuracy-vs-MBOPs SVG with error bars (the package's summarizeStudy and studyPlot, src/report/study.ts,
// which `fliqs pareto` draws its pareto.svg with too). Used for the README's reproduction study:
//   node scripts/study-summary.mjs runs/pareto-w05=γ0.07 runs/pareto-w1 bench/results/study/pareto-w2.csv --svg bench/results/study/pareto.svg
// Each argument is a pareto output directory (its pareto.csv is read) or a pareto.csv itself. (--title sets the
// plot's title; the default names resnet8.) A `=label` after an argument tags its non-uniform rows (to tell apart
// searches run with different settings). A run found in several files (one sweep split over processes) counts once.
// When the sweeps ran with --controls, a second table compares each FLIQS search with its two controls (the
// constant-Q search and the random configuration at equal cost), seed by seed; the share of layers on which FLIQS
// and constant-Q chose the same format is read from the runs' result.json in the given directories.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeAtomic } from '../dist/cli/files.js';
import { runDirName } from '../dist/cli/pareto.js';
import { studyPlot, summarizeStudy } from '../dist/report/study.js';

const args = process.argv.slice(2);
const svgAt = args.indexOf('--svg');
const svgPath = svgAt >= 0 ? args[svgAt + 1] : null;
const titleAt = args.indexOf('--title');
const title = titleAt >= 0 ? args[titleAt + 1] : 'resnet8 on Fashion-MNIST: test accuracy vs cost';
const flagValues = new Set([svgAt, titleAt].filter((i) => i >= 0).map((i) => i + 1));
const inputs = args.filter((a, i) => !a.startsWith('--') && !flagValues.has(i));

const sources = [];
const all = inputs.flatMap((arg) => {
  const [path, tag] = arg.split('=');
  const csv = existsSync(path) && statSync(path).isDirectory() ? join(path, 'pareto.csv') : path;
  sources.push(dirname(csv));
  const [head, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
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
const SERIES = { fliqs: 'FLIQS', 'constant-q': 'constant-Q', random: 'random at equal cost' };

const studyRuns = rows.map((r) => ({ kind: r.kind, tag: r.tag, spaceOrFormat: r.space_or_format, width: Number(r.width), target: r.target,
  seed: Number(r.seed), mbops: Number(r.mbops), testAccuracy: Number(r.test_accuracy) }));
const out = summarizeStudy(studyRuns);
const pm = (m, s, n, d) => `${m.toFixed(d)}${n > 1 ? ` ± ${s.toFixed(d)}` : ''}`;
console.log('| width | kind | format / space | target | seeds | MBOPs (mean ± std) | test accuracy % (mean ± std) |');
console.log('|---|---|---|---|---|---|---|');
for (const o of out) {
  console.log(`| ${o.width}× | ${o.tag ? `${o.kind} ${o.tag}` : o.kind} | ${o.what} | ${o.target || '—'} | ${o.n} | ${pm(o.mbops, o.mbopsStd, o.n, 1)} | ${pm(o.acc, o.accStd, o.n, 2)} |`);
}

// FLIQS against its controls, per (tag, width, space, target): each kind's mean ± std over its seeds, the
// differences over the seeds both ran (± the std of the per-seed differences: the seed noise), and the share of
// searched layers on which FLIQS and constant-Q with the same seed chose the same format.
const bySeed = (kind, g) => new Map((groups.get(`${kind}|${g.tag}|${g.what}|${g.width}|${g.target}`) ?? []).map((r) => [r.seed, r]));
const compared = out.filter((o) => o.kind === 'fliqs' && ['constant-q', 'random'].some((k) => groups.has(`${k}|${o.tag}|${o.what}|${o.width}|${o.target}`)));
if (compared.length > 0) {
  const summary = (m) => {
    const acc = [...m.values()].map((r) => 100 * Number(r.test_accuracy)), mb = [...m.values()].map((r) => Number(r.mbops));
    return acc.length === 0 ? '—' : `${pm(mean(acc), std(acc), acc.length, 2)} at ${pm(mean(mb), std(mb), mb.length, 1)}`;
  };
  const diff = (a, b) => {
    const d = [...a.keys()].filter((s) => b.has(s)).map((s) => 100 * (Number(a.get(s).test_accuracy) - Number(b.get(s).test_accuracy)));
    return d.length === 0 ? '—' : `${mean(d) >= 0 ? '+' : ''}${mean(d).toFixed(2)}${d.length > 1 ? ` ± ${std(d).toFixed(2)}` : ''} (${d.length})`;
  };
  const result = (kind, o, seed) => {
    const name = runDirName(kind, o.what, o.width, o.target, Number(seed));
    const dir = sources.find((s) => existsSync(join(s, name, 'result.json')));
    return dir === undefined ? null : JSON.parse(readFileSync(join(dir, name, 'result.json'), 'utf8'));
  };
  const agreement = (o, fl, cq) => {
    const shares = [...fl.keys()].filter((s) => cq.has(s)).map((s) => {
      const a = result('fliqs', o, s), b = result('constant-q', o, s);
      if (!a || !b) return null;
      const layers = a.layers.filter((l) => !l.pinned);
      return layers.filter((l) => b.layers.find((m) => m.name === l.name)?.format === l.format).length / layers.length;
    }).filter((x) => x !== null);
    return shares.length === 0 ? '—' : `${(100 * mean(shares)).toFixed(0)}% (${shares.length})`;
  };
  console.log('\nFLIQS against its controls (test accuracy % and MBOPs, mean ± std over seeds; differences in accuracy points over the seeds both ran, ± the std of the per-seed differences):\n');
  console.log('| width | space | target | FLIQS | constant-Q | random at equal cost | FLIQS − constant-Q | FLIQS − random | same format as constant-Q |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const o of compared) {
    const fl = bySeed('fliqs', o), cq = bySeed('constant-q', o), rnd = bySeed('random', o);
    console.log(`| ${o.width}× | ${o.what}${o.tag ? ` ${o.tag}` : ''} | ${o.target} | ${summary(fl)} | ${summary(cq)} | ${summary(rnd)} | ${diff(fl, cq)} | ${diff(fl, rnd)} | ${agreement(o, fl, cq)} |`);
  }
  // where each search's cost landed: its result, and the policy's argmax (result.json's `argmax`, when recorded)
  const landed = { fliqs: [0, 0, 0, 0], 'constant-q': [0, 0, 0, 0] }; // runs, result in band, argmax recorded, argmax in band
  for (const o of compared) {
    for (const kind of ['fliqs', 'constant-q']) {
      for (const seed of bySeed(kind, o).keys()) {
        const r = result(kind, o, seed);
        if (!r) continue;
        const c = landed[kind];
        c[0]++;
        if (Math.abs(r.cost.ratio - 1) <= 0.1) c[1]++;
        if (r.argmax) { c[2]++; if (Math.abs(r.argmax.costRatio - 1) <= 0.1) c[3]++; }
      }
    }
  }
  console.log('\nCost within ±10% of the target:\n');
  console.log('| searches | runs | result in band | argmax in band |');
  console.log('|---|---|---|---|');
  for (const [kind, [n, inBand, recorded, argmaxIn]] of Object.entries(landed)) {
    if (n > 0) console.log(`| ${SERIES[kind]} | ${n} | ${inBand} | ${recorded === n ? argmaxIn : `${argmaxIn} of ${recorded} recorded`} |`);
  }
}

if (svgPath) {
  // temp file + rename (and the folder created), so a reader never sees a half-written SVG
  writeAtomic(svgPath, studyPlot(studyRuns, { title }));
  console.log(`\nwrote ${svgPath}`);
}
