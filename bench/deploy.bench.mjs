// Deployed-model inference: images/s of `loadModel(bytes).predict(images, { batchSize })` — what a user
// calls, a plain Float32Array of NHWC Fashion-MNIST test images in, logits out — at batch 1 and batch 64,
// for resnet8 and mobilenetv2 (width 1, 28×28×1, 10 classes), in FP32, INT8, INT4 weights / INT8
// activations and a mixed-precision model, next to peers measured in the same run, interleaved:
//   TF.js-wasm FP32 (1 thread): the same inference graph built from the FP32 spec (batch-norm folded into
//     the conv as a converted TF.js model has it, conv + ReLU fused through tf.fused.*), logits read back;
//   ONNX Runtime Web (wasm, 1 thread, graph optimisation 'all') on exportOnnx(spec) of the FP32 and the
//     INT8 spec (the INT8 one is a QDQ graph), logits read back.
// Also the .fliqs file sizes against Σ bits·params/8 + the JSON header, the issue's goals (met or not),
// and where the time goes: our batch-64 predict by wasm kernel and by layer (bench-side timers), and the
// kernels ONNX Runtime's profiler says its sessions run.
// Settings (env): BENCH_WINDOWS — timed windows per contender (default 9, median reported); BENCH_TIME_MS
// — minimum window at batch 64 (default 400; batch 1 uses half); BENCH_MODELS — comma list (default
// resnet8,mobilenetv2). Writes bench/results/deploy.json and bench/results/deploy.md.
import fs, { writeFileSync, renameSync, existsSync, readFileSync } from 'node:fs';
import { save, environment, printTable } from './lib.mjs';
import { runtime } from '../dist/core/runtime.js';
import { createModel, describeModel } from '../dist/nn/zoo.js';
import { quantLayers, startProfile, finishProfile } from '../dist/nn/quant.js';
import { Tensor, stepScope, noGrad } from '../dist/autograd/tensor.js';
import { exportModel, encodeModel, loadModel, layerParams, layerChannels } from '../dist/deploy/index.js';
import { decode } from '../dist/formats/codes.js';
import { parseFormat } from '../dist/formats/format.js';
import { loadDataset } from '../dist/data/node/load.js';
import { LayerRunner } from '../dist/deploy/layer-runner.js';
import { loadTf } from './tfjs-models.mjs';

const env = process.env;
const WINDOWS = Number(env.BENCH_WINDOWS ?? 9);
const TIME = Number(env.BENCH_TIME_MS ?? 400);
const MODELS = (env.BENCH_MODELS ?? 'resnet8,mobilenetv2').split(',').map((s) => s.trim()).filter(Boolean);
const SHAPE = [28, 28, 1];
const PER = SHAPE[0] * SHAPE[1] * SHAPE[2];
const BATCHES = [1, 64];
const PROFILE_FORMATS = ['INT4', 'INT5', 'INT6', 'INT7', 'INT8'];

// resnet8: the formats of a real search (study run fliqs-int-l-w1-0.5xINT8-s0, result.json layers[].format;
// its in-budget result, 0.908× the 0.5×INT8 BOPs target), weight and input format alike, in quantLayers order.
const RESNET8_SEARCH_RUN = 'runs/study-w1/fliqs-int-l-w1-0.5xINT8-s0/result.json';
const RESNET8_SEARCHED = ['INT6', 'INT6', 'INT6', 'INT5', 'INT5', 'INT6', 'INT4', 'INT5', 'INT8', 'INT6'];
// mobilenetv2: no search run at width 1 exists, so a hand-made mix in the spirit of the resnet8 search
// (NOT a search result): stem INT6, depthwise 3×3 INT6, 1×1 expand INT5, 1×1 project INT6, head 1×1 INT4, fc INT6.
function mobilenetMix(name) {
  if (name.startsWith('stem.')) return 'INT6';
  if (name.includes('.depthwise.')) return 'INT6';
  if (name.includes('.expand.')) return 'INT5';
  if (name.includes('.project.')) return 'INT6';
  if (name.startsWith('head.')) return 'INT4';
  if (name === 'fc') return 'INT6';
  throw new Error(`mobilenetv2 mix: no rule for layer ${name}`);
}
const MOBILENET_MIX_NOTE = 'hand-made (no width-1 mobilenetv2 search exists): stem INT6, depthwise INT6, expand 1×1 INT5, project 1×1 INT6, head 1×1 INT4, fc INT6 (weights and inputs alike)';

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const gc = () => globalThis.gc?.();

/** Fashion-MNIST (normalized as the library trains on it): a few train batches to profile clips, test images to time. */
function data() {
  const ds = loadDataset('fashion-mnist', { limit: { train: 4 * 64, validation: 64, test: 1024 } });
  return { train: ds.train, test: ds.test, source: 'Fashion-MNIST test split (first 512 images of the stratified order), normalized' };
}

