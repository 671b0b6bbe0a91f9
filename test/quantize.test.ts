// The fake quantizer against the spec: properties over all preset formats plus random INTk/ExMy,
// the wasm kernel against the scalar reference bit for bit, exhaustive grid checks, known values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/core/runtime.js';
import { kernelParams, scaleOf } from '../src/formats/params.js';
import { quantParams } from '../src/kernels/blocks.js';
import { exponentOf, roundToGrid } from '../src/formats/reference.js';
import {
  encode, FliqsError, parseFormat, quantize, quantizePerChannel, quantizePerChannelRef, quantizeRef, runtime, steGradient, steRef,
  type Format,
} from '../src/index.js';
import { anyFormat, clipValue, f32Array, f32Value, firstBitMismatch, gridFormat, PRESET_FORMATS } from './quant-helpers.js';

const f32 = Math.fround;
const RUNS = 2000;

/** The spacing of the format's grid at |v| (at scale 1). */
function quantumAt(f: Format, v: number): number {
  if (f.kind === 'int') return 1;
  const a = Math.abs(v);
  const e = a === 0 ? f.minExponent : Math.max(exponentOf(a), f.minExponent);
  return 2 ** (e - f.mantissaBits);
}

/** A clip the format accepts: s = maxValue / clip must be a normal f32 (E8My's huge maxValue needs clip ≳ 0.5). */
const fit = (f: Format, c: number): number => Math.min(Math.max(c, f.maxValue * 2 ** -127), f.maxValue * 2 ** 125);
/** The largest f32 rounding error at a: half an ulp, with subnormals' absolute spacing 2^-149. */
const halfUlp = (a: number): number => Math.max(Math.abs(a) * 2 ** -24, 2 ** -150);
const clipFor = (f: Format, c: number): number | undefined => (f.ignoresClip ? undefined : fit(f, c));

describe('quantize: wasm kernel equals the reference bit for bit', () => {
  it('on random data, lengths (0, 1, odd, not multiples of 4), clips and formats', () => {
    fc.assert(fc.property(anyFormat, fc.array(f32Value, { maxLength: 67 }), clipValue, (f, xs, clip) => {
      const x = f32Array(xs);
      clip = fit(f, clip);
      const got = quantize(x, f, clipFor(f, clip));
      const want = quantizeRef(x, f, clip);
      const i = firstBitMismatch(got, want);
      if (i >= 0) throw new Error(`${f.name} clip ${clip} n=${x.length}: x[${i}]=${x[i]} wasm ${got[i]} ref ${want[i]}`);
    }), { numRuns: RUNS });
  });

  it('on a strided sweep of all f32 bit patterns for every preset format', () => {
    const n = 1 << 18;
    const bits = new Uint32Array(n);
    for (let i = 0; i < n; i++) bits[i] = Math.imul(i, 16411) >>> 0; // 16411 is odd: covers all exponents and signs
    const x = new Float32Array(bits.buffer);
    for (const f of [...PRESET_FORMATS, parseFormat('E8M0'), parseFormat('E8M22'), parseFormat('E1M0'), parseFormat('INT16')]) {
      for (const c of [f.maxValue, 1, 0.037]) {
        const clip = fit(f, c);
        const got = quantize(x, f, clipFor(f, clip));
        const want = quantizeRef(x, f, clip);
        const i = firstBitMismatch(got, want);
        expect(i, `${f.name} clip ${clip}: x=${x[i]} wasm ${got[i]} ref ${want[i]}`).toBe(-1);
      }
    }
  });

  it('in both module variants (baseline SIMD and relaxed SIMD)', async () => {
    for (const variant of ['simd', 'relaxed'] as const) {
      const rt = await createRuntime(variant);
      fc.assert(fc.property(anyFormat, fc.array(f32Value, { maxLength: 41 }), clipValue, (f, xs, clip) => {
        const x = rt.copyIn(xs);
        clip = fit(f, clip);
        const s = scaleOf(f, clip), k = kernelParams(f);
        if (f.kind !== 'fp32') rt.kernels.quant_f32x4(x.ptr, x.ptr, xs.length, quantParams(rt, k, s));
        const i = firstBitMismatch(x.array.slice(), quantizeRef(xs, f, clip));
        x.free();
        expect(i, `${variant} ${f.name}`).toBe(-1);
      }), { numRuns: 500 });
    }
  });

  it('works in place and on arrays that live in wasm memory', () => {
    const f = parseFormat('E4M3');
    const data = [0.1, -2.5, 7, 1e-3, 33];
    const inPlace = f32Array(data);
    expect(quantize(inPlace, f, 4, inPlace)).toBe(inPlace);
    expect(firstBitMismatch(inPlace, quantizeRef(data, f, 4))).toBe(-1);
    const res = runtime.copyIn(data);
    const out = runtime.allocF32(data.length);
    quantize(res.array, f, 4, out.array);
    expect(firstBitMismatch(out.array, quantizeRef(data, f, 4))).toBe(-1);
    expect([...res.array]).toEqual([...f32Array(data)]); // the input is untouched
    res.free(); out.free();
  });

  it('streams long inputs in chunks without seams', () => {
    const n = 16384 * 3 + 7;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 5;
    expect(firstBitMismatch(quantize(x, 'INT4', 3), quantizeRef(x, parseFormat('INT4'), 3))).toBe(-1);
  });
});

