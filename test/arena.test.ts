// The wasm-memory arena and runtime: allocation, coalescing, growth, views after memory.grow, variants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRuntime, FliqsError, supportedVariants } from '../src/index.js';

describe('Arena', () => {
  it('hands out 64-byte aligned, non-overlapping blocks and reuses freed space', async () => {
    const rt = await createRuntime('simd');
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }), (ops) => {
      const live = new Map<number, number>();
      for (const [isAlloc, size] of ops) {
        if (isAlloc || live.size === 0) {
          const p = rt.arena.alloc(size);
          expect(p % 64).toBe(0);
          expect(p).toBeGreaterThanOrEqual(rt.arena.baseOffset);
          for (const [q, qs] of live) expect(p + Math.max(size, 1) <= q || q + Math.max(qs, 1) <= p, `overlap ${p}+${size} with ${q}+${qs}`).toBe(true);
          live.set(p, size);
        } else {
          const p = [...live.keys()][size % live.size]!;
          rt.arena.free(p);
          live.delete(p);
        }
      }
      for (const p of live.keys()) rt.arena.free(p);
      expect(rt.arena.bytesInUse).toBe(0);
      expect(rt.arena.liveBlocks).toBe(0);
    }), { numRuns: 200 });
    // Everything was freed and coalesced: the next allocation starts at the base again.
    expect(rt.arena.alloc(10)).toBe(rt.arena.baseOffset);
  });

  it('grows the memory and keeps data; views are re-derived after growth', async () => {
    const rt = await createRuntime('simd');
    const a = rt.copyIn([1, 2, 3]);
    const before = rt.memory.buffer.byteLength;
    const big = rt.allocF32(8 << 20); // 32 MB forces memory.grow
    expect(rt.memory.buffer.byteLength).toBeGreaterThan(before);
    expect([...a.array]).toEqual([1, 2, 3]);
    big.array[big.length - 1] = 5;
    expect(rt.f32[(big.ptr >> 2) + big.length - 1]).toBe(5);
    expect(rt.arena.peakBytes).toBeGreaterThanOrEqual(32 << 20);
    big.free();
    rt.arena.resetPeak();
    expect(rt.arena.peakBytes).toBe(rt.arena.bytesInUse);
    a.free();
  });

  it('rejects double frees and bad sizes', async () => {
    const rt = await createRuntime('simd');
    const p = rt.arena.alloc(8);
    rt.arena.free(p);
    expect(() => rt.arena.free(p)).toThrow(FliqsError);
    expect(() => rt.arena.alloc(-1)).toThrow(/bytes: got -1/);
  });
});

describe('runtime', () => {
  it('offers both module variants here and reports which one it built', async () => {
    expect(supportedVariants()).toEqual(['simd', 'relaxed']);
    expect((await createRuntime('simd')).kernels.has_relaxed_simd()).toBe(0);
    expect((await createRuntime('relaxed')).kernels.has_relaxed_simd()).toBe(1);
  });
});
