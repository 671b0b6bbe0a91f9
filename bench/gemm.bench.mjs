// f32 GEMM: ours (baseline SIMD and relaxed SIMD) vs TensorFlow.js wasm (1 thread) vs a naive JS loop,
// in GFLOP/s = 2·M·N·K / time and as a fraction of this machine's measured SIMD peak (register-only
// mul+add and FMA chains); plus fused weight quantization vs quantize pass + GEMM.
// BENCH_TIME_MS sets the tinybench time per task (default 400).
import path from 'node:path';
import { createRequire } from 'node:module';
import { measure, save, environment, printTable } from './lib.mjs';
import { createRuntime } from '../dist/core/runtime.js';
import { gemm, GEMM_KERNELS, PEAK_FLOPS_PER_ITER } from '../dist/kernels/gemm.js';
import { parseFormat } from '../dist/formats/format.js';
import { kernelParams, scaleOf } from '../dist/formats/params.js';
import { quantParams } from '../dist/kernels/blocks.js';

const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const opts = { time: TIME, warmupTime: Math.min(200, TIME / 2), iterations: 5 };
const SQUARE = [64, 128, 256, 512, 1024];
// [label, M, N, K]: model-zoo-like shapes
const MODEL = [
  ['conv3x3 32ch 14×14 b32 (im2col)', 6272, 32, 288],
  ['linear 800→10 b64', 64, 10, 800],
  ['linear 512→128 b64', 64, 128, 512],
];

function randomFill(a, seed) {
  let s = seed;
  for (let i = 0; i < a.length; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = s / 2 ** 32 - 0.5; }
}

/** Peak GFLOP/s of a register-only probe: best of a few timed runs. */
function peak(fn) {
  fn(1e5);
  let iters = 1e6, best = Infinity;
  for (;;) { const t = performance.now(); fn(iters); const dt = performance.now() - t; if (dt > 20) break; iters *= 2; }
  for (let r = 0; r < 5; r++) { const t = performance.now(); fn(iters); best = Math.min(best, performance.now() - t); }
  return (PEAK_FLOPS_PER_ITER * iters) / best / 1e6;
}

async function loadTf() {
  try {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
    wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    // Warm up: V8 compiles TF.js's wasm functions with the optimizing tier only once they are hot.
    const a = tf.randomNormal([256, 256]), b = tf.randomNormal([256, 256]);
    const t0 = performance.now();
    while (performance.now() - t0 < 2000) tfMatMul(tf, a, b);
    a.dispose(); b.dispose();
    return tf;
  } catch (e) {
    console.warn(`TensorFlow.js wasm backend unavailable: ${e.message}`);
    return null;
  }
}

/**
 * One TF.js matMul, forced to completion by dataSync and freed. (Not tf.tidy(() => …dataSync()): in
 * tfjs 4.22 on Node that combination ran 10–20× slower than the same work without tidy.)
 */
function tfMatMul(tf, a, b) {
  const c = tf.matMul(a, b);
  c.dataSync();
  c.dispose();
}

function naive(A, B, C, M, N, K) {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
      C[i * N + j] = s;
    }
  }
}

