// Typed face of the real low-precision kernels (assembly/int8.ts, and the depthwise one in assembly/deploy.ts):
// int8 × int8 → int32 GEMM with packed int8 or INT4 weights; its epilogue (dequantize y = acc·outScale[n] /
// (sA·sW[n]) + bias[n], a fused clamp, or the next layer's int8 codes); int8 NHWC conv2d (patches packed for
// the GEMM) and depthwise conv; f32 → int8 codes. Operands are byte offsets into the runtime's linear
// memory (from rt.arena.alloc); every size and offset is checked so no wasm trap reaches a caller.

import { FliqsError, describe, requireFinite, requireInt, requirePositive } from '../core/errors.js';
import { EP, EPILOGUE } from '../core/abi.generated.js';
import { Runtime, runtime, type WasmExports } from '../core/runtime.js';
import { parseFormat, type Format } from '../formats/format.js';
import { kernelParams } from '../formats/params.js';
import { convGeometry, quantParams } from './blocks.js';
import type { ConvShape } from './conv.ref.js';
import { minTaskWork, runTasks, splitRange, threadsFor, type Task } from './threads.js';

/** Largest K for which |Σ a·b| ≤ 128·128·K stays inside int32. */
export const MAX_K_I8 = Math.floor((2 ** 31 - 1) / (128 * 128));

/** Weight panel kinds: int8 panels ('i8'), INT4 nibble panels decoded in the kernel ('i4'). */
export type PanelKind = 'i8' | 'i4';

/** The wasm kernels behind each panel kind (one list for wrapper, tests and bench). */
export const INT8_GEMM_KERNELS = {
  i8: { i32: 'gemm_i8_i32_4x8', f32: 'gemm_i8_f32_4x8', q8: 'gemm_i8_q8_4x8' },
  i4: { i32: 'gemm_i4_i32_4x8', f32: 'gemm_i4_f32_4x8', q8: 'gemm_i4_q8_4x8' },
} as const satisfies Record<PanelKind, { i32: string; f32: string; q8: string }>;

/** The wasm kernels behind the int8 conv, depthwise conv and f32 → int8 code operations. */
export const INT8_KERNELS = {
  conv2d: 'conv2d_i8_4x8',
  depthwiseConv2d: 'depthwise_conv2d_i8_nhwc',
  quantize: 'quantize_i8_f32x4',
  quantizePerChannel: 'quantize_pc_i8_f32x4',
} as const satisfies Record<string, keyof WasmExports>;

/**
 * Weights B[K,N] packed for the int8 GEMM micro-kernel, living in the runtime's arena. `free()` returns
 * the memory; a freed panel is rejected by the GEMM.
 */
export class PackedWeightsI8 {
  private freed = false;
  constructor(readonly runtime: Runtime, readonly ptr: number, readonly K: number, readonly N: number,
    readonly panel: PanelKind, readonly bytes: number) {}
  get isFreed(): boolean { return this.freed; }
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.runtime.arena.free(this.ptr);
  }
}

/** Per-tensor activation scale, per-tensor or per-output-channel weight scale(s), optional bias. */
export interface DequantI8 {
  /** Activation scale sA (codes qa = round(x·sA), so x ≈ qa / sA). */
  sA: number;
  /** Weight scale: one number, or N numbers (one per output column / channel). */
  sW: number | ArrayLike<number>;
  /** N f32 biases added after dequantization. */
  bias?: ArrayLike<number>;
  /** N finite multipliers folded into the epilogue (a batch-norm's γ/√(var+ε)): dq[n] = outScale[n]/(sA·sW[n]). */
  outScale?: ArrayLike<number>;
  /** Clamp y to [lo, hi] (a fused ReLU [0, Infinity] or ReLU6 [0, 6]); default none. */
  clamp?: readonly [number, number];
  /**
   * Store int8 codes of y for the next layer instead of f32: round_half_even(clamp(f32(y·s), ±max)) with
   * s its activation scale and max its format's (what quantizeToI8 of the f32 output would give).
   */
  requantize?: { s: number; format: Format | string };
}

const dims = (n: number): number => requireInt('size', n, 1, 2 ** 31 - 1);

