// Threads under the kernels. Each runtime whose memory is shared gets a pool of worker threads, each with its
// own instance of the runtime's module over that memory (its own staging scratch, thread-worker.ts), and
// every parallel kernel call goes through one door, runTasks: task 0 runs on the calling thread, task i on
// worker i, and the call returns when all have finished. A kernel wrapper splits its work into tasks whose
// outputs do not overlap and whose per-element arithmetic is the single-thread kernel's (splitRange), so
// results are bit-identical for any thread count.
//
// The calling thread posts a task by bumping its worker's sequence number in a control block (a
// SharedArrayBuffer apart from the wasm memory) and notifying; workers spin briefly, then sleep in
// Atomics.wait. Only the calling thread allocates or grows memory, and never while tasks run. Workers are
// unref'd: an idle pool never keeps a Node process alive.

import { FliqsError, describe } from '../core/errors.js';
import { Runtime, runtime, type WasmExports } from '../core/runtime.js';
import { SLOT, WORKER_MAIN_SOURCE, type WorkerInit } from './thread-worker.js';
import { canSpawnWorkers, spawnWorker, type StartedWorker } from './workers.js';

/** One call of a wasm export on one thread. */
export interface Task {
  kernel: keyof WasmExports;
  args: readonly number[];
}

type WorkerFactory = (init: WorkerInit) => StartedWorker;

const isNode = Boolean((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node);
/** Node's core count and environment (node-threads.ts), loaded only in Node. */
const node = isNode ? await import('./node-threads.js') : null;

/** How this engine starts a pool worker (workers.ts: node:worker_threads in Node, a Blob-URL Worker in browsers). */
const startWorker: WorkerFactory | null = canSpawnWorkers() ? (init) => spawnWorker(WORKER_MAIN_SOURCE, init)! : null;

/** Logical cores of this machine (1 when the engine does not say). */
export function availableCores(): number {
  if (node) return node.nodeCores();
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const n = nav?.hardwareConcurrency;
  return Number.isInteger(n) && n! > 0 ? n! : 1;
}

const MAX_THREADS = 256;
/**
 * How long an idle worker spins before it sleeps in Atomics.wait, and how long the caller spins waiting for
 * workers before it sleeps (µs). Measured on the 2-core machine: a sleeping thread woke 10–30 µs after its
 * notify when a core was free, and a spinning caller whose worker shared its core (another process on the
 * other) delayed that worker by a whole scheduler slice, ~6 ms per call. Short spins catch back-to-back
 * calls and evenly split tasks; anything longer sleeps.
 */
const WORKER_SPIN_US = 100;
const CALLER_SPIN_US = 50;
/** How long the caller waits for a new pool's workers to start before running without them. */
const START_TIMEOUT_MS = 10000;

/** FLIQS_THREADS, or null when unset; a bad value is ignored with a one-line warning (this runs at import). */
function envThreads(): number | null {
  const v = node?.threadsFromEnv();
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    console.warn(`fliqs: FLIQS_THREADS=${JSON.stringify(v)} ignored: expected an integer from 1 to ${MAX_THREADS}`);
    return null;
  }
  return n;
}

let wanted = envThreads() ?? availableCores();

/**
 * Sets how many threads the kernels use (the calling thread included): 1 runs everything on the calling
 * thread. The default is the number of cores (or FLIQS_THREADS). Results are the same for any count.
 * Workers start on the next kernel call that can use them; pools of another size are stopped now.
 * @example
 * import { setThreads } from 'fliqs';
 * setThreads(1); // single-threaded from here on
 */
export function setThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new FliqsError('threads', `got ${describe(n)}`, `an integer from 1 to ${MAX_THREADS}`);
  }
  wanted = n;
  for (const p of live) if (p.workers.length !== n - 1) p.stop();
}

/** The thread count set by setThreads (or the default). */
export function getThreads(): number {
  return wanted;
}

/**
 * Why kernels on rt (default: the default runtime) run on one thread although more may be asked for, or null
 * when they can use threads.
 * @example
 * import { singleThreadReason } from 'fliqs';
 * const why = singleThreadReason(); // null in Node; a reason on a page without cross-origin isolation
 */
