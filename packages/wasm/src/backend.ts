import {
  storageBytes,
  type Backend,
  type BackendInfo,
  type BackendStats,
  type DeviceBuffer,
  type KernelArgs,
  type OpName,
  type OpParams,
  type UpdateArgs,
} from '@tessera/core';
import { NonFiniteFlag, REFERENCE_KERNELS, referenceUpdate } from '@tessera/reference';
import { type WasmBuffer, wasmBuffer } from './buffer.js';
import type { ModuleCall, WasmKernel, WasmRuntime } from './contract.js';
import type { KernelExports } from './module.js';
import type { WasmHeap } from './heap.js';
import { WASM_KERNELS, WASM_UPDATE } from './kernels/index.js';
import { CallList, type ThreadPool } from './threads.js';

/** How the backend runs kernels on threads (createWasmBackend's `threads` and `minWorkPerThread`). */
export interface WasmThreading {
  /** The worker threads, or null for one thread. */
  readonly pool: ThreadPool | null;
  /** Work a part must have before a kernel is split (see WasmOptions.minWorkPerThread). */
  readonly minWorkPerThread: number;
}

/** The one kernel signature every entry of REFERENCE_KERNELS has, whatever its op. */
type AnyKernel = (args: KernelArgs<unknown>) => void;

/**
 * A Backend on WebAssembly with 128-bit SIMD. Every buffer is a block of one WebAssembly.Memory
 * (heap.ts); `run` calls the op's SIMD kernel (kernels/), and where there is none, or it
 * declines the case, the reference kernel on views of the same memory: every op works, and
 * an op gets faster as soon as it has a kernel. Work runs synchronously when queued, as on the
 * reference backend, so `flush` has nothing to do and `read` resolves at once with a copy.
 *
 * @example
 * import { createWasmBackend } from '@tessera/wasm';
 * const backend = await createWasmBackend();   // a WasmBackend
 * await ts.init({ backend });
 */
export class WasmBackend implements Backend {
  readonly info: BackendInfo;
  /** What the kernels are handed: the module's functions, the memory, pointers and scratch. */
  readonly rt: WasmRuntime;

  private readonly live = new Set<WasmBuffer>();
  private dispatches = 0;
  /** What `markNonFinite` has flagged since the last `takeNonFinite`. */
  private readonly nonFinite = new NonFiniteFlag();
  private destroyed = false;

  // Scratch space for kernels (packed panels, im2col): one arena reused by every call, bumped
  // within a call; an arena outgrown mid-call is kept until the call returns, then pooled.
  private arena: WasmBuffer | null = null;
  private arenaUsed = 0;
  private readonly outgrown: WasmBuffer[] = [];

  /** The module's functions in export order: a worker's call list names them by this index. */
  private readonly exportIndex = new Map<string, number>();
  private readonly pool: ThreadPool | null;
  private readonly minWorkPerThread: number;

  constructor(
    private readonly heap: WasmHeap,
    exports: KernelExports,
    threading: WasmThreading = { pool: null, minWorkPerThread: 0 },
  ) {
    this.pool = threading.pool;
    this.minWorkPerThread = threading.minWorkPerThread;
    const threads = this.pool?.threads ?? 1;
    for (const name of Object.keys(exports)) this.exportIndex.set(name, this.exportIndex.size);
    this.rt = {
      exports,
      memory: heap.memory,
      threads,
      ptr: (buf: DeviceBuffer) => wasmBuffer(buf, heap, 'a kernel argument').ptr,
      scratch: (bytes: number) => this.scratch(bytes),
      parallel: (count, work, body) => this.parallel(count, work, body),
    };
    this.info = {
      backend: 'wasm',
      adapter: `WebAssembly SIMD (${threads} thread${threads === 1 ? '' : 's'})`,
      vendor: 'tessera',
      architecture: 'wasm32 simd128',
      features: ['simd128', ...(heap.shared ? ['shared-memory'] : []), ...(threads > 1 ? ['threads'] : [])],
      isCPU: true,
      limits: {},
    };
  }

