// Threads under the kernels (src/kernels/threads.ts): every kernel that splits its work gives the same bits
// for 1, 2, 3 and 4 threads on odd shapes (the split threshold lowered so small problems split too), and so
// does a short search end to end (max-pool indices and quantizers included); a failing worker becomes a FliqsError and the pool restarts; memory grown
// while workers are alive is used correctly; idle workers never keep a Node process alive.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, runtime, WasmF32, type Runtime } from '../src/core/runtime.js';
import { FliqsError } from '../src/core/errors.js';
import { gemm, gemmBatched } from '../src/kernels/gemm.js';
import * as C from '../src/kernels/conv.js';
import * as E from '../src/kernels/elementwise.js';
import { getThreads, runTasks, setMinTaskWork, setThreads, splitRange, stopThreads, threadsFor } from '../src/kernels/threads.js';
import { setWinogradDispatch } from '../src/kernels/winograd.js';
import { Search, syntheticSplits, createModel } from '../src/index.js';
import { Rng } from '../src/core/random.js';
import { quantize, quantizePerChannel, steGradient } from '../src/kernels/quant.js';
import { conv2dI8, depthwiseConv2dI8, gemmI8, gemmI8Dequant, packWeightsI4, packWeightsI8 } from '../src/kernels/int8.js';

const THREADS = [1, 2, 3, 4];
let saved = { threads: 1, work: 1 };
beforeAll(() => { saved = { threads: getThreads(), work: setMinTaskWork(1) }; });
afterAll(() => { setMinTaskWork(saved.work); setThreads(saved.threads); });

function randomF32(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/** Runs `compute` at every thread count and expects the same bits as on one thread, output by output. */
function sameForAnyThreadCount(compute: () => Float32Array[]): void {
  setThreads(1);
  const want = compute();
  for (const t of THREADS.slice(1)) {
    setThreads(t);
    const got = compute();
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => {
      expect(g.length).toBe(want[i]!.length);
      const bad = g.findIndex((v, j) => !Object.is(v, want[i]![j]));
      expect(bad, `output ${i} at ${t} threads differs at element ${bad}`).toBe(-1);
    });
  }
}

const out = (b: WasmF32): Float32Array => { const a = b.array.slice(); b.free(); return a; };

