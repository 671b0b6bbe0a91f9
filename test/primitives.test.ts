// The autograd primitives (broadcastTo, add, sub, mul, scale, exp, log, sum, mean, reshape, flatten,
// transpose, slice, concat) and the ops composed from them (softplus, sigmoid, tanh, mseLoss): forward
// values against plain index-arithmetic references, gradients against finite differences
// (gradcheck-helpers.ts), on random shapes (fast-check: ranks 1–4, dims 1–5) and values.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import {
  Tensor, stepScope, noGrad, broadcastTo, add, sub, mul, scale, exp, log, sum, mean, reshape, flatten, transpose, slice, concat,
  softplus, sigmoid, tanh, mseLoss,
} from '../src/autograd/index.js';
import { gradcheck, leaf } from './gradcheck-helpers.js';

const RUNS = 20;
const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 });
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Multi-index of flat index i in shape (row-major), by division: independent of the code under test. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { idx[d] = i % shape[d]!; i = Math.floor(i / shape[d]!); }
  return idx;
}
const ravel = (idx: readonly number[], shape: readonly number[]): number => idx.reduce((a, v, d) => a * shape[d]! + v, 0);

/** The flat index in `inShape` that NumPy broadcasting reads for output multi-index idx. */
function broadcastRead(idx: readonly number[], inShape: readonly number[]): number {
  const off = idx.length - inShape.length;
  return ravel(inShape.map((d, k) => (d === 1 ? 0 : idx[k + off]!)), inShape);
}

/** Runs fn with kept leaves, freeing them afterwards. */
function withLeaves<T>(shapes: number[][], seed: number, fn: (ts: Tensor[], rng: Rng) => T, gen?: Parameters<typeof leaf>[2]): T {
  const rng = new Rng(seed);
  const ts = shapes.map((s) => leaf(s, rng, gen));
  try { return fn(ts, rng); } finally { for (const t of ts) t.free(); }
}

/** A shape that broadcasts to s: some leading dims dropped, some others set to 1. */
const broadcastable = (s: number[]): fc.Arbitrary<number[]> =>
  fc.tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }))
    .map(([drop, ones]) => s.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

describe('elementwise primitives, broadcasting', () => {
  it('add, sub, mul: values equal the broadcast reference; gradients match finite differences', () => {
    const arb = shapeArb.chain((s) => fc.tuple(broadcastable(s), broadcastable(s), fc.integer({ min: 0, max: 1e6 })));
    fc.assert(fc.property(arb, ([sa, sb, seed]) => withLeaves([sa, sb], seed, ([a, b]) => {
      const ops = { add: [add, (u: number, v: number) => u + v], sub: [sub, (u: number, v: number) => u - v], mul: [mul, (u: number, v: number) => u * v] } as const;
      for (const [name, [op, ref]] of Object.entries(ops)) {
        stepScope(() => {
          const y = noGrad(() => op(a!, b!)), av = a!.data.slice(), bv = b!.data.slice(), yv = y.data;
          const outShape = y.shape;
          expect(outShape).toEqual(Array.from({ length: Math.max(sa.length, sb.length) }, (_, k) =>
            Math.max(sa[sa.length - outShape.length + k] ?? 1, sb[sb.length - outShape.length + k] ?? 1)));
          for (let i = 0; i < y.size; i++) {
            const idx = unravel(i, outShape);
            expect(yv[i]).toBe(Math.fround(ref(av[broadcastRead(idx, sa)]!, bv[broadcastRead(idx, sb)]!)));
          }
        });
        gradcheck(() => op(a!, b!), [a!, b!], { label: `${name} ${JSON.stringify([sa, sb])}` });
      }
    })), { numRuns: RUNS });
  });

  it('broadcastTo repeats values and sums the gradient back', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), broadcastable(s), fc.integer({ min: 0, max: 1e6 })));
    fc.assert(fc.property(arb, ([s, sx, seed]) => withLeaves([sx], seed, ([x]) => {
      stepScope(() => {
        const y = noGrad(() => broadcastTo(x!, s)), xv = x!.data.slice(), yv = y.data;
        for (let i = 0; i < y.size; i++) expect(yv[i]).toBe(xv[broadcastRead(unravel(i, s), sx)]);
      });
      gradcheck(() => broadcastTo(x!, s), [x!], { label: `broadcastTo ${JSON.stringify([sx, s])}` });
    })), { numRuns: RUNS });
  });

  it('scale, exp, log: values vs Math (exp within 1 ulp), gradients match finite differences', () => {
    const arb = fc.tuple(shapeArb, fc.integer({ min: 0, max: 1e6 }), fc.double({ min: -3, max: 3, noNaN: true }));
    fc.assert(fc.property(arb, ([s, seed, k]) => {
      withLeaves([s], seed, ([x]) => {
        stepScope(() => {
          const xv = x!.data.slice(), ys = noGrad(() => scale(x!, k)).data.slice(), ye = noGrad(() => exp(x!)).data.slice();
          xv.forEach((v, i) => {
            expect(ys[i]).toBe(Math.fround(Math.fround(k) * v));
            const want = Math.exp(v);
            expect(Math.abs(ye[i]! - want)).toBeLessThanOrEqual(2 ** -23 * want);
          });
        });
        gradcheck(() => scale(x!, k), [x!], { label: 'scale' });
        gradcheck(() => exp(x!), [x!], { label: 'exp' });
      });
      withLeaves([s], seed, ([x]) => {
        stepScope(() => {
          const xv = x!.data.slice(), yl = noGrad(() => log(x!)).data;
          xv.forEach((v, i) => expect(yl[i]).toBe(Math.fround(Math.log(v))));
        });
        gradcheck(() => log(x!), [x!], { label: 'log' });
      }, (r) => 0.5 + 1.5 * r.uniform());
    }), { numRuns: RUNS });
  });

  it('log of 0 is −Infinity, of a negative NaN (as Math.log)', () => {
    stepScope(() => expect(Array.from(log(Tensor.from([0, -1, 1], [3])).data)).toEqual([-Infinity, NaN, 0]));
  });
});

