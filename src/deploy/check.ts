// Checks that a ModelSpec is whole and consistent before anything runs or translates it: every node's
// op and inputs, every layer's kind, formats, shapes, clips and array lengths. A spec read from a file
// is untrusted; `where` names it (the file) in the FliqsError.

import { FliqsError, describe, requireString } from '../core/errors.js';
import { parseFormat } from '../formats/format.js';
import { layerChannels, layerParams, type DeployLayer, type DeployWeights, type ModelSpec } from './spec.js';

const NODE_OPS = ['layer', 'relu', 'relu6', 'flatten', 'globalAvgPool', 'maxPool', 'avgPool', 'add'];
const LAYER_KINDS = ['conv', 'depthwise', 'linear'];

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const intPair = (v: unknown, min: number): boolean => Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x, min));

/** Throws a FliqsError naming `where` unless `spec` can be run. Returns it, typed. */
export function checkSpec(spec: ModelSpec, where: string): ModelSpec {
  requireString('where', where);
  const bad = (what: string, accepted: string): never => { throw new FliqsError(where, what, accepted); };
  if (typeof spec !== 'object' || spec === null) bad(`got ${describe(spec)}`, 'a model (ModelSpec)');
  const { info, layers, weights, graph } = spec;
  if (typeof info !== 'object' || info === null || typeof info.model !== 'string') bad('has no model info', 'info { model, width, inputShape, classes }');
  if (!Array.isArray(info.inputShape) || info.inputShape.length !== 3 || !info.inputShape.every((d) => isInt(d, 1))) {
    bad(`has input shape ${describe(info.inputShape)}`, '[H, W, C] of positive integers');
  }
  if (!isInt(info.classes, 1)) bad(`has ${describe(info.classes)} classes`, 'a positive integer');
  if (!Array.isArray(layers) || !Array.isArray(weights) || layers.length !== weights.length) bad('has layers without weights', 'one weights entry per layer');
  layers.forEach((l, i) => checkLayer(l, weights[i]!, `${where} layer ${i}`));
  if (!Array.isArray(graph) || graph.length === 0) bad('has an empty graph', 'at least one node');
  graph.forEach((n, i) => {
    const at = `node ${i}`;
    if (typeof n !== 'object' || n === null || !NODE_OPS.includes(n.op)) {
      bad(`${at} has op ${describe((n as { op?: unknown })?.op)}, which this fliqs does not know (a newer fliqs may have written it)`, NODE_OPS.join(', '));
    }
    const inputs = n.op === 'add' ? [n.input, n.other] : [n.input];
    for (const v of inputs) if (!isInt(v, 0) || v > i) bad(`${at} reads value ${describe(v)}`, `a value produced before it (0…${i})`);
    if (n.op === 'layer' && !(isInt(n.layer, 0) && n.layer < layers.length)) bad(`${at} names layer ${describe(n.layer)}`, `0…${layers.length - 1}`);
    if ((n.op === 'maxPool' || n.op === 'avgPool') && !(intPair(n.kernel, 1) && intPair(n.stride, 1)
      && Array.isArray(n.padding) && n.padding.length === 4 && n.padding.every((p) => isInt(p, 0)))) {
      bad(`${at} (${n.op}) has a malformed window`, 'kernel [kh, kw], stride [sh, sw], padding [t, l, b, r]');
    }
  });
  return spec;
}

function checkLayer(l: DeployLayer, w: DeployWeights, where: string): void {
  const bad = (what: string, accepted: string): never => { throw new FliqsError(where, what, accepted); };
  if (typeof l !== 'object' || l === null || !LAYER_KINDS.includes(l.kind)) {
    bad(`has kind ${describe((l as { kind?: unknown })?.kind)}, which this fliqs does not know`, LAYER_KINDS.join(', '));
  }
  const rank = l.kind === 'linear' ? 2 : 4;
  if (!Array.isArray(l.weightShape) || l.weightShape.length !== rank || !l.weightShape.every((d) => isInt(d, 1))) {
    bad(`(${l.kind}) has weight shape ${describe(l.weightShape)}`, rank === 2 ? '[in, out]' : '[KH, KW, Cin/groups, Cout]');
  }
  if (l.kind === 'depthwise' && l.weightShape[2] !== 1) bad(`(depthwise) has ${l.weightShape[2]} input channels per group`, '1');
  if (l.kind !== 'linear' && !(intPair(l.stride, 1) && intPair(l.padding, 0))) bad('has a malformed stride or padding', '[sh, sw] ≥ 1 and [ph, pw] ≥ 0');
  const wf = parseFormat(l.weightFormat), af = parseFormat(l.activationFormat);
  if (!af.ignoresClip && !(typeof l.activationClip === 'number' && l.activationClip > 0 && Number.isFinite(l.activationClip))) {
    bad(`has activation clip ${describe(l.activationClip)} for ${af.name}`, 'a finite number > 0');
  }
  const C = layerChannels(l), P = layerParams(l);
  if (!(w?.codes instanceof Uint8Array) || w.codes.length !== Math.ceil((P * wf.bits) / 8)) {
    bad(`has ${w?.codes?.length ?? 'no'} bytes of weight codes`, `${Math.ceil((P * wf.bits) / 8)} (${P} ${wf.name} codes)`);
  }
  for (const k of ['weightScale', 'outScale', 'outBias'] as const) {
    const a = w[k];
    if (!(a instanceof Float32Array) || a.length !== C) bad(`has ${describe(a)} for ${k}`, `${C} f32 values (one per output channel)`);
    for (let i = 0; i < C; i++) {
      if (!Number.isFinite(a[i]!) || (k === 'weightScale' && !(a[i]! > 0))) bad(`has ${k}[${i}] = ${a[i]}`, k === 'weightScale' ? 'finite scales > 0' : 'finite values');
    }
  }
}
