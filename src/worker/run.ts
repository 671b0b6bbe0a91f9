// The search worker's side (start.ts starts a worker that imports this module and calls runSearchWorker): builds
// the data, the zoo model and the Search from plain options, runs it in slices so that pause / resume / stop
// messages are heard between steps, posts progress, and ends with the result and the exported model — or
// with the error, as data. The same Search as the synchronous API, so the same result for the same seed.
// Browser-safe (a dataset by name is loaded through `fliqs/node`, imported by URL only when asked for in Node).

import { FliqsError, describe, requireObject } from '../core/errors.js';
import { checkDataset, type DatasetSplits } from '../data/dataset.js';
import { exportModel } from '../deploy/export.js';
import { encodeModel } from '../deploy/model-file.js';
import { setThreads, singleThreadReason, startThreads } from '../kernels/threads.js';
import { createModel } from '../nn/zoo.js';
import { Search, spaceFormats, type SearchOptions } from '../search/search.js';
import type { ErrorData, NamedData, SearchPhase, SearchProgress, StepPoint, ToWorker, WorkerPort, WorkerSearchOptions } from './protocol.js';

const now = (): number => performance.now();
/** Longest stretch of steps between two looks at the worker's messages (ms). */
const SLICE_MS = 20;

/** A turn of the event loop, so that messages are delivered (setImmediate in Node, a MessageChannel elsewhere). */
const nextTurn: () => Promise<void> = (() => {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (typeof g.setImmediate === 'function') return () => new Promise<void>((r) => g.setImmediate!(r));
  if (typeof MessageChannel === 'function') {
    const ch = new MessageChannel(), waiting: Array<() => void> = [];
    ch.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise<void>((r) => { waiting.push(r); ch.port2.postMessage(0); });
  }
  return () => new Promise<void>((r) => setTimeout(r, 0));
})();

/** An error as data for the page. */
export function errorData(e: unknown): ErrorData {
  if (e instanceof FliqsError) return { fliqs: true, input: e.input, problem: e.problem, accepted: e.accepted };
  return { fliqs: false, message: e instanceof Error ? e.message : String(e) };
}

async function loadData(data: DatasetSplits | NamedData): Promise<DatasetSplits> {
  requireObject('data', data, '{ train, validation, test } datasets, or { name } of a built-in dataset (Node)');
  if ('name' in data && !('train' in data)) {
    if (!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node) {
      throw new FliqsError('data', `names the dataset ${describe(data.name)}, which only Node can load`, '{ train, validation, test } arrays');
    }
    const nodeApi = new URL('../node.js', import.meta.url).href; // fliqs/node, imported only here, in Node
    const { loadDataset } = await import(nodeApi) as typeof import('../node.js');
    const { name, ...opts } = data;
    return loadDataset(name as never, opts);
  }
  const d = data as DatasetSplits;
  for (const split of ['train', 'validation', 'test'] as const) checkDataset(`data.${split}`, d[split]);
  return d;
}

const phaseOf = (s: Search, step: number): SearchPhase =>
  (step >= s.controller.warmupEnd ? 'search' : step >= s.calibrationStart ? 'calibration' : 'warmup');

/**
 * Runs one worker search and reports through `port` (see protocol.ts): 'start', 'progress' events, then 'done'
 * or 'error'. Called by the program start.ts gives the worker.
 */
export async function runSearchWorker(options: WorkerSearchOptions, port: WorkerPort): Promise<void> {
  let paused = false, stopping = false, wake: (() => void) | null = null;
  port.listen((m: ToWorker) => {
    if (m?.type === 'pause') paused = true;
    else if (m?.type === 'resume') paused = false;
    else if (m?.type === 'stop') stopping = true;
    if (!paused || stopping) { wake?.(); wake = null; }
  });
  let search: Search | null = null;
  try {
    requireObject('options', options, '{ model, data, space, target, train, … }');
    const { model: name, width = 1, quant, data: dataOption, threads, progressMs = 100, exportModel: wantModel = true, ...searchOptions } = options;
    if (threads !== undefined) setThreads(threads);
    const data = await loadData(dataOption);
    // the kernels' workers start while this worker's event loop runs (a browser starts nested workers no other way)
    const threadCount = await startThreads();
    const started = now();
    const model = createModel(name, {
      width, inputShape: data.train.shape, classes: data.train.classes, seed: options.train?.seed ?? 0, ...(quant ? { quant } : {}),
    });
    search = new Search(model, data, searchOptions as SearchOptions);
    const s = search;
    port.post({
      type: 'start', info: {
        layers: s.space.layers.map((l) => ({ name: l.name, macs: l.macs, choices: l.choices.map((f) => f.name), pinned: l.pinned })),
        formats: spaceFormats(s.space).map((f) => f.name), targetBops: s.targetBops, totalSteps: s.totalSteps,
        warmupSteps: s.controller.warmupEnd, calibrationStart: s.calibrationStart, threads: threadCount, singleThreadReason: singleThreadReason(),
      },
    });
    let pending: StepPoint[] = [], last: StepPoint | null = null, posted = -Infinity;
    const progress = (phase: SearchPhase): void => {
      const p: SearchProgress = { phase, step: s.step, totalSteps: s.totalSteps, last, steps: pending, elapsedMs: now() - started };
      port.post({ type: 'progress', progress: p });
      pending = [];
      posted = now();
    };
    let slice = now();
    for (const step of s.run()) {
      const phase = phaseOf(s, step.step), changed = phase !== last?.phase;
      last = { ...step, phase };
      pending.push(last);
      if (changed || now() - posted >= progressMs || s.step >= s.totalSteps) progress(phase);
      if (now() - slice >= SLICE_MS) {
        await nextTurn();
        while (paused && !stopping) await new Promise<void>((r) => { wake = r; });
        slice = now();
      }
      if (stopping) break;
    }
    if (pending.length) progress(last!.phase);
    progress('evaluating');
    const result = s.result();
    let model_: Uint8Array | null = null, exportError: string | null = null;
    if (wantModel) {
      progress('exporting');
      try {
        const info = { model: name, width, inputShape: data.train.shape, classes: data.train.classes,
          source: { from: 'startSearch', accuracy: result.test.accuracy, bops: result.bops, steps: result.steps } };
        model_ = encodeModel(exportModel(model, result.layers.map((l) => l.format), { info }));
      } catch (e) {
        if (!(e instanceof FliqsError)) throw e;
        exportError = s.step < s.totalSteps ? `stopped at step ${s.step} of ${s.totalSteps}, the model cannot be exported yet (${e.message})` : e.message;
      }
    } else {
      exportError = 'not asked for (exportModel: false)';
    }
    const outcome = { result, model: model_, exportError, stopped: s.step < s.totalSteps, wallSeconds: (now() - started) / 1000, threads: threadCount };
    progress('done');
    port.post({ type: 'done', outcome }, model_ ? [model_.buffer as ArrayBuffer] : []);
  } catch (e) {
    port.post({ type: 'error', error: errorData(e) });
  } finally {
    search?.dispose();
  }
}
