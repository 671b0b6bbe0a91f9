// The known-answer toy behind the reward's defaults (README "The reward"), over a grid of settings: four
// layers of equal MACs choose INT4 or INT8 under a target that allows exactly two INT8 layers; layers 0 and
// 1 cost Δ of Q each at INT4; Q has Gaussian noise σ. Counts, over seeds, how often the argmax is the right
// [8,8,4,4], how often its cost is within ±10%, and the mean final entropy per layer. Uses the library's
// Controller and calibration (dist/, so `npm run build` first):
//   npm run build && node scripts/reward-toy.mjs [--seeds 40] [--steps 1718] > bench/results/reward-toy.md
import { Rng } from '../dist/core/random.js';
import { Controller } from '../dist/search/controller.js';
import { DEFAULT_GAMMA_PER_SIGMA, LEGACY_GAMMA, qualityNoise } from '../dist/search/cost.js';
import { DEFAULT_SEARCH_CONTROLLER_LR, DEFAULT_SEARCH_ENTROPY_END, calibrationStart } from '../dist/search/search.js';

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : def; };
const SEEDS = arg('seeds', 40), T = arg('steps', 1718);
const layerCosts = [0, 1, 2, 3].map(() => [16, 64]);
const target = 2 * 64 + 2 * 16;

/** One toy search: { right, inBand, entropy per layer }. `calibrated`: σ-scaled reward with γ = κ·σ. */
function toy(seed, s) {
  const ctl = new Controller([2, 2, 2, 2], {
    totalSteps: T, seed, lr: s.lr, entropyEnd: s.betaEnd, estimator: s.estimator,
    cost: { layerCosts, targetBops: target, gamma: s.kappa === undefined ? s.gamma : 0 },
  });
  const env = new Rng(1000 + seed), cal = calibrationStart(ctl.warmupEnd), qs = [];
  for (let t = 0; t < T; t++) {
    const c = ctl.sample(t);
    const q = 0.88 - s.delta * ((c[0] === 0) + (c[1] === 0)) + s.sigma * env.normal();
    if (ctl.isWarmup(t)) { if (t >= cal) qs.push(q); continue; }
    if (t === ctl.warmupEnd && s.kappa !== undefined) { const sd = qualityNoise(qs); ctl.calibrate(sd, s.kappa * sd); }
    ctl.update(t, s.constantQ ? 0.9 : q, c);
  }
  const am = ctl.argmax(), cost = am.reduce((a, x, l) => a + layerCosts[l][x], 0);
  return { right: am.join('') === '1100', inBand: Math.abs(cost / target - 1) <= 0.1, entropy: ctl.entropy().total / 4 };
}

const defaults = { estimator: 'local', kappa: DEFAULT_GAMMA_PER_SIGMA, lr: DEFAULT_SEARCH_CONTROLLER_LR, betaEnd: DEFAULT_SEARCH_ENTROPY_END, delta: 0.05, sigma: 0.04 };
const legacy = { estimator: 'reinforce', gamma: LEGACY_GAMMA, lr: 0.05, betaEnd: 0.5, delta: 0.05, sigma: 0.04 };
const rows = [
  ['defaults', defaults],
  ['defaults, Δ = 0', { ...defaults, delta: 0 }],
  ['defaults, Q constant', { ...defaults, constantQ: true }],
  ['defaults, σ = 0.02', { ...defaults, sigma: 0.02 }],
  ['defaults, σ = 0.08', { ...defaults, sigma: 0.08 }],
  ['defaults, Δ = 0.02', { ...defaults, delta: 0.02 }],
  ['defaults, Δ = 0.02, σ = 0.08', { ...defaults, delta: 0.02, sigma: 0.08 }],
  ['κ = 4', { ...defaults, kappa: 4 }],
  ['κ = 16', { ...defaults, kappa: 16 }],
  ['κ = 32', { ...defaults, kappa: 32 }],
  ['controller lr 4.6e-3', { ...defaults, lr: 4.6e-3 }],
  ['controller lr 0.02', { ...defaults, lr: 0.02 }],
  ['controller lr 0.05', { ...defaults, lr: 0.05 }],
  ['β_end 0.5', { ...defaults, betaEnd: 0.5 }],
  ["estimator 'reinforce' (else defaults)", { ...defaults, estimator: 'reinforce' }],
  ["estimator 'reinforce', Δ = 0.02, σ = 0.08", { ...defaults, estimator: 'reinforce', delta: 0.02, sigma: 0.08 }],
  ['old defaults: reinforce, γ 5, raw reward, lr 0.05, β_end 0.5', legacy],
  ['old, but γ 0.5', { ...legacy, gamma: 0.5 }],
  ['old, but γ 0.5 and lr 4.6e-3', { ...legacy, gamma: 0.5, lr: 4.6e-3 }],
  ["local estimator, γ 5 raw, lr 0.05, β_end 0.5", { ...legacy, estimator: 'local' }],
];
console.log(`Toy: ${SEEDS} seeds, ${T} steps (warm-up ${Math.ceil(T / 4)}); right = argmax [8,8,4,4] (chance among in-budget: 1 in 6).\n`);
console.log('| settings | right | cost within ±10% | entropy / layer (nats) |');
console.log('|---|---|---|---|');
for (const [name, s] of rows) {
  const rs = Array.from({ length: SEEDS }, (_, i) => toy(i, s));
  const n = (f) => rs.filter(f).length;
  console.log(`| ${name} | ${n((r) => r.right)}/${SEEDS} | ${n((r) => r.inBand)}/${SEEDS} | ${(rs.reduce((a, r) => a + r.entropy, 0) / SEEDS).toFixed(3)} |`);
}