/** Throws unless [ptr, ptr + bytes) lies inside the arena's part of rt's memory (and ptr is `align`-aligned). */
function requireSpan(rt: Runtime, input: string, ptr: unknown, bytes: number, what: string, align = 1): number {
  if (!(rt instanceof Runtime)) throw new FliqsError('rt', `got ${describe(rt)}`, 'a Runtime (from createRuntime), or nothing for the default one');
  const end = rt.memory.buffer.byteLength;
  if (typeof ptr !== 'number' || !Number.isInteger(ptr) || ptr < rt.arena.baseOffset || ptr % align !== 0 || ptr + bytes > end) {
    throw new FliqsError(input, `got ${describe(ptr)} for ${what} (${bytes} bytes)`,
      `a byte offset${align > 1 ? ` that is a multiple of ${align}` : ''} from rt.arena.alloc(${bytes}) (inside ${rt.arena.baseOffset}…${end - bytes})`);
  }
  return ptr;
}

function requireK(K: number, shapes: string): void {
  if (K > MAX_K_I8) throw new FliqsError('K', `is ${K} (${shapes}), the int32 accumulators could overflow`, `K ≤ ${MAX_K_I8}`);
}

function packWith(kernel: 'pack_b_i8' | 'pack_b_i4' | 'pack_b_i4_i8', b: number, K: number, N: number, rt: Runtime): PackedWeightsI8 {
  requireInt('K', K, 1, 2 ** 31 - 1); requireInt('N', N, 1, 2 ** 31 - 1);
  requireK(K, `B [${K},${N}]`);
  const i4src = kernel !== 'pack_b_i8';
  const srcBytes = i4src ? Math.ceil((K * N) / 2) : K * N;
  requireSpan(rt, 'b', b, srcBytes, i4src ? `INT4-packed B [${K},${N}]` : `int8 B [${K},${N}]`);
  const panel: PanelKind = kernel === 'pack_b_i4' ? 'i4' : 'i8';
  const bytes = panel === 'i4' ? rt.kernels.packed_b_i4_bytes(K, N) : rt.kernels.packed_b_i8_bytes(K, N);
  const ptr = rt.arena.alloc(bytes);
  rt.kernels[kernel](b, ptr, K, N);
  return new PackedWeightsI8(rt, ptr, K, N, panel, bytes);
}

/**
 * Packs row-major int8 weight codes B[K,N] (at byte offset b) into 8-column panels for the GEMM.
 * @example
 * const b = runtime.arena.alloc(6); runtime.i8.set([1, -2, 3, 4, -5, 6], b); // B [3,2]
 * const w = packWeightsI8(b, 3, 2);
 */
export function packWeightsI8(b: number, K: number, N: number, rt: Runtime = runtime): PackedWeightsI8 {
  return packWith('pack_b_i8', b, K, N, rt);
}

/**
 * Packs INT4 weight codes B[K,N] (two's complement, two per byte, low nibble first — packCodes order,
 * element k·N+n) into nibble panels that the GEMM decodes in its inner loop (half the memory of int8).
 * @example
 * const b4 = runtime.arena.alloc(2); runtime.u8.set(packCodes([1, 15, 7, 9], 4), b4); // B [2,2] = [[1,-1],[7,-7]]
 * const w = packWeightsI4(b4, 2, 2);
 */
export function packWeightsI4(b4: number, K: number, N: number, rt: Runtime = runtime): PackedWeightsI8 {
  return packWith('pack_b_i4', b4, K, N, rt);
}

/**
 * Packs INT4 weight codes (as packWeightsI4 reads them) unpacked to int8 panels: twice the memory of
 * packWeightsI4, int8 GEMM speed (on x64 the int8 panel is ~1.5× faster than decoding nibbles per tile).
 * @example
 * const b4 = runtime.arena.alloc(1); runtime.u8.set(packCodes([3, 13], 4), b4); // B [1,2] = [[3,-3]]
 * const w = packWeightsI4AsI8(b4, 1, 2);
 */
export function packWeightsI4AsI8(b4: number, K: number, N: number, rt: Runtime = runtime): PackedWeightsI8 {
  return packWith('pack_b_i4_i8', b4, K, N, rt);
}

