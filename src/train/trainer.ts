// The training loop for (quantization-aware) training: seeded batches, optimizer and LR schedule,
// two-phase quantization (weights from the start, activations after profiling), evaluation, and exact
// checkpoint/resume. Browser-safe; the `fliqs train` command (src/cli/train.ts) adds files and a
// progress line. The FLIQS search drives the same loop through the `beforeStep` hook.

import { FliqsError, describe, requireInt, requireObject, requirePositive } from '../core/errors.js';
import { Rng } from '../core/random.js';
import * as op from '../autograd/ops.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import { gradOf } from '../autograd/tensor.js';
import { batches, batchCount, type Augment, type Batch } from '../data/batches.js';
import { checkDataset, type Dataset, type DatasetSplits } from '../data/dataset.js';
import { parseFormat, type Format } from '../formats/format.js';
import { requireModule, type Module } from '../nn/module.js';
import { checkQuantizerState, quantLayers, type QuantizerState } from '../nn/quant.js';
import { Adam, AdamW, RMSProp, SGD, parseSchedule, type Optimizer, type OptimizerState, type Schedule } from '../optim/index.js';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  /** SGD / RMSProp momentum (default 0.9 for SGD, 0 for RMSProp). */
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** A parseSchedule() spec: 'cosine', 'constant', 'exp:0.95', with ',warmup:N' (default 'cosine'). */
  schedule?: string;
  labelSmoothing?: number;
  /**
   * The formats the searched layers may use. Uniform QAT: one format (FP32 trains in float). The search
   * passes its whole space so every format gets an activation clip at profiling time.
   */
  formats?: readonly string[];
  /** Fraction of training after which activations are profiled and then quantized (default 0.2). */
  actQuantStart?: number;
  /** Training batches used to profile activation statistics (default 4). */
  profileBatches?: number;
  /** Random-crop padding and flips for training batches (default none). */
  augment?: Augment;
  seed?: number;
  /** Limits training to this many steps in total (for quick runs; default epochs × steps per epoch). */
  maxSteps?: number;
}

export interface StepResult {
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  correct: number;
  size: number;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

/** Everything needed to continue a run exactly: JSON-able meta plus named f32 tensors. */
export interface TrainerCheckpoint {
  meta: {
    version: 1;
    step: number;
    epochRngState: number[];
    optimizer: OptimizerState;
    quant: QuantState[];
    extra?: unknown;
  };
  tensors: Record<string, Float32Array>;
}

interface QuantState extends QuantizerState {
  name: string;
}

/** The name a model tensor has in a checkpoint: `param:<name>` (trainable) or `buffer:<name>`. */
export function checkpointKey(name: string, t: Tensor): string {
  return `${t.requiresGrad ? 'param' : 'buffer'}:${name}`;
}

function makeOptimizer(model: Module, cfg: TrainConfig): Optimizer {
  const params = model.namedParameters().map(([name, p]) => ({
    name, param: p.storage, grad: gradOf(p),
    // No weight decay on biases and normalization parameters (the usual practice).
    weightDecay: p.shape.length > 1,
  }));
  const wd = cfg.weightDecay ?? 0;
  switch (cfg.optimizer) {
    case 'sgd': return new SGD(params, { lr: cfg.lr, momentum: cfg.momentum ?? 0.9, nesterov: cfg.nesterov ?? false, weightDecay: wd });
    case 'adam': return new Adam(params, { lr: cfg.lr, weightDecay: wd });
    case 'adamw': return new AdamW(params, { lr: cfg.lr, weightDecay: wd });
    case 'rmsprop': return new RMSProp(params, { lr: cfg.lr, momentum: cfg.momentum ?? 0, weightDecay: wd });
    default: throw new FliqsError('optimizer', `got ${describe(cfg.optimizer)}`, OPTIMIZERS.join(', '));
  }
}

export class Trainer {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly formats: Format[];
  /** Steps taken so far (the next step's index). */
  step = 0;
  /** Called before every training step (the search sets each layer's format here). */
  beforeStep: ((step: number) => void) | null = null;
  private readonly rng: Rng;
  private epochRngState: number[];
  private readonly actStart: number;
  private readonly profileBatches: number;
  private readonly inputShape: [number, number, number];
  private readonly layers: ReturnType<typeof quantLayers>;
  private readonly quantized: boolean;
  /** Steps between recomputations of cached ('mse') weight clips. */
  private static readonly WEIGHT_CLIP_REFRESH = 100;

