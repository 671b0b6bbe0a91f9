// `fliqs pareto --jobs N` as a user runs it (from dist/: the worker processes run the built pareto-worker.js):
// the same pareto.csv rows as a serial sweep (apart from wall_seconds), a resume that skips the finished rows, a
// SIGTERM that stops every worker and resumes, and a failing run that stops the sweep with its message.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const NODE = [process.execPath, '--experimental-wasm-relaxed-simd', 'dist/cli/main.js'];
const root = mkdtempSync(join(tmpdir(), 'fliqs-pareto-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 2 uniform baselines, one search and its two controls: 5 runs of 12 steps on 300 synthetic images
const SWEEP = ['pareto', '--model', 'cnn', '--data', 'synthetic', '--limit', '300', '--batch', '50', '--epochs', '2', '--widths', '0.5',
  '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8,INT4', '--controls', '--gamma', '3'];

function fliqs(...args: string[]) {
  const r = spawnSync(NODE[0]!, [...NODE.slice(1), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** pareto.csv without the wall_seconds column. */
const rows = (dir: string): string[] => readFileSync(join(dir, 'pareto.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 7).join(','));
/** runs.jsonl without wall seconds, sorted (a parallel sweep appends in the order runs finish). */
const runs = (dir: string): string[] => readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n')
  .map((l) => { const { wallSeconds: _w, ...r } = JSON.parse(l); return JSON.stringify(r); }).sort();
/** A search's result.json without the wall time and the thread count. */
const result = (dir: string): unknown => { const { wallSeconds: _w, threads: _t, ...r } = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')); return r; };
/** Worker processes of this checkout still running. */
const workers = (): number => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(resolve('dist/cli/pareto-worker.js')); } catch { return false; }
}).length;

describe('fliqs pareto --jobs', () => {
  const serial = join(root, 'serial'), parallel = join(root, 'parallel');

  it('gives the rows of the serial sweep, in its order, and the same search results', () => {
    const a = fliqs(...SWEEP, '--out', serial);
    expect(a.code, a.err).toBe(0);
    const b = fliqs(...SWEEP, '--jobs', '2', '--out', parallel);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toMatch(/5 runs on 2 worker processes, 1 thread each/);
    expect(b.err).toMatch(/running: /);
    expect(rows(serial)).toHaveLength(6);
    expect(rows(parallel)).toEqual(rows(serial));
    expect(b.out.trim().split('\n').map((l) => l.split(',').slice(0, 7).join(','))).toEqual(rows(serial)); // the CSV on stdout too
    expect(runs(parallel)).toEqual(runs(serial));
    for (const d of ['fliqs-int-s-w0.5-0.5xINT8-s0', 'fliqs-int-s-w0.5-0.5xINT8-s0-constq']) {
      expect(result(join(parallel, d)), d).toEqual(result(join(serial, d)));
      expect(JSON.parse(readFileSync(join(parallel, d, 'result.json'), 'utf8')).threads, d).toBe(1);
    }
  });

  it('a rerun skips the rows it finds and keeps them first, then adds the rest in the serial order', () => {
    const out = join(root, 'seeded');
    const [header, ...body] = readFileSync(join(serial, 'pareto.csv'), 'utf8').trim().split('\n');
    // a finished INT4 row with a marker accuracy: kept as it is, not run again
    const int4 = body.find((l) => l.startsWith('uniform,INT4,'))!.split(',').map((c, i) => (i === 6 ? '0.1234' : i === 7 ? '99.0' : c)).join(',');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'pareto.csv'), `${header}\n${int4}\n`);
    const r = fliqs(...SWEEP, '--jobs', '2', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('(1 finished runs found');
    expect(r.err).not.toMatch(/uniform INT4 ×0\.5 seed 0:/);
    const csv = readFileSync(join(out, 'pareto.csv'), 'utf8').trim().split('\n');
    expect(csv[1]).toBe(int4);
    expect(rows(out)).toEqual([rows(serial)[0], int4.split(',').slice(0, 7).join(','), ...rows(serial).filter((l) => !l.startsWith('uniform,INT4,')).slice(1)]);
    expect(runs(out)).toEqual(runs(serial).filter((l) => !l.includes('"spaceOrFormat":"INT4"')));
  });

  it('SIGTERM stops the parent and every worker; the same command then resumes to the serial rows', async () => {
    const out = join(root, 'killed');
    const child = spawn(NODE[0]!, [...NODE.slice(1), ...SWEEP, '--jobs', '2', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let sent = false; // once: a second signal after the sweep stopped would end the process the default way
    await new Promise<void>((done) => child.stderr.on('data', (d) => {
      err += d;
      if (!sent && err.includes('running: ')) { sent = true; child.kill('SIGTERM'); done(); }
    }));
    const code = await new Promise((done) => child.on('close', (c) => done(c)));
    expect(code, err).toBe(143);
    expect(err).toMatch(/stopped by SIGTERM.*resumes the sweep/);
    for (let i = 0; i < 40 && workers() > 0; i++) await new Promise((w) => setTimeout(w, 50));
    expect(workers()).toBe(0);
    const r = fliqs(...SWEEP, '--jobs', '2', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(rows(out)).toEqual(rows(serial));
  });

  it('a failing run stops the sweep with its message and exit code', () => {
    const out = join(root, 'nan');
    const r = fliqs(...SWEEP, '--lr', '1e30', '--jobs', '2', '--out', out);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/fliqs pareto: training diverged — loss: became/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, 'pareto.csv'))).toBe(true);
    expect(fliqs(...SWEEP, '--jobs', '0', '--out', out).code).toBe(2);
  });
});
