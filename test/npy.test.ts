// parseNpy: every dtype read back (from bytes built here and, when Python with numpy is installed, from
// numpy.save itself, big-endian and version 2 included), misaligned input, and every bad file refused with
// a FliqsError naming the file; random damage never escapes as another error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { parseNpy } from '../src/data/npy.js';
import { npyBytes } from './npy-helpers.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

function refused(bytes: Uint8Array, want: RegExp): void {
  let err: unknown;
  try { parseNpy(bytes, 'x.npy'); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(FliqsError);
  expect((err as Error).message).toMatch(/^x\.npy: not a usable \.npy file: /);
  expect((err as Error).message).toMatch(want);
}

describe('parseNpy', () => {
  it('reads every numeric dtype, values and shape', () => {
    const cases: Array<[string, ArrayBufferView & ArrayLike<number | bigint>, string]> = [
      ['|u1', new Uint8Array([0, 7, 255, 1, 2, 3]), 'uint8'], ['|i1', new Int8Array([-128, 0, 127, 1, 2, 3]), 'int8'],
      ['<u2', new Uint16Array([0, 65535, 3, 4, 5, 6]), 'uint16'], ['<i2', new Int16Array([-32768, 1, 2, 3, 4, 5]), 'int16'],
      ['<u4', new Uint32Array([2 ** 32 - 1, 1, 2, 3, 4, 5]), 'uint32'], ['<i4', new Int32Array([-(2 ** 31), 1, 2, 3, 4, 5]), 'int32'],
      ['<i8', new BigInt64Array([-5n, 1n, 2n, 3n, 4n, 2n ** 62n]), 'int64'], ['<u8', new BigUint64Array([0n, 1n, 2n, 3n, 4n, 2n ** 64n - 1n]), 'uint64'],
      ['<f4', new Float32Array([0.5, -1, NaN, 3, 4, 5]), 'float32'], ['<f8', new Float64Array([1e300, -0, 2, 3, 4, 5]), 'float64'],
      ['|b1', new Uint8Array([1, 0, 1, 1, 0, 0]), 'bool'],
    ];
    for (const [descr, values, dtype] of cases) {
      const npy = parseNpy(npyBytes(descr, [2, 3], values), 'x.npy');
      expect(npy.shape).toEqual([2, 3]);
      expect(npy.dtype).toBe(dtype);
      expect(Array.from(npy.data as ArrayLike<number>)).toEqual(Array.from(values as ArrayLike<number>));
    }
  });

  it('widens float16, swaps big-endian items, copies misaligned input, reads version 2 and scalars', () => {
    // float16 bit patterns: 1, -2, 0.5, 65504, +inf, smallest subnormal
    const half = parseNpy(npyBytes('<f2', [6], new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x0001])));
    expect(Array.from(half.data as Float32Array)).toEqual([1, -2, 0.5, 65504, Infinity, 2 ** -24]);
    const be = npyBytes('>i4', [2], new Uint8Array([0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe]));
    expect(Array.from(parseNpy(be).data as Int32Array)).toEqual([258, -2]);
    const file = npyBytes('<f4', [3], new Float32Array([1.5, 2.5, -3]));
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect(Array.from(parseNpy(shifted.subarray(1)).data as Float32Array)).toEqual([1.5, 2.5, -3]);
    expect(parseNpy(npyBytes('<f8', [2, 1], new Float64Array([7, 8]), { version: 2 })).shape).toEqual([2, 1]);
    const scalar = parseNpy(npyBytes('<i4', [], new Int32Array([42])));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Int32Array)).toEqual([42]);
    expect(parseNpy(npyBytes('|u1', [0, 28], new Uint8Array(0))).shape).toEqual([0, 28]);
  });

  it.runIf(hasNumpy)('reads what numpy.save writes (little- and big-endian, version 2, int64 labels)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fliqs-npy-'));
    try {
      const py = `
import numpy as np
d = '${dir}'
np.save(d + '/u8.npy', np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
np.save(d + '/f4.npy', (np.arange(6, dtype=np.float32) / 4 - 0.5).reshape(3, 2))
np.save(d + '/be.npy', np.array([1, -2, 3], dtype='>i8'))
np.save(d + '/lab.npy', np.array([3, 1, 4, 1, 5]))
np.save(d + '/f16.npy', np.array([0.1, -2.5, 1000], dtype=np.float16))
np.save(d + '/t.npy', np.asfortranarray(np.ones((2, 3))))
np.save(d + '/rec.npy', np.zeros(2, dtype=[('a', '<f4')]))
np.save(d + '/obj.npy', np.array([1, 'a'], dtype=object), allow_pickle=True)
from numpy.lib import format as F
with open(d + '/v2.npy', 'wb') as f: F.write_array(f, np.arange(4, dtype=np.int16), version=(2, 0))
`;
      const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const read = (f: string) => parseNpy(readFileSync(join(dir, f)), f);
      expect(read('u8.npy')).toMatchObject({ shape: [2, 3, 4], dtype: 'uint8' });
      expect(Array.from(read('u8.npy').data as Uint8Array)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      expect(Array.from(read('f4.npy').data as Float32Array)).toEqual([-0.5, -0.25, 0, 0.25, 0.5, 0.75]);
      expect(Array.from(read('be.npy').data as BigInt64Array)).toEqual([1n, -2n, 3n]);
      expect(read('lab.npy').dtype).toBe('int64');
      expect(Array.from(read('lab.npy').data as BigInt64Array)).toEqual([3n, 1n, 4n, 1n, 5n]);
      expect(Array.from(read('f16.npy').data as Float32Array)).toEqual([0.0999755859375, -2.5, 1000]);
      expect(Array.from(read('v2.npy').data as Int16Array)).toEqual([0, 1, 2, 3]);
      expect(() => read('t.npy')).toThrow(/t\.npy: .*Fortran order; save np\.ascontiguousarray/);
      expect(() => read('rec.npy')).toThrow(/rec\.npy: .*structured/);
      expect(() => read('obj.npy')).toThrow(/obj\.npy: .*dtype "\|O" is not supported/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad files with a FliqsError naming the file', () => {
    const good = npyBytes('<f4', [2, 2], new Float32Array([1, 2, 3, 4]));
    refused(new Uint8Array([1, 2, 3]), /only 3 bytes/);
    refused(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1]), /magic/); // an IDX file
    refused(good.subarray(0, good.length - 1), /16 bytes but the file holds 15 \(truncated\)/);
    refused(new Uint8Array([...good, 0]), /trailing bytes/);
    refused(good.subarray(0, 40), /truncated header/);
    const v9 = good.slice(); v9[6] = 9;
    refused(v9, /format version 9/);
    refused(npyBytes('<c8', [1], new Float32Array(2)), /dtype "<c8" is not supported/);
    refused(npyBytes('<f4', [1], new Float32Array(1), { fortran: true }), /Fortran order/);
    refused(npyBytes('', [], new Uint8Array(0), { header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }" }), /structured/);
    refused(npyBytes('', [], new Uint8Array(0), { header: "{'descr': '<f4', 'shape': (1,), }" }), /lacks 'fortran_order'/);
    refused(npyBytes('', [], new Uint8Array(0), { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }" }), /shape entry "-1"/);
    refused(npyBytes('', [], new Uint8Array(0), { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }" }), /too large/);
    refused(npyBytes('|u1', [2 ** 26, 2 ** 26, 2 ** 26], new Uint8Array(4)), /but the file holds 4/);
  });

  it('a version-2 header of a megabyte is read (no argument-spread overflow), a larger one refused', () => {
    const pad = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }" + ' '.repeat(1_000_000);
    expect(Array.from(parseNpy(npyBytes('', [], new Int16Array([5, -6]), { version: 2, header: pad })).data as Int16Array)).toEqual([5, -6]);
    refused(npyBytes('', [], new Int16Array(0), { version: 2, header: `${pad}${' '.repeat(100_000)}` }), /a header of \d+ bytes/);
  });

  it('random damage to a good file: a parsed array or a FliqsError, nothing else', () => {
    const good = npyBytes('<i2', [3, 2], new Int16Array([1, 2, 3, 4, 5, 6]));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length + 8), fc.nat(255)), { maxLength: 6 }), fc.nat(good.length + 8), (edits, cut) => {
      const b = new Uint8Array(good.length + 8);
      b.set(good);
      for (const [i, v] of edits) b[i] = v;
      try {
        const npy = parseNpy(b.subarray(0, cut), 'f.npy');
        expect(npy.data.length).toBe(npy.shape.reduce((a, d) => a * d, 1));
      } catch (e) {
        expect(e).toBeInstanceOf(FliqsError);
      }
    }), { numRuns: 2000, seed: 7 });
  });
});
