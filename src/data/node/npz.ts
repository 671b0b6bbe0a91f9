// NumPy .npz archives (numpy.savez / savez_compressed): a zip of .npy files, stored or deflated. Read through
// the central directory (numpy writes 0xFFFFFFFF sizes and a zip64 extra in the local headers), each entry's
// size checked before it is inflated and its CRC-32 after; the arrays are parsed by parseNpy.

import { inflateRawSync } from 'node:zlib';
import { FliqsError } from '../../core/errors.js';
import { crc32 } from '../cache.js';
import { parseNpy, type Npy } from '../npy.js';

const ACCEPTED = 'a .npz file written by numpy.savez or numpy.savez_compressed';
/** Largest entry inflated (bytes): beyond what a Dataset holds (2^30 f32 values) anyway. */
const MAX_ENTRY = 2 ** 32;

interface Entry { name: string; method: number; crc: number; packed: number; size: number; local: number }

function entries(bytes: Uint8Array, file: string): Entry[] {
  const bad = (p: string): FliqsError => new FliqsError(file, `not a usable .npz file: ${p}`, ACCEPTED);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (v.getUint32(i, true) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) throw bad(bytes.length >= 4 && v.getUint32(0, true) === 0x04034b50 ? 'the zip directory is missing (truncated?)' : 'not a zip archive');
  let count = v.getUint16(end + 10, true), at = v.getUint32(end + 16, true);
  if ((count === 0xffff || at === 0xffffffff) && end >= 20 && v.getUint32(end - 20, true) === 0x07064b50) { // zip64 end record
    const rec = Number(v.getBigUint64(end - 12, true));
    if (rec + 56 > bytes.length || v.getUint32(rec, true) !== 0x06064b50) throw bad('a damaged zip64 directory');
    count = Number(v.getBigUint64(rec + 32, true));
    at = Number(v.getBigUint64(rec + 48, true));
  }
  const out: Entry[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || v.getUint32(at, true) !== 0x02014b50) throw bad(`entry ${k + 1} of the zip directory is damaged`);
    const nameLen = v.getUint16(at + 28, true), extraLen = v.getUint16(at + 30, true), commentLen = v.getUint16(at + 32, true);
    if (at + 46 + nameLen + extraLen > bytes.length) throw bad('the zip directory is truncated');
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    let packed = v.getUint32(at + 20, true), size = v.getUint32(at + 24, true), local = v.getUint32(at + 42, true);
    // zip64 extra (id 1): the 8-byte values, in this order, of the fields that hold 0xFFFFFFFF
    for (let e = at + 46 + nameLen; e + 4 <= at + 46 + nameLen + extraLen;) {
      const id = v.getUint16(e, true), len = v.getUint16(e + 2, true);
      if (id === 1) {
        let p = e + 4;
        const next = (): number => { const x = p + 8 <= e + 4 + len ? Number(v.getBigUint64(p, true)) : NaN; p += 8; return x; };
        if (size === 0xffffffff) size = next();
        if (packed === 0xffffffff) packed = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + len;
    }
    out.push({ name, method: v.getUint16(at + 10, true), crc: v.getUint32(at + 16, true), packed, size, local });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function inflate(bytes: Uint8Array, e: Entry, file: string): Uint8Array {
  const bad = (p: string): FliqsError => new FliqsError(file, `not a usable .npz file: ${e.name} ${p}`, ACCEPTED);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!(e.local + 30 <= bytes.length) || v.getUint32(e.local, true) !== 0x04034b50) throw bad('has a damaged local header');
  const start = e.local + 30 + v.getUint16(e.local + 26, true) + v.getUint16(e.local + 28, true);
  if (!(start + e.packed <= bytes.length)) throw bad(`is truncated (${e.packed} bytes from offset ${start}, the file holds ${bytes.length})`);
  if (!(e.size <= MAX_ENTRY)) throw bad(`says it holds ${e.size} bytes (more than ${MAX_ENTRY})`);
  const body = bytes.subarray(start, start + e.packed);
  let data: Uint8Array;
  if (e.method === 0) {
    data = body;
  } else if (e.method === 8) {
    try {
      data = new Uint8Array(inflateRawSync(body, { maxOutputLength: Math.max(1, e.size) }));
    } catch (err) {
      throw bad(`cannot be inflated (${(err as Error).message})`);
    }
  } else {
    throw bad(`uses zip compression method ${e.method} (stored and deflate are supported: numpy.savez or savez_compressed)`);
  }
  if (data.length !== e.size) throw bad(`holds ${data.length} bytes, its directory says ${e.size}`);
  if (crc32(data) !== e.crc) throw bad('fails its CRC-32 check (the archive is damaged)');
  return data;
}

/**
 * Reads the arrays of a .npz archive, by name without `.npy` (`x_train`, `y_train`, …). `file` names it in
 * errors; each array's own errors name `file (array)`. `want` limits the parsing to those names.
 * @example
 * const arrays = readNpz(readFileSync('mnist.npz'), 'mnist.npz'); // arrays.get('x_train')!.shape = [60000, 28, 28]
 */
export function readNpz(bytes: Uint8Array, file: string, want?: (name: string) => boolean): Map<string, Npy> {
  const out = new Map<string, Npy>();
  for (const e of entries(bytes, file)) {
    if (e.name.endsWith('/')) continue; // a folder entry
    const name = e.name.replace(/\.npy$/, '');
    if (want && !want(name)) continue;
    out.set(name, parseNpy(inflate(bytes, e, file), `${file} (${name})`));
  }
  return out;
}

/** The names of a .npz archive's arrays (cheap: the directory only). */
export function npzNames(bytes: Uint8Array, file: string): string[] {
  return entries(bytes, file).filter((e) => !e.name.endsWith('/')).map((e) => e.name.replace(/\.npy$/, ''));
}
