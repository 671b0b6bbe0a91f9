// Getting a JavaScript Float32Array into wasm memory for the duration of one call.

import type { Runtime } from './runtime.js';

/**
 * Returns [ptr, release]: x's own offset when it already lives in rt's memory, else a fresh copy that
 * `release()` frees. Call release() in a finally block.
 */
export function resident(rt: Runtime, x: Float32Array): [number, () => void] {
  if (rt.owns(x)) return [x.byteOffset, () => {}];
  const p = rt.arena.alloc(x.length * 4);
  rt.f32.set(x, p >> 2);
  return [p, () => rt.arena.free(p)];
}
