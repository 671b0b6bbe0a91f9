// No text of any SVG the package draws lies outside its canvas (issue 15 item 4): every plot function with long
// titles, labels, legends and many rows/columns (also random ones), the study plot of `fliqs pareto`, every file
// `fliqs report` writes (a real search run, a FLIQNAS run's architecture plots, a train run) and `fliqs analyze`'s.
// A text's box is estimated as TEXT_WIDTH (0.6) × font size × characters wide, 0.8 × size above its baseline and
// 0.25 × size below, placed by text-anchor and turned by its rotate() transform.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { categoryStrip, heatmap, linePlot, scatterPlot, stackedLinePlot, MARKER_SHAPES } from '../src/report/svg.js';
import { studyPlot, summarizeStudy, paretoFront, type StudyRun } from '../src/report/study.js';
import { writeReport } from '../src/cli/report.js';
import { runSearch } from '../src/cli/search.js';
import { io } from './cli-io-helpers.js';
import { runAnalyze } from '../src/cli/analyze.js';
import { checkXml } from './xml-check.js';
import { textsOutside } from './svg-bounds-helpers.js';

function inBounds(svg: string, what: string): void {
  expect(checkXml(svg).error, what).toBeNull();
  expect(textsOutside(svg), what).toEqual([]);
}

const LONG = 'a rather long label that would not fit anywhere near a small plot, on purpose';

describe('the bounds check itself', () => {
  it('sees texts that leave the canvas, also when anchored at the end or rotated', () => {
    const svg = (t: string): string => `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">${t}</svg>`;
    expect(textsOutside(svg('<text x="10" y="20" font-size="10">0123456789</text>'))).toEqual([]); // 60 px wide: fits
    expect(textsOutside(svg('<text x="50" y="20" font-size="10">0123456789</text>'))).toHaveLength(1); // 50 + 60 > 100
    expect(textsOutside(svg('<text x="70" y="20" font-size="10" text-anchor="end">0123456789</text>'))).toEqual([]);
    expect(textsOutside(svg('<text x="50" y="20" font-size="10" text-anchor="middle">0123456789</text>'))).toEqual([]);
    expect(textsOutside(svg('<text x="20" y="20" font-size="10" text-anchor="middle">0123456789</text>'))).toHaveLength(1);
    expect(textsOutside(svg('<text x="10" y="80" font-size="10" transform="rotate(-90 10 80)">0123456789</text>'))).toEqual([]);
    expect(textsOutside(svg('<text x="10" y="20" font-size="10" text-anchor="middle" transform="rotate(-90 10 20)">0123456789</text>'))).toHaveLength(1);
    expect(textsOutside(svg('<text x="30" y="90" font-size="10" text-anchor="end" transform="rotate(-45 30 90)">0123456789</text>'))).toHaveLength(1);
    expect(textsOutside(svg('<text x="5" y="5" font-size="10">a</text>'))).toHaveLength(1); // above the top
  });
});

describe('every plot keeps its text inside the canvas', () => {
  const series = (n: number, name: (i: number) => string) => Array.from({ length: n }, (_, i) => ({ name: name(i), x: [1, 2, 3, 1000], y: [i, -1e-7, 3e6, 0.5] }));

  it('linePlot and stackedLinePlot with long titles, axis labels and legends, many series', () => {
    for (const [w, h] of [[640, 400], [300, 160], [1200, 300]] as const) {
      inBounds(linePlot(series(30, (i) => `${LONG} ${i}`), { title: LONG + LONG, xLabel: LONG, yLabel: LONG + LONG, width: w, height: h, logX: true }), `linePlot ${w}×${h}`);
      inBounds(stackedLinePlot([
        { yLabel: LONG, series: series(3, (i) => `${LONG} ${i}`) }, { yLabel: 'Q', series: series(1, () => 'Q') },
        { yLabel: 'reward', series: series(12, (i) => `r${i}`), logY: false },
      ], { title: LONG, xLabel: LONG, width: w }), `stackedLinePlot ${w}`);
    }
  });

  it('scatterPlot with labels at every edge, markers, error bars and an explicit legend', () => {
    const pts = [[1, 1], [1000, 1], [1, 100], [1000, 100], [30, 50]].map(([x, y], i) => ({ x: x!, y: y!, yErr: 5, xErr: x! / 10, label: `${LONG} ${i}`, series: `s${i % 2}`, marker: MARKER_SHAPES[i % MARKER_SHAPES.length] }));
    inBounds(scatterPlot(pts, { title: LONG, xLabel: 'x', yLabel: 'y', logX: true, width: 500, height: 300 }), 'scatterPlot');
    inBounds(scatterPlot(pts, { legend: Array.from({ length: 40 }, (_, i) => ({ name: `${LONG} ${i}`, color: '#000', marker: MARKER_SHAPES[i % 8] })), width: 400, height: 200 }), 'scatterPlot legend');
  });

  it('categoryStrip and heatmap with long row and column labels, many columns, a colour-bar label', () => {
    const cols = Array.from({ length: 40 }, (_, i) => `stages.${i}.conv2.layers.0.body.layers.${i}`);
    const rows = Array.from({ length: 12 }, (_, i) => ({ label: `${LONG} ${i}`, cells: cols.map((_, j) => (i + j) % 3 ? 'INT4' : `${LONG}`) }));
    inBounds(categoryStrip(rows, { title: LONG, columns: cols }), 'strip');
    inBounds(categoryStrip(rows, { columns: cols, width: 300, height: 200 }), 'strip small');
    const values = rows.map((_, i) => cols.slice(0, 7).map((_, j) => ((i * 7 + j) % 10) / 9 - 1e-7 * i));
    inBounds(heatmap(values, { title: LONG, rowLabels: rows.map((r) => r.label), colLabels: cols.slice(0, 7), colorLabel: LONG, xLabel: LONG }), 'heatmap');
    inBounds(heatmap([[1e-9, 123456789]], { colorLabel: 'probability', width: 200, height: 100 }), 'heatmap tiny');
  });

  it('random labels and sizes (property)', () => {
    const label = fc.string({ minLength: 0, maxLength: 90 });
    fc.assert(fc.property(label, label, fc.array(label, { minLength: 1, maxLength: 14 }), fc.integer({ min: 120, max: 1400 }), fc.integer({ min: 100, max: 900 }),
      (title, axis, names, w, h) => {
        const s = names.map((n, i) => ({ name: n, x: [0, 1, 2], y: [i, i * 2, -i] }));
        for (const svg of [
          linePlot(s, { title, xLabel: axis, yLabel: axis, width: w, height: h }),
          stackedLinePlot([{ yLabel: axis, series: s }, { yLabel: title, series: s.slice(0, 1) }], { title, xLabel: axis, width: w }),
          categoryStrip([{ label: axis, cells: names }], { title, columns: names, width: w }),
          heatmap([names.map((_, i) => i)], { title, rowLabels: [axis], colLabels: names, colorLabel: title, xLabel: axis, width: w }),
          scatterPlot(names.map((n, i) => ({ x: i + 1, y: i, label: n, series: n })), { title, xLabel: axis, yLabel: axis, width: w, height: h }),
        ]) expect(textsOutside(svg)).toEqual([]);
      }), { numRuns: 40 });
  });
});

