// The one seeded PRNG (xoshiro128**, seeded through splitmix32). Same seed, same stream, everywhere.

import { FliqsError, requireInt } from './errors.js';

/**
 * The seeded PRNG every random choice in fliqs goes through (initialization, shuffling, augmentation,
 * the search's sampling): xoshiro128** with its state seeded through splitmix32 from a 32-bit seed.
 * The same seed gives the same stream on every platform; getState()/setState() continue a stream
 * across a checkpoint. Not cryptographic.
 * @example
 * const rng = new Rng(42);
 * rng.uniform();                 // in [0, 1)
 * rng.int(10);                   // integer in [0, 10)
 * rng.normalArray(4, 0, 0.1);    // Float32Array of N(0, 0.1²)
 * new Linear(4, 2, { rng });     // a seeded initialization
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  /** `seed`: an integer from 0 to 2³² − 1 (default 0). */
  constructor(seed = 0) {
    requireInt('seed', seed, 0, 2 ** 32 - 1);
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next(); this.b = next(); this.c = next(); this.d = next();
  }

  /** The generator's full state, for checkpoints: restore it with setState() to continue the same stream. */
  getState(): number[] {
    return [this.a, this.b, this.c, this.d, this.spare ?? NaN];
  }

  /** Restores a state from getState(). */
  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || state.length !== 5 || state.slice(0, 4).some((v) => !Number.isInteger(v))) {
      throw new FliqsError('rng state', `got ${JSON.stringify(state)}`, 'the 5 numbers returned by getState()');
    }
    [this.a, this.b, this.c, this.d] = state as [number, number, number, number];
    this.spare = Number.isNaN(state[4]) || state[4] === null ? null : state[4]!;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a; this.d ^= this.b; this.b ^= this.c; this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u)), th = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Standard Laplace (scale 1). */
  laplace(): number {
    const u = this.uniform() - 0.5;
    return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }

  /** Fills a Float32Array with N(mean, std²). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[] | Uint32Array | Int32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!; a[i] = a[j]!; a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
