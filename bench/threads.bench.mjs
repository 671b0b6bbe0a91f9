// Thread scaling in one run (issue 13): every config timed at each thread count of --threads (default: 1 and
// the core count; counts above the cores run too, labelled oversubscribed), the counts interleaved in rounds
// (1,2 | 2,1 | 1,2 …, set with setThreads between windows, so a load change on the shared machine hits every
// count), median per config, ratios vs 1 thread:
//  - GEMM nn 512³ and 1024³ through the public API (kernels.gemm.gemm) with plain Float32Array operands
//    (copied in and out on every call, what a user calls) and with resident WasmF32 ones (runtime.copyIn);
//  - conv2d forward, grad-input and grad-weight (kernels.conv) on resnet8's and lenet5's layer shapes at batch 64;
//    GEMM and conv outputs must be bit-identical for every thread count (the suite fails otherwise);
//  - the training step (Trainer, Fashion-MNIST batches of 64, momentum SGD) of cnn and resnet8 in FP32 and
//    INT8-QAT, by wall time, its windows alternating with PyTorch CPU's (bench/torch-peer.mjs,
//    torch-training.py) at 1 thread, torch's default count and all cores;
//  - a search step (Search on cnn, int-s, 0.5xINT8, as bench/search.bench.mjs);
//  - `fliqs pareto --jobs 2` on 8 small runs vs the same sweep serially, at the default thread count and with
//    --threads 1 (skipped, saying so, when the CLI refuses --jobs).
// The machine is shared: every window also measures the cores other processes kept busy (/proc/stat minus our
// own CPU) and is measured again, up to BENCH_RETRIES (3) times, while they kept more than BENCH_BUSY_CORES
// (0.25); the load seen is saved with the results. Run it on an otherwise idle machine all the same.
// Usage: npm run bench threads [-- --threads 1,2,4,8]. Env: BENCH_ROUNDS (default 5), BENCH_KERNEL_MS (window
// per kernel config, default 120), BENCH_WINDOW_MS (training/search windows, default 600), BENCH_PARETO_STEPS
// (steps per pareto run, default 800), BENCH_PYTHON (the python with torch), BENCH_SKIP (comma list of
// gemm,conv,train,search,pareto).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { save, environment, printTable } from './lib.mjs';
import { findTorch, torchDefaultThreads, TorchPeer } from './torch-peer.mjs';
import {
  setThreads, getThreads, availableCores, stopThreads, runtime, kernels, createModel, describeModel, quantLayers, Trainer, Search, Rng, batches,
} from '../dist/index.js';
import { loadDataset } from '../dist/node.js';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const KERNEL_MS = Number(env.BENCH_KERNEL_MS ?? 120);
const WINDOW_MS = Number(env.BENCH_WINDOW_MS ?? 600);
const PARETO_STEPS = Number(env.BENCH_PARETO_STEPS ?? 800);
const SKIP = new Set((env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const BATCH = 64;
const SHAPE = [28, 28, 1];
const CORES = availableCores();
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** The thread counts of --threads N,M,… (or --threads=…), 1 always included, ascending; default [1, cores]. */
function threadList(argv) {
  let v = null;
  argv.forEach((a, i) => { if (a === '--threads') v = argv[i + 1] ?? ''; else if (a.startsWith('--threads=')) v = a.slice('--threads='.length); });
  if (v === null) return [...new Set([1, CORES])];
  const list = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) {
    console.error(`--threads: got ${JSON.stringify(v)}; expected a comma list of integers from 1 to 256, e.g. --threads 1,2,4,8`);
    process.exit(2);
  }
  return [...new Set([1, ...list])].sort((a, b) => a - b);
}

const THREADS = threadList(process.argv.slice(2));
const label = (t) => (t > CORES ? `${t} (oversubscribed)` : String(t));
/** Round r's order of the thread counts: ascending on even rounds, descending on odd ones (ABBA: a linear drift hits all alike). */
const orderOf = (r) => (r % 2 ? [...THREADS].reverse() : THREADS);

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; a[i] = s / 2 ** 32 - 0.5; }
  return a;
}