function checkWeights(rt: Runtime, w: unknown, K: number | null, shapes: string): PackedWeightsI8 {
  if (!(w instanceof PackedWeightsI8)) throw new FliqsError('w', `got ${describe(w)}`, 'weights from packWeightsI8, packWeightsI4 or packWeightsI4AsI8');
  if (w.runtime !== rt) throw new FliqsError('w', `was packed in the ${w.runtime.variant} runtime, not this ${rt.variant} one`, 'weights packed with the same runtime');
  if (w.isFreed) throw new FliqsError('w', `B [${w.K},${w.N}] was freed`, 'weights that have not been freed');
  if (K !== null && w.K !== K) throw new FliqsError('w', `has K = ${w.K} rows but the activations have K = ${K} (${shapes})`, `weights with ${K} rows`);
  return w;
}

/** A dequantizing epilogue's output: EPILOGUE.f32 (1) or int8 codes EPILOGUE.q8 (2). */
type OutMode = typeof EPILOGUE.f32 | typeof EPILOGUE.q8;

/**
 * The epilogue block: its header (EP of scripts/wasm-abi.mjs), then dq[n] = f32(outScale[n]/(sA·sW[n]))
 * (outScale 1 when absent) and bias, each padded to N rounded up to 8, in one arena block.
 */
function epilogue(rt: Runtime, d: DequantI8, N: number): { ptr: number; mode: OutMode } {
  if (typeof d !== 'object' || d === null) throw new FliqsError('dequant', `got ${describe(d)}`, '{ sA, sW, bias?, outScale?, clamp?, requantize? }');
  const sA = requirePositive('dequant.sA', d.sA);
  let sW: ArrayLike<number>;
  if (typeof d.sW === 'number') sW = new Array<number>(N).fill(requirePositive('dequant.sW', d.sW));
  else if ((Array.isArray(d.sW) || ArrayBuffer.isView(d.sW)) && (d.sW as ArrayLike<number>).length === N) sW = d.sW as ArrayLike<number>;
  else throw new FliqsError('dequant.sW', `got ${describe(d.sW)}`, `one positive number or ${N} (one per output column, N = ${N})`);
  const bias = d.bias;
  if (bias !== undefined && !((Array.isArray(bias) || ArrayBuffer.isView(bias)) && (bias as ArrayLike<number>).length === N)) {
    throw new FliqsError('dequant.bias', `got ${describe(bias)}`, `${N} numbers (one per output column), or nothing`);
  }
  const mul = d.outScale;
  if (mul !== undefined && !((Array.isArray(mul) || ArrayBuffer.isView(mul)) && (mul as ArrayLike<number>).length === N)) {
    throw new FliqsError('dequant.outScale', `got ${describe(mul)}`, `${N} finite numbers (one per output column), or nothing`);
  }
  const [lo, hi] = d.clamp ?? [-Infinity, Infinity];
  if (!(typeof lo === 'number' && typeof hi === 'number' && lo <= hi)) throw new FliqsError('dequant.clamp', `got ${describe(d.clamp)}`, '[lo, hi] with lo ≤ hi');
  let s = 0, max = 0;
  if (d.requantize !== undefined) {
    max = intFormat(d.requantize.format).maxValue;
    s = requirePositive('dequant.requantize.s', d.requantize.s);
    if (!(Math.fround(s) < Infinity)) throw new FliqsError('dequant.requantize.s', `${s} overflows f32`, 'a scale below 3.4e38');
  }
  const Np = Math.ceil(N / 8) * 8;
  const dq = new Float32Array(Np);
  for (let n = 0; n < N; n++) {
    const sw = requirePositive(`dequant.sW[${n}]`, sW[n]);
    const inv = Math.fround(1 / (sA * sw));
    if (!(inv > 0 && inv < Infinity)) throw new FliqsError(`dequant.sW[${n}]`, `sA·sW = ${sA * sw} has no finite f32 reciprocal`, 'scales whose product is from 1e-38 to 1e38');
    dq[n] = mul === undefined ? inv : Math.fround(requireFinite(`dequant.outScale[${n}]`, mul[n]) / (sA * sw));
  }
  const ptr = rt.arena.alloc(EP.size + Np * 8);
  const f = rt.f32, u = rt.u32, at = ptr >>> 2;
  u[at + EP.dq / 4] = ptr + EP.size;
  u[at + EP.bias / 4] = ptr + EP.size + Np * 4;
  u[at + EP.hasBias / 4] = bias === undefined ? 0 : 1;
  f[at + EP.lo / 4] = lo; f[at + EP.hi / 4] = hi; f[at + EP.s / 4] = s; f[at + EP.max / 4] = max;
  f.set(dq, at + EP.size / 4);
  if (bias !== undefined) f.set(bias, at + EP.size / 4 + Np);
  return { ptr, mode: d.requantize === undefined ? EPILOGUE.f32 : EPILOGUE.q8 };
}

