// FLIQNAS super-network cost per training step (issue 14: "masking must not make a step slower than the same
// step of the widest model by more than 10%"). One SGD step (forward, loss, backward, update) of mobilenetv2
// ×0.25 on 28×28×1 at batch 64 and INT8 fake quantization, measured side by side in one run:
//   - the super-network (fliqnas-s widths 0.5–1.5×, kernels 3/5/7) set to its widest architecture vs the plain
//     model built at that architecture (the goal: ratio ≤ 1.10);
//   - the super-network at the base architecture (1× width, 3×3) vs the plain base model;
//   - the super-network at its narrowest architecture (what a narrow sample costs).
// The tasks run interleaved (one step of each per round, ROUNDS rounds after WARMUP), so load from other
// processes on this shared machine falls on all of them alike; the figures are medians over rounds.
// BENCH_ROUNDS sets the rounds (default 40).
import { save, environment, printTable } from './lib.mjs';
import * as f from '../dist/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40), WARMUP = 3;
const B = 64, SHAPE = [28, 28, 1];

function stepper(model) {
  for (const [, l] of f.quantLayers(model)) {
    l.quant.setFormat('INT8');
    l.quant.quantizeWeights = true;
    l.quant.quantizeActivations = true;
    l.quant.actClips.set('INT8', 4);
  }
  const opt = new f.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const rng = new f.Rng(1);
  const x = Float32Array.from({ length: B * 28 * 28 }, () => rng.uniform() - 0.5);
  const labels = Int32Array.from({ length: B }, () => rng.int(10));
  return () => f.stepScope(() => {
    opt.zeroGrad();
    const loss = f.crossEntropy(model.forward(f.Tensor.from(x, [B, ...SHAPE])), labels);
    loss.backward();
    opt.step();
  });
}

/** The plain model of one architecture (a value per decision): extract() copies the weights, so shapes match exactly. */
function plainAt(supernet, values) {
  return supernet.extract(values);
}

export default async function () {
  const sn = f.createModel('mobilenetv2', { width: 0.25, inputShape: SHAPE, seed: 1, arch: f.archOptionsOf('fliqnas-s') });
  const decisions = sn.architecture().decisions;
  const widest = decisions.map((d) => d.choices[d.choices.length - 1]);
  const narrowest = decisions.map((d) => d.choices[0]);
  const base = decisions.map((d) => d.base);
  const plainWide = plainAt(sn, widest), plainBase = plainAt(sn, base);
  const snWide = stepper(sn);
  const run = (values, fn) => () => { sn.setArch(values); fn(); };
  const tasks = {
    'super-network, widest': run(widest, snWide),
    'plain model, widest': stepper(plainWide),
    'super-network, base': run(base, snWide),
    'plain model, base': stepper(plainBase),
    'super-network, narrowest': run(narrowest, snWide),
  };
  const times = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    for (const [k, fn] of Object.entries(tasks)) {
      const t0 = performance.now();
      fn();
      if (r >= WARMUP) times[k].push(performance.now() - t0);
    }
  }
  const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };
  const res = Object.entries(times).map(([name, v]) => ({ name, medianMs: median(v), samples: v.length }));
  const ms = Object.fromEntries(res.map((r) => [r.name, r.medianMs]));
  const ratioWide = ms['super-network, widest'] / ms['plain model, widest'];
  const ratioBase = ms['super-network, base'] / ms['plain model, base'];
  printTable(['step (batch 64, INT8 fake-quant)', 'median ms', 'vs plain'], res.map((r) => [
    r.name, r.medianMs.toFixed(2),
    r.name === 'super-network, widest' ? `${ratioWide.toFixed(3)}×` : r.name === 'super-network, base' ? `${ratioBase.toFixed(3)}×` : '',
  ]));
  console.log(`goal: super-network step ≤ 1.10× the widest plain model's — ${ratioWide <= 1.1 ? 'met' : 'NOT met'} (${ratioWide.toFixed(3)}×)`);
  save('fliqnas', {
    environment: environment({ rounds: ROUNDS, threads: f.getThreads(), batch: B, model: 'mobilenetv2 ×0.25', space: 'fliqnas-s' }),
    results: res, ratioWidest: ratioWide, ratioBase, goal: 1.1, met: ratioWide <= 1.1,
  });
}
