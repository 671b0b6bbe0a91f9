// The --data flag of search, train, eval and pareto: a built-in dataset's name or a path to your own data
// (a folder of IDX or .npy files, a .npz, a .npy, IMAGES.npy,LABELS.npy; read by src/data/node/user.ts).
// A path that does not exist is a usage error at once; what the files hold is checked when they are loaded.

import { DATASET_NAMES } from '../data/node/load.js';
import { isDataPath } from '../data/node/user.js';
import type { FlagSpec } from './args.js';

const FORMS = `${DATASET_NAMES.join(', ')}, or PATH: a folder of IDX or .npy files, a .npz, IMAGES.npy,LABELS.npy`;

/** The --data flag spec, with `help` before the accepted forms. */
export function dataFlag(help: string, defaultName?: string): FlagSpec & { kind: 'string' } {
  return {
    kind: 'string', help: `${help}: ${FORMS}`, ...(defaultName !== undefined ? { default: defaultName } : {}),
    check: (v) => ((DATASET_NAMES as readonly string[]).includes(v) || isDataPath(v) ? null : `is neither a dataset name nor an existing path; accepted: ${FORMS}`),
  };
}
