// Elementwise and normalization kernels: ours (baseline SIMD and relaxed SIMD, wasm-resident buffers)
// vs a plain JavaScript loop over Float32Arrays, at realistic sizes (64×28×28×16 NHWC activations,
// 64×10 and 256×100 logits). Reports M elements/s and GB/s (bytes each op must read + write, stated
// per op). BENCH_TIME_MS sets the tinybench time per task (default 400).
import { measure, save, environment, printTable } from './lib.mjs';
import { createRuntime } from '../dist/core/runtime.js';
import * as K from '../dist/kernels/elementwise.js';

const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const opts = { time: TIME, warmupTime: Math.min(200, TIME / 2), iterations: 5 };
const ACT = { label: '64×28×28×16', rows: 64 * 28 * 28, C: 16 };
const LOGITS = [{ label: '64×10', B: 64, K: 10 }, { label: '256×100', B: 256, K: 100 }];

function fill(a, seed, lo = -2, hi = 2) {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = lo + (hi - lo) * (s / 2 ** 32); }
  return a;
}

// Plain JavaScript loops: the comparison a user would write without fliqs.
const js = {
  relu(x, y) { for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i], 0); },
  biasAdd(x, b, y, rows, C) { for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) y[i] = x[i] + b[c]; },
  gelu(x, y) {
    for (let i = 0; i < x.length; i++) { const v = x[i]; y[i] = 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v * v * v))); }
  },
  bnTrain(x, y, rows, C, gamma, beta, mean, invstd) {
    mean.fill(0); invstd.fill(0);
    for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) mean[c] += x[i];
    for (let c = 0; c < C; c++) mean[c] /= rows;
    for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) { const d = x[i] - mean[c]; invstd[c] += d * d; }
    for (let c = 0; c < C; c++) invstd[c] = 1 / Math.sqrt(invstd[c] / rows + 1e-5);
    for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) y[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
  },
  bnGrad(x, dy, dx, rows, C, gamma, mean, invstd, dg, db) {
    dg.fill(0); db.fill(0);
    for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) { db[c] += dy[i]; dg[c] += dy[i] * (x[i] - mean[c]) * invstd[c]; }
    for (let r = 0, i = 0; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        const xh = (x[i] - mean[c]) * invstd[c];
        dx[i] = gamma[c] * invstd[c] / rows * (rows * dy[i] - db[c] - xh * dg[c]);
      }
    }
  },
  softmaxCE(x, labels, p, d, B, Kc) {
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const o = b * Kc;
      let m = -Infinity;
      for (let k = 0; k < Kc; k++) m = Math.max(m, x[o + k]);
      let s = 0;
      for (let k = 0; k < Kc; k++) { p[o + k] = Math.exp(x[o + k] - m); s += p[o + k]; }
      for (let k = 0; k < Kc; k++) { p[o + k] /= s; d[o + k] = (p[o + k] - (k === labels[b] ? 1 : 0)) / B; }
      loss += Math.log(s) - (x[o + labels[b]] - m);
    }
    return loss / B;
  },
};

