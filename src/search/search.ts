// The FLIQS search loop (docs/DESIGN.md "FLIQS, precisely"): each training step the controller picks a
// format per searched layer (uniformly during the warm-up, from π after it), the trainer takes one
// step with those formats, one forward pass on a held-out validation batch gives the quality Q, and
// the controller is updated with r = Q − γ·|C(α)/C_T − 1|. Over the last quarter of the warm-up Q is
// measured too, without updates, to calibrate: the noise σ of Q sets the reward's scale and γ = κ·σ.
// At the end the argmax configuration is applied to the trained weights as they are and evaluated on
// the test split. On a FLIQNAS super-network (src/nn/mobilenet.ts) the controller also picks every block's
// width and kernel size, the cost counts the sampled architecture, and the result is the chosen architecture
// extracted as a plain model. Browser-safe.

import { FliqsError, describe, requireFinite, requireInt, requireObject, requirePositive } from '../core/errors.js';
import * as op from '../autograd/ops.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import { checkDataset, type DatasetSplits } from '../data/dataset.js';
import type { Format } from '../formats/format.js';
import type { Module } from '../nn/module.js';
import { quantLayers, type QuantLayer } from '../nn/quant.js';
import { describeModel } from '../nn/zoo.js';
import { isSupernet, type Supernet } from '../nn/mobilenet.js';
import { Rng } from '../core/random.js';
import { Trainer, type EvalResult, type TrainConfig, type TrainerCheckpoint } from '../train/trainer.js';
import { recalibrateBatchNorm, withBatchStatistics } from '../train/recalibrate.js';
import { defaultClipMultiples } from './analyze.js';
import { Controller, type ControllerOptions, type ControllerState, type Estimator } from './controller.js';
import { DEFAULT_GAMMA_PER_SIGMA, MIN_QUALITY_NOISE, configCost, nearestCosts, parseTarget, qualityNoise } from './cost.js';
import { costModel } from './joint-cost.js';
import { mostProbableInBand } from './budget.js';
import { buildSearchSpace, checkSpace, configArchValues, configFormats, type SearchSpace } from './space.js';
import { ValidationStream, type ValidationStreamState } from './validation.js';

/** Q: validation-batch accuracy, its negative loss, or a constant (the control: the controller hears only the cost). */
export type QualitySignal = 'accuracy' | 'neg-loss' | 'constant';
export const QUALITY_SIGNALS: readonly QualitySignal[] = ['accuracy', 'neg-loss', 'constant'];
/** The Q fed to the controller by `quality: 'constant'`. */
export const CONSTANT_QUALITY = 0.9;
/** How the result's configuration is read from the policy (see SearchOptions.resultRule). */
export type ResultRule = 'in-budget' | 'argmax';
/** What the reward is divided by: the measured noise σ of Q ('noise'), or nothing ('none', the paper's raw reward). */
export type RewardScaleMode = 'noise' | 'none';

/**
 * The controller's Adam learning rate in a search (README "The reward", measured on the known-answer toy over
 * 1,718 steps with the other defaults): the paper's 4.6e-3 (the Controller's own default) found the answer in
 * 40/40 seeds but settled only to 0.054 nats per layer; 0.02 found it in 37/40, 0.05 (the old default) in 30/40 —
 * a faster policy locks early noise in.
 */
export const DEFAULT_SEARCH_CONTROLLER_LR = 0.01;
/**
 * β_H at the end of a search, in units of the reward's scale: with rewards divided by σ of Q (the default) the
 * paper's 0.5 (its raw-reward value, DEFAULT_ENTROPY_END) left resnet8 ×0.5 searches of 1,718 steps unsettled
 * (0.1–0.23 nats per layer); 2 settles them (README "The reward").
 */
export const DEFAULT_SEARCH_ENTROPY_END = 2;
/** Label smoothing of the search's training loss (paper Appendix A.4: 0.1). */
export const DEFAULT_SEARCH_LABEL_SMOOTHING = 0.1;