/**
 * A DequantI8 turned into its epilogue block once, for calls that repeat it (a deployed layer's): the
 * kernels then read it as it is instead of re-deriving dq[n] = outScale[n]/(sA·sW[n]) per call. Pass it
 * wherever a DequantI8 goes, for N output columns; free() returns its memory.
 */
export class PreparedDequant {
  private freed = false;
  constructor(readonly runtime: Runtime, readonly ptr: number, readonly mode: OutMode, readonly N: number) {}
  get isFreed(): boolean { return this.freed; }
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.runtime.arena.free(this.ptr);
  }
}

/**
 * Prepares `d` for N output columns (see PreparedDequant).
 * @example
 * const dq = prepareDequant({ sA: 127, sW: [2, 4], bias: [0, 1] }, 2);
 * gemmI8Dequant(a, M, w, out, dq); // as with the DequantI8 itself
 * dq.free();
 */
export function prepareDequant(d: DequantI8, N: number, rt: Runtime = runtime): PreparedDequant {
  requireInt('N', N, 1, 2 ** 31 - 1);
  const ep = epilogue(rt, d, N);
  return new PreparedDequant(rt, ep.ptr, ep.mode, N);
}

/** The epilogue block for one call: a PreparedDequant as it is (checked), or one built from d and freed by release(). */
function useEpilogue(rt: Runtime, d: DequantI8 | PreparedDequant, N: number): { ptr: number; mode: OutMode; release(): void } {
  if (d instanceof PreparedDequant) {
    if (d.runtime !== rt || d.isFreed || d.N !== N) {
      throw new FliqsError('dequant', d.isFreed ? 'was freed' : d.runtime !== rt ? 'was prepared in another runtime' : `was prepared for ${d.N} columns, not ${N}`,
        `a PreparedDequant of this runtime for ${N} columns, or a DequantI8`);
    }
    return { ptr: d.ptr, mode: d.mode, release: () => {} };
  }
  const ep = epilogue(rt, d, N);
  return { ...ep, release: () => rt.arena.free(ep.ptr) };
}

/**
 * Packs row-major int8 A (pack_a_i8) and runs the GEMM, its rows split over threads in whole 4-row panels
 * (each output element is one exact int32 sum and one epilogue, whichever thread computes it).
 */
function runGemm(rt: Runtime, a: number, M: number, w: PackedWeightsI8, out: number, d: DequantI8 | PreparedDequant | null): void {
  const { K, N } = w;
  const pa = rt.arena.alloc(rt.kernels.packed_a_i8_bytes(M, K));
  let ep: ReturnType<typeof useEpilogue> | null = null;
  try {
    if (d) ep = useEpilogue(rt, d, N);
    rt.kernels.pack_a_i8(a, pa, M, K);
    const names = INT8_GEMM_KERNELS[w.panel];
    const panelBytes = (((K + 3) >> 2) << 1) * 16, rowBytes = N * outKind(d)[0];
    const parts = splitRange(M, threadsFor(rt), 4, Math.ceil(minTaskWork() / (N * K)));
    runTasks(rt, parts.map(([m0, m1]): Task => {
      const p = pa + (m0 / 4) * panelBytes, o = out + m0 * rowBytes;
      return ep
        ? { kernel: ep.mode === EPILOGUE.q8 ? names.q8 : names.f32, args: [p, w.ptr, o, m1 - m0, N, K, ep.ptr] }
        : { kernel: names.i32, args: [p, w.ptr, o, m1 - m0, N, K] };
    }));
  } finally {
    rt.arena.free(pa);
    ep?.release();
  }
}

