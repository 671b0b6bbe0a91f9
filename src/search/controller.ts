// The FLIQS RL controller: one softmax policy per layer, a policy gradient with a moving-average
// baseline, cosine entropy regularization, and gradient ascent with a small inline Adam on the logits.
//
//   π_l = softmax(θ_l)                       α_l ~ π_l (uniform during the warm-up, t < 0.25 T)
//   r = Q − γ·|C(α)/C_T − 1|                 (with a cost term; without one the caller's value is r)
//   J = E_π[r]/σ − β_H(s)·H,                 H = Σ_l H_l,  H_l = −Σ_a π_l(a) log π_l(a)
// σ is the reward scale (1, or the measured noise of Q: then β_H is in units of that noise).
// Two estimators of ∂E_π[r]/∂θ:
//   'reinforce' (the paper): A = r − r̄, r̄ ← m·r̄ + (1 − m)·r; ∂/∂θ_l[a] ≈ A·(1[a = α_l] − π_l(a))/σ.
//   'local': the same for Q alone (A = Q − Q̄), plus the cost term's gradient summed exactly over layer
//     l's own choices with the other layers as sampled (a local expectation: the cost is a known function,
//     so only Q needs a sample). With K_l(a) = γ·|C(α with α_l = a)/C_T − 1| and K̄_l = Σ_a π_l(a)·K_l(a):
//     ∂/∂θ_l[a] ≈ A·(1[a = α_l] − π_l(a))/σ − π_l(a)·(K_l(a) − K̄_l)/σ.
//     The REINFORCE estimate of the cost part carries the other layers' cost as noise, which at a γ
//     large enough to hold the target drowns Q (README "The reward").
// Entropy: ∂(−β_H·H)/∂θ_l[a] = β_H·π_l(a)·(log π_l(a) + H_l); then θ ← θ + Adam(∂J/∂θ).

import { FliqsError, describe, requireInt, requirePositive } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { reward as costReward } from './cost.js';
import { DEFAULT_ENTROPY_END, DEFAULT_WARMUP_FRACTION, entropyWeight, warmupSteps } from './schedule.js';
import { choiceCounts, type Config, type SearchSpace } from './space.js';
import { CostModel } from './joint-cost.js';

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

/** How the policy gradient is estimated (see the header of controller.ts). */
export type Estimator = 'local' | 'reinforce';
export const ESTIMATORS: readonly Estimator[] = ['local', 'reinforce'];

/**
 * The cost term of the reward: the costs (per layer and choice b²·MACs, or a CostModel over formats and
 * architecture), the target C_T and γ.
 */
export interface CostTerm {
  readonly layerCosts?: readonly (readonly number[])[];
  readonly model?: CostModel;
  readonly targetBops: number;
  readonly gamma: number;
}

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
  /**
   * The reward's cost term. With it, update() takes the quality Q and forms r = Q − γ·|C/C_T − 1| itself;
   * without it, update() takes r as given.
   */
  cost?: CostTerm;
  /** Policy-gradient estimator (default 'local'; it needs `cost`, else 'reinforce' is used). */
  estimator?: Estimator;
  /** σ that rewards are divided by (default 1); see calibrate(). */
  rewardScale?: number;
}

/** What one `update` did. */
export interface UpdateResult {
  /** False during the warm-up (nothing changed). */
  readonly updated: boolean;
  readonly reward: number;
  /** A = r − r̄ ('local': Q − Q̄) with the baseline before this update (0 during the warm-up and on the first update). */
  readonly advantage: number;
  /** r̄ ('local': Q̄) after this update (null until the first search-phase update). */
  readonly baseline: number | null;
  /** β_H(t/T) used for this update (0 during the warm-up). */
  readonly entropyWeight: number;
}

