// The PyTorch CPU peer of the training benchmark, seen from node: finds a python that imports torch and
// runs bench/torch-training.py --serve on our batches (sent on stdin), checking its architecture against
// ours, and times its windows on request.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./torch-training.py', import.meta.url));
// One thread everywhere (OpenMP, MKL/OpenBLAS) besides torch.set_num_threads(1) in the script; envFor(n) for n threads.
const envFor = (n) => ({ ...process.env, OMP_NUM_THREADS: String(n), MKL_NUM_THREADS: String(n), OPENBLAS_NUM_THREADS: String(n) });
const ENV = envFor(1);

/** What differs between ours and the PyTorch peer beyond the engine (saved with the results). */
export const TORCH_NOTES = [
  'Same layers, shapes, padding, strides, batch-norm (eps 1e-5, momentum 0.1), loss (mean cross-entropy) and step (SGD lr 0.01, momentum 0.9, no weight decay); checked per conv/linear layer by kind, MACs and weight count against describeModel(). Initialisation differs (irrelevant to speed).',
  'PyTorch runs its tensors channels_last by default (BENCH_TORCH_LAYOUT=nchw for contiguous NCHW), ours NHWC; PyTorch\'s flatten before the first linear layer of cnn/lenet5 still orders features C, H, W, a permutation of that layer\'s weight rows (same MACs).',
  'INT8 QAT as ours: weights per output channel with clip = that channel\'s absmax recomputed at every forward (torch.fake_quantize_per_channel_affine), inputs per tensor with clip = 3·std profiled over 2 training steps then fixed (torch.fake_quantize_per_tensor_affine), symmetric [-127, 127] grid, ties to even, clip-aware straight-through gradient. PyTorch\'s gradient mask keeps |x| < 127.5·scale, ours |x| ≤ 127·scale (half a step apart; no effect on speed). PyTorch computes the per-channel scales with separate ops (abs, amax, where, div) before each fake-quant.',
  'Debian\'s python3-torch is built with BLAS_INFO=generic, i.e. the system libblas (the netlib reference BLAS unless OpenBLAS is installed): with it F.linear (aten::addmm/mm) took about half of lenet5\'s step, so by default (BENCH_TORCH_LINEAR=conv) the peer computes each linear layer as the same product written as a 1×1 convolution, which runs in oneDNN. A PyTorch wheel with MKL would not need this.',
  'Both sides read the loss and count the correct predictions every step; PyTorch gets its batches as ready tensors, ours copies each batch into wasm memory (Tensor.from) inside the timed step.',
];

/**
 * The first python that imports torch: `preferred` (BENCH_PYTHON) alone if given, else `python3` then
 * /usr/bin/python3 (Debian's python3-torch installs for the system python, not a pyenv one).
 * @returns {{ available: true, python: string, version: string } | { available: false, tried: Array<{ python: string, error: string }> }}
 */