/** Bytes per output element and its name: int32 / f32 (4) or int8 codes with dequant.requantize (1). */
const outKind = (d: DequantI8 | PreparedDequant | null | undefined): [number, string] =>
  (d ? ((d instanceof PreparedDequant ? d.mode === EPILOGUE.q8 : d.requantize) ? [1, 'int8 codes'] : [4, 'f32']) : [4, 'int32']);

function checkGemm(rt: Runtime, a: number, M: number, w: PackedWeightsI8, out: number, d: DequantI8 | PreparedDequant | null): void {
  requireInt('M', M, 1, 2 ** 31 - 1);
  checkWeights(rt, w, null, '');
  const shapes = `A [${M},${w.K}] · B [${w.K},${w.N}] → out [${M},${w.N}]`;
  requireSpan(rt, 'a', a, M * w.K, `int8 A of ${shapes}`);
  const [es, kind] = outKind(d);
  requireSpan(rt, 'out', out, M * w.N * es, `${kind} out of ${shapes}`, es);
}

/**
 * Exact int32 out[M,N] = A[M,K]·B[K,N] from int8 activation codes A (row-major, byte offset a) and
 * packed weights w. Kernel: gemmI8 (int8 panels) or gemm_i4_i32_4x8 (INT4 nibble panels).
 * @example
 * const a = runtime.arena.alloc(3); runtime.i8.set([1, 2, 3], a);          // A [1,3]
 * const b = runtime.arena.alloc(6); runtime.i8.set([1, 0, 0, 1, 1, 1], b); // B [3,2]
 * const out = runtime.arena.alloc(8);
 * gemmI8(a, 1, packWeightsI8(b, 3, 2), out); // runtime.i32 at out: [4, 5]
 */
export function gemmI8(a: number, M: number, w: PackedWeightsI8, out: number, rt: Runtime = runtime): void {
  checkGemm(rt, a, M, w, out, null);
  runGemm(rt, a, M, w, out, null);
}

/**
 * Dequantized f32 out[m,n] = f32(acc[m,n])·f32(1/(sA·sW[n])) + bias[n], acc = A·B exactly in int32:
 * with codes qa = round(x·sA), qw = round(w·sW) this is the product of the fake-quantized tensors
 * (x ≈ qa/sA, w ≈ qw/sW) up to f32 rounding; dequant.clamp fuses a ReLU / ReLU6. With dequant.requantize
 * out receives int8 codes (M·N bytes) for the next layer instead. Kernels: gemmI8Dequant / gemm_i4_f32_4x8,
 * gemm_i8_q8_4x8 / gemm_i4_q8_4x8 when requantizing.
 * @example
 * const a = runtime.arena.alloc(2); runtime.i8.set([127, -64], a);  // A [1,2]
 * const b = runtime.arena.alloc(2); runtime.i8.set([2, 1], b);      // B [2,1]
 * const out = runtime.arena.alloc(4);
 * gemmI8Dequant(a, 1, packWeightsI8(b, 2, 1), out, { sA: 127, sW: 2, bias: [0.5] }); // runtime.f32 at out: [1.2480…] = 190/254 + 0.5
 */
export function gemmI8Dequant(a: number, M: number, w: PackedWeightsI8, out: number, dequant: DequantI8 | PreparedDequant, rt: Runtime = runtime): void {
  checkGemm(rt, a, M, w, out, dequant);
  runGemm(rt, a, M, w, out, dequant);
}

/** Stride / padding of conv2dI8: one number for both axes or [h, w]. groups = 1 only. */
export interface Conv2dI8Options {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  /** When given, out is f32 dequantized as in gemmI8Dequant (int8 codes with dequant.requantize); otherwise int32. */
  dequant?: DequantI8 | PreparedDequant;
}

function pair(input: string, v: unknown, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') { requireInt(input, v, min, 2 ** 20); return [v, v]; }
  if (Array.isArray(v) && v.length === 2) return [requireInt(`${input}[0]`, v[0], min, 2 ** 20), requireInt(`${input}[1]`, v[1], min, 2 ** 20)];
  throw new FliqsError(input, `got ${describe(v)}`, `an integer ≥ ${min} or [h, w]`);
}

