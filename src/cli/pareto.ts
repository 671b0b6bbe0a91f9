// `fliqs pareto`: accuracy against cost for uniform-precision QAT baselines and FLIQS searches over
// widths, targets, spaces and seeds. Writes pareto.csv (one row per finished run; a rerun skips the
// rows it finds, so an interrupted sweep resumes run by run), runs.jsonl, pareto.svg, and one run
// directory per search. With --controls every search gets two controls: the same search with a constant
// quality signal (the controller hears only the cost), and a configuration drawn uniformly among those
// within ±10% of the target, trained from scratch with its formats fixed. Flags of `fliqs search` that the
// sweep does not set itself are passed to every search. The runs are listed and run by pareto-sweep.ts, one after
// another here or, with --jobs N, on N worker processes (pareto-jobs.ts); either way this process alone writes
// pareto.csv (the rows it found, then the new ones in the serial order: the same file for any --jobs, apart from
// wall_seconds) and runs.jsonl (as runs finish). Node-only (file I/O).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import type { DatasetName } from '../data/node/load.js';
import type { DatasetSplits } from '../data/dataset.js';
import { getThreads } from '../kernels/threads.js';
import { studyPlot } from '../report/study.js';
import { usage } from './args.js';
import { modelLabel } from './model-flag.js';
import { appendJsonLine, readRunFile, writeAtomic } from './files.js';
import { runParallel, type ParallelEnd } from './pareto-jobs.js';
import {
  FORWARDED, PARETO_FLAGS, PARETO_KINDS, jobName, parseSweep, rowKey, runJob, type ParetoRow, type Sweep, type SweepJob,
} from './pareto-sweep.js';
import { formatTime } from './progress.js';
import { loadData, processIo, runFailure, usageFailure, type Io } from './search.js';

export { PARETO_KINDS, randomControlSeed, runDirName, type ParetoRow } from './pareto-sweep.js';

const SUMMARY = 'Sweeps uniform QAT baselines and FLIQS searches (and, with --controls, their controls); writes pareto.csv, runs.jsonl and pareto.svg (accuracy vs MBOPs, mean ± std over seeds).\n'
  + `Any other flag of \`fliqs search\` is passed to every search: ${FORWARDED.map((k) => `--${k}`).join(' ')}.`;
/**
 * The columns of pareto.csv. The last three are a search's (and its constant-Q control's) cost ratio C(α*)/C_T,
 * final policy entropy (nats) and number of warnings (their text is in runs.jsonl); empty for uniform baselines,
 * random controls and rows of files written before the columns existed.
 */
export const PARETO_HEADER = 'kind,space_or_format,width,target,seed,mbops,test_accuracy,wall_seconds,cost_ratio,final_entropy,warnings';
/** The header of pareto.csv files written before cost_ratio, final_entropy and warnings (still read). */
export const PARETO_HEADER_V1 = 'kind,space_or_format,width,target,seed,mbops,test_accuracy,wall_seconds';

/** Reads pareto.csv, old (8 columns) or new (11; missing → no rows; a torn last line is ignored). */
export function readParetoCsv(path: string): ParetoRow[] {
  if (!existsSync(path)) return [];
  const lines = readRunFile(path).toString('utf8').split('\n').filter((l) => l.trim());
  if (lines.length === 0) return [];
  if (lines[0] !== PARETO_HEADER && lines[0] !== PARETO_HEADER_V1) {
    throw new FliqsError(path, `has the header ${JSON.stringify(lines[0])}`, `a pareto.csv with the header ${PARETO_HEADER} (or, from older versions, ${PARETO_HEADER_V1})`);
  }
  const columns = lines[0]!.split(',').length;
  const rows: ParetoRow[] = [];
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    if (c.length !== columns || !(PARETO_KINDS as readonly string[]).includes(c[0]!) || c.slice(5, 8).some((v) => !Number.isFinite(Number(v)))) continue;
    const opt = (v: string | undefined): number | undefined => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));
    const [costRatio, finalEntropy, warnings] = [opt(c[8]), opt(c[9]), opt(c[10])];
    rows.push({ kind: c[0] as ParetoRow['kind'], spaceOrFormat: c[1]!, width: Number(c[2]), target: c[3]!, seed: Number(c[4]),
      mbops: Number(c[5]), testAccuracy: Number(c[6]), wallSeconds: Number(c[7]),
      ...(costRatio !== undefined ? { costRatio } : {}), ...(finalEntropy !== undefined ? { finalEntropy } : {}), ...(warnings !== undefined ? { warnings } : {}) });
  }
  return rows;
}

function csv(rows: readonly ParetoRow[]): string {
  const opt = (v: number | undefined, d: number): string => (v === undefined ? '' : Number(v.toFixed(d)).toString());
  return `${[PARETO_HEADER, ...rows.map((r) => [r.kind, r.spaceOrFormat, r.width, r.target, r.seed, r.mbops.toPrecision(6),
    r.testAccuracy.toFixed(4), r.wallSeconds.toFixed(1), opt(r.costRatio, 4), opt(r.finalEntropy, 4), r.warnings ?? ''].join(','))].join('\n')}\n`;
}

/** The study plot of a sweep's rows (src/report/study.ts): mean ± std over seeds, markers per space, a legend. */
export function paretoSvg(rows: readonly ParetoRow[], title: string): string {
  return studyPlot(rows, { title });
}

