// A model described as data: a JSON-able list of the zoo's building blocks (conv, depthwise, linear, batch-norm,
// pools, residual blocks, activations, flatten) turned into a Sequential. In-channels come from the previous layer
// (the shape is tracked through the list); every mistake is a FliqsError naming its JSON path, e.g. layers[3].kernel.

import { FliqsError, describe } from '../core/errors.js';
import { Rng } from '../core/random.js';
import {
  AvgPool2d, BatchNorm2d, Conv2d, DepthwiseConv2d, Flatten, GELU, GlobalAvgPool, Linear, MaxPool2d, ReLU, ReLU6, Residual, Sequential,
} from './layers.js';
import type { Module } from './module.js';
import type { QuantizerOptions } from './quant.js';

/** A pair as JSON: n or [h, w]. */
export type SpecPair = number | [number, number];

/** One layer of a model spec. `out: 'classes'` takes the dataset's class count. */
export type LayerSpec =
  | { type: 'conv'; out: number | 'classes'; kernel: SpecPair; stride?: SpecPair; padding?: SpecPair | 'same' | 'valid'; bias?: boolean }
  | { type: 'depthwise'; kernel: SpecPair; stride?: SpecPair; padding?: SpecPair | 'same' | 'valid'; bias?: boolean }
  | { type: 'linear'; out: number | 'classes'; bias?: boolean }
  | { type: 'batchnorm' }
  | { type: 'maxpool' | 'avgpool'; kernel: SpecPair; stride?: SpecPair; padding?: SpecPair }
  | { type: 'globalpool' | 'flatten' | 'relu' | 'relu6' | 'gelu' }
  | { type: 'residual'; body: LayerSpec[]; shortcut?: LayerSpec[] };

/** A model spec: `{ "layers": [...] }`, optionally with a name. */
export interface LayerListSpec {
  name?: string;
  layers: LayerSpec[];
}

export interface SpecOptions {
  /** [H, W, C] of one input image (default [28, 28, 1]). */
  inputShape?: readonly [number, number, number];
  /** Class count: the last layer must produce it ('classes' as an `out` asks for it). Default 10. */
  classes?: number;
  /** Seed of the weight initialisation (default 0); layers draw from it in list order. */
  seed?: number;
  /** Options for every searched layer's quantizers. */
  quant?: QuantizerOptions;
  /** Multiplies every numeric `out` (not 'classes'), like the zoo's width (default 1). */
  width?: number;
}

/** The layer types a spec accepts, with their fields (for error messages and docs). */
export const LAYER_TYPES: Record<string, { required: string[]; optional: string[] }> = {
  conv: { required: ['out', 'kernel'], optional: ['stride', 'padding', 'bias'] },
  depthwise: { required: ['kernel'], optional: ['stride', 'padding', 'bias'] },
  linear: { required: ['out'], optional: ['bias'] },
  batchnorm: { required: [], optional: [] },
  maxpool: { required: ['kernel'], optional: ['stride', 'padding'] },
  avgpool: { required: ['kernel'], optional: ['stride', 'padding'] },
  globalpool: { required: [], optional: [] },
  flatten: { required: [], optional: [] },
  relu: { required: [], optional: [] },
  relu6: { required: [], optional: [] },
  gelu: { required: [], optional: [] },
  residual: { required: ['body'], optional: ['shortcut'] },
};
const TYPES_TEXT = Object.keys(LAYER_TYPES).join(', ');
const fieldsText = (t: string): string => {
  const f = LAYER_TYPES[t]!;
  return [...f.required, ...f.optional.map((o) => `${o}?`)].map((x) => `"${x}"`).join(', ') || 'no other field';
};

/** The activation shape between layers: an NHWC image or a flat feature vector (batch dim left out). */
type Shape = { image: true; H: number; W: number; C: number } | { image: false; F: number };
const show = (s: Shape): string => (s.image ? `${s.H}×${s.W}×${s.C} (H×W×C)` : `${s.F} features`);

