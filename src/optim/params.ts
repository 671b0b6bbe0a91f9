// What an optimizer updates: parameter/gradient buffer pairs, either wasm-resident (WasmF32) or plain
// Float32Arrays, given as such or as the autograd Tensors of model.parameters() (converted here, the
// one place every optimizer's constructor input goes through). Views are re-resolved at every use,
// because memory.grow replaces the wasm buffer and detaches every view made before it.

import { FliqsError, describe } from '../core/errors.js';
import { WasmF32, type Runtime } from '../core/runtime.js';
import { Tensor, gradOf } from '../autograd/tensor.js';

/** An f32 buffer: a WasmF32 (resolved through `.array` each time) or a Float32Array. */
export type F32Buffer = Float32Array | WasmF32;

/** One parameter the optimizer updates in place from its gradient, as explicit buffers. */
export interface ParamBuffers {
  param: F32Buffer;
  grad: F32Buffer;
  /** Used in error messages and state dicts; default `params[i]`. */
  name?: string;
  /** Whether the optimizer's weight decay applies to this parameter (default true; biases and norms often opt out). */
  weightDecay?: boolean;
}

/**
 * What an optimizer takes per parameter: explicit buffers, or a trainable Tensor as model.parameters()
 * returns them (a kept leaf with requiresGrad). A Tensor's gradient buffer is allocated (zero-filled)
 * if backward() has not made it yet, and the optimizer reads it at every step; it is named `params[i]`
 * and weight decay applies to it (pass buffers with `weightDecay: false` to exclude one).
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 */
export type ParamGroup = ParamBuffers | Tensor;

/** A validated group: the buffers plus their checked length and display name. */
export interface Slot {
  readonly param: F32Buffer;
  readonly grad: F32Buffer;
  readonly name: string;
  readonly decay: boolean;
  readonly n: number;
}

function checkBuffer(rt: Runtime, input: string, x: unknown): number {
  if (x instanceof WasmF32) {
    if (x.runtime !== rt) throw new FliqsError(input, 'is a WasmF32 of another runtime', `a buffer of the optimizer's ${rt.variant} runtime, or a Float32Array`);
    return x.length;
  }
  if (x instanceof Float32Array) return x.length;
  throw new FliqsError(input, `got ${describe(x)}`, 'a Float32Array or WasmF32');
}

const ACCEPTED = 'a non-empty array of { param, grad, name?, weightDecay? } or of Tensors (model.parameters())';

/** A parameter Tensor's buffers: its storage and its gradient (allocated zero-filled when missing). */
function buffersOf(t: Tensor, i: number, seen: Set<Tensor>): ParamBuffers {
  const where = `params[${i}]`, shape = `[${t.shape.join(', ')}]`;
  if (t.isFreed) throw new FliqsError(where, `is a freed Tensor ${shape}`, 'a live parameter Tensor');
  if (!t.requiresGrad || t.backwardFn) {
    throw new FliqsError(where, `is a Tensor ${shape} that ${t.requiresGrad ? 'an op computed (not a leaf)' : 'does not require a gradient'}`,
      'a leaf Tensor with requiresGrad (a parameter, as model.parameters() returns them)');
  }
  if (!t.kept) {
    throw new FliqsError(where, `is a Tensor ${shape} that a step scope may free`, 'a kept Tensor (parameter(), or Tensor.from(..., { requiresGrad: true, keep: true }))');
  }
  if (seen.has(t)) throw new FliqsError(where, `is the Tensor ${shape} given earlier in the list`, 'each parameter once');
  seen.add(t);
  return { param: t.storage, grad: gradOf(t) };
}

/** Validates the parameter list once, at construction. */
/** More parameter tensors than any model has (a bound, so a huge sparse array fails fast). */
const MAX_GROUPS = 2 ** 20;

export function checkParams(rt: Runtime, params: unknown): Slot[] {
  if (!Array.isArray(params) || params.length === 0) throw new FliqsError('params', `got ${describe(params)}`, ACCEPTED);
  if (params.length > MAX_GROUPS) throw new FliqsError('params', `has ${params.length} entries`, `at most ${MAX_GROUPS} parameters`);
  const names = new Set<string>(), tensors = new Set<Tensor>();
  return params.map((g: unknown, i) => {
    if (typeof g !== 'object' || g === null) throw new FliqsError(`params[${i}]`, `got ${describe(g)}`, 'an object { param, grad, name?, weightDecay? } or a Tensor');
    const p: Partial<ParamBuffers> = g instanceof Tensor ? buffersOf(g, i, tensors) : g;
    const name = p.name ?? `params[${i}]`;
    if (typeof name !== 'string') throw new FliqsError(`params[${i}].name`, `got ${describe(name)}`, 'a string');
    if (names.has(name)) throw new FliqsError(`params[${i}].name`, `${JSON.stringify(name)} is used twice`, 'distinct names');
    names.add(name);
    const n = checkBuffer(rt, `${name}.param`, p.param);
    const m = checkBuffer(rt, `${name}.grad`, p.grad);
    if (n !== m) throw new FliqsError(`${name}.grad`, `has ${m} elements but the parameter has ${n}`, `exactly ${n} elements`);
    if (p.param === p.grad) throw new FliqsError(`${name}.grad`, 'is the same buffer as the parameter', 'a separate gradient buffer');
    const decay = p.weightDecay ?? true;
    if (typeof decay !== 'boolean') throw new FliqsError(`${name}.weightDecay`, `got ${describe(decay)}`, 'true or false');
    return { param: p.param!, grad: p.grad!, name, decay, n };
  });
}

/** A fresh view of a buffer, checked against its length (a Float32Array over grown wasm memory is detached). */
export function view(x: F32Buffer, n: number, input: string): Float32Array {
  const a = x instanceof WasmF32 ? x.array : x;
  if (a.length !== n) {
    throw new FliqsError(input, `has ${a.length} elements now but had ${n} (a view of wasm memory detached by memory.grow?)`,
      'a WasmF32, or a Float32Array that stays valid');
  }
  return a;
}

/** The byte offset of a buffer in rt's memory, or -1 when it lives outside (then kernels cannot use it). */
export function offsetIn(rt: Runtime, x: F32Buffer): number {
  if (x instanceof WasmF32) return x.ptr;
  return rt.owns(x) ? x.byteOffset : -1;
}
