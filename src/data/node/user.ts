// `--data PATH`: your own data from files, as train / validation / test splits (through splitArrays).
//   a folder of MNIST-style IDX files  train-images-idx3-ubyte + train-labels-idx1-ubyte (.gz too), and
//                                      t10k-… or test-… for a test split; EMNIST's prefixed names too
//   a .npz archive                     arrays x_train + y_train (or x + y, images + labels), optional x_test + y_test;
//                                      unnamed (numpy.savez(f, x, y[, x_test, y_test])): arr_0, arr_1[, arr_2, arr_3]
//   a folder of .npy files             the same names as files: x_train.npy + y_train.npy, …
//   a .npy file                        the images; its labels beside it by the same names (x.npy → y.npy)
//   IMAGES.npy,LABELS.npy              both named
// Images N×H×W (one channel) or N×H×W×C, uint8 or float; labels N integers 0 … K−1 (K = the largest + 1,
// every class present in train). Without test arrays a test split is held out (see ../arrays.ts).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { basename, dirname, join } from 'node:path';
import { FliqsError, FliqsIoError, describe } from '../../core/errors.js';
import { labelsFrom, splitArrays, type ImageArray } from '../arrays.js';
import type { DatasetSplits } from '../dataset.js';
import { parseIdx } from '../idx.js';
import { parseNpy, type Npy } from '../npy.js';
import { npzNames, readNpz } from './npz.js';
import { readBytes } from './files.js';

export interface UserDataOptions { validation?: number; seed?: number; limit?: number | { train?: number; validation?: number; test?: number } }

/** One array from a file, with the name its errors use. */
interface Named { npy: Npy; file: string }

const NAMES = {
  images: ['x_train', 'x', 'images', 'train_images'], labels: ['y_train', 'y', 'labels', 'train_labels'],
  testImages: ['x_test', 'test_images'], testLabels: ['y_test', 'test_labels'],
};
const ACCEPTED_NAMES = 'arrays x_train + y_train (or x + y, images + labels), and optionally x_test + y_test';
const ACCEPTED_PATH = 'mnist, fashion-mnist, synthetic, a folder of IDX or .npy files, a .npz file, a .npy file, or IMAGES.npy,LABELS.npy';
const EXPORT_HINT = 'e.g. numpy.savez("my.npz", x_train=x, y_train=y)';

const pick = (names: string[], keys: string[]): string | undefined =>
  names.find((n) => keys.includes(n.toLowerCase()));

function readNpyFile(file: string): Named {
  return { npy: parseNpy(readBytes(file, 'the path given to --data'), file), file };
}

/** The images as flat values with their [H, W, C]; refuses shapes and dtypes that cannot be images. */
function images(a: Named): { values: ImageArray; shape: [number, number, number] } {
  const { shape, dtype, data } = a.npy;
  if (!['uint8', 'float16', 'float32', 'float64'].includes(dtype)) {
    throw new FliqsError(a.file, `holds ${dtype} images`, 'uint8 pixels (0 to 255) or float values: save x.astype(np.uint8) or x.astype(np.float32)');
  }
  const dims = shape.slice(1);
  if (shape.length === 4 && (shape[1] === 1 || shape[1] === 3) && shape[3]! > 4) {
    throw new FliqsError(a.file, `holds ${shape.join('×')} images, channels first (N×C×H×W)`, 'N×H×W×C: save x.transpose(0, 2, 3, 1)');
  }
  if (shape.length !== 3 && shape.length !== 4) {
    const hint = shape.length === 2 && Number.isInteger(Math.sqrt(shape[1]!)) ? `; save x.reshape(-1, ${Math.sqrt(shape[1]!)}, ${Math.sqrt(shape[1]!)})` : '';
    throw new FliqsError(a.file, `holds an array of shape ${shape.join('×') || '()'}`, `images N×H×W or N×H×W×C${hint}`);
  }
  if (dims.some((d) => d < 1)) throw new FliqsError(a.file, `holds images of shape ${shape.join('×')}`, 'images of at least 1×1 pixels');
  return { values: data as ImageArray, shape: [dims[0]!, dims[1]!, dims[2] ?? 1] };
}

/** Labels as Int32Array: N or N×1 integers ≥ 0. */
function labels(a: Named): Int32Array {
  const { shape, dtype, data } = a.npy;
  if (dtype.startsWith('float') || dtype === 'bool') {
    throw new FliqsError(a.file, `holds ${dtype} labels`, 'integer class indices 0 … K−1: save y.astype(np.int64)');
  }
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    const hint = shape.length === 2 ? ' (one-hot? save y.argmax(1))' : '';
    throw new FliqsError(a.file, `holds labels of shape ${shape.join('×') || '()'}${hint}`, 'one integer label per image, shape N');
  }
  return labelsFrom(a.file, data, Infinity, '; renumber them 0 … K−1 (np.unique(y, return_inverse=True)[1])');
}

