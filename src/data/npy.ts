// The NumPy .npy format, parsed from bytes (browser-safe): the magic "\x93NUMPY", a version, a header
// length, a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W), } and the
// raw C-ordered array. Numeric dtypes only; every size is checked against the bytes before any copy.

import { FliqsError, requireBytes, requireString } from '../core/errors.js';

export type NpyDtype = 'bool' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'uint64' | 'int64'
  | 'float16' | 'float32' | 'float64';

/** The array's values: float16 arrives widened to Float32Array, bool as Uint8Array (0/1), 64-bit integers as BigInt arrays. */
export type NpyData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigUint64Array | BigInt64Array | Float32Array | Float64Array;

export interface Npy {
  /** Dimensions from the header, e.g. [60000, 28, 28]; [] for a scalar. */
  shape: number[];
  dtype: NpyDtype;
  data: NpyData;
}

type Ctor = { new(buffer: ArrayBuffer, offset: number, length: number): NpyData; new(length: number): NpyData; BYTES_PER_ELEMENT: number };

/** numpy's type character + item size → dtype and the array type holding it. */
const TYPES: Record<string, [NpyDtype, Ctor]> = {
  b1: ['bool', Uint8Array], u1: ['uint8', Uint8Array], i1: ['int8', Int8Array],
  u2: ['uint16', Uint16Array], i2: ['int16', Int16Array], u4: ['uint32', Uint32Array], i4: ['int32', Int32Array],
  u8: ['uint64', BigUint64Array as unknown as Ctor], i8: ['int64', BigInt64Array as unknown as Ctor],
  f2: ['float16', Float32Array], f4: ['float32', Float32Array], f8: ['float64', Float64Array],
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ACCEPTED = 'a .npy file written by numpy.save of a numeric array';

/** Little-endian hosts read aligned payloads in place; everything else goes through a DataView. */
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Reads the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. */
function parseHeader(text: string, bad: (p: string) => FliqsError): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) {
    throw /'descr'\s*:\s*\[/.test(text) ? bad('a structured (record) dtype; save a plain numeric array') : bad(`no 'descr' in the header ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (!fortran || !shape) throw bad(`the header ${JSON.stringify(text.trim().slice(0, 120))} lacks 'fortran_order' or 'shape'`);
  const dims = shape[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    if (!/^\d+L?$/.test(s)) throw bad(`shape entry ${JSON.stringify(s)} is not a whole number`);
    const d = Number(s.replace('L', ''));
    if (!Number.isSafeInteger(d)) throw bad(`shape entry ${s} is too large`);
    return d;
  });
  return { descr: descr[1]!, fortran: fortran[1] === 'True', shape: dims };
}

/**
 * Parses a .npy file: shape, dtype and the values (a view into `bytes` when it is aligned, else a copy).
 * `file` names the source in errors.
 * @example
 * // numpy.save of np.array([[1, 2, 3]], dtype=np.uint8):
 * const npy = parseNpy(bytes, 'x.npy'); // npy.shape = [1, 3], npy.dtype = 'uint8', npy.data = Uint8Array [1, 2, 3]
 */
export function parseNpy(bytes: Uint8Array, file = 'npy'): Npy {
  requireString('file', file);
  requireBytes(file, bytes);
  const bad = (problem: string): FliqsError => new FliqsError(file, `not a usable .npy file: ${problem}`, ACCEPTED);
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw bad(bytes.length < 10 ? `only ${bytes.length} bytes` : 'it does not start with the magic "\\x93NUMPY"');
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw bad(`format version ${major}.${bytes[7]} (versions 1 to 3 are known)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw bad('truncated header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > 1 << 20) throw bad(`a header of ${headerLen} bytes (numpy writes a few hundred)`);
  const start = 8 + lenBytes + headerLen;
  if (bytes.length < start) throw bad(`truncated header (it says ${headerLen} bytes, the file holds ${bytes.length - 8 - lenBytes})`);
  let text = '';
  for (let i = 8 + lenBytes; i < start; i += 4096) text += String.fromCharCode(...bytes.subarray(i, Math.min(start, i + 4096)));
  const header = parseHeader(text, bad);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(header.descr);
  const type = m ? TYPES[`${m[2]}${m[3]}`] : undefined;
  if (!m || !type) {
    throw bad(`dtype ${JSON.stringify(header.descr)} is not supported (bool, (u)int8 to (u)int64, float16/32/64 are)`);
  }
  if (header.fortran) throw bad('the array is in Fortran order; save np.ascontiguousarray(a) instead');
  const [dtype, Type] = type;
  const item = Number(m[3]);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const have = bytes.length - start;
  if (!Number.isSafeInteger(count * item) || count * item !== have) {
    const want = `${header.shape.length ? header.shape.join('×') : 'a scalar'} of ${header.descr} = ${count * item} bytes`;
    throw bad(`the header says ${want} but the file holds ${have}${have < count * item ? ' (truncated)' : ' (trailing bytes)'}`);
  }
  const little = m[1] !== '>';
  const at = bytes.byteOffset + start;
  if (dtype === 'float16') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(start + 2 * i, little));
    return { shape: header.shape, dtype, data: out };
  }
  if (item === 1 || (little === HOST_LITTLE && at % item === 0)) {
    return { shape: header.shape, dtype, data: new Type(bytes.buffer as ArrayBuffer, at, count) };
  }
  // Misaligned or byte-swapped: copy, byte-reversing each item when the file's order is not the host's.
  const raw = new Uint8Array(count * item);
  const swap = little !== HOST_LITTLE;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < item; k++) raw[i * item + k] = bytes[start + i * item + (swap ? item - 1 - k : k)]!;
  }
  return { shape: header.shape, dtype, data: new Type(raw.buffer, 0, count) };
}