/** [batch, OH, OW, Cout] of an NHWC int8 conv, or a FliqsError naming the shapes when it would be empty. */
export function conv2dI8OutputShape(xShape: readonly [number, number, number, number], kernel: readonly [number, number],
  cout: number, options: Conv2dI8Options = {}): [number, number, number, number] {
  if (!Array.isArray(xShape) || xShape.length !== 4) throw new FliqsError('xShape', `got ${describe(xShape)}`, '[batch, height, width, channels]');
  if (!Array.isArray(kernel) || kernel.length !== 2) throw new FliqsError('kernel', `got ${describe(kernel)}`, '[KH, KW]');
  if (typeof options !== 'object' || options === null) throw new FliqsError('options', `got ${describe(options)}`, '{ stride?, padding?, dequant? }');
  const [B, H, W, C] = xShape.map((v, i) => requireInt(`xShape[${i}]`, v, 1, 2 ** 31 - 1)) as [number, number, number, number];
  const KH = requireInt('kernel[0]', kernel[0], 1, 2 ** 20), KW = requireInt('kernel[1]', kernel[1], 1, 2 ** 20);
  const [sh, sw] = pair('stride', options.stride, 1, 1);
  const [ph, pw] = pair('padding', options.padding, 0, 0);
  if (H + 2 * ph < KH || W + 2 * pw < KW) {
    throw new FliqsError('kernel', `[${KH},${KW}] does not fit input [${B},${H},${W},${C}] with padding [${ph},${pw}]`, `KH ≤ ${H + 2 * ph} and KW ≤ ${W + 2 * pw}`);
  }
  return [B, Math.floor((H + 2 * ph - KH) / sh) + 1, Math.floor((W + 2 * pw - KW) / sw) + 1, dims(cout)];
}

/** The ConvShape of an int8 conv's symmetric zero padding (ph, pw), for its geometry block. */
function i8Shape(N: number, H: number, W: number, C: number, CO: number, KH: number, KW: number, sh: number, sw: number,
  ph: number, pw: number, OH: number, OW: number, groups: number): ConvShape {
  return { N, H, W, C, CO, KH, KW, OH, OW, sh, sw, pt: ph, pl: pw, pb: ph, pr: pw, groups };
}

/**
 * int8 conv2d, NHWC activations x[B,H,W,C] (codes, byte offset x) with HWIO weights packed as
 * B[KH·KW·C, Cout] (packWeightsI8 / packWeightsI4 / packWeightsI4AsI8 of the HWIO array as is), any kernel size,
 * stride and zero padding, groups = 1. Chunks of the patch matrix are packed for the GEMM straight
 * from x and multiplied while in cache (conv2d_i8_4x8; a 1×1, stride 1, unpadded conv is the GEMM directly).
 * out is int32, or f32 with options.dequant (int8 codes with dequant.requantize).
 * Returns the output shape [B, OH, OW, Cout].
 * @example
 * const x = runtime.arena.alloc(4); runtime.i8.set([1, 2, 3, 4], x);   // [1,2,2,1]
 * const k = runtime.arena.alloc(4); runtime.i8.set([1, 1, 1, 1], k);   // HWIO [2,2,1,1]
 * const out = runtime.arena.alloc(4);
 * conv2dI8(x, [1, 2, 2, 1], packWeightsI8(k, 4, 1), [2, 2], out); // [1,1,1,1], runtime.i32 at out: [10]
 */
