// Batch-norm statistics of a super-network's sampled architectures. recalibrateBatchNorm recomputes a model's
// running statistics from a few training batches (forward passes in training mode, no gradients, weights
// untouched); withBatchStatistics runs a function with every batch-norm normalizing by its batch's statistics,
// the running ones left as they are (a FLIQNAS search measures Q so). A FLIQNAS super-network trains its batch-norm statistics
// over every sampled architecture, so an extracted architecture inherits a mixture that fits none of them;
// recomputed for the one architecture (as once-for-all and BigNAS do), its accuracy measured 64.2% → 82.7% on
// a mobilenetv2 ×0.25 search (docs/fliqnas.md). Browser-safe.

import { FliqsError, requireInt } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import { batches } from '../data/batches.js';
import { checkDataset, type Dataset } from '../data/dataset.js';
import { BatchNorm2d } from '../nn/layers.js';
import { requireModule, type Module } from '../nn/module.js';

/**
 * Sets every BatchNorm2d's running mean and variance to the average of its batch statistics over `count` batches
 * of `ds` (drawn with `seed`): batch i enters with momentum 1/(i + 1), so the result is their plain mean.
 * Returns the number of batches used (fewer when the dataset runs out); 0 leaves the model as it was.
 * @example
 * recalibrateBatchNorm(extracted, data.train, { count: 20, batchSize: 64, seed: 1 });
 */
export function recalibrateBatchNorm(model: Module, ds: Dataset, opts: { count: number; batchSize: number; seed: number }): number {
  requireModule('model', model);
  checkDataset('ds', ds);
  if (typeof opts !== 'object' || opts === null) throw new FliqsError('options', `got ${String(opts)}`, '{ count, batchSize, seed }');
  const count = requireInt('count', opts.count, 0), size = requireInt('batchSize', opts.batchSize, 2);
  const bns = model.namedModules().map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  if (count === 0 || bns.length === 0) return 0;
  const saved = bns.map((bn) => bn.momentum);
  const wasTraining = model.training;
  model.train();
  let i = 0;
  try {
    for (const b of batches(ds, size, new Rng(requireInt('seed', opts.seed, 0, 2 ** 32 - 1)), { dropLast: true })) {
      if (i >= count) break;
      for (const bn of bns) bn.momentum = 1 / (i + 1);
      stepScope(() => noGrad(() => { model.forward(Tensor.from(b.images, [b.size, ...ds.shape])); }));
      i++;
    }
  } finally {
    bns.forEach((bn, k) => { bn.momentum = saved[k]!; });
    model.train(wasTraining);
  }
  return i;
}

/**
 * Runs `fn` with every BatchNorm2d of `model` in training mode without updating its running statistics (each
 * normalizes with its batch's own), every other module as it was. A super-network's running statistics mix all
 * the architectures it sampled, so in eval mode the Q of one architecture is both noisy and biased: measured on a
 * mobilenetv2 ×0.25 FLIQNAS-S search, σ of Q was 0.166 in eval mode.
 * @example
 * const q = withBatchStatistics(supernet, () => accuracyOn(validationBatch));
 */
export function withBatchStatistics<T>(model: Module, fn: () => T): T {
  requireModule('model', model);
  if (typeof fn !== 'function') throw new FliqsError('fn', `got ${typeof fn}`, 'a function');
  const bns = model.namedModules().map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const saved = bns.map((bn) => [bn.training, bn.updateRunning] as const);
  for (const bn of bns) { bn.training = true; bn.updateRunning = false; }
  try {
    return fn();
  } finally {
    bns.forEach((bn, i) => { bn.training = saved[i]![0]; bn.updateRunning = saved[i]![1]; });
  }
}