  private check(what: string): void {
    if (this.destroyed) throw new Error(`${what}: the wasm backend was destroyed. Call ts.init() again and create new tensors`);
  }

  /**
   * A block of at least `bytes` bytes, 16-byte aligned, not cleared: every SIMD kernel writes
   * all of its output, and a reference kernel gets its outputs zeroed first (`runOp`). Clearing
   * every output on allocation cost more than some kernels did.
   */
  alloc(bytes: number): DeviceBuffer {
    this.check('alloc');
    const buf = this.heap.alloc(bytes, false);
    this.live.add(buf);
    return buf;
  }

  /**
   * Returns a block to its size class's free list. Freeing one twice is an error; a buffer of
   * another (earlier, destroyed) backend is ignored, as tensors may outlive a shutdown.
   */
  free(buf: DeviceBuffer): void {
    if (this.destroyed) return;
    const b = buf as WasmBuffer;
    if (this.live.delete(b)) this.heap.release(b);
    else if (b.owner === this.heap) throw new Error('free: this wasm buffer was already freed');
  }

  /** Copies the bytes of `data` to the start of `buf`. */
  write(buf: DeviceBuffer, data: ArrayBufferView): void {
    this.check('write');
    const b = wasmBuffer(buf, this.heap, 'the buffer to write');
    if (data.byteLength > b.byteLength) throw new Error(`write: ${data.byteLength} bytes do not fit a buffer of ${b.byteLength} bytes`);
    b.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** A copy of the first `bytes` bytes of `buf` (an ArrayBuffer of its own, never the shared memory). */
  read(buf: DeviceBuffer, bytes: number): Promise<ArrayBuffer> {
    try {
      this.check('data');
      return Promise.resolve(wasmBuffer(buf, this.heap, 'the buffer to read').u8.slice(0, bytes).buffer as ArrayBuffer);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Runs one primitive now: its SIMD kernel where it has one that takes the case, else the reference kernel. */
  run<K extends OpName>(op: K, args: KernelArgs<OpParams[K]>): void {
    this.check(op);
    this.runOp(op, args as KernelArgs<unknown>);
    this.dispatches++;
  }

  private runOp(op: OpName, args: KernelArgs<unknown>): void {
    const simd = WASM_KERNELS[op] as WasmKernel | undefined;
    if (simd && this.inKernel(() => simd(args as KernelArgs<never>, this.rt))) return;
    const ref = REFERENCE_KERNELS[op] as AnyKernel | undefined;
    if (!ref) throw new Error(`wasm backend: no kernel for op '${op}'`);
    // The reference kernels may accumulate into their outputs, which its own backend zero-fills.
    const zero = this.rt.exports['zero']!;
    for (const t of [args.out, ...args.aux]) zero(this.rt.ptr(t.buf), storageBytes(t.dtype, t.size));
    ref(args);
  }

  /** Runs a SIMD kernel, then releases what scratch it outgrew. */
  private inKernel(fn: () => boolean): boolean {
    try {
      return fn();
    } finally {
      this.arenaUsed = 0;
      for (const b of this.outgrown.splice(0)) this.heap.release(b);
    }
  }

  /** `rt.scratch`: `bytes` bytes at a 16-byte aligned offset, valid until the kernel returns. */
  private scratch(bytes: number): number {
    this.check('scratch');
    const need = Math.ceil(bytes / 16) * 16;
    if (!this.arena || this.arenaUsed + need > this.arena.capacity) {
      if (this.arena) this.outgrown.push(this.arena);
      this.arena = this.heap.alloc(Math.max(need, 2 * (this.arena?.capacity ?? 0)), false);
      this.arenaUsed = 0;
    }
    const ptr = this.arena.ptr + this.arenaUsed;
    this.arenaUsed += need;
    return ptr;
  }

  /** `rt.parallel`: cuts [0, count) into parts, records each part's calls, runs them on the threads. */
  private parallel(count: number, work: number, body: (lo: number, hi: number, call: ModuleCall) => void): void {
    if (count <= 0) return;
    const pool = this.pool;
    const parts = pool ? Math.min(pool.threads, count, Math.floor(work / Math.max(1, this.minWorkPerThread))) : 1;
    if (!pool || parts <= 1) {
      body(0, count, this.callHere);
      return;
    }
    const here: [(...args: number[]) => unknown, number[]][] = [];
    const lists: CallList[] = [];
    for (let p = 0; p < parts; p++) {
      const [lo, hi] = [Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)];
      if (p === 0) {
        body(lo, hi, (name, ...args) => here.push([this.exportFn(name), args]));
      } else {
        const list = new CallList();
        body(lo, hi, (name, ...args) => {
          this.exportFn(name);
          list.push(this.exportIndex.get(name)!, args);
        });
        lists.push(list);
      }
    }
    // The lists go into the memory the workers share, as float64 words (exact for every i32
    // and f64 argument); the scratch holding them lives until this kernel returns.
    const placed = lists.map((list): [number, number] => {
      const at = this.scratch(8 * list.words.length);
      new Float64Array(this.heap.memory.buffer, at, list.words.length).set(list.words);
      return [at, list.words.length];
    });
    pool.run(placed, () => {
      for (const [f, args] of here) f(...args);
    });
  }

  /** A module call on this thread, now. */
  private readonly callHere: ModuleCall = (name, ...args) => {
    this.exportFn(name)(...args);
  };

  private exportFn(name: string): (...args: number[]) => unknown {
    const f = this.rt.exports[name];
    if (!f) throw new Error(`wasm backend: the kernel module has no export '${name}' (rebuild it with npm run wasm)`);
    return f;
  }

  // No compileFused / runFused: ts.compile replays each op's own SIMD kernel. A kernel call
  // costs a few microseconds here, so fusing saves little, and interpreting a fused chain's
  // expressions element by element in JavaScript (as the reference backend does) took 56% of a
  // LeNet-5 epoch when this backend did so.

  /** Copies `elements` 4-byte words from `src` to `dst`, bit for bit. */
  copy(src: DeviceBuffer, dst: DeviceBuffer, elements: number): void {
    this.check('copy');
    const d = wasmBuffer(dst, this.heap, 'the copy destination');
    const s = wasmBuffer(src, this.heap, 'the copy source');
    if (elements > 0) d.u32.set(s.u32.subarray(0, elements));
    this.dispatches++;
  }

  /** One in-place optimizer step: the SIMD kernel where there is one, else the reference rule. */
  update(args: UpdateArgs): void {
    this.check('applyUpdate');
    if (!this.inKernel(() => WASM_UPDATE(args, this.rt))) referenceUpdate(args);
    this.dispatches++;
  }

  flush(): void {}

  /**
   * Merges the pooled blocks into free space any size can use; returns the bytes released. The
   * WebAssembly memory itself cannot shrink, so the process keeps its size.
   */
  emptyCache(): number {
    if (this.destroyed) return 0;
    if (this.arena && this.arenaUsed === 0) {
      this.heap.release(this.arena);
      this.arena = null;
    }
    return this.heap.trim();
  }

  stats(): BackendStats {
    const h = this.heap;
    return {
      allocatedBytes: h.allocatedBytes,
      pooledBytes: h.pooledBytes,
      buffersCreated: h.created,
      buffers: h.created - h.destroyed,
      submits: 0,
      dispatches: this.dispatches,
    };
  }

  /** Drops every buffer; the memory goes with the last reference to this backend. */
  destroy(): void {
    this.live.clear();
    this.destroyed = true;
    this.pool?.close();
  }

  /** Flags `tag` if one of the first `size` float32 values of `buf` is NaN or infinite (all-ones exponent). */
  markNonFinite(buf: DeviceBuffer, size: number, tag: number, dtype?: 'float32' | 'float16'): void {
    this.nonFinite.mark(wasmBuffer(buf, this.heap, 'the buffer to check').u32, size, tag, dtype);
  }

  /** The smallest flagged tag since the last call, or -1; clears the flag. */
  takeNonFinite(): Promise<number> {
    return this.nonFinite.take();
  }
}
