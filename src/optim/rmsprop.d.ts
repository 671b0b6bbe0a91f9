import { type Runtime } from '../core/runtime.js';
import { Optimizer } from './optimizer.js';
import { type ParamGroup, type Slot } from './params.js';
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
export declare class RMSProp extends Optimizer {
    readonly alpha: number;
    readonly eps: number;
    readonly momentum: number;
    readonly centered: boolean;
    readonly weightDecay: number;
    constructor(params: ParamGroup[], opts?: RMSPropOptions, rt?: Runtime);
    protected update(i: number, s: Slot): void;
}
