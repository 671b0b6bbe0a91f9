// The autograd package: Tensor, tape, scopes, and the differentiable ops.

export { Tensor, stepScope, noGrad, isGradEnabled, type TensorOptions, type Freeable } from './tensor.js';
export {
  matmul, bmm, attention, add, biasAdd, relu, relu6, gelu, softmax, crossEntropy, accuracyCount, batchNorm, layerNorm,
  reshape, flatten, conv2d, depthwiseConv2d, maxPool2d, avgPool2d, globalAvgPool, type BatchNormOptions,
} from './ops.js';
export { fakeQuantize } from './fake-quant.js';
