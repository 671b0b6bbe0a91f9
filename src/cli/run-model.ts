// Rebuilds the trained model of a finished run directory (fliqs search or fliqs train): the zoo model
// from config.json, its weights, batch-norm statistics and activation clips from checkpoint.bin, and
// the formats it chose (result.json of a search; the one --format of a train run).

import { existsSync } from 'node:fs';
import { FliqsError } from '../core/errors.js';
import { loadDataset, type DatasetName } from '../data/node/load.js';
import type { DatasetSplits } from '../data/dataset.js';
import type { DeployInfo } from '../deploy/spec.js';
import { parseFormat } from '../formats/format.js';
import type { Module } from '../nn/module.js';
import { quantLayers, type QuantizerState } from '../nn/quant.js';
import { MODEL_NAMES } from '../nn/zoo.js';
import type { LayerListSpec } from '../nn/spec.js';
import { buildModel } from './model-flag.js';
import { isSupernet, type Supernet } from '../nn/mobilenet.js';
import type { KernelSharing } from '../nn/elastic.js';
import { configArch } from './search.js';
import { checkpointKey } from '../train/trainer.js';
import { readJson } from './files.js';
import { RunDir } from './run-dir.js';

export interface RunModel {
  model: Module;
  /** One format per searched layer (quantLayers order). */
  formats: string[];
  info: DeployInfo;
  data: DatasetSplits;
  /** The run's own test accuracy of these formats (fake-quantized, as it reported it), when it has one. */
  reportedAccuracy: number | null;
}

interface RunConfig {
  model: string; modelSpec?: LayerListSpec; width: number; data: string; seed: number; limit?: number | null; validation?: number | null; format?: string; weightClip?: 'absmax' | 'mse';
  space?: string; widths?: number[]; kernelSizes?: number[]; kernelSharing?: KernelSharing;
}
interface RunResult {
  kind?: string; layers?: Array<{ name: string; format: string }>; test?: { accuracy: number }; testAccuracy?: number; cost?: unknown;
  architecture?: { decisions?: Array<{ name: string; value: number }> };
}

/** The plain model of a FLIQNAS run's chosen architecture (result.json's architecture), cut from its super-network. */
function extractResult(supernet: Module & Supernet, result: RunResult, dir: string): Module {
  const decisions = supernet.architecture().decisions, chosen = result.architecture?.decisions;
  if (!Array.isArray(chosen) || chosen.length !== decisions.length || chosen.some((d, i) => d?.name !== decisions[i]!.name || typeof d.value !== 'number')) {
    throw new FliqsError(`${dir}/result.json`, 'does not list the architecture its super-network searched', 'a result.json written by fliqs search with an architecture space');
  }
  const plain = supernet.extract(chosen.map((d) => d.value));
  supernet.free();
  return plain;
}

/**
 * Loads the model a finished run trained, with the formats it ended at.
 * @example
 * const { model, formats, info } = loadRunModel('runs/default-search');
 */
export function loadRunModel(dir: string): RunModel {
  const run = new RunDir(dir);
  if (!existsSync(run.configFile)) throw new FliqsError(dir, 'is not a fliqs run directory (no config.json)', 'a directory written by fliqs search or fliqs train');
  if (!existsSync(run.resultFile)) {
    throw new FliqsError(dir, 'has no result.json: the run has not finished', `finish it first (fliqs search --resume --out ${dir}), then export`);
  }
  const config = readJson<RunConfig>(run.configFile, `${dir}/config.json`);
  const result = readJson<RunResult>(run.resultFile, `${dir}/result.json`);
  if (!(MODEL_NAMES as string[]).includes(config.model) && !config.modelSpec) throw new FliqsError(`${dir}/config.json`, `names model ${JSON.stringify(config.model)}`, MODEL_NAMES.join(', '));
  const ck = run.loadCheckpoint();
  if (!ck) throw new FliqsError(dir, 'has no checkpoint.bin (the trained weights)', 'a run directory whose checkpoint.bin is intact');
  const data = loadDataset(config.data as DatasetName, {
    ...(config.validation != null ? { validation: config.validation } : {}),
    ...(config.limit != null ? { limit: { train: config.limit } } : {}),
  });
  const arch = typeof config.space === 'string' ? configArch({ space: config.space, widths: config.widths, kernelSizes: config.kernelSizes, kernelSharing: config.kernelSharing }) : undefined;
  let model = buildModel(config.model, config.modelSpec, {
    width: config.width, inputShape: data.train.shape, classes: data.train.classes, seed: config.seed,
    quant: { weightClip: config.weightClip ?? 'absmax' }, ...(arch ? { arch } : {}),
  });
  const values: Record<string, Float32Array> = {}, shapes: Record<string, number[]> = {};
  for (const [k, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    const v = ck.tensors[checkpointKey(k, t)];
    if (v) values[k] = v;
    shapes[k] = t.shape.slice();
  }
  try {
    model.loadStateDict({ values, shapes });
  } catch (e) {
    if (e instanceof FliqsError) throw new FliqsError(`${dir}/checkpoint.bin`, `does not fit ${config.model} ×${config.width}: ${e.message}`, 'the checkpoint of this run');
    throw e;
  }
  const quant = (ck.meta as { quant?: Array<QuantizerState & { name: string }> }).quant ?? [];
  for (const [name, l] of quantLayers(model)) {
    const q = quant.find((s) => s.name === name);
    if (!q) throw new FliqsError(`${dir}/checkpoint.bin`, `has no quantizer state for layer ${name}`, 'the checkpoint of this run');
    l.quant.restore(q); // its profiled clips; the formats exported are the run's result, set by the caller
  }
  if (isSupernet(model)) model = extractResult(model, result, dir);
  const layers = quantLayers(model);
  let formats: string[];
  let reported: number | null;
  if (result.kind === 'fliqs-search') {
    if (!Array.isArray(result.layers) || result.layers.length !== layers.length) throw new FliqsError(`${dir}/result.json`, 'does not list one format per layer', 'a result.json written by fliqs search');
    formats = result.layers.map((l) => parseFormat(l.format).name);
    reported = result.test?.accuracy ?? null;
  } else {
    formats = layers.map(() => parseFormat(config.format ?? 'FP32').name);
    reported = result.testAccuracy ?? null;
  }
  const info: DeployInfo = {
    model: config.model, width: config.width, inputShape: [...data.train.shape], classes: data.train.classes,
    source: { run: dir, kind: result.kind ?? 'fliqs-train', data: config.data, normalization: data.train.normalization, reportedAccuracy: reported, ...(result.cost ? { cost: result.cost } : {}) },
  };
  return { model, formats, info, data, reportedAccuracy: reported };
}