interface Ctx {
  rng: Rng;
  quant: QuantizerOptions | undefined;
  classes: number;
  width: number;
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

function pair(path: string, v: unknown, min: number, what: string): [number, number] {
  if (isInt(v, min) && v <= 2 ** 24) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x, min) && x <= 2 ** 24)) return [v[0], v[1]];
  throw new FliqsError(path, `is ${show2(v)}`, `${what}: an integer ≥ ${min} or a pair [h, w] of them`);
}
/** A JSON value for a message. */
function show2(v: unknown): string {
  if (v === undefined) return 'missing';
  try { return JSON.stringify(v)?.slice(0, 60) ?? describe(v); } catch { return describe(v); }
}

function outCount(path: string, v: unknown, c: Ctx): number {
  if (v === 'classes') return c.classes;
  if (isInt(v, 1) && v <= 2 ** 24) return Math.max(1, Math.round(v * c.width));
  throw new FliqsError(path, `is ${show2(v)}`, 'a positive integer (output channels / features), or "classes"');
}

function needImage(path: string, type: string, s: Shape): asserts s is Extract<Shape, { image: true }> {
  if (!s.image) throw new FliqsError(path, `is a ${type} after the input became flat (${show(s)})`, `${type} layers before any flatten / globalpool (they need an H×W×C image)`);
}

/** One output size along an axis, or a FliqsError when the window does not fit the (padded) input. */
function outSize(path: string, size: number, k: number, s: number, p0: number, p1: number, axis: string, input: Shape): number {
  if (k > size + p0 + p1) {
    throw new FliqsError(path, `${k} is larger than the input ${axis} ${size}${p0 + p1 ? ` plus padding ${p0 + p1}` : ''} (the input here is ${show(input)})`,
      `a kernel no larger than the padded input; pad, or use a smaller kernel or fewer downsampling layers before it`);
  }
  return Math.floor((size + p0 + p1 - k) / s) + 1;
}

function checkFields(path: string, o: Record<string, unknown>, type: string): void {
  const f = LAYER_TYPES[type]!;
  for (const k of Object.keys(o)) {
    if (k !== 'type' && !f.required.includes(k) && !f.optional.includes(k)) {
      throw new FliqsError(`${path}.${k}`, `is not a field of a ${type} layer`, `for ${type}: ${fieldsText(type)}`);
    }
  }
  for (const k of f.required) if (o[k] === undefined) throw new FliqsError(`${path}.${k}`, `is missing (a ${type} layer needs it)`, `for ${type}: ${fieldsText(type)}`);
  if (o.bias !== undefined && typeof o.bias !== 'boolean') throw new FliqsError(`${path}.bias`, `is ${show2(o.bias)}`, 'true or false');
}

/** Conv padding as the Conv2d option (validated by Conv2d too; here with the JSON path). */
function convPadding(path: string, p: unknown, k: [number, number], s: [number, number]): [number, number] {
  if (p === undefined || p === 'valid') return [0, 0];
  if (p === 'same') {
    if (s[0] !== 1 || s[1] !== 1 || k[0] % 2 === 0 || k[1] % 2 === 0) {
      throw new FliqsError(path, `"same" with a ${k[0]}×${k[1]} kernel and stride ${s[0]}×${s[1]}`, '"same" only with stride 1 and odd kernels; otherwise p or [ph, pw]');
    }
    return [(k[0] - 1) / 2, (k[1] - 1) / 2];
  }
  return pair(path, p, 0, 'padding (the same on both sides), "same" or "valid"');
}

function poolPadding(path: string, p: unknown, k: [number, number]): [number, number, number, number] {
  let pad: [number, number, number, number];
  if (p === undefined) pad = [0, 0, 0, 0];
  else if (Array.isArray(p) && p.length === 4 && p.every((x) => isInt(x, 0))) pad = p as [number, number, number, number];
  else { const [a, b] = pair(path, p, 0, 'padding as p, [ph, pw] or [top, left, bottom, right]'); pad = [a, b, a, b]; }
  if (pad[0] >= k[0] || pad[2] >= k[0] || pad[1] >= k[1] || pad[3] >= k[1]) {
    throw new FliqsError(path, `${show2(p)} for a ${k[0]}×${k[1]} window`, 'each padding smaller than the window along its axis');
  }
  return pad;
}

