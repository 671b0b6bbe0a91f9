// Scalar references for the int8 kernels (assembly/int8.ts): plain loops over exact integers (every
// int32 accumulator is a sum of < 2^31 fits exactly in a double) and the epilogue's f32 roundings
// spelled out with Math.fround. The oracle the tests hold the wasm kernels to, not a fallback.

import { roundHalfEven } from '../formats/reference.js';

const f32 = Math.fround;

/**
 * int32 C[M,N] = A[M,K]·B[K,N], row-major int8 codes.
 * @example
 * gemmI8Ref(Int8Array.of(1, 2), Int8Array.of(3, 4), 1, 1, 2) // Int32Array [11]
 */
export function gemmI8Ref(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number): Int32Array {
  const c = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k]! * b[k * N + n]!;
      c[m * N + n] = s;
    }
  }
  return c;
}

/**
 * Signed values of `count` INT4 codes packed two per byte, low nibble first (packCodes order).
 * @example
 * unpackI4Ref(Uint8Array.of(0xf1), 2) // Int8Array [1, -1]
 */
export function unpackI4Ref(bytes: ArrayLike<number>, count: number): Int8Array {
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const byte = bytes[i >> 1]!;
    const code = i % 2 === 0 ? byte & 15 : byte >> 4;
    out[i] = code >= 8 ? code - 16 : code;
  }
  return out;
}

/**
 * The epilogue exactly as the kernel rounds it: y = f32(f32(f32(acc)·f32(m[n]/(sA·sW[n]))) + bias[n]),
 * m = outScale (1 when absent).
 * @example
 * dequantI8Ref(Int32Array.of(254), 1, 1, 127, 2) // Float32Array [1]
 */
export function dequantI8Ref(acc: ArrayLike<number>, M: number, N: number, sA: number, sW: number | ArrayLike<number>,
  bias?: ArrayLike<number>, outScale?: ArrayLike<number>): Float32Array {
  const y = new Float32Array(M * N);
  for (let n = 0; n < N; n++) {
    const d = f32((outScale ? outScale[n]! : 1) / (sA * (typeof sW === 'number' ? sW : sW[n]!)));
    for (let m = 0; m < M; m++) {
      let v = f32(f32(acc[m * N + n]!) * d);
      if (bias) v = f32(v + f32(bias[n]!));
      y[m * N + n] = v;
    }
  }
  return y;
}

/**
 * int32 NHWC conv2d with HWIO weights [KH, KW, C/groups, Cout], zero padding, computed directly (no im2col).
 * @example
 * conv2dI8Ref(Int8Array.of(1, 2, 3, 4), [1, 2, 2, 1], Int8Array.of(1, 1, 1, 1), [2, 2, 1, 1], [1, 1], [0, 0]) // Int32Array [10]
 */
export function conv2dI8Ref(x: ArrayLike<number>, [B, H, W, C]: readonly [number, number, number, number], w: ArrayLike<number>,
  [KH, KW, Cin, Cout]: readonly [number, number, number, number], [sh, sw]: readonly [number, number],
  [ph, pw]: readonly [number, number], groups = 1): Int32Array {
  if (Cin * groups !== C) throw new Error(`conv2dI8Ref: weight Cin ${Cin} × groups ${groups} ≠ input C ${C}`);
  const perGroup = Cout / groups;
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  const y = new Int32Array(B * OH * OW * Cout);
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let co = 0; co < Cout; co++) {
          let s = 0;
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * sh - ph + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ix = ox * sw - pw + kx;
              if (ix < 0 || ix >= W) continue;
              const c0 = Math.floor(co / perGroup) * Cin;
              for (let ci = 0; ci < Cin; ci++) {
                s += x[((b * H + iy) * W + ix) * C + c0 + ci]! * w[((ky * KW + kx) * Cin + ci) * Cout + co]!;
              }
            }
          }
          y[((b * OH + oy) * OW + ox) * Cout + co] = s;
        }
      }
    }
  }
  return y;
}

/**
 * int8 codes round_half_even(clamp(f32(x·s), −max, max)) with the fake quantizer's arithmetic; NaN → 0.
 * @example
 * quantizeI8Ref([0.1, -0.5, 9], 127, 127) // Int8Array [13, -64, 127]
 */
export function quantizeI8Ref(x: ArrayLike<number>, s: number, max: number): Int8Array {
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = f32(x[i]!);
    if (Number.isNaN(xi)) continue;
    const v = Math.min(Math.max(f32(xi * f32(s)), -max), max);
    q[i] = Math.sign(v) * roundHalfEven(Math.abs(v));
  }
  return q;
}

/**
 * int32 NHWC depthwise conv2d with weights [KH, KW, C]: conv2dI8Ref with one group per channel.
 * @example
 * depthwiseConv2dI8Ref(Int8Array.of(1, 2, 3, 4), [1, 2, 2, 1], Int8Array.of(1, 1, 1, 1), [2, 2], [1, 1], [0, 0]) // Int32Array [10]
 */
export function depthwiseConv2dI8Ref(x: ArrayLike<number>, shape: readonly [number, number, number, number], w: ArrayLike<number>,
  [KH, KW]: readonly [number, number], stride: readonly [number, number], padding: readonly [number, number]): Int32Array {
  return conv2dI8Ref(x, shape, w, [KH, KW, 1, shape[3]], stride, padding, shape[3]);
}

/**
 * The epilogue's clamp and requantization as the kernels round them: codes of min(max(y, lo), hi)
 * for a next layer of scale s and code bound max (quantizeI8Ref of the clamped f32 y).
 * @example
 * requantizeI8Ref(Float32Array.of(-1, 0.5, 9), [0, 6], 10, 127) // Int8Array [0, 5, 60]
 */
export function requantizeI8Ref(y: ArrayLike<number>, [lo, hi]: readonly [number, number], s: number, max: number): Int8Array {
  return quantizeI8Ref(Array.from(y, (v) => Math.min(Math.max(v, lo), hi)), s, max);
}
