// `fliqs export` and `fliqs eval` in-process on a tiny synthetic search: the files they write, that the
// exported model's accuracy is the search's own, and the error paths (exit 2, a message naming the file).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../src/cli/eval.js';
import { runExport } from '../src/cli/export.js';
import { runSearch } from '../src/cli/search.js';
import { io } from './cli-io-helpers.js';
import { decodeModel } from '../src/deploy/model-file.js';

const root = mkdtempSync(join(tmpdir(), 'fliqs-deploy-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = join(root, 'search');
beforeAll(() => {
  const c = io();
  const code = runSearch(['--model', 'cnn', '--width', '0.5', '--data', 'synthetic', '--limit', '600', '--batch', '50', '--epochs', '2',
    '--target', '0.5xINT8', '--seed', '3', '--out', run], c);
  if (code !== 0) throw new Error(c.e);
}, 120_000);

describe('fliqs export / eval', () => {
  it('exports the search result, prints its layers and size, and eval reproduces the search\'s own test accuracy', () => {
    const c = io();
    expect(runExport([run, '--onnx', join(run, 'model.onnx')], c), c.e).toBe(0);
    expect(existsSync(join(run, 'model.fliqs'))).toBe(true);
    const onnx = readFileSync(join(run, 'model.onnx'));
    expect(onnx[0]).toBe(0x08); // ModelProto field 1 (ir_version), a varint
    expect(onnx.includes(Buffer.from('fliqs'))).toBe(true); // producer_name
    expect(c.o).toMatch(/wrote .*model\.onnx .*input "images" \[N, 28, 28, 1\] NHWC, output "logits"/);
    const result = JSON.parse(readFileSync(join(run, 'result.json'), 'utf8'));
    const spec = decodeModel(new Uint8Array(readFileSync(join(run, 'model.fliqs'))));
    expect(spec.layers.map((l) => l.weightFormat)).toEqual(result.layers.map((l: { format: string }) => l.format));
    expect(spec.info.source?.reportedAccuracy).toBe(result.test.accuracy);
    expect(c.o).toMatch(/kernel path/);
    expect(c.o).toMatch(/KiB .* vs .* of FP32 weights: [\d.]+× smaller/);
    const e = io();
    expect(runEval([join(run, 'model.fliqs')], e), e.e).toBe(0);
    const m = /test accuracy ([\d.]+)% on (\d+) synthetic images.*the run reported ([\d.]+)%/.exec(e.o);
    expect(m, e.o).not.toBeNull();
    // the same predictions on ≥ 99.9% of images: on this small synthetic test set, the same accuracy
    expect(Math.abs(Number(m![1]) - Number(m![3]))).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(Number(m![2])).toBe(result.test.count);
  });

  it('exports a fliqs train run (its one format on every layer) and eval reproduces its test accuracy', async () => {
    const dir = join(root, 'train');
    const { runTrain } = await import('../src/cli/train.js');
    const stdout = process.stdout.write, stderr = process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await runTrain(['--model', 'lenet5', '--data', 'synthetic', '--limit', '600', '--epochs', '1', '--format', 'INT8', '--out', dir])).toBe(0);
    } finally {
      process.stdout.write = stdout; process.stderr.write = stderr;
    }
    const c = io();
    expect(runExport([dir], c), c.e).toBe(0);
    const spec = decodeModel(new Uint8Array(readFileSync(join(dir, 'model.fliqs'))));
    expect(new Set(spec.layers.map((l) => l.weightFormat))).toEqual(new Set(['INT8']));
    const e = io();
    expect(runEval([join(dir, 'model.fliqs')], e), e.e).toBe(0);
    const m = /test accuracy ([\d.]+)% .*the run reported ([\d.]+)%/.exec(e.o);
    expect(m, e.o).not.toBeNull();
    expect(Math.abs(Number(m![1]) - Number(m![2]))).toBeLessThanOrEqual(0.05 + 1e-9);
  });

  it('never overwrites without --force; --force replaces atomically; --format exports a uniform model', () => {
    const out = join(root, 'twice.fliqs');
    expect(runExport([run, '--out', out], io())).toBe(0);
    const c = io();
    expect(runExport([run, '--out', out, '--format', 'FP32'], c)).toBe(2);
    expect(c.e).toMatch(/twice\.fliqs: already exists; accepted: another --out path, or --force/);
    expect(runExport([run, '--out', out, '--format', 'FP32', '--force'], io())).toBe(0);
    const spec = decodeModel(new Uint8Array(readFileSync(out)));
    expect(new Set(spec.layers.map((l) => l.weightFormat))).toEqual(new Set(['FP32']));
  });

  it('a run without a result, a missing folder, bad flags and corrupt files: exit 2 with the file named', () => {
    const unfinished = join(root, 'unfinished');
    mkdirSync(unfinished);
    copyFileSync(join(run, 'config.json'), join(unfinished, 'config.json'));
    let c = io();
    expect(runExport([unfinished], c)).toBe(2);
    expect(c.e).toMatch(/unfinished: has no result\.json: the run has not finished/);
    c = io();
    expect(runExport([join(root, 'nope')], c)).toBe(2);
    expect(c.e).toMatch(/nope: is not a fliqs run directory/);
    c = io();
    expect(runExport([], c)).toBe(2);
    expect(c.e).toMatch(/expected a run directory/);
    c = io();
    expect(runExport([run, '--format', 'E9M9', '--out', join(root, 'x.fliqs')], c)).toBe(2);
    expect(c.e).toMatch(/format/);

    const bytes = readFileSync(join(run, 'model.fliqs'));
    const cut = join(root, 'cut.fliqs');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 9));
    c = io();
    expect(runEval([cut], c)).toBe(2);
    expect(c.e).toMatch(/cut\.fliqs: fails its CRC-32 check/);
    c = io();
    expect(runEval([join(root, 'missing.fliqs')], c)).toBe(2);
    expect(c.e).toMatch(/missing\.fliqs: does not exist/);
    c = io();
    expect(runEval([join(run, 'model.fliqs'), '--data', 'mnist'], c)).toBe(0); // same shape and classes: runs
    c = io();
    expect(runEval([join(run, 'model.fliqs'), '--limit', '0'], c)).toBe(2);
  });
});
