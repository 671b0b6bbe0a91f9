// `fliqs export RUN_DIR`: the model a finished search (or train) run trained, with the formats it chose,
// as a .fliqs file (and optionally ONNX). Prints the layers, their kernel paths and the file size beside
// the FP32 size. Never overwrites a file unless --force; every write is atomic.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { exportModel } from '../deploy/export.js';
import { layerPath } from '../deploy/layer-runner.js';
import { encodeModel } from '../deploy/model-file.js';
import { exportOnnx } from '../deploy/onnx/export.js';
import { layerParams, type ModelSpec } from '../deploy/spec.js';
import { parseFormat } from '../formats/format.js';
import { parseFlags, usage, UsageError, type FlagSpecs } from './args.js';
import { writeAtomic } from './files.js';
import { loadRunModel } from './run-model.js';
import { processIo, usageFailure, type Io } from './search.js';
import { table } from './table.js';

export const EXPORT_FLAGS = {
  out: { kind: 'string', help: 'the .fliqs file to write (default RUN_DIR/model.fliqs)' },
  onnx: { kind: 'string', help: 'also write an ONNX model here (QDQ for INT8/INT4, exact tables for other formats)' },
  format: { kind: 'string', help: 'export every layer in this one format instead of the run\'s choice (e.g. FP32, INT8)' },
  force: { kind: 'boolean', help: 'overwrite existing output files' },
  help: { kind: 'boolean', help: 'show this help' },
} satisfies FlagSpecs;

const SUMMARY = 'Exports the model of a finished search or train run (RUN_DIR) as a .fliqs file (and ONNX with --onnx).';

const kib = (n: number): string => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`);

/** A run directory's model as an exported spec: the run's formats, or `format` for every layer. */
export function exportRun(dir: string, format?: string): { spec: ModelSpec; reportedAccuracy: number | null } {
  const r = loadRunModel(dir);
  const formats = format ? r.formats.map(() => parseFormat(format).name) : r.formats;
  return { spec: exportModel(r.model, formats, { info: r.info }), reportedAccuracy: format ? null : r.reportedAccuracy };
}

/** The per-layer table and the size line `fliqs export` prints. */
export function exportSummary(spec: ModelSpec, bytes: number): string {
  const rows = spec.layers.map((l) => [l.name, l.kind, l.weightFormat, l.activationFormat, layerPath(l), layerParams(l),
    Math.ceil((layerParams(l) * parseFormat(l.weightFormat).bits) / 8)]);
  const params = spec.layers.reduce((a, l) => a + layerParams(l), 0);
  return [
    table(['layer', 'kind', 'weights', 'inputs', 'kernel path', 'params', 'code bytes'], rows),
    '',
    `${kib(bytes)} (${bytes} bytes) vs ${kib(params * 4)} of FP32 weights: ${(params * 4 / bytes).toFixed(2)}× smaller`,
  ].join('\n');
}

function refuseExisting(path: string, force: boolean): void {
  if (!force && existsSync(path)) throw new FliqsError(path, 'already exists', 'another --out path, or --force to overwrite it');
}

/**
 * `fliqs export RUN_DIR [--out F] [--onnx F] [--format F] [--force]`: 0 on success, 2 on bad input.
 * @example
 * runExport(['runs/default-search', '--onnx', 'runs/default-search/model.onnx']);
 */
export function runExport(args: string[], io: Io = processIo): number {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('export RUN_DIR', SUMMARY, EXPORT_FLAGS)); return 0; }
  try {
    const [dir, ...rest] = args;
    if (dir === undefined || dir.startsWith('--')) throw new UsageError('expected a run directory first (fliqs export RUN_DIR)');
    const f = parseFlags(rest, EXPORT_FLAGS);
    if (f.format !== undefined) parseFormat(f.format);
    const out = f.out ?? join(dir, 'model.fliqs');
    refuseExisting(out, f.force);
    if (f.onnx) refuseExisting(f.onnx, f.force);
    const { spec } = exportRun(dir, f.format);
    const bytes = encodeModel(spec);
    writeAtomic(out, bytes);
    io.out(`${exportSummary(spec, bytes.length)}\nwrote ${out}\n`);
    if (f.onnx) {
      const onnx = exportOnnx(spec);
      writeAtomic(f.onnx, onnx);
      io.out(`wrote ${f.onnx} (${kib(onnx.length)}; input "images" [N, ${spec.info.inputShape.join(', ')}] NHWC, output "logits")\n`);
    }
    return 0;
  } catch (e) {
    return usageFailure('export', e, io);
  }
}