/** K = largest label + 1; every class must have a training example (else the labels skip numbers). */
function classCount(train: Int32Array, test: Int32Array | null, file: string): number {
  let top = 0;
  for (const l of train) top = Math.max(top, l);
  if (test) for (const l of test) top = Math.max(top, l);
  const seen = new Uint8Array(top + 1);
  for (const l of train) seen[l] = 1;
  const missing = seen.indexOf(0);
  if (missing >= 0) {
    throw new FliqsError(file, `labels go up to ${top} but class ${missing} has no training example`,
      'labels 0 … K−1 with every class present; renumber them (np.unique(y, return_inverse=True)[1])');
  }
  if (top < 1) throw new FliqsError(file, `all labels are ${top}`, 'at least two classes');
  return top + 1;
}

function build(img: Named, lbl: Named, test: { img: Named; lbl: Named } | null, options: UserDataOptions, name: string): DatasetSplits {
  const x = images(img), y = labels(lbl);
  const tx = test ? images(test.img) : null, ty = test ? labels(test.lbl) : null;
  if (tx && tx.shape.join() !== x.shape.join()) {
    throw new FliqsError(test!.img.file, `holds ${tx.shape.join('×')} images but ${img.file} holds ${x.shape.join('×')}`, 'test images of the train images\' shape');
  }
  const xn = img.npy.shape[0]!, yn = lbl.npy.shape[0]!;
  if (xn !== yn) throw new FliqsError(lbl.file, `holds ${yn} labels for ${xn} images (${img.file})`, 'one label per image');
  if (test && test.img.npy.shape[0] !== test.lbl.npy.shape[0]) {
    throw new FliqsError(test.lbl.file, `holds ${test.lbl.npy.shape[0]} labels for ${test.img.npy.shape[0]} images (${test.img.file})`, 'one label per image');
  }
  const classes = classCount(y, ty, lbl.file);
  return splitArrays(x.values, y, {
    shape: x.shape, classes, name,
    ...(tx && ty ? { test: { images: tx.values, labels: ty } } : {}),
    ...(options.validation !== undefined ? { validation: options.validation } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  }, { images: img.file, labels: lbl.file, ...(test ? { testImages: test.img.file, testLabels: test.lbl.file } : {}) });
}

/** Finds the image / label / test arrays among `names`; `get` reads one. */
function fromNamed(where: string, names: string[], get: (n: string) => Named, options: UserDataOptions, name: string): DatasetSplits {
  // numpy.savez(file, x, y[, x_test, y_test]) without names: arr_0, arr_1[, arr_2, arr_3]
  const positional = names.slice().sort().join() === 'arr_0,arr_1' || names.slice().sort().join() === 'arr_0,arr_1,arr_2,arr_3';
  if (positional) return build(get('arr_0'), get('arr_1'), names.length === 4 ? { img: get('arr_2'), lbl: get('arr_3') } : null, options, name);
  const xi = pick(names, NAMES.images), yi = pick(names, NAMES.labels);
  if (!xi || !yi) throw new FliqsError(where, `holds ${names.length ? names.join(', ') : 'no arrays'}`, `${ACCEPTED_NAMES}; ${EXPORT_HINT}`);
  const xt = pick(names, NAMES.testImages), yt = pick(names, NAMES.testLabels);
  if ((xt === undefined) !== (yt === undefined)) throw new FliqsError(where, `has ${xt ?? yt} without its ${xt ? 'labels (y_test)' : 'images (x_test)'}`, 'both test arrays or neither');
  return build(get(xi), get(yi), xt && yt ? { img: get(xt), lbl: get(yt) } : null, options, name);
}

const IDX = /^(?:.*-)?(train|t10k|test)-(images|labels)[-.]idx([13])-ubyte(\.gz)?$/;

/** A folder of IDX files (MNIST names, EMNIST prefixes, gzipped or not): uint8 images N×H×W (or ×C) and labels N. */
function idxFolder(dir: string, files: string[], options: UserDataOptions, name: string): DatasetSplits {
  const find = (split: string[], kind: string): string | undefined => files.find((f) => {
    const m = IDX.exec(f);
    return m && split.includes(m[1]!) && m[2] === kind;
  });
  const read = (f: string, rank: 'images' | 'labels'): Named => {
    const file = join(dir, f);
    let bytes: Uint8Array = readBytes(file, 'the path given to --data');
    if (f.endsWith('.gz')) {
      try { bytes = gunzipSync(bytes); } catch (e) { throw new FliqsError(file, `cannot be unzipped (${(e as Error).message})`, 'a gzip file (or the unzipped IDX file)'); }
    }
    const r = rank === 'labels' ? 1 : bytes[3] === 4 ? 4 : 3;
    const idx = parseIdx(bytes, file, r, 'an IDX file as MNIST distributes them');
    return { npy: { shape: idx.dims, dtype: 'uint8', data: idx.data }, file };
  };
  const xi = find(['train'], 'images'), yi = find(['train'], 'labels');
  if (!xi || !yi) throw new FliqsError(dir, `has ${xi ?? yi} but not its ${xi ? 'labels' : 'images'}`, 'train-images-idx3-ubyte and train-labels-idx1-ubyte');
  const xt = find(['t10k', 'test'], 'images'), yt = find(['t10k', 'test'], 'labels');
  if ((xt === undefined) !== (yt === undefined)) throw new FliqsError(dir, `has ${xt ?? yt} without its ${xt ? 'labels' : 'images'}`, 'both test files or neither');
  return build(read(xi, 'images'), read(yi, 'labels'), xt && yt ? { img: read(xt, 'images'), lbl: read(yt, 'labels') } : null, options, name);
}

/** The partner of an images file: x_train.npy → y_train.npy, images.npy → labels.npy, … */
function labelsBeside(file: string): string | null {
  const key = basename(file).replace(/\.npy$/i, '');
  const all = [...NAMES.images, ...NAMES.testImages], partners = [...NAMES.labels, ...NAMES.testLabels];
  const i = all.indexOf(key.toLowerCase());
  if (i < 0) return null;
  const p = join(dirname(file), `${partners[i]}.npy`);
  return existsSync(p) ? p : null;
}

/** True when `spec` could name user data (checked cheaply, before any run starts): a path that exists. */
export function isDataPath(spec: string): boolean {
  return spec.split(',').every((p) => p !== '' && existsSync(p));
}

/**
 * Loads your data (see the header for the forms PATH takes) as normalized train / validation / test splits.
 * @example
 * const { train, validation, test } = loadUserData('my.npz', { seed: 1 }); // from numpy.savez('my.npz', x=x, y=y)
 */
export function loadUserData(path: string, options: UserDataOptions = {}): DatasetSplits {
  if (typeof path !== 'string' || path === '') throw new FliqsError('--data', `got ${describe(path)}`, ACCEPTED_PATH);
  const name = path;
  const parts = path.split(',');
  if (parts.length === 2) {
    for (const p of parts) if (!/\.npy$/i.test(p)) throw new FliqsError('--data', `${JSON.stringify(path)}: ${p} is not a .npy file`, 'IMAGES.npy,LABELS.npy');
    return build(readNpyFile(parts[0]!), readNpyFile(parts[1]!), null, options, name);
  }
  if (parts.length > 2) throw new FliqsError('--data', `${JSON.stringify(path)} names ${parts.length} files`, 'IMAGES.npy,LABELS.npy');
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new FliqsError('--data', `${JSON.stringify(path)} is neither a dataset name nor a file or folder`, ACCEPTED_PATH);
    throw new FliqsIoError(path, `cannot be read (${(e as Error).message})`, 'a readable file or folder');
  }
  if (stat.isDirectory()) {
    const files = readdirSync(path).sort();
    if (files.some((f) => IDX.test(f))) return idxFolder(path, files, options, name);
    const npys = files.filter((f) => /\.npy$/i.test(f)).map((f) => f.replace(/\.npy$/i, ''));
    if (npys.length) return fromNamed(path, npys, (n) => readNpyFile(join(path, `${n}.npy`)), options, name);
    throw new FliqsError(path, 'holds no IDX or .npy files', `train-images-idx3-ubyte + train-labels-idx1-ubyte (MNIST's names), or ${ACCEPTED_NAMES} as .npy files`);
  }
  if (!stat.isFile()) throw new FliqsError(path, 'is not a regular file or folder', ACCEPTED_PATH);
  if (/\.npz$/i.test(path)) {
    const bytes = readBytes(path, 'the path given to --data');
    const names = npzNames(bytes, path);
    const picked = new Set([pick(names, NAMES.images), pick(names, NAMES.labels), pick(names, NAMES.testImages), pick(names, NAMES.testLabels),
      'arr_0', 'arr_1', 'arr_2', 'arr_3']);
    const arrays = readNpz(bytes, path, (n) => picked.has(n));
    return fromNamed(path, names, (n) => ({ npy: arrays.get(n)!, file: `${path} (${n})` }), options, name);
  }
  if (/\.npy$/i.test(path)) {
    const partner = labelsBeside(path);
    if (!partner) {
      throw new FliqsError('--data', `${path} holds one array; its labels were not found beside it`,
        'IMAGES.npy,LABELS.npy, or x.npy with y.npy (x_train.npy with y_train.npy, images.npy with labels.npy) in one folder');
    }
    return build(readNpyFile(path), readNpyFile(partner), null, options, name);
  }
  throw new FliqsError(path, 'is not a .npz or .npy file', ACCEPTED_PATH);
}
