// MobileNetV2 for small inputs, as a plain model and as a FLIQNAS super-network: the super-network's inverted
// residual blocks hold their largest expansion width and depthwise kernel (src/nn/elastic.ts) and run the
// architecture an ArchSlot names; extract() copies a chosen architecture out as a plain, smaller MobileNetV2.

import { FliqsError, describe } from '../core/errors.js';
import { Rng } from '../core/random.js';
import * as op from '../autograd/ops.js';
import { Tensor, noGrad, stepScope } from '../autograd/tensor.js';
import { BatchNorm2d, Conv2d, DepthwiseConv2d, GlobalAvgPool, Linear, ReLU6, Sequential } from './layers.js';
import { Module } from './module.js';
import { ElasticBatchNorm2d, ElasticConv2d, ElasticDepthwiseConv2d, KERNEL_SHARINGS, requireKernelSize, type ArchSlot, type KernelSharing } from './elastic.js';
import type { QuantLayer, QuantizerOptions } from './quant.js';
import type { GraphBuilder } from '../deploy/graph.js';
import type { ValueId } from '../deploy/spec.js';

/** What a zoo builder receives (zoo.ts fills it). */
export interface Ctx { w: (c: number) => number; rng: Rng; quant?: QuantizerOptions; H: number; W: number; C: number; classes: number }

/** The architecture choices a MobileNetV2 super-network offers (createModel's `arch`). */
export interface ArchOptions {
  /** Multipliers of every block's base expansion width (in·t), e.g. [0.5, 0.75, 1, 1.25, 1.5] (default [1]). */
  widths?: readonly number[];
  /** Depthwise kernel sizes, odd (default [3]); a block keeps those no larger than its input. */
  kernelSizes?: readonly number[];
  /** How kernel sizes share weights (default 'center': a smaller kernel is the centre of the largest). */
  sharing?: KernelSharing;
  /** Per block (`blocks.3`), lists that replace the two above for that block; checked strictly. */
  blocks?: Readonly<Record<string, { widths?: readonly number[]; kernelSizes?: readonly number[] }>>;
}

/** One searched architecture decision: a block's expansion width (channels) or its depthwise kernel size. */
export interface ArchDecision {
  /** `blocks.3.width` or `blocks.3.kernel`. */
  readonly name: string;
  readonly kind: 'width' | 'kernel';
  /** Channel counts or kernel sizes, ascending. */
  readonly choices: readonly number[];
  /** The plain model's value (width in·t, kernel 3): relative cost targets refer to it. */
  readonly base: number;
}

/** How one searched layer's MACs follow architecture decisions: MACs ∝ Π value^power. */
export interface ArchFactor {
  /** Index into the decisions. */
  readonly decision: number;
  readonly power: 1 | 2;
}

/** A super-network's architecture decisions, which layers' MACs they scale, and the values it runs now. */
export interface ModelArchitecture {
  readonly decisions: readonly ArchDecision[];
  /** By searched layer name (as quantLayers names it); layers not listed do not depend on the architecture. */
  readonly factors: Readonly<Record<string, readonly ArchFactor[]>>;
  /** The value each decision runs now. */
  readonly current: readonly number[];
}

/** A model whose architecture can be searched. */
export interface Supernet {
  architecture(): ModelArchitecture;
  /** Runs `values` (one per decision) from now on; `joint[d]` (kernel decisions, warm-up) runs every kernel branch at once. */
  setArch(values: readonly number[], joint?: readonly boolean[]): void;
  /** The plain model of one architecture, weights, statistics and quantizer states copied. */
  extract(values: readonly number[]): Module;
  /** Every block's expansion width and depthwise kernel as it runs now. */
  blockArchitecture(): Array<{ width: number; kernel: number }>;
}

export function isSupernet(m: unknown): m is Module & Supernet {
  return m instanceof MobileNetV2 && m.isSupernet;
}

/** One block of the (t, c, n, s) table, as built. */
interface BlockPlan {
  inC: number;
  outC: number;
  stride: number;
  t: number;
  /** The depthwise input's height and width. */
  H: number;
  W: number;
  /** Expansion width and kernel of a plain block; width and kernel choices of a super-network block. */
  hidden: number;
  kernel: number;
  widths: number[];
  kernelSizes: number[];
}

