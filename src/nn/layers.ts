// The layers: Linear, Conv2d, DepthwiseConv2d (searched QuantLayers), BatchNorm2d, LayerNorm,
// activations, pooling, Flatten, Sequential and residual blocks. PyTorch names and default inits;
// NHWC activations, HWIO conv weights, [in, out] linear weights.

import { FliqsError, describe, requireInt, requireObject, requirePositive } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import * as op from '../autograd/ops.js';
import type { Tensor } from '../autograd/tensor.js';
import type { PoolOptions } from '../kernels/conv.js';
import type { GraphBuilder } from '../deploy/graph.js';
import type { ValueId } from '../deploy/spec.js';
import { Module, buffer, parameter, requireModule } from './module.js';
import { defaultBound, rngOf, uniformArray } from './init.js';
import { Quantizer, type QuantLayer, type QuantizerOptions } from './quant.js';

type Pair = number | readonly [number, number];
const pairOf = (input: string, v: Pair): [number, number] => {
  if (typeof v === 'number') return [requireInt(input, v, 1), requireInt(input, v, 1)];
  if (!Array.isArray(v) || v.length !== 2) throw new FliqsError(input, `got ${describe(v)}`, 'a positive integer or a pair [h, w] of them');
  return [requireInt(input, v[0], 1), requireInt(input, v[1], 1)];
};
/** Largest feature / channel count a layer accepts (its weights must fit the 4 GiB wasm memory anyway). */
const MAX_DIM = 2 ** 24;
const optionsOf = <T extends object>(opts: T, accepted: string): T => requireObject<T>('options', opts, accepted);

export interface LinearOptions {
  bias?: boolean;
  rng?: Rng;
  quant?: QuantizerOptions;
}

/** y = x·W + b over the last dim, W [in, out]. @example const fc = new Linear(784, 10); */
export class Linear extends Module implements QuantLayer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly quant: Quantizer;
  private rowsPerExample = 1;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    requireInt('inFeatures', inFeatures, 1, MAX_DIM);
    requireInt('outFeatures', outFeatures, 1, MAX_DIM);
    optionsOf(opts, '{ bias?, rng?, quant? }');
    const rng = rngOf(opts.rng), bound = defaultBound(inFeatures);
    this.weight = parameter(uniformArray(rng, inFeatures * outFeatures, bound), [inFeatures, outFeatures]);
    this.bias = opts.bias === false ? null : parameter(uniformArray(rng, outFeatures, bound), [outFeatures]);
    this.quant = new Quantizer(opts.quant);
  }

  /** in·out per row; rows per example (T for [B, T, in] inputs) from the last forward. */
  get macs(): number {
    return this.rowsPerExample * this.inFeatures * this.outFeatures;
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new FliqsError('Linear input', `has shape [${x.shape.join(', ')}]`, `[..., ${this.inFeatures}] (inFeatures)`);
    }
    this.rowsPerExample = x.shape.length > 2 ? x.size / x.shape[0]! / this.inFeatures : 1;
    const y = op.matmul(this.quant.input(x, this.training), this.quant.weight(this.weight));
    return this.bias ? op.biasAdd(y, this.bias) : y;
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.layer(this, x); }
}

export interface Conv2dOptions {
  stride?: Pair;
  /**
   * p or [ph, pw] (the same on both sides); 'valid' is 0; 'same' (stride 1, odd kernel sizes only) is
   * (k − 1)/2 on each side, so the output is H×W like the input. Default 0.
   */
  padding?: Pair | 'same' | 'valid';
  groups?: number;
  bias?: boolean;
  rng?: Rng;
  quant?: QuantizerOptions;
}

