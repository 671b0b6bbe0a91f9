// JSON model specs (issue 15 item 3): modelFromSpec's errors name the JSON path; the zoo's cnn written as a spec
// is the zoo's cnn (same parameters, same logits for the same seed); `fliqs search --model spec.json` runs
// in-process, records the spec in config.json, and `fliqs export` rebuilds and exports the run from the folder alone.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { Tensor, noGrad } from '../src/autograd/tensor.js';
import { Rng } from '../src/core/random.js';
import { modelFromSpec, type LayerListSpec } from '../src/nn/spec.js';
import { createModel, describeModel } from '../src/nn/zoo.js';
import { runSearch } from '../src/cli/search.js';
import { io } from './cli-io-helpers.js';
import { runExport } from '../src/cli/export.js';
import { readParetoCsv, runPareto } from '../src/cli/pareto.js';
import { decodeModel } from '../src/deploy/model-file.js';
import * as root from '../src/index.js';

const CNN: LayerListSpec = {
  name: 'cnn as a spec',
  layers: [
    { type: 'conv', out: 16, kernel: 3, padding: 1 }, { type: 'relu' }, { type: 'maxpool', kernel: 2 },
    { type: 'conv', out: 32, kernel: 3, padding: 1 }, { type: 'relu' }, { type: 'maxpool', kernel: 2 },
    { type: 'flatten' }, { type: 'linear', out: 'classes' },
  ],
};