export default async function () {
  const rts = { simd: await createRuntime('simd'), relaxed: await createRuntime('relaxed') };
  const { rows, C } = ACT;
  const n = rows * C;
  // [op label, elements per call, bytes per call, tasks]
  const cases = [];
  const jsBuf = {
    x: fill(new Float32Array(n), 1), y: new Float32Array(n), dy: fill(new Float32Array(n), 2), dx: new Float32Array(n),
    b: fill(new Float32Array(C), 3), g: fill(new Float32Array(C), 4, 0.5, 2), m: new Float32Array(C), is: new Float32Array(C),
    dg: new Float32Array(C), db: new Float32Array(C),
  };
  const ours = {};
  for (const [v, rt] of Object.entries(rts)) {
    const x = rt.allocF32(n), y = rt.allocF32(n), dy = rt.allocF32(n), dx = rt.allocF32(n);
    fill(x.array, 1); fill(dy.array, 2);
    const b = rt.copyIn(jsBuf.b), g = rt.copyIn(jsBuf.g), m = rt.allocF32(C), is = rt.allocF32(C), rm = rt.allocF32(C), rv = rt.allocF32(C);
    const dg = rt.allocF32(C), db = rt.allocF32(C);
    rv.array.fill(1);
    ours[v] = { rt, x, y, dy, dx, b, g, m, is, rm, rv, dg, db };
  }
  const each = (f) => Object.fromEntries(Object.entries(ours).map(([v, o]) => [`ours ${v}`, () => f(o)]));
  const jb = jsBuf;

  cases.push(['relu', n, 8 * n, { ...each((o) => K.relu(o.x, o.y, o.rt)), 'JS loop': () => js.relu(jb.x, jb.y) }]);
  cases.push(['relu grad', n, 12 * n, { ...each((o) => K.reluGrad(o.x, o.dy, o.dx, o.rt)),
    'JS loop': () => { for (let i = 0; i < n; i++) jb.dx[i] = jb.x[i] > 0 ? jb.dy[i] : 0; } }]);
  cases.push(['bias-add', n, 8 * n, { ...each((o) => K.biasAdd(o.x, o.b, o.y, rows, C, o.rt)), 'JS loop': () => js.biasAdd(jb.x, jb.b, jb.y, rows, C) }]);
  cases.push(['bias grad', n, 4 * n, { ...each((o) => K.biasGrad(o.dy, o.db, rows, C, o.rt)),
    'JS loop': () => { jb.db.fill(0); for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) jb.db[c] += jb.dy[i]; } }]);
  // batch-norm train forward: reads x twice for the statistics and once more for y, writes y.
  cases.push(['batchnorm train fwd', n, 16 * n, { ...each((o) => K.batchNormTrain({ x: o.x, y: o.y, rows, C, gamma: o.g, beta: o.b,
    saveMean: o.m, saveInvStd: o.is, runningMean: o.rm, runningVar: o.rv }, o.rt)),
  'JS loop': () => js.bnTrain(jb.x, jb.y, rows, C, jb.g, jb.b, jb.m, jb.is) }]);
  cases.push(['batchnorm bwd', n, 20 * n, { ...each((o) => K.batchNormGrad({ x: o.x, dy: o.dy, dx: o.dx, rows, C, gamma: o.g,
    saveMean: o.m, saveInvStd: o.is, dgamma: o.dg, dbeta: o.db }, o.rt)),
  'JS loop': () => js.bnGrad(jb.x, jb.dy, jb.dx, rows, C, jb.g, jb.m, jb.is, jb.dg, jb.db) }]);
  cases.push(['gelu (tanh)', n, 8 * n, { ...each((o) => K.geluTanh(o.x, o.y, o.rt)), 'JS loop': () => js.gelu(jb.x, jb.y) }]);

  for (const { label, B, K: Kc } of LOGITS) {
    const labels = Int32Array.from({ length: B }, (_, i) => (i * 7) % Kc);
    const jx = fill(new Float32Array(B * Kc), 5, -4, 4), jp = new Float32Array(B * Kc), jd = new Float32Array(B * Kc);
    const tasks = {};
    for (const [v, o] of Object.entries(ours)) {
      const x = o.rt.copyIn(jx), p = o.rt.allocF32(B * Kc), d = o.rt.allocF32(B * Kc);
      // labels in wasm memory, so the call copies nothing
      const lp = o.rt.arena.alloc(4 * B);
      o.rt.i32.set(labels, lp >> 2);
      const lab = () => o.rt.i32.subarray(lp >> 2, (lp >> 2) + B);
      tasks[`ours ${v}`] = () => {
        const l = lab();
        K.softmaxCrossEntropy({ logits: x, labels: l, probs: p, B, K: Kc, smoothing: 0.1 }, o.rt);
        K.softmaxCrossEntropyGrad({ probs: p, labels: l, dlogits: d, B, K: Kc, smoothing: 0.1 }, o.rt);
      };
    }
    tasks['JS loop'] = () => js.softmaxCE(jx, labels, jp, jd, B, Kc);
    cases.push([`softmax-CE fwd+bwd ${label}`, B * Kc, 12 * B * Kc, tasks]);
  }

  // Each case's operations, keys of ELEMENTWISE_KERNELS (the wasm kernels are recorded with the results).
  const OPS = {
    relu: ['relu'], 'relu grad': ['reluGrad'], 'bias-add': ['biasAdd'], 'bias grad': ['biasGrad'],
    'batchnorm train fwd': ['batchNormTrain'], 'batchnorm bwd': ['batchNormGrad'], 'gelu (tanh)': ['geluTanh'],
    'softmax-CE fwd+bwd': ['softmaxCrossEntropy', 'softmaxCrossEntropyGrad'],
  };
  const kernelsOf = (op) => {
    const ops = OPS[op.startsWith('softmax-CE') ? 'softmax-CE fwd+bwd' : op];
    if (!ops || ops.some((o) => !(o in K.ELEMENTWISE_KERNELS))) throw new Error(`bench case ${op} names no operation of ELEMENTWISE_KERNELS`);
    return ops.map((o) => K.ELEMENTWISE_KERNELS[o]);
  };
  const results = [];
  const table = [];
  for (const [op, elems, bytes, tasks] of cases) {
    const r = await measure(tasks, opts);
    const jsMs = r.find((t) => t.name === 'JS loop')?.medianMs;
    for (const t of r) {
      const meps = elems / t.medianMs / 1e3;
      const gbps = bytes / t.medianMs / 1e6;
      results.push({ op, kernels: kernelsOf(op), shape: op.startsWith('softmax') ? op.split(' ').pop() : ACT.label, impl: t.name, medianMs: t.medianMs,
        MElemPerS: meps, GBPerS: gbps, bytesPerCall: bytes, vsJS: jsMs / t.medianMs, samples: t.samples });
      table.push([op, t.name, t.medianMs.toFixed(4), meps.toFixed(0), gbps.toFixed(2), (jsMs / t.medianMs).toFixed(1) + '×']);
    }
  }
  printTable(['op', 'impl', 'median ms', 'M elem/s', 'GB/s', 'vs JS'], table);
  const file = save('elementwise', { environment: environment({ timeMs: TIME }), activations: ACT, results });
  console.log(`saved ${file}`);
}
