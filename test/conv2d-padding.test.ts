// Conv2d's padding option: 'same' (stride 1, odd kernels) keeps H×W and equals the explicit (k − 1)/2
// padding bit for bit; 'valid' equals 0; forms it would misread or cannot honour are refused.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { Tensor, noGrad, stepScope } from '../src/autograd/tensor.js';
import { Conv2d, DepthwiseConv2d } from '../src/nn/layers.js';

const odd = fc.integer({ min: 0, max: 3 }).map((k) => 2 * k + 1);

/** The forward output of a conv built with `padding` (same seed, so the same weights). */
function output(make: (padding: unknown) => Conv2d, padding: unknown, x: Tensor): { shape: number[]; data: number[] } {
  const conv = make(padding);
  try {
    return stepScope(() => noGrad(() => { const y = conv.forward(x); return { shape: y.shape.slice(), data: Array.from(y.data) }; }));
  } finally {
    conv.free();
  }
}

describe('Conv2d padding', () => {
  it("'same' keeps H×W with odd kernels at stride 1 and equals padding [(KH − 1)/2, (KW − 1)/2]; 'valid' equals 0", () => {
    fc.assert(fc.property(odd, odd, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }),
      fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (KH, KW, H, W, C, depthwise, seed) => {
        const make = (padding: unknown): Conv2d => (depthwise
          ? new DepthwiseConv2d(C, [KH, KW], { padding: padding as 'same', rng: new Rng(seed) })
          : new Conv2d(C, 4, [KH, KW], { padding: padding as 'same', rng: new Rng(seed) }));
        const x = Tensor.from(new Rng(seed + 1).normalArray(2 * H * W * C), [2, H, W, C], { keep: true });
        try {
          const same = output(make, 'same', x);
          expect(same.shape.slice(1, 3)).toEqual([H, W]);
          expect(same).toEqual(output(make, [(KH - 1) / 2, (KW - 1) / 2], x));
          if (H >= KH && W >= KW) expect(output(make, 'valid', x)).toEqual(output(make, 0, x));
        } finally {
          x.free();
        }
      }), { numRuns: 25 });
  });

  it("reads 'same' into the layer's padding, and 'valid' as [0, 0]", () => {
    const a = new Conv2d(2, 3, [3, 5], { padding: 'same' }), b = new Conv2d(2, 3, 3, { padding: 'valid' });
    expect([a.padding, b.padding]).toEqual([[1, 2], [0, 0]]);
    a.free(); b.free();
  });

  it.each([
    ["'same' at stride 2", { stride: 2, padding: 'same' }, 3, /'same' with a 3×3 kernel and stride 2×2.*stride 1 and odd kernel sizes/],
    ["'same' with an even kernel", { padding: 'same' }, [3, 2], /'same' with a 3×2 kernel.*odd kernel sizes/],
    ['a 4-element padding (it would read only the first two)', { padding: [1, 1, 2, 2] }, 3, /got \[1, 1, 2, 2\].*no \[top, left, bottom, right\] form/],
    ['a 1-element padding', { padding: [1] }, 3, /got \[1\]/],
    ['another string', { padding: 'full' }, 3, /got .*full.*'same' or 'valid'/],
    ['a negative padding', { padding: [1, -1] }, 3, /padding/],
  ])('refuses %s', (_name, opts, k, msg) => {
    const make = (): Conv2d => new Conv2d(2, 3, k as number, opts as { padding: 'same' });
    expect(make).toThrow(FliqsError);
    expect(make).toThrow(msg);
  });
});
