// FLIQS controller cost per search step (sample + update, i.e. softmax, categorical draw, REINFORCE
// + entropy gradient, Adam) for realistic layer counts: ResNet-18-like (21 layers × 6 formats, int-l)
// and fp-l (16 formats) over 54 layers (MobileNetV2-like). The point is that it is negligible next
// to a training step. BENCH_TIME_MS sets the tinybench time per task (default 400).
import { measure, save, environment, printTable } from './lib.mjs';
import { Controller } from '../dist/search/controller.js';

const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const opts = { time: TIME, warmupTime: Math.min(200, TIME / 2), iterations: 5 };
const CASES = [
  { label: '21 layers × 6 choices', counts: new Array(21).fill(6) },
  { label: '54 layers × 16 choices', counts: new Array(54).fill(16) },
];
const STEPS = 1000; // per task call, after the warm-up so every update takes the full path

export default async function () {
  const rows = [];
  const results = [];
  for (const c of CASES) {
    const T = 10_000_000;
    const ctl = new Controller(c.counts, { totalSteps: T, seed: 1, warmupFraction: 0 });
    let t = 0;
    const [r] = await measure({
      [c.label]: () => {
        for (let i = 0; i < STEPS; i++, t++) {
          ctl.sample(t);
          ctl.update(t, 0.5 + 0.01 * ((t * 7919) % 13));
        }
      },
    }, opts);
    const usPerStep = (r.medianMs * 1000) / STEPS;
    rows.push([c.label, usPerStep.toFixed(2)]);
    results.push({ ...c, counts: undefined, layers: c.counts.length, choices: c.counts[0], usPerStep });
  }
  printTable(['controller', 'µs per sample+update'], rows);
  save('controller', { environment: environment({ timeMs: TIME }), results });
}
