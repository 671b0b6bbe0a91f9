// fliqs: the package root. Everything here runs in Node and in browsers (no Node built-ins).

export { FliqsError } from './core/errors.js';
export { runtime, createRuntime, supportedVariants, canShareMemory, Runtime, WasmF32, WasmI32, type Variant } from './core/runtime.js';
export { setThreads, getThreads, availableCores, stopThreads, singleThreadReason, startThreads } from './kernels/threads.js';
export type { F32Operand } from './core/operands.js';
export { Arena } from './core/arena.js';
export { Rng } from './core/random.js';
export { parseFormat, ACCEPTED_FORMATS, type Format, type FormatKind } from './formats/format.js';
export { SEARCH_SPACES, parseSearchSpace, type SearchSpaceName } from './formats/presets.js';
export { quantize, quantizePerChannel, steGradient, type ChannelLayout } from './kernels/quant.js';
export { quantizeRef, quantizePerChannelRef, steRef } from './formats/reference.js';
export { encode, decode, packCodes, unpackCodes, quantizeToCodes, dequantizeCodes } from './formats/codes.js';
export { tensorStats, percentileClip, mseOptimalClip, type TensorStats, type MseClip, type MseClipOptions } from './kernels/stats.js';
export * from './optim/index.js';
export * from './data/index.js';
export * from './autograd/index.js';
export * from './nn/index.js';
export { createModel, describeModel, MODEL_NAMES, type ModelName, type ModelOptions, type LayerInfo } from './nn/zoo.js';
export { Trainer, OPTIMIZERS, type TrainConfig, type StepResult, type EvalResult, type TrainerCheckpoint } from './train/trainer.js';
export { encodeCheckpoint, decodeCheckpoint, type CheckpointBlob } from './train/checkpoint-file.js';
export { recalibrateBatchNorm } from './train/recalibrate.js';
export * as kernels from './kernels/index.js';
export * from './search/index.js';
export * from './deploy/index.js';
export { startSearch, type StartSearchOptions, type SearchHandle, type SearchState } from './worker/start.js';
export type { WorkerSearchOptions, NamedData, SearchPhase, SearchStart, SearchProgress, StepPoint, SearchOutcome } from './worker/protocol.js';
