// Node's side of the thread pool (threads.ts loads this file only when it runs in Node): starting a worker
// with node:worker_threads, the core count, and the FLIQS_THREADS environment variable.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { WORKER_MAIN_SOURCE, type WorkerInit } from './thread-worker.js';

// An ES module in a data: URL rather than `eval: true` source, which runs as CommonJS or as an ES module
// depending on the parent's flags (--input-type=module made `require` undefined there).
const SOURCE = new URL(`data:text/javascript,${encodeURIComponent(
  `import { workerData } from 'node:worker_threads';\n(${WORKER_MAIN_SOURCE})(workerData);\n`)}`);

/**
 * Starts a worker thread running the pool's worker program on `init`. A worker's 'error' event (it failed to
 * load) is handled so it cannot crash the process: the pool sees the worker never report ready.
 */
export function startNodeWorker(init: WorkerInit): Worker {
  const w = new Worker(SOURCE, { workerData: init });
  w.on('error', () => {});
  return w;
}

/** Logical cores Node may use. */
export function nodeCores(): number {
  return availableParallelism();
}

/** The FLIQS_THREADS environment variable, or undefined. */
export function threadsFromEnv(): string | undefined {
  return process.env['FLIQS_THREADS'];
}
