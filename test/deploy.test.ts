// Deploying a model: export → .fliqs bytes → QuantizedModel running on the codes. Held to the scalar
// reference layer by layer (every format family, odd shapes, a derived bound), to the training graph's
// fake-quantized evaluation on whole zoo models, and every corrupt file or bad input gets a FliqsError.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/random.js';
import { FliqsError } from '../src/core/errors.js';
import { crc32 } from '../src/data/cache.js';
import { exportModel, type LayerFormats } from '../src/deploy/export.js';
import { fakeQuantPredict } from '../src/deploy/fake-quant-eval.js';
import { loadModel, QuantizedModel } from '../src/deploy/inference.js';
import { decodeModel, encodeModel, MODEL_FILE_VERSION } from '../src/deploy/model-file.js';
import { predictRef } from '../src/deploy/reference.js';
import type { ModelSpec } from '../src/deploy/spec.js';
import { Conv2d, DepthwiseConv2d, Linear, Sequential, BatchNorm2d, ReLU, Flatten, MaxPool2d, AvgPool2d, Residual } from '../src/nn/layers.js';
import { createModel } from '../src/nn/zoo.js';
import type { Module } from '../src/nn/module.js';
import { quantLayers } from '../src/nn/quant.js';
import { magnitudeSpec, oneLayerBound, profile, randomizeNorms } from './deploy-helpers.js';

const randn = (seed: number, n: number, scale = 1): Float32Array => { const r = new Rng(seed); return Float32Array.from({ length: n }, () => r.normal() * scale); };
const info = (inputShape: [number, number, number], classes: number) => ({ model: 'custom', width: 1, inputShape, classes });
const FAMILIES: LayerFormats[] = ['INT8', 'INT4', 'INT5', 'INT3', 'E2M1', 'E4M3', 'E3M2', 'E5M2', 'BF16', 'FP32',
  { weight: 'INT4', activation: 'INT8' }, { weight: 'E2M1', activation: 'INT8' }, { weight: 'INT8', activation: 'E4M3' }];
type Pair = { weight: string; activation: string };
const fname = (f: LayerFormats): string => (typeof f === 'string' ? f : `${(f as Pair).weight}/${(f as Pair).activation}`);
const formatsOf = (f: LayerFormats): string[] => (typeof f === 'string' ? [f] : [(f as Pair).weight, (f as Pair).activation]);

function exportOne(model: Module, f: LayerFormats, shape: [number, number, number], classes: number, images: Float32Array): ModelSpec {
  randomizeNorms(model);
  profile(model, images, shape, formatsOf(f));
  return exportModel(model, [f], { info: info(shape, classes) });
}

