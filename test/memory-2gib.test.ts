// Wasm memory past 2 GiB (issue 17, item 1): byte offsets above 2³¹ must stay unsigned everywhere a view or an
// element index is derived from them (a signed `ptr >> 2` made views of one buffer point into another). The
// default runtime grows past 2 GiB here (pages stay untouched, so it costs address space, not RAM), and
// buffers above the line are written, read and run through kernels on one and on two threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtime } from '../src/core/runtime.js';
import { Tensor, stepScope } from '../src/autograd/tensor.js';
import { conv2d, matmul } from '../src/autograd/ops.js';
import { sum } from '../src/autograd/primitives.js';
import { relu } from '../src/kernels/elementwise.js';
import { gemm } from '../src/kernels/gemm.js';
import { quantize } from '../src/kernels/quant.js';
import { quantizeRef } from '../src/formats/reference.js';
import { getThreads, setMinTaskWork, setThreads } from '../src/kernels/threads.js';

const TWO_GIB = 2 ** 31;
let big = 0;
let saved = { threads: 1, work: 1 };

beforeAll(() => {
  saved = { threads: getThreads(), work: setMinTaskWork(1) };
  big = runtime.arena.alloc(TWO_GIB + (1 << 20)); // everything allocated after this lies above 2 GiB
});
afterAll(() => {
  runtime.arena.free(big);
  setMinTaskWork(saved.work);
  setThreads(saved.threads);
});

describe('wasm memory past 2 GiB', () => {
  it('grew past 2 GiB', () => {
    expect(runtime.memory.buffer.byteLength).toBeGreaterThan(TWO_GIB);
  });

  it('a buffer above 2 GiB is viewed where it is: filling it changes nothing else', () => {
    const low = runtime.allocF32(256);
    low.array.fill(1);
    const hi = runtime.allocF32(256);
    expect(hi.ptr).toBeGreaterThan(TWO_GIB);
    hi.array.fill(7);
    expect(low.array.every((v) => v === 1)).toBe(true);
    expect(runtime.f32[hi.ptr / 4]).toBe(7);
    expect(runtime.f32[hi.ptr / 4 + 255]).toBe(7);
    const copy = runtime.copyIn([1, 2, 3]);
    expect(copy.ptr).toBeGreaterThan(TWO_GIB);
    expect([...copy.array]).toEqual([1, 2, 3]);
    for (const b of [low, hi, copy]) b.free();
  });

  it.each([1, 2])('kernels read and write above 2 GiB (%i threads)', (threads) => {
    setThreads(threads);
    const n = 4099;
    const x = runtime.copyIn(Float32Array.from({ length: n }, (_, i) => i - 2000));
    const y = runtime.allocF32(n);
    expect(x.ptr).toBeGreaterThan(TWO_GIB);
    relu(x, y);
    expect([...y.array]).toEqual([...x.array].map((v) => Math.max(v, 0)));
    // a resident Float32Array view above 2 GiB quantizes in place
    const v = x.array;
    const q = quantize(v, 'INT4', 2000);
    expect([...q]).toEqual([...quantizeRef(Float32Array.from(v), 'INT4', 2000)]);
    const A = runtime.copyIn(Float32Array.from({ length: 64 * 48 }, (_, i) => (i % 7) - 3));
    const B = runtime.copyIn(Float32Array.from({ length: 48 * 40 }, (_, i) => (i % 5) - 2));
    const C = runtime.allocF32(64 * 40);
    gemm('nn', 64, 40, 48, 1, A, 48, B, 40, 0, C, 40);
    const a = A.array, b = B.array;
    const want = new Float32Array(64 * 40);
    for (let i = 0; i < 64; i++) for (let j = 0; j < 40; j++) { let s = 0; for (let k = 0; k < 48; k++) s += a[i * 48 + k]! * b[k * 40 + j]!; want[i * 40 + j] = s; }
    expect([...C.array]).toEqual([...want]);
    for (const t of [x, y, A, B, C]) t.free();
  });

  it('tensors and autograd above 2 GiB', () => {
    setThreads(2);
    stepScope(() => {
      const x = Tensor.from(Float32Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)), [2, 6, 6, 3], { requiresGrad: true });
      const w = Tensor.from(Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 3, 4], { requiresGrad: true });
      expect(x.storage.ptr).toBeGreaterThan(TWO_GIB);
      const y = conv2d(x, w, null, { padding: 1 });
      expect(y.shape).toEqual([2, 6, 6, 4]);
      const m = matmul(Tensor.from([1, 2, 3, 4], [2, 2]), Tensor.from([1, 0, 0, 1], [2, 2]));
      expect([...m.toArray()]).toEqual([1, 2, 3, 4]);
      sum(y).backward();
      expect(w.grad).not.toBeNull();
      expect(w.grad!.ptr).toBeGreaterThan(TWO_GIB);
      expect(w.gradData!.every(Number.isFinite)).toBe(true);
      expect(w.gradData!.some((v) => v !== 0)).toBe(true);
    });
  });
});
