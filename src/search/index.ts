// The FLIQS search as a library: the search loop, its controller, cost model, schedule, search space and
// the A.8 analysis. Browser-safe; the CLI (`fliqs search`, `pareto`, `analyze`) is built on these.

export {
  Search, retrainFixed, searchWarnings, searchClipMultiples, spaceFormats, COST_TOLERANCE, SETTLED_ENTROPY, DEFAULT_SEARCH_CONTROLLER_LR,
  DEFAULT_SEARCH_LABEL_SMOOTHING, DEFAULT_SEARCH_ENTROPY_END, CONSTANT_QUALITY, QUALITY_SIGNALS, CALIBRATION_MIN_STEPS, calibrationStart,
  jointKernelProbability, DEFAULT_RECALIBRATION_BATCHES,
  type SearchOptions, type SearchStep, type SearchResult, type LayerResult, type ArchResult, type QualitySignal, type RewardScaleMode, type ResultRule,
} from './search.js';
export { ARCH_SPACES, DEFAULT_ARCH_WIDTHS, DEFAULT_ARCH_KERNELS, archOptionsOf, isArchSpace } from './arch-spaces.js';
export { costModel, costUnits, type CostModel, type CostUnit } from './joint-cost.js';
export {
  Controller, DEFAULT_CONTROLLER_LR, DEFAULT_CONTROLLER_BETAS, DEFAULT_BASELINE_MOMENTUM, ESTIMATORS,
  type ControllerOptions, type ControllerState, type UpdateResult, type Estimator, type CostTerm,
} from './controller.js';
export { configCost, layerCosts, layerBops, uniformCost, reachableRange, nearestCosts, parseTarget, reward, formatMbops, LEGACY_GAMMA, DEFAULT_GAMMA_PER_SIGMA, MIN_QUALITY_NOISE, qualityNoise, type ReachableRange, type NearestCosts } from './cost.js';
export { sampleConfigNearCost, countConfigsNearCost, equalCostSampler, DEFAULT_EQUAL_COST_RESOLUTION, type EqualCostSampler, type EqualCostOptions } from './equal-cost.js';
export { mostProbableInBand, DEFAULT_BUDGET_RESOLUTION } from './budget.js';
export { entropyWeight, warmupSteps, DEFAULT_ENTROPY_END, DEFAULT_WARMUP_FRACTION } from './schedule.js';
export {
  buildSearchSpace, configFormats, configRecord, configArch, configArchValues, choiceCounts, decisionCount,
  type SearchSpace, type SearchLayer, type SearchSpaceOptions, type Config,
} from './space.js';
export {
  switchingError, clippingAnalysis, defaultClipMultiples, expFit,
  type SwitchingOptions, type SwitchingResult, type SwitchingPoint, type ClippingOptions, type ClippingResult, type ClipRow,
  type ExpFit, type TensorSpec, type Distribution, type Progress,
} from './analyze.js';
