// `fliqs pareto`: accuracy against cost for uniform-precision QAT baselines and FLIQS searches over
// widths, targets, spaces and seeds. Writes pareto.csv (one row per finished run; a rerun skips the
// rows it finds, so an interrupted sweep resumes run by run), runs.jsonl, pareto.svg, and one run
// directory per search. With --controls every search gets two controls: the same search with a constant
// quality signal (the controller hears only the cost), and a configuration drawn uniformly among those
// within ±10% of the target, trained from scratch with its formats fixed. Flags of `fliqs search` that the
// sweep does not set itself are passed to every search. Node-only (file I/O).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { DATASET_NAMES, type DatasetName } from '../data/node/load.js';
import type { DatasetSplits } from '../data/dataset.js';
import { parseFormat } from '../formats/format.js';
import { parseSearchSpace } from '../formats/presets.js';
import { createModel, describeModel, MODEL_NAMES } from '../nn/zoo.js';
import { scatterPlot } from '../report/svg.js';
import { configCost, parseTarget, uniformCost } from '../search/cost.js';
import { equalCostSampler } from '../search/equal-cost.js';
import { COST_TOLERANCE, retrainFixed, searchClipMultiples, spaceFormats } from '../search/search.js';
import { buildSearchSpace, configFormats, configRecord } from '../search/space.js';
import { OPTIMIZERS, Trainer } from '../train/trainer.js';
import { UsageError, parseFlags, usage, type FlagSpecs } from './args.js';
import { appendJsonLine, writeAtomic } from './files.js';
import { formatTime } from './progress.js';
import {
  SEARCH_FLAGS, configModel, safeName, executeSearch, loadData, processIo, runFailure, searchConfig, trainConfig, usageFailure, type Io, type SearchConfig,
} from './search.js';

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
  seeds: { kind: 'int', help: 'number of seeds (F … F+N−1, F = --first-seed)', default: 1, min: 1 },
  'first-seed': { kind: 'int', help: 'the first seed (to split a sweep over processes)', default: 0, min: 0 },
  limit: { kind: 'int', help: 'training examples (quick runs)', min: 1 },
  validation: { kind: 'int', help: 'validation examples held out of train', min: 1 },
  controls: { kind: 'boolean', help: 'also run, per search, the constant-Q search and a random configuration at equal cost (±10%)' },
  out: { kind: 'string', help: 'output directory', default: 'runs/pareto' },
} satisfies FlagSpecs;

/** `fliqs search` flags the sweep sets for each run itself. */
const SET_BY_SWEEP = ['width', 'space', 'target', 'target-mbops', 'seed', 'out', 'resume', 'stop-after'];
/** `fliqs search` flags passed on to every search (pareto's own flags of the same name are passed too). */
const FORWARDED = Object.keys(SEARCH_FLAGS).filter((k) => !Object.hasOwn(FLAGS, k) && !SET_BY_SWEEP.includes(k));

const SUMMARY = 'Sweeps uniform QAT baselines and FLIQS searches (and, with --controls, their controls); writes pareto.csv and pareto.svg (accuracy vs MBOPs).\n'
  + `Any other flag of \`fliqs search\` is passed to every search: ${FORWARDED.map((k) => `--${k}`).join(' ')}.`;
export const PARETO_HEADER = 'kind,space_or_format,width,target,seed,mbops,test_accuracy,wall_seconds';
/** Row kinds: uniform baselines, FLIQS searches, and the two controls of --controls. */
export const PARETO_KINDS = ['uniform', 'fliqs', 'constant-q', 'random'] as const;

export interface ParetoRow {
  kind: (typeof PARETO_KINDS)[number];
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


/**
 * The run directory (inside the sweep's --out) of a search or its constant-Q control.
 * @example
 * runDirName('fliqs', 'int-s', 0.5, '1.1xINT4', 2)      // 'fliqs-int-s-w0.5-1.1xINT4-s2'
 * runDirName('constant-q', 'int-s', 0.5, '1.1xINT4', 2) // 'fliqs-int-s-w0.5-1.1xINT4-s2-constq'
 */
export function runDirName(kind: 'fliqs' | 'constant-q', space: string, width: number, target: string, seed: number): string {
  return `fliqs-${safeName(space)}-w${width}-${safeName(target)}-s${seed}${kind === 'constant-q' ? '-constq' : ''}`;
}

/** The seed of the random control's draw, derived from the run seed (and apart from the search's own streams). */
export function randomControlSeed(seed: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) + 0x2545f491) >>> 0;
}

