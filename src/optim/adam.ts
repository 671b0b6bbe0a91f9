// Adam and AdamW, PyTorch's rule (no amsgrad):
//   Adam:  g = grad + wd·p            AdamW: p ← p·(1 − lr·wd), g = grad
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   p −= lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + eps)      (eps outside the square root)
// The update is one fused pass in TypeScript over the Float32Array views (the state lives in wasm
// memory); a fused SIMD kernel (adam_step_f32x4) does not exist yet.

import { FliqsError, describe } from '../core/errors.js';
import { runtime as defaultRuntime, type Runtime } from '../core/runtime.js';
import { Optimizer, requireEps, requireLr, requireNonNeg, requireUnit } from './optimizer.js';
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
    const p = view(s.param, s.n, `${s.name}.param`), g = view(s.grad, s.n, `${s.name}.grad`);
    const m = this.buffer(0, i), v = this.buffer(1, i);
    const { beta1: b1, beta2: b2, eps } = this, lr = this.lr;
    const wd = s.decay ? this.weightDecay : 0;
    const stepSize = lr / (1 - b1 ** this.t), bc2 = Math.sqrt(1 - b2 ** this.t);
    const shrink = this.decoupled ? 1 - lr * wd : 1, l2 = this.decoupled ? 0 : wd;
    for (let j = 0; j < s.n; j++) {
      const pj = Math.fround(p[j]! * shrink);
      const gj = Math.fround(g[j]! + l2 * pj);
      const mj = (m[j] = Math.fround(b1 * m[j]! + (1 - b1) * gj));
      const vj = (v[j] = Math.fround(b2 * v[j]! + (1 - b2) * gj * gj));
      p[j] = pj - stepSize * mj / (Math.sqrt(vj) / bc2 + eps);
    }
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
