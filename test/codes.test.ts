// Codes: encode/decode round trips for every code of every ≤ 12-bit format, known codes, dense packing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, dequantizeCodes, encode, FliqsError, packCodes, parseFormat, quantize, quantizeToCodes, unpackCodes } from '../src/index.js';

const small: string[] = [];
for (let k = 2; k <= 12; k++) small.push(`INT${k}`);
for (let x = 1; x <= 8; x++) for (let y = 0; 1 + x + y <= 12; y++) small.push(`E${x}M${y}`);

describe('encode / decode', () => {
  it('round-trips every code of every format of ≤ 12 bits', () => {
    for (const name of small) {
      const f = parseFormat(name);
      const all = Array.from({ length: 2 ** f.bits }, (_, c) => c).filter((c) => !(f.kind === 'int' && c === 2 ** (f.bits - 1)));
      const values = decode(f, all);
      const back = encode(f, values);
      for (let i = 0; i < all.length; i++) {
        // −0 (sign bit alone) decodes to −0 and encodes back to its own code.
        expect(back[i], `${name} code ${all[i]} → ${values[i]}`).toBe(all[i]);
      }
      const grid = new Set(f.grid!);
      for (const v of values) expect(grid.has(v), `${name} ${v}`).toBe(true);
    }
  });

  it('encodes every grid value and decodes it back exactly', () => {
    for (const name of small) {
      const f = parseFormat(name);
      const g = Float32Array.from(f.grid!);
      expect([...decode(f, encode(f, g))]).toEqual([...g]);
    }
  });

  it('knows E2M1, INT4, E4M3 and BF16 codes', () => {
    expect([...encode('E2M1', [0, 0.25, 0.5, 1, 3, -3, -0.5])]).toEqual([0, 1, 2, 4, 7, 15, 10]);
    expect([...encode('INT4', [1, -1, 7, -7, 0])]).toEqual([1, 15, 7, 9, 0]);
    expect([...encode('E4M3', [240, 2 ** -10, 1])]).toEqual([0x7f, 0x01, 0x40]);
    expect([...encode('BF16', [1, -2, Infinity])]).toEqual([0x3f80, 0xc000, 0x7f80]);
    expect([...decode('BF16', [0x3f80, 0x7fc0])]).toEqual([1, NaN]);
  });

  it('quantizeToCodes refuses NaN, saying storage codes have none', () => {
    for (const name of ['INT8', 'E4M3', 'BF16']) {
      expect(() => quantizeToCodes(new Float32Array([0.5, NaN]), name, 1)).toThrow(/x\[1\]: is NaN, and the storage codes of \w+ have no NaN/);
    }
  });

  it('quantizeToCodes → dequantizeCodes gives back quantize(x, f, clip) bit for bit', () => {
    fc.assert(fc.property(fc.constantFrom('INT4', 'INT8', 'E2M1', 'E4M3', 'E5M2', 'E3M2', 'E1M0', 'E4M0', 'BF16'),
      fc.array(fc.float({ noNaN: true }), { maxLength: 40 }), fc.double({ min: 0.01, max: 100, noNaN: true }), (name, xs, clip) => {
        const x = Float32Array.from(xs);
        const { codes, scale } = quantizeToCodes(x, name, clip);
        const q = quantize(x, name, clip);
        const back = dequantizeCodes(codes, name, scale);
        // INT has no −0 code, so −0 comes back as +0 (the spec allows either): compare with ===.
        for (let i = 0; i < q.length; i++) expect(back[i] === q[i], `${name} x=${x[i]}: ${back[i]} vs ${q[i]}`).toBe(true);
        expect(codes.every((c) => c < 2 ** parseFormat(name).bits)).toBe(true);
      }), { numRuns: 500 });
    expect(quantizeToCodes(new Float32Array([0.3, -1]), 'INT4', 1)).toEqual({ codes: Uint32Array.from([2, 9]), scale: 7 });
  });

  it('rejects values off the grid and codes out of range', () => {
    expect(() => encode('INT4', [0.5])).toThrow(/values\[0\]: 0.5 is not a INT4 grid value/);
    expect(() => encode('E2M1', [0, 2.5])).toThrow(/values\[1\]/);
    expect(() => encode('INT4', [8])).toThrow(FliqsError);
    expect(() => decode('INT4', [16])).toThrow(/codes\[0\]: got 16; accepted: an integer from 0 to 15/);
    expect(() => decode('INT4', [8])).toThrow(/symmetric INT4 grid/);
    expect(() => decode('E2M1', [1.5])).toThrow(FliqsError);
  });
});

describe('packCodes / unpackCodes', () => {
  it('puts the first INT4 code in the low nibble', () => {
    expect([...packCodes([1, 15], 4)]).toEqual([0xf1]);
    expect([...packCodes([1, 2, 3], 4)]).toEqual([0x21, 0x03]);
    expect([...packCodes([0x7f, 0x80], 8)]).toEqual([0x7f, 0x80]);
  });

  it('whole-byte widths are little-endian, as the bit order defines them (known answers both ways)', () => {
    expect([...packCodes([0x1234, 0xabcd], 16)]).toEqual([0x34, 0x12, 0xcd, 0xab]);
    expect([...packCodes([0x123456], 24)]).toEqual([0x56, 0x34, 0x12]);
    expect([...packCodes([0xfedcba98], 32)]).toEqual([0x98, 0xba, 0xdc, 0xfe]);
    expect([...unpackCodes(Uint8Array.of(0x78, 0x56, 0x34, 0x12), 32, 1)]).toEqual([0x12345678]);
    expect([...unpackCodes(Uint8Array.of(0x01, 0x80, 0xff), 8, 3)]).toEqual([1, 128, 255]);
    // a whole-byte width read as its nibbles: the low nibble of each byte first
    expect([...unpackCodes(packCodes([0x2a1b], 16), 4, 4)]).toEqual([0xb, 0x1, 0xa, 0x2]);
  });

  it('round-trips random codes of every width from 1 to 32 bits, densely', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 32 }), fc.array(fc.nat(), { maxLength: 50 }), (bits, raw) => {
      const codes = raw.map((r) => r % 2 ** bits);
      const bytes = packCodes(codes, bits);
      expect(bytes.length).toBe(Math.ceil((codes.length * bits) / 8));
      expect([...unpackCodes(bytes, bits, codes.length)]).toEqual(codes);
    }), { numRuns: 500 });
  });

  it('rejects bad widths, codes and counts', () => {
    expect(() => packCodes([16], 4)).toThrow(/codes\[0\]: got 16/);
    expect(() => packCodes([1], 0)).toThrow(/bits: got 0/);
    expect(() => unpackCodes(new Uint8Array(1), 4, 3)).toThrow(/count: 3 codes of 4 bits need 2 bytes, got 1/);
    expect(() => unpackCodes([1] as never, 4, 1)).toThrow(/bytes: got Array/);
  });
});
