// Search-space presets (the paper's Table 5) and the parser for user-given format lists.

import { FliqsError, describe } from '../core/errors.js';
import { parseFormat, type Format } from './format.js';

export const SEARCH_SPACES = {
  'int-s': ['INT4', 'INT8', 'BF16'],
  'int-l': ['INT4', 'INT5', 'INT6', 'INT7', 'INT8', 'BF16'],
  'fp-s': ['E2M1', 'E4M3', 'BF16'],
  'fp-l': ['E2M1', 'E2M2', 'E2M3', 'E2M4', 'E2M5', 'E3M1', 'E3M2', 'E3M3', 'E3M4', 'E4M1', 'E4M2', 'E4M3', 'E5M1',
    'E5M2', 'E6M1', 'BF16'],
} as const satisfies Record<string, readonly string[]>;

export type SearchSpaceName = keyof typeof SEARCH_SPACES;

/**
 * A search space: a preset name, a comma-separated list, or an array of names; presets may be
 * joined with `+` (`int-s+fp-s`). Duplicates are dropped, order is kept.
 * @example
 * parseSearchSpace('fp-s').map((f) => f.name)        // ['E2M1', 'E4M3', 'BF16']
 * parseSearchSpace('INT4, e4m3,INT8').map((f) => f.name) // ['INT4', 'E4M3', 'INT8']
 */
export function parseSearchSpace(spec: string | readonly (string | Format)[]): Format[] {
  let items: (string | Format)[];
  if (typeof spec === 'string') {
    items = spec.split(/[,+]/).map((s) => s.trim()).filter((s) => s.length > 0)
      .flatMap((s) => (s.toLowerCase() in SEARCH_SPACES ? [...SEARCH_SPACES[s.toLowerCase() as SearchSpaceName]] : [s]));
  } else if (Array.isArray(spec)) {
    items = [...spec];
  } else {
    throw new FliqsError('space', `got ${describe(spec)}`, `a preset (${Object.keys(SEARCH_SPACES).join(', ')}) or a list of format names`);
  }
  if (items.length === 0) {
    throw new FliqsError('space', 'is empty', `a preset (${Object.keys(SEARCH_SPACES).join(', ')}) or a list of format names`);
  }
  const seen = new Set<string>();
  const out: Format[] = [];
  for (const it of items) {
    const f = parseFormat(it);
    if (!seen.has(f.name)) { seen.add(f.name); out.push(f); }
  }
  return out;
}
