// Bad arguments to every `fliqs` command (from dist/, like test/cli.test.ts): each exits non-zero with a
// one-line `fliqs <command>: …` message on stderr, never a stack trace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

function fliqs(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--experimental-wasm-relaxed-simd', 'dist/cli/main.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill(), 30_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, err }); });
  });
}

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
    const results: Array<[string[], { code: number | null; err: string }]> = [];
    for (let i = 0; i < runs.length; i += 4) { // 4 processes at a time
      const batch = runs.slice(i, i + 4);
      results.push(...(await Promise.all(batch.map(async (a) => [a, await fliqs(a)] as [string[], { code: number | null; err: string }]))));
    }
    const bad = results.filter(([args, r]) => {
      const lines = r.err.trimEnd().split('\n');
      return !(r.code !== null && r.code !== 0 && lines.length === 1 && /^fliqs [a-z]+: /.test(lines[0]!) && !/\n\s+at /.test(r.err));
    }).map(([args, r]) => `fliqs ${args.join(' ')} → exit ${r.code}: ${r.err.slice(0, 400)}`);
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
    const results: Array<[string[], { code: number | null; err: string }]> = [];
    for (let i = 0; i < runs.length; i += 4) {
      const batch = runs.slice(i, i + 4);
      results.push(...(await Promise.all(batch.map(async (a) => [a, await fliqs(a)] as [string[], { code: number | null; err: string }]))));
    }
    // An unknown flag must never be accepted (unless --help asked for the help instead).
    const mustFail = (args: string[]): boolean => args.includes('--bogus') && !args.includes('--help');
    const bad = results.filter(([args, r]) => r.code === null || ![0, 1, 2].includes(r.code) || /\n\s+at |node:internal/.test(r.err)
      || (r.code !== 0 && !/^fliqs [a-z]*:? /m.test(r.err)) || (mustFail(args) && r.code === 0))
      .map(([args, r]) => `fliqs ${args.join(' ')} → exit ${r.code}: ${r.err.slice(0, 300)}`);
    expect(bad).toEqual([]);
  }, 240_000);

  it('names that are not commands, prototype keys included, are usage errors (exit 2)', async () => {
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const r = await fliqs([name]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/^fliqs: unknown command/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