describe('quantize: properties of the spec', () => {
  it('lands on the grid at s = 1, and on {g / s} for any clip', () => {
    fc.assert(fc.property(gridFormat, fc.array(f32Value, { minLength: 1, maxLength: 30 }), clipValue, (f, xs, clip) => {
      const grid = new Set(f.grid!);
      for (const v of quantize(f32Array(xs), f, f.maxValue)) if (!Number.isNaN(v)) expect(grid.has(v), `${f.name} ${v}`).toBe(true);
      clip = fit(f, clip);
      const s = scaleOf(f, clip);
      const scaled = new Set([...f.grid!].map((g) => f32(g / s)));
      for (const v of quantize(f32Array(xs), f, clip)) if (!Number.isNaN(v)) expect(scaled.has(v), `${f.name} clip ${clip}: ${v}`).toBe(true);
    }), { numRuns: RUNS });
  });

  it('is on the grid for formats too large to list (membership by rounding)', () => {
    fc.assert(fc.property(anyFormat.filter((f) => f.grid === null && f.kind !== 'bf16'), fc.array(f32Value, { maxLength: 30 }), (f, xs) => {
      for (const v of quantize(f32Array(xs), f, f.maxValue)) if (!Number.isNaN(v)) expect(roundToGrid(v, f)).toBe(v);
    }), { numRuns: 500 });
  });

  it('is idempotent when the scale is a power of two (so q / s · s is exact)', () => {
    fc.assert(fc.property(anyFormat, fc.array(f32Value, { maxLength: 30 }), fc.integer({ min: -8, max: 8 }), (f, xs, k) => {
      const clip = f.ignoresClip ? undefined : f.maxValue * 2 ** k;
      const once = quantize(f32Array(xs), f, clip);
      expect(firstBitMismatch(quantize(once, f, clip), once)).toBe(-1);
    }), { numRuns: RUNS });
  });

  it('is monotone non-decreasing', () => {
    fc.assert(fc.property(anyFormat, fc.array(fc.float({ noNaN: true }), { minLength: 2, maxLength: 40 }), clipValue, (f, xs, clip) => {
      const x = f32Array(xs).sort();
      const q = quantize(x, f, clipFor(f, clip));
      for (let i = 1; i < q.length; i++) expect(q[i]! >= q[i - 1]!, `${f.name}: x ${x[i - 1]} ≤ ${x[i]} but q ${q[i - 1]} > ${q[i]}`).toBe(true);
    }), { numRuns: RUNS });
  });

  it('is odd-symmetric', () => {
    fc.assert(fc.property(anyFormat, fc.array(f32Value, { maxLength: 30 }), clipValue, (f, xs, clip) => {
      const x = f32Array(xs);
      const pos = quantize(x, f, clipFor(f, clip));
      const neg = quantize(x.map((v) => -v), f, clipFor(f, clip));
      for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) expect(Object.is(neg[i], -pos[i]!), `${f.name} x=${x[i]}: ${neg[i]} vs ${-pos[i]!}`).toBe(true);
    }), { numRuns: RUNS });
  });

  it('is within half a grid step of the input inside the clip range', () => {
    // At s = 1 this is exact: |q − x| ≤ quantum(x) / 2. For other clips the spec allows the f32 rounding
    // of x·s (half an ulp of v) and of q / s (half an ulp of the output) on top; an f32 rounding error is at
    // most max(|a|·2^-24, 2^-150) — the absolute floor matters when the output is subnormal.
    fc.assert(fc.property(anyFormat.filter((f) => !f.ignoresClip), fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 30 }), clipValue,
      (f, xs, clip) => {
        const x = f32Array(xs);
        const q1 = quantize(x, f, f.maxValue);
        for (let i = 0; i < x.length; i++) {
          if (Math.abs(x[i]!) <= f.maxValue) expect(Math.abs(q1[i]! - x[i]!), `${f.name} x=${x[i]}`).toBeLessThanOrEqual(quantumAt(f, x[i]!) / 2);
        }
        clip = fit(f, clip);
        const s = scaleOf(f, clip);
        const q = quantize(x, f, clip);
        for (let i = 0; i < x.length; i++) {
          const v = f32(x[i]! * s);
          if (Math.abs(v) > f.maxValue) continue;
          const bound = (quantumAt(f, v) / 2 + halfUlp(v)) / s + halfUlp(q[i]!);
          expect(Math.abs(q[i]! - x[i]!), `${f.name} clip ${clip} x=${x[i]}`).toBeLessThanOrEqual(bound * (1 + 2 ** -20));
        }
      }), { numRuns: RUNS });
  });

  it('saturates to ±clip (up to the f32 rounding of maxValue / s), and maps ±Infinity there', () => {
    fc.assert(fc.property(anyFormat.filter((f) => !f.ignoresClip), clipValue, fc.double({ min: 1, max: 1e6, noNaN: true }), (f, clip, over) => {
      clip = fit(f, clip);
      const s = scaleOf(f, clip);
      const sat = f32(f.maxValue / s);
      expect(Math.abs(sat - clip)).toBeLessThanOrEqual(clip * 2 ** -22);
      const x = f32Array([clip * over * 1.01, -clip * over * 1.01, Infinity, -Infinity]);
      const q = quantize(x, f, clip);
      expect([...q]).toEqual([sat, -sat, sat, -sat]);
    }), { numRuns: RUNS });
  });

  it('sends ties to the even code (exhaustively, at every midpoint of every ≤ 12-bit grid)', () => {
    const names = ['INT2', 'INT4', 'INT8', 'INT12', 'E1M0', 'E1M6', 'E2M1', 'E3M2', 'E4M3', 'E5M2', 'E8M0', 'E8M3', 'E6M5', 'E2M9'];
    for (const n of names) {
      const f = parseFormat(n);
      const g = f.grid!;
      const mids = new Float32Array(g.length - 1);
      for (let i = 0; i + 1 < g.length; i++) mids[i] = (g[i]! + g[i + 1]!) / 2;
      expect([...mids].every((m, i) => m === (g[i]! + g[i + 1]!) / 2), `${n} midpoints are f32-exact`).toBe(true);
      const q = quantize(mids, f, f.maxValue);
      const codes = encode(f, q);
      for (let i = 0; i < q.length; i++) {
        expect(q[i] === g[i] || q[i] === g[i + 1], `${n} mid ${mids[i]}`).toBe(true);
        const magnitudeCode = f.kind === 'int' ? Math.abs(q[i]!) : codes[i]! % 2 ** (f.bits - 1);
        expect(magnitudeCode % 2, `${n}: tie ${mids[i]} → ${q[i]} (code ${codes[i]})`).toBe(0);
      }
      // Just off the midpoint, it goes to the nearer neighbour.
      const up = mids.map((m, i) => m + (g[i + 1]! - g[i]!) / 8), down = mids.map((m, i) => m - (g[i + 1]! - g[i]!) / 8);
      const qu = quantize(up, f, f.maxValue), qd = quantize(down, f, f.maxValue);
      for (let i = 0; i < mids.length; i++) {
        expect(qu[i] === g[i + 1], `${n} above ${mids[i]}: ${qu[i]}`).toBe(true);
        expect(qd[i] === g[i], `${n} below ${mids[i]}: ${qd[i]}`).toBe(true);
      }
    }
  });

  it('maps every grid value of every ≤ 12-bit format to itself', () => {
    for (let x = 1; x <= 8; x++) {
      for (let y = 0; 1 + x + y <= 12; y++) {
        const f = parseFormat(`E${x}M${y}`);
        const g = Float32Array.from(f.grid!);
        expect(firstBitMismatch(quantize(g, f, f.maxValue), g), f.name).toBe(-1);
      }
    }
    for (let k = 2; k <= 12; k++) {
      const g = Float32Array.from(parseFormat(`INT${k}`).grid!);
      expect(firstBitMismatch(quantize(g, `INT${k}`, 2 ** (k - 1) - 1), g)).toBe(-1);
    }
  });

  it('keeps NaN as NaN for every kind', () => {
    for (const f of [...PRESET_FORMATS, parseFormat('FP32'), parseFormat('INT16')]) {
      expect(Number.isNaN(quantize(f32Array([NaN]), f, clipFor(f, 1))[0]), f.name).toBe(true);
    }
  });
});

