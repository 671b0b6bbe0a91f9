// Pooling over NHWC activations, geometry block with C = CO: max (with argmax indices), average (padding
// excluded from the count), global average, and their backward passes.

import { conv2d_grad_bias_f32 } from './conv2d_grad_bias';
import { cgC, cgCO, cgGroups, cgH, cgKH, cgKW, cgN, cgOH, cgOW, cgPL, cgPT, cgSH, cgSW, cgW } from './inline/conv_geometry';
import { imax, imin } from './inline/window';

/**
 * Max pool, KH×KW window: y = max over the in-range taps; idx (i32, may be 0 for none) gets the flat
 * element index into x of the winner, plus base (the index of x's first element in the whole tensor when
 * this call pools a thread's share of the images). Taps are scanned kh-major then kw; the first tap
 * initializes and later ones win only when strictly greater, so ties go to the first maximum (and a NaN
 * first tap stays). Every window must contain a tap (the wrapper requires padding < window).
 */
export function maxpool2d_nhwc_f32(x: usize, y: usize, idx: usize, base: i32, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const C4 = C & ~3;
  const iota = i32x4(0, 1, 2, 3);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const out = ((n * OH + oh) * OW + ow) * C;
        const first = ((n * H + ihb + khlo) * W + iwb + kwlo) * C;
        let c = 0;
        for (; c < C4; c += 4) {
          let mv = v128.load(x + (<usize>(first + c) << 2));
          let mi = i32x4.add(i32x4.splat(base + first + c), iota);
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) {
              const e = ((n * H + ihb + kh) * W + iwb + kw) * C + c;
              const v = v128.load(x + (<usize>e << 2));
              const gt = f32x4.gt(v, mv);
              mv = v128.bitselect(v, mv, gt);
              mi = v128.bitselect(i32x4.add(i32x4.splat(base + e), iota), mi, gt);
            }
          }
          v128.store(y + (<usize>(out + c) << 2), mv);
          if (idx != 0) v128.store(idx + (<usize>(out + c) << 2), mi);
        }
        for (; c < C; c++) {
          let mv = f32.load(x + (<usize>(first + c) << 2));
          let mi = base + first + c;
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) {
              const e = ((n * H + ihb + kh) * W + iwb + kw) * C + c;
              const v = f32.load(x + (<usize>e << 2));
              if (v > mv) { mv = v; mi = base + e; }
            }
          }
          f32.store(y + (<usize>(out + c) << 2), mv);
          if (idx != 0) i32.store(idx + (<usize>(out + c) << 2), mi);
        }
      }
    }
  }
}

/**
 * Max pool backward: dx = 0, then dx[idx[i] − base] += dy[i] for i < count (idx from maxpool2d_nhwc_f32; base
 * the index of dx's first element in the whole tensor, as there).
 */
export function maxpool2d_bwd_f32(dy: usize, idx: usize, count: i32, dx: usize, dxLen: i32, base: i32): void {
  memory.fill(dx, 0, <usize>dxLen << 2);
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const e = i32.load(idx + o) - base;
    if (e >= 0 && e < dxLen) {
      const p = dx + (<usize>e << 2);
      f32.store(p, f32.load(p) + f32.load(dy + o));
    }
  }
}

/** Average pool: y = (Σ in-range taps) / (number of in-range taps) — padding is excluded from the count. */
export function avgpool2d_nhwc_f32(x: usize, y: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const cnt = (khhi - khlo) * (kwhi - kwlo);
        const inv: f32 = cnt > 0 ? <f32>1 / <f32>cnt : 0;
        const yp = y + (<usize>(((n * OH + oh) * OW + ow) * C) << 2);
        let c = 0;
        for (; c < C4; c += 4) {
          let a = f32x4.splat(0);
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) {
              a = f32x4.add(a, v128.load(x + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C + c) << 2)));
            }
          }
          v128.store(yp + (<usize>c << 2), f32x4.mul(a, f32x4.splat(inv)));
        }
        for (; c < C; c++) {
          let a: f32 = 0;
          for (let kh = khlo; kh < khhi; kh++) {
            for (let kw = kwlo; kw < kwhi; kw++) a += f32.load(x + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C + c) << 2));
          }
          f32.store(yp + (<usize>c << 2), a * inv);
        }
      }
    }
  }
}