const TABLE: ReadonlyArray<[number, number, number, number]> = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]];

/** The blocks of MobileNetV2 for c (base widths, kernel 3). */
function basePlan(c: Ctx): BlockPlan[] {
  const plan: BlockPlan[] = [];
  let inC = c.w(32), H = c.H, W = c.W;
  for (const [t, ch, n, s] of TABLE) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      plan.push({ inC, outC: c.w(ch), stride, t, H, W, hidden: inC * t, kernel: 3, widths: [inC * t], kernelSizes: [3] });
      inC = c.w(ch);
      H = Math.floor((H - 1) / stride) + 1;
      W = Math.floor((W - 1) / stride) + 1;
    }
  }
  return plan;
}

function numberList(input: string, v: unknown, check: (x: number, at: string) => void): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new FliqsError(input, `got ${describe(v)}`, 'a non-empty array of numbers');
  v.forEach((x, i) => check(x as number, `${input}[${i}]`));
  return [...new Set(v as number[])].sort((a, b) => a - b);
}
const multiplier = (x: number, at: string): void => {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > 8) throw new FliqsError(at, `got ${describe(x)}`, 'a width multiplier > 0 and ≤ 8 (e.g. 0.5, 0.75, 1, 1.25, 1.5)');
};
const kernelSize = (x: number, at: string): void => { requireKernelSize(at, x); };

/** The super-network's plan: each block's width and kernel choices (ArchOptions checked here). */
function archPlan(c: Ctx, arch: ArchOptions): BlockPlan[] {
  if (typeof arch !== 'object' || arch === null) throw new FliqsError('arch', `got ${describe(arch)}`, '{ widths?, kernelSizes?, sharing?, blocks? }');
  const plan = basePlan(c);
  const widths = numberList('arch.widths', arch.widths ?? [1], multiplier);
  const kernelSizes = numberList('arch.kernelSizes', arch.kernelSizes ?? [3], kernelSize);
  const perBlock = arch.blocks ?? {};
  if (typeof perBlock !== 'object' || perBlock === null) throw new FliqsError('arch.blocks', `got ${describe(perBlock)}`, "{ 'blocks.N': { widths?, kernelSizes? } }");
  for (const name of Object.keys(perBlock)) {
    const i = /^blocks\.(\d+)$/.exec(name);
    if (!i || Number(i[1]) >= plan.length) {
      throw new FliqsError('arch.blocks', `names ${JSON.stringify(name)}, which is not a block of mobilenetv2`, `blocks.0 … blocks.${plan.length - 1}`);
    }
  }
  plan.forEach((b, i) => {
    const name = `blocks.${i}`, own = perBlock[name];
    if (own !== undefined && (typeof own !== 'object' || own === null)) throw new FliqsError(`arch.blocks.${name}`, `got ${describe(own)}`, '{ widths?, kernelSizes? }');
    // larger than the input means most taps read padding; 3 is the plain model's own kernel, allowed everywhere
    const fits = (k: number): boolean => k <= Math.max(3, Math.min(b.H, b.W));
    if (own?.kernelSizes !== undefined) {
      b.kernelSizes = numberList(`arch.blocks.${name}.kernelSizes`, own.kernelSizes, kernelSize);
      const big = b.kernelSizes.find((k) => !fits(k));
      if (big !== undefined) {
        throw new FliqsError(`arch.blocks.${name}.kernelSizes`, `has ${big}, larger than the block's ${b.H}×${b.W} input`, `odd sizes up to ${Math.max(3, Math.min(b.H, b.W))}`);
      }
    } else {
      b.kernelSizes = kernelSizes.filter(fits);
      if (b.kernelSizes.length === 0) {
        throw new FliqsError('arch.kernelSizes', `[${kernelSizes.join(', ')}] are all larger than block ${i}'s ${b.H}×${b.W} input`, `at least one odd size up to ${Math.max(3, Math.min(b.H, b.W))}`);
      }
    }
    if (b.t === 1) {
      if (own?.widths !== undefined) throw new FliqsError(`arch.blocks.${name}.widths`, 'names a block without an expansion layer (t = 1)', `blocks with t > 1: blocks.1 … blocks.${plan.length - 1}`);
    } else {
      const ms = own?.widths !== undefined ? numberList(`arch.blocks.${name}.widths`, own.widths, multiplier) : widths;
      b.widths = [...new Set(ms.map((m) => Math.max(1, Math.round(b.hidden * m))))].sort((x, y) => x - y);
    }
    b.kernel = b.kernelSizes.includes(3) ? 3 : b.kernelSizes[0]!;
    b.hidden = b.widths.includes(b.hidden) ? b.hidden : b.widths[b.widths.length - 1]!;
  });
  return plan;
}

