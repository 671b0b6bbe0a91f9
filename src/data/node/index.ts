// The Node-only data API: file loaders for MNIST, Fashion-MNIST and your own files (IDX, .npy, .npz), and
// loadDataset over them all.

export { loadDataset, DATASET_NAMES, FASHION_TEST_SEED, type DatasetName, type LoadOptions } from './load.js';
export { loadMnistRaw, mnistDir, type RawImages } from './mnist.js';
export { loadFashionRaw, FASHION_PER_CLASS, type FashionLoad, type FashionOptions } from './fashion.js';
export { cacheDir, packageDir } from './files.js';
export { loadUserData, type UserDataOptions } from './user.js';
export { readNpz } from './npz.js';
export { fetchDataPackage, dataPackageDir, DATA_PACKAGES, type DataPackage, type FetchOptions, type FetchBytes } from './data-packages.js';
export { userCacheDir } from './user-cache.js';
