// startSearch: a FLIQS search in a worker (a Web Worker in browsers, a worker thread in Node), so a page stays
// responsive. The worker (kernels/workers.ts starts it) imports run.ts from beside this module — located from
// import.meta.url, so it works from dist/ with no bundler in a browser and in Node — and runs the same Search
// as the synchronous API: the same options and seed give the same result, bit for bit. Options are checked
// here first (bad ones throw a FliqsError before any worker starts); what only the search can check comes back
// as a rejected `result` with the worker's FliqsError. The worker is always terminated at the end. Browser-safe.

import { FliqsError, describe, requireInt, requireObject } from '../core/errors.js';
import { checkDataset, type DatasetSplits } from '../data/dataset.js';
import { spawnWorker, type StartedWorker } from '../kernels/workers.js';
import { MODEL_NAMES } from '../nn/zoo.js';
import type { ErrorData, FromWorker, SearchOutcome, SearchProgress, SearchStart, WorkerSearchOptions } from './protocol.js';

export interface StartSearchOptions extends WorkerSearchOptions {
  /** URL of the worker's module (dist/worker/run.js of this package, the default). A bundled app points it at a copy it serves. */
  workerUrl?: string | URL;
  /** How long the worker may take to load that module before the search fails (ms, default 60000). */
  startTimeoutMs?: number;
}

/** What a worker search can be in. */
export type SearchState = 'starting' | 'running' | 'paused' | 'done' | 'failed';

interface Events {
  start: SearchStart;
  progress: SearchProgress;
}

