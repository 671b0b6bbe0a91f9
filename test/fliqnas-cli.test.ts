// FLIQNAS through the CLI, in-process on synthetic data: `fliqs search --space fliqnas-s` writes the architecture
// into result.json and log.jsonl, resumes to the same result, `report` draws the architecture, `export` and `eval`
// run the extracted model, `pareto` accepts the new spaces (with its controls); bad flags exit 2.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSearch } from '../src/cli/search.js';
import { io } from './cli-io-helpers.js';
import { runReport } from '../src/cli/report.js';
import { textsOutside } from './svg-bounds-helpers.js';
import { runExport } from '../src/cli/export.js';
import { runEval } from '../src/cli/eval.js';
import { runPareto, readParetoCsv } from '../src/cli/pareto.js';
import { checkXml } from './xml-check.js';

const root = mkdtempSync(join(tmpdir(), 'fliqs-fliqnas-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 12 steps per epoch (600 synthetic images, batch 50), 2 epochs
const base = ['--model', 'mobilenetv2', '--width', '0.25', '--data', 'synthetic', '--limit', '600', '--batch', '50', '--epochs', '2',
  '--space', 'fliqnas-s', '--arch-widths', '0.5,1,1.5', '--arch-kernels', '3,5', '--target', '0.75xINT8', '--log-every', '1', '--seed', '2'];
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const strip = (r: Record<string, unknown>) => { const { wallSeconds: _w, threads: _t, ...rest } = r; return rest; };

describe('fliqs search --space fliqnas-s', () => {
  const full = join(root, 'full');

  it('searches formats and architecture; result.json and log.jsonl hold the architecture', () => {
    const c = io();
    expect(runSearch([...base, '--out', full], c), c.e).toBe(0);
    const r = json(join(full, 'result.json'));
    expect(r.config.widths).toEqual([0.5, 1, 1.5]);
    expect(r.config.kernelSizes).toEqual([3, 5]);
    const a = r.architecture;
    expect(a.decisions.length).toBeGreaterThan(5);
    for (const d of a.decisions) {
      expect(d.kind === 'width' ? [0.5, 1, 1.5].map((m) => Math.round(d.base * m)) : [3, 5]).toContain(d.value);
      expect(Object.values(d.probabilities as Record<string, number>).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 9);
    }
    expect(a.params).toBeLessThan(a.supernetParams);
    expect(r.cost.ratio).toBeCloseTo(r.cost.mbops / r.cost.targetMbops, 10);
    // the per-layer BOPs are the chosen architecture's and sum to the cost
    expect(r.layers.reduce((s: number, l: { bops: number }) => s + l.bops, 0)).toBeCloseTo(r.cost.mbops * 1e6, 0);
    expect(c.o).toContain('extracted architecture');
    const log = readFileSync(join(full, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log[0].arch.sampled).toHaveLength(a.decisions.length);
    expect(log.at(-1).arch.joint).toBe(0);
  });

  it('resumes to the same result', () => {
    const part = join(root, 'part');
    expect(runSearch([...base, '--out', part, '--stop-after', '9'], io())).toBe(0);
    expect(existsSync(join(part, 'result.json'))).toBe(false);
    expect(runSearch(['--resume', '--out', part], io())).toBe(0);
    const { config: _a, ...want } = strip(json(join(full, 'result.json')));
    const { config: _b, ...got } = strip(json(join(part, 'result.json')));
    expect(got).toEqual(want);
  });

  it('report draws the architecture; export and eval run the extracted model', () => {
    const c = io();
    expect(runReport([full], c), c.e).toBe(0);
    for (const f of ['architecture.svg', 'architecture-steps.svg']) {
      const svg = readFileSync(join(full, f), 'utf8');
      checkXml(svg);
      expect(svg).toContain('kernel');
      expect(textsOutside(svg), f).toEqual([]);
    }
    const model = join(full, 'model.fliqs');
    const e = io();
    expect(runExport([full, '--out', model], e), e.e).toBe(0);
    const v = io();
    expect(runEval([model, '--data', 'synthetic'], v), v.e).toBe(0);
    const reported = json(join(full, 'result.json')).test.accuracy;
    expect(v.o + v.e).toContain(`${(100 * reported).toFixed(2)}%`);
  });

  it('refuses architecture flags without an architecture space, and bad lists', () => {
    const bad = (args: string[], re: RegExp): void => {
      const c = io();
      expect(runSearch(args, c)).toBe(2);
      expect(c.e).toMatch(re);
      expect(c.e.trim().split('\n')).toHaveLength(1);
    };
    bad(['--model', 'cnn', '--data', 'synthetic', '--space', 'int-s', '--arch-widths', '1,2', '--out', join(root, 'x1')], /--arch-widths.*architecture space/);
    bad(['--model', 'mobilenetv2', '--width', '0.25', '--data', 'synthetic', '--space', 'fliqnas-s', '--arch-kernels', '3,4', '--out', join(root, 'x2')], /odd/);
    bad(['--model', 'cnn', '--data', 'synthetic', '--space', 'fliqnas-s', '--out', join(root, 'x3')], /no architecture decisions/);
    bad([...base, '--arch-widths', 'a,b', '--out', join(root, 'x4')], /--arch-widths/);
  });
});

describe('fliqs pareto with architecture spaces', () => {
  it('runs fliqnas-s and qnas-int8 searches, the controls (a random architecture and formats at equal cost) and the base model uniform', () => {
    const out = join(root, 'pareto');
    const c = io();
    const code = runPareto(['--model', 'mobilenetv2', '--widths', '0.25', '--data', 'synthetic', '--limit', '300', '--batch', '50', '--epochs', '1',
      '--spaces', 'fliqnas-s,qnas-int8', '--arch-widths', '0.5,1', '--arch-kernels', '3', '--targets', '1xINT8', '--uniform', 'INT8', '--controls', '--out', out], c);
    expect(code, c.e).toBe(0);
    const rows = readParetoCsv(join(out, 'pareto.csv'));
    expect(rows.map((r) => `${r.kind} ${r.spaceOrFormat}`)).toEqual([
      'uniform INT8', 'fliqs fliqnas-s', 'constant-q fliqnas-s', 'random fliqnas-s', 'fliqs qnas-int8', 'constant-q qnas-int8', 'random qnas-int8',
    ]);
    const runs = readFileSync(join(out, 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const random = runs.find((r) => r.kind === 'random' && r.spaceOrFormat === 'fliqnas-s');
    expect(Object.keys(random.architecture).length).toBeGreaterThan(0);
    expect(Math.abs(random.costRatio - 1)).toBeLessThanOrEqual(0.1);
    const fl = runs.find((r) => r.kind === 'fliqs' && r.spaceOrFormat === 'qnas-int8');
    expect(Object.keys(fl.architecture).length).toBeGreaterThan(0);
    expect(typeof fl.finalEntropy).toBe('number');
  });
});
