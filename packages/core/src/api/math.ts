import { DTYPE_HINT, isDType, type DType } from '../dtype.js';
import { opError } from '../errors.js';
import type { OpParams } from '../ops/registry.js';
import { Tensor } from '../tensor.js';
import { scalarTensor } from './creation.js';

/** A tensor, or a JS number that acts as a broadcast scalar. */
export type Operand = Tensor | number;

function asTensor(op: string, v: Operand, other: Operand, which: string): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'number') throw opError(op, `${which} must be a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  // Integers stay int32 next to an int32 tensor, as in PyTorch; anything else is float32.
  const dtype: DType = other instanceof Tensor && other.dtype === 'int32' && Number.isInteger(v) ? 'int32' : 'float32';
  return scalarTensor(v, dtype);
}

function asTensorArg(op: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw opError(op, `expected a Tensor, got ${v === null ? 'null' : typeof v}`);
  return v;
}

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'relu' | 'sigmoid' | 'tanh' | 'square' | 'reciprocal';

const binary =
  (op: BinaryName) =>
  (a: Operand, b: Operand): Tensor => {
    if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw opError(op, 'needs at least one Tensor operand');
    return Tensor._fromOp(op, [asTensor(op, a, b, 'a'), asTensor(op, b, a, 'b')], {});
  };
const unary =
  (op: UnaryName) =>
  (x: Tensor): Tensor =>
    Tensor._fromOp(op, [asTensorArg(op, x)], {});

/** Elementwise a + b with NumPy broadcasting. @example ts.add(x, 1) */
export const add = binary('add');
/** Elementwise a - b. @example ts.sub(x, y) */
export const sub = binary('sub');
/** Elementwise a * b. @example ts.mul(x, 0.5) */
export const mul = binary('mul');
/** Elementwise a / b (always float32, as PyTorch's true division). @example ts.div(x, 255) */
export const div = binary('div');
/** Elementwise a ** b. @example ts.pow(x, 2) */
export const pow = binary('pow');
/** Elementwise maximum. @example ts.maximum(x, 0) */
export const maximum = binary('maximum');
/** Elementwise minimum. @example ts.minimum(x, 1) */
export const minimum = binary('minimum');
/** 1 where a == b, else 0 (float32). @example pred.argmax(1).eq(labels).mean() */
export const eq = binary('eq');
/** 1 where a != b, else 0. @example ts.ne(a, b) */
export const ne = binary('ne');
/** 1 where a > b, else 0. @example x.gt(0) */
export const gt = binary('gt');
/** 1 where a >= b, else 0. @example x.ge(0) */
export const ge = binary('ge');
/** 1 where a < b, else 0. @example x.lt(0) */
export const lt = binary('lt');
/** 1 where a <= b, else 0. @example x.le(0) */
export const le = binary('le');

/** -x. @example ts.neg(x) */
export const neg = unary('neg');
/** e^x. @example ts.exp(x) */
export const exp = unary('exp');
/** Natural log. @example ts.log(p) */
export const log = unary('log');
/** Square root. @example ts.sqrt(v) */
export const sqrt = unary('sqrt');
/** |x|. @example ts.abs(x) */
export const abs = unary('abs');
/** -1, 0 or 1. @example ts.sign(x) */
export const sign = unary('sign');
/** max(x, 0). @example ts.relu(x) */
export const relu = unary('relu');
/** 1 / (1 + e^-x), computed stably. @example ts.sigmoid(logits) */
export const sigmoid = unary('sigmoid');
/** tanh(x). @example ts.tanh(x) */
export const tanh = unary('tanh');
/** x². @example ts.square(x) */
export const square = unary('square');
/** 1 / x. @example ts.reciprocal(x) */
export const reciprocal = unary('reciprocal');

/** max(x, 0) + alpha * min(x, 0). @example ts.leakyRelu(x, 0.01) */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return Tensor._fromOp('leakyRelu', [asTensorArg('leakyRelu', x)], { alpha } satisfies OpParams['leakyRelu']);
}

/** x for x > 0, else alpha * (e^x - 1). @example ts.elu(x) */
export function elu(x: Tensor, alpha = 1): Tensor {
  return Tensor._fromOp('elu', [asTensorArg('elu', x)], { alpha });
}

/**
 * Converts to another dtype: float to int truncates toward zero, float32 to float16 rounds to the
 * nearest half (ties to even; beyond ±65504 it is ±Infinity).
 *
 * @example labels.cast('float32'); x.cast('float16')
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!isDType(dtype)) throw opError('cast', `unknown dtype ${JSON.stringify(dtype)}`, DTYPE_HINT);
  if (asTensorArg('cast', x).dtype === dtype) return x.mul(1);
  return Tensor._fromOp('cast', [x], { dtype });
}

/**
 * Picks `a` where `cond` is non-zero and `b` elsewhere, broadcasting all three.
 *
 * @example
 * ts.where(x.gt(0), x, 0);     // relu
 */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const c = asTensorArg('where', cond);
  const other = a instanceof Tensor ? a : b;
  return Tensor._fromOp('where', [c, asTensor('where', a, other, 'a'), asTensor('where', b, other, 'b')], {});
}
