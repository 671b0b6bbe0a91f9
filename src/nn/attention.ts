// Multi-head self-attention over [B, T, D]: four Linear projections (q, k, v, out — each a searched
// QuantLayer) around the fused attention op (softmax(q·kᵀ/√Dh)·v per head).

import { FliqsError, describe, requireInt } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import { attention } from '../autograd/ops.js';
import type { Tensor } from '../autograd/tensor.js';
import { Module } from './module.js';
import { Linear } from './layers.js';
import type { QuantizerOptions } from './quant.js';

export interface AttentionOptions {
  bias?: boolean;
  rng?: Rng;
  quant?: QuantizerOptions;
}

/**
 * y = out(attention(q(x), k(x), v(x))) with `numHeads` heads of embedDim/numHeads channels.
 * @example
 * const mhsa = new MultiHeadSelfAttention(64, 4);
 * const y = mhsa.forward(x); // x, y: [B, T, 64]
 */
export class MultiHeadSelfAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;

  constructor(readonly embedDim: number, readonly numHeads: number, opts: AttentionOptions = {}) {
    super();
    requireInt('embedDim', embedDim, 1);
    requireInt('numHeads', numHeads, 1);
    if (typeof opts !== 'object' || opts === null) throw new FliqsError('options', `got ${describe(opts)}`, '{ bias?, rng?, quant? }');
    if (embedDim % numHeads !== 0) throw new FliqsError('numHeads', `${numHeads} does not divide embedDim ${embedDim}`, 'a divisor of embedDim');
    this.q = new Linear(embedDim, embedDim, opts);
    this.k = new Linear(embedDim, embedDim, opts);
    this.v = new Linear(embedDim, embedDim, opts);
    this.out = new Linear(embedDim, embedDim, opts);
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 3 || x.shape[2] !== this.embedDim) {
      throw new FliqsError('MultiHeadSelfAttention input', `has shape [${x.shape.join(', ')}]`, `[B, T, ${this.embedDim}]`);
    }
    return this.out.forward(attention(this.q.forward(x), this.k.forward(x), this.v.forward(x), this.numHeads));
  }
}
