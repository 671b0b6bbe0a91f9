// Your data (issue 15, item 2): datasetFromArrays (splits, normalization, errors) and --data PATH in every form
// (.npz stored and deflated, a folder of .npy or IDX files, a .npy with its labels beside it, a named pair),
// each read back to the same splits as the arrays it was written from; every bad file refused with a
// FliqsError naming the file and the fix; a tiny search on .npy data through the CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { datasetFromArrays } from '../src/data/arrays.js';
import { fromBytes, type Dataset, type DatasetSplits } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/node/load.js';
import { mnistDir } from '../src/data/node/mnist.js';
import { readNpz } from '../src/data/node/npz.js';
import { loadUserData } from '../src/data/node/user.js';
import * as root from '../src/index.js';
import { npyBytes, zipBytes } from './npy-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'fliqs-user-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fresh = 0;
/** A new folder holding `files` (name → bytes). */
function folder(files: Record<string, Uint8Array>): string {
  const dir = join(tmp, `d${fresh++}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

/** N images of 6×5×C: class prototypes plus a little seeded noise, uint8; labels cycle through K classes. */
function data(n: number, k: number, c = 1): { x: Uint8Array; y: Int32Array } {
  const x = new Uint8Array(n * 30 * c), y = new Int32Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    y[i] = (i * 7) % k;
    for (let j = 0; j < 30 * c; j++) {
      s = (s * 1103515245 + 12345) >>> 0;
      x[i * 30 * c + j] = ((y[i]! * 53 + j * 17) % 200) + (s >>> 28);
    }
  }
  return { x, y };
}

/** An IDX file: magic [0, 0, 8, rank], big-endian dims, bytes. */
function idx(dims: number[], bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + bytes.length);
  out.set([0, 0, 8, dims.length]);
  const v = new DataView(out.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(bytes, 4 + 4 * dims.length);
  return out;
}

function sameSplits(a: DatasetSplits, b: DatasetSplits): void {
  for (const s of ['train', 'validation', 'test'] as const) {
    expect(a[s].shape).toEqual(b[s].shape);
    expect(a[s].classes).toBe(b[s].classes);
    expect(a[s].normalization).toEqual(b[s].normalization);
    expect(Array.from(a[s].labels)).toEqual(Array.from(b[s].labels));
    expect(Buffer.from(a[s].images.buffer).equals(Buffer.from(b[s].images.buffer))).toBe(true);
  }
}

function refused(f: () => unknown, input: string, want: RegExp): void {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err, `expected a FliqsError for ${input}`).toBeInstanceOf(FliqsError);
  expect((err as FliqsError).input).toBe(input);
  expect((err as Error).message).toMatch(want);
}

describe('datasetFromArrays', () => {
  const { x, y } = data(200, 4);

  it('is exported at the package root', () => {
    expect(root.datasetFromArrays).toBe(datasetFromArrays);
    expect(typeof root.parseNpy).toBe('function');
  });

  it('holds out a stratified test split (seed-independent) and a seeded validation split', () => {
    const a = datasetFromArrays(x, y, { shape: [6, 5, 1], classes: 4 });
    expect([a.train.labels.length, a.validation.labels.length, a.test.labels.length]).toEqual([162, 18, 20]);
    const count = (l: Int32Array) => [0, 1, 2, 3].map((k) => l.filter((v) => v === k).length);
    expect(count(a.test.labels)).toEqual([5, 5, 5, 5]);
    for (const k of count(a.validation.labels)) expect(Math.abs(k - 4.5)).toBeLessThanOrEqual(1);
    const b = datasetFromArrays(x, y, { shape: [6, 5, 1], classes: 4, seed: 9 });
    expect(Array.from(b.test.labels)).toEqual(Array.from(a.test.labels));
    expect(Buffer.from(b.test.images.buffer).equals(Buffer.from(a.test.images.buffer))).toBe(true);
    expect(Array.from(b.validation.images.slice(0, 60))).not.toEqual(Array.from(a.validation.images.slice(0, 60)));
    // every example lands in exactly one split: the pixel sums add up
    const total = (ds: { images: Float32Array }) => ds.images.reduce((s, v) => s + v, 0);
    const { mean, std } = a.train.normalization;
    const sum = [a.train, a.validation, a.test].reduce((s, d) => s + total(d), 0) * std + mean * x.length;
    expect(sum).toBeCloseTo(x.reduce((s, v) => s + v / 255, 0), 1);
    expect(a.train.name).toBe('arrays/train');
  });

  it("normalizes: 'auto' to mean 0 and std 1 over train + validation, 'none', or given; uint8 as fromBytes does", () => {
    const a = datasetFromArrays(x, y, { shape: [6, 5, 1], classes: 4 });
    const pool = [...a.train.images, ...a.validation.images];
    const m = pool.reduce((s, v) => s + v, 0) / pool.length;
    expect(m).toBeCloseTo(0, 5);
    expect(Math.sqrt(pool.reduce((s, v) => s + (v - m) ** 2, 0) / pool.length)).toBeCloseTo(1, 4);
    const none = datasetFromArrays(x, y, { shape: [6, 5, 1], classes: 4, normalize: 'none' });
    expect(none.test.normalization).toEqual({ mean: 0, std: 1 });
    // every split's values, pooled and sorted, are those of fromBytes over all examples: the same f32 per pixel
    const all = (d: DatasetSplits) => Float32Array.from([...d.train.images, ...d.validation.images, ...d.test.images]).sort();
    const given = datasetFromArrays(x, y, { shape: [6, 5, 1], classes: 4, normalize: { mean: 0.1307, std: 0.3081 } });
    const ref = fromBytes('ref', x, y, [6, 5, 1], 4, { mean: 0.1307, std: 0.3081 });
    expect(Buffer.from(all(given).buffer).equals(Buffer.from(ref.images.slice().sort().buffer))).toBe(true);
    const f = new Float32Array(x.length).map((_, i) => x[i]! / 10 - 3 + i * 1e-4);
    const fa = datasetFromArrays(f, y, { shape: [6, 5, 1], classes: 4, normalize: 'none' });
    expect(Buffer.from(all(fa).buffer).equals(Buffer.from(f.slice().sort().buffer))).toBe(true); // float values as given
    const fauto = datasetFromArrays(f, y, { shape: [6, 5, 1], classes: 4 });
    const fp = [...fauto.train.images, ...fauto.validation.images];
    const fm = fp.reduce((s, v) => s + v, 0) / fp.length;
    expect(fm).toBeCloseTo(0, 5);
    expect(Math.sqrt(fp.reduce((s, v) => s + (v - fm) ** 2, 0) / fp.length)).toBeCloseTo(1, 4);
  });

  it('takes test arrays of its own, limits and a validation count', () => {
    const t = data(40, 4);
    const a = datasetFromArrays(x, y, { shape: [6, 5, 1], classes: 4, test: { images: t.x, labels: t.y }, validation: 50, limit: { train: 30 } });
    expect([a.train.labels.length, a.validation.labels.length, a.test.labels.length]).toEqual([30, 50, 40]);
  });

  it('refuses bad arrays with a FliqsError naming them', () => {
    const opts = { shape: [6, 5, 1] as [number, number, number], classes: 4 };
    refused(() => datasetFromArrays(x.subarray(1), y, opts), 'images', /holds 5999 values for 200 labels/);
    refused(() => datasetFromArrays(x, y, { ...opts, shape: [5, 5, 1] }), 'images', /holds 6000 values for 200 labels \(labels\) of shape \[5, 5, 1\]/);
    refused(() => datasetFromArrays(x, Int32Array.from(y, (v, i) => (i === 3 ? 4 : v)), opts), 'labels', /label 4 at index 3; accepted: integers from 0 to 3/);
    refused(() => datasetFromArrays(x, Int32Array.from(y, (v, i) => (i === 5 ? -1 : v)), opts), 'labels', /label -1 at index 5/);
    refused(() => datasetFromArrays(x, new Float32Array(y), opts), 'labels', /floating-point labels/);
    const nan = new Float32Array(x.length).fill(0.5);
    nan[77] = NaN;
    refused(() => datasetFromArrays(nan, y, opts), 'images', /holds NaN at value 77/);
    refused(() => datasetFromArrays(new Int16Array(6000) as unknown as Uint8Array, y, opts), 'images', /holds Int16Array\(6000\); accepted: uint8 pixels/);
    refused(() => datasetFromArrays(x.subarray(0, 150), y.subarray(0, 5), opts), 'labels', /5 examples leave none for a test split/);
    refused(() => datasetFromArrays(new Uint8Array(6000).fill(3), y, opts), 'images', /every train value is/);
    refused(() => datasetFromArrays(x, y, { ...opts, normalize: { mean: 0, std: 0 } }), 'normalize', /got Object/);
    refused(() => datasetFromArrays(x, y, { ...opts, validation: 180 }), 'validation', /got 180/);
  });
});

describe('--data PATH: every form reads back to the same splits', () => {
  const { x, y } = data(300, 5, 3);
  const t = data(50, 5, 3);
  const xN = npyBytes('|u1', [300, 6, 5, 3], x), yN = npyBytes('<i8', [300], BigInt64Array.from(y, BigInt));
  const expected = datasetFromArrays(x, y, { shape: [6, 5, 3], classes: 5, name: 'e' });
  const withTest = datasetFromArrays(x, y, { shape: [6, 5, 3], classes: 5, test: { images: t.x, labels: t.y } });
  const load = (path: string) => loadUserData(path, {});

  it('.npz, stored and deflated, with and without test arrays; loadDataset reads a path too', () => {
    const stored = join(folder({ 'a.npz': zipBytes({ 'x_train.npy': xN, 'y_train.npy': yN }) }), 'a.npz');
    sameSplits(load(stored), expected);
    sameSplits(loadDataset(stored), expected);
    const deflated = join(folder({ 'b.npz': zipBytes({ 'images.npy': xN, 'labels.npy': yN }, 'deflate') }), 'b.npz');
    sameSplits(load(deflated), expected);
    const test = join(folder({ 'c.npz': zipBytes({ 'x_train.npy': xN, 'y_train.npy': yN, 'x_test.npy': npyBytes('|u1', [50, 6, 5, 3], t.x),
      'y_test.npy': npyBytes('|u1', [50], new Uint8Array(t.y)) }, 'deflate') }), 'c.npz');
    sameSplits(load(test), withTest);
    const unnamed = join(folder({ 'u.npz': zipBytes({ 'arr_0.npy': xN, 'arr_1.npy': yN }) }), 'u.npz'); // numpy.savez(f, x, y)
    sameSplits(load(unnamed), expected);
    expect(load(stored).train.name).toBe(`${stored}/train`);
  });

  it('a folder of .npy files, a .npy with its labels beside it, a named pair, float images, N×H×W', () => {
    const dir = folder({ 'x.npy': xN, 'y.npy': yN });
    sameSplits(load(dir), expected);
    sameSplits(load(join(dir, 'x.npy')), expected);
    const pair = folder({ 'pix.npy': xN, 'lab.npy': npyBytes('<i4', [300], y) });
    sameSplits(load(`${pair}/pix.npy,${pair}/lab.npy`), expected);
    const f = new Float32Array(x.length).map((_, i) => x[i]! / 255);
    const fl = folder({ 'x_train.npy': npyBytes('<f4', [300, 6, 5, 3], f), 'y_train.npy': yN });
    sameSplits(load(fl), datasetFromArrays(f, y, { shape: [6, 5, 3], classes: 5 }));
    const gray = data(300, 5, 1);
    const g = folder({ 'images.npy': npyBytes('|u1', [300, 6, 5], gray.x), 'labels.npy': npyBytes('<i2', [300, 1], new Int16Array(gray.y)) });
    expect(load(g).train.shape).toEqual([6, 5, 1]);
  });

  it('a folder of MNIST-style IDX files, plain or gzipped, with a test pair', () => {
    const files = {
      'train-images-idx3-ubyte': idx([300, 6, 5], data(300, 5, 1).x), 'train-labels-idx1-ubyte': idx([300], new Uint8Array(y)),
      't10k-images-idx3-ubyte.gz': gzipSync(idx([50, 6, 5], data(50, 5, 1).x)), 't10k-labels-idx1-ubyte.gz': gzipSync(idx([50], new Uint8Array(t.y))),
    };
    const dir = folder(files);
    const want = datasetFromArrays(data(300, 5, 1).x, y, { shape: [6, 5, 1], classes: 5, test: { images: data(50, 5, 1).x, labels: t.y } });
    sameSplits(load(dir), want);
  });

  it("MNIST's own IDX folder gives the built-in loader's splits (same examples, same order; normalized by its own mean/std)", () => {
    const mine = loadUserData(mnistDir(), { limit: 3000 }), builtIn = loadDataset('mnist', { limit: 3000 });
    for (const s of ['train', 'validation', 'test'] as const) {
      expect(Array.from(mine[s].labels)).toEqual(Array.from(builtIn[s].labels));
      const pixels = (d: Dataset) => Array.from(d.images.subarray(0, 784 * 50), (v) => Math.round((v * d.normalization.std + d.normalization.mean) * 255));
      expect(pixels(mine[s])).toEqual(pixels(builtIn[s]));
    }
    // 'auto' over the 60k training images: the constants the built-in set uses (0.1307, 0.3081) to 4 places
    expect(mine.train.normalization.mean).toBeCloseTo(0.1307, 4);
    expect(mine.train.normalization.std).toBeCloseTo(0.3081, 4);
  });

  it.runIf(spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0)('what numpy.savez_compressed writes', () => {
    const dir = folder({ 'x.npy': xN, 'y.npy': yN });
    const r = spawnSync('python3', ['-c', `import numpy as np; d='${dir}'; np.savez_compressed(d + '/np.npz', x_train=np.load(d + '/x.npy'), y_train=np.load(d + '/y.npy'))`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    sameSplits(load(join(dir, 'np.npz')), expected);
  });
});

describe('--data PATH: bad files name the file and the fix', () => {
  const { x, y } = data(100, 4);
  const xN = npyBytes('|u1', [100, 6, 5], x), yN = npyBytes('<i8', [100], BigInt64Array.from(y, BigInt));
  const npz = (entries: Record<string, Uint8Array>, method: 'store' | 'deflate' = 'store') => join(folder({ 'd.npz': zipBytes(entries, method) }), 'd.npz');
  const pair = (xb: Uint8Array, yb: Uint8Array) => { const d = folder({ 'x.npy': xb, 'y.npy': yb }); return [d, join(d, 'x.npy'), join(d, 'y.npy')] as const; };

  it('wrong magic, truncated, trailing bytes', () => {
    const [d1, x1] = pair(new Uint8Array([0, 0, 8, 3, 1, 2, 3, 4, 5, 6, 7, 8]), yN);
    refused(() => loadUserData(d1), x1, /does not start with the magic.*accepted: a \.npy file written by numpy\.save/);
    const [d2, x2] = pair(xN.subarray(0, xN.length - 7), yN);
    refused(() => loadUserData(d2), x2, /header says 100×6×5 of \|u1 = 3000 bytes but the file holds 2993 \(truncated\)/);
    const [d3, , y3] = pair(xN, new Uint8Array([...yN, 1]));
    refused(() => loadUserData(d3), y3, /trailing bytes/);
    const z = zipBytes({ 'x.npy': xN, 'y.npy': yN }, 'deflate');
    const cut = join(folder({ 'cut.npz': z.subarray(0, z.length - 30) }), 'cut.npz');
    refused(() => loadUserData(cut), cut, /not a usable \.npz file: the zip directory is missing \(truncated\?\)/);
    const bent = z.slice();
    bent[60] = bent[60]! ^ 0xff; // inside the deflated x.npy
    const bad = join(folder({ 'bent.npz': bent }), 'bent.npz');
    refused(() => loadUserData(bad), bad, /x\.npy (cannot be inflated|fails its CRC-32 check|holds \d+ bytes)/);
    const notZip = join(folder({ 'n.npz': xN }), 'n.npz');
    refused(() => loadUserData(notZip), notZip, /not a zip archive/);
    const idxBad = folder({ 'train-images-idx3-ubyte': npyBytes('|u1', [1], new Uint8Array(1)), 'train-labels-idx1-ubyte': idx([100], new Uint8Array(y)) });
    refused(() => loadUserData(idxBad), join(idxBad, 'train-images-idx3-ubyte'), /not a valid IDX file: magic starts with 147, 78/);
  });

  it('shape mismatch, channels first, flat images, one-hot labels', () => {
    const [d1, , y1] = pair(xN, npyBytes('<i8', [99], BigInt64Array.from(y.subarray(1), BigInt)));
    refused(() => loadUserData(d1), y1, /holds 99 labels for 100 images .*accepted: one label per image/);
    const [d2, x2] = pair(npyBytes('|u1', [100, 3, 10, 10], new Uint8Array(30000)), yN);
    refused(() => loadUserData(d2), x2, /channels first .*x\.transpose\(0, 2, 3, 1\)/);
    const [d3, x3] = pair(npyBytes('|u1', [100, 36], new Uint8Array(3600)), yN);
    refused(() => loadUserData(d3), x3, /shape 100×36; accepted: images N×H×W or N×H×W×C; save x\.reshape\(-1, 6, 6\)/);
    const [d4, , y4] = pair(xN, npyBytes('|u1', [100, 4], new Uint8Array(400)));
    refused(() => loadUserData(d4), y4, /one-hot\? save y\.argmax\(1\)/);
    const idxMis = folder({ 'train-images-idx3-ubyte': idx([100, 6, 5], x), 'train-labels-idx1-ubyte': idx([90], new Uint8Array(y.subarray(0, 90))) });
    refused(() => loadUserData(idxMis), join(idxMis, 'train-labels-idx1-ubyte'), /holds 90 labels for 100 images/);
  });

  it('labels out of range, skipping a class, negative or floating-point; NaN pixels; images of another dtype', () => {
    const far = Int32Array.from(y, (v, i) => (i === 9 ? 255 : v));
    const [d1, , y1] = pair(xN, npyBytes('<i4', [100], far));
    refused(() => loadUserData(d1), y1, /labels go up to 255 but class 4 has no training example; accepted: labels 0 … K−1 .*np\.unique/);
    const [d2, , y2] = pair(xN, npyBytes('|i1', [100], Int8Array.from(y, (v, i) => (i === 2 ? -1 : v))));
    refused(() => loadUserData(d2), y2, /label -1 at index 2/);
    const [d3, , y3] = pair(xN, npyBytes('<f8', [100], new Float64Array(y)));
    refused(() => loadUserData(d3), y3, /holds float64 labels; accepted: .*y\.astype\(np\.int64\)/);
    const f = new Float32Array(3000).map((_, i) => x[i]! / 255);
    f[1234] = NaN;
    const [d4, x4] = pair(npyBytes('<f4', [100, 6, 5], f), yN);
    refused(() => loadUserData(d4), x4, /holds NaN at value 1234/);
    const [d5, x5] = pair(npyBytes('<i8', [100, 6, 5], new BigInt64Array(3000)), yN);
    refused(() => loadUserData(d5), x5, /holds int64 images; accepted: .*x\.astype\(np\.uint8\)/);
  });

  it('random damage to a .npz, stored or deflated: arrays or a FliqsError, nothing else', () => {
    for (const method of ['store', 'deflate'] as const) {
      const good = zipBytes({ 'x.npy': npyBytes('|u1', [4, 3], new Uint8Array(12).fill(7)), 'y.npy': npyBytes('<i4', [4], new Int32Array([0, 1, 0, 1])) }, method);
      fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(good.length), (edits, cut) => {
        const b = good.slice(0, Math.max(cut, good.length - 40));
        for (const [i, v] of edits) if (i < b.length) b[i] = v;
        try {
          for (const a of readNpz(b, 'd.npz').values()) expect(a.data.length).toBe(a.shape.reduce((p, d) => p * d, 1));
        } catch (e) {
          expect(e).toBeInstanceOf(FliqsError);
        }
      }), { numRuns: 1500, seed: 3 });
    }
  });

  it('archives and folders without the arrays, and paths that are not data', () => {
    const p = npz({ 'a.npy': xN, 'b.npy': yN });
    refused(() => loadUserData(p), p, /holds a, b; accepted: arrays x_train \+ y_train .*numpy\.savez/);
    const half = npz({ 'x_train.npy': xN, 'y_train.npy': yN, 'x_test.npy': xN });
    refused(() => loadUserData(half), half, /has x_test without its labels/);
    const empty = folder({ 'notes.txt': new Uint8Array([1]) });
    refused(() => loadUserData(empty), empty, /holds no IDX or \.npy files/);
    const lone = join(folder({ 'pixels.npy': xN }), 'pixels.npy');
    refused(() => loadUserData(lone), '--data', /its labels were not found beside it; accepted: IMAGES\.npy,LABELS\.npy/);
    refused(() => loadUserData(join(tmp, 'missing.npz')), '--data', /is neither a dataset name nor a file or folder/);
    refused(() => loadDataset('fashion'), '--data', /"fashion" is neither a dataset name nor a file or folder; accepted: mnist, fashion-mnist, synthetic/);
  });
});

describe('fliqs with --data PATH', () => {
  const CLI = [process.execPath, '--experimental-wasm-relaxed-simd', 'dist/cli/main.js'];
  const fliqs = (...args: string[]) => spawnSync(CLI[0]!, [...CLI.slice(1), ...args], { encoding: 'utf8', timeout: 60_000 });
  const { x, y } = data(400, 4);
  const dir = folder({ 'x.npy': npyBytes('|u1', [400, 6, 5], x), 'y.npy': npyBytes('<i8', [400], BigInt64Array.from(y, BigInt)) });

  it('a tiny search on .npy data, then eval of its export on the same data', () => {
    const out = join(tmp, 'run');
    const r = fliqs('search', '--model', 'cnn', '--data', join(dir, 'x.npy'), '--epochs', '1', '--batch', '32', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`cnn ×1 on ${dir}/x\\.npy`));
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.test.accuracy).toBeGreaterThan(0.5); // 4 classes: chance is 0.25
    expect(result.test.count).toBe(40);
    expect(fliqs('export', out, '--out', join(tmp, 'm.fliqs')).status).toBe(0);
    const e = fliqs('eval', join(tmp, 'm.fliqs'));
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/test accuracy [\d.]+% on 40 /);
  });

  it('a path that does not exist or a bad file: one line, exit 2, nothing written', () => {
    const missing = fliqs('train', '--data', join(tmp, 'nope.npz'), '--out', join(tmp, 'r1'));
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^fliqs train: --data ".*nope\.npz" is neither a dataset name nor an existing path/);
    const bad = folder({ 'x.npy': npyBytes('|u1', [400, 6, 5], x), 'y.npy': npyBytes('<i4', [400], Int32Array.from(y, (v, i) => (i === 0 ? 9 : v))) });
    for (const cmd of ['search', 'train']) {
      const r = fliqs(cmd, '--data', bad, '--out', join(tmp, `r-${cmd}`));
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^fliqs ${cmd}: .*y\\.npy: labels go up to 9 but class 4 has no training example`));
      expect(existsSync(join(tmp, `r-${cmd}`))).toBe(false); // so the same --out works once the file is fixed
    }
    expect(existsSync(join(tmp, 'r1'))).toBe(false);
  });
});