/** pareto.csv and runs.jsonl of a sweep: the rows found in pareto.csv first, then the new ones in the serial order. */
class SweepFiles {
  readonly csvPath: string;
  readonly found: ParetoRow[];
  /** The runs found in pareto.csv (skipped by this invocation). */
  readonly done: Set<string>;
  private readonly added: Array<{ index: number; row: ParetoRow }> = [];

  constructor(readonly out: string) {
    this.csvPath = join(out, 'pareto.csv');
    this.found = readParetoCsv(this.csvPath);
    this.done = new Set(this.found.map(rowKey));
    // a new file, or one of an older version: written (again) with the current columns
    if (this.found.length === 0 || !readRunFile(this.csvPath).toString('utf8').startsWith(`${PARETO_HEADER}\n`)) writeAtomic(this.csvPath, csv(this.found));
  }

  rows(): ParetoRow[] {
    return [...this.found, ...this.added.map((a) => a.row)];
  }

  /** Adds a finished run's row (pareto.csv rewritten atomically, a line appended to runs.jsonl); returns its progress line. */
  save(job: SweepJob, r: { row: ParetoRow; extra: Record<string, unknown> }): string {
    const at = this.added.findIndex((a) => a.index > job.index);
    this.added.splice(at < 0 ? this.added.length : at, 0, { index: job.index, row: r.row });
    writeAtomic(this.csvPath, csv(this.rows()));
    appendJsonLine(join(this.out, 'runs.jsonl'), { ...r.row, ...r.extra });
    const x = r.row;
    return `  ${jobName(x)}: ${(100 * x.testAccuracy).toFixed(2)}% at ${x.mbops.toPrecision(4)} MBOPs (${formatTime(x.wallSeconds)})\n`;
  }
}

/**
 * `fliqs pareto [flags]`: 0 on success, 2 for bad input, 1 when a run diverges (or a worker process fails); with
 * --jobs > 1 the code comes as a promise (128 + the signal's number when interrupted).
 * @example
 * runPareto(['--data', 'synthetic', '--widths', '1', '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8', '--controls', '--out', 'runs/p']);
 */
export function runPareto(args: string[], io: Io = processIo): number | Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('pareto', SUMMARY, PARETO_FLAGS)); return 0; }
  let sweep: Sweep;
  try {
    sweep = parseSweep(args);
  } catch (e) {
    return usageFailure('pareto', e, io);
  }
  const f = sweep.flags, out = f.out!;
  let files: SweepFiles;
  try {
    files = new SweepFiles(out);
  } catch (e) {
    return runFailure('pareto', e, io, out);
  }
  const todo = sweep.jobs.filter((j) => !files.done.has(rowKey(j)));
  const finish = (): number => {
    const skipped = sweep.jobs.length - todo.length;
    if (skipped > 0) io.err(`(${skipped} finished runs found in ${files.csvPath} were skipped)\n`);
    const rows = files.rows();
    if (rows.length > 0) writeAtomic(join(out, 'pareto.svg'), paretoSvg(rows, `${modelLabel(f.model!)} on ${f.data}: test accuracy vs cost`));
    io.out(`${csv(rows)}`);
    io.err(`wrote ${files.csvPath} and ${join(out, 'pareto.svg')}\n`);
    return 0;
  };
  if (f.jobs! > 1 && todo.length > 1) {
    // the worker processes share the cores: each gets its part of the default thread count unless --threads says
    const processes = Math.min(f.jobs!, todo.length);
    const threads = f.threads ?? Math.max(1, Math.floor(getThreads() / processes));
    io.err(`fliqs pareto: ${todo.length} runs on ${processes} worker processes, ${threads} thread${threads > 1 ? 's' : ''} each\n`);
    let parallel: Promise<ParallelEnd>;
    try {
      parallel = runParallel({ args, todo, processes, threads, io, onDone: (job, r) => files.save(job, r) });
    } catch (e) {
      return runFailure('pareto', e, io, out);
    }
    return parallel.then((end) => {
      try {
        if ('signal' in end) {
          io.err(`fliqs pareto: stopped by ${end.signal}; the finished runs are in ${files.csvPath}, and the same command resumes the sweep\n`);
          return 128 + (end.signal === 'SIGINT' ? 2 : 15);
        }
        if ('error' in end) {
          if (end.error instanceof FliqsError) return runFailure('pareto', end.error, io, out);
          io.err(`fliqs pareto: ${(end.error as Error).message}\n`);
          return 1;
        }
        return finish();
      } catch (e) {
        return runFailure('pareto', e, io, out);
      }
    });
  }
  try {
    let data: DatasetSplits | undefined;
    const sweepData = (): DatasetSplits => (data ??= loadData({ data: f.data as DatasetName, limit: f.limit ?? null, validation: f.validation ?? null }));
    const unreachable = new Set<string>();
    for (const job of todo) {
      if (unreachable.has(job.group)) continue;
      const o = runJob(sweep, job, sweepData, io);
      if ('row' in o) { io.err(files.save(job, o)); continue; }
      if (o.unreachable) unreachable.add(job.group);
      io.err(`  ${o.skip}\n`);
    }
    return finish();
  } catch (e) {
    return runFailure('pareto', e, io, out);
  }
}
