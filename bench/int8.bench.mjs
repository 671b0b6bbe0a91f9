// int8 × int8 → int32 GEMM in GOP/s = 2·M·N·K / time, for int8 weights, INT4 weights decoded in the
// micro-kernel (nibble panels) and INT4 unpacked to int8 panels at pack time, with the dequantizing
// f32 epilogue, next to our f32 GEMM on the same shapes (picked up from ../dist/kernels/gemm.js when
// it is built) for the int8 : f32 ops/s ratio. Times include packing A (the activations); B is packed once.
// Both module variants (baseline SIMD, relaxed SIMD). BENCH_TIME_MS sets the time per task (default 400).
import { measure, save, environment, printTable } from './lib.mjs';
import { createRuntime } from '../dist/core/runtime.js';
import {
  gemmI8Dequant, gemmI8, packWeightsI4, packWeightsI4AsI8, packWeightsI8,
} from '../dist/kernels/int8.js';

const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const opts = { time: TIME, warmupTime: Math.min(200, TIME / 2), iterations: 5 };
// [label, M, N, K]
const SHAPES = [
  ['256³', 256, 256, 256],
  ['512³', 512, 512, 512],
  ['1024³', 1024, 1024, 1024],
  ['conv3x3 32ch 14×14 b32 (im2col)', 6272, 32, 288],
];

async function loadF32Gemm() {
  try {
    const mod = await import('../dist/kernels/gemm.js');
    return typeof mod.gemm === 'function' ? mod.gemm : null;
  } catch (e) {
    console.warn(`f32 GEMM not available (${e.message}); int8 figures only`);
    return null;
  }
}

/** Fills n bytes at p with codes in −max…max from a fixed LCG. */
function fillCodes(rt, p, n, max, seed) {
  const v = rt.i8;
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; v[p + i] = (s % (2 * max + 1)) - max; }
}

/** n INT4 values packed two per byte (low nibble first). */
function fillNibbles(rt, p, n, seed) {
  const v = rt.u8;
  let s = seed >>> 0;
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const lo = (s >>> 8) % 15 - 7, hi = (s >>> 16) % 15 - 7;
    v[p + i] = (lo & 15) | ((hi & 15) << 4);
  }
}

export default async function () {
  const rts = { simd: await createRuntime('simd'), relaxed: await createRuntime('relaxed') };
  const gemmF32 = await loadF32Gemm();
  const results = [];
  const rows = [];
  for (const [label, M, N, K] of SHAPES) {
    const ops = 2 * M * N * K;
    const tasks = {};
    const cleanup = [];
    for (const [v, rt] of Object.entries(rts)) {
      const a = rt.arena.alloc(M * K), b = rt.arena.alloc(K * N), b4 = rt.arena.alloc(Math.ceil((K * N) / 2));
      const out = rt.arena.alloc(M * N * 4);
      fillCodes(rt, a, M * K, 127, 1);
      fillCodes(rt, b, K * N, 127, 2);
      fillNibbles(rt, b4, K * N, 3);
      const w8 = packWeightsI8(b, K, N, rt), w4 = packWeightsI4(b4, K, N, rt), w48 = packWeightsI4AsI8(b4, K, N, rt);
      const dq = { sA: 40, sW: Float32Array.from({ length: N }, (_, i) => 100 + i), bias: new Float32Array(N).fill(0.5) };
      tasks[`${v} int8 → i32 (gemmI8)`] = () => gemmI8(a, M, w8, out, rt);
      tasks[`${v} int8 → f32 dequant (gemmI8Dequant)`] = () => gemmI8Dequant(a, M, w8, out, dq, rt);
      tasks[`${v} INT4 nibble panel (gemm_i4_i32_4x8)`] = () => gemmI8(a, M, w4, out, rt);
      tasks[`${v} INT4 → i8 panel at pack (gemmI8)`] = () => gemmI8(a, M, w48, out, rt);
      cleanup.push(() => { w8.free(); w4.free(); w48.free(); for (const p of [a, b, b4, out]) rt.arena.free(p); });
      if (gemmF32) {
        const A = rt.allocF32(M * K), B = rt.allocF32(K * N), C = rt.allocF32(M * N);
        A.array.forEach((_, i, arr) => { arr[i] = ((i * 7919) % 200) / 100 - 1; });
        B.array.forEach((_, i, arr) => { arr[i] = ((i * 104729) % 200) / 100 - 1; });
        tasks[`${v} f32 GEMM (gemm_nn_f32_4x8)`] = () => gemmF32('nn', M, N, K, 1, A, K, B, N, 0, C, N, {}, rt);
        cleanup.push(() => { A.free(); B.free(); C.free(); });
      }
    }
    for (const [name, fn] of Object.entries(tasks)) {
      try { fn(); } catch (e) { throw new Error(`${label} ${name}: ${e.message}`); }
    }
    const measured = await measure(tasks, opts);
    for (const v of Object.keys(rts)) {
      const f32Task = measured.find((r) => r.name === `${v} f32 GEMM (gemm_nn_f32_4x8)`);
      const f32Ops = f32Task ? ops / f32Task.medianMs / 1e6 : null;
      for (const r of measured.filter((x) => x.name.startsWith(`${v} `))) {
        const gops = ops / r.medianMs / 1e6;
        const ratio = f32Ops && !r.name.includes('f32 GEMM') ? gops / f32Ops : null;
        results.push({ shape: label, M, N, K, task: r.name, medianMs: r.medianMs, gops, vsF32: ratio, samples: r.samples });
        rows.push([label, r.name, r.medianMs.toFixed(3), gops.toFixed(1), ratio ? `${ratio.toFixed(2)}×` : '—']);
      }
    }
    for (const c of cleanup) c();
  }
  printTable(['shape', 'task', 'median ms', 'GOP/s', 'vs our f32'], rows);
  const path = save('int8', {
    environment: environment({ timeMs: TIME, f32Gemm: gemmF32 ? 'dist/kernels/gemm.js' : 'not built' }),
    note: 'GOP/s = 2·M·N·K / median time; int8 times include packing A; B packed once outside the timing',
    results,
  });
  console.log(`saved ${path}`);
}
