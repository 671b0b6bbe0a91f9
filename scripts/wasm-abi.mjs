// The one source of every number the TypeScript wrappers and the wasm kernels must agree on: the
// format-kind, GEMM-layout and epilogue-mode codes, and the byte layout of the parameter blocks a call
// hands a kernel (one pointer instead of a row of positional arguments). scripts/build-wasm.mjs writes
// assembly/inline/abi.generated.ts and src/core/abi.generated.ts from it before compiling, so the two
// sides cannot drift. Every block field is 4 bytes (i32, u32 pointer or f32), in the order listed.

export const CODES = {
  /** What the quantizing kernels compute (src/formats/params.ts picks one per Format; fp32 never reaches a kernel). */
  KIND: { fp32: -1, int: 0, float: 1, bf16: 2, floatMagic: 3 },
  /** f32 GEMM layouts: nn A·B, nt A·Bᵀ, tn Aᵀ·B. */
  LAYOUT: { nn: 0, nt: 1, tn: 2 },
  /** What the int8 kernels store: the int32 accumulators, dequantized f32, or int8 codes for the next layer. */
  EPILOGUE: { i32: 0, f32: 1, q8: 2 },
  /** Bytes reserved for blocks whose layout is their kernel's own: an optimizer step's f64, f32 and i32 fields (assembly/optim.ts). */
  BLOCK_BYTES: { optim: 128 },
};

export const BLOCKS = {
  /**
   * The int8 epilogue the int8 kernels (assembly/int8.ts, deploy.ts's depthwise conv) read once per call;
   * src/kernels/int8.ts writes it. dq and bias point at N (rounded up to 8) f32s, hasBias says whether bias
   * is used, lo/hi clamp y (a fused ReLU / ReLU6; ±Infinity for none), s/max requantize. Mode i32: int32
   * acc. Mode f32: y = clamp(f32(acc)·dq[n] + bias[n], lo, hi). Mode q8: int8 codes of y for the next
   * layer, round_half_even(clamp(f32(y·s), −max, max)): bit for bit what mode f32 followed by
   * quantize_i8_f32x4 gives, without writing y.
   */
  EP: { align: 32, fields: { dq: 'u32', bias: 'u32', hasBias: 'i32', lo: 'f32', hi: 'f32', s: 'f32', max: 'f32' } },
  /**
   * A quantizer (assembly/inline/quant_params.ts): kind and the constants of src/formats/params.ts, the
   * tensor scale s, and scales: 0, or a pointer to one f32 scale per channel / column (then s is unused).
   */
  QP: { align: 16, fields: { kind: 'i32', sh: 'i32', flip: 'i32', s: 'f32', max: 'f32', M: 'f32', T: 'f32', scales: 'u32' } },
  /**
   * A convolution's or pool's geometry (assembly/inline/conv_geometry.ts; src/kernels/blocks.ts writes it from
   * a ConvShape): NHWC x [N, H, W, C], weights [KH, KW, C/groups, CO], y [N, OH, OW, CO], stride sh×sw,
   * top/left padding pt/pl (the bottom/right padding is implied by OH, OW). ldo: elements from one pixel of
   * dy to the next and from one row of dw to the next in the grad-weight kernels — CO, or the whole tensor's
   * CO when the call computes the channel slice [0, CO) of it (a thread's share, src/kernels/conv.ts).
   */
  CG: {
    align: 16,
    fields: {
      N: 'i32', H: 'i32', W: 'i32', C: 'i32', OH: 'i32', OW: 'i32', CO: 'i32', KH: 'i32', KW: 'i32',
      groups: 'i32', sh: 'i32', sw: 'i32', pt: 'i32', pl: 'i32', ldo: 'i32',
    },
  },
};

const upper = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Byte offset of each field and the block size (rounded up to its alignment). */
export function offsets(block) {
  const names = Object.keys(block.fields);
  const off = Object.fromEntries(names.map((n, i) => [n, 4 * i]));
  return { ...off, size: Math.ceil((4 * names.length) / block.align) * block.align };
}

/** assembly/inline/abi.generated.ts: one `export const` per code and per field offset. */
export function assemblyScriptSource(header) {
  const lines = [header];
  for (const [group, codes] of Object.entries(CODES)) {
    for (const [name, v] of Object.entries(codes)) lines.push(`export const ${group}_${upper(name)}: i32 = ${v};`);
  }
  for (const [block, def] of Object.entries(BLOCKS)) {
    for (const [name, v] of Object.entries(offsets(def))) lines.push(`export const ${block}_${upper(name)}: usize = ${v};`);
  }
  return lines.join('\n') + '\n';
}

/** src/core/abi.generated.ts: each code group and block as a frozen object. */
export function typeScriptSource(header) {
  const obj = (o) => `{ ${Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  const lines = [header];
  for (const [group, codes] of Object.entries(CODES)) lines.push(`export const ${group} = ${obj(codes)} as const;`);
  for (const [block, def] of Object.entries(BLOCKS)) lines.push(`export const ${block} = ${obj(offsets(def))} as const;`);
  return lines.join('\n') + '\n';
}