describe('quantize: known values', () => {
  it('INT4 levels −7…7 at clip 7 and scaled at clip 1', () => {
    expect([...quantize(f32Array([-9, -7.4, -0.5, 0.5, 1.5, 2.5, 6.6, 100]), 'INT4', 7)]).toEqual([-7, -7, -0, 0, 2, 2, 7, 7]);
    expect([...quantize(f32Array([0.3, -1.2]), 'INT4', 1)]).toEqual([f32(2 / 7), -1]);
  });

  it('E4M3 saturates at 240 and E2M1 rounds to its 8 magnitudes', () => {
    expect([...quantize(f32Array([239, 250, 1e9, 0.0009765625, 0.0004]), 'E4M3', 240)]).toEqual([240, 240, 240, 2 ** -10, 0]);
    expect([...quantize(f32Array([0.1, 0.13, 0.6, 1.24, 1.26, 2.4, 2.6, 5]), 'E2M1', 3)]).toEqual([0, 0.25, 0.5, 1, 1.5, 2, 3, 3]);
  });

  it('BF16 rounds chosen f32 bit patterns to nearest even and keeps IEEE specials', () => {
    const bits = new Uint32Array([
      0x3f808000, // 1 + 2^-8: a tie between 0x3f80 (even) and 0x3f81 → 0x3f80
      0x3f818000, // tie between 0x3f81 (odd) and 0x3f82 → 0x3f82
      0x3f808001, // just above the tie → 0x3f81
      0x7f7fffff, // f32 max → overflows to +Inf
      0x00000001, // smallest subnormal → 0
      0x00008000, // subnormal tie → 0 (even)
      0x00018000, // subnormal tie → 0x0002
      0xff800000, // -Inf stays
      0x7fc00000, // NaN stays NaN
    ]);
    const q = new Uint32Array(quantize(new Float32Array(bits.buffer), 'BF16').buffer);
    expect([...q].map((b) => b.toString(16))).toEqual(['3f800000', '3f820000', '3f810000', '7f800000', '0', '0', '20000', 'ff800000', '7fc00000']);
  });

  it('FP32 is the identity and ignores the clip', () => {
    const x = f32Array([1e-40, -3.5, 1e30]);
    expect([...quantize(x, 'FP32', 0.001)]).toEqual([...x]);
  });
});

