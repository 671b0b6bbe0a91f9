// Measures the MSE-optimal activation clip multiples k = clip / std of the inputs of the searched
// layers of cnn, lenet5 and resnet8 (FP32-trained for a few hundred steps on Fashion-MNIST, seeded),
// next to the same on synthetic tensors (unit Gaussian, Gaussian with 1:1000 outliers as analyze.ts's
// defaultClipMultiples builds them, Laplace), and the defaults the search uses. This is the
// measurement behind searchClipMultiples' doc comment (src/search/search.ts). Writes
// bench/results/clip-multiples.json (every number) and bench/results/clip-multiples.md (tables).
//   npm run build && node --experimental-wasm-relaxed-simd scripts/clip-multiples.mjs
// Options: --steps N (default 300), --seed S (default 0), --out DIR (default bench/results).
// Deterministic for a given seed: the same numbers on every run (≈1–2 min on one core).
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeAtomic } from '../dist/cli/files.js';
import { Rng } from '../dist/core/random.js';
import { noGrad, stepScope, Tensor } from '../dist/autograd/tensor.js';
import { batches } from '../dist/data/batches.js';
import { loadDataset } from '../dist/data/node/load.js';
import { mseOptimalClip, tensorStats } from '../dist/kernels/stats.js';
import { parseFormat } from '../dist/formats/format.js';
import { quantize } from '../dist/kernels/quant.js';
import { quantLayers } from '../dist/nn/quant.js';
import { createModel } from '../dist/nn/zoo.js';
import { DEFAULT_OUTLIER_RATE, defaultClipMultiples, syntheticTensor } from '../dist/search/analyze.js';
import { Trainer } from '../dist/train/trainer.js';

const args = process.argv.slice(2);
const flag = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const STEPS = Number(flag('steps', 300));
const SEED = Number(flag('seed', 0));
const OUT = flag('out', 'bench/results');
if (!(Number.isInteger(STEPS) && STEPS > 0) || !(Number.isInteger(SEED) && SEED >= 0)) throw new Error('--steps and --seed: non-negative integers');

const FORMATS = ['INT4', 'INT8', 'E2M1', 'E4M3'];
const MODELS = [{ name: 'cnn', width: 1 }, { name: 'lenet5', width: 1 }, { name: 'resnet8', width: 0.5 }];
const BATCH = 64;
/** Batches of training data whose inputs are captured per layer (the trainer profiles 4 by default). */
const CAPTURE_BATCHES = 4;
const TRAIN = { epochs: 1, batchSize: BATCH, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4, schedule: 'cosine' };
/** Synthetic tensors: as defaultClipMultiples builds them (32 tensors of 4096, seed 12345), per distribution. */
const SYN = { tensors: 32, n: 4096, seed: 12345 };
const SYNTHETIC = [
  { key: 'gaussian', label: 'Gaussian, no outliers', spec: { dist: 'gaussian', outlierRate: 0 } },
  { key: 'gaussian-1:1000', label: `Gaussian, 1:${DEFAULT_OUTLIER_RATE} outliers (the defaults)`, spec: { dist: 'gaussian', outlierRate: DEFAULT_OUTLIER_RATE } },
  { key: 'laplace', label: 'Laplace, no outliers', spec: { dist: 'laplace', outlierRate: 0 } },
  { key: 'laplace-1:1000', label: `Laplace, 1:${DEFAULT_OUTLIER_RATE} outliers`, spec: { dist: 'laplace', outlierRate: DEFAULT_OUTLIER_RATE } },
];

const t0 = performance.now();
const r = (v, d = 3) => Number(v.toFixed(d));
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const sd = (a) => Math.sqrt(mean(a.map((x) => (x - mean(a)) ** 2)));

function mseAt(x, f, clip, buf) {
  quantize(x, f, clip, buf);
  let s = 0;
  for (let i = 0; i < x.length; i++) { const d = x[i] - buf[i]; s += d * d; }
  return s / x.length;
}

