// Node's side of starting workers (workers.ts loads this file only when it runs in Node): a worker thread from
// a data: URL module, the core count, and the FLIQS_THREADS environment variable.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { StartedWorker } from './workers.js';

// An ES module in a data: URL rather than `eval: true` source, which runs as CommonJS or as an ES module
// depending on the parent's flags (--input-type=module made `require` undefined there).
const sources = new Map<string, URL>();
function source(program: string): URL {
  let url = sources.get(program);
  if (!url) {
    url = new URL(`data:text/javascript,${encodeURIComponent(`import { workerData, parentPort } from 'node:worker_threads';
const port = { post: (m, t) => parentPort.postMessage(m, t), listen: (fn) => parentPort.on('message', fn) };
(${program})(workerData, port);
`)}`);
    sources.set(program, url);
  }
  return url;
}

/**
 * Starts a worker thread running `program` (see workers.ts) on `init`. Its 'error' event (it failed to load or
 * threw) is always handled, so it cannot crash the process; so is an exit nobody asked for.
 */
export function startNodeWorker(program: string, init: unknown): StartedWorker {
  const w = new Worker(source(program), { workerData: init });
  let failed: ((m: string) => void) | null = null, said = false, ending = false;
  const fail = (m: string): void => { if (!said && failed) { said = true; failed(m); } };
  w.on('error', (e: unknown) => fail(e instanceof Error ? e.message : String(e)));
  w.on('exit', (code) => { if (!ending) fail(`the worker exited (code ${code})`); });
  return {
    post: (m, t) => w.postMessage(m, t as never),
    onMessage: (fn) => { w.on('message', fn); },
    onError: (fn) => { failed = fn; },
    terminate: () => { ending = true; void w.terminate(); },
    unref: () => w.unref(),
  };
}

/** Logical cores Node may use. */
export function nodeCores(): number {
  return availableParallelism();
}

/** The FLIQS_THREADS environment variable, or undefined. */
export function threadsFromEnv(): string | undefined {
  return process.env['FLIQS_THREADS'];
}
