// The one WebAssembly module: every kernel family re-exported here. No policy, no I/O.
export * from './memory';
export * from './quant';
export * from './stats';
export * from './gemm';
export * from './conv2d';
export * from './conv2d_grad_input';
export * from './conv2d_grad_weight';
export * from './conv2d_grad_weight_gemm';
export * from './conv2d_grad_bias';
export * from './depthwise';
export * from './pool';
export * from './elementwise';
export * from './int8';
export * from './deploy';
export * from './optim';
export * from './winograd';
