// `fliqs pareto`: accuracy against cost for uniform-precision QAT baselines and FLIQS searches over
// widths, targets, spaces and seeds. Writes pareto.csv (one row per finished run; a rerun skips the
// rows it finds, so an interrupted sweep resumes run by run), pareto.svg, and one run directory per
// search. Node-only (file I/O).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { DATASET_NAMES, type DatasetName } from '../data/node/load.js';
import { parseFormat } from '../formats/format.js';
import { parseSearchSpace } from '../formats/presets.js';
import { createModel, describeModel, MODEL_NAMES } from '../nn/zoo.js';
import { scatterPlot } from '../report/svg.js';
import { DEFAULT_GAMMA, uniformCost } from '../search/cost.js';
import { DEFAULT_ENTROPY_END } from '../search/schedule.js';
import { DEFAULT_SEARCH_CONTROLLER_LR, searchClipMultiples } from '../search/search.js';
import { OPTIMIZERS, Trainer, type OptimizerName } from '../train/trainer.js';
import { UsageError, parseFlags, usage, type FlagSpecs } from './args.js';
import { appendJsonLine, writeAtomic } from './files.js';
import { formatTime } from './progress.js';
import { executeSearch, loadData, processIo, runFailure, usageFailure, type Io, type SearchConfig } from './search.js';

const FLAGS = {
  model: { kind: 'string', help: `zoo model (${MODEL_NAMES.join(', ')})`, default: 'cnn' },
  data: { kind: 'string', help: 'dataset', default: 'fashion-mnist', choices: DATASET_NAMES },
  widths: { kind: 'string', help: 'comma list of width multipliers', default: '0.5,1,2' },
  targets: { kind: 'string', help: 'comma list of FLIQS cost targets', default: '1.1xINT4,0.5xINT8' },
  spaces: { kind: 'string', help: 'comma list of search spaces (presets; join formats with + for a custom one)', default: 'int-s,fp-s' },
  uniform: { kind: 'string', help: 'comma list of uniform QAT formats ("none" for no baselines)', default: 'FP32,BF16,INT8,INT4,E4M3,E2M1' },
  epochs: { kind: 'int', help: 'epochs of every run', default: 1, min: 1 },
  steps: { kind: 'int', help: 'limit every run to this many steps', min: 1 },
  batch: { kind: 'int', help: 'batch size', default: 64, min: 1 },
  lr: { kind: 'number', help: 'learning rate', default: 0.05, min: 0 },
  optimizer: { kind: 'string', help: 'optimizer', default: 'sgd', choices: OPTIMIZERS },
  seeds: { kind: 'int', help: 'number of seeds (0 … N−1)', default: 1, min: 1 },
  gamma: { kind: 'number', help: 'γ of the FLIQS reward', default: DEFAULT_GAMMA, min: 0 },
  'controller-lr': { kind: 'number', help: 'Adam learning rate of the policy logits', default: DEFAULT_SEARCH_CONTROLLER_LR, min: 0 },
  'entropy-end': { kind: 'number', help: 'β_H at the end', default: DEFAULT_ENTROPY_END, min: 0 },
  limit: { kind: 'int', help: 'training examples (quick runs)', min: 1 },
  validation: { kind: 'int', help: 'validation examples held out of train', min: 1 },
  out: { kind: 'string', help: 'output directory', default: 'runs/pareto' },
} satisfies FlagSpecs;

const SUMMARY = 'Sweeps uniform QAT baselines and FLIQS searches; writes pareto.csv and pareto.svg (accuracy vs MBOPs).';
export const PARETO_HEADER = 'kind,space_or_format,width,target,seed,mbops,test_accuracy,wall_seconds';

export interface ParetoRow {
  kind: 'uniform' | 'fliqs';
  spaceOrFormat: string;
  width: number;
  target: string;
  seed: number;
  mbops: number;
  testAccuracy: number;
  wallSeconds: number;
}

