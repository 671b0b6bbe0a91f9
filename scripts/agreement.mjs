// How alike two sets of searches chose: for `fliqs pareto` output directories A and B run over the same grid
// (e.g. one on MNIST, one on Fashion-MNIST), the share of searched layers given the same format by the search
// with the same cell and seed in A and in B, against the share between different seeds of the same cell
// within A and within B. A search that hears the data should agree across datasets about as little as across
// seeds; one that follows the seed and the cost agrees far more across datasets (issue 10: 87% against 27%).
//   node scripts/agreement.mjs runs/agree-lenet5-mnist runs/agree-lenet5-fashion-mnist
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [a, b] = process.argv.slice(2);
if (!a || !b) { console.error('usage: node scripts/agreement.mjs PARETO_DIR_A PARETO_DIR_B'); process.exit(2); }
const runs = (dir) => new Map(readdirSync(dir).filter((d) => /^fliqs-.*-s\d+$/.test(d) && existsSync(join(dir, d, 'result.json')))
  .map((d) => [d, JSON.parse(readFileSync(join(dir, d, 'result.json'), 'utf8'))]));
const A = runs(a), B = runs(b);
const share = (x, y) => {
  const ls = x.layers.filter((l) => !l.pinned);
  return ls.filter((l) => y.layers.find((m) => m.name === l.name)?.format === l.format).length / ls.length;
};
const cell = (name) => name.replace(/-s\d+$/, '');
const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
const pct = (v) => (v.length ? `${(100 * mean(v)).toFixed(0)}% (${v.length} pairs)` : '—');

const sameSeed = [...A.keys()].filter((n) => B.has(n)).map((n) => share(A.get(n), B.get(n)));
const otherSeeds = (M) => {
  const names = [...M.keys()], out = [];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) {
    if (cell(names[i]) === cell(names[j])) out.push(share(M.get(names[i]), M.get(names[j])));
  }
  return out;
};
console.log(`| comparison | layers with the same format |`);
console.log('|---|---|');
console.log(`| same cell and seed, ${a} vs ${b} | ${pct(sameSeed)} |`);
console.log(`| same cell, different seeds, within ${a} | ${pct(otherSeeds(A))} |`);
console.log(`| same cell, different seeds, within ${b} | ${pct(otherSeeds(B))} |`);
