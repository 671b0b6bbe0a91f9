// The `fliqs` command as a user runs it (from dist/, which `npm test` builds first).
import { spawnSync } from 'node:child_process';
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

  it('an unknown command is a usage error (exit 2)', () => {
    const r = fliqs('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/usage: fliqs <command>/);
  });
});