describe('the study plot of fliqs pareto', () => {
  const runs: StudyRun[] = [];
  for (const seed of [0, 1, 2]) {
    for (const [f, mb] of [['INT8', 80], ['INT4', 38], ['E4M3', 80], ['E2M1', 38]] as const) runs.push({ kind: 'uniform', spaceOrFormat: f, width: 0.5, target: '', seed, mbops: mb, testAccuracy: 0.86 + 0.01 * seed + (f === 'INT8' ? 0.02 : 0) });
    for (const space of ['int-l', 'fp-l', 'a-space-with-a-very-long-name-of-formats-E5M2-E4M3-E3M4-E2M5']) {
      for (const [t, mb] of [['1.1xINT4', 41], ['0.5xINT8', 72]] as const) {
        for (const kind of ['fliqs', 'constant-q', 'random'] as const) runs.push({ kind, spaceOrFormat: space, width: 0.5, target: t, seed, mbops: mb + seed, testAccuracy: 0.87 + 0.003 * seed + (kind === 'fliqs' ? 0.01 : 0) + (t === '0.5xINT8' ? 0.005 : 0) });
      }
    }
  }

  it('groups seeds into mean ± std and finds the Pareto front', () => {
    const g = summarizeStudy(runs);
    const int8 = g.find((x) => x.kind === 'uniform' && x.what === 'INT8')!;
    expect(int8.n).toBe(3);
    expect(int8.acc).toBeCloseTo(89, 10);
    expect(int8.accStd).toBeCloseTo(1, 10);
    expect(paretoFront([{ mbops: 1, acc: 80 }, { mbops: 2, acc: 79 }, { mbops: 3, acc: 85 }, { mbops: 3, acc: 84 }])).toEqual([{ mbops: 1, acc: 80 }, { mbops: 3, acc: 85 }]);
  });

  it('draws error bars, a marker per space, the uniform line, the front, a legend and no point labels, all inside the canvas', () => {
    const svg = studyPlot(runs, { title: `${LONG}: test accuracy vs cost` });
    inBounds(svg, 'study');
    expect(svg).not.toContain('class="label"');
    expect((svg.match(/class="errorbar"/g) ?? []).length).toBeGreaterThan(0);
    expect(svg).toContain('Pareto front (FLIQS)');
    expect(svg).toContain('space int-l');
    expect(svg).toContain('INT4 (uniform)');
    expect(new Set([...svg.matchAll(/<(circle|rect|polygon|path) class="point"/g)].map((m) => m[1])).size).toBeGreaterThan(1); // several marker shapes
    inBounds(studyPlot(runs.slice(0, 1)), 'one run');
  });
});