/** /proc/stat's busy and total jiffies over all cores, or null off Linux. */
function procStat() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + f[7], total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * Starts a meter of other processes' load: the returned function gives the cores kept busy since the start by
 * everything but this process and `extraCpuSeconds` (CPU spent meanwhile by a child we know of), or null off
 * Linux. /proc/stat counts in 10 ms ticks, so over a 100 ms window it is good to about ±0.1 core.
 */
function loadMeter() {
  const a = procStat(), c0 = process.cpuUsage(), t0 = performance.now();
  return (extraCpuSeconds = 0) => {
    const b = procStat();
    if (!a || !b || b.total === a.total) return null;
    const wall = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
    return Math.max(0, (CORES * (b.busy - a.busy)) / (b.total - a.total) - ((c.user + c.system) / 1e6 + extraCpuSeconds) / wall);
  };
}

/** Windows measured while other processes kept more than this many cores busy are measured again. */
const BUSY = Number(env.BENCH_BUSY_CORES ?? 0.25);
const RETRIES = Number(env.BENCH_RETRIES ?? 3);
/** Load of other processes seen by each section's windows (for the results): { windows, retried, meanOther }. */
const loadLog = {};

/**
 * One measurement by `measure` (→ { value, extraCpuSeconds? }) while other processes stay quiet: retried up to
 * RETRIES times while they keep more than BUSY cores busy (the least loaded try is kept). Returns the value.
 */
async function quiet(section, measure, retries = RETRIES) {
  const log = (loadLog[section] ??= { windows: 0, retried: 0, sumOther: 0, busyKept: 0 });
  let best = null;
  for (let k = 0; k <= retries; k++) {
    const meter = loadMeter();
    const m = await measure();
    const other = meter(m.extraCpuSeconds ?? 0);
    if (!best || other === null || other < best.other) best = { value: m.value, other };
    if (other === null || other <= BUSY) break;
    log.retried++;
  }
  log.windows++;
  log.sumOther += best.other ?? 0;
  if (best.other !== null && best.other > BUSY) log.busyKept++;
  return best.value;
}

/** CPU seconds of this process's finished (waited-for) children, from /proc/self/stat (USER_HZ 100); 0 off Linux. */
function childCpuSeconds() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16 and 17)
  } catch {
    return 0;
  }
}

/** Cores kept busy by other processes over `ms` while this one sleeps (null off Linux). */
async function otherLoad(ms = 1000) {
  const meter = loadMeter();
  await new Promise((r) => setTimeout(r, ms));
  return meter();
}

/** Milliseconds per call of fn over a window of at least minMs and minCalls calls, after one untimed call (pool start, first touch). */
function msPerCall(fn, minMs, minCalls = 3) {
  fn();
  let n = 0, dt = 0;
  const t0 = performance.now();
  while (n < minCalls || dt < minMs) { fn(); n++; dt = performance.now() - t0; }
  return dt / n;
}

/**
 * Kernel configs ({ name, run, output() → typed array }) timed in ROUNDS rounds, each round every thread count
 * (setThreads between) and under it every config; after each window the config's output is compared bit for bit
 * with the first one seen. Returns the configs with ms[t] = the windows' ms per call.
 */
