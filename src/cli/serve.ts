// `fliqs serve`: a static file server for the demo page: the demo folder at /demo/ and this package's dist/ at
// /dist/ (located beside this module), so the page imports the library as it is, with no build step. It sends
// Cross-Origin-Opener-Policy / -Embedder-Policy headers, which make the page cross-origin isolated: the
// WebAssembly memory can be shared and the kernels get threads (--no-isolate leaves them out, to see the page
// fall back to one thread). Bad flags exit 2 before anything listens. Node-only.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FliqsError } from '../core/errors.js';
import { UsageError, parseFlags, usage, type FlagSpecs } from './args.js';
import { processIo, usageFailure, type Io } from './search.js';

/** The package's dist/ (this module is dist/cli/serve.js) and its demo/ folder. */
const DIST_DIR = fileURLToPath(new URL('../', import.meta.url));
const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));

export const SERVE_FLAGS = {
  port: { kind: 'int', help: 'port to listen on (0: any free port)', default: 8080, min: 0, max: 65535 },
  host: { kind: 'string', help: 'address to listen on', default: '127.0.0.1' },
  dir: { kind: 'string', help: 'folder served at /demo/ (default: the package\'s demo page)' },
  isolate: { kind: 'boolean', help: 'send COOP/COEP headers, so pages get threads (--no-isolate: one thread)', default: true },
} satisfies FlagSpecs;

const SUMMARY = 'Serves the demo page (/demo/) and the library (/dist/) with cross-origin isolation, for a browser search with threads.';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8', '.ts': 'text/plain; charset=utf-8',
};

export interface ServeOptions {
  port: number;
  host: string;
  /** Folder served at /demo/. */
  dir: string;
  isolate: boolean;
}

/** The file under `root` that a URL path below a mount names, or null when it leaves the root or is not a file. */
function fileUnder(root: string, rest: string): string | null {
  let path: string;
  try { path = decodeURIComponent(rest); } catch { return null; }
  if (path.includes('\0')) return null;
  const base = resolve(root);
  let file = resolve(base, `.${'/'}${path}`);
  if (file !== base && !file.startsWith(base + sep)) return null;
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    return statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

function handler(o: ServeOptions) {
  const mounts: Array<[string, string]> = [['/demo/', o.dir], ['/dist/', DIST_DIR]];
  return (req: IncomingMessage, res: ServerResponse): void => {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (o.isolate) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    const send = (code: number, text: string, extra: Record<string, string> = {}): void => {
      res.writeHead(code, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') { send(405, 'method not allowed', { Allow: 'GET, HEAD' }); return; }
    const path = (req.url ?? '/').split(/[?#]/)[0]!;
    if (path === '/' || path === '/demo') { send(302, 'see /demo/', { Location: '/demo/' }); return; }
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    const file = mount ? fileUnder(mount[1], path.slice(mount[0].length)) : null;
    if (!file) { send(404, `not found: ${path}`); return; }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': String(statSync(file).size) });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };
}

/** Starts the server; resolves with it and its URL once it listens (rejects with a FliqsError when it cannot). */
export function startServer(o: ServeOptions): Promise<{ server: Server; url: string }> {
  const server = createServer(handler(o));
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new FliqsError('--port', `${o.host}:${o.port} cannot be listened on (${e.code ?? e.message})`,
      'a free port (--port 0 picks one)')));
    server.listen(o.port, o.host, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : o.port;
      ok({ server, url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/` });
    });
  });
}

/** Parses `fliqs serve` flags (UsageError / FliqsError for bad ones). */
export function serveOptions(args: readonly string[]): ServeOptions {
  const f = parseFlags(args, SERVE_FLAGS);
  const dir = resolve(f.dir ?? DEMO_DIR);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FliqsError('--dir', `${dir} is not a folder`, 'a folder with an index.html (default: the package\'s demo/)');
  if (!existsSync(join(DIST_DIR, 'index.js'))) throw new UsageError(`${DIST_DIR} has no index.js: build the package first (npm run build)`);
  return { port: f.port!, host: f.host!, dir, isolate: f.isolate };
}

/**
 * `fliqs serve [--port N] [--dir DIR] [--no-isolate]`: serves until interrupted (Ctrl-C); 2 for bad flags, 1 when the
 * port cannot be listened on.
 */
export async function runServe(args: string[], io: Io = processIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage('serve', SUMMARY, SERVE_FLAGS)); return 0; }
  let o: ServeOptions;
  try {
    o = serveOptions(args);
  } catch (e) {
    return usageFailure('serve', e, io);
  }
  let started: { server: Server; url: string };
  try {
    started = await startServer(o);
  } catch (e) {
    io.err(`fliqs serve: ${(e as Error).message}\n`);
    return 1;
  }
  io.out(`fliqs serve: ${started.url}demo/ (demo ${o.dir}, library ${DIST_DIR}; ${o.isolate ? 'cross-origin isolated: threads available' : 'not isolated: pages run on one thread'}); Ctrl-C stops\n`);
  return new Promise<number>((done) => {
    const stop = (): void => { started.server.close(() => done(0)); started.server.closeAllConnections(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
