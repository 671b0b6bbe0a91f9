// Deploying a searched model: export to a ModelSpec, the .fliqs file, and inference on the codes.
export { exportModel, type ExportOptions, type LayerFormats } from './export.js';
export { encodeModel, decodeModel, MODEL_FILE_VERSION } from './model-file.js';
export { QuantizedModel, loadModel, type LoadOptions, type PredictOptions } from './inference.js';
export { layerPath, type LayerPath, type Int4Panels } from './layer-runner.js';
export { checkSpec } from './check.js';
export { layerParams, layerChannels, type ModelSpec, type DeployLayer, type DeployWeights, type DeployNode, type DeployInfo, type DeployLayerKind, type ValueId } from './spec.js';
export { fakeQuantPredict } from './fake-quant-eval.js';
export { exportOnnx } from './onnx/export.js';
export type { GraphBuilder } from './graph.js';
