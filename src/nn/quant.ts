// QuantLayer behaviour: the weight and input (activation) fake-quantizers every searched layer (conv,
// linear, attention projection) carries. One set of weights, quantized on the fly to the layer's
// current Format; "switchable clips" keep one clip per candidate format. Two-phase quantization:
// quantizeWeights and quantizeActivations are switched on separately. Activation clips come from
// profiling the input's std (clip_f = k_f · std); weight clips from the current weights.

import { FliqsError, describe, requirePositive } from '../core/errors.js';
import { fakeQuantize } from '../autograd/fake-quant.js';
import type { Tensor } from '../autograd/tensor.js';
import { parseFormat, type Format } from '../formats/format.js';
import { absmaxLastAxis, mseOptimalClip, sums } from '../kernels/stats.js';
import { requireModule, type Module } from './module.js';

export type WeightClipMethod = 'absmax' | 'mse';

export interface QuantizerOptions {
  /** Activation clip multiple k in clip_f = k·std (default 3). */
  actK?: number;
  /** Per-format overrides of k, by format name, e.g. { INT4: 2.5, E2M1: 3.5 }. */
  actKByFormat?: Record<string, number>;
  /**
   * Weight clips: 'absmax' (default) — per output channel absmax, recomputed at every forward;
   * 'mse' — one per-tensor MSE-optimal clip per format, cached until refreshWeightClips().
   */
  weightClip?: WeightClipMethod;
}

const FP32 = parseFormat('FP32');

/** What Quantizer.state() returns and restore() takes. */
export interface QuantizerState {
  weightFormat: string;
  actFormat: string;
  quantizeWeights: boolean;
  quantizeActivations: boolean;
  actStd: number | null;
  actClips: Array<[string, number]>;
  weightClips?: Array<[string, number]>;
}

/**
 * Checks a quantizer's saved state completely (a checkpoint may be crafted with a valid checksum), so a restore
 * can refuse it before anything is written. Throws a FliqsError naming `input`.
 */
export function checkQuantizerState(s: unknown, input = 'checkpoint'): QuantizerState {
  const bad = (why: string): never => { throw new FliqsError(input, why, 'the quantizer state fliqs saved'); };
  if (s === null || typeof s !== 'object') bad(`has quantizer state ${describe(s)}`);
  const q = s as Record<string, unknown>;
  for (const k of ['weightFormat', 'actFormat']) {
    if (typeof q[k] !== 'string') bad(`has ${k} ${describe(q[k])}`);
    parseFormat(q[k] as string);
  }
  for (const k of ['quantizeWeights', 'quantizeActivations']) if (typeof q[k] !== 'boolean') bad(`has ${k} ${describe(q[k])}`);
  if (q.actStd !== null && !(typeof q.actStd === 'number' && Number.isFinite(q.actStd) && q.actStd >= 0)) bad(`has actStd ${describe(q.actStd)}`);
  const clips = (k: string, v: unknown): void => {
    if (!Array.isArray(v) || !v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string'
      && typeof e[1] === 'number' && Number.isFinite(e[1]) && e[1] > 0)) bad(`has ${k} ${describe(v)} (not [format, clip > 0] pairs)`);
  };
  clips('actClips', q.actClips);
  if (q.weightClips !== undefined) clips('weightClips', q.weightClips);
  return q as unknown as QuantizerState;
}

export class Quantizer {
  /** Format of the weights (FP32: no quantization). */
  weightFormat: Format = FP32;
  /** Format of the layer's input. */
  actFormat: Format = FP32;
  /** Phase switches: weights are quantized once this is on, inputs once quantizeActivations is on. */
  quantizeWeights = false;
  quantizeActivations = false;
  /** While true, each forward adds its input to the running mean/std. */
  profiling = false;
  actK: number;
  readonly actKByFormat: Map<string, number>;
  /** Switchable activation clips by format name (set by finishProfile, or by hand). */
  readonly actClips = new Map<string, number>();
  /** Cached per-tensor weight clips by format name (the 'mse' method). */
  readonly weightClips = new Map<string, number>();
  weightClipMethod: WeightClipMethod;
  /** The profiled input std (null before profiling). */
  actStd: number | null = null;
  private n = 0;
  private sum = 0;
  private sumSq = 0;

  constructor(opts: QuantizerOptions = {}) {
    if (typeof opts !== 'object' || opts === null) throw new FliqsError('options', `got ${describe(opts)}`, '{ actK?, actKByFormat?, weightClip? }');
    this.actK = requirePositive('actK', opts.actK ?? 3);
    this.actKByFormat = new Map(Object.entries(opts.actKByFormat ?? {}).map(([k, v]) => [parseFormat(k).name, requirePositive(`actKByFormat.${k}`, v)]));
    const m = opts.weightClip ?? 'absmax';
    if (m !== 'absmax' && m !== 'mse') throw new FliqsError('weightClip', `got ${describe(m)}`, '"absmax" or "mse"');
    this.weightClipMethod = m;
  }

  /**
   * Sets the format of both weights and inputs (the layer's searched choice).
   * @example
   * layer.quant.setFormat('INT4');
   */
  setFormat(format: Format | string): void {
    this.weightFormat = parseFormat(format);
    this.actFormat = this.weightFormat;
  }

  /** Starts (or restarts) accumulating the input statistics. */
  startProfile(): void {
    this.profiling = true;
    this.n = 0; this.sum = 0; this.sumSq = 0;
  }

