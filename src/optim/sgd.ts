// SGD with momentum, dampening, Nesterov and L2 weight decay, PyTorch's rule:
//   g = grad + wd·p;  buf = g (first step) or μ·buf + (1 − dampening)·g;
//   g = nesterov ? g + μ·buf : buf;  p −= lr·g.
// When parameter and gradient live in wasm memory the update is one pass of the fused SIMD kernel
// sgdStep; otherwise its scalar reference sgdStepRef, bit-identical to it, does the same f32
// operations. The gradient is never modified.

import { FliqsError, describe } from '../core/errors.js';
import { runtime as defaultRuntime, type Runtime } from '../core/runtime.js';
import { Optimizer, requireLr, requireNonNeg, requireUnit } from './optimizer.js';
import { sgdStep } from '../kernels/optim.js';
import { sgdStepRef, type SGDHyper } from '../kernels/optim.ref.js';
import { view, type ParamGroup, type Slot } from './params.js';

export interface SGDOptions {
  lr: number;
  /** μ in [0, 1); default 0 (plain SGD, no state). */
  momentum?: number;
  /** In [0, 1); default 0. */
  dampening?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0. Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (coupled, as PyTorch's SGD); default 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, PyTorch semantics.
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([0.5]);
 * const opt = new SGD([{ param: p, grad: g }], { lr: 0.1, momentum: 0.9 });
 * opt.step(); // p = [0.95]
 * opt.dispose();
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: ParamGroup[], opts: SGDOptions, rt: Runtime = defaultRuntime) {
    const momentum = requireUnit('momentum', opts?.momentum ?? 0);
    const dampening = requireUnit('dampening', opts?.dampening ?? 0);
    const nesterov = opts?.nesterov ?? false;
    if (typeof nesterov !== 'boolean') throw new FliqsError('nesterov', `got ${describe(nesterov)}`, 'true or false');
    if (nesterov && (momentum === 0 || dampening !== 0)) {
      throw new FliqsError('nesterov', `needs momentum > 0 and dampening 0, got momentum ${momentum}, dampening ${dampening}`, 'nesterov: false, or momentum > 0 with dampening 0');
    }
    const weightDecay = requireNonNeg('weightDecay', opts?.weightDecay ?? 0);
    super('sgd', params, requireLr(opts?.lr), momentum > 0 ? ['momentum'] : [], rt);
    this.momentum = momentum;
    this.dampening = dampening;
    this.nesterov = nesterov;
    this.weightDecay = weightDecay;
  }

  protected update(i: number, s: Slot): void {
    const param = view(s.param, s.n, `${s.name}.param`), grad = view(s.grad, s.n, `${s.name}.grad`);
    const h: SGDHyper = {
      lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov,
      weightDecay: s.decay ? this.weightDecay : 0, step: this.t,
    };
    const momentumBuffer = this.momentum > 0 ? this.buffer(0, i) : null;
    if (this.rt.owns(param) && this.rt.owns(grad)) sgdStep({ param, grad, momentumBuffer, ...h }, this.rt);
    else sgdStepRef(param, grad, momentumBuffer, h);
  }
}
