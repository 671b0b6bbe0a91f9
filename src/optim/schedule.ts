// Learning-rate schedules: pure functions from a 0-based step to a learning rate (no state, so a
// resumed run gets the same rates), a linear warm-up that composes with any of them, and a parser
// for the CLI's `--lr-schedule` strings.

import { FliqsError, describe, requireInt } from '../core/errors.js';
import { requireIn } from './optimizer.js';

/** A learning rate as a function of the 0-based step. */
export type Schedule = (step: number) => number;

function requireStep(step: unknown): number {
  return requireInt('step', step, 0);
}

const requireRate = (input: string, v: unknown): number => requireIn(input, v, (x) => x >= 0, 'a finite number ≥ 0');

/**
 * The same rate at every step.
 * @example
 * constant(0.1)(500); // 0.1
 */
export function constant(lr: number): Schedule {
  requireRate('lr', lr);
  return (step) => (requireStep(step), lr);
}

/**
 * Cosine decay from `lr` at step 0 to `minLr` at `totalSteps` (and after):
 * minLr + (lr − minLr)·(1 + cos(π·t/T))/2.
 * @example
 * const s = cosine(0.1, 100);
 * s(0); s(50); s(100); // 0.1, 0.05, 0
 */
export function cosine(lr: number, totalSteps: number, minLr = 0): Schedule {
  requireRate('lr', lr);
  requireInt('totalSteps', totalSteps, 1);
  requireIn('minLr', minLr, (x) => x >= 0 && x <= lr, `a number from 0 to lr (${lr})`);
  return (step) => {
    const t = Math.min(requireStep(step), totalSteps);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos((Math.PI * t) / totalSteps));
  };
}

/**
 * Exponential decay lr·γ^⌊t/stepsPerEpoch⌋: per step by default, per epoch when stepsPerEpoch is given.
 * @example
 * exponential(1, 0.5)(3);      // 0.125
 * exponential(1, 0.5, 10)(25); // 0.25 (epoch 2)
 */
export function exponential(lr: number, gamma: number, stepsPerEpoch = 1): Schedule {
  requireRate('lr', lr);
  requireIn('gamma', gamma, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  requireInt('stepsPerEpoch', stepsPerEpoch, 1);
  return (step) => lr * gamma ** Math.floor(requireStep(step) / stepsPerEpoch);
}

/**
 * Linear warm-up for `warmupSteps` steps, then `schedule` from its own step 0: for t < W the rate is
 * schedule(0)·(t + 1)/(W + 1) (never 0, rising), from t = W it is schedule(t − W). So give a decaying
 * schedule totalSteps − W steps.
 * @example
 * const s = withWarmup(constant(0.1), 4);
 * [0, 1, 2, 3, 4].map(s); // [0.02, 0.04, 0.06, 0.08, 0.1]
 */
export function withWarmup(schedule: Schedule, warmupSteps: number): Schedule {
  if (typeof schedule !== 'function') throw new FliqsError('schedule', `got ${describe(schedule)}`, 'a schedule function (step) => lr');
  const W = requireInt('warmupSteps', warmupSteps, 0);
  if (W === 0) return schedule;
  return (step) => {
    const t = requireStep(step);
    return t < W ? (schedule(0) * (t + 1)) / (W + 1) : schedule(t - W);
  };
}

export interface ScheduleContext {
  /** The base (peak) learning rate. */
  lr: number;
  /** Total training steps, warm-up included (needed by cosine). */
  totalSteps?: number;
  /** Steps per epoch (needed by `exp:γ/epoch`). */
  stepsPerEpoch?: number;
}

const FORMS = "'constant', 'cosine', 'cosine:<minLr>', 'exp:<gamma>', 'exp:<gamma>/epoch', each optionally followed by ',warmup:<steps>'";

function bad(spec: string, problem: string): FliqsError {
  return new FliqsError('schedule', `${JSON.stringify(spec)} ${problem}`, FORMS);
}

function num(spec: string, text: string, what: string): number {
  const v = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(v)) throw bad(spec, `has ${what} ${JSON.stringify(text)}, not a number`);
  return v;
}

/**
 * Parses a schedule string: `constant`, `cosine` (to 0), `cosine:<minLr>`, `exp:<gamma>` (per step),
 * `exp:<gamma>/epoch`, optionally with `,warmup:<steps>` (cosine then decays over totalSteps − steps).
 * @example
 * const s = parseSchedule('cosine:1e-4,warmup:100', { lr: 0.1, totalSteps: 1000 });
 * s(0); s(100); s(1000); // ≈ 0.001, 0.1, 1e-4
 */
export function parseSchedule(spec: string, ctx: ScheduleContext): Schedule {
  if (typeof spec !== 'string') throw new FliqsError('schedule', `got ${describe(spec)}`, FORMS);
  if (typeof ctx !== 'object' || ctx === null) throw new FliqsError('ctx', `got ${describe(ctx)}`, '{ lr, totalSteps?, stepsPerEpoch? }');
  const parts = spec.trim().toLowerCase().split(',').map((p) => p.trim());
  if (parts.length > 2) throw bad(spec, 'has more than one comma');
  let warmup = 0;
  if (parts.length === 2) {
    const m = /^warmup:(.*)$/.exec(parts[1]!);
    if (!m) throw bad(spec, `has ${JSON.stringify(parts[1])} after the comma`);
    warmup = num(spec, m[1]!, 'warm-up steps');
    if (!Number.isInteger(warmup) || warmup < 0) throw bad(spec, `has ${warmup} warm-up steps, not an integer ≥ 0`);
  }
  const [name, arg] = splitOnce(parts[0]!);
  let base: Schedule;
  if (name === 'constant' && arg === undefined) {
    base = constant(ctx.lr);
  } else if (name === 'cosine') {
    if (ctx.totalSteps === undefined) throw new FliqsError('totalSteps', `is missing for ${JSON.stringify(spec)}`, 'an integer ≥ 1 (cosine needs the run length)');
    const T = requireInt('totalSteps', ctx.totalSteps, 1);
    if (warmup >= T) throw bad(spec, `warms up for ${warmup} steps of a ${T}-step run`);
    base = cosine(ctx.lr, T - warmup, arg === undefined ? 0 : num(spec, arg, 'minLr'));
  } else if (name === 'exp' && arg !== undefined) {
    const perEpoch = arg.endsWith('/epoch');
    const gamma = num(spec, perEpoch ? arg.slice(0, -'/epoch'.length) : arg, 'gamma');
    if (perEpoch && ctx.stepsPerEpoch === undefined) {
      throw new FliqsError('stepsPerEpoch', `is missing for ${JSON.stringify(spec)}`, 'an integer ≥ 1 (a per-epoch decay needs the epoch length)');
    }
    base = exponential(ctx.lr, gamma, perEpoch ? ctx.stepsPerEpoch : 1);
  } else {
    throw bad(spec, 'is not a known schedule');
  }
  return withWarmup(base, warmup);
}

function splitOnce(s: string): [string, string | undefined] {
  const k = s.indexOf(':');
  return k < 0 ? [s, undefined] : [s.slice(0, k), s.slice(k + 1)];
}
