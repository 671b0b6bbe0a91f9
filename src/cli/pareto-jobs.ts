// `fliqs pareto --jobs N`: the sweep's runs on N worker processes (pareto-worker.ts, started with
// child_process.fork). Each worker parses the sweep's arguments itself and runs one job at a time as the
// parent sends them, in the serial order; the parent alone writes pareto.csv and runs.jsonl (onDone), as each
// run finishes. One display for all: a line per finished run and a status line with the runs in flight
// (redrawn in place on a terminal, printed after each change otherwise). A worker that fails stops the others
// and ends the sweep with its error; SIGINT / SIGTERM stop every worker. Node-only.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FliqsError } from '../core/errors.js';
import { jobName, type JobOutcome, type ParetoRow, type SweepJob } from './pareto-sweep.js';
import { formatTime } from './progress.js';
import type { Io } from './search.js';

/** Parent → worker: the sweep's arguments and thread count once, then one job at a time. */
export type ToWorker = { type: 'init'; args: string[]; threads: number } | { type: 'run'; job: SweepJob };
/** A worker's error, as data: a FliqsError's fields, or any other error's message and stack. */
export type WorkerError = { fliqs: true; input: string; problem: string; accepted: string | undefined } | { fliqs: false; message: string };
/** Worker → parent: a job's outcome, its failure, or a line it printed. */
export type FromWorker =
  | { type: 'done'; index: number; outcome: JobOutcome }
  | { type: 'failed'; index: number; error: WorkerError }
  | { type: 'log'; text: string };

export interface ParallelSweep {
  /** The `fliqs pareto` arguments: every worker parses them with parseSweep. */
  args: readonly string[];
  /** The runs left, in the serial order. */
  todo: readonly SweepJob[];
  processes: number;
  threads: number;
  io: Io;
  /** Records a finished run (pareto.csv, runs.jsonl); returns its progress line. */
  onDone(job: SweepJob, outcome: { row: ParetoRow; extra: Record<string, unknown> }): string;
}

/** How a parallel sweep ended: every run done, a run's error (a FliqsError when the worker threw one), or a signal. */
export type ParallelEnd = { ok: true } | { error: unknown } | { signal: NodeJS.Signals };

/** The worker module beside this file (in dist/cli/ of a built fliqs). */
function workerFile(): string {
  const file = fileURLToPath(new URL('./pareto-worker.js', import.meta.url));
  if (!existsSync(file)) throw new FliqsError('--jobs', `needs the worker module ${file}, which is not there`, '--jobs 1, or the built CLI (npm run build)');
  return file;
}

/** Rebuilds a worker's error in the parent. */
export function workerError(e: WorkerError, job: SweepJob): Error {
  if (e.fliqs) return new FliqsError(e.input, e.problem, e.accepted);
  return new Error(`${jobName(job)} failed in a worker process: ${e.message}`);
}

/** A line per event, with a status line of the runs in flight under them (kept at the bottom on a terminal). */
class Display {
  private status = '';
  private readonly start = Date.now();
  constructor(private readonly io: Io, private readonly tty: boolean) {}

  line(s: string): void {
    if (this.tty && this.status) this.io.err('\r\x1b[K');
    this.io.err(s);
    if (this.tty && this.status) this.io.err(this.status);
  }

  show(finished: number, total: number, running: readonly string[]): void {
    const s = `[${finished}/${total} runs, ${formatTime((Date.now() - this.start) / 1000)}]${running.length ? ` running: ${running.join('; ')}` : ''}`;
    if (!this.tty) { this.io.err(`${s}\n`); return; }
    const width = Math.max(20, ((this.io.progress ?? process.stderr).columns || 120) - 1); // one row, or \r cannot redraw it
    this.status = s.length > width ? `${s.slice(0, width - 1)}…` : s;
    this.io.err(`\r\x1b[K${this.status}`);
  }

  end(): void {
    if (this.tty && this.status) this.io.err('\r\x1b[K');
    this.status = '';
  }
}

