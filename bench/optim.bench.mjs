// Optimizer steps on one 1M-parameter buffer (about a small CNN's weights), wasm-resident: the fused
// SIMD kernels (adamStep, rmspropStep, sgdStep, through the optimizers) against
// the code they replaced, kept here as the peers: the TypeScript loops of Adam/AdamW/RMSProp and SGD's
// several scale/axpy passes, on the same buffers. Also the reference path (plain
// Float32Arrays) for SGD. Reports ms per step, M params/s and kernel-vs-peer speed-ups.
// BENCH_TIME_MS sets the tinybench time per task (default 400).
import { measure, save, environment, printTable } from './lib.mjs';
import { createRuntime } from '../dist/core/runtime.js';
import { SGD, Adam, AdamW, RMSProp } from '../dist/optim/index.js';

const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const opts = { time: TIME, warmupTime: Math.min(200, TIME / 2), iterations: 5 };
const N = 1 << 20;
const LR = 1e-6; // tiny lr keeps the parameters from drifting over thousands of steps

function fill(a, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = (s / 2 ** 32 - 0.5) * 1e-3; }
  return a;
}

// ---------------------------------------------------------------------------------------------
// The peers: the pre-kernel update code (src/optim at 07be804), over wasm-resident param/grad/state.

/** Zeroed state buffers in wasm memory (freed with the run's other buffers); views are re-read at every step. */
const owned = [];
function state(rt, k) {
  return Array.from({ length: k }, () => { const b = rt.allocF32(N); b.array.fill(0); owned.push(b); return b; });
}

function oldAdam(rt, p, g, decoupled, { beta1: b1 = 0.9, beta2: b2 = 0.999, eps = 1e-8, weightDecay = decoupled ? 1e-2 : 0 } = {}) {
  const [mb, vb] = state(rt, 2);
  let t = 0;
  return () => {
    t++;
    const P = p.array, G = g.array, m = mb.array, v = vb.array, lr = LR, wd = weightDecay;
    const stepSize = lr / (1 - b1 ** t), bc2 = Math.sqrt(1 - b2 ** t);
    const shrink = decoupled ? 1 - lr * wd : 1, l2 = decoupled ? 0 : wd;
    for (let j = 0; j < N; j++) {
      const pj = Math.fround(P[j] * shrink);
      const gj = Math.fround(G[j] + l2 * pj);
      const mj = (m[j] = Math.fround(b1 * m[j] + (1 - b1) * gj));
      const vj = (v[j] = Math.fround(b2 * v[j] + (1 - b2) * gj * gj));
      P[j] = pj - stepSize * mj / (Math.sqrt(vj) / bc2 + eps);
    }
  };
}

function oldRMSProp(rt, p, g, { alpha: a = 0.99, eps = 1e-8, momentum: mu = 0, centered = false, weightDecay: wd = 0 } = {}) {
  const [vb, gab, bb] = state(rt, 3);
  return () => {
    const P = p.array, G = g.array, v = vb.array, gavg = centered ? gab.array : null, buf = mu > 0 ? bb.array : null, lr = LR;
    for (let j = 0; j < N; j++) {
      const gj = Math.fround(G[j] + wd * P[j]);
      const vj = (v[j] = Math.fround(a * v[j] + (1 - a) * gj * gj));
      let avg;
      if (gavg) {
        const ga = (gavg[j] = Math.fround(a * gavg[j] + (1 - a) * gj));
        avg = Math.sqrt(Math.max(0, vj - ga * ga)) + eps;
      } else {
        avg = Math.sqrt(vj) + eps;
      }
      if (buf) {
        const b = (buf[j] = Math.fround(mu * buf[j] + gj / avg));
        P[j] = P[j] - lr * b;
      } else {
        P[j] = P[j] - lr * gj / avg;
      }
    }
  };
}

