// The checkpoint file: one self-checking binary blob with a JSON header and f32 tensors.
//   bytes 0–3 "FLQC" | 4–7 version (1) | 8–11 header length | 12–15 CRC-32 of everything after byte 16
//   | header JSON (meta + tensor table) | zero padding to 4 bytes | the tensors' f32 data, in table order
// Browser-safe: it encodes to and decodes from bytes; the CLI writes them atomically.

import { FliqsError, describe, requireBytes, requireObject, requireString } from '../core/errors.js';
import { crc32 } from '../data/cache.js';

const MAGIC = 0x43514c46; // "FLQC" little-endian
const VERSION = 1;

export interface CheckpointBlob {
  meta: unknown;
  tensors: Record<string, Float32Array>;
}

/** Serializes meta (JSON-able) and named f32 tensors. */
export function encodeCheckpoint(blob: CheckpointBlob): Uint8Array {
  requireObject('blob', blob, '{ meta, tensors: { name: Float32Array } }');
  requireObject('blob.tensors', blob.tensors, 'a record { name: Float32Array }');
  const names = Object.keys(blob.tensors);
  for (const n of names) {
    if (!(blob.tensors[n] instanceof Float32Array)) throw new FliqsError(`blob.tensors.${n}`, `got ${describe(blob.tensors[n])}`, 'a Float32Array');
  }
  const table = names.map((n) => [n, blob.tensors[n]!.length] as const);
  let json: string | undefined;
  try {
    json = JSON.stringify({ meta: blob.meta, table });
  } catch (e) {
    throw new FliqsError('blob.meta', `cannot be written as JSON (${(e as Error).message})`, 'plain JSON data: no BigInt, no cycles');
  }
  const header = new TextEncoder().encode(json);
  const dataStart = 16 + Math.ceil(header.length / 4) * 4;
  const total = dataStart + table.reduce((a, [, n]) => a + n * 4, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, header.length, true);
  out.set(header, 16);
  let off = dataStart;
  for (const n of names) {
    const t = blob.tensors[n]!;
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), off);
    off += t.byteLength;
  }
  dv.setUint32(12, crc32(out.subarray(16)), true);
  return out;
}

/** Parses a checkpoint, checking magic, version, lengths and CRC; `file` names it in errors. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): CheckpointBlob {
  requireString('file', file);
  requireBytes(file, bytes);
  const bad = (why: string): never => {
    throw new FliqsError(file, `is not a usable checkpoint: ${why}`, 'a checkpoint.bin written by fliqs (delete it to start the run over)');
  };
  if (bytes.length < 16) bad(`only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) bad('wrong magic number');
  if (dv.getUint32(4, true) !== VERSION) bad(`version ${dv.getUint32(4, true)}, this fliqs reads ${VERSION}`);
  const hlen = dv.getUint32(8, true);
  if (16 + hlen > bytes.length) bad('truncated header');
  if (crc32(bytes.subarray(16)) !== dv.getUint32(12, true)) bad('checksum mismatch (truncated or corrupted)');
  let header: { meta: unknown; table: Array<[string, number]> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hlen)));
  } catch {
    return bad('unreadable header');
  }
  if (!Array.isArray(header?.table) || !header.table.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]) && e[1] >= 0)) {
    bad('malformed tensor table');
  }
  let off = 16 + Math.ceil(hlen / 4) * 4;
  const tensors: Record<string, Float32Array> = {};
  for (const [name, n] of header.table) {
    if (off + n * 4 > bytes.length) bad(`tensor ${name} runs past the end`);
    tensors[name] = new Float32Array(bytes.slice(off, off + n * 4).buffer);
    off += n * 4;
  }
  if (off !== bytes.length) bad(`${bytes.length - off} unexpected trailing bytes`);
  return { meta: header.meta, tensors };
}
