// Quantizer throughput (GB/s of f32 input) at 64K and 4M elements, all measured in the same run, all through
// the public quantize(): on wasm-resident arrays | on plain JS arrays into a given out (streams through wasm) |
// returning a new array | the best scalar JS loop we could write (into out, and into a new array) | the
// TypeScript reference | Float32Array.prototype.set (memcpy).
import { quantize, quantizeRef, parseFormat, runtime } from '../dist/index.js';
import { kernelParams, scaleOf } from '../dist/formats/params.js';
import { environment, measure, printTable, save } from './lib.mjs';

const FORMATS = ['INT8', 'INT4', 'E4M3', 'E2M1', 'E5M2', 'BF16'];
const SIZES = [1 << 16, 1 << 22];
const TIME = Number(process.env.BENCH_TIME_MS ?? 500);

// ---- the best scalar JS peers: f64 arithmetic, bit manipulation on a Uint32Array view, no Math.round ----

function intJS(x, out, s, m) {
  for (let i = 0; i < x.length; i++) {
    let v = x[i] * s;
    v = v > m ? m : v < -m ? -m : v;
    let r = Math.floor(v + 0.5);
    if (r - v === 0.5 && (r & 1) !== 0) r -= 1; // tie: back to the even integer
    out[i] = r / s;
  }
}

function exmyJS(x, out, outU, s, m, M, Tbits, half, keep, sh) {
  for (let i = 0; i < x.length; i++) {
    let v = x[i] * s;
    v = v > m ? m : v < -m ? -m : v;
    out[i] = v; // f32 rounding of x·s, then work on its bits
    let a = outU[i];
    const sign = a & 0x80000000;
    a ^= sign;
    if (a < Tbits) {
      out[i] = Math.fround(out[i] + M) - M;
      outU[i] |= sign;
    } else {
      outU[i] = (((a + half + ((a >>> sh) & 1)) & keep) | sign) >>> 0;
    }
    out[i] = out[i] / s;
  }
}

function bf16JS(xU, outU) {
  for (let i = 0; i < xU.length; i++) {
    const u = xU[i];
    outU[i] = (u & 0x7fffffff) > 0x7f800000 ? u : ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
}

function jsPeer(f, clip) {
  const s = scaleOf(f, clip);
  if (f.kind === 'int') return (x, out) => intJS(x, out, s, f.maxValue);
  if (f.kind === 'bf16') return (x, out) => bf16JS(new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(out.buffer, out.byteOffset, out.length));
  const k = kernelParams(f);
  const f32 = new Float32Array([k.T]);
  const Tbits = new Uint32Array(f32.buffer)[0];
  const half = (1 << (k.sh - 1)) - 1, keep = ~((1 << k.sh) - 1);
  return (x, out) => exmyJS(x, out, new Uint32Array(out.buffer, out.byteOffset, out.length), s, f.maxValue, k.M, Tbits, half, keep, k.sh);
}

export default async function run() {
  const rows = [], results = [];
  for (const n of SIZES) {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.7311) * 3 + Math.cos(i * 0.0137); // deterministic, spread over the range
    const out = new Float32Array(n);
    const rx = runtime.copyIn(x), ro = runtime.allocF32(n);
    const refN = Math.min(n, 1 << 16); // the reference is slow: time it on ≤ 64K and scale
    const memcpy = (await measure({ memcpy: () => out.set(x) }, { time: TIME }))[0];
    for (const name of FORMATS) {
      const f = parseFormat(name);
      const clip = f.ignoresClip ? undefined : 2.5;
      const peer = jsPeer(f, clip ?? 1);
      // The peer must compute the same thing (it runs in f64, so allow rare last-bit differences).
      peer(x, out);
      const want = quantize(x, f, clip);
      let diff = 0;
      for (let i = 0; i < n; i++) if (out[i] !== want[i]) diff++;
      const xs = x.subarray(0, refN), outs = out.subarray(0, refN);
      // What a user calls: quantize() on wasm-resident arrays (in place, no copies), on plain Float32Arrays into a
      // given `out`, and returning a new array (which pays for fresh pages — the 'JS new' peer does too).
      const r = await measure({
        resident: () => quantize(rx.array, f, clip, ro.array),
        'quantize()': () => quantize(x, f, clip, out),
        'quantize() new': () => quantize(x, f, clip),
        js: () => peer(x, out),
        'js new': () => peer(x, new Float32Array(n)),
        reference: () => quantizeRef(xs, f, clip ?? 1, outs),
      }, { time: TIME });
      const gbs = (t, elems = n) => (elems * 4) / (t.medianMs * 1e6);
      const [w, q, qn, j, jn, ref] = r;
      const row = {
        format: name, n, residentGBs: gbs(w), quantizeGBs: gbs(q), quantizeNewGBs: gbs(qn), jsGBs: gbs(j), jsNewGBs: gbs(jn),
        referenceGBs: gbs(ref, refN), memcpyGBs: gbs(memcpy),
        quantizeOverJs: j.medianMs / q.medianMs, quantizeNewOverJsNew: jn.medianMs / qn.medianMs,
        quantizeOverMemcpy: memcpy.medianMs / q.medianMs, plainOverResidentTime: q.medianMs / w.medianMs, peerMismatches: diff,
      };
      results.push(row);
      rows.push([name, n === 1 << 16 ? '64K' : '4M', row.residentGBs.toFixed(2), row.quantizeGBs.toFixed(2), row.quantizeNewGBs.toFixed(2),
        row.jsGBs.toFixed(2), row.jsNewGBs.toFixed(2), row.memcpyGBs.toFixed(2), `${row.quantizeOverJs.toFixed(1)}×`,
        `${row.quantizeNewOverJsNew.toFixed(1)}×`, `${(100 * row.quantizeOverMemcpy).toFixed(0)}%`, `${row.plainOverResidentTime.toFixed(2)}×`]);
    }
    rx.free(); ro.free();
  }
  printTable(['format', 'n', 'resident GB/s', 'quantize() GB/s', 'quantize() new GB/s', 'best JS GB/s', 'JS new GB/s', 'memcpy GB/s',
    'quantize() / JS', 'new / JS new', 'quantize() / memcpy', 'plain / resident time'], rows);
  const path = save('quantize', { environment: environment({ variant: runtime.variant, timeMs: TIME }), results });
  console.log(`\nsaved ${path}`);
}
