// `fliqs train`: (quantization-aware) training of a zoo model on MNIST, Fashion-MNIST or synthetic data,
// with a progress line, log.jsonl, atomic checkpoints, --resume, and result.json with test accuracy (and the
// thread count of the invocation that finished it; config.json leaves it out, so any count resumes any run).

import { FliqsError } from '../core/errors.js';
import { loadDataset, type DatasetName } from '../data/node/load.js';
import { parseFormat } from '../formats/format.js';
import { describeModel, MODEL_NAMES } from '../nn/zoo.js';
import type { LayerListSpec } from '../nn/spec.js';
import type { Module } from '../nn/module.js';
import { MODEL_HELP, buildModel, parseModelFlag } from './model-flag.js';
import { uniformCost } from '../search/cost.js';
import { getThreads } from '../kernels/threads.js';
import { OPTIMIZERS, Trainer, type TrainConfig, type TrainerCheckpoint } from '../train/trainer.js';
import { parseFlags, usage, UsageError, type FlagSpecs } from './args.js';
import { dataFlag } from './data-flag.js';
import { appendJsonLine, writeJson } from './files.js';
import { Progress } from './progress.js';
import { RunDir } from './run-dir.js';
import { checkSavedFlags, refuseEditsSince } from './saved-config.js';
import { processIo, usageFailure } from './search.js';

export const TRAIN_FLAGS = {
  model: { kind: 'string', help: `${MODEL_HELP} (fliqs search and pareto default to cnn)`, default: 'lenet5' },
  width: { kind: 'number', help: 'channel multiplier', default: 1, min: 0.0625, max: 8 },
  data: dataFlag('dataset (fliqs search and pareto default to fashion-mnist)', 'mnist'),
  epochs: { kind: 'int', help: 'training epochs', default: 1, min: 1 },
  batch: { kind: 'int', help: 'batch size', default: 64, min: 1 },
  optimizer: { kind: 'string', help: 'optimizer', choices: OPTIMIZERS, default: 'sgd' },
  lr: { kind: 'number', help: 'peak learning rate', default: 0.05, min: 0 },
  momentum: { kind: 'number', help: 'SGD/RMSProp momentum', default: 0.9, min: 0, max: 0.999 },
  'weight-decay': { kind: 'number', help: 'weight decay (conv/linear weights only; fliqs search defaults to 0)', default: 5e-4, min: 0 },
  schedule: { kind: 'string', help: "LR schedule: cosine | constant | exp:G, optionally ',warmup:N'", default: 'cosine' },
  'label-smoothing': { kind: 'number', help: 'label smoothing ε (fliqs search defaults to 0.1, the paper\'s A.4)', default: 0, min: 0, max: 0.99 },
  format: { kind: 'string', help: 'uniform format of every searched layer (FP32 = no quantization)', default: 'FP32' },
  augment: { kind: 'int', help: 'random-crop padding in pixels (0 = off)', default: 0, min: 0, max: 8 },
  limit: { kind: 'int', help: 'use only the first N training examples (quick runs)', min: 1 },
  validation: { kind: 'int', help: 'examples held out of train for validation (default 5000; synthetic 500)', min: 1 },
  seed: { kind: 'int', help: 'seed of initialisation, shuffling and augmentation', default: 0, min: 0 },
  'log-every': { kind: 'int', help: 'steps between log.jsonl lines (fliqs search defaults to about T/500)', default: 20, min: 1 },
  'checkpoint-every': { kind: 'int', help: 'steps between checkpoints (also at every epoch end; fliqs search defaults to about T/20)', default: 200, min: 1 },
  out: { kind: 'string', help: 'run directory', default: 'runs/train' },
  'stop-after': { kind: 'int', help: 'stop (with a checkpoint) after this many steps of this invocation', min: 1 },
  resume: { kind: 'boolean', help: 'continue the run in --out from its checkpoint' },
  help: { kind: 'boolean', help: 'show this help' },
} satisfies FlagSpecs;

const SUMMARY = 'Trains a zoo model, optionally with uniform quantization-aware training (--format INT8, E4M3, ...).';