describe('reductions', () => {
  it('sum and mean over an axis (keepDim or not) or everything: values vs reference, gradients', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.option(fc.integer({ min: -s.length, max: s.length - 1 }), { nil: undefined }),
      fc.boolean(), fc.integer({ min: 0, max: 1e6 })));
    fc.assert(fc.property(arb, ([s, axis, keepDim, seed]) => withLeaves([s], seed, ([x]) => {
      const a = axis === undefined ? -1 : (axis + s.length) % s.length;
      const kept = a < 0 ? s.map(() => 1) : s.map((d, i) => (i === a ? 1 : d));
      const want = new Float64Array(size(kept)), count = size(s) / size(kept);
      const xv = x!.data.slice();
      xv.forEach((v, i) => { const j = ravel(unravel(i, s).map((q, d) => (kept[d] === 1 ? 0 : q)), kept); want[j] = want[j]! + v; });
      const shape = a < 0 ? [1] : keepDim ? kept : kept.filter((_, i) => i !== a);
      stepScope(() => {
        const ys = noGrad(() => sum(x!, axis, keepDim)), ym = noGrad(() => mean(x!, axis, keepDim));
        expect(ys.shape).toEqual(shape.length ? shape : [1]);
        expect(ym.shape).toEqual(ys.shape);
        want.forEach((w, j) => {
          expect(ys.data[j]).toBe(Math.fround(w));
          expect(Math.abs(ym.data[j]! - w / count)).toBeLessThanOrEqual(2 ** -22 * Math.abs(w / count) + 1e-12);
        });
      });
      gradcheck(() => sum(x!, axis, keepDim), [x!], { label: `sum ${JSON.stringify([s, axis, keepDim])}` });
      gradcheck(() => mean(x!, axis, keepDim), [x!], { label: `mean ${JSON.stringify([s, axis, keepDim])}` });
    })), { numRuns: RUNS });
  });
});

