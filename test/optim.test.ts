// Optimizers against hand-written scalar references of PyTorch's update rules (10 random steps, random
// hyper-parameters, parameters as plain Float32Arrays and as WasmF32 on both module variants), known
// one-step values, convergence on a quadratic, Adam vs AdamW decay, exact resume from a state dict,
// memory.grow between steps, LR schedules, and bad input → FliqsError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { createRuntime, type Runtime, type WasmF32 } from '../src/core/runtime.js';
import {
  Adam, AdamW, RMSProp, SGD, constant, cosine, exponential, parseSchedule, withWarmup,
  type Optimizer, type ParamBuffers, type ParamGroup,
} from '../src/optim/index.js';
import { randArray } from './quant-helpers.js';

const STEPS = 10;
const runtimes: Runtime[] = [await createRuntime('simd'), await createRuntime('relaxed')];
const f = Math.fround;

/** Seeded uniform values in [lo, hi); about 1 in 16 is exactly 0 (the zero-gradient paths). */
const rand = (seed: number, n: number, lo = -3, hi = 3): Float32Array => randArray(seed, n, lo, hi, { zeros: true });

// ---------------------------------------------------------------------------------------------
// Scalar references: PyTorch's per-element rules written out, state held as f32 values (fround after
// each tensor op that PyTorch would store), independent of src/optim.

type Hyper = Record<string, number | boolean>;
interface RefState { [k: string]: number[] }
type RefStep = (p: number[], g: number[], st: RefState, h: Hyper, lr: number, t: number, decay: boolean) => void;

const refSGD: RefStep = (p, g, st, h, lr, t, decay) => {
  const mu = h.momentum as number, damp = h.dampening as number, wd = decay ? (h.weightDecay as number) : 0;
  st.buf ??= p.map(() => 0);
  for (let j = 0; j < p.length; j++) {
    let d = f(g[j]! + wd * p[j]!);
    if (mu !== 0) {
      st.buf[j] = t === 1 ? d : f(f(mu * st.buf[j]!) + f((1 - damp) * d));
      d = h.nesterov ? f(d + mu * st.buf[j]!) : st.buf[j]!;
    }
    p[j] = f(p[j]! - lr * d);
  }
};

function refAdam(decoupled: boolean): RefStep {
  return (p, g, st, h, lr, t, decay) => {
    const b1 = h.beta1 as number, b2 = h.beta2 as number, eps = h.eps as number, wd = decay ? (h.weightDecay as number) : 0;
    st.m ??= p.map(() => 0);
    st.v ??= p.map(() => 0);
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    for (let j = 0; j < p.length; j++) {
      if (decoupled) p[j] = f(p[j]! * (1 - lr * wd));
      const gj = decoupled ? g[j]! : f(g[j]! + wd * p[j]!);
      st.m[j] = f(st.m[j]! + (1 - b1) * (gj - st.m[j]!)); // torch: exp_avg.lerp_(grad, 1 − β1)
      st.v[j] = f(b2 * st.v[j]! + (1 - b2) * gj * gj);
      const denom = Math.sqrt(st.v[j]!) / Math.sqrt(bc2) + eps;
      p[j] = f(p[j]! - (lr / bc1) * (st.m[j]! / denom));
    }
  };
}