describe('fliqs report and fliqs analyze', () => {
  const root = mkdtempSync(join(tmpdir(), 'fliqs-svg-bounds-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const svgsOf = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.svg'));

  it('a search run: every file in bounds, quality.svg as three panels, a policy plot per searched layer, a labelled colour bar', () => {
    const spec = join(root, 'deep.json'), out = join(root, 'search');
    // nested residual blocks: long layer names
    writeFileSync(spec, JSON.stringify({ layers: [
      { type: 'conv', out: 4, kernel: 3, stride: 2, padding: 1 }, { type: 'relu' },
      { type: 'residual', body: [{ type: 'residual', body: [{ type: 'conv', out: 4, kernel: 3, padding: 1 }] }, { type: 'conv', out: 4, kernel: 1 }] },
      { type: 'depthwise', kernel: 3, padding: 1 }, { type: 'conv', out: 6, kernel: 1 }, { type: 'globalpool' }, { type: 'linear', out: 'classes' },
    ] }));
    const c = io();
    expect(runSearch(['--model', spec, '--data', 'synthetic', '--limit', '600', '--validation', '100', '--batch', '50', '--epochs', '2', '--out', out], c), c.e).toBe(0);
    const written = writeReport(out);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const searched = result.layers.filter((l: { probabilities: object }) => Object.keys(l.probabilities).length > 1);
    expect(searched.length).toBe(6);
    expect(written.filter((f) => f.startsWith('policy-'))).toHaveLength(searched.length);
    for (const f of svgsOf(out)) inBounds(readFileSync(join(out, f), 'utf8'), f);
    const quality = readFileSync(join(out, 'quality.svg'), 'utf8');
    expect((quality.match(/<g class="axes">/g) ?? []).length).toBe(3);
    for (const label of ['>training loss<', '>Q<', '>reward<']) expect(quality).toContain(label);
    expect(readFileSync(join(out, 'policy.svg'), 'utf8')).toMatch(/class="colorbar-label"[^>]*>probability/);
  }, 60_000);

  it('a FLIQNAS run: architecture.svg and architecture-steps.svg in bounds', () => {
    const dir = join(root, 'fliqnas');
    mkdirSync(dir);
    const blocks = 7, layers = [{ name: 'stem.layers.0', format: 'INT8' }];
    for (let b = 0; b < blocks; b++) for (const p of ['expand', 'depthwise', 'project']) layers.push({ name: `blocks.${b}.${p}.layers.0`, format: b % 2 ? 'INT4' : 'INT8' });
    layers.push({ name: 'head', format: 'INT8' });
    const decisions = Array.from({ length: blocks }, (_, b) => [{ name: `blocks.${b}.width`, kind: 'width', value: 96, base: 96 }, { name: `blocks.${b}.kernel`, kind: 'kernel', value: 5, base: 3 }]).flat();
    const policy = layers.map(() => ({ INT4: 0.5, INT8: 0.5 }));
    const log = Array.from({ length: 60 }, (_, t) => ({
      step: t, warmup: t < 15, loss: 2 - t / 60, quality: t > 12 ? 0.5 : null, reward: t >= 15 ? 0.4 : null, baseline: t >= 15 ? 0.3 : null, betaH: 0, entropy: 1,
      entropyMean: 0.5, costRatio: 1, argmaxCostRatio: 1, argmax: layers.map((l) => l.format), policy, arch: { sampled: decisions.map((d) => d.value), argmax: decisions.map((d) => d.value), joint: 0 },
    }));
    writeFileSync(join(dir, 'log.jsonl'), log.map((l) => JSON.stringify(l)).join('\n'));
    writeFileSync(join(dir, 'result.json'), JSON.stringify({
      layers: layers.map((l) => ({ ...l, macs: 1000, probabilities: { INT4: 0.5, INT8: 0.5 } })), cost: { ratio: 1, mbops: 1, targetMbops: 1 }, test: { accuracy: 0.5 },
      config: { model: 'mobilenetv2', space: 'fliqnas-s', target: '0.5xINT8', seed: 0 }, architecture: { decisions },
    }));
    const written = writeReport(dir);
    expect(written).toContain('architecture.svg');
    expect(written).toContain('architecture-steps.svg');
    for (const f of svgsOf(dir)) inBounds(readFileSync(join(dir, f), 'utf8'), f);
  });

  it('a train run and fliqs analyze', () => {
    const dir = join(root, 'train');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: LONG, format: 'INT8', data: 'synthetic' }));
    writeFileSync(join(dir, 'log.jsonl'), Array.from({ length: 20 }, (_, t) => JSON.stringify({ step: t, epoch: 0, lr: 0.1 / (t + 1), loss: 2 / (t + 1), trainAccuracy: t / 20 })).join('\n'));
    expect(writeReport(dir)).toHaveLength(3);
    for (const f of svgsOf(dir)) inBounds(readFileSync(join(dir, f), 'utf8'), f);
    const out = join(root, 'analyze'), stderr = process.stderr.write, stdout = process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(runAnalyze(['--space', 'fp-l', '--tensors', '8', '--n', '256', '--out', out])).toBe(0);
    } finally {
      process.stderr.write = stderr;
      process.stdout.write = stdout;
    }
    expect(svgsOf(out).length).toBeGreaterThanOrEqual(2);
    for (const f of svgsOf(out)) inBounds(readFileSync(join(out, f), 'utf8'), f);
  });
});
