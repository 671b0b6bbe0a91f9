// Shared benchmark harness: tinybench tasks measured side by side in one run, medians and ratios,
// saved atomically as JSON under bench/results/<suite>.json. Import the library from ../dist.
import { Bench } from 'tinybench';
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import os from 'node:os';

/** Runs named tasks ({ name: fn }) and returns [{ name, medianMs, meanMs, samples }]. */
export async function measure(tasks, { time = 400, warmupTime = 100, iterations = 10 } = {}) {
  const bench = new Bench({ time, warmupTime, iterations });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result;
    const lat = r?.latency ?? {};
    return { name: t.name, medianMs: lat.p50 ?? lat.mean, meanMs: lat.mean, samples: lat.samplesCount ?? r?.samples?.length ?? 0 };
  });
}

/** Machine and run facts stored next to every result. */
export function environment(extra = {}) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    ...extra,
  };
}

/** Writes bench/results/<suite>.json atomically. */
export function save(suite, data) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const path = new URL(`./results/${suite}.json`, import.meta.url);
  const tmp = new URL(`./results/${suite}.json.tmp-${process.pid}`, import.meta.url);
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  renameSync(tmp, path);
  return path.pathname;
}

/** Prints a markdown table. */
export function printTable(header, rows) {
  const line = (r) => `| ${r.join(' | ')} |`;
  console.log([line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n'));
}
