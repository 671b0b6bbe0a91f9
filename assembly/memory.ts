// Linear-memory layout shared with the TypeScript arena (src/core/arena.ts).
// Kernels never allocate: they take byte offsets that the arena handed out above heap_base().

/** First byte the TypeScript arena may use (everything below is AssemblyScript's static data). */
export function heap_base(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

/** 1 when this module was built with relaxed SIMD (FMA) kernels, else 0. */
export function has_relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
