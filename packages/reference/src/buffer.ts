import type { DeviceBuffer, KernelTensor } from '@tessera/core';

/**
 * The reference backend's device buffer: one ArrayBuffer of 4-byte elements and three views of
 * the same memory, so a kernel reads and writes float32 values, int32 values or raw 32-bit words
 * (for data movement that must not touch NaN payloads) of one buffer.
 */
export class RefBuffer {
  readonly bytes: ArrayBuffer;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;

  /** A zero-filled buffer of at least `byteLength` bytes: a multiple of 4, and at least 4. */
  constructor(byteLength: number) {
    if (!Number.isFinite(byteLength) || byteLength < 0) throw new Error(`alloc: invalid byte length ${byteLength}`);
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    this.bytes = new ArrayBuffer(size);
    this.f32 = new Float32Array(this.bytes);
    this.i32 = new Int32Array(this.bytes);
    this.u32 = new Uint32Array(this.bytes);
  }

  get byteLength(): number {
    return this.bytes.byteLength;
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

/**
 * A tensor's elements as numbers, the way a float kernel of the WGSL loads them: float32 values
 * as they are, int32 values converted with f32(i32), i.e. rounded to the nearest float32 (exact
 * up to 2^24). A float32 tensor is returned without a copy.
 */
export function floatsOf(t: KernelTensor): Float32Array {
  if (t.dtype === 'float32') return f32Of(t);
  return Float32Array.from(i32Of(t));
}
