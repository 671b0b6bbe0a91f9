// Summarizes the FLIQNAS study (docs/fliqnas.md "Study"): reads the pareto sweeps' runs.jsonl and each search's
// result.json, and writes docs/fliqnas-study.md (tables: accuracy and cost per space and target, mean ± std over
// seeds; the controls; kernel sharing; the paper's claims checked) and docs/fliqnas-pareto.svg.
//   node scripts/fliqnas-study.mjs [STUDY_DIR] [SEPARATE_DIR] [LONG_DIR]
//   (defaults runs/study-fliqnas, runs/study-fliqnas-separate, runs/study-fliqnas-4ep)
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { studyPlot } from '../dist/report/study.js';

// the sweeps' runs.jsonl are copied to bench/results/study/fliqnas/<sweep>.jsonl, read from there when the run folder is gone
const dir = process.argv[2] ?? 'runs/study-fliqnas';
const sepDir = process.argv[3] ?? 'runs/study-fliqnas-separate';
const readRuns = (d) => {
  const kept = `bench/results/study/fliqnas/${d.split('/').pop()}.jsonl`;
  const src = existsSync(join(d, 'runs.jsonl')) ? join(d, 'runs.jsonl') : existsSync(kept) ? kept : null;
  if (!src) return [];
  const text = readFileSync(src, 'utf8');
  if (src !== kept) { mkdirSync('bench/results/study/fliqnas', { recursive: true }); writeFileSync(kept, text); }
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
};
const runs = readRuns(dir);
const separate = readRuns(sepDir);
const longDir = process.argv[4] ?? 'runs/study-fliqnas-4ep';
const long = readRuns(longDir);
if (runs.length === 0) { console.error(`${dir}/runs.jsonl has no runs`); process.exit(2); }
// the fields of each search's result.json this summary reads, kept beside the CSVs (the run folders are not committed)
const COMPACT = 'bench/results/study/fliqnas/results.json';
const compact = existsSync(COMPACT) ? JSON.parse(readFileSync(COMPACT, 'utf8')) : {};
const result = (d, r) => {
  if (!r.dir) return null;
  const key = `${d.split('/').pop()}/${r.dir}`;
  if (existsSync(join(d, r.dir, 'result.json'))) {
    const full = JSON.parse(readFileSync(join(d, r.dir, 'result.json'), 'utf8'));
    compact[key] = {
      layers: full.layers.map((l) => ({ name: l.name, macs: l.macs, bops: l.bops, pinned: l.pinned })),
      architecture: full.architecture ? { decisions: full.architecture.decisions.map(({ name, kind, value, base }) => ({ name, kind, value, base })) } : undefined,
      cost: { targetMbops: full.cost.targetMbops },
    };
  }
  return compact[key] ?? null;
};

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));
const pm = (v, d = 2, k = 100) => `${(k * mean(v)).toFixed(d)} ± ${(k * std(v)).toFixed(d)}`;
const table = (h, rows) => [`| ${h.join(' | ')} |`, `| ${h.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const SPACES = ['fliqnas-s', 'fliqnas-l', 'int-s', 'int-l', 'qnas-int8', 'qnas-e4m3'];
const LABEL = { 'fliqnas-s': 'FLIQNAS-S', 'fliqnas-l': 'FLIQNAS-L', 'int-s': 'FLIQS-S', 'int-l': 'FLIQS-L', 'qnas-int8': 'QNAS INT8', 'qnas-e4m3': 'QNAS E4M3' };
const targets = [...new Set(runs.filter((r) => r.kind === 'fliqs').map((r) => r.target))];
const group = (rs, kind, space, target) => rs.filter((r) => r.kind === kind && r.spaceOrFormat === space && r.target === target);

const out = [];
out.push(`# FLIQNAS study: results\n\nWritten by \`node scripts/fliqnas-study.mjs\` from \`${dir}\` (and \`${sepDir}\`). The command that ran the`
  + ' sweeps and what the rows mean are in docs/fliqnas.md. Accuracy is the test accuracy (10,000 Fashion-MNIST images) of the'
  + ' searched configuration applied to the trained weights as they are — for FLIQNAS and QNAS, of the extracted plain model;'
  + ' mean ± std over seeds.\n');

