import { fromHalfBits, toHalfBits, type DeviceBuffer, type KernelTensor } from '@tessera/core';

/**
 * The reference backend's device buffer: 4-byte elements and three views of the same memory, so
 * a kernel reads and writes float32 values, int32 values or raw 32-bit words (for data movement
 * that must not touch NaN payloads) of one buffer. A buffer owns an ArrayBuffer of its own, or,
 * made with `RefBuffer.view`, is a region of a larger memory (another backend's heap, such as the
 * WebAssembly backend's, whose fallback runs these kernels on its own memory without copies).
 */
export class RefBuffer {
  #bytes!: ArrayBufferLike;
  #u8!: Uint8Array;
  #f32!: Float32Array;
  #i32!: Int32Array;
  #u32!: Uint32Array;

  /**
   * A zero-filled buffer of at least `byteLength` bytes: a multiple of 4, and at least 4. With
   * `region`, the buffer is instead exactly `byteLength` bytes of `region.memory` from
   * `region.byteOffset`, without a copy (see `RefBuffer.view`).
   */
  constructor(byteLength: number, region?: { readonly memory: ArrayBufferLike; readonly byteOffset: number }) {
    if (!Number.isFinite(byteLength) || byteLength < 0) throw new Error(`alloc: invalid byte length ${byteLength}`);
    if (region) {
      this.place(region.memory, region.byteOffset, byteLength);
      return;
    }
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    this.place(new ArrayBuffer(size), 0, size);
  }

  /**
   * A buffer over `byteLength` bytes of `memory` from `byteOffset` (both multiples of 4), without
   * a copy: kernels that write it write `memory`.
   *
   * @example
   * const heap = new ArrayBuffer(64);
   * const b = RefBuffer.view(heap, 16, 8);   // bytes 16..23 of heap
   * b.f32[0] = 1;                            // new Float32Array(heap, 16, 1)[0] is 1
   */
  static view(memory: ArrayBufferLike, byteOffset: number, byteLength: number): RefBuffer {
    return new RefBuffer(byteLength, { memory, byteOffset });
  }

  /**
   * (Re)makes the views over `byteLength` bytes of `memory` from `byteOffset`: a subclass whose
   * memory was replaced (a WebAssembly.Memory that grew) points its views at the new one.
   */
  protected place(memory: ArrayBufferLike, byteOffset: number, byteLength: number): void {
    if (byteOffset % 4 || byteLength % 4 || byteOffset + byteLength > memory.byteLength) {
      throw new Error(`RefBuffer.view: ${byteLength} bytes at ${byteOffset} must be multiples of 4 inside a memory of ${memory.byteLength} bytes`);
    }
    const n = byteLength / 4;
    this.#bytes = memory;
    this.#u8 = new Uint8Array(memory, byteOffset, byteLength);
    this.#f32 = new Float32Array(memory, byteOffset, n);
    this.#i32 = new Int32Array(memory, byteOffset, n);
    this.#u32 = new Uint32Array(memory, byteOffset, n);
  }

  /** The memory the views lie in: the buffer's own ArrayBuffer, or for a view the whole memory. */
  get bytes(): ArrayBufferLike {
    return this.#bytes;
  }

  /** This buffer's bytes, and only those. */
  get u8(): Uint8Array {
    return this.#u8;
  }

  get f32(): Float32Array {
    return this.#f32;
  }

  get i32(): Int32Array {
    return this.#i32;
  }

  get u32(): Uint32Array {
    return this.#u32;
  }

  get byteLength(): number {
    return this.#u8.byteLength;
  }
}

/** The RefBuffer behind a DeviceBuffer; any other backend's buffer is an error. */
export function refBuffer(buf: DeviceBuffer, what = 'buffer'): RefBuffer {
  if (!(buf instanceof RefBuffer)) throw new Error(`reference backend: ${what} was not allocated by the reference backend`);
  return buf;
}

/** A tensor's elements as float32 values, read straight through the f32 view (no copy). */
export function f32Of(t: KernelTensor): Float32Array {
  return refBuffer(t.buf).f32.subarray(0, t.size);
}

/** A tensor's elements as int32 values, read straight through the i32 view (no copy). */
export function i32Of(t: KernelTensor): Int32Array {
  return refBuffer(t.buf).i32.subarray(0, t.size);
}

/** A tensor's raw 32-bit words, for kernels that only move data. */
export function u32Of(t: KernelTensor): Uint32Array {
  return refBuffer(t.buf).u32.subarray(0, t.size);
}

/** A float16 tensor's elements as their binary16 bits (two to a 32-bit word, low half first). */
export function halfBitsOf(t: KernelTensor): Uint16Array {
  const b = refBuffer(t.buf);
  return new Uint16Array(b.u8.buffer, b.u8.byteOffset, t.size);
}

/**
 * Where a float kernel writes its results: the output's float32 view, or for a float16 output a
 * scratch array that `finishFloats` rounds into it (each value once, to nearest even).
 *
 * @example
 * const out = { shape: [1], dtype: 'float16', size: 1, buf: new RefBuffer(4) } as const;
 * const o = floatsOut(out);
 * o[0] = 0.1;
 * finishFloats(out, o); // the buffer's first half is now 0x2e66
 */
export function floatsOut(t: KernelTensor): Float32Array {
  return t.dtype === 'float16' ? new Float32Array(t.size) : f32Of(t);
}

/** Stores what a kernel wrote into `floatsOut(t)` (a no-op unless `t` is float16). */
export function finishFloats(t: KernelTensor, values: Float32Array): void {
  if (t.dtype !== 'float16') return;
  const h = halfBitsOf(t);
  for (let i = 0; i < t.size; i++) h[i] = toHalfBits(values[i]!);
}

/**
 * A tensor's elements as numbers, the way a float kernel of the WGSL loads them: float32 values
 * as they are, int32 values converted with f32(i32), i.e. rounded to the nearest float32 (exact
 * up to 2^24), float16 values widened exactly. A float32 tensor is returned without a copy.
 */
export function floatsOf(t: KernelTensor): Float32Array {
  if (t.dtype === 'float32') return f32Of(t);
  if (t.dtype === 'float16') return Float32Array.from(halfBitsOf(t), fromHalfBits);
  return Float32Array.from(i32Of(t));
}
