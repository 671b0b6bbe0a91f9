/** A learning rate as a function of the 0-based step. */
export type Schedule = (step: number) => number;
/**
 * The same rate at every step.
 * @example
 * constant(0.1)(500); // 0.1
 */
export declare function constant(lr: number): Schedule;
/**
 * Cosine decay from `lr` at step 0 to `minLr` at `totalSteps` (and after):
 * minLr + (lr − minLr)·(1 + cos(π·t/T))/2.
 * @example
 * const s = cosine(0.1, 100);
 * s(0); s(50); s(100); // 0.1, 0.05, 0
 */
export declare function cosine(lr: number, totalSteps: number, minLr?: number): Schedule;
/**
 * Exponential decay lr·γ^⌊t/stepsPerEpoch⌋: per step by default, per epoch when stepsPerEpoch is given.
 * @example
 * exponential(1, 0.5)(3);      // 0.125
 * exponential(1, 0.5, 10)(25); // 0.25 (epoch 2)
 */
export declare function exponential(lr: number, gamma: number, stepsPerEpoch?: number): Schedule;
/**
 * Linear warm-up for `warmupSteps` steps, then `schedule` from its own step 0: for t < W the rate is
 * schedule(0)·(t + 1)/(W + 1) (never 0, rising), from t = W it is schedule(t − W). So give a decaying
 * schedule totalSteps − W steps.
 * @example
 * const s = withWarmup(constant(0.1), 4);
 * [0, 1, 2, 3, 4].map(s); // [0.02, 0.04, 0.06, 0.08, 0.1]
 */
export declare function withWarmup(schedule: Schedule, warmupSteps: number): Schedule;
export interface ScheduleContext {
    /** The base (peak) learning rate. */
    lr: number;
    /** Total training steps, warm-up included (needed by cosine). */
    totalSteps?: number;
    /** Steps per epoch (needed by `exp:γ/epoch`). */
    stepsPerEpoch?: number;
}
/**
 * Parses a schedule string: `constant`, `cosine` (to 0), `cosine:<minLr>`, `exp:<gamma>` (per step),
 * `exp:<gamma>/epoch`, optionally with `,warmup:<steps>` (cosine then decays over totalSteps − steps).
 * @example
 * const s = parseSchedule('cosine:1e-4,warmup:100', { lr: 0.1, totalSteps: 1000 });
 * s(0); s(100); s(1000); // ≈ 0.001, 0.1, 1e-4
 */
export declare function parseSchedule(spec: string, ctx: ScheduleContext): Schedule;
