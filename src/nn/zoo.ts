// The model zoo: small CNNs, CIFAR-style ResNets, a small-input MobileNetV2 and a tiny ViT, each with a
// width multiplier (the paper sweeps 0.25×–2×), sized for 28×28×1 and usable at 32×32×3. Every conv,
// linear and attention projection is a searched QuantLayer; describeModel() lists them with their MACs.

import { FliqsError, describe, requireInt } from '../core/errors.js';
import { Rng } from '../core/random.js';
import * as op from '../autograd/ops.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import { MultiHeadSelfAttention } from './attention.js';
import {
  BasicBlock, BatchNorm2d, Conv2d, Flatten, GELU, GlobalAvgPool, LayerNorm, Linear, MaxPool2d, ReLU, Sequential,
} from './layers.js';
import { Module, parameter, requireModule } from './module.js';
import { quantLayers, type QuantizerOptions } from './quant.js';
import { uniformArray } from './init.js';
import { MobileNetV2, type ArchOptions, type Ctx } from './mobilenet.js';
import type { GraphBuilder } from '../deploy/graph.js';
import type { ValueId } from '../deploy/spec.js';

export interface ModelOptions {
  /** Channel / hidden-size multiplier (default 1). */
  width?: number;
  /** [H, W, C] of one input image (default [28, 28, 1]). */
  inputShape?: readonly [number, number, number];
  classes?: number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /** Options for every searched layer's quantizers. */
  quant?: QuantizerOptions;
  /**
   * mobilenetv2 only: build a FLIQNAS super-network with these width and kernel choices (see ArchOptions and
   * docs/fliqnas.md); `Search` with a `fliqnas-*` or `qnas-*` space searches them with the formats.
   */
  arch?: ArchOptions;
}


const scaled = (width: number) => (c: number): number => Math.max(1, Math.round(c * width));

/** MLP: flatten → 256 → 128 → classes (ReLU between). */
function mlp(c: Ctx): Module {
  const o = { rng: c.rng, quant: c.quant };
  return new Sequential(new Flatten(), new Linear(c.H * c.W * c.C, c.w(256), o), new ReLU(), new Linear(c.w(256), c.w(128), o), new ReLU(),
    new Linear(c.w(128), c.classes, o));
}

/** LeNet-5: conv5×5 6 → pool → conv5×5 16 → pool → 120 → 84 → classes (28×28 inputs padded by 2 like the original 32×32). */
function lenet5(c: Ctx): Module {
  const o = { rng: c.rng, quant: c.quant };
  const pad = c.H === 28 ? 2 : 0;
  const h = Math.floor((Math.floor((c.H + 2 * pad - 4) / 2) - 4) / 2), w = Math.floor((Math.floor((c.W + 2 * pad - 4) / 2) - 4) / 2);
  if (h < 1 || w < 1) throw new FliqsError('inputShape', `[${c.H}, ${c.W}, ${c.C}] is too small for lenet5`, 'at least 16×16');
  return new Sequential(
    new Conv2d(c.C, c.w(6), 5, { ...o, padding: pad }), new ReLU(), new MaxPool2d(2),
    new Conv2d(c.w(6), c.w(16), 5, o), new ReLU(), new MaxPool2d(2), new Flatten(),
    new Linear(h * w * c.w(16), c.w(120), o), new ReLU(), new Linear(c.w(120), c.w(84), o), new ReLU(), new Linear(c.w(84), c.classes, o));
}

