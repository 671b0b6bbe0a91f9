// Typed face of the fused optimizer kernels (assembly/optim.ts): one Adam/AdamW, RMSProp or SGD step over
// a parameter, its gradient and its state buffers, in place. Validates the hyper-parameters and lengths,
// gets operands into wasm memory (WasmF32 and views of the runtime's memory in place, other arrays copied
// in and back out), writes the per-call parameter block and calls the kernel. The block's coefficients come
// from optim.ref.ts, so a kernel and its reference start from the same numbers.

import { FliqsError, describe, requireInt, requireObject } from '../core/errors.js';
import { f32Length, place, type F32Operand } from '../core/operands.js';
import { runtime, type Runtime } from '../core/runtime.js';
import { BLOCK_BYTES } from '../core/abi.generated.js';
import { optimBlock } from './blocks.js';
import { adamBlock, rmspropBlock, sgdBlock, type AdamHyper, type OptimBlock, type RMSPropHyper, type SGDHyper } from './optim.ref.js';

export type { AdamHyper, RMSPropHyper, SGDHyper } from './optim.ref.js';

const inRange = (input: string, v: unknown, ok: (x: number) => boolean, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new FliqsError(input, `got ${describe(v)}`, what);
  return v;
};
const nonNeg = (input: string, v: unknown): number => inRange(input, v, (x) => x >= 0, 'a finite number ≥ 0');
const unit = (input: string, v: unknown): number => inRange(input, v, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
const positive = (input: string, v: unknown): number => inRange(input, v, (x) => x > 0, 'a finite number > 0');

function flag(input: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new FliqsError(input, `got ${describe(v)}`, 'true or false');
  return v;
}

interface Operand { name: string; x: F32Operand; out: boolean }

/**
 * Checks that every operand has the parameter's length and that no two overlap, places them, writes the
 * block (f64, f32, then i32 fields, packed) and calls `k(ptrs, n, blockPtr)`.
 */
function run(rt: Runtime, ops: Operand[], block: OptimBlock, k: (p: number[], n: number, hp: number) => void): void {
  const n = f32Length(rt, ops[0]!.name, ops[0]!.x);
  for (const o of ops) f32Length(rt, o.name, o.x, n, `the parameter's length`);
  const placed = place(rt, ops.map((o) => o.x));
  try {
    const p = placed.ptrs;
    for (let i = 0; i < p.length; i++) {
      for (let j = 0; j < i; j++) {
        if (n > 0 && p[i]! < p[j]! + 4 * n && p[j]! < p[i]! + 4 * n) {
          throw new FliqsError(ops[i]!.name, `overlaps ${ops[j]!.name} in memory`, 'separate buffers for the parameter, its gradient and each state');
        }
      }
    }
    const hp = optimBlock(rt);
    const bytes = 8 * block.f64.length + 4 * (block.f32.length + block.flags.length);
    if (bytes > BLOCK_BYTES.optim) throw new Error(`optimizer block of ${bytes} bytes exceeds its ${BLOCK_BYTES.optim}`); // a layout bug, not user input
    const at32 = (hp >>> 2) + 2 * block.f64.length;
    rt.f64.set(block.f64, hp >>> 3);
    rt.f32.set(block.f32, at32);
    rt.i32.set(block.flags.map(Number), at32 + block.f32.length);
    k(p, n, hp);
    ops.forEach((o, i) => { if (o.out) placed.copyBack(i, n); });
  } finally {
    placed.release();
  }
}

export interface AdamStepArgs extends AdamHyper {
  param: F32Operand;
  grad: F32Operand;
  /** First and second moment estimates, updated in place (zeros before the first step). */
  m: F32Operand;
  v: F32Operand;
}

/**
 * One Adam (decoupled: false, L2 wd·p added to the gradient) or AdamW (decoupled: true, p ← p·(1 − lr·wd)
 * first) step in place, PyTorch's rule without amsgrad: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * p ← p − lr/(1−β1^t) · m/(√v/√(1−β2^t) + eps). Bit-identical to adamStepRef. The gradient is not modified.
 * @example
 * const param = runtime.copyIn([1]), grad = runtime.copyIn([0.5]), m = runtime.allocF32(1), v = runtime.allocF32(1);
 * m.array.fill(0); v.array.fill(0);
 * adamStep({ param, grad, m, v, lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 });
 * // param.array ≈ [0.9]
 */
export function adamStep(a: AdamStepArgs, rt: Runtime = runtime): void {
  requireObject<AdamStepArgs>('adamStep args', a, '{ param, grad, … } (see AdamStepArgs)');
  const h: AdamHyper = {
    lr: nonNeg('lr', a.lr), beta1: unit('beta1', a.beta1), beta2: unit('beta2', a.beta2), eps: positive('eps', a.eps),
    weightDecay: nonNeg('weightDecay', a.weightDecay), decoupled: flag('decoupled', a.decoupled), step: requireInt('step', a.step, 1),
  };
  run(rt, [
    { name: 'param', x: a.param, out: true }, { name: 'grad', x: a.grad, out: false },
    { name: 'm', x: a.m, out: true }, { name: 'v', x: a.v, out: true },
  ], adamBlock(h), ([p, g, m, v], n, hp) => rt.kernels.adam_step_f32x4(p!, g!, m!, v!, n, hp));
}

export interface RMSPropStepArgs extends RMSPropHyper {
  param: F32Operand;
  grad: F32Operand;
  /** Running average of g², updated in place. */
  squareAvg: F32Operand;
  /** Running average of g; required when centered. */
  gradAvg?: F32Operand | null;
  /** Momentum buffer; required when momentum > 0. */
  momentumBuffer?: F32Operand | null;
}

/**
 * One RMSProp step in place, PyTorch's rule: g' = g + wd·p, sq ← α·sq + (1−α)·g'², avg = √sq + eps
 * (centered: ga ← α·ga + (1−α)·g', avg = √max(sq − ga², 0) + eps); momentum: buf ← μ·buf + g'/avg,
 * p ← p − lr·buf, else p ← p − lr·g'/avg. Bit-identical to rmspropStepRef. The gradient is not modified.
 * @example
 * const param = runtime.copyIn([1]), grad = runtime.copyIn([0.5]), squareAvg = runtime.copyIn([0]);
 * rmspropStep({ param, grad, squareAvg, lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0 });
 * // param.array ≈ [0.9]
 */
export function rmspropStep(a: RMSPropStepArgs, rt: Runtime = runtime): void {
  requireObject<RMSPropStepArgs>('rmspropStep args', a, '{ param, grad, … } (see RMSPropStepArgs)');
  const h: RMSPropHyper = {
    lr: nonNeg('lr', a.lr), alpha: unit('alpha', a.alpha), eps: positive('eps', a.eps), momentum: unit('momentum', a.momentum),
    centered: flag('centered', a.centered), weightDecay: nonNeg('weightDecay', a.weightDecay),
  };
  const ops: Operand[] = [
    { name: 'param', x: a.param, out: true }, { name: 'grad', x: a.grad, out: false }, { name: 'squareAvg', x: a.squareAvg, out: true },
  ];
  if (h.centered) {
    if (a.gradAvg == null) throw new FliqsError('gradAvg', 'is missing with centered: true', 'a buffer of the parameter\'s length');
    ops.push({ name: 'gradAvg', x: a.gradAvg, out: true });
  }
  if (h.momentum > 0) {
    if (a.momentumBuffer == null) throw new FliqsError('momentumBuffer', `is missing with momentum ${h.momentum}`, 'a buffer of the parameter\'s length');
    ops.push({ name: 'momentumBuffer', x: a.momentumBuffer, out: true });
  }
  run(rt, ops, rmspropBlock(h), (p, n, hp) => {
    const [pp, pg, ps] = p, ga = h.centered ? p[3]! : 0, buf = h.momentum > 0 ? p[p.length - 1]! : 0;
    rt.kernels.rmsprop_step_f32x4(pp!, pg!, ps!, ga, buf, n, hp);
  });
}

export interface SGDStepArgs extends SGDHyper {
  param: F32Operand;
  grad: F32Operand;
  /** Momentum buffer; required when momentum > 0. */
  momentumBuffer?: F32Operand | null;
}

/**
 * One SGD step in place, PyTorch's rule: g' = g + wd·p; momentum: buf ← μ·buf + (1 − dampening)·g'
 * (buf ← g' at step 1), g' ← nesterov ? g' + μ·buf : buf; p ← p − lr·g'. Bit-identical to sgdStepRef.
 * @example
 * const param = runtime.copyIn([1]), grad = runtime.copyIn([0.5]);
 * sgdStep({ param, grad, lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, step: 1 });
 * // param.array ≈ [0.95]
 */
export function sgdStep(a: SGDStepArgs, rt: Runtime = runtime): void {
  requireObject<SGDStepArgs>('sgdStep args', a, '{ param, grad, … } (see SGDStepArgs)');
  const h: SGDHyper = {
    lr: nonNeg('lr', a.lr), momentum: unit('momentum', a.momentum), dampening: unit('dampening', a.dampening),
    nesterov: flag('nesterov', a.nesterov), weightDecay: nonNeg('weightDecay', a.weightDecay), step: requireInt('step', a.step, 1),
  };
  if (h.nesterov && (h.momentum === 0 || h.dampening !== 0)) {
    throw new FliqsError('nesterov', `needs momentum > 0 and dampening 0, got momentum ${h.momentum}, dampening ${h.dampening}`, 'nesterov: false, or momentum > 0 with dampening 0');
  }
  const ops: Operand[] = [{ name: 'param', x: a.param, out: true }, { name: 'grad', x: a.grad, out: false }];
  if (h.momentum > 0) {
    if (a.momentumBuffer == null) throw new FliqsError('momentumBuffer', `is missing with momentum ${h.momentum}`, 'a buffer of the parameter\'s length');
    ops.push({ name: 'momentumBuffer', x: a.momentumBuffer, out: true });
  }
  run(rt, ops, sgdBlock(h),
    ([p, g, buf], n, hp) => rt.kernels.sgd_step_f32x4(p!, g!, buf ?? 0, n, hp));
}
