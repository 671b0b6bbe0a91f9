// The package root exports what issue 12 asked for: Rng (the seeded PRNG, same stream as src/core),
// the autograd primitives and the ops composed from them.

import { describe, expect, it } from 'vitest';
import * as fliqs from '../src/index.js';
import { Rng as CoreRng } from '../src/core/random.js';

describe('package root', () => {
  it('exports Rng: the same class, so the same stream for the same seed', () => {
    expect(fliqs.Rng).toBe(CoreRng);
    const a = new fliqs.Rng(123), b = new CoreRng(123);
    expect(Array.from({ length: 5 }, () => a.u32())).toEqual(Array.from({ length: 5 }, () => b.u32()));
  });

  it('exports the autograd primitives and the composed ops', () => {
    for (const name of ['broadcastTo', 'add', 'sub', 'mul', 'scale', 'exp', 'log', 'sum', 'mean', 'reshape', 'flatten',
      'transpose', 'slice', 'concat', 'softplus', 'sigmoid', 'tanh', 'mseLoss'] as const) {
      expect(typeof fliqs[name], name).toBe('function');
    }
  });
});