export function conv2dI8(x: number, xShape: readonly [number, number, number, number], w: PackedWeightsI8,
  kernel: readonly [number, number], out: number, options: Conv2dI8Options = {}, rt: Runtime = runtime): [number, number, number, number] {
  if (!(w instanceof PackedWeightsI8)) checkWeights(rt, w, null, '');
  const shape = conv2dI8OutputShape(xShape, kernel, w.N, options);
  const [B, H, W, C] = xShape;
  const [KH, KW] = kernel;
  const [, OH, OW] = shape;
  const K = KH * KW * C;
  const shapes = `x [${B},${H},${W},${C}], kernel [${KH},${KW},${C},${w.N}] → out [${shape}]`;
  checkWeights(rt, w, K, shapes);
  requireSpan(rt, 'x', x, B * H * W * C, `int8 x of ${shapes}`);
  const M = B * OH * OW;
  const [es, kind] = outKind(options.dequant);
  requireSpan(rt, 'out', out, M * w.N * es, `${kind} out of ${shapes}`, es);
  const [sh, sw] = pair('stride', options.stride, 1, 1);
  const [ph, pw] = pair('padding', options.padding, 0, 0);
  const d = options.dequant ?? null;
  if (KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0) {
    runGemm(rt, x, M, w, out, d);
    return shape;
  }
  const scratch: number[] = [];
  let ep: ReturnType<typeof useEpilogue> | null = null;
  try {
    if (d) ep = useEpilogue(rt, d, w.N);
    // split by images: each task packs and multiplies its own images' pixels (scratch and geometry per task)
    const parts = splitRange(B, threadsFor(rt), 1, Math.ceil(minTaskWork() / (OH * OW * w.N * K)));
    const tasks = parts.map(([n0, n1], slot): Task => {
      scratch.push(rt.arena.alloc(rt.kernels.conv_i8_scratch_bytes(K)));
      const geo = convGeometry(rt, i8Shape(n1 - n0, H, W, C, w.N, KH, KW, sh, sw, ph, pw, OH, OW, 1), slot);
      return {
        kernel: INT8_KERNELS.conv2d,
        args: [x + n0 * H * W * C, w.ptr, w.panel === 'i4' ? 4 : 8, out + n0 * OH * OW * w.N * es, ep?.mode ?? EPILOGUE.i32, ep?.ptr ?? 0, scratch[slot]!, geo],
      };
    });
    runTasks(rt, tasks);
  } finally {
    for (const p of scratch) rt.arena.free(p);
    ep?.release();
  }
  return shape;
}

/**
 * int8 depthwise conv2d, NHWC codes x[B,H,W,C] with int8 weights w[KH,KW,C] (byte offsets, HWIO with
 * I = 1 as is), any kernel, stride and zero padding; int32 accumulation, then the dequantizing epilogue
 * (required: f32 out, or int8 codes with dequant.requantize). Kernel: depthwiseConv2dI8. Returns [B, OH, OW, C].
 * @example
 * const x = runtime.arena.alloc(4); runtime.i8.set([1, 2, 3, 4], x);   // [1,2,2,1]
 * const k = runtime.arena.alloc(4); runtime.i8.set([1, 1, 1, 1], k);   // [2,2,1]
 * const out = runtime.arena.alloc(4);
 * depthwiseConv2dI8(x, [1, 2, 2, 1], k, [2, 2], out, { dequant: { sA: 1, sW: 1 } }); // runtime.f32 at out: [10]
 */
export function depthwiseConv2dI8(x: number, xShape: readonly [number, number, number, number], w: number,
  kernel: readonly [number, number], out: number, options: Conv2dI8Options & { dequant: DequantI8 | PreparedDequant }, rt: Runtime = runtime): [number, number, number, number] {
  const [B, H, W, C] = Array.isArray(xShape) ? xShape : [];
  const shape = conv2dI8OutputShape(xShape, kernel, C!, options);
  const [KH, KW] = kernel;
  const [, OH, OW] = shape;
  const shapes = `x [${B},${H},${W},${C}], depthwise kernel [${KH},${KW},${C}] → out [${shape}]`;
  requireSpan(rt, 'x', x, B! * H! * W! * C!, `int8 x of ${shapes}`);
  requireSpan(rt, 'w', w, KH * KW * C!, `int8 weights of ${shapes}`);
  if (!options.dequant) throw new FliqsError('options.dequant', 'is missing', '{ sA, sW, bias?, outScale?, clamp?, requantize? }');
  const [es, kind] = outKind(options.dequant);
  requireSpan(rt, 'out', out, B! * OH * OW * C! * es, `${kind} out of ${shapes}`, es);
  const [sh, sw] = pair('stride', options.stride, 1, 1);
  const [ph, pw] = pair('padding', options.padding, 0, 0);
  const ep = useEpilogue(rt, options.dequant, C!);
  try {
    // split by images (each output pixel depends on its own image only)
    const parts = splitRange(B!, threadsFor(rt), 1, Math.ceil(minTaskWork() / (OH * OW * C! * KH * KW * 8)));
    runTasks(rt, parts.map(([n0, n1], slot): Task => ({
      kernel: INT8_KERNELS.depthwiseConv2d,
      args: [x + n0 * H! * W! * C!, w, ep.mode, ep.ptr, out + n0 * OH * OW * C! * es,
        convGeometry(rt, i8Shape(n1 - n0, H!, W!, C!, C!, KH, KW, sh, sw, ph, pw, OH, OW, C!), slot)],
    })));
  } finally {
    ep.release();
  }
  return shape;
}

