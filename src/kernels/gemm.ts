// Typed face of the f32 GEMM kernels (assembly/gemm.ts): validates shapes, strides and lengths, gets the
// operands into wasm memory, hands the kernel a scratch block from the arena, and copies C back out
// when it did not live there. Optionally fake-quantizes op(B) while packing it (fused weight quantization).

import { f32Length, place, type F32Operand } from '../core/operands.js';
import { FliqsError, describe, requireFinite, requireInt } from '../core/errors.js';
import { LAYOUT } from '../core/abi.generated.js';
import { runtime, WasmF32, type Runtime } from '../core/runtime.js';
import { parseFormat, type Format } from '../formats/format.js';
import { kernelParams, type KernelParams } from '../formats/params.js';
import { quantParams } from './blocks.js';
import { checkedScale } from '../formats/checks.js';
import { minTaskWork, runTasks, splitRange, threadsFor, type Task } from './threads.js';

/** nn: A[M,K]·B[K,N]; nt: A[M,K]·B[N,K]ᵀ; tn: A[K,M]ᵀ·B[K,N]. */
export type GemmLayout = 'nn' | 'nt' | 'tn';

/** The kernel behind each layout, by its wasm export name (one list drives wrapper, tests and bench). */
export const GEMM_KERNELS = {
  nn: 'gemm_nn_f32_4x8',
  nt: 'gemm_nt_f32_4x8',
  tn: 'gemm_tn_f32_4x8',
} as const satisfies Record<GemmLayout, string>;

const LAYOUT_CODE: Record<GemmLayout, number> = LAYOUT;

/** Flops one iteration of peak_muladd_f32x4 / peak_fma_f32x4 performs (12 chains × 4 lanes × 2). */
export const PEAK_FLOPS_PER_ITER = 96;

/** Fake-quantize op(B) while packing: one clip for the tensor, or one per op(B) column (N clips). */
export interface GemmQuantB {
  format: Format | string;
  clip?: number;
  clips?: ArrayLike<number>;
}

export interface GemmOptions {
  quantB?: GemmQuantB;
}

const scratchOf = new WeakMap<Runtime, Array<{ ptr: number; bytes: number }>>();

/** The runtime's GEMM scratch block of task slot `slot`, grown (never shrunk) to at least `bytes`. */
function scratch(rt: Runtime, bytes: number, slot = 0): number {
  let all = scratchOf.get(rt);
  if (!all) { all = []; scratchOf.set(rt, all); }
  let s = all[slot];
  if (!s || s.bytes < bytes) {
    const ptr = rt.arena.alloc(bytes); // before freeing the old block: if this throws, the old one stays valid
    if (s) rt.arena.free(s.ptr);
    s = { ptr, bytes };
    all[slot] = s;
  }
  return s.ptr;
}

/** Row splits fall on multiples of 20, a multiple of every micro-tile height (4, 5), so each element of C is computed by the single-thread code path. */
const ROW_ALIGN = 20;
/** Column splits fall on multiples of 8 (the B panel width) and leave every part wider than 16, so no part takes the N ≤ 16 path. */
const COL_ALIGN = 8;
const COL_MIN = 24;

/**
 * The tasks of one GEMM call: C's rows (or, for few rows, its columns) split over the threads, each task a
 * whole sub-GEMM with its own scratch. `task(...)` builds one task from its slot, row range
 * [m0, m1) and column range [n0, n1).
 */
function gemmTasks(rt: Runtime, M: number, N: number, K: number, columnsOk: boolean,
  task: (slot: number, m0: number, m1: number, n0: number, n1: number) => Task): Task[] {
  const t = threadsFor(rt);
  const byRows = splitRange(M, t, ROW_ALIGN, Math.ceil(minTaskWork() / (N * K)));
  if (byRows.length > 1 || !columnsOk || N < 2 * COL_MIN) return byRows.map(([m0, m1], i) => task(i, m0, m1, 0, N));
  const byCols = splitRange(N, t, COL_ALIGN, Math.max(COL_MIN, Math.ceil(minTaskWork() / (M * K))));
  if (byCols.length > 1 && byCols[byCols.length - 1]![1] - byCols[byCols.length - 1]![0] <= 16) byCols.pop();
  if (byCols.length > 1) byCols[byCols.length - 1]![1] = N;
  return byCols.map(([n0, n1], i) => task(i, 0, M, n0, n1));
}

function requireLayout(layout: unknown): GemmLayout {
  if (layout !== 'nn' && layout !== 'nt' && layout !== 'tn') {
    throw new FliqsError('layout', `got ${describe(layout)}`, '"nn", "nt" or "tn"');
  }
  return layout;
}

/** Rows and columns of A, B as stored (not as used), for a layout. */
function storedShapes(layout: GemmLayout, M: number, N: number, K: number): { a: [number, number]; b: [number, number] } {
  return {
    a: layout === 'tn' ? [K, M] : [M, K],
    b: layout === 'nt' ? [N, K] : [K, N],
  };
}