export interface SearchOptions {
  /** Formats of every searched layer: a preset (`int-s`, `fp-l`, …), presets joined with +, or a list. */
  space: string | readonly string[];
  /** Cost target: MBOPs as a number, or a string such as `0.5xINT8` or `12.5MBOPs` (see parseTarget). */
  target: string | number;
  /**
   * γ of the reward: a number, or 'auto' (default): γ = gammaPerSigma · σ, σ the noise of Q measured over the
   * end of the warm-up.
   */
  gamma?: number | 'auto';
  /** κ of γ = κ·σ when gamma is 'auto' (default DEFAULT_GAMMA_PER_SIGMA): a cost miss of 10% weighs 0.1·κ σ of Q. */
  gammaPerSigma?: number;
  /** Policy-gradient estimator (default 'local'; 'reinforce' is the paper's, see controller.ts). */
  estimator?: Estimator;
  /** Divide rewards by the measured noise of Q (default 'noise') or not ('none'). */
  rewardScale?: RewardScaleMode;
  /**
   * Which configuration is the result: 'in-budget' (default) — the policy's argmax if its cost is within
   * ±COST_TOLERANCE of the target, else the most probable configuration that is (mostProbableInBand);
   * 'argmax' — the argmax always (the paper's α*).
   */
  resultRule?: ResultRule;
  /** β_H at the end of training (default DEFAULT_SEARCH_ENTROPY_END; 0 turns entropy regularization off, the ablation). */
  entropyEnd?: number;
  /** Layers pinned by name to a format. */
  pins?: Record<string, string>;
  /** Keeps the first and last layers in this format (e.g. 'BF16'). */
  fixFirstLast?: string;
  /** Training: epochs, batch, optimizer, lr, seed, maxSteps, … (`formats` is set by the search; labelSmoothing defaults to 0.1). */
  train: Omit<TrainConfig, 'formats'>;
  /** Quality signal Q: validation-batch accuracy (default), the negative validation loss, or a constant (a control). */
  quality?: QualitySignal;
  /** Examples in each validation batch (default the training batch size). */
  validationBatch?: number;
  /** Other controller options (lr — default DEFAULT_SEARCH_CONTROLLER_LR —, baseline momentum, warm-up fraction). */
  controller?: Omit<ControllerOptions, 'totalSteps' | 'seed' | 'entropyEnd' | 'cost' | 'estimator' | 'rewardScale'>;
  /**
   * FLIQNAS: training batches over which the extracted model's batch-norm statistics are recomputed before its
   * test evaluation (default DEFAULT_RECALIBRATION_BATCHES; 0 evaluates the inherited statistics as they are).
   */
  recalibrationBatches?: number;
  /**
   * Activation clip multiples k_f by format (clip_f = k_f·std). Default: searchClipMultiples(space).
   * Multiples the model was created with (createModel's quant.actKByFormat) take precedence.
   */
  clipMultiples?: Record<string, number>;
}

/** One search step, as logged. */
export interface SearchStep {
  step: number;
  warmup: boolean;
  lr: number;
  /** Training loss and accuracy of the step's batch. */
  loss: number;
  trainAccuracy: number;
  /**
   * Q, validation-batch loss and reward; null during the warm-up, except that Q and the loss are measured over its
   * last quarter to calibrate (reward still null). With quality 'constant', Q is the constant fed to the controller.
   */
  quality: number | null;
  validationLoss: number | null;
  reward: number | null;
  advantage: number;
  baseline: number | null;
  /** β_H(t/T) of the update (0 during the warm-up). */
  entropyWeight: number;
  /** H = Σ_l H_l after the update, in nats, and its mean over the searched (unpinned) layers. */
  entropy: number;
  entropyMean: number;
  /** C(α)/C_T of the sampled configuration. */
  costRatio: number;
  sampled: string[];
  argmax: string[];
  /** C(α*)/C_T of the current argmax configuration. */
  argmaxCostRatio: number;
  /**
   * FLIQNAS only: the sampled and argmax architecture (a value per decision: channels or kernel size) and how
   * many kernel decisions ran every branch jointly (warm-up).
   */
  arch?: { sampled: number[]; argmax: number[]; joint: number };
}

export interface LayerResult {
  name: string;
  macs: number;
  format: string;
  /** π_l(α*_l) at the end. */
  probability: number;
  bops: number;
  pinned: boolean;
  /** π_l over the layer's choices. */
  probabilities: Record<string, number>;
}

export interface SearchResult {
  layers: LayerResult[];
  bops: number;
  targetBops: number;
  costRatio: number;
  test: EvalResult;
  steps: number;
  warmupSteps: number;
  finalEntropy: number;
  /** The activation clip multiples k_f used. */
  clipMultiples: Record<string, number>;
  /** The policy's argmax formats and their cost / target (the same as `layers` unless resultRule 'in-budget' moved them into the band). */
  argmax: string[];
  argmaxCostRatio: number;
  /** γ of the reward as used (calibrated when 'auto'), σ of Q measured over the warm-up (null when not measured), the estimator. */
  gamma: number;
  qualityNoise: number | null;
  estimator: Estimator;
  /** Where the result misses what a search aims for (cost within ±COST_TOLERANCE, a settled policy); empty when it does not. */
  warnings: string[];
  /**
   * FLIQNAS only: every architecture decision with its chosen value, π over its choices, and the extracted
   * plain model's per-block widths and kernels (`test` is that model's evaluation); `layers[].macs` and `bops`
   * are the chosen architecture's.
   */
  architecture?: ArchResult;
}

