/**
 * The WebAssembly backend's allocator: every buffer is a block of one WebAssembly.Memory, so the
 * kernels reach all of them by byte offset. Blocks are 16-byte aligned (a v128 load never
 * straddles more than it must) and rounded to size classes; a freed block waits in its class's
 * free list for the next request of that class, as the WebGPU backend pools its buffers, so a
 * training loop that allocates the same shapes every step reuses the same blocks and the memory
 * stops growing after the first step.
 */
import { WasmBuffer } from './buffer.js';

const PAGE = 65536;

/**
 * Rounds a request up to a size class: multiples of 16 bytes up to 256, multiples of 256 up to
 * 4 KiB, then quarter steps between powers of two (waste under 25%, a few classes per loop).
 *
 * @example
 * sizeClass(1);      // 16
 * sizeClass(5000);   // 5120
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return Math.max(16, Math.ceil(bytes / 16) * 16);
  if (bytes <= 4096) return Math.ceil(bytes / 256) * 256;
  const step = 2 ** Math.floor(Math.log2(bytes)) / 4;
  return Math.ceil(bytes / step) * step;
}

/** Options of a heap: where it starts and how far its memory may grow. */
export interface HeapOptions {
  /** The first byte the heap may use (after the kernel module's static data); rounded up to 16. */
  base: number;
  /** The memory's maximum in bytes; growing past it is an out-of-memory error. */
  maximumBytes: number;
}

/**
 * A size-class free-list allocator over a WebAssembly.Memory. Blocks are carved from the top of
 * the used region (growing the memory when needed), from a free range, or reused from a class's
 * free list. `trim` (emptyCache) merges the free lists into free ranges that serve any size; a
 * WebAssembly memory cannot shrink, so that is all giving memory back can mean here.
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 2, maximum: 16 });
 * const heap = new WasmHeap(memory, { base: 65536, maximumBytes: 16 * 65536 });
 * const b = heap.alloc(100);   // b.ptr % 16 === 0, b.capacity === 112
 * heap.release(b);             // the next alloc(100) gets b back
 */
export class WasmHeap {
  /** True when the memory's buffer is a SharedArrayBuffer: growth then leaves old views valid. */
  readonly shared: boolean;
  /** Bytes in blocks handed out or waiting in the free lists. */
  allocatedBytes = 0;
  /** Bytes waiting in the free lists. */
  pooledBytes = 0;
  /** Blocks made so far (a free-list miss makes one). */
  created = 0;
  /** Blocks `trim` merged back into free ranges. */
  destroyed = 0;
  /** Times the memory grew. */
  grows = 0;

  private top: number;
  private readonly pools = new Map<number, WasmBuffer[]>();
  /** Free ranges from `trim`, sorted by address, never adjacent to each other. */
  private ranges: { ptr: number; size: number }[] = [];
  /** Every block that exists (live or pooled), to rebind their views after a non-shared growth. */
  private readonly blocks = new Set<WasmBuffer>();

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly opts: HeapOptions,
  ) {
    this.shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    this.top = Math.ceil(opts.base / 16) * 16;
  }

  /** The bytes the memory has now (it only grows). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * A block of at least `bytes` bytes, zero-filled when `zero` (as a new buffer of the reference
   * backend is, which its kernels may rely on).
   */
  alloc(bytes: number, zero = true): WasmBuffer {
    if (!Number.isFinite(bytes) || bytes < 0) throw new Error(`alloc: invalid byte length ${bytes}`);
    const size = sizeClass(bytes);
    let buf = this.pools.get(size)?.pop();
    if (buf) {
      this.pooledBytes -= size;
      if (zero) buf.u8.fill(0);
      return buf;
    }
    const fromRange = this.takeRange(size);
    const ptr = fromRange ?? this.bump(size);
    buf = new WasmBuffer(ptr, size, this, this.memory.buffer);
    if (zero && fromRange !== undefined) buf.u8.fill(0); // memory past the top is still zero
    this.blocks.add(buf);
    this.allocatedBytes += size;
    this.created++;
    return buf;
  }

  /** Puts a block back in its class's free list. */
  release(buf: WasmBuffer): void {
    const list = this.pools.get(buf.capacity);
    if (list) list.push(buf);
    else this.pools.set(buf.capacity, [buf]);
    this.pooledBytes += buf.capacity;
  }

  /**
   * Merges every pooled block into the free ranges (and lowers the top when the last range
   * reaches it), so later requests of any size can use the space; returns the bytes released.
   */
  trim(): number {
    const freed = this.pooledBytes;
    for (const list of this.pools.values()) {
      for (const b of list) {
        this.blocks.delete(b);
        this.ranges.push({ ptr: b.ptr, size: b.capacity });
        this.destroyed++;
      }
    }
    this.pools.clear();
    this.allocatedBytes -= freed;
    this.pooledBytes = 0;
    this.ranges.sort((a, b) => a.ptr - b.ptr);
    const merged: { ptr: number; size: number }[] = [];
    for (const r of this.ranges) {
      const last = merged[merged.length - 1];
      if (last && last.ptr + last.size === r.ptr) last.size += r.size;
      else merged.push({ ...r });
    }
    const last = merged[merged.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      merged.pop();
    }
    this.ranges = merged;
    return freed;
  }

  /** First fit in the free ranges, or undefined. */
  private takeRange(size: number): number | undefined {
    const i = this.ranges.findIndex((r) => r.size >= size);
    if (i < 0) return undefined;
    const r = this.ranges[i]!;
    const ptr = r.ptr;
    if (r.size === size) this.ranges.splice(i, 1);
    else {
      r.ptr += size;
      r.size -= size;
    }
    return ptr;
  }

  /** Carves `size` bytes at the top, growing the memory by at least a quarter when it must. */
  private bump(size: number): number {
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.memoryBytes) this.grow(end);
    this.top = end;
    return ptr;
  }

  private grow(end: number): void {
    const have = this.memoryBytes;
    const max = this.opts.maximumBytes;
    if (end > max) {
      throw new Error(
        `alloc: the wasm backend's memory is full: ${end - this.top} more bytes would pass its maximum of ${mib(max)} MiB ` +
          `(${mib(this.allocatedBytes)} MiB in buffers, ${mib(this.pooledBytes)} MiB of them pooled). Dispose tensors you no longer need, ` +
          'call ts.emptyCache(), or create the backend with a larger maximumBytes',
      );
    }
    // Growing by a quarter at least keeps the number of grows (and, without shared memory,
    // of view rebinds) logarithmic in the heap size.
    const want = Math.min(max, Math.max(end, have + Math.ceil(have / 4)));
    this.memory.grow(Math.ceil((want - have) / PAGE));
    this.grows++;
    // A non-shared memory detached its old ArrayBuffer: every view made before is now empty.
    if (!this.shared) for (const b of this.blocks) b.rebind(this.memory.buffer);
  }
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
