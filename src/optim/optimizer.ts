// The optimizer base: owns the parameter list, the learning rate, the step count and the per-parameter
// state buffers (allocated from the runtime's arena, freed by dispose()), and implements zeroGrad,
// stateDict/loadStateDict (plain arrays, exact round trip) and the hyper-parameter checks the
// concrete optimizers share. Subclasses implement one parameter's update.

import { FliqsError, describe } from '../core/errors.js';
import { runtime as defaultRuntime, type Runtime } from '../core/runtime.js';
import { checkParams, view, type ParamGroup, type Slot } from './params.js';

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
export function requireIn(input: string, value: unknown, ok: (v: number) => boolean, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new FliqsError(input, `got ${describe(value)}`, what);
  return value;
}

export const requireLr = (v: unknown): number => requireIn('lr', v, (x) => x >= 0, 'a finite number ≥ 0');
export const requireUnit = (input: string, v: unknown): number => requireIn(input, v, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
export const requireNonNeg = (input: string, v: unknown): number => requireIn(input, v, (x) => x >= 0, 'a finite number ≥ 0');
export const requireEps = (v: unknown): number => requireIn('eps', v, (x) => x > 0, 'a finite number > 0');

export abstract class Optimizer {
  readonly rt: Runtime;
  protected readonly slots: Slot[];
  /** Steps taken so far. */
  protected t = 0;
  private lr_: number;
  private readonly kind: string;
  private readonly bufferNames: readonly string[];
  /** ptrs[k][i]: byte offset of state buffer k for parameter i. */
  private ptrs: number[][];
  private disposed = false;

  protected constructor(kind: string, params: ParamGroup[], lr: number, bufferNames: readonly string[], rt: Runtime = defaultRuntime) {
    this.rt = rt;
    this.kind = kind;
    this.lr_ = requireLr(lr);
    this.slots = checkParams(rt, params);
    this.bufferNames = bufferNames;
    this.ptrs = bufferNames.map(() => this.slots.map((s) => rt.arena.alloc(s.n * 4)));
    // Allocation may have grown memory: zero through fresh views only now.
    for (const row of this.ptrs) row.forEach((p, i) => rt.f32.fill(0, p >>> 2, (p >>> 2) + this.slots[i]!.n));
  }

  /** The learning rate the next step() uses (set it from a schedule before each step). */
  get lr(): number { return this.lr_; }
  set lr(v: number) { this.lr_ = requireLr(v); }

  /** Steps taken so far. */
  get stepCount(): number { return this.t; }

  /** Applies one update to every parameter from its current gradient. */
  step(): void {
    this.alive();
    this.t++;
    for (let i = 0; i < this.slots.length; i++) this.update(i, this.slots[i]!);
  }

  /** Sets every gradient to zero. */
  zeroGrad(): void {
    this.alive();
    for (const s of this.slots) view(s.grad, s.n, `${s.name}.grad`).fill(0);
  }

  /** A deep copy of the state (step count, lr, every state buffer as plain arrays). */
  stateDict(): OptimizerState {
    this.alive();
    const state: Record<string, number[][]> = {};
    this.bufferNames.forEach((b, k) => { state[b] = this.slots.map((_, i) => Array.from(this.buffer(k, i))); });
    return { kind: this.kind, step: this.t, lr: this.lr_, names: this.slots.map((s) => s.name), state };
  }

  /** Restores a stateDict() of an optimizer of the same kind, options and parameter shapes. */
  loadStateDict(d: OptimizerState): void {
    this.alive();
    if (typeof d !== 'object' || d === null) throw new FliqsError('stateDict', `got ${describe(d)}`, 'an object from stateDict()');
    if (d.kind !== this.kind) throw new FliqsError('stateDict.kind', `is ${describe(d.kind)} but this optimizer is ${this.kind}`, this.kind);
    const step = requireIn('stateDict.step', d.step, (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0');
    const lr = requireIn('stateDict.lr', d.lr, (x) => x >= 0, 'a finite number ≥ 0');
    const names = this.slots.map((s) => s.name);
    if (!Array.isArray(d.names) || d.names.length !== names.length || d.names.some((n, i) => n !== names[i])) {
      throw new FliqsError('stateDict.names', `are ${describe(d.names)}`, `the same parameters in the same order: ${names.join(', ')}`);
    }
    const keys = Object.keys(d.state ?? {}).sort();
    const want = [...this.bufferNames].sort();
    if (keys.join() !== want.join()) {
      throw new FliqsError('stateDict.state', `has buffers [${keys.join(', ')}]`, `[${want.join(', ')}] (same options as when it was saved)`);
    }
    // Check everything before writing anything, so a bad dict leaves the optimizer unchanged.
    this.bufferNames.forEach((b, k) => this.slots.forEach((s, i) => {
      const a = d.state[b]?.[i];
      if (!Array.isArray(a) || a.length !== s.n) {
        throw new FliqsError(`stateDict.state.${b}[${i}]`, `got ${describe(a)}`, `an array of ${s.n} numbers (${s.name})`);
      }
    }));
    this.bufferNames.forEach((b, k) => this.slots.forEach((_, i) => this.buffer(k, i).set(d.state[b]![i]!)));
    this.t = step;
    this.lr_ = lr;
  }

  /** Frees the state buffers; the optimizer cannot be used afterwards. Safe to call twice. */
  dispose(): void {
    for (const row of this.ptrs) for (const p of row) this.rt.arena.free(p);
    this.ptrs = [];
    this.disposed = true;
  }

  private alive(): void {
    if (this.disposed) throw new FliqsError('optimizer', `this ${this.kind} optimizer was disposed`, 'a live optimizer (create a new one)');
  }

  /** Byte offset of state buffer k for parameter i. */
  protected ptr(k: number, i: number): number { return this.ptrs[k]![i]!; }

  /** A fresh view of state buffer k for parameter i (valid until the next allocation). */
  protected buffer(k: number, i: number): Float32Array {
    const p = this.ptrs[k]![i]! >>> 2;
    return this.rt.f32.subarray(p, p + this.slots[i]!.n);
  }

  /** Updates parameter i in place; `this.t` is already the 1-based number of this step. */
  protected abstract update(i: number, s: Slot): void;
}
