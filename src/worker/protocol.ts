// What the page (or Node program) and the search worker say to each other (start.ts ↔ run.ts), and the
// public shapes of a worker search's events and outcome. Everything here is structured-clone data.

import type { DatasetSplits } from '../data/dataset.js';
import type { QuantizerOptions } from '../nn/quant.js';
import type { SearchOptions, SearchResult, SearchStep } from '../search/search.js';

/** A built-in dataset by name, loaded inside the worker (Node only: `fliqs/node`'s loadDataset and its options). */
export interface NamedData {
  name: string;
  validation?: number;
  seed?: number;
  limit?: number | { train?: number; validation?: number; test?: number };
}

/** Everything a worker search needs, as data (the model by zoo name, the data as arrays or a built-in name). */
export interface WorkerSearchOptions extends SearchOptions {
  /** Zoo model name (MODEL_NAMES). Its weights are initialized from train.seed (default 0), as `fliqs search` does. */
  model: string;
  /** Channel width multiplier (default 1). */
  width?: number;
  /** Options of the model's quantizers (createModel's quant). */
  quant?: QuantizerOptions;
  /** Train / validation / test splits in arrays (Float32Array NHWC images, Int32Array labels), or a built-in dataset (Node). */
  data: DatasetSplits | NamedData;
  /** Kernel threads inside the worker (default: the core count; one where memory cannot be shared). Results are the same for any count. */
  threads?: number;
  /** Least time between progress events in ms (default 100). Every step still reaches the page: each event carries the steps since the last. */
  progressMs?: number;
  /** Export the result as a .fliqs model (encodeModel(exportModel(…))); default true. */
  exportModel?: boolean;
}

/** Where the search is. */
export type SearchPhase = 'loading' | 'warmup' | 'calibration' | 'search' | 'evaluating' | 'exporting' | 'done';

/** Sent once the model, data and search are built. */
export interface SearchStart {
  layers: Array<{ name: string; macs: number; choices: string[]; pinned: boolean }>;
  /** The formats of the space in first-appearance order. */
  formats: string[];
  targetBops: number;
  totalSteps: number;
  warmupSteps: number;
  /** First step whose Q is measured to calibrate the reward. */
  calibrationStart: number;
  /** Kernel threads the worker uses, and why only one when that is so. */
  threads: number;
  singleThreadReason: string | null;
}

/** A search step as logged, with its phase. */
export type StepPoint = SearchStep & { phase: SearchPhase };

/** A progress event: where the search is, and every step since the previous event. */
export interface SearchProgress {
  phase: SearchPhase;
  /** Steps taken so far, of totalSteps. */
  step: number;
  totalSteps: number;
  /** The latest step (null before the first). */
  last: StepPoint | null;
  /** The steps since the previous event, in order. */
  steps: StepPoint[];
  /** Milliseconds since the worker started the search (pauses included). */
  elapsedMs: number;
}

/** What a finished worker search gives. */
export interface SearchOutcome {
  result: SearchResult;
  /** The result as a .fliqs model file (loadModel / `fliqs eval` read it), or null (exportError says why). */
  model: Uint8Array | null;
  exportError: string | null;
  /** True when stop() ended the search early: the result is the policy's after `result.steps` steps. */
  stopped: boolean;
  wallSeconds: number;
  threads: number;
}

/** An error as data: a FliqsError's fields, or any other error's message. */
export type ErrorData = { fliqs: true; input: string; problem: string; accepted: string | undefined } | { fliqs: false; message: string };

export type ToWorker = { type: 'pause' } | { type: 'resume' } | { type: 'stop' };

export type FromWorker =
  | { type: 'loaded' }
  | { type: 'start'; info: SearchStart }
  | { type: 'progress'; progress: SearchProgress }
  | { type: 'done'; outcome: SearchOutcome }
  | { type: 'error'; error: ErrorData };

/** The port a worker program talks through (kernels/workers.ts). */
export interface WorkerPort {
  post(message: FromWorker, transfer?: Transferable[]): void;
  listen(fn: (message: ToWorker) => void): void;
}