/** The architecture part of a FLIQNAS result. */
export interface ArchResult {
  /** The extracted model's test result with the super-network's batch statistics, before recalibration. */
  testAsIs: EvalResult;
  /** Training batches its batch-norm statistics were recomputed over before `test` (0: none). */
  recalibrationBatches: number;
  decisions: Array<{ name: string; kind: 'width' | 'kernel'; value: number; base: number; probability: number; probabilities: Record<string, number> }>;
  blocks: Array<{ width: number; kernel: number }>;
  /** Weights of the extracted model and of the super-network. */
  params: number;
  supernetParams: number;
}

/**
 * Batches that recompute an extracted architecture's batch-norm statistics (recalibrate.ts): on a mobilenetv2
 * ×0.25 FLIQNAS-S search, 20 gave 82.7% and 50 gave 82.6%, against 64.2% with the inherited statistics.
 */
export const DEFAULT_RECALIBRATION_BATCHES = 20;

/** A search aims to end within this fraction of its cost target (the issue's ±10%). */
export const COST_TOLERANCE = 0.1;
/** A policy counts as settled below this entropy per searched (not pinned) layer, in nats. */
export const SETTLED_ENTROPY = 0.05;

/**
 * The warnings of a finished search: the argmax cost outside ±COST_TOLERANCE of the target, or a policy
 * that has not settled. `nearest` (costs / target, from nearestCosts) tells the two causes of a cost miss
 * apart: no configuration of the space lies near the target (nothing to fix), or the controller ran out of
 * steps — in the study a 4× longer search (resnet8 ×0.5, 8 epochs instead of 2) moved two fp-l searches
 * from 1.275×/1.206× the target to 1.085×/1.103×.
 * @example
 * searchWarnings(1.3, 0.2, 10, { below: 0.97, above: 1.02 }); // ['the argmax configuration costs 1.300× the target …']
 */
export function searchWarnings(costRatio: number, finalEntropy: number, searchedLayers: number,
  nearest: { below: number | null; above: number | null }): string[] {
  requirePositive('costRatio', costRatio);
  requireFinite('finalEntropy', finalEntropy);
  requireInt('searchedLayers', searchedLayers, 0);
  if (typeof nearest !== 'object' || nearest === null || ![nearest.below, nearest.above].every((r) => r === null || (typeof r === 'number' && r > 0))) {
    throw new FliqsError('nearest', `got ${describe(nearest)}`, '{ below, above }: costs / target, each a number > 0 or null');
  }
  const w: string[] = [];
  const x = (r: number): string => `${r.toFixed(3)}×`;
  const perLayer = searchedLayers > 0 ? finalEntropy / searchedLayers : 0;
  const settled = perLayer < SETTLED_ENTROPY;
  const inBand = (r: number | null): boolean => r !== null && r <= 1 + COST_TOLERANCE && r >= 1 - COST_TOLERANCE;
  if (!inBand(costRatio)) {
    const band = `±${100 * COST_TOLERANCE}%`;
    if (!inBand(nearest.below) && !inBand(nearest.above)) {
      const near = [nearest.below, nearest.above].filter((r) => r !== null).map((r) => x(r!)).join(' and ');
      // the nearest cost on the argmax's own side; nearestCosts is exact to ~1e-4 of the target
      const side = costRatio > 1 ? nearest.above : nearest.below;
      const missed = side !== null && Math.abs(costRatio - side) > 1e-3 ? `; ${x(side)} was reachable on the same side` : '';
      w.push(`the argmax configuration costs ${x(costRatio)} the target: no configuration of this space comes within ${band} `
        + `(the nearest cost ${near} the target)${missed}`);
    } else {
      w.push(`the argmax configuration costs ${x(costRatio)} the target (outside ${band})`
        + `${settled ? ': the policy settled before the cost reached the target' : ''}; a longer search or a larger γ may bring it closer`);
    }
  }
  if (!settled) {
    w.push(`the policy has not settled (entropy ${perLayer.toFixed(3)} nats per layer, settled is < ${SETTLED_ENTROPY}): `
      + 'a longer search may pick other formats');
  }
  return w;
}

/** Fewest warm-up steps over which Q is measured to calibrate the reward (all of a shorter warm-up; at least 2). */
export const CALIBRATION_MIN_STEPS = 8;

/**
 * The first step whose Q is measured to calibrate the reward: the last quarter of the warm-up, at least
 * CALIBRATION_MIN_STEPS steps (the whole warm-up when it is shorter).
 * @example
 * calibrationStart(430) // 322: Q measured on steps 322…429, the controller calibrated at step 430
 */
export function calibrationStart(warmupEnd: number): number {
  requireInt('warmupEnd', warmupEnd, 0);
  return Math.max(0, warmupEnd - Math.max(CALIBRATION_MIN_STEPS, Math.ceil(warmupEnd / 4)));
}