describe.each([['relaxed', runtime], ['simd', null]] as const)('%s module: the same bits for 1–4 threads', (_, given) => {
  let rt: Runtime;
  beforeAll(async () => { rt = given ?? (await createRuntime('simd')); });

  it('splits into more than one task at these sizes (else the tests below prove nothing)', () => {
    setThreads(3);
    expect(threadsFor(rt)).toBe(3);
  });

  it('gemm (all layouts, odd shapes, fused quantization) and gemmBatched', () => {
    const rng = new Rng(7);
    for (const [M, N, K] of [[67, 45, 29], [1, 93, 17], [131, 1, 9], [41, 37, 300]] as const) {
      const A = randomF32(M * K, rng), B = randomF32(K * N, rng);
      sameForAnyThreadCount(() => (['nn', 'nt', 'tn'] as const).map((lay) => {
        const Cm = randomF32(M * N, new Rng(1));
        gemm(lay, M, N, K, 0.75, A, lay === 'tn' ? M : K, B, lay === 'nt' ? K : N, 0.5, Cm, N, {}, rt);
        return Cm;
      }).concat([(() => {
        const Cm = new Float32Array(M * N);
        gemm('nn', M, N, K, 1, A, K, B, N, 0, Cm, N, { quantB: { format: 'E4M3', clip: 0.8 } }, rt);
        return Cm;
      })()]));
    }
    const A = randomF32(5 * 13 * 7, rng), B = randomF32(5 * 7 * 11, rng);
    sameForAnyThreadCount(() => {
      const Cm = new Float32Array(5 * 13 * 11);
      gemmBatched('nn', 5, 13, 11, 7, 1, A, 13 * 7, 7, B, 7 * 11, 11, 0, Cm, 13 * 11, 11, rt);
      return [Cm];
    });
  });

  it('conv2d forward, grad-input, grad-weight and grad-bias on the direct, GEMM and Winograd paths, depthwise, max and average pooling', () => {
    const rng = new Rng(11);
    const cases: Array<[number[], number[], C.ConvOptions]> = [
      [[5, 9, 7, 1], [5, 5, 1, 6], { padding: 2 }], // 1 input channel: direct grad-weight
      [[3, 11, 9, 6], [3, 3, 6, 20], { stride: 2, padding: 1 }], // strided, GEMM grad-weight
      [[4, 10, 8, 12], [3, 3, 12, 27], { padding: 1 }], // 3×3 stride 1: Winograd when dispatched
      [[3, 7, 7, 8], [3, 3, 4, 10], { padding: 1, groups: 2 }], // grouped: grad-weight stays whole
    ];
    for (const winograd of [true, false]) {
      setWinogradDispatch(winograd);
      try {
        for (const [xs, ws, o] of cases) {
          const s = C.conv2dShape(xs, ws, o);
          const x = rt.copyIn(randomF32(s.N * s.H * s.W * s.C, rng)), w = rt.copyIn(randomF32(s.KH * s.KW * (s.C / s.groups) * s.CO, rng));
          const b = rt.copyIn(randomF32(s.CO, rng)), dy = rt.copyIn(randomF32(s.N * s.OH * s.OW * s.CO, rng));
          sameForAnyThreadCount(() => [out(C.conv2d(x, w, b, s)), out(C.conv2dGradInput(dy, w, s)), out(C.conv2dGradWeight(x, dy, s)), out(C.conv2dGradBias(dy, s))]);
          for (const t of [x, w, b, dy]) t.free();
        }
      } finally {
        setWinogradDispatch(true);
      }
    }
    // one image: forward passes split by output rows (and Winograd by pairs of rows)
    for (const winograd of [true, false]) {
      setWinogradDispatch(winograd);
      try {
        for (const [xs, ws, o] of [[[1, 13, 11, 8], [3, 3, 8, 12], { padding: 1 }], [[1, 15, 9, 3], [5, 5, 3, 7], { stride: 2, padding: 2 }]] as const) {
          const s1 = C.conv2dShape([...xs], [...ws], o);
          const x1 = rt.copyIn(randomF32(s1.N * s1.H * s1.W * s1.C, rng)), w1 = rt.copyIn(randomF32(s1.KH * s1.KW * s1.C * s1.CO, rng));
          const dy1 = rt.copyIn(randomF32(s1.N * s1.OH * s1.OW * s1.CO, rng));
          sameForAnyThreadCount(() => [out(C.conv2d(x1, w1, null, s1)), out(C.conv2dGradInput(dy1, w1, s1))]);
          for (const t of [x1, w1, dy1]) t.free();
        }
      } finally {
        setWinogradDispatch(true);
      }
    }
    const d1 = C.depthwiseConv2dShape([1, 9, 11, 13], [3, 3, 13], { padding: 1 }), p1 = C.pool2dShape([1, 9, 11, 13], { kernel: 3, stride: 2, padding: 1 });
    const x1 = rt.copyIn(randomF32(9 * 11 * 13, rng)), w1 = rt.copyIn(randomF32(9 * 13, rng));
    sameForAnyThreadCount(() => {
      const { y, argmax } = C.maxPool2d(x1, p1);
      const ia = Float32Array.from(argmax.array);
      argmax.free();
      return [out(C.depthwiseConv2d(x1, w1, null, d1)), out(C.avgPool2d(x1, p1)), out(y), ia];
    });
    for (const t of [x1, w1]) t.free();
    const d = C.depthwiseConv2dShape([5, 9, 11, 13], [3, 3, 13], { stride: 2, padding: 1 });
    const x = rt.copyIn(randomF32(5 * 9 * 11 * 13, rng)), w = rt.copyIn(randomF32(9 * 13, rng)), dy = rt.copyIn(randomF32(d.N * d.OH * d.OW * d.C, rng));
    const p = C.pool2dShape([5, 9, 11, 13], { kernel: 3, stride: 2, padding: 1 });
    const py = rt.copyIn(randomF32(p.N * p.OH * p.OW * p.C, rng));
    sameForAnyThreadCount(() => {
      const { y, argmax } = C.maxPool2d(x, p);
      const ia = Float32Array.from(argmax.array), dx = out(C.maxPool2dGrad(py, argmax, p));
      argmax.free();
      return [out(C.depthwiseConv2d(x, w, null, d)), out(C.depthwiseConv2dGradInput(dy, w, d)),
        out(C.avgPool2d(x, p)), out(C.avgPool2dGrad(py, p)), out(y), ia, dx];
    });
    for (const t of [x, w, dy, py]) t.free();
  });

  it('batch-norm (statistics by channel slices, normalizing by rows), the quantizers and the elementwise kernels', () => {
    const rng = new Rng(13);
    for (const [rows, Ch] of [[77, 13], [150, 40], [9, 3]] as const) {
      const n = rows * Ch;
      const x = randomF32(n, rng), dy = randomF32(n, rng), gamma = randomF32(Ch, rng), beta = randomF32(Ch, rng);
      sameForAnyThreadCount(() => {
        const y = new Float32Array(n), mean = new Float32Array(Ch), inv = new Float32Array(Ch);
        const rm = randomF32(Ch, new Rng(2)), rv = randomF32(Ch, new Rng(3)).map(Math.abs);
        E.batchNormTrain({ x, y, rows, C: Ch, gamma, beta, saveMean: mean, saveInvStd: inv, runningMean: rm, runningVar: rv }, rt);
        const dx = new Float32Array(n), dg = new Float32Array(Ch), db = new Float32Array(Ch);
        E.batchNormGrad({ x, dy, dx, rows, C: Ch, gamma, saveMean: mean, saveInvStd: inv, dgamma: dg, dbeta: db }, rt);
        return [y, mean, inv, rm, rv, dx, dg, db];
      });
    }
    for (const [rows, Ch] of [[37, 11], [200, 16]] as const) {
      const x = randomF32(rows * Ch, rng).map((v) => 3 * v), g = randomF32(rows * Ch, rng);
      sameForAnyThreadCount(() => [quantize(x, 'INT4', 1.3), quantize(x, 'E4M3', 2), steGradient(x, g, 1.1),
        quantizePerChannel(x, 'INT8', Array.from({ length: Ch }, (_, c) => 0.5 + c / Ch), { shape: [rows, Ch], axis: 1 })]);
    }
    for (const n of [1, 15, 17, 1001, 4099]) {
      const a = randomF32(n, rng), b = randomF32(n, rng);
      sameForAnyThreadCount(() => {
        const r = new Float32Array(n), g = new Float32Array(n), s = new Float32Array(n), e = new Float32Array(n), y = b.slice();
        E.relu(a, r, rt); E.reluGrad(a, b, g, rt); E.add(a, b, s, rt); E.exp(a, e, rt); E.axpy(0.3, a, y, rt);
        const m = new Float32Array(n); E.scale(a, 1.7, m, rt);
        return [r, g, s, e, y, m];
      });
    }
  });
});

