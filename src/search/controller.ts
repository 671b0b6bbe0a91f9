// The FLIQS RL controller: one softmax policy per layer, REINFORCE with a moving-average baseline,
// cosine entropy regularization, and gradient ascent with a small inline Adam on the logits.
//
//   π_l = softmax(θ_l)                       α_l ~ π_l (uniform during the warm-up, t < 0.25 T)
//   A = r − r̄,  then r̄ ← m·r̄ + (1 − m)·r     (r̄ starts at the first search-phase reward, so A₁ = 0)
//   J = A · Σ_l log π_l(α_l) − β_H(s) · H,    H = Σ_l H_l,  H_l = −Σ_a π_l(a) log π_l(a)
//   ∂J/∂θ_l[a] = A · (1[a = α_l] − π_l(a)) + β_H(s) · π_l(a) · (log π_l(a) + H_l)
// (the last term because ∂H_l/∂θ_l[a] = −π_l(a)·(log π_l(a) + H_l)), and θ ← θ + Adam(∂J/∂θ).

import { FliqsError, describe, requireInt, requirePositive } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { DEFAULT_ENTROPY_END, DEFAULT_WARMUP_FRACTION, entropyWeight, warmupSteps } from './schedule.js';
import { choiceCounts, type Config, type SearchSpace } from './space.js';

/** Adam learning rate for the logits (paper Appendix A.4: "learning rate of 4.6E-3"). */
export const DEFAULT_CONTROLLER_LR = 4.6e-3;
/** Adam β1, β2 (Appendix A.4: "momentum of .95"; β2 and eps are not given, Adam's usual 0.999, 1e-8). */
export const DEFAULT_CONTROLLER_BETAS: readonly [number, number] = [0.95, 0.999];
export const DEFAULT_CONTROLLER_EPS = 1e-8;
/**
 * Momentum m of the reward baseline r̄. The FLIQS paper (Sec. 3, "the running average of previous
 * rewards") gives no value; its only momentum, .95 (Appendix A.4), belongs to the Adam optimizer.
 * We use 0.95 too: an average over ~20 steps, short enough to follow the rising accuracy.
 */
export const DEFAULT_BASELINE_MOMENTUM = 0.95;

export interface ControllerOptions {
  /** T, the number of training steps of the whole run (warm-up included). */
  totalSteps: number;
  /** Seed of the controller's own Rng (default 0). Derive it from the run's seed. */
  seed?: number;
  /** Adam learning rate (default 4.6e-3). */
  lr?: number;
  /** Adam [β1, β2] (default [0.95, 0.999]). */
  betas?: readonly [number, number];
  /** Adam eps, added outside the square root (default 1e-8). */
  eps?: number;
  /** Momentum m of the reward baseline (default 0.95). */
  baselineMomentum?: number;
  /** β_H at the end of training (default 0.5). */
  entropyEnd?: number;
  /** Fraction of T spent in the warm-up (default 0.25). */
  warmupFraction?: number;
}

/** What one `update` did. */
export interface UpdateResult {
  /** False during the warm-up (nothing changed). */
  readonly updated: boolean;
  readonly reward: number;
  /** A = r − r̄ with r̄ before this update (0 during the warm-up and on the first update). */
  readonly advantage: number;
  /** r̄ after this update (null until the first search-phase update). */
  readonly baseline: number | null;
  /** β_H(t/T) used for this update (0 during the warm-up). */
  readonly entropyWeight: number;
}

/** Everything needed to resume a controller bit for bit; plain JSON. */
export interface ControllerState {
  readonly version: 1;
  readonly counts: number[];
  readonly totalSteps: number;
  readonly seed: number;
  /** The controller's Rng state (Rng.getState()). */
  readonly rng: number[];
  readonly logits: number[][];
  readonly adamM: number[][];
  readonly adamV: number[][];
  readonly adamSteps: number;
  readonly baseline: number | null;
  readonly lastSample: number[] | null;
  readonly options: Required<Omit<ControllerOptions, 'totalSteps' | 'seed' | 'betas'>> & { betas: [number, number] };
}

