// Linear-memory layout shared with the TypeScript arena (src/core/arena.ts). The memory is imported
// (env.memory) and shared: every worker thread instantiates this module over the same memory.
// Kernels never allocate: they take byte offsets that the arena handed out above heap_base().

import { BLOCK_BYTES_OPTIM, CG_SIZE, QP_SIZE } from './inline/abi.generated';
import { THREAD_SCRATCH_BYTES, setThreadScratch } from './inline/thread_scratch';

/** First byte the TypeScript arena may use (everything below is AssemblyScript's static data). */
export function heap_base(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

/** 1 when this module was built with relaxed SIMD (FMA) kernels, else 0. */
export function has_relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// The per-call parameter blocks (one conv geometry, one quantizer, one optimizer step; src/kernels/blocks.ts
// hands out their addresses). Static data, so writing a block never allocates or grows memory (which would
// detach the caller's views).
const PARAM_BLOCKS: usize = memory.data(<i32>(CG_SIZE + QP_SIZE) + BLOCK_BYTES_OPTIM, 16);

/** Address of this module's parameter blocks: geometry, then quantizer (CG_SIZE on), then optimizer (QP_SIZE further). */
export function param_blocks(): usize {
  return PARAM_BLOCKS;
}

/** Bytes of one thread's staging scratch (inline/thread_scratch.ts). */
export function thread_scratch_bytes(): i32 {
  return THREAD_SCRATCH_BYTES;
}

/** Gives this instance (a worker thread's) its own staging scratch at p; the main instance keeps its static one. */
export function set_thread_scratch(p: usize): void {
  setThreadScratch(p);
}
