// `fliqs search`, `fliqs report` and `fliqs pareto`, called in-process on synthetic data with tiny
// runs: the files they write, resume equal to an uninterrupted run, and the error paths (exit 2).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPareto, readParetoCsv, runDirName, PARETO_HEADER, PARETO_HEADER_V1 } from '../src/cli/pareto.js';
import { runReport } from '../src/cli/report.js';
import { runSearch, shortNames } from '../src/cli/search.js';
import { io } from './cli-io-helpers.js';
import { parseSearchSpace } from '../src/formats/presets.js';
import { getThreads, setThreads } from '../src/kernels/threads.js';
import { checkXml } from './xml-check.js';
import { textsOutside } from './svg-bounds-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'fliqs-search-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 12 steps per epoch on the synthetic set (600 train / 50), 2 epochs → T = 24, warm-up 6
const base = ['--model', 'cnn', '--data', 'synthetic', '--limit', '600', '--batch', '50', '--epochs', '2', '--target', '0.5xINT8', '--log-every', '1', '--seed', '3'];
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const lines = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const strip = (r: Record<string, unknown>) => { const { wallSeconds: _w, threads: _t, ...rest } = r; return rest; };

describe('fliqs search', () => {
  const full = join(root, 'full');

  it('writes config.json, log.jsonl, checkpoint.bin and result.json and prints the layer table', () => {
    const c = io();
    expect(runSearch([...base, '--out', full], c), c.e).toBe(0);
    for (const f of ['config.json', 'log.jsonl', 'checkpoint.bin', 'result.json']) expect(existsSync(join(full, f)), f).toBe(true);
    const r = json(join(full, 'result.json'));
    expect(r.layers).toHaveLength(3);
    for (const l of r.layers) {
      expect(Object.keys(l).sort()).toEqual(['bops', 'format', 'macs', 'name', 'pinned', 'probabilities', 'probability']);
      expect(['INT4', 'INT8', 'BF16']).toContain(l.format);
    }
    expect(r.cost.ratio).toBeCloseTo(r.cost.mbops / r.cost.targetMbops, 10);
    // a 24-step search has not settled: result.json and the printed summary say so
    expect(r.finalEntropy / 3).toBeGreaterThanOrEqual(0.05);
    expect(r.warnings.some((w: string) => w.includes('not settled'))).toBe(true);
    for (const w of r.warnings) expect(c.o).toContain(`warning: ${w}`);
    // 10 synthetic classes: chance is 0.1, and the argmax formats on the trained weights do far better.
    expect(r.test.accuracy).toBeGreaterThan(0.3);
    expect(r.test.accuracy).toBeLessThanOrEqual(1);
    expect(r.wallSeconds).toBeGreaterThan(0);
    expect(r.config.seed).toBe(3);
    expect(r.threads).toBe(getThreads()); // the count used; not an input: config.json has no such field
    expect(json(join(full, 'config.json'))).not.toHaveProperty('threads');
    const log = lines(join(full, 'log.jsonl'));
    expect(log.map((l) => l.step)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    for (const k of ['reward', 'baseline', 'advantage', 'entropy', 'entropyMean', 'betaH', 'costRatio', 'quality', 'loss', 'sampled', 'policy']) {
      expect(log[10], k).toHaveProperty(k);
    }
    // warm-up (t < 0.25 T = 6): sampled formats vary, the policy does not move, no reward
    for (const l of log.slice(0, 6)) {
      expect(l.warmup).toBe(true);
      expect(l.reward).toBeNull();
      expect(l.policy[1].INT4).toBeCloseTo(1 / 3, 4);
    }
    expect(log[6].warmup).toBe(false);
    expect(log.at(-1).policy[1].INT4).not.toBeCloseTo(1 / 3, 4);
    expect(r.layers.map((l: { format: string }) => l.format)).toEqual(log.at(-1).argmax);
    expect(c.o).toMatch(/layer\s+MACs\s+format\s+p\s+MBOPs/);
    expect(c.o).toContain('test accuracy');
  });

  it('a fresh start refuses a directory that already holds a run and leaves its files alone', () => {
    const before = ['config.json', 'log.jsonl', 'checkpoint.bin', 'result.json'].map((f) => readFileSync(join(full, f)));
    const c = io();
    expect(runSearch([...base, '--seed', '4', '--out', full], c)).toBe(2);
    expect(c.e).toMatch(/--out: .* already holds a run; accepted: a new directory, or --resume/);
    ['config.json', 'log.jsonl', 'checkpoint.bin', 'result.json'].forEach((f, i) => expect(readFileSync(join(full, f)).equals(before[i]!), f).toBe(true));
  });

  it('--stop-after then --resume ends with the same result.json and log as an uninterrupted run', () => {
    const part = join(root, 'part');
    const c = io();
    expect(runSearch([...base, '--stop-after', '9', '--out', part], c), c.e).toBe(0);
    expect(existsSync(join(part, 'result.json'))).toBe(false);
    expect(lines(join(part, 'log.jsonl'))).toHaveLength(9);
    // resumed on one thread (the first part ran on the default count): the same result, which records 1
    const c2 = io(), before = getThreads();
    try {
      expect(runSearch(['--resume', '--out', part, '--threads', '1'], c2), c2.e).toBe(0);
    } finally {
      setThreads(before);
    }
    expect(c2.e).toContain('resuming');
    expect(json(join(part, 'result.json')).threads).toBe(1);
    expect(strip(json(join(part, 'result.json')))).toEqual(strip(json(join(full, 'result.json'))));
    expect(readFileSync(join(part, 'log.jsonl'), 'utf8')).toBe(readFileSync(join(full, 'log.jsonl'), 'utf8'));
  });

  it('rejects bad input with exit 2 and a clear message', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--model', 'alexnet'], /--model: "alexnet" is not a zoo model; accepted: .*cnn/],
      [['--data', 'synthetic', '--limit', '100', '--target', '0.1xINT4', '--out', join(root, 'x')], /outside the reachable range .* MBOPs to .* MBOPs/],
      [['--data', 'synthetic', '--limit', '100', '--space', 'int-q', '--out', join(root, 'x')], /space/],
      [['--data', 'synthetic', '--limit', '100', '--fix-first-last', 'INT99', '--out', join(root, 'x')], /INT99/],
      [['--frobnicate'], /unknown flag --frobnicate/],
      [['--epochs', 'two'], /--epochs "two" is not an integer/],
      [['--threads', '0'], /--threads 0 is outside \[1, 256\]; accepted: an integer from 1 to 256/],
      [['--target', '0.5xINT8', '--target-mbops', '3'], /not both/],
      [['--resume', '--out', join(root, 'nothing-here')], /nothing to resume/],
    ];
    for (const [args, re] of cases) {
      const c = io();
      expect(runSearch(args, c), args.join(' ')).toBe(2);
      expect(c.e, args.join(' ')).toMatch(re);
    }
  });

  it('a diverging run exits 1 and explains', () => {
    const c = io();
    expect(runSearch([...base, '--lr', '1e6', '--out', join(root, 'nan')], c)).toBe(1);
    expect(c.e).toMatch(/training diverged.*loss: became/s);
    expect(c.e).toContain('lower --lr');
  });

  it('labels formats compactly for the progress strip', () => {
    expect(shortNames(parseSearchSpace('int-s+fp-s'))).toEqual({ INT4: '4', INT8: '8', BF16: 'B', E2M1: 'e4', E4M3: 'e8' });
    expect(shortNames(parseSearchSpace('E2M1,E3M0'))).toEqual({ E2M1: 'E2M1', E3M0: 'E3M0' });
  });
});