describe('data movement', () => {
  it('reshape (to the reversed dims, and with -1) and flatten are views: same values, gradients', () => {
    fc.assert(fc.property(shapeArb, fc.integer({ min: 0, max: 1e6 }), (s, seed) => withLeaves([s], seed, ([x]) => {
      const rev = [...s].reverse();
      stepScope(() => {
        const y = noGrad(() => reshape(x!, rev)), z = noGrad(() => reshape(x!, [-1, s[s.length - 1]!]));
        expect([y.shape, z.shape]).toEqual([rev, [size(s) / s[s.length - 1]!, s[s.length - 1]!]]);
        expect(Array.from(y.data)).toEqual(Array.from(x!.data));
        expect(z.storage).toBe(x!.storage);
      });
      gradcheck(() => reshape(x!, rev), [x!], { label: `reshape ${JSON.stringify([s, rev])}` });
      if (s.length > 1) gradcheck(() => flatten(x!), [x!], { label: `flatten ${JSON.stringify(s)}` });
    })), { numRuns: RUNS });
  });

  it('transpose by a random permutation (and the default reversal): values, gradients', () => {
    const arb = fc.tuple(shapeArb, fc.integer({ min: 0, max: 1e6 }), fc.boolean());
    fc.assert(fc.property(arb, ([s, seed, dflt]) => withLeaves([s], seed, ([x], rng) => {
      const perm = dflt ? s.map((_, d) => s.length - 1 - d) : rng.shuffle(s.map((_, d) => d)) as number[];
      const out = perm.map((d) => s[d]!), xv = x!.data.slice();
      stepScope(() => {
        const y = noGrad(() => (dflt ? transpose(x!) : transpose(x!, perm)));
        expect(y.shape).toEqual(out);
        for (let i = 0; i < y.size; i++) {
          const o = unravel(i, out), src = new Array<number>(s.length);
          perm.forEach((d, k) => { src[d] = o[k]!; });
          expect(y.data[i]).toBe(xv[ravel(src, s)]);
        }
      });
      gradcheck(() => transpose(x!, perm), [x!], { label: `transpose ${JSON.stringify([s, perm])}` });
    })), { numRuns: RUNS });
  });

  it('slice along a random axis: values, gradients (zero outside the slice)', () => {
    const arb = shapeArb.chain((s) => fc.integer({ min: 0, max: s.length - 1 }).chain((a) =>
      fc.tuple(fc.constant(s), fc.constant(a), fc.integer({ min: 0, max: s[a]! - 1 }), fc.integer({ min: 1, max: s[a]! }), fc.integer({ min: 0, max: 1e6 }))));
    fc.assert(fc.property(arb, ([s, a, p, q, seed]) => withLeaves([s], seed, ([x]) => {
      const start = Math.min(p, q - 1), end = Math.max(q, start + 1), out = s.map((d, i) => (i === a ? end - start : d));
      const xv = x!.data.slice();
      stepScope(() => {
        const y = noGrad(() => slice(x!, a - s.length, start, end));
        expect(y.shape).toEqual(out);
        for (let i = 0; i < y.size; i++) {
          const idx = unravel(i, out);
          idx[a] = idx[a]! + start;
          expect(y.data[i]).toBe(xv[ravel(idx, s)]);
        }
      });
      gradcheck(() => slice(x!, a, start, end), [x!], { label: `slice ${JSON.stringify([s, a, start, end])}` });
    })), { numRuns: RUNS });
  });

  it('concat of 1–3 tensors along a random axis: values, gradients', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 1e6 })));
    fc.assert(fc.property(arb, ([s, a, lens, seed]) => {
      const shapes = lens.map((L) => s.map((d, i) => (i === a ? L : d)));
      withLeaves(shapes, seed, (ts) => {
        const out = s.map((d, i) => (i === a ? lens.reduce((u, v) => u + v, 0) : d)), vals = ts.map((t) => t.data.slice());
        stepScope(() => {
          const y = noGrad(() => concat(ts, a));
          expect(y.shape).toEqual(out);
          for (let i = 0; i < y.size; i++) {
            const idx = unravel(i, out);
            let k = 0;
            while (idx[a]! >= lens[k]!) { idx[a] = idx[a]! - lens[k]!; k++; }
            expect(y.data[i]).toBe(vals[k]![ravel(idx, shapes[k]!)]);
          }
        });
        gradcheck(() => concat(ts, a), ts, { label: `concat ${JSON.stringify([shapes, a])}` });
      });
    }), { numRuns: RUNS });
  });
});

