#!/usr/bin/env -S node --experimental-wasm-relaxed-simd
// The `fliqs` command. For now: `fliqs demo` (the default), a table of formats and their quantization
// error on a Gaussian tensor. Node-only: this file may use node: modules, the core may not.

import { runAnalyze } from './analyze.js';
import { runDemo } from './demo.js';
import { runTrain } from './train.js';

const [cmd = 'demo', ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<number> | number> = { demo: runDemo, analyze: runAnalyze, train: runTrain };

const run = commands[cmd];
if (!run || cmd === '--help' || cmd === '-h') {
  const known = Object.keys(commands).join(', ');
  process.stderr.write(`usage: fliqs <command> [options]\ncommands: ${known}\n`);
  process.exit(run || cmd === '--help' || cmd === '-h' ? 0 : 2);
}
process.exitCode = await run(rest);
