// startSearch in Node: the search in a worker thread gives the synchronous Search's result bit for bit (and the
// same exported model bytes), reports every step in order, pauses, stops early with the result so far (again
// the synchronous search's after as many steps), and turns every failure into a FliqsError — before a worker
// starts for bad options, as a rejected `result` for what only the search can find. The library is the built
// one (dist/): the worker imports dist/worker/run.js, as a user's would.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const lib = await import(new URL('../dist/index.js', import.meta.url).href) as typeof import('../src/index.js');
const { FliqsError, Search, createModel, exportModel, encodeModel, syntheticSplits, startSearch } = lib;
type Options = Parameters<typeof startSearch>[0];

const data = syntheticSplits({ shape: [8, 8, 1], classes: 4, train: 512, validation: 128, test: 128 });
const base = {
  model: 'cnn', width: 0.5, space: 'int-s', target: '0.5xINT8', threads: 1,
  train: { epochs: 2, batchSize: 16, optimizer: 'sgd' as const, lr: 0.05, seed: 7, maxSteps: 48 },
};

/** The synchronous search for the same options, run for `steps` steps (all when undefined). */
function syncSearch(o: typeof base & { data: typeof data }, steps?: number) {
  const model = createModel(o.model, { width: o.width, inputShape: o.data.train.shape, classes: o.data.train.classes, seed: o.train.seed });
  const s = new Search(model, o.data, { space: o.space, target: o.target, train: o.train });
  let n = 0;
  for (const _ of s.run()) if (++n === steps) break;
  const result = s.result();
  const bytes = encodeModel(exportModel(model, result.layers.map((l) => l.format), {
    info: { model: o.model, width: o.width, inputShape: o.data.train.shape, classes: o.data.train.classes,
      source: { from: 'startSearch', accuracy: result.test.accuracy, bops: result.bops, steps: result.steps } },
  }));
  s.dispose();
  return { result, bytes };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected a rejection');
}

function syncError(f: () => unknown): Error {
  try { f(); } catch (e) { return e as Error; }
  throw new Error('expected an error');
}