/**
 * The FLIQS controller over a search space (or a plain list of choice counts per layer).
 * @example
 * const ctl = new Controller(space, { totalSteps: 1000, seed: 1 });
 * for (let t = 0; t < 1000; t++) {
 *   const config = ctl.sample(t);          // choice index per layer
 *   const r = reward(evalQuality(config), configCost(space, config), target);
 *   ctl.update(t, r);                       // no-op during the warm-up
 * }
 * ctl.argmax();                             // α*_l = argmax π_l
 */
export class Controller {
  readonly counts: readonly number[];
  readonly totalSteps: number;
  readonly seed: number;
  /** Steps t < warmupEnd sample uniformly and do not update. */
  readonly warmupEnd: number;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly baselineMomentum: number;
  readonly entropyEnd: number;
  readonly warmupFraction: number;

  private readonly logits: Float64Array[];
  private readonly logp: Float64Array[];
  private readonly probs: Float64Array[];
  private readonly layerEntropy: Float64Array;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private readonly grad: Float64Array[];
  private adamSteps = 0;
  private baseline: number | null = null;
  private lastSample: number[] | null = null;
  private rng: Rng;

  constructor(space: SearchSpace | readonly number[], options: ControllerOptions) {
    const counts = Array.isArray(space) ? [...(space as readonly number[])] : spaceCounts(space as SearchSpace);
    if (counts.length === 0) throw new FliqsError('space', 'has no layers', 'at least one layer');
    counts.forEach((n, i) => requireInt(`choices of layer ${i}`, n, 1));
    if (typeof options !== 'object' || options === null) {
      throw new FliqsError('options', `got ${describe(options)}`, '{ totalSteps, seed?, lr?, betas?, eps?, baselineMomentum?, entropyEnd?, warmupFraction? }');
    }
    this.counts = Object.freeze(counts);
    this.totalSteps = requireInt('totalSteps', options.totalSteps, 1);
    this.seed = requireInt('seed', options.seed ?? 0, 0, 2 ** 32 - 1);
    this.lr = requirePositive('lr', options.lr ?? DEFAULT_CONTROLLER_LR);
    const betas = options.betas ?? DEFAULT_CONTROLLER_BETAS;
    if (!Array.isArray(betas) || betas.length !== 2) throw new FliqsError('betas', `got ${describe(betas)}`, '[β1, β2], each in [0, 1)');
    this.beta1 = unit('betas[0]', betas[0]);
    this.beta2 = unit('betas[1]', betas[1]);
    this.eps = requirePositive('eps', options.eps ?? DEFAULT_CONTROLLER_EPS);
    this.baselineMomentum = unit('baselineMomentum', options.baselineMomentum ?? DEFAULT_BASELINE_MOMENTUM);
    const entropyEnd = options.entropyEnd ?? DEFAULT_ENTROPY_END;
    if (typeof entropyEnd !== 'number' || !Number.isFinite(entropyEnd) || entropyEnd < 0) {
      throw new FliqsError('entropyEnd', `got ${describe(entropyEnd)}`, 'a finite number ≥ 0');
    }
    this.entropyEnd = entropyEnd;
    this.warmupFraction = options.warmupFraction ?? DEFAULT_WARMUP_FRACTION;
    this.warmupEnd = warmupSteps(this.totalSteps, this.warmupFraction);
    const mk = (): Float64Array[] => counts.map((n) => new Float64Array(n));
    this.logits = mk(); this.logp = mk(); this.probs = mk();
    this.m = mk(); this.v = mk(); this.grad = mk();
    this.layerEntropy = new Float64Array(counts.length);
    this.rng = new Rng(this.seed);
    this.refresh();
  }

