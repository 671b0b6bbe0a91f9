// `fliqs demo`: every search-space format's range and its quantization error on a Gaussian tensor,
// with the clip at absmax and at the MSE-optimal clip (the reason fliqs keeps one clip per format).

import { Rng } from '../core/random.js';
import { parseFormat } from '../formats/format.js';
import { mseOptimalClip, tensorStats } from '../kernels/stats.js';
import { quantize } from '../kernels/quant.js';
import { runtime } from '../core/runtime.js';
import { table } from './table.js';

const FORMATS = ['INT2', 'INT4', 'INT8', 'E2M1', 'E3M2', 'E2M3', 'E4M3', 'E5M2', 'BF16', 'FP32'];

function sqnrDb(x: Float32Array, q: Float32Array): number {
  let sig = 0, err = 0;
  for (let i = 0; i < x.length; i++) { sig += x[i]! * x[i]!; err += (q[i]! - x[i]!) ** 2; }
  return err === 0 ? Infinity : 10 * Math.log10(sig / err);
}

export function runDemo(args: string[]): number {
  const n = 1 << 20;
  const seed = Number(args[args.indexOf('--seed') + 1] ?? 0) || 0;
  const x = new Rng(seed).normalArray(n);
  const st = tensorStats(x);
  process.stdout.write(`fliqs ${runtime.variant} wasm — ${n} samples of N(0, 1), seed ${seed}, absmax ${st.absmax.toFixed(3)}\n\n`);
  const rows = FORMATS.map((name) => {
    const f = parseFormat(name);
    const best = mseOptimalClip(x, f);
    const atAbsmax = sqnrDb(x, quantize(x, f, f.ignoresClip ? undefined : st.absmax));
    const atBest = sqnrDb(x, quantize(x, f, f.ignoresClip ? undefined : best.clip));
    return [f.name, f.bits, f.maxValue.toPrecision(6), f.grid ? f.grid.length : '-', atAbsmax.toFixed(2),
      f.ignoresClip ? '-' : `${best.stdMultiple.toFixed(2)}σ`, atBest.toFixed(2)];
  });
  process.stdout.write(`${table(['format', 'bits', 'max value', 'levels', 'SQNR@absmax dB', 'MSE-opt clip', 'SQNR@opt dB'], rows)}\n`);
  return 0;
}
