import type { OpKernels, OpName } from '@tessera/core';

/**
 * Helpers the reference kernels share: the scalar semantics of the WGSL built-ins the WebGPU
 * kernels use (where they differ from JavaScript's), and strided index arithmetic.
 */

/** Reference kernels for a group of ops; `REFERENCE_KERNELS` joins them into the full table. */
export type KernelGroup<K extends OpName> = Pick<OpKernels, K>;

/** Rounds a number to the nearest float32, as storing it in a Float32Array does. */
export const f32 = Math.fround;

/**
 * WGSL `i32(x)` for a float32 x, as Tint compiles it (int(clamp(x, -2^31, 2147483520))):
 * truncation toward zero after clamping to [-2147483648, 2147483520], 2147483520 being the
 * largest float32 below 2^31, so +inf and every float32 >= 2^31 give 2147483520, not 2^31 - 1.
 * NaN gives -2147483648 (clamp's lower bound on SwiftShader; also x86's "integer indefinite",
 * which PyTorch's CPU cast gives). WGSL leaves NaN to the implementation.
 */
export function f32ToI32(x: number): number {
  const v = f32(x);
  if (Number.isNaN(v) || v <= -2147483648) return -2147483648;
  if (v >= 2147483520) return 2147483520;
  return Math.trunc(v);
}

/** WGSL `max(a, b)` on floats: IEEE maxNum, so a NaN operand yields the other operand. */
export function wgslMax(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return a < b ? b : a;
}

/** WGSL `min(a, b)` on floats: IEEE minNum, so a NaN operand yields the other operand. */
export function wgslMin(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return b < a ? b : a;
}

/** WGSL `fract(x)` = x - floor(x); NaN for infinities, like the WGSL formula. */
export const fract = (x: number): number => x - Math.floor(x);

/** WGSL `sign(x)`: 1, -1 or 0; NaN maps to 0 (as Metal and D3D do). */
export const wgslSign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

/**
 * The element offset of flat (row-major) index `index` of a box of `shape`, when the box is read
 * through `strides` (a stride of 0 re-reads one element: broadcasting).
 */
export function offsetOf(index: number, shape: readonly number[], strides: readonly number[]): number {
  let rest = index;
  let offset = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    const k = rest % n;
    rest = (rest - k) / n;
    offset += k * strides[d]!;
  }
  return offset;
}
