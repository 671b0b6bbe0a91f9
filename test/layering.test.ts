// The house's floors, checked on the source: only src/kernels/ calls wasm exports (one door into wasm),
// and src/formats/ is pure TypeScript (traits, params, reference, codes), never touching the runtime.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const code = (f: string): string => readFileSync(f, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
/** A use of the instantiated module's exports: `.kernels` as a property (rt.kernels, runtime.kernels.x). */
const CALLS_EXPORTS = /\.kernels\b/;

describe('one door into wasm', () => {
  const all = files('src');
  const outside = all.filter((f) => !f.startsWith(join('src', 'kernels')) && !f.startsWith(join('src', 'core')));

  it('the pattern sees a real call', () => {
    expect(CALLS_EXPORTS.test(code(join('src', 'kernels', 'stats.ts')))).toBe(true);
    expect(outside.length).toBeGreaterThan(20);
  });

  it.each(outside)('%s calls no wasm export directly', (f) => {
    expect(CALLS_EXPORTS.test(code(f)), `${f} reaches rt.kernels; go through a src/kernels/ wrapper`).toBe(false);
  });

  it.each(files(join('src', 'formats')))('%s is pure TypeScript (no runtime, no kernels)', (f) => {
    const imports = [...code(f).matchAll(/from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const spec of imports) expect(/core\/(runtime|operands|arena)|kernels\//.test(spec), `${f} imports ${spec}`).toBe(false);
  });
});
