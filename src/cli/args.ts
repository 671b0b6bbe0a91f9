// Command-line flags: a small typed parser shared by every `fliqs` command. Unknown flags, missing
// values and bad numbers become a UsageError, which main.ts prints with the command's usage (exit 2).
// The flags every command takes (COMMON_FLAGS: --threads) are parsed, applied and listed here, once.

import { availableCores, setThreads } from '../kernels/threads.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagKind = 'string' | 'int' | 'number' | 'boolean';

export interface FlagSpec {
  kind: FlagKind;
  /** One line for the usage text. */
  help: string;
  default?: string | number | boolean;
  /** Accepted values for string flags. */
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** What is accepted, added to the message of a bad value (default: the type and range). */
  accepted?: string;
  /** For string flags: null when `value` is fine, else why not (e.g. --data: a dataset name or an existing path). */
  check?: (value: string) => string | null;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K]['kind'] extends 'boolean' ? boolean : S[K]['kind'] extends 'string' ? string | undefined : number | undefined;
};

const MAX_THREADS = 256;
const threadsDefault = (): string => {
  const env = process.env['FLIQS_THREADS'];
  return env ? `FLIQS_THREADS, ${env}` : `all cores, ${availableCores()}`;
};

/** Flags of every command, after its own in the usage text. */
export const COMMON_FLAGS = {
  threads: {
    kind: 'int', help: `threads for the kernels (default: ${threadsDefault()})`, min: 1, max: MAX_THREADS,
    accepted: `an integer from 1 to ${MAX_THREADS}`,
  },
} satisfies FlagSpecs;

/**
 * Parses `--name value`, `--name=value` and boolean `--name` / `--no-name` against `specs` and COMMON_FLAGS, and
 * applies the common ones before the command does any work: `--threads N` calls setThreads(N) (results are the
 * same for any count; without the flag the kernels keep their default, every core).
 */
export function parseFlags<S extends FlagSpecs>(args: readonly string[], ownSpecs: S): FlagValues<S & typeof COMMON_FLAGS> {
  const specs: FlagSpecs = { ...ownSpecs, ...COMMON_FLAGS };
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(specs)) out[k] = s.default ?? (s.kind === 'boolean' ? false : undefined);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    let [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (name.startsWith('no-') && specs[name.slice(3)]?.kind === 'boolean') { out[name.slice(3)] = false; continue; }
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name}; known: ${Object.keys(specs).map((k) => `--${k}`).join(' ')}`);
    if (spec.kind === 'boolean') {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new UsageError(`--${name} takes no value (or =true/=false)`);
      out[name] = value !== 'false';
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value (${spec.help})`);
    }
    out[name] = convert(name, spec, value);
  }
  if (out['threads'] !== undefined) setThreads(out['threads'] as number);
  return out as FlagValues<S & typeof COMMON_FLAGS>;
}

function convert(name: string, spec: FlagSpec, value: string): string | number {
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not one of: ${spec.choices.join(', ')}`);
    const why = spec.check?.(value);
    if (why) throw new UsageError(`--${name} ${JSON.stringify(value)} ${why}`);
    return value;
  }
  const v = Number(value);
  const accepted = spec.accepted ? `; accepted: ${spec.accepted}` : '';
  if (value.trim() === '' || !Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} is not ${spec.kind === 'int' ? 'an integer' : 'a number'}${accepted}`);
  }
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    throw new UsageError(`--${name} ${v} is outside [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]${accepted}`);
  }
  return v;
}

/** Usage text: one line per flag with its default, the command's flags first, then COMMON_FLAGS. */
export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const all: FlagSpecs = { ...specs, ...COMMON_FLAGS };
  const rows = Object.entries(all).map(([k, s]) => {
    const arg = s.kind === 'boolean' ? '' : s.choices ? ` <${s.choices.join('|')}>` : ` <${s.kind}>`;
    const def = s.default !== undefined && s.kind !== 'boolean' ? ` (default ${s.default})` : '';
    return `  --${k}${arg}`.padEnd(36) + ` ${s.help}${def}`;
  });
  return `usage: fliqs ${command} [flags]\n${summary}\n\n${rows.join('\n')}\n`;
}