  /** True for steps of the warm-up (uniform sampling, no updates). */
  isWarmup(t: number): boolean {
    return this.step('step', t) < this.warmupEnd;
  }

  /**
   * Draws a configuration for step t: uniform during the warm-up, α_l ~ π_l after it. Layers with
   * one choice always give 0 and draw nothing from the Rng.
   * @example
   * ctl.sample(0) // e.g. [2, 0, 1]
   */
  sample(t: number): number[] {
    const warm = this.isWarmup(t);
    const out = new Array<number>(this.counts.length);
    for (let l = 0; l < this.counts.length; l++) {
      const n = this.counts[l]!;
      if (n === 1) { out[l] = 0; continue; }
      if (warm) { out[l] = this.rng.int(n); continue; }
      const p = this.probs[l]!;
      const u = this.rng.uniform();
      let acc = 0, a = n - 1;
      for (let i = 0; i < n - 1; i++) {
        acc += p[i]!;
        if (u < acc) { a = i; break; }
      }
      out[l] = a;
    }
    this.lastSample = out;
    return [...out];
  }

  /**
   * Feeds the reward of the configuration sampled at step t (default: the last `sample`) and takes
   * one Adam ascent step on J. During the warm-up it changes nothing.
   * @example
   * ctl.update(t, 0.91) // { updated: true, advantage: …, baseline: …, entropyWeight: … }
   */
  update(t: number, reward: number, config?: Config): UpdateResult {
    const warm = this.isWarmup(t);
    if (typeof reward !== 'number' || !Number.isFinite(reward)) throw new FliqsError('reward', `got ${describe(reward)}`, 'a finite number');
    if (warm) return { updated: false, reward, advantage: 0, baseline: this.baseline, entropyWeight: 0 };
    const alpha = config ?? this.lastSample;
    if (alpha === null) throw new FliqsError('config', 'is missing and nothing was sampled yet', 'call sample(t) first or pass the configuration');
    this.checkConfig(alpha);
    const advantage = this.baseline === null ? 0 : reward - this.baseline;
    const mb = this.baselineMomentum;
    this.baseline = this.baseline === null ? reward : mb * this.baseline + (1 - mb) * reward;
    const betaH = entropyWeight(t / this.totalSteps, this.entropyEnd);
    this.gradientInto(this.grad, alpha, advantage, betaH);
    this.adamAscent(this.grad);
    this.refresh();
    return { updated: true, reward, advantage, baseline: this.baseline, entropyWeight: betaH };
  }

  /**
   * ∂J/∂θ at the current logits for a configuration, advantage A and entropy weight β_H (a copy;
   * `update` uses the same routine).
   * @example
   * ctl.gradient([0, 2], 0.1, 0.25) // [Float64Array(n0), Float64Array(n1)]
   */
  gradient(config: Config, advantage: number, betaH: number): Float64Array[] {
    this.checkConfig(config);
    const g = this.counts.map((n) => new Float64Array(n));
    this.gradientInto(g, config, advantage, betaH);
    return g;
  }

  /** α*_l = argmax π_l (lowest index on ties). */
  argmax(): number[] {
    return this.logits.map((th) => {
      let best = 0;
      for (let i = 1; i < th.length; i++) if (th[i]! > th[best]!) best = i;
      return best;
    });
  }

  /** π_l for every layer (copies). */
  probabilities(): Float64Array[] {
    return this.probs.map((p) => p.slice());
  }

  /** The logits θ_l (copies). */
  logitValues(): Float64Array[] {
    return this.logits.map((p) => p.slice());
  }

  /** H_l per layer and their sum H, in nats. */
  entropy(): { perLayer: number[]; total: number } {
    const perLayer = [...this.layerEntropy];
    return { perLayer, total: perLayer.reduce((a, b) => a + b, 0) };
  }

  /** The reward baseline r̄ (null before the first search-phase update). */
  baselineValue(): number | null {
    return this.baseline;
  }

