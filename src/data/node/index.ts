// The Node-only data API: file loaders for MNIST and Fashion-MNIST (and loadDataset over all three).

export { loadDataset, DATASET_NAMES, FASHION_TEST_SEED, type DatasetName, type LoadOptions } from './load.js';
export { loadMnistRaw, mnistDir, type RawImages } from './mnist.js';
export { loadFashionRaw, FASHION_PER_CLASS, type FashionLoad, type FashionOptions } from './fashion.js';
export { cacheDir, packageDir } from './files.js';
export { loadUserData, type UserDataOptions } from './user.js';
export { readNpz } from './npz.js';
