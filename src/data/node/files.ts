// Node-only file helpers for the data loaders: locating data packages, reading bytes with a
// FliqsError that says how to fix a missing file, atomic writes, and the cache directory.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FliqsError } from '../../core/errors.js';

const require = createRequire(import.meta.url);

/** Directory of an installed npm package (works from src/ and dist/). */
export function packageDir(pkg: string): string {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new FliqsError(pkg, 'the npm package is not installed',
      `the package installed next to fliqs: run \`npm ci\` in a fliqs checkout or \`npm install --save-dev ${pkg}\``);
  }
}

/** Reads a whole file; a missing or unreadable file becomes a FliqsError with `fix` as the remedy. */
export function readBytes(file: string, fix: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FliqsError(file, `cannot be read (${code})`, `a readable file; ${fix}`);
  }
}

/**
 * Writes `bytes` to a temp file beside `file` and renames it over `file`, so a kill never leaves a torn file.
 * A failure removes the temp file and names the file; `fix` says what to do about it.
 */
export function writeAtomic(file: string, bytes: Uint8Array | string,
  fix = 'a writable cache directory; set the cacheDir option or FLIQS_CACHE_DIR'): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FliqsError(file, `cannot be written (${(e as NodeJS.ErrnoException).code ?? String(e)})`, fix);
  }
}

/**
 * The cache directory: the `cacheDir` option, else $FLIQS_CACHE_DIR, else `.cache/fliqs` in the
 * node_modules that holds `pkg`.
 */
export function cacheDir(option: string | undefined, pkg: string): string {
  if (option) return option;
  const env = process.env['FLIQS_CACHE_DIR'];
  if (env) return env;
  return join(dirname(packageDir(pkg)), '.cache', 'fliqs');
}
