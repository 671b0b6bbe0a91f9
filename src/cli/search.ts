// `fliqs search`: runs a FLIQS search on a zoo model and writes runs/NAME/{config.json, log.jsonl,
// checkpoint.bin, result.json}, with a live progress line and a per-layer result table at the end.
// `--resume` continues from checkpoint.bin to the same result. result.json records the kernels' thread count of
// the invocation that finished the run (not an input: config.json leaves it out, results are the same for any
// count). Node-only (files, process output).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError, FliqsIoError } from '../core/errors.js';
import { checkSavedSearchConfig, refuseEditsSince } from './saved-config.js';
import { loadDataset, type DatasetName } from '../data/node/load.js';
import type { DatasetSplits } from '../data/dataset.js';
import { parseFormat, type Format } from '../formats/format.js';
import { getThreads } from '../kernels/threads.js';
import { MODEL_NAMES } from '../nn/zoo.js';
import type { Module } from '../nn/module.js';
import type { LayerListSpec } from '../nn/spec.js';
import { MODEL_HELP, buildModel, modelLabel, parseModelFlag } from './model-flag.js';
import type { ArchOptions } from '../nn/mobilenet.js';
import { KERNEL_SHARINGS, type KernelSharing } from '../nn/elastic.js';
import { DEFAULT_ARCH_KERNELS, DEFAULT_ARCH_WIDTHS, archOptionsOf, isArchSpace } from '../search/arch-spaces.js';
import type { TrainerCheckpoint } from '../train/trainer.js';
import { DEFAULT_GAMMA_PER_SIGMA, formatMbops } from '../search/cost.js';
import { DEFAULT_CONTROLLER_LR, ESTIMATORS, type Estimator } from '../search/controller.js';
import {
  DEFAULT_RECALIBRATION_BATCHES, DEFAULT_SEARCH_CONTROLLER_LR, DEFAULT_SEARCH_ENTROPY_END, DEFAULT_SEARCH_LABEL_SMOOTHING, QUALITY_SIGNALS, Search, retrainFixed, spaceFormats,
  type QualitySignal, type ResultRule, type RewardScaleMode, type SearchResult, type SearchStep,
} from '../search/search.js';
import type { WeightClipMethod } from '../nn/quant.js';
import { OPTIMIZERS, type OptimizerName, type TrainConfig } from '../train/trainer.js';
import { UsageError, parseFlags, usage, type FlagSpecs } from './args.js';
import { dataFlag } from './data-flag.js';
import { writeAtomic, writeJson, readJson, appendJsonLine } from './files.js';
import { Progress, formatTime } from './progress.js';
import { RunDir } from './run-dir.js';
import { table } from './table.js';

/** Where a command writes: stdout for results, stderr for progress and errors (tests capture both). */
export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** Stream for the progress line (default process.stderr; tests pass a non-TTY sink). */
  progress?: NodeJS.WriteStream;
}

