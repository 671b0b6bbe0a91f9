// The optimizers (SGD, Adam, AdamW, RMSProp) and learning-rate schedules.

export type { F32Buffer, ParamBuffers, ParamGroup } from './params.js';
export { Optimizer, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSProp, type RMSPropOptions } from './rmsprop.js';
export { constant, cosine, exponential, withWarmup, parseSchedule, type Schedule, type ScheduleContext } from './schedule.js';
