// Shared test generators: formats, f32 values (specials included) and clips for the quantizer tests,
// and seeded uniform arrays for the kernel and optimizer tests.
import fc from 'fast-check';
import { parseFormat, SEARCH_SPACES, type Format } from '../src/index.js';

export const PRESET_FORMATS: Format[] = [...new Set(Object.values(SEARCH_SPACES).flat())].map((n) => parseFormat(n));

/** Any INTk or ExMy the spec accepts, biased toward small ones. */
export const anyFormat: fc.Arbitrary<Format> = fc.oneof(
  fc.integer({ min: 2, max: 16 }).map((k) => parseFormat(`INT${k}`)),
  fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 22 })).map(([x, y]) => parseFormat(`E${x}M${y}`)),
  fc.constantFrom(...PRESET_FORMATS, parseFormat('BF16')),
);

/** Formats that have a grid (≤ 12 bits). */
export const gridFormat: fc.Arbitrary<Format> = anyFormat.filter((f) => f.grid !== null);

/** f32 values: any bit pattern (NaN, ±Inf, subnormals included) or moderate normals. */
export const f32Value: fc.Arbitrary<number> = fc.oneof(
  fc.float({ noDefaultInfinity: false }),
  fc.float({ min: -8, max: 8, noNaN: true }),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** -149, -(2 ** -149), 3.4028234663852886e38),
);

/** Clips from 1e-6 to 1e6, log-uniform. */
export const clipValue: fc.Arbitrary<number> = fc.double({ min: -6, max: 6, noNaN: true }).map((e) => Math.fround(10 ** e));

export function f32Array(values: number[]): Float32Array {
  return Float32Array.from(values);
}

/** Index of the first element whose bits differ (all NaNs count as equal), or -1. */
export function firstBitMismatch(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

/**
 * Seeded uniform values in [lo, hi), rounded to f32 (a splitmix-style hash of the index, so the same
 * seed gives the same array). With `zeros`, about 1 in 16 values is exactly 0.
 */
export function randArray(seed: number, n: number, lo = -3, hi = 3, { zeros = false } = {}): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = zeros && (s & 15) === 0 ? 0 : lo + (hi - lo) * u;
  }
  return out;
}
