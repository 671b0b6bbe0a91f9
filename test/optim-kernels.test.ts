// The fused optimizer kernels (adamStep, rmspropStep, sgdStep) against their scalar
// references bit for bit: random lengths (1, odd, non-multiples of 4), values, hyper-parameters and step
// numbers, every option, several steps in a row, on both module variants and through the copy-in path;
// the optimizers on plain arrays (reference path) and on wasm memory (kernel path) agree bit for bit;
// bad input → FliqsError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { createRuntime, type Runtime, type WasmF32 } from '../src/core/runtime.js';
import * as K from '../src/kernels/optim.js';
import * as R from '../src/kernels/optim.ref.js';
import { Adam, AdamW, RMSProp, SGD, type Optimizer, type ParamBuffers, type ParamGroup } from '../src/optim/index.js';
import { randArray } from './quant-helpers.js';

const runtimes: Runtime[] = [await createRuntime('simd'), await createRuntime('relaxed')];
const STEPS = 3;

/** The bit patterns of f32 values (so −0 ≠ +0 and every last bit counts). */
const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(x).buffer));

const rand = (seed: number, n: number, lo = -3, hi = 3): Float32Array => randArray(seed, n, lo, hi, { zeros: true });

const unit = (max: number) => fc.double({ min: 0, max, noNaN: true });
const zeroOr = (a: fc.Arbitrary<number>) => fc.oneof(fc.constant(0), a);
const lrArb = fc.double({ min: 0, max: 1, noNaN: true });
const epsArb = fc.oneof(fc.constantFrom(1e-8, 1e-6, 1e-3, 0.1), fc.double({ min: 1e-10, max: 1, noNaN: true }));
const nArb = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 77 }));
const gScaleArb = fc.double({ min: 1e-4, max: 10, noNaN: true });

/** One kernel family: its random hyper-parameters, state buffer names, kernel call and reference call. */
interface Family<H> {
  name: string;
  hyper: fc.Arbitrary<H>;
  /** State buffers the hyper-parameters use, in the reference's argument order. */
  states: (h: H) => string[];
  kernel: (p: WasmF32 | Float32Array, g: WasmF32 | Float32Array, st: Record<string, WasmF32 | Float32Array>, h: H, t: number, rt: Runtime) => void;
  ref: (p: Float32Array, g: Float32Array, st: Record<string, Float32Array>, h: H, t: number) => void;
}

type AdamH = Omit<R.AdamHyper, 'step'>;
type RMSH = R.RMSPropHyper;
type SGDH = Omit<R.SGDHyper, 'step'>;

const adam: Family<AdamH> = {
  name: 'adam_step_f32x4',
  hyper: fc.record({ lr: lrArb, beta1: unit(0.999), beta2: unit(0.9999), eps: epsArb, weightDecay: zeroOr(unit(0.5)), decoupled: fc.boolean() }),
  states: () => ['m', 'v'],
  kernel: (param, grad, st, h, step, rt) => K.adamStep({ param, grad, m: st.m!, v: st.v!, ...h, step }, rt),
  ref: (p, g, st, h, step) => R.adamStepRef(p, g, st.m!, st.v!, { ...h, step }),
};

const rmsprop: Family<RMSH> = {
  name: 'rmsprop_step_f32x4',
  hyper: fc.record({ lr: lrArb, alpha: unit(0.999), eps: epsArb, momentum: zeroOr(unit(0.99)), centered: fc.boolean(), weightDecay: zeroOr(unit(0.5)) }),
  states: (h) => ['squareAvg', ...(h.centered ? ['gradAvg'] : []), ...(h.momentum > 0 ? ['momentumBuffer'] : [])],
  kernel: (param, grad, st, h, _t, rt) => K.rmspropStep({ param, grad, squareAvg: st.squareAvg!, gradAvg: st.gradAvg, momentumBuffer: st.momentumBuffer, ...h }, rt),
  ref: (p, g, st, h) => R.rmspropStepRef(p, g, st.squareAvg!, st.gradAvg ?? null, st.momentumBuffer ?? null, h),
};

const sgd: Family<SGDH> = {
  name: 'sgd_step_f32x4',
  hyper: fc.record({ lr: lrArb, momentum: zeroOr(unit(0.99)), dampening: zeroOr(unit(0.99)), nesterov: fc.boolean(), weightDecay: zeroOr(unit(0.5)) })
    .map((h) => (h.nesterov ? { ...h, dampening: 0, momentum: h.momentum || 0.5 } : h)),
  states: (h) => (h.momentum > 0 ? ['momentumBuffer'] : []),
  kernel: (param, grad, st, h, step, rt) => K.sgdStep({ param, grad, momentumBuffer: st.momentumBuffer, ...h, step }, rt),
  ref: (p, g, st, h, step) => R.sgdStepRef(p, g, st.momentumBuffer ?? null, { ...h, step }),
};

