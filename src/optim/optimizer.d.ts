import { type Runtime } from '../core/runtime.js';
import { type ParamGroup, type Slot } from './params.js';
/** A checkpointable snapshot of an optimizer: plain numbers and arrays, JSON-safe for finite values. */
export interface OptimizerState {
    kind: string;
    /** Steps taken so far (Adam's bias correction and SGD's first-step buffer depend on it). */
    step: number;
    lr: number;
    /** Parameter names, in order, so a dict is not loaded into a differently built optimizer. */
    names: string[];
    /** state[bufferName][i] = the values of that buffer for parameter i. */
    state: Record<string, number[][]>;
}
/** Throws unless `value` is a finite number in the range; `what` says the accepted range. */
export declare function requireIn(input: string, value: unknown, ok: (v: number) => boolean, what: string): number;
export declare const requireLr: (v: unknown) => number;
export declare const requireUnit: (input: string, v: unknown) => number;
export declare const requireNonNeg: (input: string, v: unknown) => number;
export declare const requireEps: (v: unknown) => number;
export declare abstract class Optimizer {
    readonly rt: Runtime;
    protected readonly slots: Slot[];
    /** Steps taken so far. */
    protected t: number;
    private lr_;
    private readonly kind;
    private readonly bufferNames;
    /** ptrs[k][i]: byte offset of state buffer k for parameter i. */
    private ptrs;
    private disposed;
    protected constructor(kind: string, params: ParamGroup[], lr: number, bufferNames: readonly string[], rt?: Runtime);
    /** The learning rate the next step() uses (set it from a schedule before each step). */
    get lr(): number;
    set lr(v: number);
    /** Steps taken so far. */
    get stepCount(): number;
    /** Applies one update to every parameter from its current gradient. */
    step(): void;
    /** Sets every gradient to zero. */
    zeroGrad(): void;
    /** A deep copy of the state (step count, lr, every state buffer as plain arrays). */
    stateDict(): OptimizerState;
    /** Restores a stateDict() of an optimizer of the same kind, options and parameter shapes. */
    loadStateDict(d: OptimizerState): void;
    /** Frees the state buffers; the optimizer cannot be used afterwards. Safe to call twice. */
    dispose(): void;
    private alive;
    /** Byte offset of state buffer k for parameter i. */
    protected ptr(k: number, i: number): number;
    /** A fresh view of state buffer k for parameter i (valid until the next allocation). */
    protected buffer(k: number, i: number): Float32Array;
    /** Updates parameter i in place; `this.t` is already the 1-based number of this step. */
    protected abstract update(i: number, s: Slot): void;
}
