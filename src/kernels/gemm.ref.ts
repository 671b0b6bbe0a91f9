// The scalar reference GEMM: the oracle the wasm kernels in assembly/gemm.ts are tested against.
// Plain loops, f64 accumulation, BLAS semantics (beta = 0 never reads C).

/**
 * C = alpha·op(A)·op(B) + beta·C, row-major. op(A) is [M,K]: A is [M,K] (lda ≥ K), or [K,M] when
 * transA (lda ≥ M). op(B) is [K,N]: B is [K,N] (ldb ≥ N), or [N,K] when transB (ldb ≥ K). C is [M,N]
 * with row stride ldc ≥ N. Each result is rounded to f32 once.
 * @example
 * const C = new Float32Array(4);
 * gemmRef(false, false, 2, 2, 2, 1, new Float32Array([1, 2, 3, 4]), 2, new Float32Array([1, 0, 0, 1]), 2, 0, C, 2);
 * // C = [1, 2, 3, 4]
 */
export function gemmRef(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: ArrayLike<number>, lda: number, B: ArrayLike<number>, ldb: number, beta: number,
  C: Float32Array, ldc: number): Float32Array {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * lda + i]! : A[i * lda + k]!;
        const b = transB ? B[j * ldb + k]! : B[k * ldb + j]!;
        sum += a * b;
      }
      const c = i * ldc + j;
      C[c] = beta === 0 ? alpha * sum : alpha * sum + beta * C[c]!;
    }
  }
  return C;
}

/**
 * Batched reference: C_b = alpha·op(A_b)·op(B_b) + beta·C_b, where operand X_b starts at b·strideX.
 * @example
 * const C = new Float32Array(2);
 * gemmBatchedRef(false, false, 2, 1, 1, 1, 1, new Float32Array([2, 3]), 1, 1, new Float32Array([4, 5]), 1, 1, 0, C, 1, 1);
 * // C = [8, 15]
 */
export function gemmBatchedRef(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
  alpha: number, A: Float32Array, strideA: number, lda: number, B: Float32Array, strideB: number, ldb: number,
  beta: number, C: Float32Array, strideC: number, ldc: number): Float32Array {
  for (let b = 0; b < batch; b++) {
    gemmRef(transA, transB, M, N, K, alpha, A.subarray(b * strideA), lda, B.subarray(b * strideB), ldb,
      beta, C.subarray(b * strideC), ldc);
  }
  return C;
}
