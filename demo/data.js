// The demo's data: the shipped Fashion-MNIST subset (fashion-mnist-subset.bin, written by scripts/demo-data.mjs)
// or .npy files a user drops in, both turned into { train, validation, test } datasets for startSearch.
// Plain ES module over the built library: runs in the page and in Node (the browser test reads the subset
// with it too, to run the same search synchronously).
import { FliqsError, datasetFromArrays, fromBytes, parseNpy } from '../dist/index.js';

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

/**
 * Splits from two .npy files: images (N, H, W) or (N, H, W, C), uint8 or float, and labels (N,) integers from 0 —
 * split and normalized by the library's datasetFromArrays (stratified test and validation hold-outs, mean/std of
 * the training values), as `fliqs search --data images.npy,labels.npy` does in Node.
 */
export function splitsFromNpy(imagesFile, labelsFile) {
  const images = parseNpy(imagesFile.bytes, imagesFile.name), labels = parseNpy(labelsFile.bytes, labelsFile.name);
  const s = images.shape;
  if (s.length !== 3 && s.length !== 4) {
    throw new FliqsError(imagesFile.name, `has shape (${s.join(', ')})`, 'images of shape (N, H, W) or (N, H, W, C)');
  }
  const [N, H, W, C = 1] = s;
  if (labels.shape.length !== 1) throw new FliqsError(labelsFile.name, `has shape (${labels.shape.join(', ')})`, 'labels of shape (N,)');
  if (labels.shape[0] !== N) throw new FliqsError(labelsFile.name, `has ${labels.shape[0]} labels for ${N} images`, 'one label per image');
  let classes = 0;
  for (const v of labels.data) { const n = Number(v); if (Number.isFinite(n)) classes = Math.max(classes, Math.min(Math.floor(n) + 1, 2 ** 24)); }
  return datasetFromArrays(images.data, labels.data, { shape: [H, W, C], classes: Math.max(classes, 2), name: imagesFile.name.replace(/\.npy$/i, '') });
}
