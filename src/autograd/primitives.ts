// The differentiable primitives, each forward right beside its backward rule: broadcastTo and the
// broadcasting add / sub / mul, scale, exp, log, sum and mean over an axis, the views reshape and
// flatten, transpose, slice and concat. New ops are composed from these (composed.ts) with no new
// kernel and no new backward rule. add and mul (once broadcast), scale and exp run on the SIMD kernels
// through src/kernels; the rest are plain loops over the storage (the fused ops in ops.ts are the fast
// paths).

import { FliqsError, describe } from '../core/errors.js';
import type { WasmF32 } from '../core/runtime.js';
import * as ew from '../kernels/elementwise.js';
import { Tensor, accumulate, accumulateAdd, checkShape, record, requireTensor, shapeSize } from './tensor.js';

const shp = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
/** The gradient flowing into an op's output (set before its rule runs). */
const dy = (t: Tensor): WasmF32 => t.grad!;
const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** The axis as an index in [0, rank); negative counts from the end (-1 = last). */
function axisOf(op: string, x: Tensor, axis: unknown): number {
  const r = x.shape.length;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new FliqsError(`${op} axis`, `got ${describe(axis)} for x ${shp(x.shape)}`, `an integer from ${-r} to ${r - 1}`);
  }
  return axis < 0 ? axis + r : axis;
}

/** [outer, K, inner]: the sizes before, at and after `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [shapeSize(shape.slice(0, axis)), shape[axis]!, shapeSize(shape.slice(axis + 1))];
}

/** For each row-major index of `shape`, the flat offset Σ idx[d]·stride[d] (+ base). */
function offsets(shape: readonly number[], stride: readonly number[], base = 0): Int32Array {
  const n = shapeSize(shape), out = new Int32Array(n), idx = new Array<number>(shape.length).fill(0);
  let at = base;
  for (let i = 0; i < n; i++) {
    out[i] = at;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = idx[d]! + 1; at += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      at -= stride[d]! * shape[d]!; idx[d] = 0;
    }
  }
  return out;
}

const stridesOf = (shape: readonly number[]): number[] => shape.map((_, d) => shapeSize(shape.slice(d + 1)));

/** y[i] = x[from[i]], y of `shape`. Backward scatter-adds dy back (from repeats an index when broadcasting). */
function gather(x: Tensor, shape: number[], from: Int32Array): Tensor {
  const y = Tensor.empty(shape);
  const xs = x.data, ys = y.data;
  for (let i = 0; i < y.size; i++) ys[i] = xs[from[i]!]!;
  return record(y, [x], () => accumulate(x, (dx) => {
    const g = dy(y).array, d = new Float64Array(x.size);
    for (let i = 0; i < y.size; i++) d[from[i]!] = d[from[i]!]! + g[i]!;
    dx.array.set(d);
  }));
}

// ---------------------------------------------------------------------------------------------
// Broadcasting and elementwise

/** The NumPy broadcast of two shapes (aligned at the last dim; each pair equal or one of them 1). */
function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new FliqsError(op, `shapes ${shp(a)} and ${shp(b)} do not broadcast`, 'two shapes whose trailing dims are equal or 1 (NumPy broadcasting)');
    }
    out.push(Math.max(da, db));
  }
  return out;
}

/**
 * x repeated along its size-1 (and missing leading) dims to `shape`, NumPy style; backward sums the
 * gradient back over the repeats. Returns x itself when it already has that shape.
 * @example
 * const b = broadcastTo(Tensor.from([1, 2], [2]), [3, 2]); // [[1, 2], [1, 2], [1, 2]]
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('broadcastTo', 'x', x);
  const s = checkShape('broadcastTo shape', shape);
  if (same(x.shape, s)) return x;
  if (!same(broadcastShape('broadcastTo', x.shape, s), s)) {
    throw new FliqsError('broadcastTo', `x ${shp(x.shape)} cannot be repeated to ${shp(s)}`, 'a shape x broadcasts to (its dims equal or 1, aligned at the last dim)');
  }
  const off = s.length - x.shape.length, xst = stridesOf(x.shape);
  const stride = s.map((_, d) => (d < off || x.shape[d - off] === 1 ? 0 : xst[d - off]!));
  return gather(x, s, offsets(s, stride));
}

/** Both operands broadcast to their common shape. */
function both(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  requireTensor(op, 'a', a); requireTensor(op, 'b', b);
  const s = broadcastShape(op, a.shape, b.shape);
  return [broadcastTo(a, s), broadcastTo(b, s)];
}

/**
 * a + b, broadcasting (a residual connection, a bias, a constant: `add(x, Tensor.from([1], [1]))`).
 * @example
 * const y = add(block(x), x);
 */
export function add(a: Tensor, b: Tensor): Tensor {
  [a, b] = both('add', a, b);
  const y = Tensor.empty(a.shape);
  ew.add(a.storage, b.storage, y.storage);
  return record(y, [a, b], () => { accumulateAdd(a, dy(y)); accumulateAdd(b, dy(y)); });
}