async function kernelRounds(section, configs) {
  for (const c of configs) c.ms = Object.fromEntries(THREADS.map((t) => [t, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of orderOf(r)) {
      setThreads(t);
      for (const c of configs) {
        c.ms[t].push(await quiet(section, () => ({ value: msPerCall(c.run, KERNEL_MS) })));
        const out = c.output();
        const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        if (!c.ref) { c.ref = bytes.slice(); c.refThreads = t; continue; }
        if (Buffer.compare(c.ref, bytes) !== 0) {
          throw new Error(`${c.name}: the output at ${t} threads differs from the one at ${c.refThreads} (results must be bit-identical for any thread count)`);
        }
      }
    }
  }
  return configs.map(({ name, group, op, shape, macs, ms }) => summarize({ name, group, op, shape, macs, windows: ms }));
}

/** Medians per thread count and speedups vs 1 thread. */
function summarize(r) {
  r.medianMs = Object.fromEntries(THREADS.map((t) => [t, median(r.windows[t])]));
  r.speedup = Object.fromEntries(THREADS.map((t) => [t, r.medianMs[1] / r.medianMs[t]]));
  return r;
}

function gemmConfigs() {
  const out = [];
  for (const n of [512, 1024]) {
    const A = rand(n * n, 1), B = rand(n * n, 2), C = new Float32Array(n * n);
    out.push({ group: 'gemm', name: `GEMM nn ${n}³, Float32Array operands`, shape: `${n}³`, macs: n ** 3,
      run: () => kernels.gemm.gemm('nn', n, n, n, 1, A, n, B, n, 0, C, n), output: () => C });
    const RA = runtime.copyIn(A), RB = runtime.copyIn(B), RC = runtime.allocF32(n * n);
    out.push({ group: 'gemm', name: `GEMM nn ${n}³, resident WasmF32`, shape: `${n}³`, macs: n ** 3,
      run: () => kernels.gemm.gemm('nn', n, n, n, 1, RA, n, RB, n, 0, RC, n), output: () => RC.array, free: [RA, RB, RC] });
  }
  return out;
}

// [name, H, W, C, CO, kernel, stride, padding] at batch 64: resnet8's convolutions (its 1×1 shortcuts aside) and lenet5's.
const CONV_SHAPES = [
  ['resnet8 stem 28×28×1→16', 28, 28, 1, 16, 3, 1, 1],
  ['resnet8 28×28×16→16', 28, 28, 16, 16, 3, 1, 1],
  ['resnet8 28×28×16→32 /2', 28, 28, 16, 32, 3, 2, 1],
  ['resnet8 14×14×32→32', 14, 14, 32, 32, 3, 1, 1],
  ['resnet8 14×14×32→64 /2', 14, 14, 32, 64, 3, 2, 1],
  ['resnet8 7×7×64→64', 7, 7, 64, 64, 3, 1, 1],
  ['lenet5 28×28×1→6 5×5', 28, 28, 1, 6, 5, 1, 2],
  ['lenet5 14×14×6→16 5×5', 14, 14, 6, 16, 5, 1, 0],
];

function convConfigs() {
  const { conv2dShape, conv2d, conv2dGradInput, conv2dGradWeight } = kernels.conv;
  const out = [];
  CONV_SHAPES.forEach(([name, H, W, C, CO, K, stride, padding], i) => {
    const s = conv2dShape([BATCH, H, W, C], [K, K, C, CO], { stride, padding });
    const macs = s.N * s.OH * s.OW * s.CO * s.KH * s.KW * s.C;
    const X = runtime.copyIn(rand(s.N * s.H * s.W * s.C, 10 + i)), Wt = runtime.copyIn(rand(K * K * C * CO, 20 + i));
    const DY = runtime.copyIn(rand(s.N * s.OH * s.OW * s.CO, 30 + i));
    const Y = runtime.allocF32(DY.length), DX = runtime.allocF32(X.length), DW = runtime.allocF32(Wt.length);
    const c = { group: 'conv', shape: name, macs, free: [] };
    out.push({ ...c, op: 'forward', name: `conv2d forward ${name}`, run: () => conv2d(X, Wt, null, s, Y), output: () => Y.array, free: [X, Wt, DY, Y, DX, DW] });
    out.push({ ...c, op: 'grad-input', name: `conv2d grad-input ${name}`, run: () => conv2dGradInput(DY, Wt, s, DX), output: () => DX.array });
    out.push({ ...c, op: 'grad-weight', name: `conv2d grad-weight ${name}`, run: () => conv2dGradWeight(X, DY, s, DW), output: () => DW.array });
  });
  return out;
}

async function runKernels(section, make) {
  const configs = make();
  try {
    return await kernelRounds(section, configs);
  } finally {
    for (const c of configs) for (const b of c.free ?? []) b.free();
  }
}

/** Fashion-MNIST (the first 16 batches of 64, copied so each stays valid), cycled. */
function batchPool() {
  const splits = loadDataset('fashion-mnist', { limit: { train: 16 * BATCH, validation: BATCH, test: BATCH } });
  const all = [];
  for (const b of batches(splits.train, BATCH, new Rng(1), { dropLast: true })) all.push({ images: b.images.slice(), labels: b.labels.slice(), size: b.size });
  let i = 0;
  const next = () => all[i++ % all.length];
  return { splits, next, all };
}

/**
 * Training throughput of cnn and resnet8, FP32 and INT8-QAT: ours at every count of THREADS and PyTorch at each
 * of torchCounts (one peer process per count), their windows (≥ WINDOW_MS, ≥ 2 steps) alternating in rounds
 * whose order flips every round. images/s by wall time (the process's CPU time sums over its threads).
 */
async function training(torch, torchCounts) {
  const { splits, next, all } = batchPool();
  const peers = new Map();
  let peerError = null;
  if (torch.available) {
    for (const n of torchCounts) {
      try {
        peers.set(n, await TorchPeer.start(torch, all, { batch: BATCH, shape: SHAPE, timeMs: WINDOW_MS, lr: 0.01, linear: 'conv', layout: 'nhwc', threads: n }));
      } catch (e) {
        peerError = e.message;
        console.log(`PyTorch peer (${n} threads) failed to start: ${peerError}`);
      }
    }
  }
  const results = [];
  try {
    for (const name of ['cnn', 'resnet8']) {
      for (const mode of ['FP32', 'INT8']) {
        const model = createModel(name, { inputShape: SHAPE, seed: 1 });
        const arch = { layers: describeModel(model, SHAPE), params: model.parameters().reduce((n, p) => n + p.size, 0) };
        const trainer = new Trainer(model, splits, {
          epochs: 1000, batchSize: BATCH, optimizer: 'sgd', lr: 0.01, momentum: 0.9, schedule: 'constant', formats: [mode], actQuantStart: 0, profileBatches: 2,
        });
        const step = () => { const r = trainer.trainStep(next()); if (!Number.isFinite(r.loss)) throw new Error(`${name} ${mode}: loss ${r.loss}`); };
        setThreads(THREADS[THREADS.length - 1]);
        const t0 = performance.now();
        for (let i = 0; i < 4 || performance.now() - t0 < 800; i++) step();
        if (mode === 'INT8' && !quantLayers(model).every(([, l]) => l.quant.quantizeActivations && l.quant.quantizeWeights)) {
          throw new Error(`${name} INT8: activation quantization has not started after warm-up`);
        }
        const r = { model: name, mode, ours: Object.fromEntries(THREADS.map((t) => [t, []])), torch: {}, torchPeer: null };
        const live = new Map();
        for (const [n, peer] of peers) {
          try {
            r.torchPeer = await peer.setup(name, mode === 'FP32' ? 'fp32' : 'int8', arch);
            live.set(n, peer);
            r.torch[n] = [];
          } catch (e) {
            if (/differs from ours/.test(e.message)) throw e;
            r.torchError = e.message.slice(0, 500);
          }
        }
        const configs = [...THREADS.map((t) => ['ours', t]), ...[...live.keys()].map((n) => ['torch', n])];
        for (let round = 0; round < ROUNDS; round++) {
          for (const [who, n] of round % 2 ? [...configs].reverse() : configs) {
            if (who === 'torch') {
              r.torch[n].push(await quiet('training', async () => {
                const w0 = performance.now();
                const w = await live.get(n).window(WINDOW_MS);
                return { value: w.imgPerS, extraCpuSeconds: ((performance.now() - w0) / 1000) * (w.imgPerS / w.imgPerCpuS) };
              }));
              continue;
            }
            setThreads(n);
            r.ours[n].push(await quiet('training', () => {
              step(); // untimed: the pool (re)starts
              let steps = 0, dt = 0;
              const s0 = performance.now();
              while (steps < 2 || dt < WINDOW_MS) { step(); steps++; dt = performance.now() - s0; }
              return { value: (steps * BATCH) / (dt / 1000) };
            }));
          }
        }
        trainer.dispose();
        model.free();
        const med = (w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, median(v)]));
        r.oursImgPerS = med(r.ours);
        r.torchImgPerS = med(r.torch);
        r.msPerStep = Object.fromEntries(THREADS.map((t) => [t, (1000 * BATCH) / r.oursImgPerS[t]]));
        r.speedup = Object.fromEntries(THREADS.map((t) => [t, r.oursImgPerS[t] / r.oursImgPerS[1]]));
        results.push(r);
        const tv = Object.entries(r.torchImgPerS).map(([n, v]) => `torch@${n} ${v.toFixed(0)}`).join(', ');
        console.log(`${name} ${mode}: ${THREADS.map((t) => `ours@${t} ${r.oursImgPerS[t].toFixed(0)}`).join(', ')}${tv ? `, ${tv}` : ''} img/s`);
      }
    }
  } finally {
    for (const p of peers.values()) p.close();
  }
  return { results, peerError };
}