/** The small CNN of the training benchmark: conv3×3 16 → ReLU → pool → conv3×3 32 → ReLU → pool → dense. */
function cnn(c: Ctx): Module {
  const o = { rng: c.rng, quant: c.quant };
  const h = Math.floor(Math.floor(c.H / 2) / 2), w = Math.floor(Math.floor(c.W / 2) / 2);
  return new Sequential(
    new Conv2d(c.C, c.w(16), 3, { ...o, padding: 1 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(c.w(16), c.w(32), 3, { ...o, padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(),
    new Linear(h * w * c.w(32), c.classes, o));
}

/** CIFAR-style ResNet: conv3×3 16 → 3 stages of `blocks` basic blocks (16, 32/2, 64/2) → global pool → FC. */
class ResNet extends Module {
  readonly stem: Sequential;
  readonly stages: BasicBlock[] = [];
  readonly pool = new GlobalAvgPool();
  readonly fc: Linear;

  constructor(c: Ctx, blocks: number) {
    super();
    const o = { rng: c.rng, quant: c.quant };
    this.stem = new Sequential(new Conv2d(c.C, c.w(16), 3, { ...o, padding: 1, bias: false }), new BatchNorm2d(c.w(16)), new ReLU());
    let inC = c.w(16);
    for (const [ch, stride] of [[16, 1], [32, 2], [64, 2]] as const) {
      for (let b = 0; b < blocks; b++) {
        this.stages.push(new BasicBlock(inC, c.w(ch), { ...o, stride: b === 0 ? stride : 1 }));
        inC = c.w(ch);
      }
    }
    this.fc = new Linear(inC, c.classes, o);
  }

  forward(x: Tensor): Tensor {
    let h = this.stem.forward(x);
    for (const b of this.stages) h = b.forward(h);
    return this.fc.forward(this.pool.forward(h));
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId {
    const h = this.stages.reduce((v, b) => b.lower(g, v), this.stem.lower(g, x));
    return this.fc.lower(g, this.pool.lower(g, h));
  }
}

/** Pre-norm transformer block: x + attn(ln(x)); x + mlp(ln(x)). */
class TransformerBlock extends Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadSelfAttention;
  readonly ln2: LayerNorm;
  readonly fc1: Linear;
  readonly act = new GELU();
  readonly fc2: Linear;

  constructor(c: Ctx, dim: number, heads: number) {
    super();
    const o = { rng: c.rng, quant: c.quant };
    this.ln1 = new LayerNorm(dim);
    this.attn = new MultiHeadSelfAttention(dim, heads, o);
    this.ln2 = new LayerNorm(dim);
    this.fc1 = new Linear(dim, 2 * dim, o);
    this.fc2 = new Linear(2 * dim, dim, o);
  }

  forward(x: Tensor): Tensor {
    const h = op.add(x, this.attn.forward(this.ln1.forward(x)));
    return op.add(h, this.fc2.forward(this.act.forward(this.fc1.forward(this.ln2.forward(h)))));
  }
}

/** A tiny ViT: 4×4 patch embedding (a strided conv), learned position embedding, 2 blocks, mean-pooled tokens. */
class VitTiny extends Module {
  readonly patch: Conv2d;
  readonly pos: Tensor;
  readonly blocks: TransformerBlock[] = [];
  readonly norm: LayerNorm;
  readonly head: Linear;
  readonly tokens: number;
  readonly dim: number;

  constructor(c: Ctx) {
    super();
    const heads = 4, P = 4;
    this.dim = Math.max(heads, Math.round(c.w(64) / heads) * heads);
    if (c.H % P !== 0 || c.W % P !== 0) throw new FliqsError('inputShape', `[${c.H}, ${c.W}, ${c.C}] is not a multiple of the 4×4 patch`, 'H and W divisible by 4');
    this.tokens = (c.H / P) * (c.W / P);
    this.patch = new Conv2d(c.C, this.dim, P, { stride: P, rng: c.rng, quant: c.quant });
    this.pos = parameter(uniformArray(c.rng, this.tokens * this.dim, 0.02), [this.tokens * this.dim]);
    for (let i = 0; i < 2; i++) this.blocks.push(new TransformerBlock(c, this.dim, heads));
    this.norm = new LayerNorm(this.dim);
    this.head = new Linear(this.dim, c.classes, { rng: c.rng, quant: c.quant });
  }

  forward(x: Tensor): Tensor {
    const B = x.shape[0]!;
    const p = op.reshape(this.patch.forward(x), [B, this.tokens * this.dim]);
    let h = op.reshape(op.biasAdd(p, this.pos), [B, this.tokens, this.dim]);
    for (const b of this.blocks) h = b.forward(h);
    const pooled = op.globalAvgPool(op.reshape(this.norm.forward(h), [B, this.tokens, 1, this.dim]));
    return this.head.forward(pooled);
  }
}

const BUILDERS = {
  mlp,
  lenet5,
  cnn,
  resnet8: (c: Ctx) => new ResNet(c, 1),
  resnet20: (c: Ctx) => new ResNet(c, 3),
  mobilenetv2: (c: Ctx, arch?: ArchOptions) => new MobileNetV2(c, arch),
  'vit-tiny': (c: Ctx) => new VitTiny(c),
} satisfies Record<string, (c: Ctx) => Module>;

export type ModelName = keyof typeof BUILDERS;
export const MODEL_NAMES = Object.keys(BUILDERS) as ModelName[];

/**
 * Builds a zoo model.
 * @example
 * const model = createModel('resnet8', { width: 0.5, seed: 1 });
 * const layers = describeModel(model, [28, 28, 1]); // searched layers with MACs
 */
export function createModel(name: string, opts: ModelOptions = {}): Module {
  if (typeof name !== 'string' || !Object.hasOwn(BUILDERS, name)) throw new FliqsError('model', `${describe(name)} is not a zoo model`, MODEL_NAMES.join(', '));
  if (typeof opts !== 'object' || opts === null) throw new FliqsError('options', `got ${describe(opts)}`, '{ width?, inputShape?, classes?, seed?, quant? }');
  const width = opts.width ?? 1;
  if (typeof width !== 'number' || !(width > 0) || width > 8) throw new FliqsError('width', `got ${describe(width)}`, 'a multiplier in (0, 8], e.g. 0.25, 0.5, 1, 2');
  const [H, W, C] = opts.inputShape ?? [28, 28, 1];
  for (const [k, v] of [['H', H], ['W', W], ['C', C]] as const) requireInt(`inputShape ${k}`, v, 1);
  const classes = requireInt('classes', opts.classes ?? 10, 2);
  const rng = new Rng(opts.seed ?? 0);
  if (opts.arch !== undefined && name !== 'mobilenetv2') {
    throw new FliqsError('arch', `was given for ${name}, which has no architecture decisions`, "model 'mobilenetv2' (its blocks' expansion widths and depthwise kernels)");
  }
  const c: Ctx = { w: scaled(width), rng, quant: opts.quant, H, W, C, classes };
  return name === 'mobilenetv2' ? BUILDERS.mobilenetv2(c, opts.arch) : BUILDERS[name as ModelName](c);
}

export interface LayerInfo {
  /** Dotted module path, e.g. `stages.1.conv2`. */
  name: string;
  kind: 'conv' | 'depthwise' | 'linear';
  /** Multiply-accumulates per example. */
  macs: number;
  /** Weight elements. */
  params: number;
}

/**
 * The searched layers of a model with their MACs per example, from one forward pass of a single
 * zero image (in eval mode, without gradients).
 */
export function describeModel(model: Module, inputShape: readonly [number, number, number] = [28, 28, 1]): LayerInfo[] {
  requireModule('model', model);
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !Array.from(inputShape).every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 12)) {
    throw new FliqsError('inputShape', `got ${describe(inputShape)}`, '[H, W, C] with integers from 1 to 4096');
  }
  const wasTraining = model.training;
  model.eval();
  try {
    // the scope frees every temporary; the output it hands back is ours to free
    stepScope(() => noGrad(() => model.forward(Tensor.zeros([1, ...inputShape])))).free();
  } finally {
    if (wasTraining) model.train();
  }
  return quantLayers(model).map(([name, l]) => ({
    name,
    kind: l.kind ?? (l instanceof Conv2d ? (l.groups > 1 && l.groups === l.inChannels ? 'depthwise' : 'conv') : 'linear'),
    macs: l.macs,
    params: l.weight.size,
  }));
}
