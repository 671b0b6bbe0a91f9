// `fliqs report` on a `fliqs train` run: its training curves from log.jsonl (step lines with the training
// loss, accuracy and learning rate; epoch-end lines with the validation loss and accuracy), as SVG in the run
// folder: training-loss.svg, training-accuracy.svg and learning-rate.svg.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { linePlot, type Series } from '../report/svg.js';
import { readJson, readRunFile, writeAtomic } from './files.js';

interface TrainLine {
  step: number;
  loss?: number;
  trainAccuracy?: number;
  lr?: number;
  validationLoss?: number;
  validationAccuracy?: number;
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The parsed lines of a log.jsonl (torn or non-JSON lines skipped), or null when the file does not exist. */
export function readJsonLines(path: string): unknown[] | null {
  if (!existsSync(path)) return null;
  const out: unknown[] = [];
  for (const l of readRunFile(path).toString('utf8').split('\n')) {
    if (!l.trim()) continue;
    try { out.push(JSON.parse(l)); } catch { /* a torn line from a killed run */ }
  }
  return out;
}

/** True when the lines are those of a train run: steps with a loss and no search policy. */
export function isTrainLog(lines: readonly unknown[]): boolean {
  const objs = lines.filter((l): l is Record<string, unknown> => l !== null && typeof l === 'object');
  return objs.length > 0 && objs.every((l) => num(l['step']) && !('policy' in l))
    && objs.some((l) => num(l['loss']) || num(l['validationAccuracy']));
}

/**
 * Writes the training curves of a `fliqs train` run folder; returns the file names written.
 * @example
 * writeTrainReport('runs/train', lines) // ['training-loss.svg', 'training-accuracy.svg', 'learning-rate.svg']
 */
export function writeTrainReport(dir: string, lines: readonly unknown[]): string[] {
  const log = lines.filter((l): l is TrainLine => l !== null && typeof l === 'object' && num((l as TrainLine).step));
  const cfg = existsSync(join(dir, 'config.json')) ? readJson<Record<string, unknown>>(join(dir, 'config.json'), `${dir}/config.json`) : null;
  const what = cfg && typeof cfg === 'object' ? `${String(cfg['model'] ?? '')} ${String(cfg['format'] ?? '')} on ${String(cfg['data'] ?? '')}` : dir;
  const series = (name: string, key: keyof TrainLine): Series | null => {
    const at = log.filter((l) => num(l[key]));
    return at.length ? { name, x: at.map((l) => l.step), y: at.map((l) => l[key] as number) } : null;
  };
  const plots: Array<[string, Array<Series | null>, string, string]> = [
    ['training-loss.svg', [series('training loss', 'loss'), series('validation loss (epoch end)', 'validationLoss')], 'Loss', 'cross-entropy loss'],
    ['training-accuracy.svg', [series('training accuracy', 'trainAccuracy'), series('validation accuracy (epoch end)', 'validationAccuracy')], 'Accuracy', 'accuracy'],
    ['learning-rate.svg', [series('learning rate', 'lr')], 'Learning rate', 'learning rate'],
  ];
  const files: Record<string, string> = {};
  for (const [file, s, title, yLabel] of plots) {
    const present = s.filter((x): x is Series => x !== null);
    if (present.length) files[file] = linePlot(present, { title: `${title} over the training steps (${what})`, xLabel: 'step', yLabel });
  }
  if (Object.keys(files).length === 0) {
    throw new FliqsError(join(dir, 'log.jsonl'), 'has no logged loss or accuracy', 'the log.jsonl of a fliqs train run that logged at least one step');
  }
  for (const [name, svg] of Object.entries(files)) writeAtomic(join(dir, name), svg);
  return Object.keys(files);
}
