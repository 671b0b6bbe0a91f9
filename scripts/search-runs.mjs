// Prints a markdown table of FLIQS search runs (each a directory with result.json): cost vs target, final
// policy entropy per searched layer, test accuracy, and the per-layer formats. For the README's study:
//   node scripts/search-runs.mjs runs/pareto-w05-tuned/fliqs-* runs/abl-*
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dirs = process.argv.slice(2).filter((d) => existsSync(join(d, 'result.json')));
const short = (f) => (f.startsWith('INT') ? f.slice(3) : f === 'BF16' ? 'B' : f);
console.log('| run | space | target | γ | β_end | cost / target | final entropy per layer (nats) | test accuracy % | retrained % | formats (first → last layer) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const d of dirs) {
  const r = JSON.parse(readFileSync(join(d, 'result.json'), 'utf8'));
  const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  const searched = r.layers.filter((l) => !l.pinned).length || 1;
  const name = d.split('/').filter(Boolean).slice(-1)[0];
  console.log(`| ${name} | ${c.space} | ${c.target} | ${c.gamma} | ${c.entropyEnd} | ${r.cost.ratio.toFixed(3)} | ${(r.finalEntropy / searched).toFixed(4)} | `
    + `${(100 * r.test.accuracy).toFixed(2)} | ${r.retrain ? (100 * (r.retrain.test?.accuracy ?? r.retrain.accuracy)).toFixed(2) : '—'} | ${r.layers.map((l) => short(l.format)).join(' ')} |`);
}
