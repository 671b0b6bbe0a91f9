// The FLIQS search space: for every searched layer (conv, linear, attention projection) the list of
// formats the controller may choose from, with optional pins and fixed first/last layers.

import { FliqsError, describe } from '../core/errors.js';
import { ACCEPTED_FORMATS, parseFormat, type Format } from '../formats/format.js';
import { SEARCH_SPACES, parseSearchSpace } from '../formats/presets.js';

/** A searched layer as the model describes it: its name and its multiply-accumulates per example. */
export interface LayerInfo {
  readonly name: string;
  readonly macs: number;
}

/** One layer of a search space. A pinned layer has exactly one choice. */
export interface SearchLayer {
  readonly name: string;
  readonly macs: number;
  readonly choices: readonly Format[];
  /** True when the layer was pinned (`pins` or `fixFirstLast`) rather than searched. */
  readonly pinned: boolean;
}

export interface SearchSpace {
  readonly layers: readonly SearchLayer[];
}

/** A configuration: one choice index per layer, in layer order (`choices[config[l]]`). */
export type Config = readonly number[];

export interface SearchSpaceOptions {
  /** Formats every searched layer chooses from: a preset (`int-s`, `int-l`, `fp-s`, `fp-l`), presets
   *  joined with `+` (`int-s+fp-s`), a comma list (`INT4,E4M3,INT8`) or an array of names. */
  space: string | readonly (string | Format)[];
  /** Pins layers by name to one format (any format, not only those in `space`). A pin wins over
   *  `fixFirstLast`. */
  pins?: Readonly<Record<string, string | Format>>;
  /** Keeps the first and the last layer in this format (e.g. `BF16`). */
  fixFirstLast?: string | Format;
}

const SPACE_HELP = `a preset (${Object.keys(SEARCH_SPACES).join(', ')}), presets joined with +, or a list of format names`;

/**
 * Builds a search space from the model's layer list.
 * @example
 * const s = buildSearchSpace([{ name: 'conv1', macs: 1e6 }, { name: 'fc', macs: 1e4 }],
 *   { space: 'int-s', fixFirstLast: 'BF16' });
 * s.layers[0].choices.map((f) => f.name) // ['BF16']
 */
export function buildSearchSpace(layers: readonly LayerInfo[], options: SearchSpaceOptions): SearchSpace {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new FliqsError('layers', `got ${describe(layers)}`, 'a non-empty array of { name, macs }');
  }
  if (typeof options !== 'object' || options === null) {
    throw new FliqsError('options', `got ${describe(options)}`, '{ space, pins?, fixFirstLast? }');
  }
  const names = new Set<string>();
  layers.forEach((layer, i) => {
    if (typeof layer !== 'object' || layer === null || typeof layer.name !== 'string' || layer.name.length === 0) {
      throw new FliqsError(`layers[${i}]`, `got ${describe(layer)}`, '{ name: non-empty string, macs: number ≥ 0 }');
    }
    if (typeof layer.macs !== 'number' || !Number.isFinite(layer.macs) || layer.macs < 0) {
      throw new FliqsError(`layers[${i}].macs`, `got ${describe(layer.macs)} for layer ${JSON.stringify(layer.name)}`, 'a finite number ≥ 0');
    }
    if (names.has(layer.name)) {
      throw new FliqsError(`layers[${i}].name`, `${JSON.stringify(layer.name)} appears twice`, 'unique layer names');
    }
    names.add(layer.name);
  });
  let choices: Format[];
  try {
    choices = parseSearchSpace(options.space);
  } catch (e) {
    if (e instanceof FliqsError) throw new FliqsError('space', `${describe(options.space)}: ${e.problem}`, `${SPACE_HELP}; format names: ${ACCEPTED_FORMATS}`);
    throw e;
  }
  const pinned = new Map<string, Format>();
  if (options.fixFirstLast !== undefined) {
    const f = formatOption('fixFirstLast', options.fixFirstLast);
    pinned.set(layers[0]!.name, f);
    pinned.set(layers[layers.length - 1]!.name, f);
  }
  if (options.pins !== undefined) {
    if (typeof options.pins !== 'object' || options.pins === null) {
      throw new FliqsError('pins', `got ${describe(options.pins)}`, 'an object { layerName: formatName }');
    }
    for (const [name, fmt] of Object.entries(options.pins)) {
      if (!names.has(name)) {
        const known = [...names];
        throw new FliqsError('pins', `names the unknown layer ${JSON.stringify(name)}`,
          `one of ${known.slice(0, 20).join(', ')}${known.length > 20 ? `, … (${known.length} layers)` : ''}`);
      }
      pinned.set(name, formatOption(`pins.${name}`, fmt));
    }
  }
  return {
    layers: layers.map((layer) => {
      const pin = pinned.get(layer.name);
      return Object.freeze({
        name: layer.name, macs: layer.macs,
        choices: Object.freeze(pin ? [pin] : [...choices]), pinned: pin !== undefined,
      });
    }),
  };
}