/** resnet8's searched formats by layer name, from the run's result.json when it is here (else the list above). */
function resnet8Searched(names) {
  try {
    const file = new URL(`../${RESNET8_SEARCH_RUN}`, import.meta.url);
    if (existsSync(file)) {
      const r = JSON.parse(readFileSync(file, 'utf8'));
      const byName = new Map(r.layers.map((l) => [l.name, l.format]));
      const f = names.map((n) => byName.get(n));
      if (f.every(Boolean)) {
        if (f.join(' ') !== RESNET8_SEARCHED.join(' ')) console.warn(`note: ${RESNET8_SEARCH_RUN} has ${f.join(' ')}, this file quotes ${RESNET8_SEARCHED.join(' ')}; using the run's`);
        return { formats: f, source: `${RESNET8_SEARCH_RUN} (layers[].format)` };
      }
    }
  } catch { /* fall through */ }
  return { formats: RESNET8_SEARCHED.slice(), source: 'the formats of study run fliqs-int-l-w1-0.5xINT8-s0, quoted here (its run directory is not present)' };
}

/** A fresh zoo model with activation clips profiled on 4 Fashion-MNIST training batches (train mode, no grad). */
function profiledModel(name, train) {
  const model = createModel(name, { width: 1, inputShape: SHAPE, classes: 10, seed: 1 });
  const info = describeModel(model, SHAPE);
  startProfile(model);
  model.train();
  for (let i = 0; i < 4; i++) {
    stepScope(() => noGrad(() => { model.forward(Tensor.from(train.images.subarray(i * 64 * PER, (i + 1) * 64 * PER), [64, ...SHAPE])); }));
  }
  finishProfile(model, PROFILE_FORMATS);
  model.eval();
  return { model, info };
}

/** The variants of one model: per searched layer, its formats. */
function variants(name, layerNames) {
  const mixed = name === 'resnet8' ? resnet8Searched(layerNames)
    : name === 'mobilenetv2' ? { formats: layerNames.map(mobilenetMix), source: MOBILENET_MIX_NOTE }
      : null;
  const v = [
    { key: 'fp32', label: 'ours FP32', formats: layerNames.map(() => 'FP32') },
    { key: 'int8', label: 'ours INT8', formats: layerNames.map(() => 'INT8') },
    { key: 'int4w', label: 'ours INT4w/INT8a', formats: layerNames.map(() => ({ weight: 'INT4', activation: 'INT8' })) },
  ];
  if (mixed) v.push({ key: 'mixed', label: 'ours mixed', formats: mixed.formats, note: mixed.source });
  return v;
}

const fmtName = (f) => (typeof f === 'string' ? f : `${f.weight}w/${f.activation}a`);
const bitsOf = (f) => parseFormat(f).bits;

/** Bit-ops of a format assignment relative to all-INT8 (Σ MACs·wbits·abits). */
function bopsVsInt8(info, formats) {
  let b = 0, b8 = 0;
  info.forEach((l, i) => {
    const f = formats[i];
    const [w, a] = typeof f === 'string' ? [f, f] : [f.weight, f.activation];
    b += l.macs * bitsOf(w) * bitsOf(a);
    b8 += l.macs * 64;
  });
  return b / b8;
}

/** .fliqs size vs Σ bits·params/8 + the JSON header, with the rest broken down. */
function sizeReport(spec, bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const json = dv.getUint32(8, true);
  const codeBits = spec.layers.reduce((a, l) => a + bitsOf(l.weightFormat) * layerParams(l), 0);
  const codeBytes = spec.weights.reduce((a, w) => a + w.codes.byteLength, 0);
  const perChannel = spec.weights.reduce((a, w) => a + w.weightScale.byteLength + w.outScale.byteLength + w.outBias.byteLength, 0);
  const channels = spec.layers.reduce((a, l) => a + layerChannels(l), 0);
  const params = spec.layers.reduce((a, l) => a + layerParams(l), 0);
  const ideal = codeBits / 8 + json;
  // the issue puts the per-channel scales in the header; with them counted there, what remains is framing
  const idealWithScales = ideal + perChannel;
  return {
    bytes: bytes.length, jsonHeader: json, sumBitsParamsOver8: codeBits / 8, ideal, overVsIdeal: bytes.length / ideal - 1,
    idealWithScales, overVsHeaderWithScales: bytes.length / idealWithScales - 1,
    params, channels, codeBytes, perChannelF32Bytes: perChannel, framingBytes: bytes.length - json - codeBytes - perChannel,
  };
}

/**
 * TF.js peer built from an FP32 spec: the same graph, weights decoded and the output affine folded
 * (w·outScale, bias = outBias); a conv / depthwise / linear whose only reader is a ReLU / ReLU6 runs as
 * tf.fused.* with that activation. Returns { forward(Float32Array, n) → Float32Array logits, dispose }.
 */