describe('fliqs report', () => {
  it('writes well-formed SVGs into the run directory', () => {
    const c = io();
    expect(runReport([join(root, 'full')], c), c.e).toBe(0);
    const svgs = ['formats.svg', 'entropy.svg', 'cost.svg', 'quality.svg', 'policy.svg'];
    for (const f of svgs) {
      const text = readFileSync(join(root, 'full', f), 'utf8');
      expect(text.startsWith('<svg'), f).toBe(true);
      expect(checkXml(text).error, f).toBeNull();
    }
    for (const f of readdirSync(join(root, 'full')).filter((n) => n.endsWith('.svg'))) {
      expect(textsOutside(readFileSync(join(root, 'full', f), 'utf8')), f).toEqual([]);
    }
    expect(readFileSync(join(root, 'full', 'formats.svg'), 'utf8')).toContain('INT4');
    expect(c.e).toMatch(/policy-layers\.\d\.svg/);
  });

  it('exits 2 for a directory without a log', () => {
    const c = io();
    expect(runReport([join(root, 'nothing-here')], c)).toBe(2);
    expect(c.e).toMatch(/does not exist/);
    expect(runReport([], io())).toBe(2);
  });
});

describe('fliqs pareto', () => {
  it('writes pareto.csv and pareto.svg, and a rerun skips the finished entries', () => {
    const out = join(root, 'pareto');
    const args = ['--model', 'cnn', '--data', 'synthetic', '--limit', '300', '--batch', '50', '--epochs', '2', '--widths', '0.5',
      '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8,INT4', '--out', out];
    const c = io();
    expect(runPareto(args, c), c.e).toBe(0);
    const text = readFileSync(join(out, 'pareto.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe(PARETO_HEADER);
    const rows = readParetoCsv(join(out, 'pareto.csv'));
    expect(rows.map((r) => `${r.kind} ${r.spaceOrFormat}`)).toEqual(['uniform INT8', 'uniform INT4', 'fliqs int-s']);
    const [i8, i4, fl] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
    expect(i8.mbops / i4.mbops).toBeCloseTo(4, 4); // (8/4)² at 6 significant digits
    expect(fl.mbops).toBeGreaterThanOrEqual(i4.mbops * 0.999);
    expect(fl.mbops).toBeLessThanOrEqual(i8.mbops * 4.001); // BF16 in some layer is allowed
    expect(checkXml(readFileSync(join(out, "pareto.svg"), "utf8")).error).toBeNull();
    const c2 = io();
    expect(runPareto([...args.slice(0, -4), '--uniform', 'INT8,INT4,E4M3', '--out', out], c2), c2.e).toBe(0);
    expect(c2.e).toContain('3 finished runs');
    expect(readParetoCsv(join(out, 'pareto.csv')).map((r) => r.spaceOrFormat)).toEqual(['INT8', 'INT4', 'int-s', 'E4M3']);
    // a pareto.csv of an older version (8 columns) is still read, and a rerun adds the new columns to it
    const old = join(root, 'pareto-old');
    mkdirSync(old, { recursive: true });
    const body = text.trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 8).join(','));
    writeFileSync(join(old, 'pareto.csv'), `${PARETO_HEADER_V1}\n${body.join('\n')}\n`);
    expect(readParetoCsv(join(old, 'pareto.csv')).map((r) => [r.kind, r.mbops, r.costRatio])).toEqual(rows.map((r) => [r.kind, r.mbops, undefined]));
    const c3 = io();
    expect(runPareto([...args.slice(0, -1), old], c3), c3.e).toBe(0);
    expect(c3.e).toContain('3 finished runs');
    expect(readFileSync(join(old, 'pareto.csv'), 'utf8').split('\n')[0]).toBe(PARETO_HEADER);
  });

  it('--controls adds the constant-Q search and a random configuration at equal cost; search flags are passed on; a rerun skips them', () => {
    const out = join(root, 'pareto-controls');
    // 12 steps per epoch, 3 epochs: a warm-up of 9 steps, enough to measure the noise of Q (γ 3 scaled by it)
    const args = ['--model', 'cnn', '--data', 'synthetic', '--limit', '600', '--batch', '50', '--epochs', '3', '--widths', '0.5',
      '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8', '--controls', '--gamma', '3', '--out', out];
    const c = io();
    expect(runPareto(args, c), c.e).toBe(0);
    const rows = readParetoCsv(join(out, 'pareto.csv'));
    expect(rows.map((r) => `${r.kind} ${r.spaceOrFormat} ${r.target}`)).toEqual(['uniform INT8 ', 'fliqs int-s 0.5xINT8', 'constant-q int-s 0.5xINT8', 'random int-s 0.5xINT8']);
    const [i8, , , rnd] = rows as [typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0]];
    const target = 0.5 * i8.mbops;
    expect(rnd.mbops / target).toBeGreaterThanOrEqual(0.9 - 1e-5);
    expect(rnd.mbops / target).toBeLessThanOrEqual(1.1 + 1e-5);
    expect(rnd.testAccuracy).toBeGreaterThan(0.2); // trained: chance is 0.1 on the 10 synthetic classes
    // the searches: one directory each, the control with a constant Q, both with the forwarded γ
    const jsonl = lines(join(out, 'runs.jsonl'));
    const fl = json(join(out, jsonl[1].dir, 'result.json')), cq = json(join(out, jsonl[2].dir, 'result.json'));
    expect([jsonl[1].dir, jsonl[2].dir]).toEqual(['fliqs-int-s-w0.5-0.5xINT8-s0', 'fliqs-int-s-w0.5-0.5xINT8-s0-constq']);
    expect([fl.config.quality, cq.config.quality]).toEqual(['accuracy', 'constant']);
    expect([fl.config.gamma, cq.config.gamma]).toEqual([3, 3]);
    expect({ ...cq.config, quality: 'accuracy' }).toEqual(fl.config);
    // the random row's formats (runs.jsonl) cost what its row says, by the layers' MACs of the search's result
    const drawn = jsonl[3];
    expect(Object.keys(drawn.formats)).toEqual(fl.layers.map((l: { name: string }) => l.name));
    const bits: Record<string, number> = { INT4: 4, INT8: 8, BF16: 16 };
    const bops = fl.layers.reduce((s: number, l: { name: string; macs: number }) => s + bits[drawn.formats[l.name]]! ** 2 * l.macs, 0);
    expect(bops / 1e6).toBeCloseTo(rnd.mbops, 3);
    expect(drawn.bandConfigs).toBeGreaterThanOrEqual(1);
    const svg = readFileSync(join(out, 'pareto.svg'), 'utf8');
    expect(checkXml(svg).error).toBeNull();
    expect(textsOutside(svg)).toEqual([]);
    for (const entry of ['>FLIQS<', '>constant-Q control<', '>random at equal cost<', '>uniform QAT<', '>space int-s<', '>INT8 (uniform)<']) expect(svg).toContain(entry);
    // the searches' cost ratio, final entropy and warning count in pareto.csv (their warnings' text in runs.jsonl)
    const flRow = rows[1]!;
    expect(jsonl[1].dir).toBe(runDirName('fliqs', 'int-s', 0.5, '0.5xINT8', 0));
    expect(flRow.costRatio).toBeCloseTo(jsonl[1].costRatio, 4);
    expect(flRow.finalEntropy).toBeCloseTo(jsonl[1].finalEntropy, 4);
    expect(flRow.finalEntropy).toBeGreaterThan(0);
    expect(flRow.warnings).toBe(jsonl[1].warnings.length);
    expect(Array.isArray(jsonl[1].warnings)).toBe(true);
    expect([i8.costRatio, i8.finalEntropy, i8.warnings, rnd.costRatio]).toEqual([undefined, undefined, undefined, undefined]);
    const c2 = io();
    expect(runPareto(args, c2), c2.e).toBe(0);
    expect(c2.e).toContain('4 finished runs');
    expect(readParetoCsv(join(out, 'pareto.csv'))).toEqual(rows);
  });

  it('rejects bad lists, and search flags the sweep sets itself, with exit 2', () => {
    const c = io();
    expect(runPareto(['--seed', '3'], c)).toBe(2);
    expect(c.e).toMatch(/--seed is set by the sweep/);
    expect(runPareto(['--gamma', 'lots'], io())).toBe(2);
    expect(runPareto(['--widths', 'wide'], io())).toBe(2);
    expect(runPareto(['--spaces', 'int-q'], io())).toBe(2);
    expect(runPareto(['--uniform', 'INT99'], io())).toBe(2);
  });
});
