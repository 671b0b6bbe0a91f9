// fliqs/node: the Node-only parts (dataset files, the commands as functions). The package root stays browser-safe.

export { loadDataset, DATASET_NAMES, type DatasetName, type LoadOptions } from './data/node/load.js';
export { loadUserData, type UserDataOptions } from './data/node/user.js';
export { runTrain } from './cli/train.js';
export { runAnalyze } from './cli/analyze.js';
export { fetchDataPackage, DATA_PACKAGES, type DataPackage, type FetchOptions, type FetchBytes } from './data/node/data-packages.js';
export { userCacheDir } from './data/node/user-cache.js';
