// Kernel operands: the one operand type (a wasm-resident WasmF32/WasmI32 or a plain typed array), the
// one size check every kernel wrapper applies to it, and the one placement rule getting it into wasm
// memory for the duration of one call.
//
// An allocation may grow the memory, which detaches every view of the old buffer. So where each operand
// lives is decided for all of them first, while their views are still attached, and afterwards only byte
// offsets are used: a resident array's data stays where it was, only its JS view goes stale.

import { FliqsError, describe } from './errors.js';
import { Runtime, WasmF32 } from './runtime.js';

/** An f32 operand: a WasmF32, or a Float32Array (used in place when it is a view of the runtime's memory). */
export type F32Operand = Float32Array | WasmF32;

/** A kernel operand: a wasm-resident buffer, a view of wasm memory, or a plain typed array (copied in). */
export type Operand = F32Operand | Int32Array;

/**
 * The size check of an f32 operand: throws a FliqsError naming `input` unless x is a Float32Array or a
 * WasmF32 of rt, and (when `length` is given) holds exactly `length` elements (`dims` says why);
 * returns its length.
 */
export function f32Length(rt: Runtime, input: string, x: unknown, length?: number, dims = ''): number {
  if (!(rt instanceof Runtime)) throw new FliqsError('rt', `got ${describe(rt)}`, 'a Runtime (from createRuntime), or nothing for the default one');
  if (x instanceof WasmF32) {
    if (x.runtime !== rt) throw new FliqsError(input, 'is a WasmF32 of another runtime', `a buffer of the ${rt.variant} runtime, or a Float32Array`);
  } else if (!(x instanceof Float32Array)) {
    throw new FliqsError(input, `got ${describe(x)}`, `a Float32Array or WasmF32${length === undefined ? '' : ` of length ${length}${dims ? ` (${dims})` : ''}`}`);
  }
  if (length !== undefined && x.length !== length) {
    throw new FliqsError(input, `has length ${x.length}`, `length ${length}${dims ? ` (${dims})` : ''}`);
  }
  return x.length;
}

/** A WasmF32 of rt holding exactly `length` elements (kernels that take resident buffers only), else a FliqsError. */
export function residentF32(rt: Runtime, input: string, x: unknown, length: number, dims: string): WasmF32 {
  if (!(x instanceof WasmF32)) throw new FliqsError(input, `got ${describe(x)}`, `a WasmF32 of length ${length} (${dims})`);
  f32Length(rt, input, x, length, dims);
  return x;
}

export interface Placed {
  /** Byte offset of each operand in wasm memory. */
  readonly ptrs: number[];
  /** Copies an output operand that was copied in back to its JS array (`n` elements; default all). */
  copyBack(i: number, n?: number): void;
  /** Frees the copies. Call it in a finally block. */
  release(): void;
}

/** The wasm view with the same element type as a (plain) operand. */
const viewOf = (rt: Runtime, a: Float32Array | Int32Array): Float32Array | Int32Array => (a instanceof Int32Array ? rt.i32 : rt.f32);

/**
 * Places every operand in rt's memory: WasmF32s and views of rt's memory where they are, other arrays as
 * fresh copies. `writeOnly` lists operands the kernel only writes (outputs): their copies are allocated but
 * not filled. On an allocation failure the copies made so far are freed before rethrowing.
 */
export function place(rt: Runtime, xs: readonly Operand[], writeOnly: readonly number[] = []): Placed {
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
      if (!writeOnly.includes(i)) viewOf(rt, a).set(a, p >>> 2);
    });
  } catch (e) {
    release();
    throw e;
  }
  const copyBack = (i: number, n?: number): void => {
    if (!copied[i]) return;
    const a = xs[i] as Float32Array | Int32Array, at = ptrs[i]! >>> 2;
    a.set(viewOf(rt, a).subarray(at, at + (n ?? a.length)));
  };
  return { ptrs, copyBack, release };
}

/** place() for one array: [ptr, release]. */
export function resident(rt: Runtime, x: Float32Array): [number, () => void] {
  const { ptrs, release } = place(rt, [x]);
  return [ptrs[0]!, release];
}
