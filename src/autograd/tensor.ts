// Tensor and tape: wasm-resident f32 storage, reverse-mode backward() in topological order, noGrad()
// and step scopes that free every temporary (storage, gradients, saved buffers) created inside them.

import { FliqsError, describe } from '../core/errors.js';
import { runtime, type WasmF32 } from '../core/runtime.js';
import { add } from '../kernels/elementwise.js';

/** Anything a scope can release at its end (tensors, saved statistics, argmax buffers). */
export interface Freeable { free(): void }

/** Open scopes, innermost last: each collects what was allocated while it was innermost. */
const scopes: Freeable[][] = [];
let gradEnabled = true;

function track<T extends Freeable>(x: T): T {
  scopes[scopes.length - 1]?.push(x);
  return x;
}

/**
 * A scoped f32 buffer of n elements (freed with the innermost scope; untracked outside any scope).
 * Ops use it for saved statistics and gradient temporaries.
 */
export function scratchF32(n: number): WasmF32 {
  return track(runtime.allocF32(n));
}

/** Registers any freeable with the innermost scope (no-op outside scopes). */
export function trackFree<T extends Freeable>(x: T): T {
  return track(x);
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function checkShape(input: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new FliqsError(input, `got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : describe(shape)}`, 'a non-empty array of positive integers');
  }
  return shape.slice();
}

export interface TensorOptions {
  requiresGrad?: boolean;
  /** Kept tensors (parameters, buffers) are never freed by a scope; their grads persist too. */
  keep?: boolean;
}

export class Tensor implements Freeable {
  readonly shape: number[];
  readonly size: number;
  /** The wasm buffer holding the values (shared with views). */
  readonly storage: WasmF32;
  requiresGrad: boolean;
  /** Accumulated gradient (same size), allocated by backward(); null until then. */
  grad: WasmF32 | null = null;
  /** Set by keep(): never freed by a scope; its grad is allocated outside scopes. */
  kept = false;
  /** The tensors this one was computed from, and the rule pushing this.grad into theirs. */
  parents: Tensor[] = [];
  backwardFn: (() => void) | null = null;
  private readonly owner: boolean;
  private freed = false;

  /** Use Tensor.zeros / Tensor.from or an op; this wraps an existing buffer. */
  constructor(storage: WasmF32, shape: number[], owner: boolean, opts: TensorOptions = {}) {
    this.storage = storage;
    this.shape = shape;
    this.size = shapeSize(shape);
    this.owner = owner;
    this.requiresGrad = opts.requiresGrad ?? false;
    if (opts.keep) this.kept = true; else track(this);
  }

  /**
   * A zero-filled tensor.
   * @example
   * const t = Tensor.zeros([2, 3]); // t.size === 6
   */
  static zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const s = checkShape('shape', shape);
    const buf = runtime.allocF32(shapeSize(s));
    buf.array.fill(0);
    return new Tensor(buf, s, true, opts);
  }

  /** An uninitialized tensor (ops overwrite it). */
  static empty(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const s = checkShape('shape', shape);
    return new Tensor(runtime.allocF32(shapeSize(s)), s, true, opts);
  }

  /**
   * A tensor holding a copy of `data`.
   * @example
   * const x = Tensor.from([1, 2, 3, 4], [2, 2], { requiresGrad: true });
   */
  static from(data: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const numeric = Array.isArray(data) ? data.every((v) => typeof v === 'number')
      : ArrayBuffer.isView(data) && !(data instanceof DataView) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array);
    if (!numeric) throw new FliqsError('data', `got ${describe(data)}`, 'an array or typed array of numbers');
    const s = checkShape('shape', shape);
    if (typeof opts !== 'object' || opts === null) throw new FliqsError('options', `got ${describe(opts)}`, '{ requiresGrad? }');
    if (data.length !== shapeSize(s)) {
      throw new FliqsError('data', `has ${data.length} elements but shape [${s.join(', ')}] needs ${shapeSize(s)}`, 'data whose length is the product of the shape');
    }
    // A view of wasm memory would be detached if this allocation grows the memory: copy it out first.
    const src = ArrayBuffer.isView(data) && runtime.owns(data) ? Float32Array.from(data as ArrayLike<number>) : data;
    const t = Tensor.empty(s, opts);
    runtime.f32.set(src, t.storage.ptr >> 2);
    return t;
  }

  /** A view with another shape of the same storage (no copy). */
  static view(base: Tensor, shape: number[]): Tensor {
    return new Tensor(base.storage, shape, false);
  }

  /** The values: a fresh view of wasm memory, valid until the next allocation. */
  get data(): Float32Array {
    this.alive();
    return this.storage.array;
  }

  /** A copy of the values in a plain Float32Array. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** The single value of a one-element tensor (a loss). */
  item(): number {
    if (this.size !== 1) throw new FliqsError('tensor', `has shape [${this.shape.join(', ')}]`, 'a one-element tensor for item()');
    return this.data[0]!;
  }

  /** The gradient as a fresh view (null before backward). */
  get gradData(): Float32Array | null {
    return this.grad ? this.grad.array : null;
  }

  /** Marks this tensor as kept: scopes will not free it (use for parameters and results you hold on to). */
  keep(): this {
    this.kept = true;
    return this;
  }

  /** Shares storage, but carries no tape and no gradient. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape.slice(), false);
  }

  /** Sets the gradient to zero (keeps its buffer). */
  zeroGrad(): void {
    if (this.grad) this.grad.array.fill(0);
  }

  /** Frees storage (when owned) and gradient; later reads throw. Idempotent. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    if (this.owner) this.storage.free();
    if (this.grad) this.grad.free();
    this.grad = null;
    this.parents = [];
    this.backwardFn = null;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  /**
   * Reverse-mode differentiation from this tensor: seeds a gradient of 1 (this must have one element,
   * unless `seed` is given), then runs each node's backward rule in reverse topological order.
   * Gradients accumulate into `.grad`.
   * @example
   * const x = Tensor.from([3], [1], { requiresGrad: true });
   * const y = matmul(x, Tensor.from([2], [1, 1])); y.backward(); // x.gradData = [2]
   */
  backward(seed?: ArrayLike<number>): void {
    this.alive();
    if (!this.requiresGrad) throw new FliqsError('tensor', 'does not require a gradient (no input of it requires one, or it was computed under noGrad)', 'a tensor computed from tensors with requiresGrad');
    if (seed === undefined && this.size !== 1) {
      throw new FliqsError('seed', `missing for a tensor of shape [${this.shape.join(', ')}]`, 'a seed gradient, or a one-element (scalar loss) tensor');
    }
    if (seed !== undefined && seed.length !== this.size) {
      throw new FliqsError('seed', `has ${seed.length} elements, the tensor [${this.shape.join(', ')}] has ${this.size}`, 'one seed value per element');
    }
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    const stack: Array<[Tensor, number]> = [[this, 0]];
    seen.add(this);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [t, i] = top;
      if (i < t.parents.length) {
        top[1]++;
        const p = t.parents[i]!;
        if (p.requiresGrad && !seen.has(p)) { seen.add(p); stack.push([p, 0]); }
      } else {
        stack.pop();
        order.push(t);
      }
    }
    const g = new Float32Array(this.size);
    if (seed === undefined) g[0] = 1; else g.set(seed);
    accumulate(this, (dst) => runtime.f32.set(g, dst.ptr >> 2));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      if (t.grad && t.backwardFn) t.backwardFn();
    }
  }

  private alive(): void {
    if (this.freed) {
      throw new FliqsError('tensor', `of shape [${this.shape.join(', ')}] was freed (at the end of its scope)`, 'keep() tensors you use after their scope ends');
    }
  }
}

