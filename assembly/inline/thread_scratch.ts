// Per-thread staging scratch: the partial-tile buffers of the micro-kernels. Every module instance (one
// per thread, all over one shared memory) has its own base, because a wasm global belongs to its instance:
// the main instance's scratch is static data, a worker's an arena block set by set_thread_scratch
// (assembly/memory.ts) right after it is instantiated. Offsets below are fixed per buffer.

/** Offsets (bytes) of each buffer in the scratch; each user reads threadScratch + its offset. */
export const GEMM_TILE: usize = 0; // 160: MR×8 f32 accumulators of a partial GEMM tile
export const UK4X8_TILE: usize = 192; // 128: 4×8 tile of the packed-A grad-weight kernel
export const WINOGRAD_EDGE: usize = 320; // 256: a 4×4×4-channel input tile gathered at image edges
export const OPTIM_TAIL: usize = 576; // 80: five 4-float tail slots of the optimizer steps
export const INT8_TMP: usize = 672; // 128: 4×8 partial tile of the int8 kernels
export const INT8_ROWS: usize = 800; // 48: per-row pixel coordinates of a conv block being packed
export const INT8_GATHER: usize = 896; // 4 × GATHER_K (int8.ts): gathered patch rows
export const THREAD_SCRATCH_BYTES: i32 = 896 + 4 * 4096;

export let threadScratch: usize = memory.data(THREAD_SCRATCH_BYTES, 64);

/** Points this instance's scratch at p (THREAD_SCRATCH_BYTES bytes, 16-byte aligned). */
export function setThreadScratch(p: usize): void {
  threadScratch = p;
}