interface Slot { child: ChildProcess; job: SweepJob | null; stderr: string }

/**
 * Runs `todo` on `processes` worker processes with `threads` kernel threads each; resolves when every worker has
 * exited. Runs a worker reports unreachable (a target no configuration meets) skip the rest of their group.
 */
export function runParallel(p: ParallelSweep): Promise<ParallelEnd> {
  const file = workerFile();
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--inspect')); // the same wasm module variant as here
  const tty = Boolean((p.io.progress ?? process.stderr).isTTY);
  const display = new Display(p.io, tty);
  const queue = [...p.todo], total = p.todo.length;
  const unreachable = new Set<string>();
  const slots = new Set<Slot>();
  let finished = 0, end: ParallelEnd | null = null;

  return new Promise((resolve) => {
    const stopAll = (why: ParallelEnd): void => {
      end ??= why;
      for (const s of slots) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    };
    const onSignal = (sig: NodeJS.Signals): void => stopAll({ signal: sig });
    const ticker = tty ? setInterval(() => status(), 1000).unref() : null;
    const status = (): void => display.show(finished, total, [...slots].flatMap((s) => (s.job ? [jobName(s.job)] : [])));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const next = (s: Slot): void => {
      while (queue.length > 0 && unreachable.has(queue[0]!.group)) { queue.shift(); finished++; }
      const job = end ? undefined : queue.shift();
      s.job = job ?? null;
      if (job) s.child.send({ type: 'run', job } satisfies ToWorker);
      else if (s.child.connected) s.child.disconnect(); // an idle worker with no channel exits
    };

    const onMessage = (s: Slot, m: FromWorker): void => {
      if (m.type === 'log') { display.line(m.text); return; }
      const job = s.job;
      if (!job || job.index !== m.index) return;
      s.job = null;
      if (m.type === 'failed') { stopAll({ error: workerError(m.error, job) }); return; }
      finished++;
      const o = m.outcome;
      try {
        if ('skip' in o) {
          const first = o.unreachable ? !unreachable.has(job.group) : true;
          if (o.unreachable) unreachable.add(job.group);
          if (first) display.line(`  ${o.skip}\n`);
        } else {
          display.line(p.onDone(job, o));
        }
      } catch (e) {
        stopAll({ error: e });
        return;
      }
      next(s);
      status();
    };

    const onExit = (s: Slot, code: number | null, signal: NodeJS.Signals | null): void => {
      slots.delete(s);
      if (s.job && !end) {
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const tail = s.stderr.trim().split('\n').slice(-8).join('\n');
        stopAll(signal === 'SIGINT' || signal === 'SIGTERM' ? { signal }
          : { error: new Error(`the worker process running ${jobName(s.job)} ${how}${tail ? `:\n${tail}` : ''}`) });
      }
      if (slots.size > 0) return;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (ticker) clearInterval(ticker);
      display.end();
      resolve(end ?? { ok: true });
    };

    for (let i = 0; i < Math.min(p.processes, total); i++) {
      const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
      const s: Slot = { child, job: null, stderr: '' };
      slots.add(s);
      // gone = exited and its stderr read to the end (the ChildProcess 'close' event does not come after disconnect())
      let closes = 0, exit: [number | null, NodeJS.Signals | null] = [null, null];
      const gone = (): void => { if (++closes === 2 && slots.has(s)) onExit(s, ...exit); };
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { s.stderr = (s.stderr + d).slice(-16384); }).on('close', gone);
      child.on('message', (m) => onMessage(s, m as FromWorker));
      child.on('error', (e) => { // a failed start or send: reported when the worker is gone
        s.stderr += `\n${e.message}`;
        if (child.pid === undefined) { if (slots.has(s)) onExit(s, null, null); } else child.kill('SIGTERM');
      });
      child.on('exit', (code, signal) => { exit = [code, signal]; gone(); });
      child.send({ type: 'init', args: [...p.args], threads: p.threads } satisfies ToWorker);
      next(s);
    }
    status();
  });
}