/** What the search keeps in the trainer checkpoint's `meta.extra`. */
interface SearchExtra {
  kind: 'fliqs-search';
  controller: ControllerState;
  validation: ValidationStreamState;
  /** Q measured so far over the calibration steps (absent in checkpoints from before calibration existed). */
  calibration?: number[];
  /** Whatever the caller passed to checkpoint() (the CLI keeps its wall time here). */
  user?: unknown;
  /** FLIQNAS: the state of the Rng that draws joint kernel branches in the warm-up. */
  branches?: number[];
}

/**
 * The default activation clip multiples k_f (clip_f = k_f·std of the layer's profiled input): analyze.ts's
 * defaultClipMultiples — the mean MSE-optimal clip over unit-std Gaussian tensors with outliers at
 * 1:1000 (INT4 ≈3.9, INT8 ≈10.4, E2M1 ≈6.8, E4M3 ≈10.4).
 *
 * Measured by scripts/clip-multiples.mjs (bench/results/clip-multiples.md): the MSE-optimal k of the inputs of
 * the searched layers of cnn, lenet5 and resnet8 ×0.5 after 300 FP32 steps on Fashion-MNIST, first layers aside
 * (post-ReLU activations whose max is 6–14 σ), was INT4 4.0–7.8, INT8 5.9–13.5, E2M1 4.4–9.2, E4M3 5.9–13.8 (seed
 * 0; seed 1 moves the ends by up to ≈1). The defaults cost 1.14–1.80× the per-layer optimal MSE (geometric mean
 * over layers; INT4's 3.9 sits below every layer's optimum). Laplace without outliers (3.5 / 6.4 / 4.2 / 6.4)
 * costs 1.7–6.2×, Gaussian without outliers (2.5 / 3.8 / 3.0 / 3.8) 4–150×. The first layer's input is the
 * normalized image, bounded at 2σ, where every k ≥ 2 means no clipping and every format pays a coarser grid.
 * @example
 * searchClipMultiples(parseSearchSpace('int-s')) // { INT4: ≈3.94, INT8: ≈10.37, BF16: … }
 */
export function searchClipMultiples(formats: readonly Format[]): Record<string, number> {
  return defaultClipMultiples(formats);
}

/**
 * Seeds of the search's own streams, derived from the run seed so one seed fixes everything.
 * @example
 * new Controller(space, { totalSteps: T, seed: derivedSeed(seed, 'controller') });
 */
export function derivedSeed(seed: number, stream: 'controller' | 'validation' | 'branches' | 'recalibration'): number {
  const salt = { controller: 0x632be5ab, validation: 0x85157af5, branches: 0x2545f491, recalibration: 0x6c8e9cf5 }[stream];
  return (Math.imul(seed + 1, 0x9e3779b1) + salt) >>> 0;
}

/**
 * The probability that a kernel decision runs every branch jointly at step t (paper A.4): 1 at the start,
 * falling linearly to 0 at the end of the warm-up; 0 after it.
 * @example
 * jointKernelProbability(0, 100)  // 1
 * jointKernelProbability(25, 100) // 0.75
 * jointKernelProbability(100, 100) // 0
 */
export function jointKernelProbability(t: number, warmupEnd: number): number {
  requireInt('t', t, 0);
  requireInt('warmupEnd', warmupEnd, 0);
  return t >= warmupEnd ? 0 : 1 - t / warmupEnd;
}

/**
 * Distinct formats of a search space in first-appearance order (pins included).
 * @example
 * spaceFormats(buildSearchSpace(layers, { space: 'int-s', fixFirstLast: 'FP32' })).map((f) => f.name) // ['FP32', 'INT4', 'INT8', 'BF16']
 */
export function spaceFormats(space: SearchSpace): Format[] {
  const seen = new Map<string, Format>();
  for (const l of checkSpace(space).layers) for (const f of l.choices) if (!seen.has(f.name)) seen.set(f.name, f);
  return [...seen.values()];
}

/**
 * A FLIQS search over one model. Drive it with `run()` (a generator of steps), checkpoint with
 * `checkpoint()` / `restore()`, and finish with `result()`.
 * @example
 * const model = createModel('cnn', { inputShape: [12, 12, 1], classes: 4 });
 * const s = new Search(model, data, { space: 'int-s', target: '0.5xINT8', train: { epochs: 2, batchSize: 32, optimizer: 'sgd', lr: 0.05 } });
 * for (const step of s.run()) if (step.step % 100 === 0) console.log(step.argmax.join(' '));
 * const r = s.result(); // argmax formats applied, test accuracy, cost vs target
 */
