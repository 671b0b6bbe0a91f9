// Integer helpers for window geometry shared by the conv and pool kernels: min/max, floor/ceil division
// of possibly negative numerators, and the range of outputs whose window lies inside the input.
// Inline helpers only: nothing here is a wasm export.

// @ts-ignore: decorator
@inline export function imin(a: i32, b: i32): i32 { return a < b ? a : b; }
// @ts-ignore: decorator
@inline export function imax(a: i32, b: i32): i32 { return a > b ? a : b; }

export function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

export function ceilDiv(a: i32, b: i32): i32 {
  return -floorDiv(-a, b);
}

/** First output index ≥ lo (and ≤ hi) whose window start o·s − p + k0 is ≥ 0: the interior's left edge. */
// @ts-ignore: decorator
@inline export function interiorStart(lo: i32, hi: i32, p: i32, s: i32, k0: i32): i32 {
  return imin(hi, imax(lo, ceilDiv(p - k0, s)));
}

/** One past the last output index (≥ start, ≤ hi) whose window end o·s − p + k1 stays < W. */
// @ts-ignore: decorator
@inline export function interiorEnd(start: i32, hi: i32, W: i32, p: i32, s: i32, k1: i32): i32 {
  return imax(start, imin(hi, floorDiv(W - 1 + p - k1, s) + 1));
}
