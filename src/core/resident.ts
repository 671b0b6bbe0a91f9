// Getting JavaScript Float32Arrays into wasm memory for the duration of one call.
//
// An allocation may grow the memory, which detaches every view of the old buffer. So ownership is
// decided for all arrays first, while their views are still attached, and afterwards only byte
// offsets are used: a resident array's data stays where it was, only its JS view goes stale.

import type { Runtime } from './runtime.js';

/**
 * Returns [ptrs, release]: each array's own offset when it already lives in rt's memory, else a
 * fresh copy that `release()` frees. Call release() in a finally block.
 */
export function residentAll(rt: Runtime, arrays: readonly Float32Array[]): [number[], () => void] {
  const owned = arrays.map((a) => (rt.owns(a) ? a.byteOffset : -1));
  const copies: number[] = [];
  const release = (): void => { for (const p of copies.splice(0)) rt.arena.free(p); };
  try {
    const ptrs = arrays.map((a, i) => {
      if (owned[i]! >= 0) return owned[i]!;
      const p = rt.arena.alloc(a.length * 4);
      copies.push(p);
      rt.f32.set(a, p >> 2);
      return p;
    });
    return [ptrs, release];
  } catch (e) {
    release();
    throw e;
  }
}

/** residentAll for one array. */
export function resident(rt: Runtime, x: Float32Array): [number, () => void] {
  const [[p], release] = residentAll(rt, [x]);
  return [p!, release];
}
