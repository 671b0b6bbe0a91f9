// The FLIQS search loop (DESIGN.md "FLIQS, precisely"): each training step the controller picks a
// format per searched layer (uniformly during the warm-up, from π after it), the trainer takes one
// step with those formats, one forward pass on a held-out validation batch gives the quality Q, and
// the controller is updated with r = Q − γ·|C(α)/C_T − 1|. At the end the argmax configuration is
// applied to the trained weights as they are and evaluated on the test split. Browser-safe.

import { FliqsError, describe, requireFinite, requireInt, requirePositive } from '../core/errors.js';
import * as op from '../autograd/ops.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import type { DatasetSplits } from '../data/dataset.js';
import type { Format } from '../formats/format.js';
import type { Module } from '../nn/module.js';
import { quantLayers, type QuantLayer } from '../nn/quant.js';
import { describeModel } from '../nn/zoo.js';
import { Trainer, type EvalResult, type TrainConfig, type TrainerCheckpoint } from '../train/trainer.js';
import { defaultClipMultiples } from './analyze.js';
import { Controller, type ControllerOptions, type ControllerState } from './controller.js';
import { DEFAULT_GAMMA, configCost, nearestCosts, parseTarget, reward } from './cost.js';
import { DEFAULT_ENTROPY_END } from './schedule.js';
import { buildSearchSpace, configFormats, type SearchSpace } from './space.js';
import { ValidationStream, type ValidationStreamState } from './validation.js';

export type QualitySignal = 'accuracy' | 'neg-loss';

/**
 * The controller's Adam learning rate in a search. The paper's 4.6e-3 (the Controller's own default) is
 * for runs far longer than a laptop's: measured here, a 1,718-step search (1,288 after the warm-up;
 * resnet8 ×0.5, 2 epochs of Fashion-MNIST) ended with 16.3 nats of entropy over 10 layers at 4.6e-3 —
 * nearly uniform — and with 0.011 nats per layer at 0.05.
 */
export const DEFAULT_SEARCH_CONTROLLER_LR = 0.05;

export interface SearchOptions {
  /** Formats of every searched layer: a preset (`int-s`, `fp-l`, …), presets joined with +, or a list. */
  space: string | readonly string[];
  /** Cost target: MBOPs as a number, or a string such as `0.5xINT8` or `12.5MBOPs` (see parseTarget). */
  target: string | number;
  /** γ of the reward (default DEFAULT_GAMMA from cost.ts). */
  gamma?: number;
  /** β_H at the end of training (default 0.5; 0 turns entropy regularization off, the ablation). */
  entropyEnd?: number;
  /** Layers pinned by name to a format. */
  pins?: Record<string, string>;
  /** Keeps the first and last layers in this format (e.g. 'BF16'). */
  fixFirstLast?: string;
  /** Training: epochs, batch, optimizer, lr, seed, maxSteps, … (`formats` is set by the search). */
  train: Omit<TrainConfig, 'formats'>;
  /** Quality signal Q: validation-batch accuracy (default) or the negative validation loss. */
  quality?: QualitySignal;
  /** Examples in each validation batch (default the training batch size). */
  validationBatch?: number;
  /** Other controller options (lr — default DEFAULT_SEARCH_CONTROLLER_LR —, baseline momentum, warm-up fraction). */
  controller?: Omit<ControllerOptions, 'totalSteps' | 'seed' | 'entropyEnd'>;
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
  /** Q, validation-batch loss and reward; null during the warm-up (no quality forward is run then). */
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
  /** Where the result misses what a search aims for (cost within ±COST_TOLERANCE, a settled policy); empty when it does not. */
  warnings: string[];
}

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

/** What the search keeps in the trainer checkpoint's `meta.extra`. */
interface SearchExtra {
  kind: 'fliqs-search';
  controller: ControllerState;
  validation: ValidationStreamState;
  /** Whatever the caller passed to checkpoint() (the CLI keeps its wall time here). */
  user?: unknown;
}

