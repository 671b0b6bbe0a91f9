// The runs of a `fliqs pareto` sweep: its flags, the grid as a list of independent runs in the serial order
// (per seed and width: the uniform baselines, then per space and target the FLIQS search and, with --controls,
// its constant-Q search and its random configuration at equal cost), and one run executed (runJob). The
// parent process runs them in turn (--jobs 1) or hands them to worker processes (pareto-worker.ts), which
// parse the same arguments with parseSweep, so every run gets the same config either way. Node-only.

import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import type { StudyRun } from '../report/study.js';
import { Rng } from '../core/random.js';
import type { DatasetSplits } from '../data/dataset.js';
import { parseFormat } from '../formats/format.js';
import { parseSearchSpace } from '../formats/presets.js';
import { describeModel } from '../nn/zoo.js';
import { MODEL_HELP, buildModel, parseModelFlag } from './model-flag.js';
import { configCost, parseTarget, parseTargetSpec, uniformCost } from '../search/cost.js';
import { equalCostSampler } from '../search/equal-cost.js';
import { COST_TOLERANCE, retrainFixed, searchClipMultiples, spaceFormats } from '../search/search.js';
import { buildSearchSpace, configArch, configArchValues, configFormats, configRecord } from '../search/space.js';
import { splitSpaceSpec } from '../search/arch-spaces.js';
import { isSupernet } from '../nn/mobilenet.js';
import { OPTIMIZERS, Trainer } from '../train/trainer.js';
import { COMMON_FLAGS, UsageError, parseFlags, type FlagSpecs, type FlagValues } from './args.js';
import { dataFlag } from './data-flag.js';
import { SEARCH_FLAGS, configModel, executeSearch, safeName, searchConfig, trainConfig, type Io, type SearchConfig } from './search.js';

export const PARETO_FLAGS = {
  model: { kind: 'string', help: MODEL_HELP, default: 'cnn' },
  data: dataFlag('dataset', 'fashion-mnist'),
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
  validation: { kind: 'int', help: 'examples held out of train for validation (default 5000; synthetic 500)', min: 1 },
  controls: { kind: 'boolean', help: 'also run, per search, the constant-Q search and a random configuration at equal cost (±10%)' },
  jobs: {
    kind: 'int', help: 'runs at a time, in N worker processes with max(1, floor(cores / N)) kernel threads each (--threads sets it per process)',
    default: 1, min: 1, max: 256,
  },
  out: { kind: 'string', help: 'output directory', default: 'runs/pareto' },
} satisfies FlagSpecs;

/** `fliqs search` flags the sweep sets for each run itself. */
const SET_BY_SWEEP = ['width', 'space', 'target', 'target-mbops', 'seed', 'out', 'resume', 'stop-after'];
/** `fliqs search` flags passed on to every search (pareto's own flags of the same name are passed too). */
export const FORWARDED = Object.keys(SEARCH_FLAGS).filter((k) => !Object.hasOwn(PARETO_FLAGS, k) && !SET_BY_SWEEP.includes(k));

/** Row kinds: uniform baselines, FLIQS searches, and the two controls of --controls. */
export const PARETO_KINDS = ['uniform', 'fliqs', 'constant-q', 'random'] as const;

export interface ParetoRow extends StudyRun {
  kind: (typeof PARETO_KINDS)[number];
  wallSeconds: number;
  /** Searches (FLIQS and constant-Q): C(α*)/C_T of the result, the final policy entropy (nats), the number of warnings. */
  costRatio?: number;
  finalEntropy?: number;
  warnings?: number;
}

/** The identity of a run (a row of pareto.csv without its measurements). */
export const rowKey = (r: Pick<ParetoRow, 'kind' | 'spaceOrFormat' | 'width' | 'target' | 'seed'>): string =>
  [r.kind, r.spaceOrFormat, r.width, r.target, r.seed].join('|');

/** One run of the sweep; `index` is its place in the serial order, `group` its grid point (a search and its controls share one). */
export interface SweepJob extends Pick<ParetoRow, 'kind' | 'spaceOrFormat' | 'width' | 'target' | 'seed'> {
  index: number;
  group: string;
}

/** A run's outcome: its row (and the extra fields of runs.jsonl), or why it was skipped; `unreachable` skips its whole group. */
export type JobOutcome =
  | { row: ParetoRow; extra: Record<string, unknown> }
  | { skip: string; unreachable: boolean };

export interface Sweep {
  flags: FlagValues<typeof PARETO_FLAGS & typeof COMMON_FLAGS>;
  /** Every run of the grid in the serial order. */
  jobs: SweepJob[];
  spaces: string[];
  targets: string[];
  /** The `fliqs search` config of a grid point. */
  searchFor(space: string, width: number, target: string, seed: number): SearchConfig;
}

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

function list(flag: string, s: string): string[] {
  const out = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (out.length === 0) throw new UsageError(`--${flag} is empty`);
  return out;
}

