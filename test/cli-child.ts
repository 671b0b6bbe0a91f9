// Runs `fliqs …` from dist/ as a child process under a time and a memory limit. Memory is measured two ways:
// a watchdog reads the child's /proc/<pid>/status (VmHWM, its peak RSS) every 100 ms and kills it past the
// limit (so a runaway allocation never takes the machine down), and test/rss-preload.mjs reports each
// process's exact peak RSS at exit (short spikes between polls, and pareto's worker processes). A limit on
// address space (RLIMIT_AS) cannot serve: wasm reserves many GB of virtual memory up front.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ChildResult {
  code: number | null;
  err: string;
  /** Peak resident memory in MB over the child and every process it started (NaN if none reported). */
  peakMB: number;
  /** Why the watchdog killed it: 'time' or 'memory', else null. */
  killed: 'time' | 'memory' | null;
}

const PRELOAD = pathToFileURL(resolve('test/rss-preload.mjs')).href;

function vmHwmMB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0; // exited
  }
}

/** Runs `node dist/cli/main.js ...args`; kills it past `timeMs` or `memoryMB` (peak RSS). */
export function fliqsChild(args: string[], limits: { timeMs: number; memoryMB: number }): Promise<ChildResult> {
  const rssDir = mkdtempSync(join(tmpdir(), 'fliqs-rss-'));
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', PRELOAD, 'dist/cli/main.js', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLIQS_TEST_RSS_DIR: rssDir } });
    let err = '', killed: ChildResult['killed'] = null, polledMB = 0;
    p.stderr.on('data', (d) => { err += d; });
    const stop = (why: 'time' | 'memory'): void => { killed ??= why; p.kill('SIGKILL'); };
    const timer = setTimeout(() => stop('time'), limits.timeMs);
    const watch = setInterval(() => {
      polledMB = Math.max(polledMB, vmHwmMB(p.pid!));
      if (polledMB > limits.memoryMB) stop('memory');
    }, 100);
    p.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(watch);
      const reported = readdirSync(rssDir).map((f) => Number(readFileSync(join(rssDir, f), 'utf8')) / 1024);
      rmSync(rssDir, { recursive: true, force: true });
      const all = [polledMB, ...reported].filter((x) => x > 0);
      done({ code, err, peakMB: all.length ? Math.max(...all) : NaN, killed });
    });
  });
}
