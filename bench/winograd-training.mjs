// resnet8 FP32 train steps per CPU-second (process.cpuUsage, the machine is shared), batch 64, synthetic
// 28×28×1 data, Winograd dispatch off vs on: two identical trainers, windows alternating so load changes hit both.
// Not a bench suite: node --experimental-wasm-relaxed-simd bench/winograd-training.mjs (WINDOWS, STEPS env).
import { createModel } from '../dist/nn/zoo.js';
import { Trainer } from '../dist/train/trainer.js';
import { syntheticSplits } from '../dist/data/synthetic.js';
import { batches } from '../dist/data/batches.js';
import { Rng } from '../dist/core/random.js';
import { setWinogradDispatch } from '../dist/kernels/winograd.js';
const B = 64, WINDOWS = Number(process.env.WINDOWS ?? 6), STEPS = Number(process.env.STEPS ?? 8);
const splits = syntheticSplits({ train: 16 * B, validation: B, test: B, shape: [28, 28, 1] });
const pool = [];
for (const b of batches(splits.train, B, new Rng(1), { dropLast: true })) pool.push({ images: b.images.slice(), labels: b.labels.slice(), size: b.size });
const mk = () => {
  const model = createModel('resnet8', { inputShape: [28, 28, 1], seed: 1 });
  return new Trainer(model, splits, { epochs: 1000, batchSize: B, optimizer: 'sgd', lr: 0.01, momentum: 0.9, schedule: 'constant', formats: ['FP32'] });
};
const tr = { direct: mk(), winograd: mk() };
let i = 0;
const res = { direct: [], winograd: [] }, loss = { direct: [], winograd: [] };
for (const k of ['direct', 'winograd']) { setWinogradDispatch(k === 'winograd'); for (let s = 0; s < 3; s++) tr[k].trainStep(pool[s]); }
for (let w = 0; w < WINDOWS; w++) {
  for (const k of (w % 2 ? ['winograd', 'direct'] : ['direct', 'winograd'])) {
    setWinogradDispatch(k === 'winograd');
    const c0 = process.cpuUsage();
    for (let s = 0; s < STEPS; s++) loss[k].push(tr[k].trainStep(pool[(i + s) % pool.length]).loss);
    const c = process.cpuUsage(c0);
    res[k].push(STEPS / ((c.user + c.system) / 1e6));
  }
  i += STEPS;
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
for (const k of ['direct', 'winograd']) console.log(k, 'steps/CPU-s median', med(res[k]).toFixed(3), 'windows', res[k].map((r) => r.toFixed(2)).join(' '), 'last loss', loss[k].at(-1).toFixed(4));
console.log('speedup', (med(res.winograd) / med(res.direct)).toFixed(3));