/** Builds one layer at `path` for input shape `s`; returns the module and its output shape. */
function buildLayer(path: string, raw: unknown, s: Shape, c: Ctx): { module: Module; shape: Shape } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FliqsError(path, `is ${show2(raw)}, not a layer`, `an object like { "type": "conv", "out": 16, "kernel": 3 }; types: ${TYPES_TEXT}`);
  }
  const o = raw as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !Object.hasOwn(LAYER_TYPES, type)) {
    throw new FliqsError(`${path}.type`, `is ${show2(type)}, not a layer type`, TYPES_TEXT);
  }
  checkFields(path, o, type);
  const q = { rng: c.rng, quant: c.quant, ...(o.bias === false ? { bias: false } : {}) };
  switch (type) {
    case 'conv': case 'depthwise': {
      needImage(path, type, s);
      const k = pair(`${path}.kernel`, o.kernel, 1, 'kernel size');
      const st = o.stride === undefined ? [1, 1] as [number, number] : pair(`${path}.stride`, o.stride, 1, 'stride');
      const p = convPadding(`${path}.padding`, o.padding, k, st);
      const H = outSize(`${path}.kernel`, s.H, k[0], st[0], p[0], p[0], 'height', s);
      const W = outSize(`${path}.kernel`, s.W, k[1], st[1], p[1], p[1], 'width', s);
      const opts = { ...q, stride: st, padding: p };
      if (type === 'depthwise') return { module: new DepthwiseConv2d(s.C, k, opts), shape: { image: true, H, W, C: s.C } };
      const out = outCount(`${path}.out`, o.out, c);
      return { module: new Conv2d(s.C, out, k, opts), shape: { image: true, H, W, C: out } };
    }
    case 'linear': {
      if (s.image) {
        throw new FliqsError(path, `is a linear layer on an image (${show(s)})`, 'a { "type": "flatten" } or { "type": "globalpool" } before the first linear');
      }
      const out = outCount(`${path}.out`, o.out, c);
      return { module: new Linear(s.F, out, q), shape: { image: false, F: out } };
    }
    case 'batchnorm':
      return { module: new BatchNorm2d(s.image ? s.C : s.F), shape: s };
    case 'maxpool': case 'avgpool': {
      needImage(path, type, s);
      const k = pair(`${path}.kernel`, o.kernel, 1, 'window size');
      const st = o.stride === undefined ? k : pair(`${path}.stride`, o.stride, 1, 'stride');
      const p = poolPadding(`${path}.padding`, o.padding, k);
      const H = outSize(`${path}.kernel`, s.H, k[0], st[0], p[0], p[2], 'height', s);
      const W = outSize(`${path}.kernel`, s.W, k[1], st[1], p[1], p[3], 'width', s);
      const opts = { stride: st, padding: p };
      return { module: type === 'maxpool' ? new MaxPool2d(k, opts) : new AvgPool2d(k, opts), shape: { image: true, H, W, C: s.C } };
    }
    case 'globalpool':
      needImage(path, type, s);
      return { module: new GlobalAvgPool(), shape: { image: false, F: s.C } };
    case 'flatten':
      return { module: new Flatten(), shape: s.image ? { image: false, F: s.H * s.W * s.C } : s };
    case 'relu': return { module: new ReLU(), shape: s };
    case 'relu6': return { module: new ReLU6(), shape: s };
    case 'gelu': return { module: new GELU(), shape: s };
    default: { // residual
      const body = buildList(`${path}.body`, o.body, s, c, true);
      const shortcut = o.shortcut === undefined ? null : buildList(`${path}.shortcut`, o.shortcut, s, c, true);
      const other = shortcut ? shortcut.shape : s;
      if (show(body.shape) !== show(other)) {
        throw new FliqsError(shortcut ? `${path}.shortcut` : `${path}.body`,
          shortcut ? `gives ${show(other)} but the body gives ${show(body.shape)}` : `changes ${show(s)} into ${show(body.shape)}, but the identity shortcut keeps ${show(s)}`,
          'a body and shortcut with the same output shape; when the body changes channels or strides, add a "shortcut" list such as [{ "type": "conv", "out": C, "kernel": 1, "stride": S }]');
      }
      return { module: new Residual(body.module, shortcut?.module ?? null), shape: body.shape };
    }
  }
}

