// Rounding error of Winograd F(2×2, 3×3) vs the direct kernel on realistic data: the resnet8 3×3 stride-1
// layers at batch 64 (BATCH env to change), x = ReLU(N(0, 1)), w He-uniform (±√(6/(9·Cin))), dy ~ N(0, 1).
// Both kernels are compared with the f64 reference; prints max |err| / max |ref| and the mean relative error
// |err| / |ref| over outputs with |ref| > 1e-3·max|ref|. Not a bench suite (no timing): run it directly,
//   npm run build && node --experimental-wasm-relaxed-simd bench/winograd-error.mjs
import { createRuntime } from '../dist/core/runtime.js';
import { Rng } from '../dist/core/random.js';
import { conv2dShape, conv2d, conv2dGradInput, conv2dGradWeight } from '../dist/kernels/conv.js';
import { conv2dRef, conv2dGradInputRef, conv2dGradWeightRef } from '../dist/kernels/conv.ref.js';
import { setWinogradDispatch, winogradConv2d, winogradConv2dGradInput, winogradConv2dGradWeight } from '../dist/kernels/winograd.js';

const N = Number(process.env.BATCH ?? 64);
const LAYERS = [[28, 16, 16], [14, 32, 32], [7, 64, 64]];

function normal(rng, n, relu = false) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    a[i] = relu ? Math.max(0, v) : v;
  }
  return a;
}

function stats(got, ref) {
  let maxRef = 0, maxErr = 0;
  for (let i = 0; i < ref.length; i++) { maxRef = Math.max(maxRef, Math.abs(ref[i])); maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i])); }
  let sum = 0, cnt = 0;
  for (let i = 0; i < ref.length; i++) if (Math.abs(ref[i]) > 1e-3 * maxRef) { sum += Math.abs(got[i] - ref[i]) / Math.abs(ref[i]); cnt++; }
  return { normMax: maxErr / maxRef, meanRel: sum / cnt };
}

const fmt = (s) => `max|err|/max|ref| ${s.normMax.toExponential(2)}, mean rel ${s.meanRel.toExponential(2)}`;
const rng = new Rng(7);
for (const variant of ['simd', 'relaxed']) {
  const rt = await createRuntime(variant);
  for (const [HW, C, CO] of LAYERS) {
    const s = conv2dShape([N, HW, HW, C], [3, 3, C, CO], { padding: 1 });
    const x = normal(rng, N * HW * HW * C, true), dy = normal(rng, N * HW * HW * CO);
    const lim = Math.sqrt(6 / (9 * C)), w = new Float32Array(9 * C * CO);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * lim;
    const X = rt.copyIn(x), Wt = rt.copyIn(w), DY = rt.copyIn(dy);
    const was = setWinogradDispatch(false);
    const yd = conv2d(X, Wt, null, s).array.slice(), dxd = conv2dGradInput(DY, Wt, s).array.slice();
    const dwd = conv2dGradWeight(X, DY, s).array.slice();
    setWinogradDispatch(was);
    const yw = winogradConv2d(X, Wt, null, s).array.slice(), dxw = winogradConv2dGradInput(DY, Wt, s).array.slice();
    const dww = winogradConv2dGradWeight(X, DY, s).array.slice();
    const yr = conv2dRef(x, w, null, s), dxr = conv2dGradInputRef(dy, w, s), dwr = conv2dGradWeightRef(x, dy, s);
    const [a, b, c, d] = [stats(yd, yr), stats(yw, yr), stats(dxd, dxr), stats(dxw, dxr)];
    const [e, f] = [stats(dwd, dwr), stats(dww, dwr)];
    console.log(`${variant} ${HW}×${HW}×${C}→${CO} b${N} forward:    direct ${fmt(a)} | winograd ${fmt(b)} | ratio ${(b.normMax / a.normMax).toFixed(2)}`);
    console.log(`${variant} ${HW}×${HW}×${C}→${CO} b${N} grad-input: direct ${fmt(c)} | winograd ${fmt(d)} | ratio ${(d.normMax / c.normMax).toFixed(2)}`);
    console.log(`${variant} ${HW}×${HW}×${C}→${CO} b${N} grad-weight: direct ${fmt(e)} | winograd ${fmt(f)} | ratio ${(f.normMax / e.normMax).toFixed(2)}`);
  }
}
