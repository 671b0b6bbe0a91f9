// The demo's data: the shipped Fashion-MNIST subset (fashion-mnist-subset.bin, written by scripts/demo-data.mjs)
// or .npy files a user drops in, both turned into { train, validation, test } datasets for startSearch.
// Plain ES module over the built library: runs in the page and in Node (the browser test reads the subset
// with it too, to run the same search synchronously).
import { FliqsError, fromBytes, holdOut, parseNpy } from '../dist/index.js';

const MAGIC = 'FLIQSDS1';

/** Bytes, gunzipped when they are gzip (a server may already have decoded them). */
async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  if (typeof DecompressionStream !== 'function') {
    throw new FliqsError('fashion-mnist-subset.bin', 'is gzip-compressed and this browser has no DecompressionStream', 'a current browser');
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decodes the subset file into splits (the same arrays loadDataset('fashion-mnist', { limit }) gives in Node). */
export async function decodeSubset(fileBytes) {
  const bytes = await gunzip(fileBytes);
  const name = 'fashion-mnist-subset.bin';
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new FliqsError(name, 'is not a fliqs demo data file', `a file starting with ${MAGIC} (node scripts/demo-data.mjs writes it)`);
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLen)));
  const parts = ['train', 'validation', 'test'];
  const n = parts.reduce((a, s) => a + h.splits[s], 0);
  const size = h.shape[0] * h.shape[1] * h.shape[2];
  const labelsAt = 12 + headerLen, pixelsAt = labelsAt + n;
  if (bytes.length !== pixelsAt + n * size) throw new FliqsError(name, `has ${bytes.length} bytes`, `${pixelsAt + n * size} (a complete file)`);
  const labels = bytes.subarray(labelsAt, pixelsAt), pixels = bytes.subarray(pixelsAt);
  const out = {};
  let at = 0;
  for (const s of parts) {
    const k = h.splits[s];
    out[s] = fromBytes(`${h.name}/${s}`, pixels.subarray(at * size, (at + k) * size), labels.subarray(at, at + k), h.shape, h.classes, h.normalization);
    at += k;
  }
  return { splits: out, header: h };
}

/** Fetches and decodes the shipped subset. */
export async function loadSubset(url = new URL('./fashion-mnist-subset.bin', import.meta.url)) {
  const res = await fetch(url);
  if (!res.ok) throw new FliqsError(String(url), `could not be fetched (HTTP ${res.status})`, 'the demo folder served as a whole (npx fliqs serve)');
  return decodeSubset(new Uint8Array(await res.arrayBuffer()));
}

const integerTypes = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64'];

/**
 * Splits from two .npy files: images (N, H, W) or (N, H, W, C), uint8 or float, and labels (N,) integers from 0.
 * Images are standardized by their own mean and std; 10% each is held out (stratified) for validation and test.
 */
export function splitsFromNpy(imagesFile, labelsFile) {
  const images = parseNpy(imagesFile.bytes, imagesFile.name), labels = parseNpy(labelsFile.bytes, labelsFile.name);
  const s = images.shape;
  if (s.length !== 3 && s.length !== 4) {
    throw new FliqsError(imagesFile.name, `has shape (${s.join(', ')})`, 'images of shape (N, H, W) or (N, H, W, C)');
  }
  const [N, H, W, C = 1] = s;
  if (labels.shape.length !== 1 || !integerTypes.includes(labels.dtype)) {
    throw new FliqsError(labelsFile.name, `has shape (${labels.shape.join(', ')}) of ${labels.dtype}`, 'labels of shape (N,), integers');
  }
  if (labels.shape[0] !== N) throw new FliqsError(labelsFile.name, `has ${labels.shape[0]} labels for ${N} images`, 'one label per image');
  if (N < 30) throw new FliqsError(imagesFile.name, `has ${N} images`, 'at least 30 (10% are held out for validation and 10% for test)');
  if (H < 4 || W < 4 || C > 4) throw new FliqsError(imagesFile.name, `has images of ${H}×${W}×${C}`, 'images at least 4×4 with 1 to 4 channels');
  const lab = new Int32Array(N);
  let classes = 0;
  for (let i = 0; i < N; i++) {
    const v = Number(labels.data[i]);
    if (!Number.isInteger(v) || v < 0 || v > 999) throw new FliqsError(labelsFile.name, `has label ${v} at index ${i}`, 'class indices from 0 to 999');
    lab[i] = v;
    classes = Math.max(classes, v + 1);
  }
  if (classes < 2) throw new FliqsError(labelsFile.name, 'has one class only', 'at least two classes');
  const px = images.data, count = N * H * W * C;
  if (images.dtype === 'bool' || px instanceof BigInt64Array || px instanceof BigUint64Array) {
    throw new FliqsError(imagesFile.name, `has dtype ${images.dtype}`, 'uint8 pixels or float32/float64 values');
  }
  let sum = 0, sq = 0;
  for (let i = 0; i < count; i++) {
    const v = px[i];
    if (!Number.isFinite(v)) throw new FliqsError(imagesFile.name, `has a non-finite value at index ${i}`, 'finite pixel values');
    sum += v; sq += v * v;
  }
  const mean = sum / count, std = Math.sqrt(Math.max(sq / count - mean * mean, 0)) || 1;
  const norm = new Float32Array(count);
  for (let i = 0; i < count; i++) norm[i] = (px[i] - mean) / std;
  const held = Math.max(1, Math.round(N / 10));
  const first = holdOut(lab, classes, held, 0);               // test = held out first
  const restLabels = first.train.map((i) => lab[i]);
  const second = holdOut(Int32Array.from(restLabels), classes, held, 1); // then validation from the rest
  const pick = (name, idx) => {
    const sz = H * W * C, im = new Float32Array(idx.length * sz), lb = new Int32Array(idx.length);
    idx.forEach((src, i) => { im.set(norm.subarray(src * sz, (src + 1) * sz), i * sz); lb[i] = lab[src]; });
    return { name, images: im, labels: lb, shape: [H, W, C], classes, normalization: { mean: 0, std: 1 } };
  };
  const rest = first.train;
  return {
    train: pick('npy/train', Array.from(second.train, (j) => rest[j])),
    validation: pick('npy/validation', Array.from(second.validation, (j) => rest[j])),
    test: pick('npy/test', Array.from(first.validation)),
  };
}
