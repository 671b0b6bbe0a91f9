// The IDX file format of the MNIST distribution, parsed from bytes (browser-safe): a big-endian
// header [0, 0, type, rank] [dim0] … [dim(rank-1)], then the uint8 payload.

import { FliqsError, requireBytes, requireInt, requireString } from '../core/errors.js';

export interface Idx {
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The payload (a view into the input, not a copy). */
  data: Uint8Array;
}

/**
 * Parses an unsigned-byte IDX file and checks its header against `expectRank` and the byte count.
 * `file` names the source in errors; `fix` says how to repair it.
 * @example
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]);
 * parseIdx(bytes, 'labels', 1).dims; // [2]
 */
export function parseIdx(bytes: Uint8Array, file: string, expectRank: number, fix = 'replace the file'): Idx {
  requireString('file', file);
  requireInt('expectRank', expectRank, 1, 255);
  requireString('fix', fix);
  requireBytes(file, bytes);
  const bad = (problem: string): FliqsError =>
    new FliqsError(file, `not a valid IDX file: ${problem}`, `an unsigned-byte IDX file of rank ${expectRank}; ${fix}`);
  if (bytes.length < 4) throw bad(`only ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad(`magic starts with ${bytes[0]}, ${bytes[1]} instead of 0, 0`);
  if (bytes[2] !== 0x08) throw bad(`data type 0x${bytes[2]!.toString(16)} instead of 0x08 (unsigned byte)`);
  const rank = bytes[3]!;
  if (rank !== expectRank) throw bad(`rank ${rank} instead of ${expectRank}`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw bad(`truncated header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  if (bytes.length !== header + count) {
    throw bad(`header says ${dims.join('×')} = ${count} bytes of data but the file holds ${bytes.length - header}` +
      (bytes.length < header + count ? ' (truncated)' : ' (trailing bytes)'));
  }
  return { dims, data: bytes.subarray(header) };
}
