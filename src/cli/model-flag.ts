// --model on search / train / pareto: a zoo name, or a JSON model spec file (a value ending in .json, or any
// existing file). The spec's content is copied into the run's config.json (modelSpec), so resume, report and
// export rebuild the model from the run folder alone, without the file.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { FliqsError, FliqsIoError, ioReason } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import type { QuantizerOptions } from '../nn/quant.js';
import { modelFromSpec, type LayerListSpec } from '../nn/spec.js';
import { createModel, MODEL_NAMES, type ModelOptions } from '../nn/zoo.js';

export const MODEL_HELP = `zoo model (${MODEL_NAMES.join(', ')}) or a JSON model spec file (see README, "Your model")`;

/** A --model value that names a spec file rather than a zoo model. */
export function isSpecPath(v: string): boolean {
  if (v.toLowerCase().endsWith('.json')) return true;
  try { return existsSync(v) && statSync(v).isFile(); } catch { return false; }
}

/** Reads a spec file: JSON holding an object (its layers are checked when the model is built, against the data's shape). */
export function readModelSpec(file: string): LayerListSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new FliqsError(`--model ${file}`, 'does not exist', `a zoo model (${MODEL_NAMES.join(', ')}) or the path of a JSON model spec`);
    throw new FliqsIoError(file, `could not be read (${ioReason(e)})`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new FliqsError(file, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`, 'a JSON model spec: { "layers": [ { "type": "conv", "out": 16, "kernel": 3 }, ... ] }');
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new FliqsError(file, 'does not hold a JSON object', '{ "layers": [ ... ] } (see README, "Your model")');
  }
  return spec as LayerListSpec;
}

/** The --model value checked: a zoo name (no spec) or a spec file read into memory. */
export function parseModelFlag(v: string): { model: string; modelSpec?: LayerListSpec } {
  if ((MODEL_NAMES as string[]).includes(v)) return { model: v };
  if (isSpecPath(v)) return { model: v, modelSpec: readModelSpec(v) };
  throw new FliqsError('--model', `${JSON.stringify(v)} is not a zoo model`, `${MODEL_NAMES.join(', ')}, or a JSON model spec file (a path ending in .json)`);
}

/** A short name for folder names and titles: the zoo name, or the spec file's base name without .json. */
export function modelLabel(model: string): string {
  return isSpecPath(model) ? basename(model).replace(/\.json$/i, '') : model;
}

export interface BuildOptions extends Omit<ModelOptions, 'quant'> { quant?: QuantizerOptions }

/** Builds a run's model: from its spec when it has one (errors name the spec file and JSON path), else from the zoo. */
export function buildModel(model: string, spec: LayerListSpec | undefined, opts: BuildOptions): Module {
  if (spec === undefined) return createModel(model, opts);
  if (opts.arch !== undefined) {
    throw new FliqsError('--space', 'an architecture space (fliqnas-*, qnas-*) needs --model mobilenetv2', 'a formats space (e.g. int-s, fp-l) with a JSON model spec');
  }
  try {
    return modelFromSpec(spec, {
      ...(opts.inputShape ? { inputShape: opts.inputShape } : {}), ...(opts.classes !== undefined ? { classes: opts.classes } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.quant ? { quant: opts.quant } : {}), ...(opts.width !== undefined ? { width: opts.width } : {}),
    });
  } catch (e) {
    if (e instanceof FliqsError && !(e instanceof FliqsIoError)) throw new FliqsError(`${model} ${e.input}`, e.problem, e.accepted);
    throw e;
  }
}
