// Lowering a trained model to an inference graph: every module's lower() appends its nodes through a
// GraphBuilder. A batch-norm is folded into the searched layer that produced its input (the only place
// the zoo puts one), so the graph holds layers, activations, pooling and adds, nothing that trains.

import { FliqsError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import type { QuantLayer } from '../nn/quant.js';
import type { DeployNode, ValueId } from './spec.js';

/** A module that can fold into a layer's output affine (the eval-mode batch-norm). */
export interface FoldableNorm {
  readonly weight: { toArray(): Float32Array };
  readonly bias: { toArray(): Float32Array };
  readonly runningMean: { toArray(): Float32Array };
  readonly runningVar: { toArray(): Float32Array };
  readonly opts: { eps?: number };
}

/** A searched layer as lowered: the module and the norm folded after it. */
export interface LoweredLayer {
  name: string;
  module: Module & QuantLayer;
  norm: FoldableNorm | null;
}

export class GraphBuilder {
  readonly nodes: DeployNode[] = [];
  readonly layers: LoweredLayer[] = [];
  private readonly names: Map<Module, string>;
  private readonly reads = new Map<ValueId, number>();

  /** `names` gives each searched layer's dotted name (from quantLayers(model)). */
  constructor(names: Map<Module, string>) {
    this.names = names;
  }

  /** Appends a node; returns the value it produces. */
  node(n: DeployNode): ValueId {
    for (const v of n.op === 'add' ? [n.input, n.other] : [n.input]) this.reads.set(v, (this.reads.get(v) ?? 0) + 1);
    this.nodes.push(n);
    return this.nodes.length;
  }

  /** A searched conv / depthwise / linear layer applied to x. */
  layer(module: Module & QuantLayer, x: ValueId): ValueId {
    const name = this.names.get(module);
    if (name === undefined) throw new FliqsError('model', 'has a searched layer outside its module tree', 'layers reachable as properties of the model');
    this.layers.push({ name, module, norm: null });
    return this.node({ op: 'layer', input: x, layer: this.layers.length - 1 });
  }

  /** An eval-mode batch-norm of x: folded into the layer that produced x, which nothing else may read. */
  batchNorm(norm: FoldableNorm, x: ValueId): ValueId {
    const producer = this.nodes[x - 1];
    if (!producer || producer.op !== 'layer' || this.reads.get(x) || this.layers[producer.layer]!.norm) {
      throw new FliqsError('model', 'has a batch-norm that does not directly follow a conv or linear layer', 'batch-norms right after a searched layer (they are folded into it)');
    }
    this.layers[producer.layer]!.norm = norm;
    return x;
  }
}

/** Lowers `model` (its forward from value 0, the NHWC images) into a GraphBuilder. */
export function lowerModel(model: Module, names: Map<Module, string>): GraphBuilder {
  const g = new GraphBuilder(names);
  const out = model.lower(g, 0);
  if (out !== g.nodes.length || out === 0) {
    throw new FliqsError('model', 'has an inference graph whose output is not its last node', 'a model whose forward() ends in its last module');
  }
  return g;
}
