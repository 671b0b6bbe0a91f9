// QuantizedModel: runs a deployed model's graph on its codes (layer-runner.ts), batch by batch, from a
// plain Float32Array of NHWC images to logits. loadModel(bytes) is all a browser needs (no file system).

import { FliqsError, describe, requireInt, requireObject } from '../core/errors.js';
import { Runtime, runtime as defaultRuntime, type WasmF32 } from '../core/runtime.js';
import { add, relu6, relu } from '../kernels/elementwise.js';
import { avgPool2d, globalAvgPool, maxPool2d, pool2dShape } from '../kernels/conv.js';
import { checkSpec } from './check.js';
import { F32_OUT, LayerRunner, activationPtr, type Activation, type Int4Panels, type LayerPath, type OutputPlan } from './layer-runner.js';
import { decodeModel } from './model-file.js';
import { valueShapes } from './reference.js';
import type { DeployNode, ModelSpec } from './spec.js';

export interface LoadOptions {
  /** INT4 weights unpacked to int8 panels ('int8', default: fastest) or kept as nibble panels ('nibble': ¼ the memory). */
  int4Panels?: Int4Panels;
}

export interface PredictOptions {
  /** Images per forward pass (default 64): bounds the activations' memory. */
  batchSize?: number;
}

export class QuantizedModel {
  readonly spec: ModelSpec;
  private readonly runners: LayerRunner[] = [];
  private readonly reads: number[];
  /** Per node: what its layer writes (fused activation, codes for its readers), or the value it merely passes on. */
  private readonly plan: Array<{ out: OutputPlan } | { alias: true } | null>;
  private freed = false;

  /** Prepares `spec` for inference: checks it, then places every layer's weights (as codes) in wasm memory. */
  constructor(spec: ModelSpec, options: LoadOptions = {}, readonly runtime: Runtime = defaultRuntime) {
    this.spec = checkSpec(spec, 'model');
    checkRunnable(this.spec);
    requireObject('options', options, '{ int4Panels? }');
    if (!(runtime instanceof Runtime)) throw new FliqsError('runtime', `got ${describe(runtime)}`, 'a Runtime (from createRuntime)');
    const int4 = options.int4Panels ?? 'int8';
    if (int4 !== 'int8' && int4 !== 'nibble') throw new FliqsError('int4Panels', `got ${describe(int4)}`, '"int8" or "nibble"');
    try {
      spec.layers.forEach((l, i) => this.runners.push(new LayerRunner(runtime, l, spec.weights[i]!, int4)));
    } catch (e) {
      this.free();
      throw e;
    }
    this.reads = new Array<number>(spec.graph.length + 1).fill(0);
    for (const n of spec.graph) for (const v of inputsOf(n)) this.reads[v]!++;
    this.plan = fusionPlan(spec.graph, this.runners, this.reads);
  }

  /** [H, W, C] of one image. */
  get inputShape(): [number, number, number] { return this.spec.info.inputShape; }
  get classes(): number { return this.spec.info.classes; }

  /** Per layer: its name, formats and the kernel path it runs on. */
  get layerPaths(): Array<{ name: string; weight: string; activation: string; path: LayerPath }> {
    return this.runners.map((r) => ({ name: r.layer.name, weight: r.layer.weightFormat, activation: r.layer.activationFormat, path: r.path }));
  }

  /** Bytes of wasm memory the weights hold while the model is loaded. */
  get residentBytes(): number { return this.runners.reduce((a, r) => a + r.residentBytes, 0); }

