// Module: the base of every layer. Parameters and buffers are the kept Tensors a module holds as
// properties (parameters require a gradient, buffers do not); children are Module properties or arrays
// of Modules. Names follow the property path, PyTorch style: `0.conv.weight`.

import { FliqsError, describe } from '../core/errors.js';
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/tensor.js';
import type { GraphBuilder } from '../deploy/graph.js';
import type { ValueId } from '../deploy/spec.js';

/** A module's state as plain arrays: values and shapes by name. */
export interface StateDict {
  values: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
}

/** Throws a FliqsError naming `input` unless `m` is a Module. */
export function requireModule(input: string, m: unknown): Module {
  if (!(m instanceof Module)) throw new FliqsError(input, `got ${describe(m)}`, 'a Module (e.g. from createModel)');
  return m;
}

/**
 * The base of every model: subclass it, keep layers as properties (or arrays of them), write forward(); Search
 * and Trainer search / train the Conv2d, DepthwiseConv2d and Linear layers it reaches (quantLayers), named by
 * their property paths. Override lower() too to export it (README, "Your model").
 * @example
 * class Net extends Module {
 *   readonly conv = new Conv2d(1, 8, 3, { padding: 1 });
 *   readonly pool = new GlobalAvgPool();
 *   readonly fc = new Linear(8, 10);
 *   forward(x: Tensor): Tensor { return this.fc.forward(this.pool.forward(relu(this.conv.forward(x)))); }
 * }
 */
export abstract class Module {
  /** Training mode (batch statistics in batch-norm); set by train() / eval(). */
  training = true;

  abstract forward(x: Tensor): Tensor;

  /**
   * Appends this module's inference-graph nodes for input value x and returns the value it produces
   * (src/deploy/graph.ts). Modules without an inference form cannot be exported.
   */
  lower(_g: GraphBuilder, _x: ValueId): ValueId {
    throw new FliqsError('model', `contains a ${this.constructor.name}, which cannot be exported yet`,
      'models made of Linear, Conv2d, BatchNorm2d, ReLU, ReLU6, pooling, Flatten, Sequential and residual blocks (mlp, lenet5, cnn, resnet8, resnet20, mobilenetv2)');
  }

  /** Child modules in declaration order, with their property names (array entries as `name.i`). */
  namedChildren(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => { if (m instanceof Module) out.push([`${k}.${i}`, m]); });
    }
    return out;
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  private namedTensors(wantParams: boolean): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, v] of Object.entries(m)) {
        if (v instanceof Tensor && v.kept && v.requiresGrad === wantParams) out.push([prefix ? `${prefix}.${k}` : k, v]);
      }
    }
    return out;
  }

  /** Trainable tensors with dotted names. @example for (const [name, p] of model.namedParameters()) ... */
  namedParameters(): Array<[string, Tensor]> {
    return this.namedTensors(true);
  }

  /** Trainable tensors. @example const params = model.parameters(); */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Non-trainable state (running statistics). */
  namedBuffers(): Array<[string, Tensor]> {
    return this.namedTensors(false);
  }

  /** Sets training mode on this module and its descendants. @example model.train(); */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode (running statistics). @example model.eval(); */
  eval(): this {
    return this.train(false);
  }

  /** Zeroes every parameter's gradient. @example model.zeroGrad(); */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Copies of every parameter and buffer, by name.
   * @example
   * const sd = model.stateDict(); other.loadStateDict(sd);
   */
  stateDict(): StateDict {
    const values: Record<string, Float32Array> = {}, shapes: Record<string, number[]> = {};
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
      values[k] = t.toArray();
      shapes[k] = t.shape.slice();
    }
    return { values, shapes };
  }

  /**
   * Loads values by name; every parameter and buffer must be present with its shape.
   * @example
   * model.loadStateDict(saved);
   */
  loadStateDict(sd: StateDict): void {
    const mine = [...this.namedParameters(), ...this.namedBuffers()];
    for (const [k, t] of mine) {
      const v = sd?.values?.[k];
      if (!(v instanceof Float32Array)) throw new FliqsError(`stateDict ${k}`, 'is missing', `a Float32Array of shape [${t.shape.join(', ')}]`);
      const s = sd.shapes?.[k];
      if (!s || s.length !== t.shape.length || s.some((d, i) => d !== t.shape[i]) || v.length !== t.size) {
        throw new FliqsError(`stateDict ${k}`, `has shape [${s?.join(', ') ?? '?'}] (${v.length} values), the model has [${t.shape.join(', ')}]`,
          'the shape of the model\'s tensor');
      }
    }
    const extra = Object.keys(sd.values).filter((k) => !mine.some(([n]) => n === k));
    if (extra.length) throw new FliqsError('stateDict', `has entries the model lacks: ${extra.slice(0, 5).join(', ')}`, 'the names of model.stateDict()');
    noGrad(() => { for (const [k, t] of mine) t.data.set(sd.values[k]!); });
  }

  /** Frees every parameter and buffer (the module is unusable afterwards). */
  free(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.free();
  }
}

/** A kept, trainable tensor from values. */
export function parameter(data: ArrayLike<number>, shape: number[]): Tensor {
  return Tensor.from(data, shape, { requiresGrad: true, keep: true });
}

/** A kept, non-trainable tensor from values. */
export function buffer(data: ArrayLike<number>, shape: number[]): Tensor {
  return Tensor.from(data, shape, { keep: true });
}