function intFormat(format: Format | string): Format {
  const f = parseFormat(format);
  if (f.kind !== 'int' || f.bits > 8) throw new FliqsError('format', `${f.name} has no int8 codes`, 'INT2…INT8');
  return f;
}

/**
 * f32 x[n] (byte offset x) → int8 codes out[n] = round_half_even(clamp(x·s, −max, max)), max = 127 for
 * INT8, 7 for INT4 (the fake quantizer's rounding, so codes / s equals quantize(x, format, max / s)).
 * NaN gives code 0. Kernel: quantizeToI8.
 * @example
 * const x = runtime.copyIn([0.1, -0.5, 9]);
 * const q = runtime.arena.alloc(3);
 * quantizeToI8(x.ptr, q, 3, 127, 'INT8'); // runtime.i8 at q: [13, -64, 127]
 */
export function quantizeToI8(x: number, out: number, n: number, s: number, format: Format | string = 'INT8', rt: Runtime = runtime): void {
  const f = intFormat(format);
  requireInt('n', n, 1, 2 ** 31 - 1);
  if (!(Math.fround(requirePositive('s', s)) < Infinity)) throw new FliqsError('s', `${s} overflows f32`, 'a scale below 3.4e38');
  requireSpan(rt, 'x', x, n * 4, `f32 x [${n}]`, 4);
  requireSpan(rt, 'out', out, n, `int8 codes [${n}]`);
  rt.kernels[INT8_KERNELS.quantize](x, out, n, quantParams(rt, kernelParams(f), s));
}

/**
 * Channels-last per-channel codes: x viewed as [outer, C] (e.g. weights [K, N] or HWIO with C = Cout),
 * channel c quantized with scales[c]. Kernel: quantizePerChannelToI8.
 * @example
 * const x = runtime.copyIn([0.5, 0.5, -1, 1]); // [2,2]
 * const q = runtime.arena.alloc(4);
 * quantizePerChannelToI8(x.ptr, q, 2, 2, [127, 7], 'INT8'); // runtime.i8 at q: [64, 4, -127, 7]
 */
export function quantizePerChannelToI8(x: number, out: number, outer: number, C: number, scales: ArrayLike<number>,
  format: Format | string = 'INT8', rt: Runtime = runtime): void {
  const f = intFormat(format);
  requireInt('outer', outer, 1, 2 ** 31 - 1); requireInt('C', C, 1, 2 ** 31 - 1);
  if (!(Array.isArray(scales) || ArrayBuffer.isView(scales)) || (scales as ArrayLike<number>).length !== C) {
    throw new FliqsError('scales', `got ${describe(scales)}`, `${C} positive scales, one per channel`);
  }
  const sc = Float32Array.from(scales, (s, i) => requirePositive(`scales[${i}]`, s));
  requireSpan(rt, 'x', x, outer * C * 4, `f32 x [${outer},${C}]`, 4);
  requireSpan(rt, 'out', out, outer * C, `int8 codes [${outer},${C}]`);
  const ps = rt.arena.alloc(C * 4);
  try {
    rt.f32.set(sc, ps >>> 2);
    rt.kernels[INT8_KERNELS.quantizePerChannel](x, out, outer, C, quantParams(rt, kernelParams(f), 1, ps));
  } finally {
    rt.arena.free(ps);
  }
}