  constructor(readonly model: Module, readonly data: DatasetSplits, readonly config: TrainConfig) {
    requireModule('model', model);
    requireObject('data', data, '{ train, validation?, test? } datasets');
    checkDataset('data.train', data.train);
    if (data.validation !== undefined) checkDataset('data.validation', data.validation);
    if (data.test !== undefined) checkDataset('data.test', data.test);
    requireObject('config', config, '{ epochs, batchSize, lr, optimizer?, formats?, … } (TrainConfig)');
    requireInt('epochs', config.epochs, 1);
    requireInt('batchSize', config.batchSize, 1);
    requirePositive('lr', config.lr);
    const smoothing = config.labelSmoothing ?? 0;
    if (!(smoothing >= 0 && smoothing < 1)) throw new FliqsError('labelSmoothing', `got ${describe(smoothing)}`, 'a number in [0, 1)');
    const a = config.actQuantStart ?? 0.2;
    if (!(a >= 0 && a <= 1)) throw new FliqsError('actQuantStart', `got ${describe(a)}`, 'a fraction in [0, 1]');
    const formats = config.formats ?? ['FP32'];
    if (!Array.isArray(formats) || formats.length === 0) throw new FliqsError('formats', `got ${describe(formats)}`, 'a non-empty array of format names');
    this.formats = formats.map((f) => parseFormat(f));
    this.inputShape = data.train.shape;
    this.stepsPerEpoch = batchCount(data.train.labels.length, config.batchSize, true);
    if (this.stepsPerEpoch < 1) throw new FliqsError('batchSize', `${config.batchSize} is larger than the training set (${data.train.labels.length})`, 'a smaller batch');
    if (config.maxSteps !== undefined) requireInt('maxSteps', config.maxSteps, 1);
    this.totalSteps = Math.min(config.epochs * this.stepsPerEpoch, config.maxSteps ?? Infinity);
    this.actStart = Math.floor(a * this.totalSteps);
    this.profileBatches = requireInt('profileBatches', config.profileBatches ?? 4, 1);
    this.layers = quantLayers(model);
    this.quantized = this.formats.some((f) => f.kind !== 'fp32');
    if (this.quantized && this.actStart + this.profileBatches >= this.totalSteps) {
      throw new FliqsError('actQuantStart', `${a} starts activation profiling at step ${this.actStart}, and with ${this.profileBatches} profiling batches activations would never be quantized in ${this.totalSteps} steps`,
        'an earlier start, fewer profileBatches, or more steps');
    }
    this.rng = new Rng(config.seed ?? 0);
    this.epochRngState = this.rng.getState();
    this.optimizer = makeOptimizer(model, config);
    this.schedule = parseSchedule(config.schedule ?? 'cosine', { lr: config.lr, totalSteps: this.totalSteps, stepsPerEpoch: this.stepsPerEpoch });
    if (this.formats.length === 1) for (const [, l] of this.layers) l.quant.setFormat(this.formats[0]!);
    for (const [, l] of this.layers) l.quant.quantizeWeights = this.quantized;
  }

  /**
   * Weights are quantized from step 0. Activations: profiling starts with step actStart and ends with the
   * end of step actStart + profileBatches − 1, so a checkpoint after any step never holds a half profile.
   */
  private startPhase(step: number): void {
    if (!this.quantized) return;
    if (step === this.actStart) for (const [, l] of this.layers) l.quant.startProfile();
    if (step % Trainer.WEIGHT_CLIP_REFRESH === 0) for (const [, l] of this.layers) l.quant.refreshWeightClips();
  }

  private endPhase(stepsDone: number): void {
    if (!this.quantized || stepsDone !== this.actStart + this.profileBatches) return;
    for (const [, l] of this.layers) { l.quant.finishProfile(this.formats); l.quant.quantizeActivations = true; }
  }

  /** True while activation statistics are being collected (checkpoints wait until it ends). */
  get profiling(): boolean {
    return this.quantized && this.step > this.actStart && this.step < this.actStart + this.profileBatches;
  }

  /** One forward/backward/update on a batch. */
  trainStep(batch: Batch): StepResult {
    this.startPhase(this.step);
    this.beforeStep?.(this.step);
    this.model.train();
    const lr = this.schedule(this.step);
    this.optimizer.lr = lr;
    const { loss, correct } = stepScope(() => {
      const x = Tensor.from(batch.images, [batch.size, ...this.inputShape]);
      const logits = this.model.forward(x);
      const l = op.crossEntropy(logits, batch.labels, { smoothing: this.config.labelSmoothing ?? 0 });
      this.optimizer.zeroGrad();
      l.backward();
      return { loss: l.item(), correct: op.accuracyCount(logits, batch.labels) };
    });
    if (!Number.isFinite(loss)) {
      throw new FliqsError('loss', `became ${loss} at step ${this.step}`, 'a finite loss: lower --lr, or use a wider format; the last checkpoint is kept');
    }
    this.optimizer.step();
    const r = { step: this.step, epoch: Math.floor(this.step / this.stepsPerEpoch), lr, loss, correct, size: batch.size };
    this.step++;
    this.endPhase(this.step);
    return r;
  }

