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

/**
 * Task slots whose parameter blocks and (for workers) staging scratch live in static data, so a call split
 * over up to this many threads allocates nothing for them; src/kernels takes further slots from the arena.
 */
const STATIC_SLOTS: i32 = 16;
const PARAM_BYTES: i32 = <i32>(CG_SIZE + QP_SIZE) + BLOCK_BYTES_OPTIM;

// The per-call parameter blocks (one conv geometry, one quantizer, one optimizer step per task slot;
// src/kernels/blocks.ts hands out their addresses). Static data, so writing a block never allocates or grows
// memory (which would detach the caller's views).
const PARAM_BLOCKS: usize = memory.data(PARAM_BYTES * STATIC_SLOTS, 16);
// Staging scratch of workers 1… (the main instance's is inline/thread_scratch.ts's own).
const WORKER_SCRATCH: usize = memory.data(THREAD_SCRATCH_BYTES * (STATIC_SLOTS - 1), 64);

/** Number of task slots with static parameter blocks (slot 0: the calling thread). */
export function static_slots(): i32 {
  return STATIC_SLOTS;
}

/** Address of task slot `slot`'s parameter blocks: geometry, then quantizer (CG_SIZE on), then optimizer (QP_SIZE further). */
export function param_blocks(slot: i32): usize {
  return PARAM_BLOCKS + <usize>(slot * PARAM_BYTES);
}

/** Bytes of one thread's staging scratch (inline/thread_scratch.ts). */
export function thread_scratch_bytes(): i32 {
  return THREAD_SCRATCH_BYTES;
}

/** Static staging scratch of worker `w` (1 ≤ w < static_slots()). */
export function worker_scratch(w: i32): usize {
  return WORKER_SCRATCH + <usize>((w - 1) * THREAD_SCRATCH_BYTES);
}

/** Gives this instance (a worker thread's) its own staging scratch at p; the main instance keeps its static one. */
export function set_thread_scratch(p: usize): void {
  setThreadScratch(p);
}