function tfFromSpec(tf, spec) {
  const reads = new Array(spec.graph.length + 1).fill(0);
  const readers = new Array(spec.graph.length + 1).fill(null).map(() => []);
  spec.graph.forEach((n, i) => { for (const v of n.op === 'add' ? [n.input, n.other] : [n.input]) { reads[v]++; readers[v].push(i); } });
  const params = spec.layers.map((l, k) => {
    const w = spec.weights[k];
    const C = layerChannels(l), P = layerParams(l);
    const f = parseFormat(l.weightFormat);
    if (f.kind !== 'fp32') throw new Error(`TF.js peer: layer ${l.name} is ${l.weightFormat}, not FP32`);
    const vals = decode(f, unpack32(w.codes, P));
    for (let i = 0; i < P; i++) vals[i] = vals[i] / w.weightScale[i % C] * w.outScale[i % C];
    const shape = l.kind === 'depthwise' ? [l.weightShape[0], l.weightShape[1], C, 1] : l.weightShape;
    return { w: tf.tensor(vals, shape), b: tf.tensor1d(Float32Array.from(w.outBias)) };
  });
  const fuseWith = spec.graph.map((n, i) => {
    if (n.op !== 'layer' || reads[i + 1] !== 1) return null;
    const r = spec.graph[readers[i + 1][0]];
    return r.op === 'relu' || r.op === 'relu6' ? r.op : null;
  });
  const forward = (images, n) => {
    const out = tf.tidy(() => {
      const v = [tf.tensor4d(images, [n, ...spec.info.inputShape])];
      const passthrough = new Set();
      spec.graph.forEach((node, i) => {
        const x = v[node.input];
        let y;
        if (passthrough.has(i)) y = x;
        else if (node.op === 'layer') {
          const l = spec.layers[node.layer], { w, b } = params[node.layer];
          const activation = fuseWith[i] ?? 'linear';
          if (activation !== 'linear') passthrough.add(readers[i + 1][0]);
          const pad = l.padding[0] === l.padding[1] ? l.padding[0] : [[0, 0], [l.padding[0], l.padding[0]], [l.padding[1], l.padding[1]], [0, 0]];
          if (l.kind === 'conv') y = tf.fused.conv2d({ x, filter: w, strides: l.stride, pad, bias: b, activation });
          else if (l.kind === 'depthwise') y = tf.fused.depthwiseConv2d({ x, filter: w, strides: l.stride, pad, bias: b, activation });
          else y = tf.fused.matMul({ a: x, b: w, bias: b, activation });
        } else if (node.op === 'relu') y = tf.relu(x);
        else if (node.op === 'relu6') y = tf.relu6(x);
        else if (node.op === 'add') y = tf.add(x, v[node.other]);
        else if (node.op === 'flatten') y = tf.reshape(x, [x.shape[0], -1]);
        else if (node.op === 'globalAvgPool') y = tf.mean(x, [1, 2]);
        else if (node.op === 'maxPool' || node.op === 'avgPool') {
          const [t, l, bo, r] = node.padding;
          const pad = t || l || bo || r ? [[0, 0], [t, bo], [l, r], [0, 0]] : 'valid';
          y = (node.op === 'maxPool' ? tf.maxPool : tf.avgPool)(x, node.kernel, node.stride, pad);
        } else throw new Error(`TF.js peer: no op ${node.op}`);
        v.push(y);
      });
      return v[v.length - 1];
    });
    const logits = out.dataSync();
    out.dispose();
    return logits;
  };
  return { forward, dispose: () => { for (const p of params) { p.w.dispose(); p.b.dispose(); } } };
}

/** FP32 codes (packed 32-bit little-endian) as a Uint32Array. */
function unpack32(codes, n) {
  const c = new Uint8Array(codes);
  return new Uint32Array(c.buffer, 0, n);
}

/** The ONNX exporter and ONNX Runtime, when both are here; else the reason they are missing. */
async function loadOnnx() {
  let exportOnnx;
  try {
    const mod = await import('../dist/deploy/onnx/export.js');
    exportOnnx = mod.exportOnnx;
    if (typeof exportOnnx !== 'function') return { missing: 'dist/deploy/onnx/export.js has no exportOnnx' };
  } catch (e) {
    return { missing: `exportOnnx not available (${e.message.split('\n')[0]})` };
  }
  try {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    return { exportOnnx, ort, version: ort.env.versions?.web ?? '?' };
  } catch (e) {
    return { missing: `onnxruntime-web not loadable (${e.message.split('\n')[0]})` };
  }
}

async function ortSession(onnx, bytes) {
  const { ort } = onnx;
  const s = await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const input = s.inputNames[0], output = s.outputNames[0];
  const run = async (images, n) => {
    const r = await s.run({ [input]: new ort.Tensor('float32', images, [n, ...SHAPE]) });
    const t = r[output];
    const logits = t.data;
    for (const k of Object.keys(r)) r[k].dispose?.();
    return logits;
  };
  return { run, release: () => s.release() };
}