/** SGD with momentum and weight decay as scale/axpy passes (the old updateSimd, no Nesterov). */
function oldSGD(rt, p, g, { momentum: mu, weightDecay: wd, dampening = 0 }) {
  const [bb] = state(rt, 1);
  const k = rt.kernels, lr = LR;
  let t = 0;
  return () => {
    t++;
    const c = t === 1 ? 1 : 1 - dampening;
    if (t === 1) k.scale_f32x4(g.ptr, bb.ptr, N, 1); else { k.scale_f32x4(bb.ptr, bb.ptr, N, mu); k.axpy_f32x4(g.ptr, bb.ptr, N, c); }
    if (wd !== 0) k.axpy_f32x4(p.ptr, bb.ptr, N, c * wd);
    k.axpy_f32x4(bb.ptr, p.ptr, N, -lr);
  };
}

// ---------------------------------------------------------------------------------------------

const CASES = [
  ['SGD momentum + wd', { momentum: 0.9, weightDecay: 1e-4 }, (ps, o, rt) => new SGD(ps, { lr: LR, ...o }, rt), (rt, p, g, o) => oldSGD(rt, p, g, o)],
  ['Adam', {}, (ps, o, rt) => new Adam(ps, { lr: LR, ...o }, rt), (rt, p, g, o) => oldAdam(rt, p, g, false, o)],
  ['Adam + L2', { weightDecay: 1e-4 }, (ps, o, rt) => new Adam(ps, { lr: LR, ...o }, rt), (rt, p, g, o) => oldAdam(rt, p, g, false, o)],
  ['AdamW', {}, (ps, o, rt) => new AdamW(ps, { lr: LR, ...o }, rt), (rt, p, g, o) => oldAdam(rt, p, g, true, o)],
  ['RMSProp', {}, (ps, o, rt) => new RMSProp(ps, { lr: LR, ...o }, rt), (rt, p, g, o) => oldRMSProp(rt, p, g, o)],
  ['RMSProp centered + momentum + wd', { centered: true, momentum: 0.9, weightDecay: 1e-4 },
    (ps, o, rt) => new RMSProp(ps, { lr: LR, ...o }, rt), (rt, p, g, o) => oldRMSProp(rt, p, g, o)],
];

export default async function () {
  const rows = [];
  const results = {};
  for (const variant of ['simd', 'relaxed']) {
    const rt = await createRuntime(variant);
    const buffers = [];
    const wasmPair = () => {
      const p = rt.copyIn(fill(new Float32Array(N), 1)), g = rt.copyIn(fill(new Float32Array(N), 2));
      buffers.push(p, g);
      return { param: p, grad: g };
    };
    const optimizers = [];
    const tasks = {};
    const peerOf = {};
    for (const [name, o, make, old] of CASES) {
      const kernelOpt = make([wasmPair()], o, rt);
      optimizers.push(kernelOpt);
      const peer = wasmPair();
      const kName = `${name}: fused kernel [${variant}]`, pName = `${name}: old ${name.startsWith('SGD') ? 'scale/axpy passes' : 'TS loop'} [${variant}]`;
      tasks[kName] = () => kernelOpt.step();
      tasks[pName] = old(rt, peer.param, peer.grad, o);
      peerOf[kName] = pName;
      if (name.startsWith('SGD')) {
        const refOpt = make([{ param: fill(new Float32Array(N), 1), grad: fill(new Float32Array(N), 2) }], o, rt);
        optimizers.push(refOpt);
        tasks[`${name}: reference path, plain arrays [${variant}]`] = () => refOpt.step();
      }
    }
    const measured = await measure(tasks, opts);
    const byName = Object.fromEntries(measured.map((r) => [r.name, r]));
    for (const r of measured) {
      const mps = N / (r.medianMs * 1e3);
      const peer = peerOf[r.name] ? byName[peerOf[r.name]] : undefined;
      const speedup = peer ? peer.medianMs / r.medianMs : undefined;
      results[r.name] = { ...r, params: N, mParamsPerS: mps, ...(speedup ? { peer: peer.name, speedupVsPeer: speedup } : {}) };
      rows.push([r.name, r.medianMs.toFixed(3), mps.toFixed(0), speedup ? `${speedup.toFixed(2)}×` : '']);
    }
    for (const o of optimizers) o.dispose();
    for (const b of [...buffers, ...owned.splice(0)]) b.free();
  }
  printTable(['optimizer step, 1M params', 'ms/step (median)', 'M params/s', 'speed-up vs old'], rows);
  console.log('saved', save('optim', { environment: environment({ timeMs: TIME }), results }));
}