  /**
   * The remaining training steps, one batch each, from `this.step` (so a restored trainer resumes
   * mid-epoch with the same batches an uninterrupted run would have seen).
   */
  *run(): Generator<StepResult> {
    while (this.step < this.totalSteps) {
      const epoch = Math.floor(this.step / this.stepsPerEpoch);
      const skip = this.step - epoch * this.stepsPerEpoch;
      // The generator's state at the start of this epoch (saved when the previous epoch ended, or restored).
      this.rng.setState(this.epochRngState);
      let i = 0;
      for (const b of batches(this.data.train, this.config.batchSize, this.rng, { dropLast: true, augment: this.config.augment })) {
        if (i++ < skip) continue;
        if (this.step >= this.totalSteps) return;
        const r = this.trainStep(b);
        if (this.step % this.stepsPerEpoch === 0) this.epochRngState = this.rng.getState();
        yield r;
      }
    }
  }

  /**
   * Loss and accuracy on a dataset in eval mode (running batch-norm statistics), no gradients — of the trained
   * model, or of `model` (a FLIQNAS search's extracted architecture) on the same input shape.
   */
  evaluate(ds: Dataset, batchSize = 250, limit = Infinity, model: Module = this.model): EvalResult {
    requireModule('model', model);
    model.eval();
    let loss = 0, correct = 0, count = 0;
    try {
      for (const b of batches(ds, batchSize, this.rng, { shuffle: false })) {
        if (count >= limit) break;
        const r = stepScope(() => noGrad(() => {
          const logits = model.forward(Tensor.from(b.images, [b.size, ...this.inputShape]));
          return { l: op.crossEntropy(logits, b.labels).item(), c: op.accuracyCount(logits, b.labels) };
        }));
        loss += r.l * b.size; correct += r.c; count += b.size;
      }
    } finally {
      model.train();
    }
    return { loss: loss / count, accuracy: correct / count, count };
  }

  /** The run's state after the last completed step. */
  checkpoint(extra?: unknown): TrainerCheckpoint {
    if (this.profiling) throw new FliqsError('checkpoint', `requested at step ${this.step}, inside the activation-profiling window`, 'a step outside profiling');
    const tensors: Record<string, Float32Array> = {};
    for (const [k, t] of [...this.model.namedParameters(), ...this.model.namedBuffers()]) tensors[checkpointKey(k, t)] = t.toArray();
    const quant: QuantState[] = this.layers.map(([name, l]) => ({ name, ...l.quant.state() }));
    return { meta: { version: 1, step: this.step, epochRngState: this.epochRngState, optimizer: this.optimizer.stateDict(), quant, extra }, tensors };
  }

  /**
   * Restores a checkpoint taken from a trainer with the same model and config. Everything is checked
   * before anything is written, so a rejected checkpoint leaves the trainer as it was.
   */
  restore(ck: TrainerCheckpoint): void {
    const bad = (why: string): never => { throw new FliqsError('checkpoint', why, 'a checkpoint of the same model, width and config'); };
    if (ck?.meta?.version !== 1) bad('has an unknown version');
    const { meta } = ck;
    if (!Number.isInteger(meta.step) || meta.step < 0 || meta.step > this.totalSteps) bad(`has step ${describe(meta.step)} (this run has ${this.totalSteps})`);
    if (!Array.isArray(meta.epochRngState) || meta.epochRngState.length !== 5) bad('has no generator state');
    const writes: Array<[Tensor, Float32Array]> = [];
    const want = (name: string, t: Tensor): void => {
      const v = ck.tensors?.[name];
      if (!(v instanceof Float32Array) || v.length !== t.size) bad(`has no matching ${name} (${v?.length ?? 'missing'} vs ${t.size} values)`);
      writes.push([t, v!]);
    };
    for (const [k, t] of [...this.model.namedParameters(), ...this.model.namedBuffers()]) want(checkpointKey(k, t), t);
    const layers = new Map(this.layers);
    if (!Array.isArray(meta.quant) || meta.quant.length !== layers.size) bad(`describes ${describe(meta.quant)} quantized layers, this model has ${layers.size}`);
    const quant = meta.quant.map((q) => {
      checkQuantizerState(q); // checked completely before anything is written
      const l = layers.get(q.name);
      if (!l) return bad(`names a layer ${describe(q.name)} this model does not have`);
      return { l, q };
    });
    this.optimizer.loadStateDict(meta.optimizer); // checks its state completely before writing
    for (const [t, v] of writes) t.data.set(v);
    for (const { l, q } of quant) l.quant.restore(q);
    this.step = meta.step;
    this.epochRngState = meta.epochRngState;
  }

  /** Frees the optimizer's state (the model's parameters stay). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