const key = (r: Pick<ParetoRow, 'kind' | 'spaceOrFormat' | 'width' | 'target' | 'seed'>): string =>
  [r.kind, r.spaceOrFormat, r.width, r.target, r.seed].join('|');

/** Reads pareto.csv (missing → no rows; a torn last line is ignored). */
export function readParetoCsv(path: string): ParetoRow[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  if (lines.length === 0) return [];
  if (lines[0] !== PARETO_HEADER) throw new FliqsError(path, `has the header ${JSON.stringify(lines[0])}`, `a pareto.csv with the header ${PARETO_HEADER}`);
  const rows: ParetoRow[] = [];
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    if (c.length !== 8 || !['uniform', 'fliqs'].includes(c[0]!) || c.slice(5).some((v) => !Number.isFinite(Number(v)))) continue;
    rows.push({ kind: c[0] as ParetoRow['kind'], spaceOrFormat: c[1]!, width: Number(c[2]), target: c[3]!, seed: Number(c[4]),
      mbops: Number(c[5]), testAccuracy: Number(c[6]), wallSeconds: Number(c[7]) });
  }
  return rows;
}

function csv(rows: readonly ParetoRow[]): string {
  return `${[PARETO_HEADER, ...rows.map((r) => [r.kind, r.spaceOrFormat, r.width, r.target, r.seed, r.mbops.toPrecision(6),
    r.testAccuracy.toFixed(4), r.wallSeconds.toFixed(1)].join(','))].join('\n')}\n`;
}

function list(flag: string, s: string): string[] {
  const out = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (out.length === 0) throw new UsageError(`--${flag} is empty`);
  return out;
}

/** The accuracy-vs-MBOPs scatter (log x), one series per kind and space. */
export function paretoSvg(rows: readonly ParetoRow[], title: string): string {
  return scatterPlot(rows.map((r) => ({
    x: r.mbops, y: 100 * r.testAccuracy, series: r.kind === 'uniform' ? 'uniform QAT' : `FLIQS ${r.spaceOrFormat}`,
    label: r.kind === 'uniform' ? `${r.spaceOrFormat} ×${r.width}` : `${r.target} ×${r.width}`,
  })), { title, xLabel: 'MBOPs per image (log)', yLabel: 'test accuracy (%)', logX: true });
}

/**
 * `fliqs pareto [flags]`: 0 on success, 2 for bad input, 1 when a run diverges.
 * @example
 * runPareto(['--data', 'synthetic', '--widths', '1', '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8', '--out', 'runs/p']);
 */