/** Checks a [rows, cols] matrix with row stride ld fits in `len` elements starting `extra` elements in. */
function checkMatrix(name: string, len: number, rows: number, cols: number, ld: number, ldName: string, shapes: string,
  batch = 1, stride = 0): void {
  if (ld < cols) throw new FliqsError(ldName, `is ${ld} but ${name} rows hold ${cols} elements (${shapes})`, `an integer ≥ ${cols}`);
  const need = (batch - 1) * stride + (rows - 1) * ld + cols;
  if (len < need) {
    const what = batch > 1 ? `${batch} × [${rows},${cols}] with stride ${stride}, row stride ${ld}` : `[${rows},${cols}] with row stride ${ld}`;
    throw new FliqsError(name, `has ${len} elements but ${what} needs ${need} (${shapes})`, `at least ${need} elements`);
  }
}

interface QuantArgs { s: number; scales: number[] | null; k: KernelParams }

/**
 * Writes the quantizer block (src/kernels/blocks.ts) for a fused-quantization GEMM; per-column scales go to an
 * arena block the caller frees (returned as `scales`, 0 when the tensor scale is used).
 */
function quantBlock(rt: Runtime, q: QuantArgs): { qp: number; scales: number } {
  let scales = 0;
  if (q.scales) {
    scales = rt.arena.alloc(4 * q.scales.length);
    rt.f32.set(q.scales, scales >>> 2); // after the alloc, which may grow memory
  }
  return { qp: quantParams(rt, q.k, q.s, scales), scales };
}

function quantArgs(q: GemmQuantB, N: number): QuantArgs | null {
  if (typeof q !== 'object' || q === null) throw new FliqsError('quantB', `got ${describe(q)}`, '{ format, clip } or { format, clips }');
  const f = parseFormat(q.format);
  if (f.kind === 'fp32') return null;
  const k = kernelParams(f);
  if (q.clips !== undefined) {
    const clips = q.clips;
    if (!(Array.isArray(clips) || ArrayBuffer.isView(clips)) || clips.length !== N) {
      throw new FliqsError('quantB.clips', `got ${describe(clips)}`, `${N} clips, one per column of op(B) (N = ${N})`);
    }
    const scales = Array.from(clips, (c, i) => (f.ignoresClip ? 1 : checkedScale(f, c, `quantB.clips[${i}]`)));
    return { s: 1, scales, k };
  }
  return { s: checkedScale(f, q.clip, 'quantB.clip'), scales: null, k };
}

/**
 * C = alpha·op(A)·op(B) + beta·C on row-major f32 matrices (layout nn, nt or tn; lda, ldb, ldc are row
 * strides in elements, so sub-matrices work). beta = 0 ignores what C held (NaN included). With
 * `options.quantB`, op(B) is fake-quantized while it is packed — the same values quantize() would give,
 * so the result equals quantize-then-gemm bit for bit. Operands that are not views of the runtime's
 * memory are copied in (and C copied back). Kernels: gemm_nn_f32_4x8, gemm_nt_f32_4x8, gemm_tn_f32_4x8
 * (gemm_qb_f32_4x8 when quantizing).
 * @example
 * import { gemm } from 'fliqs';
 * const A = new Float32Array([1, 2, 3, 4, 5, 6]); // [2,3]
 * const B = new Float32Array([1, 0, 0, 1, 1, 1]); // [3,2]
 * const C = new Float32Array(4);
 * gemm('nn', 2, 2, 3, 1, A, 3, B, 2, 0, C, 2); // C = [4, 5, 10, 11]
 */
export function gemm(layout: GemmLayout, M: number, N: number, K: number, alpha: number,
  A: F32Operand, lda: number, B: F32Operand, ldb: number, beta: number, C: F32Operand, ldc: number,
  options: GemmOptions = {}, rt: Runtime = runtime): void {
  const lay = requireLayout(layout);
  requireInt('M', M, 1, 2 ** 31 - 1); requireInt('N', N, 1, 2 ** 31 - 1); requireInt('K', K, 1, 2 ** 31 - 1);
  requireInt('lda', lda, 1, 2 ** 31 - 1); requireInt('ldb', ldb, 1, 2 ** 31 - 1); requireInt('ldc', ldc, 1, 2 ** 31 - 1);
  requireFinite('alpha', alpha); requireFinite('beta', beta);
  const { a, b } = storedShapes(lay, M, N, K);
  const shapes = `${lay}: M=${M}, N=${N}, K=${K}, A [${a}], B [${b}], C [${M},${N}]`;
  checkMatrix('A', f32Length(rt, 'A', A), a[0], a[1], lda, 'lda', shapes);
  checkMatrix('B', f32Length(rt, 'B', B), b[0], b[1], ldb, 'ldb', shapes);
  checkMatrix('C', f32Length(rt, 'C', C), M, N, ldc, 'ldc', shapes);
  const q = options.quantB === undefined ? null : quantArgs(options.quantB, N);

  // beta = 0 and C exactly [M, N]: every element is written, so a copied-in C need not be filled first
  const ops = place(rt, [A, B, C], beta === 0 && ldc === N && C.length === M * N ? [2] : []);
  const [pa, pb, pc] = ops.ptrs as [number, number, number];
  let pScales = 0;
  try {
    let qp = 0;
    if (q) ({ qp, scales: pScales } = quantBlock(rt, q));
    // Element offsets of A's row m / column n and B's column n in the stored layouts.
    const aRow = (m: number) => 4 * (lay === 'tn' ? m : m * lda), bCol = (n: number) => 4 * (lay === 'nt' ? n * ldb : n);
    const tasks = gemmTasks(rt, M, N, K, !q, (slot, m0, m1, n0, n1) => {
      const m = m1 - m0, n = n1 - n0;
      const ps = scratch(rt, rt.kernels.gemm_f32_scratch_bytes(m, n, K), slot);
      const a = pa + aRow(m0), b = pb + bCol(n0), c = pc + 4 * (m0 * ldc + n0);
      return q
        ? { kernel: 'gemm_qb_f32_4x8', args: [LAYOUT_CODE[lay], m, n, K, alpha, a, lda, b, ldb, beta, c, ldc, ps, qp] }
        : { kernel: GEMM_KERNELS[lay], args: [m, n, K, alpha, a, lda, b, ldb, beta, c, ldc, ps] };
    });
    runTasks(rt, tasks);
    ops.copyBack(2);
  } finally {
    if (pScales) rt.arena.free(pScales);
    ops.release();
  }
}

