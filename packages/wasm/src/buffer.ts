import type { DeviceBuffer } from '@tessera/core';
import { RefBuffer } from '@tessera/reference';

/**
 * The WebAssembly backend's device buffer: a 16-byte aligned block of the backend's one
 * WebAssembly.Memory. It is a RefBuffer whose views lie in that memory, so when a kernel falls
 * back to the reference implementation, that kernel reads and writes the very bytes the SIMD
 * kernels see, with no copy.
 */
export class WasmBuffer extends RefBuffer {
  /**
   * @param ptr      the byte offset in the memory (what kernels are passed)
   * @param capacity the block's size: its size class, a multiple of 16
   * @param owner    the heap that made it, to tell another backend's buffer apart
   */
  constructor(
    readonly ptr: number,
    readonly capacity: number,
    readonly owner: object,
    memory: ArrayBufferLike,
  ) {
    super(capacity, { memory, byteOffset: ptr });
  }

  /**
   * Points the views at `memory` again: a non-shared WebAssembly.Memory detaches its old
   * ArrayBuffer when it grows, which empties every view made before.
   */
  rebind(memory: ArrayBufferLike): void {
    this.place(memory, this.ptr, this.capacity);
  }
}

/**
 * The WasmBuffer behind a DeviceBuffer of the heap `owner`; any other buffer is an error that
 * names `what`.
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const buf = new WasmBuffer(16, 32, memory, memory.buffer);
 * wasmBuffer(buf, memory, 'matmul output').ptr;   // 16; another owner's buffer throws
 */
export function wasmBuffer(buf: DeviceBuffer, owner: object, what = 'buffer'): WasmBuffer {
  if (buf instanceof WasmBuffer && buf.owner === owner) return buf;
  throw new Error(
    `wasm backend: ${what} was not allocated by this wasm backend (a tensor of another backend, or of one shut down). Create the tensor after init({ backend: 'wasm' })`,
  );
}
