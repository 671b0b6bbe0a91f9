export type { F32Buffer, ParamGroup } from './params.js';
export { Optimizer, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSProp, type RMSPropOptions } from './rmsprop.js';
export { constant, cosine, exponential, withWarmup, parseSchedule, type Schedule, type ScheduleContext } from './schedule.js';