const refRMSProp: RefStep = (p, g, st, h, lr, _t, decay) => {
  const a = h.alpha as number, eps = h.eps as number, mu = h.momentum as number, wd = decay ? (h.weightDecay as number) : 0;
  st.sq ??= p.map(() => 0);
  st.ga ??= p.map(() => 0);
  st.buf ??= p.map(() => 0);
  for (let j = 0; j < p.length; j++) {
    const gj = f(g[j]! + wd * p[j]!);
    st.sq[j] = f(a * st.sq[j]! + (1 - a) * gj * gj);
    let avg: number;
    if (h.centered) {
      st.ga[j] = f(a * st.ga[j]! + (1 - a) * gj);
      avg = Math.sqrt(Math.max(0, st.sq[j]! - st.ga[j]! * st.ga[j]!)) + eps;
    } else {
      avg = Math.sqrt(st.sq[j]!) + eps;
    }
    if (mu > 0) {
      st.buf[j] = f(mu * st.buf[j]! + gj / avg);
      p[j] = f(p[j]! - lr * st.buf[j]!);
    } else {
      p[j] = f(p[j]! - lr * (gj / avg));
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Cases: an optimizer kind, its hyper-parameter arbitrary, how to build it, and its reference.

interface Case {
  name: string;
  hyper: fc.Arbitrary<Hyper>;
  make: (params: ParamGroup[], h: Hyper, lr: number, rt: Runtime) => Optimizer;
  ref: RefStep;
  /**
   * How much the step of element j amplifies relative rounding errors in the state, from the reference state
   * after the step (default 0: no cancellation). Centered RMSProp divides by √(v − ḡ²): its error grows by
   * (v + ḡ²)/(v − ḡ²), which is unbounded when the gradients barely vary.
   */
  conditioning?: (st: RefState, h: Hyper, j: number) => number;
}

const unit = (max: number) => fc.double({ min: 0, max, noNaN: true });
const lrArb = fc.double({ min: 1e-4, max: 0.5, noNaN: true });
const epsArb = fc.constantFrom(1e-8, 1e-6, 1e-3, 0.1);

const CASES: Case[] = [
  {
    name: 'SGD',
    hyper: fc.record({ momentum: fc.oneof(fc.constant(0), unit(0.99)), dampening: fc.oneof(fc.constant(0), unit(0.9)),
      nesterov: fc.boolean(), weightDecay: fc.oneof(fc.constant(0), unit(0.1)) })
      .map((h) => (h.nesterov ? { ...h, dampening: 0, momentum: h.momentum || 0.5 } : h)),
    make: (ps, h, lr, rt) => new SGD(ps, { lr, momentum: h.momentum as number, dampening: h.dampening as number,
      nesterov: h.nesterov as boolean, weightDecay: h.weightDecay as number }, rt),
    ref: refSGD,
  },
  {
    name: 'Adam',
    hyper: fc.record({ beta1: unit(0.99), beta2: unit(0.9999), eps: epsArb, weightDecay: fc.oneof(fc.constant(0), unit(0.1)) }),
    make: (ps, h, lr, rt) => new Adam(ps, { lr, betas: [h.beta1 as number, h.beta2 as number], eps: h.eps as number, weightDecay: h.weightDecay as number }, rt),
    ref: refAdam(false),
  },
  {
    name: 'AdamW',
    hyper: fc.record({ beta1: unit(0.99), beta2: unit(0.9999), eps: epsArb, weightDecay: fc.oneof(fc.constant(0), unit(0.5)) }),
    make: (ps, h, lr, rt) => new AdamW(ps, { lr, betas: [h.beta1 as number, h.beta2 as number], eps: h.eps as number, weightDecay: h.weightDecay as number }, rt),
    ref: refAdam(true),
  },
  {
    name: 'RMSProp',
    hyper: fc.record({ alpha: fc.double({ min: 0.5, max: 0.999, noNaN: true }), eps: epsArb, momentum: fc.oneof(fc.constant(0), unit(0.95)),
      centered: fc.boolean(), weightDecay: fc.oneof(fc.constant(0), unit(0.1)) }),
    make: (ps, h, lr, rt) => new RMSProp(ps, { lr, alpha: h.alpha as number, eps: h.eps as number, momentum: h.momentum as number,
      centered: h.centered as boolean, weightDecay: h.weightDecay as number }, rt),
    ref: refRMSProp,
    conditioning: (st, h, j) => {
      if (!h.centered) return 0;
      const v = st.sq![j]!, g2 = st.ga![j]! ** 2;
      return (v + g2) / Math.max(v - g2, 1e-300);
    },
  },
];

/** Where the test keeps parameters: plain Float32Arrays, or WasmF32 on one of the runtimes. */
type Home = { label: string; rt: Runtime; wasm: boolean };
const HOMES: Home[] = [
  { label: 'Float32Array', rt: runtimes[0]!, wasm: false },
  ...runtimes.map((rt) => ({ label: `WasmF32/${rt.variant}`, rt, wasm: true })),
];

/** Builds two parameters (the second excluded from weight decay) with their gradient buffers. */
class Setup {
  readonly params: ParamBuffers[];
  private owned: WasmF32[] = [];
  constructor(readonly home: Home, init: Float32Array[]) {
    this.params = init.map((x, i) => ({
      param: this.buf(x), grad: this.buf(new Float32Array(x.length)), name: `w${i}`, weightDecay: i === 0,
    }));
  }
  private buf(x: Float32Array): Float32Array | WasmF32 {
    if (!this.home.wasm) return x.slice();
    const b = this.home.rt.copyIn(x);
    this.owned.push(b);
    return b;
  }
  arr(x: Float32Array | WasmF32): Float32Array { return x instanceof Float32Array ? x : x.array; }
  setGrads(gs: Float32Array[]): void { gs.forEach((g, i) => this.arr(this.params[i]!.grad).set(g)); }
  values(): Float32Array[] { return this.params.map((p) => this.arr(p.param).slice()); }
  free(): void { for (const b of this.owned) b.free(); this.owned = []; }
}

describe.each(CASES)('$name against the PyTorch-rule scalar reference', (c) => {
  it.each(HOMES)('10 random steps, $label', (home) => {
    fc.assert(fc.property(
      c.hyper, lrArb, fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 9 }), fc.integer(), fc.double({ min: 1e-3, max: 10, noNaN: true }),
      (h, lr, n0, n1, seed, gScale) => {
        const init = [rand(seed, n0), rand(seed + 1, n1)];
        const s = new Setup(home, init);
        const opt = c.make(s.params, h, lr, home.rt);
        try {
          const ref = init.map((x) => Array.from(x));
          const st: RefState[] = init.map(() => ({}));
          // Error bound: each step's f32 roundings are ≲ 1e-7 relative to the values involved, and the
          // SIMD path (scale then axpy, FMA in relaxed) rounds in another order, so the difference is
          // bounded by 1e-6 · (|p| + Σ_t |Δp_t|) per element. Where a step divides by a difference of
          // state values (centered RMSProp), the state's relative differences — a few f32 roundings per step,
          // accumulated over t steps — grow by that difference's conditioning κ_t, and half of that reaches
          // the step through the square root: add 4e-7 · Σ_t |Δp_t| · t · κ_t (3 roundings of 2⁻²⁴ ≈ 1.8e-7,
          // halved, with a 4× margin).
          const travel = init.map((x) => Array.from(x, Math.abs));
          const amplified = init.map((x) => Array.from(x, () => 0));
          for (let t = 1; t <= STEPS; t++) {
            const lrT = lr * (1 - (t - 1) / (2 * STEPS)); // also exercise the lr setter
            opt.lr = lrT;
            const gs = init.map((x, i) => rand(seed * 31 + t * 7 + i, x.length, -gScale, gScale));
            s.setGrads(gs);
            opt.step();
            ref.forEach((p, i) => {
              const before = p.slice();
              c.ref(p, Array.from(gs[i]!), st[i]!, h, lrT, t, i === 0);
              p.forEach((v, j) => {
                const step = Math.abs(v - before[j]!);
                travel[i]![j] = travel[i]![j]! + step;
                amplified[i]![j] = amplified[i]![j]! + step * t * (c.conditioning?.(st[i]!, h, j) ?? 0);
              });
            });
            const got = s.values();
            got.forEach((g, i) => g.forEach((v, j) => {
              const want = ref[i]![j]!, tol = 1e-6 * (Math.abs(want) + travel[i]![j]!) + 4e-7 * amplified[i]![j]!;
              if (!(Math.abs(v - want) <= tol)) {
                throw new Error(`${c.name} ${home.label} step ${t} w${i}[${j}]: got ${v}, reference ${want}, tol ${tol}; ` +
                  `hyper ${JSON.stringify(h)} lr ${lr} seed ${seed}`);
              }
            }));
          }
        } finally {
          opt.dispose();
          s.free();
        }
      }), { numRuns: 40 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('one step, values computed by hand', () => {
  const one = (make: (ps: ParamGroup[]) => Optimizer, p: number[], g: number[]): number[] => {
    const param = new Float32Array(p), grad = new Float32Array(g);
    const opt = make([{ param, grad }]);
    opt.step();
    opt.dispose();
    return Array.from(param);
  };

  it('SGD: plain, weight decay, momentum, Nesterov', () => {
    // p = 1, g = 0.5, lr 0.1: p − 0.1·0.5 = 0.95
    expect(one((ps) => new SGD(ps, { lr: 0.1 }), [1], [0.5])[0]).toBeCloseTo(0.95, 7);
    // wd 0.1: g = 0.5 + 0.1·1 = 0.6 → 1 − 0.06 = 0.94
    expect(one((ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.1 }), [1], [0.5])[0]).toBeCloseTo(0.94, 7);
    // momentum 0.9, first step: buf = g = 0.5 → 0.95 (same as plain)
    expect(one((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), [1], [0.5])[0]).toBeCloseTo(0.95, 7);
    // Nesterov first step: buf = 0.5, g' = 0.5 + 0.9·0.5 = 0.95 → 1 − 0.095 = 0.905
    expect(one((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }), [1], [0.5])[0]).toBeCloseTo(0.905, 7);
  });

  it('SGD momentum, second step on the SIMD path', () => {
    // step 1: buf = 0.5, p = 0.95; step 2 (g = 0.5): buf = 0.9·0.5 + 0.5 = 0.95, p = 0.95 − 0.095 = 0.855
    for (const rt of runtimes) {
      const param = rt.copyIn([1, 1, 1, 1, 1]), grad = rt.copyIn([0.5, 0.5, 0.5, 0.5, 0.5]);
      const opt = new SGD([{ param, grad }], { lr: 0.1, momentum: 0.9 }, rt);
      opt.step();
      opt.step();
      for (const v of param.array) expect(v).toBeCloseTo(0.855, 6);
      opt.dispose();
      param.free();
      grad.free();
    }
  });

  it('Adam and AdamW', () => {
    // Adam step 1: m = 0.1·0.5, v = 0.001·0.25; m̂ = 0.5, v̂ = 0.25; p = 1 − 0.1·0.5/(0.5 + 1e-8) ≈ 0.9
    expect(one((ps) => new Adam(ps, { lr: 0.1 }), [1], [0.5])[0]).toBeCloseTo(0.9, 6);
    // Adam, g = 0.002, eps 0.002: m̂ = 0.002, √v̂ = 0.002 → p = 1 − 0.1·0.002/0.004 = 0.95
    expect(one((ps) => new Adam(ps, { lr: 0.1, eps: 0.002 }), [1], [0.002])[0]).toBeCloseTo(0.95, 6);
    // AdamW wd 0.5: p = 1·(1 − 0.05) = 0.95, then − 0.1·0.5/0.5 → 0.85
    expect(one((ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0.5 }), [1], [0.5])[0]).toBeCloseTo(0.85, 6);
  });

  it('RMSProp, plain and centered', () => {
    // v = 0.01·0.25 = 0.0025, √v = 0.05 → p = 1 − 0.01·0.5/0.05 = 0.9
    expect(one((ps) => new RMSProp(ps, { lr: 0.01 }), [1], [0.5])[0]).toBeCloseTo(0.9, 6);
    // centered: ḡ = 0.005, v − ḡ² = 0.0025 − 0.000025 = 0.002475, √ = 0.0497494 → p = 1 − 0.005/0.0497494 = 0.8994962
    expect(one((ps) => new RMSProp(ps, { lr: 0.01, centered: true }), [1], [0.5])[0]).toBeCloseTo(0.8994962, 6);
  });
});

describe('minimizing a quadratic ½·Σ a_i (p_i − c_i)²', () => {
  const makers: Array<[string, (ps: ParamGroup[], rt: Runtime) => Optimizer, number]> = [
    ['SGD', (ps, rt) => new SGD(ps, { lr: 0.1 }, rt), 300],
    ['SGD momentum', (ps, rt) => new SGD(ps, { lr: 0.05, momentum: 0.9 }, rt), 300],
    ['SGD Nesterov', (ps, rt) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }, rt), 300],
    ['Adam', (ps, rt) => new Adam(ps, { lr: 0.05 }, rt), 1500],
    ['AdamW (wd 0)', (ps, rt) => new AdamW(ps, { lr: 0.05, weightDecay: 0 }, rt), 1500],
    ['RMSProp', (ps, rt) => new RMSProp(ps, { lr: 0.003, momentum: 0.5 }, rt), 1500],
    ['RMSProp centered', (ps, rt) => new RMSProp(ps, { lr: 0.003, centered: true }, rt), 1500],
  ];
  it.each(makers)('%s converges', (_name, make, steps) => {
    const n = 13, a = rand(5, n, 0.5, 2), c = rand(6, n, -2, 2);
    const rt = runtimes[1]!;
    const param = rt.copyIn(rand(7, n, -3, 3)), grad = rt.allocF32(n);
    const opt = make([{ param, grad }], rt);
    // Adam-type steps have magnitude ≈ lr near the optimum, so the lr decays to let them settle.
    const sched = cosine(opt.lr, steps, opt.lr / 100);
    const loss = (): number => param.array.reduce((s, p, i) => s + 0.5 * a[i]! * (p - c[i]!) ** 2, 0);
    const start = loss();
    for (let t = 0; t < steps; t++) {
      opt.lr = sched(t);
      const p = param.array, g = grad.array;
      for (let i = 0; i < n; i++) g[i] = a[i]! * (p[i]! - c[i]!);
      opt.step();
    }
    expect(loss()).toBeLessThan(1e-4 * start);
    param.array.forEach((p, i) => expect(Math.abs(p - c[i]!)).toBeLessThan(0.02));
    opt.dispose();
    param.free();
    grad.free();
  });
});

describe('weight decay: Adam (L2 in the gradient) vs AdamW (decoupled)', () => {
  it('with a zero gradient, Adam normalizes the decay into a step of ≈ lr, AdamW shrinks by lr·wd', () => {
    const run = (make: (ps: ParamGroup[]) => Optimizer): number[] => {
      const param = new Float32Array([2, 2]), grad = new Float32Array(2);
      const opt = make([{ param: param.subarray(0, 1), grad: grad.subarray(0, 1) }, { param: param.subarray(1), grad: grad.subarray(1), weightDecay: false }]);
      opt.step();
      opt.dispose();
      return Array.from(param);
    };
    // Adam: g = 0.01·2 = 0.02, first step is −lr·g/(|g| + eps) ≈ −0.1 → 1.9
    const adam = run((ps) => new Adam(ps, { lr: 0.1, weightDecay: 0.01 }));
    // AdamW: 2·(1 − 0.1·0.01) = 1.998 and the Adam step on g = 0 is 0
    const adamw = run((ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0.01 }));
    expect(adam[0]).toBeCloseTo(1.9, 6);
    expect(adamw[0]).toBeCloseTo(1.998, 6);
    // The parameter that opted out of decay does not move in either.
    expect(adam[1]).toBe(2);
    expect(adamw[1]).toBe(2);
  });

  it('AdamW decay is independent of the gradient scale, Adam\'s is divided by it', () => {
    // 20 steps of a gradient alternating ±gs; delta = p(without decay) − p(with decay).
    const delta = (Opt: typeof Adam | typeof AdamW, gs: number): number => {
      const end = (wd: number): number => {
        const param = new Float32Array([1]), grad = new Float32Array(1);
        const opt = new Opt([{ param, grad }], { lr: 0.01, weightDecay: wd });
        for (let t = 0; t < 20; t++) { grad[0] = t % 2 === 0 ? gs : -gs; opt.step(); }
        opt.dispose();
        return param[0]!;
      };
      return end(0) - end(0.1);
    };
    // AdamW: about Σ lr·wd·p ≈ 20·0.01·0.1 = 0.02 whatever the gradient.
    const w10 = delta(AdamW, 10), w3 = delta(AdamW, 1e-3);
    expect(w10).toBeCloseTo(0.02, 2);
    expect(w3).toBeCloseTo(0.02, 2);
    // Adam: the L2 term wd·p = 0.1 is normalized by √v̂ ≈ |g|: tiny next to g = 10 (≈ 20·lr·0.1/10 = 0.002),
    // dominant next to g = 1e-3 (every step ≈ −lr: ≈ 0.2).
    const a10 = delta(Adam, 10), a3 = delta(Adam, 1e-3);
    expect(a10).toBeLessThan(0.005);
    expect(a3).toBeGreaterThan(0.1);
  });
});

describe('state dict: resume equals the uninterrupted run, bit for bit', () => {
  const makers: Array<[string, (ps: ParamGroup[], rt: Runtime) => Optimizer]> = [
    ['SGD Nesterov + wd', (ps, rt) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, rt)],
    ['SGD dampening', (ps, rt) => new SGD(ps, { lr: 0.05, momentum: 0.8, dampening: 0.3 }, rt)],
    ['Adam', (ps, rt) => new Adam(ps, { lr: 0.01, weightDecay: 0.01 }, rt)],
    ['AdamW', (ps, rt) => new AdamW(ps, { lr: 0.01 }, rt)],
    ['RMSProp centered + momentum', (ps, rt) => new RMSProp(ps, { lr: 0.01, centered: true, momentum: 0.9 }, rt)],
  ];
  const cases = makers.flatMap(([name, make]) => HOMES.map((home) => ({ name: `${name}, ${home.label}`, make, home })));
  it.each(cases)('$name', ({ make, home }) => {
    const init = [rand(1, 19), rand(2, 4)];
    const grads = (t: number) => init.map((x, i) => rand(100 + 10 * t + i, x.length));
    const sched = cosine(0.05, 10);
    const train = (opt: Optimizer, s: Setup, from: number, to: number) => {
      for (let t = from; t < to; t++) { opt.lr = sched(t); s.setGrads(grads(t)); opt.step(); opt.zeroGrad(); }
    };

    const a = new Setup(home, init), optA = make(a.params, home.rt);
    train(optA, a, 0, 5);
    const saved = JSON.parse(JSON.stringify(optA.stateDict()));
    const paramsAt5 = a.values();
    train(optA, a, 5, 10);

    const b = new Setup(home, paramsAt5), optB = make(b.params, home.rt);
    optB.loadStateDict(saved);
    expect(optB.stepCount).toBe(5);
    train(optB, b, 5, 10);

    expect(b.values()).toEqual(a.values());
    expect(optB.stateDict()).toEqual(optA.stateDict());
    // Sanity: the run did move the parameters, and the state is not trivially zero.
    expect(a.values()[0]).not.toEqual(init[0]);
    for (const o of [optA, optB]) o.dispose();
    a.free();
    b.free();
  });

  it('a dict from another kind, other parameters or other options is rejected and changes nothing', () => {
    const p = new Float32Array(3), g = new Float32Array([1, 2, 3]);
    const adam = new Adam([{ param: p, grad: g, name: 'w' }]);
    adam.step();
    const d = adam.stateDict();
    const sgd = new SGD([{ param: p.slice(), grad: g.slice(), name: 'w' }], { lr: 0.1, momentum: 0.9 });
    expect(() => sgd.loadStateDict(d)).toThrow(FliqsError);
    const other = new Adam([{ param: new Float32Array(4), grad: new Float32Array(4), name: 'w' }]);
    expect(() => other.loadStateDict(d)).toThrow(FliqsError);
    const renamed = new Adam([{ param: p.slice(), grad: g.slice(), name: 'v' }]);
    expect(() => renamed.loadStateDict(d)).toThrow(FliqsError);
    const fresh = new Adam([{ param: p.slice(), grad: g.slice(), name: 'w' }]);
    const broken = { ...d, state: { m: d.state.m!, v: [[1, 2]] } };
    expect(() => fresh.loadStateDict(broken)).toThrow(/stateDict\.state\.v\[0\]/);
    expect(fresh.stepCount).toBe(0);
    expect(fresh.stateDict().state.m![0]).toEqual([0, 0, 0]);
    for (const o of [adam, sgd, other, renamed, fresh]) o.dispose();
  });
});

