// Format parsing, derived constants, grids and search-space presets against the spec's tables.
import { describe, expect, it } from 'vitest';
import { FliqsError, parseFormat, parseSearchSpace, SEARCH_SPACES } from '../src/index.js';

describe('parseFormat', () => {
  it('knows the spec examples of maxValue', () => {
    expect(parseFormat('E4M3').maxValue).toBe(240);
    expect(parseFormat('E2M1').maxValue).toBe(3);
    expect(parseFormat('E5M2').maxValue).toBe(57344);
    expect(parseFormat('E3M4').maxValue).toBe(15.5);
    expect(parseFormat('E1M6').maxValue).toBe(1.984375);
    expect(parseFormat('INT8').maxValue).toBe(127);
    expect(parseFormat('BF16').maxValue).toBe(3.3895313892515355e38);
  });

  it('derives bits, bias and the smallest subnormal', () => {
    const f = parseFormat('e4m3');
    expect(f).toMatchObject({ name: 'E4M3', kind: 'float', bits: 8, exponentBits: 4, mantissaBits: 3, bias: 8, minExponent: -7 });
    expect(f.minSubnormal).toBe(2 ** -10);
    expect(parseFormat('INT5')).toMatchObject({ kind: 'int', bits: 5, maxValue: 15, minSubnormal: 1 });
    expect(parseFormat('BF16')).toMatchObject({ kind: 'bf16', bits: 16, ignoresClip: true, grid: null, minSubnormal: 2 ** -133 });
    expect(parseFormat('fp32')).toMatchObject({ kind: 'fp32', bits: 32, ignoresClip: true });
    expect(parseFormat('E8M22').minSubnormal).toBe(2 ** -149);
  });

  it('is case-insensitive, canonical upper-case, and cached', () => {
    expect(parseFormat('int4').name).toBe('INT4');
    expect(parseFormat('bf16')).toBe(parseFormat('BF16'));
    expect(parseFormat(parseFormat('E2M1'))).toBe(parseFormat('E2M1'));
  });

  it('has the exact E2M1 and INT4 grids', () => {
    const e2m1 = [...parseFormat('E2M1').grid!].filter((v) => v >= 0);
    expect(e2m1).toEqual([0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3]);
    expect([...parseFormat('INT4').grid!]).toEqual(Array.from({ length: 15 }, (_, i) => i - 7));
  });

  it('gives every format of ≤ 12 bits a symmetric, strictly increasing grid of 2^b − 1 values', () => {
    const names = [...Array.from({ length: 11 }, (_, i) => `INT${i + 2}`)];
    for (let x = 1; x <= 8; x++) for (let y = 0; 1 + x + y <= 12; y++) names.push(`E${x}M${y}`);
    for (const n of names) {
      const f = parseFormat(n);
      const g = f.grid!;
      expect(g.length, n).toBe(2 ** f.bits - 1);
      expect(g[g.length - 1], n).toBe(f.maxValue);
      for (let i = 1; i < g.length; i++) expect(g[i]! > g[i - 1]!, n).toBe(true);
      for (let i = 0; i < g.length; i++) expect(g[i] === -g[g.length - 1 - i]!, n).toBe(true);
      expect(Math.min(...[...g].filter((v) => v > 0)), n).toBe(f.minSubnormal);
    }
    expect(parseFormat('E4M8').grid).toBeNull();
  });

  it.each(['INT1', 'INT17', 'E0M3', 'E9M1', 'E4M23', 'FP8', '', 'e4m3x', 'INT08', 'E4M03', 'int-4'])('rejects %j with a FliqsError naming it', (bad) => {
    expect(() => parseFormat(bad)).toThrow(FliqsError);
    try {
      parseFormat(bad);
    } catch (e) {
      expect((e as FliqsError).input).toBe('format');
      expect((e as Error).message).toContain(JSON.stringify(bad));
      expect((e as Error).message).toContain('accepted');
    }
  });

  it('rejects non-strings', () => {
    expect(() => parseFormat(4 as unknown as string)).toThrow(/format: got 4/);
    expect(() => parseFormat({ name: 'INT4' } as never)).toThrow(FliqsError);
  });
});

describe('search spaces', () => {
  it('match the spec table', () => {
    expect(parseSearchSpace('int-s').map((f) => f.name)).toEqual(['INT4', 'INT8', 'BF16']);
    expect(parseSearchSpace('int-l').map((f) => f.name)).toEqual(['INT4', 'INT5', 'INT6', 'INT7', 'INT8', 'BF16']);
    expect(parseSearchSpace('fp-s').map((f) => f.name)).toEqual(['E2M1', 'E4M3', 'BF16']);
    expect(parseSearchSpace('FP-L')).toHaveLength(16);
    expect(Object.keys(SEARCH_SPACES)).toEqual(['int-s', 'int-l', 'fp-s', 'fp-l']);
  });

  it('parses user lists and joint int+fp spaces without duplicates', () => {
    expect(parseSearchSpace(' int4, E4M3 ,bf16').map((f) => f.name)).toEqual(['INT4', 'E4M3', 'BF16']);
    expect(parseSearchSpace('int-s+fp-s').map((f) => f.name)).toEqual(['INT4', 'INT8', 'BF16', 'E2M1', 'E4M3']);
    expect(parseSearchSpace(['INT6', 'INT6', 'E3M2']).map((f) => f.name)).toEqual(['INT6', 'E3M2']);
  });

  it('rejects empty lists and bad names', () => {
    expect(() => parseSearchSpace('')).toThrow(/space: is empty/);
    expect(() => parseSearchSpace('int-s,INT99')).toThrow(/"INT99"/);
    expect(() => parseSearchSpace(7 as never)).toThrow(FliqsError);
  });
});
