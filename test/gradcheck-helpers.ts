// Finite-difference gradient checks for autograd ops and nn layers (shared by autograd/nn tests).
// Method: central differences on the op's OWN forward in f32, of the f64 projection L = Σ r_i·y_i with a
// fixed random r, against the analytic gradient from backward(r). The step h = 1e-2 makes the f32
// rounding in L (≈ 6e-8·√n·|y|) contribute ≲ 1e-4 after dividing by 2h, and the truncation error
// (h²/6·|f'''|) ≲ 2e-5 for the smooth ops; inputs are kept ≥ 2h away from kinks (ReLU, max-pool ties).
// Tolerance: |fd − analytic| ≤ atol + rtol·|fd| with atol = 2e-3, rtol = 1e-2 unless stated.

import { expect } from 'vitest';
import { Rng } from '../src/core/random.js';
import { Tensor, noGrad, stepScope } from '../src/autograd/tensor.js';

export interface CheckOptions { h?: number; atol?: number; rtol?: number; samples?: number; seed?: number; label?: string }

/** A kept tensor that requires a grad, values from gen (default U(-1, 1)). */
export function leaf(shape: number[], rng: Rng, gen: (rng: Rng, i: number) => number = (r) => 2 * r.uniform() - 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(Float32Array.from({ length: n }, (_, i) => gen(rng, i)), shape, { requiresGrad: true, keep: true });
}

/** Values with |x| ≥ 0.1 (away from ReLU's kink). */
export const awayFromZero = (r: Rng): number => (r.uniform() < 0.5 ? -1 : 1) * (0.1 + r.uniform());

/** Checks d(Σ r·f())/d t for every t in wrt on up to `samples` coordinates each. */
export function gradcheck(f: () => Tensor, wrt: Tensor[], o: CheckOptions = {}): number {
  const h = o.h ?? 1e-2, atol = o.atol ?? 2e-3, rtol = o.rtol ?? 1e-2, samples = o.samples ?? 24;
  const rng = new Rng(o.seed ?? 7);
  for (const t of wrt) t.zeroGrad();
  let r: Float64Array = new Float64Array(0);
  const an = stepScope(() => {
    const y = f();
    r = Float64Array.from({ length: y.size }, () => 2 * rng.uniform() - 1);
    y.backward(Float32Array.from(r));
    return wrt.map((t) => (t.gradData ? t.gradData.slice() : new Float32Array(t.size)));
  });
  const L = (): number => stepScope(() => noGrad(() => {
    const y = f().data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += r[i]! * y[i]!;
    return s;
  }));
  let worst = 0;
  wrt.forEach((t, k) => {
    const idx = t.size <= samples ? [...Array(t.size).keys()] : Array.from({ length: samples }, () => rng.int(t.size));
    for (const i of idx) {
      const v = t.data[i]!;
      const up = Math.fround(v + h), dn = Math.fround(v - h);
      t.data[i] = up; const lp = L();
      t.data[i] = dn; const lm = L();
      t.data[i] = v;
      const fd = (lp - lm) / (up - dn), a = an[k]![i]!;
      const err = Math.abs(fd - a);
      worst = Math.max(worst, err / (atol + rtol * Math.abs(fd)));
      if (err > atol + rtol * Math.abs(fd)) {
        expect.fail(`${o.label ?? 'gradcheck'}: input ${k} [${t.shape}] index ${i}: analytic ${a}, finite difference ${fd}`);
      }
    }
  });
  return worst;
}
