// Ops composed from the primitives (primitives.ts) and relu, with no kernel and no backward rule of their
// own: their gradients come from the primitives' rules. Formulated so no intermediate overflows.

import { FliqsError } from '../core/errors.js';
import { relu } from './ops.js';
import { add, exp, log, mean, mul, scale, sub } from './primitives.js';
import { Tensor, requireTensor } from './tensor.js';

const constant = (v: number): Tensor => Tensor.from([v], [1]);

/**
 * log(1 + eˣ), as relu(x) + log(1 + e^−|x|) with −|x| = x − 2·relu(x), so the exp never overflows;
 * its gradient at 0 is exactly 1/2.
 * @example
 * const y = softplus(x);
 */
export function softplus(x: Tensor): Tensor {
  requireTensor('softplus', 'x', x);
  const r = relu(x);
  return add(r, log(add(exp(sub(x, scale(r, 2))), constant(1))));
}

/**
 * 1 / (1 + e⁻ˣ), as exp(−softplus(−x)): the exponent is ≤ 0, so it is finite (and its gradient too)
 * for every finite x.
 * @example
 * const gate = sigmoid(x);
 */
export function sigmoid(x: Tensor): Tensor {
  requireTensor('sigmoid', 'x', x);
  return exp(scale(softplus(scale(x, -1)), -1));
}

/**
 * tanh(x) = 2·sigmoid(2x) − 1. Absolute error about 1e-7 (f32 near 1/2), so the relative error grows
 * as |x| → 0.
 * @example
 * const y = tanh(x);
 */
export function tanh(x: Tensor): Tensor {
  requireTensor('tanh', 'x', x);
  return sub(scale(sigmoid(scale(x, 2)), 2), constant(1));
}

/**
 * Mean squared error over every element of pred and target (same shape): mean((pred − target)²), a [1]
 * tensor (PyTorch's MSELoss, reduction 'mean').
 * @example
 * const loss = mseLoss(model.forward(x), y);
 * loss.backward();
 */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  requireTensor('mseLoss', 'pred', pred); requireTensor('mseLoss', 'target', target);
  if (pred.shape.length !== target.shape.length || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new FliqsError('mseLoss', `pred [${pred.shape.join(', ')}] and target [${target.shape.join(', ')}] differ`, 'pred and target of the same shape');
  }
  const d = sub(pred, target);
  return mean(mul(d, d));
}
