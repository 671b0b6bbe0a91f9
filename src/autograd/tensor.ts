// Tensor and tape: wasm-resident f32 storage, reverse-mode backward() in topological order, noGrad()
// and step scopes that free every temporary (storage, gradients, saved buffers) created inside them.

import { FliqsError, describe, requireObject } from '../core/errors.js';
import { runtime, WasmF32 } from '../core/runtime.js';
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

/** t, checked to be a Tensor: `${op} ${name}` names it in the error. */
export function requireTensor(op: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw new FliqsError(`${op} ${name}`, `got ${typeof t}`, 'a Tensor');
  return t;
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
    if (!(storage instanceof WasmF32)) throw new FliqsError('Tensor storage', `got ${describe(storage)}`, 'a WasmF32 (use Tensor.from / Tensor.empty)');
    checkShape('Tensor shape', shape);
    if (shapeSize(shape) > storage.length) {
      throw new FliqsError('Tensor shape', `[${shape.join(', ')}] holds ${shapeSize(shape)} elements, storage ${storage.length}`, 'a shape that fits its storage');
    }
    if (typeof owner !== 'boolean') throw new FliqsError('Tensor owner', `got ${describe(owner)}`, 'true or false');
    requireObject('Tensor opts', opts, '{ requiresGrad? }');
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
    const t = Tensor.empty(shape, opts);
    t.storage.array.fill(0);
    return t;
  }

  /** An uninitialized tensor (ops overwrite it). */
  static empty(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const s = checkShape('shape', shape);
    requireObject('Tensor opts', opts, '{ requiresGrad? }'); // before the allocation, which nothing would free
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
    requireObject('Tensor opts', opts, '{ requiresGrad? }');
    if (data.length !== shapeSize(s)) {
      throw new FliqsError('data', `has ${data.length} elements but shape [${s.join(', ')}] needs ${shapeSize(s)}`, 'data whose length is the product of the shape');
    }
    // A view of wasm memory would be detached if this allocation grows the memory: copy it out first.
    const src = ArrayBuffer.isView(data) && runtime.owns(data) ? Float32Array.from(data as ArrayLike<number>) : data;
    const t = Tensor.empty(s, opts);
    runtime.f32.set(src, t.storage.ptr >>> 2);
    return t;
  }

  /** A view with another shape of the same storage (no copy). */
  static view(base: Tensor, shape: number[]): Tensor {
    requireTensor('Tensor.view', 'base', base);
    if (shapeSize(checkShape('Tensor.view shape', shape)) !== base.size) {
      throw new FliqsError('Tensor.view shape', `[${shape.join(', ')}] for a base of ${base.size} elements`, 'a shape with the same number of elements');
    }
    return new Tensor(base.storage, shape, false);
  }

  /** A 1-D view of the first n elements of base (no copy): writes through it change base. */
  static prefix(base: Tensor, n: number): Tensor {
    requireTensor('Tensor.prefix', 'base', base);
    if (!Number.isInteger(n) || n < 1 || n > base.size) throw new FliqsError('Tensor.prefix n', `got ${describe(n)} for a base of ${base.size} elements`, `an integer from 1 to ${base.size}`);
    const s = base.storage;
    return new Tensor(new WasmF32(s.runtime, s.ptr, n), [n], false);
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
   *
   * Leaf tensors (parameters, inputs: no backward rule) accumulate into `.grad` across calls, as in
   * PyTorch; zero them between steps. Intermediate tensors (op outputs on this graph, this one included)
   * have their `.grad` cleared at the start of each call, so a second backward() through a shared
   * subgraph propagates only its own gradient, never what the previous call left on the intermediates.
   * An intermediate's `.grad` stays readable after the call until the next backward() through it.
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
    for (const t of order) {
      if (t.backwardFn && t.grad) { t.grad.free(); t.grad = null; }
    }
    const g = new Float32Array(this.size);
    if (seed === undefined) g[0] = 1; else g.set(seed);
    accumulate(this, (dst) => runtime.f32.set(g, dst.ptr >>> 2));
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
 * The one way a gradient reaches t.grad: every backward rule, and backward()'s seed, adds its
 * contribution through here (a no-op unless t requires a gradient). `write(dst, beta)` must leave
 * contribution + beta·dst in dst. The first contribution goes straight into a new t.grad with beta 0
 * (dst uninitialized). Later ones go into t.grad with beta 1 when `inPlace` (a kernel that accumulates
 * itself, like a GEMM's beta); otherwise into a temporary with beta 0, which is added to t.grad and freed.
 * @example
 * accumulate(x, (dx) => ew.reluGrad(x.storage, y.grad!, dx)); // overwrites dx
 * accumulate(w, (dw, beta) => gemm('tn', K, N, M, 1, x.storage, K, y.grad!, N, beta, dw, N), true);
 */
export function accumulate(t: Tensor, write: (dst: WasmF32, beta: 0 | 1) => void, inPlace = false): void {
  if (!t.requiresGrad) return;
  if (!t.grad) {
    t.grad = gradBuffer(t);
    write(t.grad, 0);
    return;
  }
  if (inPlace) {
    write(t.grad, 1);
    return;
  }
  const tmp = runtime.allocF32(t.size);
  try {
    write(tmp, 0);
    add(t.grad, tmp, t.grad);
  } finally {
    tmp.free();
  }
}

/** accumulate() of a ready buffer `g` of t.size values: copied into a new t.grad, added to an existing one. */
export function accumulateAdd(t: Tensor, g: WasmF32): void {
  accumulate(t, (dst, beta) => {
    if (beta) add(dst, g, dst);
    else runtime.f32.copyWithin(dst.ptr >>> 2, g.ptr >>> 2, (g.ptr >>> 2) + t.size);
  }, true);
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
  if (typeof fn !== 'function') throw new FliqsError('noGrad fn', `got ${describe(fn)}`, 'a function');
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
  if (typeof fn !== 'function') throw new FliqsError('stepScope fn', `got ${describe(fn)}`, 'a function');
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

/** t.grad, allocated zero-filled when missing (an optimizer holds a parameter's gradient buffer from the start). */
export function gradOf(t: Tensor): WasmF32 {
  if (!t.grad) {
    t.grad = gradBuffer(t);
    t.grad.array.fill(0);
  }
  return t.grad;
}