  /**
   * Logits [count, classes] for `images`, NHWC f32, count · H·W·C values.
   * @example
   * const model = loadModel(bytes);
   * const logits = model.predict(testImages); // Float32Array(count · 10)
   */
  predict(images: Float32Array, options: PredictOptions = {}): Float32Array {
    if (this.freed) throw new FliqsError('model', 'was freed', 'a model that has not been freed');
    const [H, W, C] = this.inputShape, per = H * W * C;
    if (!(images instanceof Float32Array)) throw new FliqsError('images', `got ${describe(images)}`, `a Float32Array of NHWC images, ${H}×${W}×${C} = ${per} values each`);
    if (images.length === 0 || images.length % per !== 0) {
      throw new FliqsError('images', `has ${images.length} values, not a whole number of ${H}×${W}×${C} images`, `a multiple of ${per} values (NHWC)`);
    }
    const bad = images.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new FliqsError('images', `holds ${images[bad]} at index ${bad} (image ${Math.floor(bad / per)})`, 'finite values');
    const batch = requireInt('batchSize', options.batchSize ?? 64, 1, 2 ** 20);
    const count = images.length / per, K = this.classes;
    const logits = new Float32Array(count * K);
    for (let b0 = 0; b0 < count; b0 += batch) {
      const n = Math.min(batch, count - b0);
      const out = this.forward(images.subarray(b0 * per, (b0 + n) * per), n);
      if (out.shape.length !== 2 || out.shape[1] !== K) {
        out.buf.free();
        throw new FliqsError('model', `produces shape [${out.shape.join(', ')}]`, `[batch, ${K}] logits`);
      }
      logits.set(out.buf.array, b0 * K);
      out.buf.free();
    }
    return logits;
  }

  /**
   * The predicted class of each image.
   * @example
   * const labels = model.classify(testImages); // Int32Array(count)
   */
  classify(images: Float32Array, options: PredictOptions = {}): Int32Array {
    const logits = this.predict(images, options), K = this.classes;
    const out = new Int32Array(logits.length / K);
    for (let i = 0; i < out.length; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[i * K + k]! > logits[i * K + best]!) best = k;
      out[i] = best;
    }
    return out;
  }

  /** One batch through the graph. Buffers are freed as soon as their last reader has run. */
  private forward(images: Float32Array, n: number): Activation & { kind: 'f32' } {
    const rt = this.runtime;
    const values: Array<Activation | null> = new Array(this.spec.graph.length + 1).fill(null);
    const left = this.reads.slice();
    const refs = new Map<number, number>(); // data pointer → values holding it (flatten and fused activations alias)
    const hold = (a: Activation): Activation => { const p = activationPtr(a); refs.set(p, (refs.get(p) ?? 0) + 1); return a; };
    const drop = (v: number): void => {
      const a = values[v]!;
      if (--left[v]! > 0) return;
      values[v] = null;
      const p = activationPtr(a), r = refs.get(p)! - 1;
      if (r === 0) { refs.delete(p); rt.arena.free(p); } else refs.set(p, r);
    };
    try {
      values[0] = hold({ kind: 'f32', buf: rt.copyIn(images), shape: [n, ...this.inputShape] });
      this.spec.graph.forEach((node, i) => {
        values[i + 1] = hold(this.step(node, this.plan[i]!, values));
        for (const v of inputsOf(node)) drop(v);
      });
      const out = values[this.spec.graph.length]!;
      if (out.kind !== 'f32') throw new Error('the graph output must be f32');
      return out;
    } catch (e) {
      for (const [p] of refs) rt.arena.free(p);
      throw e;
    }
  }

  private step(node: DeployNode, plan: { out: OutputPlan } | { alias: true } | null, values: Array<Activation | null>): Activation {
    const a = values[node.input]!;
    if (plan && 'alias' in plan) return a; // an activation its producer already applied
    if (node.op === 'layer') return this.runners[node.layer]!.run(a, plan?.out ?? F32_OUT);
    if (a.kind !== 'f32') throw new Error(`node ${node.op} got codes`);
    const x = a, rt = this.runtime;
    switch (node.op) {
      case 'relu': case 'relu6': {
        const y = rt.allocF32(x.buf.length);
        (node.op === 'relu' ? relu : relu6)(x.buf, y, rt);
        return { kind: 'f32', buf: y, shape: x.shape };
      }
      case 'add': {
        const o = values[node.other]!;
        if (o.kind !== 'f32' || o.buf.length !== x.buf.length) throw new FliqsError('model', `adds shapes [${x.shape.join(', ')}] and [${o.shape.join(', ')}]`, 'equal shapes');
        const y = rt.allocF32(x.buf.length);
        add(x.buf, o.buf, y, rt);
        return { kind: 'f32', buf: y, shape: x.shape };
      }
      case 'flatten': return { kind: 'f32', buf: x.buf, shape: [x.shape[0]!, x.buf.length / x.shape[0]!] };
      case 'globalAvgPool': {
        const y = globalAvgPool(x.buf, x.shape);
        return { kind: 'f32', buf: y, shape: [x.shape[0]!, x.shape[3]!] };
      }
      case 'maxPool': case 'avgPool': {
        const s = pool2dShape(x.shape, { kernel: node.kernel, stride: node.stride, padding: node.padding });
        let y: WasmF32;
        if (node.op === 'maxPool') {
          const r = maxPool2d(x.buf, s);
          r.argmax.free();
          y = r.y;
        } else y = avgPool2d(x.buf, s);
        return { kind: 'f32', buf: y, shape: [s.N, s.OH, s.OW, s.C] };
      }
    }
  }

  /** Returns every layer's wasm memory; the model cannot predict afterwards. */
  free(): void {
    this.freed = true;
    for (const r of this.runners.splice(0)) r.free();
  }
}

