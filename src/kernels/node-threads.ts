// Node's side of the thread pool (threads.ts loads this file only when it runs in Node): starting a worker
// with node:worker_threads, the core count, and the FLIQS_THREADS environment variable.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { WORKER_MAIN_SOURCE, type WorkerInit } from './thread-worker.js';

const SOURCE = `const { workerData } = require('node:worker_threads');\n(${WORKER_MAIN_SOURCE})(workerData);\n`;

/** Starts a worker thread running the pool's worker program on `init`. */
export function startNodeWorker(init: WorkerInit): Worker {
  return new Worker(SOURCE, { eval: true, workerData: init });
}

/** Logical cores Node may use. */
export function nodeCores(): number {
  return availableParallelism();
}

/** The FLIQS_THREADS environment variable, or undefined. */
export function threadsFromEnv(): string | undefined {
  return process.env['FLIQS_THREADS'];
}
