// The `fliqs` command as a user runs it (from dist/, which `npm test` builds first).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function fliqs(...args: string[]) {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'dist/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fliqs CLI', () => {
  it('demo prints one row per format with SQNR figures that grow with the bits', () => {
    const r = fliqs('demo', '--seed', '3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('seed 3');
    const sqnr = (name: string): number => Number(r.out.split('\n').find((l) => l.startsWith(`${name} `))!.trim().split(/\s+/).at(-1));
    expect(sqnr('INT2')).toBeLessThan(sqnr('INT4'));
    expect(sqnr('INT4')).toBeLessThan(sqnr('INT8'));
    expect(sqnr('E2M1')).toBeLessThan(sqnr('E4M3'));
  });

  it('every command takes --threads and lists it in its help', () => {
    for (const cmd of ['start', 'search', 'train', 'export', 'eval', 'report', 'pareto', 'analyze', 'demo']) {
      const r = fliqs(cmd, '--help');
      expect(r.code, `${cmd}: ${r.err}`).toBe(0);
      expect(r.out, cmd).toMatch(/\n {2}--threads <int> +threads for the kernels \(default: (all cores|FLIQS_THREADS), \d+\)\n/);
    }
  });

  it('--threads outside 1..256 is a usage error naming the flag and what it accepts', () => {
    for (const [args, shown] of [[['demo', '--threads', '0'], '0 is outside'], [['demo', '--threads=257'], '257 is outside'],
      [['search', '--threads', 'all'], '"all" is not an integer'], [['report', 'runs/x', '--threads', '1.5'], '"1.5" is not an integer'],
      [['train', '--threads', '-3'], '-3 is outside']] as const) {
      const r = fliqs(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(new RegExp(`^fliqs ${args[0]}: --threads ${shown.replace(/[.[\]]/g, '\\$&')}.*; accepted: an integer from 1 to 256`));
      expect(r.err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const ok = fliqs('demo', '--threads', '1', '--seed', '3');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe(fliqs('demo', '--threads', '2', '--seed', '3').out); // the same figures on any thread count
  });

  it('start --help describes start (on stdout, exit 0)', () => {
    const r = fliqs('start', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: fliqs start/);
    expect(r.out).toMatch(/exports its result/);
  });

  it('an unexpected error (a bug) is one line pointing at a file with the trace, exit 1', () => {
    // stdout.write throwing a TypeError stands in for a bug inside a command
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import',
      'data:text/javascript,process.stdout.write=()=>{throw new TypeError("boom")}', 'dist/cli/main.js', 'demo'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    const m = /^fliqs demo: unexpected error: boom \(the trace is in (\S+\.log); please report it\)\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(readFileSync(m![1]!, 'utf8')).toMatch(/TypeError: boom\n\s+at /);
  });

  it('--version prints the package version and exits 0', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = fliqs(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`fliqs ${version}\n`);
    }
  });

  it('an unknown command is a usage error (exit 2)', () => {
    const r = fliqs('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/usage: fliqs <command>/);
  });
});