/** Conv2d's symmetric padding [ph, pw] from p, [ph, pw], 'valid' or 'same'. */
function convPadding(p: unknown, [KH, KW]: [number, number], [sh, sw]: [number, number]): [number, number] {
  if (p === undefined || p === 'valid') return [0, 0];
  if (p === 'same') {
    if (sh !== 1 || sw !== 1 || KH % 2 === 0 || KW % 2 === 0) {
      // Other cases need padding that differs between the two sides (or depends on the input size).
      throw new FliqsError('padding', `'same' with a ${KH}×${KW} kernel and stride ${sh}×${sw}`,
        "'same' only with stride 1 and odd kernel sizes; otherwise p or [ph, pw]");
    }
    return [(KH - 1) / 2, (KW - 1) / 2];
  }
  if (typeof p === 'number') return [requireInt('padding', p, 0), p];
  if (Array.isArray(p) && p.length === 2) return [requireInt('padding', p[0], 0), requireInt('padding', p[1], 0)];
  throw new FliqsError('padding', `got ${Array.isArray(p) ? `[${p.join(', ')}]` : describe(p)}`,
    "p, [ph, pw] (the same on both sides), 'same' or 'valid' (a Conv2d has no [top, left, bottom, right] form)");
}

/**
 * A convolution with `groups`: the depthwise kernel when groups = in = out > 1, else the grouped conv (one
 * channel is a plain conv). Conv2d and the elastic depthwise layer both go through it, so a layer of some width
 * sums as the plain layer of that width does.
 */
export function groupedConv(x: Tensor, w: Tensor, bias: Tensor | null, o: { stride: [number, number]; padding: [number, number]; groups: number }): Tensor {
  const inC = x.shape[x.shape.length - 1], outC = w.shape[w.shape.length - 1];
  return o.groups > 1 && o.groups === inC && o.groups === outC
    ? op.depthwiseConv2d(x, w, bias, { stride: o.stride, padding: o.padding })
    : op.conv2d(x, w, bias, o);
}

/**
 * 2-D convolution, NHWC in and out, weight [KH, KW, in/groups, out]. groups = in = out runs the
 * depthwise kernel.
 * @example
 * const conv = new Conv2d(3, 16, 3, { stride: 2, padding: 1 });
 * const keep = new Conv2d(16, 16, 3, { padding: 'same' }); // output H×W = input H×W
 */
export class Conv2d extends Module implements QuantLayer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly quant: Quantizer;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly groups: number;
  /** OH·OW of the last forward (0 before it). */
  protected outPixelCount = 0;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super();
    requireInt('inChannels', inChannels, 1, MAX_DIM);
    requireInt('outChannels', outChannels, 1, MAX_DIM);
    optionsOf(opts, '{ stride?, padding?, groups?, bias?, rng?, quant? }');
    this.kernelSize = pairOf('kernelSize', kernelSize);
    this.stride = pairOf('stride', opts.stride ?? 1);
    this.padding = convPadding(opts.padding, this.kernelSize, this.stride);
    this.groups = requireInt('groups', opts.groups ?? 1, 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new FliqsError('groups', `${this.groups} for ${inChannels} → ${outChannels} channels`, 'a divisor of both channel counts');
    }
    const [KH, KW] = this.kernelSize, icg = inChannels / this.groups;
    const rng = rngOf(opts.rng), bound = defaultBound(icg * KH * KW);
    this.weight = parameter(uniformArray(rng, KH * KW * icg * outChannels, bound), [KH, KW, icg, outChannels]);
    this.bias = opts.bias === false ? null : parameter(uniformArray(rng, outChannels, bound), [outChannels]);
    this.quant = new Quantizer(opts.quant);
  }

  /** OH·OW·KH·KW·(in/groups)·out per example; needs one forward to know OH·OW. */
  get macs(): number {
    if (this.outPixelCount === 0) {
      throw new FliqsError('macs', 'of a Conv2d are unknown before its first forward (they depend on the input height and width)', 'run one forward pass first');
    }
    const [KH, KW] = this.kernelSize;
    return this.outPixelCount * KH * KW * (this.inChannels / this.groups) * this.outChannels;
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4 || x.shape[3] !== this.inChannels) {
      throw new FliqsError('Conv2d input', `has shape [${x.shape.join(', ')}]`, `[N, H, W, ${this.inChannels}] (NHWC)`);
    }
    const xq = this.quant.input(x, this.training), wq = this.quant.weight(this.weight);
    const y = groupedConv(xq, wq, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups });
    this.outPixelCount = y.shape[1]! * y.shape[2]!;
    return y;
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId {
    if (this.groups !== 1 && !(this.groups === this.inChannels && this.groups === this.outChannels)) {
      throw new FliqsError('model', `has a grouped conv (groups ${this.groups} of ${this.inChannels} → ${this.outChannels}), which cannot be exported yet`, 'groups = 1 or depthwise');
    }
    return g.layer(this, x);
  }
}