function formatOption(input: string, value: unknown): Format {
  try {
    return parseFormat(value as string);
  } catch (e) {
    if (e instanceof FliqsError) throw new FliqsError(input, e.problem, ACCEPTED_FORMATS);
    throw e;
  }
}

/** Spaces already checked (each is checked once, then trusted by every later call). */
const checked = new WeakSet<object>();

/** Throws a FliqsError naming `input` unless `space` has the shape buildSearchSpace() returns. */
export function checkSpace(space: unknown, input = 'space'): SearchSpace {
  if (typeof space === 'object' && space !== null && checked.has(space)) return space as SearchSpace;
  const layers = (space as { layers?: unknown } | null)?.layers;
  // Array.from: every() alone would skip the holes of a sparse array.
  const ok = typeof space === 'object' && space !== null && Array.isArray(layers) && layers.length > 0 && Array.from(layers).every((l: Partial<SearchLayer> | null) =>
    typeof l === 'object' && l !== null && typeof l.name === 'string' && typeof l.macs === 'number' && Number.isFinite(l.macs) && l.macs >= 0
    && Array.isArray(l.choices) && l.choices.length > 0
    && Array.from(l.choices).every((f: Partial<Format> | null) => typeof f === 'object' && f !== null && typeof f.name === 'string' && Number.isInteger(f.bits)));
  if (!ok) throw new FliqsError(input, `got ${describe(space)}`, 'a SearchSpace from buildSearchSpace() ({ layers: [{ name, macs, choices: Format[] }] })');
  checked.add(space as object);
  return space as SearchSpace;
}

/** Number of choices per layer, the shape the controller needs. */
export function choiceCounts(space: SearchSpace): number[] {
  return checkSpace(space).layers.map((l) => l.choices.length);
}

/**
 * The formats a configuration picks, in layer order. Throws on a config of the wrong shape.
 * @example
 * configFormats(space, [0, 2]).map((f) => f.name) // e.g. ['INT4', 'BF16']
 */
export function configFormats(space: SearchSpace, config: Config): Format[] {
  checkConfig(checkSpace(space), config);
  return space.layers.map((l, i) => l.choices[config[i]!]!);
}

/** The configuration as `{ layerName: formatName }`, for logs and results. */
export function configRecord(space: SearchSpace, config: Config): Record<string, string> {
  checkSpace(space);
  const fs = configFormats(space, config);
  const out: Record<string, string> = {};
  space.layers.forEach((l, i) => { out[l.name] = fs[i]!.name; });
  return out;
}

/** Throws a FliqsError unless `config` has one valid choice index per layer. */
export function checkConfig(space: SearchSpace, config: Config, input = 'config'): void {
  if (typeof input !== 'string') throw new FliqsError('input', `got ${describe(input)}`, 'a string naming the config in messages');
  if (!Array.isArray(config) && !ArrayBuffer.isView(config)) {
    throw new FliqsError(input, `got ${describe(config)}`, `an array of ${space.layers.length} choice indices`);
  }
  if (config.length !== space.layers.length) {
    throw new FliqsError(input, `has ${config.length} entries for ${space.layers.length} layers`, `one choice index per layer`);
  }
  for (let i = 0; i < config.length; i++) {
    const c = config[i], n = space.layers[i]!.choices.length;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= n) {
      throw new FliqsError(`${input}[${i}]`, `got ${describe(c)} for layer ${JSON.stringify(space.layers[i]!.name)}`, `an integer from 0 to ${n - 1}`);
    }
  }
}
