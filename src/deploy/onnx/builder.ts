// OnnxGraph: collects nodes and constant tensors under unique names while a graph is translated, then
// serializes the whole ModelProto. The translation code (export.ts, weights.ts, activations.ts) talks to it.

import {
  DataType, graphProto, modelProto, nodeProto, tensorProto, valueInfo, type DataTypeId, type TensorData,
} from './model.js';

/** IR version 10 and opset 21: the first pair where QuantizeLinear / DequantizeLinear take INT4. */
export const IR_VERSION = 10;
export const OPSET = 21;

export interface GraphIo {
  name: string;
  dims: readonly (number | string)[];
}

/**
 * A graph under construction. `op` adds a node and returns its output's name.
 * @example
 * const g = new OnnxGraph();
 * const y = g.op('Relu', ['images']);
 * g.model([{ name: 'images', dims: [1, 4] }], [{ name: g.op('Identity', [y], 'logits'), dims: [1, 4] }]);
 */
export class OnnxGraph {
  private readonly nodes: Uint8Array[] = [];
  private readonly initializers: Uint8Array[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  /** A fresh value name that starts with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output (a fresh name from `hint`, or from the op) and returns that name. */
  op(opType: string, inputs: readonly string[], hint?: string, attributes: readonly Uint8Array[] = []): string {
    return this.opTo(this.fresh(hint ?? opType.toLowerCase()), opType, inputs, attributes);
  }

  /** Adds a node writing `output`, a name already taken with fresh() (graph outputs keep exact names that way). */
  opTo(output: string, opType: string, inputs: readonly string[], attributes: readonly Uint8Array[] = []): string {
    this.nodes.push(nodeProto(opType, inputs, [output], this.fresh(`${output}/${opType}`), attributes));
    return output;
  }

  /** Adds an initializer and returns its (fresh) name. */
  tensor(hint: string, dataType: DataTypeId, dims: readonly number[], data: { floats: ArrayLike<number> } | { raw: Uint8Array }): string {
    const name = this.fresh(hint);
    const t: TensorData = { name, dataType, dims, ...data };
    this.initializers.push(tensorProto(t));
    return name;
  }

  /** An f32 initializer (a scalar when dims is []). */
  floats(hint: string, values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.tensor(hint, DataType.FLOAT, dims, { floats: values });
  }

  /** An int64 initializer (shapes, axes). */
  int64s(hint: string, values: readonly number[]): string {
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    return this.tensor(hint, DataType.INT64, [values.length], { raw });
  }

  /** The ModelProto bytes: f32 inputs and outputs of the given shapes. */
  model(inputs: readonly GraphIo[], outputs: readonly GraphIo[], docString?: string): Uint8Array {
    const graph = graphProto({
      name: 'fliqs',
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: inputs.map((i) => valueInfo(i.name, DataType.FLOAT, i.dims)),
      outputs: outputs.map((o) => valueInfo(o.name, DataType.FLOAT, o.dims)),
      ...(docString ? { docString } : {}),
    });
    return modelProto({ graph, irVersion: IR_VERSION, opset: OPSET, producerName: 'fliqs' });
  }
}