describe('quantizePerChannel', () => {
  it('equals the reference and per-slice quantize on random shapes and axes', () => {
    fc.assert(fc.property(anyFormat, fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(),
      (f, shape, axisSeed, seed) => {
        const axis = axisSeed % shape.length;
        const n = shape.reduce((a, b) => a * b, 1);
        const x = new Float32Array(n).map((_, i) => Math.sin(i * 1.7 + seed) * 4);
        const C = shape[axis]!;
        const clips = Array.from({ length: C }, (_, c) => fit(f, 0.5 + c * 0.75));
        const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1), inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const got = quantizePerChannel(x, f, clips, { shape, axis });
        expect(firstBitMismatch(got, quantizePerChannelRef(x, f, clips, outer, C, inner))).toBe(-1);
        for (let c = 0; c < C; c++) {
          const idx: number[] = [];
          for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) idx.push((o * C + c) * inner + i);
          const slice = quantize(Float32Array.from(idx, (k) => x[k]!), f, clipFor(f, clips[c]!));
          idx.forEach((k, j) => expect(Object.is(got[k], slice[j]) || got[k] === slice[j]).toBe(true));
        }
      }), { numRuns: 300 });
  });

  it('writes the right memory when its own scratch allocation grows (and detaches) wasm memory', () => {
    const C = 4096, data = Float32Array.from({ length: 2 * C }, (_, i) => Math.sin(i) * 3);
    const clips = Array.from({ length: C }, (_, c) => 1 + (c % 5));
    const want = quantizePerChannelRef(data, parseFormat('INT4'), clips, 2, C, 1);
    const x = runtime.copyIn(data), o = runtime.allocF32(data.length);
    const filler = runtime.arena.alloc(runtime.arena.memoryBytes - runtime.arena.topOffset - 64); // the next alloc must grow memory
    const before = runtime.memory.buffer.byteLength;
    quantizePerChannel(x.array, 'INT4', clips, { shape: [2, C], axis: 1 }, o.array);
    expect(runtime.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(firstBitMismatch(o.array, want)).toBe(-1);
    expect(firstBitMismatch(x.array, data)).toBe(-1);
    runtime.arena.free(filler); x.free(); o.free();
  });

  it('does not modify a wasm-resident input when writing to a JS output', () => {
    const x = runtime.copyIn([1, 2, 3, 4]);
    const before = [...x.array];
    quantizePerChannel(x.array, 'INT4', [1.5, 3.3], { shape: [2, 2] });
    expect([...x.array]).toEqual(before);
    x.free();
  });
});

