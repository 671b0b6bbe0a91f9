// The WebAssembly runtime: instantiates the embedded module (relaxed SIMD where the engine validates
// it, baseline SIMD otherwise), owns its arena, and hands out typed views that are re-derived
// after memory.grow. No file paths, no fetches: the bytes live in wasm-bytes.generated.ts.

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

/** Which module variants this JavaScript engine can run. */
export function supportedVariants(): Variant[] {
  const out: Variant[] = [];
  if (WebAssembly.validate(BYTES.simd)) out.push('simd');
  if (WebAssembly.validate(BYTES.relaxed)) out.push('relaxed');
  return out;
}

export class Runtime {
  readonly variant: Variant;
  readonly kernels: WasmExports;
  readonly memory: WebAssembly.Memory;
  readonly arena: Arena;
  private buffer: ArrayBuffer | null = null;
  private f32_!: Float32Array;
  private f64_!: Float64Array;
  private i32_!: Int32Array;
  private u32_!: Uint32Array;
  private u8_!: Uint8Array;
  private i8_!: Int8Array;

  constructor(variant: Variant, instance: WebAssembly.Instance) {
    if (variant !== 'simd' && variant !== 'relaxed') throw new FliqsError('variant', `got ${describe(variant)}`, '"simd" or "relaxed"');
    const exports = (instance as { exports?: { memory?: unknown; heap_base?: unknown } } | null)?.exports;
    if (!(instance instanceof WebAssembly.Instance) || !(exports?.memory instanceof WebAssembly.Memory) || typeof exports.heap_base !== 'function') {
      throw new FliqsError('instance', `got ${describe(instance)}`, 'an instance of the fliqs wasm module (use createRuntime)');
    }
    this.variant = variant;
    this.kernels = instance.exports as unknown as WasmExports;
    this.memory = this.kernels.memory;
    this.arena = new Arena(this.memory, this.kernels.heap_base());
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
    this.f32.set(data, b.ptr >> 2);
    return b;
  }
}

/** An f32 buffer that lives in wasm memory. `.array` is a fresh view each time (safe after memory.grow). */
export class WasmF32 {
  constructor(readonly runtime: Runtime, readonly ptr: number, readonly length: number) {}
  get array(): Float32Array { return this.runtime.f32.subarray(this.ptr >> 2, (this.ptr >> 2) + this.length); }
  free(): void { this.runtime.arena.free(this.ptr); }
}

/** An i32 buffer that lives in wasm memory (max-pool argmax indices). `.array` is a fresh view each time. */
export class WasmI32 {
  constructor(readonly runtime: Runtime, readonly ptr: number, readonly length: number) {}
  get array(): Int32Array { return this.runtime.i32.subarray(this.ptr >> 2, (this.ptr >> 2) + this.length); }
  free(): void { this.runtime.arena.free(this.ptr); }
}

/** Instantiates a fresh runtime (own memory and arena). `auto` picks relaxed SIMD when supported. */
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
  const { instance } = await WebAssembly.instantiate(BYTES[pick], {});
  return new Runtime(pick, instance);
}

/** The default runtime every fliqs function uses. */
export const runtime: Runtime = await createRuntime('auto');