/**
 * a − b, broadcasting.
 * @example
 * const d = sub(pred, target);
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  [a, b] = both('sub', a, b);
  const y = Tensor.empty(a.shape);
  const av = a.data, bv = b.data, ys = y.data;
  for (let i = 0; i < y.size; i++) ys[i] = av[i]! - bv[i]!;
  return record(y, [a, b], () => {
    accumulateAdd(a, dy(y));
    accumulate(b, (db) => ew.scale(dy(y), -1, db));
  });
}

/**
 * a ⊙ b (elementwise product), broadcasting.
 * @example
 * const sq = mul(d, d);
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  [a, b] = both('mul', a, b);
  const y = Tensor.empty(a.shape);
  ew.mul(a.storage, b.storage, y.storage);
  return record(y, [a, b], () => {
    accumulate(a, (da) => ew.mul(dy(y), b.storage, da));
    accumulate(b, (db) => ew.mul(dy(y), a.storage, db));
  });
}

/**
 * s·x for a finite number s.
 * @example
 * const neg = scale(x, -1);
 */
export function scale(x: Tensor, s: number): Tensor {
  requireTensor('scale', 'x', x);
  if (typeof s !== 'number' || !Number.isFinite(s)) throw new FliqsError('scale s', `got ${describe(s)}`, 'a finite number');
  const y = Tensor.empty(x.shape);
  ew.scale(x.storage, s, y.storage);
  return record(y, [x], () => accumulate(x, (dx) => ew.scale(dy(y), s, dx)));
}

/**
 * eˣ (the SIMD exp, within 1 ulp of Math.exp); its derivative is its own output.
 * @example
 * const e = exp(x);
 */
export function exp(x: Tensor): Tensor {
  requireTensor('exp', 'x', x);
  const y = Tensor.empty(x.shape);
  ew.exp(x.storage, y.storage);
  return record(y, [x], () => accumulate(x, (dx) => ew.mul(dy(y), y.storage, dx)));
}

/**
 * Natural log (Math.log rounded to f32: −Infinity at 0, NaN below); derivative 1/x.
 * @example
 * const l = log(p);
 */
export function log(x: Tensor): Tensor {
  requireTensor('log', 'x', x);
  const y = Tensor.empty(x.shape);
  const xs = x.data, ys = y.data;
  for (let i = 0; i < y.size; i++) ys[i] = Math.log(xs[i]!);
  return record(y, [x], () => accumulate(x, (dx) => {
    const g = dy(y).array, v = x.data, d = dx.array;
    for (let i = 0; i < x.size; i++) d[i] = g[i]! / v[i]!;
  }));
}

// ---------------------------------------------------------------------------------------------
// Reductions

/**
 * Σ over `axis` (negative counts from the end), the axis dropped unless keepDim; with no axis, the
 * sum of everything as a [1] tensor. Sums in f64. A result with no dims left is [1].
 * @example
 * const rowSums = sum(x, -1, true); // [B, 1]
 */
export function sum(x: Tensor, axis?: number, keepDim = false): Tensor {
  requireTensor('sum', 'x', x);
  const a = axis === undefined ? -1 : axisOf('sum', x, axis);
  const [outer, K, inner] = a < 0 ? [1, x.size, 1] : around(x.shape, a);
  const kept = a < 0 ? [] : x.shape.map((d, i) => (i === a ? 1 : d));
  const shape = a < 0 ? [1] : keepDim ? kept : kept.filter((_, i) => i !== a);
  const y = Tensor.empty(shape.length > 0 ? shape : [1]);
  const xs = x.data, ys = y.data;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += xs[(o * K + k) * inner + j]!;
      ys[o * inner + j] = s;
    }
  }
  return record(y, [x], () => accumulate(x, (dx) => {
    const g = dy(y).array, d = dx.array;
    for (let o = 0; o < outer; o++) for (let k = 0; k < K; k++) for (let j = 0; j < inner; j++) d[(o * K + k) * inner + j] = g[o * inner + j]!;
  }));
}

/**
 * The mean over `axis` (or of everything, as [1]): sum scaled by 1/n, composed, with no rule of its own.
 * @example
 * const m = mean(x, 0); // per-column means
 */
export function mean(x: Tensor, axis?: number, keepDim = false): Tensor {
  const s = sum(x, axis, keepDim);
  return scale(s, s.size / x.size);
}

// ---------------------------------------------------------------------------------------------
// Views and data movement

