// `fliqs serve` (from dist/): the demo at /demo/ and the library at /dist/ with COOP/COEP headers (none with
// --no-isolate), nothing outside those folders, and a clean exit on SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { serve } from './serve-helpers.js';

function get(base: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((ok, fail) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) c.kill(); });

describe('fliqs serve', () => {
  it('serves the demo and the library, cross-origin isolated, and nothing else', async () => {
    const { child, base } = await serve();
    children.push(child);
    const page = await get(base, '/demo/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(page.body).toContain('<script type="module" src="demo.js">');
    const lib = await get(base, '/dist/index.js');
    expect(lib.status).toBe(200);
    expect(lib.headers['content-type']).toMatch(/^text\/javascript/);
    expect(lib.body).toContain('startSearch');
    expect((await get(base, '/dist/worker/run.js')).status).toBe(200);
    expect((await get(base, '/demo/fashion-mnist-subset.bin', 'HEAD')).headers['content-type']).toBe('application/octet-stream');
    const root = await get(base, '/');
    expect([root.status, root.headers['location']]).toEqual([302, '/demo/']);
    for (const p of ['/demo/../package.json', '/dist/../../package.json', '/demo/%2e%2e/package.json', '/demo/..%2fpackage.json', '/package.json',
      '/demo/%00', '/demo/%E0%A4%A', '/demo/nothing.js', '/etc/passwd']) {
      expect((await get(base, p)).status, p).toBe(404);
    }
    expect((await get(base, '/demo/', 'POST')).status).toBe(405);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.on('close', r))).toBe(0);
  });

  it('--no-isolate leaves the COOP/COEP headers out', async () => {
    const { child, base } = await serve(['--no-isolate']);
    children.push(child);
    const page = await get(base, '/demo/');
    expect(page.status).toBe(200);
    expect(page.headers['cross-origin-opener-policy']).toBeUndefined();
    expect(page.headers['cross-origin-embedder-policy']).toBeUndefined();
    child.kill('SIGTERM');
  });
});