function kernelMatchesReference<H>(fam: Family<H>, rt: Runtime, copyIn: boolean): void {
  fc.assert(fc.property(fam.hyper, nArb, fc.integer(), gScaleArb, fc.integer({ min: 1, max: 5000 }), (h, n, seed, gScale, t0) => {
    const names = fam.states(h);
    const p0 = rand(seed, n);
    // State starts either at zero or (a resumed run) at values of the right sign: squares are ≥ 0.
    const st0 = Object.fromEntries(names.map((k, i) => [k, t0 === 1 ? new Float32Array(n)
      : rand(seed + 1 + i, n, k === 'v' || k === 'squareAvg' ? 0 : -1, 1)]));
    const ref = { p: p0.slice(), st: Object.fromEntries(names.map((k) => [k, st0[k]!.slice()])) };
    const owned: WasmF32[] = [];
    const home = (x: Float32Array): WasmF32 | Float32Array => {
      if (copyIn) return x.slice();
      const b = rt.copyIn(x);
      owned.push(b);
      return b;
    };
    const arr = (x: WasmF32 | Float32Array): Float32Array => (x instanceof Float32Array ? x : x.array);
    const p = home(p0), st = Object.fromEntries(names.map((k) => [k, home(st0[k]!)]));
    try {
      for (let s = 0; s < STEPS; s++) {
        const t = t0 === 1 ? 1 + s : t0 + s; // t0 = 1: a fresh run's first steps (SGD's first step sets buf ← g)
        const g = rand(seed * 7 + s, n, -gScale, gScale);
        const gCopy = g.slice();
        fam.kernel(p, home(g), st, h, t, rt);
        fam.ref(ref.p, g, ref.st, h, t);
        const where = `${fam.name} ${rt.variant}${copyIn ? ' (copied in)' : ''} n ${n} step ${t}`;
        expect(bits(arr(p)), where).toEqual(bits(ref.p));
        for (const k of names) expect(bits(arr(st[k]!)), `${where} ${k}`).toEqual(bits(ref.st[k]!));
        expect(bits(g), 'the reference does not modify the gradient').toEqual(bits(gCopy));
      }
    } finally {
      for (const b of owned) b.free();
    }
  }), { numRuns: 150 });
}

describe.each([adam, rmsprop, sgd] as Family<unknown>[])('$name equals its scalar reference bit for bit', (fam) => {
  it.each(runtimes.map((rt) => [rt.variant, rt] as const))('%s, operands in wasm memory', (_v, rt) => kernelMatchesReference(fam, rt, false));
  it('plain Float32Arrays (copied in and back out)', () => kernelMatchesReference(fam, runtimes[0]!, true));
});

