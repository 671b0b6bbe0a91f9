// The autograd package: Tensor, tape, scopes, the primitives, the fused ops and the ops composed from primitives.

export { Tensor, stepScope, noGrad, isGradEnabled, type TensorOptions, type Freeable } from './tensor.js';
export { broadcastTo, add, sub, mul, scale, exp, log, sum, mean, reshape, flatten, transpose, slice, concat } from './primitives.js';
export {
  matmul, bmm, attention, biasAdd, relu, relu6, gelu, softmax, crossEntropy, accuracyCount, batchNorm, layerNorm,
  conv2d, depthwiseConv2d, maxPool2d, avgPool2d, globalAvgPool, type BatchNormOptions,
} from './ops.js';
export { softplus, sigmoid, tanh, mseLoss } from './composed.js';
export { fakeQuantize } from './fake-quant.js';
