// The stream of validation batches behind the FLIQS quality signal: one batch per search step, cycling
// through the held-out split in a seeded shuffled order (reshuffled every pass), resumable exactly.
// Browser-safe.

import { FliqsError, requireInt } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { checkDataset, shapeSize, type Dataset } from '../data/dataset.js';

/** Where a stream is: the Rng state at the start of the current pass and the next position in it. */
export interface ValidationStreamState {
  passRngState: number[];
  pos: number;
  passes: number;
}

/**
 * Cycles through a dataset in batches of `batchSize` (or the whole set if smaller); every pass is a
 * fresh seeded shuffle and the incomplete tail of a pass is skipped, so every batch has the same size.
 * @example
 * const s = new ValidationStream(data.validation, 64, 1);
 * const b = s.next(); // { images, labels, size: 64 }; the buffers are reused by the next call
 */
export class ValidationStream {
  readonly batchSize: number;
  private readonly rng: Rng;
  private order: Uint32Array;
  private passRngState: number[];
  private pos = 0;
  private passes = 0;
  private readonly images: Float32Array;
  private readonly labels: Int32Array;

  constructor(readonly ds: Dataset, batchSize: number, seed: number) {
    checkDataset('validation', ds);
    const n = ds.labels.length;
    if (n === 0) throw new FliqsError('validation', 'is empty', 'a held-out split with at least one example (the FLIQS quality signal)');
    this.batchSize = Math.min(requireInt('validation batch', batchSize, 1), n);
    this.rng = new Rng(requireInt('seed', seed, 0, 2 ** 32 - 1));
    this.order = new Uint32Array(n);
    this.passRngState = this.rng.getState();
    this.shuffle();
    this.images = new Float32Array(this.batchSize * shapeSize(ds.shape));
    this.labels = new Int32Array(this.batchSize);
  }

  private shuffle(): void {
    this.passRngState = this.rng.getState();
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    this.rng.shuffle(this.order);
  }

  /** The next batch (its arrays are overwritten by the following call). */
  next(): { images: Float32Array; labels: Int32Array; size: number } {
    if (this.pos + this.batchSize > this.order.length) {
      this.shuffle();
      this.pos = 0;
      this.passes++;
    }
    const size = shapeSize(this.ds.shape);
    for (let j = 0; j < this.batchSize; j++) {
      const src = this.order[this.pos + j]!;
      this.labels[j] = this.ds.labels[src]!;
      this.images.set(this.ds.images.subarray(src * size, (src + 1) * size), j * size);
    }
    this.pos += this.batchSize;
    return { images: this.images, labels: this.labels, size: this.batchSize };
  }

  getState(): ValidationStreamState {
    return { passRngState: [...this.passRngState], pos: this.pos, passes: this.passes };
  }

  /** Restores a getState() of a stream over the same dataset, batch size and seed. */
  setState(s: ValidationStreamState): void {
    if (typeof s !== 'object' || s === null || !Array.isArray(s.passRngState)) {
      throw new FliqsError('validation stream state', `got ${JSON.stringify(s)}`, 'the object returned by getState()');
    }
    this.rng.setState(s.passRngState);
    this.shuffle();
    this.pos = requireInt('validation stream pos', s.pos, 0, this.order.length);
    this.passes = requireInt('validation stream passes', s.passes, 0);
  }
}
