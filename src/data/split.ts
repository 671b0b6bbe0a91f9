// Seeded, stratified orderings and the split rules built on them (browser-safe).
//
// stratifiedOrder interleaves the classes in proportion to their sizes, each class shuffled, so any
// prefix of the order is class-balanced: class k (share q_k) is within 1 + (K−2)·q_k examples of its
// proportional share, under 2 for ten near-balanced classes (MNIST: q_k ≤ 0.113). Every split below is a
// prefix or a suffix of such an order:
//   holdOut(labels, V, seed): validation = the first V of stratifiedOrder(labels, seed); train = the rest.
//   limit n: the first n of a split's order (so a quick run is class-balanced too).

import { Rng } from '../core/random.js';
import { FliqsError, describe, requireInt } from '../core/errors.js';

/**
 * A permutation of 0..labels.length-1: each class shuffled by `Rng(seed)`, classes interleaved
 * by rank (example r of a class of size m gets the key (r + u)/m, u uniform), ties broken by index.
 * @example
 * stratifiedOrder(new Int32Array([0, 0, 1, 1]), 2, 0); // e.g. Uint32Array [1, 3, 0, 2]
 */
export function stratifiedOrder(labels: ArrayLike<number>, classes: number, seed: number): Uint32Array {
  checkLabels(labels, requireInt('classes', classes, 1, 2 ** 24));
  const rng = new Rng(seed);
  const n = labels.length;
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]!]!.push(i);
  const keys = new Float64Array(n);
  for (const members of byClass) {
    rng.shuffle(members);
    const m = members.length;
    for (let r = 0; r < m; r++) keys[members[r]!] = (r + rng.uniform()) / m;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => keys[a]! - keys[b]! || a - b);
}

/**
 * Holds out `validation` examples, stratified and seeded: the first `validation` of
 * stratifiedOrder(labels, seed) are validation, the rest train (both in that order).
 * @example
 * const { train, validation } = holdOut(new Int32Array([0, 1, 0, 1]), 2, 2, 0);
 * // train.length = 2, validation.length = 2, one of each class in each
 */
export function holdOut(labels: ArrayLike<number>, classes: number, validation: number, seed: number):
  { train: Uint32Array; validation: Uint32Array } {
  checkLabels(labels, requireInt('classes', classes, 1, 2 ** 24));
  requireInt('validation', validation, 0, labels.length);
  const order = stratifiedOrder(labels, classes, seed);
  return { validation: order.subarray(0, validation), train: order.subarray(validation) };
}

/** Throws unless labels is an array of integers in [0, classes). */
function checkLabels(labels: unknown, classes: number): void {
  if (!(Array.isArray(labels) || (ArrayBuffer.isView(labels) && !(labels instanceof DataView)))) {
    throw new FliqsError('labels', `got ${describe(labels)}`, 'an array of class indices');
  }
  const a = labels as ArrayLike<unknown>;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= classes) {
      throw new FliqsError(`labels[${i}]`, `got ${describe(v)}`, `an integer from 0 to ${classes - 1}`);
    }
  }
}

/** Maps an index list through another: out[i] = base[idx[i]]. */
export function compose(base: ArrayLike<number>, idx: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = base[idx[i]!]!;
  return out;
}

/** The first `limit` entries (all when limit is undefined). */
export function take(idx: Uint32Array, limit: number | undefined): Uint32Array {
  if (limit === undefined) return idx;
  requireInt('limit', limit, 1);
  return idx.subarray(0, Math.min(limit, idx.length));
}
