/**
 * Element types a Tensor can hold. float32 and int32 take 4 bytes; float16 (IEEE binary16, as
 * PyTorch's `torch.half`) takes 2, two to a 32-bit word, element 2k in the low half.
 */
export type DType = 'float32' | 'int32' | 'float16';

/**
 * The typed array a tensor of dtype `D` reads back as. float16 reads back as a Float32Array of
 * the half values (each exactly representable), since Node 20 has no Float16Array.
 */
export type DataFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** Every dtype, in the order errors list them. */
export const DTYPES: readonly DType[] = ['float32', 'int32', 'float16'];

/** Bytes of one element of `dtype`. @example bytesPerElement('float16') // 2 */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'float16' ? 2 : 4;
}

/**
 * Bytes a buffer of `elements` elements of `dtype` takes on a device: whole 32-bit words (a
 * float16 tensor of odd size has a spare half), and at least one word.
 *
 * @example storageBytes('float16', 3) // 8
 */
export function storageBytes(dtype: DType, elements: number): number {
  return Math.max(4, Math.ceil((elements * bytesPerElement(dtype)) / 4) * 4);
}

/** 32-bit words of that buffer: what `Backend.copy` counts. @example storageWords('float16', 3) // 2 */
export const storageWords = (dtype: DType, elements: number): number => storageBytes(dtype, elements) / 4;

/** What an error about an unknown dtype suggests. */
export const DTYPE_HINT = "Expected 'float32', 'int32' or 'float16'";

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32' || x === 'float16';
}

/** Whether `dtype` holds floating-point values (and so can have gradients). */
export const isFloatDType = (dtype: DType): boolean => dtype !== 'int32';

/**
 * PyTorch's promotion for two tensors that both count: a float beats int32, and float32 beats
 * float16. (Rank-0 operands count less; see `resultFloat` in ops/half.ts.)
 */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'float16';
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The binary16 bits of `x` rounded to the nearest half (ties to even), as PyTorch's
 * `tensor.half()` does: beyond 65504 (after rounding) it is ±Infinity, tiny values become
 * subnormals or ±0, NaN stays NaN.
 *
 * @example toHalfBits(1) // 0x3c00
 */
export function toHalfBits(x: number): number {
  f32Scratch[0] = x; // float64 -> float32 first, as a float32 tensor's value would be
  const b = u32Scratch[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 | (man >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): the 24-bit significand shifted right by 14 - e, rounded to even.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  // Rounding up may carry into the exponent, and from 65504 up to Infinity, as it should.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** The value of binary16 bits `h`. @example fromHalfBits(0x3c00) // 1 */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** `values` as float16 words, ready to upload. @example encodeHalf([1, 2]) // Uint16Array [0x3c00, 0x4000] */
export function encodeHalf(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length + (values.length & 1));
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
  return out;
}

/** The first `size` halves of `bytes` as float32 values. @example decodeHalf(encodeHalf([1, 0.1]).buffer, 2) // [1, 0.0999755859375] */
export function decodeHalf(bytes: ArrayBufferLike, size: number, byteOffset = 0): Float32Array {
  const h = new Uint16Array(bytes, byteOffset, size);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = fromHalfBits(h[i]!);
  return out;
}

/**
 * The first `size` elements of a buffer read back from a device, as the typed array a tensor of
 * `dtype` reads as (`DataFor`).
 *
 * @example decodeValues('int32', new Int32Array([7, 8]).buffer, 2) // Int32Array [7, 8]
 */
export function decodeValues(dtype: DType, bytes: ArrayBufferLike, size: number): Float32Array | Int32Array {
  if (dtype === 'float16') return decodeHalf(bytes, size);
  return dtype === 'int32' ? new Int32Array(bytes, 0, size) : new Float32Array(bytes, 0, size);
}

/** `x` rounded to the nearest float16 value. @example roundHalf(0.1) // 0.0999755859375 */
export const roundHalf = (x: number): number => fromHalfBits(toHalfBits(x));
