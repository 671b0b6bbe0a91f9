// Convolution family vs TensorFlow.js (wasm backend, 1 thread): conv2d forward, grad-input, grad-weight
// and depthwise forward on a CIFAR-scale layer and two MNIST-scale layers, in GFLOP/s = 2·MACs / time.
// TF.js-wasm has no Conv2DBackpropFilter kernel (tf.grad w.r.t. the filter falls back to slow paths /
// fails), so our grad-weight is compared with TF.js-wasm conv2d FORWARD on the same shape.
// 3×3 stride-1 shapes (the resnet8 ones at batch 64 among them) time both paths of forward, grad-input and
// grad-weight: 'direct' (the direct / GEMM-over-pixels kernels) and 'winograd' (F(2×2, 3×3)); GFLOP/s counts the direct conv's MACs for
// both, so it is an effective rate for winograd. conv.ts dispatches by the rules in winograd.ts.
// BENCH_TIME_MS sets the measuring time per task (default 400 ms).
import { createRequire } from 'node:module';
import path from 'node:path';
import { measure, save, environment, printTable } from './lib.mjs';
import { createRuntime } from '../dist/core/runtime.js';
import {
  conv2dShape, depthwiseConv2dShape, conv2d, conv2dGradInput, conv2dGradWeight, depthwiseConv2d, CONV_KERNELS,
} from '../dist/kernels/conv.js';
import {
  setWinogradDispatch, winogradApplies, winogradConv2d, winogradConv2dGradInput, winogradConv2dGradWeight,
} from '../dist/kernels/winograd.js';

const SHAPES = [
  { name: 'cifar 32×32×32→32 b32', N: 32, H: 32, W: 32, C: 32, CO: 32, K: 3 },
  { name: 'mnist 28×28×1→16 b64', N: 64, H: 28, W: 28, C: 1, CO: 16, K: 3 },
  { name: 'mnist 14×14×16→32 b64', N: 64, H: 14, W: 14, C: 16, CO: 32, K: 3 },
  { name: 'resnet8 28×28×16→16 b64', N: 64, H: 28, W: 28, C: 16, CO: 16, K: 3 },
  { name: 'resnet8 14×14×32→32 b64', N: 64, H: 14, W: 14, C: 32, CO: 32, K: 3 },
  { name: 'resnet8 7×7×64→64 b64', N: 64, H: 7, W: 7, C: 64, CO: 64, K: 3 },
];

const DW_SHAPES = [
  { name: 'dw 32×32×32 b32', N: 32, H: 32, W: 32, C: 32, K: 3 },
  { name: 'dw 14×14×32 b64', N: 64, H: 14, W: 14, C: 32, K: 3 },
];

/** f with the Winograd dispatch set to `on` for the call (the winograd rows call the kernel directly). */
const withDispatch = (on, f) => () => { const was = setWinogradDispatch(on); try { f(); } finally { setWinogradDispatch(was); } };

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; a[i] = s / 2 ** 32 - 0.5; }
  return a;
}

async function tfWasm() {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const req = createRequire(import.meta.url);
  const dir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  return tf;
}