/**
 * The same values with another shape (a view, no copy); one dim may be -1.
 * @example
 * const y = reshape(x, [-1, 10]);
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('reshape', 'x', x);
  if (!Array.isArray(shape) || shape.some((d) => d !== -1 && !(Number.isInteger(d) && d >= 1))) {
    throw new FliqsError('reshape shape', `got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : describe(shape)}`, 'an array of positive integers and at most one -1');
  }
  const free = shape.indexOf(-1);
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const s = shape.map((d) => (d === -1 ? x.size / known : d));
  if (shape.filter((d) => d === -1).length > 1 || (free >= 0 && !Number.isInteger(s[free]))) {
    throw new FliqsError('reshape', `cannot view x ${shp(x.shape)} as [${shape.join(', ')}]`, 'a shape with at most one -1 and the same number of elements');
  }
  checkShape('reshape shape', s);
  if (shapeSize(s) !== x.size) {
    throw new FliqsError('reshape', `x ${shp(x.shape)} has ${x.size} elements, [${shape.join(', ')}] holds ${shapeSize(s)}`, 'a shape with the same number of elements');
  }
  const y = Tensor.view(x, s);
  return record(y, [x], () => accumulateAdd(x, dy(y)));
}

/** [N, ...] → [N, rest] (a view). @example const y = flatten(x); */
export function flatten(x: Tensor): Tensor {
  requireTensor('flatten', 'x', x);
  return reshape(x, [x.shape[0]!, -1]);
}

/**
 * The dims permuted: output dim d is input dim perm[d] (default: reversed, so a matrix is transposed).
 * A copy.
 * @example
 * const xt = transpose(x);              // [M, N] → [N, M]
 * const y = transpose(x, [0, 2, 1]);    // [B, T, D] → [B, D, T]
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  requireTensor('transpose', 'x', x);
  const r = x.shape.length, p = perm ?? x.shape.map((_, d) => r - 1 - d);
  if (!Array.isArray(p) || p.length !== r || !same([...p].sort((u, v) => u - v), [...Array(r).keys()])) {
    throw new FliqsError('transpose perm', `got ${Array.isArray(p) ? shp(p) : describe(p)} for x ${shp(x.shape)}`, `a permutation of 0..${r - 1}`);
  }
  const xst = stridesOf(x.shape);
  return gather(x, p.map((d) => x.shape[d]!), offsets(p.map((d) => x.shape[d]!), p.map((d) => xst[d]!)));
}

/**
 * Elements start ≤ i < end along `axis` (negative axis counts from the end). A copy.
 * @example
 * const firstTwo = slice(x, 1, 0, 2); // [B, 5] → [B, 2]
 */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  requireTensor('slice', 'x', x);
  const a = axisOf('slice', x, axis);
  const [outer, K, inner] = around(x.shape, a);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > K || start >= end) {
    throw new FliqsError('slice', `start ${start}, end ${end} along axis ${a} of x ${shp(x.shape)}`, `integers 0 ≤ start < end ≤ ${K}`);
  }
  const L = (end - start) * inner;
  const y = Tensor.empty(x.shape.map((d, i) => (i === a ? end - start : d)));
  const xs = x.data, ys = y.data;
  for (let o = 0; o < outer; o++) ys.set(xs.subarray((o * K + start) * inner, (o * K + start) * inner + L), o * L);
  return record(y, [x], () => accumulate(x, (dx) => {
    const g = dy(y).array, d = dx.array;
    d.fill(0);
    for (let o = 0; o < outer; o++) d.set(g.subarray(o * L, o * L + L), (o * K + start) * inner);
  }));
}

/**
 * Tensors joined along `axis` (default 0); their other dims must agree. A copy.
 * @example
 * const y = concat([a, b], -1); // [B, 3] and [B, 4] → [B, 7]
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new FliqsError('concat xs', `got ${describe(xs)}`, 'a non-empty array of Tensors');
  const ts: Tensor[] = [];
  for (let i = 0; i < xs.length; i++) ts.push(requireTensor('concat', `xs[${i}]`, (xs as unknown[])[i]));
  const first = ts[0]!, a = axisOf('concat', first, axis);
  for (const [i, t] of ts.entries()) {
    if (t.shape.length !== first.shape.length || t.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new FliqsError('concat', `xs[${i}] ${shp(t.shape)} does not match xs[0] ${shp(first.shape)}`, `shapes equal except along axis ${a}`);
    }
  }
  const [outer, , inner] = around(first.shape, a);
  const lens = ts.map((t) => t.shape[a]! * inner), row = lens.reduce((u, v) => u + v, 0);
  const starts = lens.map((_, k) => lens.slice(0, k).reduce((u, v) => u + v, 0));
  const y = Tensor.empty(first.shape.map((d, j) => (j === a ? row / inner : d)));
  const ys = y.data;
  ts.forEach((t, k) => {
    const s = t.data, L = lens[k]!;
    for (let o = 0; o < outer; o++) ys.set(s.subarray(o * L, o * L + L), o * row + starts[k]!);
  });
  return record(y, ts, () => ts.forEach((t, k) => accumulate(t, (dt) => {
    const g = dy(y).array, d = dt.array, L = lens[k]!;
    for (let o = 0; o < outer; o++) d.set(g.subarray(o * row + starts[k]!, o * row + starts[k]! + L), o * L);
  })));
}
