// Prints a markdown table of FLIQS search runs (each a directory with result.json): cost vs target, final
// policy entropy per searched layer, the step after which the argmax configuration no longer changed (from
// log.jsonl; shows how early a short search settles), test accuracy, and the per-layer formats. For the README's study:
//   node scripts/search-runs.mjs runs/pareto-w05-tuned/fliqs-* runs/abl-*
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COST_TOLERANCE, SETTLED_ENTROPY } from '../dist/search/search.js';

const dirs = process.argv.slice(2).filter((d) => existsSync(join(d, 'result.json')));
/** First logged step from which the argmax stays the final one, or null when log.jsonl has no argmax. */
function settledAt(dir) {
  const path = join(dir, 'log.jsonl');
  if (!existsSync(path)) return null;
  const logged = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => Array.isArray(e.argmax));
  if (logged.length === 0) return null;
  const last = logged[logged.length - 1].argmax.join(' ');
  let i = logged.length - 1;
  while (i > 0 && logged[i - 1].argmax.join(' ') === last) i--;
  return logged[i].step;
}
const short = (f) => (f.startsWith('INT') ? f.slice(3) : f === 'BF16' ? 'B' : f);
console.log('| run | space | target | γ | β_end | cost / target | argmax settled at step | final entropy per layer (nats) | test accuracy % | retrained % | formats (first → last layer) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
let withinCost = 0, lowEntropy = 0;
for (const d of dirs) {
  const r = JSON.parse(readFileSync(join(d, 'result.json'), 'utf8'));
  const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  const searched = r.layers.filter((l) => !l.pinned).length || 1;
  if (r.cost.ratio >= 1 - COST_TOLERANCE && r.cost.ratio <= 1 + COST_TOLERANCE) withinCost++;
  if (r.finalEntropy / searched < SETTLED_ENTROPY) lowEntropy++;
  const name = d.split('/').filter(Boolean).slice(-1)[0];
  console.log(`| ${name} | ${c.space} | ${c.target} | ${c.gamma} | ${c.entropyEnd} | ${r.cost.ratio.toFixed(3)} | ${settledAt(d) ?? '—'} / ${r.steps} | ${(r.finalEntropy / searched).toFixed(4)} | `
    + `${(100 * r.test.accuracy).toFixed(2)} | ${r.retrain ? (100 * r.retrain.test.accuracy).toFixed(2) : '—'} | ${r.layers.map((l) => short(l.format)).join(' ')} |`);
}
console.log(`\ncost within ±${100 * COST_TOLERANCE}% of the target: ${withinCost} of ${dirs.length}; final entropy < ${SETTLED_ENTROPY} nats per layer: ${lowEntropy} of ${dirs.length}`);