/** Splits the arguments into pareto's own and those passed on to every search; refuses the ones the sweep sets. */
function splitArgs(args: readonly string[]): { own: string[]; forwarded: string[] } {
  const own: string[] = [], forwarded: string[] = [];
  const searchSpecs: FlagSpecs = SEARCH_FLAGS, ownSpecs: FlagSpecs = { ...PARETO_FLAGS, ...COMMON_FLAGS };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    const bare = name.startsWith('no-') && searchSpecs[name.slice(3)]?.kind === 'boolean' ? name.slice(3) : name;
    const isOwn = Object.hasOwn(ownSpecs, bare) || !Object.hasOwn(searchSpecs, bare); // unknown flags: parseFlags reports them
    if (!isOwn && SET_BY_SWEEP.includes(bare)) {
      throw new UsageError(`--${bare} is set by the sweep for each run (use --widths, --spaces, --targets, --seeds, --out)`);
    }
    const to = isOwn ? own : forwarded;
    to.push(a);
    const spec = (isOwn ? ownSpecs[bare] : searchSpecs[bare]);
    if (spec && spec.kind !== 'boolean' && !a.includes('=') && i + 1 < args.length) to.push(args[++i]!);
  }
  return { own, forwarded };
}

/** Parses `fliqs pareto` arguments into the sweep (throws UsageError / FliqsError before any run). */
export function parseSweep(args: readonly string[]): Sweep {
  const { own, forwarded } = splitArgs(args);
  const f = parseFlags(own, PARETO_FLAGS);
  parseModelFlag(f.model!); // a zoo name or a readable JSON spec file
  const widths = list('widths', f.widths!).map((w) => {
    const v = Number(w);
    if (!(v >= 0.01 && v <= 8)) throw new UsageError(`--widths: ${JSON.stringify(w)} is not a multiplier in [0.01, 8]`);
    return v;
  });
  const targets = list('targets', f.targets!);
  for (const t of targets) parseTargetSpec(t); // a misspelt target is bad input, not a target no configuration reaches
  const spaces = list('spaces', f.spaces!);
  for (const s of spaces) parseSearchSpace(splitSpaceSpec(s).formats);
  const uniform = f.uniform === 'none' ? [] : list('uniform', f.uniform!).map((u) => parseFormat(u).name);
  // every search's config comes from `fliqs search`'s own parser: pareto's shared flags, the forwarded ones, the grid point
  const shared = ['--model', f.model!, '--data', f.data!, '--epochs', String(f.epochs), '--batch', String(f.batch), '--lr', String(f.lr),
    '--optimizer', f.optimizer!, ...(f.steps !== undefined ? ['--steps', String(f.steps)] : []),
    ...(f.limit !== undefined ? ['--limit', String(f.limit)] : []), ...(f.validation !== undefined ? ['--validation', String(f.validation)] : []),
    ...forwarded];
  const searchFor = (space: string, width: number, target: string, seed: number): SearchConfig => searchConfig([...shared, '--width', String(width),
    '--space', space, '--target', target, '--seed', String(seed), '--out', f.out!]).config;
  for (const w of widths) searchFor(spaces[0]!, w, targets[0]!, 0); // bad forwarded flags or widths fail here, before any run
  const jobs: SweepJob[] = [], seen = new Set<string>();
  const add = (j: Omit<SweepJob, 'index' | 'group'>, group: string): void => { // a grid point listed twice runs once
    if (!seen.has(rowKey(j))) { seen.add(rowKey(j)); jobs.push({ ...j, index: jobs.length, group }); }
  };
  for (let seed = f['first-seed']!; seed < f['first-seed']! + f.seeds!; seed++) {
    for (const width of widths) {
      for (const fmt of uniform) {
        const j = { kind: 'uniform' as const, spaceOrFormat: fmt, width, target: '', seed };
        add(j, rowKey(j));
      }
      for (const space of spaces) {
        for (const target of targets) {
          const at = { spaceOrFormat: space, width, target, seed }, group = [space, width, target, seed].join('|');
          add({ kind: 'fliqs', ...at }, group);
          if (f.controls) { add({ kind: 'constant-q', ...at }, group); add({ kind: 'random', ...at }, group); }
        }
      }
    }
  }
  return { flags: f, jobs, spaces, targets, searchFor };
}

/** A short name of a run for progress lines: `fliqs int-s ×0.5 0.5xINT8 seed 0`. */
export function jobName(j: Pick<SweepJob, 'kind' | 'spaceOrFormat' | 'width' | 'target' | 'seed'>): string {
  return `${j.kind} ${j.spaceOrFormat} ×${j.width}${j.target ? ` ${j.target}` : ''} seed ${j.seed}`;
}

const unreachable = (j: SweepJob, e: FliqsError): JobOutcome =>
  ({ skip: `skipping FLIQS ${j.spaceOrFormat} ×${j.width} ${j.target}: ${e.problem}`, unreachable: true });

/**
 * Runs one job of the sweep: trains the uniform baseline, runs (or resumes, in its run directory) the search or
 * its constant-Q control, or trains the random control. `data` gives the sweep's dataset (loaded once by the caller).
 * Throws FliqsError for bad input and a diverged loss; a target no configuration reaches is a skip of the group.
 */
