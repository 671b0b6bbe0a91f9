#!/usr/bin/env -S node --experimental-wasm-relaxed-simd
// The `fliqs` command: dispatches to one file per command. Node-only: the core stays browser-safe.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FliqsError, FliqsIoError } from '../core/errors.js';
import { runAnalyze } from './analyze.js';
import { usage } from './args.js';
import { runDemo } from './demo.js';
import { runEval } from './eval.js';
import { runExport } from './export.js';
import { runPareto } from './pareto.js';
import { runReport } from './report.js';
import { DEFAULT_SEARCH_ARGS, runSearch } from './search.js';
import { runServe } from './serve.js';
import { runTrain } from './train.js';

/** `npm start`: the default search, into the first free runs/default-search[-N]. */
function runStart(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    const base = DEFAULT_SEARCH_ARGS.filter((_, i, a) => a[i] !== '--out' && a[i - 1] !== '--out').join(' ');
    process.stdout.write(usage('start', 'Runs the default FLIQS search into the first free runs/default-search[-N], then exports its result '
      + `(fliqs export) and evaluates the exported file on its low-precision kernels (fliqs eval). Defaults: ${base}. `
      + 'Any flag of `fliqs search` (fliqs search --help) changes them, e.g. fliqs start --space fp-s.', {}));
    return 0;
  }
  let out = 'runs/default-search';
  for (let i = 2; existsSync(out); i++) out = `runs/default-search-${i}`;
  const base = [...DEFAULT_SEARCH_ARGS];
  const at = base.indexOf('--out');
  if (at >= 0) base.splice(at, 2);
  const code = runSearch([...base, '--out', out, ...args]);
  if (code !== 0 || !existsSync(join(out, 'result.json'))) return code; // stopped early (--stop-after) or failed
  process.stdout.write(`\nexporting the result (fliqs export ${out}) …\n`);
  const exported = runExport([out]);
  return exported !== 0 ? exported : runEval([join(out, 'model.fliqs')]);
}

const commands: Record<string, { run: (args: string[]) => Promise<number> | number; help: string }> = {
  start: { run: runStart, help: 'the default search (small CNN, Fashion-MNIST, int-s, 0.5×INT8 target; under a minute on 2 cores), then export and eval its result' },
  search: { run: runSearch, help: 'FLIQS search: per-layer formats under a BOPs target' },
  train: { run: runTrain, help: '(quantization-aware) training with one format for every layer' },
  export: { run: runExport, help: 'a finished run\'s model as a .fliqs file (and ONNX with --onnx)' },
  eval: { run: runEval, help: 'an exported .fliqs model on a test split, on its low-precision kernels' },
  report: { run: runReport, help: 'SVG plots of a search run' },
  pareto: { run: runPareto, help: 'uniform baselines and searches over widths/targets: CSV + accuracy-vs-MBOPs SVG' },
  analyze: { run: runAnalyze, help: 'switching error and optimal clips on synthetic tensors (paper A.8)' },
  demo: { run: runDemo, help: 'formats and their quantization error on a Gaussian tensor' },
  serve: { run: runServe, help: 'the demo page (a search in the browser, live charts) with the library, cross-origin isolated' },
};

const [cmd, ...args] = process.argv.slice(2);
// -h is --help for every command (a command's own parser knows only --flags)
const rest = args.map((a) => (a === '-h' ? '--help' : a));
if (cmd === '--version' || cmd === '-v') {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`fliqs ${pkg.version}\n`);
  process.exit(0);
}
const entry = cmd === undefined || !Object.hasOwn(commands, cmd) ? undefined : commands[cmd];
if (!entry) {
  // fliqs --help: the usage on stdout, exit 0; no command or an unknown one: a usage error on stderr, exit 2
  const list = Object.entries(commands).map(([k, c]) => `  ${k.padEnd(8)} ${c.help}`).join('\n');
  const text = `usage: fliqs <command> [flags]   (fliqs <command> --help for its flags; fliqs --version)\n\n${list}\n`;
  if (cmd === '--help' || cmd === '-h') {
    process.stdout.write(text);
    process.exit(0);
  }
  process.stderr.write(`${cmd === undefined ? 'fliqs: no command given' : `fliqs: unknown command ${JSON.stringify(cmd)}`}\n${text}`);
  process.exit(2);
}
// A closed pipe (`fliqs demo | head`) ends the output quietly, as for any command-line tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}

/**
 * A failure fliqs did not foresee (a bug): one line with the message and where the full trace was written
 * (a file in the temp folder), exit 1. Never a stack trace on the terminal.
 */
function unexpected(e: unknown): void {
  const text = e instanceof Error ? `${e.stack ?? e.message}` : String(e);
  let where = '(the trace could not be written)';
  try {
    const file = join(tmpdir(), `fliqs-${cmd}-${process.pid}-${Date.now()}.log`);
    writeFileSync(file, `fliqs ${[cmd, ...rest].join(' ')}\nnode ${process.version}\n\n${text}\n`);
    where = `the trace is in ${file}`;
  } catch { /* keep the one line */ }
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`fliqs ${cmd}: unexpected error: ${message} (${where}; please report it)\n`);
  process.exitCode = 1;
}
process.on('uncaughtException', (e) => { unexpected(e); process.exit(1); });

try {
  process.exitCode = await entry.run(rest);
} catch (e) {
  // Bad input that surfaced late (a corrupt checkpoint, a missing data package; exit 2) or a file that could
  // not be read or written (a full disk, a read-only folder; exit 1): say what, not a stack.
  if (e instanceof FliqsError) {
    process.stderr.write(`fliqs ${cmd}: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exitCode = e instanceof FliqsIoError ? 1 : 2;
  } else {
    unexpected(e);
  }
}
