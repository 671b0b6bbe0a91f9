// The optimizers (SGD, Adam, AdamW, RMSProp) and learning-rate schedules.
export { Optimizer } from './optimizer.js';
export { SGD } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export { RMSProp } from './rmsprop.js';
export { constant, cosine, exponential, withWarmup, parseSchedule } from './schedule.js';
//# sourceMappingURL=index.js.map