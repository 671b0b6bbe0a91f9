// The one WebAssembly module: every kernel family re-exported here. No policy, no I/O.
export * from './memory';
export * from './quant';
export * from './stats';
export * from './gemm';
export * from './conv';
export * from './elementwise';
export * from './int8';
export * from './deploy';
export * from './winograd';
