// The browser-safe data API (no Node built-ins). File loaders live in ./node/.

export { NORMALIZATION, fromBytes, checkDataset, datasetSize, exampleSize,
  type Dataset, type DatasetSplits, type Normalization } from './dataset.js';
export { batches, batchCount, shiftFlip, type Augment, type Batch, type BatchOptions } from './batches.js';
export { syntheticDataset, syntheticSplits, type SyntheticOptions, type SyntheticSplitOptions } from './synthetic.js';
export { plantedDataset, plantedSplits, PLANTED_SMALL_FEATURE, PLANTED_CUE_FEATURE,
  type PlantedOptions, type PlantedDatasetOptions, type PlantedSplitOptions } from './planted.js';
export { stratifiedOrder, holdOut } from './split.js';
export { parseIdx, type Idx } from './idx.js';
export { parseNpy, type Npy, type NpyData, type NpyDtype } from './npy.js';
export { datasetFromArrays, type ArraysOptions, type ImageArray, type LabelArray } from './arrays.js';
export { encodeCache, decodeCache, crc32, type ImageCache } from './cache.js';
export { datasetInfo, type DatasetInfo } from './info.js';