describe('composed from the primitives', () => {
  // Error bounds derived in composed.ts terms: softplus(−x) carries ≈ 2e-7 absolute + 6e-8 relative
  // error (exp and log rounding), so sigmoid = exp(−softplus(−x)) is within ≈ 4e-7 + 1.2e-7·|x| relative;
  // the bounds below are twice that.
  const sigmoidBound = (x: number): number => 8e-7 + 2.4e-7 * Math.abs(x);

  it('sigmoid, tanh, softplus: values vs Math, gradients vs finite differences', () => {
    const arb = fc.tuple(shapeArb, fc.integer({ min: 0, max: 1e6 }));
    fc.assert(fc.property(arb, ([s, seed]) => withLeaves([s], seed, ([x]) => {
      const xv = x!.data.slice();
      stepScope(() => {
        const sg = noGrad(() => sigmoid(x!)).data.slice(), th = noGrad(() => tanh(x!)).data.slice(), sp = noGrad(() => softplus(x!)).data.slice();
        xv.forEach((v, i) => {
          const ws = 1 / (1 + Math.exp(-v));
          expect(Math.abs(sg[i]! - ws)).toBeLessThanOrEqual(sigmoidBound(v) * ws);
          expect(Math.abs(th[i]! - Math.tanh(v))).toBeLessThanOrEqual(2 * sigmoidBound(2 * v) + 2 ** -24);
          const wp = Math.log1p(Math.exp(v));
          expect(Math.abs(sp[i]! - wp)).toBeLessThanOrEqual(4e-7 + 1.2e-7 * wp);
        });
      });
      gradcheck(() => sigmoid(x!), [x!], { label: 'sigmoid' });
      gradcheck(() => tanh(x!), [x!], { label: 'tanh' });
      gradcheck(() => softplus(x!), [x!], { label: 'softplus' });
    }, (r) => 8 * (2 * r.uniform() - 1))), { numRuns: RUNS });
  });

  it('sigmoid and tanh saturate exactly at ±1e30, with zero (finite) gradients; near 0 and ±50 they match Math', () => {
    const xs = [-1e30, -50, 0, 50, 1e30];
    const x = Tensor.from(xs, [5], { requiresGrad: true, keep: true });
    const cases = [
      [sigmoid, (v: number) => 1 / (1 + Math.exp(-v)), (v: number) => sigmoidBound(v), [0, 1]],
      [tanh, Math.tanh, (v: number) => 2 * sigmoidBound(2 * v) + 2 ** -24, [-1, 1]],
    ] as const;
    for (const [f, ref, bound, [lo, hi]] of cases) {
      x.zeroGrad();
      stepScope(() => {
        const y = f(x);
        y.backward([1, 1, 1, 1, 1]);
        expect([y.data[0], y.data[4]]).toEqual([lo, hi]);
        for (const i of [1, 2, 3]) expect(Math.abs(y.data[i]! - ref(xs[i]!))).toBeLessThanOrEqual(bound(xs[i]!) * Math.max(Math.abs(ref(xs[i]!)), 1e-30));
        const g = Array.from(x.gradData!);
        expect(g.every(Number.isFinite)).toBe(true);
        expect([Math.abs(g[0]!), Math.abs(g[4]!)]).toEqual([0, 0]);
        const d0 = f === sigmoid ? 0.25 : 1; // σ′(0) = 1/4, tanh′(0) = 1
        expect(Math.abs(g[2]! - d0)).toBeLessThanOrEqual(4 * sigmoidBound(0));
      });
    }
    x.zeroGrad();
    stepScope(() => softplus(x).backward([0, 0, 1, 0, 0]));
    expect(x.gradData![2]).toBe(0.5);
    x.free();
  });

  it('mseLoss: the mean of squared differences; gradients w.r.t. pred and target', () => {
    fc.assert(fc.property(fc.tuple(shapeArb, fc.integer({ min: 0, max: 1e6 })), ([s, seed]) => withLeaves([s, s], seed, ([p, t]) => {
      const pv = p!.data.slice(), tv = t!.data.slice();
      let want = 0;
      pv.forEach((v, i) => { want += (v - tv[i]!) ** 2; });
      want /= pv.length;
      stepScope(() => {
        const l = noGrad(() => mseLoss(p!, t!));
        expect(l.shape).toEqual([1]);
        expect(Math.abs(l.item() - want)).toBeLessThanOrEqual(1e-6 * want + 1e-12);
      });
      gradcheck(() => mseLoss(p!, t!), [p!, t!], { label: 'mseLoss' });
    })), { numRuns: RUNS });
  });
});

describe('bad input', () => {
  it('throws FliqsError naming the shapes, axes and ranges', () => {
    stepScope(() => {
      const a = Tensor.zeros([2, 3]), b = Tensor.zeros([4, 5]);
      expect(() => add(a, b)).toThrow(/\[2, 3\] and \[4, 5\] do not broadcast/);
      expect(() => mul(a, Tensor.zeros([2]))).toThrow(FliqsError);
      expect(() => broadcastTo(a, [3])).toThrow(/cannot be repeated/);
      expect(() => sum(a, 2)).toThrow(/axis.*from -2 to 1/);
      expect(() => transpose(a, [0, 0])).toThrow(/permutation of 0\.\.1/);
      expect(() => slice(a, 1, 2, 2)).toThrow(/0 ≤ start < end ≤ 3/);
      expect(() => concat([a, b], 0)).toThrow(/xs\[1\] \[4, 5\] does not match/);
      expect(() => concat([], 0)).toThrow(/non-empty/);
      expect(() => scale(a, Infinity)).toThrow(/finite/);
      expect(() => mseLoss(a, Tensor.zeros([3, 2]))).toThrow(/same shape/);
    });
  });
});
