// The README's "Your model" Module example, run as written (package-root imports): a Module subclass with two
// branches is searched by Search, trained by Trainer, exported (its lower()) and run on its codes.
import { describe, expect, it } from 'vitest';
import {
  BatchNorm2d, Conv2d, GlobalAvgPool, Linear, Module, Rng, Search, Trainer, add, encodeModel, exportModel, fakeQuantPredict, loadModel, quantLayers, relu,
  syntheticSplits, type GraphBuilder, type Tensor, type ValueId,
} from '../src/index.js';

// --- README example (keep in sync) ---
/** stem → two 3×3 / 1×1 branches added → global pool → classes. */
class TwoBranch extends Module {
  readonly stem: Conv2d;
  readonly bn: BatchNorm2d;
  readonly wide: Conv2d;
  readonly narrow: Conv2d;
  readonly pool = new GlobalAvgPool();
  readonly head: Linear;

  constructor(inChannels: number, classes: number, seed = 0) {
    super();
    const rng = new Rng(seed); // every layer draws its initial weights from it, in this order
    this.stem = new Conv2d(inChannels, 16, 3, { stride: 2, padding: 1, bias: false, rng });
    this.bn = new BatchNorm2d(16);
    this.wide = new Conv2d(16, 16, 3, { padding: 'same', rng });
    this.narrow = new Conv2d(16, 16, 1, { rng });
    this.head = new Linear(16, classes, { rng });
  }

  forward(x: Tensor): Tensor {
    const h = relu(this.bn.forward(this.stem.forward(x)));
    return this.head.forward(this.pool.forward(relu(add(this.wide.forward(h), this.narrow.forward(h)))));
  }

  /** The same computation as inference nodes, for exportModel (only needed to deploy). */
  override lower(g: GraphBuilder, x: ValueId): ValueId {
    const h = g.node({ op: 'relu', input: this.bn.lower(g, this.stem.lower(g, x)) });
    const sum = g.node({ op: 'add', input: this.wide.lower(g, h), other: this.narrow.lower(g, h) });
    return this.head.lower(g, this.pool.lower(g, g.node({ op: 'relu', input: sum })));
  }
}
// --- end of README example ---

describe('a Module subclass (README example)', () => {
  const data = syntheticSplits({ train: 300, validation: 100, test: 100, classes: 4, shape: [12, 12, 1] });

  it('Search finds its four searched layers, searches them and the result exports and runs on its codes', () => {
    const model = new TwoBranch(1, 4, 1);
    expect(quantLayers(model).map(([n]) => n)).toEqual(['stem', 'wide', 'narrow', 'head']);
    const search = new Search(model, data, { space: 'int-s', target: '0.5xINT8', train: { epochs: 2, batchSize: 50, optimizer: 'sgd', lr: 0.05 } });
    for (const _ of search.run()) { /* steps */ }
    const r = search.result();
    expect(r.layers.map((l) => l.name)).toEqual(['stem', 'wide', 'narrow', 'head']);
    const spec = exportModel(model, r.layers.map((l) => l.format), { info: { model: 'two-branch', width: 1, inputShape: [12, 12, 1], classes: 4 } });
    expect(spec.graph.map((n) => n.op)).toEqual(['layer', 'relu', 'layer', 'layer', 'add', 'relu', 'globalAvgPool', 'layer']);
    const images = data.test.images, n = data.test.labels.length;
    const deployed = loadModel(encodeModel(spec)).predict(images), fake = fakeQuantPredict(model, r.layers.map((l) => l.format), images, [12, 12, 1]);
    expect(deployed.length).toBe(n * 4);
    const argmax = (v: Float32Array, i: number): number => { const row = Array.from(v.subarray(4 * i, 4 * i + 4)); return row.indexOf(Math.max(...row)); };
    let same = 0;
    for (let i = 0; i < n; i++) same += argmax(deployed, i) === argmax(fake, i) ? 1 : 0;
    expect(same).toBeGreaterThanOrEqual(n - 1); // the codes path computes what the fake-quantized model does (up to a near tie)
  });

  it('Trainer trains it like any zoo model', () => {
    const t = new Trainer(new TwoBranch(1, 4), data, { epochs: 1, batchSize: 50, optimizer: 'sgd', lr: 0.05, formats: ['INT8'] });
    for (const _ of t.run()) { /* steps */ }
    expect(t.evaluate(data.test).accuracy).toBeGreaterThanOrEqual(0);
    t.dispose();
  });
});