  /** Everything needed to resume bit for bit (plain JSON; numbers round-trip exactly through JSON). */
  stateDict(): ControllerState {
    const rows = (a: Float64Array[]): number[][] => a.map((r) => [...r]);
    return {
      version: 1, counts: [...this.counts], totalSteps: this.totalSteps, seed: this.seed,
      rng: this.rng.getState(), logits: rows(this.logits), adamM: rows(this.m), adamV: rows(this.v),
      adamSteps: this.adamSteps, baseline: this.baseline,
      lastSample: this.lastSample ? [...this.lastSample] : null,
      options: {
        lr: this.lr, betas: [this.beta1, this.beta2], eps: this.eps, baselineMomentum: this.baselineMomentum,
        entropyEnd: this.entropyEnd, warmupFraction: this.warmupFraction,
      },
    };
  }

  /**
   * Restores a `stateDict()` into a controller built for the same space and total steps. The
   * hyper-parameters come from the state, the Rng continues from its saved state.
   * @example
   * const resumed = new Controller(space, { totalSteps: 1000 }); resumed.loadStateDict(saved);
   */
  loadStateDict(state: ControllerState): void {
    const bad = (what: string): never => { throw new FliqsError('state', what, `a stateDict() of a controller over ${this.counts.length} layers with choices [${this.counts.join(', ')}] and totalSteps ${this.totalSteps}`); };
    if (typeof state !== 'object' || state === null || state.version !== 1) bad(`got ${describe(state)}, not a version-1 controller state`);
    if (!Array.isArray(state.counts) || state.counts.length !== this.counts.length || state.counts.some((n, i) => n !== this.counts[i])) {
      bad(`has choices [${Array.isArray(state.counts) ? state.counts.join(', ') : describe(state.counts)}]`);
    }
    if (state.totalSteps !== this.totalSteps) bad(`has totalSteps ${describe(state.totalSteps)}`);
    const rowsOk = (a: unknown): boolean => Array.isArray(a) && a.length === this.counts.length
      && a.every((r, l) => Array.isArray(r) && r.length === this.counts[l] && r.every((x) => typeof x === 'number' && Number.isFinite(x)));
    for (const k of ['logits', 'adamM', 'adamV'] as const) if (!rowsOk(state[k])) bad(`has a malformed ${k}`);
    requireInt('state.adamSteps', state.adamSteps, 0);
    requireInt('state.seed', state.seed, 0, 2 ** 32 - 1);
    if (state.baseline !== null && !(typeof state.baseline === 'number' && Number.isFinite(state.baseline))) bad(`has baseline ${describe(state.baseline)}`);
    if (state.lastSample !== null) this.checkConfig(state.lastSample, 'state.lastSample');
    const rng = new Rng(state.seed);
    rng.setState(state.rng); // validates before anything below changes this controller
    const o = state.options;
    if (typeof o !== 'object' || o === null) bad('has no options');
    // Validate every field into locals first, so a bad state leaves this controller untouched.
    const lr = requirePositive('state.options.lr', o.lr);
    if (!Array.isArray(o.betas) || o.betas.length !== 2) bad(`has betas ${describe(o.betas)}`);
    const beta1 = unit('state.options.betas[0]', o.betas[0]);
    const beta2 = unit('state.options.betas[1]', o.betas[1]);
    const eps = requirePositive('state.options.eps', o.eps);
    const baselineMomentum = unit('state.options.baselineMomentum', o.baselineMomentum);
    if (typeof o.entropyEnd !== 'number' || !Number.isFinite(o.entropyEnd) || o.entropyEnd < 0) bad(`has entropyEnd ${describe(o.entropyEnd)}`);
    const warmupEnd = warmupSteps(this.totalSteps, o.warmupFraction); // validates warmupFraction
    const self = this as { -readonly [K in keyof Controller]: Controller[K] };
    self.seed = state.seed;
    self.lr = lr;
    self.beta1 = beta1;
    self.beta2 = beta2;
    self.eps = eps;
    self.baselineMomentum = baselineMomentum;
    self.entropyEnd = o.entropyEnd;
    self.warmupFraction = o.warmupFraction;
    self.warmupEnd = warmupEnd;
    for (let l = 0; l < this.counts.length; l++) {
      this.logits[l]!.set(state.logits[l]!);
      this.m[l]!.set(state.adamM[l]!);
      this.v[l]!.set(state.adamV[l]!);
    }
    this.adamSteps = state.adamSteps;
    this.baseline = state.baseline;
    this.lastSample = state.lastSample ? [...state.lastSample] : null;
    this.rng = rng;
    this.refresh();
  }