export function runPareto(args: string[], io: Io = processIo): number {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('pareto', SUMMARY, FLAGS)); return 0; }
  let f: ReturnType<typeof parseFlags<typeof FLAGS>>, widths: number[], targets: string[], spaces: string[], uniform: string[];
  try {
    f = parseFlags(args, FLAGS);
    if (!(MODEL_NAMES as string[]).includes(f.model!)) throw new FliqsError('--model', `${JSON.stringify(f.model)} is not a zoo model`, MODEL_NAMES.join(', '));
    widths = list('widths', f.widths!).map((w) => {
      const v = Number(w);
      if (!(v > 0 && v <= 8)) throw new UsageError(`--widths: ${JSON.stringify(w)} is not a multiplier in (0, 8]`);
      return v;
    });
    targets = list('targets', f.targets!);
    spaces = list('spaces', f.spaces!);
    for (const s of spaces) parseSearchSpace(s);
    uniform = f.uniform === 'none' ? [] : list('uniform', f.uniform!).map((u) => parseFormat(u).name);
  } catch (e) {
    return usageFailure('pareto', e, io);
  }
  const out = f.out!, csvPath = join(out, 'pareto.csv');
  const runs = join(out, 'runs.jsonl');
  try {
    const rows = readParetoCsv(csvPath);
    const done = new Set(rows.map(key));
    const data = loadData({ data: f.data as DatasetName, limit: f.limit ?? null, validation: f.validation ?? null });
    const save = (r: ParetoRow): void => {
      rows.push(r);
      done.add(key(r));
      writeAtomic(csvPath, csv(rows));
      appendJsonLine(runs, r);
      io.err(`  ${r.kind} ${r.spaceOrFormat} ×${r.width}${r.target ? ` ${r.target}` : ''} seed ${r.seed}: ${(100 * r.testAccuracy).toFixed(2)}% at ${r.mbops.toPrecision(4)} MBOPs (${formatTime(r.wallSeconds)})\n`);
    };
    if (rows.length === 0) writeAtomic(csvPath, csv(rows));
    let skipped = 0;
    for (let seed = 0; seed < f.seeds!; seed++) {
      for (const width of widths) {
        for (const fmt of uniform) {
          const k = { kind: 'uniform' as const, spaceOrFormat: fmt, width, target: '', seed };
          if (done.has(key(k))) { skipped++; continue; }
          const t0 = Date.now();
          const model = createModel(f.model!, { width, inputShape: data.train.shape, classes: data.train.classes, seed,
            quant: { actKByFormat: searchClipMultiples([parseFormat(fmt)]) } });
          const layers = describeModel(model, data.train.shape);
          const trainer = new Trainer(model, data, { epochs: f.epochs!, batchSize: f.batch!, optimizer: f.optimizer as OptimizerName, lr: f.lr!,
            seed, formats: [fmt], ...(f.steps !== undefined ? { maxSteps: f.steps } : {}) });
          for (const _ of trainer.run()) { /* train */ }
          const test = trainer.evaluate(data.test);
          trainer.dispose();
          save({ ...k, mbops: uniformCost(layers, fmt) / 1e6, testAccuracy: test.accuracy, wallSeconds: (Date.now() - t0) / 1000 });
        }
        for (const space of spaces) {
          for (const target of targets) {
            const k = { kind: 'fliqs' as const, spaceOrFormat: space, width, target, seed };
            if (done.has(key(k))) { skipped++; continue; }
            const config: SearchConfig = {
              model: f.model!, width, data: f.data as DatasetName, space, target, epochs: f.epochs!, steps: f.steps ?? null, batch: f.batch!,
              lr: f.lr!, optimizer: f.optimizer as OptimizerName, weightDecay: 0, seed, gamma: f.gamma!, controllerLr: f['controller-lr']!, entropyEnd: f['entropy-end']!,
              quality: 'accuracy', valBatch: f.batch!, validation: f.validation ?? null, limit: f.limit ?? null, fixFirstLast: null, pins: {},
              retrain: false, logEvery: null, checkpointEvery: null,
            };
            const dir = join(out, `fliqs-${space.replace(/[^A-Za-z0-9.+-]+/g, '_')}-w${width}-${target.replace(/[^A-Za-z0-9.+-]+/g, '_')}-s${seed}`);
            let r;
            try {
              r = executeSearch(config, dir, io, { quiet: true, resume: true }).result!;
            } catch (e) {
              if (e instanceof FliqsError && e.input === 'target') { io.err(`  skipping FLIQS ${space} ×${width} ${target}: ${e.problem}\n`); continue; }
              throw e;
            }
            save({ ...k, mbops: r.bops / 1e6, testAccuracy: r.test.accuracy, wallSeconds: r.wallSeconds });
          }
        }
      }
    }
    if (skipped > 0) io.err(`(${skipped} finished runs found in ${csvPath} were skipped)\n`);
    if (rows.length > 0) writeAtomic(join(out, 'pareto.svg'), paretoSvg(rows, `${f.model} on ${f.data}: test accuracy vs cost`));
    io.out(`${csv(rows)}`);
    io.err(`wrote ${csvPath} and ${join(out, 'pareto.svg')}\n`);
    return 0;
  } catch (e) {
    return runFailure('pareto', e, io, out);
  }
}