describe('one layer on its codes vs the scalar reference', () => {
  // conv (odd channels, stride 2, padding 2, kernel 5 / 1), depthwise (stride 2), linear (odd sizes); a
  // trailing Flatten makes each output a row of "logits" per image
  const cases: Array<{ name: string; shape: [number, number, number]; make: () => Module; out: number; dw?: boolean }> = [
    { name: 'conv 5×5 s2 p2, 3→9', shape: [9, 7, 3], make: () => new Sequential(new Conv2d(3, 9, 5, { stride: 2, padding: 2, rng: new Rng(3) }), new Flatten()), out: 5 * 4 * 9 },
    { name: 'conv 1×1, 5→1', shape: [4, 3, 5], make: () => new Sequential(new Conv2d(5, 1, 1, { rng: new Rng(4) }), new Flatten()), out: 12 },
    { name: 'conv 3×3 p1 + bn, 1→5', shape: [5, 5, 1], make: () => new Sequential(new Conv2d(1, 5, 3, { padding: 1, bias: false, rng: new Rng(5) }), new BatchNorm2d(5), new Flatten()), out: 25 * 5 },
    { name: 'depthwise 3×3 s2 p1, 13 ch + bn', shape: [7, 6, 13], make: () => new Sequential(new DepthwiseConv2d(13, 3, { stride: 2, padding: 1, rng: new Rng(6) }), new BatchNorm2d(13), new Flatten()), out: 4 * 3 * 13, dw: true },
    { name: 'linear 37→11', shape: [1, 1, 37], make: () => new Sequential(new Flatten(), new Linear(37, 11, { rng: new Rng(7) })), out: 11 },
  ];
  // The kernel path each family must take (file header of src/deploy/layer-runner.ts).
  const PATHS: Record<string, string> = {
    INT8: 'int8', INT4: 'int4', INT5: 'int8', INT3: 'int8', E2M1: 'lut', E4M3: 'lut', E3M2: 'lut', E5M2: 'lut', BF16: 'bf16', FP32: 'f32',
    'INT4/INT8': 'int4', 'E2M1/INT8': 'lut', 'INT8/E4M3': 'lut',
  };
  for (const c of cases) {
    it(`${c.name}: every format family within the derived bound, on its kernel path`, () => {
      const per = c.shape[0] * c.shape[1] * c.shape[2];
      for (const f of FAMILIES) {
        for (const count of [1, 3]) {
          const images = randn(11 + count, count * per, 2);
          const spec = exportOne(c.make(), f, c.shape, c.out, images);
          const ref = predictRef(spec, images, count), bound = oneLayerBound(spec, images, count);
          for (const int4Panels of ['int8', 'nibble'] as const) { // INT4 weights unpacked to int8 panels, or kept as nibbles
            const m = new QuantizedModel(spec, { int4Panels });
            const path = m.layerPaths[0]!.path;
            expect(path, fname(f)).toBe(c.dw && PATHS[fname(f)] === 'int4' ? 'int8' : PATHS[fname(f)]);
            const got = m.predict(images);
            expect(got.length).toBe(c.out * count);
            for (let i = 0; i < got.length; i++) {
              if (!(Math.abs(got[i]! - ref[i]!) <= bound[i]!)) {
                throw new Error(`${c.name} ${fname(f)} (${path}, ${int4Panels}) count ${count} [${i}]: got ${got[i]} ref ${ref[i]} bound ${bound[i]}`);
              }
            }
            m.free();
          }
        }
      }
    });
  }

  it('the integer path is integer arithmetic: INT8 conv is within a few ulps of the reference, with no K in the bound', () => {
    const model = new Sequential(new Conv2d(3, 8, 3, { padding: 1, rng: new Rng(9) }), new Flatten());
    const images = randn(2, 2 * 6 * 6 * 3);
    const spec = exportOne(model, 'INT8', [6, 6, 3], 6 * 6 * 8, images);
    const got = new QuantizedModel(spec).predict(images), ref = predictRef(spec, images, 2);
    const mag = predictRef(magnitudeSpec(spec), images.map(Math.abs), 2);
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      const err = Math.abs(got[i]! - ref[i]!), scale = mag[i]! + Math.abs(spec.weights[0]!.outBias[i % 8]!);
      worst = Math.max(worst, err / (scale * 2 ** -24));
    }
    expect(worst).toBeLessThanOrEqual(8); // f32(acc)·f32(dq) + b vs the reference's f32 sums: ulps, not K·ulps
  });
});

