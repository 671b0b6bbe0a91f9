// The core must load in a browser as is: no Node built-ins, no file paths or fetches for the wasm bytes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// node-threads.ts is loaded by kernels/threads.ts only when it runs in Node (a dynamic import behind that check).
const NODE_ONLY = [join('src', 'cli'), join('src', 'data', 'node'), join('src', 'node.ts'), join('src', 'kernels', 'node-threads.ts')];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('browser safety', () => {
  const core = files('src').filter((f) => !NODE_ONLY.some((d) => f.startsWith(d)));

  it('has core files to check', () => {
    expect(core.length).toBeGreaterThan(5);
    expect(core).toContain(join('src', 'core', 'runtime.ts'));
  });

  it.each(core)('%s imports no Node built-ins and no Node-only code', (f) => {
    const text = readFileSync(f, 'utf8');
    const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const spec of imports) {
      expect(spec.startsWith('node:') || ['fs', 'path', 'os', 'url', 'child_process', 'module'].includes(spec), `${f} imports ${spec}`).toBe(false);
      expect(/\/(cli|data\/node)\//.test(spec), `${f} imports Node-only ${spec}`).toBe(false);
    }
    expect(/\bprocess\.|\bBuffer\.|\brequire\(/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')), `${f} uses process/Buffer/require`).toBe(false);
  });

  it('embeds the wasm bytes instead of loading them from a path', () => {
    const rt = readFileSync(join('src', 'core', 'runtime.ts'), 'utf8');
    expect(rt).toContain("from './wasm-bytes.generated.js'");
    expect(rt).not.toMatch(/fetch\(|readFile|new URL\(/);
  });
});