/**
 * Batched GEMM (attention): for b < batch, C_b = alpha·op(A_b)·op(B_b) + beta·C_b, where A_b starts
 * b·strideA elements into A (likewise B, C). A stride of 0 for A or B reuses one matrix for the whole
 * batch; C's stride must keep the outputs apart. Kernel: gemm_batched_f32_4x8.
 * @example
 * import { gemmBatched } from 'fliqs';
 * // two [1,2]·[2,1] products
 * const C = new Float32Array(2);
 * gemmBatched('nn', 2, 1, 1, 2, 1, new Float32Array([1, 2, 3, 4]), 2, 2, new Float32Array([1, 1, 1, -1]), 2, 1, 0, C, 1, 1);
 * // C = [3, -1]
 */
export function gemmBatched(layout: GemmLayout, batch: number, M: number, N: number, K: number, alpha: number,
  A: F32Operand, strideA: number, lda: number, B: F32Operand, strideB: number, ldb: number,
  beta: number, C: F32Operand, strideC: number, ldc: number, rt: Runtime = runtime): void {
  const lay = requireLayout(layout);
  requireInt('batch', batch, 1, 2 ** 31 - 1);
  requireInt('M', M, 1, 2 ** 31 - 1); requireInt('N', N, 1, 2 ** 31 - 1); requireInt('K', K, 1, 2 ** 31 - 1);
  requireInt('lda', lda, 1, 2 ** 31 - 1); requireInt('ldb', ldb, 1, 2 ** 31 - 1); requireInt('ldc', ldc, 1, 2 ** 31 - 1);
  requireInt('strideA', strideA, 0, 2 ** 31 - 1); requireInt('strideB', strideB, 0, 2 ** 31 - 1);
  requireFinite('alpha', alpha); requireFinite('beta', beta);
  const { a, b } = storedShapes(lay, M, N, K);
  const shapes = `${lay}: batch=${batch}, M=${M}, N=${N}, K=${K}, A [${a}], B [${b}], C [${M},${N}]`;
  const cSize = (M - 1) * ldc + N;
  requireInt('strideC', strideC, batch > 1 ? cSize : 0, 2 ** 31 - 1);
  checkMatrix('A', f32Length(rt, 'A', A), a[0], a[1], lda, 'lda', shapes, batch, strideA);
  checkMatrix('B', f32Length(rt, 'B', B), b[0], b[1], ldb, 'ldb', shapes, batch, strideB);
  checkMatrix('C', f32Length(rt, 'C', C), M, N, ldc, 'ldc', shapes, batch, strideC);

  const ops = place(rt, [A, B, C], beta === 0 && ldc === N && strideC === M * N && C.length === batch * M * N ? [2] : []);
  const [pa, pb, pc] = ops.ptrs as [number, number, number];
  try {
    // Whole matrices per task: the batch split over the threads.
    const parts = splitRange(batch, threadsFor(rt), 1, Math.ceil(minTaskWork() / (M * N * K)));
    const tasks = parts.map(([b0, b1], slot): Task => ({
      kernel: 'gemm_batched_f32_4x8',
      args: [LAYOUT_CODE[lay], b1 - b0, M, N, K, alpha, pa + 4 * b0 * strideA, strideA, lda, pb + 4 * b0 * strideB, strideB, ldb,
        beta, pc + 4 * b0 * strideC, strideC, ldc, scratch(rt, rt.kernels.gemm_f32_scratch_bytes(M, N, K), slot)],
    }));
    runTasks(rt, tasks);
    ops.copyBack(2);
  } finally {
    ops.release();
  }
}
