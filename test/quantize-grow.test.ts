// quantize() on wasm-resident arrays when its own first scratch allocation grows (and so detaches) the
// memory. Its own file: the scratch block is allocated once per process, on the first streamed call.
import { describe, expect, it } from 'vitest';
import { parseFormat, quantize, quantizeRef, runtime } from '../src/index.js';
import { firstBitMismatch } from './quant-helpers.js';

describe('quantize when memory grows under it', () => {
  it('reads a resident input through its offset, not its detached view', () => {
    const data = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 2);
    const x = runtime.copyIn(data);
    const filler = runtime.arena.alloc(runtime.arena.memoryBytes - runtime.arena.topOffset - 64); // no room left
    const before = runtime.memory.buffer.byteLength;
    const q = quantize(x.array, 'INT8', 1.5); // JS output: streams through the (new) scratch block
    expect(runtime.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(q.length).toBe(1000);
    expect(firstBitMismatch(q, quantizeRef(data, parseFormat('INT8'), 1.5))).toBe(-1);
    runtime.arena.free(filler);
    x.free();
  });
});