export class Search {
  readonly space: SearchSpace;
  readonly targetBops: number;
  readonly trainer: Trainer;
  readonly controller: Controller;
  readonly quality: QualitySignal;
  readonly rewardScale: RewardScaleMode;
  /** First step whose Q is measured to calibrate (the warm-up's end when there is nothing to calibrate). */
  readonly calibrationStart: number;
  private readonly autoGamma: number | null;
  readonly resultRule: ResultRule;
  private calibration: number[] = [];
  readonly clipMultiples: Record<string, number>;
  private readonly validation: ValidationStream;
  private readonly layers: Array<Module & QuantLayer>;
  private readonly searched: number;
  private current: number[] | null = null;
  /** The super-network whose architecture is searched (null for a formats-only search). */
  private readonly supernet: (Module & Supernet) | null;
  /** Draws which kernel decisions run jointly in the warm-up (FLIQNAS). */
  private readonly branchRng: Rng;
  private joint = 0;
  /** FLIQNAS: batches recomputing the extracted model's batch-norm statistics. */
  readonly recalibrationBatches: number;

  constructor(readonly model: Module, readonly data: DatasetSplits, readonly options: SearchOptions) {
    if (typeof options !== 'object' || options === null) throw new FliqsError('options', `got ${describe(options)}`, '{ space, target, train, … }');
    requireObject('data', data, '{ train, validation, test? } datasets');
    this.supernet = isSupernet(model) ? model : null;
    const info = describeModel(model, checkDataset('data.train', data.train).shape);
    this.space = buildSearchSpace(info, { space: options.space, pins: options.pins, fixFirstLast: options.fixFirstLast }, this.supernet?.architecture());
    this.targetBops = parseTarget(options.target, this.space);
    const gamma = options.gamma ?? 'auto';
    if (gamma !== 'auto' && (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma < 0)) {
      throw new FliqsError('gamma', `got ${describe(gamma)}`, "a finite number ≥ 0, or 'auto' (γ = κ·σ of Q)");
    }
    this.autoGamma = gamma === 'auto' ? requirePositive('gammaPerSigma', options.gammaPerSigma ?? DEFAULT_GAMMA_PER_SIGMA) : null;
    this.quality = options.quality ?? 'accuracy';
    if (!QUALITY_SIGNALS.includes(this.quality)) throw new FliqsError('quality', `got ${describe(this.quality)}`, QUALITY_SIGNALS.map((q) => `'${q}'`).join(', '));
    this.rewardScale = options.rewardScale ?? 'noise';
    if (this.rewardScale !== 'noise' && this.rewardScale !== 'none') throw new FliqsError('rewardScale', `got ${describe(this.rewardScale)}`, "'noise' or 'none'");
    this.resultRule = options.resultRule ?? 'in-budget';
    if (this.resultRule !== 'in-budget' && this.resultRule !== 'argmax') throw new FliqsError('resultRule', `got ${describe(this.resultRule)}`, "'in-budget' or 'argmax'");
    this.recalibrationBatches = requireInt('recalibrationBatches', options.recalibrationBatches ?? DEFAULT_RECALIBRATION_BATCHES, 0, 1e6);
    const formats = spaceFormats(this.space);
    this.layers = quantLayers(model).map(([, l]) => l);
    const userK = options.clipMultiples ?? {};
    if (typeof userK !== 'object' || userK === null || Array.isArray(userK)) {
      throw new FliqsError('clipMultiples', `got ${describe(userK)}`, '{ [format]: a finite number > 0 }');
    }
    for (const [f, v] of Object.entries(userK)) requirePositive(`clipMultiples.${f}`, v);
    const k = { ...searchClipMultiples(formats), ...userK };
    this.clipMultiples = {};
    for (const l of this.layers) {
      for (const f of formats) {
        if (!l.quant.actKByFormat.has(f.name)) l.quant.actKByFormat.set(f.name, k[f.name]!);
        this.clipMultiples[f.name] = l.quant.actKByFormat.get(f.name)!;
      }
    }
    const seed = options.train.seed ?? 0;
    this.trainer = new Trainer(model, data, {
      labelSmoothing: DEFAULT_SEARCH_LABEL_SMOOTHING, ...options.train, seed, formats: formats.map((f) => f.name),
    });
    this.controller = new Controller(this.space, {
      lr: DEFAULT_SEARCH_CONTROLLER_LR, ...(options.controller ?? {}), totalSteps: this.trainer.totalSteps, seed: derivedSeed(seed, 'controller'),
      entropyEnd: options.entropyEnd ?? DEFAULT_SEARCH_ENTROPY_END, estimator: options.estimator ?? 'local',
      cost: { model: costModel(this.space), targetBops: this.targetBops, gamma: gamma === 'auto' ? 0 : gamma },
    });
    const warm = this.controller.warmupEnd;
    const calibrate = this.autoGamma !== null || this.rewardScale === 'noise';
    if (calibrate && warm < 2) {
      throw new FliqsError('gamma', `'auto' (or rewardScale 'noise') needs Q measured over at least 2 warm-up steps; this warm-up has ${warm}`,
        "a longer run or warm-up, or a numeric gamma with rewardScale 'none'");
    }
    this.calibrationStart = calibrate ? calibrationStart(warm) : warm;
    this.validation = new ValidationStream(data.validation, options.validationBatch ?? options.train.batchSize, derivedSeed(seed, 'validation'));
    this.searched = this.space.layers.filter((l) => !l.pinned).length + (this.space.arch?.length ?? 0);
    this.branchRng = new Rng(derivedSeed(seed, 'branches'));
    this.trainer.beforeStep = (t) => {
      const config = this.controller.sample(t);
      this.current = config;
      this.apply(config, this.jointKernels(t));
    };
  }