// ---- 2. synthetic distributions ----
const synthetic = {};
for (const d of SYNTHETIC) {
  const rng = new Rng(SYN.seed);
  const ks = Object.fromEntries(FORMATS.map((f) => [f, []]));
  const maxOverStd = [];
  for (let t = 0; t < SYN.tensors; t++) {
    const { x } = syntheticTensor(rng, { ...d.spec, n: SYN.n });
    const st = tensorStats(x);
    maxOverStd.push(st.absmax / st.std);
    for (const f of FORMATS) ks[f].push(mseOptimalClip(x, f).stdMultiple);
  }
  synthetic[d.key] = {
    label: d.label, ...d.spec, n: SYN.n, tensors: SYN.tensors, seed: SYN.seed, maxOverStd: r(mean(maxOverStd)),
    k: Object.fromEntries(FORMATS.map((f) => [f, r(mean(ks[f]))])),
    kSd: Object.fromEntries(FORMATS.map((f) => [f, r(sd(ks[f]))])),
  };
}
const defaults = Object.fromEntries(Object.entries(defaultClipMultiples(FORMATS)).map(([f, k]) => [f, r(k)]));
// The Gaussian 1:1000 row above repeats defaultClipMultiples' own computation: it must agree.
for (const f of FORMATS) {
  if (Math.abs(defaults[f] - synthetic['gaussian-1:1000'].k[f]) > 1e-3) console.error(`warning: ${f} default ${defaults[f]} ≠ recomputed ${synthetic['gaussian-1:1000'].k[f]}`);
}
/** Tables of k a layer's clip could be set from, tried on every measured layer (MSE relative to the layer's optimum). */
const TABLES = { default: defaults, gaussian: synthetic.gaussian.k, laplace: synthetic.laplace.k };
/** Candidate constants k for "the best single k per format" (geometric mean of the MSE ratio over layers). */
const K_GRID = Array.from({ length: 57 }, (_, i) => 2 + 0.25 * i); // 2 … 16

// ---- 1. trained models ----
const data = loadDataset('fashion-mnist', { seed: SEED });
const [H, W, C] = data.train.shape;
const models = [];
for (const m of MODELS) {
  const tm = performance.now();
  const model = createModel(m.name, { width: m.width, seed: SEED, inputShape: [H, W, C] });
  const trainer = new Trainer(model, data, { ...TRAIN, seed: SEED, maxSteps: STEPS, formats: ['FP32'] });
  let last = null;
  for (const s of trainer.run()) last = s;
  const test = trainer.evaluate(data.test, 250, 2000);

  // Capture every searched layer's input: wrap each layer's Quantizer.input on the instance (the call
  // every conv / linear makes with its input before the matmul / conv), in training mode like the
  // trainer's profiling, without gradients. Batches: the first CAPTURE_BATCHES of a seeded shuffle of train.
  const layers = quantLayers(model);
  const captured = new Map(layers.map(([name]) => [name, []]));
  for (const [name, l] of layers) {
    const orig = l.quant.input;
    l.quant.input = function (x, training) { captured.get(name).push(x.toArray().slice()); return orig.call(this, x, training); };
  }
  model.train();
  let nb = 0;
  for (const b of batches(data.train, BATCH, new Rng(SEED + 1), { dropLast: true })) {
    if (nb++ >= CAPTURE_BATCHES) break;
    stepScope(() => noGrad(() => { model.forward(Tensor.from(b.images, [b.size, H, W, C])); }));
  }
  for (const [, l] of layers) delete l.quant.input;

  const rows = [];
  for (const [name, l] of layers) {
    const parts = captured.get(name);
    const x = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) { x.set(p, o); o += p.length; }
    const st = tensorStats(x);
    let zeros = 0, neg = 0;
    for (let i = 0; i < x.length; i++) { if (x[i] === 0) zeros++; else if (x[i] < 0) neg++; }
    const buf = new Float32Array(x.length);
    const k = {}, perBatchK = {}, mseRatio = {}, gridRatio = {};
    for (const f of FORMATS) {
      const best = mseOptimalClip(x, f);
      // MSE over the optimum's on the K_GRID, for the best single k per format over layers
      gridRatio[f] = K_GRID.map((kk) => (best.mse > 0 ? mseAt(x, parseFormat(f), kk * st.std, buf) / best.mse : 1));
      k[f] = r(best.stdMultiple);
      // the same, batch by batch, each relative to the pooled std (the clip is k·pooled std in the search)
      perBatchK[f] = parts.map((p) => r(mseOptimalClip(p, f).clip / st.std));
      // MSE with the clip from each table (k_table · std), relative to the MSE-optimal clip's
      mseRatio[f] = Object.fromEntries(Object.entries(TABLES).map(([t, ks]) =>
        [t, best.mse > 0 ? r(mseAt(x, parseFormat(f), ks[f] * st.std, buf) / best.mse) : 1]));
    }
    rows.push({
      layer: name, kind: l.constructor.name, elements: x.length, mean: r(st.mean, 4), std: r(st.std, 4), absmax: r(st.absmax, 4),
      maxOverStd: r(st.absmax / st.std), zeroFraction: r(zeros / x.length), negativeFraction: r(neg / x.length), k, perBatchK, mseRatio,
      gridRatio,
    });
  }
  models.push({
    model: m.name, width: m.width, steps: trainer.step, finalLoss: r(last.loss, 4), testAccuracy2000: r(test.accuracy, 4),
    seconds: r((performance.now() - tm) / 1000, 1), layers: rows,
  });
  trainer.dispose?.();
  console.error(`${m.name}: ${trainer.step} steps, test accuracy ${(100 * test.accuracy).toFixed(1)}% (first 2000), ${((performance.now() - tm) / 1000).toFixed(1)} s`);
}