/**
 * MobileNetV2 inverted residual: 1×1 expand → k×k depthwise → 1×1 project (+ identity when shapes allow); its
 * layers are plain (plainBlock) or elastic (elasticBlock, a super-network's block run as its ArchSlot says).
 */
class InvertedResidual extends Module {
  constructor(readonly expand: Sequential | null, readonly depthwise: Sequential, readonly project: Sequential, readonly residual: boolean) {
    super();
  }

  forward(x: Tensor): Tensor {
    const h = this.project.forward(this.depthwise.forward(this.expand ? this.expand.forward(x) : x));
    return this.residual ? op.add(h, x) : h;
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId {
    const h = this.project.lower(g, this.depthwise.lower(g, this.expand ? this.expand.lower(g, x) : x));
    return this.residual ? g.node({ op: 'add', input: h, other: x }) : h;
  }
}

/** A plain block of width b.hidden and kernel b.kernel. */
function plainBlock(c: Ctx, b: BlockPlan): InvertedResidual {
  const o = { rng: c.rng, quant: c.quant, bias: false };
  const h = b.hidden, p = (b.kernel - 1) / 2;
  return new InvertedResidual(
    b.t === 1 ? null : new Sequential(new Conv2d(b.inC, h, 1, o), new BatchNorm2d(h), new ReLU6()),
    new Sequential(new DepthwiseConv2d(h, b.kernel, { ...o, stride: b.stride, padding: p }), new BatchNorm2d(h), new ReLU6()),
    new Sequential(new Conv2d(h, b.outC, 1, o), new BatchNorm2d(b.outC)),
    b.stride === 1 && b.inC === b.outC);
}

/** A super-network's block: the layers at their largest width and kernel, run as `slot` says. */
function elasticBlock(c: Ctx, b: BlockPlan, slot: ArchSlot, sharing: KernelSharing): InvertedResidual {
  const o = { rng: c.rng, quant: c.quant, bias: false };
  const h = b.widths[b.widths.length - 1]!;
  return new InvertedResidual(
    b.t === 1 ? null : new Sequential(new ElasticConv2d(b.inC, h, 1, o, { out: slot }), new ElasticBatchNorm2d(h, slot), new ReLU6()),
    new Sequential(new ElasticDepthwiseConv2d(h, b.kernelSizes, slot, { rng: c.rng, quant: c.quant, stride: b.stride, sharing }),
      new ElasticBatchNorm2d(h, slot), new ReLU6()),
    new Sequential(new ElasticConv2d(h, b.outC, 1, o, { in: slot }), new BatchNorm2d(b.outC)),
    b.stride === 1 && b.inC === b.outC);
}

/**
 * Copies what an elastic block computes with at `width` and `kernel` — the weights its layers' forward uses,
 * their batch-norm channels and quantizer states — into a plain block of that architecture.
 */
function copyBlock(from: InvertedResidual, to: InvertedResidual, width: number, kernel: number): void {
  const prefix = (f: Tensor, t: Tensor): void => { t.data.set(f.data.subarray(0, t.size)); };
  const layer = (f: Sequential, t: Sequential, weight: (l: Module) => Tensor): void => {
    const fl = f.layers[0] as Module & QuantLayer, tl = t.layers[0] as Conv2d;
    tl.weight.data.set(weight(fl).data);
    tl.quant.restore(fl.quant.state());
    const fb = f.layers[1] as BatchNorm2d, tb = t.layers[1] as BatchNorm2d;
    for (const k of ['weight', 'bias', 'runningMean', 'runningVar'] as const) prefix(fb[k], tb[k]);
  };
  stepScope(() => noGrad(() => {
    if (from.expand && to.expand) layer(from.expand, to.expand, (l) => (l as ElasticConv2d).activeWeight());
    layer(from.depthwise, to.depthwise, (l) => (l as ElasticDepthwiseConv2d).branch(kernel, width));
    layer(from.project, to.project, (l) => (l as ElasticConv2d).activeWeight());
  }));
}

/**
 * MobileNetV2 for small inputs: stride-1 stem and a shortened (t, c, n, s) table. With `arch` it is a FLIQNAS
 * super-network (Supernet): every block with an expansion layer has a width decision, every block whose
 * input admits more than one kernel size a kernel decision.
 */
export class MobileNetV2 extends Module implements Supernet {
  readonly stem: Sequential;
  readonly blocks: InvertedResidual[] = [];
  readonly head: Sequential;
  readonly pool = new GlobalAvgPool();
  readonly fc: Linear;
  readonly isSupernet: boolean;
  private readonly plan: BlockPlan[];
  private readonly slots: ArchSlot[] = [];
  private readonly decisionList: Array<{ decision: ArchDecision; block: number }> = [];

