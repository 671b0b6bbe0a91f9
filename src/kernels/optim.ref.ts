// Scalar references for the fused optimizer kernels (assembly/optim.ts): the per-call parameter block, as
// the wrappers write it, and the update loops doing the kernels' operations in the kernels' order, so
// that kernel and reference are bit-identical. An f32 operation is Math.fround of the double result (for
// +, −, ·, / and √ that is the correctly rounded f32 result); Adam computes in plain doubles (as the
// optimizer did before the kernel existed). Unlike the other references these are also the optimizers'
// path for parameters outside wasm memory.

const f = Math.fround;

/** A kernel's parameter block: f64 fields, then f32 fields (already rounded), then i32 flags, packed in that order. */
export interface OptimBlock {
  f64: number[];
  f32: number[];
  flags: boolean[];
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: p ← p·(1 − lr·wd) before the step. Adam (false): wd·p added to the gradient. */
  decoupled: boolean;
  /** 1-based number of this step (bias corrections 1 − β^t). */
  step: number;
}

/** The Adam block (layout in assembly/optim.ts): f64 [shrink, l2, β1, 1−β1, β2, 1−β2, lr/(1−β1^t), √(1−β2^t), eps]. */
export function adamBlock(h: AdamHyper): OptimBlock {
  const wd = h.weightDecay, t = h.step;
  return {
    f64: [h.decoupled ? 1 - h.lr * wd : 1, h.decoupled ? 0 : wd, h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2,
      h.lr / (1 - h.beta1 ** t), Math.sqrt(1 - h.beta2 ** t), h.eps],
    f32: [],
    flags: [],
  };
}

/**
 * One Adam/AdamW step in place, in doubles rounded to f32 where stored: p ← p·shrink, g' = g + l2·p,
 * m ← β1·m + (1−β1)·g', v ← β2·v + (1−β2)·g'², p ← p − lr/(1−β1^t) · m/(√v/√(1−β2^t) + eps).
 * The gradient is not modified.
 * @example
 * const p = new Float32Array([1]);
 * adamStepRef(p, new Float32Array([0.5]), new Float32Array(1), new Float32Array(1),
 *   { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 }); // p ≈ [0.9]
 */
export function adamStepRef(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamHyper): void {
  const [shrink, l2, b1, c1, b2, c2, step, bc2, eps] = adamBlock(h).f64 as [number, number, number, number, number, number, number, number, number];
  for (let j = 0; j < p.length; j++) {
    const p1 = f(p[j]! * shrink);
    const g1 = f(g[j]! + l2 * p1);
    const m1 = (m[j] = f(b1 * m[j]! + c1 * g1));
    const v1 = (v[j] = f(b2 * v[j]! + c2 * g1 * g1));
    p[j] = p1 - step * m1 / (Math.sqrt(v1) / bc2 + eps);
  }
}

export interface RMSPropHyper {
  lr: number;
  alpha: number;
  eps: number;
  /** μ; 0 means no momentum buffer. */
  momentum: number;
  centered: boolean;
  weightDecay: number;
}

/** The RMSProp block: f32 [wd, α, 1−α, eps, μ, lr], flags [centered, momentum > 0]. */
export function rmspropBlock(h: RMSPropHyper): OptimBlock {
  return { f64: [], f32: [f(h.weightDecay), f(h.alpha), f(1 - h.alpha), f(h.eps), f(h.momentum), f(h.lr)], flags: [h.centered, h.momentum > 0] };
}

/**
 * One RMSProp step in place: g' = g + wd·p, sq ← α·sq + (1−α)·g'², avg = √sq + eps (centered:
 * ga ← α·ga + (1−α)·g', avg = √max(sq − ga², 0) + eps), then with momentum buf ← μ·buf + g'/avg,
 * p ← p − lr·buf, else p ← p − lr·(g'/avg). `ga` is used only when centered, `buf` only with momentum > 0.
 * @example
 * const p = new Float32Array([1]);
 * rmspropStepRef(p, new Float32Array([0.5]), new Float32Array(1), null, null,
 *   { lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0 }); // p ≈ [0.9]
 */
export function rmspropStepRef(p: Float32Array, g: Float32Array, sq: Float32Array, ga: Float32Array | null, buf: Float32Array | null,
  h: RMSPropHyper): void {
  const [wd, a, c, eps, mu, lr] = rmspropBlock(h).f32 as [number, number, number, number, number, number];
  const gavg = h.centered ? ga! : null, mom = h.momentum > 0 ? buf! : null;
  for (let j = 0; j < p.length; j++) {
    const p0 = p[j]!;
    const g1 = f(g[j]! + f(wd * p0));
    const s1 = (sq[j] = f(f(a * sq[j]!) + f(c * f(g1 * g1))));
    let avg: number;
    if (gavg) {
      const m1 = (gavg[j] = f(f(a * gavg[j]!) + f(c * g1)));
      avg = f(f(Math.sqrt(Math.max(f(s1 - f(m1 * m1)), 0))) + eps);
    } else {
      avg = f(f(Math.sqrt(s1)) + eps);
    }
    let d = f(g1 / avg);
    if (mom) d = mom[j] = f(f(mu * mom[j]!) + d);
    p[j] = f(p0 - f(lr * d));
  }
}

export interface SGDHyper {
  lr: number;
  /** μ; 0 means plain SGD (no buffer). */
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** 1-based number of this step (the first one sets buf ← g). */
  step: number;
}

/** The SGD block: f32 [wd, μ, 1 − dampening, lr], flags [momentum > 0, nesterov, first step]. */
export function sgdBlock(h: SGDHyper): OptimBlock {
  return { f64: [], f32: [f(h.weightDecay), f(h.momentum), f(1 - h.dampening), f(h.lr)], flags: [h.momentum > 0, h.nesterov, h.step === 1] };
}

/**
 * One SGD step in place: d = g + wd·p; with momentum buf ← μ·buf + (1 − dampening)·d (buf ← d on the
 * first step) and d ← nesterov ? d + μ·buf : buf; p ← p − lr·d. `buf` is used only with momentum > 0;
 * the gradient is not modified.
 * @example
 * const p = new Float32Array([1]);
 * sgdStepRef(p, new Float32Array([0.5]), null, { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, step: 1 }); // p ≈ [0.95]
 */
export function sgdStepRef(p: Float32Array, g: Float32Array, buf: Float32Array | null, h: SGDHyper): void {
  const [wd, mu, c, lr] = sgdBlock(h).f32 as [number, number, number, number];
  const mom = h.momentum > 0 ? buf! : null, first = h.step === 1;
  for (let j = 0; j < p.length; j++) {
    const p0 = p[j]!;
    let d = f(g[j]! + f(wd * p0));
    if (mom) {
      const b = (mom[j] = first ? d : f(f(mu * mom[j]!) + f(c * d)));
      d = h.nesterov ? f(d + f(mu * b)) : b;
    }
    p[j] = f(p0 - f(lr * d));
  }
}