/** Depthwise convolution: Conv2d with groups = in = out. @example const depthwise = new DepthwiseConv2d(32, 3, { padding: 1 }); */
export class DepthwiseConv2d extends Conv2d {
  constructor(channels: number, kernelSize: Pair, opts: Omit<Conv2dOptions, 'groups'> = {}) {
    super(channels, channels, kernelSize, { ...optionsOf(opts, '{ stride?, padding?, bias?, rng?, quant? }'), groups: channels });
  }
}

/** Batch-norm over the channel (last) dim. @example const bn = new BatchNorm2d(16); */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** In training mode: update the running statistics (true) or only normalize with the batch's (false). */
  updateRunning = true;
  /** Weight of a batch's statistics in the running ones (PyTorch's momentum; from opts, default 0.1). */
  momentum: number;

  constructor(readonly numFeatures: number, readonly opts: { eps?: number; momentum?: number } = {}) {
    super();
    requireInt('numFeatures', numFeatures, 1, MAX_DIM);
    optionsOf(opts, '{ eps?, momentum? }');
    this.weight = parameter(new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.bias = parameter(new Float32Array(numFeatures), [numFeatures]);
    this.runningMean = buffer(new Float32Array(numFeatures), [numFeatures]);
    this.runningVar = buffer(new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.momentum = opts.momentum ?? 0.1;
  }

  forward(x: Tensor): Tensor {
    return op.batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar,
      { training: this.training, eps: this.opts.eps, momentum: this.momentum, updateRunning: this.updateRunning });
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.batchNorm(this, x); }
}

/** Layer-norm over the last dim. @example const ln = new LayerNorm(64); */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly normalizedShape: number, readonly eps = 1e-5) {
    super();
    requireInt('normalizedShape', normalizedShape, 1, MAX_DIM);
    requirePositive('eps', eps);
    this.weight = parameter(new Float32Array(normalizedShape).fill(1), [normalizedShape]);
    this.bias = parameter(new Float32Array(normalizedShape), [normalizedShape]);
  }

  forward(x: Tensor): Tensor {
    return op.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** @example new ReLU() */
export class ReLU extends Module {
  forward(x: Tensor): Tensor { return op.relu(x); }
  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.node({ op: 'relu', input: x }); }
}
/** @example new ReLU6() */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor { return op.relu6(x); }
  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.node({ op: 'relu6', input: x }); }
}
/** GELU (tanh approximation). @example new GELU() */
export class GELU extends Module { forward(x: Tensor): Tensor { return op.gelu(x); } }
/** [N, ...] → [N, rest]. @example new Flatten() */
export class Flatten extends Module {
  forward(x: Tensor): Tensor { return op.flatten(x); }
  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.node({ op: 'flatten', input: x }); }
}
/** [N, H, W, C] → [N, C]. @example new GlobalAvgPool() */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor { return op.globalAvgPool(x); }
  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.node({ op: 'globalAvgPool', input: x }); }
}

/** A pooling window as an inference node holds it: [kh, kw], [sh, sw] (default: the window), [top, left, bottom, right]. */
function poolWindow(kernel: Pair, opts: Omit<PoolOptions, 'kernel'>): { kernel: [number, number]; stride: [number, number]; padding: [number, number, number, number] } {
  const k = pairOf('kernelSize', kernel);
  const s = opts.stride === undefined ? k : pairOf('stride', opts.stride);
  const p = opts.padding ?? 0;
  const okPad = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (!(okPad(p) || (Array.isArray(p) && (p.length === 2 || p.length === 4) && Array.from(p).every(okPad)))) {
    throw new FliqsError('padding', `got ${describe(p)}`, 'integers ≥ 0 as p, [ph, pw] or [top, left, bottom, right]');
  }
  const padding: [number, number, number, number] = typeof p === 'number' ? [p, p, p, p]
    : p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
  return { kernel: k, stride: s, padding };
}