/** Reads pareto.csv (missing → no rows; a torn last line is ignored). */
export function readParetoCsv(path: string): ParetoRow[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  if (lines.length === 0) return [];
  if (lines[0] !== PARETO_HEADER) throw new FliqsError(path, `has the header ${JSON.stringify(lines[0])}`, `a pareto.csv with the header ${PARETO_HEADER}`);
  const rows: ParetoRow[] = [];
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    if (c.length !== 8 || !(PARETO_KINDS as readonly string[]).includes(c[0]!) || c.slice(5).some((v) => !Number.isFinite(Number(v)))) continue;
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

const SERIES: Record<ParetoRow['kind'], string> = { uniform: 'uniform QAT', fliqs: 'FLIQS', 'constant-q': 'constant-Q', random: 'random at equal cost' };

/** The accuracy-vs-MBOPs scatter (log x), one series per kind and space. */
export function paretoSvg(rows: readonly ParetoRow[], title: string): string {
  return scatterPlot(rows.map((r) => ({
    x: r.mbops, y: 100 * r.testAccuracy, series: r.kind === 'uniform' ? SERIES.uniform : `${SERIES[r.kind]} ${r.spaceOrFormat}`,
    label: r.kind === 'uniform' ? `${r.spaceOrFormat} ×${r.width}` : `${r.target} ×${r.width}`,
  })), { title, xLabel: 'MBOPs per image (log)', yLabel: 'test accuracy (%)', logX: true });
}

/** Splits the arguments into pareto's own and those passed on to every search; refuses the ones the sweep sets. */
function splitArgs(args: readonly string[]): { own: string[]; forwarded: string[] } {
  const own: string[] = [], forwarded: string[] = [];
  const searchSpecs: FlagSpecs = SEARCH_FLAGS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    const bare = name.startsWith('no-') && searchSpecs[name.slice(3)]?.kind === 'boolean' ? name.slice(3) : name;
    const isOwn = Object.hasOwn(FLAGS, bare) || !Object.hasOwn(searchSpecs, bare); // unknown flags: parseFlags reports them
    if (!isOwn && SET_BY_SWEEP.includes(bare)) {
      throw new UsageError(`--${bare} is set by the sweep for each run (use --widths, --spaces, --targets, --seeds, --out)`);
    }
    const to = isOwn ? own : forwarded;
    to.push(a);
    const spec = (isOwn ? (FLAGS as FlagSpecs)[bare] : searchSpecs[bare]);
    if (spec && spec.kind !== 'boolean' && !a.includes('=') && i + 1 < args.length) to.push(args[++i]!);
  }
  return { own, forwarded };
}

/**
 * `fliqs pareto [flags]`: 0 on success, 2 for bad input, 1 when a run diverges.
 * @example
 * runPareto(['--data', 'synthetic', '--widths', '1', '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8', '--controls', '--out', 'runs/p']);
 */
