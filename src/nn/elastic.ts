// Elastic layers of a FLIQNAS super-network: they hold the largest width (and kernel) and compute, each
// step, only the part an architecture choice keeps. A block's choice lives in one ArchSlot its layers
// share. "Channel masks" are realised as slices of the shared weights rather than multiplications by 0/1:
// the result is the narrower dense layer bit for bit (its weights, per-channel clips and batch statistics
// are exactly the kept channels'), gradients reach only the kept part (a slice's backward scatters into
// zeros), and a narrower step is cheaper rather than as dear as the widest one.

import { FliqsError, describe, requireInt, requireObject } from '../core/errors.js';
import * as op from '../autograd/ops.js';
import { add, concat, reshape, scale, slice } from '../autograd/primitives.js';
import { Tensor } from '../autograd/tensor.js';
import { Module, parameter } from './module.js';
import { BatchNorm2d, Conv2d, groupedConv, type Conv2dOptions } from './layers.js';
import { defaultBound, rngOf, uniformArray } from './init.js';
import { Quantizer, type QuantLayer, type QuantizerOptions } from './quant.js';
import type { Rng } from '../core/random.js';

/** The architecture a block runs this step: its active width (channels) and depthwise kernel. */
export interface ArchSlot {
  width: number;
  kernel: number;
  /** Warm-up only: every kernel branch at once (their mean), instead of the one `kernel`. */
  joint: boolean;
}

/** How the kernel branches of an elastic depthwise layer hold their weights. */
export type KernelSharing = 'center' | 'separate';
export const KERNEL_SHARINGS: readonly KernelSharing[] = ['center', 'separate'];

/** Throws a FliqsError naming `input` unless `slot` is an ArchSlot. */
function requireSlot(input: string, slot: unknown): ArchSlot {
  const s = slot as Partial<ArchSlot> | null;
  if (typeof s !== 'object' || s === null || !Number.isInteger(s.width) || !Number.isInteger(s.kernel) || typeof s.joint !== 'boolean') {
    throw new FliqsError(input, `got ${describe(slot)}`, '{ width: channels, kernel: size, joint: boolean } shared by a block\'s elastic layers');
  }
  return slot as ArchSlot;
}

function requireSlots(slots: unknown, opts: Conv2dOptions | undefined): void {
  const g = (opts as { groups?: unknown } | null | undefined)?.groups;
  if (g !== undefined && g !== 1) throw new FliqsError('groups', `got ${describe(g)}`, '1 (an elastic conv is not grouped)');
  const s = slots as { in?: unknown; out?: unknown } | null;
  if (typeof s !== 'object' || s === null) throw new FliqsError('slots', `got ${describe(slots)}`, '{ in?: ArchSlot, out?: ArchSlot }');
  if (s.in !== undefined) requireSlot('slots.in', s.in);
  if (s.out !== undefined) requireSlot('slots.out', s.out);
}

/** Throws a FliqsError naming `input` unless k is an odd kernel size from 1 to 63 (padding (k − 1)/2 keeps it centred). */
export function requireKernelSize(input: string, k: unknown): number {
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) % 2 === 0 || (k as number) > 63) {
    throw new FliqsError(input, `got ${describe(k)}`, 'an odd kernel size from 1 to 63 (3, 5, 7, …): the padding (k − 1)/2 keeps it centred');
  }
  return k as number;
}

/** Keeps the first `n` channels (last axis) of t; t itself when it has no more. */
function firstChannels(t: Tensor, n: number): Tensor {
  return t.shape[t.shape.length - 1] === n ? t : slice(t, -1, 0, n);
}

/**
 * A 1×1 (or any groups-1) convolution whose input and/or output channels follow an ArchSlot's width.
 * @example
 * const slot = { width: 24, kernel: 3, joint: false };
 * const expand = new ElasticConv2d(8, 48, 1, { bias: false }, { out: slot }); // computes 8 → 24 channels
 */