export async function runTrain(args: string[]): Promise<number> {
  let f;
  let modelSpec: LayerListSpec | undefined;
  try {
    f = parseFlags(args, TRAIN_FLAGS);
    if (f.help) { process.stdout.write(usage('train', SUMMARY, TRAIN_FLAGS)); return 0; }
    parseFormat(f.format!);
    if (!f.resume) modelSpec = parseModelFlag(f.model!).modelSpec;
  } catch (e) {
    return usageFailure('train', e, processIo);
  }
  // --threads is not part of the run's config: results are the same for any count, and a resume may use another
  const { out, resume, help: _help, 'stop-after': stopAfter, threads: _threads, ...flags } = f;
  const run = new RunDir(out!);
  const load = (c: typeof flags) => loadDataset(c.data as DatasetName, {
    ...(c.limit ? { limit: { train: c.limit } } : {}), ...(c.validation !== undefined ? { validation: c.validation } : {}),
  });
  let config: typeof flags, data: ReturnType<typeof load> | undefined;
  let model: Module | undefined;
  const build = (c: typeof flags, d: NonNullable<typeof data>): Module =>
    buildModel(c.model!, modelSpec, { width: c.width, inputShape: d.train.shape, classes: d.train.classes, seed: c.seed });
  try {
    if (!resume) {
      data = load(flags); // a bad data file, or a spec that does not fit it, is refused before the run folder is written
      model = build(flags, data);
    }
    // a JSON model's spec is kept in config.json beside the flags (modelSpec), so the run folder alone rebuilds it
    const begun: typeof flags & { modelSpec?: unknown } = run.begin(modelSpec ? { ...flags, modelSpec } : flags, resume);
    config = flags;
    if (resume) {
      const { out: _o, resume: _r, help: _h, 'stop-after': _s, ...saved } = TRAIN_FLAGS;
      // anything but an object (null, an array, …) goes to checkSavedFlags as it is, which names what it holds
      const isObject = begun !== null && typeof begun === 'object' && !Array.isArray(begun);
      const { modelSpec: savedSpec, ...savedFlags } = isObject ? begun : { modelSpec: undefined };
      const { threads: _t, ...checked } = checkSavedFlags(isObject ? savedFlags : begun, saved, run.configFile);
      config = checked as typeof flags;
      if (savedSpec !== undefined) {
        if (savedSpec === null || typeof savedSpec !== 'object' || Array.isArray(savedSpec)) throw new FliqsError(run.configFile, 'has a modelSpec that is not an object', 'the config.json fliqs wrote for this run');
        modelSpec = savedSpec as LayerListSpec;
      } else if (!(MODEL_NAMES as string[]).includes(config.model!)) {
        throw new FliqsError(run.configFile, `names model ${JSON.stringify(config.model)} without its modelSpec`, MODEL_NAMES.join(', '));
      }
    }
  } catch (e) {
    return usageFailure('train', e, processIo);
  }

  const started = Date.now();
  let wallBefore = 0;
  const wall = (): number => wallBefore + (Date.now() - started) / 1000;
  data ??= load(config);
  const shape = data.train.shape;
  model ??= build(config, data);
  const layers = describeModel(model, shape);
  const format = parseFormat(config.format!);
  const trainConfig: TrainConfig = {
    epochs: config.epochs!, batchSize: config.batch!, optimizer: config.optimizer as TrainConfig['optimizer'], lr: config.lr!,
    momentum: config.optimizer === 'rmsprop' ? 0 : config.momentum, weightDecay: config['weight-decay'], schedule: config.schedule,
    labelSmoothing: config['label-smoothing'], formats: [format.name], seed: config.seed,
    augment: config.augment ? { pad: config.augment } : undefined,
  };
  const trainer = new Trainer(model, data, trainConfig);
  // Running sums since the last log line and the wall time so far; they travel in the checkpoint so a
  // resumed run's log and result are those of an uninterrupted one.
  let win = { loss: 0, correct: 0, seen: 0, steps: 0 };
  if (resume) {
    const ck = run.loadCheckpoint();
    if (ck) {
      const extra = (ck as TrainerCheckpoint).meta.extra as { kind?: string; window?: typeof win; wallSeconds?: number; config?: unknown } | undefined;
      if (extra?.kind !== 'fliqs-train' || !extra.window || typeof extra.wallSeconds !== 'number') {
        throw new FliqsError(run.checkpointFile, 'was not written by fliqs train', 'the checkpoint of a fliqs train run (a search run resumes with fliqs search --resume)');
      }
      refuseEditsSince(extra.config, config, run.configFile);
      trainer.restore(ck as TrainerCheckpoint);
      win = extra.window;
      wallBefore = extra.wallSeconds;
      const damaged = run.truncateLog(trainer.step);
      if (damaged) process.stderr.write(`note: dropped ${damaged} damaged line(s) of ${run.logFile} (not JSON with a step)\n`);
      process.stderr.write(`resuming ${out} at step ${trainer.step}/${trainer.totalSteps}\n`);
    } else {
      run.truncateLog(0);
      process.stderr.write(`no checkpoint in ${out}; starting from step 0\n`);
    }
  }
  const mbops = uniformCost(layers, format) / 1e6;
  process.stderr.write(`${config.model} ×${config.width} on ${config.data} (${data.train.labels.length} train / ${data.validation.labels.length} val / `
    + `${data.test.labels.length} test), ${format.name}, ${layers.length} searched layers, ${mbops.toFixed(2)} MBOPs/image, `
    + `${trainer.totalSteps} steps, into ${out}\n`);

  const progress = new Progress({ total: trainer.totalSteps });
  let windowStart = Date.now(), windowImages = 0, imagesPerSec = 0;
  const checkpointEvery = config['checkpoint-every']!, logEvery = config['log-every']!;
  let stepsThisRun = 0;
  try {
    for (const r of trainer.run()) {
      win.loss += r.loss; win.correct += r.correct; win.seen += r.size; win.steps++;
      windowImages += r.size;
      const now = Date.now();
      if (now - windowStart > 1000) { imagesPerSec = (windowImages * 1000) / (now - windowStart); windowStart = now; windowImages = 0; }
      const done = trainer.step;
      if (done % logEvery === 0 || done === trainer.totalSteps) {
        appendJsonLine(run.logFile, { step: r.step, epoch: r.epoch, lr: r.lr, loss: win.loss / win.steps, trainAccuracy: win.correct / win.seen, imagesPerSec });
        win = { loss: 0, correct: 0, seen: 0, steps: 0 };
      }
      const epochEnd = done % trainer.stepsPerEpoch === 0;
      if (epochEnd) {
        const v = trainer.evaluate(data.validation);
        appendJsonLine(run.logFile, { step: r.step, epoch: r.epoch, validationLoss: v.loss, validationAccuracy: v.accuracy });
      }
      if ((done % checkpointEvery === 0 || epochEnd) && done < trainer.totalSteps && !trainer.profiling) {
        run.saveCheckpoint(trainer.checkpoint({ kind: 'fliqs-train', window: win, wallSeconds: wall(), config }));
      }
      if (stopAfter !== undefined && ++stepsThisRun >= stopAfter && done < trainer.totalSteps) {
        if (trainer.profiling) continue; // a checkpoint needs a finished profile: stop right after it
        run.saveCheckpoint(trainer.checkpoint({ kind: 'fliqs-train', window: win, wallSeconds: wall(), config }));
        progress.done();
        process.stderr.write(`stopped after step ${done} with a checkpoint; continue with: fliqs train --resume --out ${out}\n`);
        return 0;
      }
      progress.update(done, `train loss ${r.loss.toFixed(4)}  train accuracy ${(r.correct / r.size).toFixed(3)}  ${imagesPerSec.toFixed(0)} images/s`);
    }
  } catch (e) {
    if (e instanceof FliqsError && e.input === 'loss') {
      process.stderr.write(`\nfliqs train: ${e.message}\nThe last good checkpoint is kept in ${run.checkpointFile}.\n`);
      return 1;
    }
    throw e;
  }
  progress.done();
  // the trained weights, for `fliqs export` (a resumed finished run restores them and only evaluates)
  run.saveCheckpoint(trainer.checkpoint({ kind: 'fliqs-train', window: win, wallSeconds: wall(), config }));
  const val = trainer.evaluate(data.validation), test = trainer.evaluate(data.test);
  const result = {
    model: config.model, width: config.width, data: config.data, format: format.name, seed: config.seed,
    steps: trainer.totalSteps, epochs: config.epochs,
    testAccuracy: test.accuracy, testLoss: test.loss, validationAccuracy: val.accuracy,
    mbops, layers: layers.map((l) => ({ ...l, format: format.name, bops: format.bits ** 2 * l.macs })),
    wallSeconds: wall(),
    threads: getThreads(),
  };
  writeJson(run.resultFile, result);
  process.stdout.write(`test accuracy ${(100 * test.accuracy).toFixed(2)}% (validation ${(100 * val.accuracy).toFixed(2)}%), `
    + `${mbops.toFixed(2)} MBOPs, ${result.wallSeconds.toFixed(1)} s — ${run.resultFile}\n`);
  trainer.dispose();
  return 0;
}