// Ranges over layers per format: all layers, and all but each model's first layer (whose input is the
// normalized image, bounded at ≈2σ: there every k ≥ max/std means no clipping at all).
const range = (rows, f) => { const v = rows.map((x) => x.k[f]); return [Math.min(...v), Math.max(...v)]; };
const allRows = models.flatMap((m) => m.layers.map((l, i) => ({ ...l, model: m.model, first: i === 0 })));
const inner = allRows.filter((l) => !l.first);
const ranges = {
  allLayers: Object.fromEntries(FORMATS.map((f) => [f, range(allRows, f)])),
  withoutFirstLayer: Object.fromEntries(FORMATS.map((f) => [f, range(inner, f)])),
  maxOverStdWithoutFirstLayer: [Math.min(...inner.map((l) => l.maxOverStd)), Math.max(...inner.map((l) => l.maxOverStd))],
};
const mseRatioSummary = Object.fromEntries(Object.keys(TABLES).map((t) => [t, Object.fromEntries(FORMATS.map((f) => {
  const v = inner.map((l) => l.mseRatio[f][t]);
  return [f, { geomean: r(Math.exp(mean(v.map(Math.log)))), max: Math.max(...v) }];
}))]));

// The best single k per format over the layers after the first: the grid point with the smallest
// geometric mean of MSE / optimal MSE (what one table entry can do at best for these layers).
const bestConstant = Object.fromEntries(FORMATS.map((f) => {
  const g = K_GRID.map((_, j) => Math.exp(mean(inner.map((l) => Math.log(l.gridRatio[f][j])))));
  const j = g.indexOf(Math.min(...g));
  return [f, { k: K_GRID[j], geomean: r(g[j]), max: r(Math.max(...inner.map((l) => l.gridRatio[f][j]))) }];
}));
for (const m of models) for (const l of m.layers) delete l.gridRatio; // the grid curves are not kept in the JSON

const seconds = r((performance.now() - t0) / 1000, 1);
const command = `node --experimental-wasm-relaxed-simd scripts/clip-multiples.mjs${args.length ? ` ${args.join(' ')}` : ''}`;
const result = {
  command, seed: SEED, steps: STEPS, seconds, node: process.version, formats: FORMATS,
  training: { dataset: 'fashion-mnist', ...TRAIN, maxSteps: STEPS, formats: ['FP32'], dataSeed: SEED, modelSeed: SEED },
  capture: { batches: CAPTURE_BATCHES, batchSize: BATCH, split: 'train', shuffleSeed: SEED + 1, mode: 'training (batch statistics), no gradients',
    k: 'mseOptimalClip(pooled inputs of all capture batches, format).clip / std of the pooled inputs (population std, as Quantizer profiles it)' },
  defaults, synthetic, models, ranges, mseRatioSummary,
  bestConstant: { grid: `${K_GRID[0]}…${K_GRID.at(-1)} step 0.25`, layers: 'all but each model\'s first', byFormat: bestConstant },
};

// ---- 3. markdown ----
const fmtK = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
const md = [];
md.push('# Activation clip multiples k = clip / std: measured vs defaults', '');
md.push(`Generated by \`${command}\` (seed ${SEED}, ${STEPS} SGD steps per model). Every number: [clip-multiples.json](clip-multiples.json).`, '');
md.push(`Each model is trained in FP32 on Fashion-MNIST (batch ${BATCH}, SGD lr ${TRAIN.lr} momentum ${TRAIN.momentum}, cosine, weight decay ${TRAIN.weightDecay}); `
  + `then the input of every searched layer is captured on ${CAPTURE_BATCHES} training batches (training mode, as the trainer profiles) and k is `
  + 'the MSE-optimal clip (mseOptimalClip) of the pooled inputs divided by their std. The search sets clip_f = k_f · std from the defaults below.', '');
