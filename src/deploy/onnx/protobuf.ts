// A tiny protobuf wire-format writer: just enough to serialize ONNX messages (varints, fixed32 floats,
// length-delimited bytes / strings / sub-messages, packed repeated fields). No dependency, browser-safe.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/**
 * Appends protobuf fields to a growing buffer; `finish()` returns the message bytes.
 * @example
 * new ProtoWriter().uint64(1, 300).finish() // Uint8Array [0x08, 0xac, 0x02]
 */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  /** A bare varint. Negative numbers are written as 64-bit two's complement (10 bytes), as protobuf's int64 does. */
  varint(value: number | bigint): this {
    let v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : value;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new RangeError(`varint: ${v} is not a safe integer`);
      if (v < 0) v = BigInt.asUintN(64, BigInt(v));
    }
    this.reserve(10);
    if (typeof v === 'number') {
      while (v >= 0x80) { this.buf[this.len++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80); }
      this.buf[this.len++] = v;
    } else {
      while (v >= 0x80n) { this.buf[this.len++] = Number(v & 0x7fn) | 0x80; v >>= 7n; }
      this.buf[this.len++] = Number(v);
    }
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** Raw bytes appended as they are (no tag). */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** An int32 / int64 / uint64 / enum / bool field. */
  uint64(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  /** A float field (fixed32, little-endian IEEE single). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32).reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  /** A bytes field, or an embedded message given as its bytes. */
  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WIRE_LEN).varint(value.length).raw(value);
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A packed repeated varint field (int32 / int64 / uint64 …). */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = new Uint8Array(values.length * 4);
    const dv = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, data);
  }

  /** The message written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