/** Average pool backward: dx = 0, then each in-range tap of window (oh, ow) gets dy / count. */
export function avgpool2d_bwd_nhwc_f32(dy: usize, dx: usize, geo: usize): void {
  const N = cgN(geo), H = cgH(geo), W = cgW(geo), C = cgC(geo), OH = cgOH(geo), OW = cgOW(geo), CO = cgCO(geo);
  const KH = cgKH(geo), KW = cgKW(geo), groups = cgGroups(geo), sh = cgSH(geo), sw = cgSW(geo), pt = cgPT(geo), pl = cgPL(geo);
  memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihb = oh * sh - pt;
      const khlo = imax(0, -ihb), khhi = imin(KH, H - ihb);
      for (let ow = 0; ow < OW; ow++) {
        const iwb = ow * sw - pl;
        const kwlo = imax(0, -iwb), kwhi = imin(KW, W - iwb);
        const cnt = (khhi - khlo) * (kwhi - kwlo);
        const inv: f32 = cnt > 0 ? <f32>1 / <f32>cnt : 0;
        const dp = dy + (<usize>(((n * OH + oh) * OW + ow) * C) << 2);
        for (let kh = khlo; kh < khhi; kh++) {
          for (let kw = kwlo; kw < kwhi; kw++) {
            const xp = dx + (<usize>(((n * H + ihb + kh) * W + iwb + kw) * C) << 2);
            let c = 0;
            for (; c < C4; c += 4) {
              const o = <usize>c << 2;
              v128.store(xp + o, f32x4.add(v128.load(xp + o), f32x4.mul(v128.load(dp + o), f32x4.splat(inv))));
            }
            for (; c < C; c++) {
              const o = <usize>c << 2;
              f32.store(xp + o, f32.load(xp + o) + f32.load(dp + o) * inv);
            }
          }
        }
      }
    }
  }
}

/** Global average pool: y[n, c] = mean over the HW pixels of x[n, :, c]. */
export function global_avgpool_nhwc_f32(x: usize, N: i32, HW: i32, C: i32, y: usize): void {
  const inv: f32 = <f32>1 / <f32>HW;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * HW * C) << 2);
    const yn = y + (<usize>(n * C) << 2);
    conv2d_grad_bias_f32(xn, HW, C, C, yn);
    const C4 = C & ~3;
    let c = 0;
    for (; c < C4; c += 4) v128.store(yn + (<usize>c << 2), f32x4.mul(v128.load(yn + (<usize>c << 2)), f32x4.splat(inv)));
    for (; c < C; c++) f32.store(yn + (<usize>c << 2), f32.load(yn + (<usize>c << 2)) * inv);
  }
}

/** Global average pool backward: dx[n, p, c] = dy[n, c] / HW. */
export function global_avgpool_bwd_nhwc_f32(dy: usize, N: i32, HW: i32, C: i32, dx: usize): void {
  const inv: f32 = <f32>1 / <f32>HW;
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    const dn = dy + (<usize>(n * C) << 2);
    for (let p = 0; p < HW; p++) {
      const xp = dx + (<usize>((n * HW + p) * C) << 2);
      let c = 0;
      for (; c < C4; c += 4) v128.store(xp + (<usize>c << 2), f32x4.mul(v128.load(dn + (<usize>c << 2)), f32x4.splat(inv)));
      for (; c < C; c++) f32.store(xp + (<usize>c << 2), f32.load(dn + (<usize>c << 2)) * inv);
    }
  }
}
