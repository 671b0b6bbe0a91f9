// Bad arguments to every `fliqs` command (from dist/, like test/cli.test.ts): each exits non-zero with a
// one-line `fliqs <command>: …` message on stderr, never a stack trace, within a time and a memory limit.
//
// The memory limit, 1.5 GB of peak RSS per process: the largest legitimate run a fuzzed line can start loads
// a whole dataset; `search --data fashion-mnist --stop-after 1` peaks at 350 MB (mnist 345 MB; the fuzzed lines
// here, with --limit 256, at 175 MB). 1.5 GB is four times that, and far below what a size argument taken at
// its word allocates (issue 17, item 3: 4.7 GB and growing). Without synthetic.ts's size check,
// `search --data synthetic --validation 3000000` is killed at the limit (the size test below fails).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fliqsChild, type ChildResult } from './cli-child.js';

const LIMITS = { timeMs: 30_000, memoryMB: 1536 };
const fliqs = (args: string[]): Promise<ChildResult> => fliqsChild(args, LIMITS);
/** Over a limit: killed by the watchdog, or a peak RSS above the limit (or none measured). */
const overLimit = (r: ChildResult): boolean => r.killed !== null || !(r.peakMB <= LIMITS.memoryMB);
const peaks = (results: Array<[string[], ChildResult]>): string =>
  results.map(([a, r]) => [r.peakMB, a.join(' ')] as const).sort((x, y) => y[0] - x[0]).slice(0, 3)
    .map(([mb, a]) => `${mb.toFixed(0)} MB: fliqs ${a}`).join('; ');

const dir = mkdtempSync(join(tmpdir(), 'fliqs-cli-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const junk = join(dir, 'junk.fliqs');
writeFileSync(junk, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]));
const missing = join(dir, 'missing');

/** A few bad argument lists per command: unknown flags, missing or wrong-typed values, bad paths. */
const CASES: Record<string, string[][]> = {
  search: [['--bogus'], ['--epochs', 'two'], ['--gamma', 'x'], ['--pin', 'nope'], ['--threads', '0']],
  train: [['--model', 'resnet9'], ['--epochs', '0'], ['--format', 'FP8'], ['stray']],
  start: [['--seed', 'x'], ['--bogus'], ['--threads', 'many']],
  export: [[], [missing], [dir], ['--out'], [dir, '--threads', '1e3']],
  eval: [[], [missing], [junk], [junk, '--batch', '0'], [junk, '--threads']],
  report: [[], [missing], [dir, dir], [dir, '--threads', '-1'], [dir, '--bogus']],
  pareto: [['--widths', 'x'], ['--epochs', '-1'], ['--seed'], ['--jobs', '0'], ['--jobs', 'x'], ['--threads', '300'], ['--targets', 'bogus'], ['--targets', '0.5xFP7']],
  analyze: [['--dist', 'cauchy'], ['--tensors', '0'], ['--sigma-t', '-1'], ['--n', ''], ['--threads', '']],
  demo: [['--seed', 'x'], ['--seed', '-1'], ['--bogus'], ['stray'], ['--threads', '2.5']],
  serve: [['--port', 'x'], ['--port', '70000'], ['--dir', missing], ['--dir', junk], ['--bogus'], ['stray'], ['--threads', '0']],
};

