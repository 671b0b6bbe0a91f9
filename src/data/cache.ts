// The compact binary image cache (browser-safe encode/decode; the Node side only reads and writes
// the bytes). Layout, all little-endian u32 in a 32-byte header, then the payload:
//   0 magic 'FLQD' | 4 version | 8 count N | 12 H | 16 W | 20 C | 24 source key | 28 CRC-32 of bytes 0..28 + payload
//   payload: N·H·W·C uint8 pixels (NHWC), then N uint8 labels.
// The source key fingerprints what the cache was built from, so a changed source rebuilds it.

import { FliqsError, describe, requireBytes, requireInt, requireObject, requireString } from '../core/errors.js';

export const CACHE_MAGIC = 0x44514c46; // 'FLQD' read as little-endian u32
export const CACHE_VERSION = 1;
export const CACHE_HEADER_BYTES = 32;

export interface ImageCache {
  /** N·H·W·C pixels. */
  pixels: Uint8Array;
  labels: Uint8Array;
  shape: [number, number, number];
  sourceKey: number;
}

let crcTable: Uint32Array | null = null;

/**
 * CRC-32 (IEEE, as in zip/PNG) of `bytes`; detects every single-byte change.
 * @example
 * crc32(new TextEncoder().encode('123456789')); // 0xcbf43926
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  requireBytes('bytes', bytes);
  requireInt('crc', crc, 0, 2 ** 32 - 1);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of the header fields (all but the CRC itself) and the payload. */
function checksum(bytes: Uint8Array): number {
  return crc32(bytes.subarray(CACHE_HEADER_BYTES), crc32(bytes.subarray(0, 28)));
}

/** 32-bit FNV-1a of a string: the source key of a cache. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Serializes images and labels into cache bytes.
 * @example
 * const bytes = encodeCache({ pixels: new Uint8Array(4), labels: new Uint8Array([3]), shape: [2, 2, 1], sourceKey: 1 });
 * decodeCache(bytes, 'x').labels; // Uint8Array [3]
 */
export function encodeCache(c: ImageCache): Uint8Array {
  requireObject('cache', c, '{ pixels: Uint8Array, labels: Uint8Array, shape: [H, W, C], sourceKey }');
  requireBytes('cache pixels', c.pixels);
  requireBytes('cache labels', c.labels);
  if (!Array.isArray(c.shape) || c.shape.length !== 3 || !Array.from(c.shape).every((d) => Number.isInteger(d) && d >= 1 && d < 2 ** 32)) {
    throw new FliqsError('cache shape', `got ${describe(c.shape)}`, '[H, W, C] with integers from 1 to 2^32 − 1');
  }
  requireInt('cache sourceKey', c.sourceKey, 0, 2 ** 32 - 1);
  const [h, w, ch] = c.shape;
  const n = c.labels.length;
  if (c.pixels.length !== n * h * w * ch) {
    throw new FliqsError('cache pixels', `${c.pixels.length} bytes for ${n} labels of shape [${c.shape}]`, `${n * h * w * ch} bytes`);
  }
  const out = new Uint8Array(CACHE_HEADER_BYTES + c.pixels.length + n);
  out.set(c.pixels, CACHE_HEADER_BYTES);
  out.set(c.labels, CACHE_HEADER_BYTES + c.pixels.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, CACHE_MAGIC, true);
  v.setUint32(4, CACHE_VERSION, true);
  v.setUint32(8, n, true);
  v.setUint32(12, h, true);
  v.setUint32(16, w, true);
  v.setUint32(20, ch, true);
  v.setUint32(24, c.sourceKey >>> 0, true);
  v.setUint32(28, checksum(out), true);
  return out;
}

/**
 * Parses and verifies cache bytes (magic, version, sizes, CRC). `file` names the source in errors,
 * `fix` says how to repair it. The returned arrays are views into `bytes`.
 */
export function decodeCache(bytes: Uint8Array, file: string, fix = 'delete the file so it is rebuilt'): ImageCache {
  requireString('file', file);
  requireString('fix', fix);
  requireBytes(file, bytes);
  const bad = (problem: string): FliqsError =>
    new FliqsError(file, `corrupt image cache: ${problem}`, `a cache written by fliqs (format version ${CACHE_VERSION}); ${fix}`);
  if (bytes.length < CACHE_HEADER_BYTES) throw bad(`only ${bytes.length} bytes, shorter than the ${CACHE_HEADER_BYTES}-byte header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== CACHE_MAGIC) throw bad('wrong magic number');
  const version = v.getUint32(4, true);
  if (version !== CACHE_VERSION) throw bad(`format version ${version}`);
  const n = v.getUint32(8, true), h = v.getUint32(12, true), w = v.getUint32(16, true), ch = v.getUint32(20, true);
  const px = n * h * w * ch;
  if (bytes.length !== CACHE_HEADER_BYTES + px + n) {
    throw bad(`header says ${n} images of ${h}×${w}×${ch} (${CACHE_HEADER_BYTES + px + n} bytes) but the file has ${bytes.length}`);
  }
  const payload = bytes.subarray(CACHE_HEADER_BYTES);
  const want = v.getUint32(28, true), got = checksum(bytes);
  if (want !== got) throw bad(`checksum mismatch (stored ${want.toString(16)}, computed ${got.toString(16)})`);
  return {
    pixels: payload.subarray(0, px),
    labels: payload.subarray(px),
    shape: [h, w, ch],
    sourceKey: v.getUint32(24, true),
  };
}
