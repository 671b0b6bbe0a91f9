// The assertion every bad-input test makes: the call throws a FliqsError whose message matches.
import { expect } from 'vitest';
import { FliqsError } from '../src/core/errors.js';

export function expectFliqsError(f: () => unknown, re: RegExp): void {
  let e: unknown;
  try { f(); } catch (x) { e = x; }
  expect(e).toBeInstanceOf(FliqsError);
  expect(String((e as Error).message)).toMatch(re);
}