export const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export const SEARCH_FLAGS = {
  model: { kind: 'string', help: `${MODEL_HELP} (fliqs train defaults to lenet5)`, default: 'cnn' },
  width: { kind: 'number', help: 'channel width multiplier', default: 1, min: 0.01, max: 8 },
  data: dataFlag('dataset (fliqs train defaults to mnist)', 'fashion-mnist'),
  space: { kind: 'string', help: 'formats per layer: int-s, int-l, fp-s, fp-l, presets joined with +, or a list; or formats and architecture (mobilenetv2): fliqnas-s, fliqnas-l, fliqnas-fp-s, fliqnas-fp-l, qnas-<format>', default: 'int-s' },
  'arch-widths': { kind: 'string', help: `architecture spaces: expansion-width multipliers per block (default ${DEFAULT_ARCH_WIDTHS.join(',')})` },
  'arch-kernels': { kind: 'string', help: `architecture spaces: depthwise kernel sizes, odd (default ${DEFAULT_ARCH_KERNELS.join(',')}; a block keeps those that fit its input)` },
  recalibrate: { kind: 'int', help: `architecture spaces: training batches that recompute the extracted model's batch-norm statistics before its test (0: as inherited)`, default: DEFAULT_RECALIBRATION_BATCHES, min: 0 },
  'kernel-sharing': { kind: 'string', help: "architecture spaces: 'center' (a smaller kernel is the centre of the largest) or 'separate' (own weights per size)", default: 'center', choices: KERNEL_SHARINGS },
  target: { kind: 'string', help: 'cost target: 0.5xINT8, 1.1xINT4, 12.5MBOPs, … (or --target-mbops)' },
  'target-mbops': { kind: 'number', help: 'cost target in MBOPs', min: 0 },
  epochs: { kind: 'int', help: 'training epochs (T = epochs × steps per epoch)', default: 1, min: 1 },
  steps: { kind: 'int', help: 'limit T to this many steps', min: 1 },
  batch: { kind: 'int', help: 'training batch size', default: 64, min: 1 },
  lr: { kind: 'number', help: 'learning rate (cosine schedule)', default: 0.05, min: 0 },
  optimizer: { kind: 'string', help: 'optimizer', default: 'sgd', choices: OPTIMIZERS },
  'weight-decay': { kind: 'number', help: 'weight decay (fliqs train defaults to 0.0005)', default: 0, min: 0 },
  seed: { kind: 'int', help: 'seed of everything (init, batches, controller, validation order)', default: 0, min: 0, max: 2 ** 32 - 1 },
  gamma: { kind: 'string', help: "cost scalar γ of the reward r = Q − γ·|C/C_T − 1|: a number ≥ 0, or 'auto' (γ = κ·σ of Q, measured in the warm-up)", default: 'auto' },
  'gamma-per-sigma': { kind: 'number', help: "κ of γ = κ·σ with --gamma auto", default: DEFAULT_GAMMA_PER_SIGMA, min: 0 },
  estimator: { kind: 'string', help: "policy gradient: 'local' (cost term exact per layer) or 'reinforce' (the paper's, the old default)", default: 'local', choices: ESTIMATORS },
  result: { kind: 'string', help: "the result's formats: 'in-budget' (the argmax if within ±10% of the target, else the most probable configuration within ±10%) or 'argmax' (always, the paper's; the old default)", default: 'in-budget', choices: ['in-budget', 'argmax'] },
  'reward-scale': { kind: 'string', help: "divide rewards by the measured noise σ of Q ('noise') or not ('none', the old default)", default: 'noise', choices: ['noise', 'none'] },
  'controller-lr': { kind: 'number', help: 'Adam learning rate of the policy logits', default: DEFAULT_SEARCH_CONTROLLER_LR, min: 0 },
  'entropy-end': { kind: 'number', help: 'β_H at the end, in units of the reward scale (0 = no entropy regularization; the paper: 0.5 with --reward-scale none)', default: DEFAULT_SEARCH_ENTROPY_END, min: 0 },
  quality: { kind: 'string', help: "quality signal Q on the validation batch ('constant': the control, the controller hears only the cost)", default: 'accuracy', choices: QUALITY_SIGNALS },
  'label-smoothing': { kind: 'number', help: 'label smoothing of the training loss (paper A.4; fliqs train defaults to 0)', default: DEFAULT_SEARCH_LABEL_SMOOTHING, min: 0, max: 0.99 },
  'weight-clip': { kind: 'string', help: "weight clips: 'absmax' per output channel, or 'mse' (one MSE-optimal clip per format, switched with it)", default: 'absmax', choices: ['absmax', 'mse'] },
  'val-batch': { kind: 'int', help: 'validation examples per search step (default --batch)', min: 1 },
  validation: { kind: 'int', help: 'examples held out of train for validation (default 5000; synthetic 500)', min: 1 },
  limit: { kind: 'int', help: 'use at most this many training examples (quick runs)', min: 1 },
  'fix-first-last': { kind: 'string', help: 'keep the first and last layers in this format (e.g. BF16)' },
  pin: { kind: 'string', help: 'pin layers: name=FORMAT,name=FORMAT' },
  retrain: { kind: 'boolean', help: 'also retrain from scratch with the argmax formats fixed (ablation, doubles the time)' },
  resume: { kind: 'boolean', help: 'continue the run in --out from its checkpoint (its config.json wins)' },
  'stop-after': { kind: 'int', help: 'stop (with a checkpoint) after this many steps of this invocation', min: 1 },
  'log-every': { kind: 'int', help: 'log a line every N steps (default about T/500)', min: 1 },
  'checkpoint-every': { kind: 'int', help: 'checkpoint every N steps (default about T/20)', min: 1 },
  out: { kind: 'string', help: 'run directory (default runs/search-MODEL-SPACE-TARGET-sSEED)' },
} satisfies FlagSpecs;

