// Writes demo/fashion-mnist-subset.bin: the Fashion-MNIST subset the demo page searches on, gzip-compressed —
// exactly loadDataset('fashion-mnist', { limit: LIMIT }) (the splits `fliqs search --data fashion-mnist` uses,
// each cut to its first LIMIT examples, class-balanced), as uint8 pixels, so the page's data and Node's are the
// same bit for bit. Run after `npm run build`: node scripts/demo-data.mjs
//
// Layout (before gzip): "FLIQSDS1", u32 LE length of a JSON header { name, shape, classes, normalization,
// splits: { train, validation, test } }, the JSON, then every label (uint8; train, validation, test in order),
// then every pixel (uint8, N×H×W×C).
import { writeFileSync, renameSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { loadDataset } from '../dist/node.js';

export const LIMIT = { train: 4000, validation: 500, test: 1000 };
const OUT = 'demo/fashion-mnist-subset.bin';

const d = loadDataset('fashion-mnist', { limit: LIMIT });
const { mean, std } = d.train.normalization;
// The normalized value of each byte, as fromBytes computes it, to map the f32 images back to their bytes.
const byValue = new Map();
for (let v = 0; v < 256; v++) byValue.set(Math.fround((v / 255 - mean) / std), v);
const splits = ['train', 'validation', 'test'];
const n = splits.reduce((a, s) => a + d[s].labels.length, 0);
const size = d.train.shape.reduce((a, b) => a * b, 1);
const labels = new Uint8Array(n), pixels = new Uint8Array(n * size);
let at = 0;
for (const s of splits) {
  const ds = d[s];
  labels.set(ds.labels, at);
  for (let i = 0; i < ds.images.length; i++) {
    const v = byValue.get(ds.images[i]);
    if (v === undefined) throw new Error(`${s} image value ${ds.images[i]} is no byte's`);
    pixels[at * size + i] = v;
  }
  at += ds.labels.length;
}
const header = new TextEncoder().encode(JSON.stringify({
  name: 'fashion-mnist', shape: d.train.shape, classes: d.train.classes, normalization: { mean, std },
  splits: Object.fromEntries(splits.map((s) => [s, d[s].labels.length])), limit: LIMIT,
}));
const head = new Uint8Array(12);
head.set(new TextEncoder().encode('FLIQSDS1'));
new DataView(head.buffer).setUint32(8, header.length, true);
const raw = Buffer.concat([head, header, labels, pixels]);
const gz = gzipSync(raw, { level: 9 });
writeFileSync(`${OUT}.tmp`, gz);
renameSync(`${OUT}.tmp`, OUT);
console.log(`${OUT}: ${n} images (${splits.map((s) => `${s} ${d[s].labels.length}`).join(', ')}), ${raw.length} bytes, ${gz.length} gzip-compressed`);
