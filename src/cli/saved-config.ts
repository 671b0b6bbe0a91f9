// A run's config.json as --resume reads it back: the file may have been edited or damaged since fliqs wrote
// it, so it is checked as strictly as the flags that made it (issue 17, item 5) before anything runs. A train
// run's config is its flags, re-parsed by the same parser; a search run's config is checked field by field.

import { FliqsError } from '../core/errors.js';
import { parseFlags, type FlagSpecs } from './args.js';

const FIX = 'the config.json fliqs wrote for this run; undo the edit, or start the run over in a new folder';

/** A saved config must be a plain JSON object. */
function object(saved: unknown, file: string): Record<string, unknown> {
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
    throw new FliqsError(file, `holds ${saved === null ? 'null' : Array.isArray(saved) ? 'an array' : typeof saved}, not a run's config`, FIX);
  }
  return saved as Record<string, unknown>;
}

/**
 * A train run's saved flags, re-parsed with `specs` (the command's flags without out, resume, stop-after):
 * every value must be one the flag accepts. Returns the parsed flags.
 */
export function checkSavedFlags<S extends FlagSpecs>(saved: unknown, specs: S, file: string): Record<string, unknown> {
  const o = object(saved, file);
  const args: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (!Object.hasOwn(specs, k)) throw new FliqsError(file, `has the unknown field ${JSON.stringify(k)}`, FIX);
    if (v === undefined || v === null) continue;
    if (specs[k]!.kind === 'boolean') {
      if (typeof v !== 'boolean') throw new FliqsError(file, `has ${k} = ${JSON.stringify(v)}`, `true or false; ${FIX}`);
      if (v) args.push(`--${k}`);
      continue;
    }
    if (typeof v !== 'number' && typeof v !== 'string') throw new FliqsError(file, `has ${k} = ${JSON.stringify(v)}`, `a number or a string; ${FIX}`);
    args.push(`--${k}`, String(v));
  }
  try {
    return parseFlags(args, specs) as Record<string, unknown>;
  } catch (e) {
    throw new FliqsError(file, `has a value its flag refuses: ${e instanceof Error ? e.message : String(e)}`, FIX);
  }
}

type Check = (v: unknown) => boolean;
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const int: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const posInt: Check = (v) => Number.isInteger(v) && (v as number) >= 1;
const str: Check = (v) => typeof v === 'string' && v.length > 0;
const orNull = (c: Check): Check => (v) => v === null || c(v);

/** The fields of a search run's config (SearchConfig in search.ts) and what each may hold. */
const SEARCH_FIELDS: Record<string, Check> = {
  model: str, width: (v) => num(v) && (v as number) > 0, data: str, space: str, target: (v) => str(v) || ((num(v) && (v as number) > 0)),
  epochs: posInt, steps: orNull(posInt), batch: posInt, lr: (v) => num(v) && (v as number) > 0, optimizer: str, weightDecay: (v) => num(v) && (v as number) >= 0,
  seed: int, gamma: (v) => v === 'auto' || (num(v) && (v as number) >= 0), gammaPerSigma: (v) => num(v) && (v as number) >= 0, estimator: str,
  rewardScale: str, resultRule: str, labelSmoothing: (v) => num(v) && (v as number) >= 0 && (v as number) < 1, weightClip: str,
  controllerLr: (v) => num(v) && (v as number) > 0, entropyEnd: (v) => num(v) && (v as number) >= 0, quality: str, valBatch: posInt,
  validation: orNull(posInt), limit: orNull(posInt), fixFirstLast: orNull(str),
  pins: (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every(str),
  retrain: (v) => typeof v === 'boolean', logEvery: orNull(posInt), checkpointEvery: orNull(posInt),
  widths: (v) => Array.isArray(v) && v.length > 0 && v.every((x) => num(x) && x > 0),
  kernelSizes: (v) => Array.isArray(v) && v.length > 0 && v.every(posInt), kernelSharing: str, recalibrate: int,
  modelSpec: (v) => v !== null && typeof v === 'object' && !Array.isArray(v), // its layers are checked when the model is built
};
/** Fields every search config has (the others are absent from configs written before they existed). */
const SEARCH_REQUIRED = ['model', 'width', 'data', 'space', 'target', 'epochs', 'batch', 'lr', 'optimizer', 'seed', 'valBatch', 'quality'];

/** A search run's saved config, checked field by field (names, types, ranges); the search then checks the rest. */
export function checkSavedSearchConfig<T>(saved: unknown, file: string): T {
  const o = object(saved, file);
  for (const k of SEARCH_REQUIRED) if (!(k in o)) throw new FliqsError(file, `has no ${k}`, FIX);
  for (const [k, v] of Object.entries(o)) {
    const check = SEARCH_FIELDS[k];
    if (!check) throw new FliqsError(file, `has the unknown field ${JSON.stringify(k)}`, FIX);
    if (!check(v)) throw new FliqsError(file, `has ${k} = ${JSON.stringify(v)}`, `a value \`fliqs search\` would have written; ${FIX}`);
  }
  return o as T;
}

/**
 * The edits between the config a checkpoint was made with (stored in it; absent in older checkpoints) and the
 * config.json a resume reads: none, or a FliqsError naming config.json and each changed field. A resumed run
 * continues the checkpoint's optimizer and schedule, so an edit would silently mix two runs.
 */
export function refuseEditsSince(checkpointConfig: unknown, now: object, file: string): void {
  if (checkpointConfig === undefined || checkpointConfig === null || typeof checkpointConfig !== 'object') return;
  const was = checkpointConfig as Record<string, unknown>, is = now as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(was), ...Object.keys(is)])];
  const edits = keys.filter((k) => JSON.stringify(was[k]) !== JSON.stringify(is[k]))
    .map((k) => `${k} ${JSON.stringify(was[k]) ?? '(none)'} → ${JSON.stringify(is[k]) ?? '(none)'}`);
  if (edits.length > 0) {
    throw new FliqsError(file, `was edited after the checkpoint was written (${edits.join(', ')})`,
      'the config the checkpoint was made with (undo the edit), or a new run folder for the new settings');
  }
}
