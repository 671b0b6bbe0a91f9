// parseNpy against files written by numpy 2.4.6 (np.save, bytes inlined as base64), files built by hand for
// the other versions, and every kind of bad file: each must be a FliqsError saying what was wrong.
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../src/data/npy.js';
import { expectFliqsError } from './error-helpers.js';

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
// python3 -c "import numpy as np; np.save(f, …)" for each:
const NUMPY = {
  // np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, -7.0]], dtype='<f4')
  f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAUEAAAAAAbxKDOgAA4MA=',
  // np.array([1, -2, 70000], dtype='>i4')
  beI4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAB/////gABEXA=',
  // np.array([0, 9, 3], dtype='<i8') (numpy's default integer: labels usually come like this)
  i8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAkAAAAAAAAAAwAAAAAAAAA=',
  // np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
  u1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQIDBAUGBwgJCgs=',
  // np.asfortranarray(np.ones((2, 3), dtype='<f4'))
  fortran: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIA/AACAPwAAgD8AAIA/AACAPwAAgD8=',
  // np.array([1, 'a'], dtype=object) (allow_pickle=True)
  object: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqABJWQAAAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwKFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlChLAYwBYZRldJRiLg==',
  // np.float64(2.5)
  scalar: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAEQA==',
};

/** A .npy file of the given version with header text and data bytes. */
function npy(major: number, header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const at = major === 1 ? 10 : 12;
  const out = new Uint8Array(at + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true); else v.setUint32(8, h.length, true);
  out.set(h, at);
  out.set(data, at + h.length);
  return out;
}

describe('parseNpy', () => {
  it('reads numpy\'s files: float32, big-endian int32, int64, uint8 with its shape, a scalar', () => {
    const f = parseNpy(b64(NUMPY.f4));
    expect(f.shape).toEqual([2, 3]);
    expect(f.dtype).toBe('float32');
    expect([...f.data]).toEqual([1.5, -2, 3.25, 0, Math.fround(1e-3), -7]);
    const be = parseNpy(b64(NUMPY.beI4));
    expect(be.dtype).toBe('int32');
    expect([...be.data]).toEqual([1, -2, 70000]);
    const i8 = parseNpy(b64(NUMPY.i8));
    expect(i8.dtype).toBe('int64');
    expect([...(i8.data as BigInt64Array)]).toEqual([0n, 9n, 3n]);
    const u1 = parseNpy(b64(NUMPY.u1).buffer as ArrayBuffer); // an ArrayBuffer works too
    expect(u1.shape).toEqual([2, 2, 3]);
    expect([...u1.data]).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const s = parseNpy(b64(NUMPY.scalar));
    expect(s.shape).toEqual([]);
    expect([...s.data]).toEqual([2.5]);
  });

  it('reads versions 2 and 3 and a view into a larger buffer', () => {
    const data = new Uint8Array(new Float64Array([1, -0.5]).buffer);
    for (const major of [2, 3]) {
      const a = parseNpy(npy(major, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", data));
      expect([...a.data]).toEqual([1, -0.5]);
    }
    const file = b64(NUMPY.u1), big = new Uint8Array(file.length + 7);
    big.set(file, 3);
    expect(parseNpy(big.subarray(3, 3 + file.length)).data.length).toBe(12);
  });

  it('names what is wrong with a bad file', () => {
    const good = b64(NUMPY.f4);
    expectFliqsError(() => parseNpy(new TextEncoder().encode('P5 28 28 255 not a numpy file')), /not a \.npy file/);
    expectFliqsError(() => parseNpy(new Uint8Array(0)), /not a \.npy file/);
    expectFliqsError(() => parseNpy(good.subarray(0, 40), 'images.npy'), /^images\.npy: ends inside its header/);
    expectFliqsError(() => parseNpy(good.subarray(0, good.length - 1)), /has 23 bytes of data for shape \(2, 3\) of float32.*24 bytes/);
    const extra = new Uint8Array(good.length + 4);
    extra.set(good);
    expectFliqsError(() => parseNpy(extra), /has 28 bytes of data/);
    expectFliqsError(() => parseNpy(b64(NUMPY.fortran)), /Fortran order/);
    expectFliqsError(() => parseNpy(b64(NUMPY.object)), /dtype "\|O"/);
    expectFliqsError(() => parseNpy(npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8))), /dtype "<c8"/);
    expectFliqsError(() => parseNpy(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4))), /header without descr/);
    expectFliqsError(() => parseNpy(npy(1, "{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4))), /header without descr, fortran_order and shape/);
    expectFliqsError(() => parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new Uint8Array(4))), /shape \(-1,\)/);
    expectFliqsError(() => parseNpy(npy(4, '{}', new Uint8Array(0))), /format version 4/);
    expectFliqsError(() => parseNpy(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([1, 2]))), /bool elements/);
    expectFliqsError(() => parseNpy([1, 2, 3] as never), /got Array\(3\)/);
    expectFliqsError(() => parseNpy(good, 5 as never), /^name:/);
  });
});