describe('startSearch (Node worker thread)', () => {
  it('gives the synchronous Search\'s result and model bytes, bit for bit, with every step reported in order', async () => {
    const h = startSearch({ ...base, data });
    const started: unknown[] = [], steps: number[] = [], phases: string[] = [];
    h.on('start', (i) => started.push(i));
    h.on('progress', (p) => { steps.push(...p.steps.map((s) => s.step)); if (phases.at(-1) !== p.phase) phases.push(p.phase); });
    const out = await h.result;
    const sync = syncSearch({ ...base, data });
    expect(JSON.stringify(out.result)).toBe(JSON.stringify(sync.result));
    expect(out.model).toEqual(sync.bytes);
    expect(out.exportError).toBeNull();
    expect(out.stopped).toBe(false);
    expect(h.state).toBe('done');
    expect(started).toHaveLength(1);
    expect(steps).toEqual(Array.from({ length: 48 }, (_, i) => i));
    expect(phases).toEqual(['warmup', 'calibration', 'search', 'evaluating', 'exporting', 'done']);
  });

  it('loads a built-in dataset by name inside the worker', async () => {
    const o = { ...base, train: { ...base.train, maxSteps: 24 } };
    const out = await startSearch({ ...o, data: { name: 'synthetic', validation: 100 } }).result;
    const { loadDataset } = await import(new URL('../dist/node.js', import.meta.url).href) as typeof import('../src/node.js');
    expect(JSON.stringify(out.result)).toBe(JSON.stringify(syncSearch({ ...o, data: loadDataset('synthetic', { validation: 100 }) as typeof data }).result));
  });

  it('gives no model, and says why, for a model the export does not cover yet', async () => {
    const small = syntheticSplits({ shape: [16, 16, 1], classes: 4, train: 128, validation: 32, test: 32 });
    const out = await startSearch({ ...base, model: 'vit-tiny', width: 0.25, data: small, train: { ...base.train, maxSteps: 12 } }).result;
    expect(out.model).toBeNull();
    expect(out.exportError).toMatch(/^model: contains a VitTiny, which cannot be exported yet/);
    expect(out.result.steps).toBe(12);
  });

  it('pauses between steps, and stop() ends early with the result after the steps taken', async () => {
    const h = startSearch({ ...base, data, progressMs: 0, train: { ...base.train, maxSteps: 400 } });
    let seen = 0, paused = false;
    const counts: number[] = [];
    h.on('progress', (p) => {
      seen += p.steps.length;
      if (!paused && seen >= 5) { paused = true; h.pause(); }
    });
    while (!paused) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 150)); // a step in flight may still arrive
    counts.push(seen);
    await new Promise((r) => setTimeout(r, 300));
    counts.push(seen);
    expect(h.state).toBe('paused');
    expect(counts[1]).toBe(counts[0]); // nothing moved while paused
    h.resume();
    while (seen < counts[1]! + 5) await new Promise((r) => setTimeout(r, 5));
    h.stop();
    const out = await h.result;
    expect(out.stopped).toBe(true);
    expect(out.result.steps).toBeLessThan(400);
    expect(out.result.steps).toBeGreaterThanOrEqual(counts[1]! + 5);
    const sync = syncSearch({ ...base, data, train: { ...base.train, maxSteps: 400 } }, out.result.steps);
    expect(JSON.stringify(out.result)).toBe(JSON.stringify(sync.result));
  });

  it('throws a FliqsError for bad options before any worker starts', () => {
    const bad: Array<[Partial<Options>, RegExp]> = [
      [{ model: 'resnet9' }, /^model: "resnet9" is not a zoo model/],
      [{ width: 0 }, /^width: got 0/],
      [{ target: -1 }, /^target: got -1/],
      [{ space: 5 as never }, /^space: got 5/],
      [{ train: null as never }, /^train/],
      [{ threads: 0 }, /^threads: got 0/],
      [{ data: { ...data, test: { ...data.test, shape: [4, 4, 1] } } }, /^data\.test: images has/],
      [{ data: { ...data, validation: { ...data.validation, classes: 3 } } }, /^data\.validation: has shape \[8,8,1\] and 3 classes/],
      [{ data: null as never }, /^data: got null/],
      [{ progressMs: -1 }, /^progressMs/],
      [{ train: { ...base.train, onStep: () => 0 } as never }, /^options: cannot be sent to a worker/],
    ];
    for (const [o, re] of bad) {
      const e = syncError(() => startSearch({ ...base, data, ...o } as Options));
      expect(e, String(re)).toBeInstanceOf(FliqsError);
      expect(e.message).toMatch(re);
    }
  });

  it('rejects with the search\'s own FliqsError message for what only the search finds', async () => {
    for (const o of [{ target: '100xINT8' }, { space: 'int-s+E9M9' }, { train: { ...base.train, lr: 1e9 } }]) {
      const e = await rejection(startSearch({ ...base, data, ...o }).result);
      const want = syncError(() => syncSearch({ ...base, data, ...o } as typeof base & { data: typeof data }));
      expect(e).toBeInstanceOf(FliqsError);
      expect(e.message).toBe(want.message);
    }
  });

  it('rejects when the worker cannot load its module or is terminated', async () => {
    const missing = new URL('../dist/worker/no-such-file.js', import.meta.url).href;
    const e = await rejection(startSearch({ ...base, data, workerUrl: missing }).result);
    expect(e).toBeInstanceOf(FliqsError);
    expect(e.message).toMatch(/^workerUrl: the worker could not load .*no-such-file\.js/);
    const h = startSearch({ ...base, data, train: { ...base.train, maxSteps: 10_000 } });
    await new Promise((r) => h.on('progress', r));
    h.terminate();
    expect((await rejection(h.result)).message).toMatch(/terminated/);
    expect(h.state).toBe('failed');
  });

  it('always ends its worker: a Node process exits by itself after a failed, a terminated and a finished search', async () => {
    const script = `
      const { startSearch, syntheticSplits } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const data = syntheticSplits({ shape: [8, 8, 1], classes: 4, train: 256, validation: 64, test: 64 });
      const o = { model: 'cnn', width: 0.5, space: 'int-s', data, threads: 1, train: { epochs: 1, batchSize: 16, optimizer: 'sgd', lr: 0.05, maxSteps: 5000 } };
      const a = await startSearch({ ...o, target: '100xINT8' }).result.catch((e) => e.message);
      const h = startSearch({ ...o, target: '0.5xINT8' });
      await new Promise((r) => h.on('progress', r));
      h.terminate();
      const b = await h.result.catch((e) => e.message);
      const c = await startSearch({ ...o, target: '0.5xINT8', train: { ...o.train, maxSteps: 8 } }).result;
      console.log(JSON.stringify([a.split(' (')[0], b, c.result.steps]));`;
    const child = spawn(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill(), 40_000);
    const code = await new Promise((r) => child.on('close', r));
    clearTimeout(timer);
    expect(err).toBe('');
    expect(code).toBe(0); // killed (a worker kept it alive) would be null
    expect(JSON.parse(out)).toEqual(['target: 149.1 MBOPs', 'search: was terminated (terminate())', 8]);
  });
});
