// Real searches on planted data (README "The reward"): mlp ×0.25 on plantedSplits, where the first layer's
// input carries a ±0.2 feature that INT4 rounds to zero (10% of the labels depend on it, ≈5 points), and a
// target (0.62×INT8) that lets one of the two equal-MAC layers have INT8. Counts, over seeds, how often the
// search gives the first layer INT8 — with the defaults, with Q held constant, on data where no layer is
// special, and with the old defaults — and how often the result's cost is within ±10%. `npm run build` first:
//   node --experimental-wasm-relaxed-simd scripts/planted-search.mjs [--seeds 40] > bench/results/planted-search.md
import { createModel, plantedSplits, Search } from '../dist/index.js';

const i = process.argv.indexOf('--seeds');
const SEEDS = i >= 0 ? Number(process.argv[i + 1]) : 40;
const legacy = { estimator: 'reinforce', gamma: 5, rewardScale: 'none', entropyEnd: 0.5, resultRule: 'argmax', controller: { lr: 0.05 } };
const settings = [
  ['defaults', {}, true],
  ['defaults, Q constant (the control)', { quality: 'constant' }, true],
  ['defaults, no special layer (control data)', {}, false],
  ['Q = −validation loss', { quality: 'neg-loss' }, true],
  ['validation batch 128 (2× the training batch)', { validationBatch: 128 }, true],
  ["estimator 'reinforce'", { estimator: 'reinforce' }, true],
  ['old defaults (reinforce, γ 5, raw reward, lr 0.05, β_end 0.5, no label smoothing)', legacy, true],
];
console.log(`${SEEDS} seeds per row; mlp ×0.25, input [4, 8, 1], 4 classes, space INT4/INT8, target 0.62×INT8, 15 epochs of 2,048 (480 steps).\n`);
console.log('| settings | first layer INT8 | cost within ±10% | wall s |');
console.log('|---|---|---|---|');
for (const [name, opts, special] of settings) {
  let first = 0, inBand = 0;
  const t0 = performance.now();
  for (let seed = 0; seed < SEEDS; seed++) {
    const data = plantedSplits({ seed, special, ambiguous: 0.1 });
    const model = createModel('mlp', { inputShape: [4, 8, 1], classes: 4, width: 0.25, seed });
    const s = new Search(model, data, {
      space: ['INT4', 'INT8'], target: '0.62xINT8', ...opts,
      train: { epochs: 15, batchSize: 64, optimizer: 'sgd', lr: 0.05, seed, ...(opts === legacy ? { labelSmoothing: 0 } : {}) },
    });
    for (const _ of s.run()) { /* search */ }
    const r = s.result();
    if (r.layers[0].format === 'INT8') first++;
    if (Math.abs(r.costRatio - 1) <= 0.1) inBand++;
    s.dispose();
  }
  console.log(`| ${name} | ${first}/${SEEDS} | ${inBand}/${SEEDS} | ${((performance.now() - t0) / 1000).toFixed(1)} |`);
}
