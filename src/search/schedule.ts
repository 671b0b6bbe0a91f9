// FLIQS schedules over training progress s = t/T: the controller warm-up and the cosine entropy weight.

import { FliqsError, describe, requireInt } from '../core/errors.js';

/** β_H at the end of the search (paper Eq. 9 and Appendix A.4: "ending with β_H = .5"). */
export const DEFAULT_ENTROPY_END = 0.5;
/** Fraction of training the controller only samples uniformly (Appendix A.4: "the first 25%"). */
export const DEFAULT_WARMUP_FRACTION = 0.25;

/**
 * Cosine entropy weight β_H(s) = β_end · (1 − cos(π s)) / 2 (paper Eq. 9, which writes it as
 * −½β_end(1 + cos π s) + β_end): 0 at s = 0, β_end/2 at s = ½, β_end at s = 1.
 * @example
 * entropyWeight(0.5) // 0.25
 */
export function entropyWeight(s: number, betaEnd = DEFAULT_ENTROPY_END): number {
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 1) throw new FliqsError('progress', `got ${describe(s)}`, 'a number from 0 to 1');
  return betaEnd * (1 - Math.cos(Math.PI * s)) / 2;
}

/**
 * Progress s = t/T of step t in a run of T steps.
 * @example
 * progress(250, 1000) // 0.25
 */
export function progress(t: number, totalSteps: number): number {
  requireInt('totalSteps', totalSteps, 1);
  requireInt('step', t, 0, totalSteps);
  return t / totalSteps;
}

/**
 * First step of the search phase: steps t < warmupSteps(T) sample uniformly and do not update.
 * @example
 * warmupSteps(1000) // 250
 */
export function warmupSteps(totalSteps: number, fraction = DEFAULT_WARMUP_FRACTION): number {
  requireInt('totalSteps', totalSteps, 1);
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) throw new FliqsError('warmupFraction', `got ${describe(fraction)}`, 'a number from 0 to 1');
  return Math.ceil(fraction * totalSteps);
}
