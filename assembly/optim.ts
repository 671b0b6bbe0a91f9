// Fused one-pass optimizer updates, 4 floats per iteration: Adam/AdamW, RMSProp and SGD with momentum.
// Each reads every parameter, gradient and state element once and writes the parameter and state once.
//
// Per-call scalars come as a parameter block at byte offset `hp`: f64 fields first, then f32, then i32
// flags, packed in that order (layouts below; src/kernels/optim.ts writes them into the optimizer block of
// param_blocks(), assembly/memory.ts: static data, so an optimizer step never allocates or grows memory).
//
// No fused multiply-add anywhere (not even in the relaxed module), so the scalar reference
// (src/kernels/optim.ref.ts: the same operations in the same order) is bit-identical on both modules.
// SGD and RMSProp are f32, one rounding per operation. Adam is f64 (two f64x2 halves per 4 floats),
// rounded to f32 where the state is stored: an f32 Adam rounds p differently in the last bit now and
// then, and with L2 decay and a small β2 the step g/(|g| + eps), g = grad + wd·p, is so steep near g = 0
// that such an ulp grows past the PyTorch-rule test's tolerance (test/optim.test.ts found cases).
// The tail (n not a multiple of 4) runs the same code on a zero-padded copy of the last n mod 4 elements.

import { OPTIM_TAIL, threadScratch } from './inline/thread_scratch';

// Tail staging (the thread's OPTIM_TAIL scratch): up to five arrays of 4 f32 (parameter, gradient, three state buffers).

/** Copies the r < 4 floats at src into tail slot k, zero-padded to 4. */
// @ts-ignore: decorator
@inline function stash(src: usize, k: usize, r: i32): usize {
  const t = threadScratch + OPTIM_TAIL + (k << 4);
  v128.store(t, f32x4.splat(0));
  memory.copy(t, src, <usize>r << 2);
  return t;
}

/** Copies the first r floats of tail slot k back to dst. */
// @ts-ignore: decorator
@inline function unstash(dst: usize, k: usize, r: i32): void {
  memory.copy(dst, threadScratch + OPTIM_TAIL + (k << 4), <usize>r << 2);
}

// @ts-ignore: decorator
@inline function f32at(hp: usize, at: usize): v128 {
  return f32x4.splat(load<f32>(hp + at));
}

// @ts-ignore: decorator
@inline function f64at(hp: usize, at: usize): v128 {
  return f64x2.splat(load<f64>(hp + at));
}

/** Lanes 0, 1 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline function lo64(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}

/** Lanes 2, 3 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline function hi64(x: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1));
}

/** x rounded to f32 and back (Math.fround), f64x2. */
// @ts-ignore: decorator
@inline function r32(x: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(x));
}

