// Command-line flags: a small typed parser shared by every `fliqs` command. Unknown flags, missing
// values and bad numbers become a UsageError, which main.ts prints with the command's usage (exit 2).

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
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K]['kind'] extends 'boolean' ? boolean : S[K]['kind'] extends 'string' ? string | undefined : number | undefined;
};

/** Parses `--name value`, `--name=value` and boolean `--name` / `--no-name`. */
export function parseFlags<S extends FlagSpecs>(args: readonly string[], specs: S): FlagValues<S> {
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
  return out as FlagValues<S>;
}

function convert(name: string, spec: FlagSpec, value: string): string | number {
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not one of: ${spec.choices.join(', ')}`);
    return value;
  }
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} is not ${spec.kind === 'int' ? 'an integer' : 'a number'}`);
  }
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    throw new UsageError(`--${name} ${v} is outside [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`);
  }
  return v;
}

/** Usage text: one line per flag with its default. */
export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([k, s]) => {
    const arg = s.kind === 'boolean' ? '' : s.choices ? ` <${s.choices.join('|')}>` : ` <${s.kind}>`;
    const def = s.default !== undefined && s.kind !== 'boolean' ? ` (default ${s.default})` : '';
    return `  --${k}${arg}`.padEnd(36) + ` ${s.help}${def}`;
  });
  return `usage: fliqs ${command} [flags]\n${summary}\n\n${rows.join('\n')}\n`;
}