export function runJob(sweep: Sweep, job: SweepJob, data: () => DatasetSplits, io: Io): JobOutcome {
  const f = sweep.flags, { spaceOrFormat, width, target, seed } = job;
  const key = { kind: job.kind, spaceOrFormat, width, target, seed };
  if (job.kind === 'uniform') {
    const t0 = Date.now(), d = data();
    // trained as the searches and their controls are (label smoothing, weight clips: the search flags)
    const sc = sweep.searchFor(sweep.spaces[0]!, width, sweep.targets[0]!, seed);
    const model = buildModel(f.model!, sc.modelSpec, { width, inputShape: d.train.shape, classes: d.train.classes, seed,
      quant: { actKByFormat: searchClipMultiples([parseFormat(spaceOrFormat)]), weightClip: sc.weightClip ?? 'absmax' } });
    const layers = describeModel(model, d.train.shape);
    const trainer = new Trainer(model, d, { ...trainConfig(sc), formats: [spaceOrFormat] });
    for (const _ of trainer.run()) { /* train */ }
    const test = trainer.evaluate(d.test);
    trainer.dispose();
    return { row: { ...key, mbops: uniformCost(layers, spaceOrFormat) / 1e6, testAccuracy: test.accuracy, wallSeconds: (Date.now() - t0) / 1000 }, extra: {} };
  }
  const config = sweep.searchFor(spaceOrFormat, width, target, seed);
  if (job.kind === 'random') {
    try {
      return randomControl(config, data(), key);
    } catch (e) {
      if (e instanceof FliqsError && e.input === 'target') return unreachable(job, e);
      throw e;
    }
  }
  const dir = runDirName(job.kind, spaceOrFormat, width, target, seed);
  const c = job.kind === 'constant-q' ? { ...config, quality: 'constant' as const } : config;
  let r;
  try {
    r = executeSearch(c, join(f.out!, dir), io, { quiet: true, resume: true }).result!;
  } catch (e) {
    if (e instanceof FliqsError && e.input === 'target') return unreachable(job, e);
    throw e;
  }
  return {
    row: { ...key, mbops: r.bops / 1e6, testAccuracy: r.test.accuracy, wallSeconds: r.wallSeconds, costRatio: r.costRatio, finalEntropy: r.finalEntropy, warnings: r.warnings.length },
    extra: {
      dir, costRatio: r.costRatio, finalEntropy: r.finalEntropy, warnings: r.warnings,
      ...(r.architecture ? { architecture: Object.fromEntries(r.architecture.decisions.map((d) => [d.name, d.value])), params: r.architecture.params } : {}),
    },
  };
}

/**
 * The random control of a search: a configuration of the search's space drawn uniformly among those within
 * ±COST_TOLERANCE of its target (seeded by randomControlSeed), trained from scratch with its formats fixed,
 * on the search's model, initialization, data and training settings. A skip when no configuration lies in the band.
 */
function randomControl(c: SearchConfig, data: DatasetSplits, key: Omit<ParetoRow, 'mbops' | 'testAccuracy' | 'wallSeconds'>): JobOutcome {
  const t0 = Date.now();
  const model = configModel(c, data);
  const supernet = isSupernet(model) ? model : null;
  const info = describeModel(model, data.train.shape);
  const space = buildSearchSpace(info, {
    space: c.space, ...(c.fixFirstLast ? { fixFirstLast: c.fixFirstLast } : {}), ...(Object.keys(c.pins).length ? { pins: c.pins } : {}),
  }, supernet?.architecture());
  const targetBops = parseTarget(c.target, space);
  const sampler = equalCostSampler(space, targetBops, COST_TOLERANCE);
  const samplerSeed = randomControlSeed(c.seed);
  let config: number[];
  try {
    config = sampler.sample(new Rng(samplerSeed));
  } catch (e) {
    if (e instanceof FliqsError && e.input === 'targetBops') return { skip: `skipping random ${c.space} ×${c.width} ${c.target}: ${e.problem}`, unreachable: false };
    throw e;
  }
  const formats = configFormats(space, config).map((fm) => fm.name);
  // a FLIQNAS space's draw includes an architecture: the plain model of it, initialized as the search's super-network
  const fresh = supernet ? supernet.extract(configArchValues(space, config)) : model;
  if (supernet) supernet.free();
  const test = retrainFixed(fresh, data, formats, trainConfig(c), searchClipMultiples(spaceFormats(space)));
  fresh.free();
  const bops = configCost(space, config);
  return {
    row: { ...key, mbops: bops / 1e6, testAccuracy: test.accuracy, wallSeconds: (Date.now() - t0) / 1000 },
    extra: {
      formats: configRecord(space, config), ...(supernet ? { architecture: configArch(space, config) } : {}),
      costRatio: bops / targetBops, samplerSeed, bandConfigs: sampler.count,
    },
  };
}
