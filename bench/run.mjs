// `npm run bench [suite …] [-- --flag value …]`: runs every suite in bench/*.bench.mjs (or the named ones) one
// after another. Flags are left to the suites (each reads process.argv itself, e.g. threads' --threads 1,2,4).
import { readdirSync } from 'node:fs';

/** Flags that take a value (the next argument unless written --flag=value): not suite names. */
const VALUE_FLAGS = ['--threads'];
const args = process.argv.slice(2);
const want = args.filter((a, i) => !a.startsWith('-') && !VALUE_FLAGS.includes(args[i - 1]));
const suites = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.mjs'))
  .map((f) => f.replace('.bench.mjs', '')).filter((s) => want.length === 0 || want.includes(s)).sort();
if (suites.length === 0) {
  console.error(`no bench suite matches ${want.join(', ')}`);
  process.exit(2);
}
// Every suite but threads compares one core of ours with single-threaded peers (TF.js-wasm at 1 thread, PyTorch
// at 1 thread): pin the kernels to one thread for them; threads sets its own counts.
const { setThreads } = await import('../dist/index.js');
for (const s of suites) {
  setThreads(1);
  console.log(`\n## ${s}\n`);
  const mod = await import(`./${s}.bench.mjs`);
  await mod.default();
}
