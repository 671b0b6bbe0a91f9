// Files that must never be torn: everything fliqs writes goes to a temp path first and is renamed.

import { appendFileSync, existsSync, statSync } from 'node:fs';
import { ensureDir, readBytes, readError, writeAtomic as writeFileAtomic } from '../data/node/files.js';
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

/** Largest file fliqs reads from a run folder or as a model: far above any it writes (checkpoints are MBs). */
export const MAX_FILE_BYTES = 2 ** 30;

/**
 * Reads a file fliqs wrote (config, log, checkpoint, model), after checking that it is a regular file (not a
 * folder, a device such as /dev/zero, or a pipe) of at most MAX_FILE_BYTES; a file that breaks either is a
 * FliqsError naming it, before anything is read.
 */
export function readRunFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw readError(path, e, 'the file fliqs wrote there');
  }
  if (!st.isFile()) {
    throw new FliqsError(path, `is ${st.isDirectory() ? 'a folder' : 'not a regular file (a device, pipe or socket)'}`, 'the file fliqs wrote there; move the other thing away');
  }
  if (st.size > MAX_FILE_BYTES) throw new FliqsError(path, `is ${st.size} bytes`, `a file fliqs wrote (at most ${MAX_FILE_BYTES} bytes)`);
  return readBytes(path, 'the file fliqs wrote there');
}

/** Reads JSON, turning a missing or corrupt file into a FliqsError that names it. */
export function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new FliqsError(what, `${path} does not exist`, 'a file written by fliqs');
  const text = readRunFile(path).toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new FliqsError(what, `${path} is not valid JSON (${(e as Error).message})`, 'a file written by fliqs; delete it to start over');
  }
}

/** Appends one JSON line (log.jsonl). */
export function appendJsonLine(path: string, value: unknown): void {
  try {
    ensureDir(dirname(path));
    appendFileSync(path, `${JSON.stringify(value)}\n`);
  } catch (e) {
    throw new FliqsIoError(path, `cannot be appended to (${ioReason(e)})`, 'a writable directory for --out with free space');
  }
}