/** A gradient buffer for t; t owns it (t.free() releases it, so it lives exactly as long as t). */
function gradBuffer(t: Tensor): WasmF32 {
  return runtime.allocF32(t.size);
}

/**
 * Adds a gradient into t.grad. `write(dst)` must overwrite dst with the contribution; it writes straight
 * into a new t.grad the first time, into a temporary that is added and released afterwards.
 */
export function accumulate(t: Tensor, write: (dst: WasmF32) => void): void {
  if (!t.requiresGrad) return;
  if (!t.grad) {
    const g = gradBuffer(t);
    t.grad = g;
    write(g);
    return;
  }
  const tmp = runtime.allocF32(t.size);
  try {
    write(tmp);
    add(t.grad, tmp, t.grad);
  } finally {
    tmp.free();
  }
}

/**
 * Adds a gradient into t.grad with a kernel that can accumulate itself (a GEMM's beta):
 * `write(dst, beta)` computes dst = contribution + beta·dst.
 */
export function accumulateBeta(t: Tensor, write: (dst: WasmF32, beta: 0 | 1) => void): void {
  if (!t.requiresGrad) return;
  if (!t.grad) {
    t.grad = gradBuffer(t);
    write(t.grad, 0);
  } else {
    write(t.grad, 1);
  }
}

/**
 * Records an op's output on the tape: when gradients are enabled and some input requires one, the output
 * requires one too and remembers its inputs and backward rule.
 */
export function record(out: Tensor, parents: Tensor[], backward: () => void): Tensor {
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = parents;
    out.backwardFn = backward;
  }
  return out;
}

/** True unless inside noGrad(). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn without recording the tape (evaluation, weight updates).
 * @example
 * const logits = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs fn (one training step) and then frees every tensor, gradient and saved buffer allocated inside
 * it, except kept tensors (parameters, their gradients, anything keep()-ed). A Tensor (or an array of
 * Tensors) returned by fn survives and belongs to the enclosing scope. fn must be synchronous.
 * @example
 * const loss = stepScope(() => {
 *   const l = crossEntropy(model.forward(x), labels);
 *   l.backward();
 *   return l.item();
 * }); // memory in use is back where it was
 */
export function stepScope<T>(fn: () => T): T {
  const mine: Freeable[] = [];
  scopes.push(mine);
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) throw new FliqsError('fn', 'returned a Promise', 'a synchronous function (await outside the scope)');
    return result;
  } finally {
    scopes.pop();
    const out = new Set<unknown>(Array.isArray(result) ? result : [result]);
    const parent = scopes[scopes.length - 1];
    for (const x of mine) {
      if (out.has(x)) { parent?.push(x); continue; }
      if (x instanceof Tensor && x.kept) continue;
      x.free();
    }
  }
}

/** Adds the buffer `g` (t.size elements) into t.grad, copying it the first time. */
export function accumulateAdd(t: Tensor, g: WasmF32): void {
  if (!t.requiresGrad) return;
  if (!t.grad) {
    t.grad = gradBuffer(t);
    runtime.f32.copyWithin(t.grad.ptr >> 2, g.ptr >> 2, (g.ptr >> 2) + t.size);
  } else {
    add(t.grad, g, t.grad);
  }
}

/** t.grad, allocated zero-filled when missing (for rules that accumulate piecewise). */
export function gradOf(t: Tensor): WasmF32 {
  if (!t.grad) {
    t.grad = gradBuffer(t);
    t.grad.array.fill(0);
  }
  return t.grad;
}