export default async function run() {
  const time = Number(process.env.BENCH_TIME_MS ?? 400);
  const opts = { time, warmupTime: Math.min(100, time / 4), iterations: 5 };
  const rts = { simd: await createRuntime('simd'), relaxed: await createRuntime('relaxed') };
  const tf = await tfWasm();
  const rows = [], results = [];
  // Each op label's operation, a key of CONV_KERNELS (the wasm kernel behind a row is recorded with it).
  const OPS = { 'conv2d forward': 'conv2d', 'conv2d grad-input': 'conv2dGradInput', 'conv2d grad-weight': 'conv2dGradWeight',
    'depthwise forward': 'depthwiseConv2d' };
  const report = (shape, op, macs, res, peerOf) => {
    if (!(OPS[op] in CONV_KERNELS)) throw new Error(`${op} names no operation of CONV_KERNELS`);
    const g = (r) => (2 * macs) / (r.medianMs * 1e6);
    const by = Object.fromEntries(res.map((r) => [r.name, r]));
    const peer = by[peerOf];
    for (const r of res) {
      const gf = g(r);
      results.push({ shape, op, kernel: CONV_KERNELS[OPS[op]], task: r.name, medianMs: r.medianMs, gflops: gf, samples: r.samples });
      rows.push([shape, op, r.name, r.medianMs.toFixed(3), gf.toFixed(2), peer ? (gf / g(peer)).toFixed(2) + '×' : '']);
    }
  };

  for (const sh of SHAPES) {
    const s = conv2dShape([sh.N, sh.H, sh.W, sh.C], [sh.K, sh.K, sh.C, sh.CO], { padding: 1 });
    const macs = s.N * s.OH * s.OW * s.CO * s.KH * s.KW * s.C;
    const x = rand(s.N * s.H * s.W * s.C, 1), w = rand(s.KH * s.KW * s.C * s.CO, 2), dy = rand(s.N * s.OH * s.OW * s.CO, 3);
    const ours = {}, fwdTasks = {}, dxTasks = {}, dwTasks = {};
    for (const [v, rt] of Object.entries(rts)) {
      const X = rt.copyIn(x), Wt = rt.copyIn(w), DY = rt.copyIn(dy);
      const Y = rt.allocF32(dy.length), DX = rt.allocF32(x.length), DW = rt.allocF32(w.length);
      ours[v] = {
        fwd: () => conv2d(X, Wt, null, s, Y),
        dx: () => conv2dGradInput(DY, Wt, s, DX),
        dw: () => conv2dGradWeight(X, DY, s, DW),
      };
      if (winogradApplies(s)) {
        fwdTasks[`fliqs ${v} direct`] = withDispatch(false, ours[v].fwd);
        fwdTasks[`fliqs ${v} winograd`] = () => winogradConv2d(X, Wt, null, s, Y);
        dxTasks[`fliqs ${v} direct`] = withDispatch(false, ours[v].dx);
        dxTasks[`fliqs ${v} winograd`] = () => winogradConv2dGradInput(DY, Wt, s, DX);
        dwTasks[`fliqs ${v} direct`] = withDispatch(false, ours[v].dw);
        dwTasks[`fliqs ${v} winograd`] = () => winogradConv2dGradWeight(X, DY, s, DW);
      } else {
        fwdTasks[`fliqs ${v}`] = ours[v].fwd;
        dxTasks[`fliqs ${v}`] = ours[v].dx;
        dwTasks[`fliqs ${v}`] = ours[v].dw;
      }
    }
    const tx = tf.tensor4d(x, [s.N, s.H, s.W, s.C]), tw = tf.tensor4d(w, [s.KH, s.KW, s.C, s.CO]);
    const tdy = tf.tensor4d(dy, [s.N, s.OH, s.OW, s.CO]);
    const tfFwd = () => tf.conv2d(tx, tw, 1, 'same').dispose();
    const gradX = tf.grad((a) => tf.conv2d(a, tw, 1, 'same'));
    const tfDx = () => gradX(tx, tdy).dispose();
    const fwd = await measure({ ...fwdTasks, 'tfjs-wasm conv2d': tfFwd }, opts);
    report(sh.name, 'conv2d forward', macs, fwd, 'tfjs-wasm conv2d');
    const dx = await measure({ ...dxTasks, 'tfjs-wasm grad x': tfDx, 'tfjs-wasm conv2d': tfFwd }, opts);
    report(sh.name, 'conv2d grad-input', macs, dx, 'tfjs-wasm conv2d');
    const dw = await measure({ ...dwTasks, 'tfjs-wasm conv2d (fwd, no dW kernel)': tfFwd }, opts);
    report(sh.name, 'conv2d grad-weight', macs, dw, 'tfjs-wasm conv2d (fwd, no dW kernel)');
    tf.dispose([tx, tw, tdy]);
  }

  for (const sh of DW_SHAPES) {
    const s = depthwiseConv2dShape([sh.N, sh.H, sh.W, sh.C], [sh.K, sh.K, sh.C], { padding: 1 });
    const macs = s.N * s.OH * s.OW * s.C * s.KH * s.KW;
    const x = rand(s.N * s.H * s.W * s.C, 4), w = rand(s.KH * s.KW * s.C, 5);
    const tasks = {};
    for (const [v, rt] of Object.entries(rts)) {
      const X = rt.copyIn(x), Wt = rt.copyIn(w), Y = rt.allocF32(s.N * s.OH * s.OW * s.C);
      tasks[`fliqs ${v}`] = () => depthwiseConv2d(X, Wt, null, s, Y);
    }
    const tx = tf.tensor4d(x, [s.N, s.H, s.W, s.C]), tw = tf.tensor4d(w, [s.KH, s.KW, s.C, 1]);
    tasks['tfjs-wasm depthwiseConv2d'] = () => tf.depthwiseConv2d(tx, tw, 1, 'same').dispose();
    report(sh.name, 'depthwise forward', macs, await measure(tasks, opts), 'tfjs-wasm depthwiseConv2d');
    tf.dispose([tx, tw]);
  }

  printTable(['shape', 'op', 'task', 'median ms', 'GFLOP/s', 'vs peer'], rows);
  const file = save('conv', { environment: environment({ timeMs: time, threads: 1, peer: 'tfjs-backend-wasm 4.22, 1 thread' }),
    note: 'GFLOP/s = 2·MACs/median time. grad-weight is compared with TF.js-wasm conv2d forward (no Conv2DBackpropFilter kernel in the wasm backend).',
    results });
  console.log(`saved ${file}`);
}