/** A running worker search: events, control, and the outcome. */
export interface SearchHandle {
  /** The outcome; rejects with a FliqsError (the worker's, or why the worker failed), and once terminate() is called. */
  readonly result: Promise<SearchOutcome>;
  readonly state: SearchState;
  /** Listens to 'start' (the search is built: layers, steps, threads) or 'progress' events; returns a function that stops listening. */
  on<K extends keyof Events>(event: K, fn: (e: Events[K]) => void): () => void;
  /** Holds the search between two steps until resume(). */
  pause(): void;
  resume(): void;
  /** Ends the search after the current step: `result` then holds the policy's result so far (stopped: true), with its model. */
  stop(): void;
  /** Ends the worker now; `result` rejects. */
  terminate(): void;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;

/**
 * The worker program (kernels/workers.ts runs it): imports run.js by URL and hands it the options and a port whose
 * messages are held until run.js listens. Source text rather than a function's toString(), so that no bundler or
 * test transform rewrites its import().
 */
const PROGRAM = `async (init, port) => {
  const inbox = [];
  let handler = null;
  port.listen((m) => (handler ? handler(m) : inbox.push(m)));
  let mod;
  try {
    mod = await import(init.workerUrl);
  } catch (e) {
    port.post({ type: 'error', error: { fliqs: true, input: 'workerUrl', problem: 'the worker could not load ' + init.workerUrl + ': ' + (e && e.message ? e.message : String(e)),
      accepted: "the URL of fliqs's dist/worker/run.js, served with the rest of dist/ (npx fliqs serve)" } });
    return;
  }
  port.post({ type: 'loaded' });
  await mod.runSearchWorker(init.options, { post: (m, t) => port.post(m, t), listen: (fn) => { handler = fn; for (const m of inbox.splice(0)) fn(m); } });
}`;

/** The URL of run.js beside this module (dist/worker/run.js). */
function defaultWorkerUrl(): string {
  return new URL('./run.js', import.meta.url).href;
}

const isNode = (): boolean => Boolean((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node);

/** Checks what can be checked without building the search, and that the options can be sent to a worker. */
function checkOptions(options: StartSearchOptions): void {
  requireObject('options', options, '{ model, data, space, target, train, … }');
  const o = options as unknown as Record<string, unknown>;
  if (typeof o['model'] !== 'string' || !(MODEL_NAMES as string[]).includes(o['model'])) {
    throw new FliqsError('model', `${describe(o['model'])} is not a zoo model`, MODEL_NAMES.join(', '));
  }
  const w = o['width'];
  if (w !== undefined && (typeof w !== 'number' || !(w > 0) || w > 8)) throw new FliqsError('width', `got ${describe(w)}`, 'a multiplier in (0, 8], e.g. 0.25, 0.5, 1');
  const space = o['space'];
  if (typeof space !== 'string' && !(Array.isArray(space) && space.every((f) => typeof f === 'string'))) {
    throw new FliqsError('space', `got ${describe(space)}`, 'a preset (int-s, int-l, fp-s, fp-l), presets joined with +, or a list of formats');
  }
  const t = o['target'];
  if (!(typeof t === 'string' || (typeof t === 'number' && Number.isFinite(t) && t > 0))) {
    throw new FliqsError('target', `got ${describe(t)}`, 'MBOPs as a number > 0, or a string such as 0.5xINT8 or 12.5MBOPs');
  }
  requireObject('train', o['train'], '{ epochs, batchSize, optimizer, lr, seed?, maxSteps?, … }');
  if (o['threads'] !== undefined) requireInt('threads', o['threads'], 1, 256);
  const pm = o['progressMs'];
  if (pm !== undefined && (typeof pm !== 'number' || !Number.isFinite(pm) || pm < 0)) throw new FliqsError('progressMs', `got ${describe(pm)}`, 'a number of milliseconds ≥ 0');
  const st = o['startTimeoutMs'];
  if (st !== undefined && (typeof st !== 'number' || !Number.isFinite(st) || st <= 0)) throw new FliqsError('startTimeoutMs', `got ${describe(st)}`, 'a number of milliseconds > 0');
  const u = o['workerUrl'];
  if (u !== undefined && typeof u !== 'string' && !(u instanceof URL)) throw new FliqsError('workerUrl', `got ${describe(u)}`, 'a URL (string or URL)');
  const data = o['data'] as Record<string, unknown> | undefined;
  requireObject('data', data, '{ train, validation, test } datasets (Float32Array images, Int32Array labels), or { name } of a built-in dataset (Node)');
  if ('train' in data!) {
    const splits = data as unknown as DatasetSplits;
    const train = checkDataset('data.train', splits.train);
    for (const split of ['validation', 'test'] as const) {
      const d = checkDataset(`data.${split}`, splits[split]);
      if (d.shape.join() !== train.shape.join() || d.classes !== train.classes) {
        throw new FliqsError(`data.${split}`, `has shape [${d.shape}] and ${d.classes} classes, data.train [${train.shape}] and ${train.classes}`, 'splits of one dataset');
      }
      if (d.labels.length === 0) throw new FliqsError(`data.${split}`, 'is empty', 'at least one example');
    }
    requireInt('data.train.classes', train.classes, 2);
  } else if (typeof data!['name'] !== 'string') {
    throw new FliqsError('data', `got ${describe(data)}`, '{ train, validation, test } datasets, or { name } of a built-in dataset (Node)');
  } else if (!isNode()) {
    throw new FliqsError('data', `names the dataset ${describe(data!['name'])}, which only Node can load`, '{ train, validation, test } arrays (e.g. from parseNpy)');
  }
}

/** A FliqsError from the worker's error data. */
function rebuild(e: ErrorData): FliqsError {
  return e.fliqs ? new FliqsError(e.input, e.problem, e.accepted) : new FliqsError('search', `failed in the worker: ${e.message}`);
}

/**
 * Starts a FLIQS search in a worker and returns its handle at once. Throws a FliqsError for bad options (and
 * when this engine has no workers); errors found by the search itself reject `result`.
 * @example
 * const h = startSearch({ model: 'cnn', width: 0.5, data, space: 'int-s', target: '0.5xINT8',
 *   train: { epochs: 1, batchSize: 64, optimizer: 'sgd', lr: 0.05, seed: 0 } });
 * h.on('progress', (p) => console.log(p.step, p.last?.argmax.join(' ')));
 * const { result, model } = await h.result; // the same result as new Search(…) for the same seed; model: .fliqs bytes
 */
export function startSearch(options: StartSearchOptions): SearchHandle {
  checkOptions(options);
  const { workerUrl, startTimeoutMs = DEFAULT_START_TIMEOUT_MS, ...rest } = options;
  let init: unknown;
  try {
    init = structuredClone({ workerUrl: workerUrl === undefined ? defaultWorkerUrl() : String(workerUrl), options: rest });
  } catch (e) {
    throw new FliqsError('options', `cannot be sent to a worker (${e instanceof Error ? e.message : String(e)})`, 'plain data: numbers, strings, arrays, typed arrays — no functions');
  }
  return new Handle(init, startTimeoutMs);
}

class Handle implements SearchHandle {
  readonly result: Promise<SearchOutcome>;
  state: SearchState = 'starting';
  private readonly listeners: { [K in keyof Events]: Set<(e: Events[K]) => void> } = { start: new Set(), progress: new Set() };
  private worker: StartedWorker | null = null;
  private settle!: { ok(o: SearchOutcome): void; fail(e: FliqsError): void };
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(init: unknown, startTimeoutMs: number) {
    this.result = new Promise<SearchOutcome>((ok, fail) => { this.settle = { ok, fail }; });
    this.result.catch(() => {}); // a handle nobody awaits must not raise an unhandled rejection
    let w: StartedWorker | null;
    try {
      w = spawnWorker(PROGRAM, init, { module: true });
    } catch (e) {
      throw new FliqsError('startSearch', `could not start a worker: ${e instanceof Error ? e.message : String(e)}`, 'an engine with module workers (Web Worker type "module", or Node ≥ 20)');
    }
    if (!w) throw new FliqsError('startSearch', 'this engine has no Worker', 'a browser with module workers, or Node ≥ 20');
    this.worker = w;
    w.onMessage((m) => this.receive(m as FromWorker));
    w.onError((msg) => this.end(new FliqsError('startSearch', `the search worker failed: ${msg}`, 'a browser with module workers and the package\'s dist/ served beside the page')));
    this.timer = setTimeout(() => this.end(new FliqsError('startSearch', `the search worker did not load within ${startTimeoutMs / 1000} s`,
      'the package\'s dist/ reachable from the page (workerUrl), and module workers')), startTimeoutMs);
  }

  private receive(m: FromWorker): void {
    if (this.worker === null) return;
    switch (m?.type) {
      case 'loaded': this.clearTimer(); break;
      case 'start':
        if (this.state === 'starting') this.state = 'running';
        for (const fn of this.listeners.start) fn(m.info);
        break;
      case 'progress': for (const fn of this.listeners.progress) fn(m.progress); break;
      case 'done': this.end(null, m.outcome); break;
      case 'error': this.end(rebuild(m.error)); break;
      default: this.end(new FliqsError('startSearch', `the worker sent ${describe(m)}`, 'a fliqs search worker'));
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Terminates the worker and settles the result (once). */
  private end(error: FliqsError | null, outcome?: SearchOutcome): void {
    if (this.worker === null) return;
    this.clearTimer();
    this.worker.terminate();
    this.worker = null;
    this.state = error ? 'failed' : 'done';
    if (error) this.settle.fail(error);
    else this.settle.ok(outcome!);
  }

  on<K extends keyof Events>(event: K, fn: (e: Events[K]) => void): () => void {
    if (!Object.hasOwn(this.listeners, event)) throw new FliqsError('event', `got ${describe(event)}`, "'start' or 'progress'");
    if (typeof fn !== 'function') throw new FliqsError('listener', `got ${describe(fn)}`, 'a function');
    const set = this.listeners[event] as Set<(e: Events[K]) => void>;
    set.add(fn);
    return () => { set.delete(fn); };
  }

  pause(): void {
    if (!this.worker) return;
    this.worker.post({ type: 'pause' });
    if (this.state === 'running' || this.state === 'starting') this.state = 'paused';
  }

  resume(): void {
    if (!this.worker) return;
    this.worker.post({ type: 'resume' });
    if (this.state === 'paused') this.state = 'running';
  }

  stop(): void {
    this.worker?.post({ type: 'stop' });
  }

  terminate(): void {
    this.end(new FliqsError('search', 'was terminated (terminate())'));
  }
}