  /** γ of the reward (0 until an 'auto' γ is calibrated at the end of the warm-up). */
  get gamma(): number {
    return this.controller.gamma!;
  }

  /** T, the total number of steps. */
  get totalSteps(): number { return this.trainer.totalSteps; }
  /** Steps taken so far. */
  get step(): number { return this.trainer.step; }

  /**
   * Sets every searched layer's format from a configuration, and on a super-network its architecture (`joint`:
   * per architecture decision, run every kernel branch at once).
   */
  apply(config: readonly number[], joint?: readonly boolean[]): void {
    const fs = configFormats(this.space, config);
    this.layers.forEach((l, i) => l.quant.setFormat(fs[i]!));
    this.supernet?.setArch(configArchValues(this.space, config), joint);
  }

  /** Which kernel decisions run jointly at step t (each with probability jointKernelProbability; none after the warm-up). */
  private jointKernels(t: number): boolean[] | undefined {
    const arch = this.space.arch;
    if (!arch) return undefined;
    const p = jointKernelProbability(t, this.controller.warmupEnd);
    // no draws after the warm-up, so the stream matters only while p > 0
    const joint = arch.map((d) => d.kind === 'kernel' && p > 0 && this.branchRng.uniform() < p);
    this.joint = joint.filter(Boolean).length;
    return joint;
  }

  /** Names of the formats of a configuration. */
  names(config: readonly number[]): string[] {
    return configFormats(this.space, config).map((f) => f.name);
  }

  /**
   * Q and the loss on the next validation batch, with the model in eval mode and no gradients (a super-network's
   * batch-norms normalize with the batch's statistics, withBatchStatistics). With quality 'constant' this is the accuracy the search it controls would hear (it calibrates γ as that search does).
   */
  private measure(): { quality: number; loss: number } {
    const b = this.validation.next();
    this.model.eval();
    try {
      const forward = (): { loss: number; correct: number } => stepScope(() => noGrad(() => {
        const logits = this.model.forward(Tensor.from(b.images, [b.size, ...this.data.validation.shape]));
        return { loss: op.crossEntropy(logits, b.labels).item(), correct: op.accuracyCount(logits, b.labels) };
      }));
      // a super-network's running statistics mix every sampled architecture: Q uses the batch's own
      const r = this.supernet ? withBatchStatistics(this.model, forward) : forward();
      return { quality: this.quality === 'neg-loss' ? -r.loss : r.correct / b.size, loss: r.loss };
    } finally {
      this.model.train();
    }
  }

  /**
   * The remaining steps, one record each. Throws the trainer's FliqsError when the loss turns NaN.
   */
  *run(): Generator<SearchStep> {
    for (const s of this.trainer.run()) {
      const t = s.step;
      const config = this.current!;
      const c = configCost(this.space, config);
      const warmup = this.controller.isWarmup(t);
      let quality: number | null = null, validationLoss: number | null = null, r: number | null = null;
      let advantage = 0, entropyW = 0;
      if (t >= this.calibrationStart) {
        const m = this.measure();
        validationLoss = m.loss;
        if (warmup) {
          this.calibration.push(m.quality);
          quality = m.quality;
        } else {
          if (t === this.controller.warmupEnd && this.calibrationStart < t) this.finishCalibration();
          quality = this.quality === 'constant' ? CONSTANT_QUALITY : m.quality;
          const u = this.controller.update(t, quality, config);
          r = u.reward;
          advantage = u.advantage;
          entropyW = u.entropyWeight;
        }
      }
      const h = this.controller.entropy();
      const am = this.controller.argmax();
      yield {
        step: t, warmup, lr: s.lr, loss: s.loss, trainAccuracy: s.correct / s.size, quality, validationLoss, reward: r, advantage,
        baseline: this.controller.baselineValue(), entropyWeight: entropyW, entropy: h.total,
        entropyMean: this.searched > 0 ? h.total / this.searched : 0, costRatio: c / this.targetBops,
        sampled: this.names(config), argmax: this.names(am), argmaxCostRatio: configCost(this.space, am) / this.targetBops,
        ...(this.supernet ? { arch: { sampled: configArchValues(this.space, config), argmax: configArchValues(this.space, am), joint: this.joint } } : {}),
      };
    }
  }