/** @example new MaxPool2d(2) */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: Omit<PoolOptions, 'kernel'> = {}) { super(); poolWindow(kernelSize, optionsOf(opts, '{ stride?, padding? }')); }
  forward(x: Tensor): Tensor { return op.maxPool2d(x, { kernel: this.kernelSize, ...this.opts }); }
  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.node({ op: 'maxPool', input: x, ...poolWindow(this.kernelSize, this.opts) }); }
}

/** @example new AvgPool2d(3, { stride: 1, padding: 1 }) */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: Omit<PoolOptions, 'kernel'> = {}) { super(); poolWindow(kernelSize, optionsOf(opts, '{ stride?, padding? }')); }
  forward(x: Tensor): Tensor { return op.avgPool2d(x, { kernel: this.kernelSize, ...this.opts }); }
  override lower(g: GraphBuilder, x: ValueId): ValueId { return g.node({ op: 'avgPool', input: x, ...poolWindow(this.kernelSize, this.opts) }); }
}

/**
 * Layers applied in order; children are named 0, 1, 2, … (as `layers.0` in state dicts).
 * @example
 * const mlp = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
 */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => requireModule(`layers[${i}]`, l));
    this.layers = layers;
  }
  /**
   * Runs the layers in order, except that a ReLU/ReLU6 followed by a MaxPool2d pools first: max commutes with
   * a non-decreasing activation, so the values are the same, and so is the gradient (the window's argmax is
   * unchanged among values the activation passes; where it blocks, both give 0) — for k²× fewer activations.
   */
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i]!, next = this.layers[i + 1];
      if ((l instanceof ReLU || l instanceof ReLU6) && next instanceof MaxPool2d) {
        h = l.forward(next.forward(h));
        i++;
      } else {
        h = l.forward(h);
      }
    }
    return h;
  }
  override lower(g: GraphBuilder, x: ValueId): ValueId {
    return this.layers.reduce((h, l) => l.lower(g, h), x);
  }
}

/**
 * y = body(x) + shortcut(x) (identity shortcut when none is given).
 * @example
 * const r = new Residual(new Sequential(new Conv2d(8, 8, 3, { padding: 1 }), new ReLU()));
 */
export class Residual extends Module {
  constructor(readonly body: Module, readonly shortcut: Module | null = null) {
    super();
    requireModule('body', body);
    if (shortcut !== null) requireModule('shortcut', shortcut);
  }
  forward(x: Tensor): Tensor {
    return op.add(this.body.forward(x), this.shortcut ? this.shortcut.forward(x) : x);
  }
  override lower(g: GraphBuilder, x: ValueId): ValueId {
    const h = this.body.lower(g, x);
    return g.node({ op: 'add', input: h, other: this.shortcut ? this.shortcut.lower(g, x) : x });
  }
}

/**
 * ResNet basic block: relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x)); the shortcut is a 1×1
 * conv + bn when the stride or channel count changes.
 * @example
 * const block = new BasicBlock(16, 32, { stride: 2 });
 */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, outChannels: number, opts: { stride?: number; rng?: Rng; quant?: QuantizerOptions } = {}) {
    super();
    optionsOf(opts, '{ stride?, rng?, quant? }');
    const stride = opts.stride ?? 1, c = { rng: opts.rng, quant: opts.quant, bias: false };
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { ...c, stride, padding: 1 });
    this.bn1 = new BatchNorm2d(outChannels);
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { ...c, padding: 1 });
    this.bn2 = new BatchNorm2d(outChannels);
    this.downsample = stride !== 1 || inChannels !== outChannels
      ? new Sequential(new Conv2d(inChannels, outChannels, 1, { ...c, stride }), new BatchNorm2d(outChannels)) : null;
  }

  forward(x: Tensor): Tensor {
    const h = this.bn2.forward(this.conv2.forward(op.relu(this.bn1.forward(this.conv1.forward(x)))));
    return op.relu(op.add(h, this.downsample ? this.downsample.forward(x) : x));
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId {
    const a = g.node({ op: 'relu', input: this.bn1.lower(g, this.conv1.lower(g, x)) });
    const h = this.bn2.lower(g, this.conv2.lower(g, a));
    return g.node({ op: 'relu', input: g.node({ op: 'add', input: h, other: this.downsample ? this.downsample.lower(g, x) : x }) });
  }
}