describe('int8 inference kernels: the same bits for 1–4 threads', () => {
  it('gemm (int32 and dequantized f32 out), conv2d (int8 and INT4 panels) and depthwise conv2d', () => {
    const rng = new Rng(17), rt = runtime;
    const codes = (n: number): number => {
      const p = rt.arena.alloc(n);
      const v = rt.i8;
      for (let i = 0; i < n; i++) v[p + i] = Math.floor(rng.uniform() * 255) - 127;
      return p;
    };
    const [M, K, N] = [37, 29, 21];
    const a = codes(M * K), w = packWeightsI8(codes(K * N), K, N), w4 = packWeightsI4(codes(Math.ceil(9 * 6 * 10 / 2)), 9 * 6, 10);
    const [B, H, W, C] = [5, 9, 7, 6];
    const x = codes(B * H * W * C), wc = packWeightsI8(codes(9 * C * 10), 9 * C, 10), dw = codes(9 * C);
    const out = rt.arena.alloc(4 * 4096);
    const read = (bytes: number): Float32Array => Float32Array.from(rt.i32.subarray(out >> 2, (out >> 2) + bytes / 4), (v) => v);
    const f32 = (n: number): Float32Array => rt.f32.slice(out >> 2, (out >> 2) + n);
    sameForAnyThreadCount(() => {
      gemmI8(a, M, w, out);
      const r1 = read(M * N * 4);
      gemmI8Dequant(a, M, w, out, { sA: 3, sW: 0.7, bias: Array.from({ length: N }, (_, i) => i / 7) });
      const r2 = f32(M * N);
      const s1 = conv2dI8(x, [B, H, W, C], wc, [3, 3], out, { stride: 1, padding: 1, dequant: { sA: 2, sW: 0.5 } });
      const r3 = f32(s1.reduce((p, q) => p * q, 1));
      const s2 = conv2dI8(x, [B, H, W, C], w4, [3, 3], out, { stride: 2, padding: 1 });
      const r4 = read(4 * s2.reduce((p, q) => p * q, 1));
      const s3 = depthwiseConv2dI8(x, [B, H, W, C], dw, [3, 3], out, { padding: 1, dequant: { sA: 2, sW: 0.25 } });
      const r5 = f32(s3.reduce((p, q) => p * q, 1));
      return [r1, r2, r3, r4, r5];
    });
  });
});