  /** σ of Q over the calibration steps; null before they are over (or when there are none). */
  get qualityNoise(): number | null {
    return this.step > this.controller.warmupEnd && this.calibration.length > 0 ? qualityNoise(this.calibration, this.noiseFloor) : null;
  }

  /**
   * The least σ of Q: an accuracy on a batch of B moves in steps of 1/B, so a model that scores the same on
   * nearly every batch (σ ≪ 1/B) must not make one miss look like many σ. −loss is continuous.
   */
  private get noiseFloor(): number {
    return this.quality === 'neg-loss' ? MIN_QUALITY_NOISE : Math.max(MIN_QUALITY_NOISE, 1 / this.validation.batchSize);
  }

  /** Sets the controller's reward scale and γ from the Q measured over the calibration steps. */
  private finishCalibration(): void {
    const sigma = qualityNoise(this.calibration, this.noiseFloor);
    this.controller.calibrate(this.rewardScale === 'noise' ? sigma : 1, this.autoGamma === null ? undefined : this.autoGamma * sigma);
  }

  /** True when a checkpoint can be taken now (not inside the trainer's activation-profiling window). */
  get canCheckpoint(): boolean {
    return !this.trainer.profiling;
  }

  /**
   * The search state after the last completed step (weights, optimizer, controller, validation
   * stream), plus any JSON-able `user` value, which restore() returns.
   */
  checkpoint(user?: unknown): TrainerCheckpoint {
    const extra: SearchExtra = {
      kind: 'fliqs-search', controller: this.controller.stateDict(), validation: this.validation.getState(), calibration: [...this.calibration], user,
      ...(this.supernet ? { branches: this.branchRng.getState() } : {}),
    };
    return this.trainer.checkpoint(extra);
  }

  /** Restores a `checkpoint()` of a search over the same model, data and options; returns its `user` value. */
  restore(ck: TrainerCheckpoint): unknown {
    const extra = ck?.meta?.extra as SearchExtra | undefined;
    if (!extra || extra.kind !== 'fliqs-search') throw new FliqsError('checkpoint', 'has no search state', 'a checkpoint written by fliqs search');
    if (this.supernet && !Array.isArray(extra.branches)) throw new FliqsError('checkpoint', 'has no kernel-branch stream', 'a checkpoint of the same FLIQNAS search');
    const branches = new Rng(0);
    if (this.supernet) branches.setState(extra.branches!); // validates before anything is restored
    this.trainer.restore(ck);
    if (this.supernet) this.branchRng.setState(branches.getState());
    this.controller.loadStateDict(extra.controller);
    this.validation.setState(extra.validation);
    const cal = extra.calibration ?? [];
    if (!Array.isArray(cal) || cal.some((q) => typeof q !== 'number' || !Number.isFinite(q))) throw new FliqsError('checkpoint', 'has a malformed calibration', 'finite Q values');
    this.calibration = [...cal];
    return extra.user;
  }

  /** The current policy per layer as { format: probability }. */
  policy(): Array<Record<string, number>> {
    const p = this.controller.probabilities();
    return this.space.layers.map((l, i) => Object.fromEntries(l.choices.map((f, a) => [f.name, p[i]![a]!])));
  }

