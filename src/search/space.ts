// The FLIQS search space: for every searched layer (conv, linear, attention projection) the list of
// formats the controller may choose from, with optional pins and fixed first/last layers; for a FLIQNAS
// super-network also its architecture decisions (widths, kernel sizes) and how each layer's MACs follow them.
// A configuration is one choice index per decision: the layers' formats first, then the architecture.

import { FliqsError, describe } from '../core/errors.js';
import { ACCEPTED_FORMATS, parseFormat, type Format } from '../formats/format.js';
import { SEARCH_SPACES, parseSearchSpace } from '../formats/presets.js';
import type { ArchDecision, ArchFactor, ModelArchitecture } from '../nn/mobilenet.js';
import { ARCH_SPACE_HELP, splitSpaceSpec } from './arch-spaces.js';

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
  /**
   * How the layer's MACs follow architecture decisions (indices into `arch`): `macs` is the base architecture's,
   * the MACs under a configuration are macs · Π (value / base)^power.
   */
  readonly factors?: readonly ArchFactor[];
}

export interface SearchSpace {
  readonly layers: readonly SearchLayer[];
  /** Architecture decisions (FLIQNAS), after the layers' format decisions in a configuration. */
  readonly arch?: readonly ArchDecision[];
}

/** A configuration: one choice index per decision — the layers' formats in layer order, then `arch`. */
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

const SPACE_HELP = `a preset (${Object.keys(SEARCH_SPACES).join(', ')}), presets joined with +, or a list of format names; ${ARCH_SPACE_HELP}`;

/**
 * Builds a search space from the model's layer list.
 * @example
 * const s = buildSearchSpace([{ name: 'conv1', macs: 1e6 }, { name: 'fc', macs: 1e4 }],
 *   { space: 'int-s', fixFirstLast: 'BF16' });
 * s.layers[0].choices.map((f) => f.name) // ['BF16']
 */
export function buildSearchSpace(layers: readonly LayerInfo[], options: SearchSpaceOptions, architecture?: ModelArchitecture): SearchSpace {
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
  const spec = splitSpaceSpec(options.space);
  if (spec.arch && !architecture) {
    throw new FliqsError('space', `${describe(options.space)} searches the architecture, and this model has no architecture decisions`,
      "a FLIQNAS super-network: createModel('mobilenetv2', { arch: archOptionsOf(space) }) (the CLI builds it for --space fliqnas-* / qnas-*)");
  }
  if (!spec.arch && architecture) {
    throw new FliqsError('space', `${describe(options.space)} searches formats only, and this model is a FLIQNAS super-network`,
      'an architecture space (fliqnas-s, fliqnas-l, qnas-<format>), or a plain model for a formats-only search');
  }
  let choices: Format[];
  try {
    choices = parseSearchSpace(spec.formats);
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
  const arch = architecture ? checkArchitecture(architecture, names) : null;
  return {
    layers: layers.map((layer) => {
      const pin = pinned.get(layer.name);
      const factors = arch?.factors[layer.name];
      // MACs measured at the architecture the model runs now, rescaled to the base one (exact: integer factors)
      const macs = factors ? factors.reduce((m, f) => {
        const d = arch!.decisions[f.decision]!;
        return m / arch!.current[f.decision]! ** f.power * d.base ** f.power;
      }, layer.macs) : layer.macs;
      return Object.freeze({
        name: layer.name, macs,
        choices: Object.freeze(pin ? [pin] : [...choices]), pinned: pin !== undefined,
        ...(factors ? { factors: Object.freeze(factors.map((f) => Object.freeze({ ...f }))) } : {}),
      });
    }),
    ...(arch ? { arch: Object.freeze(arch.decisions.map((d) => Object.freeze({ ...d, choices: Object.freeze([...d.choices]) }))) } : {}),
  };
}

/** The model's architecture, checked against its searched layers. */
function checkArchitecture(a: ModelArchitecture, names: ReadonlySet<string>): ModelArchitecture {
  const n = a.decisions.length;
  if (n === 0) throw new FliqsError('model', 'is a super-network with no architecture decisions (every block has one width and one kernel)', 'more than one width or kernel size per block');
  for (const [layer, fs] of Object.entries(a.factors)) {
    if (!names.has(layer)) throw new FliqsError('architecture', `scales the unknown layer ${JSON.stringify(layer)}`, 'factors of searched layers');
    if (!fs.every((f) => Number.isInteger(f.decision) && f.decision >= 0 && f.decision < n && (f.power === 1 || f.power === 2))) {
      throw new FliqsError('architecture', `has bad factors for ${layer}: ${describe(fs)}`, `{ decision: 0…${n - 1}, power: 1 or 2 }`);
    }
  }
  return a;
}

/** How many decisions a configuration of the space holds (its layers' formats, then its architecture decisions). */
export function decisionCount(space: SearchSpace): number {
  checkSpace(space);
  return space.layers.length + (space.arch?.length ?? 0);
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
    && Array.from(l.choices).every((f: Partial<Format> | null) => typeof f === 'object' && f !== null && typeof f.name === 'string' && Number.isInteger(f.bits)))
    && archOk((space as SearchSpace).arch, layers as SearchLayer[]);
  if (!ok) throw new FliqsError(input, `got ${describe(space)}`, 'a SearchSpace from buildSearchSpace() ({ layers: [{ name, macs, choices: Format[] }] })');
  checked.add(space as object);
  return space as SearchSpace;
}

