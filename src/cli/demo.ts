// `fliqs demo`: every search-space format's range and its quantization error on a Gaussian tensor,
// with the clip at absmax and at the MSE-optimal clip (the reason fliqs keeps one clip per format).

import { Rng } from '../core/random.js';
import { parseFormat } from '../formats/format.js';
import { mseOptimalClip, tensorStats } from '../kernels/stats.js';
import { quantize } from '../kernels/quant.js';
import { runtime } from '../core/runtime.js';
import { parseFlags, usage, type FlagSpecs } from './args.js';
import { processIo, usageFailure } from './search.js';
import { table } from './table.js';

const SUMMARY = 'Every format\'s range and quantization error on a Gaussian tensor, at absmax and at the MSE-optimal clip.';

const FORMATS = ['INT2', 'INT4', 'INT8', 'E2M1', 'E3M2', 'E2M3', 'E4M3', 'E5M2', 'BF16', 'FP32'];

function sqnrDb(x: Float32Array, q: Float32Array): number {
  let sig = 0, err = 0;
  for (let i = 0; i < x.length; i++) { sig += x[i]! * x[i]!; err += (q[i]! - x[i]!) ** 2; }
  return err === 0 ? Infinity : 10 * Math.log10(sig / err);
}

export const DEMO_FLAGS = {
  seed: { kind: 'int', help: 'seed of the Gaussian tensor', default: 0, min: 0, max: 2 ** 32 - 1 },
  help: { kind: 'boolean', help: 'this text' },
} as const satisfies FlagSpecs;

export function runDemo(args: string[]): number {
  const n = 1 << 20;
  let seed: number;
  try {
    const f = parseFlags(args, DEMO_FLAGS);
    if (f.help) { process.stdout.write(usage('demo', SUMMARY, DEMO_FLAGS)); return 0; }
    seed = f.seed!;
  } catch (e) {
    return usageFailure('demo', e, processIo);
  }
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
