// Search overhead: wall time and peak wasm memory of a FLIQS search vs plain QAT of the same model, data and
// number of steps, in the same process (goal: ≤ 1.4× the time, ≤ 1.2× the memory). The search does one
// training step plus one validation-batch forward and a controller update per step. Also the search with the
// old defaults (flags: 'reinforce' estimator, γ 5 on raw rewards, controller lr 0.05, no label smoothing, the
// argmax result): the quality-calibrated defaults must not cost more than 1.15× per step.
import { createModel } from '../dist/nn/zoo.js';
import { Trainer } from '../dist/train/trainer.js';
import { Search } from '../dist/search/search.js';
import { loadDataset } from '../dist/data/node/load.js';
import { runtime } from '../dist/core/runtime.js';
import { environment, printTable, save } from './lib.mjs';

const STEPS = Number(process.env.BENCH_SEARCH_STEPS ?? 400);
const MODELS = (process.env.BENCH_MODELS ?? 'cnn,resnet8').split(',');

function measure(label, build) {
  const before = runtime.arena.bytesInUse;
  runtime.arena.resetPeak();
  const baseMemory = runtime.memory.buffer.byteLength;
  const { gen, dispose } = build();
  // Warm-up steps outside the timing (JIT, first allocations).
  for (let i = 0; i < 5; i++) gen.next();
  const t0 = performance.now();
  let n = 5;
  while (n < STEPS && !gen.next().done) n++;
  const ms = (performance.now() - t0) / (n - 5);
  const peak = runtime.arena.peakBytes - before;
  const row = { label, msPerStep: ms, arenaPeakBytes: peak, wasmMemoryBytes: runtime.memory.buffer.byteLength, baseMemory };
  dispose();
  return row;
}

export default async function run() {
  const data = loadDataset('fashion-mnist', { limit: { train: 64 * STEPS, validation: 5000, test: 1000 } });
  const results = [];
  const rows = [];
  for (const name of MODELS) {
    const train = { epochs: 1, batchSize: 64, optimizer: 'sgd', lr: 0.05, seed: 0 };
    // Both runs cross the activation-profiling point early so most timed steps quantize weights and activations.
    const qat = measure(`${name} QAT INT8`, () => {
      const t = new Trainer(createModel(name, { inputShape: data.train.shape, seed: 0 }), data, { ...train, formats: ['INT8'], actQuantStart: 0.02 });
      return { gen: t.run(), dispose: () => t.dispose() };
    });
    const search = measure(`${name} FLIQS int-s`, () => {
      const s = new Search(createModel(name, { inputShape: data.train.shape, seed: 0 }), data,
        { space: 'int-s', target: '0.5xINT8', train: { ...train, actQuantStart: 0.02 }, controller: { warmupFraction: 0.02 } });
      return { gen: s.run(), dispose: () => s.dispose() };
    });
    const old = measure(`${name} FLIQS int-s, old defaults`, () => {
      const s = new Search(createModel(name, { inputShape: data.train.shape, seed: 0 }), data, {
        space: 'int-s', target: '0.5xINT8', estimator: 'reinforce', gamma: 5, rewardScale: 'none', entropyEnd: 0.5, resultRule: 'argmax',
        train: { ...train, actQuantStart: 0.02, labelSmoothing: 0 }, controller: { warmupFraction: 0.02, lr: 0.05 },
      });
      return { gen: s.run(), dispose: () => s.dispose() };
    });
    const timeRatio = search.msPerStep / qat.msPerStep, memRatio = search.arenaPeakBytes / qat.arenaPeakBytes;
    const vsOld = search.msPerStep / old.msPerStep;
    results.push({ model: name, steps: STEPS, qat, search, old, timeRatio, memRatio, vsOld });
    rows.push([name, qat.msPerStep.toFixed(2), search.msPerStep.toFixed(2), `${timeRatio.toFixed(2)}×`, old.msPerStep.toFixed(2), `${vsOld.toFixed(2)}×`,
      (qat.arenaPeakBytes / 2 ** 20).toFixed(1), (search.arenaPeakBytes / 2 ** 20).toFixed(1), `${memRatio.toFixed(2)}×`]);
  }
  printTable(['model', 'QAT ms/step', 'search ms/step', 'time ratio', 'old-defaults ms/step', 'search / old', 'QAT peak MiB', 'search peak MiB', 'memory ratio'], rows);
  console.log('(peak = the wasm arena high-water mark of each run: weights, gradients, optimizer state, activations and scratch)');
  const path = save('search', { environment: environment({ variant: runtime.variant, steps: STEPS }), results });
  console.log(`\nsaved ${path}`);
}
