// `npm run bench [suite …]`: runs every suite in bench/*.bench.mjs (or the named ones) one after another.
import { readdirSync } from 'node:fs';

const want = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.mjs'))
  .map((f) => f.replace('.bench.mjs', '')).filter((s) => want.length === 0 || want.includes(s)).sort();
if (suites.length === 0) {
  console.error(`no bench suite matches ${want.join(', ')}`);
  process.exit(2);
}
for (const s of suites) {
  console.log(`\n## ${s}\n`);
  const mod = await import(`./${s}.bench.mjs`);
  await mod.default();
}
