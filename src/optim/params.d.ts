import { WasmF32, type Runtime } from '../core/runtime.js';
/** An f32 buffer: a WasmF32 (resolved through `.array` each time) or a Float32Array. */
export type F32Buffer = Float32Array | WasmF32;
/** One parameter the optimizer updates in place from its gradient. */
export interface ParamGroup {
    param: F32Buffer;
    grad: F32Buffer;
    /** Used in error messages and state dicts; default `params[i]`. */
    name?: string;
    /** Whether the optimizer's weight decay applies to this parameter (default true; biases and norms often opt out). */
    weightDecay?: boolean;
}
/** A validated group: the buffers plus their checked length and display name. */
export interface Slot {
    readonly param: F32Buffer;
    readonly grad: F32Buffer;
    readonly name: string;
    readonly decay: boolean;
    readonly n: number;
}
/** Validates the parameter list once, at construction. */
export declare function checkParams(rt: Runtime, params: unknown): Slot[];
/** A fresh view of a buffer, checked against its length (a Float32Array over grown wasm memory is detached). */
export declare function view(x: F32Buffer, n: number, input: string): Float32Array;
/** The byte offset of a buffer in rt's memory, or -1 when it lives outside (then kernels cannot use it). */
export declare function offsetIn(rt: Runtime, x: F32Buffer): number;
