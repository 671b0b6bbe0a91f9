// The public Winograd F(2×2, 3×3) entries for 3×3, stride-1, groups-1 convolutions — forward, grad-input
// (the same kernel on dy with the flipped, in/out-swapped weights) and grad-weight (the transposed
// algorithm) — with their argument checks over winograd-core.ts, and the rules by which conv2d /
// conv2dGradInput / conv2dGradWeight (conv.ts) send a shape to the same cores after their own checks.

import { FliqsError, describe } from '../core/errors.js';
import { residentF32 } from '../core/operands.js';
import { WasmF32 } from '../core/runtime.js';
import type { ConvShape } from './conv.ref.js';
import { winogradForwardCore, winogradGradInputCore, winogradGradWeightCore } from './winograd-core.js';

export { winogradTilesPerBlock } from './winograd-core.js';

/** True when s is a 3×3, stride-1, groups-1 convolution with every padding in 0..2 (what the kernel runs). */
export function winogradApplies(s: ConvShape): boolean {
  if (typeof s !== 'object' || s === null) return false;
  return s.KH === 3 && s.KW === 3 && s.sh === 1 && s.sw === 1 && s.groups === 1 &&
    [s.pt, s.pl, s.pb, s.pr].every((p) => p >= 0 && p <= 2);
}

/**
 * True when the Winograd kernel measured faster than the direct one for a conv with cin → cout channels
 * over `tiles` 2×2 output tiles (direct vs winograd over N 1/8/64 × 4..28 px × 4..128 channels, relaxed
 * module): it won everywhere from 8 → 8 channels up (1.02–2.4×) except when few tiles share the transformed
 * weights (16/9 the direct panel's bytes, made per call): 64 → 64 lost at 16 tiles, 128 → 128 at 49.
 * Fewer than 8 channels: 4 → 4 was even (0.98–1.8×), 1 → 16 and 2 → 8 lost (~0.5×).
 */
export function winogradFaster(cin: number, cout: number, tiles: number): boolean {
  if (typeof cin !== 'number' || typeof cout !== 'number' || typeof tiles !== 'number') return false;
  return Math.min(cin, cout) >= 8 && tiles >= Math.max(4, (cin * cout) / 128);
}

let dispatch = true;

/**
 * Turns the conv2d / conv2dGradInput / conv2dGradWeight dispatch to Winograd on or off (on by default);
 * returns the previous setting. Benchmarks use it to time both paths on the same shapes.
 * @example
 * const was = setWinogradDispatch(false); // every conv runs the direct kernels
 * setWinogradDispatch(was);
 */
export function setWinogradDispatch(on: boolean): boolean {
  const was = dispatch;
  dispatch = on === true;
  return was;
}

/** conv2d forward of s should take the Winograd path. */
export function preferWinograd(s: ConvShape): boolean {
  return dispatch && winogradApplies(s) && winogradFaster(s.C, s.CO, s.N * Math.ceil(s.OH / 2) * Math.ceil(s.OW / 2));
}

/** conv2d grad-input of s should take the Winograd path. */
export function preferWinogradGradInput(s: ConvShape): boolean {
  return dispatch && winogradApplies(s) && winogradFaster(s.CO, s.C, s.N * Math.ceil(s.H / 2) * Math.ceil(s.W / 2));
}

/**
 * conv2d grad-weight of s should take the Winograd path: it measured faster from 4 → 4 channels up at every
 * size tried (1.2–2.4×, N 1..64, 4..28 px, 4..128 channels, relaxed module; no per-call weight transform
 * here); 1 → 16 lost (0.5×).
 */
export function preferWinogradGradWeight(s: ConvShape): boolean {
  return dispatch && winogradApplies(s) && Math.min(s.C, s.CO) >= 4;
}

function requireApplies(s: ConvShape): void {
  if (!s || typeof s !== 'object' || !winogradApplies(s)) {
    throw new FliqsError('shape', `got ${s && typeof s === 'object' ? `window ${s.KH}×${s.KW}, stride ${s.sh}×${s.sw}, groups ${s.groups}, ` +
      `padding [${s.pt}, ${s.pl}, ${s.pb}, ${s.pr}]` : describe(s)}`, 'a 3×3, stride-1, groups-1 ConvShape with paddings 0..2');
  }
}

