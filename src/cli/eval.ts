// `fliqs eval MODEL.fliqs`: runs an exported model on a dataset's test split with the true low-precision
// kernels and prints its accuracy and speed beside what the run it came from reported.

import { existsSync } from 'node:fs';
import { FliqsError } from '../core/errors.js';
import { DATASET_NAMES, loadDataset, type DatasetName } from '../data/node/load.js';
import { loadModel, type QuantizedModel } from '../deploy/inference.js';
import { parseFlags, usage, UsageError, type FlagSpecs } from './args.js';
import { dataFlag } from './data-flag.js';
import { processIo, usageFailure, type Io } from './search.js';
import { readRunFile } from './files.js';

export const EVAL_FLAGS = {
  data: dataFlag('dataset whose test split to use (default: the one the model was trained on)'),
  limit: { kind: 'int', help: 'only the first N test images', min: 1 },
  batch: { kind: 'int', help: 'images per forward pass', default: 64, min: 1 },
  help: { kind: 'boolean', help: 'show this help' },
} satisfies FlagSpecs;

const SUMMARY = 'Runs an exported model (MODEL.fliqs, from fliqs export) on a test split, on its low-precision kernels.';

export interface EvalOutcome { accuracy: number; count: number; imagesPerSecond: number; reportedAccuracy: number | null }

/** Reads and loads a .fliqs file, naming it in every error. */
export function readModelFile(path: string): QuantizedModel {
  if (!existsSync(path)) throw new FliqsError(path, 'does not exist', 'a .fliqs file written by fliqs export');
  return loadModel(new Uint8Array(readRunFile(path)), path);
}

/** Accuracy of a loaded model on a test split (checked against the model's input shape). */
export function evaluateModel(model: QuantizedModel, dataName: string, limit?: number, batchSize = 64): EvalOutcome {
  const test = loadDataset(dataName as DatasetName).test;
  const want = model.inputShape;
  if (test.shape.some((d, i) => d !== want[i]) || test.classes !== model.classes) {
    throw new FliqsError('--data', `${dataName} has ${test.shape.join('×')} images and ${test.classes} classes, the model takes ${want.join('×')} and ${model.classes}`,
      'a dataset of the model\'s input shape and classes');
  }
  const per = want[0] * want[1] * want[2];
  const count = Math.min(limit ?? test.labels.length, test.labels.length);
  const t0 = performance.now();
  const labels = model.classify(test.images.subarray(0, count * per), { batchSize });
  const seconds = (performance.now() - t0) / 1000;
  let correct = 0;
  for (let i = 0; i < count; i++) if (labels[i] === test.labels[i]) correct++;
  const src = model.spec.info.source as { reportedAccuracy?: number | null } | undefined;
  return { accuracy: correct / count, count, imagesPerSecond: count / seconds, reportedAccuracy: src?.reportedAccuracy ?? null };
}

/**
 * `fliqs eval MODEL.fliqs [--data D] [--limit N] [--batch B]`: 0 on success, 2 on bad input.
 * @example
 * runEval(['runs/default-search/model.fliqs']);
 */
export function runEval(args: string[], io: Io = processIo): number {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('eval MODEL.fliqs', SUMMARY, EVAL_FLAGS)); return 0; }
  try {
    const [file, ...rest] = args;
    if (file === undefined || file.startsWith('--')) throw new UsageError('expected a model file first (fliqs eval MODEL.fliqs)');
    const f = parseFlags(rest, EVAL_FLAGS);
    const model = readModelFile(file);
    try {
      const src = model.spec.info.source as { data?: string } | undefined;
      const data = f.data ?? src?.data;
      if (!data) throw new FliqsError('--data', `is needed: ${file} does not say what it was trained on`, DATASET_NAMES.join(', '));
      const r = evaluateModel(model, data, f.limit, f.batch);
      io.out(`${file}: test accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.count} ${data} images, ${r.imagesPerSecond.toFixed(0)} images/s (batch ${f.batch})`
        + `${r.reportedAccuracy !== null ? `; the run reported ${(100 * r.reportedAccuracy).toFixed(2)}% (fake-quantized)` : ''}\n`);
    } finally {
      model.free();
    }
    return 0;
  } catch (e) {
    return usageFailure('eval', e, io);
  }
}