export function findTorch(preferred) {
  const tried = [];
  for (const python of preferred ? [preferred] : ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: ENV, timeout: 120_000 });
    if (r.status === 0) return { available: true, python, version: r.stdout.trim() };
    tried.push({ python, error: (r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`).slice(0, 200) });
  }
  return { available: false, tried };
}

/**
 * The intra-op thread count torch picks by itself (no *_NUM_THREADS variables, no set_num_threads) with
 * `python`, or null when the probe fails.
 */
export function torchDefaultThreads(python) {
  const env = { ...process.env };
  for (const k of ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS']) delete env[k];
  const r = spawnSync(python, ['-c', 'import torch; print(torch.get_num_threads())'], { encoding: 'utf8', env, timeout: 120_000 });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && Number.isInteger(n) && n > 0 ? n : null;
}

/** Batches as torch-training.py reads them: u32 count, u32 batch, then per batch f32 NHWC images and i32 labels. */
function encodeBatches(all, batch, shape) {
  const per = batch * shape[0] * shape[1] * shape[2];
  const buf = Buffer.alloc(8 + all.length * 4 * (per + batch));
  buf.writeUInt32LE(all.length, 0);
  buf.writeUInt32LE(batch, 4);
  let off = 8;
  for (const b of all) {
    if (b.size !== batch || b.images.length !== per) throw new Error(`torch peer: batch of ${b.size} images, expected full batches of ${batch}`);
    Buffer.from(b.images.buffer, b.images.byteOffset, per * 4).copy(buf, off); off += per * 4;
    Buffer.from(Int32Array.from(b.labels).buffer).copy(buf, off); off += batch * 4;
  }
  return buf;
}

/** Differences between the peer's conv/linear layers and ours ([] when they match). */
function archDiff(theirs, ours, theirParams, ourParams) {
  const out = [];
  if (theirParams !== ourParams) out.push(`${theirParams} trainable parameters, ours ${ourParams}`);
  if (theirs.length !== ours.length) out.push(`${theirs.length} conv/linear layers, ours ${ours.length}`);
  ours.forEach((o, i) => {
    const [kind, macs, params] = theirs[i] ?? [];
    const k = o.kind === 'depthwise' ? 'conv' : o.kind;
    if (kind !== k || macs !== o.macs || params !== o.params) out.push(`layer ${i} (${o.name}): pytorch ${kind} ${macs} MACs ${params} weights, ours ${k} ${o.macs} MACs ${o.params} weights`);
  });
  return out;
}

/**
 * A running bench/torch-training.py --serve holding our batches: setup() builds, profiles and warms one
 * model × mode, window() times one window, so the bench can alternate PyTorch's windows with ours.
 * @example
 * const peer = await TorchPeer.start(torch, next.all, { batch: 64, shape: [28, 28, 1], timeMs: 1500, lr: 0.01, linear: 'conv', layout: 'nhwc' });
 * const info = await peer.setup('cnn', 'fp32', { layers: describeModel(m), params });
 * const { imgPerS, imgPerCpuS } = await peer.window(1500);
 * peer.close();
 */
export class TorchPeer {
  static async start(torch, batches, { batch, shape, timeMs, lr, linear, layout, threads = 1 }) {
    const args = [SCRIPT, '--serve', '--time-ms', String(timeMs), '--lr', String(lr), '--shape', shape.join(','), '--linear', linear, '--layout', layout,
      '--threads', String(threads)];
    const peer = new TorchPeer(spawn(torch.python, args, { env: envFor(threads), stdio: ['pipe', 'pipe', 'pipe'] }));
    peer.child.stdin.write(encodeBatches(batches, batch, shape));
    await peer.reply();
    return peer;
  }

  constructor(child) {
    this.child = child;
    this.lines = [];
    this.waiting = null;
    this.stderr = '';
    this.exited = null;
    createInterface({ input: child.stdout }).on('line', (l) => { this.lines.push(l); this.wake(); });
    child.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-2000); });
    child.on('error', (e) => { this.exited = e.message; this.wake(); });
    child.on('exit', (code) => { this.exited ??= `exited with ${code}: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`; this.wake(); });
  }

  wake() {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  /** The next JSON line from the peer (rejects when it has died). */
  async reply() {
    while (this.lines.length === 0) {
      if (this.exited) throw new Error(`PyTorch peer ${this.exited}`);
      await new Promise((resolve) => { this.waiting = resolve; });
    }
    return JSON.parse(this.lines.shift());
  }

  async request(req) {
    this.child.stdin.write(JSON.stringify(req) + '\n');
    return this.reply();
  }

  /**
   * Builds `name` in `mode` ('fp32' | 'int8'), profiles and warms it up; returns the peer's facts.
   * Throws when its architecture differs from ours ({ layers: describeModel(), params: trainable
   * element count }): a wrong peer must not give a ratio.
   */
  async setup(name, mode, ours) {
    const out = await this.request({ cmd: 'setup', model: name, mode });
    const diff = archDiff(out.layers, ours.layers, out.params, ours.params);
    if (diff.length) throw new Error(`PyTorch peer of ${name} differs from ours: ${diff.join('; ')}`);
    return { torch: out.torch, pythonVersion: out.python, threads: out.threads, mkldnn: out.mkldnn, blas: out.blas, linear: out.linear, layout: out.layout };
  }

  /** { imgPerS, imgPerCpuS } (by wall time, by the process's CPU time) of one window of at least `minMs` and 2 steps. */
  async window(minMs) {
    const { imgPerS, imgPerCpuS } = await this.request({ cmd: 'window', minMs, minSteps: 2 });
    return { imgPerS, imgPerCpuS };
  }

  close() {
    if (!this.exited) this.child.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
  }
}
