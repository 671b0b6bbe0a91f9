// Where splitting a kernel call over 2 threads starts to pay: GEMM n³ and ReLU over n elements at 1 and 2
// threads with the split threshold removed (setMinTaskWork(1)), best of 2 interleaved rounds of 2000 calls.
// The thresholds in src/kernels/threads.ts (2^19 multiply-adds, 2^15 elements per task) come from this.
// Usage: npm run build && node --experimental-wasm-relaxed-simd scripts/thread-threshold.mjs
import { kernels, runtime, setThreads } from '../dist/index.js';
import { setMinTaskWork, threadsFor } from '../dist/kernels/threads.js';

const rt = runtime, { gemm } = kernels.gemm, { relu } = kernels.elementwise;
setMinTaskWork(1);
const time = (fn, reps) => { fn(); const t0 = performance.now(); for (let i = 0; i < reps; i++) fn(); return ((performance.now() - t0) / reps) * 1000; };
const best = (fn) => {
  const r = {};
  for (const t of [1, 2, 1, 2]) { setThreads(t); threadsFor(rt); r[t] = Math.min(r[t] ?? Infinity, time(fn, 2000)); }
  return r;
};
console.log('gemm nn    total MACs   µs@1   µs@2  2 vs 1');
for (const n of [32, 48, 64, 96, 128, 192]) {
  const A = rt.allocF32(n * n), B = rt.allocF32(n * n), C = rt.allocF32(n * n);
  A.array.fill(1); B.array.fill(1);
  const r = best(() => gemm('nn', n, n, n, 1, A, n, B, n, 0, C, n));
  console.log(`${String(n).padStart(4)}³ ${String(n ** 3).padStart(13)} ${r[1].toFixed(1).padStart(6)} ${r[2].toFixed(1).padStart(6)}  ${(r[1] / r[2]).toFixed(2)}×`);
  for (const b of [A, B, C]) b.free();
}
console.log('relu      elements   µs@1   µs@2  2 vs 1');
for (const n of [8192, 16384, 32768, 65536, 131072, 262144]) {
  const x = rt.allocF32(n), y = rt.allocF32(n);
  const r = best(() => relu(x, y));
  console.log(`${String(n).padStart(16)} ${r[1].toFixed(1).padStart(6)} ${r[2].toFixed(1).padStart(6)}  ${(r[1] / r[2]).toFixed(2)}×`);
  x.free(); y.free();
}