  /** `plan` gives a plain model's per-block widths and kernel sizes (extract()); `arch` makes a super-network. */
  constructor(private readonly ctx: Ctx, arch?: ArchOptions, plan?: BlockPlan[]) {
    super();
    this.isSupernet = arch !== undefined;
    this.plan = plan ?? (arch !== undefined ? archPlan(ctx, arch) : basePlan(ctx));
    if (arch !== undefined && ctx.quant?.weightClip === 'mse') {
      // one cached clip per format would be reused across widths and kernel sizes that change the weights it came from
      throw new FliqsError('quant.weightClip', "'mse' with an architecture search", "'absmax' (per output channel, recomputed every step)");
    }
    const sharing = arch?.sharing ?? 'center';
    if (!KERNEL_SHARINGS.includes(sharing)) throw new FliqsError('arch.sharing', `got ${describe(sharing)}`, KERNEL_SHARINGS.map((s) => `'${s}'`).join(' or '));
    const c = ctx, o = { rng: c.rng, quant: c.quant, bias: false };
    this.stem = new Sequential(new Conv2d(c.C, c.w(32), 3, { ...o, padding: 1 }), new BatchNorm2d(c.w(32)), new ReLU6());
    this.plan.forEach((b, i) => {
      if (!this.isSupernet) { this.blocks.push(plainBlock(c, b)); return; }
      const slot: ArchSlot = { width: b.hidden, kernel: b.kernel, joint: false };
      this.slots.push(slot);
      this.blocks.push(elasticBlock(c, b, slot, sharing));
      if (b.widths.length > 1) this.decisionList.push({ block: i, decision: { name: `blocks.${i}.width`, kind: 'width', choices: b.widths, base: b.inC * b.t } });
      if (b.kernelSizes.length > 1) this.decisionList.push({ block: i, decision: { name: `blocks.${i}.kernel`, kind: 'kernel', choices: b.kernelSizes, base: 3 } });
    });
    const last = this.plan[this.plan.length - 1]!.outC;
    this.head = new Sequential(new Conv2d(last, c.w(320), 1, o), new BatchNorm2d(c.w(320)), new ReLU6());
    this.fc = new Linear(c.w(320), c.classes, { rng: c.rng, quant: c.quant });
  }

  forward(x: Tensor): Tensor {
    let h = this.stem.forward(x);
    for (const b of this.blocks) h = b.forward(h);
    return this.fc.forward(this.pool.forward(this.head.forward(h)));
  }

  override lower(g: GraphBuilder, x: ValueId): ValueId {
    if (this.isSupernet) throw new FliqsError('model', 'is a FLIQNAS super-network, which cannot be exported', 'the plain model extract() gives for one architecture');
    const h = this.blocks.reduce((v, b) => b.lower(g, v), this.stem.lower(g, x));
    return this.fc.lower(g, this.pool.lower(g, this.head.lower(g, h)));
  }

