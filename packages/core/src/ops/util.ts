import { MAX_RANK } from '../shape.js';

/** Pads a shape or stride list to the 8 slots of a `u32x8` uniform. */
export function u32x8(values: readonly number[]): number[] {
  const out = new Array<number>(MAX_RANK).fill(0);
  values.forEach((v, i) => (out[i] = v));
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
