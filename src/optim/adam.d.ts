import { type Runtime } from '../core/runtime.js';
import { Optimizer } from './optimizer.js';
import { type ParamGroup, type Slot } from './params.js';
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
declare abstract class AdamBase extends Optimizer {
    readonly beta1: number;
    readonly beta2: number;
    readonly eps: number;
    readonly weightDecay: number;
    private readonly decoupled;
    protected constructor(kind: 'adam' | 'adamw', params: ParamGroup[], opts: AdamOptions | undefined, rt: Runtime);
    protected update(i: number, s: Slot): void;
}
/**
 * Adam with L2 weight decay coupled into the gradient (PyTorch's torch.optim.Adam).
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([0.5]);
 * const opt = new Adam([{ param: p, grad: g }], { lr: 0.1 });
 * opt.step(); // p ≈ [0.9]: the first step moves every weight by about lr
 * opt.dispose();
 */
export declare class Adam extends AdamBase {
    constructor(params: ParamGroup[], opts?: AdamOptions, rt?: Runtime);
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
export declare class AdamW extends AdamBase {
    constructor(params: ParamGroup[], opts?: AdamOptions, rt?: Runtime);
}
export {};