/**
 * The default activation clip multiples k_f (clip_f = k_f·std of the layer's profiled input): analyze.ts's
 * defaultClipMultiples — the mean MSE-optimal clip over unit-std Gaussian tensors with outliers at
 * 1:1000 (INT4 ≈3.9, INT8 ≈10.3, E2M1 ≈6.7, E4M3 ≈10.3).
 *
 * Chosen by measurement, not by taste. The MSE-optimal k of the inputs of the searched layers of
 * cnn, lenet5 and resnet8 after a few hundred steps on Fashion-MNIST (post-ReLU activations, whose
 * max is 8–14 σ) was INT4 4.6–7.2, INT8 6.9–13.6, E2M1 5.4–8.4, E4M3 7.2–14.0. The 1:1000-outlier
 * Gaussian table lands inside or just below those ranges. Two alternatives fit worse: Laplace
 * without outliers (3.5 / 6.4 / 4.2 / 6.4) clips far too much, and Gaussian without outliers
 * (2.5 / 3.9) even more. The one exception is the first layer: its input is the normalized image,
 * bounded at ≈2σ, where every k ≥ 2 means no clipping (INT4 pays a coarser grid there).
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
export function derivedSeed(seed: number, stream: 'controller' | 'validation'): number {
  return (Math.imul(seed + 1, 0x9e3779b1) + (stream === 'controller' ? 0x632be5ab : 0x85157af5)) >>> 0;
}

/**
 * Distinct formats of a search space in first-appearance order (pins included).
 * @example
 * spaceFormats(buildSearchSpace(layers, { space: 'int-s', fixFirstLast: 'FP32' })).map((f) => f.name) // ['FP32', 'INT4', 'INT8', 'BF16']
 */