export function singleThreadReason(rt: Runtime = runtime): string | null {
  if (!(rt instanceof Runtime)) throw new FliqsError('rt', `got ${describe(rt)}`, 'a Runtime (from createRuntime), or nothing for the default one');
  if (!rt.shared) return 'the WebAssembly memory cannot be shared here (a page needs cross-origin isolation: COOP/COEP headers)';
  if (!startWorker) return 'this engine has no Worker';
  return null;
}

class Pool {
  readonly ctrl: SharedArrayBuffer;
  readonly c: Int32Array;
  readonly f: Float64Array;
  readonly workers: StartedWorker[] = [];
  /** Arena scratch of workers beyond the static slots. */
  private readonly scratch: number[] = [];
  private seq = 0;
  stopped = false;

  constructor(readonly rt: Runtime, n: number) {
    this.ctrl = new SharedArrayBuffer(Math.max(1, n) * SLOT.size * 4);
    this.c = new Int32Array(this.ctrl);
    this.f = new Float64Array(this.ctrl);
    const bytes = rt.kernels.thread_scratch_bytes(), statics = rt.kernels.static_slots();
    try {
      for (let i = 0; i < n; i++) {
        // workers 1… of the first static_slots() use static scratch; more take arena blocks (freed in stop())
        let scratch: number;
        if (i + 1 < statics) scratch = rt.kernels.worker_scratch(i + 1);
        else this.scratch.push(scratch = rt.arena.alloc(bytes));
        this.c[i * SLOT.size + SLOT.spinUs] = WORKER_SPIN_US;
        const w = startWorker!({ module: rt.module, memory: rt.memory, ctrl: this.ctrl, slot: i, scratch, layout: SLOT });
        w.unref();
        this.workers.push(w);
      }
    } catch (e) {
      this.stop();
      throw new FliqsError('threads', `could not start ${n} worker threads: ${e instanceof Error ? e.message : String(e)}`, 'fewer threads (setThreads)');
    }
  }

  /** Whether the first ready() has waited already: a worker that did not start by then is not waited for again. */
  private waited = false;

  /**
   * Workers that have started (the first call waits for them up to START_TIMEOUT_MS where the thread may block;
   * later calls do not wait: a browser worker's nested workers start only while its event loop runs, see
   * startThreads).
   */
  ready(): number {
    const deadline = this.waited ? 0 : Date.now() + START_TIMEOUT_MS;
    this.waited = true;
    let n = 0;
    for (let i = 0; i < this.workers.length; i++) {
      const at = i * SLOT.size + SLOT.ready;
      while (Atomics.load(this.c, at) === 0 && canBlock && Date.now() < deadline) Atomics.wait(this.c, at, 0, 50);
      if (Atomics.load(this.c, at) === 0) break;
      if (this.c[i * SLOT.size + SLOT.status] === 2) {
        const msg = this.message(i);
        this.stop();
        throw new FliqsError('threads', `worker ${i + 1} could not instantiate the module: ${msg}`, 'setThreads(1), or an engine with WebAssembly threads');
      }
      n++;
    }
    return n;
  }

  /** Whether every worker has reported (started, or failed to). */
  allReported(): boolean {
    return this.workers.every((_, i) => Atomics.load(this.c, i * SLOT.size + SLOT.ready) !== 0);
  }

  private message(i: number): string {
    const b = i * SLOT.size, len = this.c[b + SLOT.msgLen]!;
    return String.fromCharCode(...this.c.subarray(b + SLOT.msg, b + SLOT.msg + len));
  }