function thrown(spec: unknown, opts = {}): FliqsError {
  try {
    modelFromSpec(spec, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(FliqsError);
    return e as FliqsError;
  }
  throw new Error('no error');
}

const paramCount = (m: { parameters(): Tensor[] }): number => m.parameters().reduce((s, p) => s + p.size, 0);

describe('modelFromSpec', () => {
  it('is exported at the package root', () => {
    expect(root.modelFromSpec).toBe(modelFromSpec);
  });

  it("the zoo's cnn as a spec: same parameter names, shapes and values, same logits for the same seed", () => {
    for (const [shape, seed, width] of [[[28, 28, 1], 5, 1], [[32, 32, 3], 1, 0.5]] as const) {
      const a = createModel('cnn', { inputShape: shape, classes: 7, seed, width });
      const b = modelFromSpec(CNN, { inputShape: shape, classes: 7, seed, width });
      expect(paramCount(b)).toBe(paramCount(a));
      expect(b.namedParameters().map(([n, t]) => [n, t.shape])).toEqual(a.namedParameters().map(([n, t]) => [n, t.shape]));
      const x = Tensor.from(Float32Array.from({ length: 2 * shape[0] * shape[1] * shape[2] }, ((r) => () => r.normal())(new Rng(9))), [2, ...shape]);
      a.eval(); b.eval();
      const [ya, yb] = noGrad(() => [a.forward(x).toArray(), b.forward(x).toArray()]);
      expect(Array.from(yb)).toEqual(Array.from(ya));
      expect(describeModel(b, shape).map((l) => l.macs)).toEqual(describeModel(a, shape).map((l) => l.macs));
    }
  });

  it('builds every block: depthwise, batch-norm, avg/global pools, residual with and without shortcut, relu6, gelu', () => {
    const m = modelFromSpec({
      layers: [
        { type: 'conv', out: 8, kernel: 3, stride: 2, padding: 'valid', bias: false }, { type: 'batchnorm' }, { type: 'relu6' },
        { type: 'residual', body: [{ type: 'depthwise', kernel: 3, padding: 'same' }, { type: 'batchnorm' }, { type: 'relu' }] },
        { type: 'residual', body: [{ type: 'conv', out: 12, kernel: 3, stride: 2, padding: 1 }, { type: 'gelu' }],
          shortcut: [{ type: 'conv', out: 12, kernel: 1, stride: 2 }] },
        { type: 'avgpool', kernel: 3, stride: 1, padding: 1 }, { type: 'globalpool' }, { type: 'linear', out: 'classes' },
      ],
    }, { inputShape: [16, 16, 2], classes: 3 });
    const y = noGrad(() => m.forward(Tensor.from(new Float32Array(4 * 16 * 16 * 2).fill(0.5), [4, 16, 16, 2])));
    expect(y.shape).toEqual([4, 3]);
    expect(describeModel(m, [16, 16, 2]).map((l) => l.kind)).toEqual(['conv', 'depthwise', 'conv', 'conv', 'linear']);
  });

  const cases: Array<[string, unknown, RegExp, RegExp, object?]> = [
    ['not an object', [1], /^model spec$/, /"layers"/],
    ['no layers', {}, /^layers$/, /non-empty list/],
    ['empty layers', { layers: [] }, /^layers$/, /non-empty list/],
    ['unknown top-level field', { layers: CNN.layers, depth: 3 }, /^depth$/, /"layers"/],
    ['a layer that is not an object', { layers: [3] }, /^layers\[0\]$/, /types: conv, depthwise/],
    ['unknown layer type', { layers: [{ type: 'conv3d' }] }, /^layers\[0\]\.type$/, /conv, depthwise, linear, batchnorm/],
    ['missing kernel', { layers: [{ type: 'conv', out: 4 }] }, /^layers\[0\]\.kernel$/, /"out", "kernel"/],
    ['unknown field', { layers: [{ type: 'relu', slope: 0.1 }] }, /^layers\[0\]\.slope$/, /no other field/],
    ['fractional out', { layers: [{ type: 'conv', out: 2.5, kernel: 3 }] }, /^layers\[0\]\.out$/, /"classes"/],
    ['odd stride', { layers: [{ type: 'conv', out: 4, kernel: 3, stride: 0 }] }, /^layers\[0\]\.stride$/, /integer ≥ 1/],
    ['bad padding', { layers: [{ type: 'conv', out: 4, kernel: 3, padding: 'full' }] }, /^layers\[0\]\.padding$/, /"same" or "valid"/],
    ['same with stride 2', { layers: [{ type: 'conv', out: 4, kernel: 3, stride: 2, padding: 'same' }] }, /^layers\[0\]\.padding$/, /stride 1 and odd/],
    ['bias not boolean', { layers: [{ type: 'linear', out: 4, bias: 'no' }] }, /^layers\[0\]\.bias$/, /true or false/],
    ['kernel larger than the input', { layers: [{ type: 'maxpool', kernel: 2 }, { type: 'maxpool', kernel: 2 }, { type: 'conv', out: 4, kernel: 9 }] },
      /^layers\[2\]\.kernel$/, /no larger than the padded input/],
    ['pool window larger than the input', { layers: [{ type: 'avgpool', kernel: 5 }] }, /^layers\[0\]\.kernel$/, /no larger/, { inputShape: [4, 4, 1] }],
    ['pool padding as large as the window', { layers: [{ type: 'maxpool', kernel: 2, padding: 2 }] }, /^layers\[0\]\.padding$/, /smaller than the window/],
    ['linear on an image', { layers: [{ type: 'linear', out: 'classes' }] }, /^layers\[0\]$/, /flatten/],
    ['conv after flatten', { layers: [{ type: 'flatten' }, { type: 'conv', out: 4, kernel: 1 }] }, /^layers\[1\]$/, /before any flatten/],
    ['residual changing channels without a shortcut', { layers: [{ type: 'residual', body: [{ type: 'conv', out: 4, kernel: 1 }] }] },
      /^layers\[0\]\.body$/, /add a "shortcut"/],
    ['residual shortcut of another shape', { layers: [{ type: 'residual', body: [{ type: 'conv', out: 4, kernel: 1 }], shortcut: [{ type: 'conv', out: 4, kernel: 1, stride: 2 }] }] },
      /^layers\[0\]\.shortcut$/, /same output shape/],
    ['error inside a residual body', { layers: [{ type: 'residual', body: [{ type: 'relu' }, { type: 'conv', out: 4 }] }] },
      /^layers\[0\]\.body\[1\]\.kernel$/, /"kernel"/],
    ['residual body not a list', { layers: [{ type: 'residual', body: { type: 'relu' } }] }, /^layers\[0\]\.body$/, /non-empty list/],
    ['does not end in the class scores', { layers: [{ type: 'flatten' }, { type: 'linear', out: 12 }] }, /^layers$/, /"out": "classes"/],
    ['ends in an image', { layers: [{ type: 'conv', out: 'classes', kernel: 1 }] }, /^layers$/, /flatten or globalpool/],
  ];
  for (const [what, spec, input, accepted, opts] of cases) {
    it(`refuses ${what}, naming the JSON path`, () => {
      const e = thrown(spec, opts);
      expect(e.input).toMatch(input);
      expect(e.accepted ?? '').toMatch(accepted);
    });
  }
});

describe('fliqs search --model spec.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fliqs-model-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const specFile = join(dir, 'tiny.json');
  const SPEC = {
    layers: [
      { type: 'conv', out: 4, kernel: 3, stride: 2, padding: 1, bias: false }, { type: 'batchnorm' }, { type: 'relu' },
      { type: 'residual', body: [{ type: 'conv', out: 4, kernel: 3, padding: 1 }, { type: 'relu' }] },
      { type: 'maxpool', kernel: 2 }, { type: 'flatten' }, { type: 'linear', out: 'classes' },
    ],
  };
  writeFileSync(specFile, JSON.stringify(SPEC));
  const out = join(dir, 'run');

  it('searches it, keeps the spec in config.json, and fliqs export rebuilds and exports it without the file', () => {
    const c = io();
    const code = runSearch(['--model', specFile, '--data', 'synthetic', '--limit', '600', '--validation', '100', '--batch', '50', '--epochs', '2',
      '--target', '0.5xINT8', '--out', out, '--stop-after', '7'], c);
    expect(code, c.e).toBe(0);
    rmSync(specFile); // the run folder alone must be enough to resume and export
    const r = io();
    expect(runSearch(['--resume', '--out', out], r), r.e).toBe(0);
    expect(r.e).toMatch(/resuming .* at step [1-9]\d*\/24/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.modelSpec).toEqual(SPEC);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.layers.map((l: { name: string }) => l.name)).toEqual(['layers.0', 'layers.3.body.layers.0', 'layers.6']);
    const e = io();
    expect(runExport([out], e), e.e).toBe(0);
    const spec = decodeModel(new Uint8Array(readFileSync(join(out, 'model.fliqs'))));
    expect(spec.layers.map((l) => l.weightFormat)).toEqual(result.layers.map((l: { format: string }) => l.format));
    expect(spec.layers[0]!.name).toBe('layers.0');
  }, 60_000);

  it('fliqs train --model spec.json trains it, and resume and export need only the run folder', async () => {
    const { runTrain } = await import('../src/cli/train.js');
    const file = join(dir, 'mlp.json'), run = join(dir, 'train');
    writeFileSync(file, JSON.stringify({ layers: [{ type: 'flatten' }, { type: 'linear', out: 16 }, { type: 'relu' }, { type: 'linear', out: 'classes' }] }));
    const stdout = process.stdout.write, stderr = process.stderr.write;
    let err = '';
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
    try {
      const args = ['--model', file, '--data', 'synthetic', '--limit', '600', '--validation', '100', '--epochs', '2', '--batch', '50', '--format', 'INT8', '--out', run];
      expect(await runTrain([...args, '--stop-after', '5']), err).toBe(0);
      rmSync(file);
      expect(await runTrain(['--resume', '--out', run]), err).toBe(0);
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).modelSpec.layers).toHaveLength(4);
    const e = io();
    expect(runExport([run], e), e.e).toBe(0);
    expect(decodeModel(new Uint8Array(readFileSync(join(run, 'model.fliqs')))).layers.map((l) => l.weightFormat)).toEqual(['INT8', 'INT8']);
  }, 60_000);

  it('fliqs pareto --model spec.json sweeps it (uniform baseline and search), the plot titled by the file name', () => {
    const file = join(dir, 'my-net.json'), out = join(dir, 'pareto');
    writeFileSync(file, JSON.stringify(SPEC));
    const c = io();
    const code = runPareto(['--model', file, '--data', 'synthetic', '--limit', '300', '--batch', '50', '--epochs', '2', '--widths', '1',
      '--targets', '0.5xINT8', '--spaces', 'int-s', '--uniform', 'INT8', '--out', out], c);
    expect(code, c.e).toBe(0);
    expect(readParetoCsv(join(out, 'pareto.csv')).map((r) => r.kind)).toEqual(['uniform', 'fliqs']);
    expect(readFileSync(join(out, 'pareto.svg'), 'utf8')).toContain('my-net on synthetic');
  }, 60_000);

  it('a spec mistake exits 2 with the file and JSON path, before any run folder is written', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ layers: [{ type: 'conv', out: 4, kernel: 40 }, { type: 'flatten' }, { type: 'linear', out: 'classes' }] }));
    const c = io();
    expect(runSearch(['--model', bad, '--data', 'synthetic', '--limit', '200', '--out', join(dir, 'bad-run')], c)).toBe(2);
    expect(c.e).toMatch(/bad\.json layers\[0\]\.kernel: 40 is larger than the input height 28/);
    expect(existsSync(join(dir, 'bad-run', 'config.json'))).toBe(false);
    const m = io();
    expect(runSearch(['--model', join(dir, 'missing.json'), '--data', 'synthetic', '--out', join(dir, 'x')], m)).toBe(2);
    expect(m.e).toMatch(/missing\.json: does not exist/);
  });

  it('fliqs train refuses a spec mistake before its run folder is written', async () => {
    const { runTrain } = await import('../src/cli/train.js');
    const bad = join(dir, 'bad-train.json');
    writeFileSync(bad, JSON.stringify({ layers: [{ type: 'flatten' }, { type: 'linear', out: 12 }] }));
    const stderr = process.stderr.write;
    let err = '';
    process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
    try {
      expect(await runTrain(['--model', bad, '--data', 'synthetic', '--limit', '300', '--out', join(dir, 'bad-train')])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
    expect(err).toMatch(/bad-train\.json layers: end with 12 features, not the 10 class scores/);
    expect(existsSync(join(dir, 'bad-train', 'config.json'))).toBe(false);
  });
});