/** Architecture decisions with positive numeric choices and a positive base, and layer factors that index them. */
function archOk(arch: unknown, layers: readonly SearchLayer[]): boolean {
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (arch === undefined) return layers.every((l) => l.factors === undefined);
  if (!Array.isArray(arch) || !Array.from(arch).every((d: Partial<ArchDecision> | null) => typeof d === 'object' && d !== null && typeof d.name === 'string'
    && (d.kind === 'width' || d.kind === 'kernel') && positive(d.base) && Array.isArray(d.choices) && d.choices.length > 0 && Array.from(d.choices).every(positive))) return false;
  return layers.every((l) => l.factors === undefined || (Array.isArray(l.factors) && Array.from(l.factors).every((f: Partial<ArchFactor> | null) =>
    typeof f === 'object' && f !== null && Number.isInteger(f.decision) && f.decision! >= 0 && f.decision! < arch.length && (f.power === 1 || f.power === 2))));
}

/** Number of choices per decision (layers' formats, then the architecture), the shape the controller needs. */
export function choiceCounts(space: SearchSpace): number[] {
  checkSpace(space);
  return [...space.layers.map((l) => l.choices.length), ...(space.arch ?? []).map((d) => d.choices.length)];
}

/**
 * The architecture a configuration picks, as `{ decisionName: value }` (channels or kernel size); {} without one.
 * @example
 * configArch(space, config) // e.g. { 'blocks.1.width': 24, 'blocks.1.kernel': 5, … }
 */
export function configArch(space: SearchSpace, config: Config): Record<string, number> {
  checkConfig(checkSpace(space), config);
  const out: Record<string, number> = {}, L = space.layers.length;
  (space.arch ?? []).forEach((d, i) => { out[d.name] = d.choices[config[L + i]!]!; });
  return out;
}

/** The architecture values of a configuration in decision order (what Supernet.setArch / extract take). */
export function configArchValues(space: SearchSpace, config: Config): number[] {
  checkConfig(checkSpace(space), config);
  const L = space.layers.length;
  return (space.arch ?? []).map((d, i) => d.choices[config[L + i]!]!);
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
  const n = decisionCount(space), counts = choiceCounts(space);
  if (!Array.isArray(config) && !ArrayBuffer.isView(config)) {
    throw new FliqsError(input, `got ${describe(config)}`, `an array of ${n} choice indices`);
  }
  if (config.length !== n) {
    throw new FliqsError(input, `has ${config.length} entries for ${n} decisions`, `one choice index per decision (${space.layers.length} layers' formats${space.arch ? `, then ${space.arch.length} architecture decisions` : ''})`);
  }
  for (let i = 0; i < config.length; i++) {
    const c = config[i], k = counts[i]!;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= k) {
      const what = i < space.layers.length ? `layer ${JSON.stringify(space.layers[i]!.name)}` : JSON.stringify(space.arch![i - space.layers.length]!.name);
      throw new FliqsError(`${input}[${i}]`, `got ${describe(c)} for ${what}`, `an integer from 0 to ${k - 1}`);
    }
  }
}
