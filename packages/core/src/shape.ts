import { fmtShape, opError } from './errors.js';

/** A tensor shape: one non-negative integer per dimension, `[]` for a scalar. */
export type Shape = readonly number[];

/** The most dimensions a kernel indexes; the uniform blocks hold 8 sizes per shape. */
export const MAX_RANK = 8;

/**
 * The most elements a tensor may have, 2^31 - 1: kernels index elements with 32-bit integers
 * (backends may allow less, as WebGPU's maxStorageBufferBindingSize does). A shape past it, or a
 * dimension such as 2^40, is an error that names the op, not a failed allocation deep inside.
 */
export const MAX_SIZE = 2 ** 31 - 1;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A shape for an error message: JSON.stringify would throw on a bigint and could run to megabytes. */
function preview(v: unknown): string {
  if (!Array.isArray(v)) return typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v));
  const s = `[${v
    .slice(0, 10)
    .map((d) => (typeof d === 'number' ? String(d) : typeof d === 'bigint' ? `${d}n` : (JSON.stringify(d) ?? String(d))))
    .join(',')}${v.length > 10 ? ',...' : ''}]`;
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw opError(op, `shape must be an array of non-negative integers, got ${preview(shape)}`);
  }
  if (shape.length > MAX_RANK) throw opError(op, `rank ${shape.length} is above the supported maximum ${MAX_RANK}`);
  checkSize(op, shape as number[]);
  return shape as number[];
}

/**
 * Throws unless every dimension of `shape` is at most MAX_SIZE and so is their product: a tensor
 * of shape [0, 2^40] holds nothing, but reducing its first axis would ask for 2^40 elements.
 */
export function checkSize(op: string, shape: Shape, what = 'shape'): void {
  const size = sizeOf(shape);
  const big = shape.find((d) => d > MAX_SIZE);
  if (size > MAX_SIZE || big !== undefined) {
    const has = size > MAX_SIZE ? `${size} elements` : `a dimension of ${big}`;
    throw opError(op, `${what} ${fmtShape(shape)} has ${has}, more than the ${MAX_SIZE} elements a tensor can hold`, 'Check the shape arguments');
  }
}

/**
 * The check `runOp` makes of every shape rule's result: non-negative integers within MAX_SIZE.
 * Rules validate their arguments themselves; this turns any slip (a fractional slice size, a
 * padding of 2^40) into an error that names the op instead of a bad allocation.
 */
export function checkResultShape(op: string, shape: Shape, what = 'result'): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw opError(
      op,
      `the arguments give a ${what} of shape ${preview(shape)}, which is not a list of non-negative integers`,
      'Check the sizes, offsets and options passed',
    );
  }
  checkSize(op, shape, `the ${what}`);
}

/** NumPy broadcasting of two shapes; the error names both shapes and the clashing dimension. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw opError(
        op,
        `cannot broadcast shapes ${fmtShape(a)} and ${fmtShape(b)}: dimension ${i} of the result is ${da} vs ${db}`,
        'Expected equal sizes or 1 in each trailing dimension; reshape one operand',
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read `shape` as if it had been broadcast to `target`: 0 where a dimension is
 * missing or of size 1, so the kernel re-reads the same element.
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : own[i - off]!));
}

/** Resolves a possibly negative axis against `rank`. */
export function normalizeAxis(op: string, axis: number, rank: number, shape?: Shape): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    const where = shape ? ` of a tensor of shape ${fmtShape(shape)}` : '';
    throw opError(op, `axis ${axis} is out of range for rank ${rank}${where}`, `Expected an integer in [${-rank}, ${Math.max(rank - 1, 0)}]`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Axes to reduce: `undefined` means all; duplicates are an error, as in NumPy. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined | null, shape: Shape): number[] {
  const rank = shape.length;
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(op, a, rank, shape));
  if (new Set(out).size !== out.length) throw opError(op, `axis ${JSON.stringify(list)} repeats a dimension`);
  return out.sort((x, y) => x - y);
}

/** Resolves one `-1` in a reshape target; the error names both shapes. */
export function inferReshape(op: string, from: Shape, to: readonly number[]): number[] {
  const size = sizeOf(from);
  const holes = to.filter((d) => d === -1).length;
  if (holes > 1 || to.some((d) => !Number.isInteger(d) || d < -1)) {
    throw opError(op, `target shape ${fmtShape(to)} is invalid`, 'Use non-negative sizes and at most one -1');
  }
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (sizeOf(out) !== size || out.some((d) => !Number.isInteger(d))) {
    throw opError(op, `cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(to)}`, 'The element counts must match');
  }
  return checkShape(op, out);
}

/**
 * Output length of a sliding window (convolution or pooling, floor mode) along one dimension:
 * `floor((input + padTotal - dilation * (kernel - 1) - 1) / stride) + 1`, as PyTorch computes it.
 *
 * @example
 * ts.windowOutputSize(28, 5, 1, 4);      // 28 ('same' padding of a 5-wide kernel)
 * ts.windowOutputSize(28, 2, 2, 0);      // 14 (2x2 pooling)
 */
export function windowOutputSize(input: number, kernel: number, stride: number, padTotal: number, dilation = 1): number {
  return Math.floor((input + padTotal - dilation * (kernel - 1) - 1) / stride) + 1;
}
