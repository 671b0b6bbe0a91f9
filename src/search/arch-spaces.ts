// The FLIQNAS space presets: `fliqnas-s` / `fliqnas-l` (the FLIQS-S / -L integer formats, `-fp-` for the
// floating-point ones) with the architecture searched, and `qnas-<format>` (quantized NAS: one format for every
// layer, architecture searched). The architecture lists are what the super-network is built with
// (archOptionsOf); the search reads the decisions from the model.

import { FliqsError, describe } from '../core/errors.js';
import { parseFormat } from '../formats/format.js';
import type { ArchOptions } from '../nn/mobilenet.js';

/** Expansion-width multipliers of the presets (paper A.13 searches 0.25–2× in steps of 0.25; 0.5–1.5× fits this machine). */
export const DEFAULT_ARCH_WIDTHS: readonly number[] = Object.freeze([0.5, 0.75, 1, 1.25, 1.5]);
/** Depthwise kernel sizes of the presets (paper Section 5: 3, 5, 7). */
export const DEFAULT_ARCH_KERNELS: readonly number[] = Object.freeze([3, 5, 7]);

export const ARCH_SPACES = {
  'fliqnas-s': 'int-s',
  'fliqnas-l': 'int-l',
  'fliqnas-fp-s': 'fp-s',
  'fliqnas-fp-l': 'fp-l',
} as const satisfies Record<string, string>;

export const ARCH_SPACE_HELP = `or an architecture space: ${Object.keys(ARCH_SPACES).join(', ')} (formats with widths and kernel sizes), qnas-<format> (e.g. qnas-int8: one format, architecture searched)`;

/**
 * A space spec split into its formats and whether it searches the architecture.
 * @example
 * splitSpaceSpec('fliqnas-s') // { formats: 'int-s', arch: true }
 * splitSpaceSpec('qnas-E4M3') // { formats: ['E4M3'], arch: true }
 * splitSpaceSpec('int-s')     // { formats: 'int-s', arch: false }
 */
export function splitSpaceSpec(space: unknown): { formats: string | readonly string[]; arch: boolean } {
  if (typeof space !== 'string') return { formats: space as readonly string[], arch: false };
  const s = space.trim().toLowerCase();
  if (Object.hasOwn(ARCH_SPACES, s)) return { formats: ARCH_SPACES[s as keyof typeof ARCH_SPACES], arch: true };
  if (s.startsWith('qnas-')) {
    const f = space.trim().slice(5);
    try {
      return { formats: [parseFormat(f).name], arch: true };
    } catch (e) {
      if (e instanceof FliqsError) throw new FliqsError('space', `${JSON.stringify(space)}: ${e.problem}`, 'qnas-<format>, e.g. qnas-int8 or qnas-e4m3');
      throw e;
    }
  }
  return { formats: space, arch: false };
}

/** True when the space spec searches the architecture (a FLIQNAS or quantized-NAS preset). */
export function isArchSpace(space: unknown): boolean {
  return splitSpaceSpec(space).arch;
}

/**
 * The super-network options an architecture space is built with: the preset lists, or `widths` / `kernelSizes`
 * given instead.
 * @example
 * createModel('mobilenetv2', { width: 0.25, arch: archOptionsOf('fliqnas-s') });
 */
export function archOptionsOf(space: unknown, lists: { widths?: readonly number[]; kernelSizes?: readonly number[] } = {}): ArchOptions {
  if (!isArchSpace(space)) throw new FliqsError('space', `${describe(space)} does not search the architecture`, ARCH_SPACE_HELP);
  return { widths: lists.widths ?? DEFAULT_ARCH_WIDTHS, kernelSizes: lists.kernelSizes ?? DEFAULT_ARCH_KERNELS };
}
