// A small reader of gzipped tar archives (.tgz, as npm publishes packages): gunzip with node:zlib, then the
// 512-byte ustar headers (with the ustar prefix, GNU long names and pax `path` records). Regular files only;
// links, devices and folders are skipped. Paths that would leave the target folder are refused.

import { gunzipSync } from 'node:zlib';
import { FliqsError } from '../../core/errors.js';

export interface TarEntry {
  /** The path inside the archive, `/`-separated, never absolute and never through `..`. */
  path: string;
  data: Uint8Array;
}

const BLOCK = 512;

function text(b: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(at, end));
}

function octal(b: Uint8Array, at: number, len: number, source: string, field: string): number {
  const s = text(b, at, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new FliqsError(source, `is not a valid tar archive: ${field} field ${JSON.stringify(s)}`, 'a .tgz as npm publishes packages');
  return parseInt(s, 8);
}

/** Path checks: relative, no `..` part, no NUL. */
function safePath(p: string, source: string): string {
  const clean = p.replace(/\\/g, '/').replace(/^\.\//, '');
  if (clean === '' || clean.startsWith('/') || /^[A-Za-z]:/.test(clean) || clean.split('/').includes('..') || clean.includes('\0')) {
    throw new FliqsError(source, `holds an unsafe path ${JSON.stringify(p)}`, 'a .tgz whose paths stay inside the package folder');
  }
  return clean;
}

/** Reads the `path` record of a pax extended header (`<len> path=<value>\n` records). */
function paxPath(data: Uint8Array): string | undefined {
  const s = new TextDecoder().decode(data);
  let at = 0;
  while (at < s.length) {
    const sp = s.indexOf(' ', at);
    if (sp < 0) break;
    const len = parseInt(s.slice(at, sp), 10);
    if (!(len > 0)) break;
    const rec = s.slice(sp + 1, at + len - 1);
    if (rec.startsWith('path=')) return rec.slice(5);
    at += len;
  }
  return undefined;
}

/**
 * The regular files of a gzipped tar archive, in archive order. `source` names the archive in errors.
 * @example
 * const files = readTarGz(readFileSync('pkg.tgz'), 'pkg.tgz'); // [{ path: 'package/package.json', data }, …]
 */
export function readTarGz(gz: Uint8Array, source: string): TarEntry[] {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(gz);
  } catch (e) {
    throw new FliqsError(source, `cannot be unzipped (${(e as Error).message})`, 'a gzip-compressed tar archive (.tgz)');
  }
  const out: TarEntry[] = [];
  let longName: string | undefined;
  for (let at = 0; at + BLOCK <= tar.length;) {
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((v) => v === 0)) break; // end of archive
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== octal(h, 148, 8, source, 'checksum')) {
      throw new FliqsError(source, `is not a valid tar archive: header checksum mismatch at byte ${at}`, 'a .tgz as npm publishes packages');
    }
    const size = octal(h, 124, 12, source, 'size');
    const type = String.fromCharCode(h[156]!);
    const start = at + BLOCK;
    if (start + size > tar.length) throw new FliqsError(source, `is truncated: an entry of ${size} bytes at byte ${start} runs past the end (${tar.length} bytes)`, 'a complete .tgz');
    const data = tar.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') { longName = text(data, 0, data.length); continue; }
    if (type === 'x') { longName = paxPath(data) ?? longName; continue; }
    if (type === 'g') continue;
    const magic = text(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    longName = undefined;
    if (type !== '0' && type !== '\0' && type !== '7') continue; // folders, links, devices: not data
    out.push({ path: safePath(name, source), data });
  }
  return out;
}
