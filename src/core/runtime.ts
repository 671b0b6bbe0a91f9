// The WebAssembly runtime: instantiates the embedded module (relaxed SIMD where the engine validates
// it, baseline SIMD otherwise) over a memory it creates, owns its arena, and hands out typed views that
// are re-derived after memory.grow. The memory is shared (SharedArrayBuffer) where the engine allows it,
// so worker threads can instantiate the same compiled module over it (src/kernels/threads.ts); elsewhere
// (a page that is not cross-origin isolated) the module's memory import is patched to an unshared one
// and everything runs on one thread. No file paths, no fetches: the bytes live in wasm-bytes.generated.ts.

import { Arena } from './arena.js';
import { FliqsError, describe } from './errors.js';
import { WASM_RELAXED_BASE64, WASM_SIMD_BASE64 } from './wasm-bytes.generated.js';
import type { WasmExports } from './wasm-exports.generated.js';

export type { WasmExports } from './wasm-exports.generated.js';
export type Variant = 'simd' | 'relaxed';

function base64Bytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const BYTES: Record<Variant, Uint8Array<ArrayBuffer>> = {
  simd: base64Bytes(WASM_SIMD_BASE64),
  relaxed: base64Bytes(WASM_RELAXED_BASE64),
};

/** Pages of the memory: 1 MiB to start, up to 4 GiB (a shared memory must declare its maximum). */
const INITIAL_PAGES = 16;
const MAXIMUM_PAGES = 65536;

/** True when this engine can share a WebAssembly.Memory between threads (not on pages without cross-origin isolation). */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

function readLeb(b: Uint8Array, at: number): [number, number] {
  let v = 0, shift = 0, i = at;
  for (;;) {
    const byte = b[i++]!;
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [v, i];
  }
}

/**
 * A copy of module bytes whose imported memory is unshared: the limits flag of the one memory import goes
 * from 0x03 (shared, with maximum) to 0x01 (maximum). Everything else in the module is the same.
 */
function unsharedCopy(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const b = bytes.slice();
  let at = 8; // magic + version
  while (at < b.length) {
    const id = b[at]!;
    const [size, body] = readLeb(b, at + 1);
    if (id === 2) {
      let [count, p] = readLeb(b, body);
      for (; count > 0; count--) {
        for (let k = 0; k < 2; k++) { const [len, q] = readLeb(b, p); p = q + len; } // module, field names
        const kind = b[p++]!;
        if (kind === 2) { if (b[p] === 0x03) b[p] = 0x01; return b; }
        if (kind === 0) p = readLeb(b, p)[1]; // function: type index
        else if (kind === 1) { p++; const f = b[p++]!; p = readLeb(b, p)[1]; if (f & 1) p = readLeb(b, p)[1]; } // table
        else if (kind === 3) p += 2; // global: value type, mutability (one-byte types)
      }
      return b;
    }
    at = body + size;
  }
  return b;
}

/** The bytes of a variant as this engine instantiates them (memory import unshared where sharing is not allowed). */
function moduleBytes(v: Variant): Uint8Array<ArrayBuffer> {
  return canShareMemory() ? BYTES[v] : unsharedCopy(BYTES[v]);
}

/** Which module variants this JavaScript engine can run. */
export function supportedVariants(): Variant[] {
  return (['simd', 'relaxed'] as const).filter((v) => WebAssembly.validate(moduleBytes(v)));
}

export class Runtime {
  readonly variant: Variant;
  readonly kernels: WasmExports;
  readonly memory: WebAssembly.Memory;
  /** The compiled module, which worker threads instantiate over this memory when it is shared. */
  readonly module: WebAssembly.Module;
  readonly arena: Arena;
  private buffer: ArrayBuffer | null = null;
  private f32_!: Float32Array;
  private f64_!: Float64Array;
  private i32_!: Int32Array;
  private u32_!: Uint32Array;
  private u8_!: Uint8Array;
  private i8_!: Int8Array;

