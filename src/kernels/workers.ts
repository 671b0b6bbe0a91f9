// How this engine starts a worker: the one mechanism behind the kernels' thread pool (threads.ts) and the
// search worker (src/worker/start.ts). A worker runs a program given as the source text of a function
// `(init, port) => …`: Node starts it with node:worker_threads from a data: URL module (node-threads.ts), a
// browser from a Blob URL (a classic or a module Worker), the init then arriving as the first message. The
// program talks back through `port` ({ post(message, transfer?), listen(fn) }), the same in both engines.
// Nothing in a program may refer to anything outside its own text.

const isNode = Boolean((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node);
/** Node's worker start (node-threads.ts), loaded only in Node. */
const node = isNode ? await import('./node-threads.js') : null;

/** A started worker, the same surface in Node and browsers. */
export interface StartedWorker {
  post(message: unknown, transfer?: Transferable[]): void;
  /** Calls fn with each message the program posts. */
  onMessage(fn: (message: unknown) => void): void;
  /** Calls fn once when the worker fails to load, throws outside the program's own handling, or exits unasked. */
  onError(fn: (message: string) => void): void;
  terminate(): void;
  /** Node: an idle worker does not keep the process alive. */
  unref(): void;
}

export interface SpawnOptions {
  /** Browsers: start a module Worker (the program may use import()); default a classic one. Node always runs a module. */
  module?: boolean;
}

interface BrowserWorker {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, fn: (e: { data?: unknown; message?: string }) => void): void;
  terminate(): void;
}
type BrowserWorkerClass = new (url: string, opts?: { type?: 'classic' | 'module' }) => BrowserWorker;

/** The browser's Worker and Blob URLs, or null. */
const browser = (() => {
  if (node) return null;
  const W = (globalThis as { Worker?: BrowserWorkerClass }).Worker;
  if (typeof W !== 'function' || typeof Blob !== 'function' || typeof URL?.createObjectURL !== 'function') return null;
  return W;
})();

/** Whether this engine can start workers at all. */
export function canSpawnWorkers(): boolean {
  return node !== null || browser !== null;
}

/** The source a browser Worker runs: the init arrives as the first message, later ones go to the program's listeners. */
function browserSource(program: string): string {
  return `self.addEventListener('message', (e) => {
  const port = { post: (m, t) => self.postMessage(m, t || []), listen: (fn) => self.addEventListener('message', (ev) => fn(ev.data)) };
  (${program})(e.data, port);
}, { once: true });
`;
}

const blobUrls = new Map<string, string>();

/**
 * Starts a worker running `program` (the text of a function (init, port) => …) on `init` (structured-cloned),
 * or returns null when this engine has no workers. Throws what the engine throws when it refuses to start one.
 */
export function spawnWorker(program: string, init: unknown, opts: SpawnOptions = {}): StartedWorker | null {
  if (node) return node.startNodeWorker(program, init);
  if (!browser) return null;
  const type = opts.module ? 'module' : 'classic';
  const key = `${type}\n${program}`;
  let url = blobUrls.get(key);
  if (!url) {
    url = URL.createObjectURL(new Blob([browserSource(program)], { type: 'text/javascript' }));
    blobUrls.set(key, url);
  }
  const w = new browser(url, { type });
  let failed: ((m: string) => void) | null = null, said = false;
  const fail = (m: string): void => { if (!said && failed) { said = true; failed(m); } };
  w.addEventListener('error', (e) => fail(e.message || 'the worker could not load its program (module workers unsupported, or a blocked URL)'));
  w.addEventListener('messageerror', () => fail('a message from the worker could not be read'));
  w.postMessage(init);
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (fn) => w.addEventListener('message', (e) => fn(e.data)),
    onError: (fn) => { failed = fn; },
    terminate: () => w.terminate(),
    unref: () => {},
  };
}