const SUMMARY = 'Runs a FLIQS quantization search: one-shot, per-layer formats, cost target in BOPs (Σ bits²·MACs).';

/**
 * A small, fast default search for `npm start`: the small CNN on Fashion-MNIST, int-s, a target of
 * half of uniform INT8 (between uniform INT4 and INT8), 10 epochs (8590 steps): measured 2:04 wall on the
 * shared 2-core dev machine (≈ 70 steps/s; expect up to ~3 min when the machine is busy).
 */
export const DEFAULT_SEARCH_ARGS: readonly string[] = [
  '--model', 'cnn', '--data', 'fashion-mnist', '--space', 'int-s', '--target', '0.5xINT8', '--epochs', '10', '--batch', '64',
  '--out', 'runs/default-search',
];

/** Everything a search run depends on (config.json). */
export interface SearchConfig {
  /** A zoo name, or the spec file --model named (its content is modelSpec). */
  model: string;
  /** The JSON model spec (--model FILE.json), copied in so the run folder alone rebuilds the model. Absent for zoo models. */
  modelSpec?: LayerListSpec;
  width: number;
  data: DatasetName;
  space: string;
  target: string | number;
  epochs: number;
  steps: number | null;
  batch: number;
  lr: number;
  optimizer: OptimizerName;
  weightDecay: number;
  seed: number;
  /** A number, or 'auto' (γ = gammaPerSigma·σ of Q). */
  gamma: number | 'auto';
  /**
   * The fields below marked "absent: old" are missing from configs written before they existed; resuming one
   * keeps the behaviour it ran with (the 'reinforce' estimator, raw rewards, no label smoothing, absmax weight clips).
   */
  gammaPerSigma?: number;
  /** Absent: old ('reinforce'). */
  estimator?: Estimator;
  /** Absent: old ('none'). */
  rewardScale?: RewardScaleMode;
  /** Absent: old ('argmax'). */
  resultRule?: ResultRule;
  /** Absent: old (0). */
  labelSmoothing?: number;
  /** Absent: old ('absmax'). */
  weightClip?: WeightClipMethod;
  /**
   * Adam learning rate of the controller. Absent in configs written before the flag existed; those runs used
   * the Controller's own default (DEFAULT_CONTROLLER_LR), so resuming one keeps it.
   */
  controllerLr?: number;
  entropyEnd: number;
  quality: QualitySignal;
  valBatch: number;
  validation: number | null;
  limit: number | null;
  fixFirstLast: string | null;
  pins: Record<string, string>;
  retrain: boolean;
  logEvery: number | null;
  checkpointEvery: number | null;
  /** Architecture spaces only (absent otherwise): width multipliers, kernel sizes, kernel weight sharing. */
  widths?: number[];
  kernelSizes?: number[];
  kernelSharing?: KernelSharing;
  recalibrate?: number;
}

/** A comma list of numbers for --arch-widths / --arch-kernels. */
function numberList(flag: string, s: string): number[] {
  const v = s.split(',').map((p) => p.trim()).filter(Boolean).map(Number);
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new UsageError(`--${flag} ${JSON.stringify(s)} is not a comma list of numbers`);
  return v;
}

function parsePins(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^=]+)=([^=]+)$/.exec(part);
    if (!m) throw new UsageError(`--pin ${JSON.stringify(part)} is not name=FORMAT`);
    out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