describe('the kernel leaves the gradient and everything around the operands untouched', () => {
  it.each(runtimes.map((rt) => [rt.variant, rt] as const))('%s', (_v, rt) => {
    for (const n of [1, 2, 3, 5, 7, 13]) {
      // One block with a guard float either side of every operand.
      const block = rt.copyIn(new Float32Array(6 * (n + 2)).fill(7));
      const at = (i: number): Float32Array => block.array.subarray(i * (n + 2) + 1, i * (n + 2) + 1 + n);
      at(0).set(rand(1, n)); at(1).set(rand(2, n)); at(2).set(rand(3, n, 0, 1)); at(3).set(rand(4, n, -1, 1)); at(4).set(rand(5, n, -1, 1)); at(5).set(rand(6, n));
      const grad = at(1).slice();
      K.rmspropStep({ param: at(0), grad: at(1), squareAvg: at(2), gradAvg: at(3), momentumBuffer: at(4),
        lr: 0.1, alpha: 0.9, eps: 1e-8, momentum: 0.9, centered: true, weightDecay: 0.1 }, rt);
      K.adamStep({ param: at(5), grad: at(1), m: at(3), v: at(2), lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, decoupled: false, step: 3 }, rt);
      K.sgdStep({ param: at(0), grad: at(1), momentumBuffer: at(4), lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.1, step: 2 }, rt);
      expect(bits(at(1))).toEqual(bits(grad));
      const a = block.array;
      for (let i = 0; i < 6; i++) {
        expect(a[i * (n + 2)], `guard before operand ${i}, n ${n}`).toBe(7);
        expect(a[i * (n + 2) + n + 1], `guard after operand ${i}, n ${n}`).toBe(7);
      }
      block.free();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('optimizers: parameters in wasm memory (kernel) and plain arrays (reference) agree bit for bit', () => {
  const makers: Array<[string, (ps: ParamGroup[], rt: Runtime) => Optimizer]> = [
    ['SGD', (ps, rt) => new SGD(ps, { lr: 0.05, weightDecay: 0.01 }, rt)],
    ['SGD momentum + dampening', (ps, rt) => new SGD(ps, { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }, rt)],
    ['SGD Nesterov', (ps, rt) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, rt)],
    ['Adam', (ps, rt) => new Adam(ps, { lr: 0.01, weightDecay: 0.01 }, rt)],
    ['AdamW', (ps, rt) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 }, rt)],
    ['RMSProp', (ps, rt) => new RMSProp(ps, { lr: 0.01, weightDecay: 0.01 }, rt)],
    ['RMSProp centered + momentum', (ps, rt) => new RMSProp(ps, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01 }, rt)],
  ];
  const cases = makers.flatMap(([name, make]) => runtimes.map((rt) => ({ name: `${name}, ${rt.variant}`, make, rt })));
  it.each(cases)('$name', ({ make, rt }) => {
    const sizes = [1, 6, 37];
    const init = sizes.map((n, i) => rand(10 + i, n));
    const plain = init.map((x) => ({ param: x.slice(), grad: new Float32Array(x.length) }));
    const wasm = init.map((x) => ({ param: rt.copyIn(x), grad: rt.allocF32(x.length) }));
    const withDecay = (ps: ParamBuffers[]): ParamBuffers[] => ps.map((p, i) => ({ ...p, weightDecay: i !== 1 }));
    const a = make(withDecay(plain), rt), b = make(withDecay(wasm), rt);
    for (let t = 0; t < 8; t++) {
      init.forEach((x, i) => {
        const g = rand(100 + 10 * t + i, x.length);
        plain[i]!.grad.set(g);
        wasm[i]!.grad.array.set(g);
      });
      a.step();
      b.step();
      plain.forEach((p, i) => expect(bits(wasm[i]!.param.array), `step ${t} param ${i}`).toEqual(bits(p.param)));
    }
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(plain[2]!.param).not.toEqual(init[2]); // the run moved the parameters
    a.dispose();
    b.dispose();
    for (const w of wasm) { w.param.free(); w.grad.free(); }
  });
});

// ---------------------------------------------------------------------------------------------

describe('bad input → FliqsError', () => {
  const rt = runtimes[0]!;
  const f4 = (): Float32Array => new Float32Array(4);
  const adamArgs = (): K.AdamStepArgs => ({ param: f4(), grad: f4(), m: f4(), v: f4(), lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, decoupled: true, step: 1 });
  const rmsArgs = (): K.RMSPropStepArgs => ({ param: f4(), grad: f4(), squareAvg: f4(), lr: 0.1, alpha: 0.9, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0 });
  const sgdArgs = (): K.SGDStepArgs => ({ param: f4(), grad: f4(), lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, step: 1 });
  it.each([
    ['grad length', () => K.adamStep({ ...adamArgs(), grad: new Float32Array(3) }, rt), /grad: has length 3/],
    ['state length', () => K.adamStep({ ...adamArgs(), v: new Float32Array(5) }, rt), /^v:/],
    ['not an f32 buffer', () => K.adamStep({ ...adamArgs(), m: [0, 0, 0, 0] as unknown as Float32Array }, rt), /^m:/],
    ['step 0', () => K.adamStep({ ...adamArgs(), step: 0 }, rt), /step/],
    ['β1 = 1', () => K.adamStep({ ...adamArgs(), beta1: 1 }, rt), /beta1/],
    ['eps 0', () => K.adamStep({ ...adamArgs(), eps: 0 }, rt), /eps/],
    ['NaN lr', () => K.adamStep({ ...adamArgs(), lr: NaN }, rt), /lr/],
    ['decoupled not boolean', () => K.adamStep({ ...adamArgs(), decoupled: 1 as unknown as boolean }, rt), /decoupled/],
    ['centered without gradAvg', () => K.rmspropStep({ ...rmsArgs(), centered: true }, rt), /gradAvg/],
    ['momentum without buffer', () => K.rmspropStep({ ...rmsArgs(), momentum: 0.9 }, rt), /momentumBuffer/],
    ['alpha 1', () => K.rmspropStep({ ...rmsArgs(), alpha: 1 }, rt), /alpha/],
    ['negative weight decay', () => K.sgdStep({ ...sgdArgs(), weightDecay: -1 }, rt), /weightDecay/],
    ['Nesterov without momentum', () => K.sgdStep({ ...sgdArgs(), nesterov: true }, rt), /nesterov/],
    ['SGD momentum without buffer', () => K.sgdStep({ ...sgdArgs(), momentum: 0.5 }, rt), /momentumBuffer/],
    ['WasmF32 of another runtime', () => K.sgdStep({ ...sgdArgs(), param: runtimes[1]!.allocF32(4) }, rt), /another runtime/],
  ])('%s', (_name, call, msg) => {
    expect(call).toThrow(FliqsError);
    expect(call).toThrow(msg);
  });

  it('overlapping operands', () => {
    const b = rt.allocF32(8);
    const a = b.array;
    expect(() => K.sgdStep({ ...sgdArgs(), param: a.subarray(0, 4), grad: a.subarray(2, 6) }, rt)).toThrow(/grad: overlaps param/);
    expect(() => K.adamStep({ ...adamArgs(), param: a.subarray(0, 4), m: a.subarray(4, 8), v: b.array.subarray(4, 8) }, rt)).toThrow(/v: overlaps m/);
    K.sgdStep({ ...sgdArgs(), param: a.subarray(0, 4), grad: a.subarray(4, 8) }, rt); // adjacent is fine
    b.free();
  });
});