// 1. Accuracy and cost per space and target
const rows = [];
for (const t of targets) {
  for (const s of SPACES) {
    const g = group(runs, 'fliqs', s, t);
    if (g.length === 0) continue;
    const settled = g.filter((r) => {
      const res = result(dir, r);
      const n = res ? res.layers.filter((l) => !l.pinned).length + (res.architecture?.decisions.length ?? 0) : 1;
      return r.finalEntropy / n < 0.05;
    }).length;
    rows.push([t, LABEL[s], g.length, pm(g.map((r) => r.testAccuracy)), `${mean(g.map((r) => r.mbops)).toFixed(2)}`,
      g.map((r) => r.costRatio.toFixed(3)).join(', '), `${settled}/${g.length}`, g.some((r) => r.params) ? Math.round(mean(g.map((r) => r.params ?? 0))) : '–']);
  }
}
const uniform = [...new Set(runs.filter((r) => r.kind === 'uniform').map((r) => r.spaceOrFormat))].map((f) => {
  const g = runs.filter((r) => r.kind === 'uniform' && r.spaceOrFormat === f);
  return ['—', `uniform ${f} (base architecture)`, g.length, pm(g.map((r) => r.testAccuracy)), mean(g.map((r) => r.mbops)).toFixed(2), '–', '–', '–'];
});
out.push('## Accuracy and cost\n');
out.push(table(['target', 'space', 'seeds', 'test accuracy %', 'MBOPs', 'cost / target per seed', 'settled', 'weights (extracted)'], [...rows, ...uniform]));

// 2. The paper's claims
out.push('\n## The paper\'s claims, checked here\n');
const claims = [];
for (const t of targets) {
  for (const [a, b] of [['fliqnas-s', 'int-s'], ['fliqnas-l', 'int-l'], ['fliqnas-s', 'qnas-int8']]) {
    const ga = group(runs, 'fliqs', a, t), gb = group(runs, 'fliqs', b, t);
    if (!ga.length || !gb.length) continue;
    const paired = ga.map((r) => { const o = gb.find((x) => x.seed === r.seed); return o ? r.testAccuracy - o.testAccuracy : null; }).filter((d) => d !== null);
    claims.push([t, `${LABEL[a]} − ${LABEL[b]}`, `${(100 * mean(paired)).toFixed(2)} ± ${(100 * std(paired)).toFixed(2)}`,
      `${paired.filter((d) => d > 0).length}/${paired.length}`, `${(mean(ga.map((r) => r.mbops)) / mean(gb.map((r) => r.mbops))).toFixed(3)}`]);
  }
}
out.push('**FLIQNAS ≥ FLIQS (and ≥ quantized NAS) at equal cost** — paired by seed:\n');
out.push(table(['target', 'difference', 'accuracy points (mean ± std)', 'seeds where the first wins', 'MBOPs ratio'], claims));

// architecture's share of the budget: MACs of the chosen architecture vs the base one, and mean bits² per MAC
const shareRows = [];
const a7 = [];
for (const s of ['fliqnas-s', 'fliqnas-l', 'qnas-int8', 'qnas-e4m3']) {
  for (const t of targets) {
    const g = group(runs, 'fliqs', s, t).map((r) => result(dir, r)).filter(Boolean);
    if (!g.length) continue;
    const archMacs = [], bitsPerMac = [], meanWidth = [], meanKernel = [];
    for (const res of g) {
      const macs = res.layers.reduce((a, l) => a + l.macs, 0), bops = res.layers.reduce((a, l) => a + l.bops, 0);
      const baseMacs = res.cost.targetMbops * 1e6 / Number(String(t).split(/x/i)[0]) / 64; // the target is k × uniform INT8 of the base
      archMacs.push(macs / baseMacs);
      bitsPerMac.push(Math.sqrt(bops / macs));
      const ws = res.architecture.decisions.filter((d) => d.kind === 'width'), ks = res.architecture.decisions.filter((d) => d.kind === 'kernel');
      meanWidth.push(mean(ws.map((d) => d.value / d.base)));
      if (ks.length) meanKernel.push(mean(ks.map((d) => d.value)));
      // A.7: per block, the width multiple against the mean bits of the block's three layers
      for (const d of ws) {
        const b = d.name.replace(/\.width$/, '');
        const ls = res.layers.filter((l) => l.name.startsWith(`${b}.`));
        const bits = mean(ls.map((l) => Math.sqrt(l.bops / l.macs)));
        a7.push({ space: s, target: t, width: d.value / d.base, bits });
      }
    }
    shareRows.push([t, LABEL[s], `${mean(archMacs).toFixed(3)}×`, mean(bitsPerMac).toFixed(2), mean(meanWidth).toFixed(3), meanKernel.length ? mean(meanKernel).toFixed(2) : '–']);
  }
}
out.push('\n**Architecture gets more of the budget at high targets** — MACs of the chosen architecture relative to the base'
  + ' (1× widths, 3×3), the root-mean-square bits per MAC (√(BOPs/MACs)), the mean width multiple and the mean kernel size of the searched decisions:\n');
