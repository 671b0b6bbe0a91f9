// The code a pool worker thread runs, as source text (so it needs no file of its own: workers.ts starts it,
// as a data: URL module in Node, from a Blob URL in a browser). It instantiates the runtime's compiled module over the
// runtime's shared memory, then waits for tasks in its slot of the pool's control block
// (src/kernels/threads.ts) and runs each: one wasm export called with numeric arguments.
// Nothing here may refer to anything outside workerMain: only its text reaches the worker.

/** Layout of one worker's slot in the control block, in Int32 units; arguments are f64 from ARGS_F64 on. */
export const SLOT = {
  /** Int32s per slot (2048 bytes). */
  size: 512,
  /** Task sequence number: the pool bumps it to post a task. */
  seq: 0,
  /** The worker writes the seq it finished here. */
  done: 1,
  /** 0 ok, 1 the task threw (message in msg), 2 the worker could not start. */
  status: 2,
  /** 1 once the worker has instantiated the module. */
  ready: 3,
  /** 1 asks the worker to exit. */
  quit: 4,
  /** Index of the export to call, in the sorted list of exported function names. */
  fn: 5,
  nargs: 6,
  /** Microseconds a worker spins on seq after a task before it sleeps. */
  spinUs: 7,
  /** First f64 of the arguments (Float64Array index within the slot: int index 16). */
  args: 16,
  maxArgs: 24,
  /** Message characters (one per Int32) and their count. */
  msgLen: 64,
  msg: 65,
  maxMsg: 446,
} as const;

export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  slot: number;
  scratch: number;
  layout: typeof SLOT;
}

/** The worker's whole program. */
function workerMain(init: WorkerInit): void {
  const L = init.layout;
  const c = new Int32Array(init.ctrl), f = new Float64Array(init.ctrl);
  const base = init.slot * L.size, fbase = (base + L.args) / 2;
  const report = (status: number, e: unknown): void => {
    const text = String(e instanceof Error ? e.message : e).slice(0, L.maxMsg);
    for (let i = 0; i < text.length; i++) c[base + L.msg + i] = text.charCodeAt(i);
    c[base + L.msgLen] = text.length;
    c[base + L.status] = status;
  };
  let fns: Array<(...a: number[]) => unknown>;
  try {
    const inst = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    const ex = inst.exports as Record<string, unknown>;
    (ex['set_thread_scratch'] as (p: number) => void)(init.scratch);
    fns = Object.keys(ex).filter((k) => typeof ex[k] === 'function').sort().map((k) => ex[k] as (...a: number[]) => unknown);
  } catch (e) {
    report(2, e);
    Atomics.store(c, base + L.ready, 1);
    Atomics.notify(c, base + L.ready);
    return;
  }
  Atomics.store(c, base + L.ready, 1);
  Atomics.notify(c, base + L.ready);
  let seen = 0;
  for (;;) {
    // Spin briefly first: back-to-back kernel calls then find this worker awake (a wake-up costs 10–30 µs).
    const until = performance.now() + c[base + L.spinUs]! / 1000;
    while (Atomics.load(c, base + L.seq) === seen && performance.now() < until);
    while (Atomics.load(c, base + L.seq) === seen) Atomics.wait(c, base + L.seq, seen);
    seen = Atomics.load(c, base + L.seq);
    if (Atomics.load(c, base + L.quit)) return;
    try {
      const n = c[base + L.nargs]!, args: number[] = [];
      for (let i = 0; i < n; i++) args.push(f[fbase + i]!);
      fns[c[base + L.fn]!]!(...args);
      c[base + L.status] = 0;
    } catch (e) {
      report(1, e);
    }
    Atomics.store(c, base + L.done, seen);
    Atomics.notify(c, base + L.done);
  }
}

/** The worker's program as the text of a function of its WorkerInit, started by workers.ts (spawnWorker). */
export const WORKER_MAIN_SOURCE = workerMain.toString();