  /**
   * The result: α*_l = argmax π_l — or, with resultRule 'in-budget' and an argmax outside ±COST_TOLERANCE of the
   * target, the most probable configuration inside it — applied to the trained model as it is (no retraining),
   * evaluated on the test split in eval mode. The model keeps those formats afterwards.
   */
  result(): SearchResult {
    const am = this.controller.argmax();
    const ratio = (c: readonly number[]): number => configCost(this.space, c) / this.targetBops;
    let chosen = am;
    if (this.resultRule === 'in-budget' && Math.abs(ratio(am) - 1) > COST_TOLERANCE) {
      chosen = mostProbableInBand(this.space, this.controller.logProbabilities(), this.targetBops, COST_TOLERANCE) ?? am;
    }
    this.apply(chosen);
    const p = this.controller.probabilities();
    const fs = configFormats(this.space, chosen);
    const costs = costModel(this.space);
    const layers = this.space.layers.map((l, i): LayerResult => ({
      name: l.name, macs: costs.macs(i, chosen), format: fs[i]!.name, probability: p[i]![chosen[i]!]!, bops: costs.term(i, chosen), pinned: l.pinned,
      probabilities: Object.fromEntries(l.choices.map((f, a) => [f.name, p[i]![a]!])),
    }));
    let test: EvalResult, architecture: ArchResult | undefined;
    if (this.supernet) {
      const values = configArchValues(this.space, chosen), L = this.space.layers.length;
      const plain = this.supernet.extract(values);
      try {
        const testAsIs = this.trainer.evaluate(this.data.test, 250, Infinity, plain);
        const used = recalibrateBatchNorm(plain, this.data.train, {
          count: this.recalibrationBatches, batchSize: this.options.train.batchSize, seed: derivedSeed(this.options.train.seed ?? 0, 'recalibration'),
        });
        test = used > 0 ? this.trainer.evaluate(this.data.test, 250, Infinity, plain) : testAsIs;
        const blocks = this.supernet.blockArchitecture(); // apply(chosen) set it
        const count = (m: Module): number => m.parameters().reduce((s, t) => s + t.size, 0);
        architecture = {
          testAsIs, recalibrationBatches: used,
          decisions: this.space.arch!.map((d, i) => ({
            name: d.name, kind: d.kind, value: values[i]!, base: d.base, probability: p[L + i]![chosen[L + i]!]!,
            probabilities: Object.fromEntries(d.choices.map((v, a) => [String(v), p[L + i]![a]!])),
          })),
          blocks, params: count(plain), supernetParams: count(this.model),
        };
      } finally {
        plain.free();
      }
    } else {
      test = this.trainer.evaluate(this.data.test);
    }
    const bops = configCost(this.space, chosen), finalEntropy = this.controller.entropy().total;
    const warnings = searchWarnings(bops / this.targetBops, finalEntropy, this.searched, this.nearestRatios());
    const moved = chosen.filter((a, l) => a !== am[l]).length;
    if (moved > 0) {
      warnings.unshift(`the policy's argmax costs ${ratio(am).toFixed(3)}× the target; the most probable configuration within ±${100 * COST_TOLERANCE}% `
        + `was taken instead (${moved} of ${chosen.length} layers differ; resultRule 'argmax' keeps the argmax)`);
    }
    return {
      layers, bops, targetBops: this.targetBops, costRatio: bops / this.targetBops, test, steps: this.trainer.step,
      warmupSteps: this.controller.warmupEnd, finalEntropy, clipMultiples: { ...this.clipMultiples },
      argmax: this.names(am), argmaxCostRatio: ratio(am),
      gamma: this.gamma, qualityNoise: this.qualityNoise, estimator: this.controller.estimator,
      warnings, ...(architecture ? { architecture } : {}),
    };
  }

  /** The reachable costs nearest the target, as multiples of it. */
  private nearestRatios(): { below: number | null; above: number | null } {
    const n = nearestCosts(this.space, this.targetBops);
    return { below: n.below === null ? null : n.below / this.targetBops, above: n.above === null ? null : n.above / this.targetBops };
  }

  /** Frees the trainer's optimizer state. */
  dispose(): void {
    this.trainer.dispose();
  }
}

/**
 * Retrains a model from scratch with fixed per-layer formats (the paper's Appendix A.11 ablation):
 * a Trainer whose every step sets each layer to its format; returns the test result.
 * @example
 * const r = retrainFixed(createModel('cnn'), data, ['INT8', 'INT4', 'INT8'], train, k); // { loss, accuracy, count }
 */
export function retrainFixed(model: Module, data: DatasetSplits, formats: readonly string[], train: Omit<TrainConfig, 'formats'>,
  clipMultiples: Record<string, number>, onStep?: (step: number, total: number, loss: number) => void): EvalResult {
  const layers = quantLayers(model).map(([, l]) => l);
  if (!Array.isArray(formats) || formats.some((f) => typeof f !== 'string')) throw new FliqsError('formats', `got ${describe(formats)}`, 'an array of format names');
  requireObject('clipMultiples', clipMultiples, 'a record { formatName: multiple }');
  requireObject('train', train, 'a TrainConfig without formats');
  if (onStep !== undefined && typeof onStep !== 'function') throw new FliqsError('onStep', `got ${describe(onStep)}`, 'a function or undefined');
  if (layers.length !== formats.length) throw new FliqsError('formats', `has ${formats.length} entries for ${layers.length} layers`, 'one format per searched layer');
  for (const l of layers) for (const [f, k] of Object.entries(clipMultiples)) if (!l.quant.actKByFormat.has(f)) l.quant.actKByFormat.set(f, k);
  const trainer = new Trainer(model, data, { ...train, formats: [...new Set(formats)] });
  trainer.beforeStep = () => layers.forEach((l, i) => l.quant.setFormat(formats[i]!));
  try {
    for (const s of trainer.run()) onStep?.(s.step, trainer.totalSteps, s.loss);
    layers.forEach((l, i) => l.quant.setFormat(formats[i]!));
    return trainer.evaluate(data.test);
  } finally {
    trainer.dispose();
  }
}