  constructor(variant: Variant, instance: WebAssembly.Instance, module: WebAssembly.Module) {
    if (variant !== 'simd' && variant !== 'relaxed') throw new FliqsError('variant', `got ${describe(variant)}`, '"simd" or "relaxed"');
    const exports = (instance as { exports?: { memory?: unknown; heap_base?: unknown } } | null)?.exports;
    if (!(instance instanceof WebAssembly.Instance) || !(exports?.memory instanceof WebAssembly.Memory) || typeof exports.heap_base !== 'function') {
      throw new FliqsError('instance', `got ${describe(instance)}`, 'an instance of the fliqs wasm module (use createRuntime)');
    }
    if (!(module instanceof WebAssembly.Module)) throw new FliqsError('module', `got ${describe(module)}`, 'the module the instance was made from (use createRuntime)');
    this.variant = variant;
    this.module = module;
    this.kernels = instance.exports as unknown as WasmExports;
    this.memory = this.kernels.memory;
    this.arena = new Arena(this.memory, this.kernels.heap_base());
  }

  /** True when the memory is shared, so worker threads can run kernels on it. */
  get shared(): boolean {
    return typeof SharedArrayBuffer === 'function' && this.memory.buffer instanceof SharedArrayBuffer;
  }

  private refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buffer) return;
    this.buffer = b;
    this.f32_ = new Float32Array(b);
    this.f64_ = new Float64Array(b);
    this.i32_ = new Int32Array(b);
    this.u32_ = new Uint32Array(b);
    this.u8_ = new Uint8Array(b);
    this.i8_ = new Int8Array(b);
  }

  /** Views over the whole linear memory; always current (memory.grow replaces the buffer). */
  get f32(): Float32Array { this.refresh(); return this.f32_; }
  get f64(): Float64Array { this.refresh(); return this.f64_; }
  get i32(): Int32Array { this.refresh(); return this.i32_; }
  get u32(): Uint32Array { this.refresh(); return this.u32_; }
  get u8(): Uint8Array { this.refresh(); return this.u8_; }
  get i8(): Int8Array { this.refresh(); return this.i8_; }

  /** True when `a` is a view of this runtime's linear memory (so kernels can use it without a copy). */
  owns(a: ArrayBufferView): boolean {
    return a.buffer === this.memory.buffer;
  }

  /** Allocates n f32s in linear memory; the returned array is valid until the memory grows. */
  allocF32(n: number): WasmF32 {
    return new WasmF32(this, this.arena.alloc(n * 4), n);
  }

  /** Copies `data` into a new wasm-resident buffer. */
  copyIn(data: ArrayLike<number>): WasmF32 {
    const b = this.allocF32(data.length);
    this.f32.set(data, b.ptr >>> 2);
    return b;
  }
}

/** An f32 buffer that lives in wasm memory. `.array` is a fresh view each time (safe after memory.grow). */
export class WasmF32 {
  constructor(readonly runtime: Runtime, readonly ptr: number, readonly length: number) {}
  get array(): Float32Array { return this.runtime.f32.subarray(this.ptr >>> 2, (this.ptr >>> 2) + this.length); }
  free(): void { this.runtime.arena.free(this.ptr); }
}

/** An i32 buffer that lives in wasm memory (max-pool argmax indices). `.array` is a fresh view each time. */
export class WasmI32 {
  constructor(readonly runtime: Runtime, readonly ptr: number, readonly length: number) {}
  get array(): Int32Array { return this.runtime.i32.subarray(this.ptr >>> 2, (this.ptr >>> 2) + this.length); }
  free(): void { this.runtime.arena.free(this.ptr); }
}

/** Instantiates a fresh runtime (own memory and arena, shared when the engine allows). `auto` picks relaxed SIMD when supported. */
export async function createRuntime(variant: Variant | 'auto' = 'auto'): Promise<Runtime> {
  if (variant !== 'auto' && variant !== 'simd' && variant !== 'relaxed') {
    throw new FliqsError('variant', `got ${describe(variant)}`, '"auto", "simd" or "relaxed"');
  }
  const supported = supportedVariants();
  const pick: Variant = variant === 'auto' ? (supported.includes('relaxed') ? 'relaxed' : 'simd') : variant;
  if (!supported.includes(pick)) {
    throw new FliqsError('variant', `this JavaScript engine cannot run the ${pick} module`,
      `one of: ${supported.join(', ') || '(none: WebAssembly SIMD is not supported)'}` +
      (pick === 'relaxed' ? ' (Node 20 needs --experimental-wasm-relaxed-simd)' : ''));
  }
  const shared = canShareMemory();
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared });
  const module = await WebAssembly.compile(moduleBytes(pick));
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return new Runtime(pick, instance, module);
}

/** The default runtime every fliqs function uses. */
export const runtime: Runtime = await createRuntime('auto');
