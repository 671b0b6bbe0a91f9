// The nn package: Module, layers, attention, QuantLayer behaviour and seeded init.

export { Module, parameter, buffer, type StateDict } from './module.js';
export {
  Linear, Conv2d, DepthwiseConv2d, BatchNorm2d, LayerNorm, ReLU, ReLU6, GELU, Flatten, GlobalAvgPool, MaxPool2d, AvgPool2d,
  Sequential, Residual, BasicBlock, type LinearOptions, type Conv2dOptions,
} from './layers.js';
export { MultiHeadSelfAttention, type AttentionOptions } from './attention.js';
export {
  Quantizer, quantLayers, isQuantLayer, startProfile, finishProfile, type QuantLayer, type QuantizerOptions, type WeightClipMethod,
} from './quant.js';
export { manualSeed, rngOf, uniformArray, defaultBound } from './init.js';