/** A space or target as a piece of a directory name: anything but letters, digits and `.+-` becomes `_`. */
export const safeName = (s: string): string => s.replace(/[^A-Za-z0-9.+-]+/g, '_');

/** Parses `fliqs search` flags into a config (throws UsageError / FliqsError). */
export function searchConfig(args: readonly string[]): { config: SearchConfig; out: string; resume: boolean; stopAfter: number | null } {
  const f = parseFlags(args, SEARCH_FLAGS);
  if (f.target !== undefined && f['target-mbops'] !== undefined) throw new UsageError('give --target or --target-mbops, not both');
  const target = f['target-mbops'] ?? f.target ?? '0.5xINT8';
  const gamma = f.gamma === 'auto' ? 'auto' : Number(f.gamma);
  if (gamma !== 'auto' && !(f.gamma!.trim() !== '' && Number.isFinite(gamma) && gamma >= 0)) throw new UsageError(`--gamma ${JSON.stringify(f.gamma)} is not a number ≥ 0 or 'auto'`);
  const config: SearchConfig = {
    model: f.model!, width: f.width!, data: f.data as DatasetName, space: f.space!, target, epochs: f.epochs!, steps: f.steps ?? null,
    batch: f.batch!, lr: f.lr!, optimizer: f.optimizer as OptimizerName, weightDecay: f['weight-decay']!, seed: f.seed!, gamma,
    gammaPerSigma: f['gamma-per-sigma']!, estimator: f.estimator as Estimator, resultRule: f.result as ResultRule, rewardScale: f['reward-scale'] as RewardScaleMode,
    labelSmoothing: f['label-smoothing']!, weightClip: f['weight-clip'] as WeightClipMethod,
    controllerLr: f['controller-lr']!, entropyEnd: f['entropy-end']!, quality: f.quality as QualitySignal, valBatch: f['val-batch'] ?? f.batch!,
    validation: f.validation ?? null, limit: f.limit ?? null, fixFirstLast: f['fix-first-last'] ?? null, pins: parsePins(f.pin),
    retrain: f.retrain, logEvery: f['log-every'] ?? null, checkpointEvery: f['checkpoint-every'] ?? null,
  };
  if (!f.resume) {
    const m = parseModelFlag(config.model);
    if (m.modelSpec) config.modelSpec = m.modelSpec;
  }
  if (isArchSpace(config.space)) {
    const a = archOptionsOf(config.space, {
      ...(f['arch-widths'] !== undefined ? { widths: numberList('arch-widths', f['arch-widths']) } : {}),
      ...(f['arch-kernels'] !== undefined ? { kernelSizes: numberList('arch-kernels', f['arch-kernels']) } : {}),
    });
    Object.assign(config, { widths: [...a.widths!], kernelSizes: [...a.kernelSizes!], kernelSharing: f['kernel-sharing'] as KernelSharing, recalibrate: f.recalibrate! });
  } else if (f['arch-widths'] !== undefined || f['arch-kernels'] !== undefined || args.some((a) => a.startsWith('--kernel-sharing') || a.startsWith('--recalibrate'))) {
    throw new UsageError(`--arch-widths, --arch-kernels, --kernel-sharing and --recalibrate belong to an architecture space (fliqnas-s, fliqnas-l, qnas-<format>), not --space ${config.space}`);
  }
  const out = f.out ?? join('runs', `search-${safeName(modelLabel(config.model))}-${safeName(config.space)}-${safeName(String(target))}-s${config.seed}`);
  return { config, out, resume: f.resume, stopAfter: f['stop-after'] ?? null };
}

/** Loads the config's dataset with its limits. */
export function loadData(c: Pick<SearchConfig, 'data' | 'limit' | 'validation'>): DatasetSplits {
  return loadDataset(c.data, {
    ...(c.validation !== null ? { validation: c.validation } : {}),
    ...(c.limit !== null ? { limit: { train: c.limit } } : {}),
  });
}

