// Holds a family's kernel list (GEMM_KERNELS, CONV_KERNELS, ELEMENTWISE_KERNELS, INT8_*KERNELS) to its tests:
// trackKernels counts the wasm exports a runtime's wrappers call, and kernelsNotCalled names the list's
// kernels a test file never reached, so a kernel added to a list without a test fails that file.

import type { Runtime } from '../src/core/runtime.js';

type KernelList = Readonly<Record<string, string | Readonly<Record<string, string>>>>;

/** Every wasm export name in a kernel list (nested variants included). */
export function kernelNames(list: KernelList): string[] {
  return Object.values(list).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v)));
}

/** Replaces rt.kernels by a view that records each export called (a test-only wrapper; the exports are untouched). */
export function trackKernels(rt: Runtime): Set<string> {
  const called = new Set<string>();
  // The exports object is frozen (a Proxy must return its own values), so the view is a copy with wrapped functions.
  const view: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(rt.kernels)) {
    view[name] = typeof v !== 'function' ? v : (...args: unknown[]) => { called.add(name); return (v as (...a: unknown[]) => unknown)(...args); };
  }
  Object.defineProperty(rt, 'kernels', { value: view });
  return called;
}

/** The kernels of `list` missing from rt's exports or never called, as "name (variant)" strings. */
export function kernelsNotCalled(list: KernelList, rt: Runtime, called: Set<string>): string[] {
  return kernelNames(list).filter((k) => !called.has(k) || typeof (rt.kernels as unknown as Record<string, unknown>)[k] !== 'function')
    .map((k) => `${k} (${rt.variant})`);
}