  /**
   * Posts tasks[1..] to workers 0.., runs tasks[0] here, waits for all; a failure anywhere throws after all
   * finished. Tasks are checked before any is posted.
   */
  run(tasks: readonly Task[], names: readonly string[]): void {
    const fns = tasks.map((t) => {
      if (t.args.length > SLOT.maxArgs) throw new FliqsError('task', `${t.kernel} with ${t.args.length} arguments`, `at most ${SLOT.maxArgs}`);
      return indexOf(names, t.kernel);
    });
    const seq = ++this.seq;
    for (let i = 1; i < tasks.length; i++) {
      const t = tasks[i]!, b = (i - 1) * SLOT.size;
      this.c[b + SLOT.fn] = fns[i]!;
      this.c[b + SLOT.nargs] = t.args.length;
      const fb = (b + SLOT.args) / 2;
      for (let k = 0; k < t.args.length; k++) this.f[fb + k] = t.args[k]!;
      Atomics.store(this.c, b + SLOT.seq, seq);
      Atomics.notify(this.c, b + SLOT.seq);
    }
    let own: unknown = null;
    try {
      call(this.rt, tasks[0]!);
    } catch (e) {
      own = e;
    }
    const failed: string[] = [];
    for (let i = 1; i < tasks.length; i++) {
      const b = (i - 1) * SLOT.size, at = b + SLOT.done;
      const until = performance.now() + CALLER_SPIN_US / 1000;
      while (Atomics.load(this.c, at) !== seq && performance.now() < until);
      while (Atomics.load(this.c, at) !== seq) {
        if (canBlock) Atomics.wait(this.c, at, Atomics.load(this.c, at), 100);
      }
      if (this.c[b + SLOT.status] !== 0) failed.push(`worker ${i} (${tasks[i]!.kernel}): ${this.message(i - 1)}`);
    }
    if (own) throw own;
    if (failed.length) {
      this.stop();
      throw new FliqsError('threads', `a worker thread failed: ${failed.join('; ')}`, 'kernel calls that succeed on one thread (the pool restarts on the next call)');
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    if (pools.get(this.rt) === this) pools.delete(this.rt);
    for (let i = 0; i < this.workers.length; i++) {
      const b = i * SLOT.size;
      Atomics.store(this.c, b + SLOT.quit, 1);
      Atomics.add(this.c, b + SLOT.seq, 1);
      Atomics.notify(this.c, b + SLOT.seq);
      this.workers[i]!.terminate();
    }
    // No task is in flight when a pool stops (run() returns only after every task finished), so no worker
    // touches its scratch again.
    for (const p of this.scratch.splice(0)) this.rt.arena.free(p);
  }
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
const canBlock = (() => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

const pools = new WeakMap<Runtime, Pool>();
const live = new Set<Pool>();
const namesOf = new WeakMap<Runtime, string[]>();

function exportNames(rt: Runtime): string[] {
  let n = namesOf.get(rt);
  if (!n) {
    const ex = rt.kernels as unknown as Record<string, unknown>;
    n = Object.keys(ex).filter((k) => typeof ex[k] === 'function').sort();
    namesOf.set(rt, n);
  }
  return n;
}

function indexOf(names: readonly string[], kernel: string): number {
  const i = names.indexOf(kernel);
  if (i < 0) throw new FliqsError('task', `unknown kernel ${describe(kernel)}`, 'a function exported by the fliqs module');
  return i;
}

function call(rt: Runtime, t: Task): void {
  const fn = (rt.kernels as unknown as Record<string, (...a: number[]) => unknown>)[t.kernel];
  if (typeof fn !== 'function') throw new FliqsError('task', `unknown kernel ${describe(t.kernel)}`, 'a function exported by the fliqs module');
  fn(...t.args);
}

let noticed = false;

/** The running pool of rt, started (or restarted at the wanted size) when threads are wanted and possible. */
function poolOf(rt: Runtime): Pool | null {
  if (wanted <= 1) return null;
  const why = singleThreadReason(rt);
  if (why) {
    if (!noticed) { noticed = true; console.info(`fliqs: running on one thread: ${why}`); }
    return null;
  }
  let p = pools.get(rt);
  if (p && p.workers.length !== wanted - 1) { p.stop(); p = undefined; }
  if (!p) {
    p = new Pool(rt, wanted - 1);
    pools.set(rt, p);
    live.add(p);
  }
  return p;
}

/**
 * How many threads a kernel call on rt can use right now (1 + started workers): the number of tasks to
 * split into. Starts the pool when needed.
 */
export function threadsFor(rt: Runtime): number {
  const p = poolOf(rt);
  return p ? 1 + p.ready() : 1;
}

/**
 * Starts rt's pool now (when threads are wanted and possible) and waits for its workers without blocking: the
 * event loop runs meanwhile. A browser worker must call this before its first kernel call, because the workers
 * it starts (nested workers) come up only while its own event loop runs, and a kernel call blocks it. Resolves
 * with the threads the kernels will use.
 * @example
 * import { startThreads } from 'fliqs';
 * await startThreads(); // in a Web Worker, before training
 */
export async function startThreads(rt: Runtime = runtime): Promise<number> {
  if (!(rt instanceof Runtime)) throw new FliqsError('rt', `got ${describe(rt)}`, 'a Runtime (from createRuntime), or nothing for the default one');
  const p = poolOf(rt);
  if (!p) return 1;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!p.allReported() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return threadsFor(rt);
}

/**
 * Runs tasks[0] on this thread and tasks[i] on worker i, returning when all have finished. tasks.length must
 * be at most threadsFor(rt). The tasks must write disjoint memory. A task that throws in a worker becomes a
 * FliqsError here (after every task finished) and the pool is stopped; the next call starts a new one.
 */
export function runTasks(rt: Runtime, tasks: readonly Task[]): void {
  if (tasks.length === 0) return;
  if (tasks.length === 1) { call(rt, tasks[0]!); return; }
  const p = pools.get(rt);
  if (!p || p.stopped || tasks.length - 1 > p.workers.length) {
    throw new FliqsError('tasks', `${tasks.length} tasks`, `at most threadsFor(rt) = ${threadsFor(rt)} tasks`);
  }
  p.run(tasks, exportNames(rt));
}

let minTaskMacs = 1 << 18;

/**
 * Multiply-adds below which a task is not worth a thread: kernel wrappers give each task at least this much
 * work (an element of a memory-bound kernel counts 8, rangeTasks). Measured by scripts/thread-threshold.mjs
 * on the 2-core machine: a 2-thread GEMM broke even at 64³ (2¹⁷ per task) and gained 1.32× at 96³, 1.58× at
 * 128³; ReLU broke even at 65536 elements (2¹⁵ per task) and gained 1.42× at 131072. Tests lower it to split
 * small problems.
 */
export function minTaskWork(): number {
  return minTaskMacs;
}

/** Sets minTaskWork (≥ 1); returns the previous value. */
export function setMinTaskWork(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new FliqsError('minTaskWork', `got ${describe(n)}`, 'a positive integer');
  const old = minTaskMacs;
  minTaskMacs = n;
  return old;
}

/**
 * Tasks over [0, n) split in contiguous ranges for elementwise-like kernels: boundaries on multiples of
 * `align` (default 16 elements, one cache line of f32s, so no two threads write one line and SIMD/tail
 * positions stay those of the whole call) and at least minTaskWork()/8 work units per task, an element
 * costing `cost` units (default 1).
 */
export function rangeTasks(rt: Runtime, n: number, build: (start: number, end: number) => Task,
  opts: { align?: number; cost?: number } = {}): Task[] {
  const minElems = Math.ceil((minTaskMacs >> 3) / Math.max(1, opts.cost ?? 1));
  const parts = n > minElems ? splitRange(n, threadsFor(rt), opts.align ?? 16, minElems) : [[0, n] as [number, number]];
  return parts.map(([a, b]) => build(a, b));
}

/** Stops every pool (their workers exit). Kernel calls after this start new ones as needed. */
export function stopThreads(): void {
  for (const p of [...live]) p.stop();
}

/**
 * Splits [0, total) into at most `parts` contiguous ranges whose boundaries are multiples of `align`, each at
 * least `minSize` long (fewer, larger ranges when the work is small). Returns [start, end) pairs in order.
 */
export function splitRange(total: number, parts: number, align = 1, minSize = 1): Array<[number, number]> {
  const units = Math.ceil(total / align);
  const byMin = Math.max(1, Math.floor(total / Math.max(minSize, 1)));
  const n = Math.max(1, Math.min(parts, units, byMin));
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = i === n - 1 ? total : Math.min(total, Math.round((total * (i + 1)) / n / align) * align);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}