export function spaceFormats(space: SearchSpace): Format[] {
  const seen = new Map<string, Format>();
  for (const l of space.layers) for (const f of l.choices) if (!seen.has(f.name)) seen.set(f.name, f);
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
  readonly gamma: number;
  readonly quality: QualitySignal;
  readonly clipMultiples: Record<string, number>;
  private readonly validation: ValidationStream;
  private readonly layers: Array<Module & QuantLayer>;
  private readonly searched: number;
  private current: number[] | null = null;

  constructor(readonly model: Module, readonly data: DatasetSplits, readonly options: SearchOptions) {
    if (typeof options !== 'object' || options === null) throw new FliqsError('options', `got ${describe(options)}`, '{ space, target, train, … }');
    const info = describeModel(model, data.train.shape);
    this.space = buildSearchSpace(info, { space: options.space, pins: options.pins, fixFirstLast: options.fixFirstLast });
    this.targetBops = parseTarget(options.target, this.space);
    this.gamma = options.gamma ?? DEFAULT_GAMMA;
    if (typeof this.gamma !== 'number' || !Number.isFinite(this.gamma) || this.gamma < 0) {
      throw new FliqsError('gamma', `got ${describe(this.gamma)}`, 'a finite number ≥ 0');
    }
    this.quality = options.quality ?? 'accuracy';
    if (this.quality !== 'accuracy' && this.quality !== 'neg-loss') throw new FliqsError('quality', `got ${describe(this.quality)}`, "'accuracy' or 'neg-loss'");
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
    this.trainer = new Trainer(model, data, { ...options.train, seed, formats: formats.map((f) => f.name) });
    this.controller = new Controller(this.space, {
      lr: DEFAULT_SEARCH_CONTROLLER_LR, ...(options.controller ?? {}), totalSteps: this.trainer.totalSteps, seed: derivedSeed(seed, 'controller'),
      entropyEnd: options.entropyEnd ?? DEFAULT_ENTROPY_END,
    });
    this.validation = new ValidationStream(data.validation, options.validationBatch ?? options.train.batchSize, derivedSeed(seed, 'validation'));
    this.searched = this.space.layers.filter((l) => !l.pinned).length;
    this.trainer.beforeStep = (t) => {
      const config = this.controller.sample(t);
      this.current = config;
      this.apply(config);
    };
  }

  /** T, the total number of steps. */
  get totalSteps(): number { return this.trainer.totalSteps; }
  /** Steps taken so far. */
  get step(): number { return this.trainer.step; }

  /** Sets every searched layer's format from a configuration. */
  apply(config: readonly number[]): void {
    const fs = configFormats(this.space, config);
    this.layers.forEach((l, i) => l.quant.setFormat(fs[i]!));
  }

  /** Names of the formats of a configuration. */
  names(config: readonly number[]): string[] {
    return configFormats(this.space, config).map((f) => f.name);
  }

  /** Q and the loss on the next validation batch, with the model in eval mode and no gradients. */
  private measure(): { quality: number; loss: number } {
    const b = this.validation.next();
    this.model.eval();
    try {
      const r = stepScope(() => noGrad(() => {
        const logits = this.model.forward(Tensor.from(b.images, [b.size, ...this.data.validation.shape]));
        return { loss: op.crossEntropy(logits, b.labels).item(), correct: op.accuracyCount(logits, b.labels) };
      }));
      return { quality: this.quality === 'accuracy' ? r.correct / b.size : -r.loss, loss: r.loss };
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
      if (!warmup) {
        const m = this.measure();
        quality = m.quality;
        validationLoss = m.loss;
        r = reward(m.quality, c, this.targetBops, this.gamma);
        const u = this.controller.update(t, r, config);
        advantage = u.advantage;
        entropyW = u.entropyWeight;
      }
      const h = this.controller.entropy();
      const am = this.controller.argmax();
      yield {
        step: t, warmup, lr: s.lr, loss: s.loss, trainAccuracy: s.correct / s.size, quality, validationLoss, reward: r, advantage,
        baseline: this.controller.baselineValue(), entropyWeight: entropyW, entropy: h.total,
        entropyMean: this.searched > 0 ? h.total / this.searched : 0, costRatio: c / this.targetBops,
        sampled: this.names(config), argmax: this.names(am), argmaxCostRatio: configCost(this.space, am) / this.targetBops,
      };
    }
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
    const extra: SearchExtra = { kind: 'fliqs-search', controller: this.controller.stateDict(), validation: this.validation.getState(), user };
    return this.trainer.checkpoint(extra);
  }

  /** Restores a `checkpoint()` of a search over the same model, data and options; returns its `user` value. */
  restore(ck: TrainerCheckpoint): unknown {
    const extra = ck?.meta?.extra as SearchExtra | undefined;
    if (!extra || extra.kind !== 'fliqs-search') throw new FliqsError('checkpoint', 'has no search state', 'a checkpoint written by fliqs search');
    this.trainer.restore(ck);
    this.controller.loadStateDict(extra.controller);
    this.validation.setState(extra.validation);
    return extra.user;
  }

  /** The current policy per layer as { format: probability }. */
  policy(): Array<Record<string, number>> {
    const p = this.controller.probabilities();
    return this.space.layers.map((l, i) => Object.fromEntries(l.choices.map((f, a) => [f.name, p[i]![a]!])));
  }

  /**
   * The result: α*_l = argmax π_l applied to the trained model as it is (no retraining), evaluated on
   * the test split in eval mode. The model keeps the argmax formats afterwards.
   */
  result(): SearchResult {
    const am = this.controller.argmax();
    this.apply(am);
    const test = this.trainer.evaluate(this.data.test);
    const p = this.controller.probabilities();
    const fs = configFormats(this.space, am);
    const layers = this.space.layers.map((l, i): LayerResult => ({
      name: l.name, macs: l.macs, format: fs[i]!.name, probability: p[i]![am[i]!]!, bops: fs[i]!.bits ** 2 * l.macs, pinned: l.pinned,
      probabilities: Object.fromEntries(l.choices.map((f, a) => [f.name, p[i]![a]!])),
    }));
    const bops = configCost(this.space, am), finalEntropy = this.controller.entropy().total;
    return {
      layers, bops, targetBops: this.targetBops, costRatio: bops / this.targetBops, test, steps: this.trainer.step,
      warmupSteps: this.controller.warmupEnd, finalEntropy, clipMultiples: { ...this.clipMultiples },
      warnings: searchWarnings(bops / this.targetBops, finalEntropy, this.searched, this.nearestRatios()),
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
