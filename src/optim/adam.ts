// Adam and AdamW, PyTorch's rule (no amsgrad):
//   Adam:  g = grad + wd·p            AdamW: p ← p·(1 − lr·wd), g = grad
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   p −= lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + eps)      (eps outside the square root)
// With parameter and gradient in wasm memory the update is one pass of the fused SIMD kernel
// adamStep, otherwise its scalar reference adamStepRef (bit-identical: the same f32 operations,
// each rounded once, so results may differ in the last bits from PyTorch's own f32 kernels).

import { FliqsError, describe } from '../core/errors.js';
import { runtime as defaultRuntime, type Runtime } from '../core/runtime.js';
import { Optimizer, requireEps, requireLr, requireNonNeg, requireUnit } from './optimizer.js';
import { adamStep } from '../kernels/optim.js';
import { adamStepRef, type AdamHyper } from '../kernels/optim.ref.js';
import { view, type ParamGroup, type Slot } from './params.js';

export interface AdamOptions {
  /** Default 1e-3. */
  lr?: number;
  /** [β1, β2], each in [0, 1); default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to √v̂ (outside the root); > 0, default 1e-8. */
  eps?: number;
  /** Adam: L2 added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
}

abstract class AdamBase extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decoupled: boolean;

  protected constructor(kind: 'adam' | 'adamw', params: ParamGroup[], opts: AdamOptions | undefined, rt: Runtime) {
    const betas = opts?.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new FliqsError('betas', `got ${describe(betas)}`, '[β1, β2], each in [0, 1)');
    const beta1 = requireUnit('betas[0]', betas[0]), beta2 = requireUnit('betas[1]', betas[1]);
    const eps = requireEps(opts?.eps ?? 1e-8);
    const weightDecay = requireNonNeg('weightDecay', opts?.weightDecay ?? (kind === 'adamw' ? 1e-2 : 0));
    super(kind, params, requireLr(opts?.lr ?? 1e-3), ['m', 'v'], rt);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.decoupled = kind === 'adamw';
  }

  protected update(i: number, s: Slot): void {
    const param = view(s.param, s.n, `${s.name}.param`), grad = view(s.grad, s.n, `${s.name}.grad`);
    const m = this.buffer(0, i), v = this.buffer(1, i);
    const h: AdamHyper = {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps,
      weightDecay: s.decay ? this.weightDecay : 0, decoupled: this.decoupled, step: this.t,
    };
    if (this.rt.owns(param) && this.rt.owns(grad)) adamStep({ param, grad, m, v, ...h }, this.rt);
    else adamStepRef(param, grad, m, v, h);
  }
}

/**
 * Adam with L2 weight decay coupled into the gradient (PyTorch's torch.optim.Adam).
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([0.5]);
 * const opt = new Adam([{ param: p, grad: g }], { lr: 0.1 });
 * opt.step(); // p ≈ [0.9]: the first step moves every weight by about lr
 * opt.dispose();
 */
export class Adam extends AdamBase {
  constructor(params: ParamGroup[], opts?: AdamOptions, rt: Runtime = defaultRuntime) {
    super('adam', params, opts, rt);
  }
}

/**
 * AdamW: weight decay decoupled from the gradient, p ← p·(1 − lr·wd) before the Adam step
 * (PyTorch's torch.optim.AdamW; default weightDecay 1e-2).
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([0]);
 * const opt = new AdamW([{ param: p, grad: g }], { lr: 0.1, weightDecay: 0.5 });
 * opt.step(); // p = [0.95]: with a zero gradient only the decay acts
 * opt.dispose();
 */
export class AdamW extends AdamBase {
  constructor(params: ParamGroup[], opts?: AdamOptions, rt: Runtime = defaultRuntime) {
    super('adamw', params, opts, rt);
  }
}