/** The training settings of a search config (also used to train its controls the same way). */
export function trainConfig(c: SearchConfig): Omit<TrainConfig, 'formats'> {
  return {
    epochs: c.epochs, batchSize: c.batch, optimizer: c.optimizer, lr: c.lr, weightDecay: c.weightDecay, seed: c.seed,
    labelSmoothing: c.labelSmoothing ?? 0, ...(c.steps !== null ? { maxSteps: c.steps } : {}),
  };
}

/** The zoo model of a config, initialized from its seed (the search's, and its controls'). */
export function configModel(c: SearchConfig, data: DatasetSplits): Module {
  return buildModel(c.model, c.modelSpec, {
    width: c.width, inputShape: data.train.shape, classes: data.train.classes, seed: c.seed, quant: { weightClip: c.weightClip ?? 'absmax' },
    ...(configArch(c) ? { arch: configArch(c)! } : {}),
  });
}

/** The super-network options of an architecture-space config (undefined for a formats-only search). */
export function configArch(c: Pick<SearchConfig, 'space' | 'widths' | 'kernelSizes' | 'kernelSharing'>): ArchOptions | undefined {
  if (!isArchSpace(c.space)) return undefined;
  return { ...archOptionsOf(c.space, { ...(c.widths ? { widths: c.widths } : {}), ...(c.kernelSizes ? { kernelSizes: c.kernelSizes } : {}) }), sharing: c.kernelSharing ?? 'center' };
}

/** A search object for a config (model built with the config's seed and width). */
export function makeSearch(c: SearchConfig, data: DatasetSplits): Search {
  return new Search(configModel(c, data), data, {
    space: c.space, target: c.target, gamma: c.gamma, gammaPerSigma: c.gammaPerSigma ?? DEFAULT_GAMMA_PER_SIGMA, estimator: c.estimator ?? 'reinforce',
    rewardScale: c.rewardScale ?? 'none', resultRule: c.resultRule ?? 'argmax', entropyEnd: c.entropyEnd, quality: c.quality, validationBatch: c.valBatch,
    train: trainConfig(c), controller: { lr: c.controllerLr ?? DEFAULT_CONTROLLER_LR }, ...(c.fixFirstLast ? { fixFirstLast: c.fixFirstLast } : {}), ...(Object.keys(c.pins).length ? { pins: c.pins } : {}),
    ...(c.recalibrate !== undefined ? { recalibrationBatches: c.recalibrate } : {}),
  });
}

/**
 * A one-character-ish label per format for the progress strip: INTk → k, BF16 → B, FP32 → F,
 * ExMy → e + total bits (or ExMy when two floats of the space share a bit-width).
 */
/** The legend of the search's progress line: what Q, loss, cost/target and H are, and the short format names. */
export function progressLegend(quality: string, names: Record<string, string>): string {
  const short = Object.entries(names).map(([full, s]) => `${s} = ${full}`).join(', ');
  return `progress line: Q = validation ${quality} (running mean), loss = training loss, cost/target = C(α*)/C_T of the argmax formats, `
    + `H = policy entropy (nats); after |, each layer's argmax format (${short})`;
}

export function shortNames(formats: readonly Format[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of formats) {
    if (f.kind === 'int') out[f.name] = String(f.bits);
    else if (f.kind === 'bf16') out[f.name] = 'B';
    else if (f.kind === 'fp32') out[f.name] = 'F';
    else out[f.name] = formats.filter((g) => g.kind === 'float' && g.bits === f.bits).length > 1 ? f.name : `e${f.bits}`;
  }
  return out;
}

const round = (v: number, d = 6): number => Number(v.toPrecision(d));

/** One log.jsonl line: the step record plus the policy per layer (rounded). */
function logLine(s: SearchStep, policy: Array<Record<string, number>>): Record<string, unknown> {
  return {
    step: s.step, warmup: s.warmup, lr: round(s.lr), loss: round(s.loss), trainAccuracy: round(s.trainAccuracy),
    quality: s.quality === null ? null : round(s.quality), validationLoss: s.validationLoss === null ? null : round(s.validationLoss),
    reward: s.reward === null ? null : round(s.reward), baseline: s.baseline === null ? null : round(s.baseline), advantage: round(s.advantage),
    betaH: round(s.entropyWeight), entropy: round(s.entropy), entropyMean: round(s.entropyMean), costRatio: round(s.costRatio),
    argmaxCostRatio: round(s.argmaxCostRatio), sampled: s.sampled, argmax: s.argmax,
    policy: policy.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v, 4)]))),
    ...(s.arch ? { arch: s.arch } : {}),
  };
}

