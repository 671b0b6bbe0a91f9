// SGD with momentum, dampening, Nesterov and L2 weight decay, PyTorch's rule:
//   g = grad + wd·p;  buf = g (first step) or μ·buf + (1 − dampening)·g;
//   g = nesterov ? g + μ·buf : buf;  p −= lr·g.
// When parameter and gradient live in wasm memory the update runs on the SIMD kernels scale and
// axpy (the gradient is never modified); otherwise a scalar loop does the same arithmetic.

import { FliqsError } from '../core/errors.js';
import { runtime as defaultRuntime, type Runtime } from '../core/runtime.js';
import { Optimizer, requireLr, requireNonNeg, requireUnit } from './optimizer.js';
import { offsetIn, view, type ParamGroup, type Slot } from './params.js';

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
    if (typeof nesterov !== 'boolean') throw new FliqsError('nesterov', `got ${String(nesterov)}`, 'true or false');
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
    const pp = offsetIn(this.rt, s.param), pg = offsetIn(this.rt, s.grad);
    if (pp >= 0 && pg >= 0) {
      view(s.param, s.n, `${s.name}.param`);
      view(s.grad, s.n, `${s.name}.grad`);
      this.updateSimd(i, s.n, pp, pg, s.decay ? this.weightDecay : 0);
    } else {
      this.updateScalar(i, s);
    }
  }

  private updateSimd(i: number, n: number, pp: number, pg: number, wd: number): void {
    const k = this.rt.kernels, lr = this.lr, mu = this.momentum;
    if (mu === 0) {
      // p −= lr·(g + wd·p)  ==  p ← (1 − lr·wd)·p − lr·g
      if (wd !== 0) k.scale_f32x4(pp, pp, n, 1 - lr * wd);
      k.axpy_f32x4(pg, pp, n, -lr);
      return;
    }
    const pb = this.ptr(0, i);
    const c = this.t === 1 ? 1 : 1 - this.dampening;
    if (this.t === 1) k.scale_f32x4(pg, pb, n, 1); else { k.scale_f32x4(pb, pb, n, mu); k.axpy_f32x4(pg, pb, n, c); }
    if (wd !== 0) k.axpy_f32x4(pp, pb, n, c * wd);
    if (this.nesterov) {
      // p −= lr·(g + wd·p + μ·buf), the decay term folded into a scale of p first.
      if (wd !== 0) k.scale_f32x4(pp, pp, n, 1 - lr * wd);
      k.axpy_f32x4(pg, pp, n, -lr);
      k.axpy_f32x4(pb, pp, n, -lr * mu);
    } else {
      k.axpy_f32x4(pb, pp, n, -lr);
    }
  }

  private updateScalar(i: number, s: Slot): void {
    const p = view(s.param, s.n, `${s.name}.param`), g = view(s.grad, s.n, `${s.name}.grad`);
    const lr = this.lr, mu = this.momentum, wd = s.decay ? this.weightDecay : 0;
    const buf = mu > 0 ? this.buffer(0, i) : null;
    const first = this.t === 1, c = 1 - this.dampening;
    for (let j = 0; j < s.n; j++) {
      let d = Math.fround(g[j]! + wd * p[j]!);
      if (buf) {
        const b = (buf[j] = Math.fround(first ? d : mu * buf[j]! + c * d));
        d = this.nesterov ? d + mu * b : b;
      }
      p[j] = p[j]! - lr * d;
    }
  }
}
