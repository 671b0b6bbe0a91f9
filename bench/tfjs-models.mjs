// TensorFlow.js peers of the zoo models for the training benchmark (NHWC, PyTorch-like padding):
// cnn, lenet5 and the CIFAR-style ResNet-8 with batch-norm, trained with momentum SGD through
// optimizer.minimize. The wasm backend has no Conv2DBackpropFilter kernel, so `conv: 'custom'` runs every
// conv through a tf.customGrad whose weight gradient uses only kernels the wasm backend has (see
// conv2dCustom); `conv: 'standard'` uses tf.conv2d and its built-in gradient (the cpu backend).
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Loads TensorFlow.js (gradients registered) and switches to `backend` ('wasm' single-threaded, or 'cpu').
 * @example
 * const tf = await loadTf('wasm');
 */
export async function loadTf(backend) {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const req = createRequire(import.meta.url);
    const dir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
    wasm.setThreadsCount(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} failed to initialise`);
  await tf.ready();
  return tf;
}

const explicit = (p) => [[0, 0], [p, p], [p, p], [0, 0]];

/**
 * dW of y = conv2d(x, w, stride s, padding p) from kernels the wasm backend has, two ways:
 * 'transpose' — the transposed-input trick: with batch moved into the channels, dW is itself a
 *   convolution: dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, s·oh + kh − p, s·ow + kw − p, ci] · dy[n, oh, ow, co]
 *   = conv2d(xᵀ [Ci, H, W, N], dyᵀ [OH, OW, N, Co] as the filter, stride 1, dilation s, padding p),
 *   cropped to KH×KW and transposed back to HWIO;
 * 'taps' — one GEMM per filter tap: dW[kh, kw] = (strided slice of padded x)ᵀ · dy over N·OH·OW rows.
 */
export function convWeightGrad(tf, x, dy, wShape, s, p, method = 'transpose') {
  const [KH, KW, CI, CO] = wShape;
  const [N, OH, OW] = dy.shape;
  return tf.tidy(() => {
    if (method === 'transpose') {
      const xt = tf.transpose(x, [3, 1, 2, 0]);
      const dyt = tf.transpose(dy, [1, 2, 0, 3]);
      const r = tf.conv2d(xt, dyt, 1, explicit(p), 'NHWC', [s, s]);
      const cropped = r.shape[1] === KH && r.shape[2] === KW ? r : tf.slice(r, [0, 0, 0, 0], [CI, KH, KW, CO]);
      return tf.transpose(cropped, [1, 2, 0, 3]);
    }
    const xp = p > 0 ? tf.pad(x, explicit(p)) : x;
    const dy2 = tf.reshape(dy, [N * OH * OW, CO]);
    const taps = [];
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const xs = tf.stridedSlice(xp, [0, kh, kw, 0], [N, kh + s * (OH - 1) + 1, kw + s * (OW - 1) + 1, CI], [1, s, s, 1]);
        taps.push(tf.matMul(tf.reshape(xs, [N * OH * OW, CI]), dy2, true, false));
      }
    }
    return tf.reshape(tf.stack(taps), [KH, KW, CI, CO]);
  });
}

/**
 * dx of y = conv2d(x, w, stride s, padding p) as a stride-1 conv2d FORWARD (XNNPACK in the wasm backend;
 * its Conv2DBackpropInput kernel is a slow direct loop): dy dilated by s (zeros inserted with
 * reshape + pad), convolved with the spatially flipped, in/out-swapped filter, padded KH−1−p on top and
 * whatever makes the output H×W at the bottom (crop when that would be negative).
 */
export function convInputGrad(tf, dy, w, xShape, s, p) {
  const [KH, KW, CI, CO] = w.shape;
  const [N, OH, OW] = dy.shape;
  const [, H, W] = xShape;
  return tf.tidy(() => {
    let d = dy;
    if (s > 1) {
      d = tf.reshape(tf.pad(tf.reshape(dy, [N, OH, 1, OW, 1, CO]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]), [N, OH * s, OW * s, CO]);
    }
    const top = KH - 1 - p, left = KW - 1 - p;
    let bottom = H - d.shape[1] - top + KH - 1, right = W - d.shape[2] - left + KW - 1;
    if (bottom < 0 || right < 0) {
      d = tf.slice(d, [0, 0, 0, 0], [N, d.shape[1] + Math.min(0, bottom), d.shape[2] + Math.min(0, right), CO]);
      bottom = Math.max(0, bottom); right = Math.max(0, right);
    }
    const wf = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(d, wf, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  });
}

/**
 * conv2d (stride s, symmetric padding p) with a custom gradient built only from kernels the wasm backend
 * has: dx by convInputGrad (dgrad 'conv') or conv2dTranspose (dgrad 'transpose', the Conv2DBackpropInput
 * kernel), dW by convWeightGrad(wgrad).
 */
export function conv2dCustom(tf, { wgrad = 'transpose', dgrad = 'conv' } = {}) {
  const cache = new Map();
  return (x, w, s, p) => {
    const key = `${s},${p}`;
    let f = cache.get(key);
    if (!f) {
      f = tf.customGrad((xx, ww, save) => {
        save([xx, ww]);
        return {
          value: tf.conv2d(xx, ww, s, explicit(p)),
          gradFunc: (dy, [sx, sw]) => [
            dgrad === 'conv' ? convInputGrad(tf, dy, sw, sx.shape, s, p) : tf.conv2dTranspose(dy, sw, sx.shape, s, explicit(p)),
            convWeightGrad(tf, sx, dy, sw.shape, s, p, wgrad),
          ],
        };
      });
      cache.set(key, f);
    }
    return f(x, w);
  };
}

/** Deterministic uniform(−b, b) values (xorshift), like the zoo's default init bound 1/√fanIn. */
function uniform(n, bound, state) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = state.s;
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    state.s = s;
    a[i] = (s / 2 ** 32 * 2 - 1) * bound;
  }
  return a;
}

/**
 * Builds a peer model: { forward(x) → logits, variables, dispose() }.
 * @param {'cnn'|'lenet5'|'resnet8'} name
 * @param {{ conv?: 'standard'|'custom', wgrad?: 'transpose'|'taps', dgrad?: 'conv'|'transpose', bn?: 'broadcast'|'fused', seed?: number, classes?: number }} opts
 * @example
 * const m = buildModel(tf, 'cnn', { conv: 'custom' });
 * const logits = m.forward(tf.zeros([64, 28, 28, 1])); // [64, 10]
 */
export function buildModel(tf, name, opts = {}) {
  const classes = opts.classes ?? 10;
  const state = { s: (opts.seed ?? 1) >>> 0 || 1 };
  const conv = opts.conv === 'custom' ? conv2dCustom(tf, { wgrad: opts.wgrad, dgrad: opts.dgrad }) : (x, w, s, p) => tf.conv2d(x, w, s, explicit(p));
  const vars = [];
  const trainable = (shape, bound, fill) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = tf.variable(tf.tensor(fill === undefined ? uniform(n, bound, state) : new Float32Array(n).fill(fill), shape), true);
    vars.push(v);
    return v;
  };
  const fixed = (shape, value) => tf.variable(tf.fill(shape, value), false);
  const others = [];

  const convLayer = (k, ci, co, { s = 1, p = 0, bias = true } = {}) => {
    const b = 1 / Math.sqrt(k * k * ci);
    const w = trainable([k, k, ci, co], b), bb = bias ? trainable([co], b) : null;
    return (x) => (bb ? tf.add(conv(x, w, s, p), bb) : conv(x, w, s, p));
  };
  const dense = (ci, co) => {
    const b = 1 / Math.sqrt(ci);
    const w = trainable([ci, co], b), bb = trainable([co], b);
    return (x) => tf.add(tf.matMul(x, w), bb);
  };
  const bn = (c) => {
    const gamma = trainable([c], 0, 1), beta = trainable([c], 0, 0);
    const rm = fixed([c], 0), rv = fixed([c], 1);
    others.push(rm, rv);
    return (x) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      // Running statistics as in PyTorch (momentum 0.1); they carry no gradient.
      tf.tidy(() => {
        rm.assign(tf.add(tf.mul(rm, 0.9), tf.mul(mean, 0.1)));
        rv.assign(tf.add(tf.mul(rv, 0.9), tf.mul(variance, 0.1)));
      });
      if (opts.bn === 'fused') return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
      // Default: broadcast ops, whose gradients reduce instead of tiling (faster than the fused op's).
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
    };
  };
  const pool = (x) => tf.maxPool(x, 2, 2, 'valid');
  const flat = (x) => tf.reshape(x, [x.shape[0], -1]);

  let forward;
  if (name === 'cnn') {
    const c1 = convLayer(3, 1, 16, { p: 1 }), c2 = convLayer(3, 16, 32, { p: 1 }), fc = dense(7 * 7 * 32, classes);
    forward = (x) => fc(flat(pool(tf.relu(c2(pool(tf.relu(c1(x))))))));
  } else if (name === 'lenet5') {
    const c1 = convLayer(5, 1, 6, { p: 2 }), c2 = convLayer(5, 6, 16);
    const f1 = dense(5 * 5 * 16, 120), f2 = dense(120, 84), f3 = dense(84, classes);
    forward = (x) => f3(tf.relu(f2(tf.relu(f1(flat(pool(tf.relu(c2(pool(tf.relu(c1(x))))))))))));
  } else if (name === 'resnet8') {
    const stemC = convLayer(3, 1, 16, { p: 1, bias: false }), stemBn = bn(16);
    const block = (ci, co, s) => {
      const c1 = convLayer(3, ci, co, { s, p: 1, bias: false }), b1 = bn(co);
      const c2 = convLayer(3, co, co, { p: 1, bias: false }), b2 = bn(co);
      const down = s !== 1 || ci !== co ? [convLayer(1, ci, co, { s, bias: false }), bn(co)] : null;
      return (x) => tf.relu(tf.add(b2(c2(tf.relu(b1(c1(x))))), down ? down[1](down[0](x)) : x));
    };
    const blocks = [block(16, 16, 1), block(16, 32, 2), block(32, 64, 2)];
    const fc = dense(64, classes);
    forward = (x) => fc(tf.mean(blocks.reduce((h, b) => b(h), tf.relu(stemBn(stemC(x)))), [1, 2]));
  } else {
    throw new Error(`no TensorFlow.js peer for model ${name}`);
  }
  return {
    forward,
    variables: vars,
    dispose: () => { for (const v of [...vars, ...others]) v.dispose(); },
  };
}

/**
 * One momentum-SGD step on a batch; returns the loss (read back, so the step has finished).
 * @example
 * const opt = tf.train.momentum(0.01, 0.9);
 * const loss = trainStep(tf, model, opt, images, labels, [64, 28, 28, 1]);
 */
export function trainStep(tf, model, optimizer, images, labels, shape, classes = 10) {
  const cost = tf.tidy(() => {
    const x = tf.tensor4d(images, shape);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
    return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)), true, model.variables);
  });
  const v = cost.dataSync()[0];
  cost.dispose();
  return v;
}
