// Optimizer steps on one 1M-parameter buffer (about a small CNN's weights): SGD+momentum on the SIMD
// kernels (wasm-resident WasmF32) vs the same update through the scalar path (plain Float32Array), and
// the fused TypeScript passes of Adam, AdamW and RMSProp. Reports ms per step and M params/s.
// BENCH_TIME_MS sets the tinybench time per task (default 400).
import { measure, save, environment, printTable } from './lib.mjs';
import { createRuntime } from '../dist/core/runtime.js';
import { SGD, Adam, AdamW, RMSProp } from '../dist/optim/index.js';

const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const opts = { time: TIME, warmupTime: Math.min(200, TIME / 2), iterations: 5 };
const N = 1 << 20;

function fill(a, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = (s / 2 ** 32 - 0.5) * 1e-3; }
  return a;
}

export default async function () {
  const rows = [];
  const results = {};
  for (const variant of ['simd', 'relaxed']) {
    const rt = await createRuntime(variant);
    const wasm = () => [{ param: rt.copyIn(fill(new Float32Array(N), 1)), grad: rt.copyIn(fill(new Float32Array(N), 2)) }];
    const plain = () => [{ param: fill(new Float32Array(N), 1), grad: fill(new Float32Array(N), 2) }];
    const opts_ = { lr: 1e-6 }; // tiny lr keeps the parameters from drifting over thousands of steps
    const opt = {
      'SGD momentum (SIMD kernels)': new SGD(wasm(), { ...opts_, momentum: 0.9, weightDecay: 1e-4 }, rt),
      'SGD momentum (scalar path)': new SGD(plain(), { ...opts_, momentum: 0.9, weightDecay: 1e-4 }, rt),
      'Adam (fused TS)': new Adam(wasm(), opts_, rt),
      'AdamW (fused TS)': new AdamW(wasm(), opts_, rt),
      'RMSProp (fused TS)': new RMSProp(wasm(), opts_, rt),
    };
    const tasks = Object.fromEntries(Object.entries(opt).map(([k, o]) => [`${k} [${variant}]`, () => o.step()]));
    for (const r of await measure(tasks, opts)) {
      const mps = N / (r.medianMs * 1e3);
      results[r.name] = { ...r, params: N, mParamsPerS: mps };
      rows.push([r.name, r.medianMs.toFixed(3), mps.toFixed(0)]);
    }
    for (const o of Object.values(opt)) o.dispose();
  }
  printTable(['optimizer step, 1M params', 'ms/step (median)', 'M params/s'], rows);
  console.log('saved', save('optim', { environment: environment({ timeMs: TIME }), results }));
}
