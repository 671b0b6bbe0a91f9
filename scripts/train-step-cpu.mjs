// CPU time of one training step (the Trainer's own trainStep, batch 64, 28×28×1 synthetic data, momentum SGD),
// measured with process.cpuUsage() so a busy shared machine inflates it far less than wall time.
// Usage: node [--experimental-wasm-relaxed-simd] scripts/train-step-cpu.mjs [MODEL=resnet8] [FORMAT=FP32] [STEPS=20]
// (without the flag the baseline-SIMD module runs). Needs `npm run build` first.
import { Rng } from '../dist/core/random.js';
import { runtime } from '../dist/core/runtime.js';
import { setThreads } from '../dist/kernels/threads.js';
import { createModel } from '../dist/nn/zoo.js';
import { Trainer } from '../dist/train/trainer.js';
import { batches } from '../dist/data/batches.js';
import { syntheticSplits } from '../dist/data/synthetic.js';

const [name = 'resnet8', format = 'FP32', stepsArg = '20'] = process.argv.slice(2);
const steps = Number(stepsArg), BATCH = 64;
setThreads(1); // one core: CPU time would sum over threads
const splits = syntheticSplits({ train: 16 * BATCH, validation: BATCH, test: BATCH, shape: [28, 28, 1] });
const pool = [];
for (const b of batches(splits.train, BATCH, new Rng(1), { dropLast: true })) pool.push({ images: b.images.slice(), labels: b.labels.slice(), size: b.size });
const model = createModel(name, { inputShape: [28, 28, 1], seed: 1 });
const trainer = new Trainer(model, splits, { epochs: 1000, batchSize: BATCH, optimizer: 'sgd', lr: 0.01, momentum: 0.9, schedule: 'constant', formats: [format], actQuantStart: 0, profileBatches: 2 });
for (let i = 0; i < 5; i++) trainer.trainStep(pool[i % pool.length]); // warm-up, past activation profiling
const c0 = process.cpuUsage(), t0 = performance.now();
for (let i = 0; i < steps; i++) trainer.trainStep(pool[i % pool.length]);
const cpu = process.cpuUsage(c0), wall = performance.now() - t0;
const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
console.log(JSON.stringify({ model: name, format, module: runtime.variant, steps, cpuMsPerStep: +cpuMs.toFixed(2),
  imagesPerCpuSecond: Math.round((BATCH * 1000) / cpuMs), wallMsPerStep: +(wall / steps).toFixed(2) }));
trainer.dispose();
model.free();
