// Arena: a first-fit allocator over WebAssembly linear memory, driven from TypeScript.
// Kernels take byte offsets; the arena hands them out (64-byte aligned, so SIMD loads never split
// a cache line), coalesces freed blocks, and grows the memory when it runs out.

import { FliqsError } from './errors.js';

const ALIGN = 64;
const PAGE = 65536;

export class Arena {
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private top: number;
  /** Free blocks below `top`, sorted by offset: [offset, bytes] pairs. */
  private free_: Array<[number, number]> = [];
  private readonly sizes = new Map<number, number>();
  private inUse = 0;
  private peak = 0;

  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.base = base;
    this.top = base;
  }

  /** Allocates `bytes` (rounded up to 64) and returns the byte offset. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new FliqsError('bytes', `got ${bytes}`, 'a non-negative integer');
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let ptr = -1;
    for (let i = 0; i < this.free_.length; i++) {
      const [off, len] = this.free_[i]!;
      if (len >= size) {
        ptr = off;
        if (len === size) this.free_.splice(i, 1);
        else this.free_[i] = [off + size, len - size];
        break;
      }
    }
    if (ptr < 0) {
      ptr = this.top;
      this.ensure(ptr + size);
      this.top += size;
    }
    this.sizes.set(ptr, size);
    this.inUse += size;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return ptr;
  }

  /** Returns a block to the arena. Freeing an offset that is not allocated is an error. */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new FliqsError('ptr', `${ptr} is not an allocated block`, 'an offset returned by alloc() and not yet freed');
    this.sizes.delete(ptr);
    this.inUse -= size;
    let lo = 0, hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free_[mid]![0] < ptr) lo = mid + 1; else hi = mid;
    }
    this.free_.splice(lo, 0, [ptr, size]);
    // Coalesce with the right and left neighbours.
    const cur = this.free_[lo]!;
    const right = this.free_[lo + 1];
    if (right && cur[0] + cur[1] === right[0]) {
      cur[1] += right[1];
      this.free_.splice(lo + 1, 1);
    }
    const left = this.free_[lo - 1];
    if (left && left[0] + left[1] === cur[0]) {
      left[1] += cur[1];
      this.free_.splice(lo, 1);
      lo--;
    }
    // A free block that ends at the top gives its space back to the bump region.
    const last = this.free_[this.free_.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.free_.pop();
    }
  }

  /** Bytes currently allocated. */
  get bytesInUse(): number { return this.inUse; }
  /** Highest bytesInUse seen (since the start or the last resetPeak()). */
  get peakBytes(): number { return this.peak; }
  /** Starts a new high-water mark from the current bytesInUse (to measure one phase of a program). */
  resetPeak(): void { this.peak = this.inUse; }
  /** Bytes of linear memory (allocated or not). */
  get memoryBytes(): number { return this.memory.buffer.byteLength; }
  /** Number of live allocations. */
  get liveBlocks(): number { return this.sizes.size; }
  /** End of the bump region: everything from here to memoryBytes is unused. */
  get topOffset(): number { return this.top; }
  /** First byte the arena manages. */
  get baseOffset(): number { return this.base; }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least 1/8 of the current size so repeated small growths stay rare.
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, Math.ceil(have / PAGE / 8));
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(need);
      } catch {
        throw new FliqsError('memory', `cannot grow WebAssembly memory to ${end} bytes`, 'tensors totalling less than 4 GiB');
      }
    }
  }
}