function buildList(path: string, raw: unknown, s: Shape, c: Ctx, nonEmpty: boolean): { module: Sequential; shape: Shape } {
  if (!Array.isArray(raw) || (nonEmpty && raw.length === 0)) {
    throw new FliqsError(path, `is ${show2(raw)}`, `a non-empty list of layers (objects with a "type": ${TYPES_TEXT})`);
  }
  const modules: Module[] = [];
  let shape = s;
  raw.forEach((l, i) => {
    const b = buildLayer(`${path}[${i}]`, l, shape, c);
    modules.push(b.module);
    shape = b.shape;
  });
  return { module: new Sequential(...modules), shape };
}

/**
 * Builds a model from a spec: the layers in order, in-channels / in-features inferred from the previous layer,
 * weights drawn from one Rng(seed) in list order (so a spec that lists the zoo's `cnn` gives its weights).
 * Throws FliqsError naming the JSON path of any mistake (`layers[3].kernel`) and what is accepted.
 * @example
 * const model = modelFromSpec({ layers: [
 *   { type: 'conv', out: 16, kernel: 3, padding: 1 }, { type: 'relu' }, { type: 'maxpool', kernel: 2 },
 *   { type: 'flatten' }, { type: 'linear', out: 'classes' },
 * ] }, { inputShape: [28, 28, 1], classes: 10, seed: 0 });
 */
export function modelFromSpec(spec: unknown, opts: SpecOptions = {}): Sequential {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new FliqsError('model spec', `is ${Array.isArray(spec) ? 'a list' : show2(spec)}, not an object`, '{ "layers": [ { "type": "conv", "out": 16, "kernel": 3 }, ... ] }');
  }
  for (const k of Object.keys(spec)) if (k !== 'layers' && k !== 'name') throw new FliqsError(k, 'is not a field of a model spec', '"layers" and an optional "name"');
  const name = (spec as { name?: unknown }).name;
  if (name !== undefined && typeof name !== 'string') throw new FliqsError('name', `is ${show2(name)}`, 'a string');
  if (opts === null || typeof opts !== 'object') throw new FliqsError('options', `got ${describe(opts)}`, '{ inputShape?, classes?, seed?, quant?, width? }');
  const [H, W, C] = opts.inputShape ?? [28, 28, 1];
  for (const [k, v] of [['H', H], ['W', W], ['C', C]] as const) if (!isInt(v, 1)) throw new FliqsError(`inputShape ${k}`, `got ${describe(v)}`, 'a positive integer');
  const classes = opts.classes ?? 10;
  if (!isInt(classes, 2)) throw new FliqsError('classes', `got ${describe(classes)}`, 'an integer ≥ 2');
  const width = opts.width ?? 1;
  if (typeof width !== 'number' || !(width > 0) || width > 8) throw new FliqsError('width', `got ${describe(width)}`, 'a multiplier in (0, 8]');
  const c: Ctx = { rng: new Rng(opts.seed ?? 0), quant: opts.quant, classes, width };
  const { module, shape } = buildList('layers', (spec as { layers?: unknown }).layers, { image: true, H, W, C }, c, true);
  if (shape.image || shape.F !== classes) {
    throw new FliqsError('layers', `end with ${show(shape)}, not the ${classes} class scores`,
      'a last layer that gives one score per class, e.g. { "type": "linear", "out": "classes" } after a flatten or globalpool');
  }
  return module;
}