  /** Every block's expansion width and depthwise kernel: as built, or (a super-network) as it runs now. */
  blockArchitecture(): Array<{ width: number; kernel: number }> {
    return this.plan.map((b, i) => (this.isSupernet ? { width: this.slots[i]!.width, kernel: this.slots[i]!.kernel } : { width: b.hidden, kernel: b.kernel }));
  }

  architecture(): ModelArchitecture {
    const factors: Record<string, ArchFactor[]> = {};
    const add = (layer: string, decision: number, power: 1 | 2): void => { (factors[layer] ??= []).push({ decision, power }); };
    this.decisionList.forEach(({ decision, block }, d) => {
      const p = `blocks.${block}`;
      if (decision.kind === 'width') {
        add(`${p}.expand.layers.0`, d, 1);
        add(`${p}.depthwise.layers.0`, d, 1);
        add(`${p}.project.layers.0`, d, 1);
      } else {
        add(`${p}.depthwise.layers.0`, d, 2);
      }
    });
    const current = this.decisionList.map(({ decision, block }) => (decision.kind === 'width' ? this.slots[block]!.width : this.slots[block]!.kernel));
    return { decisions: this.decisionList.map((e) => e.decision), factors, current };
  }

  setArch(values: readonly number[], joint?: readonly boolean[]): void {
    this.checkValues(values);
    if (joint !== undefined && (!Array.isArray(joint) || joint.length !== values.length || joint.some((j) => typeof j !== 'boolean'))) {
      throw new FliqsError('joint', `got ${describe(joint)}`, `an array of ${values.length} booleans (one per decision)`);
    }
    for (const s of this.slots) s.joint = false;
    this.decisionList.forEach(({ decision, block }, d) => {
      const s = this.slots[block]!;
      if (decision.kind === 'width') s.width = values[d]!;
      else { s.kernel = values[d]!; s.joint = joint?.[d] ?? false; }
    });
  }

  extract(values: readonly number[]): Module {
    this.checkValues(values);
    const saved = this.architecture().current;
    this.setArch(values);
    try {
      const plan = this.plan.map((b, i) => ({ ...b, hidden: this.slots[i]!.width, kernel: this.slots[i]!.kernel }));
      const plain = new MobileNetV2({ ...this.ctx, rng: new Rng(0) }, undefined, plan);
      const sd = this.stateDict();
      const prefixes = ['stem.', 'head.', 'fc.'];
      const shared = plain.stateDict();
      for (const k of Object.keys(shared.values)) if (prefixes.some((p) => k.startsWith(p))) shared.values[k] = sd.values[k]!;
      plain.loadStateDict(shared);
      for (const [name, l] of [['stem', this.stem], ['head', this.head]] as const) {
        (plain[name].layers[0] as Conv2d).quant.restore((l.layers[0] as Conv2d).quant.state());
      }
      plain.fc.quant.restore(this.fc.quant.state());
      this.blocks.forEach((b, i) => copyBlock(b, plain.blocks[i]!, plan[i]!.hidden, plan[i]!.kernel));
      plain.train(this.training);
      return plain;
    } finally {
      this.setArch(saved);
    }
  }

  private checkValues(values: readonly number[]): void {
    if (!this.isSupernet) throw new FliqsError('model', 'is a plain MobileNetV2 without architecture decisions', "a super-network: createModel('mobilenetv2', { arch: { widths, kernelSizes } })");
    const ds = this.decisionList;
    if (!Array.isArray(values) || values.length !== ds.length) throw new FliqsError('architecture', `got ${describe(values)}`, `one value per decision (${ds.length}: ${ds.map((e) => e.decision.name).join(', ')})`);
    ds.forEach(({ decision }, d) => {
      if (!decision.choices.includes(values[d]!)) {
        throw new FliqsError(`architecture[${d}]`, `got ${describe(values[d])} for ${decision.name}`, `one of ${decision.choices.join(', ')}`);
      }
    });
  }
}
