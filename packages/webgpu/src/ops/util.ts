import { MAX_RANK } from '@tessera/core';

/** Pads a shape or stride list to the 8 slots of a `u32x8` uniform. */
export function u32x8(values: readonly number[]): number[] {
  const out = new Array<number>(MAX_RANK).fill(0);
  values.forEach((v, i) => {
    out[i] = v;
  });
  return out;
}

/** Reinterprets a number's float32 (or int32) bits as a u32, for kernels that copy raw bits. */
export function bitsOf(value: number, dtype: 'float32' | 'int32'): number {
  const buf = new DataView(new ArrayBuffer(4));
  if (dtype === 'int32') buf.setInt32(0, value, true);
  else buf.setFloat32(0, value, true);
  return buf.getUint32(0, true);
}

export const isInt = (dtype: string): number => (dtype === 'int32' ? 1 : 0);
/**
 * The *_HALF override constants of the float16 buffers among `buffers` (name -> dtype), and
 * none for the others: they default to 0 in the WGSL, so a variant without halves keeps the
 * pipeline key (and cache entry, and warm set entry) it had before halves existed.
 *
 * @example halfFlags({ X_HALF: 'float16', OUT_HALF: 'float32' }) // { X_HALF: 1 }
 */
export function halfFlags(buffers: Readonly<Record<string, string>>): Record<string, number> {
  const flags: Record<string, number> = {};
  for (const [name, dtype] of Object.entries(buffers)) if (dtype === 'float16') flags[name] = 1;
  return flags;
}

/**
 * Merges adjacent dimensions that every operand walks contiguously (stride[i] = stride[i+1] *
 * shape[i+1]) and drops size-1 dimensions, so kernels do fewer index divisions: a same-shape
 * or scalar-broadcast op becomes 1-D, a bias add over NCHW becomes 3-D.
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[i]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, k) => {
        outStrides[k]![last] = s[i]!;
      });
    } else {
      outShape.push(n);
      strides.forEach((s, k) => {
        outStrides[k]!.push(s[i]!);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}
