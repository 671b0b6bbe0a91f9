// The kernel families as namespaces (fliqs.kernels.gemm.gemm(...), ...): typed wrappers over the wasm
// kernels, for benchmarking and for building other layers. Each has its scalar reference beside it.

export * as gemm from './gemm.js';
export * as gemmRef from './gemm.ref.js';
export * as conv from './conv.js';
export * as convRef from './conv.ref.js';
export * as winograd from './winograd.js';
export * as winogradRef from './winograd.ref.js';
export * as elementwise from './elementwise.js';
export * as elementwiseRef from './elementwise.ref.js';
export * as int8 from './int8.js';
export * as int8Ref from './int8.ref.js';
export * as optim from './optim.js';
export * as optimRef from './optim.ref.js';