describe('the pool', () => {
  it('turns a failing worker task into a FliqsError, then restarts for the next call', () => {
    setThreads(2);
    expect(threadsFor(runtime)).toBe(2);
    const bad = runtime.memory.buffer.byteLength + 4096; // past the end: the kernel traps in the worker
    const ok = runtime.arena.alloc(64);
    try {
      let err: unknown;
      try {
        runTasks(runtime, [{ kernel: 'relu_f32x4', args: [ok, ok, 4] }, { kernel: 'relu_f32x4', args: [bad, bad, 4] }]);
      } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FliqsError);
      expect((err as FliqsError).input).toBe('threads');
      expect((err as FliqsError).message).toMatch(/worker 1 \(relu_f32x4\).*out of bounds/);
    } finally {
      runtime.arena.free(ok);
    }
    const A = new Float32Array(64 * 64).fill(1), Cm = new Float32Array(64 * 64);
    gemm('nn', 64, 64, 64, 1, A, 64, A, 64, 0, Cm, 64);
    expect(Cm.every((v) => v === 64)).toBe(true);
    expect(threadsFor(runtime)).toBe(2);
  });

  it('uses memory grown while its workers are alive', () => {
    setThreads(3);
    expect(threadsFor(runtime)).toBe(3);
    const before = runtime.memory.buffer.byteLength;
    const big = runtime.allocF32((before >> 2) + (1 << 20)); // forces a grow past everything the workers saw
    expect(runtime.memory.buffer.byteLength).toBeGreaterThan(before);
    const s = C.conv2dShape([6, 12, 12, 8], [3, 3, 8, 16], { padding: 1 });
    const rng = new Rng(5);
    // x and w inside the pages the grow added (views into `big`, past the old end)
    const xLen = s.N * s.H * s.W * s.C, wLen = 3 * 3 * 8 * 16;
    const at = Math.ceil((Math.max(big.ptr, before) + 64) / 64) * 64;
    const x = new WasmF32(runtime, at, xLen), w = new WasmF32(runtime, at + 4 * xLen, wLen);
    expect(w.ptr + 4 * wLen).toBeLessThanOrEqual(big.ptr + 4 * big.length);
    x.array.set(randomF32(xLen, rng));
    w.array.set(randomF32(wLen, rng));
    const three = out(C.conv2d(x, w, null, s));
    setThreads(1);
    const one = out(C.conv2d(x, w, null, s));
    expect(three).toEqual(one);
    big.free();
  });

  it('splits ranges on the alignment, in order, covering everything', () => {
    expect(splitRange(100, 3, 16, 1)).toEqual([[0, 32], [32, 64], [64, 100]]);
    expect(splitRange(10, 4, 16, 1)).toEqual([[0, 10]]);
    expect(splitRange(1000, 4, 1, 400)).toEqual([[0, 500], [500, 1000]]);
    for (const [n, p, a] of [[1, 4, 1], [37, 3, 8], [4099, 4, 16], [65, 2, 20]] as const) {
      const r = splitRange(n, p, a, 1);
      expect(r[0]![0]).toBe(0);
      expect(r[r.length - 1]![1]).toBe(n);
      r.forEach(([s, e], i) => { expect(e).toBeGreaterThan(s); if (i > 0) expect(s).toBe(r[i - 1]![1]); if (i < r.length - 1) expect(e % a).toBe(0); });
    }
  });

  it('refuses bad thread counts', () => {
    for (const bad of [0, -1, 1.5, 257, NaN, '2', null]) expect(() => setThreads(bad as number)).toThrow(FliqsError);
  });

  it('never keeps a Node process alive once idle', () => {
    const code = "import('./dist/index.js').then((f) => { f.setThreads(2); const a = new Float32Array(256 * 256).fill(1), c = new Float32Array(256 * 256);"
      + " f.kernels.gemm.gemm('nn', 256, 256, 256, 1, a, 256, a, 256, 0, c, 256); console.log('threads', f.getThreads(), c[0]); })";
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('threads 2 256');
    expect(Date.now() - t0).toBeLessThan(15000);
  });
});

describe('a short search', () => {
  it('gives the same steps, result and weights for 1, 2 and 3 threads', () => {
    const data = syntheticSplits({ train: 256, validation: 64, test: 64, shape: [12, 12, 1], classes: 4, seed: 3 });
    const run = () => {
      const s = new Search(createModel('cnn', { inputShape: [12, 12, 1], classes: 4, seed: 1 }), data, {
        space: 'int-s', target: '0.5xINT8', validationBatch: 32,
        train: { epochs: 2, batchSize: 32, optimizer: 'sgd', lr: 0.05, seed: 5, actQuantStart: 0.2, profileBatches: 2 },
      });
      const steps = [...s.run()];
      const weights = s.model.parameters().map((p) => p.toArray());
      return { steps, result: s.result(), weights };
    };
    setThreads(1);
    const one = run();
    for (const t of [2, 3]) {
      setThreads(t);
      const other = run();
      expect(other.steps).toEqual(one.steps);
      expect(other.result).toEqual(one.result);
      other.weights.forEach((w, i) => expect([...w]).toEqual([...one.weights[i]!]));
    }
    stopThreads();
  });
});