  private step(input: string, t: number): number {
    return requireInt(input, t, 0, this.totalSteps - 1);
  }

  private checkConfig(config: Config, input = 'config'): void {
    if (!Array.isArray(config) || config.length !== this.counts.length) {
      throw new FliqsError(input, `got ${describe(config)}`, `an array of ${this.counts.length} choice indices`);
    }
    for (let l = 0; l < config.length; l++) requireInt(`${input}[${l}]`, config[l], 0, this.counts[l]! - 1);
  }

  /** Recomputes log π, π and H_l from the logits (log-softmax with the max subtracted). */
  private refresh(): void {
    for (let l = 0; l < this.counts.length; l++) {
      const th = this.logits[l]!, lp = this.logp[l]!, p = this.probs[l]!, n = th.length;
      let mx = -Infinity;
      for (let i = 0; i < n; i++) if (th[i]! > mx) mx = th[i]!;
      let z = 0;
      for (let i = 0; i < n; i++) z += Math.exp(th[i]! - mx);
      const lz = mx + Math.log(z);
      let h = 0;
      for (let i = 0; i < n; i++) {
        const li = th[i]! - lz, pi = Math.exp(li);
        lp[i] = li; p[i] = pi;
        h -= pi * li;
      }
      this.layerEntropy[l] = h;
    }
  }

  private gradientInto(g: Float64Array[], config: Config, advantage: number, betaH: number): void {
    for (let l = 0; l < this.counts.length; l++) {
      const p = this.probs[l]!, lp = this.logp[l]!, gl = g[l]!, hl = this.layerEntropy[l]!, a = config[l]!;
      for (let i = 0; i < gl.length; i++) {
        gl[i] = advantage * ((i === a ? 1 : 0) - p[i]!) + betaH * p[i]! * (lp[i]! + hl);
      }
    }
  }

  /** θ += lr/(1 − β1^k) · m / (√v/√(1 − β2^k) + eps): PyTorch's Adam, as ascent. */
  private adamAscent(g: Float64Array[]): void {
    const b1 = this.beta1, b2 = this.beta2, k = ++this.adamSteps;
    const stepSize = this.lr / (1 - b1 ** k), bc2 = Math.sqrt(1 - b2 ** k);
    for (let l = 0; l < this.counts.length; l++) {
      const th = this.logits[l]!, m = this.m[l]!, v = this.v[l]!, gl = g[l]!;
      for (let i = 0; i < th.length; i++) {
        const gi = gl[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        th[i] = th[i]! + stepSize * m[i]! / (Math.sqrt(v[i]!) / bc2 + this.eps);
      }
    }
  }
}

function spaceCounts(space: SearchSpace): number[] {
  if (typeof space !== 'object' || space === null || !Array.isArray((space as SearchSpace).layers)) {
    throw new FliqsError('space', `got ${describe(space)}`, 'a SearchSpace from buildSearchSpace() or an array of choice counts');
  }
  return choiceCounts(space);
}

function unit(input: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new FliqsError(input, `got ${describe(v)}`, 'a number in [0, 1)');
  return v;
}