out.push(table(['target', 'space', 'MACs / base MACs', 'rms bits per MAC', 'mean width multiple', 'mean kernel'], shareRows));
const corr = (xs, ys) => {
  const mx = mean(xs), my = mean(ys);
  const c = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const d = Math.sqrt(xs.reduce((a, x) => a + (x - mx) ** 2, 0) * ys.reduce((a, y) => a + (y - my) ** 2, 0));
  return d > 0 ? c / d : NaN;
};
const fl = a7.filter((r) => r.space.startsWith('fliqnas'));
if (fl.length > 2) {
  const lo = fl.filter((r) => r.bits <= 4.5), hi = fl.filter((r) => r.bits > 4.5);
  out.push(`\n**Lower-bit layers receive more channels (A.7)** — over the ${fl.length} (block, run) pairs of the FLIQNAS searches:`
    + ` Pearson correlation of a block's width multiple with the mean bits of its three layers ${corr(fl.map((r) => r.bits), fl.map((r) => r.width)).toFixed(3)};`
    + ` mean width multiple of blocks whose layers average ≤ 4.5 bits ${lo.length ? mean(lo.map((r) => r.width)).toFixed(3) : '–'} (${lo.length} blocks),`
    + ` of the others ${hi.length ? mean(hi.map((r) => r.width)).toFixed(3) : '–'} (${hi.length} blocks).`);
}

// 3. Controls
const ctl = [];
for (const t of targets) {
  for (const kind of ['fliqs', 'constant-q', 'random']) {
    const g = group(runs, kind, 'fliqnas-s', t);
    if (!g.length) continue;
    ctl.push([t, kind === 'fliqs' ? 'FLIQNAS-S search' : kind === 'constant-q' ? 'same search, constant Q' : 'random architecture + formats at equal cost, trained', g.length,
      pm(g.map((r) => r.testAccuracy)), mean(g.map((r) => r.mbops)).toFixed(2)]);
  }
}
if (ctl.length) {
  out.push('\n## Controls (FLIQNAS-S)\n');
  out.push(table(['target', 'run', 'seeds', 'test accuracy %', 'MBOPs'], ctl));
}

// 4. Kernel sharing
if (separate.length) {
  const ks = [];
  for (const t of targets) {
    const c = group(runs, 'fliqs', 'fliqnas-s', t), s = group(separate, 'fliqs', 'fliqnas-s', t);
    if (!c.length || !s.length) continue;
    ks.push([t, 'center (default)', pm(c.map((r) => r.testAccuracy)), Math.round(mean(c.map((r) => r.params ?? 0)))]);
    ks.push([t, 'separate', pm(s.map((r) => r.testAccuracy)), Math.round(mean(s.map((r) => r.params ?? 0)))]);
  }
  out.push('\n## Kernel sizes: shared centre or separate branches (FLIQNAS-S)\n');
  out.push(table(['target', 'kernel weights', 'test accuracy %', 'weights (extracted)'], ks));
}

// 5. Longer searches
if (long.length) {
  const lt = [...new Set(long.map((r) => r.target))];
  const rowsL = [];
  for (const t of lt) {
    for (const [kind, space, label] of [['fliqs', 'fliqnas-s', 'FLIQNAS-S search'], ['fliqs', 'int-s', 'FLIQS-S search'],
      ['constant-q', 'fliqnas-s', 'FLIQNAS-S, constant Q'], ['random', 'fliqnas-s', 'random architecture + formats at equal cost, trained']]) {
      const g = group(long, kind, space, t).sort((a, b) => a.seed - b.seed);
      if (!g.length) continue;
      rowsL.push([t, label, g.length, pm(g.map((r) => r.testAccuracy)), g.map((r) => (100 * r.testAccuracy).toFixed(2)).join(', '), mean(g.map((r) => r.mbops)).toFixed(2),
        g.every((r) => r.costRatio !== undefined) ? g.map((r) => r.costRatio.toFixed(3)).join(', ') : '–']);
    }
    const a = group(long, 'fliqs', 'fliqnas-s', t), b = group(long, 'fliqs', 'int-s', t);
    const paired = a.map((r) => { const o = b.find((x) => x.seed === r.seed); return o ? r.testAccuracy - o.testAccuracy : null; }).filter((d) => d !== null);
    if (paired.length) rowsL.push([t, 'FLIQNAS-S − FLIQS-S, paired', paired.length, `${(100 * mean(paired)).toFixed(2)} ± ${(100 * std(paired)).toFixed(2)}`, paired.map((d) => (100 * d).toFixed(2)).join(', '), '', '']);
  }
  out.push(`\n## Longer searches (4 epochs, \`${longDir}\`)\n`);
  out.push(table(['target', 'run', 'seeds', 'test accuracy %', 'per seed', 'MBOPs', 'cost / target'], rowsL));
}

const md = `${out.join('\n')}\n`;
const write = (p, text) => { writeFileSync(`${p}.tmp`, text); renameSync(`${p}.tmp`, p); };
write(COMPACT, `${JSON.stringify(compact)}\n`);
write('docs/fliqnas-study.md', md);

// the package's study plot: mean ± std per grid point, a marker per space, the uniform baselines joined, the front
write('docs/fliqnas-pareto.svg', studyPlot(runs, {
  title: 'mobilenetv2 ×0.25, Fashion-MNIST, 1-epoch searches: FLIQNAS vs FLIQS vs QNAS, with FLIQNAS-S controls (3 seeds)',
}));
console.log(md);
