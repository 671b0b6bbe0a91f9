// parseNpy: NumPy's .npy files (format versions 1–3) in memory, browser-safe — for data a user drops on a page
// or reads from disk. C-order arrays of bool, (u)int8/16/32/64 and float32/64, either byte order; the data is
// copied into a typed array of the machine's order. Anything else is a FliqsError naming what was wrong.

import { FliqsError, describe } from '../core/errors.js';

/** NumPy dtype names parseNpy reads. */
export type NpyDtype = 'bool' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'uint64' | 'int64' | 'float32' | 'float64';

export type NpyData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigUint64Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  /** Dimensions, outermost first ([] for a scalar). */
  shape: number[];
  dtype: NpyDtype;
  /** The elements in C order (bool as 0/1 bytes, 64-bit integers as BigInt arrays). */
  data: NpyData;
}

type Ctor = { new (b: ArrayBuffer): NpyData; BYTES_PER_ELEMENT: number };
const TYPES: Record<string, [NpyDtype, Ctor]> = {
  b1: ['bool', Uint8Array], u1: ['uint8', Uint8Array], i1: ['int8', Int8Array], u2: ['uint16', Uint16Array], i2: ['int16', Int16Array],
  u4: ['uint32', Uint32Array], i4: ['int32', Int32Array], u8: ['uint64', BigUint64Array], i8: ['int64', BigInt64Array],
  f4: ['float32', Float32Array], f8: ['float64', Float64Array],
};
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const ACCEPTED = 'a .npy file (numpy.save) of a C-order bool, integer or float32/64 array';

/**
 * Reads a .npy file's bytes.
 * @example
 * const { shape, dtype, data } = parseNpy(new Uint8Array(await file.arrayBuffer())); // [1000, 28, 28], 'uint8', Uint8Array(784000)
 */
export function parseNpy(bytes: Uint8Array | ArrayBuffer, name = 'npy'): NpyArray {
  if (typeof name !== 'string') throw new FliqsError('name', `got ${describe(name)}`, 'a string naming the file in messages');
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(b instanceof Uint8Array)) throw new FliqsError(name, `got ${describe(bytes)}`, 'the file\'s bytes as a Uint8Array or ArrayBuffer');
  if (b.length < 10 || MAGIC.some((m, i) => b[i] !== m)) throw new FliqsError(name, 'is not a .npy file (no \\x93NUMPY signature)', ACCEPTED);
  const major = b[6]!;
  if (major < 1 || major > 3) throw new FliqsError(name, `has .npy format version ${major}.${b[7]}`, 'versions 1.0, 2.0 and 3.0');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const headerAt = major === 1 ? 10 : 12;
  if (b.length < headerAt) throw new FliqsError(name, 'ends inside its header', ACCEPTED);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataAt = headerAt + headerLen;
  if (dataAt > b.length) throw new FliqsError(name, `ends inside its header (${headerLen} bytes announced, ${b.length - headerAt} there)`, ACCEPTED);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(headerAt, dataAt));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FliqsError(name, `has a header without descr, fortran_order and shape: ${JSON.stringify(header.trim().slice(0, 120))}`, ACCEPTED);
  }
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  const type = m ? TYPES[m[2]!] : undefined;
  if (!m || !type) throw new FliqsError(name, `has dtype ${JSON.stringify(descr)}`, `dtypes ${Object.values(TYPES).map(([d]) => d).join(', ')}`);
  if (fortran === 'True') throw new FliqsError(name, 'is in Fortran order', 'C order (numpy.ascontiguousarray before numpy.save)');
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const shape = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) throw new FliqsError(name, `has shape (${shapeText})`, 'a tuple of non-negative integers');
  const [dtype, Type] = type;
  const size = Type.BYTES_PER_ELEMENT, count = shape.reduce((a, d) => a * d, 1);
  const bytesWanted = count * size;
  if (!Number.isSafeInteger(bytesWanted) || b.length - dataAt !== bytesWanted) {
    throw new FliqsError(name, `has ${b.length - dataAt} bytes of data for shape (${shape.join(', ')}) of ${dtype}`,
      `${bytesWanted} bytes (a complete file, not cut short)`);
  }
  const copy = b.slice(dataAt, dataAt + bytesWanted);
  const swap = size > 1 && ((m[1] === '>' && LITTLE) || (m[1] === '<' && !LITTLE));
  if (swap) for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  const data = new Type(copy.buffer);
  if (dtype === 'bool' && data.some((v) => v !== 0 && v !== 1)) throw new FliqsError(name, 'has bool elements other than 0 and 1', ACCEPTED);
  return { shape, dtype, data };
}
