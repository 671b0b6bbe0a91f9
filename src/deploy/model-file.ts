// The .fliqs model file: one self-describing binary, read and written as bytes (browser-safe).
//   bytes 0–3 "FLQM" | 4–7 version | 8–11 header length | header JSON | zero padding to 4 bytes
//   | data: per layer its weight codes (densely packed), then weightScale, outScale, outBias as f32,
//     each block starting on a 4-byte boundary | CRC-32 of every byte before it (the last 4 bytes).
// The header holds the model info, the inference graph and the layers with their blocks' [offset, bytes].

import { FliqsError, requireString } from '../core/errors.js';
import { crc32 } from '../data/cache.js';
import { checkSpec } from './check.js';
import type { DeployInfo, DeployLayer, DeployNode, DeployWeights, ModelSpec } from './spec.js';

const MAGIC = 0x4d514c46; // "FLQM" little-endian
/** The model-file version this fliqs writes and the newest it reads. */
export const MODEL_FILE_VERSION = 1;

type Block = [offset: number, bytes: number];
interface FileLayer extends DeployLayer { blocks: { codes: Block; weightScale: Block; outScale: Block; outBias: Block } }
interface FileHeader { info: DeployInfo; graph: DeployNode[]; layers: FileLayer[]; dataBytes: number }

const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Serializes a model (from exportModel) to .fliqs bytes.
 * @example
 * const bytes = encodeModel(exportModel(model, ['INT8', 'INT4', 'INT8']));
 */
export function encodeModel(spec: ModelSpec): Uint8Array {
  checkSpec(spec, 'model');
  let at = 0;
  const place = (a: ArrayBufferView): Block => { const b: Block = [at, a.byteLength]; at = pad4(at + a.byteLength); return b; };
  const layers: FileLayer[] = spec.layers.map((l, i) => {
    const w = spec.weights[i]!;
    return { ...l, blocks: { codes: place(w.codes), weightScale: place(w.weightScale), outScale: place(w.outScale), outBias: place(w.outBias) } };
  });
  const header: FileHeader = { info: spec.info, graph: spec.graph, layers, dataBytes: at };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = 12 + pad4(json.length);
  const out = new Uint8Array(dataStart + at + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, MODEL_FILE_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  spec.weights.forEach((w, i) => {
    const b = layers[i]!.blocks;
    for (const k of ['codes', 'weightScale', 'outScale', 'outBias'] as const) {
      out.set(new Uint8Array(w[k].buffer, w[k].byteOffset, w[k].byteLength), dataStart + b[k][0]);
    }
  });
  dv.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/**
 * Parses .fliqs bytes, checking magic, version, CRC and every shape; `file` names them in errors.
 * @example
 * const spec = decodeModel(new Uint8Array(await (await fetch('model.fliqs')).arrayBuffer()), 'model.fliqs');
 */
export function decodeModel(bytes: Uint8Array, file = 'model'): ModelSpec {
  requireString('file', file);
  const bad = (why: string, accepted = 'a .fliqs file written by fliqs export (export it again)'): never => {
    throw new FliqsError(file, why, accepted);
  };
  if (!(bytes instanceof Uint8Array)) bad(`is not bytes`, 'a Uint8Array of a .fliqs file');
  if (bytes.length < 16) bad(`is only ${bytes.length} bytes long, not a fliqs model`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) bad('is not a fliqs model (wrong magic number)');
  const version = dv.getUint32(4, true);
  if (version > MODEL_FILE_VERSION) bad(`is model-file version ${version}, written by a newer fliqs; this one reads up to ${MODEL_FILE_VERSION}`, 'upgrade fliqs, or export with this version');
  if (version < 1) bad(`has model-file version ${version}`);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== dv.getUint32(bytes.length - 4, true)) bad('fails its CRC-32 check (truncated or corrupted)');
  const hlen = dv.getUint32(8, true);
  if (12 + hlen > bytes.length - 4) bad('has a header longer than the file');
  let header: FileHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen))) as FileHeader;
  } catch {
    return bad('has an unreadable header');
  }
  const dataStart = 12 + pad4(hlen);
  if (!Array.isArray(header?.layers) || !Number.isInteger(header.dataBytes) || dataStart + header.dataBytes !== bytes.length - 4) {
    bad('has a data section whose length does not match its header');
  }
  const slice = (b: unknown, what: string): Uint8Array => {
    if (!Array.isArray(b) || b.length !== 2 || !b.every((v) => Number.isInteger(v) && v >= 0) || b[0] + b[1] > header.dataBytes) {
      return bad(`has a malformed ${what} block`);
    }
    return bytes.slice(dataStart + b[0], dataStart + b[0] + b[1]);
  };
  const f32 = (b: unknown, what: string): Float32Array => {
    const raw = slice(b, what);
    if (raw.length % 4) bad(`has a ${what} block of ${raw.length} bytes`);
    return new Float32Array(raw.buffer, 0, raw.length / 4);
  };
  const layers: DeployLayer[] = [];
  const weights: DeployWeights[] = [];
  header.layers.forEach((fl, i) => {
    if (typeof fl !== 'object' || fl === null || typeof fl.blocks !== 'object' || fl.blocks === null) bad(`layer ${i} has no data blocks`);
    const { blocks, ...layer } = fl;
    layers.push(layer);
    weights.push({
      codes: slice(blocks.codes, `layer ${i} codes`), weightScale: f32(blocks.weightScale, `layer ${i} weightScale`),
      outScale: f32(blocks.outScale, `layer ${i} outScale`), outBias: f32(blocks.outBias, `layer ${i} outBias`),
    });
  });
  return checkSpec({ info: header.info, layers, weights, graph: header.graph }, file);
}
