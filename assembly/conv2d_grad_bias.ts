// The bias gradient of conv2d and depthwise (column sums of dy viewed as [N·OH·OW, C]); global average
// pooling reuses it.

/** db[c] = Σ_p dy[p, c] for c < C over P rows of a row-major matrix with rows ld elements apart (ld = C, or more for a channel slice). */
export function conv2d_grad_bias_f32(dy: usize, P: i32, C: i32, ld: i32, db: usize): void {
  const C4 = C & ~3;
  for (let c = 0; c < C4; c += 4) {
    let a = f32x4.splat(0);
    let p = dy + (<usize>c << 2);
    const s = <usize>ld << 2;
    for (let i = 0; i < P; i++) { a = f32x4.add(a, v128.load(p)); p += s; }
    v128.store(db + (<usize>c << 2), a);
  }
  for (let c = C4; c < C; c++) {
    let a: f32 = 0;
    for (let i = 0; i < P; i++) a += f32.load(dy + (<usize>(i * ld + c) << 2));
    f32.store(db + (<usize>c << 2), a);
  }
}