export class ElasticConv2d extends Conv2d {
  private active: [number, number] = [0, 0];

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv2dOptions,
    private readonly slots: { readonly in?: ArchSlot; readonly out?: ArchSlot }) {
    // the slots and groups are checked before super() allocates the weights, so a bad one leaks nothing
    super((requireSlots(slots, opts), inChannels), outChannels, kernelSize, opts);
  }

  /** [active in, active out] channels this step. */
  activeChannels(): [number, number] {
    return [this.slots.in?.width ?? this.inChannels, this.slots.out?.width ?? this.outChannels];
  }

  /** The weight of the active channels, [KH, KW, active in, active out] (differentiable: a copy when narrower). */
  activeWeight(): Tensor {
    const [ai, ao] = this.activeChannels();
    const w = firstChannels(this.weight, ao);
    return ai < this.inChannels ? slice(w, 2, 0, ai) : w;
  }

  override get macs(): number {
    const [ai, ao] = this.active, [KH, KW] = this.kernelSize;
    if (ai === 0) throw new FliqsError('macs', 'of an elastic conv are unknown before its first forward', 'run one forward pass first');
    return this.outPixelCount * KH * KW * ai * ao;
  }

  override forward(x: Tensor): Tensor {
    const [ai, ao] = this.activeChannels();
    if (x.shape.length !== 4 || x.shape[3] !== ai) {
      throw new FliqsError('ElasticConv2d input', `has shape [${x.shape.join(', ')}]`, `[N, H, W, ${ai}] (the active input width)`);
    }
    const b = this.bias ? firstChannels(this.bias, ao) : null;
    const y = op.conv2d(this.quant.input(x, this.training), this.quant.weight(this.activeWeight()), b, { stride: this.stride, padding: this.padding });
    this.active = [ai, ao];
    this.outPixelCount = y.shape[1]! * y.shape[2]!;
    return y;
  }
}

/**
 * Batch-norm over the first `slot.width` channels: their affine parameters and running statistics, the
 * rest untouched (a step at a narrower width leaves the wider channels' statistics as they were).
 */
export class ElasticBatchNorm2d extends BatchNorm2d {
  constructor(numFeatures: number, private readonly slot: ArchSlot, opts: { eps?: number; momentum?: number } = {}) {
    super((requireSlot('slot', slot), numFeatures), opts); // checked before super() allocates
  }

  override forward(x: Tensor): Tensor {
    const a = this.slot.width;
    if (a === this.numFeatures) return super.forward(x);
    // views of the running statistics' first a values: the kernel updates them in place
    return op.batchNorm(x, firstChannels(this.weight, a), firstChannels(this.bias, a), Tensor.prefix(this.runningMean, a), Tensor.prefix(this.runningVar, a),
      { training: this.training, eps: this.opts.eps, momentum: this.momentum, updateRunning: this.updateRunning });
  }
}

export interface ElasticDepthwiseOptions {
  stride?: number;
  /** How the kernel sizes hold their weights (default 'center'). */
  sharing?: KernelSharing;
  rng?: Rng;
  quant?: QuantizerOptions;
}

/**
 * A depthwise convolution (no bias) with elastic width and kernel size. The weight is [B, K, K, 1, C] for the
 * largest kernel K: with 'center' sharing B = 1 and a k×k kernel is the centre of the K×K one (once-for-all
 * networks); with 'separate' B is the number of kernel sizes and branch b keeps its own k_b×k_b kernel at the
 * centre of slab b. Padding is (k − 1)/2, so every kernel size gives the same output size. In the joint mode
 * of the warm-up the layer convolves with the mean of every branch's (fake-quantized) kernel, zero-padded to K×K:
 * the mean of the branches' outputs.
 * @example
 * const slot = { width: 24, kernel: 5, joint: false };
 * const dw = new ElasticDepthwiseConv2d(48, [3, 5, 7], slot, { stride: 2 });
 */
export class ElasticDepthwiseConv2d extends Module implements QuantLayer {
  readonly kind = 'depthwise' as const;
  readonly weight: Tensor;
  readonly quant: Quantizer;
  readonly kernelSizes: readonly number[];
  readonly maxKernel: number;
  readonly sharing: KernelSharing;
  readonly stride: number;
  private outPixels = 0;
  private activeMacsPerPixel = 0;