export interface RunOutcome {
  /** null when stopped early by --stop-after. */
  result: (SearchResult & { retrain: unknown; wallSeconds: number }) | null;
  code: number;
}

/**
 * Runs (or resumes) a search into `out` and writes its files. Returns the result (null when stopped
 * by stopAfter). Throws FliqsError for bad input before training and when the loss turns NaN. A fresh
 * start refuses an `out` that already holds a run (FliqsError naming `--out`); with `resume` it
 * continues from checkpoint.bin, or starts over in place when there is no checkpoint yet.
 */
export function executeSearch(config: SearchConfig, out: string, io: Io, opts: { resume?: boolean; stopAfter?: number | null; quiet?: boolean } = {}): RunOutcome {
  const run = new RunDir(out);
  const data = loadData(config);
  const search = makeSearch(config, data);
  const T = search.totalSteps;
  const logEvery = config.logEvery ?? Math.max(1, Math.round(T / 500));
  const ckEvery = config.checkpointEvery ?? Math.max(1, Math.round(T / 20));
  let wallBefore = 0;
  const ck = opts.resume ? run.loadCheckpoint() : null;
  if (ck) {
    const saved = ((ck as TrainerCheckpoint).meta?.extra as { user?: { config?: unknown } } | undefined)?.user?.config;
    refuseEditsSince(saved, config, run.configFile);
    const user = search.restore(ck as TrainerCheckpoint) as { wallSeconds?: number } | undefined;
    wallBefore = user?.wallSeconds ?? 0;
    const damaged = run.truncateLog(search.step); // the log keeps only the steps the checkpoint covers; the rest is redone
    if (damaged && !opts.quiet) io.err(`note: dropped ${damaged} damaged line(s) of ${run.logFile} (not JSON with a step)\n`);
    if (!opts.quiet) io.err(`resuming ${out} at step ${search.step}/${T}\n`);
  } else if (opts.resume) {
    // nothing to resume from (stopped before its first checkpoint, or a new directory): start over in place
    writeJson(run.configFile, config);
    writeAtomic(run.logFile, '');
  } else {
    run.begin(config, false); // refuses a directory that already holds a run
  }
  const start = Date.now();
  const wall = (): number => wallBefore + (Date.now() - start) / 1000;
  const saveCheckpoint = (): void => run.saveCheckpoint(search.checkpoint({ wallSeconds: wall(), config }));
  const names = shortNames(spaceFormats(search.space));
  const bar = new Progress({ total: T, ...(io.progress ? { stream: io.progress } : {}), logEveryMs: opts.quiet ? 1e12 : 5000 });
  if (!opts.quiet) {
    io.err(`fliqs search: ${config.model} ×${config.width} on ${config.data}, ${search.space.layers.length} layers${search.space.arch ? ` and ${search.space.arch.length} architecture decisions` : ''}, space ${config.space}, `
      + `target ${formatMbops(search.targetBops)}, T = ${T} steps (warm-up ${search.controller.warmupEnd}), into ${out}\n`);
    io.err(`${progressLegend(config.quality, names)}\n`);
  }
  let q: number | null = null, taken = 0, last: SearchStep | null = null;
  for (const s of search.run()) {
    last = s;
    taken++;
    if (s.quality !== null) q = q === null ? s.quality : 0.95 * q + 0.05 * s.quality;
    const firstSearch = s.step === search.controller.warmupEnd;
    if (s.step % logEvery === 0 || s.step === T - 1 || firstSearch) appendJsonLine(run.logFile, logLine(s, search.policy()));
    const detail = `Q ${q === null ? '–' : q.toFixed(3)}  loss ${s.loss.toFixed(3)}  cost/target ${s.argmaxCostRatio.toFixed(2)}  `
      + `H ${s.entropy.toFixed(2)}  | ${s.argmax.map((n) => names[n]).join(' ')}`;
    if (!opts.quiet) bar.update(s.step + 1, detail);
    const done = search.step >= T;
    if (!done && search.canCheckpoint && (search.step % ckEvery === 0 || (opts.stopAfter && taken >= opts.stopAfter))) saveCheckpoint();
    if (!done && opts.stopAfter && taken >= opts.stopAfter && search.canCheckpoint) {
      if (!opts.quiet) { bar.done(`stopped at step ${search.step}`); io.err(`stopped at step ${search.step}/${T}; continue with --resume --out ${out}\n`); }
      search.dispose();
      return { result: null, code: 0 };
    }
  }
  if (!opts.quiet && last) bar.done(`Q ${q?.toFixed(3) ?? '–'}  H ${last.entropy.toFixed(2)}`);
  saveCheckpoint();
  const r = search.result();
  let retrain: unknown = null;
  if (config.retrain) {
    if (!opts.quiet) io.err('retraining from scratch with the argmax formats fixed …\n');
    const fresh = configModel(config, data);
    const t0 = Date.now();
    const rt = retrainFixed(fresh, data, r.layers.map((l) => l.format), trainConfig(config), r.clipMultiples);
    retrain = { test: rt, wallSeconds: (Date.now() - t0) / 1000 };
  }
  const wallSeconds = wall();
  search.dispose();
  const result = { ...r, retrain, wallSeconds };
  writeJson(run.resultFile, resultJson(config, result));
  if (!opts.quiet) {
    io.out(`${resultText(config, result)}\n`);
    io.err(`run folder: ${out} (fliqs report ${out} plots it)\n`);
  }
  return { result, code: 0 };
}

