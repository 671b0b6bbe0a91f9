// Getting operands into wasm memory for the duration of one call: the one placement rule every
// kernel wrapper uses.
//
// An allocation may grow the memory, which detaches every view of the old buffer. So where each operand
// lives is decided for all of them first, while their views are still attached, and afterwards only byte
// offsets are used: a resident array's data stays where it was, only its JS view goes stale.

import { WasmF32, type Runtime } from './runtime.js';

/** A kernel operand: a wasm-resident buffer, a view of wasm memory, or a plain typed array (copied in). */
export type Operand = WasmF32 | Float32Array | Int32Array;

export interface Placed {
  /** Byte offset of each operand in wasm memory. */
  readonly ptrs: number[];
  /** Copies an output operand that was copied in back to its JS array (`n` elements; default all). */
  copyBack(i: number, n?: number): void;
  /** Frees the copies. Call it in a finally block. */
  release(): void;
}

/**
 * Places every operand in rt's memory: WasmF32s and views of rt's memory where they are, other arrays as
 * fresh copies. On an allocation failure the copies made so far are freed before rethrowing.
 */
export function place(rt: Runtime, xs: readonly Operand[]): Placed {
  const ptrs = xs.map((x) => (x instanceof WasmF32 ? x.ptr : rt.owns(x) ? x.byteOffset : -1));
  const copies: number[] = [];
  const release = (): void => { for (const p of copies.splice(0)) rt.arena.free(p); };
  const copied = ptrs.map((p) => p < 0);
  try {
    xs.forEach((x, i) => {
      if (!copied[i]) return;
      const a = x as Float32Array | Int32Array;
      const p = rt.arena.alloc(a.length * 4);
      copies.push(p);
      ptrs[i] = p;
      if (a instanceof Int32Array) rt.i32.set(a, p >> 2); else rt.f32.set(a, p >> 2);
    });
  } catch (e) {
    release();
    throw e;
  }
  const copyBack = (i: number, n = (xs[i] as Float32Array).length): void => {
    if (copied[i]) (xs[i] as Float32Array).set(rt.f32.subarray(ptrs[i]! >> 2, (ptrs[i]! >> 2) + n));
  };
  return { ptrs, copyBack, release };
}

/** place() for one array: [ptr, release]. */
export function resident(rt: Runtime, x: Float32Array): [number, () => void] {
  const { ptrs, release } = place(rt, [x]);
  return [ptrs[0]!, release];
}
