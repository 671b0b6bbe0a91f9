// The fake-quantize op: forward rounds to a Format's grid (per tensor, or per channel along the last
// axis — the output channel of HWIO / [in, out] weights); backward is the clip-aware straight-through
// estimator: the upstream gradient passes where |x| ≤ clip and is blocked where x was clipped.

import { FliqsError, describe } from '../core/errors.js';
import { checkedScale } from '../formats/checks.js';
import { parseFormat, type Format } from '../formats/format.js';
import { quantize, quantizeChannels, steChannels, steGradient } from '../kernels/quant.js';
import { Tensor, accumulate, accumulateAdd, record, scratchF32 } from './tensor.js';

/**
 * Fake-quantizes x to `format`. `clip` is one number (per tensor) or one clip per channel of the last
 * axis (per output channel). BF16 and FP32 ignore the clip and pass every gradient; FP32 returns x
 * itself.
 * @example
 * const wq = fakeQuantize(w, 'INT4', clipsPerOutputChannel);
 * const xq = fakeQuantize(x, 'E4M3', 3 * std);
 */
export function fakeQuantize(x: Tensor, format: Format | string, clip?: number | ArrayLike<number>): Tensor {
  if (!(x instanceof Tensor)) throw new FliqsError('fakeQuantize x', `got ${describe(x)}`, 'a Tensor');
  const f = parseFormat(format);
  if (f.kind === 'fp32') return x;
  // Every check comes before y is allocated, so a bad clip leaves nothing behind in the arena.
  const perTensor = f.ignoresClip || typeof clip === 'number' || clip === undefined;
  if (!f.ignoresClip && perTensor) checkedScale(f, clip, 'fakeQuantize clip');
  const C = x.shape[x.shape.length - 1]!, outer = x.size / C;
  if (!perTensor && (!(Array.isArray(clip) || ArrayBuffer.isView(clip)) || clip.length !== C)) {
    throw new FliqsError('fakeQuantize clips', `got ${describe(clip)} for x [${x.shape.join(', ')}]`, `one clip per channel of the last axis (${C})`);
  }
  const scales = perTensor ? [] : Array.from(clip as ArrayLike<number>, (c, i) => checkedScale(f, c, `fakeQuantize clips[${i}]`));
  const y = Tensor.empty(x.shape);
  if (f.ignoresClip) {
    quantize(x.data, f, undefined, y.data);
    return record(y, [x], () => accumulateAdd(x, y.grad!));
  }
  if (perTensor) {
    const c = clip as number; // checkedScale above accepted it
    quantize(x.data, f, c, y.data);
    return record(y, [x], () => accumulate(x, (dx) => steGradient(x.data, y.grad!.array, c, dx.array)));
  }
  const sBuf = scratchF32(C), cBuf = scratchF32(C);
  sBuf.array.set(scales);
  cBuf.array.set(clip as ArrayLike<number>);
  // Resident forms that allocate nothing: quantizePerChannel would allocate its scales mid-call, and
  // views of memory taken before a grow cannot be written after it.
  quantizeChannels(x.storage, y.storage, outer, C, sBuf, f);
  return record(y, [x], () => accumulate(x, (dx) => steChannels(x.storage, y.grad!, dx, outer, C, cBuf)));
}