/** max |a − b| over max |b|, and the share of rows whose argmax agrees. */
function agreement(a, b, K = 10) {
  let e = 0, m = 0, same = 0;
  for (let i = 0; i < b.length; i++) { e = Math.max(e, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  const arg = (x, r) => { let best = 0; for (let k = 1; k < K; k++) if (x[r * K + k] > x[r * K + best]) best = k; return best; };
  for (let r = 0; r < b.length / K; r++) if (arg(a, r) === arg(b, r)) same++;
  return { relMaxErr: e / (m || 1), argmaxAgree: same / (b.length / K) };
}

/**
 * Where our batch-64 predict spends its time, measured bench-side (src/ untouched): every exported wasm
 * kernel wrapped with a timer (runtime.kernels swapped for the duration), and LayerRunner.prototype.run
 * timed per layer. Returns ms per batch by kernel and by layer, and the whole predict.
 */
function oursBreakdown(q, images, n, reps) {
  const rt = q.runtime, orig = rt.kernels;
  const byKernel = new Map(), byLayer = new Map();
  const wrapped = {};
  for (const k of Object.keys(orig)) {
    const f = orig[k];
    wrapped[k] = typeof f !== 'function' ? f : (...a) => {
      const t = performance.now();
      try { return f(...a); } finally { byKernel.set(k, (byKernel.get(k) ?? 0) + performance.now() - t); }
    };
  }
  const run = LayerRunner.prototype.run;
  LayerRunner.prototype.run = function (x) {
    const t = performance.now();
    try { return run.call(this, x); } finally {
      const l = this.layer, key = `${l.name} ${l.kind} ${this.path} [${x.shape.join('×')}] w ${l.weightShape.join('×')}${l.kind === 'linear' ? '' : ` s${l.stride[0]}`}`;
      byLayer.set(key, (byLayer.get(key) ?? 0) + performance.now() - t);
    }
  };
  rt.kernels = wrapped;
  let total = 0;
  try {
    q.predict(images, { batchSize: n });
    byKernel.clear(); byLayer.clear();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) q.predict(images, { batchSize: n });
    total = (performance.now() - t0) / reps;
  } finally {
    rt.kernels = orig;
    LayerRunner.prototype.run = run;
  }
  const per = (m) => Object.fromEntries([...m].map(([k, v]) => [k, v / reps]));
  return { msPerBatch: total, kernels: per(byKernel), layers: per(byLayer) };
}

/**
 * Which ONNX Runtime kernels a session runs, per call: a profiling session (its trace, which the wasm
 * build writes to stdout, is caught from fs.writeSync for the moment of endProfiling), 2 calls.
 */
async function ortOpCensus(onnx, bytes, images, n) {
  const { ort } = onnx;
  const s = await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, enableProfiling: true,
  });
  const calls = 3; // the first (allocating, prepacking) call is left out of the census
  for (let i = 0; i < calls; i++) await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', images, [n, ...SHAPE]) });
  const chunks = [];
  const write = fs.writeSync;
  fs.writeSync = (fd, buf, ...rest) => {
    if (fd !== 1) return write(fd, buf, ...rest);
    if (typeof buf === 'string') { chunks.push(buf); return buf.length; }
    const len = typeof rest[1] === 'number' ? rest[1] : buf.byteLength;
    const off = typeof rest[0] === 'number' ? rest[0] : 0;
    chunks.push(Buffer.from(buf.buffer, buf.byteOffset + off, len).toString());
    return len;
  };
  try { s.endProfiling(); } finally { fs.writeSync = write; }
  await s.release();
  const events = [];
  for (const line of chunks.join('').split('\n')) {
    if (!line.includes('_kernel_time')) continue;
    const op = /"op_name" *: *"(\w+)"/.exec(line)?.[1], dur = Number(/"dur" *: *(\d+)/.exec(line)?.[1] ?? 0);
    const ts = Number(/"ts" *: *(\d+)/.exec(line)?.[1] ?? 0);
    if (op) events.push({ op, dur, ts });
  }
  events.sort((a, b) => a.ts - b.ts);
  const perRun = events.length / calls;
  if (!Number.isInteger(perRun)) return null;
  const ops = {};
  for (const e of events.slice(perRun)) {
    const o = (ops[e.op] ??= { perCall: 0, msPerCall: 0 });
    o.perCall += 1 / (calls - 1); o.msPerCall += e.dur / 1000 / (calls - 1);
  }
  return Object.keys(ops).length ? ops : null;
}

/**
 * Interleaved timing: `WINDOWS` rounds; each round runs every contender (in rotated order) for a window of
 * at least minMs and minCalls calls, each call on the next input of the pool. Median ms/call → images/s.
 */
async function timeInterleaved(contenders, pool, n, { minMs, minCalls, warmMs }) {
  let next = 0;
  const input = () => pool[next++ % pool.length];
  const windowOf = async (c, ms, calls) => {
    gc();
    let k = 0;
    const t0 = performance.now();
    let dt = 0;
    while (k < calls || dt < ms) {
      if (c.sync) c.run(input(), n); else await c.run(input(), n);
      k++;
      dt = performance.now() - t0;
    }
    return dt / k;
  };
  for (const c of contenders) await windowOf(c, warmMs, 3);
  const per = new Map(contenders.map((c) => [c.key, []]));
  for (let w = 0; w < WINDOWS; w++) {
    for (let j = 0; j < contenders.length; j++) {
      const c = contenders[(j + w) % contenders.length];
      per.get(c.key).push(await windowOf(c, minMs, minCalls));
    }
  }
  return Object.fromEntries(contenders.map((c) => {
    const ms = per.get(c.key);
    return [c.key, { msPerCall: median(ms), imgPerS: n / (median(ms) / 1000), windowsMs: ms }];
  }));
}