md.push('## Per layer', '');
md.push(`| model | layer | max/std | zeros | ${FORMATS.map((f) => `k ${f}`).join(' | ')} |`);
md.push(`|---|---|---|---|${FORMATS.map(() => '---').join('|')}|`);
for (const m of models) {
  for (const l of m.layers) {
    md.push(`| ${m.model}${m.width !== 1 ? ` ×${m.width}` : ''} | ${l.layer} | ${l.maxOverStd.toFixed(1)} | ${(100 * l.zeroFraction).toFixed(0)}% | ${FORMATS.map((f) => fmtK(l.k[f])).join(' | ')} |`);
  }
}
md.push('', `Test accuracy after training (first 2000 test images): ${models.map((m) => `${m.model} ${(100 * m.testAccuracy2000).toFixed(1)}%`).join(', ')}.`, '');
md.push('## Ranges over layers, and the tables k could come from', '');
md.push(`| | ${FORMATS.join(' | ')} |`, `|---|${FORMATS.map(() => '---').join('|')}|`);
md.push(`| measured, all layers | ${FORMATS.map((f) => ranges.allLayers[f].map(fmtK).join('–')).join(' | ')} |`);
md.push(`| measured, without each model's first layer | ${FORMATS.map((f) => ranges.withoutFirstLayer[f].map(fmtK).join('–')).join(' | ')} |`);
md.push(`| **default** (defaultClipMultiples) | ${FORMATS.map((f) => `**${fmtK(defaults[f])}**`).join(' | ')} |`);
for (const d of SYNTHETIC) {
  const s = synthetic[d.key];
  md.push(`| ${s.label} (max/std ${s.maxOverStd.toFixed(1)}) | ${FORMATS.map((f) => `${fmtK(s.k[f])} ± ${s.kSd[f].toFixed(2)}`).join(' | ')} |`);
}
md.push('', `Inputs of the layers after the first have max/std ${ranges.maxOverStdWithoutFirstLayer.map((v) => v.toFixed(1)).join('–')}. `
  + 'Synthetic: mean ± std over 32 tensors of 4096 elements, seed 12345 (the Gaussian 1:1000 row is the defaults).', '');
md.push('## Cost of a table: MSE with clip = k_table · std over the MSE-optimal clip\'s', '');
md.push('Over the layers after each model\'s first: geometric mean (worst).', '');
md.push(`| table | ${FORMATS.join(' | ')} |`, `|---|${FORMATS.map(() => '---').join('|')}|`);
for (const [t, s] of Object.entries(mseRatioSummary)) {
  md.push(`| ${t === 'default' ? 'default (Gaussian 1:1000)' : `${t}, no outliers`} | ${FORMATS.map((f) => `${s[f].geomean.toFixed(2)}× (${s[f].max.toFixed(2)}×)`).join(' | ')} |`);
}
md.push(`| best single k on a 0.25 grid (k: geomean, worst) | ${FORMATS.map((f) => `${bestConstant[f].k.toFixed(2)}: ${bestConstant[f].geomean.toFixed(2)}× (${bestConstant[f].max.toFixed(2)}×)`).join(' | ')} |`);
const noClip = FORMATS.filter((f) => bestConstant[f].k >= ranges.maxOverStdWithoutFirstLayer[1]);
if (noClip.length) md.push('', `${noClip.join(', ')}: the best single k is at least every layer's max/std, i.e. not clipping at all is best.`);
const firsts = allRows.filter((l) => l.first);
md.push('', `First layers (input = the normalized image, max/std ${Math.max(...firsts.map((l) => l.maxOverStd)).toFixed(2)}, so k ≥ that means no clipping): `
  + `the default k costs ${FORMATS.map((f) => `${f} ${Math.max(...firsts.map((l) => l.mseRatio[f].default)).toFixed(1)}×`).join(', ')} the optimal MSE (a coarser grid, nothing clipped).`);
md.push('', 'resnet8\'s downsample convs see the same input as the conv1 of their block, so they repeat its numbers (and count twice in these means).', '');

mkdirSync(OUT, { recursive: true });
writeAtomic(join(OUT, 'clip-multiples.json'), `${JSON.stringify(result, null, 2)}\n`);
writeAtomic(join(OUT, 'clip-multiples.md'), md.join('\n'));
console.error(`wrote ${join(OUT, 'clip-multiples.json')} and ${join(OUT, 'clip-multiples.md')} in ${seconds} s`);