/** Everything needed to resume a controller bit for bit; plain JSON. */
export interface ControllerState {
  /** 1: written before estimators existed (a 'reinforce' controller, reward scale 1). */
  readonly version: 1 | 2;
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
  readonly options: Required<Omit<ControllerOptions, 'totalSteps' | 'seed' | 'betas' | 'cost' | 'estimator' | 'rewardScale'>> & { betas: [number, number] };
  /** Version 2: the estimator, the reward scale and γ (both may have been set by calibrate()). */
  readonly estimator?: Estimator;
  readonly rewardScale?: number;
  readonly gamma?: number | null;
}

/**
 * The FLIQS controller over a search space (or a plain list of choice counts per layer).
 * @example
 * const ctl = new Controller(space, { totalSteps: 1000, seed: 1, cost: { layerCosts: layerCosts(space), targetBops, gamma: 0.3 } });
 * for (let t = 0; t < 1000; t++) {
 *   const config = ctl.sample(t);          // choice index per layer
 *   ctl.update(t, evalQuality(config));     // Q; the reward r = Q − γ·|C/C_T − 1| is formed inside; no-op in the warm-up
 * }
 * ctl.argmax();                             // α*_l = argmax π_l
 * // without `cost`, update(t, r) takes the whole reward (estimator 'reinforce')
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
  readonly estimator: Estimator;
  /** σ the rewards are divided by. */
  readonly rewardScale: number;

  private readonly cost: { model: CostModel; targetBops: number; gamma: number } | null;
  private readonly logits: Float64Array[];
  private readonly logp: Float64Array[];
  private readonly probs: Float64Array[];
  private readonly layerEntropy: Float64Array;
  /** K_l(a) of addCostGradient, one layer at a time (no allocation per update). */
  private readonly costScratch: Float64Array;
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
    this.cost = options.cost === undefined ? null : checkCost(options.cost, counts);
    const estimator = options.estimator ?? (this.cost ? 'local' : 'reinforce');
    if (!ESTIMATORS.includes(estimator)) throw new FliqsError('estimator', `got ${describe(estimator)}`, ESTIMATORS.map((e) => `'${e}'`).join(' or '));
    if (estimator === 'local' && !this.cost) throw new FliqsError('estimator', "is 'local' without a cost term", "options.cost, or estimator 'reinforce'");
    this.estimator = estimator;
    this.rewardScale = requirePositive('rewardScale', options.rewardScale ?? 1);
    const mk = (): Float64Array[] => counts.map((n) => new Float64Array(n));
    this.logits = mk(); this.logp = mk(); this.probs = mk();
    this.m = mk(); this.v = mk(); this.grad = mk();
    this.layerEntropy = new Float64Array(counts.length);
    this.costScratch = new Float64Array(Math.max(...counts));
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

  /** γ of the cost term (null without one). */
  get gamma(): number | null {
    return this.cost ? this.cost.gamma : null;
  }

  /**
   * Sets the reward scale σ and, optionally, γ — before the first search-phase update (the search measures
   * the noise of Q over the end of the warm-up and calls this once).
   * @example
   * ctl.calibrate(0.045, 8 * 0.045) // rewards in units of σ(Q); a 10% cost miss costs 0.8 σ
   */
  calibrate(rewardScale: number, gamma?: number): void {
    if (this.adamSteps > 0 || this.baseline !== null) throw new FliqsError('calibrate', 'was called after the policy started updating', 'a call before the first search-phase update');
    const scale = requirePositive('rewardScale', rewardScale);
    const self = this as { -readonly [K in keyof Controller]: Controller[K] };
    if (gamma !== undefined) {
      if (!this.cost) throw new FliqsError('gamma', 'was given to a controller without a cost term', 'options.cost at construction');
      if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma < 0) throw new FliqsError('gamma', `got ${describe(gamma)}`, 'a finite number ≥ 0');
      this.cost.gamma = gamma;
    }
    self.rewardScale = scale;
  }

  /**
   * Feeds the outcome of the configuration sampled at step t (default: the last `sample`) and takes one
   * Adam ascent step on J. With a cost term the value is the quality Q (the reward is formed here);
   * without one it is the reward r. During the warm-up it changes nothing.
   * @example
   * ctl.update(t, 0.91) // { updated: true, reward: …, advantage: …, baseline: …, entropyWeight: … }
   */
  update(t: number, value: number, config?: Config): UpdateResult {
    const warm = this.isWarmup(t);
    const what = this.cost ? 'quality' : 'reward';
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new FliqsError(what, `got ${describe(value)}`, 'a finite number');
    const alpha = warm ? null : config ?? this.lastSample;
    if (!warm && alpha === null) throw new FliqsError('config', 'is missing and nothing was sampled yet', 'call sample(t) first or pass the configuration');
    if (alpha !== null) this.checkConfig(alpha);
    const c = this.cost && alpha !== null ? this.configCost(alpha) : 0;
    const r = this.cost && alpha !== null ? costReward(value, c, this.cost.targetBops, this.cost.gamma) : value;
    if (warm || alpha === null) return { updated: false, reward: r, advantage: 0, baseline: this.baseline, entropyWeight: 0 };
    const tracked = this.estimator === 'local' ? value : r; // 'local' leaves the cost term to its exact gradient
    const advantage = this.baseline === null ? 0 : tracked - this.baseline;
    const mb = this.baselineMomentum;
    this.baseline = this.baseline === null ? tracked : mb * this.baseline + (1 - mb) * tracked;
    const betaH = entropyWeight(t / this.totalSteps, this.entropyEnd);
    this.gradientInto(this.grad, alpha, advantage / this.rewardScale, betaH);
    if (this.estimator === 'local') this.addCostGradient(this.grad, alpha, c);
    this.adamAscent(this.grad);
    this.refresh();
    return { updated: true, reward: r, advantage, baseline: this.baseline, entropyWeight: betaH };
  }

  /**
   * ∂J/∂θ at the current logits for a configuration, advantage A (already divided by σ) and entropy weight
   * β_H, with the 'local' estimator's exact cost part (a copy; `update` uses the same routines).
   * @example
   * ctl.gradient([0, 2], 0.1, 0.25) // [Float64Array(n0), Float64Array(n1)]
   */
  gradient(config: Config, advantage: number, betaH: number): Float64Array[] {
    this.checkConfig(config);
    const g = this.counts.map((n) => new Float64Array(n));
    this.gradientInto(g, config, advantage, betaH);
    if (this.estimator === 'local') this.addCostGradient(g, config, this.configCost(config));
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

  /** log π_l for every layer (copies). */
  logProbabilities(): Float64Array[] {
    return this.logp.map((p) => p.slice());
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

  /** The baseline r̄ ('local': Q̄; null before the first search-phase update). */
  baselineValue(): number | null {
    return this.baseline;
  }

  /** Everything needed to resume bit for bit (plain JSON; numbers round-trip exactly through JSON). */
  stateDict(): ControllerState {
    const rows = (a: Float64Array[]): number[][] => a.map((r) => [...r]);
    return {
      version: 2, counts: [...this.counts], totalSteps: this.totalSteps, seed: this.seed,
      rng: this.rng.getState(), logits: rows(this.logits), adamM: rows(this.m), adamV: rows(this.v),
      adamSteps: this.adamSteps, baseline: this.baseline,
      lastSample: this.lastSample ? [...this.lastSample] : null,
      options: {
        lr: this.lr, betas: [this.beta1, this.beta2], eps: this.eps, baselineMomentum: this.baselineMomentum,
        entropyEnd: this.entropyEnd, warmupFraction: this.warmupFraction,
      },
      estimator: this.estimator, rewardScale: this.rewardScale, gamma: this.gamma,
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
    if (typeof state !== 'object' || state === null || (state.version !== 1 && state.version !== 2)) bad(`got ${describe(state)}, not a version-1 or -2 controller state`);
    // version 1 predates estimators: a 'reinforce' controller with reward scale 1 and the reward formed outside
    const estimator = state.version === 1 ? 'reinforce' : state.estimator;
    if (estimator !== this.estimator) bad(`has estimator ${describe(estimator)} (this controller: '${this.estimator}')`);
    const rewardScale = state.version === 1 ? 1 : requirePositive('state.rewardScale', state.rewardScale);
    const gamma = state.version === 1 ? this.gamma : state.gamma ?? null;
    if ((gamma === null) !== (this.cost === null) || (gamma !== null && !(typeof gamma === 'number' && Number.isFinite(gamma) && gamma >= 0))) {
      bad(`has gamma ${describe(gamma)} (this controller ${this.cost ? 'has' : 'has no'} cost term)`);
    }
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
    self.rewardScale = rewardScale;
    if (this.cost && typeof gamma === 'number') this.cost.gamma = gamma;
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

  /** C(α): Σ_l b(α_l)²·MACs_l(α), summed in layer order as configCost does. */
  private configCost(config: Config): number {
    return this.cost!.model.cost(config);
  }

  /**
   * Adds −π_l(a)·(K_l(a) − K̄_l)/σ: the exact gradient of −E[γ·|C/C_T − 1|] over each layer's own choice, the
   * other layers as in `config` (whose cost is `total`).
   */
  private addCostGradient(g: Float64Array[], config: Config, total: number): void {
    const { model, targetBops, gamma } = this.cost!;
    const k = this.costScratch;
    for (let l = 0; l < this.counts.length; l++) {
      const p = this.probs[l]!, gl = g[l]!;
      model.costsWith(config, total, l, k);
      let mean = 0;
      for (let a = 0; a < gl.length; a++) {
        k[a] = gamma * Math.abs(k[a]! / targetBops - 1);
        mean += p[a]! * k[a]!;
      }
      for (let a = 0; a < gl.length; a++) gl[a] = gl[a]! - p[a]! * (k[a]! - mean) / this.rewardScale;
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

function checkCost(cost: CostTerm, counts: readonly number[]): { model: CostModel; targetBops: number; gamma: number } {
  const accepted = `{ layerCosts: per layer, one finite cost ≥ 0 per choice (${counts.length} layers with [${counts.join(', ')}] choices) — or model: a CostModel over these decisions —, targetBops > 0, gamma ≥ 0 }`;
  const table = typeof cost === 'object' && cost !== null && cost.model === undefined && Array.isArray(cost.layerCosts) && cost.layerCosts.length === counts.length
    && !cost.layerCosts.some((r, l) => !Array.isArray(r) || r.length !== counts[l] || r.some((c) => typeof c !== 'number' || !(c >= 0) || !Number.isFinite(c)));
  const model = typeof cost === 'object' && cost !== null && cost.layerCosts === undefined && cost.model instanceof CostModel
    && cost.model.counts.length === counts.length && cost.model.counts.every((n, i) => n === counts[i]);
  if (!table && !model) throw new FliqsError('cost', `got ${describe(cost)}`, accepted);
  if (typeof cost.targetBops !== 'number' || !(cost.targetBops > 0) || !Number.isFinite(cost.targetBops)) throw new FliqsError('cost.targetBops', `got ${describe(cost.targetBops)}`, 'a finite number > 0');
  if (typeof cost.gamma !== 'number' || !(cost.gamma >= 0) || !Number.isFinite(cost.gamma)) throw new FliqsError('cost.gamma', `got ${describe(cost.gamma)}`, 'a finite number ≥ 0');
  return { model: model ? cost.model! : CostModel.fromTable(cost.layerCosts!), targetBops: cost.targetBops, gamma: cost.gamma };
}

function unit(input: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new FliqsError(input, `got ${describe(v)}`, 'a number in [0, 1)');
  return v;
}