export function runPareto(args: string[], io: Io = processIo): number {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('pareto', SUMMARY, FLAGS)); return 0; }
  let f: ReturnType<typeof parseFlags<typeof FLAGS>>, widths: number[], targets: string[], spaces: string[], uniform: string[];
  let searchFor: (space: string, width: number, target: string, seed: number) => SearchConfig;
  try {
    const { own, forwarded } = splitArgs(args);
    f = parseFlags(own, FLAGS);
    if (!(MODEL_NAMES as string[]).includes(f.model!)) throw new FliqsError('--model', `${JSON.stringify(f.model)} is not a zoo model`, MODEL_NAMES.join(', '));
    widths = list('widths', f.widths!).map((w) => {
      const v = Number(w);
      if (!(v >= 0.01 && v <= 8)) throw new UsageError(`--widths: ${JSON.stringify(w)} is not a multiplier in [0.01, 8]`);
      return v;
    });
    targets = list('targets', f.targets!);
    spaces = list('spaces', f.spaces!);
    for (const s of spaces) parseSearchSpace(s);
    uniform = f.uniform === 'none' ? [] : list('uniform', f.uniform!).map((u) => parseFormat(u).name);
    // every search's config comes from `fliqs search`'s own parser: pareto's shared flags, the forwarded ones, the grid point
    const shared = ['--model', f.model!, '--data', f.data!, '--epochs', String(f.epochs), '--batch', String(f.batch), '--lr', String(f.lr),
      '--optimizer', f.optimizer!, ...(f.steps !== undefined ? ['--steps', String(f.steps)] : []),
      ...(f.limit !== undefined ? ['--limit', String(f.limit)] : []), ...(f.validation !== undefined ? ['--validation', String(f.validation)] : []),
      ...forwarded];
    searchFor = (space, width, target, seed) => searchConfig([...shared, '--width', String(width), '--space', space, '--target', target,
      '--seed', String(seed), '--out', f.out!]).config;
    for (const w of widths) searchFor(spaces[0]!, w, targets[0]!, 0); // bad forwarded flags or widths fail here, before any run
  } catch (e) {
    return usageFailure('pareto', e, io);
  }
  const out = f.out!, csvPath = join(out, 'pareto.csv');
  const runs = join(out, 'runs.jsonl');
  try {
    const rows = readParetoCsv(csvPath);
    const done = new Set(rows.map(key));
    const data = loadData({ data: f.data as DatasetName, limit: f.limit ?? null, validation: f.validation ?? null });
    const save = (r: ParetoRow, extra: Record<string, unknown> = {}): void => {
      rows.push(r);
      done.add(key(r));
      writeAtomic(csvPath, csv(rows));
      appendJsonLine(runs, { ...r, ...extra });
      io.err(`  ${r.kind} ${r.spaceOrFormat} ×${r.width}${r.target ? ` ${r.target}` : ''} seed ${r.seed}: ${(100 * r.testAccuracy).toFixed(2)}% at ${r.mbops.toPrecision(4)} MBOPs (${formatTime(r.wallSeconds)})\n`);
    };
    if (rows.length === 0) writeAtomic(csvPath, csv(rows));
    let skipped = 0;
    for (let seed = f['first-seed']!; seed < f['first-seed']! + f.seeds!; seed++) {
      for (const width of widths) {
        for (const fmt of uniform) {
          const k = { kind: 'uniform' as const, spaceOrFormat: fmt, width, target: '', seed };
          if (done.has(key(k))) { skipped++; continue; }
          const t0 = Date.now();
          // trained as the searches and their controls are (label smoothing, weight clips: the search flags)
          const sc = searchFor(spaces[0]!, width, targets[0]!, seed);
          const model = createModel(f.model!, { width, inputShape: data.train.shape, classes: data.train.classes, seed,
            quant: { actKByFormat: searchClipMultiples([parseFormat(fmt)]), weightClip: sc.weightClip ?? 'absmax' } });
          const layers = describeModel(model, data.train.shape);
          const trainer = new Trainer(model, data, { ...trainConfig(sc), formats: [fmt] });
          for (const _ of trainer.run()) { /* train */ }
          const test = trainer.evaluate(data.test);
          trainer.dispose();
          save({ ...k, mbops: uniformCost(layers, fmt) / 1e6, testAccuracy: test.accuracy, wallSeconds: (Date.now() - t0) / 1000 });
        }
        for (const space of spaces) {
          for (const target of targets) {
            const config = searchFor(space, width, target, seed);
            const searches: Array<[kind: 'fliqs' | 'constant-q', config: SearchConfig]> = [['fliqs', config]];
            if (f.controls) searches.push(['constant-q', { ...config, quality: 'constant' }]);
            let reachable = true;
            for (const [kind, c] of searches) {
              const k = { kind, spaceOrFormat: space, width, target, seed };
              if (done.has(key(k))) { skipped++; continue; }
              const dir = runDirName(kind, space, width, target, seed);
              let r;
              try {
                r = executeSearch(c, join(out, dir), io, { quiet: true, resume: true }).result!;
              } catch (e) {
                if (e instanceof FliqsError && e.input === 'target') { io.err(`  skipping FLIQS ${space} ×${width} ${target}: ${e.problem}\n`); reachable = false; break; }
                throw e;
              }
              save({ ...k, mbops: r.bops / 1e6, testAccuracy: r.test.accuracy, wallSeconds: r.wallSeconds }, { dir });
            }
            if (!f.controls || !reachable) continue;
            const k = { kind: 'random' as const, spaceOrFormat: space, width, target, seed };
            if (done.has(key(k))) { skipped++; continue; }
            const r = randomControl(config, data, io);
            if (r) save({ ...k, mbops: r.bops / 1e6, testAccuracy: r.testAccuracy, wallSeconds: r.wallSeconds }, r.extra);
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

/**
 * The random control of a search: a configuration of the search's space drawn uniformly among those within
 * ±COST_TOLERANCE of its target (seeded by randomControlSeed), trained from scratch with its formats fixed,
 * on the search's model, initialization, data and training settings. Null (with a note) when no
 * configuration lies in the band.
 */
function randomControl(c: SearchConfig, data: DatasetSplits, io: Io):
  { bops: number; testAccuracy: number; wallSeconds: number; extra: Record<string, unknown> } | null {
  const t0 = Date.now();
  const info = describeModel(configModel(c, data), data.train.shape);
  const space = buildSearchSpace(info, {
    space: c.space, ...(c.fixFirstLast ? { fixFirstLast: c.fixFirstLast } : {}), ...(Object.keys(c.pins).length ? { pins: c.pins } : {}),
  });
  const targetBops = parseTarget(c.target, space);
  const sampler = equalCostSampler(space, targetBops, COST_TOLERANCE);
  const samplerSeed = randomControlSeed(c.seed);
  let config: number[];
  try {
    config = sampler.sample(new Rng(samplerSeed));
  } catch (e) {
    if (e instanceof FliqsError && e.input === 'targetBops') { io.err(`  skipping random ${c.space} ×${c.width} ${c.target}: ${e.problem}\n`); return null; }
    throw e;
  }
  const formats = configFormats(space, config).map((fm) => fm.name);
  const test = retrainFixed(configModel(c, data), data, formats, trainConfig(c), searchClipMultiples(spaceFormats(space)));
  const bops = configCost(space, config);
  return {
    bops, testAccuracy: test.accuracy, wallSeconds: (Date.now() - t0) / 1000,
    extra: { formats: configRecord(space, config), costRatio: bops / targetBops, samplerSeed, bandConfigs: sampler.count },
  };
}
