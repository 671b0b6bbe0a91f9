// The f32 GEMM micro-kernel, shared by gemm.ts and the GEMM-formulated conv kernels of conv.ts.
// Not re-exported from assembly/index.ts, so nothing here is a wasm export.
// The K loop is NOT unrolled on purpose: unrolled, Binaryen folds each accumulator's steps into one
// expression tree and hoists all loads to the top, so V8 needs ~20 live v128 values and spills.

// Accumulators of a partial tile go through here before the scalar epilogue (static data, not an allocation).
const TILE: usize = memory.data(128, 16);

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// Micro-kernel: a 4×8 tile of C from kc steps; a0..a3 are A rows (stride 4 bytes along K),
// bp an 8-wide B panel whose K steps are bs bytes apart (32 for a packed panel). Stores mr×nr of the
// tile with alpha/beta.

export function ukernel_4x8(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, bp: usize, bs: usize,
  c: usize, ldcb: usize, alpha: f32, beta: f32, mr: i32, nr: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let k = kc;
  while (k > 0) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(a0); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(a1); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(a2); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(a3); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; bp += bs;
    k--;
  }
  const va = f32x4.splat(alpha);
  if (mr == 4 && nr == 8) {
    if (beta == 0) {
      v128.store(c, f32x4.mul(c00, va)); v128.store(c, f32x4.mul(c01, va), 16); c += ldcb;
      v128.store(c, f32x4.mul(c10, va)); v128.store(c, f32x4.mul(c11, va), 16); c += ldcb;
      v128.store(c, f32x4.mul(c20, va)); v128.store(c, f32x4.mul(c21, va), 16); c += ldcb;
      v128.store(c, f32x4.mul(c30, va)); v128.store(c, f32x4.mul(c31, va), 16);
    } else {
      const vb = f32x4.splat(beta);
      v128.store(c, f32x4.add(f32x4.mul(c00, va), f32x4.mul(v128.load(c), vb)));
      v128.store(c, f32x4.add(f32x4.mul(c01, va), f32x4.mul(v128.load(c, 16), vb)), 16); c += ldcb;
      v128.store(c, f32x4.add(f32x4.mul(c10, va), f32x4.mul(v128.load(c), vb)));
      v128.store(c, f32x4.add(f32x4.mul(c11, va), f32x4.mul(v128.load(c, 16), vb)), 16); c += ldcb;
      v128.store(c, f32x4.add(f32x4.mul(c20, va), f32x4.mul(v128.load(c), vb)));
      v128.store(c, f32x4.add(f32x4.mul(c21, va), f32x4.mul(v128.load(c, 16), vb)), 16); c += ldcb;
      v128.store(c, f32x4.add(f32x4.mul(c30, va), f32x4.mul(v128.load(c), vb)));
      v128.store(c, f32x4.add(f32x4.mul(c31, va), f32x4.mul(v128.load(c, 16), vb)), 16);
    }
    return;
  }
  v128.store(TILE, c00); v128.store(TILE, c01, 16);
  v128.store(TILE, c10, 32); v128.store(TILE, c11, 48);
  v128.store(TILE, c20, 64); v128.store(TILE, c21, 80);
  v128.store(TILE, c30, 96); v128.store(TILE, c31, 112);
  for (let i = 0; i < mr; i++) {
    const t = TILE + (<usize>i << 5);
    const ci = c + <usize>i * ldcb;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = alpha * f32.load(t + o);
      f32.store(ci + o, beta == 0 ? v : v + beta * f32.load(ci + o));
    }
  }
}

