/** Element types a Tensor can hold. Both are 4 bytes, so buffers never need repacking. */
export type DType = 'float32' | 'int32';

/** The typed array a tensor of dtype `D` reads back as. */
export type DataFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

export const BYTES_PER_ELEMENT = 4;

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32';
}

/** PyTorch's promotion for the two dtypes we have: any float operand makes the result float. */
export function promote(a: DType, b: DType): DType {
  return a === 'int32' && b === 'int32' ? 'int32' : 'float32';
}
