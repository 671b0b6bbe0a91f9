import { type Runtime } from '../core/runtime.js';
import { Optimizer } from './optimizer.js';
import { type ParamGroup, type Slot } from './params.js';
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
export declare class SGD extends Optimizer {
    readonly momentum: number;
    readonly dampening: number;
    readonly nesterov: boolean;
    readonly weightDecay: number;
    constructor(params: ParamGroup[], opts: SGDOptions, rt?: Runtime);
    protected update(i: number, s: Slot): void;
    private updateSimd;
    private updateScalar;
}