export default async function () {
  const rts = { simd: await createRuntime('simd'), relaxed: await createRuntime('relaxed') };
  const measurePeaks = () => ({
    muladd: peak((n) => rts.relaxed.kernels.peak_muladd_f32x4(n)),
    fma: peak((n) => rts.relaxed.kernels.peak_fma_f32x4(n)),
  });
  // The machine is shared: take the better of a measurement before and after the GEMM runs.
  const peaks = measurePeaks();
  const tf = await loadTf();

  const shapes = [...SQUARE.map((n) => [`${n}³`, n, n, n]), ...MODEL];
  const results = [];
  const rows = [];
  for (const [label, M, N, K] of shapes) {
    const flops = 2 * M * N * K;
    const tasks = {};
    const bufs = [];
    for (const [v, rt] of Object.entries(rts)) {
      const A = rt.allocF32(M * K), B = rt.allocF32(K * N), C = rt.allocF32(M * N);
      randomFill(A.array, 1); randomFill(B.array, 2);
      bufs.push(A, B, C);
      tasks[`${GEMM_KERNELS.nn} ${v}`] = () => gemm('nn', M, N, K, 1, A, K, B, N, 0, C, N, {}, rt);
    }
    let ta, tb;
    if (tf) {
      ta = tf.randomNormal([M, K]); tb = tf.randomNormal([K, N]);
      tasks['tfjs-wasm matMul'] = () => tfMatMul(tf, ta, tb);
    }
    if (M <= 256 && N <= 256 && K <= 256) {
      const A = new Float32Array(M * K), B = new Float32Array(K * N), C = new Float32Array(M * N);
      randomFill(A, 1); randomFill(B, 2);
      tasks['naive JS'] = () => naive(A, B, C, M, N, K);
    }
    const res = await measure(tasks, opts);
    for (const b of bufs) b.free();
    ta?.dispose(); tb?.dispose();
    const g = Object.fromEntries(res.map((r) => [r.name, flops / r.medianMs / 1e6]));
    results.push({ shape: label, M, N, K, gflops: g, medianMs: Object.fromEntries(res.map((r) => [r.name, r.medianMs])) });
  }
  const again = measurePeaks();
  peaks.muladd = Math.max(peaks.muladd, again.muladd);
  peaks.fma = Math.max(peaks.fma, again.fma);
  console.log(`peak: mul+add ${peaks.muladd.toFixed(1)} GFLOP/s, FMA ${peaks.fma.toFixed(1)} GFLOP/s (the % below are of these)\n`);
  const f = (x) => (x === undefined ? '—' : x.toFixed(1));
  for (const r of results) {
    const simd = r.gflops[`${GEMM_KERNELS.nn} simd`], rel = r.gflops[`${GEMM_KERNELS.nn} relaxed`];
    const tfg = r.gflops['tfjs-wasm matMul'], nv = r.gflops['naive JS'];
    r.fractionOfPeak = { simd: simd / peaks.muladd, relaxed: rel / peaks.fma };
    rows.push([r.shape, `${r.M}×${r.N}×${r.K}`, `${f(simd)} (${(100 * r.fractionOfPeak.simd).toFixed(0)}%)`,
      `${f(rel)} (${(100 * r.fractionOfPeak.relaxed).toFixed(0)}%)`, f(tfg), f(nv),
      tfg ? `${(simd / tfg).toFixed(2)}×` : '—', tfg ? `${(rel / tfg).toFixed(2)}×` : '—']);
  }
  printTable(['shape', 'M×N×K', 'simd GFLOP/s (% mul+add peak)', 'relaxed GFLOP/s (% FMA peak)', 'tfjs-wasm', 'naive JS',
    'simd/tfjs', 'relaxed/tfjs'], rows);

  // Fused weight quantization: gemm with quantB vs quant_f32x4 over B into a buffer + gemm.
  const fusedRows = [];
  const fused = [];
  const fmt = parseFormat('INT8'), kp = kernelParams(fmt), s = scaleOf(fmt, 0.4);
  for (const [label, M, N, K] of [['linear 512→128 b64', 64, 128, 512], ['conv3x3 32ch b32', 6272, 32, 288], ['512³', 512, 512, 512]]) {
    const rt = rts.relaxed;
    const A = rt.allocF32(M * K), B = rt.allocF32(K * N), Bq = rt.allocF32(K * N), C = rt.allocF32(M * N);
    randomFill(A.array, 1); randomFill(B.array, 2);
    const qp = quantParams(rt, kp, s);
    const res = await measure({
      fused: () => gemm('nn', M, N, K, 1, A, K, B, N, 0, C, N, { quantB: { format: fmt, clip: 0.4 } }, rt),
      unfused: () => {
        rt.kernels.quant_f32x4(B.ptr, Bq.ptr, K * N, qp);
        gemm('nn', M, N, K, 1, A, K, Bq, N, 0, C, N, {}, rt);
      },
    }, opts);
    for (const b of [A, B, Bq, C]) b.free();
    const [fu, un] = res;
    fused.push({ shape: label, M, N, K, format: 'INT8', fusedMs: fu.medianMs, unfusedMs: un.medianMs });
    fusedRows.push([label, `${M}×${N}×${K}`, fu.medianMs.toFixed(3), un.medianMs.toFixed(3), `${(un.medianMs / fu.medianMs).toFixed(2)}×`]);
  }
  console.log('\nFused INT8 weight quantization (relaxed): gemm_qb_f32_4x8 vs quant_f32x4 + gemm_nn_f32_4x8\n');
  printTable(['shape', 'M×N×K', 'fused ms', 'quantize + gemm ms', 'speedup'], fusedRows);

  const file = save('gemm', { environment: environment({ timeMs: TIME, tfjs: tf ? tf.version.tfjs : null }), peaks, results, fused });
  console.log(`\nsaved ${file}`);
}