describe('steGradient', () => {
  it('passes the gradient where |x| ≤ clip and blocks it elsewhere (equals the reference)', () => {
    fc.assert(fc.property(fc.array(f32Value, { maxLength: 50 }), clipValue, (xs, clip) => {
      const x = f32Array(xs);
      const g = x.map((_, i) => i + 1);
      expect(firstBitMismatch(steGradient(x, g, clip), steRef(x, g, clip))).toBe(-1);
    }), { numRuns: RUNS });
    expect([...steGradient(f32Array([0.5, -1, 1.0001, NaN]), f32Array([1, 2, 3, 4]), 1)]).toEqual([1, 2, 0, 0]);
  });
});

describe('bad input gets a FliqsError naming it', () => {
  const x = f32Array([1, 2, 3]);
  it.each([
    ['unknown format', () => quantize(x, 'FP8', 1), /format: "FP8"/],
    ['clip 0', () => quantize(x, 'INT8', 0), /clip: got 0; accepted: a finite number > 0/],
    ['negative clip', () => quantize(x, 'INT8', -1), /clip: got -1/],
    ['NaN clip', () => quantize(x, 'INT8', NaN), /clip: got NaN/],
    ['Infinity clip', () => quantize(x, 'E4M3', Infinity), /clip: got Infinity/],
    ['missing clip', () => quantize(x, 'INT8'), /clip: got undefined/],
    ['clip that overflows the scale', () => quantize(x, 'E5M2', 1e-40), /clip: .* outside f32/],
    ['string clip', () => quantize(x, 'INT8', '1' as never), /clip: got "1"/],
    ['plain array input', () => quantize([1, 2] as never, 'INT8', 1), /x: got Array\(2\); accepted: a Float32Array/],
    ['Float64Array input', () => quantize(new Float64Array(2) as never, 'INT8', 1), /x: got Float64Array/],
    ['out of the wrong length', () => quantize(x, 'INT8', 1, new Float32Array(2)), /out: got Float32Array\(2\); accepted: a Float32Array of length 3/],
    ['out of the wrong type', () => quantize(x, 'INT8', 1, new Float64Array(3) as never), /out: got Float64Array/],
    ['per-channel shape mismatch', () => quantizePerChannel(x, 'INT8', [1], { shape: [2, 2] }), /shape: \[2, 2\] holds 4 elements but x has 3/],
    ['per-channel clips count', () => quantizePerChannel(x, 'INT8', [1, 2], { shape: [3, 1] }), /clips: .*3 clips, one per channel/],
    ['per-channel bad clip', () => quantizePerChannel(x, 'INT8', [1, 0, 1], { shape: [3] }), /clips\[1\]: got 0/],
    ['per-channel bad axis', () => quantizePerChannel(x, 'INT8', [1], { shape: [3], axis: 2 }), /axis: got 2/],
    ['ste length mismatch', () => steGradient(x, new Float32Array(2), 1), /gradOut: has length 2/],
  ])('%s', (_, fn, msg) => {
    expect(fn).toThrow(FliqsError);
    expect(fn).toThrow(msg);
  });
});
