// Files that must never be torn: everything fliqs writes goes to a temp path first and is renamed.

import { mkdirSync, appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeAtomic as writeFileAtomic } from '../data/node/files.js';
import { dirname } from 'node:path';
import { FliqsError, FliqsIoError, ioReason } from '../core/errors.js';

/** Writes `data` to `path` atomically (temp file in the same directory, then rename). */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomic(path, data, 'a writable directory for --out');
}

/** Writes pretty JSON atomically. */
export function writeJson(path: string, value: unknown): void {
  writeAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads JSON, turning a missing or corrupt file into a FliqsError that names it. */
export function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new FliqsError(what, `${path} does not exist`, 'a file written by fliqs');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new FliqsError(what, `${path} is not valid JSON (${(e as Error).message})`, 'a file written by fliqs; delete it to start over');
  }
}

/** Appends one JSON line (log.jsonl). */
export function appendJsonLine(path: string, value: unknown): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify(value)}\n`);
  } catch (e) {
    throw new FliqsIoError(path, `cannot be appended to (${ioReason(e)})`, 'a writable directory for --out with free space');
  }
}
