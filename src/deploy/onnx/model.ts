// Builders for the ONNX protobuf messages fliqs writes (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, AttributeProto), with the field numbers of onnx/onnx.proto. Each returns the message bytes.

import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, BFLOAT16: 16, INT4: 22,
} as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

/** A tensor: f32 values (written as packed float_data) or little-endian raw bytes of `dataType`. */
export interface TensorData {
  name: string;
  dataType: DataTypeId;
  dims: readonly number[];
  floats?: ArrayLike<number>;
  raw?: Uint8Array;
}

/**
 * TensorProto: dims = 1, data_type = 2, float_data = 4 (packed), name = 8, raw_data = 9.
 * @example
 * tensorProto({ name: 'w', dataType: DataType.FLOAT, dims: [2], floats: [1, 2] })
 */
export function tensorProto(t: TensorData): Uint8Array {
  const w = new ProtoWriter();
  for (const d of t.dims) w.uint64(1, d);
  w.uint64(2, t.dataType).string(8, t.name);
  if (t.floats) w.packedFloats(4, t.floats);
  else w.bytes(9, t.raw ?? new Uint8Array(0));
  return w.finish();
}

/** AttributeProto with an int: name = 1, i = 3, type = 20. @example attrInt('group', 3) */
export function attrInt(name: string, value: number): Uint8Array {
  return new ProtoWriter().string(1, name).uint64(3, value).uint64(20, AttrType.INT).finish();
}

/** AttributeProto with ints (repeated, field 8). @example attrInts('perm', [0, 3, 1, 2]) */
export function attrInts(name: string, values: readonly number[]): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  for (const v of values) w.uint64(8, v);
  return w.uint64(20, AttrType.INTS).finish();
}

/** AttributeProto with a float (f = 2). @example attrFloat('alpha', 0.5) */
export function attrFloat(name: string, value: number): Uint8Array {
  return new ProtoWriter().string(1, name).float(2, value).uint64(20, AttrType.FLOAT).finish();
}

/** AttributeProto with a string (s = 4). @example attrString('auto_pad', 'NOTSET') */
export function attrString(name: string, value: string): Uint8Array {
  return new ProtoWriter().string(1, name).string(4, value).uint64(20, AttrType.STRING).finish();
}

/**
 * NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
 * @example
 * nodeProto('Relu', ['x'], ['y'], 'relu0')
 */
export function nodeProto(opType: string, inputs: readonly string[], outputs: readonly string[], name: string,
  attributes: readonly Uint8Array[] = []): Uint8Array {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, opType);
  for (const a of attributes) w.bytes(5, a);
  return w.finish();
}

/**
 * ValueInfoProto of a tensor: name = 1, type = 2 → TypeProto.tensor_type = 1 → elem_type = 1, shape = 2 →
 * TensorShapeProto.dim = 1 → dim_value = 1 | dim_param = 2 (a string dimension is symbolic).
 * @example
 * valueInfo('images', DataType.FLOAT, ['batch', 28, 28, 1])
 */
export function valueInfo(name: string, elemType: DataTypeId, dims: readonly (number | string)[]): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of dims) {
    shape.bytes(1, typeof d === 'string' ? new ProtoWriter().string(2, d).finish() : new ProtoWriter().uint64(1, d).finish());
  }
  const tensor = new ProtoWriter().uint64(1, elemType).bytes(2, shape.finish()).finish();
  const type = new ProtoWriter().bytes(1, tensor).finish();
  return new ProtoWriter().string(1, name).bytes(2, type).finish();
}

export interface GraphParts {
  name: string;
  nodes: readonly Uint8Array[];
  initializers: readonly Uint8Array[];
  inputs: readonly Uint8Array[];
  outputs: readonly Uint8Array[];
  docString?: string;
}

/**
 * GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12.
 * @example
 * graphProto({ name: 'g', nodes: [nodeProto('Relu', ['x'], ['y'], 'r')], initializers: [],
 *   inputs: [valueInfo('x', DataType.FLOAT, [2])], outputs: [valueInfo('y', DataType.FLOAT, [2])] })
 */
export function graphProto(g: GraphParts): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, n);
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, t);
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.bytes(11, i);
  for (const o of g.outputs) w.bytes(12, o);
  return w.finish();
}

export interface ModelParts {
  graph: Uint8Array;
  irVersion: number;
  /** Version of the default ("ai.onnx") operator set. */
  opset: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/**
 * ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
 * opset_import = 8 (OperatorSetIdProto domain = 1, version = 2), metadata_props = 14 (key = 1, value = 2).
 * @example
 * modelProto({ graph, irVersion: 10, opset: 21, producerName: 'fliqs' })
 */
export function modelProto(m: ModelParts): Uint8Array {
  const w = new ProtoWriter().uint64(1, m.irVersion).string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.bytes(7, m.graph);
  w.bytes(8, new ProtoWriter().string(1, '').uint64(2, m.opset).finish());
  for (const [key, value] of Object.entries(m.metadata ?? {})) w.bytes(14, new ProtoWriter().string(1, key).string(2, value).finish());
  return w.finish();
}