describe('fliqs CLI with bad arguments', () => {
  it('every command exits non-zero with a one-line message and no stack trace', async () => {
    const runs = Object.entries(CASES).flatMap(([cmd, lists]) => lists.map((args) => [cmd, ...args]));
    const results: Array<[string[], ChildResult]> = [];
    for (let i = 0; i < runs.length; i += 4) { // 4 processes at a time
      const batch = runs.slice(i, i + 4);
      results.push(...(await Promise.all(batch.map(async (a) => [a, await fliqs(a)] as [string[], ChildResult]))));
    }
    const bad = results.filter(([args, r]) => {
      const lines = r.err.trimEnd().split('\n');
      return overLimit(r) || !(r.code !== null && r.code !== 0 && lines.length === 1 && /^fliqs [a-z]+: /.test(lines[0]!) && !/\n\s+at /.test(r.err));
    }).map(([args, r]) => `fliqs ${args.join(' ')} → exit ${r.code}, ${r.peakMB.toFixed(0)} MB, killed: ${r.killed}: ${r.err.slice(0, 400)}`);
    expect(bad).toEqual([]);
  });

  it('random argument lists (seeded): no stack trace, no hang, exit 0/1/2, no unknown flag accepted', async () => {
    // Known flags with hostile values, unknown flags and stray words, mixed; runs that would train are cut
    // short with --stop-after 1 (train, search) or a tiny --limit. The oracle is the contract for any input:
    // one `fliqs <command>:` line on failure, never a stack trace, never more than the time limit, and never
    // exit 0 with an unknown flag.
    const commands = ['search', 'train', 'export', 'eval', 'report', 'analyze', 'demo', 'pareto'];
    const flags = ['--model', '--width', '--data', '--epochs', '--batch', '--lr', '--seed', '--limit', '--validation', '--space', '--target',
      '--format', '--threads', '--jobs', '--out', '--gamma', '--steps', '--log-every', '--checkpoint-every', '--tensors', '--n', '--dist',
      '--widths', '--targets', '--uniform', '--pin', '--val-batch', '--bogus', '--resume', '--help'];
    const values = ['', '0', '-1', '1', '2', '1.5', 'NaN', 'Infinity', '1e309', '2147483648', '4294967297', '9'.repeat(40), 'abc', 'INT4', 'E9M9',
      '0.5xINT8', 'cnn', 'synthetic', 'gaussian', dir, junk, missing, '/dev/null', '/proc/x', '--', '=', 'x=y', '\u0000'];
    let seed = 12345;
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const runs: string[][] = [];
    for (let i = 0; i < 48; i++) {
      const cmd = commands[rand(commands.length)]!;
      const args = cmd === 'export' || cmd === 'eval' || cmd === 'report' ? [values[rand(values.length)]!] : [];
      for (let k = rand(4); k >= 0; k--) {
        args.push(flags[rand(flags.length)]!);
        if (rand(5) > 0) args.push(values[rand(values.length)]!);
      }
      if (cmd === 'train' || cmd === 'search') args.push('--stop-after', '1', '--limit', '256', '--out', join(dir, `run-${i}`));
      if (cmd === 'pareto') args.push('--limit', '256', '--steps', '2', '--out', join(dir, `sweep-${i}`));
      runs.push([cmd, ...args]);
    }
    const results: Array<[string[], ChildResult]> = [];
    for (let i = 0; i < runs.length; i += 4) {
      const batch = runs.slice(i, i + 4);
      results.push(...(await Promise.all(batch.map(async (a) => [a, await fliqs(a)] as [string[], ChildResult]))));
    }
    // An unknown flag must never be accepted (unless --help asked for the help instead).
    const mustFail = (args: string[]): boolean => args.includes('--bogus') && !args.includes('--help');
    const bad = results.filter(([args, r]) => overLimit(r) || r.code === null || ![0, 1, 2].includes(r.code) || /\n\s+at |node:internal/.test(r.err)
      || (r.code !== 0 && !/^fliqs [a-z]*:? /m.test(r.err)) || (mustFail(args) && r.code === 0))
      .map(([args, r]) => `fliqs ${args.join(' ')} → exit ${r.code}, ${r.peakMB.toFixed(0)} MB, killed: ${r.killed}: ${r.err.slice(0, 300)}`);
    expect(bad, `highest peaks: ${peaks(results)}`).toEqual([]);
  }, 240_000);

  it('names that are not commands, prototype keys included, are usage errors (exit 2)', async () => {
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const r = await fliqs([name]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/^fliqs: unknown command/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
  it('size arguments taken at their word are refused before allocating (no --limit to cap them)', async () => {
    const out = (name: string): string[] => ['--stop-after', '1', '--out', join(dir, name)];
    // Refused (exit 2), or run within the limits with the size capped by the data (exit 0).
    const runs: Array<[string[], number]> = [
      [['search', '--data', 'synthetic', '--validation', '3000000', ...out('v3m')], 2],
      [['search', '--data', 'synthetic', '--validation', '2147483648', ...out('v2g')], 2],
      [['search', '--data', 'synthetic', '--val-batch', '2147483648', ...out('vb')], 0],
      [['train', '--data', 'synthetic', '--batch', '4294967297', ...out('tb')], 2],
    ];
    const results = await Promise.all(runs.map(async ([a, want]) =>
      [a, await fliqsChild(a, { timeMs: 20_000, memoryMB: LIMITS.memoryMB }), want] as [string[], ChildResult, number]));
    const bad = results.filter(([, r, want]) => overLimit(r) || r.code !== want || /\n\s+at /.test(r.err))
      .map(([args, r]) => `fliqs ${args.join(' ')} → exit ${r.code}, ${r.peakMB.toFixed(0)} MB, killed: ${r.killed}: ${r.err.slice(0, 300)}`);
    expect(bad).toEqual([]);
  }, 60_000);

  it('the memory check itself can fail: a limit below what Node needs flags the run', async () => {
    const r = await fliqsChild(['demo', '--help'], { timeMs: 20_000, memoryMB: 16 });
    expect(r.peakMB).toBeGreaterThan(16); // Node alone holds ~40 MB
    expect(overLimit(r) || r.peakMB > 16).toBe(true);
    const ok = await fliqs(['demo', '--help']);
    expect(ok.killed).toBe(null);
    expect(ok.peakMB).toBeGreaterThan(16); // the preload reported (a NaN would fail the limit check)
    expect(ok.peakMB).toBeLessThan(LIMITS.memoryMB);
  });
});