/**
 * conv2d forward by Winograd F(2×2, 3×3): y[N, OH, OW, CO] = conv(x[N, H, W, C], w [3, 3, C, CO]) + bias.
 * s must satisfy winogradApplies. Results differ from the direct kernel by rounding only (see test/winograd.test.ts).
 * @example
 * const s = conv2dShape([8, 14, 14, 32], [3, 3, 32, 32], { padding: 1 });
 * const y = winogradConv2d(x, w, null, s);
 */
export function winogradConv2d(x: WasmF32, w: WasmF32, bias: WasmF32 | null, s: ConvShape, out?: WasmF32): WasmF32 {
  requireApplies(s);
  if (!(x instanceof WasmF32)) throw new FliqsError('x', `got ${describe(x)}`, 'a WasmF32 (from runtime.allocF32 / copyIn)');
  const rt = x.runtime;
  residentF32(rt, 'x', x, s.N * s.H * s.W * s.C, `[${s.N}, ${s.H}, ${s.W}, ${s.C}]`);
  residentF32(rt, 'w', w, 9 * s.C * s.CO, `[3, 3, ${s.C}, ${s.CO}]`);
  if (bias !== null && bias !== undefined) residentF32(rt, 'bias', bias, s.CO, `[${s.CO}]`);
  const yLen = s.N * s.OH * s.OW * s.CO, yDims = `[${s.N}, ${s.OH}, ${s.OW}, ${s.CO}]`;
  const y = out === undefined ? rt.allocF32(yLen) : residentF32(rt, 'out', out, yLen, yDims);
  winogradForwardCore(rt, x, w, bias ?? null, y, s);
  return y;
}

/**
 * conv2d grad-input by Winograd F(2×2, 3×3): dx[N, H, W, C] from dy[N, OH, OW, CO] and w [3, 3, C, CO],
 * as a stride-1 conv of dy with the flipped, in/out-swapped kernel and padding 2 − pt, 2 − pl.
 * @example
 * const dx = winogradConv2dGradInput(dy, w, conv2dShape([8, 14, 14, 32], [3, 3, 32, 32], { padding: 1 }));
 */
export function winogradConv2dGradInput(dy: WasmF32, w: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  requireApplies(s);
  if (!(dy instanceof WasmF32)) throw new FliqsError('dy', `got ${describe(dy)}`, 'a WasmF32 (from runtime.allocF32 / copyIn)');
  const rt = dy.runtime;
  residentF32(rt, 'dy', dy, s.N * s.OH * s.OW * s.CO, `[${s.N}, ${s.OH}, ${s.OW}, ${s.CO}]`);
  residentF32(rt, 'w', w, 9 * s.C * s.CO, `[3, 3, ${s.C}, ${s.CO}]`);
  const xLen = s.N * s.H * s.W * s.C, xDims = `[${s.N}, ${s.H}, ${s.W}, ${s.C}]`;
  const dx = out === undefined ? rt.allocF32(xLen) : residentF32(rt, 'out', out, xLen, xDims);
  winogradGradInputCore(rt, dy, w, dx, s);
  return dx;
}

/**
 * conv2d grad-weight by the transposed Winograd F(2×2, 3×3): dw [3, 3, C, CO] = Σ over pixels of x patches × dy,
 * as Gᵀ [Σ_tiles (A e Aᵀ) ⊙ (Bᵀ d B)] G over the 2×2 tiles e of dy and the 4×4 tiles d of x under them.
 * @example
 * const dw = winogradConv2dGradWeight(x, dy, conv2dShape([8, 14, 14, 32], [3, 3, 32, 32], { padding: 1 }));
 */
export function winogradConv2dGradWeight(x: WasmF32, dy: WasmF32, s: ConvShape, out?: WasmF32): WasmF32 {
  requireApplies(s);
  if (!(x instanceof WasmF32)) throw new FliqsError('x', `got ${describe(x)}`, 'a WasmF32 (from runtime.allocF32 / copyIn)');
  const rt = x.runtime;
  residentF32(rt, 'x', x, s.N * s.H * s.W * s.C, `[${s.N}, ${s.H}, ${s.W}, ${s.C}]`);
  residentF32(rt, 'dy', dy, s.N * s.OH * s.OW * s.CO, `[${s.N}, ${s.OH}, ${s.OW}, ${s.CO}]`);
  const wLen = 9 * s.C * s.CO, wDims = `[3, 3, ${s.C}, ${s.CO}]`;
  const dw = out === undefined ? rt.allocF32(wLen) : residentF32(rt, 'out', out, wLen, wDims);
  winogradGradWeightCore(rt, x, dy, dw, s);
  return dw;
}