describe('whole models vs the fake-quantized training graph', () => {
  const shape: [number, number, number] = [28, 28, 1];
  const images = randn(21, 24 * 28 * 28);
  const zoo: Array<[string, number]> = [['mlp', 0.25], ['lenet5', 0.5], ['cnn', 0.5], ['resnet8', 0.25], ['mobilenetv2', 0.25]];
  for (const [name, width] of zoo) {
    it(`${name} ×${width}: INT8, INT4/INT8, E4M3, a mixed assignment and FP32 agree with fake quantization`, () => {
      const model = createModel(name, { width, seed: 2 });
      const L = quantLayers(model).length;
      const mixed = Array.from({ length: L }, (_, i) => ['INT8', 'INT4', 'E2M1', 'E4M3', 'INT6', 'BF16'][i % 6]!);
      randomizeNorms(model);
      profile(model, images, shape, ['INT8', 'INT4', 'E2M1', 'E4M3', 'INT6']);
      for (const formats of [new Array(L).fill('INT8'), new Array(L).fill({ weight: 'INT4', activation: 'INT8' }), new Array(L).fill('E4M3'), mixed, new Array(L).fill('FP32')]) {
        const spec = exportModel(model, formats, { info: info(shape, 10) });
        const m = loadModel(encodeModel(spec));
        const ours = m.predict(images, { batchSize: 7 });
        const fq = fakeQuantPredict(model, formats, images, shape);
        const ref = predictRef(spec, images, 24);
        m.free();
        // Elementwise the only discrete difference is an activation code flipped at a rounding boundary by
        // an f32-rounding-sized difference upstream: rare. All but 2% of logits agree to 1e-4 relative.
        let close = 0, closeRef = 0;
        const scale = Math.max(...fq.map(Math.abs));
        for (let i = 0; i < ours.length; i++) {
          if (Math.abs(ours[i]! - fq[i]!) <= 1e-4 * scale) close++;
          if (Math.abs(ours[i]! - ref[i]!) <= 1e-4 * scale) closeRef++;
        }
        const what = `${name} ${formats.map(fname).join(',')}`;
        expect(close / ours.length, what).toBeGreaterThanOrEqual(0.98);
        expect(closeRef / ours.length, what).toBeGreaterThanOrEqual(0.98);
      }
      model.free();
    }, 60_000);
  }

  it('pooling and residual adds lower as the forward computes them', () => {
    const model = new Sequential(new Conv2d(2, 4, 3, { padding: 1, rng: new Rng(1) }), new ReLU(), new AvgPool2d(3, { stride: 2, padding: 1 }),
      new Residual(new Sequential(new Conv2d(4, 4, 1, { rng: new Rng(2) }), new ReLU())), new MaxPool2d(2), new Flatten(), new Linear(4 * 2 * 2, 3, { rng: new Rng(3) }));
    const images = randn(5, 5 * 9 * 9 * 2);
    profile(model, images, [9, 9, 2], ['FP32']);
    const formats = ['FP32', 'FP32', 'FP32'];
    const spec = exportModel(model, formats, { info: info([9, 9, 2], 3) });
    expect(spec.graph.map((n) => n.op)).toEqual(['layer', 'relu', 'avgPool', 'layer', 'relu', 'add', 'maxPool', 'flatten', 'layer']);
    const ours = loadModel(encodeModel(spec)).predict(images);
    const fq = fakeQuantPredict(model, formats, images, [9, 9, 2]);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - fq[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(fq[i]!)));
  });

  it('refuses what it cannot export, naming it', () => {
    expect(() => exportModel(createModel('vit-tiny', { width: 0.25 }), null, { info: info([28, 28, 1], 10) })).toThrow(/MultiHeadSelfAttention|LayerNorm|VitTiny|cannot be exported/);
    const grouped = new Sequential(new Conv2d(4, 4, 3, { groups: 2 }));
    expect(() => exportModel(grouped, ['INT8'], { info: info([5, 5, 4], 4) })).toThrow(/grouped conv/);
    const cnn = createModel('cnn', { width: 0.25 });
    expect(() => exportModel(cnn, ['INT8'], { info: info([28, 28, 1], 10) })).toThrow(FliqsError);
    expect(() => exportModel(cnn, ['INT8', 'INT8', 'INT8'], { info: info([28, 28, 1], 10) })).toThrow(/never profiled/);
    expect(() => exportModel(cnn, ['INT8', 'INT9X', 'INT8'], { info: info([28, 28, 1], 10), clips: [1, 1, 1] })).toThrow(/format/);
  });
});