  constructor(readonly channels: number, kernelSizes: readonly number[], private readonly slot: ArchSlot, opts: ElasticDepthwiseOptions = {}) {
    super();
    requireInt('channels', channels, 1, 2 ** 24);
    requireSlot('slot', slot);
    requireObject('options', opts, '{ stride?, sharing?, rng?, quant? }');
    if (!Array.isArray(kernelSizes) || kernelSizes.length === 0) throw new FliqsError('kernelSizes', `got ${describe(kernelSizes)}`, 'a non-empty list of odd kernel sizes');
    kernelSizes.forEach((k, i) => requireKernelSize(`kernelSizes[${i}]`, k));
    this.kernelSizes = Object.freeze([...new Set(kernelSizes)].sort((a, b) => a - b));
    this.maxKernel = this.kernelSizes[this.kernelSizes.length - 1]!;
    this.sharing = opts.sharing ?? 'center';
    if (!KERNEL_SHARINGS.includes(this.sharing)) throw new FliqsError('sharing', `got ${describe(this.sharing)}`, KERNEL_SHARINGS.map((s) => `'${s}'`).join(' or '));
    this.stride = requireInt('stride', opts.stride ?? 1, 1, 16);
    const rng = rngOf(opts.rng), K = this.maxKernel, C = channels;
    const branches = this.sharing === 'center' ? [K] : this.kernelSizes;
    // each branch drawn like a plain k×k depthwise conv's weights; the rest of its slab stays 0 (never read)
    const w = new Float32Array(branches.length * K * K * C);
    branches.forEach((k, b) => {
      const o = (K - k) / 2, init = uniformArray(rng, k * k * C, defaultBound(k * k));
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        w.set(init.subarray((i * k + j) * C, (i * k + j + 1) * C), (((b * K) + o + i) * K + o + j) * C);
      }
    });
    this.weight = parameter(w, [branches.length, K, K, 1, C]);
    this.quant = new Quantizer(opts.quant);
  }

  /** OH·OW·k²·width of the last forward (per example). */
  get macs(): number {
    if (this.outPixels === 0) throw new FliqsError('macs', 'of an elastic depthwise conv are unknown before its first forward', 'run one forward pass first');
    return this.outPixels * this.activeMacsPerPixel;
  }

  /**
   * The k×k kernel of the first `width` channels as a plain depthwise weight [k, k, 1, width] (differentiable: a
   * copy whose backward scatters into the shared weight).
   */
  branch(k: number, width: number): Tensor {
    const b = this.sharing === 'center' ? 0 : this.kernelSizes.indexOf(k);
    if (b < 0 || k > this.maxKernel) throw new FliqsError('kernel', `got ${describe(k)}`, `one of ${this.kernelSizes.join(', ')}`);
    const K = this.maxKernel, o = (K - k) / 2;
    let w = this.weight.shape[0] === 1 ? this.weight : slice(this.weight, 0, b, b + 1);
    if (k < K) w = slice(slice(w, 1, o, o + k), 2, o, o + k);
    return reshape(firstChannels(w, width), [k, k, 1, width]);
  }

  forward(x: Tensor): Tensor {
    const a = this.slot.width;
    if (x.shape.length !== 4 || x.shape[3] !== a) {
      throw new FliqsError('ElasticDepthwiseConv2d input', `has shape [${x.shape.join(', ')}]`, `[N, H, W, ${a}] (the active width)`);
    }
    const xq = this.quant.input(x, this.training), K = this.maxKernel;
    let w: Tensor, k: number;
    if (this.slot.joint && this.kernelSizes.length > 1) {
      k = K;
      const padded = this.kernelSizes.map((kb) => padKernel(this.quant.weight(this.branch(kb, a)), K));
      w = scale(padded.reduce((s, t) => add(s, t)), 1 / padded.length);
    } else {
      k = this.slot.kernel;
      w = this.quant.weight(this.branch(k, a));
    }
    const p = (k - 1) / 2;
    const y = groupedConv(xq, w, null, { stride: [this.stride, this.stride], padding: [p, p], groups: a });
    this.outPixels = y.shape[1]! * y.shape[2]!;
    this.activeMacsPerPixel = k * k * a;
    return y;
  }
}

/** A [k, k, 1, C] kernel zero-padded to [K, K, 1, C] (K − k even). */
function padKernel(w: Tensor, K: number): Tensor {
  const k = w.shape[0]!, C = w.shape[3]!, o = (K - k) / 2;
  if (o === 0) return w;
  const rows = concat([Tensor.zeros([o, k, 1, C]), w, Tensor.zeros([o, k, 1, C])], 0);
  return concat([Tensor.zeros([K, o, 1, C]), rows, Tensor.zeros([K, o, 1, C])], 1);
}
