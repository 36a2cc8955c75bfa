import type { KernelTensor } from '@tessera/core';
import type { WasmRuntime } from '../contract.js';

/**
 * What the kernel wrappers share: typed access to the module's exports, dtype checks, and the
 * collapsing of broadcast shapes into the few loop levels the module's kernels take.
 */

/** A function the kernel module exports (every argument an i32, f64 or pointer). */
export type WasmFn = WasmRuntime['exports'][string];

/**
 * The module's export `name`; a missing one is a build mismatch, so it throws.
 *
 * @example
 * const rt = {} as Parameters<typeof fn>[0];
 * const [pa, pb, pc, scratch, M, N, K] = [64, 128, 256, 512, 4, 8, 16];   // byte offsets, sizes
 * fn(rt, 'gemm')(pa, K, 1, pb, N, 1, pc, N, N, K, 0, M, 0, scratch);
 */
export function fn(rt: WasmRuntime, name: string): WasmFn {
  const f = rt.exports[name];
  if (!f) throw new Error(`wasm backend: the kernel module has no export '${name}' (rebuild it with npm run wasm)`);
  return f;
}

/**
 * True when every tensor given is float32 (the wrappers decline int32 tensors, whose semantics
 * the reference kernels keep).
 *
 * @example
 * const t = {} as Parameters<typeof allF32>[0];
 * allF32(t, undefined);   // true when t is float32 (an absent optional input counts as float32)
 */
export function allF32(...ts: readonly (KernelTensor | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

/** Rounds `bytes` up to a multiple of 16, the alignment of scratch partitions. Example: align16(6) = 16. */
export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Collapses an output shape and per-operand element strides (0 where broadcast) into as few
 * loop levels as possible: size-1 levels are dropped and a level is merged into the one
 * outside it when every operand steps through both as one run. Returns the sizes and, per
 * operand, the strides, outermost first.
 *
 * @example
 * collapse([4, 3], [[3, 1], [0, 1]]);   // { shape: [4, 3], strides: [[3, 1], [0, 1]] }
 * collapse([2, 3], [[3, 1], [3, 1]]);   // { shape: [6], strides: [[1], [1]] }
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, i) => outStrides[i]![last] === s[d]! * n);
    if (mergeable) {
      outShape[last] = outShape[last]! * n;
      for (let i = 0; i < strides.length; i++) outStrides[i]![last] = strides[i]![d]!;
    } else {
      outShape.push(n);
      for (let i = 0; i < strides.length; i++) outStrides[i]!.push(strides[i]![d]!);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * The flat element offset of batch index z of `shape` read through `strides`.
 *
 * @example
 * offsetOf(3, [2, 2], [10, 1]);   // 11
 */
export function offsetOf(z: number, shape: readonly number[], strides: readonly number[]): number {
  let rest = z;
  let off = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    const k = rest % n;
    rest = (rest - k) / n;
    off += k * strides[d]!;
  }
  return off;
}
