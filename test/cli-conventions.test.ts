// Conventions of command-line tools, checked for every `fliqs` command (from dist/, which `npm test` builds
// first): help on stdout with exit 0 for --help and -h; the same default for the same flag across commands, or
// the difference said in the help; `report` on a train run draws its curves; the progress line fits the
// terminal and says what its abbreviations mean.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANALYZE_FLAGS } from '../src/cli/analyze.js';
import type { FlagSpecs } from '../src/cli/args.js';
import { DEMO_FLAGS } from '../src/cli/demo.js';
import { EVAL_FLAGS } from '../src/cli/eval.js';
import { EXPORT_FLAGS } from '../src/cli/export.js';
import { PARETO_FLAGS } from '../src/cli/pareto-sweep.js';
import { Progress, fitLine } from '../src/cli/progress.js';
import { progressLegend, SEARCH_FLAGS } from '../src/cli/search.js';
import { TRAIN_FLAGS } from '../src/cli/train.js';

const COMMANDS = ['start', 'search', 'train', 'export', 'eval', 'report', 'pareto', 'analyze', 'demo'];
const fliqs = (...args: string[]) =>
  spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'dist/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000 });
const tmp = mkdtempSync(join(tmpdir(), 'fliqs-conv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('help', () => {
  it('every command: --help and -h print its usage on stdout, nothing on stderr, exit 0', () => {
    for (const cmd of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = fliqs(cmd, flag);
        expect(r.status, `${cmd} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout, `${cmd} ${flag}`).toMatch(new RegExp(`^usage: fliqs ${cmd}\\b`));
        expect(r.stderr, `${cmd} ${flag}`).toBe('');
      }
    }
  });

  it('fliqs --help lists every command on stdout (exit 0); no command or an unknown one is a usage error (stderr, exit 2)', () => {
    for (const flag of ['--help', '-h']) {
      const r = fliqs(flag);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      for (const cmd of COMMANDS) expect(r.stdout).toMatch(new RegExp(`\\n {2}${cmd} +\\S`));
    }
    const none = fliqs();
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^fliqs: no command given\nusage: fliqs <command>/);
  });
});

describe('flags', () => {
  const specs: Record<string, FlagSpecs> = {
    search: SEARCH_FLAGS, train: TRAIN_FLAGS, pareto: PARETO_FLAGS, eval: EVAL_FLAGS, export: EXPORT_FLAGS, analyze: ANALYZE_FLAGS, demo: DEMO_FLAGS,
  };
  it('a flag shared by two commands has the same default, or the help of one names the other and its default', () => {
    const names = new Set(Object.values(specs).flatMap((s) => Object.keys(s)));
    let compared = 0, explained = 0;
    for (const flag of names) {
      if (flag === 'out') continue; // each command writes its own kind of folder, and says which
      const having = Object.entries(specs).filter(([, s]) => s[flag] !== undefined && s[flag]!.default !== undefined);
      for (const [a, sa] of having) {
        for (const [b, sb] of having) {
          if (a >= b) continue;
          compared++;
          const da = String(sa[flag]!.default), db = String(sb[flag]!.default);
          if (da === db) continue;
          const esc = (v: unknown) => String(v).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          const says = (help: string, cmd: string, value: unknown) => new RegExp(`\\b${cmd}\\b.*\\bdefaults? to ${esc(value)}\\b`).test(help);
          const ok = says(sa[flag]!.help, b, sb[flag]!.default!) || says(sb[flag]!.help, a, sa[flag]!.default!);
          expect(ok, `--${flag}: ${a} defaults to ${da}, ${b} to ${db}, and neither help says so`).toBe(true);
          explained++;
        }
      }
    }
    expect(compared).toBeGreaterThan(10);
    expect(explained).toBeGreaterThanOrEqual(4); // model, data, weight-decay, label-smoothing differ between search and train
  });

  it('search and train both take --validation, with the same help', () => {
    expect(TRAIN_FLAGS.validation.help).toBe(SEARCH_FLAGS.validation.help);
    expect(PARETO_FLAGS.validation.help).toBe(SEARCH_FLAGS.validation.help);
  });
});

/** Rough bounds of an SVG's text: each <text> with its anchor and ~0.6 em per character inside the canvas. */
function textOutside(svg: string): string[] {
  const [, w, h] = /<svg[^>]*width="([\d.]+)" height="([\d.]+)"/.exec(svg)!.map(Number) as [number, number, number];
  const out: string[] = [];
  for (const m of svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)) {
    const attrs = m[1]!, text = m[2]!.replace(/&\w+;/g, 'x');
    if (/transform=/.test(attrs)) continue; // rotated axis labels
    const x = Number(/\bx="([-\d.]+)"/.exec(attrs)![1]), y = Number(/\by="([-\d.]+)"/.exec(attrs)![1]);
    const size = Number(/font-size="([\d.]+)"/.exec(attrs)?.[1] ?? 12), len = text.length * 0.6 * size;
    const anchor = /text-anchor="(\w+)"/.exec(attrs)?.[1] ?? 'start';
    const left = anchor === 'middle' ? x - len / 2 : anchor === 'end' ? x - len : x;
    if (left < 0 || left + len > w || y - size < 0 || y > h) out.push(text);
  }
  return out;
}

describe('report on a train run', () => {
  it('draws the training curves (loss, accuracy, learning rate) instead of an error', () => {
    const run = join(tmp, 'train');
    const t = fliqs('train', '--data', 'synthetic', '--model', 'mlp', '--limit', '400', '--epochs', '2', '--log-every', '2', '--out', run);
    expect(t.status, t.stderr).toBe(0);
    const r = fliqs('report', run);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*training-loss\.svg, training-accuracy\.svg, learning-rate\.svg/);
    const log = readFileSync(join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const loss = readFileSync(join(run, 'training-loss.svg'), 'utf8');
    // one path per series: the training loss at every logged step, the validation loss at each epoch end
    const paths = [...loss.matchAll(/<path class="series" d="M([^"]*)"/g)].map((m) => m[1]!.split(' L').length);
    expect(paths).toEqual([log.filter((l) => l['loss'] !== undefined).length, log.filter((l) => l['validationLoss'] !== undefined).length]);
    expect(paths[1]).toBe(2);
    expect(loss).toMatch(/>validation loss \(epoch end\)</);
    for (const f of ['training-loss.svg', 'training-accuracy.svg', 'learning-rate.svg']) {
      expect(textOutside(readFileSync(join(run, f), 'utf8')), f).toEqual([]);
    }
  });

  it('a train log without loss or accuracy, and a search log line in a train log, are one-line errors', () => {
    const dir = join(tmp, 'bad');
    fliqs('train', '--data', 'synthetic', '--model', 'mlp', '--limit', '100', '--out', dir);
    writeFileSync(join(dir, 'log.jsonl'), '{"step":1,"epoch":0}\n');
    const r = fliqs('report', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fliqs report: .*log\.jsonl: line 1 is not a search step.*fliqs search or fliqs train run/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'training-loss.svg'))).toBe(false);
  });
});

describe('the progress line', () => {
  it('fitLine cuts to the terminal width less one column, by code points, with …', () => {
    expect(fitLine('abcdef', 10)).toBe('abcdef');
    expect(fitLine('abcdefghij', 10)).toBe('abcdefgh…');
    expect([...fitLine('αβγ😀δεζηθικ', 6)]).toHaveLength(5);
    expect(fitLine('abc', undefined)).toBe('abc');
  });

  it('on a terminal, every redraw fits its width', () => {
    const writes: string[] = [];
    const stream = { isTTY: true, columns: 50, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const p = new Progress({ total: 100, stream });
    p.update(10, 'Q 0.812  loss 1.234  cost/target 1.02  H 3.21  | 8 8 4 4 B 8 4 4 8');
    p.done('Q 0.900  H 0.10');
    const lines = writes.flatMap((w) => w.split(/\r\x1b\[K|\n/)).filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(49);
    expect(lines[0]!.endsWith('…')).toBe(true);
  });

  it('search prints a legend of its abbreviations and short format names; train uses full words', () => {
    expect(progressLegend('accuracy', { INT4: '4', INT8: '8', BF16: 'B' }))
      .toBe('progress line: Q = validation accuracy (running mean), loss = training loss, cost/target = C(α*)/C_T of the argmax formats, '
        + 'H = policy entropy (nats); after |, each layer\'s argmax format (4 = INT4, 8 = INT8, B = BF16)');
    const s = fliqs('search', '--data', 'synthetic', '--model', 'mlp', '--limit', '1024', '--batch', '32', '--stop-after', '1', '--out', join(tmp, 's'));
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/\nprogress line: Q = validation accuracy .*\(4 = INT4, 8 = INT8, B = BF16\)\n/);
    const t = fliqs('train', '--data', 'synthetic', '--model', 'mlp', '--limit', '256', '--out', join(tmp, 't'));
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/ train loss [\d.]+ {2}train accuracy [\d.]+ {2}\d+ images\/s/);
  });
});
