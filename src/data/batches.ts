// Seeded mini-batches over a Dataset (browser-safe): a shuffled order per epoch, one reused pair of
// buffers, and optional augmentation (random crop with padding, horizontal flip).

import { FliqsError, describe, requireFinite, requireInt } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { checkDataset, shapeSize, type Dataset } from './dataset.js';

export interface Augment {
  /** Random-crop padding in pixels: shift by dy, dx uniform in [−pad, pad], filling with padValue. 0 = off. */
  pad?: number;
  /** Flip horizontally with probability 1/2 (off by default: digits are not mirror-symmetric). */
  flip?: boolean;
  /** Fill value of the padding; default the dataset's normalized background, −mean/std. */
  padValue?: number;
}

export interface BatchOptions {
  /** Shuffle each epoch with the given Rng (default true); false keeps dataset order. */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  augment?: Augment;
}

export interface Batch {
  /** size×H×W×C. The same buffer is refilled by the next batch: copy it to keep it. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
}

/**
 * One epoch of batches. The Rng drives the shuffle and the augmentation, so the same seed gives
 * the same batches; each example appears exactly once per epoch (or not at all in a dropped tail).
 * The yielded arrays are reused: the last, smaller batch gets subarray views of the same buffers.
 * @example
 * const ds = syntheticDataset({ n: 10, shape: [4, 4, 1], classes: 2 });
 * for (const b of batches(ds, 4, new Rng(0))) console.log(b.size); // 4, 4, 2
 */
export function* batches(ds: Dataset, batchSize: number, rng: Rng, options: BatchOptions = {}): Generator<Batch> {
  checkDataset('ds', ds);
  requireInt('batchSize', batchSize, 1);
  if (!(rng instanceof Rng)) throw new FliqsError('rng', `got ${describe(rng)}`, 'an Rng');
  if (typeof options !== 'object' || options === null) throw new FliqsError('options', `got ${describe(options)}`, '{ shuffle?, dropLast?, augment? }');
  const { shuffle = true, dropLast = false, augment } = options;
  if (typeof shuffle !== 'boolean') throw new FliqsError('shuffle', `got ${describe(shuffle)}`, 'true or false');
  if (typeof dropLast !== 'boolean') throw new FliqsError('dropLast', `got ${describe(dropLast)}`, 'true or false');
  if (augment !== undefined && (typeof augment !== 'object' || augment === null)) {
    throw new FliqsError('augment', `got ${describe(augment)}`, '{ pad?, flip?, padValue? }');
  }
  const [h, w, c] = ds.shape;
  const pad = augment?.pad ?? 0;
  requireInt('augment.pad', pad, 0, Math.max(h, w) - 1);
  const flip = augment?.flip ?? false;
  if (typeof flip !== 'boolean') throw new FliqsError('augment.flip', `got ${describe(flip)}`, 'true or false');
  const fill = augment?.padValue ?? -ds.normalization.mean / ds.normalization.std;
  if (augment?.padValue !== undefined) requireFinite('augment.padValue', fill);
  const augmenting = pad > 0 || flip;

  const n = ds.labels.length;
  const size = shapeSize(ds.shape);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (shuffle) rng.shuffle(order);

  const images = new Float32Array(Math.min(batchSize, n) * size);
  const labels = new Int32Array(Math.min(batchSize, n));
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    if (m < batchSize && dropLast) return;
    for (let j = 0; j < m; j++) {
      const src = order[start + j]!;
      labels[j] = ds.labels[src]!;
      if (augmenting) {
        const dy = pad ? rng.int(2 * pad + 1) - pad : 0;
        const dx = pad ? rng.int(2 * pad + 1) - pad : 0;
        const mirror = flip && rng.uniform() < 0.5;
        shiftFlipAt(ds.images, src * size, images, j * size, h, w, c, dy, dx, mirror, fill);
      } else {
        images.set(ds.images.subarray(src * size, (src + 1) * size), j * size);
      }
    }
    yield m === labels.length
      ? { images, labels, size: m }
      : { images: images.subarray(0, m * size), labels: labels.subarray(0, m), size: m };
  }
}

/**
 * out(y, x) = in(y + dy, x' + dx) with x' = W−1−x when mirrored, `fill` outside the image.
 * This is a crop of the image padded by max(|dy|, |dx|) on every side.
 */
export function shiftFlip(src: Float32Array, so: number, dst: Float32Array, d: number,
  h: number, w: number, c: number, dy: number, dx: number, mirror: boolean, fill: number): void {
  if (!(src instanceof Float32Array)) throw new FliqsError('src', `got ${describe(src)}`, 'a Float32Array');
  if (!(dst instanceof Float32Array)) throw new FliqsError('dst', `got ${describe(dst)}`, 'a Float32Array');
  requireInt('h', h, 1, 2 ** 24); requireInt('w', w, 1, 2 ** 24); requireInt('c', c, 1, 2 ** 24);
  const size = h * w * c;
  requireInt('so', so, 0, src.length - size);
  requireInt('d', d, 0, dst.length - size);
  requireInt('dy', dy, -(2 ** 31), 2 ** 31); requireInt('dx', dx, -(2 ** 31), 2 ** 31);
  if (typeof mirror !== 'boolean') throw new FliqsError('mirror', `got ${describe(mirror)}`, 'true or false');
  requireFinite('fill', fill);
  shiftFlipAt(src, so, dst, d, h, w, c, dy, dx, mirror, fill);
}

/** shiftFlip on arguments batches() has already checked. */
function shiftFlipAt(src: Float32Array, so: number, dst: Float32Array, d: number,
  h: number, w: number, c: number, dy: number, dx: number, mirror: boolean, fill: number): void {
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    for (let x = 0; x < w; x++) {
      const sx = (mirror ? w - 1 - x : x) + dx;
      const o = d + (y * w + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
        for (let k = 0; k < c; k++) dst[o + k] = fill;
      } else {
        const s = so + (sy * w + sx) * c;
        for (let k = 0; k < c; k++) dst[o + k] = src[s + k]!;
      }
    }
  }
}

/** Number of batches `batches` yields for n examples. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  requireInt('n', n, 0); requireInt('batchSize', batchSize, 1);
  if (typeof dropLast !== 'boolean') throw new FliqsError('dropLast', `got ${describe(dropLast)}`, 'true or false');
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}
