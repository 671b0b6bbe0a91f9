// The nn package: Module, layers, attention, QuantLayer behaviour and seeded init.

export { Module, parameter, buffer, type StateDict } from './module.js';
export {
  Linear, Conv2d, DepthwiseConv2d, BatchNorm2d, LayerNorm, ReLU, ReLU6, GELU, Flatten, GlobalAvgPool, MaxPool2d, AvgPool2d,
  Sequential, Residual, BasicBlock, type LinearOptions, type Conv2dOptions,
} from './layers.js';
export { MultiHeadSelfAttention, type AttentionOptions } from './attention.js';
export {
  ElasticConv2d, ElasticDepthwiseConv2d, ElasticBatchNorm2d, KERNEL_SHARINGS, type ArchSlot, type KernelSharing, type ElasticDepthwiseOptions,
} from './elastic.js';
export {
  isSupernet, type MobileNetV2, type ArchOptions, type ArchDecision, type ArchFactor, type ModelArchitecture, type Supernet,
} from './mobilenet.js';
export {
  Quantizer, quantLayers, isQuantLayer, startProfile, finishProfile, type QuantLayer, type QuantizerOptions, type WeightClipMethod,
} from './quant.js';
export { modelFromSpec, LAYER_TYPES, type LayerListSpec, type LayerSpec, type SpecOptions, type SpecPair } from './spec.js';
export { manualSeed, rngOf, uniformArray, defaultBound } from './init.js';
