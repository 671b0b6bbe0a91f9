// RMSProp, PyTorch's rule:
//   g = grad + wd·p;  v = α·v + (1 − α)·g²
//   centered: ḡ = α·ḡ + (1 − α)·g,  avg = √(v − ḡ²) + eps;  otherwise avg = √v + eps
//   momentum > 0: buf = μ·buf + g/avg, p −= lr·buf;  otherwise p −= lr·g/avg
// With parameter and gradient in wasm memory the update is one pass of the fused SIMD kernel
// rmspropStep, otherwise its bit-identical scalar reference rmspropStepRef.
// Deviation: v − ḡ² is clamped at 0 before the root (f32 rounding can make it slightly negative,
// which gives NaN in PyTorch).

import { FliqsError, describe } from '../core/errors.js';
import { runtime as defaultRuntime, type Runtime } from '../core/runtime.js';
import { Optimizer, requireEps, requireLr, requireNonNeg, requireUnit } from './optimizer.js';
import { rmspropStep } from '../kernels/optim.js';
import { rmspropStepRef, type RMSPropHyper } from '../kernels/optim.ref.js';
import { view, type ParamGroup, type Slot } from './params.js';

export interface RMSPropOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Smoothing constant α in [0, 1); default 0.99. */
  alpha?: number;
  /** > 0, default 1e-8 (added after the root). */
  eps?: number;
  /** μ in [0, 1); default 0. */
  momentum?: number;
  /** Normalize by the estimated variance instead of the second moment; default false. */
  centered?: boolean;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
}

/**
 * RMSProp, PyTorch semantics (torch.optim.RMSprop).
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([0.5]);
 * const opt = new RMSProp([{ param: p, grad: g }], { lr: 0.01, alpha: 0.99 });
 * opt.step(); // v = 0.0025, p = 1 − 0.01·0.5/0.05 = [0.9]
 * opt.dispose();
 */
export class RMSProp extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly weightDecay: number;

  constructor(params: ParamGroup[], opts?: RMSPropOptions, rt: Runtime = defaultRuntime) {
    const alpha = requireUnit('alpha', opts?.alpha ?? 0.99);
    const eps = requireEps(opts?.eps ?? 1e-8);
    const momentum = requireUnit('momentum', opts?.momentum ?? 0);
    const centered = opts?.centered ?? false;
    if (typeof centered !== 'boolean') throw new FliqsError('centered', `got ${describe(centered)}`, 'true or false');
    const weightDecay = requireNonNeg('weightDecay', opts?.weightDecay ?? 0);
    const buffers = ['squareAvg'];
    if (centered) buffers.push('gradAvg');
    if (momentum > 0) buffers.push('momentum');
    super('rmsprop', params, requireLr(opts?.lr ?? 1e-2), buffers, rt);
    this.alpha = alpha;
    this.eps = eps;
    this.momentum = momentum;
    this.centered = centered;
    this.weightDecay = weightDecay;
  }

  protected update(i: number, s: Slot): void {
    const param = view(s.param, s.n, `${s.name}.param`), grad = view(s.grad, s.n, `${s.name}.grad`);
    const h: RMSPropHyper = {
      lr: this.lr, alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered,
      weightDecay: s.decay ? this.weightDecay : 0,
    };
    const squareAvg = this.buffer(0, i);
    const gradAvg = this.centered ? this.buffer(1, i) : null;
    const momentumBuffer = this.momentum > 0 ? this.buffer(this.centered ? 2 : 1, i) : null;
    if (this.rt.owns(param) && this.rt.owns(grad)) {
      rmspropStep({ param, grad, squareAvg, gradAvg, momentumBuffer, ...h }, this.rt);
    } else {
      rmspropStepRef(param, grad, squareAvg, gradAvg, momentumBuffer, h);
    }
  }
}