/** Wall ms per search step (Search on cnn, Fashion-MNIST), thread counts alternating between windows of one search. */
async function searchStep() {
  const data = loadDataset('fashion-mnist', { limit: { train: 64 * 300, validation: 2000, test: 500 } });
  const search = new Search(createModel('cnn', { inputShape: data.train.shape, seed: 0 }), data, {
    space: 'int-s', target: '0.5xINT8', train: { epochs: 6, batchSize: BATCH, optimizer: 'sgd', lr: 0.05, seed: 0, actQuantStart: 0.01 },
    controller: { warmupFraction: 0.01 },
  });
  const gen = search.run();
  const step = () => { if (gen.next().done) throw new Error('search: ran out of steps (raise its epochs)'); };
  try {
    setThreads(THREADS[THREADS.length - 1]);
    for (let i = 0; i < 30; i++) step(); // past the controller warm-up and activation profiling
    const windows = Object.fromEntries(THREADS.map((t) => [t, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of orderOf(r)) {
        setThreads(t);
        windows[t].push(await quiet('search', () => ({ value: msPerCall(step, WINDOW_MS, 5) })));
      }
    }
    return summarize({ name: 'search step (cnn, int-s, 0.5xINT8)', group: 'search', windows });
  } finally {
    search.dispose();
  }
}

/**
 * `fliqs pareto` over 8 runs (cnn on synthetic data, widths 0.5 and 1 × uniform FP32, INT8, INT4 + one int-s
 * search), with --jobs 2, serially at the default thread count and serially with --threads 1 (each in a fresh
 * output directory, so nothing is resumed; FLIQS_THREADS unset). Skipped when the CLI refuses --jobs.
 */
async function pareto() {
  const args = ['--data', 'synthetic', '--model', 'cnn', '--widths', '0.5,1', '--uniform', 'FP32,INT8,INT4', '--spaces', 'int-s', '--targets', '0.5xINT8',
    '--epochs', '1000', '--steps', String(PARETO_STEPS), '--limit', '2560'];
  const childEnv = { ...env };
  delete childEnv.FLIQS_THREADS;
  // A sweep during which other processes kept the machine busy is run once more (the less loaded one is kept).
  const runOnce = (extra) => quiet('pareto', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fliqs-pareto-bench-'));
    try {
      const t0 = performance.now(), c0 = childCpuSeconds();
      const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', CLI, 'pareto', ...args, '--out', dir, ...extra],
        { encoding: 'utf8', env: childEnv, maxBuffer: 64 << 20 });
      const seconds = (performance.now() - t0) / 1000, extraCpuSeconds = childCpuSeconds() - c0;
      if (r.status === 2 && /--jobs/.test(r.stderr)) return { value: { refused: r.stderr.trim().split('\n')[0] } };
      if (r.status !== 0) throw new Error(`fliqs pareto ${extra.join(' ')} exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
      const rows = readFileSync(path.join(dir, 'pareto.csv'), 'utf8').trim().split('\n').slice(1);
      if (rows.length !== 8) throw new Error(`fliqs pareto ${extra.join(' ')}: ${rows.length} rows in pareto.csv, expected 8`);
      // wall_seconds of each run (the last column), as the sweep recorded them
      const runSeconds = rows.map((r) => Number(r.split(',').pop()));
      return { value: { seconds, runSeconds }, extraCpuSeconds };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 1);
  const command = `node --experimental-wasm-relaxed-simd dist/cli/main.js pareto ${args.join(' ')} --out DIR`;
  const jobs = await runOnce(['--jobs', '2']);
  if (jobs.refused) return { skipped: `pareto --jobs not available (${jobs.refused})`, command };
  const serial = await runOnce([]);
  const serial1 = await runOnce(['--threads', '1']);
  return { command, serialSeconds: serial.seconds, serial1Seconds: serial1.seconds, jobs2Seconds: jobs.seconds, speedup: serial.seconds / jobs.seconds,
    speedupVsSerial1: serial1.seconds / jobs.seconds, runs: 8,
    runSeconds: { serial: serial.runSeconds, serial1: serial1.runSeconds, jobs2: jobs.runSeconds } };
}

export default async function run() {
  const started = performance.now();
  console.log(`threads: ${THREADS.map(label).join(', ')} on ${CORES} cores; ${ROUNDS} rounds, thread counts interleaved; medians\n`);
  const torch = findTorch(env.BENCH_PYTHON);
  const torchDefault = torch.available ? torchDefaultThreads(torch.python) : null;
  const torchCounts = torch.available ? [...new Set([1, torchDefault ?? 1, CORES])].sort((a, b) => a - b) : [];
  console.log(torch.available
    ? `PyTorch: ${torch.version} via ${torch.python}; its default intra-op threads here: ${torchDefault ?? 'unknown'}; timed at ${torchCounts.join(', ')} threads`
    : `PyTorch: ABSENT — no python imports torch (tried ${torch.tried.map((t) => t.python).join(', ')}; apt-get install -y python3-torch); its columns are skipped`);
  const loadBefore = await otherLoad();
  if (loadBefore !== null) console.log(`other processes kept ${loadBefore.toFixed(2)} of ${CORES} cores busy in the second before the run${loadBefore > 0.2 ? ' — WARNING: the machine is busy, the multi-thread figures will be low' : ''}`);
  const wasThreads = getThreads();
  const out = { kernels: [], training: null, search: null, pareto: null };
  const lap = (what, t0) => console.log(`(${what}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  try {
    let t0 = performance.now();
    if (!SKIP.has('gemm')) { out.kernels.push(...await runKernels('gemm', gemmConfigs)); lap('gemm', t0); }
    globalThis.gc?.();
    t0 = performance.now();
    if (!SKIP.has('conv')) { out.kernels.push(...await runKernels('conv', convConfigs)); lap('conv', t0); }
    globalThis.gc?.();
    t0 = performance.now();
    if (!SKIP.has('train')) { out.training = await training(torch, torchCounts); lap('training', t0); }
    globalThis.gc?.();
    t0 = performance.now();
    if (!SKIP.has('search')) { out.search = await searchStep(); lap('search', t0); }
    t0 = performance.now();
    if (!SKIP.has('pareto')) { out.pareto = await pareto(); lap('pareto', t0); }
  } finally {
    setThreads(wasThreads);
    stopThreads();
  }

  const loadAfter = await otherLoad();
  if (loadAfter !== null) console.log(`other processes kept ${loadAfter.toFixed(2)} of ${CORES} cores busy in the second after the run`);
  for (const [section, l] of Object.entries(loadLog)) {
    l.meanOtherCores = l.sumOther / Math.max(1, l.windows);
    delete l.sumOther;
    console.log(`${section}: ${l.windows} windows, ${l.retried} retried (other processes above ${BUSY} cores), ${l.busyKept} still busy after their retries; other processes' mean load ${l.meanOtherCores.toFixed(2)} cores`);
  }

  // The scaling table: ms per call / step at each count, speedup vs 1 thread.
  const rows = [...out.kernels, ...(out.training?.results ?? []).map((r) => ({ name: `${r.model} ${r.mode} training step (batch 64)`, medianMs: r.msPerStep, speedup: r.speedup })),
    ...(out.search ? [out.search] : [])];
  const more = THREADS.filter((t) => t > 1);
  console.log(`\nThread scaling, ${CORES} cores (median ms of ${ROUNDS} windows per count; speedup = ms at 1 thread / ms at n)\n`);
  printTable(['config', ...THREADS.map((t) => `ms @${label(t)}`), ...more.map((t) => `speedup @${t}`)],
    rows.map((r) => [r.name, ...THREADS.map((t) => r.medianMs[t].toFixed(2)), ...more.map((t) => `${r.speedup[t].toFixed(2)}×`)]));
  console.log('GEMM and conv outputs were bit-identical at every thread count.');

  // Per conv op over all shapes: time-weighted (sum of medians at 1 / sum at n) and the worst shape.
  const convOps = ['forward', 'grad-input', 'grad-weight'].map((op) => {
    const rs = out.kernels.filter((r) => r.group === 'conv' && r.op === op);
    if (!rs.length) return null;
    const sum = (t) => rs.reduce((a, r) => a + r.medianMs[t], 0);
    return { op, total: Object.fromEntries(more.map((t) => [t, sum(1) / sum(t)])), worst: Object.fromEntries(more.map((t) => [t, Math.min(...rs.map((r) => r.speedup[t]))])),
      worstShape: Object.fromEntries(more.map((t) => [t, rs.reduce((a, r) => (r.speedup[t] < a.speedup[t] ? r : a)).shape])) };
  }).filter(Boolean);
  if (convOps.length) {
    console.log('\nConvolutions over all 8 shapes: speedup of the summed time (worst shape)\n');
    printTable(['op', ...more.map((t) => `@${t}`)], convOps.map((c) => [c.op, ...more.map((t) => `${c.total[t].toFixed(2)}× (${c.worst[t].toFixed(2)}× ${c.worstShape[t]})`)]));
  }

  // Training throughput vs PyTorch.
  const tr = out.training?.results ?? [];
  const allOurs = Math.max(...THREADS.filter((t) => t <= CORES));
  if (tr.length) {
    const tc = torchCounts;
    console.log(`\nTraining throughput, batch 64, Fashion-MNIST, momentum SGD: images/s by wall time (median of ${ROUNDS} windows each, ours and PyTorch alternating)\n`);
    printTable(['model', 'mode', ...THREADS.map((t) => `ours @${label(t)}`), ...tc.map((n) => `pytorch @${n}${n === torchDefault ? ' (default)' : ''}`),
      ...(tc.length ? [`ours @${allOurs} / pytorch @${CORES}`, ...(torchDefault !== CORES && torchDefault ? [`ours @${allOurs} / pytorch default`] : [])] : [])],
    tr.map((r) => {
      const tv = (n) => r.torchImgPerS[n];
      const ratio = (n) => (tv(n) ? `${(r.oursImgPerS[allOurs] / tv(n)).toFixed(2)}×` : '–');
      return [r.model, r.mode === 'INT8' ? 'INT8-QAT' : r.mode, ...THREADS.map((t) => r.oursImgPerS[t].toFixed(0)), ...tc.map((n) => (tv(n) ? tv(n).toFixed(0) : r.torchError ? 'failed' : 'n/a')),
        ...(tc.length ? [ratio(CORES), ...(torchDefault !== CORES && torchDefault ? [ratio(torchDefault)] : [])] : [])];
    }));
    if (!torch.available) console.log('PyTorch: absent (no python imports torch), so no PyTorch columns.');
    for (const r of tr) if (r.torchError) console.log(`  pytorch ${r.model} ${r.mode} failed: ${r.torchError}`);
  }

  if (out.pareto) {
    console.log(out.pareto.skipped
      ? `\nfliqs pareto: SKIPPED — ${out.pareto.skipped}`
      : `\nfliqs pareto, 8 runs: serial (default ${CORES} kernel threads) ${out.pareto.serialSeconds.toFixed(1)} s, serial --threads 1 ${out.pareto.serial1Seconds.toFixed(1)} s,`
        + ` --jobs 2 (${Math.max(1, Math.floor(CORES / 2))} thread each) ${out.pareto.jobs2Seconds.toFixed(1)} s: ${out.pareto.speedup.toFixed(2)}× the serial sweep, ${out.pareto.speedupVsSerial1.toFixed(2)}× the 1-thread one`);
    if (!out.pareto.skipped) {
      const sum = (a) => a.reduce((x, y) => x + y, 0).toFixed(1);
      console.log(`  sum of the runs' own wall_seconds: serial ${sum(out.pareto.runSeconds.serial)} s, serial 1 thread ${sum(out.pareto.runSeconds.serial1)} s, --jobs 2 ${sum(out.pareto.runSeconds.jobs2)} s (over 2 processes)`);
    }
    console.log(`  (${out.pareto.command} [--jobs 2 | --threads 1])`);
  }

  // The issue's goals (2 threads vs 1 on a 2-core machine; ours at all cores vs PyTorch at all cores).
  const goals = [];
  const find = (name) => out.kernels.find((r) => r.name === name);
  if (THREADS.includes(2)) {
    for (const n of [512, 1024]) {
      for (const v of ['resident WasmF32', 'Float32Array operands']) {
        const r = find(`GEMM nn ${n}³, ${v}`);
        if (r) goals.push({ goal: `GEMM ${n}³ (${v}) 2 threads vs 1`, need: 1.8, got: r.speedup[2] });
      }
    }
    for (const c of convOps) goals.push({ goal: `conv ${c.op}, summed over the 8 shapes (worst ${c.worstShape[2]} ${c.worst[2].toFixed(2)}×), 2 threads vs 1`, need: 1.7, got: c.total[2] });
    const rn = tr.find((r) => r.model === 'resnet8' && r.mode === 'FP32');
    if (rn) goals.push({ goal: 'resnet8 FP32 training step (batch 64), 2 threads vs 1', need: 1.6, got: rn.speedup[2] });
    if (out.search) goals.push({ goal: 'search step, 2 threads vs 1', need: 1.6, got: out.search.speedup[2] });
  }
  if (out.pareto && !out.pareto.skipped) goals.push({ goal: `pareto --jobs 2 on 8 runs vs serial (default ${CORES} threads; vs serial --threads 1: ${out.pareto.speedupVsSerial1.toFixed(2)}×)`, need: 1.8, got: out.pareto.speedup });
  for (const r of tr) {
    const t = r.torchImgPerS[CORES];
    if (t) goals.push({ goal: `${r.model} ${r.mode} training, ours @${allOurs} vs PyTorch @${CORES} threads (all cores)`, need: 1.0, got: r.oursImgPerS[allOurs] / t });
  }
  for (const g of goals) g.met = g.got >= g.need;
  if (goals.length) {
    console.log('\nGoals (issue 13)\n');
    printTable(['goal', 'need', 'got', 'met'], goals.map((g) => [g.goal, `≥ ${g.need.toFixed(1)}×`, `${g.got.toFixed(2)}×`, g.met ? 'yes' : 'NO']));
  }

  const file = save('threads', {
    environment: environment({ threads: THREADS, oversubscribed: THREADS.filter((t) => t > CORES), rounds: ROUNDS, kernelWindowMs: KERNEL_MS, windowMs: WINDOW_MS,
      variant: runtime.variant, torch: torch.available ? torch.version : 'absent', torchPython: torch.available ? torch.python : null, torchDefaultThreads: torchDefault,
      torchThreads: torchCounts, otherLoadBefore: loadBefore, otherLoadAfter: loadAfter, busyCoresThreshold: BUSY, retries: RETRIES, load: loadLog, loadavg: os.loadavg(), suiteSeconds: (performance.now() - started) / 1000 }),
    note: 'medianMs per thread count over interleaved windows; speedup = medianMs[1] / medianMs[n]; training by wall time per step (images/s). GEMM and conv outputs checked bit-identical across thread counts.',
    kernels: out.kernels, convOps, training: out.training, search: out.search, pareto: out.pareto, goals,
  });
  console.log(`\nsaved ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
