// Fuzzes the package root: every exported function, class (via `new`) and static method, called with seeded
// argument lists of bad values, must return or throw a FliqsError — never a TypeError or other error — and
// the library must still work after every call (same known answers, no arena leak when a call threw).
import { writeFileSync } from 'node:fs';
import { describe as group, expect, it } from 'vitest';
import * as fliqs from '../src/index.js';
import { FliqsError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';

type Fn = (...args: unknown[]) => unknown;
interface Target { name: string; fn: Fn; ctor: boolean; arity: number }

const isClass = (f: Fn): boolean => /^class\b/.test(Function.prototype.toString.call(f));
const isNamespace = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.prototype.toString.call(v) === '[object Module]';

/** Every function, class and static method reachable from the package root (namespaces included). */
function targets(root: Record<string, unknown>, prefix = ''): Target[] {
  const out: Target[] = [];
  for (const key of Object.keys(root).sort()) {
    const v = root[key];
    if (isNamespace(v)) { out.push(...targets(v, `${prefix}${key}.`)); continue; }
    if (typeof v !== 'function') continue;
    const f = v as Fn, name = prefix + key;
    if (!isClass(f)) { out.push({ name, fn: f, ctor: false, arity: f.length }); continue; }
    out.push({ name, fn: f, ctor: true, arity: f.length });
    for (const s of Object.getOwnPropertyNames(f)) {
      const m = (f as unknown as Record<string, unknown>)[s];
      if (typeof m === 'function' && !isClass(m as Fn)) out.push({ name: `${name}.${s}`, fn: (m as Fn).bind(f), ctor: false, arity: (m as Fn).length });
    }
  }
  return out;
}

function detachedF32(): Float32Array {
  const buf = new ArrayBuffer(16);
  const view = new Float32Array(buf);
  structuredClone(buf, { transfer: [buf] });
  return view;
}

/** Option objects with the usual option names set to wrong types. */
const OPTION_KEYS = ['stride', 'padding', 'groups', 'bias', 'format', 'formats', 'bits', 'seed', 'lr', 'momentum', 'weightDecay', 'eps',
  'count', 'size', 'classes', 'channels', 'height', 'width', 'batchSize', 'shuffle', 'steps', 'epochs', 'clip', 'candidates', 'refine',
  'quantB', 'axis', 'layout', 'target', 'space', 'model', 'optimizer', 'schedule', 'kernel', 'dilation', 'heads', 'dim', 'train',
  'test', 'labels', 'images', 'shape', 'data', 'requiresGrad', 'name', 'rng', 'runtime', 'affine', 'momentumBuffer', 'betas'];
const wrongOptions = (value: () => unknown) => (): Record<string, unknown> => Object.fromEntries(OPTION_KEYS.map((k) => [k, value()]));

/** The bad values (made fresh per call, since a call may write into an array it is given). */
const BAD: Array<[string, () => unknown]> = [
  ['null', () => null], ['undefined', () => undefined], ['NaN', () => NaN], ['-1', () => -1], ['0', () => 0], ['1.5', () => 1.5],
  ['2**40', () => 2 ** 40], ['""', () => ''], ['"x"', () => 'x'], ['{}', () => ({})], ['[]', () => []],
  ['hugeArray', () => new Array(2 ** 20)], ['detachedF32', detachedF32], ['Int32Array', () => new Int32Array(7)],
  ['Float64Array', () => new Float64Array(16)], ['Uint8Array', () => new Uint8Array(5)], ['Float32Array(3)', () => new Float32Array(3)],
  ['function', () => () => undefined], ['symbol', () => Symbol('bad')], ['bigint', () => 12n],
  ['options:"x"', wrongOptions(() => 'x')], ['options:-1', wrongOptions(() => -1)], ['options:NaN', wrongOptions(() => NaN)],
  ['options:{}', wrongOptions(() => ({}))], ['options:null', wrongOptions(() => null)],
];
/** A few valid-looking values, so checks behind the first argument's are reached too. */
const GOOD: Array<[string, () => unknown]> = [
  ['1', () => 1], ['2', () => 2], ['4', () => 4], ['"INT4"', () => 'INT4'], ['Float32Array(16)', () => Float32Array.from({ length: 16 }, (_, i) => (i % 5) - 2)],
  ['Tensor[2,2]', () => fliqs.Tensor.from(new Float32Array([1, -2, 3, -4]), [2, 2])], ['[2,2]', () => [2, 2]], ['true', () => true],
  ['Tensor[1,3,3,2]', () => fliqs.Tensor.from(Float32Array.from({ length: 18 }, (_, i) => i / 9 - 1), [1, 3, 3, 2])],
  ['model', () => fliqs.createModel('mlp', { inputShape: [4, 4, 1], classes: 2 })],
  ['space', () => fliqs.buildSearchSpace([{ name: 'a', macs: 100 }, { name: 'b', macs: 50 }], { space: 'int-s' })],
  ['dataset', () => fliqs.syntheticDataset({ n: 4, classes: 2, shape: [4, 4, 1] })],
];

/** Argument lists for one target: each bad value at each position of each arity (others drawn from all values), sampled. */
function argLists(t: Target, rng: Rng, perTarget: number): Array<{ label: string; make: () => unknown[] }> {
  const all = [...BAD, ...GOOD];
  const lists: Array<{ label: string; make: () => unknown[] }> = [{ label: '()', make: () => [] }];
  for (let arity = 1; arity <= t.arity + 1; arity++) {
    for (let pos = 0; pos < arity; pos++) {
      for (const bad of BAD) {
        // Half the other arguments are valid-looking, so later arguments' checks are reached too.
        const picks = Array.from({ length: arity }, (_, i) =>
          (i === pos ? bad : rng.uniform() < 0.5 ? GOOD[rng.int(GOOD.length)]! : all[rng.int(all.length)]!));
        lists.push({ label: `(${picks.map((p) => p[0]).join(', ')})`, make: () => picks.map((p) => p[1]()) });
      }
    }
  }
  // Sample down to perTarget (seeded Fisher–Yates prefix), keeping the no-argument call.
  for (let i = 1; i < lists.length && i <= perTarget; i++) {
    const j = i + rng.int(lists.length - i);
    [lists[i], lists[j]] = [lists[j]!, lists[i]!];
  }
  return lists.slice(0, perTarget + 1);
}

// The known answers the library must keep giving.
const KA_X = new Float32Array([0.3, -1.7, 2.2, 0.05, -0.6, 1.1, -2.4, 0.9]);
const KA_A = new Float32Array([1, 2, 3, 4, 5, 6]);
const KA_B = new Float32Array([1, 0, 0, 1, 1, 1]);
function knownAnswers(): string {
  const q = fliqs.quantize(KA_X, 'INT4', 2);
  const c = new Float32Array(4);
  fliqs.kernels.gemm.gemm('nn', 2, 2, 3, 1, KA_A, 3, KA_B, 2, 0, c, 2);
  return JSON.stringify({ q: [...q], c: [...c], grad: fliqs.isGradEnabled() });
}

const SEED = 12;
const PER_TARGET = 64;

/**
 * Not called: the scalar references of the kernel namespaces (kernels.convRef, …) check nothing and loop over
 * whatever sizes they are given (2**40 runs for hours). Validating them is the next part of issue 12.
 */
const NOT_CALLED = /^kernels\.\w+Ref\./;
/**
 * Called and counted, but their TypeErrors do not fail this test yet: src/autograd/ops.ts and tensor.ts are
 * being reworked in parallel (issue 12 part 1 left them to that work). Drop a name once it passes.
 */
const KNOWN_OUTSTANDING = new Set<string>([]);

// Debugging: FUZZ_ONLY / FUZZ_SKIP (regexps over target names), FUZZ_TRACE (a file each call is appended to
// before it runs: its last line names a call that hangs), FUZZ_REPORT (prints every failing target).
group('public API fuzz', () => {
  it('every call returns or throws a FliqsError, and the library still works afterwards', async () => {
    const all = targets(fliqs as unknown as Record<string, unknown>);
    const expected = knownAnswers();
    const rng = new Rng(SEED);
    const failures = new Map<string, string[]>();
    const broke: string[] = [];
    let calls = 0;
    const started = Date.now();
    for (const t of all) {
      if (NOT_CALLED.test(t.name)) continue;
      if (process.env.FUZZ_SKIP && new RegExp(process.env.FUZZ_SKIP).test(t.name)) continue;
      if (process.env.FUZZ_ONLY && !new RegExp(process.env.FUZZ_ONLY).test(t.name)) continue;
      for (const { label, make } of argLists(t, rng, PER_TARGET)) {
        const args = make();
        if (process.env.FUZZ_TRACE) writeFileSync(process.env.FUZZ_TRACE, `${t.name}${label}\n`, { flag: 'a' });
        const before = fliqs.runtime.arena.bytesInUse;
        let error: unknown = null;
        calls++;
        try {
          let r = t.ctor ? Reflect.construct(t.fn, args) : t.fn(...args);
          if (r instanceof Promise) r = await r;
          // A returned iterator must not defer a TypeError to its first step.
          if (r !== null && typeof r === 'object' && typeof (r as Iterator<unknown>).next === 'function' && Symbol.iterator in r) {
            (r as Iterator<unknown>).next();
          }
        } catch (e) {
          error = e;
        }
        if (error !== null && !(error instanceof FliqsError)) {
          const msg = `${t.name}${label}: ${(error as Error)?.name}: ${(error as Error)?.message ?? String(error)}`.slice(0, 300);
          failures.set(t.name, [...(failures.get(t.name) ?? []), msg]);
        }
        const after = knownAnswers();
        if (after !== expected) broke.push(`${t.name}${label}: known answers changed to ${after}`);
        if (error !== null && fliqs.runtime.arena.bytesInUse !== before) {
          broke.push(`${t.name}${label}: threw but left ${fliqs.runtime.arena.bytesInUse - before} arena bytes in use`);
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const counts = [...failures].map(([name, msgs]) => `${name}: ${msgs.length}  e.g. ${msgs[0]}`);
    const total = [...failures.values()].reduce((s, m) => s + m.length, 0);
    console.log(`api fuzz: ${all.length} targets, ${calls} calls, ${total} non-FliqsError throws in ${failures.size} targets `
      + `(known outstanding: ${[...failures.keys()].filter((n) => KNOWN_OUTSTANDING.has(n)).join(', ') || 'none'}), ${seconds.toFixed(1)} s`);
    if (process.env.FUZZ_REPORT) console.log(counts.join('\n'));
    expect(broke.slice(0, 20)).toEqual([]);
    expect(counts.filter((c) => !KNOWN_OUTSTANDING.has(c.slice(0, c.indexOf(':')))).slice(0, 40)).toEqual([]);
    if (!process.env.FUZZ_ONLY && !process.env.FUZZ_SKIP) {
      expect([...KNOWN_OUTSTANDING].filter((n) => !failures.has(n)), 'these now pass: drop them from KNOWN_OUTSTANDING').toEqual([]);
    }
  });
});