export default async function run() {
  const t0 = performance.now();
  const { train, test, source } = data();
  const pools = Object.fromEntries(BATCHES.map((b) => [b, Array.from({ length: Math.max(8, 64 / b) }, (_, i) => test.images.slice(i * b * PER, (i + 1) * b * PER))]));
  const checkImages = test.images.slice(0, 512 * PER);
  const tf = await loadTf('wasm');
  const onnx = await loadOnnx();
  if (onnx.missing) console.warn(`ONNX Runtime columns missing: ${onnx.missing}`);

  const results = [];
  for (const name of MODELS) {
    const { model, info } = profiledModel(name, train);
    const names = quantLayers(model).map(([n]) => n);
    const vs = variants(name, names);
    const r = { model: name, layers: names.length, variants: {}, peers: {}, timing: {} };
    const contenders = [];
    const meta = { info: { model: name, width: 1, inputShape: SHAPE, classes: 10, source: { bench: 'deploy', seed: 1, weights: 'untrained (profiled clips)' } } };
    let fp32Spec = null, int8Spec = null;
    for (const v of vs) {
      const spec = exportModel(model, v.formats, meta);
      const bytes = encodeModel(spec);
      const q = loadModel(bytes);
      const paths = {};
      for (const p of q.layerPaths) paths[p.path] = (paths[p.path] ?? 0) + 1;
      r.variants[v.key] = {
        label: v.label, formats: v.formats.map(fmtName), note: v.note, bopsVsInt8: bopsVsInt8(info, v.formats),
        size: sizeReport(spec, bytes), residentBytes: q.residentBytes, paths,
      };
      contenders.push({ key: v.key, label: v.label, sync: true, run: (x, n) => q.predict(x, { batchSize: n }), free: () => q.free(), q });
      if (v.key === 'fp32') fp32Spec = spec;
      if (v.key === 'int8') int8Spec = spec;
    }
    // Peers.
    const ours = Object.fromEntries(contenders.map((c) => [c.key, c.q.predict(checkImages, { batchSize: 64 })]));
    const tfm = tfFromSpec(tf, fp32Spec);
    contenders.push({ key: 'tfjs', label: 'TF.js-wasm FP32', sync: true, run: (x, n) => tfm.forward(x, n), free: () => tfm.dispose() });
    const tfLogits = new Float32Array(checkImages.length / PER * 10);
    for (let i = 0; i < 8; i++) tfLogits.set(tfm.forward(checkImages.subarray(i * 64 * PER, (i + 1) * 64 * PER), 64), i * 640);
    r.peers.tfjs = { label: 'TF.js-wasm FP32 (1 thread)', vsOursFp32: agreement(tfLogits, ours.fp32) };
    if (!onnx.missing) {
      for (const [key, spec, label, ref] of [['ortFp32', fp32Spec, 'ORT FP32', 'fp32'], ['ortQdq', int8Spec, 'ORT QDQ INT8', 'int8']]) {
        try {
          const bytes = onnx.exportOnnx(spec);
          const s = await ortSession(onnx, bytes);
          const got = new Float32Array(checkImages.length / PER * 10);
          for (let i = 0; i < 8; i++) got.set(await s.run(checkImages.slice(i * 64 * PER, (i + 1) * 64 * PER), 64), i * 640);
          r.peers[key] = { label: `${label} (onnxruntime-web ${onnx.version}, wasm, 1 thread)`, onnxBytes: bytes.length, [`vsOurs${ref === 'fp32' ? 'Fp32' : 'Int8'}`]: agreement(got, ours[ref]) };
          contenders.push({ key, label, sync: false, run: s.run, free: () => s.release(), onnxBytes: bytes });
        } catch (e) {
          r.peers[key] = { label, missing: `failed: ${e.message.split('\n')[0]}` };
          console.warn(`${name} ${label}: ${e.message}`);
        }
      }
    } else {
      r.peers.ortFp32 = { label: 'ORT FP32', missing: onnx.missing };
      r.peers.ortQdq = { label: 'ORT QDQ INT8', missing: onnx.missing };
    }
    for (const b of BATCHES) {
      r.timing[b] = await timeInterleaved(contenders, pools[b], b, b === 1
        ? { minMs: TIME / 2, minCalls: 20, warmMs: TIME }
        : { minMs: TIME, minCalls: 3, warmMs: TIME });
      console.log(`${name} batch ${b}: ${contenders.map((c) => `${c.label} ${r.timing[b][c.key].imgPerS.toFixed(0)}`).join(', ')} img/s`);
    }
    // Where the time goes (after the timed windows, so the timers cannot disturb them).
    r.breakdown = {};
    for (const c of contenders.filter((c) => c.q && c.key !== 'mixed')) r.breakdown[c.key] = oursBreakdown(c.q, pools[64][0], 64, 8);
    r.ortOps = {};
    for (const c of contenders.filter((c) => c.onnxBytes)) {
      try { r.ortOps[c.key] = await ortOpCensus(onnx, c.onnxBytes, pools[64][0], 64); } catch (e) { r.ortOps[c.key] = null; console.warn(`ORT op census ${c.key}: ${e.message}`); }
    }
    for (const c of contenders) c.free();
    model.free?.();
    results.push(r);
  }

  // Tables, ratios, goals.
  const img = (r, b, k) => r.timing[b]?.[k]?.imgPerS ?? null;
  const f0 = (v) => (v == null ? 'missing' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const x2 = (a, b) => (a == null || b == null ? 'missing' : `${(a / b).toFixed(2)}×`);
  const cols = [['fp32', 'ours FP32'], ['int8', 'ours INT8'], ['int4w', 'ours INT4w/INT8a'], ['mixed', 'ours mixed'], ['tfjs', 'TF.js-wasm FP32'], ['ortFp32', 'ORT FP32'], ['ortQdq', 'ORT QDQ INT8']];
  const speedRows = [];
  for (const r of results) for (const b of BATCHES) speedRows.push([r.model, String(b), ...cols.map(([k]) => f0(img(r, b, k)))]);
  const ratioRows = [];
  for (const r of results) {
    for (const b of BATCHES) {
      ratioRows.push([r.model, String(b), x2(img(r, b, 'int8'), img(r, b, 'fp32')), x2(img(r, b, 'int4w'), img(r, b, 'int8')),
        x2(img(r, b, 'mixed'), img(r, b, 'int8')), x2(img(r, b, 'int8'), img(r, b, 'ortQdq')), x2(img(r, b, 'fp32'), img(r, b, 'tfjs')), x2(img(r, b, 'fp32'), img(r, b, 'ortFp32')), x2(img(r, b, 'ortQdq'), img(r, b, 'ortFp32'))]);
    }
  }
  const sizeRows = [];
  for (const r of results) {
    for (const [k, v] of Object.entries(r.variants)) {
      const s = v.size;
      sizeRows.push([r.model, v.label, String(s.bytes), (s.sumBitsParamsOver8).toFixed(0), String(s.jsonHeader), s.ideal.toFixed(0),
        `${(100 * s.overVsIdeal).toFixed(1)}%`, String(s.perChannelF32Bytes), String(s.framingBytes), String(v.residentBytes)]);
      void k;
    }
  }
  const goals = [];
  const goal = (text, pairs, min) => {
    const figs = pairs.map(([label, a, b]) => ({ label, v: a == null || b == null ? null : a / b }));
    const missing = figs.some((f) => f.v == null);
    const met = !missing && figs.every((f) => f.v >= min);
    goals.push({ goal: text, status: missing ? 'missing' : met ? 'met' : 'not met', figures: figs.map((f) => `${f.label} ${f.v == null ? 'missing' : `${f.v.toFixed(2)}×`}`).join('; ') });
  };
  goal('ours INT8 ≥ 1.7× ours FP32 at batch 64', results.map((r) => [r.model, img(r, 64, 'int8'), img(r, 64, 'fp32')]), 1.7);
  goal('INT4 weights ≥ INT8 (INT4w/INT8a vs INT8)', results.flatMap((r) => BATCHES.map((b) => [`${r.model} b${b}`, img(r, b, 'int4w'), img(r, b, 'int8')])), 1.0);
  goal('ours INT8 ≥ 1.5× ONNX Runtime QDQ INT8, 1 thread', results.flatMap((r) => BATCHES.map((b) => [`${r.model} b${b}`, img(r, b, 'int8'), img(r, b, 'ortQdq')])), 1.5);
  {
    // Say so when ORT ran the QDQ export without any integer kernel (its profiler's census).
    const g = goals[goals.length - 1];
    const floatOnly = results.some((r) => r.ortOps?.ortQdq && !Object.keys(r.ortOps.ortQdq).some((op) => /QLinear|Integer/.test(op)));
    if (floatOnly && g.status === 'met') g.status = 'met, but ORT runs the QDQ export on float kernels (see note)';
  }
  {
    // "header" as the issue lists it: the JSON plus the per-layer per-channel scales (and the folded affine)
    const figs = results.flatMap((r) => Object.values(r.variants).filter((v) => v.label !== 'ours FP32').map((v) => ({ label: `${r.model} ${v.label}`, v: v.size.overVsHeaderWithScales })));
    goals.push({ goal: '.fliqs size within 2% of Σ bits·params/8 + header (header = JSON + per-channel scale / affine vectors, as the issue lists them)', status: figs.every((f) => f.v <= 0.02) ? 'met' : 'not met',
      figures: figs.map((f) => `${f.label} +${(100 * f.v).toFixed(2)}%`).join('; ') });
    const strict = results.flatMap((r) => Object.values(r.variants).filter((v) => v.label !== 'ours FP32').map((v) => ({ label: `${r.model} ${v.label}`, v: v.size.overVsIdeal })));
    goals.push({ goal: 'the same with only the JSON counted as header (per-channel vectors as overhead: 12 bytes per output channel)', status: strict.every((f) => f.v <= 0.02) ? 'met' : 'not met',
      figures: strict.map((f) => `${f.label} +${(100 * f.v).toFixed(1)}%`).join('; ') });
  }

  const command = 'npm run bench deploy';
  const envInfo = environment({ command, variant: runtime.variant ?? 'default', windows: WINDOWS, windowMs: TIME, data: source, tfjs: tf.version?.tfjs ?? tf.version_core, ort: onnx.missing ? `missing: ${onnx.missing}` : onnx.version, wallSeconds: (performance.now() - t0) / 1000 });
  console.log(`\nInference throughput, images/s (median of ${WINDOWS} interleaved windows; 28×28×1, width 1, 10 classes)\n`);
  const speedHeader = ['model', 'batch', ...cols.map(([, l]) => l)];
  printTable(speedHeader, speedRows);
  const ratioHeader = ['model', 'batch', 'INT8 / FP32', 'INT4w / INT8', 'mixed / INT8', 'INT8 / ORT QDQ', 'FP32 / TF.js', 'FP32 / ORT FP32', 'ORT QDQ / ORT FP32'];
  console.log('');
  printTable(ratioHeader, ratioRows);
  const sizeHeader = ['model', 'variant', '.fliqs bytes', 'Σ bits·params/8', 'JSON header', 'ideal', 'over ideal', 'per-channel f32 bytes', 'framing', 'resident bytes'];
  console.log('');
  printTable(sizeHeader, sizeRows);
  console.log('');
  printTable(['goal', 'status', 'figures'], goals.map((g) => [g.goal, g.status, g.figures]));

  const md = markdown({ results, speedHeader, speedRows, ratioHeader, ratioRows, sizeHeader, sizeRows, goals, envInfo, onnx });
  const mdPath = new URL('./results/deploy.md', import.meta.url);
  const tmp = new URL(`./results/deploy.md.tmp-${process.pid}`, import.meta.url);
  writeFileSync(tmp, md);
  renameSync(tmp, mdPath);
  const path = save('deploy', { environment: envInfo, goals, results });
  console.log(`\nsaved ${path} and ${mdPath.pathname} (${envInfo.wallSeconds.toFixed(0)} s)`);
}

function markdown({ results, speedHeader, speedRows, ratioHeader, ratioRows, sizeHeader, sizeRows, goals, envInfo, onnx }) {
  const table = (h, rows) => [`| ${h.join(' | ')} |`, `| ${h.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const lines = [];
  lines.push('# Deployed-model inference: throughput and file size');
  lines.push('');
  lines.push(`Reproduce: \`${envInfo.command}\` (runs \`bench/deploy.bench.mjs\`; node ${envInfo.node} --experimental-wasm-relaxed-simd).`);
  lines.push(`Machine: ${envInfo.cpu}, ${envInfo.cores} cores, **shared and noisy** — figures move by ±10–20% between runs; every contender is single-threaded and they are timed interleaved in one run. ${envInfo.date}, ${envInfo.wallSeconds.toFixed(0)} s wall.`);
  lines.push('');
  lines.push(`What is timed: \`loadModel(bytes).predict(images, { batchSize })\` on a plain Float32Array of ${envInfo.data}, logits returned — warm-up, then ${envInfo.windows} interleaved windows per contender (≥ ${envInfo.windowMs} ms at batch 64, ≥ ${envInfo.windowMs / 2} ms and 20 calls at batch 1), median. Models: zoo resnet8 and mobilenetv2, width 1, 28×28×1, 10 classes, seed 1, untrained weights (speed does not depend on them) with activation clips profiled on 4 Fashion-MNIST training batches.`);
  lines.push('');
  lines.push('Peers: **TF.js-wasm FP32** (tfjs ' + envInfo.tfjs + ', 1 thread) runs the same inference graph built from our FP32 spec — batch-norm folded into the conv weights and bias, conv/depthwise/dense + ReLU(6) as `tf.fused.*` — input tensor created and logits read back (`dataSync`) per call. '
    + (onnx.missing ? `**ONNX Runtime: missing** (${onnx.missing}).` : `**ONNX Runtime** (onnxruntime-web ${onnx.version}, wasm, 1 thread, graph optimisation 'all') on \`exportOnnx(spec)\` of the FP32 spec and of the INT8 spec (a QDQ graph), logits read back.`));
  lines.push('');
  lines.push('## Images/s');
  lines.push('');
  lines.push(table(speedHeader, speedRows));
  lines.push('');
  lines.push('## Ratios');
  lines.push('');
  lines.push(table(ratioHeader, ratioRows));
  lines.push('');
  lines.push('## Goals (from the issue)');
  lines.push('');
  lines.push(table(['goal', 'status', 'figures'], goals.map((g) => [g.goal, `**${g.status}**`, g.figures])));
  lines.push('');
  lines.push('## File size');
  lines.push('');
  lines.push('`ideal` = Σ over layers of weight bits · params / 8, plus the JSON header. The rest of a .fliqs file: per output channel three f32 vectors (weightScale, outScale, outBias = 12 bytes per channel), and framing (12-byte prefix, 4-byte alignment padding, 4-byte CRC). `resident bytes` = wasm memory the loaded model keeps for its weights (`residentBytes`).');
  lines.push('');
  lines.push(table(sizeHeader, sizeRows));
  lines.push('');
  const onnxSizes = results.flatMap((r) => ['ortFp32', 'ortQdq'].filter((k) => r.peers[k]?.onnxBytes).map((k) => `${r.model} ${r.peers[k].label.split(' (')[0]}: ${r.peers[k].onnxBytes} bytes`));
  if (onnxSizes.length) lines.push(`ONNX files: ${onnxSizes.join('; ')}.`, '');
  lines.push('## Variants');
  lines.push('');
  for (const r of results) {
    for (const v of Object.values(r.variants)) {
      lines.push(`- ${r.model} ${v.label}: ${v.bopsVsInt8.toFixed(3)}× INT8 BOPs; kernel paths ${Object.entries(v.paths).map(([p, n]) => `${p} ×${n}`).join(', ')}${v.label === 'ours mixed' ? `; formats ${v.formats.join(' ')} — ${v.note}` : ''}`);
    }
  }
  lines.push('');
  lines.push('## Where the time goes (batch 64)');
  lines.push('');
  lines.push('Measured after the timed windows, bench-side: each exported wasm kernel wrapped with a timer, and `LayerRunner.run` timed per layer (mean of 8 predicts of 64 images; the timers add a little). `other` = the predict minus its kernels (JS, copies, allocation).');
  lines.push('');
  for (const r of results) {
    const keys = Object.keys(r.breakdown);
    const lbl = (k) => r.variants[k].label.replace('ours ', '');
    const kernels = [...new Set(keys.flatMap((k) => Object.keys(r.breakdown[k].kernels)))]
      .map((name) => [name, keys.map((k) => r.breakdown[k].kernels[name] ?? 0)])
      .filter(([, v]) => Math.max(...v) >= 0.05).sort((a, b) => Math.max(...b[1]) - Math.max(...a[1]));
    const f2 = (v) => (v ? v.toFixed(2) : '–');
    const rows = kernels.map(([name, v]) => [name, ...v.map(f2)]);
    rows.push(['other', ...keys.map((k) => f2(r.breakdown[k].msPerBatch - Object.values(r.breakdown[k].kernels).reduce((a, b) => a + b, 0)))]);
    rows.push(['**predict, total**', ...keys.map((k) => `**${r.breakdown[k].msPerBatch.toFixed(2)}**`)]);
    lines.push(`${r.model}, ms per batch of 64 by kernel:`);
    lines.push('');
    lines.push(table(['kernel', ...keys.map(lbl)], rows));
    lines.push('');
    const layerNames = Object.keys(r.breakdown.fp32?.layers ?? {});
    const layerOf = (k, i) => Object.values(r.breakdown[k].layers)[i];
    const pathOf = (k, i) => Object.keys(r.breakdown[k].layers)[i]?.split(' ')[2] ?? '?';
    lines.push(`${r.model}, ms per batch of 64 by layer (layer, kind, input shape, weight shape, stride; each variant's kernel path):`);
    lines.push('');
    lines.push(table(['layer', ...keys.map(lbl)], layerNames.map((n, i) => [n.replace(/ f32 /, ' '), ...keys.map((k) => `${f2(layerOf(k, i))} (${pathOf(k, i)})`)])));
    lines.push('');
  }
  const census = results.filter((r) => r.ortOps && Object.values(r.ortOps).some(Boolean));
  if (census.length) {
    lines.push('ONNX Runtime, the kernels its sessions run per call of 64 images (from its profiler; profiled durations):');
    lines.push('');
    for (const r of census) {
      const keys = Object.keys(r.ortOps).filter((k) => r.ortOps[k]);
      const ops = [...new Set(keys.flatMap((k) => Object.keys(r.ortOps[k])))];
      const cell = (k, op) => { const o = r.ortOps[k][op]; return o ? `${o.perCall.toFixed(0)} × / ${o.msPerCall.toFixed(2)} ms` : '–'; };
      lines.push(table([`${r.model} op`, ...keys.map((k) => (k === 'ortQdq' ? 'ORT QDQ INT8' : 'ORT FP32'))], ops.map((op) => [op, ...keys.map((k) => cell(k, op))])));
      lines.push('');
    }
    const qdqInt = census.some((r) => r.ortOps.ortQdq && Object.keys(r.ortOps.ortQdq).some((op) => /QLinear|Integer/.test(op)));
    lines.push(qdqInt
      ? 'The QDQ sessions run integer kernels (QLinear* / *Integer ops above).'
      : '**Note:** the QDQ INT8 sessions run no integer kernel (no QLinearConv / ConvInteger / MatMulInteger*): ONNX Runtime keeps float Conv/Gemm and executes the Clip → QuantizeLinear → DequantizeLinear of every layer input and the DequantizeLinear of every weight on each call. So “ours INT8 vs ORT QDQ INT8” compares against ORT running this export in float with extra ops, not against its int8 kernels.');
    lines.push('');
  }
  lines.push('## Output agreement (512 test images)');
  lines.push('');
  for (const r of results) {
    for (const [k, p] of Object.entries(r.peers)) {
      if (p.missing) { lines.push(`- ${r.model} ${p.label}: missing — ${p.missing}`); continue; }
      const a = p.vsOursFp32 ?? p.vsOursInt8;
      lines.push(`- ${r.model} ${p.label} vs ours ${p.vsOursFp32 ? 'FP32' : 'INT8'}: max |Δ| / max |logit| ${a.relMaxErr.toExponential(1)}, argmax agrees on ${(100 * a.argmaxAgree).toFixed(1)}%`);
      void k;
    }
  }
  lines.push('');
  return lines.join('\n');
}