  /**
   * Ends profiling: actStd = the std of every input seen, and for each given format actClips gets
   * k_f·std (k_f from actKByFormat, else actK).
   * @example
   * q.startProfile(); for (const b of batches) model.forward(b); q.finishProfile(['INT4', 'INT8', 'E4M3']);
   */
  finishProfile(formats: ReadonlyArray<Format | string> = []): void {
    this.profiling = false;
    if (this.n === 0) throw new FliqsError('profile', 'saw no input', 'at least one forward pass between startProfile() and finishProfile()');
    const mean = this.sum / this.n;
    this.actStd = Math.sqrt(Math.max(0, this.sumSq / this.n - mean * mean));
    for (const f of formats) this.actClips.set(parseFormat(f).name, this.profiledClip(parseFormat(f)));
  }

  private profiledClip(f: Format): number {
    const k = this.actKByFormat.get(f.name) ?? this.actK;
    return Math.max(k * (this.actStd ?? 0), 1e-30);
  }

  /** The activation clip for a format: the stored one, else k_f·std from the profile. */
  actClip(format: Format | string = this.actFormat): number {
    const f = parseFormat(format);
    const c = this.actClips.get(f.name);
    if (c !== undefined) return c;
    if (this.actStd === null) {
      throw new FliqsError('activation clip', `for ${f.name} is unknown: the layer's input was never profiled`,
        'startProfile(), a few forward passes, finishProfile() — or actClips.set(format, clip)');
    }
    return this.profiledClip(f);
  }

  /** Forgets cached weight clips (call after the weights moved, for the 'mse' method). */
  refreshWeightClips(): void {
    this.weightClips.clear();
  }

  /** The weight clip(s) for the current weight format: per output channel (absmax) or per tensor (mse). */
  weightClip(w: Tensor): number | Float32Array {
    const f = this.weightFormat;
    if (this.weightClipMethod === 'mse') {
      let c = this.weightClips.get(f.name);
      if (c === undefined) {
        c = mseOptimalClip(w.toArray(), f).clip || 1;
        this.weightClips.set(f.name, c);
      }
      return c;
    }
    const C = w.shape[w.shape.length - 1]!;
    const clips = absmaxLastAxis(w.storage, w.size / C, C);
    for (let c = 0; c < C; c++) if (!(clips[c]! > 0)) clips[c] = 1; // all-zero channel: any clip gives zeros
    return clips;
  }

  /** The quantizer's state as a checkpoint keeps it (JSON-able). */
  state(): QuantizerState {
    return {
      weightFormat: this.weightFormat.name, actFormat: this.actFormat.name,
      quantizeWeights: this.quantizeWeights, quantizeActivations: this.quantizeActivations,
      actStd: this.actStd, actClips: [...this.actClips], weightClips: [...this.weightClips],
    };
  }

  /** Restores state() (formats, phase switches, profiled std and clips); older checkpoints may lack weightClips. */
  restore(state: QuantizerState): void {
    const s = checkQuantizerState(state);
    this.weightFormat = parseFormat(s.weightFormat);
    this.actFormat = parseFormat(s.actFormat);
    this.quantizeWeights = s.quantizeWeights;
    this.quantizeActivations = s.quantizeActivations;
    this.actStd = s.actStd;
    this.actClips.clear();
    for (const [f, c] of s.actClips) this.actClips.set(f, c);
    this.weightClips.clear();
    for (const [f, c] of s.weightClips ?? []) this.weightClips.set(f, c);
  }

  /** The layer's input after profiling (in training mode) / fake quantization (x itself when off). */
  input(x: Tensor, training = true): Tensor {
    // Only a layer in training mode profiles, so evaluation (and the search's validation forward, both in
    // eval mode) inside the profiling window does not leak validation data into the clips.
    if (this.profiling && training) {
      const [sum, sumSq] = sums(x.storage, x.size);
      this.n += x.size; this.sum += sum; this.sumSq += sumSq;
    }
    if (!this.quantizeActivations || this.actFormat.kind === 'fp32') return x;
    return fakeQuantize(x, this.actFormat, this.actFormat.ignoresClip ? undefined : this.actClip());
  }

  /** The weights the layer computes with (fake-quantized when quantizeWeights is on). */
  weight(w: Tensor): Tensor {
    if (!this.quantizeWeights || this.weightFormat.kind === 'fp32') return w;
    return fakeQuantize(w, this.weightFormat, this.weightFormat.ignoresClip ? undefined : this.weightClip(w));
  }
}

/** A searched layer: conv, linear or attention projection. */
export interface QuantLayer {
  readonly quant: Quantizer;
  readonly weight: Tensor;
  /** Multiply-accumulates per example (BOPs = bits² · macs). */
  readonly macs: number;
  /** What describeModel calls the layer when its class does not tell (an elastic depthwise conv says 'depthwise'). */
  readonly kind?: 'conv' | 'depthwise' | 'linear';
}

export function isQuantLayer(m: unknown): m is Module & QuantLayer {
  return typeof m === 'object' && m !== null && (m as { quant?: unknown }).quant instanceof Quantizer;
}

/**
 * Every searched layer of a model, in forward-declaration order, with its dotted name.
 * @example
 * for (const [name, l] of quantLayers(model)) l.quant.setFormat('INT8');
 */
export function quantLayers(model: Module): Array<[string, Module & QuantLayer]> {
  return requireModule('model', model).namedModules().filter((e): e is [string, Module & QuantLayer] => isQuantLayer(e[1]));
}

/** Starts activation profiling on every searched layer. @example startProfile(model); */
export function startProfile(model: Module): void {
  for (const [, l] of quantLayers(model)) l.quant.startProfile();
}

/** Ends activation profiling on every searched layer, deriving clips for `formats`. @example finishProfile(model, ['INT4', 'INT8']); */
export function finishProfile(model: Module, formats: ReadonlyArray<Format | string> = []): void {
  if (!Array.isArray(formats)) throw new FliqsError('formats', `got ${describe(formats)}`, 'an array of format names');
  for (const [, l] of quantLayers(model)) l.quant.finishProfile(formats);
}
