/**
 * The contract between the WebAssembly backend (backend.ts: buffers, the heap, selection) and
 * its kernels (kernels/*.ts wrapping the AssemblyScript functions of assembly/*.ts).
 *
 * Every device buffer of this backend lives in one WebAssembly.Memory, at a 16-byte aligned
 * byte offset `ptr`. A kernel wrapper receives the op's KernelArgs (whose `buf`s are this
 * backend's buffers) and the runtime; it calls the module's exported functions with byte
 * offsets and sizes, and returns true, or false when it does not handle this case (the
 * backend then runs the reference kernel on views of the same memory).
 */
import type { DeviceBuffer, KernelArgs, OpName } from '@tessera/core';

/** The instantiated kernel module and the memory every buffer lives in. */
export interface WasmRuntime {
  /** The module's exported kernel functions, by name. */
  readonly exports: Readonly<Record<string, (...args: number[]) => number | void>>;
  readonly memory: WebAssembly.Memory;
  /** The byte offset of one of this backend's buffers in `memory` (16-byte aligned). */
  ptr(buf: DeviceBuffer): number;
  /**
   * Scratch space of at least `bytes` bytes (16-byte aligned), valid until the kernel returns;
   * for packed panels and im2col buffers.
   */
  scratch(bytes: number): number;
  /** Threads kernels may split work across (1 when single-threaded). */
  readonly threads: number;
  /**
   * Splits the items [0, count) into contiguous parts, one per thread, when `work` (the
   * kernel's multiply-adds or element visits, all items together) pays for the hand-off, and
   * calls `body(lo, hi, call)` for each part; `call` runs a module export on that part's thread.
   * Returns when every part is done. `body` runs on this thread, before any call does: it may
   * take scratch (a part's own), but must not read what calls write.
   *
   * @example
   * const rt = {} as WasmRuntime;
   * const [n, bytes, at] = [64, 4096, 65536];   // items, bytes per item, a buffer's byte offset
   * rt.parallel(n, n * bytes, (lo, hi, call) => {
   *   for (let i = lo; i < hi; i++) call('zero', at + i * bytes, bytes);
   * });
   */
  parallel(count: number, work: number, body: (lo: number, hi: number, call: ModuleCall) => void): void;
}

/** Calls the module export `name` with `args` (byte offsets, sizes, numbers), on a part's thread. */
export type ModuleCall = (name: string, ...args: number[]) => void;

/** A kernel wrapper: true when it ran the op, false to let the backend fall back. */
export type WasmKernel = (args: KernelArgs<never>, rt: WasmRuntime) => boolean;

/** The ops that have a WebAssembly kernel (the others fall back to the reference kernels). */
export type WasmKernels = Partial<Record<OpName, WasmKernel>>;
