// FliqsError: the one error type users see. It names the input, what was wrong, and what is accepted.

export class FliqsError extends Error {
  /** The argument, option or file that was wrong, e.g. `format` or `clip`. */
  readonly input: string;
  /** What was wrong with it. */
  readonly problem: string;
  /** What would have been accepted, when that can be said. */
  readonly accepted: string | undefined;

  constructor(input: string, problem: string, accepted?: string) {
    // Non-strings (from JavaScript callers) are described rather than converted, which can throw.
    const text = (v: unknown): string => (typeof v === 'string' ? v : describe(v));
    input = text(input);
    problem = text(problem);
    accepted = accepted === undefined ? undefined : text(accepted);
    super(`${input}: ${problem}${accepted ? `; accepted: ${accepted}` : ''}`);
    this.name = 'FliqsError';
    this.input = input;
    this.problem = problem;
    this.accepted = accepted;
  }
}

/**
 * A file that could not be read or written (a full disk, a read-only folder, a path through a file): the
 * input is the file. The CLI exits 1 for these (an I/O failure) and 2 for other FliqsErrors (bad input).
 */
export class FliqsIoError extends FliqsError {
  constructor(file: string, problem: string, accepted?: string) {
    super(file, problem, accepted);
    this.name = 'FliqsIoError';
  }
}

/** A one-line reason for a Node file-system error: its code and what it means, e.g. `ENOSPC (no space left on the device)`. */
export function ioReason(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const meaning: Record<string, string> = {
    ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system',
    EACCES: 'permission denied', EPERM: 'operation not permitted', ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder', EEXIST: 'something that is not a folder is already there', EFBIG: 'the file is too large',
    ENOENT: 'no such file or folder', EIO: 'input/output error',
  };
  if (typeof code !== 'string') return e instanceof Error ? e.message : String(e);
  return meaning[code] ? `${code}: ${meaning[code]}` : code;
}

/** Formats a value for an error message without dumping a whole array. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}

/** Throws unless `value` is a finite number. */
export function requireFinite(input: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new FliqsError(input, `got ${describe(value)}`, 'a finite number');
  return value;
}

/** Throws unless `value` is a finite number > 0. */
export function requirePositive(input: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new FliqsError(input, `got ${describe(value)}`, 'a finite number > 0');
  }
  return value;
}

/** Throws unless `value` is an integer in [min, max]. */
export function requireInt(input: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FliqsError(input, `got ${describe(value)}`, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** Throws unless `value` is a string (non-empty when `nonEmpty`). */
export function requireString(input: string, value: unknown, nonEmpty = false): string {
  if (typeof value !== 'string' || (nonEmpty && value.length === 0)) {
    throw new FliqsError(input, `got ${describe(value)}`, nonEmpty ? 'a non-empty string' : 'a string');
  }
  return value;
}

/** Throws unless `value` is a non-null object (an options bag, a record); `accepted` describes its fields. */
export function requireObject<T extends object>(input: string, value: unknown, accepted: string): T {
  if (typeof value !== 'object' || value === null) throw new FliqsError(input, `got ${describe(value)}`, accepted);
  return value as T;
}

/** Throws unless `value` is a Uint8Array. */
export function requireBytes(input: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new FliqsError(input, `got ${describe(value)}`, 'a Uint8Array');
  return value;
}

/** Throws unless `value` is an array or a typed array (an ArrayLike of numbers; elements are checked by the caller). */
export function requireArrayLike(input: string, value: unknown, accepted = 'an array or typed array of numbers'): ArrayLike<unknown> {
  if (!(Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView)))) {
    throw new FliqsError(input, `got ${describe(value)}`, accepted);
  }
  return value as ArrayLike<unknown>;
}