/**
 * Throws unless every value's shape fits the node reading it (valueShapes) and every layer is of a form the
 * runners take: linear on flat inputs, conv with groups = 1, depthwise with one input channel per output.
 */
function checkRunnable(spec: ModelSpec): void {
  const shapes = valueShapes(spec);
  spec.graph.forEach((n, i) => {
    if (n.op !== 'layer') return;
    const l = spec.layers[n.layer]!, x = shapes[n.input]!;
    const where = `model node ${i} (layer ${l.name})`;
    if (l.kind === 'linear' && x.length !== 1) throw new FliqsError(where, `is a linear layer reading an [${x.join(', ')}] image`, 'a flat input (flatten or global pooling first)');
    if (l.kind === 'conv' && l.weightShape[2] !== x[2]) throw new FliqsError(where, `is a grouped conv (${x[2]} channels, ${l.weightShape[2]} per group)`, 'groups = 1 (or a depthwise layer)');
    if (l.kind === 'depthwise' && l.weightShape[3] !== x[2]) throw new FliqsError(where, `is a depthwise layer of ${l.weightShape[3]} channels reading ${x[2]}`, 'as many output channels as input channels');
  });
}

function inputsOf(n: DeployNode): number[] {
  return n.op === 'add' ? [n.input, n.other] : [n.input];
}

/**
 * Fusions that save whole passes over an activation, each bit for bit what the unfused nodes compute:
 * an integer layer whose only reader is a ReLU / ReLU6 applies it in its epilogue (the activation node
 * then passes the value on), and when every reader of the result is an integer layer quantizing its
 * input the same way, the epilogue writes those codes instead of f32 (no f32 write, no quantize pass).
 */
function fusionPlan(graph: readonly DeployNode[], runners: readonly LayerRunner[], reads: readonly number[]): Array<{ out: OutputPlan } | { alias: true } | null> {
  const plan: Array<{ out: OutputPlan } | { alias: true } | null> = graph.map(() => null);
  const readers = (v: number): number[] => graph.flatMap((n, j) => (inputsOf(n).includes(v) ? [j] : []));
  graph.forEach((node, i) => {
    if (node.op !== 'layer' || !runners[node.layer]!.isInt) return;
    let v = i + 1;
    let clamp: readonly [number, number] = [-Infinity, Infinity];
    const [only] = readers(v);
    const act = only === undefined ? undefined : graph[only]!;
    if (reads[v] === 1 && act && (act.op === 'relu' || act.op === 'relu6')) {
      clamp = act.op === 'relu' ? [0, Infinity] : [0, 6];
      plan[only!] = { alias: true };
      v = only! + 1;
    }
    const next = readers(v).map((j) => graph[j]!);
    const codes = next.map((n) => (n.op === 'layer' && runners[n.layer]!.isInt ? runners[n.layer]!.inputCodes : null));
    const same = codes.length > 0 && codes.every((c) => c !== null && c.s === codes[0]!.s && c.format === codes[0]!.format);
    plan[i] = { out: { clamp, requantize: same ? codes[0]! : null } };
  });
  return plan;
}

/**
 * Loads .fliqs bytes (from a file, or `fetch` in a browser) into a runnable model.
 * @example
 * const model = loadModel(new Uint8Array(await (await fetch('model.fliqs')).arrayBuffer()));
 * const labels = model.classify(images);
 */
export function loadModel(bytes: Uint8Array, name = 'model', options: LoadOptions = {}, rt: Runtime = defaultRuntime): QuantizedModel {
  return new QuantizedModel(decodeModel(bytes, name), options, rt);
}