describe('the .fliqs file', () => {
  const shape: [number, number, number] = [28, 28, 1];
  const model = createModel('cnn', { width: 0.25, seed: 4 });
  const images = randn(31, 3 * 28 * 28);
  profile(model, images, shape, ['INT4', 'E3M2', 'INT8', 'BF16']);
  const spec = exportModel(model, ['INT4', 'E3M2', { weight: 'BF16', activation: 'INT8' }], { info: { ...info(shape, 10), model: 'cnn', width: 0.25 } });
  const bytes = encodeModel(spec);

  it('round-trips every field and array, and its size is the codes plus the header', () => {
    const back = decodeModel(bytes, 'm.fliqs');
    expect(back.info).toEqual(spec.info);
    expect(back.layers).toEqual(spec.layers);
    expect(back.graph).toEqual(spec.graph);
    back.weights.forEach((w, i) => {
      for (const k of ['codes', 'weightScale', 'outScale', 'outBias'] as const) expect(Array.from(w[k]), `${i} ${k}`).toEqual(Array.from(spec.weights[i]![k]));
    });
    const hlen = new DataView(bytes.buffer).getUint32(8, true);
    const codeBytes = spec.layers.reduce((a, l, i) => a + spec.weights[i]!.codes.length + 12 * l.weightShape.at(-1)!, 0);
    expect(bytes.length - hlen - 16).toBeGreaterThanOrEqual(codeBytes);
    expect(bytes.length - hlen - 16 - codeBytes).toBeLessThan(4 * 4 * spec.layers.length + 4); // alignment padding only
    expect(Array.from(loadModel(bytes).predict(images))).toEqual(Array.from(new QuantizedModel(spec).predict(images)));
  });

  it('every truncation and every single flipped bit is refused with a FliqsError naming the file', () => {
    for (let n = 0; n < bytes.length; n += Math.max(1, Math.floor(bytes.length / 97))) {
      expect(() => decodeModel(bytes.subarray(0, n), 'cut.fliqs'), `length ${n}`).toThrow(/cut\.fliqs/);
    }
    const r = new Rng(5);
    for (let t = 0; t < 200; t++) {
      const b = bytes.slice();
      const i = Math.floor(r.uniform() * b.length);
      b[i]! ^= 1 << Math.floor(r.uniform() * 8);
      expect(() => decodeModel(b, 'flip.fliqs'), `byte ${i}`).toThrow(FliqsError);
    }
  });

  /** Bytes with the header replaced by `edit(header)` and the CRC recomputed (a well-formed but unreadable file). */
  function withHeader(edit: (h: Record<string, unknown>) => void, version = MODEL_FILE_VERSION): Uint8Array {
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const hlen = dv.getUint32(8, true);
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
    edit(h);
    const json = new TextEncoder().encode(JSON.stringify(h));
    const padded = Math.ceil(json.length / 4) * 4, data = bytes.subarray(12 + Math.ceil(hlen / 4) * 4, bytes.length - 4);
    const out = new Uint8Array(12 + padded + data.length + 4);
    const o = new DataView(out.buffer);
    o.setUint32(0, dv.getUint32(0, true), true); o.setUint32(4, version, true); o.setUint32(8, json.length, true);
    out.set(json, 12); out.set(data, 12 + padded);
    o.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    return out;
  }

  it('a newer version, an unknown op or layer kind, a bad format or shape: FliqsErrors that say what to do', () => {
    expect(() => decodeModel(withHeader(() => {}), 'same.fliqs')).not.toThrow();
    expect(() => decodeModel(withHeader(() => {}, MODEL_FILE_VERSION + 1), 'new.fliqs')).toThrow(/new\.fliqs.*newer fliqs.*upgrade/);
    expect(() => decodeModel(withHeader((h) => { (h.graph as Array<{ op: string }>)[1]!.op = 'softmax'; }), 'op.fliqs')).toThrow(/op\.fliqs.*"softmax".*does not know/);
    expect(() => decodeModel(withHeader((h) => { (h.layers as Array<{ kind: string }>)[0]!.kind = 'lstm'; }), 'k.fliqs')).toThrow(/k\.fliqs layer 0.*"lstm"/);
    expect(() => decodeModel(withHeader((h) => { (h.layers as Array<{ weightFormat: string }>)[1]!.weightFormat = 'E9M9'; }), 'f.fliqs')).toThrow(/format/);
    expect(() => decodeModel(withHeader((h) => { (h.layers as Array<{ weightShape: number[] }>)[0]!.weightShape[3] = 7; }), 's.fliqs')).toThrow(/s\.fliqs layer 0/);
    expect(() => decodeModel(withHeader((h) => { (h.graph as Array<{ input: number }>)[2]!.input = 9; }), 'g.fliqs')).toThrow(/g\.fliqs.*node 2 reads value 9/);
    expect(() => decodeModel(withHeader((h) => { (h.layers as Array<{ activationClip: number }>)[0]!.activationClip = -1; }), 'c.fliqs')).toThrow(/c\.fliqs.*clip/);
    expect(() => decodeModel(new TextEncoder().encode('not a model at all, just text'), 't.fliqs')).toThrow(/t\.fliqs.*not a fliqs model/);
  });

  it('a well-formed file whose shapes do not fit, or that the runners cannot run, is refused at load', () => {
    expect(() => loadModel(withHeader((h) => { (h.info as { inputShape: number[] }).inputShape = [28, 28, 3]; }), 'c.fliqs'))
      .toThrow(/node 0 \(layer\).*input channels/);
    expect(() => loadModel(withHeader((h) => { (h.info as { classes: number }).classes = 7; }), 'k.fliqs')).toThrow(/graph.*ends in a value.*7 features/);
    expect(() => loadModel(withHeader((h) => {
      const g = h.graph as Array<{ op: string; input: number }>;
      const flat = g.findIndex((n) => n.op === 'flatten');
      g[flat] = { op: 'relu', input: g[flat]!.input }; // the linear layer now reads an image
    }), 'l.fliqs')).toThrow(FliqsError);
  });

  it('images of the wrong shape, type or with NaN are refused before anything runs', () => {
    const m = loadModel(bytes);
    expect(() => m.predict(new Float32Array(28 * 28 + 1))).toThrow(/images.*whole number of 28×28×1/);
    expect(() => m.predict(new Float32Array(0))).toThrow(/images/);
    expect(() => m.predict(Array.from(images) as unknown as Float32Array)).toThrow(/images.*Float32Array/);
    const nan = images.slice(); nan[900] = NaN;
    expect(() => m.predict(nan)).toThrow(/images.*NaN at index 900 \(image 1\)/);
    expect(() => m.predict(images, { batchSize: 0 })).toThrow(/batchSize/);
    m.free();
    expect(() => m.predict(images)).toThrow(/freed/);
    expect(() => loadModel(bytes, 'm.fliqs', { int4Panels: 'nibbles' as 'nibble' })).toThrow(/int4Panels/);
  });
});
