// A worker process of `fliqs pareto --jobs N` (started by pareto-jobs.ts with child_process.fork): parses the
// sweep's arguments as the parent did, sets its kernel thread count, then runs one job per message and sends
// back the outcome; it writes no sweep file (only a search's own run directory) and exits when the parent
// closes the channel. A forked module rather than the CLI spawned per run: the IPC channel carries jobs,
// outcomes and FliqsError fields as data (no output to parse, no hidden flags), and one worker loads the
// dataset once for all the runs it does. Node-only.

import { FliqsError } from '../core/errors.js';
import type { DatasetSplits } from '../data/dataset.js';
import type { DatasetName } from '../data/node/load.js';
import { setThreads } from '../kernels/threads.js';
import type { FromWorker, ToWorker, WorkerError } from './pareto-jobs.js';
import { parseSweep, runJob, type Sweep } from './pareto-sweep.js';
import { loadData, type Io } from './search.js';

const send = (m: FromWorker): void => { if (process.connected) process.send!(m); };
const asData = (e: unknown): WorkerError => (e instanceof FliqsError
  ? { fliqs: true, input: e.input, problem: e.problem, accepted: e.accepted }
  : { fliqs: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });

const io: Io = { out: () => {}, err: (text) => send({ type: 'log', text }) };
let sweep: Sweep | null = null, setupError: unknown = null;
let data: DatasetSplits | null = null;
const sweepData = (): DatasetSplits => {
  const f = sweep!.flags;
  return (data ??= loadData({ data: f.data as DatasetName, limit: f.limit ?? null, validation: f.validation ?? null }));
};

process.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    try {
      sweep = parseSweep(m.args);
      setThreads(m.threads);
    } catch (e) {
      setupError = e;
    }
    return;
  }
  try {
    if (!sweep) throw setupError;
    send({ type: 'done', index: m.job.index, outcome: runJob(sweep, m.job, sweepData, io) });
  } catch (e) {
    send({ type: 'failed', index: m.job.index, error: asData(e) });
  }
});