describe('wasm memory', () => {
  it('steps stay correct when memory grows between steps (views re-resolved)', () => {
    for (const rt of runtimes) {
      const n = 21, param = rt.copyIn(rand(3, n)), grad = rt.copyIn(rand(4, n));
      const ref = new Float32Array(param.array), refGrad = new Float32Array(grad.array);
      const opt = new Adam([{ param, grad }], { lr: 0.01 }, rt);
      const refOpt = new Adam([{ param: ref, grad: refGrad }], { lr: 0.01 }, rt);
      const blocks: number[] = [];
      for (let t = 0; t < 3; t++) {
        const before = rt.memory.buffer;
        blocks.push(rt.arena.alloc(rt.arena.memoryBytes)); // forces memory.grow
        expect(rt.memory.buffer).not.toBe(before);
        opt.step();
        refOpt.step();
      }
      expect(Array.from(param.array)).toEqual(Array.from(ref));
      for (const b of blocks) rt.arena.free(b);
      opt.dispose();
      refOpt.dispose();
      param.free();
      grad.free();
    }
  });

  it('dispose frees the state; a disposed optimizer refuses to step', () => {
    const rt = runtimes[0]!;
    const live = rt.arena.liveBlocks;
    const opt = new RMSProp([{ param: new Float32Array(10), grad: new Float32Array(10) }, { param: new Float32Array(3), grad: new Float32Array(3) }],
      { centered: true, momentum: 0.9 }, rt);
    expect(rt.arena.liveBlocks).toBe(live + 6);
    opt.dispose();
    expect(rt.arena.liveBlocks).toBe(live);
    opt.dispose();
    expect(() => opt.step()).toThrow(FliqsError);
    expect(() => opt.stateDict()).toThrow(FliqsError);
  });

  it('zeroGrad zeroes every gradient', () => {
    const rt = runtimes[1]!;
    const g1 = rt.copyIn([1, 2, 3]), g2 = new Float32Array([4, 5]);
    const opt = new SGD([{ param: rt.allocF32(3), grad: g1 }, { param: new Float32Array(2), grad: g2 }], { lr: 0.1 }, rt);
    opt.zeroGrad();
    expect(Array.from(g1.array)).toEqual([0, 0, 0]);
    expect(Array.from(g2)).toEqual([0, 0]);
    opt.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

describe('learning-rate schedules', () => {
  it('constant', () => {
    const s = constant(0.1);
    expect([s(0), s(7), s(10 ** 6)]).toEqual([0.1, 0.1, 0.1]);
  });

  it('cosine: lr at 0, the mean at the middle, minLr at the end and after', () => {
    const s = cosine(0.1, 100, 0.01);
    expect(s(0)).toBeCloseTo(0.1, 12);
    expect(s(50)).toBeCloseTo(0.055, 12);
    expect(s(100)).toBeCloseTo(0.01, 12);
    expect(s(150)).toBeCloseTo(0.01, 12);
    // quarter way: 0.01 + 0.09·(1 + cos(π/4))/2
    expect(s(25)).toBeCloseTo(0.01 + 0.045 * (1 + Math.SQRT1_2), 12);
    fc.assert(fc.property(fc.integer({ min: 0, max: 99 }), (t) => s(t + 1) <= s(t)));
  });

  it('exponential per step and per epoch', () => {
    expect(exponential(1, 0.5)(0)).toBe(1);
    expect(exponential(1, 0.5)(3)).toBe(0.125);
    const e = exponential(0.2, 0.9, 10);
    expect([e(0), e(9), e(10), e(25)]).toEqual([0.2, 0.2, 0.2 * 0.9, 0.2 * 0.81]);
  });

  it('warm-up ramps linearly, then the schedule starts from its step 0', () => {
    const s = withWarmup(constant(0.1), 4);
    [0.02, 0.04, 0.06, 0.08, 0.1, 0.1].forEach((v, t) => expect(s(t)).toBeCloseTo(v, 12));
    const c = withWarmup(cosine(1, 10), 5);
    expect(c(4)).toBeCloseTo(5 / 6, 12);
    expect(c(5)).toBe(1);
    expect(c(10)).toBeCloseTo(0.5, 12);
    expect(c(15)).toBeCloseTo(0, 12);
    expect(withWarmup(constant(0.3), 0)(0)).toBe(0.3);
  });

  it('parseSchedule', () => {
    const ctx = { lr: 0.1, totalSteps: 1000, stepsPerEpoch: 100 };
    expect(parseSchedule('constant', ctx)(500)).toBe(0.1);
    expect(parseSchedule('cosine', ctx)(1000)).toBeCloseTo(0, 12);
    expect(parseSchedule('cosine', ctx)(500)).toBeCloseTo(0.05, 12);
    expect(parseSchedule('cosine:0.001', ctx)(1000)).toBeCloseTo(0.001, 12);
    expect(parseSchedule('exp:0.95', ctx)(2)).toBeCloseTo(0.1 * 0.95 ** 2, 12);
    expect(parseSchedule('exp:0.95/epoch', ctx)(250)).toBeCloseTo(0.1 * 0.95 ** 2, 12);
    const w = parseSchedule(' Cosine:1e-4, warmup:100 ', ctx);
    expect(w(0)).toBeCloseTo(0.1 / 101, 12);
    expect(w(100)).toBeCloseTo(0.1, 12);
    expect(w(550)).toBeCloseTo((0.1 + 1e-4) / 2, 12);
    expect(w(1000)).toBeCloseTo(1e-4, 12);
  });

  it('bad schedules → FliqsError naming the accepted forms', () => {
    const ctx = { lr: 0.1, totalSteps: 100 };
    for (const spec of ['linear', 'exp', 'exp:', 'exp:abc', 'cosine:x', 'constant:1', 'cosine,warmup:-1', 'cosine,warmup:1.5', 'cosine,foo', 'a,b,c', '']) {
      expect(() => parseSchedule(spec, ctx), spec).toThrow(FliqsError);
    }
    expect(() => parseSchedule('linear', ctx)).toThrow(/accepted: 'constant', 'cosine'/);
    expect(() => parseSchedule('cosine', { lr: 0.1 })).toThrow(/totalSteps/);
    expect(() => parseSchedule('cosine,warmup:100', ctx)).toThrow(FliqsError);
    expect(() => parseSchedule('exp:0.9/epoch', ctx)).toThrow(/stepsPerEpoch/);
    expect(() => parseSchedule('exp:1.5', ctx)).toThrow(/gamma/);
    expect(() => parseSchedule(42 as unknown as string, ctx)).toThrow(FliqsError);
    expect(() => cosine(0.1, 0)).toThrow(FliqsError);
    expect(() => cosine(0.1, 10, 0.2)).toThrow(/minLr/);
    expect(() => constant(-1)).toThrow(FliqsError);
    expect(() => exponential(0.1, 0)).toThrow(FliqsError);
    expect(() => constant(0.1)(-1)).toThrow(/step/);
    expect(() => constant(0.1)(1.5)).toThrow(FliqsError);
  });
});

describe('bad input → FliqsError', () => {
  const ps = (): ParamBuffers[] => [{ param: new Float32Array(2), grad: new Float32Array(2) }];
  it.each([
    ['negative lr', () => new SGD(ps(), { lr: -0.1 }), /lr/],
    ['NaN lr', () => new Adam(ps(), { lr: NaN }), /lr/],
    ['missing lr (SGD has no default)', () => new SGD(ps(), {} as { lr: number }), /lr/],
    ['momentum 1', () => new SGD(ps(), { lr: 0.1, momentum: 1 }), /momentum/],
    ['Nesterov without momentum', () => new SGD(ps(), { lr: 0.1, nesterov: true }), /nesterov/],
    ['Nesterov with dampening', () => new SGD(ps(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov/],
    ['negative weight decay', () => new AdamW(ps(), { weightDecay: -1 }), /weightDecay/],
    ['β1 = 1', () => new Adam(ps(), { betas: [1, 0.999] }), /betas\[0\]/],
    ['β2 < 0', () => new AdamW(ps(), { betas: [0.9, -0.1] }), /betas\[1\]/],
    ['betas not a pair', () => new Adam(ps(), { betas: [0.9] as unknown as [number, number] }), /betas/],
    ['eps 0', () => new Adam(ps(), { eps: 0 }), /eps/],
    ['eps < 0', () => new RMSProp(ps(), { eps: -1e-8 }), /eps/],
    ['alpha 1', () => new RMSProp(ps(), { alpha: 1 }), /alpha/],
    ['no params', () => new SGD([], { lr: 0.1 }), /params/],
    ['a huge sparse params array (fails fast, does not walk 2³² holes)', () => new AdamW(new Array(2 ** 32 - 1)), /params: has 4294967295 entries/],
    ['grad length', () => new SGD([{ param: new Float32Array(2), grad: new Float32Array(3), name: 'fc1' }], { lr: 0.1 }), /fc1\.grad.*3.*2/],
    ['grad not f32', () => new SGD([{ param: new Float32Array(2), grad: [0, 0] as unknown as Float32Array }], { lr: 0.1 }), /grad/],
    ['grad is the param', () => { const x = new Float32Array(2); return new SGD([{ param: x, grad: x }], { lr: 0.1 }); }, /grad/],
    ['duplicate names', () => new SGD([{ ...ps()[0]!, name: 'a' }, { ...ps()[0]!, name: 'a' }], { lr: 0.1 }), /twice/],
    ['WasmF32 of another runtime', () => new SGD([{ param: runtimes[0]!.allocF32(2), grad: runtimes[0]!.allocF32(2) }], { lr: 0.1 }, runtimes[1]!), /another runtime/],
  ])('%s', (_name, make, msg) => {
    expect(make).toThrow(FliqsError);
    expect(make).toThrow(msg);
  });

  it('negative lr through the setter', () => {
    const opt = new SGD(ps(), { lr: 0.1 });
    expect(() => { opt.lr = -1; }).toThrow(FliqsError);
    expect(opt.lr).toBe(0.1);
    opt.dispose();
  });
});
