// RMSProp, PyTorch's rule:
//   g = grad + wd·p;  v = α·v + (1 − α)·g²
//   centered: ḡ = α·ḡ + (1 − α)·g,  avg = √(v − ḡ²) + eps;  otherwise avg = √v + eps
//   momentum > 0: buf = μ·buf + g/avg, p −= lr·buf;  otherwise p −= lr·g/avg
// One fused pass in TypeScript over Float32Array views (state in wasm memory); no SIMD kernel yet.
// Deviation: v − ḡ² is clamped at 0 before the root (f32 rounding can make it slightly negative,
// which gives NaN in PyTorch).
import { FliqsError } from '../core/errors.js';
import { runtime as defaultRuntime } from '../core/runtime.js';
import { Optimizer, requireEps, requireLr, requireNonNeg, requireUnit } from './optimizer.js';
import { view } from './params.js';
/**
 * RMSProp, PyTorch semantics (torch.optim.RMSprop).
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([0.5]);
 * const opt = new RMSProp([{ param: p, grad: g }], { lr: 0.01, alpha: 0.99 });
 * opt.step(); // v = 0.0025, p = 1 − 0.01·0.5/0.05 = [0.9]
 * opt.dispose();
 */
export class RMSProp extends Optimizer {
    alpha;
    eps;
    momentum;
    centered;
    weightDecay;
    constructor(params, opts, rt = defaultRuntime) {
        const alpha = requireUnit('alpha', opts?.alpha ?? 0.99);
        const eps = requireEps(opts?.eps ?? 1e-8);
        const momentum = requireUnit('momentum', opts?.momentum ?? 0);
        const centered = opts?.centered ?? false;
        if (typeof centered !== 'boolean')
            throw new FliqsError('centered', `got ${String(centered)}`, 'true or false');
        const weightDecay = requireNonNeg('weightDecay', opts?.weightDecay ?? 0);
        const buffers = ['squareAvg'];
        if (centered)
            buffers.push('gradAvg');
        if (momentum > 0)
            buffers.push('momentum');
        super('rmsprop', params, requireLr(opts?.lr ?? 1e-2), buffers, rt);
        this.alpha = alpha;
        this.eps = eps;
        this.momentum = momentum;
        this.centered = centered;
        this.weightDecay = weightDecay;
    }
    update(i, s) {
        const p = view(s.param, s.n, `${s.name}.param`), g = view(s.grad, s.n, `${s.name}.grad`);
        const { alpha: a, eps, momentum: mu, centered } = this, lr = this.lr;
        const wd = s.decay ? this.weightDecay : 0;
        const v = this.buffer(0, i);
        const gavg = centered ? this.buffer(1, i) : null;
        const buf = mu > 0 ? this.buffer(centered ? 2 : 1, i) : null;
        for (let j = 0; j < s.n; j++) {
            const gj = Math.fround(g[j] + wd * p[j]);
            const vj = (v[j] = Math.fround(a * v[j] + (1 - a) * gj * gj));
            let avg;
            if (gavg) {
                const ga = (gavg[j] = Math.fround(a * gavg[j] + (1 - a) * gj));
                avg = Math.sqrt(Math.max(0, vj - ga * ga)) + eps;
            }
            else {
                avg = Math.sqrt(vj) + eps;
            }
            if (buf) {
                const b = (buf[j] = Math.fround(mu * buf[j] + gj / avg));
                p[j] = p[j] - lr * b;
            }
            else {
                p[j] = p[j] - lr * gj / avg;
            }
        }
    }
}
//# sourceMappingURL=rmsprop.js.map