/** The low two f32 lanes of lo, then those of hi. */
// @ts-ignore: decorator
@inline function join(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(lo, hi, 0, 1, 4, 5);
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW, in f64 (see the header). Block (f64): 0 shrink, 8 l2, 16 β1, 24 1−β1, 32 β2, 40 1−β2,
// 48 lr/(1−β1^t), 56 √(1−β2^t), 64 eps. Adam: shrink 1, l2 = wd; AdamW: shrink 1 − lr·wd, l2 0.
//   p ← f32(p·shrink);  g ← f32(g + l2·p);  m ← f32(β1·m + (1−β1)·g);  v ← f32(β2·v + (1−β2)·g·g)
//   p ← f32(p − step·m / (√v/bc2 + eps))
// Each quantity is computed for lanes 0–1 (…l) and 2–3 (…h) of the 4 floats; …32 are f32 values in the
// low two lanes, the rest f64x2.

// @ts-ignore: decorator
@inline function adam4(p: usize, g: usize, m: usize, v: usize, shrink: v128, l2: v128, b1: v128, c1: v128,
  b2: v128, c2: v128, step: v128, bc2: v128, eps: v128): void {
  const P = v128.load(p), G = v128.load(g), M = v128.load(m), V = v128.load(v);
  const pl = r32(f64x2.mul(lo64(P), shrink)), ph = r32(f64x2.mul(hi64(P), shrink));
  const gl = r32(f64x2.add(lo64(G), f64x2.mul(l2, pl))), gh = r32(f64x2.add(hi64(G), f64x2.mul(l2, ph)));
  const ml32 = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(b1, lo64(M)), f64x2.mul(c1, gl)));
  const mh32 = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(b1, hi64(M)), f64x2.mul(c1, gh)));
  const vl32 = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(b2, lo64(V)), f64x2.mul(f64x2.mul(c2, gl), gl)));
  const vh32 = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(b2, hi64(V)), f64x2.mul(f64x2.mul(c2, gh), gh)));
  v128.store(m, join(ml32, mh32));
  v128.store(v, join(vl32, vh32));
  const dl = f64x2.add(f64x2.div(f64x2.sqrt(lo64(vl32)), bc2), eps), dh = f64x2.add(f64x2.div(f64x2.sqrt(lo64(vh32)), bc2), eps);
  const ql = f64x2.div(f64x2.mul(step, lo64(ml32)), dl), qh = f64x2.div(f64x2.mul(step, lo64(mh32)), dh);
  v128.store(p, join(f32x4.demote_f64x2_zero(f64x2.sub(pl, ql)), f32x4.demote_f64x2_zero(f64x2.sub(ph, qh))));
}

/** One Adam/AdamW step over n elements: p, m, v updated in place from g (block at hp, see above). */
export function adam_step_f32x4(p: usize, g: usize, m: usize, v: usize, n: i32, hp: usize): void {
  const shrink = f64at(hp, 0), l2 = f64at(hp, 8), b1 = f64at(hp, 16), c1 = f64at(hp, 24), b2 = f64at(hp, 32);
  const c2 = f64at(hp, 40), step = f64at(hp, 48), bc2 = f64at(hp, 56), eps = f64at(hp, 64);
  const e4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < e4; o += 16) adam4(p + o, g + o, m + o, v + o, shrink, l2, b1, c1, b2, c2, step, bc2, eps);
  const r = n & 3;
  if (r > 0) {
    const tp = stash(p + o, 0, r), tg = stash(g + o, 1, r), tm = stash(m + o, 2, r), tv = stash(v + o, 3, r);
    adam4(tp, tg, tm, tv, shrink, l2, b1, c1, b2, c2, step, bc2, eps);
    unstash(p + o, 0, r);
    unstash(m + o, 2, r);
    unstash(v + o, 3, r);
  }
}

// ---------------------------------------------------------------------------------------------
// RMSProp. Block: 0 wd, 4 α, 8 1−α, 12 eps, 16 μ, 20 lr (f32); 24 centered, 28 momentum (i32).
//   g ← g + wd·p;  sq ← α·sq + (1−α)·(g·g)
//   centered: ga ← α·ga + (1−α)·g, avg = √max(sq − ga·ga, 0) + eps;  else avg = √sq + eps
//   momentum: buf ← μ·buf + g/avg, p ← p − lr·buf;  else p ← p − lr·(g/avg)
// ga and buf are read only when their flag is set (pass 0 otherwise).

// @ts-ignore: decorator
@inline function rmsprop4(p: usize, g: usize, sq: usize, ga: usize, buf: usize, centered: bool, momentum: bool,
  wd: v128, a: v128, c: v128, eps: v128, mu: v128, lr: v128): void {
  const p0 = v128.load(p);
  const g1 = f32x4.add(v128.load(g), f32x4.mul(wd, p0));
  const s1 = f32x4.add(f32x4.mul(a, v128.load(sq)), f32x4.mul(c, f32x4.mul(g1, g1)));
  v128.store(sq, s1);
  let avg: v128;
  if (centered) {
    const m1 = f32x4.add(f32x4.mul(a, v128.load(ga)), f32x4.mul(c, g1));
    v128.store(ga, m1);
    avg = f32x4.add(f32x4.sqrt(f32x4.max(f32x4.sub(s1, f32x4.mul(m1, m1)), f32x4.splat(0))), eps);
  } else {
    avg = f32x4.add(f32x4.sqrt(s1), eps);
  }
  let d = f32x4.div(g1, avg);
  if (momentum) {
    d = f32x4.add(f32x4.mul(mu, v128.load(buf)), d);
    v128.store(buf, d);
  }
  v128.store(p, f32x4.sub(p0, f32x4.mul(lr, d)));
}

