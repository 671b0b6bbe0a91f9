// Linear-memory layout shared with the TypeScript arena (src/core/arena.ts).
// Kernels never allocate: they take byte offsets that the arena handed out above heap_base().

import { CG_SIZE, QP_SIZE } from './inline/abi.generated';

/** First byte the TypeScript arena may use (everything below is AssemblyScript's static data). */
export function heap_base(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

/** 1 when this module was built with relaxed SIMD (FMA) kernels, else 0. */
export function has_relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// The per-call parameter blocks (one conv geometry, then one quantizer; src/kernels/blocks.ts writes them).
// Static data, so writing a block never allocates or grows memory (which would detach the caller's views).
const PARAM_BLOCKS: usize = memory.data(<i32>(CG_SIZE + QP_SIZE), 16);

/** Address of this module's parameter blocks: the geometry block, then the quantizer block CG_SIZE bytes on. */
export function param_blocks(): usize {
  return PARAM_BLOCKS;
}
