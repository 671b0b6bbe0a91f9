// Retrains from scratch, with its formats fixed, the configuration each given search chose (its result.json),
// trained the way `fliqs pareto --controls` trains the random control. So a search's choice can be compared with
// the random configuration at equal cost on equal terms (both trained with fixed formats), apart from the
// one-shot training the search's own weights went through. Prints a markdown row per run. `npm run build` first:
//   node --experimental-wasm-relaxed-simd scripts/retrain-choice.mjs runs/study-w05/fliqs-fp-l-w0.5-1.1xINT4-s0 …
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configModel, loadData, trainConfig } from '../dist/cli/search.js';
import { retrainFixed } from '../dist/search/search.js';

const dirs = process.argv.slice(2);
if (dirs.length === 0) { console.error('usage: node scripts/retrain-choice.mjs RUN_DIR …'); process.exit(2); }
console.log('| run | formats | one-shot test accuracy % | retrained % |');
console.log('|---|---|---|---|');
for (const dir of dirs) {
  const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  const c = r.config, data = loadData(c);
  const formats = r.layers.map((l) => l.format);
  // the search's clip multiples: the space's defaults, as the random control uses them
  const test = retrainFixed(configModel(c, data), data, formats, trainConfig(c), r.clipMultiples);
  console.log(`| ${dir} | ${formats.join(' ')} | ${(100 * r.test.accuracy).toFixed(2)} | ${(100 * test.accuracy).toFixed(2)} |`);
}