/** One RMSProp step over n elements: p, sq (and ga, buf when used) updated in place from g (block at hp). */
export function rmsprop_step_f32x4(p: usize, g: usize, sq: usize, ga: usize, buf: usize, n: i32, hp: usize): void {
  const wd = f32at(hp, 0), a = f32at(hp, 4), c = f32at(hp, 8), eps = f32at(hp, 12), mu = f32at(hp, 16), lr = f32at(hp, 20);
  const centered = load<i32>(hp + 24) != 0, momentum = load<i32>(hp + 28) != 0;
  const e4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < e4; o += 16) rmsprop4(p + o, g + o, sq + o, ga + o, buf + o, centered, momentum, wd, a, c, eps, mu, lr);
  const r = n & 3;
  if (r > 0) {
    const tp = stash(p + o, 0, r), tg = stash(g + o, 1, r), ts = stash(sq + o, 2, r);
    const tga = centered ? stash(ga + o, 3, r) : 0, tb = momentum ? stash(buf + o, 4, r) : 0;
    rmsprop4(tp, tg, ts, tga, tb, centered, momentum, wd, a, c, eps, mu, lr);
    unstash(p + o, 0, r);
    unstash(sq + o, 2, r);
    if (centered) unstash(ga + o, 3, r);
    if (momentum) unstash(buf + o, 4, r);
  }
}

// ---------------------------------------------------------------------------------------------
// SGD. Block: 0 wd, 4 μ, 8 1−dampening, 12 lr (f32); 16 momentum, 20 nesterov, 24 first step (i32).
//   d ← g + wd·p;  momentum: buf ← first ? d : μ·buf + (1−dampening)·d, d ← nesterov ? d + μ·buf : buf
//   p ← p − lr·d
// buf is read only when momentum is set (pass 0 otherwise). The gradient is never modified.

// @ts-ignore: decorator
@inline function sgd4(p: usize, g: usize, buf: usize, momentum: bool, nesterov: bool, first: bool,
  wd: v128, mu: v128, c: v128, lr: v128): void {
  const p0 = v128.load(p);
  let d = f32x4.add(v128.load(g), f32x4.mul(wd, p0));
  if (momentum) {
    const b = first ? d : f32x4.add(f32x4.mul(mu, v128.load(buf)), f32x4.mul(c, d));
    v128.store(buf, b);
    d = nesterov ? f32x4.add(d, f32x4.mul(mu, b)) : b;
  }
  v128.store(p, f32x4.sub(p0, f32x4.mul(lr, d)));
}

/** One SGD step over n elements: p (and buf when used) updated in place from g (block at hp). */
export function sgd_step_f32x4(p: usize, g: usize, buf: usize, n: i32, hp: usize): void {
  const wd = f32at(hp, 0), mu = f32at(hp, 4), c = f32at(hp, 8), lr = f32at(hp, 12);
  const momentum = load<i32>(hp + 16) != 0, nesterov = load<i32>(hp + 20) != 0, first = load<i32>(hp + 24) != 0;
  const e4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < e4; o += 16) sgd4(p + o, g + o, buf + o, momentum, nesterov, first, wd, mu, c, lr);
  const r = n & 3;
  if (r > 0) {
    const tp = stash(p + o, 0, r), tg = stash(g + o, 1, r), tb = momentum ? stash(buf + o, 2, r) : 0;
    sgd4(tp, tg, tb, momentum, nesterov, first, wd, mu, c, lr);
    unstash(p + o, 0, r);
    if (momentum) unstash(buf + o, 2, r);
  }
}