/** The content of result.json. */
function resultJson(config: SearchConfig, r: SearchResult & { retrain: unknown; wallSeconds: number }): Record<string, unknown> {
  return {
    kind: 'fliqs-search',
    layers: r.layers,
    cost: { bops: r.bops, mbops: r.bops / 1e6, targetMbops: r.targetBops / 1e6, ratio: r.costRatio },
    test: r.test,
    retrain: r.retrain,
    steps: r.steps, warmupSteps: r.warmupSteps, finalEntropy: r.finalEntropy, clipMultiples: r.clipMultiples,
    reward: { estimator: r.estimator, gamma: r.gamma, qualityNoise: r.qualityNoise },
    argmax: { formats: r.argmax, costRatio: r.argmaxCostRatio },
    warnings: r.warnings,
    ...(r.architecture ? { architecture: r.architecture } : {}),
    wallSeconds: r.wallSeconds,
    threads: getThreads(),
    config,
  };
}

/** The per-layer table and summary printed at the end. */
export function resultText(config: SearchConfig, r: SearchResult & { retrain: unknown; wallSeconds: number }): string {
  const rows = r.layers.map((l) => [l.name, l.macs, l.format + (l.pinned ? ' (pinned)' : ''), l.probability.toFixed(3), (l.bops / 1e6).toPrecision(4)]);
  const rt = r.retrain as { test: { accuracy: number } } | null;
  const a = r.architecture;
  const archRows = a ? a.decisions.map((d) => [d.name, d.kind === 'width' ? `${d.value} (${(d.value / d.base).toFixed(2)}× ${d.base})` : `${d.value}×${d.value}`, d.probability.toFixed(3)]) : [];
  return [
    table(['layer', 'MACs', 'format', 'p', 'MBOPs'], rows),
    '',
    ...(a ? [table(['decision', 'choice', 'p'], archRows), '',
      `extracted architecture: ${a.params} weights (the super-network holds ${a.supernetParams}); the test accuracy below is the extracted model's`
        + (a.recalibrationBatches > 0 ? `, its batch-norm statistics recomputed over ${a.recalibrationBatches} training batches (${(100 * a.testAsIs.accuracy).toFixed(2)}% with the super-network's)` : ''), ''] : []),
    `cost ${formatMbops(r.bops)} vs target ${formatMbops(r.targetBops)} (ratio ${r.costRatio.toFixed(3)})`,
    `test accuracy ${(100 * r.test.accuracy).toFixed(2)}% on ${r.test.count} (${r.argmax.every((f, i) => f === r.layers[i]!.format) ? 'argmax formats' : 'the most probable formats within ±10% of the target'}, trained weights as they are, no retraining)`,
    `reward: γ ${Number(r.gamma.toPrecision(4))}${r.qualityNoise === null ? '' : ` = ${Number((r.gamma / r.qualityNoise).toPrecision(4))}·σ, σ of Q ${Number(r.qualityNoise.toPrecision(3))}`}, estimator ${r.estimator}`,
    ...(rt ? [`retrained from scratch with these formats: ${(100 * rt.test.accuracy).toFixed(2)}%`] : []),
    `${r.steps} steps in ${formatTime(r.wallSeconds)} (${config.model} ×${config.width}, ${config.data}, seed ${config.seed})`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

/**
 * `fliqs search [flags]`: 0 on success, 2 for bad input (unknown model / space / format, unreachable
 * target, bad flags), 1 when training fails (non-finite loss; the last good checkpoint is kept).
 * @example
 * await runSearch(['--model', 'cnn', '--data', 'synthetic', '--target', '0.5xINT8', '--out', 'runs/x']);
 */
export function runSearch(args: string[], io: Io = processIo): number {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('search', SUMMARY, SEARCH_FLAGS)); return 0; }
  let parsed: ReturnType<typeof searchConfig>;
  try {
    parsed = searchConfig(args);
    if (parsed.resume) {
      const p = join(parsed.out, 'config.json');
      if (!existsSync(p)) throw new UsageError(`--resume: ${p} does not exist (nothing to resume)`);
      parsed.config = checkSavedSearchConfig<SearchConfig>(readJson<unknown>(p, 'config.json'), p);
    }
    // validate the model / space / target before any data loading
    if (!(MODEL_NAMES as string[]).includes(parsed.config.model) && !parsed.config.modelSpec) {
      throw new FliqsError('--model', `${JSON.stringify(parsed.config.model)} is not a zoo model`, MODEL_NAMES.join(', '));
    }
    if (parsed.config.modelSpec && configArch(parsed.config)) buildModel(parsed.config.model, parsed.config.modelSpec, { arch: configArch(parsed.config)! });
    if (parsed.config.fixFirstLast) parseFormat(parsed.config.fixFirstLast);
  } catch (e) {
    return usageFailure('search', e, io);
  }
  try {
    return executeSearch(parsed.config, parsed.out, io, { resume: parsed.resume, stopAfter: parsed.stopAfter }).code;
  } catch (e) {
    return runFailure('search', e, io, parsed.out);
  }
}

/** Prints a usage / input error as one line and returns 2, a file that could not be read or written 1 (rethrows anything else). */
export function usageFailure(cmd: string, e: unknown, io: Io): number {
  if (e instanceof FliqsIoError) {
    io.err(`fliqs ${cmd}: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
  if (e instanceof UsageError || e instanceof FliqsError) {
    io.err(`fliqs ${cmd}: ${e.message.replace(/\s*\n\s*/g, ' ')} (see fliqs ${cmd} --help)\n`);
    return 2;
  }
  throw e;
}

/** Errors during a run: a non-finite loss exits 1 with an explanation; other bad input exits 2. */
export function runFailure(cmd: string, e: unknown, io: Io, out: string): number {
  if (e instanceof FliqsError && e.input === 'loss') {
    io.err(`\nfliqs ${cmd}: training diverged — ${e.message}\n`
      + `The loss stopped being a finite number, so the search cannot continue. The last good checkpoint in ${out} is kept `
      + '(if one was written); lower --lr, try --optimizer adam, pin the first/last layers (--fix-first-last BF16), or change --seed, then start over.\n');
    return 1;
  }
  return usageFailure(cmd, e, io);
}
